"""Why a pipeline name or path does not load, in words that say what to give instead.

spaCy's own errors name the symptom (E050: no package or data directory of
that name; E053: no config.cfg in a directory): `why_not_loaded` says what the
user most likely meant, a training output folder's `model-last`, a package to
install, or a pipeline directory, and how to give it.
"""
from pathlib import Path
from typing import Union

OUTPUTS = ("model-last", "model-best")  # what spacy train writes into --output


def why_not_loaded(name: Union[str, Path], reason: str) -> str:
    """What is wrong with a pipeline name or path that spaCy could not load, and what to give instead.

    name (Union[str, Path]): What the user gave.
    reason (str): spaCy's message, kept where nothing better can be said.
    RETURNS (str): One line.
    """
    path = Path(name)
    if path.is_dir():
        # First the training output: the README's `init-config ... training/config.cfg` then `spacy train
        # --output training/` leaves a config.cfg beside model-last, which is still no pipeline
        runs = [path / out for out in OUTPUTS if (path / out / "config.cfg").exists()]
        if runs:
            choices = " or ".join(f"{run} ({'the last step' if run.name == OUTPUTS[0] else 'the best dev score'})" for run in runs)
            return f"a spacy train output folder, not a pipeline: pass {choices}"
        if (path / "config.cfg").exists():
            return reason  # a pipeline directory that spaCy cannot load: its own words say why
        return ("a folder but not a pipeline (no config.cfg): give a directory spacy train or nlp.to_disk wrote "
                "(e.g. training/model-last) or an installed package name")
    if path.exists():
        return "a file, not a pipeline: give a pipeline directory (e.g. training/model-last) or an installed package name"
    text = str(name)
    if "/" in text or "\\" in text or text.startswith("."):
        return "no such directory: give the path of a saved pipeline (e.g. training/model-last) or an installed package name"
    return (f"no installed package or directory of that name: install it (pip install {text.replace('_', '-')}, or "
            f"python -m spacy download {text} for spaCy's own pipelines) or give the path of a pipeline directory")
