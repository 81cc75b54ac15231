"""Teacher annotations on disk: content-addressed DocBin shards.

Layout under a cache directory:

    <cache_dir>/<teacher fingerprint[:16]>/manifest.json    the teacher's identity
    <cache_dir>/<teacher fingerprint[:16]>/<key>.spacy      one shard of annotated docs
    <cache_dir>/<teacher fingerprint[:16]>/<key>.json       its record: fingerprint, key, count, sha256

A shard's key is a hash of the texts (and tokenization) it holds, so the same
texts annotated by the same teacher are found again whatever file they came
from. Shards are cut every `SHARD_SIZE` texts from the start of a stream, so
a file that grows at the end keeps its shards, an edited text only misses its
own shard, but a text inserted or removed shifts every later boundary and
misses the shards after it. Files are written to a temporary name and renamed,
so a killed run leaves finished shards and no half-written one, and two runs
sharing a cache never see each other's half-written files; a shard whose
record, checksum or fingerprint does not match is rebuilt, never loaded.

The directory is checked when the cache is opened (at config resolve time):
a path that is a file, or a directory that cannot be written, fails there
with one line naming it.
"""
import errno
import hashlib
import json
import logging
import os
import tempfile
import time
from itertools import islice
from pathlib import Path
from typing import Any, Dict, Iterable, Iterator, List, Optional, Tuple

from spacy.tokens import Doc, DocBin
from spacy.vocab import Vocab

from ..data.rawtext import RawText
from ..errors import InputError

logger = logging.getLogger("spacy_rehearsal")

CACHE_FORMAT = 1
# Temporary files older than this are left over from a killed run: removed.
STALE_TMP_SECONDS = 3600
# The attributes a shard keeps: the tokenization and the entities.
SHARD_ATTRS = ["ENT_IOB", "ENT_TYPE"]


def iter_shards(items: Iterable[RawText], shard_size: int) -> Iterator[Tuple[str, List[RawText]]]:
    """(key, texts) of each shard: `shard_size` texts at a time from the start of `items`.

    Every engine cuts shards here, so the same input gives the same shard keys.
    """
    it = iter(items)
    for chunk in iter(lambda: list(islice(it, shard_size)), []):
        yield shard_key(chunk), chunk


def shard_key(items: Iterable[RawText]) -> str:
    """A hash of the texts (and given tokenizations) of a shard's items."""
    h = hashlib.sha256()
    for item in items:
        h.update(item.text.encode("utf8"))
        h.update(b"\x00")
        if item.words is not None:
            h.update("\x01".join(item.words).encode("utf8"))
            h.update(bytes(int(s) for s in item.spaces or []))
        h.update(b"\x02")
    return h.hexdigest()[:32]


def write_atomic(path: Path, data: bytes) -> None:
    """Write `data` to a temporary file beside `path`, then rename it."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


class ShardCache:
    """Annotated shards for one teacher, in `root / fingerprint[:16]`.

    root (Path): The cache directory; created if it does not exist.
    fingerprint (str): The teacher's fingerprint.
    teacher_info (Dict[str, Any]): The teacher's identity, for the manifest.
    what (str): What the user calls the directory, for errors ("cache_dir").
    RAISES (InputError): `root` is a file, or the directory cannot be written.
    """

    def __init__(self, root: Path, fingerprint: str, teacher_info: Dict[str, Any], what: str = "cache_dir"):
        self.fingerprint = fingerprint
        root = Path(root)
        self.dir = root / fingerprint[:16]
        if root.exists() and not root.is_dir():
            raise InputError(str(root), f"{what} is a file, not a directory: give a directory path")
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            manifest = self.dir / "manifest.json"
            expected = {"format": CACHE_FORMAT, "fingerprint": fingerprint, "teacher": teacher_info}
            if not manifest.exists() or self._read_json(manifest) != expected:
                write_atomic(manifest, json.dumps(expected, indent=2, sort_keys=True).encode("utf8"))
            _check_writable(self.dir)
        except OSError as e:
            reason = e.strerror or type(e).__name__
            raise InputError(str(root), f"{what} cannot be used as a cache directory: {reason} ({e.filename})") from None
        self._remove_stale_tmp()

    def _remove_stale_tmp(self) -> None:
        """Remove temporary files that a killed run left (never those of a live writer)."""
        now = time.time()
        for tmp in self.dir.glob(".*.tmp"):
            try:
                if now - tmp.stat().st_mtime > STALE_TMP_SECONDS:
                    tmp.unlink()
            except OSError:
                pass

    @staticmethod
    def _read_json(path: Path) -> Optional[dict]:
        try:
            return json.loads(path.read_text(encoding="utf8"))
        except (OSError, ValueError):
            return None

    def paths(self, key: str) -> "tuple[Path, Path]":
        return self.dir / f"{key}.spacy", self.dir / f"{key}.json"

    def load(self, key: str, n_docs: int, vocab: Vocab) -> Optional[List[Doc]]:
        """The shard's docs, or None if it is absent or fails any check.

        A shard is loaded only if its record names this teacher's full
        fingerprint, its key and its size, and the data file's sha256 matches
        the record. Anything else (a missing record, a truncated or corrupt
        file, another teacher's shard) is logged and None is returned, so the
        caller annotates the texts again and overwrites the shard.
        """
        data_path, meta_path = self.paths(key)
        if not meta_path.exists() and not data_path.exists():
            return None
        problem, data = self._check(key, n_docs, data_path, meta_path)
        if data is not None:
            try:
                docs = list(DocBin().from_bytes(data).get_docs(vocab))
            except Exception as e:  # corrupt despite the checksum: rebuild
                problem = f"unreadable ({type(e).__name__})"
            else:
                if len(docs) == n_docs:
                    return docs
                problem = f"holds {len(docs)} docs, expected {n_docs}"
        logger.warning("Rebuilding cached shard %s: %s", data_path, problem)
        return None

    def _check(self, key: str, n_docs: int, data_path: Path, meta_path: Path) -> "tuple[str, Optional[bytes]]":
        """(problem, None) for a shard that fails a check, ("", data) for a good one."""
        meta = self._read_json(meta_path)
        if meta is None:
            return "missing or unreadable record", None
        if meta.get("format") != CACHE_FORMAT:
            return f"cache format {meta.get('format')!r}, expected {CACHE_FORMAT}", None
        if meta.get("fingerprint") != self.fingerprint:
            return "annotated by another teacher (fingerprint differs)", None
        if meta.get("key") != key or meta.get("n_docs") != n_docs:
            return "record does not match its texts", None
        try:
            data = data_path.read_bytes()
        except OSError:
            return "data file missing", None
        if hashlib.sha256(data).hexdigest() != meta.get("sha256"):
            return "checksum mismatch (truncated or corrupt)", None
        return "", data

    def save(self, key: str, docbin_bytes: bytes, n_docs: int) -> None:
        """Store a shard: data first, then the record that vouches for it."""
        data_path, meta_path = self.paths(key)
        write_atomic(data_path, docbin_bytes)
        meta = {
            "format": CACHE_FORMAT,
            "fingerprint": self.fingerprint,
            "key": key,
            "n_docs": n_docs,
            "sha256": hashlib.sha256(docbin_bytes).hexdigest(),
        }
        write_atomic(meta_path, json.dumps(meta, sort_keys=True).encode("utf8"))


def _check_writable(directory: Path) -> None:
    """Fail on a directory this process may not write to (an existing manifest wrote nothing yet).

    Asked of the system rather than tried, so that opening a cache changes nothing in it.
    """
    if not os.access(directory, os.W_OK | os.X_OK):
        raise PermissionError(errno.EACCES, "Permission denied", str(directory))


def docs_to_bytes(docs: Iterable[Doc]) -> bytes:
    """Serialize teacher docs keeping only the tokenization and entities."""
    return DocBin(attrs=SHARD_ATTRS, docs=docs, store_user_data=False).to_bytes()
