"""Soft targets (rehearsal_callback.v1 mode "distill") and the weight pull (l2_pull), on real pipelines."""
import random

import numpy
import pytest
import spacy
from conftest import CONLL_DEV, CONLL_TRAIN, conll_texts
from spacy.training import Example
from spacy.util import fix_random_seed

from spacy_rehearsal.errors import SettingError, TeacherError
from spacy_rehearsal.scoring import score_ents
from spacy_rehearsal.training.one_model.anchor import WeightAnchor
from spacy_rehearsal.training.one_model.distill import ActionMap, Distiller, open_label_after

BRAND = "FASHION_BRAND"
TEXTS = [
    "Apple is looking at buying U.K. startup for $1 billion on Monday.",
    "Barack Obama visited Paris and Berlin in 2015 with 300 people.",
    "Gucci and Prada opened stores in Milan last week.",
    "The European Commission fined Google 2.4 billion euros.",
]
# New-label data as a user exports it: only the brand is annotated, so every other token is taught O
BRAND_SENTENCES = [
    ("Angela Merkel wore Gucci in Paris on Monday.", [(19, 24, BRAND)]),
    ("Tim Cook bought Prada shoes in London.", [(16, 21, BRAND)]),
    ("Sarah Smith of Microsoft likes Chanel in Berlin.", [(31, 37, BRAND)]),
    ("Google hired Emmanuel Macron to sell Dior in Tokyo.", [(37, 41, BRAND)]),
]
STEPS = 20


def max_grad(model) -> float:
    grads = [abs(node.get_grad(name)).max() for node in model.walk() for name in node.param_names if node.has_grad(name)]
    return float(max(grads)) if grads else 0.0


def distiller(student, teacher, **settings) -> Distiller:
    return Distiller(student, "ner", teacher, **{"temperature": 1.0, "weight": 1.0, "new_actions": "ignore", **settings})


def test_gradient_is_zero_when_student_is_the_teacher(base_model):
    student, teacher = spacy.load(base_model), spacy.load(base_model)
    docs = [student.make_doc(text) for text in TEXTS]
    # Two copies of one pipeline, scored by predict (teacher) and begin_update (student): equal up to rounding
    assert distiller(student, teacher)(docs) == pytest.approx(0.0, abs=1e-6)
    assert max_grad(student.get_pipe("ner").model) < 1e-6
    # A student that differs from the teacher gets a loss and a gradient
    upper = student.get_pipe("ner").model.get_ref("upper")
    upper.set_param("b", upper.get_param("b") + numpy.linspace(-1, 1, upper.get_param("b").size, dtype="f"))
    assert distiller(student, teacher)(docs) > 0.01
    assert max_grad(student.get_pipe("ner").model) > 1e-3


def test_actions_are_matched_by_name_when_the_student_gains_a_label(base_model):
    student, teacher = spacy.load(base_model), spacy.load(base_model)
    student.get_pipe("ner").add_label(BRAND)
    docs = [student.make_doc(text) for text in TEXTS]
    ignore = distiller(student, teacher)
    assert sorted(ignore.actions.new_actions) == sorted(f"{move}-{BRAND}" for move in "BILU")
    # The new label's actions are left out, so a student that only gained a label still matches the teacher
    assert ignore(docs) == pytest.approx(0.0, abs=1e-5)
    # With "zero" they get target 0: the student (scoring them 0 after the resize) is pushed down on
    # them, once training has seen the label (spaCy masks a class's score until its first gold example)
    student.get_pipe("ner").model.attrs["unseen_classes"].clear()
    zero = distiller(student, teacher, new_actions="zero")
    assert zero(docs) > 0.0
    W_grad = student.get_pipe("ner").model.get_ref("upper").get_grad("W")
    names = zero.actions.names
    assert abs(W_grad[names.index(f"U-{BRAND}")]).max() > 0


def test_action_map_follows_names_not_positions(base_model):
    teacher = spacy.load(base_model)
    student = spacy.blank("en")
    ner = student.add_pipe("ner")
    for label in reversed(teacher.get_pipe("ner").labels):  # the teacher's labels, in the opposite order
        ner.add_label(label)
    ner.add_label(BRAND)
    student.initialize()
    actions = ActionMap(ner, teacher.get_pipe("ner"))
    teacher_names = [teacher.get_pipe("ner").moves.get_class_name(i) for i in range(teacher.get_pipe("ner").moves.n_moves)]
    mapped = [(name, teacher_names[i]) for name, i, known in zip(actions.names, actions.teacher_index, actions.known) if known]
    assert len(mapped) == len(teacher_names)  # every teacher action has its student counterpart
    assert all(student_name == teacher_name for student_name, teacher_name in mapped)
    assert actions.names.index("B-ORG") != teacher_names.index("B-ORG")


def test_validity_is_spacy_transition_systems(base_model):
    """The per-state mask (probes broadcast over labels) equals asking spaCy for every action."""
    nlp = spacy.load(base_model)
    ner = nlp.get_pipe("ner")
    actions = ActionMap(ner, ner)
    rng = random.Random(0)
    states = ner.moves.init_batch([nlp.make_doc(text) for text in TEXTS])
    labels = [None] * len(states)
    n_checked = 0
    while states:
        mask = actions.valid(states, labels)
        exact = numpy.asarray([[ner.moves.is_valid(s, name) for name in actions.names] for s in states])
        assert (mask == exact).all()
        n_checked += len(states)
        kept, kept_labels = [], []
        for state, label, row in zip(states, labels, mask):
            # Random valid actions, so entities of many labels are opened and closed
            name = actions.names[rng.choice(numpy.flatnonzero(row))]
            ner.moves.apply_transition(state, name)
            if not state.is_final():
                kept.append(state)
                kept_labels.append(open_label_after(name, label))
        states, labels = kept, kept_labels
    assert n_checked >= sum(len(t.split()) for t in TEXTS)


def updated(base, steps: int, *, distill: bool, pull: float = 0.0):
    """The base updated on brand-only data (other tokens O), with or without soft targets on raw news text."""
    fix_random_seed(0)
    nlp, teacher = spacy.load(base), spacy.load(base)
    examples = [Example(nlp.make_doc(t), nlp.make_doc(t)) for t, _ in BRAND_SENTENCES]
    for eg, (_, ents) in zip(examples, BRAND_SENTENCES):
        eg.reference.set_ents([eg.reference.char_span(s, e, label=label) for s, e, label in ents], default="outside")
    optimizer = nlp.resume_training()
    soft = distiller(nlp, teacher) if distill else None
    anchor = WeightAnchor([nlp.get_pipe("ner").model], pull) if pull else None
    raw = [nlp.make_doc(item.text) for item in conll_texts(CONLL_TRAIN, 32)]
    for _ in range(steps):
        with nlp.select_pipes(enable=["ner"]):
            nlp.update(examples, sgd=False)
        if soft is not None:
            soft(raw)
        if anchor is not None:
            anchor.pull()
        nlp.get_pipe("ner").finish_update(optimizer)
    return nlp, teacher


def agreement(nlp, teacher) -> float:
    """Micro F of `nlp`'s entities against the teacher's on held-out news (the teacher's labels)."""
    texts = [item.text for item in conll_texts(CONLL_DEV, 100)]
    refs = list(teacher.pipe(texts))
    return float(score_ents(nlp.pipe(texts), refs, labels=set(teacher.get_pipe("ner").labels))["micro"]["f"])


def test_distillation_keeps_the_student_closer_to_its_teacher(base_model, conll_data):
    naive, teacher = updated(base_model, STEPS, distill=False)
    soft, _ = updated(base_model, STEPS, distill=True)
    assert agreement(soft, teacher) >= agreement(naive, teacher) + 0.1
    assert BRAND in soft.get_pipe("ner").labels


def test_l2_pull_keeps_the_weights_nearer_the_start(base_model, conll_data):
    free, _ = updated(base_model, 10, distill=False)
    pulled, teacher = updated(base_model, 10, distill=False, pull=10.0)
    start = WeightAnchor([teacher.get_pipe("ner").model], 0.0)

    def distance(nlp):
        anchor = WeightAnchor([nlp.get_pipe("ner").model], 0.0)
        return sum(
            float(((anchor.start[key] - start.start[other]) ** 2).sum())
            for key, other in zip(anchor.start, start.start)
            if anchor.start[key].shape == start.start[other].shape
        )

    assert distance(pulled) < 0.7 * distance(free)


def test_weight_anchor_pulls_the_original_rows_of_a_resized_output(base_model):
    ner = spacy.load(base_model).get_pipe("ner")
    anchor = WeightAnchor([ner.model], 2.0)
    assert anchor.pull() == 0.0
    lower = ner.model.get_ref("lower")
    lower.set_param("b", lower.get_param("b") + 0.5)
    n_old = ner.moves.n_moves
    ner.add_label(BRAND)  # resizes the output layer (a new node): the original rows are still pulled
    upper = ner.model.get_ref("upper")
    upper.set_param("b", upper.get_param("b") + 1.0)
    distance = anchor.pull()
    assert distance == pytest.approx(0.25 * lower.get_param("b").size + n_old, rel=1e-4)
    assert numpy.allclose(lower.get_grad("b"), 1.0)
    assert numpy.allclose(upper.get_grad("b")[:n_old], 2.0) and not upper.get_grad("b")[n_old:].any()


def test_distill_needs_transition_based_ners(base_model, tmp_path):
    ruler_only = spacy.blank("en")
    ruler_only.add_pipe("entity_ruler").add_patterns([{"label": "ORG", "pattern": "Apple"}])
    with pytest.raises(TeacherError, match="needs the teacher's 'ner' to be a transition-based NER"):
        Distiller(spacy.load(base_model), "ner", ruler_only, temperature=1.0, weight=1.0, new_actions="ignore")
    with pytest.raises(SettingError, match="the student's 'tagger' to be a transition-based NER"):
        Distiller(spacy.load(base_model), "tagger", spacy.load(base_model), temperature=1.0, weight=1.0, new_actions="ignore")


def test_a_student_listening_to_a_shared_tok2vec_gets_gradients_through_it(listener_base):
    student, teacher = spacy.load(listener_base), spacy.load(listener_base)
    docs = [student.make_doc(text) for text in TEXTS]
    tok2vec = student.get_pipe("tok2vec").model
    assert distiller(student, teacher)(docs) == pytest.approx(0.0, abs=1e-6)
    assert max_grad(tok2vec) < 1e-6
    upper = student.get_pipe("ner").model.get_ref("upper")
    upper.set_param("b", upper.get_param("b") + numpy.linspace(-1, 1, upper.get_param("b").size, dtype="f"))
    assert distiller(student, teacher)(docs) > 0.01
    assert max_grad(tok2vec) > 1e-4  # the listener passed the soft-target gradient back to the shared layer
    with pytest.raises(SettingError, match=r"'ner' listens to \['tok2vec'\], which \[training\] frozen_components freezes"):
        Distiller(student, "ner", teacher, temperature=1.0, weight=1.0, new_actions="ignore", frozen=["tok2vec"])


def test_teacher_entities_argues_against_new_actions_only_on_the_teachers_entities(base_model):
    student, teacher = spacy.load(base_model), spacy.load(base_model)
    student.get_pipe("ner").add_label(BRAND)
    student.get_pipe("ner").model.attrs["unseen_classes"].clear()
    soft = distiller(student, teacher, new_actions="teacher_entities")
    n = len(soft.actions.names)
    # Two states: the teacher's best is U-ORG in the first, O in the second; every action valid
    teacher_scores = numpy.zeros((2, teacher.get_pipe("ner").moves.n_moves), dtype="f")
    teacher_names = [teacher.get_pipe("ner").moves.get_class_name(i) for i in range(teacher_scores.shape[1])]
    teacher_scores[0, teacher_names.index("U-ORG")] = 5.0
    teacher_scores[1, teacher_names.index("O")] = 5.0
    scores = numpy.zeros((2, n), dtype="f")
    d_scores, _ = soft.soft_target_gradient(scores, teacher_scores, numpy.ones((2, n), dtype=bool))
    new = [soft.actions.names.index(f"{move}-{BRAND}") for move in "BILU"]
    assert (d_scores[0, new] > 0).all()  # pushed down where the teacher sees an entity
    assert not d_scores[1, new].any()  # left alone where the teacher sees O
