"""Types added one after another: init-config on a pipeline init-config's component strategy made,
and on a base trained from `spacy init config` (whose tok2vec config holds `${...}` variables)."""
from pathlib import Path

import pytest
import spacy
from confection import Config
from conftest import SENTENCES
from spacy.cli.init_config import init_config
from spacy.training import Example
from spacy.training.initialize import init_nlp

from spacy_rehearsal.config.render import check_config
from spacy_rehearsal.config.strategies import NEW_COMPONENT, generate_config
from spacy_rehearsal.teacher.base_pipeline import inspect_base

FIRST, SECOND = "GADGET", "DISH"
TEXT = "I ate pad thai on my new Pixel phone."
RECORDS = [(TEXT, [(TEXT.index("pad thai"), TEXT.index(" on"), SECOND), (TEXT.index("Pixel"), TEXT.index(" phone"), FIRST)])]


@pytest.fixture(scope="module")
def init_config_base(tmp_path_factory) -> Path:
    """A NER listening to a shared tok2vec, as `spacy init config -p ner` writes it, trained a little and saved."""
    config = init_config(lang="en", pipeline=["ner"], optimize="efficiency", gpu=False)
    assert "${" in config.to_str()  # the tok2vec's width is a variable in the config saved with the pipeline
    nlp = spacy.util.load_model_from_config(config, auto_fill=True)
    examples = [Example.from_dict(nlp.make_doc(t), {"entities": ents}) for t, ents in SENTENCES]
    optimizer = nlp.initialize(lambda: examples)
    for _ in range(5):
        nlp.update(examples, sgd=optimizer)
    path = tmp_path_factory.mktemp("init_config_base") / "base"
    nlp.to_disk(path)
    return path


def add_component(base: str, label: str, out: Path) -> Path:
    """What `spacy train` does with init-config's component config, without the training: initialize, save."""
    data = out.parent / f"{label}.jsonl"
    data.write_text("".join(
        f'{{"text": "{text}", "spans": [{{"start": {s}, "end": {e}, "label": "{lab}"}}]}}\n'
        for text, spans in RECORDS for s, e, lab in spans if lab == label), encoding="utf8")
    text = generate_config(inspect_base(base), [label], "component")
    config = Config().from_str(text, overrides={"paths.train": str(data), "paths.dev": str(data)})
    init_nlp(config).to_disk(out)
    return out


@pytest.mark.parametrize("strategy", ["component", "rehearsal"])
def test_base_from_spacy_init_config_gets_a_config_that_builds(init_config_base, strategy):
    base = inspect_base(str(init_config_base))
    assert base.listens_to == "tok2vec"
    assert "${" not in Config(base.ner_model).to_str()  # the copied tok2vec's variables are resolved
    text = generate_config(base, [FIRST], strategy)
    check_config(text)
    pipeline = Config().from_str(text, interpolate=False)["nlp"]["pipeline"]
    # One model: the NER gets its own tok2vec, and the shared one, which nothing else reads, is left out
    assert pipeline == (["tok2vec", NEW_COMPONENT, "ner"] if strategy == "component" else ["ner"])


def test_shared_tok2vec_stays_when_another_component_listens(tmp_path):
    nlp = spacy.blank("en")
    listener = {"@architectures": "spacy.Tok2VecListener.v1", "width": 32, "upstream": "*"}
    nlp.add_pipe("tok2vec", config={"model": {
        "@architectures": "spacy.HashEmbedCNN.v2", "width": 32, "depth": 1, "embed_size": 300,
        "window_size": 1, "maxout_pieces": 2, "subword_features": True, "pretrained_vectors": None}})
    nlp.add_pipe("tagger", config={"model": {"@architectures": "spacy.Tagger.v2", "tok2vec": listener}})
    nlp.add_pipe("ner", config={"model": {
        "@architectures": "spacy.TransitionBasedParser.v2", "state_type": "ner", "extra_state_tokens": False,
        "hidden_width": 32, "maxout_pieces": 2, "use_upper": True, "tok2vec": listener}})
    examples = [Example.from_dict(nlp.make_doc(t), {"entities": ents, "tags": ["X"] * len(nlp.make_doc(t))}) for t, ents in SENTENCES]
    nlp.initialize(lambda: examples)
    nlp.to_disk(tmp_path / "base")
    base = inspect_base(str(tmp_path / "base"))
    assert base.listens_to == "tok2vec" and not base.only_listener
    text = generate_config(base, [FIRST], "rehearsal")
    check_config(text)
    config = Config().from_str(text, interpolate=False)
    assert config["nlp"]["pipeline"] == ["tok2vec", "tagger", "ner"]
    assert set(config["training"]["frozen_components"]) == {"tok2vec", "tagger"}


def test_a_second_type_on_a_component_pipeline_goes_to_the_same_taught_ner(init_config_base, tmp_path):
    first = add_component(str(init_config_base), FIRST, tmp_path / "first")
    base = inspect_base(str(first))
    assert base.ners == [NEW_COMPONENT, "ner"] and FIRST in base.labels and "PERSON" in base.labels
    text = generate_config(base, [SECOND], "component")
    check_config(text)
    config = Config().from_str(text, interpolate=False)
    assert config["nlp"]["pipeline"] == ["tok2vec", NEW_COMPONENT, "ner"]  # no second taught NER (rounds)
    assert config["components"][NEW_COMPONENT] == {"source": "${paths.base}"}  # sourced, and not frozen: trained further
    assert set(config["training"]["frozen_components"]) == {"tok2vec", "ner"}
    nlp = spacy.load(add_component(str(first), SECOND, tmp_path / "second"))
    assert [n for n in nlp.pipe_names if nlp.get_pipe_meta(n).factory == "ner"] == [NEW_COMPONENT, "ner"]
    assert sorted(nlp.get_pipe(NEW_COMPONENT).labels) == sorted([FIRST, SECOND])
    assert [r["taught"] for r in nlp.meta["rehearsal"]["rounds"]] == [{FIRST: "new"}, {SECOND: "new"}]


def test_more_examples_of_a_taught_label_are_not_a_correction(init_config_base, tmp_path):
    first = add_component(str(init_config_base), FIRST, tmp_path / "first")
    config = Config().from_str(generate_config(inspect_base(str(first)), [FIRST], "component"), interpolate=False)
    init = config["initialize"]["after_init"]
    # The original acquired FIRST at run time (it runs after the taught NER), but never learned it: nothing to gate
    assert init["corrected"] == [] and init["gate_components"] == [] and init["component"] == NEW_COMPONENT
    assert init["resume"] is True and NEW_COMPONENT not in config["training"]["frozen_components"]
