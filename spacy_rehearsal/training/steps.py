"""The train reader's hint when a run is too short to be scored after step 0.

`spacy train` scores the pipeline on the dev corpus at step 0 and then every
`eval_frequency` steps, and model-last's meta holds the last scores. A run of
no more steps than `eval_frequency` (2 epochs of a small file against the
default 200) is scored at step 0 only: model-best is the untrained pipeline and
model-last's meta holds its scores. init-config cannot choose the frequency, as
it sees no data; the train reader sees an epoch's examples when `spacy train`
first reads them, and with `[training]`'s max_epochs, max_steps and batcher it
estimates the run's steps. When they do not pass eval_frequency it says so in
one ℹ line, naming the setting and a value that scores once an epoch.
"""
import math
from typing import Any, Dict, List, Optional, Tuple

from spacy.language import Language
from spacy.tokens import Doc

WORDS = "spacy.batch_by_words.v1"
SEQUENCES = "spacy.batch_by_sequence.v1"


def _batch_size(batcher: Dict[str, Any]) -> Optional[float]:
    """The batcher's size if it is constant (a number or `constant.v1`), else None."""
    size = batcher.get("size")
    if isinstance(size, dict):
        size = size.get("rate") if size.get("@schedules") == "constant.v1" else None
    return float(size) if isinstance(size, (int, float)) and not isinstance(size, bool) and size > 0 else None


def run_steps(training: Dict[str, Any], n_examples: int, n_words: int) -> Optional[Tuple[int, int]]:
    """(steps an epoch, steps of the run), estimated; None where the batcher or the run's length is not known.

    training (Dict[str, Any]): The interpolated `[training]` block.
    """
    batcher = training.get("batcher") or {}
    size = _batch_size(batcher)
    if size is None or batcher.get("@batchers") not in (WORDS, SEQUENCES):
        return None
    per_epoch = max(1, math.ceil((n_words if batcher["@batchers"] == WORDS else n_examples) / size))
    max_epochs, max_steps = training.get("max_epochs") or 0, training.get("max_steps") or 0
    totals = ([max_epochs * per_epoch] if max_epochs > 0 else []) + ([max_steps] if max_steps > 0 else [])
    return (per_epoch, min(totals)) if totals else None


def eval_frequency_hint(nlp: Language, docs: List[Doc]) -> str:
    """The hint for an epoch of these docs under `nlp.config`'s `[training]`, or "" if the run is scored after step 0."""
    try:
        training = nlp.config.interpolate()["training"]
    except Exception:  # spaCy reports a broken config itself
        return ""
    eval_frequency = training.get("eval_frequency")
    steps = run_steps(training, len(docs), sum(len(doc) for doc in docs))
    if steps is None or not isinstance(eval_frequency, int) or eval_frequency < 1:
        return ""
    per_epoch, total = steps
    if total > eval_frequency:
        return ""
    max_epochs = training.get("max_epochs") or 0
    value = per_epoch if max_epochs > 1 and per_epoch < total else max(1, total // 2)
    return (
        f"about {total} training steps ({per_epoch} an epoch) and eval_frequency = {eval_frequency}: only step 0 "
        f"is scored, so model-best and model-last's meta hold step 0's scores. Set --training.eval_frequency "
        f"{value} to score {'once an epoch' if value == per_epoch and max_epochs > 1 else 'during the run'}"
    )
