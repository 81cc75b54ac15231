"""Reading annotations and raw text: the formats, the per-file counts, and errors that name file and line."""
import json
from pathlib import Path
from typing import List

import pytest
from spacy.tokens import Doc, DocBin, Span
from spacy.vocab import Vocab

from spacy_rehearsal.data.formats import InputError, check_raw_path, iter_raw_texts, read_annotations

TEXT = "I love Gucci bags"


def write_jsonl(path: Path, records: List[object]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf8")
    return path


def prodigy(text=TEXT, spans=((7, 12, "FASHION_BRAND"),), **extra) -> dict:
    return {"text": text, "spans": [{"start": s, "end": e, "label": label} for s, e, label in spans], **extra}


def test_prodigy_jsonl(tmp_path):
    path = write_jsonl(tmp_path / "a.jsonl", [prodigy(answer="accept"), prodigy("No brands here", spans=())])
    records, stats = read_annotations(path)
    assert [r.spans for r in records] == [[(7, 12, "FASHION_BRAND")], []]
    assert records[0].source == f"{path}:1" and records[1].source == f"{path}:2"
    assert records[0].words is None and records[0].missing == []
    assert (stats[0].path, stats[0].examples, stats[0].spans) == (path, 2, 1)


def test_prodigy_tokens_give_the_tokenization(tmp_path):
    text = "Gucci's  bags."
    tokens = [{"start": 0, "end": 5}, {"start": 5, "end": 7}, {"start": 9, "end": 13}, {"start": 13, "end": 14}]
    path = write_jsonl(tmp_path / "a.jsonl", [prodigy(text, [(0, 5, "FASHION_BRAND")], tokens=tokens)])
    (record,), _ = read_annotations(path)
    assert record.words[0] == "Gucci" and record.words[-2:] == ["bags", "."]
    assert Doc(Vocab(), words=record.words, spaces=record.spaces).text == text


def test_prodigy_answer_reject_and_ignore_are_skipped_and_counted(tmp_path):
    lines = [prodigy(answer="accept"), prodigy(answer="reject"), prodigy(answer="ignore"), prodigy(answer="reject")]
    path = write_jsonl(tmp_path / "a.jsonl", lines)
    records, (stats,) = read_annotations(path)
    assert [r.source for r in records] == [f"{path}:1"]
    assert stats.examples == 1 and stats.spans == 1
    assert dict(stats.skipped) == {"answer=reject": 2, "answer=ignore": 1}
    assert stats.describe() == f"{path}: 1 examples, 1 spans; skipped 1 answer=ignore, 2 answer=reject"


def test_empty_text_is_skipped_and_counted(tmp_path):
    path = write_jsonl(tmp_path / "a.jsonl", [prodigy(), {"text": "  "}])
    records, (stats,) = read_annotations(path)
    assert len(records) == 1 and stats.skipped["empty text"] == 1


def test_spacy_entities_form(tmp_path):
    path = write_jsonl(tmp_path / "a.jsonl", [{"text": TEXT, "entities": [[7, 12, "FASHION_BRAND"], [0, 1, "X"]]}])
    (record,), _ = read_annotations(path)
    assert record.spans == [(0, 1, "X"), (7, 12, "FASHION_BRAND")]  # sorted by start


def test_docbin_keeps_tokenization_and_missing_ner(tmp_path):
    vocab = Vocab()
    doc = Doc(vocab, words=["I", "love", "Gucci", "bags", "from", "Milan"])
    doc.set_ents([Span(doc, 2, 3, "FASHION_BRAND")], missing=[doc[4:6]], default="outside")
    doc2 = Doc(vocab, words=["Nothing", "here"])
    doc2.set_ents([], default="outside")
    path = tmp_path / "a.spacy"
    DocBin(docs=[doc, doc2]).to_disk(path)
    records, (stats,) = read_annotations(path)
    assert [r.source for r in records] == [f"{path}#doc0", f"{path}#doc1"]
    assert records[0].spans == [(7, 12, "FASHION_BRAND")]
    assert records[0].words == ["I", "love", "Gucci", "bags", "from", "Milan"]
    assert records[0].missing == [4, 5]
    assert records[1].missing == []
    assert (stats.examples, stats.spans) == (2, 1)


def test_directory_is_read_recursively_in_sorted_order(tmp_path):
    write_jsonl(tmp_path / "d" / "b.jsonl", [prodigy("second file", spans=())] * 2)
    write_jsonl(tmp_path / "d" / "a" / "z.jsonl", [prodigy()])
    (tmp_path / "d" / ".hidden").write_text("ignored")
    records, stats = read_annotations(tmp_path / "d")
    assert [s.path.name for s in stats] == ["z.jsonl", "b.jsonl"]
    assert [s.examples for s in stats] == [1, 2]
    assert [r.text for r in records] == [TEXT, "second file", "second file"]


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match=r"nope\.jsonl: annotation file or directory not found"):
        read_annotations(tmp_path / "nope.jsonl")


def test_empty_directory(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match=r"empty: directory holds no annotation files"):
        read_annotations(tmp_path / "empty")


def test_unsupported_files(tmp_path):
    (tmp_path / "a.csv").write_text("x")
    with pytest.raises(InputError, match=r"a\.csv: unsupported annotation file type '\.csv'"):
        read_annotations(tmp_path / "a.csv")
    with pytest.raises(InputError, match=r"unsupported annotation files in directory .*a\.csv"):
        read_annotations(tmp_path)


def test_line_that_is_not_json_names_file_and_line(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_text(json.dumps(prodigy()) + "\n\n{not json\n")
    with pytest.raises(InputError, match=rf"{path}:3: line is not valid JSON"):
        read_annotations(path)


def test_json_that_is_not_an_object(tmp_path):
    path = write_jsonl(tmp_path / "a.jsonl", [[1, 2]])
    with pytest.raises(InputError, match=rf"{path}:1: expected a JSON object, got list"):
        read_annotations(path)


def test_record_without_text(tmp_path):
    path = write_jsonl(tmp_path / "a.jsonl", [prodigy(), {"spans": []}])
    with pytest.raises(InputError, match=rf"{path}:2: record has no 'text' field"):
        read_annotations(path)


@pytest.mark.parametrize(
    "spans,message",
    [
        ([(0, 1, "A"), (0, 6, "B")], r"overlapping spans \(0, 1, A\) 'I' and \(0, 6, B\) 'I love'"),
        ([(7, 12, "A"), (10, 17, "B")], r"overlapping spans \(7, 12, A\) 'Gucci' and \(10, 17, B\)"),
        ([(7, 7, "A")], r"span \(7, 7, A\) has start >= end"),
        ([(12, 7, "A")], r"span \(12, 7, A\) has start >= end"),
        ([(13, 18, "A")], r"span \(13, 18, A\) is outside the text \(length 17\)"),
        ([(-1, 1, "A")], r"span \(-1, 1, A\) is outside the text"),
        ([(7.0, 12, "A")], r"span offsets must be integers"),
        ([(7, 12, "")], r"span label must be a non-empty string"),
    ],
)
def test_bad_spans_name_file_and_line(tmp_path, spans, message):
    path = write_jsonl(tmp_path / "a.jsonl", [prodigy(), prodigy(spans=spans)])
    with pytest.raises(InputError, match=rf"{path}:2: {message}"):
        read_annotations(path)


def test_bad_span_in_entities_form(tmp_path):
    path = write_jsonl(tmp_path / "a.jsonl", [{"text": TEXT, "entities": [[7, 12]]}])
    with pytest.raises(InputError, match=rf"{path}:1: entity 0 must be \[start, end, label\]"):
        read_annotations(path)
    path = write_jsonl(tmp_path / "b.jsonl", [{"text": TEXT, "spans": [{"start": 7, "end": 12}]}])
    with pytest.raises(InputError, match=rf"{path}:1: span 0 needs 'start', 'end' and 'label'"):
        read_annotations(path)


def test_unreadable_docbin(tmp_path):
    path = tmp_path / "a.spacy"
    path.write_bytes(b"not a docbin")
    with pytest.raises(InputError, match=rf"{path}: not a readable DocBin file"):
        read_annotations(path)


def test_raw_text_formats(tmp_path):
    (tmp_path / "raw").mkdir()
    (tmp_path / "raw" / "a.txt").write_text("first line\n\n   \nsecond line\n")
    write_jsonl(tmp_path / "raw" / "b.jsonl", [{"text": "from jsonl"}, {"text": ""}])
    DocBin(docs=[Doc(Vocab(), words=["from", "docbin"], spaces=[True, False])]).to_disk(tmp_path / "raw" / "c.spacy")
    stats = {}
    raws = list(iter_raw_texts(tmp_path / "raw", stats))
    assert [r.text for r in raws] == ["first line", "second line", "from jsonl", "from docbin"]
    assert raws[1].source == f"{tmp_path / 'raw' / 'a.txt'}:4"
    assert raws[-1].words == ["from", "docbin"] and raws[0].words is None
    counts = {p.name: (s.examples, dict(s.skipped)) for p, s in stats.items()}
    assert counts == {"a.txt": (2, {"blank lines": 2}), "b.jsonl": (1, {"empty text": 1}), "c.spacy": (1, {})}


def test_check_raw_path(tmp_path):
    with pytest.raises(InputError, match=r"raw\.txt: raw text file or directory not found"):
        check_raw_path(tmp_path / "raw.txt")
    (tmp_path / "raw.txt").write_text("\n\n")
    with pytest.raises(InputError, match=r"raw\.txt: raw text file holds no texts"):
        check_raw_path(tmp_path / "raw.txt")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match=r"empty: directory holds no raw text files"):
        check_raw_path(tmp_path / "empty")
    (tmp_path / "raw.txt").write_text("a text\n")
    assert check_raw_path(tmp_path / "raw.txt") == [tmp_path / "raw.txt"]
