"""Class-incremental NER on CoNLL-2003, the literature's protocol, with spaCy's CNN NER.

    python benchmarks/continual_conll.py [--settings fg-1-pg-1 fg-2-pg-1] [--methods ...]
                                         [--epochs 10] [--jobs 2] [--seeds 0] [--sampler-seed 1]
                                         [--reuse] [--speed] [--carry EARLIER.json]

The protocol of CFNER (EMNLP 2022; followed by RDP, TBCL, CPFD): CoNLL-2003
train is split into disjoint slices by the greedy sampler of
`conll_slices.py`; types are added in the order LOC, MISC, ORG, PER, one a
step (FG-1-PG-1) or LOC+MISC first (FG-2-PG-1); in slice k only step k's types
are labelled. After every step the model is scored on the evaluation set
restricted to the types seen so far; the headline is the step-averaged micro
and macro F1, and each method's share of joint training's.

Differences from the papers, on purpose:
- the model is spaCy's CNN NER (`spacy init config -p ner`, efficiency), not
  BERT-base; the published figures are quoted beside ours, not comparable;
- `../shared/data/conll2003` has no test split: CoNLL dev is the evaluation
  set (never seen in training: spacy train's own dev corpus is 100 sentences
  of the step's slice, and only model-last is scored);
- a fixed number of epochs per step (`--epochs`), every step a
  `python -m spacy train` run; step 1 is the same model for every method.

Methods (step k >= 2 sources the NER from the method's step k-1 pipeline,
which is also the teacher; every config is `spacy rehearsal init-config`'s
output for that strategy with the overrides listed in METHODS):
fine-tune, teacher-fill, reader (teacher-fill + raw text 1:1), callback,
rehearsal (the shipped one-model recipe), rehearsal ignore (the same with
new_actions "ignore", init-config's advice when the raw text mentions the new
type), component (step 2 adds a taught NER before the frozen step-1 NER,
`--raw-ratio 0`, init-config's advice for such raw text; later steps train
that taught NER further, as init-config writes a round), joint (one model on
all slices, all types labelled: the upper bound). Raw text for a step is the
CoNLL train text outside that step's slice, read as unlabelled sentences.
"""
import argparse
import json
import shlex
import sys
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Sequence

import spacy
import srsly
from confection import Config
from spacy.cli.init_config import init_config
from spacy.tokens import Doc, DocBin

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "scripts"))

from conll_mapping import prodigy_record  # noqa: E402
from conll_slices import SETTINGS, keep_types, load_slices  # noqa: E402
from continual_report import PUBLISHED, pipeline_speed, plot, predict, report_tables, score_seen, summarize  # noqa: E402
from data_paths import CONLL  # noqa: E402
from pipeline_speed import versions  # noqa: E402
from prepare_conll import read_conll, to_doc  # noqa: E402
from spacy_runs import apply_overrides, train_once  # noqa: E402

from spacy_rehearsal.config.strategies import generate_config  # noqa: E402
from spacy_rehearsal.teacher.base_pipeline import inspect_base  # noqa: E402

CONLL_DEV = CONLL / "dev.txt"
NEVER = 10**9  # eval_frequency: spacy train never evaluates; model-last is scored here
SPACY_DEV = 100  # sentences of the step's slice given to spacy train as its dev corpus


@dataclass(frozen=True)
class Method:
    strategy: str  # init-config --strategy
    overrides: Dict[str, Any] = field(default_factory=dict)
    raw: bool = True  # give the step's raw text as paths.raw
    raw_ratio: float = 1.0  # init-config --raw-ratio (component)
    about: str = ""


OUTSIDE = {"corpora.train.fill": "outside", "corpora.dev.fill": "outside"}
METHODS: Dict[str, Method] = {
    "fine-tune": Method("reader", OUTSIDE, raw=False, about="the slice as it is: other types are O"),
    "teacher-fill": Method("reader", raw=False, about="reader fill=teacher (step k-1's model), no raw text"),
    "reader": Method("reader", about="reader defaults: teacher-fill + raw text 1:1 annotated by step k-1's model"),
    "callback": Method("callback", about="init-config --strategy callback: plain slice + rehearsal_callback.v1 on raw text"),
    "rehearsal": Method("rehearsal", about="init-config --strategy rehearsal as shipped: teacher-fill + soft targets on raw text"),
    "rehearsal ignore": Method("rehearsal", {"training.before_update.new_actions": "ignore"},
                               about="rehearsal with new_actions ignore (init-config's advice when raw text mentions the new type)"),
    "rehearsal entities": Method("rehearsal", {"training.before_update.new_actions": "teacher_entities"},
                                 about="rehearsal with new_actions teacher_entities: the new type's actions get target 0 "
                                 "where the teacher starts an entity, and are left out elsewhere"),
    "component": Method("component", raw_ratio=0.0,
                        about="init-config --strategy component, step 2 with --raw-ratio 0 (init-config's advice for raw text "
                        "that mentions the new type); from step 3 on init-config on the last step's pipeline, as written: "
                        "the taught NER trained further (rounds), two NERs at every step"),
}
JOINT = "joint"
ORDER = [JOINT, *METHODS]  # table order
DEFAULT_METHODS = ["fine-tune", "teacher-fill", "reader", "rehearsal", "rehearsal ignore", "component"]


def write_data(setting: str, seed: int, work: Path) -> Dict[str, Any]:
    """Slice files of every step (DocBin and Prodigy JSONL), raw text, the joint corpus and statistics."""
    out = work / setting / "data"
    sentences, slices, stats = load_slices(setting, seed)
    steps = SETTINGS[setting]
    nlp = spacy.blank("en")
    out.mkdir(parents=True, exist_ok=True)
    files: List[Dict[str, str]] = []
    for k, (types, indices) in enumerate(zip(steps, slices), start=1):
        docs = [to_doc(nlp, sentences[i][0], keep_types(sentences[i][1], types)) for i in indices]
        step = {name: str(out / f"step{k}.{name}") for name in ("spacy", "dev.spacy", "jsonl", "dev.jsonl", "raw.txt")}
        DocBin(docs=docs).to_disk(step["spacy"])
        DocBin(docs=docs[:SPACY_DEV]).to_disk(step["dev.spacy"])
        srsly.write_jsonl(step["jsonl"], (record(doc) for doc in docs))
        srsly.write_jsonl(step["dev.jsonl"], (record(doc) for doc in docs[:SPACY_DEV]))
        inside = set(indices)
        # Every sentence outside the slice, in the sampler's file order: a mix of the other slices
        Path(step["raw.txt"]).write_text("".join(" ".join(w) + "\n" for i, (w, _) in enumerate(sentences) if i not in inside), encoding="utf8")
        files.append(step)
    used = [i for indices in slices for i in indices]
    joint = {"spacy": str(out / "joint.spacy"), "dev": str(out / "joint_dev.spacy")}
    DocBin(docs=[to_doc(nlp, *sentences[i]) for i in used]).to_disk(joint["spacy"])
    DocBin(docs=[to_doc(nlp, *sentences[i]) for i in used[:SPACY_DEV]]).to_disk(joint["dev"])
    return {"steps": files, "joint": joint, "stats": stats, "n_sentences": len(sentences), "n_used": len(used)}


def record(doc: Doc) -> Dict[str, Any]:
    """The slice's doc as Prodigy JSONL, keeping CoNLL's tokens (the reader keeps a given tokenization)."""
    return prodigy_record([t.text for t in doc], [(e.start, e.end, e.label_) for e in doc.ents])


def scratch_config(train: str, dev: str, epochs: int) -> Config:
    """`spacy init config -p ner` (efficiency, CPU) on DocBin files, for step 1 and joint training."""
    config = init_config(lang="en", pipeline=["ner"], optimize="efficiency", gpu=False)
    config["paths"]["train"], config["paths"]["dev"] = train, dev
    training = config["training"]
    training.update({"max_epochs": epochs, "max_steps": 0, "eval_frequency": NEVER, "patience": 0})
    return config


def step_config(method: Method, base: str, types: Sequence[str], epochs: int) -> Config:
    """init-config's config for the method's strategy on `base`, with the method's overrides."""
    inspected = inspect_base(base)
    later_round = method.strategy == "component" and "rehearsal" in inspected.meta  # rounds: the recipe is set
    text = generate_config(inspected, list(types), method.strategy, raw_ratio=None if later_round else method.raw_ratio)
    overrides = {**method.overrides, "training.max_epochs": epochs, "training.eval_frequency": NEVER}
    return apply_overrides(Config().from_str(text, interpolate=False), overrides)


def train(config: Config, out: Path, cli: List[str], seed: int, args: argparse.Namespace) -> Dict[str, Any]:
    """`python -m spacy train` into `out`, unless a finished run has the same config and arguments."""
    threads = 1 if args.jobs > 1 else None  # one thread a training when several run at once
    return train_once(config, out, [*cli, "--system.seed", str(seed)], reuse=args.reuse, threads=threads)


def run_chain(setting: str, method: str, seed: int, data: Dict[str, Any], args: argparse.Namespace, gold: List[Doc],
              first: Future) -> Dict[str, Any]:
    """Every step of one method, after the shared step 1 (`first`): trained, then scored on the seen types."""
    steps = SETTINGS[setting]
    root = args.work / f"seed{seed}" / setting
    if method == JOINT:
        config = scratch_config(data["joint"]["spacy"], data["joint"]["dev"], args.epochs)
        joint = train(config, root / "joint", [], seed, args)
        runs = [dict(joint) for _ in steps]
    else:
        runs = [dict(first.result())]
        spec = METHODS[method]
        for k in range(1, len(steps)):
            step = data["steps"][k]
            base = runs[-1]["model"]
            paths = ["--paths.train", step["jsonl"], "--paths.dev", step["dev.jsonl"], "--paths.base", base,
                     "--paths.cache", str(args.work / "cache"), "--paths.raw", step["raw.txt"] if spec.raw else "null"]
            out = root / method.replace(" ", "_") / f"step{k + 1}"
            runs.append(train(step_config(spec, base, steps[k], args.epochs), out, paths, seed, args))
    seen: List[str] = []
    predicted: Dict[str, List[Doc]] = {}
    for k, result in enumerate(runs):
        seen += steps[k]
        if result["model"] not in predicted:
            predicted[result["model"]] = predict(result["model"], gold)
        result.update(score_seen(predicted[result["model"]], gold, seen))
    return {"method": method, "seed": seed, "steps": runs}


def run_setting(setting: str, data: Dict[str, Any], args: argparse.Namespace, gold: List[Doc]) -> List[Dict[str, Any]]:
    """Each seed's step 1 (shared by every method) first, then the methods' chains, `--jobs` trainings at a time."""
    first = data["steps"][0]
    step1 = scratch_config(first["spacy"], first["dev.spacy"], args.epochs)
    # The longest chains first; joint last, so the chains waiting on step 1 start at once. Every step 1 is
    # queued before any chain, so a chain only ever waits on a training already started
    order = sorted(args.methods, key=lambda m: (m == JOINT, m in ("fine-tune", "teacher-fill")))
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        shared = {seed: pool.submit(train, step1, args.work / f"seed{seed}" / setting / "step1", [], seed, args) for seed in args.seeds}
        futures = [pool.submit(run_chain, setting, m, seed, data, args, gold, shared[seed]) for seed in args.seeds for m in order]
        chains = [f.result() for f in futures]
    return chains


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--settings", nargs="+", choices=list(SETTINGS), default=list(SETTINGS))
    parser.add_argument("--methods", nargs="+", choices=[*METHODS, JOINT], default=[JOINT, *DEFAULT_METHODS])
    parser.add_argument("--epochs", type=int, default=10, help="epochs of every step's training")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0], help="spacy train's seeds (every step of every method)")
    parser.add_argument("--sampler-seed", type=int, default=1, help="seed of the slice sampler's random placements")
    parser.add_argument("--jobs", type=int, default=2, help="methods trained at once (each with one thread)")
    parser.add_argument("--work", type=Path, default=Path("benchmarks/results/continual_conll"))
    parser.add_argument("--output", type=Path, default=Path("benchmarks/results/continual_conll.json"))
    parser.add_argument("--plot", type=Path, default=Path("docs/continual_conll.png"))
    parser.add_argument("--reuse", action="store_true", help="reuse finished trainings whose config and arguments are unchanged")
    parser.add_argument("--carry", type=Path, default=None, help="an earlier report: its chains of methods not named in "
                        "--methods join the tables (with their seeds), marked as carried")
    parser.add_argument("--speed", action="store_true", help="time each method's last pipeline against fine-tune's "
                        "(best of 3, one process, after training: run nothing else meanwhile)")
    args = parser.parse_args()
    nlp = spacy.blank("en")
    gold = [to_doc(nlp, words, tags) for words, tags in read_conll(CONLL_DEV)]
    report: Dict[str, Any] = {
        "command": shlex.join(["python", Path(sys.argv[0]).as_posix(), *sys.argv[1:]]), "versions": versions(),
        "epochs": args.epochs, "seeds": args.seeds, "carried_from": str(args.carry) if args.carry else None, "sampler_seed": args.sampler_seed, "evaluation_set": str(CONLL_DEV),
        "n_eval_sentences": len(gold), "methods": {m: METHODS[m].about if m in METHODS else "one model, all slices, all types" for m in args.methods},
        "published": PUBLISHED, "settings": {},
    }
    earlier = json.loads(args.carry.read_text()) if args.carry is not None else {"settings": {}, "methods": {}}
    for setting in [*args.settings, *(s for s in earlier["settings"] if s not in args.settings)]:
        chains: List[Dict[str, Any]] = []
        stats = earlier["settings"].get(setting, {}).get("slices")
        if setting in args.settings:
            data = write_data(setting, args.sampler_seed, args.work)
            stats = data["stats"]
            print(f"\n{setting}: {data['n_used']} of {data['n_sentences']} train sentences in {len(stats)} slices", flush=True)
            chains = run_setting(setting, data, args, gold)
        # The earlier report's chains of other methods (or of a setting not run now) join, marked as carried
        carried = [{**c, "carried_from": c.get("carried_from", str(args.carry))}
                   for c in earlier["settings"].get(setting, {}).get("chains", []) if setting not in args.settings or c["method"] not in args.methods]
        report["methods"].update({c["method"]: earlier["methods"][c["method"]] for c in carried})
        chains = sorted(chains + carried, key=lambda c: (ORDER.index(c["method"]), c["seed"]))
        summary = summarize(chains)
        speed = pipeline_speed(chains, gold) if args.speed and setting in args.settings else {}
        tables = report_tables(setting, chains, summary, speed)
        print(tables)
        report["settings"][setting] = {"slices": stats, "summary": summary, "speed": speed, "chains": chains, "tables": tables}
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(report, indent=2, default=str))
    plot(report, args.plot)
    print(f"\nWrote {args.output} and {args.plot}")


if __name__ == "__main__":
    main()
