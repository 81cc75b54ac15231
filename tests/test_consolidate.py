"""`spacy rehearsal consolidate` checks both configs and their paths before the first training.

A run that would stop on a path stops before OUTPUT is created and before any
pipeline is initialized, with one line naming the setting or file.
"""
from pathlib import Path

import pytest
from test_strategies import run_cli
from train_helpers import BRAND, FASHION_EVAL, FASHION_TRAIN


def stopped(base_model: str, out: Path, *args: object) -> str:
    proc = run_cli("rehearsal", "consolidate", base_model, out, "--labels", BRAND, *args)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 1, output[-3000:]
    assert "Traceback" not in output and "Initializing pipeline" not in output and "step 1 of 2" not in output, output[-3000:]
    assert not out.exists(), "consolidate created OUTPUT before its checks failed"
    return " ".join(proc.stdout.split())


def test_unset_paths_stop_consolidate_before_any_training(base_model, tmp_path):
    text = stopped(base_model, tmp_path / "out")
    assert "✘ paths.train and paths.dev are not set" in text


def test_a_missing_file_stops_consolidate_before_any_training(base_model, tmp_path):
    text = stopped(base_model, tmp_path / "out", "--paths.train", tmp_path / "nowhere.jsonl", "--paths.dev", FASHION_EVAL,
                   "--paths.raw", FASHION_TRAIN)
    assert f"✘ {tmp_path / 'nowhere.jsonl'}: not found (paths.train" in text


@pytest.mark.parametrize("labels", [BRAND, "PERSON"], ids=["new type", "corrections"])
def test_the_second_configs_raw_text_is_checked_before_the_first_training(base_model, tmp_path, labels):
    # The component step runs without raw text (it warns); the one-model step needs it: caught first
    proc = run_cli("rehearsal", "consolidate", base_model, tmp_path / "out", "--labels", labels,
                   "--paths.train", FASHION_TRAIN, "--paths.dev", FASHION_EVAL)
    text = " ".join(proc.stdout.split())
    assert proc.returncode == 1 and "✘ paths.raw is not set" in text, text[-2000:]
    assert "Initializing pipeline" not in text and not (tmp_path / "out").exists()
