"""`rehearsal_fill.v1`: teacher-fill as a corpus augmenter, for users who keep `spacy.Corpus.v1`.

The augmenter rewrites each example's reference entities with the same merge
policy as `rehearsal_reader.v1` (gold spans and covered labels authoritative,
teacher entities elsewhere). An augmenter sees one example at a time, so the
corpus it is attached to is read once, before the first example: that pass
gives the labels the annotations cover and runs the teacher over all texts in
batches (and through the cache). Each example is then a lookup.
"""
from collections import Counter
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Optional, Set

from spacy.language import Language
from spacy.training import Example

from .. import messages
from ..data.formats import RawText, iter_records_as_raw, list_files, read_annotations
from ..data.merge import Fill, TokenSpan, merge_entities
from ..data.textfiles import describe_skips
from ..errors import SettingError
from ..teacher.cache import shard_key
from ..teacher.teacher import Teacher

NAME = "rehearsal_fill.v1"


# Registered as "rehearsal_fill.v1" in the "spacy_augmenters" entry point group.
def create_rehearsal_fill(
    teacher: str,
    path: Path,
    fill: Fill = "teacher",
    teacher_labels: Optional[List[str]] = None,
    annotated_labels: Optional[List[str]] = None,
    cache_dir: Optional[Path] = None,
    batch_size: int = 256,
    n_process: int = 1,
) -> Callable[[Language, Example], Iterator[Example]]:
    """Create an augmenter for `[corpora.train.augmenter]` that fills unlabelled tokens from the teacher.

    teacher (str): The original pipeline (package name or path).
    path (Path): The .spacy corpus this augmenter is attached to (the same
        path as the corpus, e.g. ${paths.train}). It is read once before the
        first example, to run the teacher over all its texts in batches and,
        unless `annotated_labels` is given, to find the labels it covers.
    fill (str): "teacher", "missing" or "outside", as in rehearsal_reader.v1.
    teacher_labels (Optional[List[str]]): Teacher labels fill may use (None: all).
    annotated_labels (Optional[List[str]]): The labels the annotations cover
        (gold is authoritative for them). None: every label in the corpus.
    cache_dir (Optional[Path]): Directory for cached teacher annotations.
    batch_size (int): Batch size of the teacher pass.
    n_process (int): Processes for the teacher pass.
    RETURNS (Callable[[Language, Example], Iterator[Example]]): The augmenter.
    """
    if batch_size < 1 or n_process < 1:
        raise SettingError(f"{NAME}: batch_size and n_process must be >= 1, got {batch_size}, {n_process}")
    list_files(path, (".spacy",), "corpus")
    # Read now, so that an unreadable corpus fails when the config is resolved.
    records, stats = read_annotations(path)
    teacher_ = Teacher(teacher, teacher_labels, batch_size=batch_size, n_process=n_process)
    teacher_.cache(cache_dir)  # a file or a read-only directory fails now, not mid-training
    skipped: Counter = Counter()
    for file_stats in stats:
        skipped.update(file_stats.skipped)
    line = f"{NAME} {path}: {len(records)} examples, {sum(s.spans for s in stats)} spans read"
    messages.info(line + (f"; skipped {describe_skips(skipped)}" if skipped else ""), once=True)
    return RehearsalFill(
        teacher_,
        path,
        fill=fill,
        annotated_labels=annotated_labels,
        cache_dir=cache_dir,
    )


class RehearsalFill:
    """The callable a `rehearsal_fill.v1` block resolves to: `(nlp, example) -> Iterator[Example]`."""

    def __init__(
        self,
        teacher: Teacher,
        path: Path,
        *,
        fill: str,
        annotated_labels: Optional[List[str]],
        cache_dir: Optional[Path],
    ):
        self.teacher = teacher
        self.path = path
        self.fill = fill
        self.cache_dir = cache_dir
        self.covered_labels: Optional[Set[str]] = set(annotated_labels) if annotated_labels is not None else None
        self._teacher_spans: Optional[Dict[str, List[TokenSpan]]] = None
        self.n_unseen = 0

    def __call__(self, nlp: Language, example: Example) -> Iterator[Example]:
        if self._teacher_spans is None:
            self._prepare()
        ref = example.reference
        gold = [(e.start, e.end, e.label_) for e in ref.ents]
        missing = [t.i for t in ref if t.ent_iob == 0]
        teacher_spans: List[TokenSpan] = []
        if self.fill == "teacher":
            words, spaces = [t.text for t in ref], [bool(t.whitespace_) for t in ref]
            key = shard_key([RawText("", ref.text, words, spaces)])
            if key not in self._teacher_spans:  # type: ignore[operator]
                self.n_unseen += 1
                if self.n_unseen == 1:
                    messages.warn(f"{NAME}: an example not in {self.path}: annotating it on its own (slow)")
                self._teacher_spans[key] = self._annotate_one(words, spaces)  # type: ignore[index]
            teacher_spans = self._teacher_spans[key]  # type: ignore[index]
        new_ref = ref.copy()
        merge_entities(new_ref, gold, teacher_spans, fill=self.fill, covered_labels=self.covered_labels or (), missing=missing)
        yield Example(example.predicted, new_ref)

    def _annotate_one(self, words: List[str], spaces: List[bool]) -> List[TokenSpan]:
        doc = next(self.teacher.annotate([RawText("", "".join(w + " " * s for w, s in zip(words, spaces)), words, spaces)]))
        return self.teacher.spans(doc)

    def _prepare(self) -> None:
        """The first pass: covered labels and batched teacher annotations of the corpus."""
        records, _ = read_annotations(self.path)
        if self.covered_labels is None:
            self.covered_labels = {label for r in records for _, _, label in r.spans}
        self._teacher_spans = {}
        if self.fill == "teacher":
            items = list(iter_records_as_raw(records))
            for item, doc in zip(items, self.teacher.annotate(items, cache_dir=self.cache_dir, desc="corpus examples")):
                self._teacher_spans[shard_key([item])] = self.teacher.spans(doc)
        messages.detail(
            f"{NAME}: {len(records)} examples in {self.path}, covered labels {sorted(self.covered_labels)}, fill={self.fill}"
        )
