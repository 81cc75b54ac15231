"""Speed against quality for the taught NER's sizes and its students (issue 38): a table and docs/student_frontier.png.

    python benchmarks/student_frontier.py [--speed benchmarks/results/pipeline_speed_students_devsplit.json]
                                          [--output benchmarks/results/student_frontier.json] [--plot docs/student_frontier.png]

Reads what the other benchmarks wrote, on dev splits carved from the training
data: the speed of seed 0's pipelines (`pipeline_speed.py`, the median of the
rounds' paired ratios and the best-of ratio), FASHION_BRAND F1 with news raw
text (`students.py --scenario news`, `forgetting.py --dev-split`) and the
share of naive's gain for 500 corrections (`students.py --scenario corrections`).
"""
import argparse
import json
import sys
from pathlib import Path
from typing import Any, Dict, List

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
sys.path.insert(0, str(ROOT / "benchmarks"))
from pipeline_speed import versions  # noqa: E402

from spacy_rehearsal.scoring import format_table  # noqa: E402

# (route, name in the speed file, quality file, its variant, metric)
POINTS = [
    ("new type", "new type: taught NER", "students_news_devsplit.json", "teacher", "f1"),
    ("new type", "new type: small taught NER", "small_taught_devsplit_fashion_news.json", "component", "fashion_f"),
    ("new type", "new type: w64-h64", "students_news_devsplit.json", "w64-d1-r2000-h64", "f1"),
    ("new type", "new type: w64-h32", "students_news_devsplit.json", "w64-d1-r2000-h32", "f1"),
    ("new type", "new type: w48-h32", "students_news_devsplit.json", "w48-d1-r2000-h32", "f1"),
    ("corrections", "corrections: taught NER", "students_corrections_devsplit.json", "teacher", "share"),
    ("corrections", "corrections: w64-h64", "students_corrections_devsplit.json", "w64-d1-r2000-h64", "share"),
    ("corrections", "corrections: w64-h32", "students_corrections_devsplit.json", "w64-d1-r2000-h32", "share"),
    ("corrections", "corrections: w48-h32", "students_corrections_devsplit.json", "w48-d1-r2000-h32", "share"),
]


def quality(file: str, variant: str, metric: str) -> Dict[str, float]:
    summary = json.loads((RESULTS / file).read_text())["summary"][variant]
    cell = summary[metric]
    if isinstance(cell, dict) and "mean" in cell:  # students.py: mean and worst seed
        return {"mean": cell["mean"], "worst": cell["worst"]}
    return {"mean": cell, "worst": min(summary["values"][metric])}  # forgetting.py: mean and the seeds' values


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--speed", type=Path, default=RESULTS / "pipeline_speed_students_devsplit.json")
    parser.add_argument("--output", type=Path, default=RESULTS / "student_frontier.json")
    parser.add_argument("--plot", type=Path, default=ROOT / "docs" / "student_frontier.png")
    args = parser.parse_args()
    speed = json.loads(args.speed.read_text())["results"]
    points: List[Dict[str, Any]] = []
    for route, name, file, variant, metric in POINTS:
        if name not in speed:
            continue
        points.append({"route": route, "pipeline": name, "speed_best": speed[name]["speed_ratio"],
                       "speed_paired": speed[name]["paired_ratio"], **quality(file, variant, metric), "file": file})
    table = format_table(["pipeline", "speed (median of rounds / best of each)", "quality: mean (worst seed)"], [
        [p["pipeline"], f"{p['speed_paired']:.3f}x / {p['speed_best']:.3f}x", f"{p['mean']:.3f} ({p['worst']:.3f})"] for p in points])
    print(table)
    args.output.write_text(json.dumps({"command": " ".join(["python", *sys.argv]), "versions": versions(),
                                       "speed_file": str(args.speed), "points": points, "table": table}, indent=2) + "\n")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for ax, route, ylabel in ((axes[0], "new type", "FASHION_BRAND F1 (dev split, news raw text)"),
                              (axes[1], "corrections", "share of naive's gain (500 corrections, dev split)")):
        for p in (p for p in points if p["route"] == route):
            ax.errorbar(p["speed_paired"], p["mean"], yerr=[[p["mean"] - p["worst"]], [0]], fmt="o", capsize=3)
            label = p["pipeline"].split(": ", 1)[1]
            ax.annotate(label if "taught" in label else f"student {label}", (p["speed_paired"], p["mean"]), fontsize=8,
                        xytext=(4, 4), textcoords="offset points")
        ax.axvline(0.90, color="grey", linestyle="--", linewidth=0.8)
        ax.set_xlabel("words per second, x the base (median of paired rounds)")
        ax.set_ylabel(ylabel)
        ax.set_title(route)
    fig.suptitle("The taught NER's size: speed against quality (bars down to the worst seed)")
    fig.tight_layout()
    fig.savefig(args.plot, dpi=110)
    print(f"Wrote {args.output} and {args.plot}")


if __name__ == "__main__":
    main()
