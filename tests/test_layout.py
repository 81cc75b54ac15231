"""The package's one-way flow: data -> teacher -> training -> config -> cli, nothing importing upward."""
import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "spacy_rehearsal"
# Each stage may import the stages before it (and the shared top-level modules), never one after it
STAGES = ["data", "teacher", "training", "config", "cli"]
SHARED = {"errors", "messages", "scoring"}
MAX_LINES = 300


def imported_stages(path: Path) -> set:
    """The first-level names under spacy_rehearsal that a module imports, relative or absolute."""
    package = path.relative_to(PACKAGE.parent).with_suffix("").parts[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = list(package[: len(package) - node.level + 1])
                parts = base + (node.module.split(".") if node.module else [])
            else:
                parts = (node.module or "").split(".")
            if parts[:1] != ["spacy_rehearsal"]:
                continue
            if len(parts) == 1:  # from spacy_rehearsal import x / from .. import x
                found.update(alias.name for alias in node.names)
            else:
                found.add(parts[1])
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "spacy_rehearsal" and len(parts) > 1:
                    found.add(parts[1])
    return found


MODULES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_imports_a_later_stage(path):
    rel = path.relative_to(PACKAGE).parts
    stage = rel[0] if len(rel) > 1 else None
    allowed = SHARED | set(STAGES[: STAGES.index(stage) + 1] if stage else [])
    if stage is None:  # errors, messages, scoring: shared by every stage, import none of them
        allowed = SHARED
    upward = imported_stages(path) - allowed
    assert not upward, f"{path.relative_to(PACKAGE)} imports {sorted(upward)} (stage {stage})"


def test_every_module_belongs_to_a_stage_and_stays_short():
    loose = [p.name for p in PACKAGE.glob("*.py") if p.stem not in SHARED | {"__init__"}]
    assert not loose, f"modules outside the stage folders: {loose}"
    long = {str(p.relative_to(PACKAGE)): n for p in MODULES if (n := len(p.read_text(encoding="utf8").splitlines())) > MAX_LINES}
    assert not long, f"modules over {MAX_LINES} lines: {long}"
