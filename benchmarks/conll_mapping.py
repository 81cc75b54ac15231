"""CoNLL-2003 gold as corrections in the base pipeline's own (OntoNotes) scheme.

benchmarks/corrections.py plays a user who corrects en_core_web_sm's PERSON,
ORG, GPE and LOC on news text and exports the corrections from Prodigy. The
CoNLL-2003 tags become those labels:

- PER  -> PERSON
- ORG  -> ORG
- LOC  -> GPE or LOC. CoNLL's LOC holds both OntoNotes types (countries and
  cities: GPE; regions, seas, mountains: LOC) and its tags cannot tell them
  apart. Rule (`map_spans`): LOC when the base pipeline labels exactly that
  span (same tokens) LOC, GPE otherwise (most CoNLL LOC spans are countries
  and cities). The benchmark scores GPE and LOC together as CoNLL's LOC, so the
  rule does not change the corrected-types score; it decides only which of
  the two the model is taught.
- MISC -> not mapped: it has no one-to-one OntoNotes type (NORP, EVENT,
  PRODUCT, WORK_OF_ART, LANGUAGE, LAW, ...). MISC spans stay unlabelled, O in
  the export, as from a user correcting only PERSON/ORG/GPE/LOC.

Limits: the export also teaches CoNLL's conventions where they differ from
OntoNotes' (span boundaries, what counts as a name, metonymy such as a
country's name for its team). The reader treats a label as corrected
("covered": the teacher never fills it in) only if the file holds at least one
span of it, so LOC is covered only where the rule produced one. Only the
tags' B-/I-/O structure is read (IOB2); a stray I- starts an entity, as in
scripts/prepare_conll.py's `to_doc`.

Everything here is pure: (words, tags) and token-offset span lists in, dicts out.
"""
from typing import Collection, Dict, List, Sequence, Tuple

TokenSpan = Tuple[int, int, str]  # (first token, end token exclusive, label)

CONLL_TO_ONTONOTES: Dict[str, str] = {"PER": "PERSON", "ORG": "ORG", "LOC": "GPE"}
UNMAPPED = ("MISC",)
# The base labels the corrections correct; LOC is CoNLL LOC where the base reads the span as LOC
CORRECTED_LABELS = ("PERSON", "ORG", "GPE", "LOC")


def iob_spans(tags: Sequence[str]) -> List[TokenSpan]:
    """Entities of IOB2 tags as token spans, CoNLL labels kept.

    A stray I- (after O or after another label) starts an entity; B- always
    starts one, so adjacent B- spans stay apart. Tags other than O, B-X and I-X
    raise ValueError.
    """
    spans: List[TokenSpan] = []
    start, label = -1, ""
    for i, tag in enumerate([*tags, "O"]):
        prefix, _, tag_label = tag.partition("-")
        if tag != "O" and (prefix not in ("B", "I") or not tag_label):
            raise ValueError(f"token {i}: expected O, B-X or I-X, got {tag!r}")
        if start >= 0 and (prefix != "I" or tag_label != label):
            spans.append((start, i, label))
            start = -1
        if prefix == "B" or (prefix == "I" and start < 0):
            start, label = i, tag_label
    return spans


def map_spans(spans: Sequence[TokenSpan], base_spans: Collection[TokenSpan] = (), keep: Collection[str] = ()) -> List[TokenSpan]:
    """CoNLL spans in OntoNotes labels; MISC (and any other unknown label) left out unless in `keep`.

    base_spans: the base pipeline's entities on the same tokens; a LOC span
    the base labels LOC over exactly the same tokens stays LOC, any other
    becomes GPE.
    keep: CoNLL labels kept as they are (the mixed benchmark's new type, MISC).
    """
    base_loc = {(s, e) for s, e, label in base_spans if label == "LOC"}
    out = []
    for start, end, label in spans:
        if label in keep:
            out.append((start, end, label))
            continue
        if label not in CONLL_TO_ONTONOTES:
            continue
        new = "LOC" if label == "LOC" and (start, end) in base_loc else CONLL_TO_ONTONOTES[label]
        out.append((start, end, new))
    return out


def prodigy_tokens(words: Sequence[str]) -> Tuple[str, List[dict]]:
    """The text (words joined by single spaces, as scripts/prepare_conll.py) and its Prodigy tokens."""
    tokens, pos = [], 0
    for i, word in enumerate(words):
        ws = i < len(words) - 1
        tokens.append({"text": word, "start": pos, "end": pos + len(word), "id": i, "ws": ws})
        pos += len(word) + ws
    return " ".join(words), tokens


def prodigy_record(words: Sequence[str], spans: Sequence[TokenSpan]) -> dict:
    """A Prodigy ner_manual answer: the CoNLL tokens kept, spans by character and token offsets."""
    text, tokens = prodigy_tokens(words)
    return {
        "text": text,
        "tokens": tokens,
        "spans": [
            {"start": tokens[s]["start"], "end": tokens[e - 1]["end"], "token_start": s, "token_end": e - 1, "label": label}
            for s, e, label in sorted(spans)
        ],
        "answer": "accept",
    }


def correction(words: Sequence[str], tags: Sequence[str], base_spans: Collection[TokenSpan] = (), keep: Collection[str] = ()) -> dict:
    """One CoNLL sentence as the user's exported correction (see the module docstring); `keep`: see `map_spans`."""
    return prodigy_record(words, map_spans(iob_spans(tags), base_spans, keep))
