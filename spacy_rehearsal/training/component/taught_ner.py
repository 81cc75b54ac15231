"""The component route's taught NER at initialization: `rehearsal_component.v1` and `rehearsal_copy_ner.v1`.

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

`rehearsal_component.v1` is what `init-config` writes: it copies the weights
(or not), gates the labels you correct off in the frozen original NER
(`gate.py`), and writes what was taught into the pipeline's
`meta["rehearsal"]`, so `spacy rehearsal evaluate` can tell taught labels from
kept ones.
"""
from pathlib import Path
from typing import Callable, List, Optional, Tuple, cast

import spacy
from spacy.language import Language
from spacy.pipeline import EntityRecognizer
from thinc.api import Model
from thinc.types import FloatsXd
from wasabi import msg

from ...errors import InputError, SettingError
from ...teacher.base_pipeline import give_own_tok2vec, pipeline_meta
from .features import share_ner_features, start_as_identity
from .gate import gate_labels
from .rounds import Record, next_record, original_labels, plan, read_record, span_counts


# Registered as "rehearsal_copy_ner.v1" in the "spacy_callbacks" entry point group.
def create_copy_ner(base: str, component: str, source: str = "ner") -> Callable[[Language], None]:
    """Create an `[initialize.after_init]` callback that copies the base NER's weights into `component`.

    base (str): The base pipeline (package name or path).
    component (str): The new NER in the pipeline being trained.
    source (str): The NER of the base pipeline to copy from.
    RETURNS (Callable[[Language], None]): The callback.
    """

    def copy_ner(nlp: Language) -> None:
        _copy_from_base(nlp, base, component, source, "rehearsal_copy_ner.v1")

    return copy_ner


# Registered as "rehearsal_component.v1" in the "spacy_callbacks" entry point group.
def create_component_init_v1(
    base: str,
    component: str,
    source: str = "ner",
    copy_weights: bool = False,
    corrected: List[str] = [],  # noqa: B006 (confection fills it from the config; never mutated)
    gate_components: List[str] = [],  # noqa: B006
) -> Callable[[Language], None]:
    """`rehearsal_component.v2` without `features`: the taught NER computes its own features."""
    return create_component_init(base, component, source, copy_weights, corrected, gate_components, None)


# Registered as "rehearsal_component.v2" in the "spacy_callbacks" entry point group.
def create_component_init(
    base: str,
    component: str,
    source: str = "ner",
    copy_weights: bool = False,
    corrected: List[str] = [],  # noqa: B006 (confection fills it from the config; never mutated)
    gate_components: List[str] = [],  # noqa: B006
    features: Optional[str] = None,
) -> Callable[[Language], None]:
    """Create the component route's `[initialize.after_init]` callback (one round: v3 adds rounds).

    base (str): The base pipeline (package name or path).
    component (str): The taught NER: it learns the labels your annotations hold.
    source (str): The base NER it copies its weights from.
    copy_weights (bool): Start the taught NER from `source`'s weights (the
        corrections route) or leave it as initialized (new labels only).
    corrected (List[str]): The base's labels your annotations correct: gated off
        in `gate_components`, so only the taught NER predicts them.
    gate_components (List[str]): The base's NERs, frozen in the pipeline.
    features (Optional[str]): A standalone tok2vec component (frozen,
        annotating, before the NERs) to move `source`'s own tok2vec into;
        `source` then listens to it, as the taught NER does
        (`features.py`). None: nothing moves.
    RETURNS (Callable[[Language], None]): The callback. It also writes
        `nlp.meta["rehearsal"]`: the taught NER, its labels, which of them
        are corrected and which new, and the gated NERs.
    """
    return _create_init("rehearsal_component.v2", base, component, source, copy_weights, corrected, gate_components,
                        features, resume=False, labels=[], annotations=None, rounds=False)


# Registered as "rehearsal_component.v3" in the "spacy_callbacks" entry point group.
def create_component_init_v3(
    base: str,
    component: str,
    source: str = "ner",
    copy_weights: bool = False,
    corrected: List[str] = [],  # noqa: B006 (confection fills it from the config; never mutated)
    gate_components: List[str] = [],  # noqa: B006
    features: Optional[str] = None,
    resume: bool = False,
    labels: List[str] = [],  # noqa: B006
    annotations: Optional[Path] = None,
) -> Callable[[Language], None]:
    """`rehearsal_component.v2` that updates a pipeline it made again, round after round (`rounds.py`).

    resume (bool): The taught NER is `base`'s own, sourced and trained
        further (a later round): nothing is copied into it, and labels of
        `labels` it does not have yet get output rows starting at zero.
        false: as v2 (round 1, or a round whose taught NER starts again as a
        full copy of `source`).
    labels (List[str]): The labels this round's annotations hold (what
        init-config wrote as the train reader's `labels`).
    annotations (Optional[Path]): This round's annotations
        (`${paths.train}`): their examples and spans per label go into the
        round's entry in `meta["rehearsal"]["rounds"]`. None: not counted.
    Every other argument is v2's. RETURNS (Callable[[Language], None]): The
    callback; `meta["rehearsal"]` also records `base` (round 1's pipeline)
    and `rounds`, read from `base`'s own record and extended by this round.
    """
    return _create_init("rehearsal_component.v3", base, component, source, copy_weights, corrected, gate_components,
                        features, resume=resume, labels=labels, annotations=annotations, rounds=True)


def _create_init(
    name: str, base: str, component: str, source: str, copy_weights: bool, corrected: List[str],
    gate_components: List[str], features: Optional[str], *, resume: bool, labels: List[str],
    annotations: Optional[Path], rounds: bool,
) -> Callable[[Language], None]:
    """The body of v2 and v3: `name` is the registered name, for messages."""
    if resume and copy_weights:
        raise SettingError(f"{name}: resume = true trains the base's own '{component}' further: copy_weights must be false")

    def init_component(nlp: Language) -> None:
        if copy_weights:
            _copy_from_base(nlp, base, component, source, name)
        elif component not in nlp.component_names:
            raise ValueError(f"{name}: component '{component}' is not in the pipeline {nlp.component_names}")
        taught_ner = cast(EntityRecognizer, nlp.get_pipe(component))
        previous = _record_of(base, strict=resume) if rounds else None
        # This round's labels, and every label an earlier round taught (a restarted taught NER learns them again)
        earlier = previous.taught_labels if previous is not None else []
        added = [label for label in dict.fromkeys([*labels, *earlier]) if taught_ner.add_label(label)]
        if resume:
            msg.info(f"Training '{component}' further (it keeps what earlier rounds taught it)"
                     + (f"; new labels: {', '.join(added)}" if added else ""))
        part = None
        if features is not None:
            if features not in nlp.config["training"]["frozen_components"]:
                raise ValueError(f"{name}: '{features}' must be frozen: the original NER's predictions depend on it")
            part = share_ner_features(nlp, source, features)
            what = "features" if part == "tok2vec" else "embedding"
            msg.info(f"Moved the {what} of '{source}' into '{features}': '{source}' and '{component}' listen to it")
        # Layers of the taught NER's own on shared features (not a copied encoder on a shared embedding)
        if part != "embed" and not resume and start_as_identity(taught_ner):
            msg.info(f"'{component}'s own layers on the shared features start as the identity")
        taught = sorted(taught_ner.labels)
        # A corrected label the annotations turned out not to hold stays the original's
        corrected_here = sorted(set(corrected) & set(taught))
        gated: List[str] = []
        for other in gate_components:
            if other not in nlp.component_names:
                raise ValueError(f"{name}: component '{other}' is not in the pipeline {nlp.component_names}")
            if other not in nlp.config["training"]["frozen_components"]:
                raise ValueError(f"{name}: '{other}' must be frozen: training would move its gate")
            done = gate_labels(cast(EntityRecognizer, nlp.get_pipe(other)), corrected_here)
            if done:
                gated.append(other)
                msg.info(f"Gated {', '.join(done)} off in '{other}': only '{component}' predicts them")
        if not rounds:
            nlp.meta["rehearsal"] = {
                "taught_component": component, "taught_labels": taught, "corrected_labels": corrected_here,
                "new_labels": sorted(set(taught) - set(corrected_here)), "gated_components": gated,
            }
            return
        ners = {other: cast(EntityRecognizer, nlp.get_pipe(other)).labels for other in nlp.component_names
                if nlp.get_pipe_meta(other).factory in ("ner", "beam_ner")}
        originals = original_labels(ners, component, earlier, previous.corrected_labels if previous is not None else [])
        labels_plan = plan(labels or taught, originals, earlier)
        nlp.meta["rehearsal"] = next_record(previous, base, component, taught, corrected_here, gated, labels_plan,
                                            span_counts(annotations))

    return init_component


def _record_of(base: str, strict: bool) -> Optional[Record]:
    """`base`'s record (`rounds.py`); not `strict`: None where it names a taught NER `base` no longer has."""
    meta = pipeline_meta(base)
    try:
        return read_record(meta, meta.get("components", meta.get("pipeline", [])), base)
    except InputError:
        if strict:
            raise
        return None


def _copy_from_base(nlp: Language, base: str, component: str, source: str, name: str) -> None:
    if component not in nlp.component_names:
        raise ValueError(f"{name}: component '{component}' is not in the pipeline {nlp.component_names}")
    base_nlp = spacy.load(base)
    if source not in base_nlp.component_names:
        raise ValueError(f"{name}: base pipeline '{base}' has no component '{source}'")
    give_own_tok2vec(base_nlp, source)  # as the new component's config has it (base_pipeline.inspect_base)
    copied, kept = copy_ner_weights(base_nlp.get_pipe(source), nlp.get_pipe(component))
    msg.info(f"Started '{component}' from the weights of {base}'s '{source}': {copied} arrays copied, {kept} new")


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
