"""A small student in the taught NER's place: the component route's inference cost, distilled down.

The taught NER is what learns your labels (for corrections a full copy of the
base NER), and it runs on every text afterwards. Once trained it is itself a
teacher: `distill_student` builds a much smaller NER (its `Shape`: a narrow
tok2vec of its own, few CNN layers, a small hash embedding, a narrow hidden
layer) and trains it to give the taught NER's action distributions, state by
state, on as much text as you have: your annotations' texts and your raw
text. The soft targets are `one_model.distill.Distiller`'s (the student
follows its own path; where it already agrees there is no gradient), with the
taught NER as the only teacher and no new actions.

The student is a plain spaCy `ner` (`spacy.TransitionBasedParser.v2` on
`spacy.Tok2Vec.v2`): the saved pipeline loads and packages without the plugin,
and every other component, the frozen original NER included, is the one the
trained pipeline had, so the original's entities do not change.

`Shape()` is also the new-types taught NER that `init-config` writes
(`config/component.py`'s `NEW_TYPES`): for a new type a small NER trained
directly learned as well as a student of a larger one did (better with little
raw text), so no step is needed.
"""
import random
import time
from dataclasses import asdict, dataclass
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, cast

from spacy.language import Language
from spacy.pipeline import EntityRecognizer
from spacy.tokens import Doc
from spacy.training import Example
from spacy.util import fix_random_seed, minibatch
from thinc.api import Adam, Model, Optimizer

from ...errors import SettingError
from ...scoring import score_ents
from ..one_model.distill import Distiller, upstream_of

# The embedded attributes of spaCy's own HashEmbedCNN (NORM, PREFIX, SUFFIX, SHAPE)
ATTRS = ("NORM", "PREFIX", "SUFFIX", "SHAPE")
STUDENT_ARCH = "spacy.TransitionBasedParser.v2"


@dataclass(frozen=True)
class Shape:
    """A small NER's size (a student's, and the new-types taught NER's): what it costs per text, and what it can hold.

    width (int): The tok2vec's width (the base NER in en_core_web_sm: 96).
    depth (int): CNN layers (maxout window encoder, window 1) on the embedding (base: 4).
    rows (int): Hash embedding rows per attribute (base: 5000 for NORM, 1000-2500 for the others).
    hidden (int): The transition model's hidden width (base: 64).
    maxout (int): Maxout pieces of the hidden layer (base: 2).
    attrs (Tuple[str, ...]): The embedded token attributes.
    """

    width: int = 48
    depth: int = 1
    rows: int = 2000
    hidden: int = 32
    maxout: int = 2
    attrs: Tuple[str, ...] = ATTRS

    def model_config(self, static_vectors: bool = False) -> Dict[str, Any]:
        """The student's `[components.X.model]` block: built-in architectures only."""
        return {
            "@architectures": STUDENT_ARCH, "state_type": "ner", "extra_state_tokens": False,
            "hidden_width": self.hidden, "maxout_pieces": self.maxout, "use_upper": True, "nO": None,
            "tok2vec": {
                "@architectures": "spacy.Tok2Vec.v2",
                "embed": {"@architectures": "spacy.MultiHashEmbed.v2", "width": self.width, "attrs": list(self.attrs),
                          "rows": [self.rows] * len(self.attrs), "include_static_vectors": static_vectors},
                "encode": {"@architectures": "spacy.MaxoutWindowEncoder.v2", "width": self.width, "depth": self.depth,
                           "window_size": 1, "maxout_pieces": 3},
            },
        }


@dataclass
class Progress:
    """One epoch of distillation, as `on_epoch` gets it."""

    epoch: int
    loss: float
    agreement: float  # entity F1 of the student against the taught NER on the held-out texts
    seconds: float


def distill_student(
    teacher_nlp: Language,
    student_nlp: Language,
    component: str,
    texts: Sequence[str],
    shape: Shape,
    *,
    epochs: int = 6,
    batch_size: int = 32,
    learn_rate: float = 0.001,
    held_out: int = 200,
    seed: int = 0,
    on_epoch: Optional[Callable[[Progress], None]] = None,
) -> List[Progress]:
    """Replace `component` of `student_nlp` with a student of `shape`, trained on `texts` against `teacher_nlp`'s.

    teacher_nlp / student_nlp: Two loads of the same trained pipeline (the
        student's copy is changed in place; the teacher's is only read).
    component (str): The taught NER (`meta["rehearsal"]["taught_component"]`).
    texts: Raw texts: your annotations' texts and your raw text.
    held_out (int): The last this many texts (after a seeded shuffle) are not
        trained on: the student's agreement with the taught NER is measured on them.
    RETURNS (List[Progress]): Loss and held-out agreement per epoch. The
        student's weights are the averaged ones (as `spacy train` saves).
    """
    teacher = cast(EntityRecognizer, teacher_nlp.get_pipe(component))
    factory = student_nlp.get_pipe_meta(component).factory
    if factory not in ("ner", "beam_ner"):
        raise SettingError(f"'{component}' is a '{factory}' component: only a transition-based NER ('ner') can be distilled")
    fix_random_seed(seed)  # the student's initial weights
    order = list(texts)
    random.Random(seed).shuffle(order)
    held_out = min(held_out, len(order) // 5)
    train_docs = [student_nlp.make_doc(t) for t in order[held_out:] if t.strip()]
    check_docs = [student_nlp.make_doc(t) for t in order[:held_out] if t.strip()]
    if not train_docs:
        raise SettingError("no text to distil the student on: give raw text (--raw) or annotations")
    student = replace_with_student(student_nlp, component, shape, teacher, train_docs[:64])
    distiller = Distiller(student_nlp, component, teacher_nlp, temperature=1.0, weight=1.0, new_actions="ignore")
    optimizer = Adam(learn_rate)
    expected = _entities(teacher_nlp, teacher, check_docs)
    rng = random.Random(seed)
    history = []
    for epoch in range(1, epochs + 1):
        start = time.perf_counter()
        rng.shuffle(train_docs)
        loss = 0.0
        for batch in minibatch(train_docs, size=batch_size):
            loss += distiller(batch)
            student.finish_update(optimizer)
        with student.model.use_params(optimizer.averages):
            agreement = _agreement(_entities(student_nlp, student, check_docs), expected)
        history.append(Progress(epoch, loss, agreement, time.perf_counter() - start))
        if on_epoch is not None:
            on_epoch(history[-1])
    keep_averages(student.model, optimizer)
    return history


def replace_with_student(
    nlp: Language, component: str, shape: Shape, teacher: EntityRecognizer, sample: Sequence[Doc]
) -> EntityRecognizer:
    """Put an initialized student NER of `shape` with `teacher`'s labels in `component`'s place in `nlp`."""
    block = nlp.config["components"][component]
    settings = {k: v for k, v in block.items() if k not in ("factory", "model", "source", "replace_listeners")}
    static = bool(nlp.vocab.vectors.shape[0]) and nlp.vocab.vectors.shape[1] > 0
    config = {**settings, "model": shape.model_config(static_vectors=static)}
    student = cast(EntityRecognizer, nlp.replace_pipe(component, nlp.get_pipe_meta(component).factory, config=config))
    examples = [Example(doc, doc) for doc in sample]
    student.initialize(lambda: examples, nlp=nlp, labels=teacher.label_data)
    return student


def _entities(nlp: Language, ner: EntityRecognizer, docs: Sequence[Doc]) -> List[Doc]:
    """`ner`'s entities on fresh copies of `docs` (after whatever it listens to)."""
    fresh = [Doc(nlp.vocab, words=[t.text for t in d], spaces=[bool(t.whitespace_) for t in d]) for d in docs]
    for _name, proc in upstream_of(nlp, ner.name):
        fresh = list(proc.pipe(fresh))
    return list(ner.pipe(fresh))


def _agreement(predicted: Sequence[Doc], expected: Sequence[Doc]) -> float:
    if not any(d.ents for d in expected) and not any(d.ents for d in predicted):
        return 1.0
    micro = cast(Dict[str, float], score_ents(list(predicted), list(expected))["micro"])
    return float(micro["f"])


def describe(shape: Shape) -> Dict[str, Any]:
    """The shape as `meta["rehearsal"]["student"]` records it."""
    return {**asdict(shape), "attrs": list(shape.attrs), "architecture": STUDENT_ARCH}


def record_student(nlp: Language, shape: Shape, n_texts: int, history: Sequence[Progress], source: str) -> None:
    """Write `meta["rehearsal"]["student"]`: the shape, what it learned from, and its last held-out agreement.

    init-config reads it: a later round trains the student further, at the student's speed.
    """
    record = dict(nlp.meta.get("rehearsal") or {})
    record["student"] = {**describe(shape), "texts": n_texts, "epochs": len(history),
                         "held_out_agreement": round(history[-1].agreement, 4) if history else None, "distilled_from": source}
    nlp.meta["rehearsal"] = record


def keep_averages(model: Model, optimizer: Optimizer) -> None:
    """Set `model`'s weights to the optimizer's running averages: what `spacy train` saves."""
    averages = optimizer.averages or {}
    for node in model.walk():
        for name in node.param_names:
            key = (node.id, name)
            if node.has_param(name) and key in averages:
                node.set_param(name, averages[key].copy())
