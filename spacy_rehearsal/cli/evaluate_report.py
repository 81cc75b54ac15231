"""What `spacy rehearsal evaluate` shows of its results: per-label tables and a PNG chart.

`print_results` prints the agreement table (and the gold P/R/F table, with
`--gold`); `warn_label_map` warns about a `--label-map` that names labels
nobody has; `plot_results` draws per-label F1 for `--plot`, with matplotlib
(`pip install "spacy-rehearsal[plot]"`), imported only when a plot is asked for.
Both take the result dict `evaluate.evaluate` returns.
"""
from pathlib import Path
from typing import Any, Collection, Dict, List, Optional

from spacy.tokens import Doc
from wasabi import msg, table

FORGOTTEN = "FORGOTTEN"
NEW = "new"


def _fmt(value: Optional[float]) -> str:
    return "-" if value is None else f"{value:.3f}"


def print_results(result: Dict[str, Any]) -> None:
    """Print the per-label tables of an `evaluate` result."""
    per_label = result["agreement"]["per_label"]
    counts_base, counts_updated = result["counts"]["base"], result["counts"]["updated"]
    flagged, new_labels = set(result["flagged"]), set(result["new_labels"])
    msg.divider(f"Agreement of {result['updated']} with {result['base']} ({result['n_docs']} texts)")
    rows = []
    absent = []
    for label in sorted(set(result["labels"]["base"]) | set(result["labels"]["updated"])):
        scores = per_label.get(label)
        if label not in new_labels and not counts_base.get(label) and not counts_updated.get(label):
            absent.append(label)
            continue
        known = scores is not None and scores["n_ref"] > 0
        if label in new_labels:
            note = NEW
        elif label in flagged:
            note = FORGOTTEN
        elif not known:
            note = "no base entities"
        elif scores["f"] < result["threshold"]:
            note = f"(< {result['min_count']} base entities)"
        else:
            note = ""
        p, r, f = (scores["p"], scores["r"], scores["f"]) if known else (None, None, None)
        rows.append((label, counts_base.get(label, 0), counts_updated.get(label, 0), _fmt(p), _fmt(r), _fmt(f), note))
    micro = result["agreement"]["micro"]
    rows.append(("(all base labels)", micro["n_ref"], micro["n_pred"], _fmt(micro["p"]), _fmt(micro["r"]), _fmt(micro["f"]), ""))
    header = ("Label", "Base", "Updated", "Agree P", "Agree R", "Agree F", "")
    print(table(rows, header=header, divider=True, aligns=("l", "r", "r", "r", "r", "r", "l")))
    if absent:
        msg.text(f"Not predicted by either pipeline on these texts: {', '.join(absent)}")
    rare = [f"{label} ({counts_base[label]})" for label in sorted(counts_base) if counts_base[label] < result["min_count"]]
    if rare:
        msg.text(
            f"Not judged, under --min-count {result['min_count']} base entities (with n entities each one moves "
            f"agreement by 1/n, here {1 / result['min_count']:.2f} or more: noise): {', '.join(rare)}"
        )
    _print_scope(result)
    if "gold" in result:
        _print_gold(result)
    if new_labels:
        msg.info(f"New labels (the base pipeline does not have them): {', '.join(sorted(new_labels))}")
    if flagged:
        msg.warn(
            f"{len(flagged)} base labels under agreement F {result['threshold']}: {', '.join(result['flagged'])}"
        )
    else:
        msg.good(f"No base label under agreement F {result['threshold']} (micro F {micro['f']:.3f})")


def warn_label_map(mapping: Dict[str, str], model_labels: Collection[str], gold_docs: List[Doc]) -> None:
    """Warn about `--label-map` labels neither pipeline predicts, or that the gold data lacks."""
    unknown = sorted(set(mapping) - set(model_labels))
    if unknown:
        msg.warn(f"--label-map names labels neither pipeline predicts: {', '.join(unknown)}")
    gold_labels = {e.label_ for doc in gold_docs for e in doc.ents}
    unused = sorted(set(mapping.values()) - gold_labels)
    if unused:
        msg.warn(f"--label-map maps to labels the gold data does not have: {', '.join(unused)}")


def _print_scope(result: Dict[str, Any]) -> None:
    """Say what agreement was measured on: outside the taught labels' gold spans, or everywhere."""
    taught = result.get("taught")
    if taught is None:  # a result written before the taught labels were recorded
        return
    labels = ", ".join(taught["labels"]) or "none found"
    if taught["outside_gold"]:
        msg.info(f"Agreement on the kept types, outside the gold spans of the taught labels ({labels}; from "
                 f"{taught['source']}): a change you taught is not counted as forgetting")
    else:
        msg.info(f"Agreement on every base entity: without --gold, the changes you taught (labels {labels}; from "
                 f"{taught['source']}) count as disagreement. Give --gold FILE to measure outside their gold spans")


def _print_gold(result: Dict[str, Any]) -> None:
    gold = result["gold"]
    where = result["gold_path"]
    label_map = result.get("label_map")
    mapped = ", label map " + ",".join(f"{k}={v}" for k, v in label_map.items()) if label_map else ""
    taught = {(label_map or {}).get(label, label) for label in result.get("taught", {}).get("labels", [])}
    msg.divider(f"Gold P/R/F on {where}{mapped}")
    rows = []
    for label in gold["labels"]:
        b = gold["base"]["per_label"].get(label, {"p": 0.0, "r": 0.0, "f": 0.0})
        u = gold["updated"]["per_label"].get(label, {"p": 0.0, "r": 0.0, "f": 0.0})
        n = gold["counts"].get(label, 0)
        note = "taught" if label in taught else ""
        rows.append((label, n, _fmt(b["p"]), _fmt(b["r"]), _fmt(b["f"]), _fmt(u["p"]), _fmt(u["r"]), _fmt(u["f"]), f"{u['f'] - b['f']:+.3f}", note))
    b, u = gold["base"]["micro"], gold["updated"]["micro"]
    rows.append(("(micro)", b["n_ref"], _fmt(b["p"]), _fmt(b["r"]), _fmt(b["f"]), _fmt(u["p"]), _fmt(u["r"]), _fmt(u["f"]), f"{u['f'] - b['f']:+.3f}", ""))
    header = ("Gold label", "Gold", "Base P", "Base R", "Base F", "Upd. P", "Upd. R", "Upd. F", "Delta F", "")
    print(table(rows, header=header, divider=True, aligns=("l",) + ("r",) * 8 + ("l",)))
    if gold["left_out"]:
        msg.text(f"Gold labels no predicted label maps to (not scored): {', '.join(gold['left_out'])}")


# ---------------------------------------------------------------------------
# plot


class PlotError(RuntimeError):
    """The plot cannot be drawn (matplotlib missing)."""


def import_pyplot() -> Any:
    """matplotlib.pyplot on the Agg backend; PlotError if matplotlib is not installed."""
    try:
        import matplotlib
    except ImportError:
        raise PlotError(
            "--plot needs matplotlib, which is not installed: pip install 'spacy-rehearsal[plot]' "
            "(or pip install matplotlib)"
        ) from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_results(result: Dict[str, Any], path: Path) -> None:
    """Write a PNG with per-label agreement F (and gold F1 of both pipelines, with gold).

    result (Dict[str, Any]): An `evaluate` result.
    path (Path): The PNG file to write.
    """
    plt = import_pyplot()
    per_label = result["agreement"]["per_label"]
    labels = [label for label, s in per_label.items() if s["n_ref"] > 0]
    panels = 2 if "gold" in result else 1
    fig, axes = plt.subplots(1, panels, figsize=(max(6.0, 0.55 * len(labels)) + 4.0 * (panels - 1), 5.0), squeeze=False)
    ax = axes[0][0]
    width = 0.4
    xs = list(range(len(labels)))
    ax.bar([x - width / 2 for x in xs], [1.0] * len(labels), width, label="base (reference)", color="#9e9e9e")
    colors = ["#d62728" if label in result["flagged"] else "#1f77b4" for label in labels]
    rare = {label for label in labels if result["counts"]["base"].get(label, 0) < result["min_count"]}
    judged = [x for x, label in zip(xs, labels) if label not in rare]
    ax.bar([x + width / 2 for x in judged], [per_label[labels[x]]["f"] for x in judged], width, label="updated",
           color=[colors[x] for x in judged])
    unjudged = [x for x, label in zip(xs, labels) if label in rare]
    if unjudged:  # drawn apart: pale and hatched, never flagged
        ax.bar([x + width / 2 for x in unjudged], [per_label[labels[x]]["f"] for x in unjudged], width, color="#1f77b4",
               alpha=0.3, hatch="//", label=f"too few entities to judge (< {result['min_count']})")
    _mark_zeros(ax, [x + width / 2 for x in xs], [per_label[label]["f"] for label in labels])
    ax.axhline(result["threshold"], color="#d62728", linestyle="--", linewidth=1, label=f"threshold {result['threshold']}")
    _style_axis(ax, labels, "Agreement F with the base pipeline")
    if "gold" in result:
        gold = result["gold"]
        ax = axes[0][1]
        glabels = list(gold["labels"]) + ["micro"]
        xs = list(range(len(glabels)))

        def f_of(scores: Dict[str, Any], label: str) -> float:
            return scores["micro"]["f"] if label == "micro" else scores["per_label"].get(label, {}).get("f", 0.0)

        ax.bar([x - width / 2 for x in xs], [f_of(gold["base"], g) for g in glabels], width, label="base", color="#9e9e9e")
        ax.bar([x + width / 2 for x in xs], [f_of(gold["updated"], g) for g in glabels], width, label="updated", color="#2ca02c")
        _mark_zeros(ax, [x - width / 2 for x in xs], [f_of(gold["base"], g) for g in glabels])
        _mark_zeros(ax, [x + width / 2 for x in xs], [f_of(gold["updated"], g) for g in glabels])
        _style_axis(ax, glabels, "Gold F1")
    fig.suptitle(f"{result['updated']} vs {result['base']} ({result['n_docs']} texts)", fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png", dpi=100)
    plt.close(fig)


def _mark_zeros(ax: Any, xs: List[float], values: List[float]) -> None:
    """A zero bar has no height: a marker and its value say it is zero, not missing."""
    for x, value in zip(xs, values):
        if value == 0.0:
            ax.plot([x], [0.0], marker="v", color="#333333", markersize=5, clip_on=False)
            ax.text(x, 0.03, "0", ha="center", va="bottom", fontsize=7)


def _style_axis(ax: Any, labels: List[str], title: str) -> None:
    ax.set_xticks(range(len(labels)))
    ax.set_xticklabels(labels, rotation=45, ha="right", fontsize=8)
    ax.set_ylim(0, 1.05)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7, loc="lower left", bbox_to_anchor=(0.0, 1.08), ncol=2, frameon=False)  # above the axes, over no bar
