"""The teacher: the original pipeline, run whole over text, with a shard cache.

One `Teacher` serves the reader, the fill augmenter, the callback and the
`spacy rehearsal` commands. It runs the teacher's *whole* pipeline (the
parser's sentence boundaries constrain its NER, so running the NER alone gives
other entities), keeps only the tokenization and the entities, and streams the
result shard by shard: only as much text is annotated as is consumed, and with
a cache directory every finished shard is stored and reused.
"""
import hashlib
import json
import logging
import time
from collections import deque
from itertools import islice
from pathlib import Path
from typing import Deque, Dict, Iterable, Iterator, List, Optional, Sequence, Set, Tuple, Union

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
        self, raw_path: Path, *, cache_dir: Optional[Path], vocab: Vocab, max_length: int = 0
    ) -> Iterator[Doc]:
        """Teacher-annotated raw texts, endlessly: file order, starting again when used up.

        Texts longer than `max_length` tokens (if > 0) are left out. Each pass
        after the first is served from the cache when `cache_dir` is set.
        """
        while True:
            n_used = n_long = 0
            raw = iter_raw_texts(raw_path)
            for doc in self.annotate(raw, cache_dir=cache_dir, vocab=vocab, desc="raw texts"):
                if max_length and len(doc) > max_length:
                    n_long += 1
                    continue
                n_used += 1
                yield doc
            if n_used == 0:
                raise InputError(str(raw_path), f"raw text holds no texts within max_length ({n_long} longer)")
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

        Texts are grouped into shards of SHARD_SIZE. A shard found in the
        cache is loaded; the others go through one `nlp.pipe` stream (so worker
        processes start once), and each is stored as soon as it is complete.
        Only as many items are read and annotated as the caller consumes.

        items (Iterable[RawText]): The texts.
        cache_dir (Optional[Path]): Where shards are stored, or None.
        vocab (Optional[Vocab]): Vocab of the returned docs (default: the teacher's).
        desc (str): What the texts are, for progress messages.
        YIELDS (Doc): Docs with the teacher's tokenization and all its entities.
        """
        cache = self.cache(cache_dir)
        vocab = vocab if vocab is not None else self.nlp.vocab
        progress = _Progress(desc)
        chunks = iter(lambda it=iter(items): list(islice(it, SHARD_SIZE)), [])
        # Shards planned but not yet yielded, and the items still to send to
        # the pipe. Both the consumer loop and the pipe's input generator pull
        # from `chunks`; `plan` keeps the two queues in the order of the input.
        planned: Deque[Tuple[List[RawText], str, Optional[List[Doc]]]] = deque()
        to_feed: Deque[RawText] = deque()

        def plan() -> bool:
            chunk = next(chunks, None)
            if chunk is None:
                return False
            key = shard_key(chunk)
            cached = cache.load(key, len(chunk), vocab) if cache is not None else None
            planned.append((chunk, key, cached))
            if cached is None:
                to_feed.extend(chunk)
            return True

        def feed() -> Iterator[Doc]:
            while to_feed or plan():
                while to_feed:
                    yield self.make_doc(to_feed.popleft())

        annotated: Optional[Iterator[Doc]] = None
        try:
            while planned or plan():
                chunk, key, cached = planned.popleft()
                if cached is not None:
                    progress.update(len(chunk), cached=True)
                    yield from cached
                    continue
                if annotated is None:
                    annotated = iter(self.nlp.pipe(feed(), batch_size=self.batch_size, n_process=self.n_process))
                docs = list(islice(annotated, len(chunk)))
                data = docs_to_bytes(docs)
                if cache is not None:
                    cache.save(key, data, len(docs))
                progress.update(len(chunk), cached=False)
                yield from DocBin().from_bytes(data).get_docs(vocab)
        finally:
            if annotated is not None and hasattr(annotated, "close"):
                annotated.close()
            progress.done()


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
