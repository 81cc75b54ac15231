"""One `python -m spacy train` run of a benchmark, skipped when a finished run has the same signature."""
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

import srsly
from confection import Config

THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS")


def apply_overrides(config: Config, overrides: Dict[str, Any]) -> Config:
    """Set dotted keys ("training.before_update.batch_size") of `config` in place; RETURNS it."""
    for key, value in overrides.items():
        *sections, name = key.split(".")
        node = config
        for part in sections:
            node = node[part]
        node[name] = value
    return config


def run(cmd: List[str], log: Optional[Path] = None, env: Optional[Dict[str, str]] = None) -> float:
    """Run a command (its output to `log`, if given); RETURNS its wall time in seconds."""
    start = time.perf_counter()
    if log is None:
        subprocess.run(cmd, check=True, env=env)
    else:
        with log.open("w") as f:
            proc = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT, env=env)
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed, see {log}")
    return time.perf_counter() - start


def train_once(
    config: Config, out: Path, cli: List[str], *, reuse: bool, threads: Optional[int] = None,
    signature_extra: Optional[Dict[str, Any]] = None, fields: Optional[Dict[str, Any]] = None,
) -> Dict[str, Any]:
    """Train `config` into `out` with the CLI overrides `cli`, unless `reuse` and a finished run matches.

    The signature is the config text, the overrides and `signature_extra` (e.g. a digest of the data).
    threads: BLAS/OpenMP threads of the child (set when several trainings run at once).
    RETURNS: the run's result ({"model", "train_seconds", **fields}), as stored in out/result.json
    (scores added to it later are kept there and returned on reuse).
    """
    signature = {"config": config.to_str(interpolate=False), "args": cli, **(signature_extra or {})}
    done = out / "result.json"
    if reuse and done.exists() and srsly.read_json(done).get("signature") == signature:
        print(f"  reused {out}", flush=True)
        return srsly.read_json(done)["result"]
    out.mkdir(parents=True, exist_ok=True)
    config.to_disk(out / "config.cfg", interpolate=False)
    env = {**os.environ, **({k: str(threads) for k in THREAD_VARS} if threads else {})}
    seconds = run([sys.executable, "-m", "spacy", "train", str(out / "config.cfg"), "--output", str(out), *cli], out / "train.log", env)
    print(f"  trained {out} in {seconds:.0f}s", flush=True)
    result = {**(fields or {}), "train_seconds": round(seconds, 1), "model": str(out / "model-last")}
    srsly.write_json(done, {"signature": signature, "result": result})
    return result
