"""`rehearsal_check_paths.v1`: the [paths] a training config needs, checked before spaCy loads the base pipeline.

`spacy train` builds the pipeline, sourcing the base's components from
`paths.base`, before it resolves the readers and callbacks: a base that does
not exist would fail there with spaCy's traceback, and an unset `paths.train`
with confection's dump of the reader's arguments. init-config writes this
callback in `[nlp.after_pipeline_creation]`. spaCy resolves the `[nlp]` block,
and so runs this factory, before it sources any component: a problem stops
`spacy train` with one line naming the setting and how to set it. The callback
itself runs once the pipeline is built and takes itself out of `nlp.config`,
so the trained pipeline's config.cfg does not name it and loads without the
plugin.
"""
from typing import Any, Callable, Dict, List, Literal, Optional, Tuple

from spacy.language import Language

from .. import messages
from ..errors import SettingError, TeacherError
from ..teacher.teacher import load_pipeline
from .phase import UNKNOWN, reference_value

NAME = "rehearsal_check_paths.v1"
NoRaw = Literal["error", "warn", "ignore", "unused"]
# What each path holds, for "give ... with --paths.X"
WHAT = {
    "base": ("the pipeline to update", "NAME_OR_PATH"),
    "train": ("your annotations", "FILE"),
    "dev": ("held-out annotations", "FILE"),
    "raw": ("raw text (this config rehearses on it)", "FILE"),
}


# Registered as "rehearsal_check_paths.v1" in the "spacy_callbacks" entry point group.
def create_check_paths(
    base: Optional[str],
    train: Optional[str],
    dev: Optional[str],
    raw: Optional[str] = None,
    no_raw: NoRaw = "ignore",
    no_raw_cost: str = "",
) -> Callable[[Language], Language]:
    """Check the paths `spacy train` was given, before it loads the base pipeline.

    Unset paths and a base that cannot be loaded stop `spacy train` with one
    line naming the setting (`paths.train`) and the option that sets it
    (`--paths.train FILE`). Use in `[nlp.after_pipeline_creation]`, with each
    argument a reference to its setting (`base = ${paths.base}`).

    base (Optional[str]): The base pipeline: it must load (it is also the
        teacher, and loaded once for both).
    train (Optional[str]): The training annotations: must be set.
    dev (Optional[str]): The dev annotations: must be set.
    raw (Optional[str]): Raw text.
    no_raw (str): A run without raw text: "error" (the config rehearses on it),
        "warn" (one ⚠ line) or "ignore"; "unused": the config reads no raw
        text, so a `raw` that is set gets one ⚠ line saying it is ignored.
    no_raw_cost (str): With "warn": what the benchmarks measured without raw
        text, said in the warning; with "unused": why the config reads none.
    RETURNS (Callable[[Language], Language]): The callback, which removes
        itself from `nlp.config`.
    """
    paths: Dict[str, Tuple[str, Any]] = {}  # argument -> (setting, value), for the paths in the config
    for key, value in (("base", base), ("train", train), ("dev", dev), ("raw", raw)):
        setting, value = reference_value(value)
        if value is not UNKNOWN:  # UNKNOWN: not in the config being built, nothing to check
            paths[key] = (setting or f"paths.{key}", value)
    unset = [key for key, (_, value) in paths.items() if value in (None, "") and (key != "raw" or no_raw == "error")]
    if unset:
        settings = _and([paths[key][0] for key in unset])
        what = _and([WHAT[key][0] for key in unset])
        options = " ".join(f"--{paths[key][0]} {WHAT[key][1]}" for key in unset)
        raise SettingError(f"{settings} {'is' if len(unset) == 1 else 'are'} not set: give {what} with {options}")
    if "base" in paths:
        setting, name = paths["base"]
        try:
            load_pipeline(name, "base")
        except TeacherError as e:
            raise TeacherError(f"{e} ({setting}: give an installed pipeline or a pipeline directory with --{setting} NAME_OR_PATH)") from None
    if no_raw == "warn" and "raw" in paths and paths["raw"][1] in (None, ""):
        setting = paths["raw"][0]
        messages.warn(f"{setting} is not set{f': {no_raw_cost}' if no_raw_cost else ''}. Give raw text with --{setting} FILE")
    if no_raw == "unused" and "raw" in paths and paths["raw"][1] not in (None, ""):
        setting = paths["raw"][0]
        messages.warn(f"{setting} = {paths['raw'][1]} is ignored: this config reads no raw text"
                      f"{f' ({no_raw_cost})' if no_raw_cost else ''}. Leave --{setting} out")

    def remove_check(nlp: Language) -> Language:
        block = nlp.config["nlp"].get("after_pipeline_creation")
        if isinstance(block, dict) and block.get("@callbacks") == NAME:
            nlp.config["nlp"]["after_pipeline_creation"] = None
        return nlp

    return remove_check


def _and(items: List[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"
