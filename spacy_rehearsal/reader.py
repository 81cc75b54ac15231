"""`rehearsal_reader.v1`: new annotations mixed with pseudo-rehearsal examples."""
import random
from collections import Counter
from itertools import islice
from pathlib import Path
from typing import Callable, Iterable, Iterator, List, Literal, Optional, Set, Tuple

from spacy.language import Language
from spacy.tokens import Doc
from spacy.training import Example

from . import messages
from .errors import InputError, SettingError
from .formats import Record, check_raw_path, iter_records_as_raw, read_annotations
from .merge import Fill, TokenSpan, gold_token_spans, merge_entities
from .rawtext import too_long_reason
from .teacher import Teacher
from .textfiles import FileStats, describe_skips

NAME = "rehearsal_reader.v1"
MISALIGNED_HINT = ', or set misaligned_spans = "skip" to skip such examples'

Misaligned = Literal["error", "skip"]


# Registered as "rehearsal_reader.v1" in the "spacy_readers" entry point group.
def create_rehearsal_reader(
    path: Path,
    teacher: str,
    raw_path: Optional[Path] = None,
    rehearsal_ratio: float = 1.0,
    fill: Fill = "teacher",
    teacher_labels: Optional[List[str]] = None,
    max_length: int = 0,
    limit: int = 0,
    shuffle: bool = True,
    seed: int = 0,
    cache_dir: Optional[Path] = None,
    n_process: int = 1,
    batch_size: int = 256,
    misaligned_spans: Misaligned = "error",
) -> Callable[[Language], Iterable[Example]]:
    """Create a corpus reader that mixes new annotations with rehearsal examples.

    Everything that can be checked without the trained pipeline is checked
    here, when `spacy train` resolves the config: the annotation files are read
    and validated, the teacher is loaded, the raw text is opened and the cache
    directory is tried. What was read and skipped is printed as one line.

    path (Path): New annotations: .jsonl (Prodigy or spaCy format), .spacy, or a directory.
    teacher (str): The original pipeline (package name or path). Its whole
        pipeline annotates the texts; it is loaded once, separately from the
        pipeline being trained.
    raw_path (Optional[Path]): Unlabelled text for pseudo-rehearsal (.txt, .jsonl,
        .spacy or a directory). None: no rehearsal examples.
    rehearsal_ratio (float): Rehearsal examples per new example, per call.
    fill (str): What tokens the new annotations leave unlabelled are told:
        "teacher", "missing" or "outside".
    teacher_labels (Optional[List[str]]): Teacher labels rehearsal and fill may
        use. None: all. Teacher entities of other labels are O.
    max_length (int): Skip examples longer than this many tokens (the
        teacher's tokenization; == max_length is kept). 0: no limit. Texts
        longer than the teacher's `nlp.max_length` characters, which spaCy
        cannot tokenize, are always skipped, in the annotations and in the raw
        text. All skips are counted in the printed line.
    limit (int): Use only the first N usable new examples, counted over all
        files (after skips). 0: all.
    shuffle (bool): Shuffle the examples of each call.
    seed (int): Seed for shuffling.
    cache_dir (Optional[Path]): Directory for cached teacher annotations.
    n_process (int): Processes for the teacher pass.
    batch_size (int): Batch size for the teacher pass.
    misaligned_spans (str): "error" (default) raises on a span that does not fall
        on token boundaries; "skip" skips its example, counted in the log.
    RETURNS (Callable[[Language], Iterable[Example]]): The corpus.
    """
    if rehearsal_ratio < 0:
        raise SettingError(f"{NAME}: rehearsal_ratio must be >= 0, got {rehearsal_ratio}")
    for name, value in (("max_length", max_length), ("limit", limit)):
        if value < 0:
            raise SettingError(f"{NAME}: {name} must be >= 0 (0 means no {name}), got {value}")
    if n_process < 1 or batch_size < 1:
        raise SettingError(f"{NAME}: n_process and batch_size must be >= 1, got {n_process} and {batch_size}")
    if raw_path is not None:
        check_raw_path(raw_path)
    elif rehearsal_ratio > 0:
        messages.detail(f"{NAME} {path}: no raw_path, so no rehearsal examples")
    records, stats = read_annotations(path)
    teacher_ = Teacher(teacher, teacher_labels, batch_size=batch_size, n_process=n_process)
    teacher_.cache(cache_dir)  # a file or a read-only directory fails now, not mid-training
    # Tokenize with the teacher's tokenizer now, not on the first call: spaCy
    # calls the dev reader only at the first evaluation, mid-training.
    examples = _align_records(records, stats, teacher_, max_length, misaligned_spans)
    n_read = len(examples)
    if limit and len(examples) > limit:
        examples = examples[:limit]
    if not examples:
        raise InputError(str(path), f"no usable annotated examples ({_summary(stats, n_read, limit)})")
    n_rehearsal = round(rehearsal_ratio * len(examples)) if raw_path is not None else 0
    _show_counts(path, stats, n_read, limit, n_rehearsal, raw_path)
    return RehearsalCorpus(
        examples,
        teacher_,
        raw_path=raw_path,
        rehearsal_ratio=rehearsal_ratio if raw_path is not None else 0.0,
        fill=fill,
        max_length=max_length,
        shuffle=shuffle,
        seed=seed,
        cache_dir=cache_dir,
    )


def _align_records(
    records: List[Record], stats: List[FileStats], teacher: Teacher, max_length: int, misaligned_spans: str
) -> List[Tuple[Record, List[TokenSpan]]]:
    """Records with their gold spans as token offsets in the teacher's tokenization.

    Examples longer than the teacher's `nlp.max_length` characters or
    `max_length` tokens are skipped; an example with a span off token
    boundaries raises InputError, or is skipped with misaligned_spans="skip".
    Skips are counted in the stats of their file.
    """
    out: List[Tuple[Record, List[TokenSpan]]] = []
    todo = iter(records)
    too_long = too_long_reason(teacher.max_chars)
    for file_stats in stats:  # records come file by file, `examples` of each
        for record in islice(todo, file_stats.examples):
            gold: Optional[List[TokenSpan]] = None
            if len(record.text) > teacher.max_chars:
                why = too_long
            else:
                doc = teacher.make_doc(record)
                if max_length and len(doc) > max_length:
                    why = "longer than max_length"
                else:
                    skip = misaligned_spans == "skip"
                    gold = gold_token_spans(record, doc, skip=skip, hint=MISALIGNED_HINT)
                    why = "misaligned spans" if gold is None else ""
            if gold is None:
                file_stats.examples -= 1
                file_stats.spans -= len(record.spans)
                file_stats.skip(why, record.source)
                continue
            out.append((record, gold))
    return out


def _summary(stats: List[FileStats], n_read: int, limit: int) -> str:
    """"1230 examples, 527 spans read; skipped 3 answer=reject; limit 100"."""
    skipped: Counter = Counter()
    for file_stats in stats:
        skipped.update(file_stats.skipped)
    text = f"{n_read} examples, {sum(s.spans for s in stats)} spans read"
    if skipped:
        text += f"; skipped {describe_skips(skipped)}"
    if limit and n_read > limit:
        text += f"; limit = {limit}: using the first {limit}"
    return text


def _show_counts(
    path: Path, stats: List[FileStats], n_read: int, limit: int, n_rehearsal: int, raw_path: Optional[Path]
) -> None:
    """One line for the corpus in `spacy train`'s output; per-file detail under --verbose."""
    line = f"{NAME} {path}: {_summary(stats, n_read, limit)}"
    if raw_path is not None:
        line += f"; {n_rehearsal} rehearsal texts drawn a call from {raw_path}"
    messages.info(line, once=True)
    for file_stats in stats:
        if len(stats) > 1:
            messages.detail(f"  {file_stats.describe()}", once=True)
        for why, where in sorted(file_stats.first_skip.items()):
            messages.detail(f"  {why}: first at {where}", once=True)


class RehearsalCorpus:
    """The callable a `rehearsal_reader.v1` block resolves to.

    The new examples are built once (teacher pass included) and kept. Each call
    then draws the next `round(rehearsal_ratio * n_new)` raw texts from the
    rehearsal stream, which continues where the previous call stopped and
    starts again from the top when the raw text runs out.
    """

    def __init__(
        self,
        examples: List[Tuple[Record, List[TokenSpan]]],
        teacher: Teacher,
        *,
        raw_path: Optional[Path],
        rehearsal_ratio: float,
        fill: str,
        max_length: int,
        shuffle: bool,
        seed: int,
        cache_dir: Optional[Path],
    ):
        self.examples = examples
        self.teacher = teacher
        self.raw_path = raw_path
        self.rehearsal_ratio = rehearsal_ratio
        self.fill = fill
        self.max_length = max_length
        self.shuffle = shuffle
        self.cache_dir = cache_dir
        self.covered_labels: Set[str] = {label for r, _ in examples for _, _, label in r.spans}
        self.n_drawn = 0
        self._rng = random.Random(seed)
        self._new: Optional[List[Doc]] = None
        self._raw: Optional[Iterator[Doc]] = None
        self._vocab = None

    def __call__(self, nlp: Language) -> Iterator[Example]:
        if self._vocab is not nlp.vocab:
            self._vocab = nlp.vocab
            self._new = self._build_new(nlp)
            self._raw = None
        refs: List[Doc] = list(self._new or [])
        n_rehearsal = round(self.rehearsal_ratio * len(refs))
        if n_rehearsal:
            refs.extend(self._draw_rehearsal(nlp, n_rehearsal))
        if self.shuffle:
            self._rng.shuffle(refs)
        for ref in refs:
            yield Example(nlp.make_doc(ref.text), ref)

    def _build_new(self, nlp: Language) -> List[Doc]:
        """Reference docs for the new examples, with `fill` applied.

        The examples were tokenized with the teacher's tokenizer and checked
        when the reader was created; the teacher pass keeps that tokenization.
        """
        raw = iter_records_as_raw(record for record, _ in self.examples)
        if self.fill == "teacher":
            docs = self.teacher.annotate(raw, cache_dir=self.cache_dir, vocab=nlp.vocab, desc="new examples")
        else:  # the teacher's tokenizer alone
            docs = (self.teacher.make_doc(item) for item in raw)
        out: List[Doc] = []
        n_teacher = 0
        for (record, gold), doc in zip(self.examples, docs):
            teacher_spans = self.teacher.spans(doc) if self.fill == "teacher" else []
            ref = Doc(nlp.vocab, words=[t.text for t in doc], spaces=[bool(t.whitespace_) for t in doc])
            merge_entities(
                ref, gold, teacher_spans, fill=self.fill, covered_labels=self.covered_labels, missing=record.missing
            )
            n_teacher += len(ref.ents) - len(gold)
            out.append(ref)
        messages.detail(
            f"{NAME}: {len(out)} new examples (labels {sorted(self.covered_labels)}), "
            f"fill={self.fill} added {n_teacher} teacher entities"
        )
        return out

    def _draw_rehearsal(self, nlp: Language, n: int) -> List[Doc]:
        if self._raw is None:
            self._raw = self.teacher.rehearsal_stream(
                self.raw_path, cache_dir=self.cache_dir, vocab=nlp.vocab, max_length=self.max_length, owner=NAME
            )
        drawn = [self.teacher.silver_doc(doc, nlp.vocab) for doc in islice(self._raw, n)]
        self.n_drawn += len(drawn)
        messages.detail(f"{NAME}: drew {len(drawn)} rehearsal texts from {self.raw_path} ({self.n_drawn} in all)")
        return drawn
