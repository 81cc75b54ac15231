"""A new user's small slips (issue 33): each answered in plain words, with the way forward in the same line.

- a JSONL line that is not JSON says what is wrong (cut short, a trailing
  comma, an unclosed string) and at which column, not the decoder's words;
- raw text that holds nothing but the annotated texts (a user who annotated
  their whole corpus and gives it as raw text too) stops `spacy train` with
  what to give instead; `--paths.raw null` then trains the component strategy;
- the quickstart writes what it makes under folders `.gitignore` covers.
"""
import re
import subprocess
from pathlib import Path

import pytest
from conftest import ROOT
from train_helpers import BRAND, failure_messages, fashion_records, run_train, write_jsonl

from spacy_rehearsal.data.formats import read_annotations
from spacy_rehearsal.errors import InputError

CUT_SHORT = '{"text": "Levi\'s jeans", "spans": [{"start": 0, "end": 6, "label": "FASHION_BRAND"}'


@pytest.mark.parametrize(
    "line,expected",
    [
        (CUT_SHORT, rf"cut short, it ends at column {len(CUT_SHORT)} with \]\}} still to close"),
        ('{"text": "Levi\'s jeans", "spans": [],}', r"a trailing comma before '\}' at column 38 \(JSON allows none\)"),
        ('{"text": "Levi\'s jeans', r"a string opened at column 10 is not closed"),
        ("{'text': 'Gucci'}", r"a single quote at column 2: JSON strings take double quotes"),
        ('{"text": "a"}{"text": "b"}', r"more text after the JSON object ends, at column 14"),
        ('{"text": "a" "spans": []}', r"a comma \(or a closing bracket\) expected at column 14, found '\"'"),
    ],
)
def test_a_line_that_is_not_json_says_what_is_wrong_and_where(tmp_path, line, expected):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"text": "Gucci belts.", "spans": []}\n' + line + "\n", encoding="utf8")
    with pytest.raises(InputError, match=rf"bad\.jsonl:2: line is not valid JSON: {expected}"):
        read_annotations(path)


def init_config(base_model: str, tmp_path: Path, strategy: str) -> Path:
    config = tmp_path / f"{strategy}.cfg"
    subprocess.run(["python", "-m", "spacy", "rehearsal", "init-config", base_model, str(config), "--labels", BRAND,
                    "--strategy", strategy], check=True, capture_output=True, cwd=ROOT)
    return config


@pytest.mark.parametrize("strategy", ["component", "rehearsal"])
def test_raw_text_that_is_all_annotated_says_what_to_give(base_model, tmp_path, capsys, strategy):
    records = fashion_records(n=8)
    train = write_jsonl(tmp_path / "train.jsonl", records)
    raw = tmp_path / "raw.txt"
    raw.write_text("".join(r["text"] + "\n" for r in records), encoding="utf8")  # the whole corpus, annotated
    config = init_config(base_model, tmp_path, strategy)
    if strategy == "rehearsal":  # the callback holds 200 raw texts out for its retention score: here 2
        text = config.read_text(encoding="utf8").replace("[training.before_update]\n", "[training.before_update]\nheldout_size = 2\n")
        config.write_text(text, encoding="utf8")
    code, output = run_train(config, tmp_path / "out", capsys, train=train, dev=train, raw=raw)
    assert code == 1
    (failure,) = failure_messages(output)
    assert re.match(rf"✘ {re.escape(str(raw))}: raw text holds no texts to rehearse: .*skipped \d annotated texts", failure)
    assert "give them with --paths.raw FILE" in failure and "--paths.raw null" in failure


@pytest.mark.slow
def test_the_component_trains_without_raw_text_as_the_advice_says(base_model, tmp_path, capsys):
    train = write_jsonl(tmp_path / "train.jsonl", fashion_records(n=8))
    config = init_config(base_model, tmp_path, "component")
    code, output = run_train(config, tmp_path / "out", capsys, train=train, dev=train, raw=None)
    assert code == 0, output
    assert "paths.raw is not set" in " ".join(output.split())
    assert (tmp_path / "out" / "model-last").exists()


def test_the_quickstart_writes_under_ignored_folders():
    readme = (ROOT / "README.md").read_text(encoding="utf8")
    quickstart = readme.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    block = re.findall(r"```bash\n(.*?)```", quickstart, flags=re.S)[0]
    written = re.findall(r"init-config \S+ (\S+)", block) + re.findall(r"--html (\S+)", block)
    written += re.findall(r"--output (\S+)", block) + re.findall(r"--paths\.cache (\S+)", block)
    assert len(written) == 4, written
    for path in written:
        ignored = subprocess.run(["git", "check-ignore", "-q", path], cwd=ROOT)
        assert ignored.returncode == 0, f"{path} is not covered by .gitignore"
