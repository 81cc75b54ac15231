"""`rehearsal_reader.v1`/`.v2`: new annotations mixed with pseudo-rehearsal examples.

The factories check everything they can when `spacy train` resolves the
config (files, teacher, raw text, cache) and print what was read; what they
return is `corpus.RehearsalCorpus`. v2 respects your annotations on raw text
(`respect_annotations`, see `taught.py`).
"""
from pathlib import Path
from typing import Callable, FrozenSet, Iterable, List, Literal, Optional, Sequence, Tuple

from spacy.language import Language
from spacy.training import Example

from .. import messages
from ..data.formats import Record, check_raw_path, iter_records_as_raw, read_annotations
from ..data.merge import Fill, TokenSpan
from ..data.taught import Taught, relabelled_shares
from ..errors import InputError, SettingError
from ..teacher.teacher import Teacher
from .corpus import NAME, RehearsalCorpus
from .examples import add_earlier, align_records, check_labels
from .read_summary import read_summary, show_counts

NAME_V2 = "rehearsal_reader.v2"

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
    respect_annotations: bool = False,
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
    respect_annotations (bool): Raw text never argues with the annotations
        (`taught.py`): raw texts that are annotated texts are skipped, and the
        teacher's entities of the annotated labels and raw spans repeating an
        annotated string are missing. v1: false; v2: true.
    RETURNS (Callable[[Language], Iterable[Example]]): The corpus.
    """
    return _create_reader(NAME, **locals())


# Registered as "rehearsal_reader.v2" in the "spacy_readers" entry point group.
def create_rehearsal_reader_v2(
    path: Optional[Path],
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
    respect_annotations: bool = True,
    labels: Optional[List[str]] = None,
    relabelled_share: float = 0.0,
    trusted_labels: List[str] = [],  # noqa: B006 (confection fills it from the config; never mutated)
    labels_per_file: bool = False,
    learned_labels: Optional[List[str]] = None,
    earlier_paths: List[Path] = [],  # noqa: B006 (as trusted_labels)
    earlier_ratio: Optional[float] = None,
) -> Callable[[Language], Iterable[Example]]:
    """`rehearsal_reader.v1` whose raw text never argues with your annotations (`respect_annotations = true`).

    path (Optional[Path]): As v1's; None (an unset `${paths.train}`) stops
        with one line saying so.
    labels (Optional[List[str]]): The labels the annotations must hold,
        exactly (init-config writes its `--labels` here): a label named that
        no usable example holds, or one held that is not named, stops at
        config resolve time with one line naming both sets. None: no check.
    relabelled_share (float): With raw text and `respect_annotations`: a
        teacher label at least this share of whose entities on your annotated
        texts overlap your spans is "relabelled" (the base's NORP where you
        annotated MISC): its raw-text entities are left missing, never O.
        0 (the default): off. The reader prints what it decided.
    trusted_labels (List[str]): Taught labels whose teacher entities on raw
        text stay targets: the teacher, an earlier round's pipeline, learned
        them from your earlier annotations (`docs/rounds.md`). []: none.
    labels_per_file (bool): With `fill = "teacher"`: each file's texts get the
        teacher's entities of the labels that file does not annotate (false:
        of the labels no file annotates).
    learned_labels (Optional[List[str]]): With `labels_per_file`: the labels
        the teacher learned from you (a later round's teacher is the last
        round's pipeline). A label another file annotates that is not one of
        these (a correction) is missing on a file's texts where the teacher
        finds it, never the teacher's uncorrected reading. None: all learned.
    earlier_paths (List[Path]): Earlier rounds' annotation files, read beside
        `path` (init-config writes those `meta["rehearsal"]` records that
        exist); a file also under `path`, and a text `path` holds again, are
        read once (`data/earlier_rounds.py`). `labels` checks `path` alone.
    earlier_ratio (Optional[float]): Earlier rounds' examples a call per
        example of `path`, the next ones each call (all are seen in turn).
        None: all of them every call.
    Every other argument is v1's (see `create_rehearsal_reader`); v2 turns
    `respect_annotations` on.
    """
    return _create_reader(NAME_V2, **locals())


def _create_reader(
    name: str,
    *,
    path: Optional[Path],
    teacher: str,
    raw_path: Optional[Path],
    rehearsal_ratio: float,
    fill: Fill,
    teacher_labels: Optional[List[str]],
    max_length: int,
    limit: int,
    shuffle: bool,
    seed: int,
    cache_dir: Optional[Path],
    n_process: int,
    batch_size: int,
    misaligned_spans: Misaligned,
    respect_annotations: bool,
    labels: Optional[List[str]] = None,
    relabelled_share: float = 0.0,
    trusted_labels: Sequence[str] = (),
    labels_per_file: bool = False,
    learned_labels: Optional[Sequence[str]] = None,
    earlier_paths: Sequence[Path] = (),
    earlier_ratio: Optional[float] = None,
) -> Callable[[Language], Iterable[Example]]:
    """The body of every version: `name` is the registered name, for messages."""
    if path is None:
        raise SettingError(f"{name}: path is not set: give the annotations, e.g. with --paths.train FILE (or --paths.dev FILE)")
    for setting, ratio in (("rehearsal_ratio", rehearsal_ratio), ("earlier_ratio", earlier_ratio or 0.0)):
        if ratio < 0:
            raise SettingError(f"{name}: {setting} must be >= 0, got {ratio}")
    for setting, value in (("max_length", max_length), ("limit", limit)):
        if value < 0:
            raise SettingError(f"{name}: {setting} must be >= 0 (0 means no {setting}), got {value}")
    if n_process < 1 or batch_size < 1:
        raise SettingError(f"{name}: n_process and batch_size must be >= 1, got {n_process} and {batch_size}")
    if raw_path is not None:
        check_raw_path(raw_path)
    elif rehearsal_ratio > 0:
        messages.detail(f"{name} {path}: no raw_path, so no rehearsal examples")
    records, stats = read_annotations(path)
    teacher_ = Teacher(teacher, teacher_labels, batch_size=batch_size, n_process=n_process)
    teacher_.cache(cache_dir)  # a file or a read-only directory fails now, not mid-training
    # Tokenize with the teacher's tokenizer now, not on the first call: spaCy
    # calls the dev reader only at the first evaluation, mid-training.
    examples = align_records(records, stats, teacher_, max_length, misaligned_spans)
    n_read = len(examples)
    if limit and len(examples) > limit:
        examples = examples[:limit]
    if not examples:
        raise InputError(str(path), f"no usable annotated examples ({read_summary(stats, n_read, limit)})")
    if labels is not None:
        check_labels(path, labels, examples, limit if n_read > limit else 0)
    n_own = len(examples)
    if earlier_paths:
        examples += add_earlier(name, earlier_paths, records, stats, teacher_, max_length, misaligned_spans)
    n_rehearsal = round(rehearsal_ratio * len(examples)) if raw_path is not None else 0
    show_counts(name, path, stats, n_read, limit, n_rehearsal, raw_path)
    taught = None
    if respect_annotations and n_rehearsal:
        taught = Taught.from_docs((teacher_.make_doc(record), gold) for record, gold in examples)
        if relabelled_share > 0:
            taught.relabelled = _relabelled(name, path, examples, teacher_, cache_dir, relabelled_share)
        taught.trusted = frozenset(trusted_labels)
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
        taught=taught,
        name=name,
        labels_per_file=labels_per_file,
        learned_labels=learned_labels,
        n_earlier=len(examples) - n_own,
        earlier_ratio=earlier_ratio,
    )


def _relabelled(
    name: str, path: Path, examples: List[Tuple[Record, List[TokenSpan]]], teacher: Teacher, cache_dir: Optional[Path],
    share: float,
) -> FrozenSet[str]:
    """The teacher labels your annotations mostly relabel (`relabelled_share`), measured and printed."""
    docs = teacher.annotate(iter_records_as_raw(record for record, _ in examples), cache_dir=cache_dir, desc="annotated texts")
    shares = relabelled_shares((doc, gold) for doc, (_, gold) in zip(docs, examples))
    chosen = sorted(label for label, (hit, total) in shares.items() if total and hit / total >= share)
    described = ", ".join(f"{label} ({hit} of {total})" for label, (hit, total) in sorted(
        shares.items(), key=lambda item: -item[1][0] / item[1][1]) if hit)
    what = f"its {', '.join(chosen)} entities in raw text are left missing, not taught O" if chosen else "none left missing"
    messages.info(f"{name} {path}: the base's entities that lie on your spans: {described or 'none'}; at least "
                  f"{share:.0%} relabelled: {what}", once=True)
    return frozenset(chosen)
