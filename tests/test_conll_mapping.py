"""benchmarks/conll_mapping.py: CoNLL-2003 tags as corrections in the base pipeline's labels."""
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

import pytest  # noqa: E402
import spacy  # noqa: E402
from conftest import BASE, CONLL_TRAIN  # noqa: E402
from conll_mapping import correction, iob_spans, map_spans, prodigy_record  # noqa: E402
from spacy.tokens import Doc  # noqa: E402

from spacy_rehearsal.data.formats import read_annotations  # noqa: E402
from spacy_rehearsal.data.merge import gold_token_spans  # noqa: E402

WORDS = "Peter Blackburn of the EU met German farmers in Brussels .".split()
TAGS = ["B-PER", "I-PER", "O", "O", "B-ORG", "O", "B-MISC", "O", "O", "B-LOC", "O"]


def test_each_conll_type_mapped_and_misc_left_out():
    assert iob_spans(TAGS) == [(0, 2, "PER"), (4, 5, "ORG"), (6, 7, "MISC"), (9, 10, "LOC")]
    assert map_spans(iob_spans(TAGS)) == [(0, 2, "PERSON"), (4, 5, "ORG"), (9, 10, "GPE")]
    record = correction(WORDS, TAGS)
    assert [(s["label"], record["text"][s["start"]:s["end"]]) for s in record["spans"]] == [
        ("PERSON", "Peter Blackburn"), ("ORG", "EU"), ("GPE", "Brussels")]
    assert correction(["German", "lamb"], ["B-MISC", "O"])["spans"] == []


def test_loc_follows_the_base_only_on_exactly_the_same_span():
    spans = [(2, 4, "LOC")]
    assert map_spans(spans, [(2, 4, "LOC")]) == [(2, 4, "LOC")]
    assert map_spans(spans, [(3, 4, "LOC")]) == [(2, 4, "GPE")]  # other boundaries
    assert map_spans(spans, [(2, 4, "GPE")]) == [(2, 4, "GPE")]
    assert map_spans([(2, 4, "PER")], [(2, 4, "LOC")]) == [(2, 4, "PERSON")]  # only CoNLL LOC can become LOC


def test_loc_rule_with_the_real_base_pipeline():
    nlp = spacy.load(BASE)
    words = "He sailed the Atlantic to Europe and Germany .".split()
    tags = ["O", "O", "O", "B-LOC", "O", "B-LOC", "O", "B-LOC", "O"]
    doc = nlp(Doc(nlp.vocab, words=words))
    base = [(e.start, e.end, e.label_) for e in doc.ents]
    assert base == [(3, 4, "LOC"), (5, 6, "LOC"), (7, 8, "GPE")]  # what the rule reads
    assert map_spans(iob_spans(tags), base) == [(3, 4, "LOC"), (5, 6, "LOC"), (7, 8, "GPE")]


@pytest.mark.parametrize("tags,expected", [
    (["I-PER", "I-PER", "O"], [(0, 2, "PER")]),  # stray I- at the start
    (["O", "I-ORG"], [(1, 2, "ORG")]),  # stray I- after O, entity at the end
    (["B-PER", "I-ORG", "I-ORG"], [(0, 1, "PER"), (1, 3, "ORG")]),  # I- of another label starts a new entity
    (["B-PER", "B-PER", "I-PER"], [(0, 1, "PER"), (1, 3, "PER")]),  # adjacent B- spans stay apart
    (["B-LOC", "B-LOC"], [(0, 1, "LOC"), (1, 2, "LOC")]),
    (["O", "O"], []),
    ([], []),
])
def test_iob2_edge_cases(tags, expected):
    assert iob_spans(tags) == expected


@pytest.mark.parametrize("tag", ["PER", "B-", "E-PER", "S-LOC", ""])
def test_bad_tags_raise(tag):
    with pytest.raises(ValueError, match="token 1"):
        iob_spans(["O", tag])


def test_iob_spans_match_prepare_conll_on_real_data(conll_data):
    from prepare_conll import read_conll, to_doc

    nlp = spacy.blank("en")
    for words, tags in read_conll(CONLL_TRAIN)[:3000]:
        assert iob_spans(tags) == [(e.start, e.end, e.label_) for e in to_doc(nlp, words, tags).ents]


def test_character_offsets_match_the_text_and_the_reader(conll_data, tmp_path):
    from prepare_conll import read_conll

    sentences = [s for s in read_conll(CONLL_TRAIN)[:400] if any(t != "O" for t in s[1])]
    records = [correction(words, tags) for words, tags in sentences]
    nlp = spacy.blank("en")
    for (words, _tags), record in zip(sentences, records):
        assert record["text"] == " ".join(words)
        assert [t["text"] for t in record["tokens"]] == words
        assert all(record["text"][t["start"]:t["end"]] == t["text"] for t in record["tokens"])
        doc = Doc(nlp.vocab, words=words, spaces=[t["ws"] for t in record["tokens"]])
        assert doc.text == record["text"]
        for span in record["spans"]:
            ent = doc.char_span(span["start"], span["end"], label=span["label"], alignment_mode="strict")
            assert ent is not None and (ent.start, ent.end - 1) == (span["token_start"], span["token_end"])
    # The package's reader reads the export back with the CoNLL tokens and the same spans
    path = tmp_path / "corrections.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf8")
    read, _ = read_annotations(path)
    assert len(read) == len(records)
    for (words, tags), rec in zip(sentences, read):
        assert rec.words == words
        doc = Doc(nlp.vocab, words=rec.words, spaces=rec.spaces)
        assert gold_token_spans(rec, doc) == map_spans(iob_spans(tags))
    assert {label for rec in read for _, _, label in rec.spans} == {"PERSON", "ORG", "GPE"}


def test_prodigy_record_of_no_spans_and_one_word():
    record = prodigy_record(["Hello"], [])
    assert record == {"text": "Hello", "tokens": [{"text": "Hello", "start": 0, "end": 5, "id": 0, "ws": False}],
                      "spans": [], "answer": "accept"}
