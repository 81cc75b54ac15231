"""The README's quickstart runs as written, from a copy of the repository; the docs' links resolve.

The commands are read from README.md (the bash block of the Quickstart
section, and its Python block), so the README and this test cannot drift
apart. The quickstart runs in a copy of the clone with nothing beside it (no
../shared): it reads only the data the repository holds. `spacy train` gets
`--training.max_epochs 1` and small corpus limits appended, to take a minute
instead of several; nothing else is changed. The corrections example needs
CoNLL-2003 and is run where it is found.
The Python block (`spacy.load` on the trained pipeline) runs with the plugin's
import blocked, as the README says it needs only spaCy.
"""
import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import List

import pytest
from conftest import CONLL_ENV, ROOT, copy_project

SHORTEN_TRAIN = ["--training.max_epochs", "1", "--corpora.train.limit", "100", "--corpora.dev.limit", "50"]
BLOCK_PLUGIN = "import sys; sys.modules['spacy_rehearsal'] = None  # importing the plugin now fails\n"
DOCS = sorted((ROOT / "docs").glob("*.md"))


def quickstart_section(readme: str, heading: str = "## Quickstart") -> str:
    """A section's text up to the next heading of any level."""
    return re.split(r"\n#{2,3} ", readme.split(heading, 1)[1], maxsplit=1)[0]


CORRECTIONS = "### Correcting the base's own types"


def quickstart_commands(readme: str, heading: str = "## Quickstart") -> List[List[str]]:
    """The commands of the bash block that runs `spacy train` in the Quickstart section (or another)."""
    blocks = [b for b in re.findall(r"```bash\n(.*?)```", quickstart_section(readme, heading), flags=re.S) if "spacy train" in b]
    assert len(blocks) == 1, f"the {heading} section should have one bash block with `spacy train`"
    commands = []
    for line in blocks[0].replace("\\\n", " ").splitlines():
        args = shlex.split(line, comments=True)
        if args:
            commands.append(args)
    return commands


def quickstart_python(readme: str) -> str:
    (block,) = re.findall(r"```python\n(.*?)```", quickstart_section(readme), flags=re.S)
    return block


def test_quickstart_commands_are_found():
    readme = (ROOT / "README.md").read_text(encoding="utf8")
    commands = quickstart_commands(readme)
    assert [c[:5] for c in commands] == [
        ["python", "-m", "spacy", "rehearsal", "init-config"],
        ["python", "-m", "spacy", "train", "training/config.cfg"],
        ["python", "-m", "spacy", "rehearsal", "evaluate"],
    ]
    # Every file the quickstart reads comes with the clone
    read = [c[c.index(opt) + 1] for c in commands for opt in ("--paths.train", "--paths.dev", "--paths.raw", "--gold") if opt in c]
    assert len(read) == 4 and all((ROOT / path).is_file() for path in read), read
    assert "--html" in commands[2]
    assert 'spacy.load("training/model-last")' in quickstart_python(readme)


def run_readme(commands: List[List[str]], clone: Path, env: dict) -> List[str]:
    outputs = []
    for args in commands:
        if args[0] == "python":
            args = [sys.executable, *args[1:]]
        if "train" in args[:4]:
            args += SHORTEN_TRAIN
        proc = subprocess.run(args, cwd=clone, capture_output=True, text=True, env=env, timeout=900)
        outputs.append(proc.stdout + proc.stderr)
        assert proc.returncode == 0, f"{shlex.join(args)}\n{outputs[-1][-4000:]}"
    return outputs


@pytest.mark.slow
def test_quickstart_runs_as_written(base_model, tmp_path):
    # A fresh clone with nothing beside it: no ../shared, no CoNLL-2003 path given
    clone = copy_project(tmp_path / "clone")
    assert not (tmp_path / "shared").exists()
    env = {k: v for k, v in os.environ.items() if k != CONLL_ENV}
    env["ANSI_COLORS_DISABLED"] = "1"
    readme = (ROOT / "README.md").read_text(encoding="utf8")
    outputs = run_readme(quickstart_commands(readme), clone, env)
    assert (clone / "training" / "model-last" / "ner_new").is_dir()
    train_log = " ".join(outputs[1].split())
    assert "rehearsal_reader.v2 assets/fashion_brands/fashion_brands_training.jsonl: 1235 examples" in train_log
    assert "100 rehearsal texts drawn a call from assets/fashion_brands/fashion_brands_training.jsonl" in train_log
    assert "<html" in (clone / "training" / "changes.html").read_text(encoding="utf8").lower()
    assert "FASHION_BRAND" in outputs[2]

    # The trained pipeline loads and runs with spaCy alone.
    proc = subprocess.run([sys.executable, "-c", BLOCK_PLUGIN + quickstart_python(readme)], cwd=clone,
                          capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.startswith("[")


def test_readme_has_no_link_that_breaks_on_the_package_page():
    """README.md is the PyPI long description: a relative link, an in-page anchor or an image would break there."""
    readme = (ROOT / "README.md").read_text(encoding="utf8")
    targets = re.findall(r"\]\(([^)]*)\)", readme)
    assert all(t.startswith("https://") for t in targets), targets
    assert "<img" not in readme and "![" not in readme
    for path in re.findall(r"`(docs/[\w.-]+)`", readme):  # named, not linked: they must exist
        assert (ROOT / path).exists(), path


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(path: Path) -> set:
    text = re.sub(r"```.*?```", "", path.read_text(encoding="utf8"), flags=re.S)
    return {slug(h) for h in re.findall(r"^#+ (.*)$", text, flags=re.M)}


@pytest.mark.parametrize("page", DOCS, ids=lambda p: p.name)
def test_docs_links_resolve(page):
    """Every relative link and image in docs/*.md names a file that exists, and an anchor that its page has."""
    text = re.sub(r"```.*?```", "", page.read_text(encoding="utf8"), flags=re.S)
    for target in re.findall(r"\]\(([^)\s]*)\)", text):
        if target.startswith("https://"):
            continue
        file, _, anchor = target.partition("#")
        dest = (page.parent / file).resolve() if file else page
        assert dest.exists(), f"{page.name}: {target}"
        if anchor:
            assert anchor in anchors(dest), f"{page.name}: {target} (anchors: {sorted(anchors(dest))})"


def test_logger_v2_example_wraps_wandb_with_valid_arguments():
    """The reference's rehearsal_logger.v2 block parses, nests W&B's logger, and gives it only arguments it takes."""
    import inspect

    from confection import Config
    from spacy.util import registry

    reference = (ROOT / "docs" / "reference.md").read_text(encoding="utf8")
    section = reference.split("## `rehearsal_logger.v2`", 1)[1].split("\n## ", 1)[0]
    (block,) = re.findall(r"```ini\n(.*?)```", section, flags=re.S)
    config = Config().from_str("[training]\n" + block)  # the block goes into a config that has [training]
    logger = config["training"]["logger"]
    assert logger["@loggers"] == "rehearsal_logger.v2"
    wrapped = dict(logger["logger"])
    assert wrapped.pop("@loggers") == "spacy.WandbLogger.v5"
    params = inspect.signature(registry.loggers.get("spacy.WandbLogger.v5")).parameters
    assert set(wrapped) <= set(params)


# docs/reference.md's argument tables, checked against what is registered
REFERENCE_TABLES = {
    "`rehearsal_reader.v1` / `.v2`": [("readers", "rehearsal_reader.v1"), ("readers", "rehearsal_reader.v2")],
    "`rehearsal_callback.v1`": [("callbacks", f"rehearsal_callback.v{v}") for v in (1, 2, 3)],
    "`rehearsal_copy_ner.v1`": [("callbacks", "rehearsal_copy_ner.v1")],
    "`rehearsal_check_paths.v1`": [("callbacks", "rehearsal_check_paths.v1")],
    "`rehearsal_logger.v1`": [("loggers", "rehearsal_logger.v1")],
    "`rehearsal_logger.v2`": [("loggers", "rehearsal_logger.v2")],
    "`rehearsal_fill.v1`": [("augmenters", "rehearsal_fill.v1")],
}


def reference_section(heading: str) -> str:
    reference = (ROOT / "docs" / "reference.md").read_text(encoding="utf8")
    return reference.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]


def declared_entry_points() -> dict:
    try:
        import tomllib
    except ImportError:  # Python < 3.11: the test extra installs tomli
        import tomli as tomllib

    groups = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf8"))["project"]["entry-points"]
    return {group: set(names) for group, names in groups.items()}


def test_every_registered_name_is_in_the_readme_and_the_reference():
    readme = (ROOT / "README.md").read_text(encoding="utf8")
    reference = (ROOT / "docs" / "reference.md").read_text(encoding="utf8")
    for group, names in declared_entry_points().items():
        if group == "spacy_cli":
            continue
        for name in names:
            assert f"`{name}`" in readme and f"`{name}`" in reference, (group, name)


@pytest.mark.parametrize("heading", list(REFERENCE_TABLES))
def test_reference_tables_list_every_argument(heading):
    import inspect

    from spacy.util import registry

    rows = re.findall(r"^\| `(\w+)` \|", reference_section(heading).split("\n\n| Name |", 1)[1], flags=re.M)
    params = set()
    for reg, name in REFERENCE_TABLES[heading]:
        params |= set(inspect.signature(getattr(registry, reg).get(name)).parameters)
    assert set(rows) == params, f"{heading}: documented {sorted(set(rows) - params)} not taken, {sorted(params - set(rows))} not documented"


@pytest.mark.parametrize("command", ["init-config", "consolidate", "distill", "annotate", "evaluate"])
def test_reference_documents_every_command_option(command):
    import typer

    import spacy_rehearsal.cli  # noqa: F401  (registers the commands)
    from spacy_rehearsal.cli._util import rehearsal_cli

    group = typer.main.get_command(rehearsal_cli)
    section = reference_section("`spacy rehearsal` commands").split(f"### `spacy rehearsal {command}`", 1)[1].split("\n### ", 1)[0]
    for param in group.commands[command].params:
        names = param.opts + param.secondary_opts if param.param_type_name == "option" else [param.name.upper()]
        names = [n for n in names if n != "--help"]
        names = [re.sub(r"_(PATH|DIR)$", "", n) for n in names]  # the reference says INPUT, OUTPUT
        assert any(f"`{n}`" in section for n in names), (command, names)


@pytest.mark.slow
def test_corrections_example_runs_as_written(conll_data, base_model, tmp_path):
    """The corrections example, where CoNLL-2003 is found: prepare cuts it, then the README's commands run."""
    clone = copy_project(tmp_path / "clone")
    env = dict(os.environ, ANSI_COLORS_DISABLED="1")
    readme = (ROOT / "README.md").read_text(encoding="utf8")
    commands = quickstart_commands(readme, CORRECTIONS)
    assert commands[0] == ["python", "-m", "spacy", "project", "run", "prepare"]
    commands[0] += [".", f"--vars.conll={conll_data}", "--vars.n_raw=300", "--vars.n_eval=100"]  # vars need the folder
    run_readme(commands, clone, env)
    corrected = json.loads((clone / "training" / "corrections" / "model-last" / "meta.json").read_text(encoding="utf8"))
    assert corrected["rehearsal"]["corrected_labels"] == ["GPE", "ORG", "PERSON"]


def test_readme_lines_are_short_and_every_figure_names_the_file_that_holds_it():
    """Prose lines under 120 characters; a measured figure (0.NN) sits in a paragraph naming its results file or
    docs/benchmarks.md, every results file named exists, and a speed ratio (0.NNx) is the one its file records."""
    readme = (ROOT / "README.md").read_text(encoding="utf8")
    prose = re.sub(r"```.*?```", "", readme, flags=re.S)
    assert not [line for line in prose.splitlines() if len(line) > 120]
    for paragraph in re.split(r"\n\s*\n|\n(?=- )", prose):
        paragraph = " ".join(paragraph.split())
        if not re.search(r"(?<![\d.])0\.\d{2,3}(?![.\d])", paragraph):
            continue
        files = re.findall(r"`((?:benchmarks/results/)?[\w]+\.json)`", paragraph)
        assert files or "`docs/benchmarks.md`" in paragraph, paragraph
        for ratio, file in re.findall(r"(0\.\d\d)x[^`]*`((?:benchmarks/results/)?\w+\.json)`", paragraph):
            text = (ROOT / "benchmarks" / "results" / Path(file).name).read_text(encoding="utf8")
            recorded = [float(v) for v in re.findall(r'"speed_ratio": ([\d.]+)', text)]
            assert any(abs(v - float(ratio)) <= 0.006 for v in recorded), (ratio, file, recorded)
