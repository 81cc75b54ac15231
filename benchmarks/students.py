"""Students in the taught NER's place (issue 38): speed against quality, per student shape.

    python benchmarks/students.py --scenario news|own|misc|corrections [--dev-split] [--seeds 0 1]
                                  [--shapes w64-d1-r2000-h64 ...] [--epochs 10] [--output F]

Each scenario's teachers are the component route's trained pipelines the
other benchmarks left (run them first, with --reuse they are kept):
- news: `rounds.py` "one round, A+B" (FASHION_BRAND, CoNLL train as raw text);
- own: `rounds.py --raw in-domain` "one round, A+B" (the user's own corpus as raw text);
- misc: `rounds.py --scenario new-type` "one round, both types" (FASHION_BRAND and CoNLL MISC);
- corrections: `corrections.py --sizes 500` "component" (500 corrections of PERSON/ORG/GPE/LOC).
Every shape is distilled from every seed's teacher with `distill_student`,
on the texts `spacy rehearsal distill` reads by default (the teacher's
annotations and raw text), and scored as that benchmark scores (new types:
F1 per taught label and agreement with the base on news and on the fashion
texts; corrections: gold PER/ORG/LOC, share of naive's gain, agreement).
The speed of the first seed's teacher and students is measured in one process
against the base (best of 3 over the news texts).
"""
import argparse
import json
import random
import shlex
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable, Dict, List

import spacy
import srsly

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

import corrections  # noqa: E402
import forgetting  # noqa: E402
import rounds  # noqa: E402
from data_paths import CONLL  # noqa: E402
from pipeline_speed import measure, versions  # noqa: E402

from spacy_rehearsal.cli.distill import distillation_texts  # noqa: E402
from spacy_rehearsal.data.formats import iter_raw_texts, read_annotations  # noqa: E402
from spacy_rehearsal.scoring import format_table  # noqa: E402
from spacy_rehearsal.training.component.student import Shape, describe, distill_student, record_student  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
TEACHERS = {
    "news": ("rounds", "oneround_AB"), "own": ("rounds_indomain", "oneround_AB"),
    "misc": ("rounds_new_type", "oneround_bothtypes"),
}


def parse_shape(text: str) -> Shape:
    """"w64-d1-r2000-h64" (any of the parts, in any order) -> Shape."""
    keys = {"w": "width", "d": "depth", "r": "rows", "h": "hidden", "m": "maxout"}
    return Shape(**{keys[part[0]]: int(part[1:]) for part in text.split("-")})


def teacher_path(scenario: str, seed: int, dev_split: bool) -> Path:
    if scenario == "corrections":
        work = "corrections_rounds" if dev_split else "corrections_rounds_eval"
        return RESULTS / work / "runs" / f"component-n500-seed{seed}" / "model-last"
    folder, arm = TEACHERS[scenario]
    return RESULTS / "forgetting" / (folder + ("_devsplit" if dev_split else "")) / "runs" / f"{arm}-seed{seed}" / "model-last"


def distill(teacher: Path, shape_name: str, seed: int, epochs: int, reuse: bool, max_texts: int = 20000) -> Dict[str, Any]:
    """The student of `shape_name` for `teacher`, saved beside it; RETURNS its model path, time and history."""
    out = teacher.parent / f"student-{shape_name}-e{epochs}{'' if max_texts == 20000 else f'-n{max_texts}'}"
    done = out / "student.json"
    if reuse and done.exists():
        return srsly.read_json(done)
    teacher_nlp, student_nlp = spacy.load(teacher), spacy.load(teacher)
    texts = distillation_texts(teacher_nlp, None, None, max_texts)
    start = time.perf_counter()
    history = distill_student(teacher_nlp, student_nlp, teacher_nlp.meta["rehearsal"]["taught_component"], texts,
                              parse_shape(shape_name), epochs=epochs, seed=seed)
    seconds = time.perf_counter() - start
    record_student(student_nlp, parse_shape(shape_name), len(texts), history, str(teacher))  # as the command does
    out.mkdir(parents=True, exist_ok=True)
    student_nlp.to_disk(out / "model")
    result = {"model": str(out / "model"), "distill_seconds": round(seconds, 1), "texts": len(texts),
              "held_out_agreement": [round(p.agreement, 4) for p in history]}
    srsly.write_json(done, result)
    print(f"  {teacher.parent.name} {shape_name}: {seconds:.0f}s, held-out agreement {history[-1].agreement:.3f}", flush=True)
    return result


def new_type_scorer(scenario: str, dev_split: bool) -> Callable[[str], Dict[str, float]]:
    paths = forgetting.prepare(RESULTS / "forgetting", dev_split, raw="in-domain" if scenario == "own" else "news")
    misc = None
    if scenario == "misc":
        misc = forgetting.conll_misc(RESULTS / "forgetting")
        misc = forgetting.conll_misc_split(RESULTS / "forgetting", {**paths, **misc}) if dev_split else misc
    base = spacy.load(forgetting.BASE)
    news = [r.text for r in iter_raw_texts(paths["conll_dev_txt"])]
    fashion = [r.text for r in read_annotations(paths["eval_jsonl"])[0]]
    teacher_docs = {"conll": list(base.pipe(news, batch_size=256)), "fashion": list(base.pipe(fashion, batch_size=64))}

    def score(model: str) -> Dict[str, float]:
        s = forgetting.evaluate(model, paths, teacher_docs)
        out = {"f1": s["fashion_brand"]["f"], "agreement_news": s["agreement_conll"]["micro"]["f"],
               "agreement_fashion": s["agreement_fashion"]["f"]}
        if misc is not None:
            out["misc_f1"] = rounds.misc_f1(model, misc["eval_jsonl"])
        return out

    return score


def corrections_scorer(dev_split: bool) -> Callable[[str], Dict[str, float]]:
    nlp = spacy.load(forgetting.BASE)
    heldout = None
    if dev_split:  # corrections.prepare's held-out sentences, without rewriting its files
        sentences = corrections.read_conll(CONLL / "train.txt")
        random.Random(corrections.DATA_SEED).shuffle(sentences)
        heldout = sentences[corrections.N_DEV:][-corrections.HELDOUT:]
    ev = corrections.evaluation_set(nlp, heldout, dev_split, mixed=False)
    base_f = corrections.scores(nlp, ev)["gold"]["micro"]["f"]

    def score(model: str) -> Dict[str, float]:
        s = corrections.scores(spacy.load(model), ev)
        return {"gold_f": s["gold"]["micro"]["f"], "gain": s["gold"]["micro"]["f"] - base_f,
                "agreement_news": s["agreement"]["micro"]["f"], "agreement_fashion": s["agreement_domain"]["micro"]["f"]}

    return score


def naive_gain(seed: int, dev_split: bool, score: Callable[[str], Dict[str, float]]) -> float:
    naive = RESULTS / ("corrections_rounds" if dev_split else "corrections_rounds_eval") / "runs" / f"naive-n500-seed{seed}" / "model-last"
    return score(str(naive))["gain"] if naive.exists() else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenario", choices=["news", "own", "misc", "corrections"], default="news")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--shapes", nargs="+", default=["w64-d1-r2000-h64"])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--dev-split", action="store_true")
    parser.add_argument("--max-texts", type=int, default=20000, help="spacy rehearsal distill --max-texts")
    parser.add_argument("--reuse", action="store_true", help="reuse students already distilled")
    parser.add_argument("--speed-texts", type=Path, default=forgetting.ROOT / "benchmarks" / "results" / "forgetting" / "conll" / "dev.txt")
    parser.add_argument("--output", type=Path, default=None)
    parser.add_argument("--no-speed", action="store_true", help="skip the speed measurement (another job is running)")
    args = parser.parse_args()
    output = args.output or RESULTS / f"students_{args.scenario}{'_devsplit' if args.dev_split else ''}.json"
    score = corrections_scorer(args.dev_split) if args.scenario == "corrections" else new_type_scorer(args.scenario, args.dev_split)
    runs: List[Dict[str, Any]] = []
    for seed in args.seeds:
        teacher = teacher_path(args.scenario, seed, args.dev_split)
        if not teacher.exists():
            sys.exit(f"{teacher} is missing: train it first (see this script's docstring)")
        trained = srsly.read_json(teacher.parent / "result.json")["result"]
        extra = {"naive_gain": naive_gain(seed, args.dev_split, score)} if args.scenario == "corrections" else {}
        runs.append({"variant": "teacher", "seed": seed, "model": str(teacher), "train_seconds": trained["train_seconds"],
                     **extra, **score(str(teacher))})
        for shape in args.shapes:
            student = distill(teacher, shape, seed, args.epochs, args.reuse, args.max_texts)
            runs.append({"variant": shape, "seed": seed, "shape": describe(parse_shape(shape)), **student,
                         "train_seconds": trained["train_seconds"], **extra, **score(student["model"])})
    first = {run["variant"]: run["model"] for run in runs if run["seed"] == args.seeds[0]}
    news = [line for line in args.speed_texts.read_text(encoding="utf8").splitlines() if line.strip()]
    speed = {name: {"speed_ratio": float("nan")} for name in first} if args.no_speed else measure(first, news, forgetting.BASE, repeats=3)
    keys = ["f1", "misc_f1", "agreement_news", "agreement_fashion"] if args.scenario != "corrections" else \
        ["gold_f", "share", "agreement_news", "agreement_fashion"]
    for run in runs:
        if "naive_gain" in run:
            run["share"] = run["gain"] / run["naive_gain"]
    rows, summary = [], {}
    for variant in ["teacher", *args.shapes]:
        vr = [run for run in runs if run["variant"] == variant]
        cells = {k: [run[k] for run in vr] for k in keys if k in vr[0]}
        summary[variant] = {k: {"mean": round(statistics.mean(v), 4), "worst": round(min(v), 4)} for k, v in cells.items()}
        summary[variant]["speed"] = speed[variant]["speed_ratio"]
        summary[variant]["distill_seconds"] = statistics.mean(run.get("distill_seconds", 0.0) for run in vr)
        summary[variant]["train_seconds"] = statistics.mean(run["train_seconds"] for run in vr)
        rows.append([variant, *(f"{summary[variant][k]['mean']:.3f} (worst {summary[variant][k]['worst']:.3f})" for k in cells),
                     f"{speed[variant]['speed_ratio']:.3f}x", f"{summary[variant]['train_seconds']:.0f} + {summary[variant]['distill_seconds']:.0f}"])
    table = format_table([f"{args.scenario} ({'dev split' if args.dev_split else 'eval'})", *[k for k in keys if k in summary["teacher"]],
                          "speed", "train s (+ distil s)"], rows)
    print(f"\nSeeds {args.seeds}, {args.epochs} distillation epochs\n\n{table}")
    report = {"command": shlex.join(["python", "benchmarks/students.py", *sys.argv[1:]]), "versions": versions(),
              "scenario": args.scenario, "dev_split": args.dev_split, "seeds": args.seeds, "epochs": args.epochs,
              "summary": summary, "speed": speed, "runs": runs, "table": table}
    output.write_text(json.dumps(report, indent=2, default=str))
    print(f"Wrote {output}")


if __name__ == "__main__":
    main()
