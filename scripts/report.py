"""Compare training runs from their `spacy rehearsal evaluate` results.

    python scripts/report.py OUTPUT_MD RUN_DIR [RUN_DIR ...] [--plot OUTPUT_PNG]

Each RUN_DIR (e.g. `metrics/naive`) is named after its run and holds:
- `conll.json` (required): `spacy rehearsal evaluate BASE UPDATED --gold ...`
  on held-out text: agreement with the base pipeline per label (what was
  forgotten) and gold P/R/F on the old labels; or `{"not_measured": reason}`
  (scripts/news_evaluate.py without CoNLL-2003), and the report then says so
  and shows the agreement of `fashion.json` in its place;
- `fashion.json` (optional): the same command with the new label's gold data
  (how well the new label was learnt, and agreement on the user's own texts
  outside the gold spans of the taught labels);
- `changes.html` (optional): the page `spacy rehearsal evaluate --html` writes
  (the sentences where the run and the base differ); the report links to it.

Writes a Markdown report with one column per run, and with `--plot` a PNG
with per-label agreement F (labels with too few base entities to judge drawn
apart), agreement on the user's own texts, gold F1 on the old labels and gold
F1 on the new labels, runs side by side (needs matplotlib). A zero is drawn
as a marker with its value, the legend above the panels; every figure the
PNG shows is in the Markdown report.
"""
import argparse
import json
import os
import sys
import textwrap
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from spacy_rehearsal.scoring import format_table

Result = Dict[str, Any]


class Run:
    """One run's results: `conll.json` and, if present, `fashion.json`."""

    def __init__(self, path: Path):
        self.name = path.name
        news = _read(path / "conll.json")
        new_path = path / "fashion.json"
        self.learning: Optional[Result] = _read(new_path) if new_path.exists() else None
        # {"not_measured": reason} (scripts/news_evaluate.py, no CoNLL-2003): the agreement on the user's
        # own texts, outside the gold spans of the taught labels, stands in for the news figures
        self.not_measured: Optional[str] = news.get("not_measured")
        if self.not_measured is not None:
            if self.learning is None:
                sys.exit(f"report.py: {path / 'conll.json'}: {self.not_measured}, and no fashion.json to report instead")
            news = {key: value for key, value in self.learning.items() if key != "gold"}
        self.forgetting: Result = news
        self.changes: Optional[Path] = path / "changes.html" if (path / "changes.html").exists() else None


def _read(path: Path) -> Result:
    if not path.exists():
        sys.exit(f"report.py: {path} not found (run `spacy rehearsal evaluate ... --output {path}` first)")
    try:
        return json.loads(path.read_text(encoding="utf8"))
    except ValueError as e:
        sys.exit(f"report.py: {path} is not valid JSON ({e})")


def _gold_f(result: Optional[Result], model: str, label: Optional[str] = None) -> Optional[float]:
    """Gold F of `model` ("base" or "updated") for a label (None: micro)."""
    if result is None or "gold" not in result:
        return None
    scores = result["gold"][model]
    if label is None:
        return scores["micro"]["f"]
    return scores["per_label"].get(label, {}).get("f", 0.0)


def _agreement_f(result: Result, label: str) -> Optional[float]:
    scores = result["agreement"]["per_label"].get(label)
    return scores["f"] if scores is not None and scores["n_ref"] > 0 else None


def _mark(value: Optional[float], flagged: bool) -> object:
    if value is None:
        return "-"
    return f"**{value:.3f}** ⚠" if flagged else value


def _own_agreement(run: "Run") -> Optional[float]:
    """Agreement F on the user's own texts (fashion.json), measured outside the gold spans of the taught labels."""
    if run.learning is None or not run.learning.get("taught", {}).get("outside_gold"):
        return None
    return run.learning["agreement"]["micro"]["f"]


def unjudged(result: Result) -> List[str]:
    """Labels with fewer base entities than --min-count: their agreement is shown, never flagged."""
    counts, min_count = result["counts"]["base"], result.get("min_count", 1)
    return sorted(label for label, s in result["agreement"]["per_label"].items() if 0 < s["n_ref"] and counts.get(label, 0) < min_count)


def _flagged_summary(flagged: List[str], shown: int = 6) -> str:
    if not flagged:
        return "none"
    more = f", … ({len(flagged) - shown} more)" if len(flagged) > shown else ""
    return f"{len(flagged)}: " + ", ".join(flagged[:shown]) + more


def new_labels(runs: List[Run]) -> List[str]:
    """The gold labels of the runs' new-label evaluations."""
    labels = set()
    for run in runs:
        if run.learning is not None and "gold" in run.learning:
            labels.update(run.learning["gold"]["labels"])
    return sorted(labels)


def render(runs: List[Run], output_dir: Optional[Path] = None) -> str:
    """The Markdown report; links to each run's `changes.html` are relative to `output_dir`."""
    first = runs[0].forgetting
    threshold = first["threshold"]
    names = [run.name for run in runs]
    out = [
        "# Forgetting report",
        "",
        f"Base pipeline `{first['base']}`, evaluated on {first['n_docs']} held-out texts (`{first['input']}`). "
        f"Agreement: the updated pipeline's entities scored against the base pipeline's (1.0: nothing forgotten). "
        f"Labels under agreement F {threshold} (with at least {first.get('min_count', 1)} base entities) are marked ⚠.",
        "",
        "## Summary",
        "",
    ]
    if runs[0].not_measured is not None:
        out[-2:-2] = [f"**News agreement not measured**: {runs[0].not_measured}. Agreement is measured on `{first['input']}` "
                      f"instead, outside the gold spans of the taught labels.", ""]
    labels_new = new_labels(runs)
    header = ["Run", "Agreement F (micro)", "Agreement R (micro)", "Labels under threshold", "Old labels gold F (base)", "Old labels gold F"]
    header += [f"{label} gold F" for label in labels_new]
    own = any(_own_agreement(run) is not None for run in runs)
    if own:
        header.append("Agreement F on your texts")
    rows = []
    for run in runs:
        r = run.forgetting
        row: List[object] = [
            run.name,
            r["agreement"]["micro"]["f"],
            r["agreement"]["micro"]["r"],
            _flagged_summary(r["flagged"]),
            _gold_f(r, "base"),
            _gold_f(r, "updated"),
        ]
        row += [_gold_f(run.learning, "updated", label) for label in labels_new]
        if own:
            row.append(_own_agreement(run))
        rows.append(row)
    out += [format_table(header, rows), ""]
    if own:
        ref = next(run.learning for run in runs if _own_agreement(run) is not None)
        out += [f"Agreement F on your texts: on `{ref['gold_path']}`, the base's entities of the types it keeps, outside "
                f"the gold spans of the taught labels ({', '.join(ref['taught']['labels'])}): a change you taught is not "
                f"counted as forgetting.", ""]
    pages = [run for run in runs if run.changes is not None]
    if pages:
        links = ", ".join(f"[{run.name}]({_relative(run.changes, output_dir)})" for run in pages)
        out += [f"Sentences where the run and the base differ, side by side, by kind of change (lost, relabelled, boundary, new label, added): {links}.", ""]

    out += ["## Agreement F with the base pipeline, per label", ""]
    per_label = sorted({label for run in runs for label, s in run.forgetting["agreement"]["per_label"].items() if s["n_ref"] > 0})
    rows = []
    too_few = set(unjudged(first))
    for label in per_label:
        row = [label + (" (too few entities to judge)" if label in too_few else ""), first["counts"]["base"].get(label, 0)]
        row += [_mark(_agreement_f(run.forgetting, label), label in run.forgetting["flagged"]) for run in runs]
        rows.append(row)
    out += [format_table(["Label", "Base entities"] + names, rows), ""]
    if too_few:
        out += [f"Too few entities to judge: labels with fewer than {first.get('min_count', 1)} base entities, where one "
                f"entity moves agreement by 1/n; shown, never flagged, and drawn apart in the plot.", ""]

    if "gold" in first:
        gold = first["gold"]
        label_map = first.get("label_map") or {}
        mapped = ", ".join(f"{k}→{v}" for k, v in label_map.items())
        out += ["## Gold F1 on the old labels", ""]
        if mapped:
            out += [f"Predicted labels mapped to the gold scheme: {mapped}; other predicted labels are ignored.", ""]
        rows = []
        for label in gold["labels"] + [None]:
            row = [label or "(micro)", gold["counts"].get(label, 0) if label else sum(gold["counts"].get(g, 0) for g in gold["labels"])]
            row += [_gold_f(first, "base", label)] + [_gold_f(run.forgetting, "updated", label) for run in runs]
            rows.append(row)
        out += [format_table(["Gold label", "Gold entities", "base"] + names, rows), ""]

    if labels_new:
        out += ["## Gold F1 on the new labels", ""]
        learnt = [run for run in runs if run.learning is not None]
        rows = []
        for label in labels_new:
            ref = learnt[0].learning
            row = [label, ref["gold"]["counts"].get(label, 0), _gold_f(ref, "base", label)]
            row += [_gold_f(run.learning, "updated", label) for run in runs]
            rows.append(row)
        out += [format_table(["Label", "Gold entities", "base"] + names, rows), ""]
    return "\n".join(out)


def _relative(path: Path, start: Optional[Path]) -> str:
    if start is None:
        return path.as_posix()
    return Path(os.path.relpath(path.resolve(), start.resolve())).as_posix()


def _panels(runs: List[Run]) -> List[Tuple[str, List[str], List[Tuple[str, List[Optional[float]]]]]]:
    """(title, x labels, [(series name, values)]) for each panel of the plot; None: no figure for that bar."""
    first = runs[0].forgetting
    labels = sorted({label for run in runs for label, s in run.forgetting["agreement"]["per_label"].items() if s["n_ref"] > 0})
    too_few = set(unjudged(first))
    judged, rare = [lab for lab in labels if lab not in too_few], [lab for lab in labels if lab in too_few]
    panels = []
    for title, group in (("Agreement F with the base pipeline", judged), (TOO_FEW, rare)):
        if group:
            panels.append((title, group, [(run.name, [_agreement_f(run.forgetting, lab) for lab in group]) for run in runs]))
    if any(_own_agreement(run) is not None for run in runs):
        panels.append((OWN_TEXTS, ["kept types"], [(run.name, [_own_agreement(run)]) for run in runs]))
    if "gold" in first:
        gl = first["gold"]["labels"]
        series = [("base", [_gold_f(first, "base", lab) for lab in gl])]
        series += [(run.name, [_gold_f(run.forgetting, "updated", lab) for lab in gl]) for run in runs]
        panels.append(("Gold F1, old labels", gl, series))
    nl = new_labels(runs)
    if nl:
        ref = next(run.learning for run in runs if run.learning is not None)
        series = [("base", [_gold_f(ref, "base", lab) for lab in nl])]
        series += [(run.name, [_gold_f(run.learning, "updated", lab) for lab in nl]) for run in runs]
        panels.append(("Gold F1, new labels", nl, series))
    return panels


TOO_FEW = "Too few entities to judge"
OWN_TEXTS = "Agreement F on your texts"


def figure(runs: List[Run]) -> Any:
    """The report's matplotlib figure: bars per run, zeros drawn as a marker with their value, the legend above the panels."""
    try:
        import matplotlib
    except ImportError:
        sys.exit("report.py: --plot needs matplotlib: pip install 'spacy-rehearsal[plot]'")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    first = runs[0].forgetting
    panels = _panels(runs)
    # One colour per series across the panels: the base grey, each run its own.
    palette = plt.get_cmap("tab10").colors
    colors = {"base": "#9e9e9e", **{run.name: palette[i % len(palette)] for i, run in enumerate(runs)}}
    ratios = [max(len(p[1]), 2) for p in panels]
    fig, axes = plt.subplots(1, len(panels), figsize=(2 + 0.6 * sum(ratios), 5.2), squeeze=False, gridspec_kw={"width_ratios": ratios})
    for ax, (title, xlabels, series) in zip(axes[0], panels):
        width = 0.8 / len(series)
        rare = title == TOO_FEW
        for i, (name, values) in enumerate(series):
            xs = [x - 0.4 + width * (i + 0.5) for x in range(len(xlabels))]
            heights = [v or 0.0 for v in values]
            ax.bar(xs, heights, width, color=colors[name], alpha=0.35 if rare else 1.0, hatch="//" if rare else None)
            for x, value in zip(xs, values):
                if value == 0.0:  # a zero bar has no height: a marker and its value say it is zero, not missing
                    ax.plot([x], [0.0], marker="v", color=colors[name], markersize=6, clip_on=False)
                    ax.text(x, 0.03, "0", ha="center", va="bottom", fontsize=7, color=colors[name])
        if title.startswith("Agreement"):
            ax.axhline(first["threshold"], color="#d62728", linestyle="--", linewidth=1)
        if rare:
            title = f"{TOO_FEW} (< {first.get('min_count', 1)} base entities: not judged)"
        title = textwrap.fill(title, width=max(16, 9 * len(xlabels)))  # narrow panels: no title runs into the next
        ax.set_xticks(range(len(xlabels)))
        ax.set_xticklabels(xlabels, rotation=45, ha="right", fontsize=8)
        ax.set_ylim(0, 1.05)
        ax.set_title(title, fontsize=9)
    handles = [plt.Rectangle((0, 0), 1, 1, color=colors[name]) for name in colors]
    handles.append(plt.Line2D([0], [0], color="#d62728", linestyle="--", linewidth=1))
    names = list(colors) + [f"threshold {first['threshold']}"]
    fig.suptitle(f"Base {first['base']}, {first['n_docs']} held-out texts", fontsize=9, x=0.01, y=0.99, ha="left", va="top")
    fig.legend(handles, names, loc="upper center", bbox_to_anchor=(0.5, 0.955), ncol=len(names), fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0, 1, 0.92))
    return fig


def plot(runs: List[Run], path: Path) -> None:
    """Write the report's PNG: agreement F (judged labels, and those too few to judge apart), agreement on your texts, gold F1."""
    import matplotlib.pyplot as plt

    fig = figure(runs)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png", dpi=100)
    plt.close(fig)


def main(output: Path, run_dirs: List[Path], plot_path: Optional[Path] = None) -> None:
    runs = [Run(path) for path in run_dirs]
    bases = {run.forgetting["base"] for run in runs}
    inputs = {(run.forgetting["input"], run.forgetting["n_docs"]) for run in runs}
    if len(bases) > 1 or len(inputs) > 1:
        print(f"report.py: warning: runs differ in base pipeline {sorted(bases)} or evaluation text {sorted(inputs)}")
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(render(runs, output.parent), encoding="utf8")
    print(f"Wrote {output}")
    if plot_path is not None:
        plot(runs, plot_path)
        print(f"Wrote {plot_path}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("output", type=Path, help="Markdown file to write")
    parser.add_argument("run_dirs", type=Path, nargs="+", help="One directory per run, named after it")
    parser.add_argument("--plot", type=Path, default=None, help="PNG file to write")
    args = parser.parse_args()
    main(args.output, args.run_dirs, args.plot)
