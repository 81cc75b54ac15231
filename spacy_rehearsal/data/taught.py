"""What your annotations teach, and how raw-text rehearsal leaves it alone.

The **taught labels** are the labels in your annotations: new types and types
the base already predicts (corrections) alike. On raw text the original
pipeline's opinion about them is wrong (a type you correct), blind (a type it
never saw) or in conflict (a new type it reads as an old one), so rehearsal
must not argue for it. Every other label of the teacher is a **kept label**:
its entities on raw text are exactly what rehearsal must preserve.

`Taught` is built once from your annotations (as the reader or the callback
reads them) and applied to every raw text the rehearsal routes draw, with
`respect_annotations = true` (the default of `rehearsal_reader.v2` and
`rehearsal_callback.v3`):

- a raw text that is one of your annotated texts is skipped: its annotation is
  trained anyway, and the teacher's reading of it would contradict it;
- the teacher's entities of taught labels are *missing* in the rehearsal
  example (no update either way), never O and never the teacher's reading;
- a raw-text span that repeats a string you annotated (same tokens, any taught
  label) is missing too, with any teacher entity that overlaps it: raw text
  from your own corpus, which mentions what you annotated all the time, is
  never taught that it is not what you said. Mentions you never annotated are
  not found this way: there a new label still gets target 0 from soft targets
  (`new_actions = "zero"`) and O from hard labels; a corrected label's actions
  are left out of the soft targets everywhere (`distill.py`).
"""
from dataclasses import dataclass, field
from typing import Callable, Dict, FrozenSet, Iterable, List, Optional, Protocol, Sequence, Set, Tuple

from spacy.tokens import Doc, Span
from spacy.vocab import Vocab

from .formats import Record
from .merge import TokenSpan, gold_token_spans


class TeacherLike(Protocol):
    """What `rehearsal_reference` needs of a `teacher.teacher.Teacher` (a later stage, so not imported here)."""

    def spans(self, doc: Doc) -> List[Tuple[int, int, str]]: ...

    def silver_doc(self, doc: Doc, vocab: Vocab) -> Doc: ...


@dataclass
class Taught:
    """The taught labels, annotated texts and annotated strings of a set of annotations.

    labels (FrozenSet[str]): The labels the annotations teach.
    texts (Set[str]): The annotated texts (stripped): raw copies are skipped.
    phrases (Set[Tuple[str, ...]]): The token strings of every annotated span.
    """

    labels: FrozenSet[str]
    texts: Set[str] = field(default_factory=set)
    phrases: Set[Tuple[str, ...]] = field(default_factory=set)
    # Teacher labels your annotations mostly relabel (see `relabelled_shares`): their raw-text entities are missing
    relabelled: FrozenSet[str] = frozenset()
    # Taught labels the teacher learned from your earlier annotations (a later round's teacher is the last round's
    # pipeline): its raw-text entities of these are targets, not missing
    trusted: FrozenSet[str] = frozenset()
    _lengths: Dict[str, Set[int]] = field(default_factory=dict, repr=False)

    @classmethod
    def from_docs(cls, examples: Iterable[Tuple[Doc, Sequence[TokenSpan]]]) -> "Taught":
        """From annotated docs (the teacher's tokenization) and their gold token spans."""
        taught = cls(frozenset())
        labels: Set[str] = set()
        for doc, spans in examples:
            taught.texts.add(doc.text.strip())
            for start, end, label in spans:
                labels.add(label)
                taught.add_phrase(tuple(t.text for t in doc[start:end]))
        taught.labels = frozenset(labels)
        return taught

    def add_phrase(self, words: Tuple[str, ...]) -> None:
        if words:
            self.phrases.add(words)
            self._lengths.setdefault(words[0], set()).add(len(words))

    def is_annotated(self, doc: Doc) -> bool:
        """Whether a raw text is one of the annotated texts."""
        return doc.text.strip() in self.texts

    def mentions(self, doc: Doc) -> List[Tuple[int, int]]:
        """Token spans of `doc` that repeat an annotated string (longest first where they overlap)."""
        words = [t.text for t in doc]
        found: List[Tuple[int, int]] = []
        end_of_last = 0
        for i, word in enumerate(words):
            if i < end_of_last:
                continue
            for length in sorted(self._lengths.get(word, ()), reverse=True):
                if tuple(words[i : i + length]) in self.phrases:
                    found.append((i, i + length))
                    end_of_last = i + length
                    break
        return found

    def masked_tokens(self, doc: Doc, teacher_spans: Iterable[TokenSpan]) -> Set[int]:
        """Tokens of a raw text rehearsal leaves missing: taught-label teacher entities and annotated strings."""
        masked: Set[int] = set()
        for start, end, label in teacher_spans:
            if label in self.labels and label not in self.trusted:
                masked.update(range(start, end))
        for start, end in self.mentions(doc):
            masked.update(range(start, end))
        for ent in doc.ents if self.relabelled else ():  # the teacher's own reading, whatever labels it may teach
            if ent.label_ in self.relabelled:
                masked.update(range(ent.start, ent.end))
        return masked

    def reference(self, doc: Doc, teacher_spans: Sequence[TokenSpan], vocab: Vocab) -> Doc:
        """A rehearsal reference for a raw text: kept-label teacher entities, missing where masked, O elsewhere.

        doc (Doc): The raw text with the teacher's tokenization.
        teacher_spans (Sequence[TokenSpan]): The teacher's entities that rehearsal may use.
        vocab (Vocab): The vocab of the reference.
        """
        masked = self.masked_tokens(doc, teacher_spans)
        ref = Doc(vocab, words=[t.text for t in doc], spaces=[bool(t.whitespace_) for t in doc])
        kept = [
            Span(ref, s, e, label=label)
            for s, e, label in teacher_spans
            if (label not in self.labels or label in self.trusted) and masked.isdisjoint(range(s, e))
        ]
        ref.set_ents(kept, missing=[ref[i : i + 1] for i in sorted(masked)], default="outside")
        return ref

    def describe(self, refs: Sequence[Doc]) -> str:
        """One line for `spacy train`'s output: what respecting the annotations did to the first rehearsal texts."""
        n_masked = sum(1 for ref in refs for token in ref if token.ent_iob == 0)
        n_texts = sum(1 for ref in refs if any(token.ent_iob == 0 for token in ref))
        return (
            f"raw text respects your annotations ({', '.join(sorted(self.labels))}): {n_texts} of the first "
            f"{len(refs)} rehearsal texts have {n_masked} tokens left missing (strings you annotated, the "
            f"teacher's entities of those labels); raw copies of annotated texts are skipped"
        )


def relabelled_shares(examples: Iterable[Tuple[Doc, Sequence[TokenSpan]]]) -> Dict[str, Tuple[int, int]]:
    """Per teacher label: how many of its entities on your annotated texts overlap a span you annotated, of how many.

    examples: Annotated docs carrying the teacher's entities, with their gold token spans.
    A label most of whose entities you annotated as a taught label (CoNLL's MISC over the base's NORP) is one
    your raw text mentions as your label too: teaching its raw-text entities O would teach against your labels.
    """
    counts: Dict[str, List[int]] = {}
    for doc, gold in examples:
        for ent in doc.ents:
            hit = any(ent.start < end and start < ent.end for start, end, _ in gold)
            pair = counts.setdefault(ent.label_, [0, 0])
            pair[0] += int(hit)
            pair[1] += 1
    return {label: (hit, total) for label, (hit, total) in counts.items()}


def taught_from_records(records: Iterable[Record], make_doc: Callable[[Record], Doc]) -> Taught:
    """`Taught` for annotation records, tokenized by `make_doc` (the teacher's); misaligned records are left out."""
    pairs = []
    for record in records:
        doc = make_doc(record)
        spans = gold_token_spans(record, doc, skip=True)
        if spans is not None:
            pairs.append((doc, spans))
    return Taught.from_docs(pairs)


def rehearsal_reference(teacher: TeacherLike, doc: Doc, vocab: Vocab, taught: Optional[Taught]) -> Doc:
    """The reference a rehearsal route trains a raw text on: the teacher's silver doc, or with `taught` the
    kept-label reference that leaves what the annotations teach missing (`Taught.reference`)."""
    if taught is None:
        return teacher.silver_doc(doc, vocab)
    return taught.reference(doc, teacher.spans(doc), vocab)

