"""One pass of the teacher over a stream of texts, shard by shard, through the cache.

`annotate_in_shards` is what `Teacher.annotate` runs: it reads texts lazily,
loads the shards the cache holds, sends the others through one `nlp.pipe`
stream, stores each shard before yielding its docs, and stops `nlp.pipe`'s
worker processes cleanly when the caller stops early or the interpreter exits.
"""
import atexit
import logging
import time
from collections import deque
from itertools import islice
from typing import Callable, Deque, Dict, Iterable, Iterator, List, Optional, Tuple, Union

from spacy.language import Language
from spacy.tokens import Doc, DocBin
from spacy.vocab import Vocab

from .. import messages
from ..data.rawtext import RawText
from .cache import ShardCache, docs_to_bytes, iter_shards

logger = logging.getLogger("spacy_rehearsal")


def annotate_in_shards(
    nlp: Language,
    items: Iterable[RawText],
    *,
    cache: Optional[ShardCache],
    vocab: Vocab,
    shard_size: int,
    batch_size: int,
    n_process: int,
    make_doc: Callable[[RawText], Doc],
    desc: str,
    name: str,
) -> Iterator[Doc]:
    """Annotate texts with the whole pipeline `nlp`, lazily and in order.

    Texts are grouped into shards of `shard_size`, counted from the start of
    `items`. A shard found in `cache` is loaded; the others go through one
    `nlp.pipe` stream (so worker processes start once per run of shards to
    annotate), and each is stored as soon as it is complete, before any of its
    docs is yielded. Only as many items are read as the caller consumes, plus
    at most one shard and the pipe's batches (`batch_size`, times
    2 * `n_process` with several processes).

    nlp (Language): The teacher pipeline.
    items (Iterable[RawText]): The texts.
    cache (Optional[ShardCache]): Where shards are stored, or None.
    vocab (Vocab): Vocab of the returned docs.
    shard_size (int): Texts per shard.
    batch_size (int): Batch size for `nlp.pipe`.
    n_process (int): Processes for `nlp.pipe`.
    make_doc (Callable[[RawText], Doc]): A Doc for a text with a given tokenization.
    desc (str): What the texts are, for progress messages.
    name (str): The teacher's name, for errors.
    YIELDS (Doc): Docs with the teacher's tokenization and all its entities.
    """
    progress = _Progress(desc)
    chunks = iter_shards(items, shard_size)
    # Shards read but not yet yielded: (size, key, cached docs or None),
    # in input order; and the texts of the uncached ones not yet sent to
    # the pipe. Both the consumer loop below and the pipe's input
    # generator `feed` read new shards through `plan`.
    planned: Deque[Tuple[int, str, Optional[List[Doc]]]] = deque()
    to_feed: Deque[RawText] = deque()
    stopping = False

    def plan() -> Optional[bool]:
        """Read the next shard: True if it needs annotating, False if cached, None at the end."""
        shard = next(chunks, None)
        if shard is None:
            return None
        key, chunk = shard
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
                yield item.text if item.words is None else make_doc(item)

    annotated: Optional[Iterator[Doc]] = None

    def stop() -> None:
        # Stopped early (the caller took what it needed, or an error): with
        # worker processes, the batches in flight are finished first.
        # Closing spaCy's multiprocessing stream while a worker still has
        # results to send can leave that worker blocked on a full pipe and
        # the join in `nlp.pipe` waiting for it forever.
        nonlocal stopping, annotated
        stopping = True
        _close(annotated, drain=n_process > 1)
        annotated = None

    # A stream still open at exit (an endless rehearsal stream) keeps idle
    # worker processes that the interpreter would wait for: stop it first.
    token = _stop_at_exit(stop) if n_process > 1 else None
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
                annotated = iter(nlp.pipe(feed(), batch_size=batch_size, n_process=n_process))
                docs = list(islice(annotated, n))
            if len(docs) != n:
                raise RuntimeError(f"Teacher '{name}' returned {len(docs)} docs for a shard of {n} texts")
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
            rate = self.n_annotated / max(elapsed, 1e-9)
            messages.detail(f"Teacher annotated {self.n_annotated} {self.desc} ({rate:.0f}/s), {self.n_cached} from cache")

    def done(self) -> None:
        if self.n_annotated or self.n_cached:
            logger.debug(
                "Teacher pass over %s: %d annotated, %d from cache, %.1fs",
                self.desc, self.n_annotated, self.n_cached, time.perf_counter() - self.start,
            )
