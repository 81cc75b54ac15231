"""The teacher: the original pipeline, run whole over text, with a shard cache.

One `Teacher` serves the reader, the fill augmenter, the callback and the
`spacy rehearsal` commands. It runs the teacher's *whole* pipeline (the
parser's sentence boundaries constrain its NER, so running the NER alone gives
other entities), keeps only the tokenization and the entities, and streams the
result shard by shard (`teacher_pass.py`): only as much text is annotated as
is consumed, and with a cache directory every finished shard is stored and
reused.
"""
import hashlib
import json
from collections import Counter
from itertools import islice
from pathlib import Path
from typing import Callable, Dict, Iterable, Iterator, List, Optional, Sequence, Set, Tuple, Union

import spacy
from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.vocab import Vocab

from .. import messages
from ..data.formats import Record, doc_from_record
from ..data.rawtext import RawText, iter_raw_texts
from ..data.textfiles import FileStats, describe_skips
from ..errors import InputError, TeacherError
from .cache import ShardCache
from .pipeline_path import why_not_loaded
from .teacher_pass import annotate_in_shards

SHARD_SIZE = 1000
# How a raw text that is one of the annotated texts is counted when rehearsal skips it
ANNOTATED_SKIP = "annotated texts (trained from your annotations)"
# What to do when every raw text is one of the annotated texts (a user who annotated their whole corpus):
# stop, as training on would lose what raw text keeps (docs/reference.md: your own raw text), and say how
NO_RAW_LEFT = (
    ". Raw text must hold texts you did not annotate: give them with --paths.raw FILE (more of your own corpus, "
    "or text like the base's training data, e.g. news for en_core_web_*), or with --strategy component train "
    "without raw text, --paths.raw null, at the cost it warns of"
)
ENTITY_FACTORIES = ("ner", "beam_ner", "entity_ruler", "span_ruler")

_LOADED: Dict[str, Language] = {}


__all__ = ["Teacher", "TeacherError", "load_pipeline"]


def load_pipeline(name: Union[str, Path], role: str = "teacher") -> Language:
    """Load a pipeline by package name or path, once per process.

    role (str): What the pipeline is to the user, for errors ("teacher", "updated").
    """
    key = str(name)
    if key not in _LOADED:
        try:
            _LOADED[key] = spacy.load(name)
        except OSError as e:
            reason = why_not_loaded(name, " ".join(str(e).split()))
            raise TeacherError(f"Cannot load {role} pipeline '{name}': {reason}") from None
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
    role (str): What the pipeline is to the user, for errors: "teacher", or
        "base"/"updated" in `spacy rehearsal evaluate`.
    labels_option (str): The setting that gave `labels`, for errors.
    """

    def __init__(
        self,
        name: Union[str, Path],
        labels: Optional[Sequence[str]] = None,
        *,
        batch_size: int = 256,
        n_process: int = 1,
        role: str = "teacher",
        labels_option: str = "teacher_labels",
    ):
        self.name = str(name)
        self.role = role
        self.nlp = load_pipeline(name, role)
        self.batch_size = batch_size
        self.n_process = n_process
        entity_pipes = [n for n in self.nlp.pipe_names if self.nlp.get_pipe_meta(n).factory in ENTITY_FACTORIES]
        if not entity_pipes:
            raise TeacherError(
                f"{role.capitalize()} pipeline '{self.name}' has no 'ner' component, so it has no entities "
                f"to {'rehearse' if role == 'teacher' else 'compare'} (pipeline: {self.nlp.pipe_names})."
            )
        self.all_labels: Set[str] = set()
        for pipe_name in entity_pipes:
            self.all_labels.update(getattr(self.nlp.get_pipe(pipe_name), "labels", ()))
        if labels is not None:
            unknown = sorted(set(labels) - self.all_labels)
            if unknown:
                raise TeacherError(
                    f"{labels_option} {unknown} are not predicted by {role} '{self.name}' "
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

    @property
    def max_chars(self) -> int:
        """The longest text the pipeline takes, in characters (`nlp.max_length`)."""
        return int(self.nlp.max_length)

    def cache(self, cache_dir: Optional[Path], what: str = "cache_dir") -> Optional[ShardCache]:
        """The shard cache for this teacher under `cache_dir`, or None.

        what (str): What the user calls the directory, for errors.
        RAISES (InputError): The directory is a file or cannot be written.
        """
        if cache_dir is None:
            return None
        return ShardCache(Path(cache_dir), self.fingerprint, self.info, what)

    def raw_texts(
        self, raw_path: Path, stats: Optional[Dict[Path, FileStats]] = None, owner: str = "rehearsal"
    ) -> Iterator[RawText]:
        """Raw text as training reads it: bad lines and texts over `max_chars` skipped and counted.

        Each skipped text is shown once as a warning naming its file and line.
        owner (str): The registered function reading it, for the warning.
        """

        def warn(where: str, problem: str) -> None:
            messages.warn(f"{owner}: {where}: skipped, {problem}", once=True)

        return iter_raw_texts(raw_path, stats, on_error="skip", max_chars=self.max_chars, on_skip=warn)

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
        self,
        raw_path: Path,
        *,
        cache_dir: Optional[Path],
        vocab: Vocab,
        max_length: int = 0,
        skip: int = 0,
        owner: str = "rehearsal",
        exclude: Optional[Callable[[Doc], bool]] = None,
        quiet: Optional[Callable[[], bool]] = None,
    ) -> Iterator[Doc]:
        """Teacher-annotated raw texts, endlessly: file order, starting again when used up.

        The first `skip` texts of every pass are left out (held out by the
        callback), and so are texts longer than `max_length` tokens (if > 0),
        texts for which `exclude` is true (your annotated texts, see `taught.py`),
        and bad lines and texts over `max_chars` (see `raw_texts`). When the
        text runs out for the 1st, 2nd, 4th, 8th, ... time, a line says how
        many texts a pass gives and what it skipped. Each pass after the first is served from the cache when
        `cache_dir` is set.
        owner (str): The registered function drawing the texts, for messages.
        quiet (Optional[Callable[[], bool]]): True while the wrap-around line is
            not to be printed (the reader: while spacy train initializes).
        """
        n_passes = 0
        while True:
            n_used = 0
            stats: Dict[Path, FileStats] = {}
            docs = self.annotate(self.raw_texts(raw_path, stats, owner), cache_dir=cache_dir, vocab=vocab, desc="raw texts")
            skipped: Counter[str] = Counter()
            for doc in islice(docs, skip, None):
                if max_length and len(doc) > max_length:
                    skipped["longer than max_length"] += 1
                    continue
                if exclude is not None and exclude(doc):
                    skipped[ANNOTATED_SKIP] += 1
                    continue
                n_used += 1
                yield doc
            for file_stats in stats.values():
                skipped.update({why: n for why, n in file_stats.skipped.items() if why != "blank lines"})
            if n_used == 0:
                why = [f"the first {skip} are held out"] if skip else []
                why += [f"skipped {describe_skips(skipped)}"] if skipped else []
                advice = NO_RAW_LEFT if skipped.get(ANNOTATED_SKIP) else ""
                raise InputError(str(raw_path), f"raw text holds no texts to rehearse: {'; '.join(why) or 'none read'}{advice}")
            n_passes += 1
            if n_passes & (n_passes - 1) == 0 and not (quiet and quiet()):  # 1, 2, 4, 8, ...: a small raw file wraps often
                left_out = f"; skipped {describe_skips(skipped)}" if skipped else ""
                messages.info(
                    f"{owner}: rehearsal text {raw_path} used up after {n_used} texts{left_out}: "
                    f"starting again from the top (wrap-around {n_passes})"
                )

    def make_doc(self, item: "RawText | Record") -> Doc:
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
        """Annotate texts with the whole pipeline, lazily and in order, through the shard cache.

        Texts are grouped into shards of SHARD_SIZE, counted from the start of
        `items`; see `teacher_pass.annotate_in_shards` for what is read when.
        Whether a shard comes from the cache or from the pipe, its docs are
        read back from the same serialized form, so a run gives the same docs
        whatever the cache held and whatever `n_process` is.

        items (Iterable[RawText]): The texts.
        cache_dir (Optional[Path]): Where shards are stored, or None.
        vocab (Optional[Vocab]): Vocab of the returned docs (default: the teacher's).
        desc (str): What the texts are, for progress messages.
        YIELDS (Doc): Docs with the teacher's tokenization and all its entities.
        """
        return annotate_in_shards(
            self.nlp,
            items,
            cache=self.cache(cache_dir),
            vocab=vocab if vocab is not None else self.nlp.vocab,
            shard_size=SHARD_SIZE,
            batch_size=self.batch_size,
            n_process=self.n_process,
            make_doc=self.make_doc,
            desc=desc,
            name=self.name,
        )
