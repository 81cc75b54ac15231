"""`spacy project run all` on a copy of the project, with tiny vars: with CoNLL-2003, and as a clone alone."""
import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import srsly
from conftest import CONLL_ENV, copy_project

ROOT = Path(__file__).resolve().parent.parent
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
TINY_VARS = {"limit": 50, "max_epochs": 1, "n_raw": 300, "n_eval": 100, "min_count": 1}


def run_project(project: Path, conll: Path, *args: str) -> subprocess.CompletedProcess:
    overrides = [f"--vars.{name}={value}" for name, value in {**TINY_VARS, "conll": conll}.items()]
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
    for var in ("base", "fashion", "conll", "max_epochs", "seed", "limit", "n_raw", "n_eval"):
        assert var in config["vars"]
    # The data a clone has is the default; CoNLL-2003 is optional and never in the repository
    assert (ROOT / config["vars"]["fashion"] / "fashion_brands_training.jsonl").exists()
    assert not (ROOT / config["vars"]["conll"]).resolve().is_relative_to(ROOT)
    assert not any("${vars.conll}" in dep for cmd in config["commands"] for dep in cmd["deps"])  # may be absent
    # Every run trains a config init-config wrote in the project, never a file of the repository
    init = " ".join(commands["init-configs"]["script"])
    for strategy in ("reader", "component", "rehearsal"):
        assert f"training/configs/{strategy}.cfg --labels FASHION_BRAND --strategy {strategy}" in init
    for run in RUNS:
        (train,) = commands[f"train-{run}"]["script"]
        assert train.startswith("python -m spacy train training/configs/"), train
        assert f"train-{run}" in workflow and f"evaluate-{run}" in workflow


@pytest.mark.slow
def test_project_workflow_runs_and_skips_unchanged_steps(conll_data, base_model, tmp_path):
    project = copy_project(tmp_path / "project")
    proc = run_project(project, conll_data, "all")
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
    proc = run_project(project, conll_data, "all")
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-5000:]
    assert "Running command" not in log
    assert log.count("nothing changed") == len(srsly.read_yaml(project / "project.yml")["workflows"]["all"])

    # The one-model run's displaCy page of the sentences where it and the base differ, linked from the report
    assert "<html" in (project / "metrics" / "rehearsal" / "changes.html").read_text(encoding="utf8").lower()
    assert "(rehearsal/changes.html)" in report


# The README's demo line in a clone with nothing beside it, on a small setting (about 40 s)
SMALL_VARS = [".", "--vars.limit=20", "--vars.max_epochs=1", "--vars.n_raw=300", "--vars.min_count=1"]  # vars need the folder


def readme_demo_line() -> list:
    readme = (ROOT / "README.md").read_text(encoding="utf8")
    blocks = re.findall(r"```bash\n(.*?)```", readme, flags=re.S)
    (line,) = {line for block in blocks for line in block.splitlines() if line.startswith("python -m spacy project run all")}
    return shlex.split(line, comments=True)


@pytest.mark.slow
def test_readme_demo_runs_in_a_clone_alone(base_model, tmp_path):
    """No ../shared beside the clone and no CoNLL-2003 path given: the demo runs on the fashion data the clone holds."""
    clone = copy_project(tmp_path / "clone")
    assert not (tmp_path / "shared").exists()
    env = {k: v for k, v in os.environ.items() if k != CONLL_ENV}
    args = readme_demo_line()
    proc = subprocess.run([sys.executable, *args[1:], *SMALL_VARS], cwd=clone, capture_output=True, text=True,
                          env=dict(env, ANSI_COLORS_DISABLED="1"), timeout=600)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-5000:]
    assert "CoNLL-2003 not found at ../shared/data/conll2003" in log
    # The user's own corpus: the first 80% of the fashion annotations, the last texts as raw text
    annotations = (clone / "corpus" / "train.jsonl").read_text(encoding="utf8").splitlines()
    assert len(annotations) == 988 and annotations[0].startswith('{"text":"It\'s all preference')
    raw = (clone / "corpus" / "raw" / "train.txt").read_text(encoding="utf8").splitlines()
    assert len(raw) == 300
    report = (clone / "metrics" / "report.md").read_text(encoding="utf8")
    assert "News agreement not measured" in report and "CoNLL-2003 not found" in report
    assert all(f"| {run} |" in report for run in RUNS) and "FASHION_BRAND" in report
    for run in RUNS:
        assert json.loads((clone / "metrics" / run / "conll.json").read_text())["not_measured"]
