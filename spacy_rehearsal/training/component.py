"""`rehearsal_copy_ner.v1`: start a new-label NER from the base NER's weights.

The component strategy (see `strategies.py`) adds a NER that knows only the
new labels before the frozen original. Trained from random weights it has to
learn everything about words from the new annotations alone; started from the
original NER's weights it begins with what the original learned about names,
and only its output layer is new.

In `[initialize.after_init]` this callback loads the base pipeline once more
(its own copy), gives its NER its own copy of any shared tok2vec it listens to
(`replace_listeners`), and copies every weight whose layer and shape match into
the new component: the embeddings and CNN layers (the first `depth` of them,
when the new component has fewer), the hidden layer, and the output rows of
the actions the two share by name (O). The new labels' output rows start at
zero. It runs at training time only: the saved pipeline holds plain weights
and loads without the plugin.
"""
from typing import Callable, Tuple, cast

import spacy
from spacy.language import Language
from thinc.api import Model
from thinc.types import FloatsXd
from wasabi import msg

from ..teacher.base_pipeline import give_own_tok2vec


# Registered as "rehearsal_copy_ner.v1" in the "spacy_callbacks" entry point group.
def create_copy_ner(base: str, component: str, source: str = "ner") -> Callable[[Language], None]:
    """Create an `[initialize.after_init]` callback that copies the base NER's weights into `component`.

    base (str): The base pipeline (package name or path).
    component (str): The new NER in the pipeline being trained.
    source (str): The NER of the base pipeline to copy from.
    RETURNS (Callable[[Language], None]): The callback.
    """

    def copy_ner(nlp: Language) -> None:
        if component not in nlp.component_names:
            raise ValueError(f"rehearsal_copy_ner.v1: component '{component}' is not in the pipeline {nlp.component_names}")
        base_nlp = spacy.load(base)
        if source not in base_nlp.component_names:
            raise ValueError(f"rehearsal_copy_ner.v1: base pipeline '{base}' has no component '{source}'")
        give_own_tok2vec(base_nlp, source)  # as the new component's config has it (base_pipeline.inspect_base)
        copied, kept = copy_ner_weights(base_nlp.get_pipe(source), nlp.get_pipe(component))
        msg.info(f"Started '{component}' from the weights of {base}'s '{source}': {copied} arrays copied, {kept} new")

    return copy_ner


def copy_ner_weights(src_pipe: object, dst_pipe: object) -> Tuple[int, int]:
    """Copy a NER's weights into another of the same architecture (labels and depth may differ).

    RETURNS (Tuple[int, int]): Arrays copied, and arrays left as they were.
    """
    src: Model = src_pipe.model  # type: ignore[attr-defined]
    dst: Model = dst_pipe.model  # type: ignore[attr-defined]
    copied = kept = 0
    for ref in ("tok2vec", "lower"):
        c, k = _copy_matching(src.get_ref(ref), dst.get_ref(ref))
        copied, kept = copied + c, kept + k
    if src.attrs.get("has_upper") and dst.attrs.get("has_upper"):
        c, k = _copy_actions(src_pipe, dst_pipe)
        copied, kept = copied + c, kept + k
    return copied, kept


def _copy_matching(src: Model, dst: Model) -> Tuple[int, int]:
    """Copy the params of layers with the same name and shape, walking both trees side by side.

    Layers pair up by position, so a shallower `dst` (fewer CNN layers) takes
    the first of `src`'s.
    """
    copied = kept = 0
    for name in dst.param_names:
        if not dst.has_param(name):
            continue
        if src.name == dst.name and src.has_param(name) and src.get_param(name).shape == dst.get_param(name).shape:
            dst.set_param(name, cast(FloatsXd, dst.ops.asarray(src.get_param(name)).copy()))
            copied += 1
        else:
            kept += 1
    if src.name == dst.name and "seed" in src.attrs and "seed" in dst.attrs:  # hash embeddings
        dst.attrs["seed"] = src.attrs["seed"]
    for s, d in zip(src.layers, dst.layers):
        c, k = _copy_matching(s, d)
        copied, kept = copied + c, kept + k
    for d in dst.layers[len(src.layers):]:
        kept += sum(1 for node in d.walk() for p in node.param_names if node.has_param(p))
    return copied, kept


def _copy_actions(src_pipe: object, dst_pipe: object) -> Tuple[int, int]:
    """Copy the output rows of the actions both NERs have, matched by name."""
    src_upper = src_pipe.model.get_ref("upper")  # type: ignore[attr-defined]
    dst_upper = dst_pipe.model.get_ref("upper")  # type: ignore[attr-defined]
    src_moves, dst_moves = src_pipe.moves, dst_pipe.moves  # type: ignore[attr-defined]
    src_index = {src_moves.get_class_name(i): i for i in range(src_moves.n_moves)}
    W, b = dst_upper.get_param("W").copy(), dst_upper.get_param("b").copy()
    src_W, src_b = dst_upper.ops.asarray(src_upper.get_param("W")), dst_upper.ops.asarray(src_upper.get_param("b"))
    if src_W.shape[1] != W.shape[1]:
        return 0, 2
    shared = [(i, src_index[dst_moves.get_class_name(i)]) for i in range(dst_moves.n_moves) if dst_moves.get_class_name(i) in src_index]
    for i, j in shared:
        W[i] = src_W[j]
        b[i] = src_b[j]
    dst_upper.set_param("W", W)
    dst_upper.set_param("b", b)
    return (2, 0) if shared else (0, 2)
