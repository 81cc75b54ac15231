"""Corrections through the component route: labels gated off in plain weights (training/component/gate.py), a taught NER
that learns corrected and new labels, and the saved pipeline without the plugin."""
import json
import subprocess
import sys
from pathlib import Path

import pytest
import spacy
from confection import Config
from conftest import SENTENCES
from test_strategies import check_ok, run_cli

from spacy_rehearsal.config.strategies import NEW_COMPONENT, generate_config
from spacy_rehearsal.teacher.base_pipeline import inspect_base
from spacy_rehearsal.training.component.gate import GATE_BIAS, gate_labels, gated_labels

BRAND = "FASHION_BRAND"
NEWS = [
    "Angela Merkel met Barack Obama in Berlin on Monday to discuss the budget.",
    "Tim Cook said Apple would hire 2,000 people in Texas next year.",
    "Prime Minister Boris Johnson spoke to reporters in London on Tuesday.",
    "Serena Williams beat Maria Sharapova 6-4 6-2 at Wimbledon on Saturday.",
]


def entity_labels(docs) -> set:
    return {e.label_ for doc in docs for e in doc.ents}


def tiny_ner(labels, *, use_upper: bool, maxout_pieces: int):
    """A small initialized NER with `labels`: its output layer is the upper one, or the lower one without it."""
    nlp = spacy.blank("en")
    ner = nlp.add_pipe("ner", config={"model": {
        "@architectures": "spacy.TransitionBasedParser.v2", "state_type": "ner", "extra_state_tokens": False,
        "hidden_width": 16, "maxout_pieces": maxout_pieces, "use_upper": use_upper,
        "tok2vec": {"@architectures": "spacy.HashEmbedCNN.v2", "width": 16, "depth": 1, "embed_size": 100,
                    "window_size": 1, "maxout_pieces": 2, "subword_features": False, "pretrained_vectors": None},
    }})
    for label in labels:
        ner.add_label(label)
    nlp.initialize()
    return nlp, ner


@pytest.mark.parametrize("use_upper", [True, False])
def test_gate_stops_a_label_that_would_win_everywhere(use_upper):
    nlp, ner = tiny_ner(["PERSON", "GPE"], use_upper=use_upper, maxout_pieces=2)
    layer = ner.model.get_ref("upper" if use_upper else "lower")
    b = layer.get_param("b").copy()
    names = [ner.moves.get_class_name(i) for i in range(ner.moves.n_moves)]
    b[names.index("U-PERSON")] = 1e3  # PERSON now wins wherever it is valid
    layer.set_param("b", b)
    texts = ["Angela Merkel visited Paris on Monday .", "The cat sat on the mat ."]
    assert "PERSON" in entity_labels(nlp.pipe(texts))
    assert gate_labels(ner, ["PERSON", "NOT_A_LABEL"]) == ["PERSON"]
    assert "PERSON" not in entity_labels(nlp.pipe(texts))
    assert gated_labels(ner) == ["PERSON"]
    b = layer.get_param("b")
    assert float(b[names.index("B-PERSON")].max()) == GATE_BIAS and float(b[names.index("U-PERSON")].max()) == GATE_BIAS


def test_gate_refuses_a_relu_output_it_cannot_gate():
    _, ner = tiny_ner(["PERSON"], use_upper=False, maxout_pieces=1)
    with pytest.raises(ValueError, match="ReLU"):
        gate_labels(ner, ["PERSON"])


def test_gated_base_ner_keeps_its_other_labels(base_model):
    nlp = spacy.load(base_model)
    before = list(nlp.pipe(NEWS))
    assert {"PERSON", "GPE", "DATE"} <= entity_labels(before)
    gate_labels(nlp.get_pipe("ner"), ["PERSON"])
    after = list(nlp.pipe(NEWS))
    assert "PERSON" not in entity_labels(after)
    kept = lambda docs: {(i, e.start, e.end, e.label_) for i, d in enumerate(docs) for e in d.ents if e.label_ in ("DATE", "GPE")}  # noqa: E731
    assert kept(before) and kept(before) <= kept(after)


def test_init_config_with_base_labels_and_no_strategy_writes_the_corrections_route(base_model, tmp_path):
    out = check_ok(run_cli("rehearsal", "init-config", base_model, tmp_path / "c.cfg", "--labels", f"PERSON,ORG,{BRAND}"))
    text = " ".join(out.split())
    assert f"Labels: new: {BRAND}; corrected: ORG, PERSON; kept: CARDINAL, DATE" in text
    assert "ORG, PERSON are gated off in the original, which keeps the other types" in text
    assert "Inference cost, measured with en_core_web_sm:" in text and "words per second" in text
    config = Config().from_disk(tmp_path / "c.cfg", interpolate=False)
    assert config["nlp"]["pipeline"][-2:] == [NEW_COMPONENT, "ner"]
    init = config["initialize"]["after_init"]
    assert init["@callbacks"] == "rehearsal_component.v3" and init["copy_weights"] is True and init["resume"] is False and init["features"] is None
    assert init["corrected"] == ["ORG", "PERSON"] and init["gate_components"] == ["ner"]
    assert config["components"][NEW_COMPONENT]["model"]["tok2vec"]["encode"]["depth"] == 4  # the whole base NER
    assert config["corpora"]["train"]["rehearsal_ratio"] == 0.0
    assert "ner" in config["training"]["frozen_components"] and NEW_COMPONENT not in config["training"]["frozen_components"]
    # New labels only: the new-types recipe, nothing gated
    new_only = Config().from_str(generate_config(inspect_base(base_model), [BRAND], "component"), interpolate=False)
    assert new_only["initialize"]["after_init"]["corrected"] == [] and new_only["initialize"]["after_init"]["copy_weights"] is False


def mixed_annotations(path: Path) -> Path:
    """Corrections of PERSON (the listener base's own label) and a new label, in one Prodigy file."""
    brands = [("Sarah Smith wore Gucci shoes to the party.", [(0, 11, "PERSON"), (17, 22, BRAND)]),
              ("I bought a Prada bag for Emma Stone.", [(11, 16, BRAND), (25, 35, "PERSON")])]
    records = [{"text": t, "spans": [{"start": s, "end": e, "label": lb} for s, e, lb in spans], "answer": "accept"}
               for t, spans in brands * 6 + [(t, [s for s in ents if s[2] == "PERSON"]) for t, ents in SENTENCES] * 3]
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf8")
    return path


BLOCK_PLUGIN = (
    "import sys, json; sys.modules['spacy_rehearsal'] = None\n"  # importing the plugin now fails
    "import spacy; nlp = spacy.load(sys.argv[1])\n"
    "print(json.dumps([[(e.start_char, e.end_char, e.label_) for e in d.ents] for d in nlp.pipe(sys.argv[2:])]))\n"
)


@pytest.mark.slow
def test_mixed_corrections_and_new_label_train_gated_and_load_without_the_plugin(listener_base, tmp_path):
    base = spacy.load(listener_base)
    texts = [t for t, _ in SENTENCES]
    assert {"GPE", "PERSON"} <= entity_labels(base.pipe(texts))  # GPE: the taught NER must never emit it; PERSON: the original
    train = mixed_annotations(tmp_path / "train.jsonl")
    cfg = tmp_path / "config.cfg"
    out = check_ok(run_cli("rehearsal", "init-config", str(listener_base), cfg, "--labels", f"PERSON,{BRAND}"))
    assert f"Labels: new: {BRAND}; corrected: PERSON" in " ".join(out.split())
    raw = tmp_path / "raw.txt"
    raw.write_text("Angela Merkel met Tim Cook.\n", encoding="utf8")
    log = check_ok(run_cli("train", cfg, "--output", tmp_path / "out", "--paths.train", train, "--paths.dev", train,
                           "--paths.raw", raw, "--training.max_steps", 12, "--training.eval_frequency", 6))
    assert "Gated PERSON off in 'ner'" in " ".join(log.split())
    assert f"paths.raw = {raw} is ignored: this config reads no raw text" in " ".join(log.split())  # the corrections recipe
    model = tmp_path / "out" / "model-last"
    nlp = spacy.load(model)
    taught, original = nlp.get_pipe(NEW_COMPONENT), nlp.get_pipe("ner")
    assert sorted(taught.labels) == [BRAND, "PERSON"]
    # The gate survived the training steps and the save (the original is frozen: its bias is exactly the gate's)
    assert gated_labels(original) == ["PERSON"]
    names = [original.moves.get_class_name(i) for i in range(original.moves.n_moves)]
    assert float(original.model.get_ref("upper").get_param("b")[names.index("U-PERSON")]) == GATE_BIAS
    assert nlp.meta["rehearsal"]["corrected_labels"] == ["PERSON"] and nlp.meta["rehearsal"]["new_labels"] == [BRAND]
    with nlp.select_pipes(disable=[NEW_COMPONENT]):
        assert "PERSON" not in entity_labels(nlp.pipe(texts)) and "GPE" in entity_labels(nlp.pipe(texts))
    with nlp.select_pipes(disable=["ner"]):
        assert entity_labels(nlp.pipe(texts)) <= {BRAND, "PERSON"}
    # The same entities in a process where the plugin cannot be imported, and spacy package builds it
    with_plugin = [[(e.start_char, e.end_char, e.label_) for e in d.ents] for d in nlp.pipe(texts)]
    proc = subprocess.run([sys.executable, "-c", BLOCK_PLUGIN, str(model), *texts], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert json.loads(proc.stdout) == [[list(e) for e in doc] for doc in with_plugin]
    (tmp_path / "pkg").mkdir()
    check_ok(run_cli("package", model, tmp_path / "pkg", "--name", "corrected", "--version", "0.0.1", "--force"))
    meta = json.loads(next((tmp_path / "pkg").rglob("meta.json")).read_text(encoding="utf8"))
    assert not any("rehearsal" in req for req in meta.get("requirements", [])), meta.get("requirements")
