"""`spacy rehearsal annotate` and `evaluate` on bad input: one `✘` line naming the file (and line), early.

The commands run in this process through spaCy's typer app (as `python -m
spacy rehearsal ...` does); test_cli.py runs them in subprocesses.
"""
import codecs
import json
import re
from pathlib import Path
from typing import List

import pytest
from spacy.cli._util import app
from typer.testing import CliRunner

import spacy_rehearsal.cli  # noqa: F401 (adds the `rehearsal` commands to spaCy's app)

MAX_CHARS = 1_000_000
TEXTS = ["Barack Obama visited Paris last week.", "Apple opened an office in Berlin."]
GOOD = {"text": "I love Gucci bags", "spans": [{"start": 7, "end": 12, "label": "FASHION_BRAND"}]}


def run(*args: object):
    result = CliRunner().invoke(app, ["rehearsal", *map(str, args)], catch_exceptions=False)
    return result.exit_code, result.output


def one_failure(code: int, output: str) -> str:
    """The single `✘` line of a failed command."""
    assert code == 1, output
    failures = [line for line in output.splitlines() if line.startswith("✘")]
    assert len(failures) == 1, output
    return failures[0]


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.fixture
def raw(tmp_path) -> Path:
    return write(tmp_path / "raw.txt", "\n".join(TEXTS).encode() + b"\n")


def gold_file(tmp_path: Path, records: List[dict], name: str = "gold.jsonl") -> Path:
    return write(tmp_path / name, "".join(json.dumps(r) + "\n" for r in records).encode())


# --- annotate ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name,data,expected",
    [
        ("raw.txt", "One.\nTwo.\n".encode("utf-16"), r"raw\.txt: the file is UTF-16 text \(byte-order mark FF FE\)"),
        ("raw.txt", b"One.\nTwo.\nThr\xe9e.\n", r"raw\.txt:3: not UTF-8 text: byte 0xE9 at byte offset 13"),
        ("raw.txt", b"\x1f\x8b\x08\x00binary", r"raw\.txt:1: not UTF-8 text: byte 0x8B at byte offset 1"),
        ("raw.jsonl", b'{"text": "One."}\n{not json\n', r"raw\.jsonl:2: line is not valid JSON"),
        ("raw.jsonl", b'{"text": "One."}\n{"text": 3}\n', r"raw\.jsonl:2: 'text' must be a string, got int"),
    ],
)
def test_annotate_bad_input_names_file_and_line(base_model, tmp_path, name, data, expected):
    path = write(tmp_path / name, data)
    failure = one_failure(*run("annotate", base_model, path, tmp_path / "cache"))
    assert re.match(rf"✘ \S*{expected}", failure), failure
    assert not (tmp_path / "cache").exists()  # stopped before the teacher ran


def test_annotate_labels_error_names_the_option(base_model, raw, tmp_path):
    failure = one_failure(*run("annotate", base_model, raw, tmp_path / "cache", "--labels", "PERSON,FOO"))
    assert failure.startswith("✘ --labels ['FOO'] are not predicted by teacher")
    assert "teacher_labels" not in failure


def test_annotate_output_that_is_a_file(base_model, raw, tmp_path):
    out = write(tmp_path / "out", b"")
    failure = one_failure(*run("annotate", base_model, raw, out))
    assert failure == f"✘ {out}: is a file, not a directory (OUTPUT)"


def test_annotate_skips_and_counts_texts_over_max_length(base_model, tmp_path):
    path = write(tmp_path / "raw.txt", ("\n".join([TEXTS[0], "x " * (MAX_CHARS // 2 + 1), TEXTS[1]]) + "\n").encode())
    code, output = run("annotate", base_model, path, tmp_path / "cache", "--summary", tmp_path / "summary.json")
    assert code == 0, output
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["texts"] == 2
    assert summary["skipped"] == {f"longer than the pipeline's max_length ({MAX_CHARS} characters)": 1}
    assert "Skipped: 1 longer than the pipeline's max_length" in output


# --- evaluate ------------------------------------------------------------------------------------


def test_evaluate_raw_input_in_utf16(base_model, tmp_path):
    path = write(tmp_path / "raw.txt", "One.\n".encode("utf-16"))
    failure = one_failure(*run("evaluate", base_model, base_model, path))
    assert failure.endswith("raw.txt: the file is UTF-16 text (byte-order mark FF FE): save it as UTF-8")


@pytest.mark.parametrize(
    "data,expected",
    [
        (json.dumps(GOOD).encode("utf-16"), "gold.jsonl: the file is UTF-16 text"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "gold.jsonl:1: not UTF-8 text: byte 0x89 at byte offset 0"),
        (json.dumps(GOOD).encode() + b'\n{"text": "x", "spans": "x"}\n', "gold.jsonl:2: 'spans' must be a list, got str"),
    ],
)
def test_evaluate_bad_gold_names_file_and_line(base_model, tmp_path, data, expected):
    gold = write(tmp_path / "gold.jsonl", data)
    failure = one_failure(*run("evaluate", base_model, base_model, "--gold", gold))
    assert f"{tmp_path}/{expected}" in failure, failure


def test_evaluate_gold_span_off_token_boundaries_fails_like_the_reader(base_model, tmp_path):
    gold = gold_file(tmp_path, [GOOD, {"text": "Guccis are nice.", "spans": [{"start": 0, "end": 5, "label": "FASHION_BRAND"}]}])
    failure = one_failure(*run("evaluate", base_model, base_model, "--gold", gold))
    assert failure.startswith(f"✘ {gold}:2: span (0, 5, FASHION_BRAND) 'Gucci' does not fall on token boundaries")
    assert "misaligned_spans" not in failure  # a reader setting, not an option of this command


def test_evaluate_gold_with_bom_and_crlf(base_model, tmp_path):
    gold = write(tmp_path / "gold.jsonl", codecs.BOM_UTF8 + (json.dumps(GOOD) + "\r\n").encode() * 2)
    code, output = run("evaluate", base_model, base_model, "--gold", gold, "--output", tmp_path / "m.json")
    assert code == 0, output
    result = json.loads((tmp_path / "m.json").read_text())
    assert result["n_docs"] == 2 and result["gold"]["counts"] == {"FASHION_BRAND": 2}


def test_evaluate_output_directory_fails_before_loading_the_pipelines(base_model, raw, tmp_path):
    (tmp_path / "metrics").mkdir()
    # The updated pipeline does not exist: the --output check must come first.
    failure = one_failure(*run("evaluate", base_model, tmp_path / "no_model", raw, "--output", tmp_path / "metrics"))
    assert failure == f"✘ {tmp_path / 'metrics'}: --output is a directory: give a file path"
    (tmp_path / "plot.png").mkdir()
    failure = one_failure(*run("evaluate", base_model, tmp_path / "no_model", raw, "--plot", tmp_path / "plot.png"))
    assert failure == f"✘ {tmp_path / 'plot.png'}: --plot is a directory: give a file path"


@pytest.mark.parametrize("which", ["base", "updated"])
def test_evaluate_names_the_pipeline_that_cannot_load(base_model, raw, tmp_path, which):
    missing = tmp_path / "no_model"
    args = (missing, base_model) if which == "base" else (base_model, missing)
    failure = one_failure(*run("evaluate", *args, raw))
    assert failure.startswith(f"✘ Cannot load {which} pipeline '{missing}'")
    assert "teacher" not in failure


def test_evaluate_text_over_max_length_fails_naming_file_and_line(base_model, tmp_path):
    path = write(tmp_path / "raw.txt", (TEXTS[0] + "\n" + "x " * (MAX_CHARS // 2 + 1) + "\n").encode())
    failure = one_failure(*run("evaluate", base_model, base_model, path))
    assert failure == (
        f"✘ {path}:2: text of {MAX_CHARS + 2} characters is longer than the pipelines' max_length "
        f"({MAX_CHARS} characters): split it or leave it out"
    )
