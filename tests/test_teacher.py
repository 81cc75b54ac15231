"""The teacher pass: lazy streaming, resuming a killed run, several processes, determinism."""
import math
import subprocess
import sys
import textwrap
from itertools import islice
from typing import Iterable, Iterator, List

import pytest
from conftest import as_tuples, conll_texts

import spacy_rehearsal.teacher.teacher as teacher_module
from spacy_rehearsal.data.formats import RawText, iter_raw_texts
from spacy_rehearsal.teacher.teacher import Teacher

SHARD = 20
BATCH = 8


class Counted:
    """An iterable that counts the items taken from it."""

    def __init__(self, items: Iterable[RawText]):
        self.items = items
        self.pulled = 0

    def __iter__(self) -> Iterator[RawText]:
        for item in self.items:
            self.pulled += 1
            yield item


@pytest.fixture(scope="module")
def items(conll_data) -> List[RawText]:
    return conll_texts(conll_data / "train.txt", 130)  # 6 full shards and a short one


@pytest.fixture(scope="module")
def teacher(base_model) -> Teacher:
    return Teacher(base_model, batch_size=BATCH)


@pytest.fixture(scope="module")
def teacher2(base_model) -> Teacher:
    return Teacher(base_model, batch_size=BATCH, n_process=2)


@pytest.fixture(scope="module")
def reference(teacher, items) -> list:
    """One process, no cache, one shard for everything."""
    saved = teacher_module.SHARD_SIZE
    teacher_module.SHARD_SIZE = len(items)
    try:
        return as_tuples(teacher.annotate(items))
    finally:
        teacher_module.SHARD_SIZE = saved


@pytest.fixture
def small_shards(monkeypatch):
    monkeypatch.setattr(teacher_module, "SHARD_SIZE", SHARD)


def count_piped(monkeypatch, teacher: Teacher) -> List[int]:
    """Count the texts each `nlp.pipe` stream of the teacher is given."""
    counts: List[int] = []
    real_pipe = teacher.nlp.pipe

    def pipe(texts, **kwargs):
        counts.append(0)
        index = len(counts) - 1

        def counted():
            for text in texts:
                counts[index] += 1
                yield text

        return real_pipe(counted(), **kwargs)

    monkeypatch.setattr(teacher.nlp, "pipe", pipe)
    return counts


@pytest.mark.parametrize("k", [1, SHARD, SHARD + 1, 3 * SHARD - 5])
def test_stream_reads_only_what_is_consumed(teacher, items, reference, small_shards, k):
    counted = Counted(items)
    stream = teacher.annotate(counted)
    got = as_tuples(islice(stream, k))
    assert got == reference[:k]
    # The shard being yielded is annotated whole; the pipe's batch may reach
    # into the next shard, which is then read whole. Nothing beyond.
    needed = math.ceil(k / SHARD) * SHARD
    assert needed <= counted.pulled <= needed + SHARD
    assert counted.pulled <= k + BATCH + 2 * SHARD
    stream.close()


def test_stream_yields_every_text_once(teacher, items, reference, small_shards, tmp_path):
    for cache_dir in (None, tmp_path, tmp_path):  # no cache, cold cache, warm cache
        counted = Counted(items)
        assert as_tuples(teacher.annotate(counted, cache_dir=cache_dir)) == reference
        assert counted.pulled == len(items)


def test_stream_stops_reading_at_cached_shard(teacher, items, reference, small_shards, tmp_path, monkeypatch):
    """Annotated shards followed by cached ones: the pipe does not read on through the cache."""
    list(teacher.annotate(items[2 * SHARD :], cache_dir=tmp_path))  # caches shards 3.. of the full stream
    piped = count_piped(monkeypatch, teacher)
    counted = Counted(items)
    stream = teacher.annotate(counted, cache_dir=tmp_path)
    assert as_tuples(islice(stream, SHARD + 3)) == reference[: SHARD + 3]
    # The two shards to annotate, and perhaps the cached one that ends the pipe's stream.
    assert 2 * SHARD <= counted.pulled <= 3 * SHARD
    assert as_tuples(islice(stream, SHARD)) == reference[SHARD + 3 : 2 * SHARD + 3]
    assert counted.pulled == 3 * SHARD  # yielding cached shard 3 reads nothing beyond it
    assert as_tuples(stream) == reference[2 * SHARD + 3 :]
    assert piped == [2 * SHARD]


def test_cached_gap_restarts_the_pipe(teacher, items, reference, small_shards, tmp_path, monkeypatch):
    """Uncached, cached, uncached shards: each run of shards to annotate gets one pipe stream."""
    list(teacher.annotate(items[SHARD : 2 * SHARD], cache_dir=tmp_path))  # shard 2 only
    piped = count_piped(monkeypatch, teacher)
    assert as_tuples(teacher.annotate(items, cache_dir=tmp_path)) == reference
    assert piped == [SHARD, len(items) - 2 * SHARD]


def test_killed_annotation_resumes(base_model, items, reference, small_shards, tmp_path, monkeypatch):
    """SIGKILL during a teacher pass leaves the finished shards, and the next run annotates only the rest."""
    raw = tmp_path / "raw.txt"
    raw.write_text("".join(item.text + "\n" for item in items), encoding="utf8")
    cache_dir = tmp_path / "cache"
    kill_at = 2 * SHARD + 3  # shard 3 is stored before its first doc is yielded
    script = textwrap.dedent(
        f"""
        import os, signal
        import spacy_rehearsal.teacher.teacher as T
        from spacy_rehearsal.data.formats import iter_raw_texts
        T.SHARD_SIZE = {SHARD}
        teacher = T.Teacher({base_model!r}, batch_size={BATCH})
        for i, doc in enumerate(teacher.annotate(iter_raw_texts({str(raw)!r}), cache_dir={str(cache_dir)!r}), 1):
            if i == {kill_at}:
                os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert proc.returncode == -9, proc.stderr
    teacher = Teacher(base_model, batch_size=BATCH)
    cache = teacher.cache(cache_dir)
    assert len(list(cache.dir.glob("*.spacy"))) == 3
    assert len(list(cache.dir.glob("*.json"))) == 3 + 1  # records and the manifest
    assert not list(cache.dir.glob(".*.tmp"))
    piped = count_piped(monkeypatch, teacher)
    assert as_tuples(teacher.annotate(iter_raw_texts(raw), cache_dir=cache_dir)) == reference
    assert piped == [len(items) - 3 * SHARD]
    assert len(list(cache.dir.glob("*.spacy"))) == math.ceil(len(items) / SHARD)


def test_two_processes_equal_one(teacher2, items, reference, small_shards, tmp_path):
    assert as_tuples(teacher2.annotate(items)) == reference
    # Cold cache, then a cache with a gap (one pipe per run of uncached shards).
    assert as_tuples(teacher2.annotate(items, cache_dir=tmp_path)) == reference
    cache = teacher2.cache(tmp_path)
    for path in sorted(cache.dir.glob("*.spacy"))[::2]:
        path.unlink()
    assert as_tuples(teacher2.annotate(items, cache_dir=tmp_path)) == reference
    # Read-ahead stays bounded with workers too: the shard plus the batches in flight.
    counted = Counted(items)
    stream = teacher2.annotate(counted)
    assert as_tuples(islice(stream, 5)) == reference[:5]
    stream.close()
    assert counted.pulled <= SHARD + 2 * 2 * BATCH + SHARD


def test_rehearsal_stream_deterministic(teacher, teacher2, items, small_shards, tmp_path):
    """Same raw text: the same endless stream across runs, caches and process counts."""
    raw = tmp_path / "raw.txt"
    raw.write_text("".join(item.text + "\n" for item in items[:50]), encoding="utf8")
    n = 120  # two passes and a bit: restarts at the top of the file
    max_length = 12

    def draw(t: Teacher, cache_dir):
        return as_tuples(islice(t.rehearsal_stream(raw, cache_dir=cache_dir, vocab=t.nlp.vocab, max_length=max_length), n))

    first = draw(teacher, None)
    assert len(first) == n
    assert all(len(tokens) <= max_length for tokens, _ in first)
    per_pass = sum(1 for item in items[:50] if len(teacher.make_doc(item)) <= max_length)
    assert first[per_pass : 2 * per_pass] == first[:per_pass]
    assert draw(teacher, None) == first
    assert draw(teacher, tmp_path / "cache") == first  # cold, then warm after the first pass
    assert draw(teacher, tmp_path / "cache") == first
    assert draw(teacher2, None) == first
    assert draw(teacher2, tmp_path / "cache") == first


def test_open_multiprocess_stream_does_not_block_exit(base_model, tmp_path):
    """An endless rehearsal stream left open with worker processes: the interpreter still exits."""
    raw = tmp_path / "raw.txt"
    raw.write_text("The European Commission met in Brussels .\nPeter Blackburn reports .\n" * 200, encoding="utf8")
    script = textwrap.dedent(
        f"""
        from itertools import islice
        from spacy_rehearsal.teacher.teacher import Teacher
        teacher = Teacher({base_model!r}, batch_size={BATCH}, n_process=2)
        STREAM = teacher.rehearsal_stream({str(raw)!r}, cache_dir=None, vocab=teacher.nlp.vocab)
        print(len(list(islice(STREAM, 5))))
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "5"
