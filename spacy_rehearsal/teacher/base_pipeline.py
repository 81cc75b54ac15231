"""The base pipeline, as the config generation of `strategies.py` needs to know it."""
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Set, cast

import spacy
import srsly
from confection import Config
from spacy.language import Language
from spacy.pipeline import EntityRecognizer
from spacy.util import copy_config, get_package_path, is_package
from thinc.api import Model

from ..errors import TeacherError

NER_FACTORIES = ("ner", "beam_ner")


@dataclass
class BasePipeline:
    """What the config generation needs to know of the base pipeline.

    name (str): Package name or path, as the user gave it.
    config (Config): The base's config, interpolated.
    components (List[str]): All component names, in order, disabled ones included.
    disabled (List[str]): The disabled components.
    ner (str): The NER component that is updated (one model) or copied (component).
    ner_model (Dict[str, Any]): The NER's model config, with its own copy of
        the tok2vec it listens to (if any) in place of the listener.
    listens_to (Optional[str]): The shared tok2vec/transformer the NER listens to.
    labels (Set[str]): The labels the base predicts, over all its NER components
        (a pipeline the component strategy made has more than one).
    ners (List[str]): All NER components, in pipeline order; `ner` is the last.
    only_listener (bool): The NER was the only component listening to
        `listens_to`: once the NER has its own copy, nothing reads it.
    features_width (int): The width of the features the NER's layers read
        (its own tok2vec's output, or the listener's).
    listener_arch (Optional[str]): The registered architecture of the
        listener the NER listened through, if it did (e.g.
        "spacy.Tok2VecListener.v1").
    meta (Dict[str, Any]): The base's meta (a pipeline this package made
        records its rounds under "rehearsal").
    ner_labels (Dict[str, List[str]]): Each NER component's labels.
    """

    name: str
    config: Config
    components: List[str]
    disabled: List[str]
    ner: str
    ner_model: Dict[str, Any]
    listens_to: Optional[str]
    labels: Set[str]
    ners: List[str]
    only_listener: bool = False
    features_width: int = 0
    listener_arch: Optional[str] = None
    meta: Dict[str, Any] = field(default_factory=dict)
    ner_labels: Dict[str, List[str]] = field(default_factory=dict)


def inspect_base(base: str) -> BasePipeline:
    """Load the base pipeline and find its NER (TeacherError if it has none)."""
    try:
        nlp = spacy.load(base)  # a copy of its own: replace_listeners changes it
    except (OSError, ValueError) as e:
        raise TeacherError(f"Cannot load base pipeline '{base}': {e}") from None
    ners = [name for name in nlp.component_names if nlp.get_pipe_meta(name).factory in NER_FACTORIES]
    if not ners:
        raise TeacherError(
            f"Base pipeline '{base}' has no 'ner' component (components: {nlp.component_names}): "
            f"init-config updates or copies a transition-based NER"
        )
    ner = ners[-1]
    own_features = ner_tok2vec(cast(EntityRecognizer, nlp.get_pipe(ner)))
    features_width = own_features.get_dim("nO") if own_features.has_dim("nO") else 0
    listener_arch = nlp.config["components"][ner]["model"]["tok2vec"].get("@architectures")
    listens_to = give_own_tok2vec(nlp, ner)
    # Interpolated: the copied tok2vec's variables (e.g. `${components.tok2vec.model.encode.width}`, as
    # `spacy init config` writes them) would not resolve inside another component's block
    config = nlp.config.interpolate()
    return BasePipeline(
        name=str(base),
        config=config,
        components=list(nlp.component_names),
        disabled=list(nlp.disabled),
        ner=ner,
        ner_model=copy_config(config["components"][ner]["model"]),
        listens_to=listens_to,
        labels={label for name in ners for label in cast(EntityRecognizer, nlp.get_pipe(name)).labels},
        ners=ners,
        only_listener=listens_to is not None and not getattr(nlp.get_pipe(listens_to), "listening_components", []),
        features_width=features_width,
        listener_arch=listener_arch if listens_to is not None else None,
        meta=dict(nlp.meta),
        ner_labels={name: sorted(cast(EntityRecognizer, nlp.get_pipe(name)).labels) for name in ners},
    )


def pipeline_meta(base: str) -> Dict[str, Any]:
    """A pipeline's meta.json (package name or path), read without loading the pipeline; {} where there is none."""
    path = get_package_path(base) if is_package(base) else Path(base)
    try:
        return cast(Dict[str, Any], srsly.read_json(path / "meta.json"))
    except (OSError, ValueError):
        return {}


def ner_tok2vec(ner: EntityRecognizer) -> Model:
    """The layer a NER's features come from: its own tok2vec, or the listener in its place.

    It is the first layer of the NER model's "tok2vec" chain, before the
    projection to the hidden width that belongs to the NER.
    """
    return cast(Model, ner.model.get_ref("tok2vec").layers[0])


def give_own_tok2vec(nlp: Language, component: str) -> Optional[str]:
    """Give `component` its own copy of the shared tok2vec/transformer it listens to, if any.

    RETURNS (Optional[str]): The name of the shared component it listened to.
    """
    upstream = next((name for name, proc in nlp.components if component in getattr(proc, "listening_components", ())), None)
    if upstream is not None:
        nlp.replace_listeners(upstream, component, ["model.tok2vec"])
    return upstream
