"""The component strategy's config: a taught NER before the frozen original, for new labels and corrections.

The taught NER learns every label your annotations hold (the taught labels);
the original NER, frozen, runs after it, keeps the taught NER's entities
(spaCy's NER treats entities already on a doc as fixed) and adds the labels
you did not teach (the kept labels) around them. What the taught NER is
depends on what you teach (`recipe_for`):

- new labels only (`NEW_TYPES`): a small fresh NER of its own (`student.Shape`), taught O on
  raw text where the new types are not;
- corrections, alone or with new labels (`CORRECTIONS`): a full copy of the
  base NER (its own tok2vec copy where the base's listens to a shared one),
  trained on your annotations, and the corrected labels gated off in the
  original (`training/component/gate.py`), so they come from the taught NER only.

`rehearsal_component.v3` (`training/component/taught_ner.py`) does the
copying and the gating in `[initialize.after_init]` and writes
`meta["rehearsal"]`, so a later round (`rounds.py`) trains the same taught
NER further instead of adding one.
"""
from dataclasses import dataclass, replace
from typing import Any, Dict, List, Optional, Set

from spacy.util import copy_config

from ..errors import InputError
from ..teacher.base_pipeline import BasePipeline
from ..training.component import rounds
from ..training.component.features import FEATURES_COMPONENT, LISTENER, listener_config
from ..training.component.student import Shape
from .render import Notes

# The taught NER's name; a base that already has one (types added one after another) gets "ner_new2", ...
NEW_COMPONENT = "ner_new"
COMPONENT_INIT_V3 = "rehearsal_component.v3"


@dataclass(frozen=True)
class Recipe:
    """How the taught NER starts and what it learns from raw text.

    depth (Optional[int]): At most this many CNN layers of the base NER's (None: all of them).
    copy_weights (bool): Start from the base NER's weights, or from random ones.
    raw_ratio (float): Raw sentences taught as O for the taught labels, per annotated example.
    shared_features (bool): The taught NER listens to the base NER's features
        (`training/component/features.py`) rather than computing its own.
    shared_part (str): What of them: "tok2vec" (all: `depth` is then moot) or
        "embed" (the embedding only: the taught NER has CNN layers of its own,
        `depth` of them).
    adapter (int): With shared features: trainable residual layers (a
        MaxoutWindowEncoder) of the taught NER's own on top of them, started
        as the identity (`features.start_as_identity`).
    adapter_window (int): Their window size (0: each token on its own, the cheapest).
    small (bool): The taught NER is a small NER of its own (`training/component/student.py`'s `Shape`:
        width 48, `depth` CNN layers, hidden width 32), not the base NER's architecture.
    """

    depth: Optional[int]
    copy_weights: bool
    raw_ratio: float
    shared_features: bool = False
    shared_part: str = "tok2vec"
    adapter: int = 0
    adapter_window: int = 1
    small: bool = False


# New labels only: chosen on dev splits of the fashion-brands training data (benchmarks/forgetting.py --dev-split,
# docs/benchmarks.md). A small NER of its own (width 48, 1 CNN layer, hidden width 32; issue 38) learned the new type
# within 0.03 F1 of the base NER's architecture with 2 CNN layers (three data sets) and runs at about 0.92x
# the base pipeline's speed where that ran at 0.83-0.86x, training in half the time; random weights learned the new type
# better than a copy; raw text taught O keeps the new NER off the old types (without it agreement fell from 0.990 to
# 0.898). --component-depth or --copy-weights give the base NER's architecture (--component-depth 2: the earlier default).
NEW_TYPES = Recipe(depth=1, copy_weights=False, raw_ratio=1.0, small=True)
# Corrections (the base's own labels, with or without new ones): chosen on a dev split of CoNLL train
# (benchmarks/corrections.py --dev-split, docs/benchmarks.md): a full copy of the base NER keeps what it knew of the
# corrected types and learns the corrections. Its first 3 CNN layers (0.79x the base's speed instead of 0.76x)
# learned a little less in the worst seed (0.95 of naive's gain at 200 corrections where the full copy kept 1.00).
CORRECTIONS = Recipe(depth=None, copy_weights=True, raw_ratio=0.0)
# Inference cost, measured: the base's words per second in the same run (benchmarks/pipeline_profile.py and
# pipeline_speed.py on CoNLL dev, benchmarks/results/pipeline_speed_shared.json; docs/benchmarks.md)
SPEED = {
    (False, False): "0.92x the base's words per second (a small second NER of its own, best of 8 rounds with each of "
                    "three data sets' pipelines; single rounds range 0.88-0.95x; a later round keeps it; "
                    "benchmarks/results/pipeline_speed_students_devsplit.json)",
    (True, False): "0.78-0.83x the base's words per second (a second NER, a full copy of the base's: 0.83x after a round "
                   "of corrections, 0.78x after a correction on a new types' pipeline; "
                   "benchmarks/results/pipeline_speed_rounds.json)",
    (False, True): "0.94x the base's words per second (shared features; measured to learn far less: new-type F1 "
                   "0.18-0.71 where naive has 0.59-0.87)",
    (True, True): "0.94x the base's words per second (shared features; measured to keep only 0.50 of naive's "
                  "corrections gain)",
}

# `spacy rehearsal distill` after a corrections round (a small student in the full copy's place), measured on the
# evaluation files (benchmarks/students.py --scenario corrections, docs/benchmarks.md "A small taught NER (issue 38)")
STUDENT_SPEED = ("0.85-0.90x the base's words per second (best of 8 rounds and median of the rounds, seed 0 of the "
                 "dev split and of the evaluation run; benchmarks/results/pipeline_speed_students_devsplit.json)")
STUDENT_COST = (
    f"a student in the full copy's place runs at {STUDENT_SPEED} and keeps 0.88 of naive's gain where the full copy "
    "keeps 1.01, at 0.965 agreement (500 corrections, 4 seeds; benchmarks/results/students_corrections.json)"
)

# What rehearsal_check_paths.v1 warns of when a route with raw text runs without it: the dev-split pilot
# (benchmarks/results/component_pilot_devsplit.json, "component no raw"; README)
NO_RAW_COST = (
    "the new NER learns from raw text where the new types are not; without it, agreement with the base on "
    "its other types fell from 0.990 to 0.898 (PERSON recall 0.32) in the project's benchmark"
)


def corrected_labels(labels: List[str], base: BasePipeline) -> List[str]:
    """The taught labels the base's original NER(s) predict (a taught NER of an earlier round is not one)."""
    return sorted(set(labels) & original_labels(base))


def original_labels(base: BasePipeline) -> Set[str]:
    """The labels the base's original NER(s) predict: not the taught NER's, where `meta["rehearsal"]` names one."""
    record = base.meta.get("rehearsal")
    if not isinstance(record, dict) or not base.ner_labels:
        return set(base.labels)
    return rounds.original_labels(base.ner_labels, record.get("taught_component"), record.get("taught_labels", []),
                                  record.get("corrected_labels", []))


def recipe_for(
    labels: List[str], base: BasePipeline, depth: Optional[int] = None, copy_weights: Optional[bool] = None,
    raw_ratio: Optional[float] = None, shared_features: Optional[bool] = None, shared_part: Optional[str] = None,
    adapter: Optional[int] = None,
    adapter_window: Optional[int] = None,
) -> Recipe:
    """The measured recipe for what `labels` teach `base`, with any setting the user gave in its place.

    depth: None keeps the recipe's; 0 means all of the base NER's CNN layers.
    """
    recipe = CORRECTIONS if corrected_labels(labels, base) else NEW_TYPES
    if depth is not None or copy_weights or shared_features:  # the base NER's architecture, as asked for
        recipe = replace(recipe, small=False, depth=recipe.depth if recipe.copy_weights else 2)
    if depth is not None:
        if depth < 0:
            raise InputError("--component-depth", f"must be >= 0 (0: all of the base NER's layers), got {depth}")
        recipe = replace(recipe, depth=depth or None)
    if copy_weights is not None:
        recipe = replace(recipe, copy_weights=copy_weights)
    if raw_ratio is not None:
        if raw_ratio < 0:
            raise InputError("--raw-ratio", f"must be >= 0, got {raw_ratio}")
        recipe = replace(recipe, raw_ratio=raw_ratio)
    if shared_features is not None:
        recipe = replace(recipe, shared_features=shared_features)
    if shared_part is not None:
        recipe = replace(recipe, shared_part=shared_part)
    if adapter is not None:
        recipe = replace(recipe, adapter=adapter)
    if adapter_window is not None:
        recipe = replace(recipe, adapter_window=adapter_window)
    return recipe


def new_component_name(base: BasePipeline) -> str:
    """The taught NER's name: "ner_new", or the first free "ner_newN" if the base has one."""
    return _free_name(NEW_COMPONENT, set(base.components))


def _free_name(stem: str, taken: Set[str]) -> str:
    """`stem`, or the first of "stem2", "stem3", ... not in `taken`."""
    return next(name for name in (stem, *(f"{stem}{i}" for i in range(2, len(taken) + 3))) if name not in taken)


def add_component(config: Dict[str, Any], notes: Notes, base: BasePipeline, labels: List[str], recipe: Recipe) -> str:
    """Put the taught NER before the frozen base NER in `config`; RETURNS its name.

    The train corpus is the caller's (the reader with fill "outside" and raw
    text taught O, at `recipe.raw_ratio`).
    """
    new = new_component_name(base)
    corrected = corrected_labels(labels, base)
    model = Shape(depth=recipe.depth or 1).model_config() if recipe.small else copy_config(base.ner_model)
    if not recipe.small and recipe.depth is not None and not (recipe.shared_features and recipe.shared_part == "tok2vec"):
        cnn = _cnn_with_depth(model.get("tok2vec", {}))
        if cnn is not None:
            cnn["depth"] = min(recipe.depth, cnn["depth"])
    block = ner_block(base)
    pipeline = config["nlp"]["pipeline"]
    pipeline.insert(pipeline.index(base.ner), new)
    config["components"][new] = {**block, "model": model}
    config["training"]["frozen_components"] = list(base.components)
    features = _share_features(config, notes, base, new, model, recipe) if recipe.shared_features else None
    notes[(f"components.{new}", "factory")] = (
        f"The taught NER ({', '.join(labels)}): it runs before '{base.ner}', which keeps its entities and fills "
        f"the kept types around them" + (f"; {', '.join(corrected)} are gated off in {', '.join(base.ners)}" if corrected else "")
    )
    notes[("training", "frozen_components")] = "The base pipeline stays as it was (only the gated labels' output biases change)" \
        if corrected else "The base pipeline stays exactly as it was"
    config["initialize"]["after_init"] = {
        "@callbacks": COMPONENT_INIT_V3, "base": "${paths.base}", "component": new, "source": base.ner,
        "copy_weights": recipe.copy_weights, "corrected": corrected, "gate_components": list(base.ners) if corrected else [],
        "features": features, "resume": False, "labels": list(labels), "annotations": "${paths.train}",
    }
    notes[("initialize.after_init", "copy_weights")] = (
        "Start the taught NER from the base NER's weights (true) or random ones (false): the measured recipe for "
        + ("corrections" if corrected else "new labels only")
    )
    notes[("initialize.after_init", "corrected")] = (
        "Labels the base predicts that your annotations correct: their B-/U- output biases are set to -1e4 in "
        "gate_components, which then never predict them (plain weights: the saved pipeline needs no plugin)"
    )
    return new


def ner_block(base: BasePipeline) -> Dict[str, Any]:
    """The base NER's component block without its model and how it was sourced: a taught NER's settings."""
    return {k: v for k, v in base.config["components"][base.ner].items() if k not in ("model", "source", "replace_listeners")}


def _share_features(
    config: Dict[str, Any], notes: Notes, base: BasePipeline, new: str, model: Dict[str, Any], recipe: Recipe
) -> Optional[str]:
    """Make the taught NER (`model`) listen to the base NER's features; RETURNS the component to move them into.

    A base NER with its own tok2vec gets it moved into a standalone frozen
    `tok2vec` component before the taught NER (the callback moves it, see
    `training/component/features.py`); a base NER that listens to a shared tok2vec
    already shares it with the taught NER. A NER listening to something else
    (a transformer) keeps the taught NER's own copy.
    """
    training = config["training"]
    embed_only = recipe.shared_part == "embed" and isinstance(model["tok2vec"].get("embed"), dict)
    if base.listens_to is None:
        upstream = _free_name(FEATURES_COMPONENT, {*base.components, new})
        config["components"][upstream] = {"factory": "tok2vec", "model": model["tok2vec"]["embed"] if embed_only else model["tok2vec"]}
        pipeline = config["nlp"]["pipeline"]
        pipeline.insert(pipeline.index(new), upstream)
        training["frozen_components"].append(upstream)
        notes[(f"components.{upstream}", "factory")] = (
            f"The features of '{base.ner}' (its own tok2vec, moved here when training starts): both NERs listen to "
            f"them, computed once per text"
        )
        moved: Optional[str] = upstream
    elif base.listener_arch == LISTENER:
        upstream, moved = base.listens_to, None
    else:
        return None
    if embed_only and moved is not None:  # the taught NER keeps its own CNN layers on the shared embedding
        model["tok2vec"] = {**model["tok2vec"], "embed": listener_config(model["tok2vec"]["embed"]["width"], upstream)}
        written = "embedding the frozen NER"
    else:
        listener = listener_config(base.features_width, upstream)
        model["tok2vec"] = listener if not recipe.adapter else {
            "@architectures": "spacy.Tok2Vec.v2", "embed": listener,
            "encode": {"@architectures": "spacy.MaxoutWindowEncoder.v2", "width": base.features_width, "depth": recipe.adapter,
                       "window_size": recipe.adapter_window, "maxout_pieces": 3},
        }
        written = "features the frozen NERs"
    training["annotating_components"] = [*training["annotating_components"], upstream]
    notes[("training", "annotating_components")] = f"'{upstream}' writes the {written} and the taught NER read"
    return moved


def _cnn_with_depth(tok2vec: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    """The block holding the CNN depth of a tok2vec config (spacy.Tok2Vec.v2's encoder, or HashEmbedCNN), if any."""
    for block in (tok2vec.get("encode"), tok2vec):
        if isinstance(block, dict) and isinstance(block.get("depth"), int):
            return block
    return None
