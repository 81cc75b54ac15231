"""Running `spacy train` on a tiny config in the test process, and reading what it printed."""
import json
import re
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

from conftest import FASHION_EVAL, FASHION_TRAIN, ROOT
from spacy.cli.train import train
from spacy.util import load_config

BRAND = "FASHION_BRAND"
FAIL_ICON = "✘"


def fashion_records(path: Path = FASHION_TRAIN, n: int = 20) -> List[dict]:
    """The first `n` records of a fashion brands file."""
    with path.open(encoding="utf8") as f:
        return [json.loads(line) for _, line in zip(range(n), f)]


def write_jsonl(path: Path, records: List[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf8")
    return path


def tiny_data(tmp: Path) -> Dict[str, Path]:
    """20 training and 10 dev fashion records and 40 raw sentences: a run of a few seconds."""
    raw = tmp / "raw.txt"
    raw.write_text("".join(f"Apple opened store number {i} in Paris on Monday.\n" for i in range(40)), encoding="utf8")
    return {
        "train": write_jsonl(tmp / "train.jsonl", fashion_records(FASHION_TRAIN, 20)),
        "dev": write_jsonl(tmp / "dev.jsonl", fashion_records(FASHION_EVAL, 10)),
        "raw": raw,
        "cache": tmp / "cache",
    }


def write_config(
    tmp: Path, base_model: str, *, edit: Optional[Callable[[Any], None]] = None, name: str = "config.cfg",
    source: str = "reader.cfg",
) -> Path:
    """A config of configs/ (reader.cfg) for one short epoch, optionally edited (e.g. a callback added)."""
    config = load_config(ROOT / "configs" / source, interpolate=False)
    config["paths"]["base"] = base_model
    config["training"]["max_epochs"] = 1
    config["training"]["eval_frequency"] = 1000
    config["training"]["batcher"]["size"]["rate"] = 300
    if edit is not None:
        edit(config)
    path = tmp / name
    config.to_disk(path, interpolate=False)
    return path


def add_callback(config: Any, **args: Any) -> None:
    """Add rehearsal_callback.v1 (small batches, few held out) and rehearsal_logger.v1."""
    config["training"]["before_update"] = {
        "@callbacks": "rehearsal_callback.v1",
        "teacher": "${paths.base}",
        "raw_path": "${paths.raw}",
        "batch_size": 4,
        "heldout_size": 5,
        "cache_dir": "${paths.cache}",
        **args,
    }


def run_train(config: Path, out: Path, capsys, **paths: Optional[Path]) -> Tuple[int, str]:
    """`spacy train` in this process: (exit code, everything printed)."""
    overrides = {f"paths.{name}": str(value) if value is not None else None for name, value in paths.items()}
    try:
        train(config, out, overrides=overrides)
        code = 0
    except SystemExit as e:
        code = int(e.code or 0)
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def flat(text: str) -> str:
    """Printed text without colour codes and with wasabi's line wrapping undone."""
    return " ".join(re.sub(r"\x1b\[[0-9;]*m", "", text).split())


def failure_messages(output: str) -> List[str]:
    """The `✘` messages in the output, each unwrapped to one line."""
    plain = re.sub(r"\x1b\[[0-9;]*m", "", output)
    return [" ".join(block.split()) for block in re.findall(rf"{FAIL_ICON}[^{FAIL_ICON}]*?(?=\n\s*\n|\Z)", plain)]
