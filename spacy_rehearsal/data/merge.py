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
the input stay missing. Before any merge, gold spans given as character
offsets are put on the tokens (`gold_token_spans`): a span that does not fall
on token boundaries is an error naming its file and line, or skips its
example, never silently widened. The reader and `spacy rehearsal evaluate
--gold` share that check.
"""
from typing import Collection, Iterable, List, Literal, Optional, Sequence, Tuple

from spacy.tokens import Doc, Span

from ..errors import InputError
from .formats import Record, excerpt

Fill = Literal["teacher", "missing", "outside"]
FILL_VALUES: Tuple[str, ...] = ("teacher", "missing", "outside")
TokenSpan = Tuple[int, int, str]


def gold_token_spans(record: Record, doc: Doc, *, skip: bool = False, hint: str = "") -> Optional[List[TokenSpan]]:
    """The record's gold spans as token offsets in `doc` (the record's tokens).

    record (Record): The annotated record (character offsets).
    doc (Doc): The record's text, tokenized as it will be trained or scored.
    skip (bool): Return None for a span off token boundaries, instead of raising.
    hint (str): What the user can do about a misaligned span, appended to the error.
    RETURNS (Optional[List[TokenSpan]]): The spans, or None (with skip=True).
    RAISES (InputError): A span off token boundaries, naming the file and line.
    """
    spans: List[TokenSpan] = []
    for start, end, label in record.spans:
        span = doc.char_span(start, end, label=label, alignment_mode="strict")
        if span is None:
            if skip:
                return None
            near = doc.char_span(start, end, alignment_mode="expand")
            raise InputError(
                record.source,
                f"span ({start}, {end}, {label}) {excerpt(record.text[start:end])} does not fall on token "
                f"boundaries (nearest tokens: {excerpt(near.text) if near is not None else '?'}). "
                f"Fix the offsets or give the tokenization in 'tokens'{hint}.",
            )
        spans.append((span.start, span.end, label))
    return spans


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
