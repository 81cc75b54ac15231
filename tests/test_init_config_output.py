"""What `spacy rehearsal init-config` writes and prints: every setting explained, a train line that runs as printed.

A new user reads the config it writes and pastes the "Train with:" line, so
each setting carries a comment (its own, or its section's for blocks copied
from the base), the epochs are the README's benchmarks' 10, and the printed
line is whole on one line: the test runs it with only its placeholders
(TRAIN, DEV, RAW) replaced. `--help` names the recommended strategies first,
the older recipes as such, and `--paths.cache`.
"""
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import List, Set

import pytest
from train_helpers import BRAND, FASHION_EVAL, FASHION_TRAIN, fashion_records, write_jsonl

from spacy_rehearsal.config.strategies import STRATEGIES, generate_config
from spacy_rehearsal.teacher.base_pipeline import inspect_base

PLACEHOLDERS = ("TRAIN", "DEV", "RAW")


def uncommented_settings(text: str) -> List[str]:
    """The `section.key` of every setting with no comment above it or above its section (or a section above it)."""
    lines = text.splitlines()
    section = ""
    noted: Set[str] = set()
    out: List[str] = []
    for i, line in enumerate(lines):
        above = lines[i - 1] if i else ""
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
            if above.startswith("# "):
                noted.add(section)
        elif " = " in line and not line.startswith("#"):
            parts = section.split(".")
            covered = any(".".join(parts[:n]) in noted for n in range(1, len(parts) + 1))
            if not above.startswith("# ") and not covered:
                out.append(f"{section}.{line.split(' = ')[0]}")
    return out


@pytest.fixture(scope="module")
def base_pipeline(base_model):
    return inspect_base(base_model)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_every_setting_has_a_comment(base_pipeline, strategy):
    text = generate_config(base_pipeline, [BRAND], strategy)
    assert uncommented_settings(text) == []


def test_default_notes_are_one_line():
    from spacy_rehearsal.config.notes import KEY_NOTES, SECTION_NOTES

    for note in [n for *_, n in KEY_NOTES] + [n for _, n in SECTION_NOTES]:
        assert len(f"# {note}") <= 100, note


def key_comments(text: str) -> dict:
    """(section, key) -> the comment right above that key, for the keys that have one."""
    out, section, comment = {}, "", []
    for line in text.splitlines():
        if line.startswith("# "):
            comment.append(line[2:])
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
        elif " = " in line and comment:
            out[(section, line.split(" = ")[0])] = " ".join(comment)
        comment = []
    return out


@pytest.mark.parametrize("labels", [[BRAND], ["PERSON"], [BRAND, "PERSON"]], ids=["new", "corrections", "mixed"])
@pytest.mark.parametrize("strategy", ["component", "rehearsal"])
def test_no_placeholder_comments(base_pipeline, strategy, labels):
    """Each comment says what its setting does: none stands in for several settings of a section or of the config."""
    text = generate_config(base_pipeline, labels, strategy)
    for phrase in ("A setting of the callback above", "A path to check", "gained up to 25"):
        assert phrase not in text, phrase
    comments = key_comments(text)
    seen: dict = {}
    for (section, key), comment in comments.items():
        if section.split(".")[0] in ("nlp", "components") and not section.startswith("nlp.after"):
            continue  # copied from the base's config, and said so once a key: not a placeholder
        assert comment not in seen.get(section, {}).values(), (section, key, comment)
        seen.setdefault(section, {})[key] = comment


def comment_above(text: str, section: str, key: str) -> str:
    """The comment lines right above `key` in `section`."""
    body = text.split(f"[{section}]\n", 1)[1].split("\n[", 1)[0].splitlines()
    i = next(n for n, line in enumerate(body) if line.startswith(f"{key} = "))
    comments = []
    while i > 0 and body[i - 1].startswith("# "):
        i -= 1
        comments.insert(0, body[i][2:])
    return " ".join(comments)


def test_the_settings_a_user_asked_about_are_explained(base_pipeline):
    text = generate_config(base_pipeline, [BRAND], "rehearsal")
    assert "--paths.raw" in comment_above(text, "paths", "raw")
    for key in ("temperature", "weight", "l2_pull", "batch_size"):
        assert comment_above(text, "training.before_update", key), key
    assert "early stop" in comment_above(text, "training", "patience")
    # The README's benchmarks train 10 epochs; the config and its comment say the same
    assert re.search(r"^max_epochs = 10$", text, flags=re.M)
    assert "10" in comment_above(text, "training", "max_epochs")
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf8")
    assert "10 epochs" in readme


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "80"}  # a narrow terminal, as the user's
    return subprocess.run([sys.executable, "-m", "spacy", *args], cwd=cwd, capture_output=True, text=True, env=env)


def test_help_leads_with_the_recommended_strategies(tmp_path):
    proc = run_cli("rehearsal", "init-config", "--help", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    text = " ".join(proc.stdout.split()).replace("- ", "-")  # help text rewrapped as one line
    assert "--paths.cache" in text
    for name in STRATEGIES:
        assert name in text, name
    older = text.index("Older one-model recipes, kept for the benchmarks")
    assert text.index("component (recommended") < text.index("rehearsal (one model") < older < text.index("fill-callback", older)


@pytest.mark.slow
def test_train_line_runs_as_printed(tmp_path, base_model):
    data = tmp_path / "data"
    train = write_jsonl(data / "train.jsonl", fashion_records(FASHION_TRAIN, 6))
    dev = write_jsonl(data / "dev.jsonl", fashion_records(FASHION_EVAL, 3))
    raw = data / "raw.txt"
    raw.write_text("".join(f"Apple opened store number {i} in Paris.\n" for i in range(6)), encoding="utf8")
    proc = run_cli("rehearsal", "init-config", base_model, "config.cfg", "--labels", BRAND, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (line,) = [line for line in proc.stdout.splitlines() if line.startswith("Train with: ")]
    command = line[len("Train with: "):]
    assert command.startswith("python -m spacy train config.cfg ") and command.endswith("--output training/")
    for placeholder, path in zip(PLACEHOLDERS, (train, dev, raw)):
        assert f" {placeholder} " in command
        command = command.replace(f" {placeholder} ", f" {path} ")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(command, shell=True, cwd=tmp_path, capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert (tmp_path / "training" / "model-last" / "config.cfg").exists()
    assert (tmp_path / ".cache" / "teacher").is_dir()


@pytest.mark.parametrize("key", [(False, False), (True, False)], ids=["new types", "corrections"])
def test_the_printed_inference_cost_is_what_its_benchmark_recorded(key):
    """init-config's cost line for the default taught NERs quotes a speed ratio its results file holds."""
    from spacy_rehearsal.config.component import SPEED

    text = SPEED[key]
    printed = re.findall(r"(0\.\d\d)x", text)
    source = re.search(r"benchmarks/results/(\w+\.json)", text)
    assert printed and source, text
    recorded = Path(__file__).resolve().parent.parent / "benchmarks" / "results" / source.group(1)
    ratios = [float(v) for v in re.findall(r'"speed_ratio": ([\d.]+)', recorded.read_text(encoding="utf8"))]
    for ratio in printed:
        assert any(abs(v - float(ratio)) <= 0.006 for v in ratios), (ratio, text, ratios)
