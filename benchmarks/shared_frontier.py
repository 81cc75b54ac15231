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
# data set -> result files; the first file holding a variant gives its figures, naive's from the same file
NEW_TYPES = {"fashion, news raw": ["shared_devsplit_fashion_news.json", "shared_devsplit_fashion_news_embed.json"],
             "fashion, own corpus raw": ["shared_devsplit_fashion_indomain.json", "shared_devsplit_fashion_indomain_embed.json"],
             "CoNLL MISC": ["shared_devsplit_conll_misc.json", "shared_devsplit_conll_misc_embed.json"]}
CORRECTIONS = ["shared_devsplit_corrections_d3.json", "shared_devsplit_corrections.json", "shared_devsplit_corrections_embed.json",
               "shared_devsplit_corrections_depth.json", "shared_devsplit_corrections_e64.json"]
# variant -> (results config name, pipeline_speed_shared.json name)
NEW_TYPE_VARIANTS = {"own features (shipped)": ("component own", "new types, own features (shipped)"),
                     "shared embedding, 2 own layers": ("component embed", "new types, shared embedding"),
                     "shared features": ("component", "new types, shared features")}
CORRECTION_VARIANTS = {
    "own features, all 4 layers (shipped)": ("component own", "corrections, own features (shipped)"),
    "own features, 3 of 4 layers": ("component d3", "corrections, own features, 3 layers"),
    "shared embedding, 4 own layers": ("component embed", "corrections, shared embedding"),
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
        for data, names in NEW_TYPES.items():
            summary = next(s for s in (load(n)["summary"] for n in names if (RESULTS / n).exists()) if config in s)
            cells[data] = {"f1_vs_naive": round(summary[config]["fashion_f"] - summary["naive"]["fashion_f"], 3),
                           "agreement": summary[config]["agreement_f"],
                           "train_vs_naive": round(summary[config]["train_seconds"] / summary["naive"]["train_seconds"], 2)}
        rows.append({"route": "new type", "variant": variant, "speed": speed[speed_name]["speed_ratio"], "cells": cells,
                     "worst_f1_vs_naive": min(c["f1_vs_naive"] for c in cells.values()),
                     "worst_agreement": min(c["agreement"] for c in cells.values())})
    corrections, naive_train = {}, {}
    for name in CORRECTIONS:  # the first file that has a variant wins (the e64 file has one seed)
        summaries = load(name)["summary"].values()
        naive = next(s["train_seconds"]["mean"] for s in summaries if s["method"] == "naive")
        for summary in summaries:
            if summary["method"] not in corrections:
                corrections[summary["method"]], naive_train[summary["method"]] = summary, naive
    for variant, (config, speed_name) in CORRECTION_VARIANTS.items():
        s = corrections[config]
        rows.append({"route": "corrections (500)", "variant": variant, "speed": speed[speed_name]["speed_ratio"],
                     "seeds": s["seeds"], "share_of_naive_gain": s["share_of_naive_gain"],
                     "worst_seed_share": s["worst_seed"]["share_of_naive_gain"],
                     "agreement_news": s["agreement_f"]["mean"], "agreement_fashion": s["agreement_domain_f"]["mean"],
                     "train_vs_naive": round(s["train_seconds"]["mean"] / naive_train[config], 2)})
    print("| route | variant | speed (x base) | quality (worst case) | kept agreement (worst) | train time vs naive |\n|---|---|---|---|---|---|")
    for row in rows:
        if row["route"] == "new type":
            quality, agree = f"new-type F1 {row['worst_f1_vs_naive']:+.3f} vs naive", f"{row['worst_agreement']:.3f}"
            train = " / ".join(f"{c['train_vs_naive']:.2f}" for c in row["cells"].values())
        else:
            quality = f"{row['share_of_naive_gain']:.2f} of naive's gain (worst seed {row['worst_seed_share']:.2f}; {len(row['seeds'])} seeds)"
            agree = f"{min(row['agreement_news'], row['agreement_fashion']):.3f}"
            train = f"{row['train_vs_naive']:.2f}"
        print(f"| {row['route']} | {row['variant']} | {row['speed']:.3f} | {quality} | {agree} | {train} |")
    from pipeline_speed import versions

    report = {"command": "python benchmarks/shared_frontier.py", "versions": versions(), "rows": rows,
              "speed": "pipeline_speed_shared.json", "inputs": [*(n for names in NEW_TYPES.values() for n in names), *CORRECTIONS]}
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
        for i, row in enumerate(r for r in rows if r["route"] == route):
            ax.scatter(row["speed"], row[key], s=50, marker="s" if "shipped" in row["variant"] else "o")
            value = f"{row[key]:+.2f}" if key.startswith("worst") else f"{row[key]:.2f}"
            ax.annotate(f"{row['variant']}\n({row['speed']:.2f}x, {value})", (row["speed"], row[key]),
                        fontsize=7, xytext=(4, 4 if i % 2 else -20), textcoords="offset points")
        ax.axvline(0.95, ls="--", c="grey")
        ax.axhline(target, ls="--", c="grey")
        ax.set_xlabel("words per second, ratio to the base (same run)")
        ax.set_ylabel(label)
        ax.set_title(f"{route}: the target is the top right corner", fontsize=9)
        ax.set_xlim(0.7, 1.02)
        lowest = min(r[key] for r in rows if r["route"] == route)
        ax.set_ylim(lowest - 0.08, ax.get_ylim()[1] + 0.02)
    fig.tight_layout()
    fig.savefig(args.plot, dpi=110)
    print(f"Wrote {args.plot}")


if __name__ == "__main__":
    main()
