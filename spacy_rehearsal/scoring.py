"""Per-label scores: agreement of an updated pipeline with its original, and gold P/R/F.

Entities are compared as (start_char, end_char, label), so the two pipelines
may tokenize differently. "Agreement" scores the updated pipeline's entities
against the original pipeline's as if they were gold: recall is the share of
the original's entities that survived the update.
"""
from collections import Counter
from typing import Collection, Dict, Iterable, List, Mapping, Optional, Sequence, Set, Tuple

from spacy.tokens import Doc

Ent = Tuple[int, int, str]


class PRF:
    """Counts of true positives, false positives and false negatives."""

    def __init__(self) -> None:
        self.tp = self.fp = self.fn = 0

    def add(self, pred: Set[Ent], ref: Set[Ent]) -> None:
        self.tp += len(pred & ref)
        self.fp += len(pred - ref)
        self.fn += len(ref - pred)

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def fscore(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def to_dict(self) -> Dict[str, float]:
        return {
            "p": round(self.precision, 4),
            "r": round(self.recall, 4),
            "f": round(self.fscore, 4),
            "n_pred": self.tp + self.fp,
            "n_ref": self.tp + self.fn,
        }


def doc_ents(
    doc: Doc,
    labels: Optional[Collection[str]] = None,
    label_map: Optional[Mapping[str, str]] = None,
    ignore: Sequence[Tuple[int, int]] = (),
) -> Set[Ent]:
    """A doc's entities as character offsets.

    labels (Optional[Collection[str]]): Keep only these labels (after mapping).
    label_map (Optional[Mapping[str, str]]): Rename labels; unmapped labels are
        dropped when a map is given.
    ignore (Sequence[Tuple[int, int]]): Character ranges: entities that overlap
        any of them are dropped (e.g. gold spans of a new label).
    """
    out = set()
    for ent in doc.ents:
        label = ent.label_
        if label_map is not None:
            if label not in label_map:
                continue
            label = label_map[label]
        if labels is not None and label not in labels:
            continue
        if any(ent.start_char < e and s < ent.end_char for s, e in ignore):
            continue
        out.add((ent.start_char, ent.end_char, label))
    return out


def score_ents(
    pred_docs: Iterable[Doc],
    ref_docs: Iterable[Doc],
    *,
    labels: Optional[Collection[str]] = None,
    pred_map: Optional[Mapping[str, str]] = None,
    ref_map: Optional[Mapping[str, str]] = None,
    ignore: Optional[Iterable[Sequence[Tuple[int, int]]]] = None,
) -> Dict[str, object]:
    """Micro-averaged and per-label P/R/F of `pred_docs` against `ref_docs`.

    labels (Optional[Collection[str]]): Score only these labels; None: all.
    pred_map, ref_map: Label maps for either side (see `doc_ents`).
    ignore: Per doc, character ranges whose entities are left out on both sides.
    RETURNS (Dict[str, object]): {"micro": {...}, "per_label": {label: {...}}, "n_docs": int}.
    """
    micro = PRF()
    per_label: Dict[str, PRF] = {}
    ignores = iter(ignore) if ignore is not None else None
    n_docs = 0
    for pred_doc, ref_doc in zip(pred_docs, ref_docs):
        if pred_doc.text != ref_doc.text:
            raise ValueError(f"Texts differ: {pred_doc.text[:60]!r} vs {ref_doc.text[:60]!r}")
        skip = next(ignores) if ignores is not None else ()
        pred = doc_ents(pred_doc, labels, pred_map, skip)
        ref = doc_ents(ref_doc, labels, ref_map, skip)
        micro.add(pred, ref)
        for label in {e[2] for e in pred | ref}:
            per_label.setdefault(label, PRF()).add(
                {e for e in pred if e[2] == label}, {e for e in ref if e[2] == label}
            )
        n_docs += 1
    return {
        "micro": micro.to_dict(),
        "per_label": {label: prf.to_dict() for label, prf in sorted(per_label.items())},
        "n_docs": n_docs,
    }


def label_counts(docs: Iterable[Doc]) -> Counter:
    """How many entities of each label the docs hold."""
    return Counter(ent.label_ for doc in docs for ent in doc.ents)


def format_table(header: List[str], rows: List[List[object]]) -> str:
    """A Markdown table with numbers formatted to 3 decimals."""

    def cell(value: object) -> str:
        if isinstance(value, float):
            return f"{value:.3f}"
        return "" if value is None else str(value)

    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)
