"""The Dask engine of `spacy rehearsal annotate`: teacher shards as Dask tasks, on one machine or a cluster.

    python -m spacy rehearsal annotate TEACHER INPUT OUTPUT --engine dask [--scheduler ADDRESS] [--n-process N]

The client (the process running the command) reads the input and cuts it into
shards exactly as `Teacher.annotate` does: `SHARD_SIZE` texts from the start
of the stream, each keyed by `cache.shard_key` (both cut with `cache.iter_shards`). Each shard is one task. On a
worker, the task loads the teacher once per worker process (and checks that
its fingerprint is the client's), looks the shard up with the cache's own
checks (`ShardCache.load`), and if it is absent or fails them annotates the
texts with the whole pipeline and stores the shard with `ShardCache.save`
(atomic, with its checksum record). So OUTPUT ends up with exactly the shards
the default engine writes, and a rerun after a killed run annotates only the
shards that are missing or broken. A task sends back counts, never docs.

The cache directory must be a path that the client and every worker can read
and write (on a cluster: a shared file system), and the teacher (same package
version, or the same path) and `spacy-rehearsal` must be installed on every
worker. At most `IN_FLIGHT_PER_THREAD` tasks per worker thread are submitted
at a time, so the client holds a few shards of text however large the input.
A task that fails is retried (`RETRIES`). Dask is imported only when this
engine runs: it is the optional extra `spacy-rehearsal[dask]`.
"""
import logging
import socket
import threading
import uuid
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Dict, Iterable, Iterator, List, Optional, Tuple

from tqdm import tqdm
from wasabi import msg

from ..data.rawtext import RawText
from ..errors import SettingError, TeacherError
from . import teacher as teacher_module
from .cache import ShardCache, docs_to_bytes, iter_shards
from .teacher import Teacher

if TYPE_CHECKING:
    from distributed import Client

INSTALL_HINT = 'pip install "spacy-rehearsal[dask]"'
# Times a failed task is run again (on any worker) before the run fails.
RETRIES = 2
# Tasks in flight per worker thread: one running, one queued.
IN_FLIGHT_PER_THREAD = 2
CONNECT_TIMEOUT = "10s"


@dataclass(frozen=True)
class ShardJob:
    """What every task of a run shares (small: sent with each task).

    teacher (str): Package name or path of the teacher, as the workers load it.
    fingerprint (str): The client's teacher fingerprint: a worker's must match.
    info (Dict[str, str]): The teacher's identity, for the cache manifest.
    cache_dir (str): The cache directory, as the workers see it.
    batch_size (int): Batch size for `nlp.pipe` on the workers.
    """

    teacher: str
    fingerprint: str
    info: Dict[str, str]
    cache_dir: str
    batch_size: int


@dataclass
class ShardResult:
    """What a task sends back: the shard's size, whether it annotated it, its entities per label."""

    key: str
    n_docs: int
    annotated: bool
    entities: Dict[str, int]


@dataclass
class DaskRun:
    """What a run did. Duplicate shards (the same texts twice) count each time they occur.

    shards (int): Shards in the input.
    annotated (int): Texts the workers annotated.
    from_cache (int): Texts whose shard was complete in the cache.
    entities (Counter): Entities per label, every label the teacher predicts.
    """

    shards: int = 0
    annotated: int = 0
    from_cache: int = 0
    entities: Counter = field(default_factory=Counter)


def require_dask() -> None:
    """Fail with one line saying what to install if `dask.distributed` cannot be imported."""
    try:
        import distributed  # noqa: F401
    except ImportError:
        raise SettingError(f"--engine dask needs Dask: {INSTALL_HINT}") from None


@contextmanager
def dask_client(scheduler: Optional[str] = None, n_workers: int = 1) -> Iterator["Client"]:
    """A Dask client: of the scheduler at `scheduler`, or of a local cluster, closed afterwards.

    scheduler (Optional[str]): Address of a running scheduler ("tcp://host:8786"),
        or None for a local cluster of `n_workers` processes with one thread each.
    n_workers (int): Worker processes of the local cluster.
    YIELDS (Client): The connected client.
    """
    require_dask()
    from distributed import Client, LocalCluster

    if scheduler is None:
        cluster = LocalCluster(
            n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=None,
            silence_logs=logging.ERROR,
        )
        with cluster, Client(cluster) as client:
            yield client
        return
    try:
        client = Client(scheduler, timeout=CONNECT_TIMEOUT)
    except (OSError, ValueError, TypeError) as e:
        reason = " ".join(str(e).split())
        raise SettingError(f"--scheduler {scheduler}: cannot connect to a Dask scheduler ({reason})") from None
    with client:
        yield client


def annotate_on_dask(
    teacher: Teacher,
    items: Iterable[RawText],
    cache_dir: Path,
    *,
    scheduler: Optional[str] = None,
    n_workers: int = 1,
    batch_size: int = 256,
    total: Optional[int] = None,
    progress: bool = True,
) -> DaskRun:
    """`annotate_with_dask` on the cluster at `scheduler`, or on a local one of `n_workers` processes."""
    with dask_client(scheduler, n_workers) as client:
        return annotate_with_dask(client, teacher, items, cache_dir, batch_size=batch_size, total=total, progress=progress)


def annotate_with_dask(
    client: "Client",
    teacher: Teacher,
    items: Iterable[RawText],
    cache_dir: Path,
    *,
    batch_size: int = 256,
    total: Optional[int] = None,
    retries: int = RETRIES,
    progress: bool = True,
) -> DaskRun:
    """Make sure every shard of `items` is complete in the cache under `cache_dir`, with Dask tasks.

    client (Client): A Dask client; its workers must reach `cache_dir`.
    teacher (Teacher): The teacher, loaded here for its fingerprint.
    items (Iterable[RawText]): The texts, in the order that cuts the shards.
    cache_dir (Path): The cache directory.
    batch_size (int): Batch size for `nlp.pipe` on the workers.
    total (Optional[int]): Number of texts, for the progress bar.
    retries (int): Times a failed task is run again.
    progress (bool): Show a progress bar.
    RETURNS (DaskRun): Shards, texts annotated and from the cache, entities per label.
    """
    from distributed import KilledWorker, as_completed

    cache = teacher.cache(cache_dir, what="OUTPUT")  # creates the directory and the manifest
    assert cache is not None
    job = ShardJob(teacher.name, teacher.fingerprint, teacher.info, str(cache_dir), batch_size)
    shards = iter_shards(items, teacher_module.SHARD_SIZE)
    run_id = uuid.uuid4().hex[:8]
    # Shards submitted and not yet done: key -> (future, times the shard occurs).
    pending: Dict[str, Tuple[object, int]] = {}
    done = as_completed(loop=client.loop)
    result = DaskRun()

    def submit_next() -> bool:
        for key, chunk in shards:
            result.shards += 1
            if key in pending:  # the same texts again: one task writes the shard
                future, times = pending[key]
                pending[key] = (future, times + 1)
                continue
            future = client.submit(
                annotate_shard, job, key, chunk, key=f"rehearsal-shard-{key}-{run_id}", retries=retries, pure=False
            )
            pending[key] = (future, 1)
            done.add(future)
            return True
        return False

    def fill() -> None:
        # Counted again each time: a cluster's workers may come and go while it runs.
        window = IN_FLIGHT_PER_THREAD * max(sum(client.nthreads().values()), 1)
        while len(pending) < window and submit_next():
            pass

    if progress:
        threads = client.nthreads()
        address = client.scheduler.address if client.scheduler is not None else "(not connected)"
        msg.info(f"Dask scheduler {address}: {len(threads)} workers, {sum(threads.values())} threads")
    fill()
    bar = tqdm(total=total, desc="Annotating", unit="texts", disable=not progress)
    try:
        for future in done:
            try:
                shard: ShardResult = future.result()
            except KilledWorker as e:
                raise SettingError(
                    f"Dask workers died annotating a shard ({e}): out of memory? Use fewer workers per machine"
                ) from None
            _, times = pending.pop(shard.key)
            if shard.annotated:
                result.annotated += shard.n_docs
                result.from_cache += shard.n_docs * (times - 1)
            else:
                result.from_cache += shard.n_docs * times
            for label, n in shard.entities.items():
                result.entities[label] += n * times
            bar.update(shard.n_docs * times)
            fill()
    finally:
        bar.close()
        if pending:  # stopped by an error: the other tasks are not needed
            client.cancel([future for future, _ in pending.values()])
    return result


# On a worker: the teachers loaded by this process, and a lock that runs one
# shard at a time per process (a pipeline is not shared between threads).
_WORKER_TEACHERS: Dict[str, Teacher] = {}
_WORKER_LOCK = threading.Lock()


def annotate_shard(job: ShardJob, key: str, items: List[RawText]) -> ShardResult:
    """A Dask task: make sure shard `key` of `items` is complete in the cache.

    A shard that passes the cache's checks is only counted; any other is
    annotated with the teacher's whole pipeline and stored.
    RETURNS (ShardResult): The shard's size, whether it was annotated, its entities per label.
    """
    with _WORKER_LOCK:
        teacher = _worker_teacher(job)
        cache = ShardCache(Path(job.cache_dir), job.fingerprint, job.info, what="OUTPUT")
        docs = cache.load(key, len(items), teacher.nlp.vocab)
        annotated = docs is None
        if docs is None:
            # The inputs the default engine gives `nlp.pipe`: plain text, or a Doc with the given tokens.
            texts = (item.text if item.words is None else teacher.make_doc(item) for item in items)
            docs = list(teacher.nlp.pipe(texts, batch_size=job.batch_size))
            if len(docs) != len(items):
                raise RuntimeError(f"Teacher '{job.teacher}' returned {len(docs)} docs for a shard of {len(items)} texts")
            cache.save(key, docs_to_bytes(docs), len(docs))
        entities = Counter(ent.label_ for doc in docs for ent in doc.ents)
    return ShardResult(key, len(items), annotated, dict(entities))


def _worker_teacher(job: ShardJob) -> Teacher:
    """The teacher in this worker process, loaded once; it must be the client's."""
    teacher = _WORKER_TEACHERS.get(job.teacher)
    if teacher is None:
        teacher = _WORKER_TEACHERS[job.teacher] = Teacher(job.teacher)
    if teacher.fingerprint != job.fingerprint:
        ours, theirs = teacher.info, job.info
        raise TeacherError(
            f"Dask worker on {socket.gethostname()} has another teacher '{job.teacher}' than the client "
            f"(version {ours['version']} on spaCy {ours['spacy_version']}; the client's: version "
            f"{theirs['version']} on spaCy {theirs['spacy_version']}): install the same pipeline and spaCy on every worker"
        )
    return teacher
