"""The one-model routes `spacy rehearsal init-config` writes, and which of them "rehearsal" is.

Each route says how `rehearsal_reader.v1` reads your annotations (teacher-fill
or not, teacher-annotated raw text mixed in or not) and what the rehearsal
callback does in `[training.before_update]`, if anything. The settings are the
ones measured in benchmarks/forgetting.py (docs/benchmarks.md).
"""
from dataclasses import dataclass, field
from typing import Any, Dict, Optional

from ..training.one_model.distill import RECIPE


@dataclass(frozen=True)
class Route:
    """A one-model strategy: how the reader reads your annotations, and what the callback does."""

    fill: str  # the reader's fill for tokens your annotations leave unlabelled
    reader_raw: bool  # the reader mixes in teacher-annotated raw text, 1:1
    callback: Optional[Dict[str, Any]] = None  # the callback's settings (rehearsal_callback.v3), or none
    notes: Dict[str, str] = field(default_factory=dict)  # comments on the callback's settings


SILVER_NOTE = {
    "mode": "Silver: the teacher's entities on raw text, taught as annotations (the older recipe; distill: soft targets)",
    "batch_size": "Raw sentences rehearsed per step (the argument's default is 32): measured in "
    "benchmarks/forgetting.py, 4 costs the new label the least",
}
DISTILL_NOTES = {
    "mode": "Soft targets: the teacher NER's action probabilities on raw text (docs/how-it-works.md: soft targets)",
    "batch_size": "Raw sentences rehearsed per step: 16, chosen on the fashion dev split (docs/benchmarks.md)",
    "temperature": "Softmax temperature of both distributions: 1, the teacher's own probabilities (not tuned)",
    "weight": "Scale of the soft-target loss against your examples' loss: 1, the measured recipe",
    "l2_pull": "Pull of the NER's weights toward the base's: 0 (off); 1.0 held the new label back (docs/benchmarks.md)",
    "new_actions": "ignore: raw text never argues about your new labels; zero: it teaches \"not the new "
    "type\" wherever the teacher has a say (keeps more of the old types, finds fewer new ones)",
}
# The one-model routes by name
ROUTES = {
    "reader": Route("teacher", True),
    "callback": Route("outside", False, {"mode": "silver", "batch_size": 4}, SILVER_NOTE),
    "fill-callback": Route("teacher", False, {"mode": "silver", "batch_size": 4}, SILVER_NOTE),
    "distill": Route("teacher", False, {"mode": "distill", **RECIPE}, DISTILL_NOTES),
}
# What `--strategy rehearsal` writes: the best one-model route measured
REHEARSAL_ROUTE = "distill"
