"""What `rehearsal_callback.v1` shares with `rehearsal_logger.v1`/`.v2` while it trains a pipeline."""
import weakref
from typing import Dict, List, Optional

from spacy.language import Language
from spacy.tokens import Doc

from ...scoring import score_ents
from ...teacher.teacher import Teacher

_STATES: "weakref.WeakKeyDictionary[Language, RehearsalState]" = weakref.WeakKeyDictionary()


def rehearsal_state(nlp: Language) -> Optional["RehearsalState"]:
    """The state of the rehearsal callback training `nlp`, if there is one."""
    return _STATES.get(nlp)


class RehearsalState:
    """What the callback shares with `rehearsal_logger.v1`."""

    def __init__(self, teacher: Teacher, heldout: List[Doc]):
        self.teacher = teacher
        self.heldout = heldout
        # The teacher's entities for the held-out texts, built once for every evaluation
        self.heldout_refs = [teacher.silver_doc(doc, doc.vocab) for doc in heldout]
        self.losses: Dict[str, float] = {}
        self.n_examples = 0
        self.distance: Optional[float] = None  # squared distance from the starting weights (l2_pull)

    def loss(self) -> float:
        """Rehearsal loss summed over components since the last reset."""
        return float(sum(self.losses.values()))

    def reset(self) -> None:
        self.losses = {}

    def retention(self, nlp: Language) -> Optional[float]:
        """Agreement F of `nlp` with the teacher on the held-out raw texts (teacher labels)."""
        if not self.heldout:
            return None
        preds = nlp.pipe(doc.text for doc in self.heldout)
        labels = self.teacher.labels if self.teacher.labels is not None else self.teacher.all_labels
        return float(score_ents(preds, self.heldout_refs, labels=labels)["micro"]["f"])  # type: ignore[index]
