"""The strategy matrix over data sets: one table and one picture from benchmarks/forgetting.py reports.

    python benchmarks/respect_report.py NAME=REPORT.json [NAME=REPORT.json ...] [--output JSON] [--plot PNG]

Each REPORT is a `benchmarks/forgetting.py` JSON of one data set (its runs of
naive and of the routes); NAME labels its column ("fashion, news raw"). Per
data set and route: new-type F1 (mean ± half-range over seeds) and its
difference from naive's mean, agreement with the original on news and
in-domain, gold PER/ORG/LOC F1, against the issue's targets (component:
F1 >= naive - 0.02, agreement >= 0.95; one model: F1 >= naive - 0.03,
agreement >= 0.93, gold >= the original's - 0.01). Prints the table and the
worst case of each route over the data sets, writes both to --output, and
draws the F1 cost and the agreements per data set to --plot.
"""
import argparse
import json
import statistics
import sys
from pathlib import Path
from typing import Any, Dict, List

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pipeline_speed import versions  # noqa: E402

# route: (what it is, its targets: F1 cost bound, agreement bound, gold bound below the original or None)
TARGETS = {"component": (-0.02, 0.95, None), "one model": (-0.03, 0.93, -0.01)}
STRATEGY = {"component": "component", "component v1": "component"}


def route_rows(report: Dict[str, Any]) -> Dict[str, Dict[str, Any]]:
    """Per config of one report: mean and half-range of each figure over its seeds."""
    runs = report["runs"]
    naive = statistics.mean(r["fashion_brand"]["f"] for r in runs if r["config"] == "naive")
    out = {}
    for name in dict.fromkeys(r["config"] for r in runs):
        rs = [r for r in runs if r["config"] == name]
        values = {
            "f": [r["fashion_brand"]["f"] for r in rs], "news": [r["agreement_conll"]["micro"]["f"] for r in rs],
            "domain": [r["agreement_fashion"]["f"] for r in rs], "gold": [r["gold_conll"]["micro"]["f"] for r in rs],
        }
        row = {k: {"mean": statistics.mean(v), "half_range": (max(v) - min(v)) / 2} for k, v in values.items()}
        row["cost"] = row["f"]["mean"] - naive
        row["seeds"] = sorted(r["seed"] for r in rs)
        out[name] = row
    return out


def meets(name: str, row: Dict[str, Any], original_gold: float) -> bool:
    cost, agreement, gold = TARGETS[STRATEGY.get(name, "one model")]
    ok = row["cost"] >= cost and row["news"]["mean"] >= agreement and row["domain"]["mean"] >= agreement
    return ok and (gold is None or row["gold"]["mean"] >= original_gold + gold)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("reports", nargs="+", help="NAME=REPORT.json, one per data set")
    parser.add_argument("--output", type=Path, default=None)
    parser.add_argument("--plot", type=Path, default=None)
    args = parser.parse_args()
    sets = [spec.split("=", 1) for spec in args.reports]
    reports = {name: json.loads(Path(path).read_text()) for name, path in sets}
    rows = {name: route_rows(report) for name, report in reports.items()}
    routes = [r for r in dict.fromkeys(k for table in rows.values() for k in table) if r != "naive"]
    lines = ["| route | " + " | ".join(rows) + " | worst F1 cost |", "|---|" + "---|" * (len(rows) + 1)]
    lines.append("| naive: new-type F1 | " + " | ".join(f"{t['naive']['f']['mean']:.3f}" for t in rows.values()) + " | |")
    worst: Dict[str, Any] = {}
    for route in routes:
        cells, costs = [], []
        for name, table in rows.items():
            row = table.get(route)
            if row is None:
                cells.append("-")
                continue
            gold0 = reports[name]["original"]["gold_conll"]["micro"]["f"]
            mark = " ✓" if meets(route, row, gold0) else ""
            cells.append(f"{row['cost']:+.3f} (±{row['f']['half_range']:.3f}), {row['news']['mean']:.3f} / "
                         f"{row['domain']['mean']:.3f}, gold {row['gold']['mean']:.3f}{mark}")
            costs.append(row["cost"])
        worst[route] = min(costs) if costs else None
        lines.append(f"| {route} | " + " | ".join(cells) + f" | {worst[route]:+.3f} |")
    table = "\n".join(lines)
    seeds = sorted({s for t in rows.values() for row in t.values() for s in row["seeds"]})
    epochs = sorted({r["epochs"] for r in reports.values()})
    print(f"Seeds {seeds}, {'/'.join(map(str, epochs))} epochs, model-last. Cells: F1 vs naive (± half-range), agreement news / in-domain, "
          f"gold PER/ORG/LOC; ✓ = meets its strategy's targets\n\n{table}")
    if args.output:
        args.output.write_text(json.dumps({
            "command": " ".join(["python", *sys.argv]), "versions": versions(), "reports": dict(sets),
            "seeds": seeds, "epochs": epochs, "rows": rows, "worst_cost": worst, "table": table}, indent=2))
        print(f"Wrote {args.output}")
    if args.plot:
        plot(rows, routes, args.plot, f"seeds {seeds}, {epochs[0]} epochs, model-last")


def plot(rows: Dict[str, Dict[str, Any]], routes: List[str], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(14, 4.2))
    width = 0.8 / len(routes)
    for ax, key, label in ((axes[0], "cost", "new-type F1 minus naive's"), (axes[1], "news", "agreement with the original, news"),
                           (axes[2], "domain", "agreement with the original, in-domain")):
        for i, route in enumerate(routes):
            xs = [j + i * width for j, t in enumerate(rows.values()) if route in t]
            ys = [t[route]["cost"] if key == "cost" else t[route][key]["mean"] for t in rows.values() if route in t]
            err = [t[route]["f" if key == "cost" else key]["half_range"] for t in rows.values() if route in t]
            ax.bar(xs, ys, width, yerr=err, capsize=2, label=route, color=f"C{i}")
        ax.set_xticks([j + 0.4 - width / 2 for j in range(len(rows))])
        ax.set_xticklabels(list(rows), fontsize=8)
        ax.set_title(label, fontsize=9)
        ax.grid(axis="y", alpha=0.3)
        if key == "cost":
            ax.axhline(-0.02, color="grey", ls="--", lw=1)  # the component's target
            ax.axhline(-0.03, color="grey", ls=":", lw=1)  # one model's
        else:
            ax.set_ylim(0.7, 1.0)
            ax.axhline(0.95, color="grey", ls="--", lw=1)
            ax.axhline(0.93, color="grey", ls=":", lw=1)
    axes[0].legend(fontsize=7)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    print(f"Wrote {path}")


if __name__ == "__main__":
    main()
