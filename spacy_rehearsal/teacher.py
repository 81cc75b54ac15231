"""The teacher: the original pipeline, run whole over text, with a shard cache.

One `Teacher` serves the reader, the fill augmenter, the callback and the
`spacy rehearsal` commands. It runs the teacher's *whole* pipeline (the
parser's sentence boundaries constrain its NER, so running the NER alone gives
other entities), keeps only the tokenization and the entities, and streams the
result shard by shard: only as much text is annotated as is consumed, and with
a cache directory every finished shard is stored and reused.
"""
import atexit
import hashlib
import json
import logging
import time
from collections import deque
from itertools import islice
from pathlib import Path
from typing import Callable, Deque, Dict, Iterable, Iterator, List, Optional, Sequence, Set, Tuple, Union

import spacy
from spacy.language import Language
from spacy.tokens import Doc, DocBin, Span
from spacy.vocab import Vocab

from .cache import ShardCache, docs_to_bytes, shard_key
from .formats import InputError, RawText, doc_from_record, iter_raw_texts

logger = logging.getLogger("spacy_rehearsal")

SHARD_SIZE = 1000
ENTITY_FACTORIES = ("ner", "beam_ner", "entity_ruler", "span_ruler")

_LOADED: Dict[str, Language] = {}


class TeacherError(ValueError):
    """The teacher pipeline cannot be used."""


def load_pipeline(name: Union[str, Path]) -> Language:
    """Load a pipeline by package name or path, once per process."""
    key = str(name)
    if key not in _LOADED:
        try:
            _LOADED[key] = spacy.load(name)
        except OSError as e:
            raise TeacherError(f"Cannot load teacher pipeline '{name}': {e}") from None
    return _LOADED[key]


def _digest_dir(path: Optional[Path]) -> str:
    """A hash of the files of a pipeline directory (the weights as saved)."""
    h = hashlib.sha256()
    if path is None or not Path(path).is_dir():
        return ""
    for file in sorted(p for p in Path(path).rglob("*") if p.is_file()):
        h.update(str(file.relative_to(path)).encode("utf8"))
        with file.open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()


class Teacher:
    """The original pipeline whose predictions are rehearsed.

    name (str): Package name or path of the pipeline.
    labels (Optional[Sequence[str]]): The entity labels to keep; None keeps
        every entity the pipeline predicts.
    batch_size (int): Batch size for `nlp.pipe`.
    n_process (int): Processes for `nlp.pipe`.
    """

    def __init__(
        self,
        name: Union[str, Path],
        labels: Optional[Sequence[str]] = None,
        *,
        batch_size: int = 256,
        n_process: int = 1,
    ):
        self.name = str(name)
        self.nlp = load_pipeline(name)
        self.batch_size = batch_size
        self.n_process = n_process
        entity_pipes = [n for n in self.nlp.pipe_names if self.nlp.get_pipe_meta(n).factory in ENTITY_FACTORIES]
        if not entity_pipes:
            raise TeacherError(
                f"Teacher pipeline '{self.name}' has no 'ner' component, so it has no entities "
                f"to rehearse (pipeline: {self.nlp.pipe_names})."
            )
        self.all_labels: Set[str] = set()
        for pipe_name in entity_pipes:
            self.all_labels.update(getattr(self.nlp.get_pipe(pipe_name), "labels", ()))
        if labels is not None:
            unknown = sorted(set(labels) - self.all_labels)
            if unknown:
                raise TeacherError(
                    f"teacher_labels {unknown} are not predicted by teacher '{self.name}' "
                    f"(its labels: {sorted(self.all_labels)})"
                )
        self.labels: Optional[Set[str]] = set(labels) if labels is not None else None
        self._fingerprint: Optional[str] = None

    @property
    def info(self) -> Dict[str, str]:
        """What identifies the teacher, as written to the cache manifest."""
        meta = self.nlp.meta
        return {
            "name": f"{meta.get('lang', '')}_{meta.get('name', '')}",
            "version": str(meta.get("version", "")),
            "spacy_version": spacy.__version__,
            "source": self.name,
        }

    @property
    def fingerprint(self) -> str:
        """Hash of the teacher's name, version, config and saved weights."""
        if self._fingerprint is None:
            h = hashlib.sha256()
            h.update(json.dumps(self.info, sort_keys=True).encode("utf8"))
            h.update(self.nlp.config.to_str().encode("utf8"))
            h.update(_digest_dir(self.nlp.path).encode("utf8"))
            self._fingerprint = h.hexdigest()
        return self._fingerprint

    def cache(self, cache_dir: Optional[Path]) -> Optional[ShardCache]:
        """The shard cache for this teacher under `cache_dir`, or None."""
        if cache_dir is None:
            return None
        return ShardCache(Path(cache_dir), self.fingerprint, self.info)

    def keep(self, label: str) -> bool:
        """Whether rehearsal and fill may use teacher entities of `label`."""
        return self.labels is None or label in self.labels

    def spans(self, doc: Doc) -> List[Tuple[int, int, str]]:
        """The teacher entities of an annotated doc that pass `labels`, as token offsets."""
        return [(e.start, e.end, e.label_) for e in doc.ents if self.keep(e.label_)]

    def silver_doc(self, doc: Doc, vocab: Vocab) -> Doc:
        """A reference doc in `vocab` with the teacher entities that pass `labels`, O elsewhere."""
        ref = Doc(vocab, words=[t.text for t in doc], spaces=[bool(t.whitespace_) for t in doc])
        ref.set_ents([Span(ref, s, e, label=label) for s, e, label in self.spans(doc)], default="outside")
        return ref

    def rehearsal_stream(
        self, raw_path: Path, *, cache_dir: Optional[Path], vocab: Vocab, max_length: int = 0, skip: int = 0
    ) -> Iterator[Doc]:
        """Teacher-annotated raw texts, endlessly: file order, starting again when used up.

        The first `skip` texts of every pass are left out (held out by the
        callback), and so are texts longer than `max_length` tokens (if > 0).
        Each pass after the first is served from the cache when `cache_dir` is set.
        """
        while True:
            n_used = n_long = 0
            raw = iter_raw_texts(raw_path)
            docs = self.annotate(raw, cache_dir=cache_dir, vocab=vocab, desc="raw texts")
            for doc in islice(docs, skip, None):
                if max_length and len(doc) > max_length:
                    n_long += 1
                    continue
                n_used += 1
                yield doc
            if n_used == 0:
                raise InputError(
                    str(raw_path),
                    f"raw text holds no texts to rehearse: {n_long} longer than max_length, "
                    f"and the first {skip} are held out",
                )
            logger.info(
                "Rehearsal text %s used up after %d texts (%d longer than max_length left out): starting again",
                raw_path, n_used, n_long,
            )

    def make_doc(self, item: RawText) -> Doc:
        """The teacher's Doc for an input: its given tokenization, or the teacher's."""
        return doc_from_record(self.nlp.vocab, item, self.nlp.make_doc)

    def annotate(
        self,
        items: Iterable[RawText],
        *,
        cache_dir: Optional[Path] = None,
        vocab: Optional[Vocab] = None,
        desc: str = "texts",
    ) -> Iterator[Doc]:
        """Annotate texts with the whole pipeline, lazily and in order.

        Texts are grouped into shards of SHARD_SIZE, counted from the start of
        `items`. A shard found in the cache is loaded; the others go through
        one `nlp.pipe` stream (so worker processes start once per run of
        shards to annotate), and each is stored as soon as it is complete,
        before any of its docs is yielded. Only as many items are read as the
        caller consumes, plus at most one shard and the pipe's batches
        (`batch_size`, times 2 * `n_process` with several processes).

        Whether a shard comes from the cache or from the pipe, its docs are
        read back from the same serialized form, so a run gives the same docs
        whatever the cache held and whatever `n_process` is.

        items (Iterable[RawText]): The texts.
        cache_dir (Optional[Path]): Where shards are stored, or None.
        vocab (Optional[Vocab]): Vocab of the returned docs (default: the teacher's).
        desc (str): What the texts are, for progress messages.
        YIELDS (Doc): Docs with the teacher's tokenization and all its entities.
        """
        cache = self.cache(cache_dir)
        vocab = vocab if vocab is not None else self.nlp.vocab
        progress = _Progress(desc)
        shard_size = SHARD_SIZE
        chunks = iter(lambda it=iter(items): list(islice(it, shard_size)), [])
        # Shards read but not yet yielded: (size, key, cached docs or None),
        # in input order; and the texts of the uncached ones not yet sent to
        # the pipe. Both the consumer loop below and the pipe's input
        # generator `feed` read new shards through `plan`.
        planned: Deque[Tuple[int, str, Optional[List[Doc]]]] = deque()
        to_feed: Deque[RawText] = deque()
        stopping = False

        def plan() -> Optional[bool]:
            """Read the next shard: True if it needs annotating, False if cached, None at the end."""
            chunk = next(chunks, None)
            if chunk is None:
                return None
            key = shard_key(chunk)
            cached = cache.load(key, len(chunk), vocab) if cache is not None else None
            planned.append((len(chunk), key, cached))
            if cached is None:
                to_feed.extend(chunk)
            return cached is None

        def feed() -> Iterator[Union[str, Doc]]:
            # The pipe reads ahead to fill its batches. When the texts queued
            # so far are used up, it may read the next shard; if that one is
            # cached (or there is none) the stream ends, so the pipe flushes
            # its last batch instead of reading on through cached shards.
            # The next shard to annotate then starts a new stream.
            while not stopping and (to_feed or plan()):
                while to_feed and not stopping:
                    item = to_feed.popleft()
                    # Plain text goes to the pipe as is: with n_process > 1 the
                    # workers tokenize it, instead of the main process.
                    yield item.text if item.words is None else self.make_doc(item)

        annotated: Optional[Iterator[Doc]] = None

        def stop() -> None:
            # Stopped early (the caller took what it needed, or an error): with
            # worker processes, the batches in flight are finished first.
            # Closing spaCy's multiprocessing stream while a worker still has
            # results to send can leave that worker blocked on a full pipe and
            # the join in `nlp.pipe` waiting for it forever.
            nonlocal stopping, annotated
            stopping = True
            _close(annotated, drain=self.n_process > 1)
            annotated = None

        # A stream still open at exit (an endless rehearsal stream) keeps idle
        # worker processes that the interpreter would wait for: stop it first.
        token = _stop_at_exit(stop) if self.n_process > 1 else None
        try:
            while planned or plan() is not None:
                n, key, cached = planned.popleft()
                if cached is not None:
                    progress.update(n, cached=True)
                    yield from cached
                    continue
                docs = list(islice(annotated, n)) if annotated is not None else []
                if not docs:  # no stream yet, or the last one ended before this shard
                    _close(annotated)
                    annotated = iter(self.nlp.pipe(feed(), batch_size=self.batch_size, n_process=self.n_process))
                    docs = list(islice(annotated, n))
                if len(docs) != n:
                    raise RuntimeError(f"Teacher '{self.name}' returned {len(docs)} docs for a shard of {n} texts")
                data = docs_to_bytes(docs)
                del docs
                if cache is not None:
                    cache.save(key, data, n)
                progress.update(n, cached=False)
                yield from DocBin().from_bytes(data).get_docs(vocab)
        finally:
            stop()
            _AT_EXIT.pop(token, None)
            progress.done()


# Stop functions of the open multi-process teacher streams, run at exit.
_AT_EXIT: Dict[Optional[int], Callable[[], None]] = {}
_at_exit_registered = False


def _stop_at_exit(stop: Callable[[], None]) -> int:
    """Run `stop` at interpreter exit (before multiprocessing joins its children)."""
    global _at_exit_registered
    if not _at_exit_registered:
        # atexit runs last-registered first: this runs before the handler that
        # `multiprocessing` registered when it was imported.
        import multiprocessing.util  # noqa: F401

        atexit.register(_stop_open_streams)
        _at_exit_registered = True
    token = id(stop)
    _AT_EXIT[token] = stop
    return token


def _stop_open_streams() -> None:
    for stop in list(_AT_EXIT.values()):
        try:
            stop()
        except Exception:  # at exit: never keep the interpreter from ending
            pass
    _AT_EXIT.clear()


def _close(stream: Optional[Iterator[Doc]], drain: bool = False) -> None:
    """Stop a `nlp.pipe` stream (and its worker processes).

    drain (bool): Consume what the stream still yields first: its input must
        end soon, as `feed` does once `stopping` is set.
    """
    if stream is None:
        return
    if drain:
        try:
            for _ in stream:
                pass
        except Exception as e:  # we are stopping anyway; the error was the worker's
            logger.debug("Teacher stream failed while stopping: %s", e)
    if hasattr(stream, "close"):
        stream.close()


class _Progress:
    """Progress messages for long teacher passes, one line per shard."""

    def __init__(self, desc: str):
        self.desc = desc
        self.start = time.perf_counter()
        self.n_annotated = 0
        self.n_cached = 0

    def update(self, n: int, cached: bool) -> None:
        if cached:
            self.n_cached += n
        else:
            self.n_annotated += n
            elapsed = time.perf_counter() - self.start
            logger.info(
                "Teacher annotated %d %s (%.0f/s), %d from cache",
                self.n_annotated, self.desc, self.n_annotated / max(elapsed, 1e-9), self.n_cached,
            )

    def done(self) -> None:
        if self.n_annotated or self.n_cached:
            logger.debug(
                "Teacher pass over %s: %d annotated, %d from cache, %.1fs",
                self.desc, self.n_annotated, self.n_cached, time.perf_counter() - self.start,
            )
