"""The merge policy: gold wins, covered labels are never filled, no overlaps, missing stays missing."""
import pytest
from spacy.tokens import Doc
from spacy.vocab import Vocab

from spacy_rehearsal.data.merge import FILL_VALUES, fill_spans, merge_entities

WORDS = "I bought Gucci shoes in Paris with Anna Smith last Monday".split()
#        0  1      2     3      4  5     6    7    8     9    10
GOLD = [(2, 3, "FASHION_BRAND")]


def make_doc() -> Doc:
    return Doc(Vocab(), words=WORDS)


def ents(doc: Doc):
    return [(e.start, e.end, e.label_) for e in doc.ents]


def test_fill_spans_drops_teacher_spans_overlapping_gold():
    teacher = [(2, 4, "ORG"), (1, 3, "PRODUCT"), (5, 6, "GPE")]
    assert fill_spans(GOLD, (), teacher, covered_labels={"FASHION_BRAND"}) == [(5, 6, "GPE")]


def test_fill_spans_keeps_adjacent_teacher_spans():
    teacher = [(1, 2, "ORG"), (3, 4, "PRODUCT")]
    assert fill_spans(GOLD, (), teacher, covered_labels=set()) == teacher


def test_fill_spans_never_adds_covered_labels():
    # An ORG far from any gold span is still dropped when ORG is a covered label.
    teacher = [(5, 6, "GPE"), (7, 9, "ORG")]
    assert fill_spans(GOLD, (), teacher, covered_labels={"FASHION_BRAND", "ORG"}) == [(5, 6, "GPE")]


def test_fill_spans_drops_teacher_spans_on_missing_tokens():
    teacher = [(5, 6, "GPE"), (7, 9, "PERSON"), (9, 11, "DATE")]
    assert fill_spans(GOLD, {8}, teacher, covered_labels=set()) == [(5, 6, "GPE"), (9, 11, "DATE")]


def test_merge_teacher_gold_wins_and_rest_is_outside():
    doc = make_doc()
    teacher = [(2, 3, "ORG"), (5, 6, "GPE"), (7, 9, "PERSON"), (9, 11, "DATE")]
    merge_entities(doc, GOLD, teacher, fill="teacher", covered_labels={"FASHION_BRAND"})
    assert ents(doc) == [(2, 3, "FASHION_BRAND"), (5, 6, "GPE"), (7, 9, "PERSON"), (9, 11, "DATE")]
    # Every token is annotated: entity or O, none missing.
    assert all(t.ent_iob != 0 for t in doc)
    assert [t.ent_iob_ for t in doc[:2]] == ["O", "O"]


def test_merge_teacher_never_adds_covered_labels():
    doc = make_doc()
    teacher = [(5, 6, "GPE"), (7, 9, "FASHION_BRAND")]
    merge_entities(doc, GOLD, teacher, fill="teacher", covered_labels={"FASHION_BRAND"})
    assert ents(doc) == [(2, 3, "FASHION_BRAND"), (5, 6, "GPE")]
    assert doc[7].ent_iob_ == "O" and doc[8].ent_iob_ == "O"


def test_merge_teacher_never_overlaps_gold():
    doc = make_doc()
    # The teacher's span covers the gold span and a token more: dropped whole.
    merge_entities(doc, GOLD, [(1, 4, "PRODUCT")], fill="teacher", covered_labels={"FASHION_BRAND"})
    assert ents(doc) == [(2, 3, "FASHION_BRAND")]
    assert doc[1].ent_iob_ == "O" and doc[3].ent_iob_ == "O"


def test_merge_missing_leaves_unlabelled_tokens_missing():
    doc = make_doc()
    merge_entities(doc, GOLD, [(5, 6, "GPE")], fill="missing", covered_labels={"FASHION_BRAND"})
    assert ents(doc) == [(2, 3, "FASHION_BRAND")]
    assert [t.ent_iob for t in doc] == [0, 0, 3] + [0] * 8


def test_merge_outside_sets_everything_else_to_o():
    doc = make_doc()
    merge_entities(doc, GOLD, [(5, 6, "GPE")], fill="outside", covered_labels={"FASHION_BRAND"})
    assert ents(doc) == [(2, 3, "FASHION_BRAND")]
    assert [t.ent_iob_ for t in doc] == ["O", "O", "B"] + ["O"] * 8


@pytest.mark.parametrize("fill", FILL_VALUES)
def test_merge_input_missing_tokens_stay_missing(fill):
    doc = make_doc()
    teacher = [(5, 6, "GPE"), (7, 9, "PERSON")]
    merge_entities(doc, GOLD, teacher, fill=fill, covered_labels={"FASHION_BRAND"}, missing=[7, 8])
    assert doc[7].ent_iob == 0 and doc[8].ent_iob == 0
    assert (2, 3, "FASHION_BRAND") in ents(doc)
    assert all(label != "PERSON" for _, _, label in ents(doc))


def test_merge_rejects_unknown_fill():
    with pytest.raises(ValueError, match=r"fill must be one of .*got 'nothing'"):
        merge_entities(make_doc(), GOLD, [], fill="nothing", covered_labels=set())
