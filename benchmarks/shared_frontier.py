"""Issue 32's frontier: inference speed against quality for the component route's variants, from saved results.

    python benchmarks/shared_frontier.py [--output benchmarks/results/shared_frontier.json] [--plot docs/shared_frontier.png]

Reads the dev-split results of forgetting.py (new types: fashion with news raw
text, fashion with its own corpus as raw text, CoNLL MISC) and corrections.py
(500 corrections), and pipeline_speed_shared.json (words per second as a ratio
to the base, same run). Prints one table: for each variant, its speed and its
worst case over the new-type data sets (F1 against naive's, agreement) or its
corrections gain share and kept agreement; writes it as JSON and draws it.
"""
import argparse
import json
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
NEW_TYPES = {"fashion, news raw": "shared_devsplit_fashion_news.json", "fashion, own corpus raw": "shared_devsplit_fashion_indomain.json",
             "CoNLL MISC": "shared_devsplit_conll_misc.json"}
CORRECTIONS = ["shared_devsplit_corrections.json", "shared_devsplit_corrections_e64.json"]
# variant -> (results config name, pipeline_speed_shared.json name)
NEW_TYPE_VARIANTS = {"own features (shipped)": ("component own", "new types, own features (shipped)"),
                     "shared features": ("component", "new types, shared features")}
CORRECTION_VARIANTS = {
    "own features (shipped)": ("component own", "corrections, own features (shipped)"),
    "shared features": ("component", "corrections, shared features"),
    "shared + 1 window layer": ("component a1", "corrections, shared + 1 window layer"),
    "shared + 1 position-wise layer": ("component a1w0", "corrections, shared + 1 position-wise layer"),
    "shared + own 64-wide embedding": ("component e64", "corrections, shared + own 64-wide embedding"),
}


def load(name: str) -> dict:
    return json.loads((RESULTS / name).read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", type=Path, default=RESULTS / "shared_frontier.json")
    parser.add_argument("--plot", type=Path, default=Path(__file__).resolve().parent.parent / "docs" / "shared_frontier.png")
    args = parser.parse_args()
    speed = load("pipeline_speed_shared.json")["results"]
    rows = []
    for variant, (config, speed_name) in NEW_TYPE_VARIANTS.items():
        cells = {}
        for data, name in NEW_TYPES.items():
            summary = load(name)["summary"]
            cells[data] = {"f1_vs_naive": round(summary[config]["fashion_f"] - summary["naive"]["fashion_f"], 3),
                           "agreement": summary[config]["agreement_f"]}
        rows.append({"route": "new type", "variant": variant, "speed": speed[speed_name]["speed_ratio"], "cells": cells,
                     "worst_f1_vs_naive": min(c["f1_vs_naive"] for c in cells.values()),
                     "worst_agreement": min(c["agreement"] for c in cells.values())})
    corrections = {}
    for name in CORRECTIONS:  # the first file that has a variant wins (the e64 file has one seed)
        for summary in load(name)["summary"].values():
            corrections.setdefault(summary["method"], summary)
    for variant, (config, speed_name) in CORRECTION_VARIANTS.items():
        s = corrections[config]
        rows.append({"route": "corrections (500)", "variant": variant, "speed": speed[speed_name]["speed_ratio"],
                     "seeds": s["seeds"], "share_of_naive_gain": s["share_of_naive_gain"],
                     "worst_seed_share": s["worst_seed"]["share_of_naive_gain"],
                     "agreement_news": s["agreement_f"]["mean"], "agreement_fashion": s["agreement_domain_f"]["mean"]})
    print("| route | variant | speed (x base) | quality (worst case) | kept agreement (worst) |\n|---|---|---|---|---|")
    for row in rows:
        if row["route"] == "new type":
            quality, agree = f"new-type F1 {row['worst_f1_vs_naive']:+.3f} vs naive", f"{row['worst_agreement']:.3f}"
        else:
            quality = f"{row['share_of_naive_gain']:.2f} of naive's gain ({len(row['seeds'])} seed{'s' * (len(row['seeds']) > 1)})"
            agree = f"{min(row['agreement_news'], row['agreement_fashion']):.3f}"
        print(f"| {row['route']} | {row['variant']} | {row['speed']:.3f} | {quality} | {agree} |")
    from pipeline_speed import versions

    report = {"command": "python benchmarks/shared_frontier.py", "versions": versions(), "rows": rows,
              "speed": "pipeline_speed_shared.json", "inputs": [*NEW_TYPES.values(), *CORRECTIONS]}
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    print(f"Wrote {args.output}")
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for ax, route, key, label, target in (
        (axes[0], "new type", "worst_f1_vs_naive", "new-type F1 minus naive's (worst of 3 data sets)", -0.02),
        (axes[1], "corrections (500)", "share_of_naive_gain", "share of naive's corrections gain", 0.97),
    ):
        for row in (r for r in rows if r["route"] == route):
            ax.scatter(row["speed"], row[key], s=50, marker="s" if "own" in row["variant"] and "embedding" not in row["variant"] else "o")
            value = f"{row[key]:+.2f}" if key.startswith("worst") else f"{row[key]:.2f}"
            ax.annotate(f"{row['variant']}\n({row['speed']:.2f}x, {value})", (row["speed"], row[key]),
                        fontsize=7, xytext=(4, 4), textcoords="offset points")
        ax.axvline(0.95, ls="--", c="grey")
        ax.axhline(target, ls="--", c="grey")
        ax.set_xlabel("words per second, ratio to the base (same run)")
        ax.set_ylabel(label)
        ax.set_title(f"{route}: the target is the top right corner", fontsize=9)
        ax.set_xlim(0.7, 1.0)
    fig.tight_layout()
    fig.savefig(args.plot, dpi=110)
    print(f"Wrote {args.plot}")


if __name__ == "__main__":
    main()
