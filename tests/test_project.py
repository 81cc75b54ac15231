"""`spacy project run all` on a copy of the project, with tiny vars."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import srsly
from conftest import copy_project

ROOT = Path(__file__).resolve().parent.parent
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
TINY_VARS = {"limit": 50, "max_epochs": 1, "n_raw": 300, "n_eval": 100, "min_count": 1}


def run_project(project: Path, data: Path, *args: str) -> subprocess.CompletedProcess:
    overrides = [f"--vars.{name}={value}" for name, value in {**TINY_VARS, "data": data}.items()]
    return subprocess.run(
        [sys.executable, "-m", "spacy", "project", "run", *args, str(project), *overrides],
        capture_output=True,
        text=True,
        env=dict(os.environ, ANSI_COLORS_DISABLED="1"),
        timeout=600,
    )


RUNS = ("naive", "component", "rehearsal")


def test_project_yml_is_complete():
    config = srsly.read_yaml(ROOT / "project.yml")
    commands = {cmd["name"]: cmd for cmd in config["commands"]}
    workflow = config["workflows"]["all"]
    assert set(workflow) <= set(commands)
    assert workflow[-1] == "report"
    for cmd in config["commands"]:
        assert cmd.get("deps") and cmd.get("outputs"), cmd["name"]
    for asset in config["assets"]:
        assert len(asset["checksum"]) == 32
    for var in ("base", "data", "max_epochs", "seed", "limit", "n_raw", "n_eval"):
        assert var in config["vars"]
    # Every run trains a config init-config wrote in the project, never a file of the repository
    init = " ".join(commands["init-configs"]["script"])
    for strategy in ("reader", "component", "rehearsal"):
        assert f"training/configs/{strategy}.cfg --labels FASHION_BRAND --strategy {strategy}" in init
    for run in RUNS:
        (train,) = commands[f"train-{run}"]["script"]
        assert train.startswith("python -m spacy train training/configs/"), train
        assert f"train-{run}" in workflow and f"evaluate-{run}" in workflow


@pytest.mark.slow
def test_project_workflow_runs_and_skips_unchanged_steps(shared_data, base_model, tmp_path):
    project = copy_project(tmp_path / "project")
    proc = run_project(project, shared_data, "all")
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-5000:]

    report = (project / "metrics" / "report.md").read_text(encoding="utf8")
    assert all(f"| {run} |" in report for run in RUNS), report
    assert "FASHION_BRAND" in report and "PER" in report
    assert (project / "metrics" / "report.png").read_bytes()[:8] == PNG_MAGIC
    component = json.loads((project / "metrics" / "component" / "conll.json").read_text())
    assert component["agreement"]["micro"]["f"] > 0.9  # the frozen original keeps its entities
    for run in RUNS:
        assert (project / "training" / run / "model-last" / "ner").is_dir()
        conll = json.loads((project / "metrics" / run / "conll.json").read_text())
        assert conll["n_docs"] == TINY_VARS["n_eval"] and conll["gold"]["labels"] == ["LOC", "ORG", "PER"]
        assert conll["new_labels"] == ["FASHION_BRAND"]
        assert 0.0 < conll["agreement"]["micro"]["f"] <= 1.0
        assert (project / "metrics" / run / "conll.png").read_bytes()[:8] == PNG_MAGIC
        fashion = json.loads((project / "metrics" / run / "fashion.json").read_text())
        assert fashion["gold"]["labels"] == ["FASHION_BRAND"]
    cache = json.loads((project / "corpus" / "teacher_cache.json").read_text())
    assert cache["texts"] == TINY_VARS["n_raw"]

    # Nothing changed: every step is skipped.
    proc = run_project(project, shared_data, "all")
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-5000:]
    assert "Running command" not in log
    assert log.count("nothing changed") == len(srsly.read_yaml(project / "project.yml")["workflows"]["all"])

    # The one-model run's displaCy page of the sentences where it and the base differ, linked from the report
    assert "<html" in (project / "metrics" / "rehearsal" / "changes.html").read_text(encoding="utf8").lower()
    assert "(rehearsal/changes.html)" in report
