"""A second language: a French base pipeline (`fr_core_news_sm`, the `test` extra) taught a new type.

`init-config` writes the component and the one-model (rehearsal) config for
the French base, `spacy train` trains each for one epoch on a dozen French
sentences with French raw text, and the trained pipelines keep the base's
French types (PER, LOC, ORG) on French text they never saw. Nothing in the
package may assume English (a blank "en" pipeline, English tokenization):
the configs carry the base's language and the trained pipelines are French.
"""
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest
import spacy
from spacy.cli.train import train

from spacy_rehearsal.scoring import score_ents

FR_BASE = "fr_core_news_sm"
LABEL = "MARQUE"
BRANDS = ["Zara", "Hermès", "Chanel", "Dior", "Lacoste", "Sézane"]
TEMPLATES = [
    "J'ai acheté une veste {b} pour l'hiver.",
    "Ce sac {b} coûte beaucoup trop cher.",
    "Elle porte toujours des chaussures {b} au bureau.",
    "Les soldes chez {b} commencent demain.",
]
RAW = [
    "Emmanuel Macron a rencontré Angela Merkel à Berlin lundi.",
    "Marie Dupont travaille chez Renault à Lyon depuis trois ans.",
    "Le maire de Marseille a inauguré un nouveau musée.",
    "Jean Martin a quitté Bordeaux pour s'installer à Nantes.",
    "La SNCF annonce des retards entre Paris et Lille.",
    "Sophie Leroy a rejoint Airbus à Toulouse en mars.",
]
HELD_OUT = [
    "Nicolas Sarkozy a visité Strasbourg avec des élus de la région.",
    "Claire Bernard dirige une équipe de Michelin à Clermont-Ferrand.",
    "Le président de la Banque de France parlait à Genève hier.",
    "Pierre Lambert a ouvert un restaurant à Nice avec Julie Moreau.",
    "Les ingénieurs de Thales travaillent à Rennes et à Grenoble.",
    "Paul Girard est arrivé à Montréal pour rencontrer des chercheurs.",
]
KEPT = ["PER", "LOC", "ORG"]


def records() -> list:
    out = []
    for i, template in enumerate(TEMPLATES * 3):
        brand = BRANDS[i % len(BRANDS)]
        text = template.format(b=brand)
        start = text.index(brand)
        out.append({"text": text, "entities": [[start, start + len(brand), LABEL]]})
    return out


@pytest.fixture(scope="module")
def french_data(tmp_path_factory) -> dict:
    if importlib.util.find_spec(FR_BASE) is None:
        pytest.fail(f"{FR_BASE} is not installed: pip install -e '.[test]'")
    folder = tmp_path_factory.mktemp("fr")
    train_path = folder / "train.jsonl"
    train_path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records()), encoding="utf8")
    raw = folder / "raw.txt"
    raw.write_text("\n".join(RAW) + "\n", encoding="utf8")
    return {"train": train_path, "raw": raw, "folder": folder}


@pytest.mark.slow
@pytest.mark.parametrize("strategy,min_agreement", [("component", 0.99), ("rehearsal", 0.8)])
def test_french_base_keeps_its_types(french_data, strategy, min_agreement):
    folder = french_data["folder"] / strategy
    config = folder / "config.cfg"
    proc = subprocess.run([sys.executable, "-m", "spacy", "rehearsal", "init-config", FR_BASE, str(config),
                           "--labels", LABEL, "--strategy", strategy], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert 'lang = "fr"' in config.read_text(encoding="utf8")
    overrides = {
        "paths.train": str(french_data["train"]), "paths.dev": str(french_data["train"]), "paths.raw": str(french_data["raw"]),
        "training.max_epochs": 1, "training.eval_frequency": 1000, "corpora.train.limit": 0,
    }
    if strategy == "rehearsal":
        overrides["training.before_update.heldout_size"] = 2  # the raw text is six sentences
    train(config, folder / "out", overrides=overrides)
    trained = spacy.load(folder / "out" / "model-last")
    base = spacy.load(FR_BASE)
    assert trained.lang == "fr" and trained.tokenizer.__class__ is base.tokenizer.__class__
    assert LABEL in {label for _, pipe in trained.pipeline for label in getattr(pipe, "labels", ())}
    base_docs, trained_docs = list(base.pipe(HELD_OUT)), list(trained.pipe(HELD_OUT))
    assert sum(1 for d in base_docs for e in d.ents if e.label_ in KEPT) >= 12
    agreement = score_ents(trained_docs, base_docs, labels=KEPT)
    assert agreement["micro"]["r"] >= min_agreement, agreement  # type: ignore[index]
    if strategy == "component":
        assert trained.pipe_names.index("ner_new") < trained.pipe_names.index("ner")


def test_no_module_assumes_english():
    """The package never makes an English pipeline or tokenizer of its own: the base's language is used."""
    root = Path(__file__).resolve().parent.parent / "spacy_rehearsal"
    for path in root.rglob("*.py"):
        text = path.read_text(encoding="utf8")
        for english in ('blank("en")', "blank('en')", "English()", 'init_config(lang="en"', "from spacy.lang.en"):
            assert english not in text, f"{path.relative_to(root.parent)}: {english}"
