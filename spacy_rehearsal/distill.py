"""Soft targets for a transition-based NER: the teacher's action distribution along the student's own path.

spaCy 3.8 has no distillation API (`Parser.distill` arrives in v4), and its
`Parser.rehearse` is squared error on raw scores against a copy of the model
itself. `Distiller` is what `rehearsal_callback.v1` runs with `mode = "distill"`:
for a batch of raw texts it

1. starts the student NER's transition states on the texts and, at every step,
   scores them with the student (training mode, gradients kept) and the
   teacher's NER (prediction only) on the same states;
2. turns both score rows into probabilities over the actions that are valid in
   that state and that the teacher knows, matched by action *name* ("B-ORG"),
   never by index, so labels added to the student (or ordered differently)
   line up; at temperature T;
3. adds the gradient of `weight * T**2 * KL(teacher || student)` to the
   student's weights (it accumulates with the training step's own gradient:
   nothing is applied here), and follows the student's best valid action.

Where the student already gives the teacher's distribution, the gradient is
zero: unlike hard silver labels, soft targets stop pushing once the student
agrees. Dropout is off during the pass, so this holds exactly.

The student's actions for labels the teacher does not have ("new actions"):
- "ignore": they are left out of both distributions, so raw text never argues
  for or against the new type (the teacher cannot tell);
- "zero": they stay in the student's distribution with target probability 0,
  so raw text teaches "not the new type" wherever the teacher has a say;
- "teacher_entities": target 0 only in states where the teacher's most likely
  action starts an entity of its own (B- or U-), "ignore" elsewhere: raw text
  argues against the new type on the teacher's entities, never on its O tokens.
States in which only new actions are valid (inside a new-type entity the
student opened) get no target.
"""
from typing import Dict, List, Literal, Optional, Sequence, Tuple

import numpy
from spacy.language import Language
from spacy.pipeline import EntityRecognizer
from spacy.tokens import Doc
from spacy.training import Example
from thinc.api import set_dropout_rate

from .errors import SettingError, TeacherError

NewActions = Literal["ignore", "zero", "teacher_entities"]
# The soft-target settings benchmarks/forgetting.py --dev-split chose (README: soft targets): the
# defaults of rehearsal_callback.v2 and of the configs `init-config` writes
RECIPE: Dict[str, object] = {"batch_size": 16, "temperature": 1.0, "weight": 1.0, "new_actions": "zero", "l2_pull": 0.0}


def entity_recognizer(nlp: Language, name: str, role: str) -> EntityRecognizer:
    """The transition-based NER `name` of `nlp`, or its only one for the teacher.

    RAISES (SettingError | TeacherError): There is none; the message names the pipeline.
    """
    if name in nlp.pipe_names and isinstance(nlp.get_pipe(name), EntityRecognizer):
        return nlp.get_pipe(name)  # type: ignore[return-value]
    ners = [n for n, proc in nlp.pipeline if isinstance(proc, EntityRecognizer)]
    if role == "teacher" and len(ners) == 1:
        return nlp.get_pipe(ners[0])  # type: ignore[return-value]
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

    def __init__(self, student: EntityRecognizer, teacher: EntityRecognizer):
        self.moves = student.moves
        self.names = [student.moves.get_class_name(i) for i in range(student.moves.n_moves)]
        teacher_index = {teacher.moves.get_class_name(i): i for i in range(teacher.moves.n_moves)}
        index = numpy.asarray([teacher_index.get(name, -1) for name in self.names], dtype="i")
        self.known = index >= 0  # the student's actions the teacher has
        self.teacher_index = numpy.where(self.known, index, 0)
        self.new_actions = [name for name, known in zip(self.names, self.known) if not known]
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


class Distiller:
    """Soft-target updates of one student NER towards the teacher's NER (see the module docstring).

    student_nlp (Language): The pipeline being trained.
    component (str): The student's NER to distil into.
    teacher_nlp (Language): The original pipeline.
    temperature (float): Softmax temperature of both distributions.
    weight (float): Scale of the soft-target loss against the step's own loss.
    new_actions (str): "ignore", "zero" or "teacher_entities", see the module docstring.
    frozen (Sequence[str]): The training's frozen components (a listened-to
        tok2vec must be trainable to feed the student in training mode).
    """

    def __init__(
        self,
        student_nlp: Language,
        component: str,
        teacher_nlp: Language,
        *,
        temperature: float,
        weight: float,
        new_actions: NewActions,
        frozen: Sequence[str] = (),
    ):
        self.student = entity_recognizer(student_nlp, component, "student")
        self.teacher = entity_recognizer(teacher_nlp, component, "teacher")
        self.name = component
        self.vocab = student_nlp.vocab
        self.teacher_vocab = teacher_nlp.vocab
        self.actions = ActionMap(self.student, self.teacher)
        self.temperature = temperature
        self.weight = weight
        self.new_actions = new_actions
        self.student_feeds = _upstream(student_nlp, component)
        frozen_feeds = [name for name, _ in self.student_feeds if name in frozen]
        if frozen_feeds:
            raise SettingError(
                f"rehearsal_callback.v1 mode \"distill\": '{component}' listens to {frozen_feeds}, which "
                f"[training] frozen_components freezes; source it with replace_listeners = [\"model.tok2vec\"] "
                f"(init-config does) so it has its own copy"
            )
        teacher_name = next(n for n, proc in teacher_nlp.pipeline if proc is self.teacher)
        self.teacher_feeds = _upstream(teacher_nlp, teacher_name)

    def __call__(self, texts: Sequence[Doc]) -> float:
        """Accumulate the soft-target gradient for `texts` (tokenized docs); return the loss."""
        words = [([t.text for t in doc], [bool(t.whitespace_) for t in doc]) for doc in texts if len(doc)]
        if not words:
            return 0.0
        docs = [Doc(self.vocab, words=w, spaces=s) for w, s in words]
        teacher_docs = [Doc(self.teacher_vocab, words=w, spaces=s) for w, s in words]
        for _, proc in self.teacher_feeds:  # e.g. a shared tok2vec: sets doc.tensor for listeners
            teacher_docs = list(proc.pipe(teacher_docs))
        for _, proc in self.student_feeds:  # broadcasts to the student's listener, gradients kept
            proc.update([Example(doc, doc) for doc in docs], drop=0.0, sgd=None, losses={})  # None: no step
        if self.student.moves.n_moves != len(self.actions.names):  # a label added since (spaCy adds them in update)
            self.actions = ActionMap(self.student, self.teacher)
        set_dropout_rate(self.student.model, 0.0)
        tutor = self.teacher.model.predict(teacher_docs)
        step_model, finish = self.student.model.begin_update(docs)
        step_model.attrs["dropout_rate"] = 0.0  # the step model's own hidden-layer dropout
        states = self.student.moves.init_batch(docs)
        open_labels: List[Optional[str]] = [None] * len(states)
        loss = 0.0
        while states:
            scores, backprop = step_model.begin_update(states)
            teacher_scores = tutor.predict(states)
            valid = self.actions.valid(states, open_labels)
            d_scores, step_loss = self.soft_target_gradient(scores, teacher_scores, valid)
            backprop(d_scores)
            loss += step_loss
            states, open_labels = self._follow(states, open_labels, scores, valid)
        finish(docs)
        step_model.clear_memory()
        tutor.clear_memory()
        return loss

    def soft_target_gradient(self, scores, teacher_scores, valid: numpy.ndarray) -> Tuple[object, float]:
        """d(loss)/d(student scores) for one step's states, and the loss (model's ops, CPU or GPU)."""
        ops = self.student.model.ops
        xp = ops.xp
        known = xp.asarray(valid & self.actions.known)
        targets = teacher_scores[:, xp.asarray(self.actions.teacher_index)]
        t = self.temperature
        q = _masked_softmax(xp, targets / t, known)
        if self.new_actions == "ignore":
            student_mask = known
        elif self.new_actions == "zero":
            student_mask = xp.asarray(valid)
        else:  # "teacher_entities": all valid actions where the teacher starts an entity, known ones elsewhere
            entity_rows = xp.asarray(self.actions.starts)[q.argmax(axis=1)][:, None]
            student_mask = xp.where(entity_rows, xp.asarray(valid), known)
        p = _masked_softmax(xp, scores / t, student_mask)
        has_target = known.any(axis=1, keepdims=True)  # rows where only new actions are valid: no target
        d_scores = xp.where(has_target, self.weight * t * (p - q), 0.0).astype("f")
        log_ratio = xp.where(known, xp.log(xp.maximum(q, 1e-12)) - xp.log(xp.maximum(p, 1e-12)), 0.0)
        loss = float(self.weight * t * t * (q * log_ratio).sum())
        return d_scores, loss

    def _follow(self, states, open_labels, scores, valid: numpy.ndarray):
        """Apply the student's best valid action to each state; drop finished ones."""
        best = numpy.where(valid, self.student.model.ops.to_numpy(scores), -numpy.inf).argmax(axis=1)
        kept, labels = [], []
        for state, label, action in zip(states, open_labels, best):
            name = self.actions.names[action]
            self.actions.moves.apply_transition(state, name)
            label = open_label_after(name, label)
            if not state.is_final():
                kept.append(state)
                labels.append(label)
        return kept, labels


def open_label_after(action: str, open_label: Optional[str]) -> Optional[str]:
    """The label of the entity left open by a BILUO `action` taken with `open_label` open."""
    move, _, label = action.partition("-")
    return label if move == "B" else (open_label if move == "I" else None)


def _masked_softmax(xp, x, mask):
    """Softmax of each row of `x` over its `mask`ed entries; 0 elsewhere (and for all-masked rows)."""
    x = xp.where(mask, x, -xp.inf)
    top = x.max(axis=1, keepdims=True)
    e = xp.where(mask, xp.exp(x - xp.where(xp.isfinite(top), top, 0.0)), 0.0)
    total = e.sum(axis=1, keepdims=True)
    return e / xp.where(total > 0, total, 1.0)


def _upstream(nlp: Language, component: str) -> List[Tuple[str, object]]:
    """The components `component` listens to (a shared tok2vec or transformer), in pipeline order."""
    return [(n, proc) for n, proc in nlp.pipeline if component in getattr(proc, "listening_components", [])]
