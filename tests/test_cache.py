"""The shard cache: good shards are loaded, bad ones rebuilt, never loaded."""
import hashlib
import json
import logging
import os
import time
from itertools import islice
from pathlib import Path
from typing import List

import pytest
from conftest import as_tuples, conll_texts

import spacy_rehearsal.teacher.teacher as teacher_module
from spacy_rehearsal.data.formats import RawText
from spacy_rehearsal.teacher.cache import CACHE_FORMAT, STALE_TMP_SECONDS, ShardCache, docs_to_bytes, shard_key
from spacy_rehearsal.teacher.teacher import Teacher

SHARD = 25
N_TEXTS = 60  # two full shards and a short one


@pytest.fixture(scope="module")
def items(conll_data) -> List[RawText]:
    return conll_texts(conll_data / "train.txt", N_TEXTS)


@pytest.fixture(scope="module")
def teacher(base_model) -> Teacher:
    return Teacher(base_model, batch_size=16)


@pytest.fixture
def small_shards(monkeypatch):
    monkeypatch.setattr(teacher_module, "SHARD_SIZE", SHARD)


@pytest.fixture(scope="module")
def reference(teacher, items) -> list:
    """The teacher's annotations without any cache."""
    return as_tuples(teacher.annotate(items))


def shard_files(cache: ShardCache) -> List[Path]:
    return sorted(cache.dir.glob("*.spacy"))


def first_shard(teacher: Teacher, items: List[RawText], tmp_path: Path) -> "tuple[ShardCache, Path, Path]":
    cache = teacher.cache(tmp_path)
    return (cache, *cache.paths(shard_key(items[:SHARD])))


def test_cache_layout_and_reuse(teacher, items, reference, tmp_path, small_shards, caplog):
    assert as_tuples(teacher.annotate(items, cache_dir=tmp_path)) == reference
    cache = teacher.cache(tmp_path)
    manifest = json.loads((cache.dir / "manifest.json").read_text())
    assert manifest["fingerprint"] == teacher.fingerprint and manifest["format"] == CACHE_FORMAT
    assert len(shard_files(cache)) == 3
    record = json.loads(cache.paths(shard_key(items[:SHARD]))[1].read_text())
    assert record["fingerprint"] == teacher.fingerprint and record["n_docs"] == SHARD
    assert not list(cache.dir.glob(".*.tmp"))
    # A second pass loads every shard: the pipeline is not run.
    teacher.nlp.pipe, pipe = None, teacher.nlp.pipe
    try:
        with caplog.at_level(logging.WARNING, logger="spacy_rehearsal"):
            assert as_tuples(teacher.annotate(items, cache_dir=tmp_path)) == reference
    finally:
        teacher.nlp.pipe = pipe
    assert not caplog.records


def test_shard_key_depends_on_tokenization():
    plain = RawText("a", "New York")
    tokenized = RawText("a", "New York", ["New", "York"], [True, False])
    assert shard_key([plain]) != shard_key([tokenized])
    assert shard_key([plain]) == shard_key([RawText("elsewhere", "New York")])


@pytest.mark.parametrize("damage", ["truncated", "garbage", "no_record", "record_mismatch", "old_format"])
def test_bad_shard_is_rebuilt(teacher, items, reference, tmp_path, small_shards, caplog, damage):
    list(teacher.annotate(items, cache_dir=tmp_path))
    cache, data_path, meta_path = first_shard(teacher, items, tmp_path)
    good = data_path.read_bytes()
    record = json.loads(meta_path.read_text())
    if damage == "truncated":
        data_path.write_bytes(good[: len(good) // 2])
    elif damage == "garbage":  # checksum recomputed: the data itself must fail to load
        garbage = b"\x00not a docbin" * 10
        data_path.write_bytes(garbage)
        record["sha256"] = hashlib.sha256(garbage).hexdigest()
        meta_path.write_text(json.dumps(record))
    elif damage == "no_record":  # killed between writing the data and its record
        meta_path.unlink()
    elif damage == "record_mismatch":
        record["n_docs"] = SHARD + 1
        meta_path.write_text(json.dumps(record))
    else:
        record["format"] = CACHE_FORMAT + 1
        meta_path.write_text(json.dumps(record))
    with caplog.at_level(logging.WARNING, logger="spacy_rehearsal"):
        assert as_tuples(teacher.annotate(items, cache_dir=tmp_path)) == reference
    assert [r for r in caplog.records if "Rebuilding cached shard" in r.getMessage()]
    # The shard was written again, whole.
    assert data_path.read_bytes() == good
    assert json.loads(meta_path.read_text())["sha256"] == hashlib.sha256(good).hexdigest()
    assert cache.load(shard_key(items[:SHARD]), SHARD, teacher.nlp.vocab) is not None


def test_foreign_fingerprint_shard_is_rebuilt(teacher, items, reference, tmp_path, small_shards, caplog):
    """A shard of another teacher (same directory, other full fingerprint) is never loaded."""
    cache = teacher.cache(tmp_path)
    foreign_fp = teacher.fingerprint[:16] + "0" * (len(teacher.fingerprint) - 16)
    assert foreign_fp != teacher.fingerprint
    foreign = ShardCache(tmp_path, foreign_fp, {"name": "another teacher"})
    assert foreign.dir == cache.dir
    # Its docs: the right texts without any entities.
    chunk = items[:SHARD]
    blank = [teacher.make_doc(item) for item in chunk]
    foreign.save(shard_key(chunk), docs_to_bytes(blank), SHARD)
    ShardCache(tmp_path, teacher.fingerprint, teacher.info)  # the manifest is this teacher's again
    with caplog.at_level(logging.WARNING, logger="spacy_rehearsal"):
        assert as_tuples(teacher.annotate(items, cache_dir=tmp_path)) == reference
    assert any("fingerprint differs" in r.getMessage() for r in caplog.records)
    record = json.loads(cache.paths(shard_key(chunk))[1].read_text())
    assert record["fingerprint"] == teacher.fingerprint


def test_other_teacher_uses_its_own_directory(teacher, tmp_path):
    a = teacher.cache(tmp_path)
    b = ShardCache(tmp_path, "f" * 64, {"name": "other"})
    assert a.dir != b.dir
    assert json.loads((b.dir / "manifest.json").read_text())["fingerprint"] == "f" * 64


def test_stale_temp_files_removed(teacher, tmp_path):
    cache = teacher.cache(tmp_path)
    stale = cache.dir / ".abc.spacy.x1.tmp"
    fresh = cache.dir / ".def.spacy.x2.tmp"
    for path in (stale, fresh):
        path.write_bytes(b"half written")
    old = time.time() - STALE_TMP_SECONDS - 10
    os.utime(stale, (old, old))
    teacher.cache(tmp_path)
    assert not stale.exists()
    assert fresh.exists()  # may belong to a run still writing


def test_partial_consumption_stores_only_finished_shards(teacher, items, reference, tmp_path, small_shards):
    stream = teacher.annotate(items, cache_dir=tmp_path)
    got = as_tuples(islice(stream, SHARD + 1))
    stream.close()
    assert got == reference[: SHARD + 1]
    cache = teacher.cache(tmp_path)
    # The first shard was yielded whole, the second was stored before its first doc.
    assert len(shard_files(cache)) == 2
    assert not list(cache.dir.glob(".*.tmp"))
