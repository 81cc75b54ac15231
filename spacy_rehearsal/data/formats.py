"""Reading annotations: the new examples (the reader's `path`, `--gold` of `spacy rehearsal evaluate`).

- `.jsonl` in Prodigy's format: `{"text", "tokens"?, "spans": [{"start", "end",
  "label"}], "answer"?}`. `answer` other than "accept" is skipped and counted.
- `.jsonl` in spaCy's form: `{"text", "entities": [[start, end, label], ...]}`.
- `.spacy` (DocBin): entities from `doc.ents`; tokens whose NER annotation is
  missing stay missing.
- a directory of such files (searched recursively, sorted by path).

Everything here is pure I/O and validation: no pipeline is run. Errors name the
file and the line (JSONL) or the doc index (DocBin), and quote at most a few
words of the text. Raw text is read by `rawtext.py`, the files themselves
(encodings, JSONL lines, DocBin) by `textfiles.py`; their public names are
importable from here too.
"""
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator, List, Optional, Sequence, Tuple

from spacy.tokens import Doc
from spacy.vocab import Vocab

from ..errors import InputError
from .rawtext import RAW_SUFFIXES, RawText, check_raw_path, iter_raw_texts
from .textfiles import FileStats, jsonl_objects, list_files, load_docbin, text_field

__all__ = [
    "ANNOTATION_SUFFIXES", "RAW_SUFFIXES", "FileStats", "InputError", "RawText", "Record", "check_raw_path",
    "check_spans", "doc_from_record", "iter_raw_texts", "iter_records_as_raw", "list_files", "read_annotations",
]

ANNOTATION_SUFFIXES = (".jsonl", ".spacy")
ACCEPT = "accept"
EXCERPT_CHARS = 30


def excerpt(text: str) -> str:
    """A few characters of the user's text for a message, quoted."""
    return repr(text if len(text) <= EXCERPT_CHARS else text[: EXCERPT_CHARS - 1] + "…")


@dataclass
class Record:
    """One annotated text, before tokenization.

    source (str): "file:line" (JSONL) or "file#doc-index" (DocBin).
    text (str): The text.
    spans (List[Tuple[int, int, str]]): Gold entities as character offsets.
    words (Optional[List[str]]): Tokenization given by the data (Prodigy
        `tokens`, DocBin), or None to use the pipeline's tokenizer.
    spaces (Optional[List[bool]]): Trailing whitespace per word.
    missing (List[int]): Token indices whose NER annotation is missing (DocBin).
    """

    source: str
    text: str
    spans: List[Tuple[int, int, str]]
    words: Optional[List[str]] = None
    spaces: Optional[List[bool]] = None
    missing: List[int] = field(default_factory=list)


def _spans_of(data: dict, text: str, where: str) -> List[Tuple[int, int, str]]:
    if "spans" in data:
        spans = []
        for j, span in enumerate(_list_field(data, "spans", where)):
            if not isinstance(span, dict) or not {"start", "end", "label"} <= set(span):
                raise InputError(where, f"span {j} needs 'start', 'end' and 'label': {_shown(span)}")
            spans.append((span["start"], span["end"], span["label"]))
    elif "entities" in data:
        spans = []
        for j, ent in enumerate(_list_field(data, "entities", where)):
            if not isinstance(ent, (list, tuple)) or len(ent) != 3:
                raise InputError(where, f"entity {j} must be [start, end, label]: {_shown(ent)}")
            spans.append(tuple(ent))
    else:
        spans = []
    return check_spans(spans, len(text), where, text)


def _list_field(data: dict, name: str, where: str) -> list:
    """A field that must hold a list (null: empty)."""
    value = data[name]
    if value is None:
        return []
    if not isinstance(value, list):
        raise InputError(where, f"'{name}' must be a list, got {type(value).__name__}")
    return value


def _shown(value: object) -> str:
    """A value for a message, cut short (it may hold the user's text)."""
    text = repr(value)
    return text if len(text) <= 2 * EXCERPT_CHARS else text[: 2 * EXCERPT_CHARS - 1] + "…"


def check_spans(
    spans: Sequence[Tuple[int, int, str]], length: int, where: str, text: str = ""
) -> List[Tuple[int, int, str]]:
    """Validate character-offset spans: types, bounds, order and overlaps.

    RETURNS (List[Tuple[int, int, str]]): The spans, sorted by start.
    """
    out = []
    for start, end, label in spans:
        if not isinstance(start, int) or not isinstance(end, int) or isinstance(start, bool):
            raise InputError(where, f"span offsets must be integers: ({start!r}, {end!r}, {label!r})")
        if not isinstance(label, str) or not label:
            raise InputError(where, f"span label must be a non-empty string: ({start}, {end}, {label!r})")
        if start < 0 or end > length:
            raise InputError(where, f"span ({start}, {end}, {label}) is outside the text (length {length})")
        if start >= end:
            raise InputError(where, f"span ({start}, {end}, {label}) has start >= end")
        out.append((start, end, label))
    out.sort()
    for (s1, e1, l1), (s2, e2, l2) in zip(out, out[1:]):
        if s2 < e1:
            a, b = excerpt(text[s1:e1]), excerpt(text[s2:e2])
            raise InputError(where, f"overlapping spans ({s1}, {e1}, {l1}) {a} and ({s2}, {e2}, {l2}) {b}")
    return out


def _words_from_tokens(tokens: list, text: str, where: str) -> Tuple[List[str], List[bool]]:
    """Words and spaces from Prodigy token offsets; gaps must be whitespace."""
    words: List[str] = []
    spaces: List[bool] = []
    pos = 0
    for j, tok in enumerate(tokens):
        try:
            start, end = int(tok["start"]), int(tok["end"])
        except (KeyError, TypeError, ValueError):
            raise InputError(where, f"token {j} needs integer 'start' and 'end': {_shown(tok)}") from None
        if start < pos or end <= start or end > len(text):
            raise InputError(where, f"token {j} ({start}, {end}) is out of order or outside the text")
        gap = text[pos:start]
        if gap.strip():
            raise InputError(where, f"text {excerpt(gap.strip())} before token {j} is not covered by any token")
        _add_whitespace(words, spaces, gap)
        words.append(text[start:end])
        spaces.append(False)
        pos = end
    rest = text[pos:]
    if rest.strip():
        raise InputError(where, f"text {excerpt(rest.strip())} after the last token is not covered by any token")
    _add_whitespace(words, spaces, rest)
    return words, spaces


def _add_whitespace(words: List[str], spaces: List[bool], gap: str) -> None:
    """Whitespace between tokens: one space is the previous word's trailing space, the rest a whitespace token."""
    if words and gap[:1] == " ":
        spaces[-1] = True
        gap = gap[1:]
    if gap:
        words.append(gap)
        spaces.append(False)


def read_annotations(path: Path, vocab: Optional[Vocab] = None) -> Tuple[List[Record], List[FileStats]]:
    """Read and validate every annotation file under `path`.

    Records with an answer other than "accept" and records with empty text are
    skipped and counted in the returned stats. Everything else that is wrong
    raises InputError naming the file and line (JSONL) or doc index (DocBin).

    path (Path): A .jsonl or .spacy file, or a directory of them.
    vocab (Optional[Vocab]): Vocab for reading DocBin files.
    RETURNS (Tuple[List[Record], List[FileStats]]): Records in file order, and
        what was read from each file.
    """
    records: List[Record] = []
    all_stats = []
    for file in list_files(path, ANNOTATION_SUFFIXES, "annotation"):
        stats = FileStats(file)
        reader = _records_from_docbin if file.suffix == ".spacy" else _records_from_jsonl
        for rec in reader(file, stats, vocab or Vocab()):
            stats.examples += 1
            stats.spans += len(rec.spans)
            records.append(rec)
        all_stats.append(stats)
    return records, all_stats


def _records_from_jsonl(path: Path, stats: FileStats, vocab: Vocab) -> Iterator[Record]:
    for i, data, problem in jsonl_objects(path):
        where = f"{path}:{i}"
        if data is None:
            raise InputError(where, problem)
        answer = data.get("answer", ACCEPT)
        if answer != ACCEPT:
            stats.skip(f"answer={_shown(answer) if not isinstance(answer, str) else answer[:EXCERPT_CHARS]}", where)
            continue
        text, problem = text_field(data)
        if problem:
            raise InputError(where, problem)
        if not text.strip():
            stats.skip("empty text", where)
            continue
        spans = _spans_of(data, text, where)
        words = spaces = None
        if "tokens" in data:
            tokens = _list_field(data, "tokens", where)
            if tokens:
                words, spaces = _words_from_tokens(tokens, text, where)
        yield Record(where, text, spans, words, spaces)


def _records_from_docbin(path: Path, stats: FileStats, vocab: Vocab) -> Iterator[Record]:
    for i, doc in enumerate(load_docbin(path, vocab)):
        where = f"{path}#doc{i}"
        if not doc.text.strip():
            stats.skip("empty text", where)
            continue
        spans = [(e.start_char, e.end_char, e.label_) for e in doc.ents]
        missing = [t.i for t in doc if t.ent_iob == 0]
        words = [t.text for t in doc]
        spaces = [bool(t.whitespace_) for t in doc]
        yield Record(where, doc.text, spans, words, spaces, missing)


def doc_from_record(vocab: Vocab, record: "Record | RawText", make_doc: Callable[[str], Doc]) -> Doc:
    """A Doc with the record's own tokenization, or `make_doc(text)` if none."""
    if record.words is not None:
        return Doc(vocab, words=record.words, spaces=record.spaces)
    return make_doc(record.text)


def iter_records_as_raw(records: Iterable[Record]) -> Iterator[RawText]:
    """Records as raw texts (for the teacher pass over new examples)."""
    for rec in records:
        yield RawText(rec.source, rec.text, rec.words, rec.spaces)


def source_file(source: str) -> str:
    """The file of a record's source: "a.jsonl" of "a.jsonl:7" or of "a.spacy#doc-3"."""
    head, sep, tail = source.rpartition(":")
    if sep and tail.isdigit():
        return head
    head, sep, _ = source.rpartition("#")
    return head if sep else source
