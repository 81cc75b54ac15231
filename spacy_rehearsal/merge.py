"""Combining gold spans with teacher spans: the merge policy.

For a new example, the tokens its annotation leaves unlabelled are told,
according to `fill`:

- "teacher": the teacher's entities where they do not overlap a gold span or a
  token whose annotation is missing, and O elsewhere. Teacher entities of a
  label the new annotations cover are never added: for those labels the gold
  annotation is authoritative.
- "missing": nothing (missing), so the model is not updated on them.
- "outside": O. This is the naive setting that makes a model forget.

Gold spans always stay as they are, and tokens whose annotation is missing in
the input stay missing.
"""
from typing import Collection, Iterable, List, Literal, Sequence, Tuple

from spacy.tokens import Doc, Span

Fill = Literal["teacher", "missing", "outside"]
FILL_VALUES: Tuple[str, ...] = ("teacher", "missing", "outside")
TokenSpan = Tuple[int, int, str]


def fill_spans(
    gold: Sequence[TokenSpan],
    missing: Collection[int],
    teacher: Iterable[TokenSpan],
    covered_labels: Collection[str],
) -> List[TokenSpan]:
    """The teacher spans that may fill an example's unlabelled tokens.

    gold (Sequence[TokenSpan]): Gold entities as (start, end, label) token offsets.
    missing (Collection[int]): Token indices whose annotation is missing.
    teacher (Iterable[TokenSpan]): Teacher entities on the same tokens.
    covered_labels (Collection[str]): Labels the new annotations cover.
    RETURNS (List[TokenSpan]): The admissible teacher spans.
    """
    taken = set(missing)
    for start, end, _ in gold:
        taken.update(range(start, end))
    return [
        (start, end, label)
        for start, end, label in teacher
        if label not in covered_labels and taken.isdisjoint(range(start, end))
    ]


def merge_entities(
    doc: Doc,
    gold: Sequence[TokenSpan],
    teacher: Iterable[TokenSpan],
    *,
    fill: str,
    covered_labels: Collection[str],
    missing: Collection[int] = (),
) -> Doc:
    """Set `doc.ents` from gold spans and the `fill` policy, in place.

    doc (Doc): The reference doc (its tokens are those of all spans).
    gold (Sequence[TokenSpan]): Gold entities.
    teacher (Iterable[TokenSpan]): Teacher entities (used with fill="teacher").
    fill (str): "teacher", "missing" or "outside".
    covered_labels (Collection[str]): Labels the new annotations cover.
    missing (Collection[int]): Tokens whose annotation is missing in the input.
    RETURNS (Doc): The doc.
    """
    if fill not in FILL_VALUES:
        raise ValueError(f"fill must be one of {FILL_VALUES}, got {fill!r}")
    ents = list(gold)
    if fill == "teacher":
        ents.extend(fill_spans(gold, missing, teacher, covered_labels))
    spans = [Span(doc, s, e, label=label) for s, e, label in sorted(ents)]
    doc.set_ents(
        spans,
        missing=[doc[i : i + 1] for i in sorted(missing)],
        default="missing" if fill == "missing" else "outside",
    )
    return doc
