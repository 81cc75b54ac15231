"""What `spacy train` prints about the plugin's inputs: counts by default, detail with --verbose.

Also what training does with raw text that turns out bad only after training
started (past the first shard and the part checked at resolve time): the text
is skipped, counted and named with its file and line, and training goes on.
"""
import json
import logging
import re
from pathlib import Path
from typing import List

import pytest
from spacy.util import load_config
from spacy.util import logger as spacy_logger
from train_helpers import BRAND, add_callback, failure_messages, flat, run_train, tiny_data, write_config, write_jsonl

import spacy_rehearsal.teacher.teacher as teacher_module
from spacy_rehearsal.data.textfiles import HEAD_BYTES

MAX_CHARS = 1_000_000  # the base pipeline's nlp.max_length
TOO_LONG = f"longer than the pipeline's max_length ({MAX_CHARS} characters)"


def with_rejected_and_misaligned(tmp: Path, data) -> Path:
    """The 20 training records plus 3 rejected, 2 misaligned and 1 over-long."""
    records = [json.loads(line) for line in data["train"].read_text(encoding="utf8").splitlines()]
    extra = [dict(records[i], answer="reject") for i in range(3)]
    extra += [
        {"text": "Guccis are nice.", "spans": [{"start": 0, "end": 5, "label": BRAND}]},
        {"text": "I like Pradas.", "spans": [{"start": 7, "end": 12, "label": BRAND}]},
        {"text": "x " * (MAX_CHARS // 2 + 1), "spans": []},
    ]
    return write_jsonl(tmp / "mixed.jsonl", records + extra)


def test_counts_are_printed_without_verbose(base_model, tmp_path, capsys):
    data = tiny_data(tmp_path)
    train = with_rejected_and_misaligned(tmp_path, data)
    config = write_config(tmp_path, base_model, edit=lambda c: c["corpora"]["train"].update(misaligned_spans="skip"))
    code, output = run_train(config, tmp_path / "out", capsys, **{**data, "train": train})
    assert code == 0, output
    text = flat(output)
    # One line per corpus: examples and spans read, skips by reason with the first line of each, rehearsal texts drawn.
    n_spans = sum(len(json.loads(line)["spans"]) for line in data["train"].read_text(encoding="utf8").splitlines())
    assert (
        f"ℹ rehearsal_reader.v2 {train}: 20 examples, {n_spans} spans read; skipped 3 answer=reject (first at {train}:21), "
        f"1 {TOO_LONG} (first at {train}:26), 2 misaligned spans (first at {train}:24); 20 rehearsal texts drawn a call "
        f"from {data['raw']}"
    ) in text
    assert f"ℹ rehearsal_reader.v2 {data['dev']}: 10 examples" in text
    assert text.count(f"rehearsal_reader.v2 {train}:") == 1  # resolved twice by spacy train, shown once
    # Detail only with --verbose.
    assert ": first at" not in text and "Teacher annotated" not in text
    assert (tmp_path / "out" / "model-last").is_dir()


def test_verbose_shows_where_skips_happened(base_model, tmp_path, capsys):
    data = tiny_data(tmp_path)
    train = with_rejected_and_misaligned(tmp_path, data)
    config = write_config(tmp_path, base_model, edit=lambda c: c["corpora"]["train"].update(misaligned_spans="skip"))
    level = spacy_logger.level
    spacy_logger.setLevel(logging.DEBUG)  # what `spacy train --verbose` does
    try:
        code, output = run_train(config, tmp_path / "out", capsys, **{**data, "train": train})
    finally:
        spacy_logger.setLevel(level)
    assert code == 0, output
    text = flat(output)
    assert f"answer=reject: first at {train}:21" in text
    assert f"misaligned spans: first at {train}:24" in text
    assert f"{TOO_LONG}: first at {train}:26" in text
    assert "Teacher annotated 20 new examples" in text
    assert text.count(f"misaligned spans: first at {train}:24") == 1


def bad_raw_file(tmp: Path, n: int = 120, bad_line: int = 81, long_line: int = 86) -> Path:
    """Raw JSONL whose lines carry padding, so that the bad lines lie past the part checked at resolve time."""
    lines = [json.dumps({"text": f"Apple opened store number {i} in Paris.", "pad": "x" * 1000}).encode() for i in range(n)]
    lines[bad_line - 1] = b'{"text": "Herm\xe8s opened a store."}'
    lines[long_line - 1] = json.dumps({"text": "y " * (MAX_CHARS // 2 + 1)}).encode()
    path = tmp / "raw.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    assert sum(len(line) + 1 for line in lines[: bad_line - 1]) > HEAD_BYTES
    return path


@pytest.mark.parametrize("user", ["reader", "callback"])
def test_raw_text_bad_past_the_first_shard_is_skipped_and_named(base_model, tmp_path, capsys, monkeypatch, user):
    monkeypatch.setattr(teacher_module, "SHARD_SIZE", 20)  # the bad lines are in the 5th shard
    data = tiny_data(tmp_path)
    raw = bad_raw_file(tmp_path)
    if user == "reader":
        edit = lambda c: c["corpora"]["train"].update(rehearsal_ratio=6.0)  # noqa: E731 (120 texts a call)
    else:

        def edit(config):
            add_callback(config, batch_size=8)
            config["corpora"]["train"]["raw_path"] = None

    config = write_config(tmp_path, base_model, edit=edit)
    code, output = run_train(config, tmp_path / "out", capsys, **{**data, "raw": raw})
    assert code == 0, output
    assert not failure_messages(output)
    text = flat(output)
    name = "rehearsal_reader.v2" if user == "reader" else "rehearsal_callback.v1"  # configs/reader.cfg + a v1 callback
    assert f"⚠ {name}: {raw}:81: skipped, not UTF-8 text: byte 0xE8 at byte offset" in text
    assert f"⚠ {name}: {raw}:86: skipped, {TOO_LONG}" in text
    assert "Hermès" not in text and "y y y" not in text  # nothing of the user's text
    assert (
        f"ℹ {name}: rehearsal text {raw} used up after {118 - (5 if user == 'callback' else 0)} texts; "
        f"skipped 1 {TOO_LONG}, 1 not UTF-8: starting again from the top (wrap-around 1)"
    ) in text
    assert text.count(f"{raw}:81: skipped") == 1  # once, however often the text is read again
    assert (tmp_path / "out" / "model-last").is_dir()


def component_config(tmp: Path, base_model: str, **training) -> Path:
    """configs/component.cfg (init-config's default strategy) for a short run."""
    return write_config(tmp, base_model, source="component.cfg", edit=lambda c: c["training"].update(training))


def test_component_strategy_without_raw_text_warns_with_the_measured_cost(base_model, tmp_path, capsys):
    data = tiny_data(tmp_path)
    code, output = run_train(component_config(tmp_path, base_model), tmp_path / "out", capsys, **{**data, "raw": None})
    assert code == 0, output
    text = flat(output)
    assert (
        "⚠ paths.raw is not set: the new NER learns from raw text where the new types are not; without it, agreement "
        "with the base on its other types fell from 0.990 to 0.898 (PERSON recall 0.32) in the project's benchmark. "
        "Give raw text with --paths.raw FILE"
    ) in text
    assert text.count("paths.raw is not set") == 1
    # The check is training-time only: the trained pipeline's config does not name it
    saved = load_config(tmp_path / "out" / "model-last" / "config.cfg", interpolate=False)
    assert saved["nlp"]["after_pipeline_creation"] is None
    code, output = run_train(component_config(tmp_path, base_model), tmp_path / "out2", capsys, **data)
    assert code == 0 and "paths.raw is not set" not in output, output


def test_no_rehearsal_text_lines_while_the_pipeline_initializes(base_model, tmp_path, capsys):
    """The component strategy's train reader is called for nlp.initialize: a wrap-around then is not training's."""
    data = tiny_data(tmp_path)
    raw = tmp_path / "short.txt"  # 5 texts: 20 drawn a call wrap around at once
    raw.write_text("".join(f"Apple opened store number {i} in Paris on Monday.\n" for i in range(5)), encoding="utf8")
    code, output = run_train(component_config(tmp_path, base_model), tmp_path / "out", capsys, **{**data, "raw": raw})
    assert code == 0, output
    initializing, training = flat(output).split("Training pipeline", 1)
    assert "wrap-around" not in initializing and "respects your annotations" not in initializing
    assert f"ℹ rehearsal_reader.v2: rehearsal text {raw} used up after 5 texts: starting again from the top (wrap-around 1)" in training
    assert training.count("(wrap-around 1)") == 1 and training.count("respects your annotations") == 1


def table_steps(output: str) -> List[int]:
    """The steps of the rows of spacy train's table."""
    return [int(m.group(1)) for m in re.finditer(r"^\s*\d+\s+(\d+)\s+[\d.]+\s", re.sub(r"\x1b\[[0-9;]*m", "", output), re.M)]


def test_short_run_gets_a_hint_to_score_it(base_model, tmp_path, capsys):
    """2 epochs of 20 examples are a few steps: eval_frequency = 200 would score step 0 only."""
    data = tiny_data(tmp_path)
    config = write_config(tmp_path, base_model, edit=lambda c: c["training"].update(max_epochs=2, eval_frequency=200))
    code, output = run_train(config, tmp_path / "out", capsys, **data)
    assert code == 0, output
    text = flat(output)
    hint = re.search(r"ℹ rehearsal_reader\.v2: about (\d+) training steps \((\d+) an epoch\) and eval_frequency = 200: only "
                     r"step 0 is scored, so model-best and model-last's meta hold step 0's scores\. Set "
                     r"--training\.eval_frequency (\d+) to score once an epoch", text)
    assert hint, text
    total, per_epoch, value = map(int, hint.groups())
    assert total == 2 * per_epoch and value == per_epoch and table_steps(output) == [0]
    assert text.count("eval_frequency = 200") == 1  # the train reader's, not the dev reader's
    # As hinted: scored at every epoch, and no hint
    config = write_config(tmp_path, base_model, edit=lambda c: c["training"].update(max_epochs=2, eval_frequency=value))
    code, output = run_train(config, tmp_path / "out2", capsys, **data)
    assert code == 0 and "training steps" not in output, output
    assert table_steps(output)[:2] == [0, value]
