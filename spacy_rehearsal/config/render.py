"""The generated config as text: each setting's note as a comment above it, and the check that it builds."""
from typing import Dict, List, Tuple

from confection import Config
from spacy.util import load_model_from_config

# (section, key) -> the comment written above that key
Notes = Dict[Tuple[str, str], str]


def render(config: Config, notes: Notes) -> str:
    """Config text with each note as a comment above its key."""
    out: List[str] = []
    section = ""
    for line in config.to_str(interpolate=False).splitlines():
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
        else:
            key = line.split(" = ", 1)[0]
            if " = " in line and (section, key) in notes:
                out.extend(f"# {part}" for part in _wrap(notes[(section, key)]))
        out.append(line)
    return "\n".join(out) + "\n"


def _wrap(text: str, width: int = 98) -> List[str]:
    lines: List[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines


def check_config(text: str) -> None:
    """Build the pipeline a config describes (sourcing the base), as `spacy init config` does."""
    config = Config().from_str(text, interpolate=False)
    hook = config["nlp"].get("after_pipeline_creation")
    if isinstance(hook, dict) and hook.get("@callbacks") == "rehearsal_check_paths.v1":
        config["nlp"]["after_pipeline_creation"] = None  # it checks the paths spacy train is given: none yet
    load_model_from_config(config, auto_fill=False, validate=True)
