"""Reading input files: listing them, UTF-8 lines, JSONL objects and DocBin files.

Text files (.txt, .jsonl) must be UTF-8, with or without a byte-order mark,
with LF or CRLF line ends. Anything else is reported with the file and the
line and byte offset where decoding failed; no text of the file is put into a
message. Each reader yields a problem in place of a bad line, so a caller can
stop on it (annotations, the commands) or skip and count it (raw text read
during training).
"""
import codecs
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Counter, Dict, Iterator, List, Optional, Sequence, Tuple

import srsly
from spacy.tokens import Doc, DocBin
from spacy.vocab import Vocab

from ..errors import InputError

# Byte-order marks of encodings other than UTF-8, longest first (UTF-32-LE starts like UTF-16-LE).
_OTHER_BOMS = (
    (codecs.BOM_UTF32_LE, "UTF-32"),
    (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"),
    (codecs.BOM_UTF16_BE, "UTF-16"),
)
SAVE_AS_UTF8 = "save it as UTF-8"
HEAD_BYTES = 1 << 16


@dataclass
class FileStats:
    """What was read from one file: counts, and where each kind of skip first happened."""

    path: Path
    examples: int = 0
    spans: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    first_skip: Dict[str, str] = field(default_factory=dict)

    def skip(self, why: str, where: Optional[str] = None) -> None:
        """Count one skipped record or text, remembering the first location of each reason."""
        self.skipped[why] += 1
        if where is not None:
            self.first_skip.setdefault(why, where)

    def describe(self) -> str:
        text = f"{self.path}: {self.examples} examples, {self.spans} spans"
        if self.skipped:
            text += f"; skipped {describe_skips(self.skipped)}"
        return text


def describe_skips(skipped: Counter[str]) -> str:
    """"2 answer=reject, 1 misaligned spans": skip counts in a stable order."""
    return ", ".join(f"{n} {why}" for why, n in sorted(skipped.items()))


def list_files(path: Path, suffixes: Sequence[str], what: str) -> List[Path]:
    """The input files under `path`, sorted, with an error for anything unusable.

    path (Path): A file or a directory (searched recursively).
    suffixes (Sequence[str]): The accepted file suffixes.
    what (str): What the files hold, for error messages ("annotation").
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


def check_text_file(path: Path) -> None:
    """Fail on a text file that is not UTF-8, reading only its start (cheap on any size).

    Catches files saved as UTF-16 or UTF-32 (with or without a byte-order mark)
    and binary files. A bad byte further on is found when its line is read.
    RAISES (InputError): Naming the file, and the line and byte offset.
    """
    with Path(path).open("rb") as f:
        head = f.read(HEAD_BYTES)
    _check_bom(path, head)
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        decoder.decode(head, final=len(head) < HEAD_BYTES)
    except UnicodeDecodeError as e:
        raise InputError(_where(path, head, e.start), _undecodable(head, e.start, e.start)) from None
    nul = head.find(b"\x00")
    if nul >= 0:
        raise InputError(_where(path, head, nul), _nul_message(nul))


def text_lines(path: Path) -> Iterator[Tuple[int, str, str]]:
    """The lines of a UTF-8 text file: (line number, text, problem).

    The byte-order mark and the line end (LF or CRLF) are removed. A line that
    is not UTF-8, or holds a NUL byte, comes with an empty text and a problem
    that names the byte offset; the other lines come with problem "".
    RAISES (InputError): For a file in another encoding (UTF-16/32 byte-order mark).
    """
    with Path(path).open("rb") as f:
        _check_bom(path, f.read(4))
        f.seek(0)
        offset = 0
        for i, raw in enumerate(f, start=1):
            start = len(codecs.BOM_UTF8) if i == 1 and raw.startswith(codecs.BOM_UTF8) else 0
            try:
                text = raw[start:].decode("utf-8")
            except UnicodeDecodeError as e:
                yield i, "", _undecodable(raw, start + e.start, offset + start + e.start)
            else:
                nul = raw.find(b"\x00")
                if nul >= 0:
                    yield i, "", _nul_message(offset + nul)
                else:
                    yield i, text.rstrip("\r\n"), ""
            offset += len(raw)


def jsonl_objects(path: Path) -> Iterator[Tuple[int, Optional[Dict[str, Any]], str]]:
    """The JSON objects of a JSONL file: (line number, object or None, problem).

    Blank lines are left out. A line that cannot be decoded, is not JSON or is
    not an object comes with None and the problem.
    """
    for i, line, problem in text_lines(path):
        if problem:
            yield i, None, problem
            continue
        if not line.strip():
            continue
        try:
            data = srsly.json_loads(line)
        except ValueError:
            yield i, None, f"line is not valid JSON: {json_problem(line)}"
            continue
        if not isinstance(data, dict):
            yield i, None, f"expected a JSON object, got {type(data).__name__}"
            continue
        yield i, data, ""


def json_problem(line: str) -> str:
    """What is wrong with a line that is not JSON, in plain words, with its column (1-based)."""
    try:
        json.loads(line)
    except json.JSONDecodeError as e:
        error = e
    else:  # srsly's decoder refused what the standard one takes (e.g. NaN)
        return "a value JSON does not allow (NaN or Infinity?)"
    col, before = error.colno, line[: error.pos].rstrip()
    if error.msg.startswith("Unterminated string"):
        return f"a string opened at column {col} is not closed (a missing \" or a line cut short)"
    if error.pos >= len(line.rstrip()):
        missing = _unclosed(line)
        if missing:
            return f"cut short, it ends at column {len(line.rstrip())} with {missing} still to close"
        return f"the line ends at column {len(line.rstrip())} where a value was expected (cut short?)"
    char = line[error.pos]
    if before.endswith(",") and char in "]}":
        return f"a trailing comma before {char!r} at column {col} (JSON allows none)"
    if char in "'":
        return f"a single quote at column {col}: JSON strings take double quotes"
    if error.msg.startswith("Extra data"):
        return f"more text after the JSON object ends, at column {col} (two records on one line?)"
    what = {"Expecting ',' delimiter": "a comma (or a closing bracket)", "Expecting ':' delimiter": "a colon",
            "Expecting value": "a value", "Expecting property name enclosed in double quotes": "a key in double quotes"}
    return f"{what.get(error.msg, error.msg.lower())} expected at column {col}, found {char!r}"


def _unclosed(line: str) -> str:
    """The closing brackets a cut-short JSON line lacks, innermost first (e.g. "]}"), or ""."""
    stack: List[str] = []
    in_string = escaped = False
    for char in line:
        if in_string:
            escaped, in_string = (False, True) if escaped else (char == "\\", char != '"')
        elif char == '"':
            in_string = True
        elif char in "[{":
            stack.append("]" if char == "[" else "}")
        elif char in "]}" and stack:
            stack.pop()
    return "".join(reversed(stack))


def text_field(data: Dict[str, Any]) -> Tuple[str, str]:
    """A record's `text`: (text, problem), with problem "" if it is a string."""
    if "text" not in data:
        return "", "record has no 'text' field"
    text = data["text"]
    if not isinstance(text, str):
        return "", f"'text' must be a string, got {type(text).__name__}"
    return text, ""


def load_docbin(path: Path, vocab: Vocab) -> Iterator[Doc]:
    """The docs of a DocBin file. RAISES (InputError): The file cannot be read."""
    try:
        docbin = DocBin().from_disk(path)
    except Exception as e:  # msgpack/zlib raise many types
        raise InputError(str(path), f"not a readable DocBin file ({type(e).__name__})") from None
    return docbin.get_docs(vocab)


def _check_bom(path: Path, head: bytes) -> None:
    for bom, name in _OTHER_BOMS:
        if head.startswith(bom):
            raise InputError(str(path), f"the file is {name} text (byte-order mark {bom.hex(' ').upper()}): {SAVE_AS_UTF8}")


def _where(path: Path, head: bytes, index: int) -> str:
    line = head.count(b"\n", 0, index) + 1
    return f"{path}:{line}"


def _undecodable(data: bytes, index: int, offset: int) -> str:
    return f"not UTF-8 text: byte 0x{data[index]:02X} at byte offset {offset} cannot be decoded ({SAVE_AS_UTF8})"


def _nul_message(offset: int) -> str:
    return f"not a text file: NUL byte at byte offset {offset} (a binary or UTF-16 file? {SAVE_AS_UTF8})"


def _short(text: str, n: int = 80) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"
