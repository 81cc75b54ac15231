"""Reading the inputs: new annotations and raw text.

Annotations (the reader's `path`, gold for `spacy rehearsal evaluate`):
- `.jsonl` in Prodigy's format: `{"text", "tokens"?, "spans": [{"start", "end",
  "label"}], "answer"?}`. `answer` other than "accept" is skipped and counted.
- `.jsonl` in spaCy's form: `{"text", "entities": [[start, end, label], ...]}`.
- `.spacy` (DocBin): entities from `doc.ents`; tokens whose NER annotation is
  missing stay missing.
- a directory of such files (searched recursively, sorted by path).

Raw text (the reader's and the callback's `raw_path`):
- `.txt`: one text per line; blank lines are skipped and counted.
- `.jsonl`: `{"text": ...}` per line (Prodigy's raw format).
- `.spacy`: the texts (and tokenization) of the docs; annotations are ignored.
- a directory of such files.

Everything here is pure I/O and validation: no pipeline is run. Errors name the
file and the line (JSONL, TXT) or the doc index (DocBin).
"""
from dataclasses import dataclass, field
from pathlib import Path
from typing import Counter, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

import srsly
from spacy.tokens import Doc, DocBin
from spacy.vocab import Vocab

ANNOTATION_SUFFIXES = (".jsonl", ".spacy")
RAW_SUFFIXES = (".txt", ".jsonl", ".spacy")
ACCEPT = "accept"


class InputError(ValueError):
    """Bad input data. The message names the file and line or doc index."""

    def __init__(self, location: str, message: str):
        self.location = location
        super().__init__(f"{location}: {message}")


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


@dataclass
class RawText:
    """One raw text for the teacher. `words`/`spaces` are set for DocBin input."""

    source: str
    text: str
    words: Optional[List[str]] = None
    spaces: Optional[List[bool]] = None


@dataclass
class FileStats:
    """What was read from one file, for the log."""

    path: Path
    examples: int = 0
    spans: int = 0
    skipped: Counter[str] = field(default_factory=Counter)

    def describe(self) -> str:
        text = f"{self.path}: {self.examples} examples, {self.spans} spans"
        if self.skipped:
            parts = ", ".join(f"{n} {why}" for why, n in sorted(self.skipped.items()))
            text += f"; skipped {parts}"
        return text


def list_files(path: Path, suffixes: Sequence[str], what: str) -> List[Path]:
    """The input files under `path`, sorted, with an error for anything unusable.

    path (Path): A file or a directory (searched recursively).
    suffixes (Sequence[str]): The accepted file suffixes.
    what (str): What the files hold, for error messages ("annotations").
    RETURNS (List[Path]): The files, in a stable order.
    """
    path = Path(path)
    ok = ", ".join(suffixes)
    if not path.exists():
        raise InputError(str(path), f"{what} file or directory not found")
    if path.is_file():
        if path.suffix not in suffixes:
            raise InputError(str(path), f"unsupported {what} file type '{path.suffix}' (expected {ok})")
        return [path]
    files = sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))
    unknown = [p for p in files if p.suffix not in suffixes]
    if unknown:
        names = ", ".join(str(p) for p in unknown[:5])
        raise InputError(str(path), f"unsupported {what} files in directory ({ok} expected): {names}")
    if not files:
        raise InputError(str(path), f"directory holds no {what} files ({ok})")
    return files


def _iter_jsonl(path: Path) -> Iterator[Tuple[int, dict]]:
    with path.open("r", encoding="utf8") as f:
        for i, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                data = srsly.json_loads(line)
            except ValueError as e:
                raise InputError(f"{path}:{i}", f"line is not valid JSON ({e})") from None
            if not isinstance(data, dict):
                raise InputError(f"{path}:{i}", f"expected a JSON object, got {type(data).__name__}")
            yield i, data


def _text_of(data: dict, where: str) -> str:
    if "text" not in data:
        raise InputError(where, "record has no 'text' field")
    text = data["text"]
    if not isinstance(text, str):
        raise InputError(where, f"'text' must be a string, got {type(text).__name__}")
    return text


def _spans_of(data: dict, text: str, where: str) -> List[Tuple[int, int, str]]:
    if "spans" in data:
        raw = data["spans"] or []
        spans = []
        for j, span in enumerate(raw):
            if not isinstance(span, dict) or not {"start", "end", "label"} <= set(span):
                raise InputError(where, f"span {j} needs 'start', 'end' and 'label': {span!r}")
            spans.append((span["start"], span["end"], span["label"]))
    elif "entities" in data:
        spans = []
        for j, ent in enumerate(data["entities"] or []):
            if not isinstance(ent, (list, tuple)) or len(ent) != 3:
                raise InputError(where, f"entity {j} must be [start, end, label]: {ent!r}")
            spans.append(tuple(ent))
    else:
        spans = []
    return check_spans(spans, len(text), where, text)


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
            a, b = text[s1:e1], text[s2:e2]
            raise InputError(where, f"overlapping spans ({s1}, {e1}, {l1}) {a!r} and ({s2}, {e2}, {l2}) {b!r}")
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
            raise InputError(where, f"token {j} needs integer 'start' and 'end': {tok!r}") from None
        if start < pos or end <= start or end > len(text):
            raise InputError(where, f"token {j} ({start}, {end}) is out of order or outside the text")
        gap = text[pos:start]
        if gap.strip():
            raise InputError(where, f"text {gap!r} before token {j} is not covered by any token")
        if gap:
            if words and gap == " ":
                spaces[-1] = True
            else:
                if words and gap[0] == " ":
                    spaces[-1] = True
                    gap = gap[1:]
                if gap:
                    words.append(gap)
                    spaces.append(False)
        words.append(text[start:end])
        spaces.append(False)
        pos = end
    rest = text[pos:]
    if rest.strip():
        raise InputError(where, f"text {rest!r} after the last token is not covered by any token")
    if rest:
        if words and rest[0] == " ":
            spaces[-1] = True
            rest = rest[1:]
        if rest:
            words.append(rest)
            spaces.append(False)
    return words, spaces


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
    for i, data in _iter_jsonl(path):
        where = f"{path}:{i}"
        answer = data.get("answer", ACCEPT)
        if answer != ACCEPT:
            stats.skipped[f"answer={answer}"] += 1
            continue
        text = _text_of(data, where)
        if not text.strip():
            stats.skipped["empty text"] += 1
            continue
        spans = _spans_of(data, text, where)
        words = spaces = None
        if data.get("tokens"):
            words, spaces = _words_from_tokens(data["tokens"], text, where)
        yield Record(where, text, spans, words, spaces)


def _records_from_docbin(path: Path, stats: FileStats, vocab: Vocab) -> Iterator[Record]:
    for i, doc in enumerate(_load_docbin(path, vocab)):
        where = f"{path}#doc{i}"
        if not doc.text.strip():
            stats.skipped["empty text"] += 1
            continue
        spans = [(e.start_char, e.end_char, e.label_) for e in doc.ents]
        missing = [t.i for t in doc if t.ent_iob == 0]
        words = [t.text for t in doc]
        spaces = [bool(t.whitespace_) for t in doc]
        yield Record(where, doc.text, spans, words, spaces, missing)


def _load_docbin(path: Path, vocab: Vocab) -> Iterator[Doc]:
    try:
        docbin = DocBin().from_disk(path)
    except Exception as e:  # msgpack/zlib raise many types
        raise InputError(str(path), f"not a readable DocBin file ({type(e).__name__}: {e})") from None
    return docbin.get_docs(vocab)


def iter_raw_texts(path: Path, stats: Optional[Dict[Path, FileStats]] = None) -> Iterator[RawText]:
    """Stream raw texts from every file under `path`, in a stable order.

    Blank texts are skipped and counted in `stats` (if given). Nothing is held
    in memory beyond the current line or DocBin file.

    path (Path): A .txt, .jsonl or .spacy file, or a directory of them.
    stats (Optional[Dict[Path, FileStats]]): Filled with per-file counts.
    YIELDS (RawText): The texts.
    """
    for file in list_files(path, RAW_SUFFIXES, "raw text"):
        file_stats = FileStats(file)
        if stats is not None:
            stats[file] = file_stats
        for raw in _raw_from_file(file, file_stats):
            file_stats.examples += 1
            yield raw


def _raw_from_file(path: Path, stats: FileStats) -> Iterator[RawText]:
    if path.suffix == ".txt":
        with path.open("r", encoding="utf8") as f:
            for i, line in enumerate(f, start=1):
                text = line.rstrip("\r\n")
                if not text.strip():
                    stats.skipped["blank lines"] += 1
                    continue
                yield RawText(f"{path}:{i}", text)
    elif path.suffix == ".jsonl":
        for i, data in _iter_jsonl(path):
            text = _text_of(data, f"{path}:{i}")
            if not text.strip():
                stats.skipped["empty text"] += 1
                continue
            yield RawText(f"{path}:{i}", text)
    else:
        for i, doc in enumerate(_load_docbin(path, Vocab())):
            if not doc.text.strip():
                stats.skipped["empty text"] += 1
                continue
            yield RawText(f"{path}#doc{i}", doc.text, [t.text for t in doc], [bool(t.whitespace_) for t in doc])


def check_raw_path(path: Path) -> List[Path]:
    """Fail early (at config resolve time) on a raw path that cannot be read.

    Checks that the files exist and have supported types, and that the first
    file yields at least one text. RETURNS (List[Path]): The files.
    """
    files = list_files(path, RAW_SUFFIXES, "raw text")
    if next(iter_raw_texts(files[0]), None) is None and len(files) == 1:
        raise InputError(str(files[0]), "raw text file holds no texts")
    return files


def doc_from_record(vocab: Vocab, record: "Record | RawText", make_doc) -> Doc:
    """A Doc with the record's own tokenization, or `make_doc(text)` if none."""
    if record.words is not None:
        return Doc(vocab, words=record.words, spaces=record.spaces)
    return make_doc(record.text)


def iter_records_as_raw(records: Iterable[Record]) -> Iterator[RawText]:
    """Records as raw texts (for the teacher pass over new examples)."""
    for rec in records:
        yield RawText(rec.source, rec.text, rec.words, rec.spaces)
