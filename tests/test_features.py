"""Shared NER features (training/component/features.py): the base NER's own tok2vec moved into a component both NERs listen to."""
import json
import subprocess
import sys

import numpy
import pytest
import spacy
from conftest import CONLL_DEV, SENTENCES
from spacy.training import Example
from test_gate import BLOCK_PLUGIN

from spacy_rehearsal.teacher.base_pipeline import ner_tok2vec
from spacy_rehearsal.training.component.features import FEATURES_COMPONENT, share_ner_features, start_as_identity


def conll_texts(n: int) -> list:
    """The first `n` sentences of CoNLL-2003 dev, as text: real news the base NER reads."""
    texts, words = [], []
    for line in CONLL_DEV.read_text(encoding="utf8").splitlines():
        if line.strip() and not line.startswith("-DOCSTART-"):
            words.append(line.split()[0])
        elif words:
            texts.append(" ".join(words))
            words = []
            if len(texts) == n:
                break
    return texts


def ents(docs) -> list:
    return [[(e.start_char, e.end_char, e.label_) for e in doc.ents] for doc in docs]


def with_shared_features(base: str, part: str) -> spacy.Language:
    """The base with its NER's tok2vec (or its embed) moved into FEATURES_COMPONENT, as the route's callback does."""
    nlp = spacy.load(base)
    config = nlp.config["components"]["ner"]["model"]["tok2vec"]
    nlp.add_pipe("tok2vec", name=FEATURES_COMPONENT, config={"model": config if part == "tok2vec" else config[part]}, before="ner")
    assert share_ner_features(nlp, "ner", FEATURES_COMPONENT) == part
    return nlp


@pytest.mark.parametrize("part", ["tok2vec", "embed"])
def test_the_original_ner_finds_the_same_entities_on_shared_features(base_model, part, conll_data, tmp_path):
    texts = conll_texts(400)
    base = spacy.load(base_model)
    expected = ents(base.pipe(texts))
    assert sum(map(len, expected)) > 500  # real text with many entities of many types
    nlp = with_shared_features(base_model, part)
    assert nlp.get_pipe(FEATURES_COMPONENT).listening_components == ["ner"]
    own = ner_tok2vec(nlp.get_pipe("ner"))
    assert (own if part == "tok2vec" else own.get_ref("embed")).name == "tok2vec-listener"
    assert ents(nlp.pipe(texts)) == expected
    # Saved, it loads without the plugin: its config.cfg builds the NER with a listener the weights fit
    nlp.to_disk(tmp_path / "shared")
    saved = spacy.load(tmp_path / "shared")
    config = saved.config["components"]["ner"]["model"]["tok2vec"]
    assert (config if part == "tok2vec" else config["embed"])["upstream"] == FEATURES_COMPONENT
    assert ents(saved.pipe(texts)) == expected
    proc = subprocess.run([sys.executable, "-c", BLOCK_PLUGIN, str(tmp_path / "shared"), *texts[:50]],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert json.loads(proc.stdout) == [[list(e) for e in doc] for doc in expected[:50]]


def test_share_refuses_what_would_change_the_ner(base_model, listener_base):
    nlp = spacy.load(base_model)
    config = nlp.config["components"]["ner"]["model"]["tok2vec"]
    nlp.add_pipe("tok2vec", name="after", config={"model": config}, after="ner")
    with pytest.raises(ValueError, match="'after' must come before 'ner'"):
        share_ner_features(nlp, "ner", "after")
    with pytest.raises(ValueError, match="is a 'Tagger', not a tok2vec component"):
        share_ner_features(nlp, "ner", "tagger")
    small = dict(config, encode={**config["encode"], "depth": 2})  # built unlike the NER's own tok2vec
    nlp.add_pipe("tok2vec", name="unlike", config={"model": small}, before="ner")
    with pytest.raises(ValueError, match="not built like 'ner''s own tok2vec or its embed"):
        share_ner_features(nlp, "ner", "unlike")
    listening = spacy.load(listener_base)  # its NER listens to the shared tok2vec already
    with pytest.raises(ValueError, match="already listens to"):
        share_ner_features(listening, "ner", "tok2vec")


def test_own_layers_on_shared_features_start_as_the_identity(listener_base):
    nlp = spacy.load(listener_base)
    ner = nlp.add_pipe("ner", name="taught", before="ner", config={"model": {
        "@architectures": "spacy.TransitionBasedParser.v2", "state_type": "ner", "extra_state_tokens": False,
        "hidden_width": 16, "maxout_pieces": 2, "use_upper": True,
        "tok2vec": {"@architectures": "spacy.Tok2Vec.v2",
                    "embed": {"@architectures": "spacy.Tok2VecListener.v1", "width": 32, "upstream": "tok2vec"},
                    "encode": {"@architectures": "spacy.MaxoutWindowEncoder.v2", "width": 32, "depth": 2,
                               "window_size": 1, "maxout_pieces": 2}},
    }})
    ner.add_label("GADGET")
    docs = [nlp.get_pipe("tok2vec")(nlp.make_doc(text)) for text, _ in SENTENCES]
    ner.initialize(lambda: [Example.from_dict(doc, {}) for doc in docs], nlp=nlp)
    own = ner.model.get_ref("tok2vec").layers[0]
    assert not all(numpy.allclose(out, doc.tensor) for out, doc in zip(own.predict(docs), docs))
    assert start_as_identity(ner) == 2
    assert all(numpy.array_equal(out, doc.tensor) for out, doc in zip(own.predict(docs), docs))


@pytest.mark.slow
def test_shared_features_train_save_and_take_a_second_type(base_model, conll_data, tmp_path):
    """init-config --shared-features, trained by spacy train: the original reads the moved features unchanged."""
    from conftest import FASHION_EVAL, FASHION_TRAIN
    from test_strategies import check_ok, run_cli

    cfg = tmp_path / "shared.cfg"
    check_ok(run_cli("rehearsal", "init-config", base_model, cfg, "--labels", "FASHION_BRAND", "--shared-features"))
    raw = tmp_path / "raw.txt"
    raw.write_text("\n".join(conll_texts(200)) + "\n", encoding="utf8")
    log = check_ok(run_cli("train", cfg, "--output", tmp_path / "out", "--paths.train", FASHION_TRAIN,
                           "--paths.dev", FASHION_EVAL, "--paths.raw", raw, "--corpora.train.limit", 40,
                           "--corpora.dev.limit", 10, "--training.max_steps", 6, "--training.eval_frequency", 3))
    assert "Moved the features of 'ner' into 'ner_tok2vec'" in " ".join(log.split())
    model = tmp_path / "out" / "model-last"
    nlp = spacy.load(model)
    assert nlp.get_pipe(FEATURES_COMPONENT).listening_components == ["ner_new", "ner"]
    texts = conll_texts(150)
    with nlp.select_pipes(disable=["ner_new"]):  # the original alone, on the shared features: the base's entities
        assert ents(nlp.pipe(texts)) == ents(spacy.load(base_model).pipe(texts))
    # A second type on top (a round): the same taught NER, trained further on the same features, which
    # must run while training (annotating) for both NERs to read them
    second = tmp_path / "second.cfg"
    check_ok(run_cli("rehearsal", "init-config", model, second, "--labels", "GADGET"))
    config = spacy.util.load_config(second, interpolate=False)
    assert config["components"]["ner_new"] == {"source": "${paths.base}"} and "ner_new2" not in config["components"]
    assert config["training"]["annotating_components"] == [FEATURES_COMPONENT]
    gadgets = tmp_path / "gadgets.jsonl"
    gadgets.write_text("".join(json.dumps({"text": f"I bought a Pixel {i} phone.", "spans": [{"start": 11, "end": 16, "label": "GADGET"}]}) + "\n"
                               for i in range(8)), encoding="utf8")
    check_ok(run_cli("train", second, "--output", tmp_path / "out2", "--paths.train", gadgets, "--paths.dev", gadgets,
                     "--paths.raw", raw, "--training.max_steps", 4, "--training.eval_frequency", 2))
    nlp = spacy.load(tmp_path / "out2" / "model-last")
    assert sorted(nlp.get_pipe("ner_new").labels) == ["FASHION_BRAND", "GADGET"]
    with nlp.select_pipes(disable=["ner_new"]):  # the original, after two rounds on the shared features: unchanged
        assert ents(nlp.pipe(texts)) == ents(spacy.load(base_model).pipe(texts))


@pytest.mark.slow
def test_shared_features_on_a_listener_base_share_its_tok2vec(listener_base, tmp_path):
    """A base whose NER listens to a shared tok2vec already: the taught NER listens to it too, nothing moves."""
    from conftest import FASHION_EVAL, FASHION_TRAIN
    from test_strategies import check_ok, run_cli

    cfg = tmp_path / "shared.cfg"
    check_ok(run_cli("rehearsal", "init-config", str(listener_base), cfg, "--labels", "FASHION_BRAND", "--shared-features",
                     "--raw-ratio", 0))
    log = check_ok(run_cli("train", cfg, "--output", tmp_path / "out", "--paths.train", FASHION_TRAIN, "--paths.dev", FASHION_EVAL,
                           "--corpora.train.limit", 20, "--corpora.dev.limit", 5, "--training.max_steps", 4,
                           "--training.eval_frequency", 2))
    assert "Moved the" not in log
    nlp = spacy.load(tmp_path / "out" / "model-last")
    assert FEATURES_COMPONENT not in nlp.pipe_names
    assert nlp.get_pipe("tok2vec").listening_components == ["ner_new", "ner"]
    texts = [text for text, _ in SENTENCES]
    with nlp.select_pipes(disable=["ner_new"]):  # the original, frozen on the frozen tok2vec: the base's entities
        assert ents(nlp.pipe(texts)) == ents(spacy.load(listener_base).pipe(texts))
