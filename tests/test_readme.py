"""The README's quickstart commands run as written, from a copy of the repository.

The commands are read from README.md (the bash block of the Quickstart
section), so the README and this test cannot drift apart. `spacy train` gets
`--training.max_epochs 1` and small corpus limits appended, to take a minute
instead of half an hour; nothing else is changed.
"""
import os
import re
import shlex
import subprocess
import sys
from typing import List

import pytest

from conftest import DATA, ROOT, copy_project

SHORTEN_TRAIN = ["--training.max_epochs", "1", "--corpora.train.limit", "100", "--corpora.dev.limit", "50"]


def quickstart_commands(readme: str) -> List[List[str]]:
    """The commands of the bash block that runs `spacy train` in the Quickstart section."""
    section = readme.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    blocks = [b for b in re.findall(r"```bash\n(.*?)```", section, flags=re.S) if "spacy train" in b]
    assert len(blocks) == 1, "the Quickstart section should have one bash block with `spacy train`"
    commands = []
    for line in blocks[0].replace("\\\n", " ").splitlines():
        args = shlex.split(line, comments=True)
        if args:
            commands.append(args)
    return commands


def test_quickstart_commands_are_found():
    commands = quickstart_commands((ROOT / "README.md").read_text(encoding="utf8"))
    assert [c[:4] for c in commands] == [["python", "-m", "spacy", "project"], ["python", "-m", "spacy", "train"]]
    raw = commands[1][commands[1].index("--paths.raw") + 1]
    assert raw == "corpus/raw/train.txt"


@pytest.mark.slow
def test_quickstart_runs_as_written(shared_data, base_model, tmp_path):
    # A fresh clone: the project files, with the data beside it in ../shared/data.
    clone = copy_project(tmp_path / "clone")
    (tmp_path / "shared").symlink_to(DATA.parent, target_is_directory=True)
    env = dict(os.environ, ANSI_COLORS_DISABLED="1")
    outputs = []
    for args in quickstart_commands((ROOT / "README.md").read_text(encoding="utf8")):
        if args[0] == "python":
            args = [sys.executable, *args[1:]]
        if "train" in args[:4]:
            args += SHORTEN_TRAIN
        proc = subprocess.run(args, cwd=clone, capture_output=True, text=True, env=env, timeout=900)
        outputs.append(proc.stdout + proc.stderr)
        assert proc.returncode == 0, f"{shlex.join(args)}\n{outputs[-1][-4000:]}"
    assert (clone / "corpus" / "raw" / "train.txt").exists()
    assert (clone / "training" / "model-last" / "ner").is_dir()
    text = " ".join(outputs[-1].split())
    assert "rehearsal_reader.v2 ../shared/data/fashion_brands/fashion_brands_training.jsonl: 1235 examples" in text
    assert "100 rehearsal texts drawn a call from corpus/raw/train.txt" in text


def test_logger_v2_example_wraps_wandb_with_valid_arguments():
    """The README's rehearsal_logger.v2 block parses, nests W&B's logger, and gives it only arguments it takes."""
    import inspect

    from confection import Config
    from spacy.util import registry

    readme = (ROOT / "README.md").read_text(encoding="utf8")
    section = readme.split("### `rehearsal_logger.v2`", 1)[1].split("\n## ", 1)[0]
    (block,) = re.findall(r"```ini\n(.*?)```", section, flags=re.S)
    config = Config().from_str("[training]\n" + block)  # the block goes into a config that has [training]
    logger = config["training"]["logger"]
    assert logger["@loggers"] == "rehearsal_logger.v2"
    wrapped = dict(logger["logger"])
    assert wrapped.pop("@loggers") == "spacy.WandbLogger.v5"
    params = inspect.signature(registry.loggers.get("spacy.WandbLogger.v5")).parameters
    assert set(wrapped) <= set(params)
