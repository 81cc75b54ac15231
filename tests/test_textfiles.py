"""Reading text files: encodings, line ends, byte offsets; raw text skipped or stopped on; one-line errors."""
import codecs
import json
import pickle
import re

import pytest
from spacy.cli._util import show_validation_error

from spacy_rehearsal.data.formats import read_annotations
from spacy_rehearsal.data.rawtext import check_raw_path, iter_raw_texts, too_long_reason
from spacy_rehearsal.data.textfiles import HEAD_BYTES, check_text_file, jsonl_objects, text_lines
from spacy_rehearsal.errors import InputError, RehearsalError, TeacherError

RECORD = {"text": "I love Gucci bags", "spans": [{"start": 7, "end": 12, "label": "FASHION_BRAND"}]}


def test_bom_and_crlf_are_removed(tmp_path):
    path = tmp_path / "a.txt"
    path.write_bytes(codecs.BOM_UTF8 + b"first\r\nsecond\r\n\r\nthird")
    assert list(text_lines(path)) == [(1, "first", ""), (2, "second", ""), (3, "", ""), (4, "third", "")]


def test_bom_crlf_jsonl_is_read_like_plain_jsonl(tmp_path):
    plain, windows = tmp_path / "plain.jsonl", tmp_path / "windows.jsonl"
    plain.write_text(json.dumps(RECORD) + "\n" + json.dumps(RECORD) + "\n", encoding="utf8")
    windows.write_bytes(codecs.BOM_UTF8 + (json.dumps(RECORD) + "\r\n").encode() * 2)
    (records, _), (expected, _) = read_annotations(windows), read_annotations(plain)
    assert [(r.text, r.spans) for r in records] == [(r.text, r.spans) for r in expected]
    assert [r.source for r in records] == [f"{windows}:1", f"{windows}:2"]


def test_bad_line_gives_its_line_and_byte_offset(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_bytes(b'{"text": "ok"}\n{"text": "caf\xe9"}\n{"text": "ok"}\n')
    got = list(jsonl_objects(path))
    assert [(i, data) for i, data, _ in got] == [(1, {"text": "ok"}), (2, None), (3, {"text": "ok"})]
    assert got[1][2] == "not UTF-8 text: byte 0xE9 at byte offset 28 cannot be decoded (save it as UTF-8)"


@pytest.mark.parametrize(
    "data,expected",
    [
        ("x\n".encode("utf-16-le"), r"a\.txt:1: not a text file: NUL byte at byte offset 1"),
        ("x\n".encode("utf-16"), r"a\.txt: the file is UTF-16 text \(byte-order mark FF FE\)"),
        ("x\n".encode("utf-16-be"), r"a\.txt:1: not a text file: NUL byte at byte offset 0"),
        ("x\n".encode("utf-32"), r"a\.txt: the file is UTF-32 text \(byte-order mark FF FE 00 00\)"),
        (b"ok\n" * 10 + b"\xc3(\n", r"a\.txt:11: not UTF-8 text: byte 0xC3 at byte offset 30"),
    ],
)
def test_check_text_file(tmp_path, data, expected):
    path = tmp_path / "a.txt"
    path.write_bytes(data)
    with pytest.raises(InputError, match=expected):
        check_text_file(path)


def test_check_text_file_reads_only_the_head(tmp_path):
    path = tmp_path / "a.txt"
    head = b"a line of text\n" * (HEAD_BYTES // 15 + 1)
    path.write_bytes(head + b"caf\xe9\n")
    check_text_file(path)  # the bad byte lies past the head: found when its line is read
    line = head.count(b"\n") + 1
    with pytest.raises(InputError, match=rf"a\.txt:{line}: not UTF-8 text: byte 0xE9 at byte offset {len(head) + 3}"):
        list(iter_raw_texts(path))
    # A multi-byte character cut by the end of the head is not an error.
    cut = tmp_path / "cut.txt"
    cut.write_bytes(b"x" * (HEAD_BYTES - 1) + "é\n".encode() + b"more\n")
    check_text_file(cut)


def raw_jsonl(tmp_path):
    path = tmp_path / "raw.jsonl"
    lines = [b'{"text": "one"}', b"{not json", b'{"text": 3}', b'{"text": "caf\xe9"}', b'{"text": "xxxxxxxxxx"}', b'{"text": "two"}']
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def test_raw_text_raise_stops_on_the_first_bad_line(tmp_path):
    with pytest.raises(InputError, match=r"raw\.jsonl:2: line is not valid JSON"):
        list(iter_raw_texts(raw_jsonl(tmp_path)))


def test_raw_text_skip_counts_and_names_every_bad_line(tmp_path):
    path = raw_jsonl(tmp_path)
    stats, skipped = {}, []
    texts = list(iter_raw_texts(path, stats, on_error="skip", max_chars=5, on_skip=lambda w, p: skipped.append((w, p))))
    assert [t.text for t in texts] == ["one", "two"] and [t.source for t in texts] == [f"{path}:1", f"{path}:6"]
    assert dict(stats[path].skipped) == {
        "not a JSON object": 1, "no text field": 1, "not UTF-8": 1, too_long_reason(5): 1,
    }
    assert [w for w, _ in skipped] == [f"{path}:{i}" for i in (2, 3, 4, 5)]
    assert skipped[2][1].startswith("not UTF-8 text: byte 0xE9")
    assert "xxxxxxxxxx" not in " ".join(p for _, p in skipped)  # no text of the user's in a message
    assert stats[path].examples == 2


def test_raw_text_skip_leaves_out_an_unreadable_file(tmp_path):
    (tmp_path / "raw").mkdir()
    (tmp_path / "raw" / "a.txt").write_bytes("bad\n".encode("utf-16"))
    (tmp_path / "raw" / "b.txt").write_text("good\n", encoding="utf8")
    stats, skipped = {}, []
    texts = list(iter_raw_texts(tmp_path / "raw", stats, on_error="skip", on_skip=lambda w, p: skipped.append(w)))
    assert [t.text for t in texts] == ["good"]
    assert dict(stats[tmp_path / "raw" / "a.txt"].skipped) == {"unreadable file": 1}
    assert skipped == [str(tmp_path / "raw" / "a.txt")]
    with pytest.raises(InputError, match=r"a\.txt: the file is UTF-16 text"):
        check_raw_path(tmp_path / "raw")  # and at resolve time it fails


def test_rehearsal_errors_are_one_line_for_spacy_and_for_python(capsys):
    error = InputError("data/train.jsonl:3", "'spans' must be a list, got str")
    assert str(error) == "data/train.jsonl:3: 'spans' must be a list, got str"
    assert isinstance(error, ValueError)
    assert repr(error) == "InputError(\"data/train.jsonl:3: 'spans' must be a list, got str\")"
    # How `spacy train` shows an error raised while it resolves the config: one line, exit 1.
    with pytest.raises(SystemExit) as exit_info:
        with show_validation_error("config.cfg", hint_fill=False):
            raise error
    assert exit_info.value.code == 1
    out = re.sub(r"\x1b\[[0-9;]*m", "", capsys.readouterr().out)
    assert [line for line in out.splitlines() if line.strip()] == ["✘ data/train.jsonl:3: 'spans' must be a list, got str"]
    for err in (error, TeacherError("Cannot load teacher pipeline 'x'"), RehearsalError("a setting")):
        copy = pickle.loads(pickle.dumps(err))
        assert type(copy) is type(err) and str(copy) == str(err)
