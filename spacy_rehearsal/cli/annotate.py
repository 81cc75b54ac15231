"""`spacy rehearsal annotate`: pre-annotate raw text with the teacher into a shard cache.

    python -m spacy rehearsal annotate TEACHER INPUT OUTPUT [--engine dask [--scheduler ADDRESS]]

`annotate` writes the teacher's annotations in the shard cache layout (see
`cache.py`), so `cache_dir = OUTPUT` in `rehearsal_reader.v1` or
`rehearsal_callback.v1` reuses them instead of running the teacher again.
With `--engine dask` the shards are Dask tasks (see `dask_engine.py`).
"""
import json
import time
from collections import Counter
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import typer
from spacy.cli._util import Arg, Opt
from tqdm import tqdm
from wasabi import msg, table

from ..data.rawtext import iter_raw_texts
from ..errors import InputError, RehearsalError
from ..teacher.dask_engine import annotate_on_dask, require_dask
from ..teacher.teacher import Teacher
from ._util import check_output_dir, check_positive, fail, rehearsal_cli, split_labels, write_json

ENGINES = ("default", "dask")


@rehearsal_cli.command("annotate")
def annotate_cli(
    # fmt: off
    teacher: str = Arg(..., help="The original pipeline: package name or path"),
    input_path: Path = Arg(..., help="Raw text: .txt (one text a line), .jsonl ({\"text\"}), .spacy, or a directory of them"),
    output_dir: Path = Arg(..., help="Cache directory to write the annotated shards to (use as cache_dir in the config)"),
    n_process: int = Opt(1, "--n-process", "-n", help="Processes for nlp.pipe; with --engine dask, the local cluster's workers"),
    batch_size: int = Opt(256, "--batch-size", "-b", help="Batch size for nlp.pipe"),
    labels: Optional[str] = Opt(None, "--labels", "-l", help="Comma-separated teacher labels to count in the summary (all must be teacher labels); all are stored"),
    summary_path: Optional[Path] = Opt(None, "--summary", "-s", help="Also write the summary to this JSON file (a stable output for spacy project)"),
    engine: str = Opt("default", "--engine", "-e", help="default: nlp.pipe here; dask: each shard a Dask task (pip install \"spacy-rehearsal[dask]\")"),
    scheduler: Optional[str] = Opt(None, "--scheduler", help="With --engine dask: a running Dask scheduler's address (OUTPUT must be reachable by every worker); default: a local cluster"),
    # fmt: on
) -> None:
    """Annotate raw text with the teacher's whole pipeline into a shard cache.

    The output is the cache layout the reader and the callback use: with
    `cache_dir = OUTPUT` they load these shards and never run the teacher on
    these texts again. Shards already in OUTPUT are reused, so running the
    command again is fast. All entities are stored whatever `--labels` says;
    `teacher_labels` in the config chooses what is rehearsed. A bad line in
    INPUT stops the command with its file and line; texts longer than the
    teacher's max_length are skipped and counted, as training skips them.
    """
    try:
        check_positive(n_process=n_process, batch_size=batch_size)
        check_engine(engine, scheduler)
        check_output_dir(output_dir, "OUTPUT")
        if summary_path is not None:
            check_output_dir(summary_path.parent, "--summary")
        summary = annotate(
            teacher, input_path, output_dir, labels=split_labels(labels), n_process=n_process, batch_size=batch_size,
            engine=engine, scheduler=scheduler,
        )
    except RehearsalError as e:
        fail(e)
    _print_annotate_summary(summary)
    if summary_path is not None:
        write_json(summary_path, summary)


def annotate(
    teacher_name: str,
    input_path: Path,
    output_dir: Path,
    *,
    labels: Optional[List[str]] = None,
    n_process: int = 1,
    batch_size: int = 256,
    engine: str = "default",
    scheduler: Optional[str] = None,
) -> Dict[str, Any]:
    """Annotate every text under `input_path` with the teacher, caching shards in `output_dir`.

    teacher_name (str): Package name or path of the teacher pipeline.
    input_path (Path): Raw text file or directory (see `formats.iter_raw_texts`).
    output_dir (Path): The cache directory.
    labels (Optional[List[str]]): Labels to count (None: all). Each must be a
        teacher label, else TeacherError (naming `--labels`).
    n_process (int): Processes for `nlp.pipe`; with the Dask engine and no
        scheduler, the local cluster's worker processes.
    batch_size (int): Batch size for `nlp.pipe`.
    engine (str): "default" (`Teacher.annotate` here) or "dask" (`dask_engine`).
    scheduler (Optional[str]): The Dask scheduler's address; None: a local cluster.
    RETURNS (Dict[str, Any]): Summary: texts, annotated, from_cache, seconds,
        entities per label, skipped, shard_dir.
    """
    n_read = sum(1 for _ in iter_raw_texts(input_path))  # validates the input before loading
    if n_read == 0:
        raise InputError(str(input_path), "raw text holds no texts")
    teacher = Teacher(teacher_name, labels, batch_size=batch_size, n_process=n_process, labels_option="--labels")
    cache = teacher.cache(output_dir, what="OUTPUT")
    assert cache is not None
    before = _shard_records(cache.dir)
    counts: Counter = Counter()
    start = time.perf_counter()
    # Texts over the teacher's max_length are skipped here as in training, so the shards line up.
    stats: Dict[Path, Any] = {}
    raw = iter_raw_texts(input_path, stats, max_chars=teacher.max_chars)
    n_texts = 0
    if engine == "dask":
        run = annotate_on_dask(
            teacher, raw, output_dir, scheduler=scheduler, n_workers=n_process, batch_size=batch_size, total=n_read
        )
        counts.update({label: n for label, n in run.entities.items() if teacher.keep(label)})
        n_texts = run.annotated + run.from_cache
    else:
        docs = teacher.annotate(raw, cache_dir=output_dir, desc="raw texts")
        for doc in tqdm(docs, total=n_read, desc="Annotating", unit="texts"):
            counts.update(e.label_ for e in doc.ents if teacher.keep(e.label_))
            n_texts += 1
    seconds = time.perf_counter() - start
    after = _shard_records(cache.dir)
    annotated = sum(_n_docs(path) for name, (path, mtime) in after.items() if before.get(name, (None, None))[1] != mtime)
    skipped: Counter = Counter()
    for file_stats in stats.values():
        skipped.update(file_stats.skipped)
    return {
        "teacher": teacher_name,
        "input": str(input_path),
        "output": str(output_dir),
        "shard_dir": str(cache.dir),
        "texts": n_texts,
        "annotated": annotated,
        "from_cache": n_texts - annotated,
        "seconds": round(seconds, 2),
        "labels": sorted(labels) if labels is not None else sorted(teacher.all_labels),
        "restricted": labels is not None,
        "entities": {label: counts[label] for label in sorted(counts)},
        "skipped": dict(skipped),
    }


def check_engine(engine: str, scheduler: Optional[str]) -> None:
    """Fail before any work on an unknown engine, a scheduler without Dask, or Dask not installed."""
    if engine not in ENGINES:
        raise typer.BadParameter(f"must be one of {', '.join(ENGINES)}, got {engine!r}", param_hint="--engine")
    if scheduler is not None and engine != "dask":
        raise typer.BadParameter("needs --engine dask", param_hint="--scheduler")
    if engine == "dask":
        require_dask()


def _shard_records(shard_dir: Path) -> Dict[str, Tuple[Path, int]]:
    """The shard records in a cache directory, with their modification times."""
    return {p.name: (p, p.stat().st_mtime_ns) for p in shard_dir.glob("*.json") if p.name != "manifest.json"}


def _n_docs(record_path: Path) -> int:
    try:
        return int(json.loads(record_path.read_text(encoding="utf8")).get("n_docs", 0))
    except (OSError, ValueError):
        return 0


def _print_annotate_summary(summary: Dict[str, Any]) -> None:
    rate = summary["annotated"] / summary["seconds"] if summary["seconds"] and summary["annotated"] else 0.0
    msg.good(
        f"{summary['texts']} texts: {summary['annotated']} annotated by the teacher ({rate:.0f} texts/s), "
        f"{summary['from_cache']} from cache, in {summary['seconds']:.1f}s"
    )
    if summary["skipped"]:
        msg.info("Skipped: " + ", ".join(f"{n} {why}" for why, n in sorted(summary["skipped"].items())))
    # With --labels: every requested label; otherwise the labels found.
    shown = summary["labels"] if summary["restricted"] else list(summary["entities"])
    rows = [(label, summary["entities"].get(label, 0)) for label in shown]
    total = sum(n for _, n in rows)
    print(table(rows + [("total", total)], header=("Label", "Entities"), divider=True, aligns=("l", "r")))
    msg.info(f"Shards in {summary['shard_dir']}")
    msg.text(f"Reuse them with cache_dir = \"{summary['output']}\" in rehearsal_reader.v1 or rehearsal_callback.v1.")
