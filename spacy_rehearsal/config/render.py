"""The generated config as text: each setting's note as a comment above it, and the check that it builds."""
from typing import Dict, List, Set, Tuple

from confection import Config
from spacy.util import load_model_from_config

from .notes import key_note, section_note

# (section, key) -> the comment written above that key
Notes = Dict[Tuple[str, str], str]


def render(config: Config, notes: Notes) -> str:
    """Config text with a comment above every key: its note, or the default one (`notes.py`).

    A section whose header carries a note (`notes.SECTION_NOTES`) speaks for
    its keys and subsections: they get only the notes given in `notes`.
    """
    out: List[str] = []
    section = ""
    noted: Set[str] = set()  # sections whose header carries a note
    for line in config.to_str(interpolate=False).splitlines():
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
            note = section_note(section)
            if note is not None and not _covered(section, noted):
                noted.add(section)
                out.extend(f"# {part}" for part in _wrap(note))
        elif " = " in line:
            key = line.split(" = ", 1)[0]
            note = notes.get((section, key))
            if note is None and not _covered(section, noted):
                note = key_note(section, key)
            if note is not None:
                out.extend(f"# {part}" for part in _wrap(note))
        out.append(line)
    return "\n".join(out) + "\n"


def _covered(section: str, noted: Set[str]) -> bool:
    """Whether `section` or a section above it carries a note."""
    parts = section.split(".")
    return any(".".join(parts[:i]) in noted for i in range(1, len(parts) + 1))


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
