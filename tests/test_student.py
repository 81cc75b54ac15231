"""The student in the taught NER's place (`training/component/student.py`, `spacy rehearsal distill`).

A tiny pipeline is trained for real in the test: a taught NER that learned one
brand pattern and an "original" NER (GPE) after it, as the component route
leaves them; the student is distilled from the taught NER with the command.
"""
import json
import random
import subprocess
import sys
from pathlib import Path

import pytest
import spacy
from spacy.training import Example
from spacy.util import fix_random_seed, minibatch
from test_strategies import check_ok, run_cli

BRAND = "FASHION_BRAND"
BRANDS = ["Zara", "Gucci", "Prada", "Chanel", "Dior", "Versace", "Fendi", "Hermes", "Balenciaga", "Valentino"]
CITIES = ["Paris", "Berlin", "Madrid", "Rome", "London", "Vienna"]
SMALL = {"@architectures": "spacy.HashEmbedCNN.v2", "pretrained_vectors": None, "width": 48, "depth": 2,
         "embed_size": 500, "window_size": 1, "maxout_pieces": 2, "subword_features": True}


def sentence(rng: random.Random, brands: list) -> tuple:
    brand, city = rng.choice(brands), rng.choice(CITIES)
    text = f"I bought {rng.randint(2, 99)} new {brand} shoes in {city} last week ."
    start = text.index(brand)
    return text, (start, start + len(brand)), (text.index(city), text.index(city) + len(city))


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    """A taught NER ('ner_new': FASHION_BRAND) before an original NER ('ner': GPE), both trained, with the record."""
    rng = random.Random(0)
    fix_random_seed(0)
    nlp = spacy.blank("en")
    taught = nlp.add_pipe("ner", name="ner_new", config={"model": {
        "@architectures": "spacy.TransitionBasedParser.v2", "state_type": "ner", "extra_state_tokens": False,
        "hidden_width": 32, "maxout_pieces": 2, "use_upper": True, "nO": None, "tok2vec": SMALL}})
    original = nlp.add_pipe("ner", name="ner")
    taught.add_label(BRAND)
    original.add_label("GPE")
    data = [sentence(rng, BRANDS[:6]) for _ in range(60)]
    brand_examples = [Example.from_dict(nlp.make_doc(t), {"entities": [(*b, BRAND)]}) for t, b, _ in data]
    city_examples = [Example.from_dict(nlp.make_doc(t), {"entities": [(*c, "GPE")]}) for t, _, c in data]
    optimizer = nlp.initialize(lambda: brand_examples + city_examples)
    for _ in range(10):
        for name, examples in (("ner_new", brand_examples), ("ner", city_examples)):
            with nlp.select_pipes(enable=[name]):
                for batch in minibatch(examples, 8):
                    nlp.update(batch, sgd=optimizer, drop=0.1)
    nlp.meta["rehearsal"] = {"taught_component": "ner_new", "taught_labels": [BRAND], "new_labels": [BRAND]}
    out = tmp_path_factory.mktemp("student") / "trained"
    nlp.to_disk(out)
    return out


def unseen_texts() -> list:
    rng = random.Random(1)
    return [sentence(rng, BRANDS[:6])[0] for _ in range(30)]  # texts the student was not distilled on


def ents(nlp, texts) -> list:
    return [[(e.start_char, e.end_char, e.label_) for e in doc.ents] for doc in nlp.pipe(texts)]


LOAD_WITHOUT_PLUGIN = (
    "import sys, json; sys.modules['spacy_rehearsal'] = None\n"
    "import spacy; nlp = spacy.load(sys.argv[1])\n"
    "print(json.dumps([[(e.start_char, e.end_char, e.label_) for e in d.ents] for d in nlp.pipe(sys.argv[2:])]))\n"
)


@pytest.mark.slow
def test_distill_puts_a_small_student_that_agrees_with_the_taught_ner_in_its_place(trained, tmp_path):
    teacher = spacy.load(trained)
    texts = unseen_texts()
    expected = ents(teacher, texts)
    assert sum(label == BRAND for doc in expected for *_, label in doc) >= 20  # the teacher learned the pattern
    raw = tmp_path / "raw.txt"
    rng = random.Random(2)
    raw.write_text("".join(sentence(rng, BRANDS[:6])[0] + "\n" for _ in range(1000)), encoding="utf8")
    out = check_ok(run_cli("rehearsal", "distill", trained, tmp_path / "student", "--raw", raw, "--epochs", 6,
                           "--width", 16, "--rows", 300))
    assert "epoch 6: loss" in out  # progress, an epoch a line
    student = spacy.load(tmp_path / "student")
    assert student.pipe_names == teacher.pipe_names
    assert student.get_pipe("ner_new").model.get_ref("tok2vec").layers[0].get_dim("nO") == 16  # its own tok2vec
    assert student.meta["rehearsal"]["student"]["width"] == 16
    # The original NER is untouched, weight for weight
    fresh = spacy.load(trained)  # as saved (a NER that has predicted serializes its cached state too)
    assert student.get_pipe("ner").to_bytes(exclude=["vocab"]) == fresh.get_pipe("ner").to_bytes(exclude=["vocab"])
    predicted = ents(student, texts)
    same = sum(p == e for p, e in zip(predicted, expected))
    assert same >= 0.9 * len(texts), (predicted[:3], expected[:3])
    # Plain spaCy: it loads and predicts the same without the plugin
    proc = subprocess.run([sys.executable, "-c", LOAD_WITHOUT_PLUGIN, str(tmp_path / "student"), *texts],
                          capture_output=True, text=True, check=True)
    assert [[tuple(e) for e in doc] for doc in json.loads(proc.stdout)] == predicted
    # A later round trains the student further, and says what it costs
    out = check_ok(run_cli("rehearsal", "init-config", tmp_path / "student", tmp_path / "round2.cfg", "--labels", BRAND))
    assert "the student in the taught NER's place" in " ".join(out.split())


def test_distill_names_what_is_missing(trained, tmp_path):
    plain = tmp_path / "plain"
    spacy.blank("en").to_disk(plain)
    proc = run_cli("rehearsal", "distill", plain, tmp_path / "out", "--raw", trained / "meta.json")
    assert proc.returncode == 1 and f"{plain}: names no taught NER" in " ".join(proc.stdout.split())
    proc = run_cli("rehearsal", "distill", trained, tmp_path / "out")  # no annotations and no raw text in its config
    assert proc.returncode == 1 and "give --raw" in proc.stdout
    assert not (tmp_path / "out").exists()


def test_the_new_types_taught_ner_is_small_and_a_given_depth_gives_the_base_architecture(base_model):
    from confection import Config

    from spacy_rehearsal.config.strategies import generate_config
    from spacy_rehearsal.teacher.base_pipeline import inspect_base
    from spacy_rehearsal.training.component.student import Shape

    base = inspect_base(base_model)

    def taught_model(labels, **options):
        text = generate_config(base, labels, "component", **options)
        return Config().from_str(text, interpolate=False)["components"]["ner_new"]["model"]

    assert taught_model([BRAND]) == Shape().model_config()  # new types: small, its own
    base_t2v = base.ner_model["tok2vec"]
    deeper = taught_model([BRAND], component_depth=2)["tok2vec"]
    assert deeper["encode"]["depth"] == 2 and deeper["embed"] == base_t2v["embed"]  # the base NER's architecture
    assert taught_model(["PERSON"])["tok2vec"] == base_t2v  # corrections: a full copy
