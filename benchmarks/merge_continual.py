"""Merge two `continual_conll.py` reports of the same methods and setting, run on different seeds, into one.

    python benchmarks/merge_continual.py FIRST.json LATER.json OUTPUT.json PLOT.png

`--carry` joins only the chains of methods a run does not name; this joins the seeds of the same methods
(FG-1-PG-1), recomputes the summary and tables, and plots them.
"""
import json
import shlex
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from continual_report import plot, report_tables, summarize  # noqa: E402

if len(sys.argv) != 5:
    raise SystemExit(__doc__)
first, later, out, png = map(Path, sys.argv[1:5])
a, b = json.loads(first.read_text()), json.loads(later.read_text())
setting = "fg-1-pg-1"
chains = sorted(a["settings"][setting]["chains"] + b["settings"][setting]["chains"], key=lambda c: (c["method"] != "joint", c["seed"]))
summary = summarize(chains)
report = dict(b)
report["command"] = shlex.join(["python", "benchmarks/merge_continual.py", *sys.argv[1:]]) + "  # seeds of: " + a["command"] + "  AND  " + b["command"]
report["seeds"] = sorted({c["seed"] for c in chains})
report["settings"] = {setting: {**b["settings"][setting], "summary": summary, "chains": chains, "tables": report_tables(setting, chains, summary, {})}}
out.write_text(json.dumps(report, indent=2, default=str))
plot(report, png)
print(report["settings"][setting]["tables"][:1200])
