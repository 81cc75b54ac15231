"""The component strategy's new NER: started from the base NER's weights, and bases whose NER listens to a shared tok2vec."""
import subprocess
import sys
from pathlib import Path

import numpy
import pytest
import spacy
from confection import Config
from conftest import FASHION_EVAL, FASHION_TRAIN, SENTENCES
from spacy.training.initialize import init_nlp

from spacy_rehearsal.config.strategies import NEW_COMPONENT, generate_config
from spacy_rehearsal.teacher.base_pipeline import inspect_base
from spacy_rehearsal.training.component.taught_ner import copy_ner_weights

BRAND = "FASHION_BRAND"


def initialized(base: str, tmp_path: Path, **kwargs) -> spacy.Language:
    """The component strategy's pipeline after `spacy train`'s initialization (after_init included)."""
    text = generate_config(inspect_base(base), [BRAND], "component", **kwargs)
    config = Config().from_str(text, overrides={
        "paths.train": str(FASHION_TRAIN), "paths.dev": str(FASHION_EVAL),
        "corpora.train.limit": 20, "corpora.dev.limit": 5,
    })
    return init_nlp(config)


def params(model) -> list:
    return [(node.name, name, node.get_param(name)) for node in model.walk() for name in node.param_names if node.has_param(name)]


def test_new_ner_starts_from_the_base_weights_with_only_the_new_labels(base_model, tmp_path):
    nlp = initialized(base_model, tmp_path, component_depth=2, copy_weights=True)
    new, old = nlp.get_pipe(NEW_COMPONENT), spacy.load(base_model).get_pipe("ner")
    assert new.labels == (BRAND,)
    # Embeddings, the first 2 of 4 CNN layers, the projection and the hidden layer: the base's
    new_t2v, old_t2v = params(new.model.get_ref("tok2vec")), params(old.model.get_ref("tok2vec"))
    assert len(new_t2v) == len(old_t2v) - 2 * 4  # two maxout+layernorm layers (W, b, G, b) fewer
    by_name = {}
    for name, param, value in old_t2v:
        by_name.setdefault((name, param), []).append(value)
    for name, param, value in new_t2v:
        assert any(v.shape == value.shape and numpy.array_equal(v, value) for v in by_name[(name, param)]), (name, param)
    for param in ("W", "b", "pad"):
        assert numpy.array_equal(new.model.get_ref("lower").get_param(param), old.model.get_ref("lower").get_param(param))
    # Output rows: O as the base's, the new label's actions at zero
    names = [new.moves.get_class_name(i) for i in range(new.moves.n_moves)]
    old_names = [old.moves.get_class_name(i) for i in range(old.moves.n_moves)]
    W, oW = new.model.get_ref("upper").get_param("W"), old.model.get_ref("upper").get_param("W")
    assert numpy.array_equal(W[names.index("O")], oW[old_names.index("O")])
    assert not W[names.index(f"U-{BRAND}")].any()
    # The base's NER itself is still there, untouched and frozen
    assert nlp.pipe_names.index(NEW_COMPONENT) == nlp.pipe_names.index("ner") - 1


def test_fresh_new_ner_does_not_copy(base_model, tmp_path):
    nlp = initialized(base_model, tmp_path, copy_weights=False)
    new, old = nlp.get_pipe(NEW_COMPONENT), spacy.load(base_model).get_pipe("ner")
    assert nlp.config["initialize"]["after_init"]["copy_weights"] is False
    lower = new.model.get_ref("lower").get_param("W")
    assert not numpy.array_equal(lower, old.model.get_ref("lower").get_param("W"))


# ---------------------------------------------------------------------------
# A base like en_core_web_md/lg/trf: the NER listens to a shared tok2vec (conftest's listener_base)


def test_listener_base_gets_its_own_tok2vec_copy(listener_base, tmp_path):
    base = inspect_base(str(listener_base))
    assert base.listens_to == "tok2vec"
    assert base.ner_model["tok2vec"]["@architectures"] != "spacy.Tok2VecListener.v1"
    nlp = initialized(str(listener_base), tmp_path, component_depth=None, copy_weights=True)
    new = nlp.get_pipe(NEW_COMPONENT)
    # The new NER has a tok2vec of its own; the frozen original still listens to the shared one
    assert nlp.get_pipe("tok2vec").listening_components == ["ner"]
    shared = spacy.load(listener_base).get_pipe("tok2vec").model
    embed = [p for p in params(new.model.get_ref("tok2vec")) if p[0] == "hashembed"]
    shared_embed = [p for p in params(shared) if p[0] == "hashembed"]
    assert embed and all(numpy.array_equal(a[2], b[2]) for a, b in zip(embed, shared_embed))


@pytest.mark.slow
@pytest.mark.parametrize("strategy", ["component", "rehearsal"])
def test_listener_base_trains_with_spacy_train(listener_base, strategy, tmp_path, conll_prepared):
    cfg = tmp_path / "config.cfg"
    cfg.write_text(generate_config(inspect_base(str(listener_base)), [BRAND], strategy), encoding="utf8")
    raw = tmp_path / "raw.txt"
    # More lines than the rehearsal callback holds out for retention (heldout_size 200)
    raw.write_text("\n".join(text for text, _ in SENTENCES * 60) + "\n", encoding="utf8")
    proc = subprocess.run([
        sys.executable, "-m", "spacy", "train", str(cfg), "--output", str(tmp_path / "out"),
        "--paths.train", str(FASHION_TRAIN), "--paths.dev", str(FASHION_EVAL), "--paths.raw", str(raw),
        "--corpora.train.limit", "20", "--corpora.dev.limit", "10", "--training.max_steps", "4",
        "--training.eval_frequency", "2",
    ], capture_output=True, text=True)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    nlp = spacy.load(tmp_path / "out" / "model-last")
    updated = NEW_COMPONENT if strategy == "component" else "ner"
    assert BRAND in nlp.get_pipe(updated).labels
    if strategy == "rehearsal":  # the NER has its own copy and nothing else listened to the shared tok2vec
        assert "tok2vec" not in nlp.pipe_names
    else:
        assert nlp.get_pipe("tok2vec").listening_components == ["ner"]
    nlp("Angela Merkel bought Gucci shoes in Paris.")


def test_copy_skips_arrays_whose_shapes_differ(base_model):
    old = spacy.load(base_model).get_pipe("ner")
    nlp = spacy.blank("en")
    ner = nlp.add_pipe("ner", config={"model": {
        "@architectures": "spacy.TransitionBasedParser.v2", "state_type": "ner", "extra_state_tokens": False,
        "hidden_width": 32, "maxout_pieces": 2, "use_upper": True,
        "tok2vec": {"@architectures": "spacy.HashEmbedCNN.v2", "width": 48, "depth": 2, "embed_size": 500,
                    "window_size": 1, "maxout_pieces": 3, "subword_features": True, "pretrained_vectors": None},
    }})
    ner.add_label(BRAND)
    nlp.initialize()
    copied, kept = copy_ner_weights(old, ner)
    assert copied == 0 and kept > 0
