"""Gating a NER's labels off in its own weights: the output bias of their B- and U- actions.

The component route for corrections runs two NERs: the taught NER, which
predicts only the labels your annotations teach, and after it the frozen
original, which must never predict a label you corrected (your corrections,
from the taught NER, are its preset entities; it adds the labels you kept
around them). The original stops predicting label X once neither `B-X` nor
`U-X` can win its argmax; `I-X` and `L-X` are then unreachable, as they are
valid only inside an entity that a `B-X` opened.

The maths. spaCy's transition-based NER scores every action with its output
layer, `scores = W·h + b`, and takes the valid action with the highest score
(greedy) or keeps the best-scoring states (beam). Outside an entity, `O` is
always valid. With `b[B-X] = b[U-X] = GATE_BIAS = -1e4`, those two actions
score about -1e4 plus `W·h`, which in a trained NER is a few tens at most, so
they never outscore `O` and the NER never starts an entity of X. For a model
without an upper layer (`use_upper = false`, as transformer pipelines have),
the scores are the lower layer's maxout output: its bias is per action and
piece, and every piece of the gated actions gets -1e4 (maxout takes the
largest piece, still about -1e4).

Training cannot undo it because the gated NER is frozen: spaCy never calls its
`update` or `finish_update`, so neither Adam nor weight decay touches its
bias (with `L2_is_weight_decay`, decay would shrink -1e4 by a factor of
1 - learn_rate * L2 = 1 - 1e-5 a step, still below -9000 after 10,000 steps;
`rehearsal_component.v1` gates only frozen NERs all the same). The bias is an
ordinary weight: it saves and loads with the pipeline, which needs no plugin.
`ner.labels` still lists a gated label (the action exists); the pipeline's
`meta["rehearsal"]` names the gated labels (see `component.py`).
"""
from typing import Iterable, List, cast

import numpy
from spacy.pipeline import EntityRecognizer
from thinc.api import Model
from thinc.types import FloatsXd

GATE_BIAS = -1e4
# A bias this low or lower counts as gated (a trained bias is a few units at most)
GATED_BELOW = GATE_BIAS / 2


def _bias_layer(ner: EntityRecognizer) -> Model:
    """The layer whose bias scores the actions: the upper layer, or the lower one without it."""
    model: Model = ner.model
    if model.attrs.get("has_upper", True):
        return model.get_ref("upper")
    lower = model.get_ref("lower")
    if not lower.has_dim("nP") or lower.get_dim("nP") < 2:
        raise ValueError(
            f"'{ner.name}' has no upper layer and no maxout pieces (maxout_pieces = 1): its scores pass a ReLU, "
            f"which a negative bias cannot gate"
        )
    return lower


def _entity_actions(ner: EntityRecognizer, labels: Iterable[str]) -> List[int]:
    """The indices of the B- and U- actions of `labels` that the NER has."""
    wanted = {f"{move}-{label}" for label in labels for move in ("B", "U")}
    return [i for i in range(ner.moves.n_moves) if ner.moves.get_class_name(i) in wanted]


def gate_labels(ner: EntityRecognizer, labels: Iterable[str]) -> List[str]:
    """Set the output bias of `labels`' B- and U- actions to GATE_BIAS, so `ner` never predicts them.

    ner (EntityRecognizer): An initialized NER (its weights change in place).
    labels (Iterable[str]): The labels to gate off; labels it does not have are skipped.
    RETURNS (List[str]): The labels gated, sorted.
    """
    labels = list(labels)
    actions = _entity_actions(ner, labels)
    if not actions:
        return []
    layer = _bias_layer(ner)
    b = numpy.array(layer.ops.to_numpy(layer.get_param("b")))  # (nO,) or, for a lower layer, (nO, nP)
    b[actions] = GATE_BIAS  # every piece of a lower layer's row
    layer.set_param("b", cast(FloatsXd, layer.ops.asarray(cast(FloatsXd, b), dtype="f")))
    return sorted(set(labels) & set(ner.labels))


def gated_labels(ner: EntityRecognizer) -> List[str]:
    """The labels whose B- and U- actions both carry a gating bias: `ner` never predicts them."""
    layer = _bias_layer(ner)
    b = numpy.asarray(layer.ops.to_numpy(layer.get_param("b")))
    gated = []
    for label in ner.labels:
        actions = _entity_actions(ner, [label])
        if actions and all(float(b[i].max()) <= GATED_BELOW for i in actions):
            gated.append(label)
    return sorted(gated)
