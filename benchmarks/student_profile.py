"""Where a taught NER's (or its student's) inference time goes: features, the label scan, the transition loop.

    python benchmarks/student_profile.py NAME=PATH [NAME=PATH ...] [--texts FILE] [--repeats 5]
                                         [--output benchmarks/results/student_profile.json]

For each saved pipeline, the components before its taught NER
(`meta["rehearsal"]["taught_component"]`) run once; then, best of `repeats`:
- the taught NER's `pipe` (batch size 256): all it costs;
- its model's `predict` on the same batches: the tok2vec and the hidden
  layer's precomputed features;
- spaCy's per-token label scan before each parse
  (`moves.get_doc_labels`, called by `_ensure_labels_are_added`);
the rest of `pipe` is the transition loop and setting the entities. Each as a
share of the base pipeline's own time on the texts (best of `repeats`).
"""
import time
from typing import Any, Callable, Dict, List

import spacy
from pipeline_speed import parse_args, write_report


def best(repeats: int, fn: Callable[[], Any]) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def profile(path: str, texts: List[str], repeats: int) -> Dict[str, float]:
    nlp = spacy.load(path)
    name = nlp.meta["rehearsal"]["taught_component"]
    ner = nlp.get_pipe(name)
    docs = [nlp.make_doc(text) for text in texts]
    for other, proc in nlp.pipeline:
        if other == name:
            break
        docs = list(proc.pipe(docs))
    batches = [docs[i:i + 256] for i in range(0, len(docs), 256)]
    list(ner.pipe(docs[:200]))  # warm-up (and any label the scan adds)
    total = best(repeats, lambda: list(ner.pipe(docs, batch_size=256)))
    features = best(repeats, lambda: [ner.model.predict(batch) for batch in batches])
    scan = best(repeats, lambda: [ner.moves.get_doc_labels(doc) for doc in docs])
    return {"taught_ner": total, "features": features, "label_scan": scan, "loop_and_entities": total - features - scan}


def main() -> None:
    args, pipelines, texts = parse_args(__doc__, "student_profile.json")
    base = spacy.load(args.base)
    list(base.pipe(texts[:200]))
    base_seconds = best(args.repeats, lambda: list(base.pipe(texts, batch_size=256)))
    results = {name: profile(path, texts, args.repeats) for name, path in pipelines.items()}
    print(f"base pipeline: {base_seconds:.3f} s over {len(texts)} texts")
    for name, parts in results.items():
        print(f"{name}: " + ", ".join(f"{part} {seconds / base_seconds:.1%}" for part, seconds in parts.items()))
    write_report(args, texts, pipelines, base_seconds=round(base_seconds, 3),
                 seconds={n: {p: round(s, 4) for p, s in parts.items()} for n, parts in results.items()},
                 share_of_base_time={n: {p: round(s / base_seconds, 4) for p, s in parts.items()} for n, parts in results.items()})


if __name__ == "__main__":
    main()
