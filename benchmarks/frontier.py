"""The forgetting frontier: the new label's F1 against agreement with the original, one point per config.

    python benchmarks/frontier.py RESULTS.json [MORE.json ...] --output frontier.png [--title TEXT]
                                  [--agreement agreement_f|fashion_agreement_f]

Reads the `summary` of benchmarks/forgetting.py results (the mean over seeds of
every config, and its per-seed values for the bars: min to max) and draws
every config of every file on one chart, the component strategy's points as
squares, the soft-target (distill) routes as stars and the other one-model
routes as circles ("rehearsal", the shipped recipe, is a soft-target route). The dashed lines are issue 16's targets: FASHION_BRAND F1
at naive's mean minus 0.02, agreement 0.93. Prints the points it drew.
"""
import argparse
import json
from pathlib import Path
from typing import Dict, List, Tuple


def points(paths: List[Path], agreement: str) -> Tuple[Dict[str, Dict[str, float]], float]:
    """Config -> x/y means and ranges over seeds (first file wins), and naive's mean F1."""
    out: Dict[str, Dict[str, float]] = {}
    naive = None
    for path in paths:
        report = json.loads(path.read_text())
        for name, summary in report["summary"].items():
            values = summary["values"]
            if name == "naive" and naive is None:
                naive = summary["fashion_f"]
            if name in out or not any(values[agreement]):
                continue
            out[name] = {
                "x": summary[agreement], "x_lo": min(values[agreement]), "x_hi": max(values[agreement]),
                "y": summary["fashion_f"], "y_lo": min(values["fashion_f"]), "y_hi": max(values["fashion_f"]),
            }
    if naive is None:
        raise SystemExit("no 'naive' config in the inputs: its F1 is the target's reference")
    return out, naive


def kind(name: str) -> str:
    if name.startswith("component"):
        return "component"
    # "rehearsal" is the shipped --strategy rehearsal config: soft targets
    return "distill" if "distill" in name or name == "rehearsal" else "one model"


def plot(data: Dict[str, Dict[str, float]], naive: float, output: Path, title: str, agreement: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    style = {"component": ("s", "tab:green"), "distill": ("*", "tab:red"), "one model": ("o", "tab:blue")}
    fig, ax = plt.subplots(figsize=(8.5, 5.5))
    placed: List[Tuple[float, float]] = []
    for name, p in sorted(data.items(), key=lambda item: (item[1]["x"], item[1]["y"])):
        marker, colour = style[kind(name)]
        ax.errorbar(
            p["x"], p["y"], xerr=[[p["x"] - p["x_lo"]], [p["x_hi"] - p["x"]]], yerr=[[p["y"] - p["y_lo"]], [p["y_hi"] - p["y"]]],
            fmt=marker, color=colour, markersize=11 if marker == "*" else 7, capsize=2, elinewidth=0.8,
        )
        # Nudge a label up while it would sit on one already placed nearby
        dy = 4
        while any(abs(p["x"] - x) < 0.025 and abs(p["y"] + dy / 900 - y) < 0.004 for x, y in placed):
            dy += 9
        placed.append((p["x"], p["y"] + dy / 900))
        ax.annotate(name, (p["x"], p["y"]), textcoords="offset points", xytext=(5, dy), fontsize=7.5)
    ax.axhline(naive - 0.02, ls="--", lw=0.8, color="grey")
    ax.axvline(0.93, ls="--", lw=0.8, color="grey")
    ax.text(0.931, naive - 0.019, "target", fontsize=8, color="grey")
    for k, (marker, colour) in style.items():
        ax.plot([], [], marker, color=colour, label=k)
    ax.legend(loc="lower left", fontsize=8)
    where = "in-domain" if agreement == "fashion_agreement_f" else "CoNLL"
    ax.set_xlabel(f"agreement with the original pipeline, {where} (F, old types)")
    ax.set_ylabel("FASHION_BRAND F1")
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    output.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(output, dpi=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("inputs", nargs="+", type=Path)
    parser.add_argument("--output", type=Path, required=True)
    parser.add_argument("--title", default="New-label F1 against agreement, 4 seeds (bars: min to max)")
    parser.add_argument("--agreement", default="agreement_f", choices=["agreement_f", "fashion_agreement_f"])
    args = parser.parse_args()
    data, naive = points(args.inputs, args.agreement)
    for name, p in sorted(data.items(), key=lambda item: item[1]["x"]):
        print(f"{name:28} agreement {p['x']:.3f}  F1 {p['y']:.3f}  ({kind(name)})")
    print(f"naive F1 {naive:.3f}; target F1 >= {naive - 0.02:.3f}, agreement >= 0.93")
    plot(data, naive, args.output, args.title, args.agreement)
    print(f"Wrote {args.output}")


if __name__ == "__main__":
    main()
