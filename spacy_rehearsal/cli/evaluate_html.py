"""The `--html` page of `spacy rehearsal evaluate`: where the two pipelines' entities differ.

`classify_changes` compares the base and the updated pipeline's entities on one
text, by character offsets, and names each difference by its kind:

- lost: a base entity that no updated entity overlaps;
- relabelled: an updated entity on exactly the span of a base entity, with
  another label (also when that label is new to the base pipeline);
- boundary: a base entity that updated entities overlap, none on exactly its
  span (shifted, widened, narrowed, split or merged);
- new label: an updated entity that overlaps no base entity, with a label the
  base pipeline does not predict at all (what the update was meant to add);
- added: an updated entity that overlaps no base entity, with a label the base
  pipeline has (an entity the base missed, or a false positive).

Lost, relabelled and boundary changes count base entities (a merge of two
base entities counts two), new label and added count updated entities, so that
every entity on which the pipelines differ is counted once. `build_page`
renders the texts with changes with displaCy (style "ent"), base and updated
side by side, grouped by kind, into one self-contained HTML page: inline CSS,
no scripts, fonts or network.
"""
import html
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Collection, Dict, Iterable, List, Optional, Sequence, Tuple

from spacy import displacy
from spacy.displacy.render import DEFAULT_LABEL_COLORS
from spacy.pipeline import Sentencizer
from spacy.tokens import Doc, Span

LOST, RELABELLED, BOUNDARY, NEW_LABEL, ADDED = "lost", "relabelled", "boundary", "new label", "added"
KINDS = (LOST, RELABELLED, BOUNDARY, NEW_LABEL, ADDED)
KIND_HELP = {
    LOST: "a base entity that no updated entity overlaps",
    RELABELLED: "same span, other label (a new label too)",
    BOUNDARY: "overlapping spans, different boundaries",
    NEW_LABEL: "an updated entity where the base had none, of a label the base pipeline does not have",
    ADDED: "an updated entity where the base had none, of a label the base pipeline has",
}
# Colours for labels displaCy has none for (new labels), in order of first use
PALETTE = ("#f9c74f", "#90be6d", "#f8961e", "#43aa8b", "#f94144", "#577590", "#f3722c", "#4d908e")

Ent = Tuple[int, int, str]  # start_char, end_char, label


@dataclass(frozen=True)
class Change:
    """One difference between the pipelines' entities on a text."""

    kind: str
    base: Tuple[Ent, ...]  # the base entity (lost, relabelled, boundary), else ()
    updated: Tuple[Ent, ...]  # the updated entities overlapping it, or the added one

    @property
    def key(self) -> str:
        """What the page counts the change under: a label, or "BASE → UPDATED" labels."""
        updated = sorted({label for _, _, label in self.updated})
        if not self.base:
            return updated[0]
        if self.kind == LOST or updated == [self.base[0][2]]:
            return self.base[0][2]
        return f"{self.base[0][2]} → {'/'.join(updated)}"

    @property
    def extent(self) -> Tuple[int, int]:
        """The characters from the first entity's start to the last one's end."""
        ents = self.base + self.updated
        return min(start for start, _, _ in ents), max(end for _, end, _ in ents)


def classify_changes(base_ents: Iterable[Span], updated_ents: Iterable[Span], base_labels: Collection[str]) -> List[Change]:
    """The changes from the base's entities on one text to the updated pipeline's.

    base_ents (Iterable[Span]): The base pipeline's entities (e.g. `doc.ents`).
    updated_ents (Iterable[Span]): The updated pipeline's entities on the same text.
    base_labels (Collection[str]): All labels the base pipeline predicts: an
        added entity of another label is of kind "new label", else "added".
    RETURNS (List[Change]): The base entities' changes in text order, then the added entities'.
    """
    base = sorted((e.start_char, e.end_char, e.label_) for e in base_ents)
    updated = sorted((e.start_char, e.end_char, e.label_) for e in updated_ents)
    changes = []
    for b in base:
        over = tuple(u for u in updated if u[0] < b[1] and b[0] < u[1])
        if not over:
            changes.append(Change(LOST, (b,), ()))
        elif len(over) == 1 and over[0][:2] == b[:2]:
            if over[0][2] != b[2]:
                changes.append(Change(RELABELLED, (b,), over))
        else:
            changes.append(Change(BOUNDARY, (b,), over))
    for u in updated:
        if not any(b[0] < u[1] and u[0] < b[1] for b in base):
            changes.append(Change(NEW_LABEL if u[2] not in base_labels else ADDED, (), (u,)))
    return changes


@dataclass
class Passage:
    """A passage (the sentences holding some changes of one kind) of one text."""

    index: int  # the text's position among the docs
    start: int
    end: int
    changes: List[Change]


def group_changes(
    base_docs: Sequence[Doc], updated_docs: Sequence[Doc], base_labels: Collection[str]
) -> Dict[str, List[Passage]]:
    """Each kind's changes on all texts, as passages: the sentences that hold them.

    Changes of one kind in the same sentence share one passage. Sentences are
    the base doc's own where it has them, else spaCy's punctuation-based
    `sentencizer`'s (the docs `evaluate` gets hold entities only).
    RETURNS (Dict[str, List[Passage]]): Kind -> its passages, in text order.
    """
    grouped: Dict[str, List[Passage]] = {kind: [] for kind in KINDS}
    for i, (base_doc, updated_doc) in enumerate(zip(base_docs, updated_docs)):
        changes = classify_changes(base_doc.ents, updated_doc.ents, base_labels)
        sents = _sentences(base_doc) if changes else []
        for kind in KINDS:
            passages: List[Passage] = []
            for change in sorted((c for c in changes if c.kind == kind), key=lambda c: c.extent):
                start, end = _around(sents, *change.extent)
                if passages and start < passages[-1].end:
                    passages[-1].end = max(end, passages[-1].end)
                    passages[-1].changes.append(change)
                else:
                    passages.append(Passage(i, start, end, [change]))
            grouped[kind].extend(passages)
    return grouped


def _sentences(doc: Doc) -> List[Tuple[int, int]]:
    """The doc's sentences as character ranges, leaving the doc as it is."""
    if doc.has_annotation("SENT_START"):
        return [(s.start_char, s.end_char) for s in doc.sents]
    starts = [i for i, start in enumerate(Sentencizer().predict([doc])[0]) if start or i == 0]
    return [(doc[i].idx, doc[j - 1].idx + len(doc[j - 1])) for i, j in zip(starts, starts[1:] + [len(doc)])]


def _around(sents: Sequence[Tuple[int, int]], start: int, end: int) -> Tuple[int, int]:
    """The range from the first sentence the characters start:end touch to the last."""
    touched = [(s, e) for s, e in sents if s < end and start < e]
    return min([start] + [s for s, _ in touched]), max([end] + [e for _, e in touched])


def build_page(
    base_docs: Sequence[Doc],
    updated_docs: Sequence[Doc],
    base_labels: Collection[str],
    *,
    base: str,
    updated: str,
    sources: Optional[Sequence[str]] = None,
    max_shown: int = 50,
) -> Tuple[str, Dict[str, int]]:
    """The HTML page of the changes from the base docs to the updated docs (same texts, same order).

    base (str): The base pipeline's name, for the page.
    updated (str): The updated pipeline's name.
    sources (Optional[Sequence[str]]): Where each text comes from (file:line), shown above it.
    max_shown (int): At most this many passages shown per kind; the page says how many are left out.
    RETURNS (Tuple[str, Dict[str, int]]): The page, and the number of changed entities per kind.
    """
    grouped = group_changes(base_docs, updated_docs, base_labels)
    counts = {kind: sum(len(p.changes) for p in grouped[kind]) for kind in KINDS}
    colors = _colors(base_docs, updated_docs)
    changed_texts = len({p.index for passages in grouped.values() for p in passages})
    title = f"Entity changes: {updated} against {base}"
    parts = [
        f"<h1>{_e(title)}</h1>",
        f"<p class='meta'>{len(base_docs)} texts, {changed_texts} with changed entities. Base: <b>{_e(base)}</b>. "
        f"Updated: <b>{_e(updated)}</b>. Lost, relabelled and boundary count base entities; new label "
        "and added count updated entities. A passage is the sentences around the changes.</p>",
        _summary(grouped, counts, max_shown),
    ]
    if not any(counts.values()):
        parts.append("<p class='same'>The pipelines agree on every entity of these texts.</p>")
    for kind in KINDS:
        if grouped[kind]:
            parts.append(_section(kind, grouped[kind], (base_docs, updated_docs), (base, updated), sources, colors, max_shown))
    page = PAGE.format(title=_e(title), css=CSS, body="\n".join(parts))
    return page, counts


def write_page(path: Path, base_docs: Sequence[Doc], updated_docs: Sequence[Doc], base_labels: Collection[str], **kwargs: Any) -> Dict[str, int]:
    """Write `build_page`'s page (same arguments) to `path`; RETURNS the changed entities per kind."""
    page, counts = build_page(base_docs, updated_docs, base_labels, **kwargs)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf8")
    return counts


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _label_counts(passages: Sequence[Passage]) -> List[Tuple[str, int]]:
    counts = Counter(change.key for p in passages for change in p.changes)
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


def _summary(grouped: Dict[str, List[Passage]], counts: Dict[str, int], max_shown: int) -> str:
    rows = []
    for kind in KINDS:
        top = ", ".join(f"{_e(key)} {n}" for key, n in _label_counts(grouped[kind])[:6])
        name = f"<a href='#{kind.replace(' ', '-')}'>{kind}</a>" if grouped[kind] else kind
        rows.append(
            f"<tr><td>{name}</td><td>{_e(KIND_HELP[kind])}</td><td class='n'>{counts[kind]}</td>"
            f"<td class='n'>{len(grouped[kind])}</td><td class='n'>{min(len(grouped[kind]), max_shown)}</td><td>{top}</td></tr>"
        )
    head = "<tr><th>Kind</th><th>What changed</th><th>Entities</th><th>Passages</th><th>Shown</th><th>Most frequent</th></tr>"
    return f"<table class='summary'>{head}{''.join(rows)}</table>"


def _section(
    kind: str,
    passages: Sequence[Passage],
    docs: Tuple[Sequence[Doc], Sequence[Doc]],
    names: Tuple[str, str],
    sources: Optional[Sequence[str]],
    colors: Dict[str, str],
    max_shown: int,
) -> str:
    n = sum(len(p.changes) for p in passages)
    chips = "".join(f"<li>{_e(key)} <b>{count}</b></li>" for key, count in _label_counts(passages))
    out = [
        f"<section id='{kind.replace(' ', '-')}'><h2>{kind.capitalize()} <small>{n} entities in {len(passages)} "
        f"passages: {_e(KIND_HELP[kind])}</small></h2>",
        f"<ul class='labels' title='Entities per label, most frequent first'>{chips}</ul>",
        f"<div class='pair head'><div>Base: {_e(names[0])}</div><div>Updated: {_e(names[1])}</div></div>",
    ]
    for p in passages[:max_shown]:
        where = sources[p.index] if sources is not None else f"text {p.index + 1}"
        notes = "; ".join(_describe(c, docs[0][p.index].text) for c in p.changes)
        sides = "".join(f"<div>{_render(side[p.index], p, colors)}</div>" for side in docs)
        out.append(f"<div class='item'><div class='src'>{_e(where)}: {notes}</div><div class='pair'>{sides}</div></div>")
    if len(passages) > max_shown:
        out.append(f"<p class='omitted'>{len(passages) - max_shown} more passages of this kind not shown (--html-max {max_shown}).</p>")
    out.append("</section>")
    return "\n".join(out)


def _describe(change: Change, text: str) -> str:
    def side(ents: Tuple[Ent, ...]) -> str:
        if not ents:
            return "<i>none</i>"
        return " + ".join(f"“{_e(text[s:e])}” <b>{_e(label)}</b>" for s, e, label in ents)

    return f"{side(change.base)} → {side(change.updated)}"


def _render(doc: Doc, passage: Passage, colors: Dict[str, str]) -> str:
    """One side of a passage, with its entities (clipped to the passage) rendered by displaCy."""
    start, end = passage.start, passage.end
    ents = [
        {"start": max(e.start_char, start) - start, "end": min(e.end_char, end) - start, "label": _e(e.label_)}
        for e in doc.ents
        if e.start_char < end and start < e.end_char
    ]
    data = {"text": doc.text[start:end], "ents": ents, "title": None}
    return displacy.render(data, style="ent", manual=True, page=False, jupyter=False, options={"colors": colors})


def _colors(*doc_lists: Sequence[Doc]) -> Dict[str, str]:
    """displaCy's colours, and one from PALETTE for each label it has none for."""
    labels = sorted({e.label_ for docs in doc_lists for doc in docs for e in doc.ents} - set(DEFAULT_LABEL_COLORS))
    return {_e(label): PALETTE[i % len(PALETTE)] for i, label in enumerate(labels)}


PAGE = '<!DOCTYPE html>\n<html lang="en">\n<head><meta charset="utf-8"><title>{title}</title><style>{css}</style></head>\n<body>\n{body}\n</body>\n</html>\n'
CSS = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 24px 32px; color: #222; }
h1 { font-size: 22px; margin: 0 0 6px; } h2 { font-size: 18px; margin: 28px 0 8px; border-bottom: 2px solid #ddd; }
h2 small { font-weight: normal; color: #666; font-size: 13px; margin-left: 8px; }
.meta { color: #555; font-size: 13px; margin: 0 0 14px; }
table.summary td:first-child { font-weight: bold; white-space: nowrap; }
table { border-collapse: collapse; font-size: 13px; margin-bottom: 10px; }
th, td { border: 1px solid #ddd; padding: 4px 10px; text-align: left; vertical-align: top; }
th { background: #f4f4f4; } td.n { text-align: right; font-variant-numeric: tabular-nums; }
ul.labels { list-style: none; padding: 0; margin: 4px 0 10px; display: flex; flex-wrap: wrap; gap: 6px; font-size: 13px; }
ul.labels li { background: #eef1f5; border-radius: 10px; padding: 2px 10px; }
.pair { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; }
.pair > div { min-width: 0; overflow-wrap: anywhere; font-size: 14px; }
.pair.head { font-weight: bold; font-size: 13px; color: #444; margin-top: 10px; }
.item { border-top: 1px solid #eee; padding: 6px 0 4px; }
.item .pair > div { background: #fafafa; border-radius: 4px; padding: 2px 8px; }
.src { font-size: 12px; color: #666; margin-bottom: 2px; }
.omitted, .same { color: #8a4b00; font-size: 13px; font-style: italic; }
"""
