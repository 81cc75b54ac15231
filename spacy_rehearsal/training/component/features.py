"""Shared NER features: the base NER's own tok2vec as a component both NERs listen to.

A NER in a spaCy pipeline such as en_core_web_sm embeds and encodes every
token with a tok2vec of its own (trained for NER, not the tagger's and
parser's shared one). The component route runs two NERs; if each had its own
tok2vec, every text would be embedded and encoded twice, and the pipeline ran
at about 0.8x the base's words per second. Shared, the base NER's tok2vec runs
once as a standalone `tok2vec` component (`ner_tok2vec` in the config
`init-config` writes), frozen, and both NERs listen to it:

- the original NER: its model's inner tok2vec is replaced by a
  `spacy.Tok2VecListener.v1` (`share_ner_features`, in
  `[initialize.after_init]`). It computes exactly what it computed before,
  from the same weights, so its entities do not change (tests/test_features.py
  checks it on real text);
- the taught NER: `init-config` writes its tok2vec as that listener, so it
  learns only its own layers on top of features the base NER learned.

The standalone component writes the features to `doc.tensor` (a listener reads
them from there), after the tagger and parser have read theirs: in a pipeline
whose shared tok2vec writes `doc.tensor` too (en_core_web_sm), a processed
doc's `doc.tensor`, and the token vectors spaCy derives from it in a pipeline
without word vectors, are the NER's features, not the shared tok2vec's.

Everything is built-in spaCy: the saved pipeline loads without the plugin.
"""
from typing import Any, Dict, cast

from spacy.language import Language
from spacy.pipeline import EntityRecognizer, Tok2Vec
from spacy.pipeline.tok2vec import Tok2VecListener

from ...teacher.base_pipeline import ner_tok2vec

# The standalone component holding the base NER's tok2vec
FEATURES_COMPONENT = "ner_tok2vec"
LISTENER = "spacy.Tok2VecListener.v1"


def listener_config(width: int, upstream: str) -> Dict[str, Any]:
    """The config block of a tok2vec that listens to `upstream` (width: its output width)."""
    return {"@architectures": LISTENER, "width": width, "upstream": upstream}


def share_ner_features(nlp: Language, ner: str, upstream: str) -> str:
    """Move `ner`'s own tok2vec, or its embedding, into the standalone tok2vec component `upstream`; `ner` listens to it.

    `upstream` must be in the pipeline before `ner`, frozen and annotating, and
    built with the config of the NER's tok2vec (the whole of it moves) or of
    its tok2vec's embed (the embedding moves; the NER keeps its CNN layers), as
    `init-config` writes it. The moved weights are the NER's own, so its
    predictions stay the same. The change is recorded in the pipeline's config,
    so the saved pipeline rebuilds the NER with the listener.
    RETURNS (str): What moved: "tok2vec" or "embed".
    """
    for name in (ner, upstream):
        if name not in nlp.component_names:
            raise ValueError(f"share_ner_features: component '{name}' is not in the pipeline {nlp.component_names}")
    if nlp.component_names.index(upstream) > nlp.component_names.index(ner):
        raise ValueError(f"share_ner_features: '{upstream}' must come before '{ner}' in the pipeline")
    proc = cast(EntityRecognizer, nlp.get_pipe(ner))
    features = nlp.get_pipe(upstream)
    if not isinstance(features, Tok2Vec):
        raise ValueError(f"share_ner_features: '{upstream}' is a '{type(features).__name__}', not a tok2vec component")
    own = ner_tok2vec(proc)
    if any(isinstance(node, Tok2VecListener) for node in own.walk()):
        raise ValueError(f"share_ner_features: '{ner}' already listens to another component")
    parts = {"tok2vec": own, **({"embed": own.get_ref("embed")} if own.has_ref("embed") else {})}
    n_nodes = len(list(features.model.walk()))
    part = next((name for name, layer in parts.items() if len(list(layer.walk())) == n_nodes), "tok2vec")
    moved = parts[part]
    try:
        features.model.from_bytes(moved.to_bytes())
    except ValueError as e:
        raise ValueError(
            f"share_ner_features: '{upstream}' is not built like '{ner}''s own tok2vec or its embed ({e}); give it "
            f"the config of [components.{ner}.model.tok2vec] or of its embed"
        ) from None
    width = moved.get_dim("nO")
    listener = Tok2VecListener(upstream_name=upstream, width=width)
    proc.model.replace_node(moved, listener)
    if part == "embed":
        own.set_ref("embed", listener)
    features.add_listener(listener, ner)
    # What the saved config.cfg says the NER is, so that loading builds the listener the weights fit
    config = nlp._pipe_configs[ner]["model"]["tok2vec"]  # noqa: SLF001 (as replace_listeners does)
    if part == "embed":
        config["embed"] = listener_config(width, upstream)
    else:
        nlp._pipe_configs[ner]["model"]["tok2vec"] = listener_config(width, upstream)  # noqa: SLF001
    return part


def start_as_identity(ner: EntityRecognizer) -> int:
    """Zero the layer norms of the residual layers the NER puts on top of a listener; RETURNS how many.

    A residual layer computes x + LayerNorm(Maxout(x)); with the layer norm's
    gain and bias at zero it passes the shared features through unchanged, so
    a taught NER started from the original's weights starts as exactly the
    original, and training moves the layers from there.
    """
    tok2vec = ner.model.get_ref("tok2vec")
    if not any(isinstance(node, Tok2VecListener) for node in tok2vec.walk()):
        return 0
    zeroed = 0
    for node in tok2vec.walk():
        if node.name == "layernorm" and node.has_param("G"):
            node.set_param("G", node.ops.alloc1f(node.get_param("G").shape[0]))
            node.set_param("b", node.ops.alloc1f(node.get_param("b").shape[0]))
            zeroed += 1
    return zeroed
