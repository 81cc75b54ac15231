"""Scores, tables, speed and the plot of `continual_conll.py`."""
import time
from pathlib import Path
from typing import Any, Dict, List, Sequence

import spacy
from spacy.tokens import Doc

from spacy_rehearsal.scoring import format_table, score_ents

# Published step-averaged micro / macro F1 on the CoNLL-03 test set, BERT-base (as quoted in the
# issue: CFNER, EMNLP 2022, and its followers RDP and TBCL). Another model and another evaluation
# split than ours: quoted beside our figures, not comparable to them.
PUBLISHED = {
    "fg-1-pg-1": {"fine-tune": [50.84, 40.64], "self-training": [76.17, 72.88], "CFNER": [80.91, 79.11],
                  "RDP": [82.55, 80.64], "TBCL": [84.27, 81.92]},
    "fg-2-pg-1": {"fine-tune": [57.45, 43.58], "CFNER": [80.83, 75.20]},
}


def predict(model: str, gold: Sequence[Doc]) -> List[Doc]:
    """The pipeline's entities on the gold tokenization."""
    nlp = spacy.load(model)
    docs = (Doc(nlp.vocab, words=[t.text for t in g], spaces=[bool(t.whitespace_) for t in g]) for g in gold)
    return list(nlp.pipe(docs, batch_size=256))


def score_seen(predicted: Sequence[Doc], gold: Sequence[Doc], seen: Sequence[str]) -> Dict[str, Any]:
    """Micro and macro F1 over the seen types, and every seen type's P/R/F."""
    scores = score_ents(predicted, gold, labels=set(seen))
    per_type = {t: scores["per_label"].get(t, {"p": 0.0, "r": 0.0, "f": 0.0}) for t in seen}
    return {
        "seen": list(seen), "micro_f": scores["micro"]["f"],
        "macro_f": sum(s["f"] for s in per_type.values()) / len(per_type), "per_type": per_type,
    }


def by_method(chains: List[Dict[str, Any]]) -> Dict[str, List[Dict[str, Any]]]:
    """Chains grouped by method (one a seed), in the order given."""
    out: Dict[str, List[Dict[str, Any]]] = {}
    for chain in chains:
        out.setdefault(chain["method"], []).append(chain)
    return out


def mean_steps(chains: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """A method's steps with micro F1 and per-type F1 averaged over its seeds."""
    steps = []
    for k, first in enumerate(chains[0]["steps"]):
        runs = [c["steps"][k] for c in chains]
        steps.append({"seen": first["seen"], "micro_f": mean(r["micro_f"] for r in runs),
                      "per_type": {t: {"f": mean(r["per_type"][t]["f"] for r in runs)} for t in first["seen"]}})
    return steps


def mean(values) -> float:
    values = list(values)
    return sum(values) / len(values)


def spread(values: List[float]) -> Dict[str, float]:
    return {"mean": mean(values), "half_range": (max(values) - min(values)) / 2}


def summarize(chains: List[Dict[str, Any]]) -> Dict[str, Dict[str, Any]]:
    """Per method: step-averaged micro/macro F1 and their share of joint training's (same seed), mean ± half-range over seeds."""
    def averaged(chain: Dict[str, Any], key: str) -> float:
        return mean(s[key] for s in chain["steps"])

    joint = {c["seed"]: c for c in chains if c["method"] == "joint"}
    out = {}
    for method, runs in by_method(chains).items():
        row: Dict[str, Any] = {"seeds": [c["seed"] for c in runs]}
        for key, name in (("micro_f", "micro"), ("macro_f", "macro")):
            row[name] = spread([averaged(c, key) for c in runs])
            shares = [averaged(c, key) / averaged(joint[c["seed"]], key) for c in runs if c["seed"] in joint]
            row[f"share_{name}"] = spread(shares) if shares else None
        first = slice(None, 1) if method == "joint" else slice(1, None)
        row["train_seconds"] = mean(sum(s["train_seconds"] for s in c["steps"][first]) for c in runs)
        out[method] = row
    return out


def pipeline_speed(chains: List[Dict[str, Any]], gold: Sequence[Doc], repeats: int = 3) -> Dict[str, Any]:
    """Words a second of each method's last pipeline (best of `repeats`), and its ratio to fine-tune's."""
    words = sum(len(doc) for doc in gold)
    texts = [doc.text for doc in gold]
    speed = {}
    for chain in (runs[0] for runs in by_method(chains).values()):
        nlp = spacy.load(chain["steps"][-1]["model"])
        best = float("inf")
        for _ in range(repeats):
            start = time.perf_counter()
            for _ in nlp.pipe(texts, batch_size=256):
                pass
            best = min(best, time.perf_counter() - start)
        speed[chain["method"]] = {"words_per_second": round(words / best), "pipeline": nlp.pipe_names}
    reference = speed.get("fine-tune", {}).get("words_per_second")
    for row in speed.values():
        row["ratio"] = round(row["words_per_second"] / reference, 3) if reference else None
    return speed


def report_tables(setting: str, chains: List[Dict[str, Any]], summary: Dict[str, Any], speed: Dict[str, Any]) -> str:
    """The headline table (with the published figures), per-step micro F1, and per-type F1 at every step (seed means)."""
    def pm(value: Any, scale: float = 1.0) -> str:
        return "" if value is None else f"{scale * value['mean']:.3f} ± {scale * value['half_range']:.3f}"

    means = {method: mean_steps(runs) for method, runs in by_method(chains).items()}
    n_steps = len(chains[0]["steps"])
    head = format_table(
        ["method", "seeds", "Mi-F1", "Ma-F1", "share of joint Mi", "share of joint Ma", "train s (steps 2+)", "speed vs fine-tune"],
        [[m, len(s["seeds"]), pm(s["micro"], 100), pm(s["macro"], 100), pm(s["share_micro"]), pm(s["share_macro"]),
          round(s["train_seconds"]), speed.get(m, {}).get("ratio")] for m, s in summary.items()],
    )
    published = format_table(["published (BERT-base, CoNLL test)", "Mi-F1", "Ma-F1"],
                             [[name, mi, ma] for name, (mi, ma) in PUBLISHED[setting].items()])
    per_step = format_table(["micro F1", *[f"step {k + 1}" for k in range(n_steps)]],
                            [[m, *[100 * s["micro_f"] for s in steps]] for m, steps in means.items()])
    per_type = []
    for k in range(n_steps):
        seen = chains[0]["steps"][k]["seen"]
        per_type.append(f"step {k + 1} (seen: {', '.join(seen)}), F1 per type\n" + format_table(
            ["method", *seen], [[m, *[100 * steps[k]["per_type"][t]["f"] for t in seen]] for m, steps in means.items()]))
    return "\n\n".join([f"== {setting}: step-averaged (mean ± half-range over seeds) ==", head, published, per_step, *per_type])


def plot(report: Dict[str, Any], path: Path) -> None:
    """Micro F1 after every step, one panel a setting, one line a method."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    settings = report["settings"]
    fig, axes = plt.subplots(1, len(settings), figsize=(6 * len(settings), 4.5), squeeze=False)
    for ax, (setting, result) in zip(axes[0], settings.items()):
        for method, runs in by_method(result["chains"]).items():
            steps = mean_steps(runs)
            style = "--" if method == "joint" else "-"
            share = result["summary"][method]["share_micro"]
            seeds = f"{len(runs)} seed{'s' if len(runs) > 1 else ''}"
            label = f"{method} ({share['mean']:.0%} of joint, {seeds})" if share is not None else f"{method} ({seeds})"
            ax.plot(range(1, len(steps) + 1), [100 * s["micro_f"] for s in steps], style, marker="o", label=label)
        ax.set_xticks(range(1, len(steps) + 1), ["+".join(s["seen"][-1:]) if k else "+".join(s["seen"]) for k, s in enumerate(steps)])
        ax.set_title(f"{setting.upper()}: micro F1 on the seen types (CoNLL dev), seed means")
        ax.set_xlabel("step (type added)")
        ax.set_ylabel("micro F1")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
