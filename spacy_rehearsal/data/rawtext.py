"""Reading raw text (the reader's and the callback's `raw_path`, the commands' INPUT).

- `.txt`: one text per line (UTF-8); blank lines are skipped and counted.
- `.jsonl`: `{"text": ...}` per line (Prodigy's raw format).
- `.spacy`: the texts (and tokenization) of the docs; annotations are ignored.
- a directory of such files, searched recursively, in sorted order.

Raw text is streamed: nothing is held in memory beyond the current line (or
DocBin file). Training reads it lazily, long after the config was checked, so
there a bad line (not UTF-8, not JSON, no text) or a text longer than the
pipeline's `max_length` is skipped and counted, with its file and line passed
to `on_skip`, rather than stopping training. The commands read it strictly:
the first bad line stops them, naming the file and line.
"""
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Literal, Optional

from spacy.vocab import Vocab

from ..errors import InputError
from .textfiles import FileStats, check_text_file, jsonl_objects, list_files, load_docbin, text_field, text_lines

RAW_SUFFIXES = (".txt", ".jsonl", ".spacy")
OnError = Literal["raise", "skip"]
# Why a raw text was skipped (the counts' keys).
NOT_UTF8 = "not UTF-8"
NOT_JSON = "not a JSON object"
NO_TEXT = "no text field"
UNREADABLE = "unreadable file"


@dataclass
class RawText:
    """One raw text for the teacher. `words`/`spaces` are set for DocBin input."""

    source: str
    text: str
    words: Optional[List[str]] = None
    spaces: Optional[List[bool]] = None


def too_long_reason(max_chars: int) -> str:
    """The skip reason for texts longer than the pipeline's `nlp.max_length`."""
    return f"longer than the pipeline's max_length ({max_chars} characters)"


def iter_raw_texts(
    path: Path,
    stats: Optional[Dict[Path, FileStats]] = None,
    *,
    on_error: OnError = "raise",
    max_chars: int = 0,
    on_skip: Optional[Callable[[str, str], None]] = None,
) -> Iterator[RawText]:
    """Stream raw texts from every file under `path`, in a stable order.

    Blank texts are skipped and counted in `stats` (if given).

    path (Path): A .txt, .jsonl or .spacy file, or a directory of them.
    stats (Optional[Dict[Path, FileStats]]): Filled with per-file counts.
    on_error (str): "raise": a bad line or file raises InputError naming it;
        "skip": it is skipped, counted and passed to `on_skip`.
    max_chars (int): Skip (and count, and pass to `on_skip`) texts longer than
        this many characters: the pipeline's `nlp.max_length`, which spaCy
        cannot tokenize. 0: no limit.
    on_skip (Optional[Callable[[str, str], None]]): Called as (location, problem)
        for every text skipped for a problem (not for blank lines).
    YIELDS (RawText): The texts.
    """
    for file in list_files(path, RAW_SUFFIXES, "raw text"):
        file_stats = FileStats(file)
        if stats is not None:
            stats[file] = file_stats

        def skip(where: str, why: str, problem: str, file_stats: FileStats = file_stats) -> None:  # bound now: this file's counts
            if on_error == "raise":
                raise InputError(where, problem)
            file_stats.skip(why, where)
            if on_skip is not None:
                on_skip(where, problem)

        try:
            for raw in _raw_from_file(file, file_stats, skip):
                if max_chars and len(raw.text) > max_chars:
                    reason = too_long_reason(max_chars)
                    file_stats.skip(reason, raw.source)
                    if on_skip is not None:
                        on_skip(raw.source, reason)
                    continue
                file_stats.examples += 1
                yield raw
        except InputError as e:  # the whole file (encoding, DocBin): raised, or skipped
            if on_error == "raise":
                raise
            skip(e.location, UNREADABLE, str(e)[len(e.location) + 2 :])


def _raw_from_file(path: Path, stats: FileStats, skip: Callable[[str, str, str], None]) -> Iterator[RawText]:
    if path.suffix == ".txt":
        for i, text, problem in text_lines(path):
            if problem:
                skip(f"{path}:{i}", NOT_UTF8, problem)
            elif not text.strip():
                stats.skip("blank lines")
            else:
                yield RawText(f"{path}:{i}", text)
    elif path.suffix == ".jsonl":
        for i, data, problem in jsonl_objects(path):
            where = f"{path}:{i}"
            if data is None:
                skip(where, NOT_UTF8 if "UTF-8" in problem else NOT_JSON, problem)
                continue
            text, problem = text_field(data)
            if problem:
                skip(where, NO_TEXT, problem)
            elif not text.strip():
                stats.skip("empty text")
            else:
                yield RawText(where, text)
    else:
        for i, doc in enumerate(load_docbin(path, Vocab())):
            if not doc.text.strip():
                stats.skip("empty text")
                continue
            yield RawText(f"{path}#doc{i}", doc.text, [t.text for t in doc], [bool(t.whitespace_) for t in doc])


def count_raw_texts(path: Path, up_to: int) -> int:
    """How many texts `path` holds, counting at most `up_to` (bad lines skipped)."""
    return sum(1 for _ in islice(iter_raw_texts(path, on_error="skip"), up_to))


def check_raw_path(path: Path, min_texts: int = 1) -> List[Path]:
    """Fail early (at config resolve time) on raw text that cannot be used.

    Checks that the files exist and have supported types, that every text file
    starts as UTF-8 (a UTF-16 or binary file fails here, not mid-training),
    and that there are at least `min_texts` texts.

    path (Path): The raw text file or directory.
    min_texts (int): The fewest texts that can work.
    RETURNS (List[Path]): The files.
    """
    files = list_files(path, RAW_SUFFIXES, "raw text")
    for file in files:
        if file.suffix != ".spacy":
            check_text_file(file)
    n = count_raw_texts(path, min_texts)
    what = "raw text file" if Path(path).is_file() else "raw text directory"
    if n == 0:
        raise InputError(str(path), f"{what} holds no texts")
    if n < min_texts:
        raise InputError(str(path), f"{what} holds only {n} texts, {min_texts} needed")
    return files
