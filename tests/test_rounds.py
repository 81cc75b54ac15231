"""Rounds: a pipeline the component route made is updated again by it, and keeps one taught NER."""
import json
import subprocess
import sys
from pathlib import Path

import numpy
import pytest
import spacy
from confection import Config
from conftest import SENTENCES
from spacy.cli.train import train as train_pipeline
from spacy.training import Example
from spacy.util import registry
from test_gate import BLOCK_PLUGIN, mixed_annotations
from test_strategies import check_ok, run_cli
from train_helpers import BRAND, fashion_records, write_jsonl

from spacy_rehearsal.config.strategies import NEW_COMPONENT, generate_config
from spacy_rehearsal.errors import InputError
from spacy_rehearsal.teacher.base_pipeline import inspect_base
from spacy_rehearsal.training.component.gate import gated_labels
from spacy_rehearsal.training.component.rounds import CORRECTED, MORE, NEW, TAUGHT_EARLIER, plan


def ner_names(nlp) -> list:
    return [name for name in nlp.pipe_names if nlp.get_pipe_meta(name).factory == "ner"]


@pytest.fixture(scope="module")
def round_one(listener_base, tmp_path_factory) -> Path:
    """A pipeline as round 1 of the component route leaves it (new type only), made without spacy train."""
    nlp = spacy.load(listener_base)
    taught = nlp.add_pipe("ner", name=NEW_COMPONENT, before="ner", config={"model": {
        "@architectures": "spacy.TransitionBasedParser.v2", "state_type": "ner", "extra_state_tokens": False,
        "hidden_width": 16, "maxout_pieces": 2, "use_upper": True,
        "tok2vec": {"@architectures": "spacy.HashEmbedCNN.v2", "width": 16, "depth": 1, "embed_size": 300,
                    "window_size": 1, "maxout_pieces": 2, "subword_features": True, "pretrained_vectors": None},
    }})
    doc = nlp.make_doc("I bought Gucci shoes.")
    taught.initialize(lambda: [Example.from_dict(doc, {"entities": [(9, 14, BRAND)]})], nlp=nlp)
    # As rehearsal_component.v2 wrote it (no rounds recorded): the older pipelines must read too
    nlp.meta["rehearsal"] = {"taught_component": NEW_COMPONENT, "taught_labels": [BRAND], "corrected_labels": [],
                             "new_labels": [BRAND], "gated_components": []}
    path = tmp_path_factory.mktemp("round1") / "pipeline"
    nlp.to_disk(path)
    return path


def config_for(base: Path, labels: list) -> Config:
    return Config().from_str(generate_config(inspect_base(str(base)), labels, "component"), interpolate=False)


def test_a_round_trains_the_taught_ner_further_instead_of_adding_one(round_one):
    config = config_for(round_one, [BRAND])
    assert config["nlp"]["pipeline"] == spacy.load(round_one).component_names  # no second taught NER
    assert config["components"][NEW_COMPONENT] == {"source": "${paths.base}"}
    assert config["training"]["frozen_components"] == ["tok2vec", "ner"]  # all but the taught NER, which spacy train resumes
    init = config["initialize"]["after_init"]
    assert init["@callbacks"] == "rehearsal_component.v3" and init["resume"] is True and init["copy_weights"] is False
    assert init["corrected"] == [] and init["gate_components"] == [] and init["labels"] == [BRAND]
    train = config["corpora"]["train"]
    # The last round's pipeline fills in and rehearses what its taught NER knew
    assert train["fill"] == "teacher" and train["teacher_labels"] == [BRAND] and train["rehearsal_ratio"] == 1.0
    assert train["trusted_labels"] == []  # measured: trusting the last round's brands on raw text cost agreement
    assert train["labels_per_file"] is True  # every round's files may come together


def test_a_correction_on_a_new_types_pipeline_starts_the_taught_ner_again_as_a_full_copy(round_one):
    config = config_for(round_one, ["PERSON"])
    assert config["nlp"]["pipeline"] == ["tok2vec", NEW_COMPONENT, "ner"]
    block = config["components"][NEW_COMPONENT]
    assert "source" not in block and block["model"]["hidden_width"] == 32  # the original NER's shape, not round 1's
    init = config["initialize"]["after_init"]
    assert init["copy_weights"] is True and init["resume"] is False and init["source"] == "ner"
    assert init["corrected"] == ["PERSON"] and init["gate_components"] == ["ner"]
    # The corrected label is the teacher's too: missing on raw text, never taught O there
    assert config["corpora"]["train"]["teacher_labels"] == [BRAND, "PERSON"] and config["corpora"]["train"]["rehearsal_ratio"] == 1.0


def test_a_new_label_in_a_later_round_is_not_asked_of_the_teacher(round_one):
    config = config_for(round_one, ["DRUG"])
    # The last round's pipeline cannot predict DRUG: asking it to would stop the reader
    assert config["corpora"]["train"]["teacher_labels"] == [BRAND]
    assert config["initialize"]["after_init"]["labels"] == ["DRUG"] and config["initialize"]["after_init"]["resume"] is True


def test_the_plan_says_what_happens_to_every_label():
    got = plan(["DRUG", "PERSON", BRAND], {"PERSON", "GPE", BRAND}, [BRAND, "MISC"])
    assert got == {"DRUG": NEW, "PERSON": CORRECTED, BRAND: MORE, "MISC": TAUGHT_EARLIER, "GPE": "kept"}


def test_init_config_on_a_round_one_pipeline_names_the_round_and_the_ners(round_one, tmp_path):
    out = " ".join(check_ok(run_cli("rehearsal", "init-config", round_one, tmp_path / "c.cfg", "--labels", f"{BRAND},PERSON")).split())
    assert f"Labels: more examples: {BRAND}; corrected: PERSON; kept: GPE, ORG" in out
    assert "Round 2: 'ner_new' starts again as a full copy of the original" in out and "keeps 2 NERs" in out


def test_earlier_rounds_files_are_read_again_where_they_still_are(round_one, tmp_path):
    """init-config writes the recorded files that exist into earlier_paths, and names those that are gone."""
    kept = write_jsonl(tmp_path / "round1.jsonl", fashion_records(n=2))
    gone = tmp_path / "moved-away.jsonl"
    nlp = spacy.load(round_one)
    nlp.meta["rehearsal"]["rounds"] = [{"annotations": str(kept), "spans": {BRAND: 2}}, {"annotations": str(gone)}]
    nlp.to_disk(tmp_path / "pipeline")
    train = config_for(tmp_path / "pipeline", ["PERSON"])["corpora"]["train"]
    assert train["earlier_paths"] == [str(kept)]
    assert train["learned_labels"] == [BRAND]  # PERSON, corrected, is not the teacher's to fill on round 1's texts
    # The brands are kept on round 1's texts, so the correction reads no raw text (which would teach its misses O)
    assert train["rehearsal_ratio"] == 0.0
    kept.unlink()
    assert config_for(tmp_path / "pipeline", ["PERSON"])["corpora"]["train"]["rehearsal_ratio"] == 1.0
    write_jsonl(kept, fashion_records(n=2))
    out = " ".join(check_ok(run_cli("rehearsal", "init-config", tmp_path / "pipeline", tmp_path / "c.cfg", "--labels", "PERSON")).split())
    assert f"read again (earlier_paths): {kept}" in out
    assert f"Not found, so not read again: {gone}." in out


def test_a_renamed_taught_ner_stops_init_config_with_the_fix(round_one, tmp_path):
    nlp = spacy.load(round_one)
    nlp.rename_pipe(NEW_COMPONENT, "brands")
    nlp.to_disk(tmp_path / "renamed")
    proc = run_cli("rehearsal", "init-config", tmp_path / "renamed", tmp_path / "c.cfg", "--labels", BRAND)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "names 'ner_new' as the taught NER of an earlier round, but the pipeline has no such component" in " ".join(
        (proc.stdout + proc.stderr).split())
    assert not (tmp_path / "c.cfg").exists()


def test_a_label_that_differs_from_a_known_one_only_in_case_gets_the_fix(listener_base, round_one):
    with pytest.raises(InputError, match="person differ only in case from PERSON"):
        generate_config(inspect_base(str(listener_base)), ["person"], "component")
    with pytest.raises(InputError, match="Fashion_Brand differ only in case from FASHION_BRAND"):
        generate_config(inspect_base(str(round_one)), ["Fashion_Brand"], "component")


def test_shape_settings_are_refused_on_a_later_round(round_one):
    with pytest.raises(InputError, match="sets the taught NER of round 1"):
        generate_config(inspect_base(str(round_one)), [BRAND], "component", component_depth=2)


def upper_weights(nlp) -> numpy.ndarray:
    return numpy.asarray(nlp.get_pipe(NEW_COMPONENT).model.get_ref("upper").get_param("W")).copy()


@pytest.mark.slow
def test_three_rounds_keep_two_ners_the_gate_and_the_history(listener_base, tmp_path):
    """New type, then a correction with more examples, then more examples: real spacy train runs on a tiny pipeline."""
    raw = tmp_path / "raw.txt"
    raw.write_text("".join(f"{t}\n" for t, _ in SENTENCES) * 5, encoding="utf8")
    brands = write_jsonl(tmp_path / "brands.jsonl", fashion_records(n=16))
    mixed = mixed_annotations(tmp_path / "mixed.jsonl")
    base, saved = str(listener_base), []
    for n, (labels, train) in enumerate([([BRAND], brands), (["PERSON", BRAND], mixed), ([BRAND], brands)], start=1):
        cfg = tmp_path / f"round{n}.cfg"
        cfg.write_text(generate_config(inspect_base(base), labels, "component"), encoding="utf8")
        # Round 3 learns nothing (learn rate 0): its taught NER must be round 2's, resumed, not a new one
        extra = {"training.optimizer.learn_rate": 0.0} if n == 3 else {}
        overrides = {"paths.train": str(train), "paths.dev": str(train), "paths.raw": str(raw),
                     "training.max_steps": 6, "training.eval_frequency": 3, **extra}
        train_pipeline(cfg, tmp_path / f"out{n}", overrides=overrides)
        base = str(tmp_path / f"out{n}" / "model-last")
        saved.append(spacy.load(base))
    for nlp in saved:
        assert ner_names(nlp) == [NEW_COMPONENT, "ner"]
    second, third = saved[1], saved[2]
    assert sorted(third.get_pipe(NEW_COMPONENT).labels) == [BRAND, "PERSON"]
    # Only weight decay moves weights at learn rate 0 (a relative 4e-4 here); a copy or a new NER would differ by far more
    assert numpy.allclose(upper_weights(second), upper_weights(third), rtol=1e-3, atol=1e-5)
    assert gated_labels(second.get_pipe("ner")) == gated_labels(third.get_pipe("ner")) == ["PERSON"]
    record = third.meta["rehearsal"]
    assert record["taught_labels"] == [BRAND, "PERSON"] and record["corrected_labels"] == ["PERSON"]
    assert record["base"] == str(listener_base)
    assert [r["taught"] for r in record["rounds"]] == [{BRAND: NEW}, {BRAND: MORE, "PERSON": CORRECTED}, {BRAND: MORE}]
    assert record["rounds"][1]["examples"] == len(mixed.read_text(encoding="utf8").splitlines())
    # The last round's pipeline loads and predicts the same in a process where the plugin cannot be imported
    texts = [t for t, _ in SENTENCES]
    with_plugin = [[[e.start_char, e.end_char, e.label_] for e in d.ents] for d in third.pipe(texts)]
    proc = subprocess.run([sys.executable, "-c", BLOCK_PLUGIN, base, *texts], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert json.loads(proc.stdout) == with_plugin


def test_a_round_file_without_the_labels_given_stops_before_training(round_one, tmp_path):
    brands = write_jsonl(tmp_path / "brands.jsonl", fashion_records(n=4))  # FASHION_BRAND only
    text = generate_config(inspect_base(str(round_one)), ["DRUG"], "component")
    config = Config().from_str(text, overrides={"paths.train": str(brands), "paths.dev": str(brands)})
    with pytest.raises(InputError, match=r"labels = \['DRUG'\] \(init-config --labels\) but the annotations hold \['FASHION_BRAND'\]"):
        registry.resolve({"train": config["corpora"]["train"]})
