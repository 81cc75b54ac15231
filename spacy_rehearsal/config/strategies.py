"""The training config of each strategy: what `spacy rehearsal init-config` writes.

Two ways to teach a pretrained pipeline new entity types without it forgetting
the old ones:

- "component": the base pipeline stays as it is, frozen, and a second NER
  that knows only the taught labels (the labels your annotations hold: new
  ones, the base's own ones you correct, or both) runs before the original
  NER. spaCy's NER keeps entities already set on a doc, so the original fills
  the kept types around the taught NER's spans; the labels you correct are
  gated off in the original (`training/component/gate.py`). Best retention; costs
  inference time.
- one model ("rehearsal", "reader", "callback", "fill-callback", "distill"): the base NER
  itself is updated, with the plugin's pseudo-rehearsal routes keeping what it
  knew. No inference cost.

`generate_config` builds the config for a base pipeline and strategy as text
with comments; `render.check_config` proves it by building the pipeline from it.
Every strategy reads the user's annotations through `rehearsal_reader.v2`
(whose `labels` must be what they hold), the dev corpus is filled with the
teacher's entities, so `spacy train` scores old and new types together, and
`rehearsal_check_paths.v1` checks the paths before spaCy loads the base.
"""
from typing import Any, Dict, List, Optional, Sequence, Tuple

from confection import Config

from ..errors import InputError
from ..teacher.base_pipeline import BasePipeline
from ..training.component.rounds import Record, check_case, read_record
from .component import NEW_COMPONENT, NO_RAW_COST, Recipe, add_component, recipe_for
from .render import Notes, render
from .rounds import add_round, round_corpus
from .routes import REHEARSAL_ROUTE, ROUTES

__all__ = ["NEW_COMPONENT", "STRATEGIES", "check_labels", "generate_config"]  # NEW_COMPONENT: component.py's

STRATEGIES = ("component", "rehearsal", "reader", "callback", "fill-callback", "distill")
CHECK_PATHS = "rehearsal_check_paths.v1"
# Why a corrections config reads no raw text, said when --paths.raw is given anyway (docs/benchmarks.md, corrections)
NO_RAW_CORRECTIONS = (
    "the corrections recipe: raw text taught O kept only 0.31 of naive's gain on a dev split, where none kept 1.00"
)
# What rehearsal_check_paths.v1 warns of when a later round runs without raw text
ROUND_NO_RAW_COST = (
    "raw text is where the last round's taught NER teaches the labels it knew that this round's annotations "
    "leave out (and, for new types, keeps the taught NER off the original's types)"
)


def check_labels(labels: Sequence[str], base: BasePipeline, strategy: str) -> List[str]:
    """The new labels, checked against the base's (InputError on a problem)."""
    if strategy not in STRATEGIES:
        raise InputError("--strategy", f"unknown strategy {strategy!r}: choose one of {', '.join(STRATEGIES)}")
    labels = list(dict.fromkeys(label.strip() for label in labels if label.strip()))
    if not labels:
        raise InputError("--labels", "give the labels your annotations add, e.g. --labels FASHION_BRAND")
    odd = [label for label in labels if any(c.isspace() for c in label)]
    if odd:
        raise InputError("--labels", f"labels cannot contain white space: {odd}")
    check_case(labels, base.labels, base.name)
    return labels


def taught_record(base: BasePipeline, strategy: str) -> Optional[Record]:
    """The base's record of earlier component rounds (`rounds.py`), for the component strategy; else None."""
    return read_record(base.meta, base.components, base.name) if strategy == "component" else None


def generate_config(
    base: BasePipeline,
    labels: Sequence[str],
    strategy: str,
    *,
    component_depth: Optional[int] = None,
    copy_weights: Optional[bool] = None,
    raw_ratio: Optional[float] = None,
    shared_features: Optional[bool] = None,
    shared_part: Optional[str] = None,
    adapter: Optional[int] = None,
    adapter_window: Optional[int] = None,
) -> str:
    """A complete training config for `strategy`, as commented config text.

    base (BasePipeline): From `inspect_base`.
    labels (Sequence[str]): The new labels (see `check_labels`).
    strategy (str): One of STRATEGIES.
    component_depth (Optional[int]): Component strategy: at most this many CNN
        layers in the taught NER's tok2vec, the first ones of the base NER's (0:
        as many as the base's; a tok2vec without CNN layers, e.g. a
        transformer, is copied whole). None: the measured recipe's
        (`component.recipe_for`: new labels only or corrections).
    copy_weights (Optional[bool]): Component strategy: start the taught NER
        from the base NER's weights (True) or from random weights (False).
        None: the recipe's.
    raw_ratio (Optional[float]): Component strategy: raw sentences taught as
        O for the taught labels, per annotated example. None: the recipe's.
    shared_features (Optional[bool]): Component strategy: the taught NER
        listens to the base NER's features (True) or computes its own (False).
        None: the recipe's.
    shared_part (Optional[str]): With shared features: "tok2vec" (all of
        them) or "embed" (the embedding only). None: the recipe's.
    adapter, adapter_window (Optional[int]): Component strategy with shared
        features: the taught NER's own residual layers on top of them, and
        their window (`component.Recipe`). None: the recipe's.
    RETURNS (str): The config.
    """
    labels = check_labels(labels, base, strategy)
    config, notes = _common(base, labels, strategy)
    record = taught_record(base, strategy)
    if record is not None:
        shape = {"--component-depth": component_depth, "--copy-weights/--fresh": copy_weights, "--raw-ratio": raw_ratio,
                 "--shared-features": shared_features, "shared_part": shared_part, "adapter": adapter, "adapter_window": adapter_window}
        given = [name for name, value in shape.items() if value is not None]
        if given:
            raise InputError(given[0], f"sets the taught NER of round 1; {base.name} has one already "
                             f"('{record.taught_component}'), which this round trains further: leave {given[0]} out")
        next_round = add_round(config, notes, base, labels, record)
        config["corpora"]["train"] = _reader("${paths.train}", "teacher", next_round.raw_ratio > 0, next_round.raw_ratio,
                                             next_round.teacher_labels, train=True)
        round_corpus(config["corpora"]["train"], notes, next_round)
        no_raw = ("warn", ROUND_NO_RAW_COST) if next_round.raw_ratio > 0 else ("unused", NO_RAW_CORRECTIONS)
    elif strategy == "component":
        recipe = recipe_for(labels, base, component_depth, copy_weights, raw_ratio, shared_features, shared_part, adapter, adapter_window)
        _component(config, notes, base, labels, recipe)
        no_raw = ("warn", NO_RAW_COST) if recipe.raw_ratio > 0 else ("unused", NO_RAW_CORRECTIONS if recipe.copy_weights else "")
    else:
        _one_model(config, notes, base, strategy)
        no_raw = ("error", "") if config["training"]["before_update"] is not None else ("ignore", "")
    config["corpora"]["train"]["labels"] = labels
    notes[("corpora.train", "labels")] = "Your --labels: the annotations must hold exactly these (checked when training starts)"
    if config["nlp"].get("after_pipeline_creation") is None:  # a base's own hook stays
        config["nlp"]["after_pipeline_creation"] = {
            "@callbacks": CHECK_PATHS, **{key: f"${{paths.{key}}}" for key in ("base", "train", "dev", "raw")},
            "no_raw": no_raw[0], "no_raw_cost": no_raw[1],
        }
        notes[("nlp.after_pipeline_creation", "@callbacks")] = (
            "Checks the paths before spaCy loads the base (paths.train and paths.dev set, paths.base loadable; "
            "no_raw: what a run without paths.raw gets), then leaves the trained pipeline's config"
        )
    return render(Config(config), notes)


def _reader(path: str, fill: str, raw: bool, ratio: float, teacher_labels: Optional[List[str]], train: bool) -> Dict[str, Any]:
    return {
        "@readers": "rehearsal_reader.v2",
        "path": path,
        "teacher": "${paths.base}",
        "raw_path": "${paths.raw}" if raw else None,
        "cache_dir": "${paths.cache}",
        "rehearsal_ratio": ratio if raw else 0.0,
        "fill": fill,
        "teacher_labels": teacher_labels,
        "max_length": 0,
        "limit": 0,
        "shuffle": train,
        "seed": 0,
        "n_process": 1,
        "batch_size": 256,
        "misaligned_spans": "error",
        "respect_annotations": True,
    }


def _common(base: BasePipeline, labels: List[str], strategy: str) -> Tuple[Dict[str, Any], Notes]:
    """The sections every strategy shares: the base sourced, the optimizer, the dev corpus."""
    nlp_section = {
        "lang": base.config["nlp"]["lang"], "pipeline": list(base.components), "disabled": list(base.disabled),
        **{k: v for k, v in base.config["nlp"].items() if k not in ("lang", "pipeline", "disabled")},
    }
    config: Dict[str, Any] = {
        "paths": {"train": None, "dev": None, "raw": None, "base": base.name, "cache": None, "vectors": None, "init_tok2vec": None},
        "system": {"seed": 0, "gpu_allocator": None},
        "nlp": nlp_section,
        "components": {name: {"source": "${paths.base}"} for name in base.components},
        "corpora": {"dev": _reader("${paths.dev}", "teacher", False, 0.0, None, train=False)},
        "training": {
            "seed": "${system.seed}", "max_epochs": 10, "max_steps": 0, "patience": 0, "eval_frequency": 200,
            "dropout": 0.1, "frozen_components": [], "annotating_components": [],
            "gpu_allocator": "${system.gpu_allocator}", "accumulate_gradient": 1, "dev_corpus": "corpora.dev",
            "train_corpus": "corpora.train", "before_to_disk": None, "before_update": None,
            # The base's other scores (tags, parses) are not in the dev data: weigh them null
            "score_weights": {
                **{key: None for key in base.config["training"].get("score_weights", {})},
                "ents_f": 1.0, "ents_p": 0.0, "ents_r": 0.0, "ents_per_type": None,
            },
            "logger": {"@loggers": "spacy.ConsoleLogger.v1", "progress_bar": False},
            "batcher": {
                "@batchers": "spacy.batch_by_words.v1", "discard_oversize": False, "tolerance": 0.2,
                "get_length": None, "size": {"@schedules": "constant.v1", "rate": 1000},
            },
            "optimizer": {
                "@optimizers": "Adam.v1", "beta1": 0.9, "beta2": 0.999, "L2_is_weight_decay": True, "L2": 0.01,
                "grad_clip": 1.0, "use_averages": True, "eps": 1e-08, "learn_rate": 0.001,
            },
        },
        "initialize": {
            "vectors": "${paths.vectors}", "init_tok2vec": "${paths.init_tok2vec}", "vocab_data": None,
            "lookups": None, "after_init": None,
            "before_init": {"@callbacks": "spacy.copy_from_base_model.v1", "tokenizer": "${paths.base}", "vocab": "${paths.base}"},
            "components": {}, "tokenizer": {},
        },
        "pretraining": {},
    }
    notes: Notes = {
        ("paths", "train"): "Your annotations: Prodigy or spaCy .jsonl, .spacy, or a directory of them",
        ("paths", "dev"): "Held-out annotations in the same formats; the teacher fills the old types in, "
        "so the dev score counts old and new types",
        ("paths", "base"): "The pipeline to update: a package name or a path (it is also the teacher)",
        ("paths", "cache"): "Directory for the teacher's annotations, reused across runs (null: none)",
        ("nlp", "pipeline"): f"Generated by `spacy rehearsal init-config --strategy {strategy} --labels "
        f"{','.join(labels)}` from {base.name}",
        ("corpora.dev", "fill"): "Old types are the base pipeline's entities, so model-best is chosen on both",
        ("training", "max_epochs"): "10 epochs, as the benchmarks train; the one-model routes were still learning at epoch 25 in a 30-epoch run (docs/benchmarks.md): raise it for a final model",
    }
    return config, notes


def _one_model(config: Dict[str, Any], notes: Notes, base: BasePipeline, strategy: str) -> None:
    """The base NER updated in place, with the strategy's rehearsal route."""
    route = ROUTES[REHEARSAL_ROUTE if strategy == "rehearsal" else strategy]
    training = config["training"]
    training["frozen_components"] = [name for name in base.components if name != base.ner]
    if base.listens_to is not None:
        config["components"][base.ner]["replace_listeners"] = ["model.tok2vec"]
        shared = ", which stays frozen for the other components"
        if base.only_listener:  # nothing else reads the shared one: running it would only cost time
            config["nlp"]["pipeline"].remove(base.listens_to)
            del config["components"][base.listens_to]
            if base.listens_to in config["nlp"]["disabled"]:
                config["nlp"]["disabled"].remove(base.listens_to)
            training["frozen_components"].remove(base.listens_to)
            shared = ("; the shared one is left out, as no other component listens to it (running it would cost "
                      "time and set only doc.tensor)")
        notes[(f"components.{base.ner}", "replace_listeners")] = f"The NER gets its own copy of '{base.listens_to}'{shared}"
    config["corpora"]["train"] = _reader("${paths.train}", route.fill, route.reader_raw, 1.0, None, train=True)
    notes[("corpora.train", "fill")] = {
        "teacher": "Tokens your annotations leave unlabelled get the teacher's entities (\"outside\": O, which forgets)",
        "outside": "Tokens your annotations leave unlabelled are O; the callback rehearses the old types",
    }[route.fill]
    if route.reader_raw:
        notes[("corpora.train", "rehearsal_ratio")] = "Raw sentences annotated by the teacher, per new example"
    if route.callback is None:
        return
    training["before_update"] = {
        "@callbacks": "rehearsal_callback.v3", "teacher": "${paths.base}", "raw_path": "${paths.raw}",
        "annotations": "${paths.train}", "components": [base.ner], "cache_dir": "${paths.cache}", **route.callback,
        "respect_annotations": True,
    }
    notes[("training.before_update", "annotations")] = (
        "Your annotations: raw text never argues with them (the labels they teach are never the teacher's to "
        "rehearse, and strings you annotated get no target)"
    )
    training["logger"] = {"@loggers": "rehearsal_logger.v1", "progress_bar": None}
    if training["before_update"].get("mode") == "distill":
        config["paths"]["taught_teacher"] = None
        training["before_update"]["taught_teacher"] = "${paths.taught_teacher}"
        notes[("paths", "taught_teacher")] = (
            "Optional: a pipeline trained on the same annotations with --strategy component (its model-last): "
            "it teaches your labels on the raw text, the base the others (two trainings; see docs/annotations.md)"
        )
    for key, note in route.notes.items():
        notes[("training.before_update", key)] = note


def _component(config: Dict[str, Any], notes: Notes, base: BasePipeline, labels: List[str], recipe: Recipe) -> None:
    """The taught NER before the frozen base NER (`component.add_component`), and its train corpus."""
    add_component(config, notes, base, labels, recipe)
    raw = recipe.raw_ratio > 0
    config["corpora"]["train"] = _reader("${paths.train}", "outside", raw, recipe.raw_ratio, [], train=True)
    notes[("corpora.train", "fill")] = "The taught NER learns only your labels: everything else is O for it"
    notes[("corpora.train", "teacher_labels")] = (
        "[]: raw sentences are taught as O, so the taught NER learns where your types are not; raw copies "
        "of your annotated texts are skipped and strings you annotated are left missing (respect_annotations)"
        if raw else "[]: no raw text in this recipe (rehearsal_ratio = 0)"
    )
