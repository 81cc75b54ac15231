"""Rounds: a pipeline the component route made, updated again by it (issue 39).

    python benchmarks/rounds.py [--seeds 0 1 2 3] [--epochs 10] [--dev-split] [--jobs 1] [--reuse]
                                [--output benchmarks/results/rounds_devsplit.json]

Scenario "more examples in two rounds" (FASHION_BRAND, raw text: CoNLL-2003
train, as `forgetting.py`): the training file is cut in halves A and B.
- one round: `init-config en_core_web_sm --labels FASHION_BRAND` trained on A+B;
- round 1: the same config trained on A;
- round 2, B (A read again): `init-config ROUND1 --labels FASHION_BRAND` (what a
  user runs on the pipeline round 1 made) trained on B, the new annotations;
  init-config's `earlier_paths` reads A again;
- round 2, B (A gone): the same with `earlier_paths = []`, as when A's file is
  no longer where round 1 read it.
Every config is what `init-config` writes; each is trained with `spacy train`
and scored model-last as `forgetting.py` scores (FASHION_BRAND F1 on the
evaluation file or, with `--dev-split`, on a dev split carved from the
training file; agreement with the base on news and on the fashion texts).
The speed of every pipeline is measured in one process as a ratio to the base
(best of 3 over the news texts): a round must not slow the pipeline.

Scenario "new type" (`--scenario new-type`): FASHION_BRAND in round 1 (the
whole training file, or its dev split's training part), then CoNLL-2003 MISC
(`forgetting.conll_misc`: 1500 shuffled CoNLL train sentences with MISC alone
annotated, or the first 80% of them with `--dev-split`) in round 2, against
both types taught in one round from both files (a directory of the two, each
annotating its own label); round 2 reads the fashion file again
(`earlier_paths`), or not (the file gone). Each label's F1 is scored on its own evaluation file
(or dev split).
"""
import argparse
import json
import shlex
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import spacy
from confection import Config

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "scripts"))

import forgetting  # noqa: E402
from pipeline_speed import measure, versions  # noqa: E402
from spacy_runs import train_once  # noqa: E402

from spacy_rehearsal.config.strategies import generate_config  # noqa: E402
from spacy_rehearsal.data.formats import iter_raw_texts, read_annotations  # noqa: E402
from spacy_rehearsal.scoring import format_table, score_ents  # noqa: E402
from spacy_rehearsal.teacher.base_pipeline import inspect_base  # noqa: E402

BASE = forgetting.BASE
LABEL = "FASHION_BRAND"
MISC = "MISC"
ARMS = ("one round, A+B", "round 1, A", "round 2, B (A read again)", "round 2, B (A gone)")
TRUSTED = False  # --trusted
NEW_TYPE_ARMS = ("one round, both types", "round 1, FASHION_BRAND", "round 2, MISC (fashion file read again)",
                  "round 2, MISC (fashion file gone)")


def halves(train_jsonl: Path, work: Path) -> Dict[str, Path]:
    """The training file as halves A and B, and both (A+B) as a directory of the two files."""
    lines = train_jsonl.read_text(encoding="utf8").splitlines(keepends=True)
    both = work / "halves" / "both"
    both.mkdir(parents=True, exist_ok=True)
    out = {"A": both / "a.jsonl", "B": work / "halves" / "b.jsonl", "A+B": both}
    out["A"].write_text("".join(lines[: len(lines) // 2]), encoding="utf8")
    out["B"].write_text("".join(lines[len(lines) // 2:]), encoding="utf8")
    (both / "b.jsonl").write_text("".join(lines[len(lines) // 2:]), encoding="utf8")
    return out


def both_types(paths: Dict[str, Path], misc: Dict[str, Path], work: Path) -> Path:
    """A directory of the fashion file (FASHION_BRAND alone) and the MISC file (MISC alone)."""
    both = work / "both_types"
    both.mkdir(parents=True, exist_ok=True)
    (both / "fashion.jsonl").write_text(paths["train_jsonl"].read_text(encoding="utf8"), encoding="utf8")
    (both / "misc.jsonl").write_text(misc["train_jsonl"].read_text(encoding="utf8"), encoding="utf8")
    return both


def train_arm(arm: str, base: str, data: Path, seed: int, epochs: int, paths: Dict[str, Path], work: Path, reuse: bool,
              labels: Tuple[str, ...] = (LABEL,), earlier: Optional[List[Path]] = None) -> Dict[str, Any]:
    """`init-config BASE --labels LABELS` trained on `data`: what a user runs for this round.

    earlier: a round's `earlier_paths`, which init-config fills with the earlier rounds' files that still exist
    (set here, as the benchmark's round-1 pipelines may predate the record of their files): [] for files gone.
    """
    config = Config().from_str(generate_config(inspect_base(base), list(labels), "component"), interpolate=False)
    if earlier is not None:
        config["corpora"]["train"]["earlier_paths"] = [str(path) for path in earlier]
    if TRUSTED and "trusted_labels" in config["corpora"]["train"]:  # --trusted: the labels a round gives more examples of
        config["corpora"]["train"]["trusted_labels"] = sorted(set(labels) & set(inspect_base(base).meta["rehearsal"]["taught_labels"]))
        arm = f"{arm} (trusted)"
    cli = ["--paths.base", base, "--paths.train", str(data), "--paths.dev", str(paths["eval_jsonl"]),
           "--paths.raw", str(paths["raw"]), "--paths.cache", str(paths["cache"]), "--system.seed", str(seed),
           "--training.max_epochs", str(epochs)]
    out = work / "runs" / f"{arm.replace(' ', '').replace(',', '_').replace('+', '')}-seed{seed}"
    return {"arm": arm.replace(" (trusted)", ""), "seed": seed, **train_once(config, out, cli, reuse=reuse)}


def run_new_type(seed: int, args: argparse.Namespace, paths: Dict[str, Path], parts: Dict[str, Path]) -> List[Dict[str, Any]]:
    one = train_arm(NEW_TYPE_ARMS[0], BASE, parts["both"], seed, args.epochs, paths, args.work, args.reuse, (LABEL, MISC))
    first = train_arm(NEW_TYPE_ARMS[1], BASE, paths["train_jsonl"], seed, args.epochs, paths, args.work, args.reuse)
    second = [train_arm(arm, first["model"], parts["misc"], seed, args.epochs, paths, args.work, args.reuse, (MISC,), earlier)
              for arm, earlier in ((NEW_TYPE_ARMS[2], [paths["train_jsonl"]]), (NEW_TYPE_ARMS[3], []))]
    return [one, first, *second]


def misc_f1(model: str, misc_eval: Path) -> float:
    """MISC F1 of `model` on the MISC evaluation file (CoNLL sentences, MISC alone annotated)."""
    nlp = spacy.load(model)
    records = read_annotations(misc_eval)[0]
    gold = []
    for record in records:
        doc = nlp.make_doc(record.text)
        doc.ents = [span for start, end, label in record.spans if (span := doc.char_span(start, end, label=label)) is not None]
        gold.append(doc)
    return float(score_ents(nlp.pipe([r.text for r in records], batch_size=256), gold, labels={MISC})["micro"]["f"])


def run_seed(seed: int, args: argparse.Namespace, paths: Dict[str, Path], parts: Dict[str, Path]) -> List[Dict[str, Any]]:
    if args.scenario == "new-type":
        return run_new_type(seed, args, paths, parts)
    one = train_arm(ARMS[0], BASE, parts["A+B"], seed, args.epochs, paths, args.work, args.reuse)
    first = train_arm(ARMS[1], BASE, parts["A"], seed, args.epochs, paths, args.work, args.reuse)
    second = [train_arm(arm, first["model"], parts["B"], seed, args.epochs, paths, args.work, args.reuse, earlier=earlier)
              for arm, earlier in ((ARMS[2], [parts["A"]]), (ARMS[3], []))]
    return [one, first, *second]


def mean_range(values: List[float]) -> Tuple[float, float]:
    return sum(values) / len(values), (max(values) - min(values)) / 2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenario", choices=["more", "new-type"], default="more")
    parser.add_argument("--raw", choices=["news", "in-domain"], default="news", help="raw text: CoNLL train (news), or "
                        "the user's own corpus (forgetting.py's in-domain: the whole training file, 80%% of it annotated)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--dev-split", action="store_true", help="score a dev split of the training file (for choosing)")
    parser.add_argument("--jobs", type=int, default=1, help="seeds trained at once")
    parser.add_argument("--reuse", action="store_true", help="reuse finished runs whose config and arguments are unchanged")
    parser.add_argument("--work", type=Path, default=ROOT / "benchmarks" / "results" / "forgetting")
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "results" / "rounds.json")
    parser.add_argument("--trusted", action="store_true", help="later rounds with trusted_labels = the labels they give more "
                        "examples of (the last round's entities of these are raw-text targets); default: [], as init-config writes")
    args = parser.parse_args()
    global TRUSTED
    TRUSTED = args.trusted
    paths = forgetting.prepare(args.work, args.dev_split, raw=args.raw)
    misc: Dict[str, Path] = {}
    if args.scenario == "new-type":
        misc = forgetting.conll_misc(args.work)
        misc = forgetting.conll_misc_split(args.work, {**paths, **misc}) if args.dev_split else misc
    args.work = args.work / ("rounds" + ("_new_type" if args.scenario == "new-type" else "") + ("_indomain" if args.raw == "in-domain" else "")
                             + ("_devsplit" if args.dev_split else ""))
    if args.scenario == "new-type":
        parts = {"both": both_types(paths, misc, args.work), "misc": misc["train_jsonl"]}
        arms = NEW_TYPE_ARMS
    else:
        parts, arms = halves(paths["train_jsonl"], args.work), ARMS
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        runs = [run for seed_runs in pool.map(lambda seed: run_seed(seed, args, paths, parts), args.seeds) for run in seed_runs]
    base = spacy.load(BASE)
    news = [r.text for r in iter_raw_texts(paths["conll_dev_txt"])]
    fashion = [r.text for r in read_annotations(paths["eval_jsonl"])[0]]
    teacher_docs = {"conll": list(base.pipe(news, batch_size=256)), "fashion": list(base.pipe(fashion, batch_size=64))}
    for run in runs:
        scores = forgetting.evaluate(run["model"], paths, teacher_docs)
        if misc:
            run["misc_f1"] = misc_f1(run["model"], misc["eval_jsonl"])
        run.update({"f1": scores["fashion_brand"]["f"], "agreement_news": scores["agreement_conll"]["micro"]["f"],
                    "agreement_fashion": scores["agreement_fashion"]["f"], "n_ners": len([
                        n for n in spacy.load(run["model"]).pipe_names if n.startswith("ner")])})
    first_seed = {run["arm"]: run["model"] for run in runs if run["seed"] == args.seeds[0]}
    speed = measure(first_seed, news, BASE, repeats=3)
    rows, summary = [], {}
    keys = ("f1", *(("misc_f1",) if misc else ()), "agreement_news", "agreement_fashion")
    for arm in arms:
        arm_runs = [run for run in runs if run["arm"] == arm]
        cells = {key: mean_range([run.get(key, float("nan")) for run in arm_runs]) for key in (*keys, "train_seconds")}
        summary[arm] = {key: round(value[0], 4) for key, value in cells.items()} | {
            "worst_f1": min(run["f1"] for run in arm_runs), "min_agreement": min(min(r["agreement_news"], r["agreement_fashion"]) for r in arm_runs),
            "speed": speed[arm]["speed_ratio"], "n_ners": arm_runs[0]["n_ners"]}
        rows.append([arm, *(f"{m:.3f} ± {h:.3f}" for m, h in (cells[k] for k in keys)),
                     f"{summary[arm]['worst_f1']:.3f}", str(summary[arm]["n_ners"]), f"{speed[arm]['speed_ratio']:.2f}x", f"{cells['train_seconds'][0]:.0f}"])
    table = format_table([f"arm ({'dev split' if args.dev_split else 'eval file'})", f"{LABEL} F1", *(["MISC F1"] if misc else []), "agreement news F",
                          "agreement fashion F", "worst seed F1", "NERs", "speed", "train s"], rows)
    print(f"\nSeeds {args.seeds}, {args.epochs} epochs (mean ± half-range)\n\n{table}")
    report = {"command": shlex.join(["python", "benchmarks/rounds.py", *sys.argv[1:]]), "versions": versions(),
              "scenario": args.scenario, "raw": args.raw, "trusted": args.trusted, "dev_split": args.dev_split, "epochs": args.epochs, "seeds": args.seeds, "summary": summary,
              "speed": speed, "runs": runs, "table": table}
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2, default=str))
    print(f"\nWrote {args.output}")


if __name__ == "__main__":
    main()
