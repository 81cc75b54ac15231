"""Benchmark-only logger: the configured logger, plus per-label dev scores at every evaluation.

Loaded with `spacy train ... --code benchmarks/curve_logger.py` by forgetting.py, which
wraps each run's own `[training.logger]` in it to record learning curves.
"""
import sys
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

import srsly
from spacy.util import registry


@registry.loggers("benchmark_curve_logger.v1")
def create_curve_logger(path: str, labels: List[str], logger: Callable) -> Callable:
    """Call `logger` as configured and append {"epoch", "step", "score", label: P/R/F} to `path` (JSONL)."""

    def setup(nlp, stdout=sys.stdout, stderr=sys.stderr):
        log_step, finalize = logger(nlp, stdout, stderr)
        out = Path(path)
        out.parent.mkdir(parents=True, exist_ok=True)
        stream = out.open("w", encoding="utf8")

        def log(info: Optional[Dict[str, Any]]) -> None:
            log_step(info)
            if info is None:
                return
            per_type = info["other_scores"].get("ents_per_type") or {}
            row = {"epoch": info["epoch"], "step": info["step"], "score": float(info["score"])}
            for label in labels:
                row[label] = {k: float(v) for k, v in per_type.get(label, {"p": 0.0, "r": 0.0, "f": 0.0}).items()}
            stream.write(srsly.json_dumps(row) + "\n")
            stream.flush()

        def close() -> None:
            finalize()
            stream.close()

        return log, close

    return setup
