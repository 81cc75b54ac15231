"""The README's install lines, run as printed in fresh virtual environments, on a fresh clone of the repository.

Each line of the Install section's first bash block is run as written, its
placeholders (`<repository URL>`, the wheel `python -m build --wheel` makes)
replaced by a local clone, in its own venv. The venvs see the system's
site-packages (`--system-site-packages`), so spaCy and the base pipeline come
from there and nothing but the build backend is fetched; the plugin itself
must come from the line under test. After each: the package imports from the
venv, and `python -m spacy rehearsal --help` lists the commands (the
entry points work). The PyPI line, labelled "once ... published", is only
checked to be labelled so.
"""
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import List

import pytest
from conftest import ROOT

pytestmark = pytest.mark.slow


def install_lines() -> List[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf8")
    section = readme.split("## Install", 1)[1].split("\n## ", 1)[0]
    block = re.findall(r"```bash\n(.*?)```", section, flags=re.S)[0]
    return [line for line in block.splitlines() if line and not line.startswith("#")]


def test_the_pypi_line_is_labelled_as_not_yet_published():
    readme = (ROOT / "README.md").read_text(encoding="utf8")
    section = readme.split("## Install", 1)[1].split("\n## ", 1)[0]
    assert "# once the package is published on PyPI (not yet" in section
    assert section.index("not yet") < section.index("pip install spacy-rehearsal\n")
    lines = install_lines()
    assert lines[:3] == ["pip install .", 'pip install "git+<repository URL>"', "pip install dist/spacy_rehearsal-0.2.0-py3-none-any.whl"]


@pytest.fixture(scope="module")
def clone(tmp_path_factory) -> Path:
    """A fresh clone of the repository's committed files, and a wheel built in it."""
    path = tmp_path_factory.mktemp("fresh") / "spacy-rehearsal"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(path)], check=True)
    return path


def run(args: List[str], cwd: Path) -> subprocess.CompletedProcess:
    proc = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"{shlex.join(args)}\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}"
    return proc


@pytest.mark.parametrize("index", [0, 1, 2], ids=["clone", "git-url", "wheel"])
def test_install_line_works_in_a_fresh_venv(clone, tmp_path, index):
    line = install_lines()[index]
    if "<repository URL>" in line:
        line = line.replace("<repository URL>", clone.resolve().as_uri())
    if "dist/" in line:
        from spacy_rehearsal import __version__

        assert f"spacy_rehearsal-{__version__}-" in line, "the README's wheel name has another version"
        run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", "dist", "."], clone)
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], tmp_path)
    python = str(venv / "bin" / "python")
    args = shlex.split(line)
    assert args[:2] == ["pip", "install"]
    run([python, "-m", *args], clone)
    where = run([python, "-c", "import spacy_rehearsal; print(spacy_rehearsal.__file__)"], tmp_path).stdout
    assert where.startswith(str(venv)), where  # the venv's copy, not the editable one of the system
    help_text = run([python, "-m", "spacy", "rehearsal", "--help"], tmp_path).stdout
    assert "init-config" in help_text and "evaluate" in help_text
