"""`spacy rehearsal annotate --engine dask`: the default engine's shards, from 2 Dask workers, resumed after a kill.

The commands run through spaCy's real CLI on CoNLL sentences with the real
SHARD_SIZE: two full shards and a partial one.
"""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Dict, Tuple

import distributed  # the test extra installs Dask
import pytest
from conftest import CONLL_TRAIN, conll_texts
from spacy.tokens import DocBin
from spacy.vocab import Vocab

from spacy_rehearsal.data.formats import iter_raw_texts
from spacy_rehearsal.teacher.dask_engine import annotate_with_dask
from spacy_rehearsal.teacher.teacher import SHARD_SIZE, Teacher

N_TEXTS = 2 * SHARD_SIZE + 250


def run_cli(*args: object, env_extra: dict = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, ANSI_COLORS_DISABLED="1", **(env_extra or {}))
    cmd = [sys.executable, "-m", "spacy", "rehearsal", *map(str, args)]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)


def annotate(base_model: str, raw: Path, out: Path, *options: object) -> dict:
    """Run `spacy rehearsal annotate` and return its summary (and its output as "_output")."""
    summary_path = out.parent / f"{out.name}-summary.json"
    proc = run_cli("annotate", base_model, raw, out, "--summary", summary_path, *options)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    summary = json.loads(summary_path.read_text(encoding="utf8"))
    summary["_output"] = proc.stdout + proc.stderr
    return summary


def shard_dir(out: Path) -> Path:
    (directory,) = [p for p in out.iterdir() if p.is_dir()]
    return directory


def files_of(out: Path) -> Dict[str, bytes]:
    """Every file of the cache: the manifest, each shard and its record (which holds the shard's sha256)."""
    return {p.name: p.read_bytes() for p in shard_dir(out).iterdir()}


def records_of(out: Path) -> Dict[str, dict]:
    """Per shard key: its record (fingerprint, key, n_docs, sha256)."""
    return {p.stem: json.loads(p.read_text()) for p in shard_dir(out).glob("*.json") if p.name != "manifest.json"}


def entities_of(out: Path) -> Dict[str, list]:
    """Per shard key: the tokens and entities of each doc."""
    shards = {p.stem: DocBin().from_disk(p).get_docs(Vocab()) for p in shard_dir(out).glob("*.spacy")}
    return {key: [([t.text for t in d], [(e.start, e.end, e.label_) for e in d.ents]) for d in docs] for key, docs in shards.items()}


@pytest.fixture(scope="module")
def raw_file(conll_data, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("raw") / "conll.txt"
    path.write_text("".join(item.text + "\n" for item in conll_texts(CONLL_TRAIN, N_TEXTS)), encoding="utf8")
    return path


@pytest.fixture(scope="module")
def default_run(base_model, raw_file, tmp_path_factory) -> Tuple[Path, dict]:
    out = tmp_path_factory.mktemp("default") / "cache"
    return out, annotate(base_model, raw_file, out)


@pytest.fixture(scope="module")
def dask_run(base_model, raw_file, tmp_path_factory) -> Tuple[Path, dict]:
    out = tmp_path_factory.mktemp("dask") / "cache"
    return out, annotate(base_model, raw_file, out, "--engine", "dask", "--n-process", 2)


@pytest.fixture(scope="module")
def cluster():
    """A user's cluster: 2 worker processes, reached by its scheduler address."""
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster:
        yield cluster


def test_dask_writes_the_default_engines_shards(base_model, raw_file, default_run, dask_run, monkeypatch):
    (default_out, default_summary), (dask_out, dask_summary) = default_run, dask_run
    records = records_of(dask_out)
    assert sorted(r["n_docs"] for r in records.values()) == [250, SHARD_SIZE, SHARD_SIZE]
    assert entities_of(dask_out) == entities_of(default_out)
    assert files_of(dask_out) == files_of(default_out)  # same keys, records, checksums, bytes
    for summary in (default_summary, dask_summary):
        assert (summary["texts"], summary["annotated"], summary["from_cache"]) == (N_TEXTS, N_TEXTS, 0)
    assert dask_summary["entities"] == default_summary["entities"] and sum(dask_summary["entities"].values()) > 1000
    assert f"{N_TEXTS}/{N_TEXTS}" in dask_summary["_output"]  # the progress bar counted every shard

    # The reader's teacher finds every shard: it runs no text through the pipeline.
    teacher = Teacher(base_model)
    monkeypatch.setattr(teacher.nlp, "pipe", lambda *a, **k: pytest.fail("the teacher annotated a cached text"))
    docs = list(teacher.annotate(iter_raw_texts(raw_file), cache_dir=dask_out))
    assert len(docs) == N_TEXTS and sum(len(d.ents) for d in docs) == sum(dask_summary["entities"].values())


def test_rerun_after_a_kill_annotates_only_the_missing_shards(base_model, raw_file, dask_run, cluster, tmp_path):
    out = tmp_path / "cache"
    shutil.copytree(dask_run[0], out)
    before = files_of(out)
    by_size = {record["n_docs"]: key for key, record in records_of(out).items()}
    full, partial = by_size[SHARD_SIZE], by_size[250]
    # A killed run: one full shard never written, the partial one written without its record.
    (shard_dir(out) / f"{full}.spacy").unlink()
    (shard_dir(out) / f"{full}.json").unlink()
    (shard_dir(out) / f"{partial}.json").unlink()
    kept = [p for p in shard_dir(out).iterdir() if p.stem not in (full, partial)]
    stamps = {p: p.stat().st_mtime_ns for p in kept}

    summary = annotate(base_model, raw_file, out, "--engine", "dask", "--scheduler", cluster.scheduler_address)
    assert (summary["annotated"], summary["from_cache"]) == (SHARD_SIZE + 250, SHARD_SIZE)
    assert {p: p.stat().st_mtime_ns for p in kept} == stamps  # complete shards untouched
    assert files_of(out) == before


def _fail_next_save() -> None:
    """On a worker: its next `ShardCache.save` raises once, as a full disk or a lost mount would."""
    from spacy_rehearsal.teacher import cache

    real = cache.ShardCache.save
    failures = []

    def save(self, *args, **kwargs):
        if not failures:
            failures.append(1)
            raise OSError("shared file system went away (test)")
        return real(self, *args, **kwargs)

    save.failures, save.real = failures, real
    cache.ShardCache.save = save


def _restore_save() -> int:
    """On a worker: put back the real `ShardCache.save`; RETURNS the failures it raised."""
    from spacy_rehearsal.teacher import cache

    patched = cache.ShardCache.save
    cache.ShardCache.save = patched.real
    return len(patched.failures)


def test_a_failed_task_is_retried(base_model, conll_data, cluster, tmp_path):
    items = conll_texts(CONLL_TRAIN, 300)
    with distributed.Client(cluster) as client:
        client.run(_fail_next_save)
        try:
            run = annotate_with_dask(client, Teacher(base_model), items, tmp_path, progress=False)
        finally:
            failures = client.run(_restore_save)
    assert sum(failures.values()) >= 1
    assert (run.shards, run.annotated, run.from_cache) == (1, 300, 0)
    assert len(list(shard_dir(tmp_path).glob("*.spacy"))) == 1


def test_without_dask_the_engine_says_what_to_install(base_model, raw_file, tmp_path):
    # A `distributed` package that cannot be imported shadows the real one.
    fake = tmp_path / "site" / "distributed"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ImportError('dask.distributed is not installed (test)')\n")
    pythonpath = os.pathsep.join(filter(None, [str(tmp_path / "site"), os.environ.get("PYTHONPATH")]))
    out = tmp_path / "cache"
    proc = run_cli("annotate", base_model, raw_file, out, "--engine", "dask", env_extra={"PYTHONPATH": pythonpath})
    assert proc.returncode == 1
    lines = (proc.stdout + proc.stderr).strip().splitlines()
    assert lines == ['✘ --engine dask needs Dask: pip install "spacy-rehearsal[dask]"']
    assert not out.exists()
