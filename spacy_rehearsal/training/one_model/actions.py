"""The student NER's actions as the soft targets see them: matched to a teacher's by name, valid per state.

`ActionMap` is what `distill.Distiller` compares scores through: spaCy numbers
a NER's actions in the order its labels were added, so a student that gained
labels (or holds them in another order) is matched to each teacher by action
name ("B-ORG"), never by index. It also says which actions are the teacher's
to target (not those of the labels your annotations teach) and which are new.
"""
from typing import Any, Dict, FrozenSet, List, Optional, Sequence

import numpy
from spacy.language import Language
from spacy.pipeline import EntityRecognizer
from thinc.types import Floats2d

from ...errors import SettingError, TeacherError


def entity_recognizer(nlp: Language, name: str, role: str) -> EntityRecognizer:
    """The transition-based NER `name` of `nlp`, or its only one for the teacher.

    RAISES (SettingError | TeacherError): There is none; the message names the pipeline.
    """
    if name in nlp.pipe_names and isinstance(nlp.get_pipe(name), EntityRecognizer):
        return nlp.get_pipe(name)
    ners = [n for n, proc in nlp.pipeline if isinstance(proc, EntityRecognizer)]
    if role == "teacher" and len(ners) == 1:
        return nlp.get_pipe(ners[0])
    found = f"transition-based NER components: {ners}" if ners else "no transition-based NER"
    error = TeacherError if role == "teacher" else SettingError
    raise error(
        f"rehearsal_callback.v1 mode \"distill\" needs the {role}'s '{name}' to be a transition-based NER "
        f"(spacy.EntityRecognizer), so its action scores can be compared; the {role} has {found} "
        f"(pipeline: {nlp.pipe_names}). Use mode = \"silver\" for other entity components."
    )


class ActionMap:
    """The student's actions, their teacher counterparts by name, and which are valid in a state.

    Validity is read from spaCy's own transition system: per state, one probe
    for all Begin actions, one for all Unit actions, one for Out, and the open
    entity's In/Last. That broadcast holds for docs without preset entities,
    which the distillation docs never have (they are built from words alone).
    """

    def __init__(
        self,
        student: EntityRecognizer,
        teacher: EntityRecognizer,
        taught: FrozenSet[str] = frozenset(),
        taught_teacher: Optional[EntityRecognizer] = None,
    ):
        self.moves = student.moves
        self.names = [student.moves.get_class_name(i) for i in range(student.moves.n_moves)]
        index = _index_by_name(self.names, teacher)
        labels = [name.partition("-")[2] for name in self.names]
        corrected = numpy.asarray([index[i] >= 0 and label in taught for i, label in enumerate(labels)], dtype=bool)
        # The student's actions the teacher has a say on: not those of the labels your annotations teach
        self.known = (index >= 0) & ~corrected
        # Actions of labels the teacher lacks: new_actions decides what raw text says of them. Taught
        # labels the teacher has (corrections) are never targets: the teacher's reading of them is wrong
        self.new = (index < 0)
        self.teacher_index = numpy.where(index >= 0, index, 0)
        self.new_actions = [name for name, new in zip(self.names, self.new) if new]
        # The taught-label teacher (a NER trained on your annotations): the actions it has, by name,
        # and among them those of the taught labels, whose probability it gives
        second = _index_by_name(self.names, taught_teacher) if taught_teacher is not None else numpy.full(len(labels), -1, "i")
        self.second_known = second >= 0
        self.second_taught = self.second_known & numpy.asarray([label in taught for label in labels], dtype=bool)
        self.second_index = numpy.where(self.second_known, second, 0)
        # Actions that start an entity (B-X, U-X): where the teacher's best is one, "teacher_entities" says 0
        self.starts = numpy.asarray([name[:2] in ("B-", "U-") and len(name) > 2 for name in self.names])
        groups: Dict[str, List[int]] = {"B": [], "U": [], "O": []}
        self.inside: Dict[str, int] = {}
        self.last: Dict[str, int] = {}
        for i, name in enumerate(self.names):
            move, _, label = name.partition("-")
            if move == "O" or (label and move in ("B", "U")):
                groups[move].append(i)
            elif label and move == "I":
                self.inside[label] = i
            elif label and move == "L":
                self.last[label] = i
        self.groups = {move: numpy.asarray(ids, dtype="i") for move, ids in groups.items() if ids}

    def valid(self, states: Sequence, open_labels: Sequence[Optional[str]]) -> numpy.ndarray:
        """Boolean (n_states, n_actions): the actions the student may take in each state."""
        mask = numpy.zeros((len(states), len(self.names)), dtype=bool)
        for row, (state, label) in enumerate(zip(states, open_labels)):
            if label is not None:
                for i in (self.inside.get(label), self.last.get(label)):
                    if i is not None and self.moves.is_valid(state, self.names[i]):
                        mask[row, i] = True
            else:
                for ids in self.groups.values():
                    if self.moves.is_valid(state, self.names[ids[0]]):
                        mask[row, ids] = True
        return mask


def _index_by_name(names: Sequence[str], ner: EntityRecognizer) -> numpy.ndarray:
    """For each action name, its index in `ner`'s actions, or -1."""
    index = {ner.moves.get_class_name(i): i for i in range(ner.moves.n_moves)}
    return numpy.asarray([index.get(name, -1) for name in names], dtype="i")


def open_label_after(action: str, open_label: Optional[str]) -> Optional[str]:
    """The label of the entity left open by a BILUO `action` taken with `open_label` open."""
    move, _, label = action.partition("-")
    return label if move == "B" else (open_label if move == "I" else None)


def masked_softmax(xp: Any, x: Any, mask: Any) -> Floats2d:  # xp: numpy or cupy; x: scores (n, m); mask: booleans (n, m)
    """Softmax of each row of `x` over its `mask`ed entries; 0 elsewhere (and for all-masked rows)."""
    x = xp.where(mask, x, -xp.inf)
    top = x.max(axis=1, keepdims=True)
    e = xp.where(mask, xp.exp(x - xp.where(xp.isfinite(top), top, 0.0)), 0.0)
    total = e.sum(axis=1, keepdims=True)
    return e / xp.where(total > 0, total, 1.0)
