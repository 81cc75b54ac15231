"""An L2 pull of a component's weights toward the values it started training with.

`rehearsal_callback.v1`'s `l2_pull` option: at every training step it adds
`strength * (W - W_start)` to the gradient of each weight array of the
rehearsed components (the gradient of `strength / 2 * ||W - W_start||^2`),
so the optimizer applies it with the step's own gradient. `W_start` is taken
at the first step, after `spacy train` has initialized the pipeline: for a
sourced NER, the original's weights. When the output layer grows for a new
label (spaCy adds the label at the first update), its original rows are still
pulled and the new label's rows are free; an array whose shape changed any
other way is not pulled.
Unlike the optimizer's L2 (`L2_is_weight_decay`), which pulls toward zero,
this pulls toward what the original knew: parameter-space rehearsal, in the
spirit of L2-SP / EWC with a uniform importance.
"""
from typing import Dict, Iterator, List, Tuple

from thinc.api import Model
from thinc.types import FloatsXd


class WeightAnchor:
    """The starting weights of some models and the pull toward them.

    models (List[Model]): The models whose weights are pulled (their nodes are walked).
    strength (float): The pull's coefficient; 0 disables it.
    """

    def __init__(self, models: List[Model], strength: float):
        self.strength = strength
        self.models = models
        # Keyed by position in the walk, not node id: resizing the output replaces its node
        self.start: Dict[Tuple[int, int, str], FloatsXd] = {
            key: node.ops.xp.array(node.get_param(name), copy=True) for key, node, name in self._params()
        }

    def _params(self) -> Iterator[Tuple[Tuple[int, int, str], Model, str]]:
        seen = set()  # a layer shared between the models counts once
        for m, model in enumerate(self.models):
            for i, node in enumerate(model.walk()):
                if node.id in seen:
                    continue
                seen.add(node.id)
                for name in node.param_names:
                    if node.has_param(name):
                        yield (m, i, name), node, name

    def pull(self) -> float:
        """Add the pull to the gradients; return `||W - W_start||^2` over the pulled weights."""
        distance = 0.0
        for key, node, name in self._params():
            start = self.start.get(key)
            param = node.get_param(name)
            if start is None or param.shape[1:] != start.shape[1:] or param.shape[0] < start.shape[0]:
                continue
            delta = node.ops.alloc(param.shape, dtype=param.dtype)
            delta[: start.shape[0]] = param[: start.shape[0]] - start  # rows added since: not pulled
            distance += float((delta * delta).sum())
            if self.strength:
                node.inc_grad(name, self.strength * delta)
        return distance
