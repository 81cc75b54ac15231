"""What the `spacy rehearsal` commands share: the typer group and small helpers.

Importing this module creates the `rehearsal` group and adds it to spaCy's
CLI app; each command module adds its command to `rehearsal_cli`.
"""
import json
from pathlib import Path
from typing import Any, Dict, List, NoReturn, Optional

import typer
from spacy.cli._util import app
from wasabi import msg

from ..errors import InputError

rehearsal_cli = typer.Typer(
    name="rehearsal",
    help=(
        "Teach a pretrained pipeline new entity types, or correct the types it already predicts (alone or mixed), "
        "without forgetting the rest: init-config writes the training config for spacy train, consolidate trains "
        "your labels into the base's own NER, annotate pre-annotates raw text with the teacher, and evaluate "
        "measures what an updated pipeline changed and forgot."
    ),
    no_args_is_help=True,
)
app.add_typer(rehearsal_cli)


def fail(error: Exception) -> NoReturn:
    """Print an error unwrapped (so file names stay whole) and exit with 1."""
    typer.secho(f"✘ {error}", fg=typer.colors.RED)
    raise typer.Exit(1)


def write_json(path: Path, data: Dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf8")
    msg.good(f"Wrote {path}")


def check_output_file(path: Path, option: str) -> None:
    """Fail before any work on an output file that cannot be written: a directory, or under a file."""
    if path.is_dir():
        raise InputError(str(path), f"{option} is a directory: give a file path")
    check_output_dir(path.parent, option)


def check_output_dir(path: Path, option: str) -> None:
    """Fail before any work on an output directory that is a file, or lies under one."""
    for folder in (path, *path.parents):
        if folder.exists():
            if not folder.is_dir():
                raise InputError(str(folder), f"is a file, not a directory ({option})")
            return


def check_positive(**values: int) -> None:
    for name, value in values.items():
        if value < 1:
            raise typer.BadParameter(f"must be >= 1, got {value}", param_hint=f"--{name.replace('_', '-')}")


def split_labels(labels: Optional[str]) -> Optional[List[str]]:
    if labels is None:
        return None
    out = [label.strip() for label in labels.split(",") if label.strip()]
    if not out:
        raise typer.BadParameter("no labels given", param_hint="--labels")
    return out
