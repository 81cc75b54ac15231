"""The shard cache stays correct when two runs share it at once, when a writer is killed mid-shard,
and when a shard's data file is replaced by another valid shard's.

The runs are real processes annotating CoNLL sentences with the base pipeline
into one cache directory, with shards of 10 texts.
"""
import hashlib
import json
import logging
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import List

import pytest
from conftest import CONLL_TRAIN, as_tuples, conll_texts

import spacy_rehearsal.teacher.teacher as teacher_module
from spacy_rehearsal.data.formats import RawText
from spacy_rehearsal.teacher.cache import STALE_TMP_SECONDS, shard_key
from spacy_rehearsal.teacher.teacher import Teacher

SHARD = 10
N_TEXTS = 60
TESTS = Path(__file__).resolve().parent

# A run of the teacher over the first N_TEXTS CoNLL sentences, writing what it got as JSON.
#   race OUT CACHE GO: wait for the file GO, then annotate, with every file write held 0.2 s
#   before it is renamed into place.
#   kill OUT CACHE WHAT: stop for good inside the 2nd write of a WHAT (".spacy." data or ".json." record)
#   temporary file, after its bytes are written and before it is renamed, and say "KILL".
SCRIPT = textwrap.dedent(
    f"""
    import json, os, sys, time
    sys.path.insert(0, {str(TESTS)!r})
    import spacy_rehearsal.teacher.teacher as T
    from conftest import CONLL_TRAIN, as_tuples, conll_texts
    mode, out, cache_dir, arg = sys.argv[1:5]
    T.SHARD_SIZE = {SHARD}
    items = conll_texts(CONLL_TRAIN, {N_TEXTS})
    teacher = T.Teacher({{base!r}}, batch_size=8)
    if mode == "kill":
        real_fsync, seen = os.fsync, []
        def fsync(fd):
            name = os.path.basename(os.readlink(f"/proc/self/fd/{{{{fd}}}}"))
            if arg in name and not name.startswith(".manifest"):
                seen.append(name)
                if len(seen) == 2:
                    print("KILL", flush=True)
                    time.sleep(600)
            real_fsync(fd)
        os.fsync = fsync
    if mode == "race":  # a slow disk: both runs are inside the same shard's write for a while
        real_fsync = os.fsync
        os.fsync = lambda fd: (time.sleep(0.2), real_fsync(fd))
    print("READY", flush=True)
    if mode == "race":
        while not os.path.exists(arg):
            time.sleep(0.01)
    docs = as_tuples(teacher.annotate(items, cache_dir=cache_dir))
    with open(out, "w") as f:
        json.dump(docs, f)
    """
)


@pytest.fixture(scope="module")
def items(conll_data) -> List[RawText]:
    return conll_texts(CONLL_TRAIN, N_TEXTS)


@pytest.fixture(scope="module")
def teacher(base_model) -> Teacher:
    return Teacher(base_model, batch_size=8)


@pytest.fixture(scope="module")
def reference(teacher, items) -> list:
    """The teacher's annotations without any cache, as JSON gives them back."""
    return json.loads(json.dumps(as_tuples(teacher.annotate(items))))


@pytest.fixture
def small_shards(monkeypatch):
    monkeypatch.setattr(teacher_module, "SHARD_SIZE", SHARD)


def start(base_model: str, *args: object) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-c", SCRIPT.format(base=base_model), *map(str, args)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    assert proc.stdout.readline().strip() == "READY", proc.stderr.read()
    return proc


def annotate_from_cache_only(teacher: Teacher, items: List[RawText], cache_dir: Path, caplog) -> list:
    """Annotate with the pipeline disabled: every shard must come from the cache, none rebuilt."""
    teacher.nlp.pipe, pipe = None, teacher.nlp.pipe
    try:
        with caplog.at_level(logging.WARNING, logger="spacy_rehearsal"):
            docs = json.loads(json.dumps(as_tuples(teacher.annotate(items, cache_dir=cache_dir))))
    finally:
        teacher.nlp.pipe = pipe
    assert not caplog.records, [r.getMessage() for r in caplog.records]
    return docs


def test_two_runs_sharing_a_cache_at_once(base_model, teacher, items, reference, tmp_path, small_shards, caplog):
    cache_dir, go = tmp_path / "cache", tmp_path / "go"
    procs = [start(base_model, "race", tmp_path / f"run{i}.json", cache_dir, go) for i in range(2)]
    go.touch()  # both are loaded: they annotate and write the same shards at the same time
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        assert "Rebuilding" not in err  # neither ever saw a half-written or foreign shard
    for i in range(2):
        assert json.loads((tmp_path / f"run{i}.json").read_text()) == reference
    shard_dir = teacher.cache(cache_dir).dir
    assert len(list(shard_dir.glob("*.spacy"))) == N_TEXTS // SHARD
    assert not list(shard_dir.glob(".*.tmp"))
    assert annotate_from_cache_only(teacher, items, cache_dir, caplog) == reference


@pytest.mark.parametrize("killed_in", ["data", "record"])
def test_writer_killed_mid_shard(base_model, teacher, items, reference, tmp_path, small_shards, caplog, killed_in):
    cache_dir = tmp_path / "cache"
    what = ".spacy." if killed_in == "data" else ".json."
    proc = start(base_model, "kill", tmp_path / "run.json", cache_dir, what)
    assert proc.stdout.readline().strip() == "KILL", proc.stderr.read()
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    shard_dir = teacher.cache(cache_dir).dir
    first, second = (teacher.cache(cache_dir).paths(shard_key(items[i * SHARD : (i + 1) * SHARD])) for i in range(2))
    assert first[0].exists() and first[1].exists()  # the first shard was finished
    leftover = list(shard_dir.glob(".*.tmp"))
    assert len(leftover) == 1  # the half-done write, under its temporary name only
    assert second[1].exists() is False
    assert second[0].exists() is (killed_in == "record")  # killed between the data and its record
    # The next run loads the finished shard, rebuilds the second, and gives the same docs.
    calls = []
    pipe = teacher.nlp.pipe
    teacher.nlp.pipe = lambda texts, **kw: (calls.append(1), pipe(texts, **kw))[1]
    try:
        with caplog.at_level(logging.WARNING, logger="spacy_rehearsal"):
            docs = json.loads(json.dumps(as_tuples(teacher.annotate(items, cache_dir=cache_dir))))
    finally:
        teacher.nlp.pipe = pipe
    assert docs == reference
    rebuilt = [r.getMessage() for r in caplog.records]
    assert rebuilt == ([f"Rebuilding cached shard {second[0]}: missing or unreadable record"] if killed_in == "record" else [])
    assert calls  # the rest was annotated
    caplog.clear()
    assert annotate_from_cache_only(teacher, items, cache_dir, caplog) == reference
    # The temporary file is left to a run that may still be writing, until it is old.
    (stale,) = leftover
    assert stale.exists()
    old = time.time() - STALE_TMP_SECONDS - 10
    os.utime(stale, (old, old))
    teacher.cache(cache_dir)
    assert not stale.exists()


def test_shard_whose_data_was_replaced_by_another_valid_shard_is_rebuilt(teacher, items, reference, tmp_path, small_shards, caplog):
    """Same size, parses fine, record intact: only the checksum tells it is not this shard's data."""
    cache_dir = tmp_path / "cache"
    list(teacher.annotate(items, cache_dir=cache_dir))
    cache = teacher.cache(cache_dir)
    (first, first_record), (second, _) = (cache.paths(shard_key(items[i * SHARD : (i + 1) * SHARD])) for i in range(2))
    good = first.read_bytes()
    first.write_bytes(second.read_bytes())  # 10 docs of other texts, a valid DocBin
    assert json.loads(first_record.read_text())["n_docs"] == SHARD
    with caplog.at_level(logging.WARNING, logger="spacy_rehearsal"):
        docs = json.loads(json.dumps(as_tuples(teacher.annotate(items, cache_dir=cache_dir))))
    assert docs == reference
    assert [r.getMessage() for r in caplog.records] == [f"Rebuilding cached shard {first}: checksum mismatch (truncated or corrupt)"]
    assert first.read_bytes() == good
    assert json.loads(first_record.read_text())["sha256"] == hashlib.sha256(good).hexdigest()
