"""What a `rehearsal_reader.v1`/`.v2` block resolves to: `RehearsalCorpus`, called by `spacy train`.

The new examples are built on the first call (the teacher fills the old
types in, per `fill`); every call then adds the next teacher-annotated raw
texts, respecting the annotations where the reader says so (`taught.py`).
"""
import random
from itertools import islice
from pathlib import Path
from typing import Collection, Dict, Iterator, List, Optional, Set, Tuple

from spacy.language import Language
from spacy.tokens import Doc
from spacy.training import Example
from spacy.vocab import Vocab

from .. import messages
from ..data.formats import Record, iter_records_as_raw, source_file
from ..data.merge import TokenSpan, merge_entities
from ..data.taught import Taught, rehearsal_reference
from ..teacher.teacher import Teacher
from . import phase
from .steps import eval_frequency_hint

NAME = "rehearsal_reader.v1"


class RehearsalCorpus:
    """The callable a `rehearsal_reader.v1` block resolves to.

    The new examples are built once (teacher pass included) and kept. Each call
    then draws the next `round(rehearsal_ratio * n_new)` raw texts from the
    rehearsal stream, which continues where the previous call stopped and
    starts again from the top when the raw text runs out.

    `spacy train` calls the train reader for `nlp.initialize` before it trains:
    lines about the raw text drawn then (what respecting the annotations left
    out, a wrap-around) are not printed, as they say nothing about training.
    On the first call that reads training data, a run too short to be scored
    after step 0 gets a hint (`steps.py`).
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
        taught: Optional[Taught] = None,
        name: str = NAME,
        labels_per_file: bool = False,
        learned_labels: Optional[Collection[str]] = None,
        n_earlier: int = 0,
        earlier_ratio: Optional[float] = None,
    ):
        self.name = name
        self.examples = examples
        self.taught = taught
        self.teacher = teacher
        self.raw_path = raw_path
        self.rehearsal_ratio = rehearsal_ratio
        self.fill = fill
        self.max_length = max_length
        self.shuffle = shuffle
        self.cache_dir = cache_dir
        self.covered_labels: Set[str] = {label for r, _ in examples for _, _, label in r.spans}
        # labels_per_file: a file's texts are filled with the teacher's entities of every label it does not annotate
        self._covered_by_file: Dict[str, Set[str]] = {}
        for r, _ in examples if labels_per_file else ():
            self._covered_by_file.setdefault(source_file(r.source), set()).update(label for _, _, label in r.spans)
        # ... except a label another file annotates that the teacher did not learn from you (a correction): missing
        self.learned_labels = None if learned_labels is None else frozenset(learned_labels)
        # The last n_earlier examples are earlier rounds' (reader's earlier_paths): earlier_ratio of them a call per
        # example of the round's own, the next ones each call (None: all every call)
        self.n_earlier = n_earlier
        self.earlier_ratio = earlier_ratio
        self._next_earlier = 0
        self.n_drawn = 0
        self._described = False  # the line on what respecting the annotations left out is printed
        self._hinted = False
        self._rng = random.Random(seed)
        self._new: Optional[List[Doc]] = None
        self._raw: Optional[Iterator[Doc]] = None
        self._vocab: Optional[Vocab] = None

    def __call__(self, nlp: Language) -> Iterator[Example]:
        if self._vocab is not nlp.vocab:
            self._vocab = nlp.vocab
            self._new = self._build_new(nlp)
            self._raw = None
            if self.n_earlier and self.earlier_ratio is not None:  # drawn in turn: in a seeded order, not the files'
                earlier = self._new[len(self._new) - self.n_earlier:]
                self._rng.shuffle(earlier)
                self._new[len(self._new) - self.n_earlier:] = earlier
        refs: List[Doc] = self._new_refs()
        n_rehearsal = round(self.rehearsal_ratio * len(refs))
        quiet = phase.initializing()
        if n_rehearsal:
            refs.extend(self._draw_rehearsal(nlp, n_rehearsal, quiet))
        if not self._hinted and not quiet and phase.reading_training_data():
            self._hinted = True
            hint = eval_frequency_hint(nlp, refs)
            if hint:
                messages.info(f"{self.name}: {hint}", once=True)
        if self.shuffle:
            self._rng.shuffle(refs)
        for ref in refs:
            yield Example(nlp.make_doc(ref.text), ref)

    def _new_refs(self) -> List[Doc]:
        """This call's new examples: the round's own, and the earlier rounds' next `earlier_ratio` share."""
        new = list(self._new or [])
        n_own = len(new) - self.n_earlier
        if self.earlier_ratio is None or not self.n_earlier:
            return new
        n = min(self.n_earlier, round(self.earlier_ratio * n_own))
        earlier = new[n_own:]
        start = self._next_earlier
        drawn = [earlier[(start + i) % len(earlier)] for i in range(n)]
        self._next_earlier = (start + n) % len(earlier)
        return new[:n_own] + drawn

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
        n_teacher = n_unlearned = 0
        for (record, gold), doc in zip(self.examples, docs):
            teacher_spans = self.teacher.spans(doc) if self.fill == "teacher" else []
            ref = Doc(nlp.vocab, words=[t.text for t in doc], spaces=[bool(t.whitespace_) for t in doc])
            covered = self._covered_by_file.get(source_file(record.source), self.covered_labels)
            missing = set(record.missing)
            if self.learned_labels is not None and self._covered_by_file:
                unlearned = self.covered_labels - covered - self.learned_labels
                covered = covered | unlearned
                gold_tokens = {i for start, end, _ in gold for i in range(start, end)}
                for start, end, label in teacher_spans:
                    if label in unlearned:
                        n_unlearned += 1
                        missing.update(set(range(start, end)) - gold_tokens)
            merge_entities(ref, gold, teacher_spans, fill=self.fill, covered_labels=covered, missing=missing)
            n_teacher += len(ref.ents) - len(gold)
            out.append(ref)
        unlearned_note = (f"; {n_unlearned} of the teacher's entities of labels another file annotates and the teacher "
                          f"did not learn from you left missing" if n_unlearned else "")
        messages.detail(
            f"{self.name}: {len(out)} new examples (labels {sorted(self.covered_labels)}), "
            f"fill={self.fill} added {n_teacher} teacher entities{unlearned_note}"
        )
        return out

    def _draw_rehearsal(self, nlp: Language, n: int, quiet: bool = False) -> List[Doc]:
        taught = self.taught
        assert self.raw_path is not None, "drawn only with rehearsal_ratio > 0, which the reader sets to 0 without raw text"
        if self._raw is None:
            self._raw = self.teacher.rehearsal_stream(
                self.raw_path, cache_dir=self.cache_dir, vocab=nlp.vocab, max_length=self.max_length, owner=self.name,
                exclude=taught.is_annotated if taught is not None else None, quiet=phase.initializing,
            )
        drawn = [rehearsal_reference(self.teacher, doc, nlp.vocab, taught) for doc in islice(self._raw, n)]
        if taught is not None and not self._described and not quiet:
            self._described = True
            messages.info(f"{self.name} {self.raw_path}: {taught.describe(drawn)}")
        self.n_drawn += len(drawn)
        messages.detail(f"{self.name}: drew {len(drawn)} rehearsal texts from {self.raw_path} ({self.n_drawn} in all)")
        return drawn
