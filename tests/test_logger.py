"""`rehearsal_logger.v2` wraps any spaCy logger and passes it the rehearsal loss and retention.

Real `spacy train` runs (one short epoch) with `rehearsal_callback.v1`; what
reaches the wrapped logger is read back from `spacy.ConsoleLogger.v3`'s
`output_file` JSONL.
"""
import json
from pathlib import Path
from typing import Any, Dict, List

import pytest
from spacy.util import registry
from train_helpers import add_callback, flat, run_train, tiny_data, write_config

from spacy_rehearsal.training.one_model.logger import LOSS_COLUMN, RETENTION_COLUMN


def console(output_file: Path) -> Dict[str, Any]:
    return {"@loggers": "spacy.ConsoleLogger.v3", "progress_bar": None, "output_file": str(output_file)}


def logger_config(logger: Dict[str, Any], callback: bool = True):
    def edit(config):
        if callback:
            add_callback(config)
        config["training"]["eval_frequency"] = 2
        config["training"]["logger"] = logger

    return edit


def read_log(path: Path) -> List[dict]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf8").splitlines()]
    assert rows, f"{path} is empty"
    return rows


def train_with(base_model, tmp_path, capsys, logger: Dict[str, Any], callback: bool = True) -> str:
    data = tiny_data(tmp_path)
    config = write_config(tmp_path, base_model, edit=logger_config(logger, callback))
    code, output = run_train(config, tmp_path / "out", capsys, **data)
    assert code == 0, output
    return flat(output)


def test_v2_wrapping_console_logger_writes_rehearsal_figures_to_its_jsonl(base_model, tmp_path, capsys):
    log = tmp_path / "log.jsonl"
    output = train_with(base_model, tmp_path, capsys, {"@loggers": "rehearsal_logger.v2", "logger": console(log)})
    rows = read_log(log)
    assert all(LOSS_COLUMN in row["losses"] and RETENTION_COLUMN in row["scores"] for row in rows)
    assert all(row["losses"]["ner"] >= 0 for row in rows)  # the components' own figures are still there
    # Rehearsal ran (the loss is the callback's) and retention was measured (agreement F x 100).
    assert any(row["losses"][LOSS_COLUMN] > 0 for row in rows)
    assert all(0 < row["scores"][RETENTION_COLUMN] <= 100 for row in rows)
    # and the console shows them as columns (a console given to v2 names the loss "rehearsal", cut to fit)
    assert "LOSS REHEA..." in output and "RETENTION" in output


def test_v2_default_is_the_console_logger(base_model, tmp_path, capsys):
    output = train_with(base_model, tmp_path, capsys, {"@loggers": "rehearsal_logger.v2"})
    assert "LOSS NER LOSS REHEARSE ENTS_F ENTS_P ENTS_R RETENTION SCORE" in output  # every header whole
    assert "..." not in output


def test_v2_wraps_spacy_loggers_chain_logger(base_model, tmp_path, capsys):
    pytest.importorskip("spacy_loggers")
    logs = [tmp_path / "a.jsonl", tmp_path / "b.jsonl"]
    chain = {"@loggers": "spacy.ChainLogger.v1", "logger1": console(logs[0]), "logger2": {**console(logs[1]), "console_output": False}}
    train_with(base_model, tmp_path, capsys, {"@loggers": "rehearsal_logger.v2", "logger": chain})
    first, second = read_log(logs[0]), read_log(logs[1])
    assert first == second
    assert any(row["losses"][LOSS_COLUMN] > 0 for row in first)
    assert all(row["scores"][RETENTION_COLUMN] > 0 for row in first)


def test_v2_without_the_callback_reports_zeros(base_model, tmp_path, capsys):
    log = tmp_path / "log.jsonl"
    train_with(base_model, tmp_path, capsys, {"@loggers": "rehearsal_logger.v2", "logger": console(log)}, callback=False)
    rows = read_log(log)
    assert all(row["losses"][LOSS_COLUMN] == 0 and row["scores"][RETENTION_COLUMN] == 0 for row in rows)


def test_v2_passes_the_figures_in_info_to_any_logger(base_model, tmp_path, capsys):
    """A logger that only sees `info` (as W&B and MLflow do) gets both figures; model-best is chosen as before."""
    seen: List[dict] = []

    @registry.loggers("test_recording_logger.v1")
    def recording_logger():
        def setup(nlp, stdout=None, stderr=None):
            assert "retention" in nlp.config["training"]["score_weights"]  # what table loggers make columns of
            return (lambda info: info is not None and seen.append(info)), (lambda: None)

        return setup

    train_with(base_model, tmp_path, capsys, {"@loggers": "rehearsal_logger.v2", "logger": {"@loggers": "test_recording_logger.v1"}})
    assert seen
    assert all(LOSS_COLUMN in info["losses"] and RETENTION_COLUMN in info["other_scores"] for info in seen)
    assert any(info["losses"][LOSS_COLUMN] > 0 for info in seen)
    assert all(0 < info["other_scores"][RETENTION_COLUMN] <= 1 for info in seen)
    # The score that picks model-best is spaCy's own (retention has weight 0).
    assert all(info["score"] == pytest.approx(info["other_scores"]["ents_f"]) for info in seen)


def test_v1_still_writes_its_columns(base_model, tmp_path, capsys):
    log = tmp_path / "log.jsonl"
    output = train_with(base_model, tmp_path, capsys, {"@loggers": "rehearsal_logger.v1", "progress_bar": None, "output_file": str(log)})
    assert "LOSS NER LOSS REHEARSE ENTS_F ENTS_P ENTS_R RETENTION SCORE" in output and "..." not in output
    assert output.count("LOSS NER") == 1 and f"Saving results to {log}" in output
    rows = read_log(log)
    assert all(set(row["losses"]) == {"ner", LOSS_COLUMN} for row in rows)  # the JSONL names the loss as it always did
    assert any(row["losses"][LOSS_COLUMN] > 0 for row in rows)
    assert all(0 < row["scores"][RETENTION_COLUMN] <= 100 for row in rows)
