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

With the annotations' `Taught` (`rehearsal_callback.v3`, see `taught.py`), the
teacher never argues with them: the actions of labels your annotations teach
that the teacher also has (corrections) are left out of both distributions,
like "ignore", and states whose next token repeats a string you annotated, or
lies in a teacher entity of a taught label, get no target.

Two teachers (`taught_teacher`, e.g. the component strategy's trained
pipeline): the original teaches the kept labels and a NER trained on your
annotations the taught ones. At each state the taught labels' actions get the
second teacher's probability m, and the original's distribution over the kept
actions (O included) is scaled into the remaining 1 - m. On news that NER says
"no brand" where the original says PERSON, so the new type is not argued
away; in your own corpus it says "brand" where the original reads an old type.
"""
from typing import Any, Dict, FrozenSet, List, Literal, Optional, Sequence, Set, Tuple

import numpy
from spacy.language import Language
from spacy.tokens import Doc
from spacy.training import Example
from thinc.api import set_dropout_rate
from thinc.types import Floats2d

from ...data.taught import Taught
from ...errors import SettingError
from .actions import ActionMap, entity_recognizer, masked_softmax, open_label_after

NewActions = Literal["ignore", "zero", "teacher_entities"]
# The soft-target settings benchmarks/forgetting.py --dev-split chose (docs/how-it-works.md: soft targets): the
# defaults of rehearsal_callback.v2 and of the configs `init-config` writes
RECIPE: Dict[str, object] = {"batch_size": 16, "temperature": 1.0, "weight": 1.0, "new_actions": "zero", "l2_pull": 0.0}


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
    taught (Optional[Taught]): What your annotations teach (`taught.py`): the
        actions of taught labels the teacher has (corrections) are left out of
        both distributions everywhere, and states whose next token repeats an
        annotated string get no target at all. None: neither.
    taught_teacher (Optional[Tuple[Language, str]]): A pipeline trained on your
        annotations and its NER (e.g. the component strategy's "ner_new"): the
        teacher of the taught labels. At each state their actions get its
        probability, and the original's distribution over the kept actions is
        scaled into the rest. None: the taught labels have no teacher.
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
        taught: Optional[Taught] = None,
        taught_teacher: Optional[Tuple[Language, str]] = None,
    ):
        self.student = entity_recognizer(student_nlp, component, "student")
        self.teacher = entity_recognizer(teacher_nlp, component, "teacher")
        self.name = component
        self.vocab = student_nlp.vocab
        self.teacher_vocab = teacher_nlp.vocab
        self.taught = taught
        self.second: Optional[Tuple[Language, object, list]] = None
        if taught_teacher is not None:
            if taught is None:
                raise SettingError("a taught-label teacher needs the annotations (what they teach) too")
            second_nlp, second_name = taught_teacher
            ner = entity_recognizer(second_nlp, second_name, "teacher")
            second_pipe = next(n for n, proc in second_nlp.pipeline if proc is ner)
            self.second = (second_nlp, ner, upstream_of(second_nlp, second_pipe))
        self.actions = self._action_map()
        self.temperature = temperature
        self.weight = weight
        self.new_actions = new_actions
        self.student_feeds = upstream_of(student_nlp, component)
        frozen_feeds = [name for name, _ in self.student_feeds if name in frozen]
        if frozen_feeds:
            raise SettingError(
                f"rehearsal_callback.v1 mode \"distill\": '{component}' listens to {frozen_feeds}, which "
                f"[training] frozen_components freezes; source it with replace_listeners = [\"model.tok2vec\"] "
                f"(init-config does) so it has its own copy"
            )
        teacher_name = next(n for n, proc in teacher_nlp.pipeline if proc is self.teacher)
        self.teacher_feeds = upstream_of(teacher_nlp, teacher_name)

    def __call__(self, texts: Sequence[Doc]) -> float:
        """Accumulate the soft-target gradient for `texts` (tokenized docs); return the loss."""
        texts = [doc for doc in texts if len(doc)]
        words = [([t.text for t in doc], [bool(t.whitespace_) for t in doc]) for doc in texts]
        if not words:
            return 0.0
        docs = [Doc(self.vocab, words=w, spaces=s) for w, s in words]
        teacher_docs = [Doc(self.teacher_vocab, words=w, spaces=s) for w, s in words]
        for _, proc in self.teacher_feeds:  # e.g. a shared tok2vec: sets doc.tensor for listeners
            teacher_docs = list(proc.pipe(teacher_docs))
        for _, proc in self.student_feeds:  # broadcasts to the student's listener, gradients kept
            proc.update([Example(doc, doc) for doc in docs], drop=0.0, sgd=None, losses={})  # None: no step
        if self.student.moves.n_moves != len(self.actions.names):  # a label added since (spaCy adds them in update)
            self.actions = self._action_map()
        masks: List[Set[int]] = [self._masked(doc) for doc in texts]
        set_dropout_rate(self.student.model, 0.0)
        tutor = self.teacher.model.predict(teacher_docs)
        second_tutor = self._second_tutor(words)
        step_model, finish = self.student.model.begin_update(docs)
        step_model.attrs["dropout_rate"] = 0.0  # the step model's own hidden-layer dropout
        states = self.student.moves.init_batch(docs)
        open_labels: List[Optional[str]] = [None] * len(states)
        loss = 0.0
        while states:
            scores, backprop = step_model.begin_update(states)
            teacher_scores = tutor.predict(states)
            valid = self.actions.valid(states, open_labels)
            masked = numpy.asarray([state.B(0) in mask for state, mask in zip(states, masks)], dtype=bool)
            second_scores = second_tutor.predict(states) if second_tutor is not None else None
            d_scores, step_loss = self.soft_target_gradient(scores, teacher_scores, valid, masked, second_scores)
            backprop(d_scores)
            loss += step_loss
            states, open_labels, masks = self._follow(states, open_labels, masks, scores, valid)
        finish(docs)
        step_model.clear_memory()
        tutor.clear_memory()
        if second_tutor is not None:
            second_tutor.clear_memory()
        return loss

    def soft_target_gradient(
        self,
        scores: Floats2d,
        teacher_scores: Floats2d,
        valid: numpy.ndarray,
        masked: Optional[numpy.ndarray] = None,
        second_scores: Optional[Floats2d] = None,
    ) -> Tuple[Floats2d, float]:
        """d(loss)/d(student scores) for one step's states, and the loss (model's ops, CPU or GPU).

        masked (Optional[numpy.ndarray]): Boolean per state: its next token repeats
            an annotated string (or is a teacher entity of a taught label): no target.
        second_scores: The taught-label teacher's scores for the same states, or None.
            Its probability of the taught labels' actions is their target; the
            teacher's distribution over the kept actions fills the rest of the mass.
        """
        ops = self.student.model.ops
        xp = ops.xp
        known = xp.asarray(valid & self.actions.known)
        targets = teacher_scores[:, xp.asarray(self.actions.teacher_index)]
        t = self.temperature
        q = masked_softmax(xp, targets / t, known)
        with_new = xp.asarray(valid & self.actions.new)
        if self.new_actions == "ignore":
            student_mask = known
        elif self.new_actions == "zero":
            student_mask = known | with_new
        else:  # "teacher_entities": the new actions too where the teacher starts an entity
            entity_rows = xp.asarray(self.actions.starts)[q.argmax(axis=1)][:, None]
            student_mask = known | (with_new & entity_rows)
        if second_scores is not None:
            r = masked_softmax(xp, second_scores[:, xp.asarray(self.actions.second_index)] / t,
                                xp.asarray(valid & self.actions.second_known))
            taught_cols = xp.asarray(valid & self.actions.second_taught)
            taught_mass = (r * taught_cols).sum(axis=1, keepdims=True)
            q = xp.where(taught_cols, r, (1.0 - taught_mass) * q)
            known = known | taught_cols
            student_mask = student_mask | taught_cols
        p = masked_softmax(xp, scores / t, student_mask)
        # No target where only new actions are valid, nor on tokens that repeat an annotated string
        has_target = known.any(axis=1, keepdims=True)
        if masked is not None:
            has_target = has_target & ~xp.asarray(masked)[:, None]
        d_scores = xp.where(has_target, self.weight * t * (p - q), 0.0).astype("f")
        log_ratio = xp.where(known & has_target, xp.log(xp.maximum(q, 1e-12)) - xp.log(xp.maximum(p, 1e-12)), 0.0)
        loss = float(self.weight * t * t * (q * log_ratio).sum())
        return d_scores, loss

    @property
    def _taught_labels(self) -> FrozenSet[str]:
        return self.taught.labels if self.taught is not None else frozenset()

    def _action_map(self) -> ActionMap:
        return ActionMap(self.student, self.teacher, self._taught_labels, self.second[1] if self.second else None)

    def _second_tutor(self, words: List[Tuple[List[str], List[bool]]]) -> Any:  # spaCy's (untyped) step model
        """The taught-label teacher's step model for the texts, or None."""
        if self.second is None:
            return None
        second_nlp, ner, feeds = self.second
        docs = [Doc(second_nlp.vocab, words=w, spaces=s) for w, s in words]
        for _, proc in feeds:
            docs = list(proc.pipe(docs))
        return ner.model.predict(docs)  # type: ignore[attr-defined]

    def _masked(self, doc: Doc) -> Set[int]:
        """The tokens of a teacher-annotated raw text that get no target (see `Taught.masked_tokens`)."""
        if self.taught is None:
            return set()
        return self.taught.masked_tokens(doc, [(e.start, e.end, e.label_) for e in doc.ents])

    def _follow(
        self, states: List, open_labels: List[Optional[str]], masks: List[Set[int]], scores: Floats2d, valid: numpy.ndarray
    ) -> Tuple[List, List[Optional[str]], List[Set[int]]]:
        """Apply the student's best valid action to each state; drop finished ones."""
        best = numpy.where(valid, self.student.model.ops.to_numpy(scores), -numpy.inf).argmax(axis=1)
        kept, labels, kept_masks = [], [], []
        for state, label, mask, action in zip(states, open_labels, masks, best):
            name = self.actions.names[action]
            self.actions.moves.apply_transition(state, name)
            label = open_label_after(name, label)
            if not state.is_final():
                kept.append(state)
                labels.append(label)
                kept_masks.append(mask)
        return kept, labels, kept_masks


def upstream_of(nlp: Language, component: str) -> List[Tuple[str, Any]]:  # Any: a TrainablePipe, typed as a callable
    """The components `component` listens to (a shared tok2vec or transformer), in pipeline order."""
    return [(n, proc) for n, proc in nlp.pipeline if component in getattr(proc, "listening_components", [])]
