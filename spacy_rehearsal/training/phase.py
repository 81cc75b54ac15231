"""Where in `spacy train` a call comes from: building the pipeline, initializing it, or reading training data.

spaCy gives its readers and hooks no such context, and the plugin needs it in
three places:

- `rehearsal_check_paths.v1` sits in `[nlp]`, which spaCy resolves before it
  interpolates the config's variables: a `${paths.base}` there reaches the
  function as that text. It is looked up in the config `Language.from_config`
  is building (`reference_value`).
- `spacy train` calls the train reader for `nlp.initialize` (labels, shapes)
  and then again for training: lines about the text drawn (a wrap-around) are
  noise while the pipeline initializes (`initializing`).
- The train reader's hint about `eval_frequency` is for the corpus training
  reads, not the dev corpus (`reading_training_data`).

Each looks for one of spaCy's own functions on the call stack. If spaCy ever
renames them, the answers are "no" and "unknown", and the plugin behaves as
before these checks existed (messages printed, nothing looked up).
"""
import re
import sys
from types import CodeType, FrameType
from typing import Any, Optional, Tuple

from confection import Config
from spacy.language import Language
from spacy.training import loop

_FROM_CONFIG = Language.from_config.__func__.__code__  # type: ignore[attr-defined]
_INITIALIZE = Language.initialize.__code__
_TRAIN_BATCHES = loop.create_train_batches.__code__
REFERENCE = re.compile(r"^\$\{([A-Za-z_][\w-]*(?:\.[\w-]+)+)\}$")
# A reference that cannot be looked up
UNKNOWN = object()


def _running(code: CodeType) -> Optional[FrameType]:
    """The frame of the function with this code if it is on the call stack, innermost first."""
    frame: Optional[FrameType] = sys._getframe(1)
    while frame is not None:
        if frame.f_code is code:
            return frame
        frame = frame.f_back
    return None


def initializing() -> bool:
    """Whether this runs inside `nlp.initialize` (spacy train's initialization)."""
    return _running(_INITIALIZE) is not None


def reading_training_data() -> bool:
    """Whether this runs inside spacy train's `create_train_batches` (the train corpus being read)."""
    return _running(_TRAIN_BATCHES) is not None


def reference(value: Any) -> Optional[str]:
    """"paths.base" for the text "${paths.base}", None for anything else."""
    match = REFERENCE.match(value) if isinstance(value, str) else None
    return match.group(1) if match else None


def reference_value(value: Any) -> Tuple[Optional[str], Any]:
    """(setting, value) for a config value that may still be a `${...}` reference.

    A reference is looked up in the config `Language.from_config` is
    building (its [paths] with the command line's overrides). RETURNS: the
    setting ("paths.base", or None if `value` is no reference) and its value
    (`value` itself if no reference; UNKNOWN if it cannot be looked up).
    """
    setting = reference(value)
    if setting is None:
        return None, value
    frame = _running(_FROM_CONFIG)
    config = frame.f_locals.get("config") if frame is not None else None
    if not isinstance(config, dict):
        return setting, UNKNOWN
    try:
        node: Any = Config(config).interpolate()
    except Exception:  # a broken reference elsewhere, which spaCy reports itself
        node = config
    for key in setting.split("."):
        if not isinstance(node, dict) or key not in node:
            return setting, UNKNOWN
        node = node[key]
    return setting, node
