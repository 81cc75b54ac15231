"""`spacy rehearsal` commands: pre-annotate raw text with the teacher, measure forgetting.

spaCy imports this module at start-up through the `spacy_cli` entry point
(`rehearsal = "spacy_rehearsal.cli"`), and importing it adds the `rehearsal`
group to spaCy's CLI:

    python -m spacy rehearsal annotate TEACHER INPUT OUTPUT
    python -m spacy rehearsal evaluate BASE UPDATED [INPUT] [--gold GOLD]

`annotate` writes the teacher's annotations in the shard cache layout (see
`cache.py`), so `cache_dir = OUTPUT` in `rehearsal_reader.v1` or
`rehearsal_callback.v1` reuses them instead of running the teacher again.

`evaluate` runs the original ("base") and the updated pipeline over the same
texts and reports, per label, how many of the base's entities the updated
pipeline still predicts ("agreement", base as reference), and optionally gold
P/R/F of both.
"""
import json
import time
from collections import Counter
from pathlib import Path
from typing import Any, Dict, Iterable, List, NoReturn, Optional, Sequence, Set, Tuple

import typer
from spacy.cli._util import Arg, Opt, app
from spacy.tokens import Doc
from spacy.util import filter_spans
from spacy.vocab import Vocab
from tqdm import tqdm
from wasabi import msg, table

from .formats import InputError, RawText, Record, iter_raw_texts, iter_records_as_raw, read_annotations
from .scoring import label_counts, score_ents
from .teacher import Teacher, TeacherError

RESULTS_FORMAT = 1
FORGOTTEN = "FORGOTTEN"
NEW = "new"

rehearsal_cli = typer.Typer(
    name="rehearsal",
    help="Pseudo-rehearsal tools: pre-annotate raw text with the teacher, and measure what an updated pipeline forgot.",
    no_args_is_help=True,
)
app.add_typer(rehearsal_cli)


# ---------------------------------------------------------------------------
# annotate


@rehearsal_cli.command("annotate")
def annotate_cli(
    # fmt: off
    teacher: str = Arg(..., help="The original pipeline: package name or path"),
    input_path: Path = Arg(..., help="Raw text: .txt (one text a line), .jsonl ({\"text\"}), .spacy, or a directory of them"),
    output_dir: Path = Arg(..., help="Cache directory to write the annotated shards to (use as cache_dir in the config)"),
    n_process: int = Opt(1, "--n-process", "-n", help="Processes for nlp.pipe"),
    batch_size: int = Opt(256, "--batch-size", "-b", help="Batch size for nlp.pipe"),
    labels: Optional[str] = Opt(None, "--labels", "-l", help="Comma-separated teacher labels to count in the summary (all must be teacher labels); all are stored"),
    summary_path: Optional[Path] = Opt(None, "--summary", "-s", help="Also write the summary to this JSON file (a stable output for spacy project)"),
    # fmt: on
) -> None:
    """Annotate raw text with the teacher's whole pipeline into a shard cache.

    The output is the cache layout the reader and the callback use: with
    `cache_dir = OUTPUT` they load these shards and never run the teacher on
    these texts again. Shards already in OUTPUT are reused, so running the
    command again is fast. All entities are stored whatever `--labels` says;
    `teacher_labels` in the config chooses what is rehearsed.
    """
    try:
        _check_positive(n_process=n_process, batch_size=batch_size)
        summary = annotate(
            teacher, input_path, output_dir, labels=_split_labels(labels), n_process=n_process, batch_size=batch_size
        )
    except (InputError, TeacherError) as e:
        _fail(e)
    _print_annotate_summary(summary)
    if summary_path is not None:
        _write_json(summary_path, summary)


def annotate(
    teacher_name: str,
    input_path: Path,
    output_dir: Path,
    *,
    labels: Optional[List[str]] = None,
    n_process: int = 1,
    batch_size: int = 256,
) -> Dict[str, Any]:
    """Annotate every text under `input_path` with the teacher, caching shards in `output_dir`.

    teacher_name (str): Package name or path of the teacher pipeline.
    input_path (Path): Raw text file or directory (see `formats.iter_raw_texts`).
    output_dir (Path): The cache directory.
    labels (Optional[List[str]]): Labels to count (None: all). Each must be a
        teacher label, else TeacherError.
    n_process (int): Processes for `nlp.pipe`.
    batch_size (int): Batch size for `nlp.pipe`.
    RETURNS (Dict[str, Any]): Summary: texts, annotated, from_cache, seconds,
        entities per label, skipped, shard_dir.
    """
    stats: Dict[Path, Any] = {}
    n_texts = sum(1 for _ in iter_raw_texts(input_path, stats))  # validates the input before loading
    if n_texts == 0:
        raise InputError(str(input_path), "raw text holds no texts")
    teacher = Teacher(teacher_name, labels, batch_size=batch_size, n_process=n_process)
    cache = teacher.cache(output_dir)
    assert cache is not None
    before = _shard_records(cache.dir)
    counts: Counter = Counter()
    start = time.perf_counter()
    docs = teacher.annotate(iter_raw_texts(input_path), cache_dir=output_dir, desc="raw texts")
    for doc in tqdm(docs, total=n_texts, desc="Annotating", unit="texts"):
        counts.update(e.label_ for e in doc.ents if teacher.keep(e.label_))
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


# ---------------------------------------------------------------------------
# evaluate


@rehearsal_cli.command("evaluate")
def evaluate_cli(
    # fmt: off
    base: str = Arg(..., help="The original pipeline: package name or path"),
    updated: str = Arg(..., help="The updated pipeline: package name or path (e.g. training/model-last)"),
    input_path: Optional[Path] = Arg(None, help="Texts to compare on: .txt, .jsonl, .spacy or a directory. May be left out with --gold"),
    gold: Optional[Path] = Opt(None, "--gold", "-g", help="Gold annotations (.spacy, Prodigy or spaCy .jsonl): also score both pipelines against them"),
    label_map: Optional[str] = Opt(None, "--label-map", "-m", help="Rename predicted labels for the gold comparison, e.g. PERSON=PER,GPE=LOC,LOC=LOC,ORG=ORG; labels not in the map are then ignored"),
    output: Optional[Path] = Opt(None, "--output", "-o", help="Write all figures to this JSON file"),
    plot: Optional[Path] = Opt(None, "--plot", "-p", help="Write a PNG bar chart of per-label F1 (needs matplotlib)"),
    threshold: float = Opt(0.7, "--threshold", "-t", help="Flag base labels whose agreement F falls under this"),
    min_count: int = Opt(1, "--min-count", help="Flag only labels the base predicts at least this often in the texts (fewer: too noisy to judge)"),
    limit: int = Opt(0, "--limit", help="Use only the first N texts (0: all)"),
    n_process: int = Opt(1, "--n-process", "-n", help="Processes for nlp.pipe"),
    batch_size: int = Opt(256, "--batch-size", "-b", help="Batch size for nlp.pipe"),
    # fmt: on
) -> None:
    """Compare an updated pipeline with its original: agreement per label, and gold P/R/F.

    Both pipelines run whole over the same texts. Agreement scores the updated
    pipeline's entities against the base's (base as reference), so recall is
    the share of the base's entities that survived the update. Base labels whose
    agreement F falls under --threshold (and that the base predicts at least
    --min-count times) are flagged as FORGOTTEN; labels only
    the updated pipeline has are shown as new.

    With --gold, the pipelines run over the gold file's texts (with its
    tokenization for .spacy and Prodigy input), so that predictions and gold
    line up. INPUT may then be left out or name the gold file; if it names
    another file, that file must hold the same texts in the same order (e.g.
    prepare_conll.py's dev.txt beside dev.spacy), compared without
    surrounding whitespace.
    """
    try:
        _check_positive(n_process=n_process, batch_size=batch_size)
        if not 0.0 <= threshold <= 1.0:
            raise typer.BadParameter(f"must be between 0 and 1, got {threshold}", param_hint="--threshold")
        if limit < 0:
            raise typer.BadParameter(f"must be >= 0, got {limit}", param_hint="--limit")
        _check_positive(min_count=min_count)
        if plot is not None and plot.suffix.lower() != ".png":
            raise InputError(str(plot), "the plot is written as PNG: give a .png path")
        if plot is not None:
            _import_pyplot()  # fail before the pipelines run
        result = evaluate(
            base,
            updated,
            input_path,
            gold=gold,
            label_map=parse_label_map(label_map) if label_map else None,
            threshold=threshold,
            min_count=min_count,
            limit=limit,
            n_process=n_process,
            batch_size=batch_size,
        )
    except (InputError, TeacherError, PlotError) as e:
        _fail(e)
    print_results(result)
    if output is not None:
        _write_json(output, result)
    if plot is not None:
        plot_results(result, plot)
        msg.good(f"Wrote {plot}")


def evaluate(
    base: str,
    updated: str,
    input_path: Optional[Path] = None,
    *,
    gold: Optional[Path] = None,
    label_map: Optional[Dict[str, str]] = None,
    threshold: float = 0.7,
    min_count: int = 1,
    limit: int = 0,
    n_process: int = 1,
    batch_size: int = 256,
) -> Dict[str, Any]:
    """Run both pipelines over the texts and score them (see `evaluate_cli`).

    base (str): The original pipeline, package name or path.
    updated (str): The updated pipeline, package name or path.
    input_path (Optional[Path]): Raw text; optional with `gold`.
    gold (Optional[Path]): Gold annotations to score both pipelines against.
    label_map (Optional[Dict[str, str]]): Predicted label -> gold label, for the
        gold comparison only; predicted labels not in it are ignored there.
    threshold (float): Agreement F under which a base label is flagged.
    min_count (int): Flag only labels with at least this many base entities.
    limit (int): Use only the first N texts. 0: all.
    n_process (int): Processes for `nlp.pipe`.
    batch_size (int): Batch size for `nlp.pipe`.
    RETURNS (Dict[str, Any]): The figures, as written by `--output`.
    """
    if label_map is not None and gold is None:
        msg.warn("--label-map only applies to the gold comparison: it is ignored without --gold")
    items, gold_docs = _load_texts(input_path, gold, limit)
    base_teacher = Teacher(base, batch_size=batch_size, n_process=n_process)
    updated_teacher = Teacher(updated, batch_size=batch_size, n_process=n_process)
    if gold_docs is not None and label_map is not None:
        _check_label_map(label_map, base_teacher.all_labels | updated_teacher.all_labels, gold_docs)
    base_docs = _run(base_teacher, items, "base")
    updated_docs = _run(updated_teacher, items, "updated")
    base_labels = sorted(base_teacher.all_labels)
    new_labels = sorted(updated_teacher.all_labels - base_teacher.all_labels)
    agreement = score_ents(updated_docs, base_docs, labels=base_labels)
    per_label: Dict[str, Dict[str, Any]] = agreement["per_label"]  # type: ignore[assignment]
    flagged = [label for label, s in per_label.items() if s["n_ref"] >= max(min_count, 1) and s["f"] < threshold]
    result: Dict[str, Any] = {
        "format": RESULTS_FORMAT,
        "base": base,
        "updated": updated,
        "input": str(input_path if input_path is not None else gold),
        "gold_path": str(gold) if gold is not None else None,
        "n_docs": len(items),
        "threshold": threshold,
        "min_count": min_count,
        "labels": {"base": base_labels, "updated": sorted(updated_teacher.all_labels)},
        "agreement": {"micro": agreement["micro"], "per_label": per_label},
        "counts": {"base": _sorted_counts(base_docs), "updated": _sorted_counts(updated_docs)},
        "new_labels": new_labels,
        "flagged": flagged,
    }
    if gold_docs is not None:
        all_gold_labels = {e.label_ for doc in gold_docs for e in doc.ents}
        # With a label map, only the gold labels some predicted label maps to
        # are scored: the others would score 0 for both pipelines.
        gold_labels = sorted(all_gold_labels & set(label_map.values()) if label_map else all_gold_labels)
        result["label_map"] = label_map
        result["gold"] = {
            "labels": gold_labels,
            "left_out": sorted(all_gold_labels - set(gold_labels)),
            "counts": _sorted_counts(gold_docs),
            "base": score_ents(base_docs, gold_docs, labels=gold_labels, pred_map=label_map),
            "updated": score_ents(updated_docs, gold_docs, labels=gold_labels, pred_map=label_map),
        }
    return result


def _load_texts(
    input_path: Optional[Path], gold: Optional[Path], limit: int
) -> Tuple[List[RawText], Optional[List[Doc]]]:
    """The texts to run the pipelines on, and the gold docs for them (if `gold`)."""
    if gold is None:
        if input_path is None:
            raise InputError("INPUT", "give the texts to evaluate on (INPUT), or --gold")
        items = _take(iter_raw_texts(input_path), limit)
        if not items:
            raise InputError(str(input_path), "holds no texts")
        return items, None
    records, _ = read_annotations(gold)
    records = records[:limit] if limit else records
    if not records:
        raise InputError(str(gold), "holds no annotated texts")
    if input_path is not None and Path(input_path).resolve() != Path(gold).resolve():
        _check_same_texts(input_path, gold, records, limit)
    return list(iter_records_as_raw(records)), _gold_docs(records)


def _take(items: Iterable[RawText], limit: int) -> List[RawText]:
    out = []
    for item in items:
        if limit and len(out) >= limit:
            break
        out.append(item)
    return out


def _check_same_texts(input_path: Path, gold: Path, records: Sequence[Record], limit: int) -> None:
    """Fail unless INPUT holds the gold texts, in the same order."""
    texts = _take(iter_raw_texts(input_path), limit)
    for item, record in zip(texts, records):
        if item.text.strip() != record.text.strip():
            raise InputError(
                item.source,
                f"text differs from the gold text at {record.source} (INPUT and --gold must hold the same "
                f"texts in the same order; leave INPUT out to use the gold texts): "
                f"{item.text[:60]!r} vs {record.text[:60]!r}",
            )
    if len(texts) != len(records):
        raise InputError(
            str(input_path), f"holds {len(texts)} texts but the gold file {gold} holds {len(records)} (after --limit)"
        )


def _gold_docs(records: Sequence[Record]) -> List[Doc]:
    """Docs holding the gold entities, with the records' own tokenization where given.

    Without a given tokenization, text is split on whitespace and punctuation is
    not split off; only the character offsets of the entities are used for
    scoring, so spans are set with `alignment_mode="expand"` as a fallback.
    """
    vocab = Vocab()
    docs = []
    for record in records:
        if record.words is not None:
            doc = Doc(vocab, words=record.words, spaces=record.spaces)
        else:
            doc = _char_doc(vocab, record.text)
        spans = []
        for start, end, label in record.spans:
            span = doc.char_span(start, end, label=label, alignment_mode="strict")
            if span is None:
                span = doc.char_span(start, end, label=label, alignment_mode="expand")
            if span is not None:
                spans.append(span)
        doc.set_ents(filter_spans(spans))
        docs.append(doc)
    return docs


def _char_doc(vocab: Vocab, text: str) -> Doc:
    """A Doc with one token per character run of word or non-word characters, so any offsets align."""
    words: List[str] = []
    spaces: List[bool] = []
    i = 0
    while i < len(text):
        if text[i].isspace():
            if words and not spaces[-1] and text[i] == " ":
                spaces[-1] = True
            else:
                words.append(text[i])
                spaces.append(False)
            i += 1
            continue
        j = i + 1
        while j < len(text) and not text[j].isspace() and text[j].isalnum() == text[i].isalnum():
            j += 1
        words.append(text[i:j])
        spaces.append(False)
        i = j
    return Doc(vocab, words=words, spaces=spaces)


def _run(teacher: Teacher, items: List[RawText], desc: str) -> List[Doc]:
    docs = teacher.annotate(items, desc=f"{desc} texts")
    return list(tqdm(docs, total=len(items), desc=f"Running {desc}", unit="texts"))


def _fail(error: Exception) -> NoReturn:
    """Print an error unwrapped (so file names stay whole) and exit with 1."""
    typer.secho(f"✘ {error}", fg=typer.colors.RED)
    raise typer.Exit(1)


def _write_json(path: Path, data: Dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf8")
    msg.good(f"Wrote {path}")


def _sorted_counts(docs: Iterable[Doc]) -> Dict[str, int]:
    counts = label_counts(docs)
    return {label: counts[label] for label in sorted(counts)}


def parse_label_map(text: str) -> Dict[str, str]:
    """Parse "PERSON=PER,GPE=LOC" into {"PERSON": "PER", "GPE": "LOC"}.

    RETURNS (Dict[str, str]): Predicted label -> gold label.
    """
    mapping: Dict[str, str] = {}
    for part in text.split(","):
        if not part.strip():
            continue
        source, sep, target = part.partition("=")
        source, target = source.strip(), target.strip()
        if not sep or not source or not target:
            raise typer.BadParameter(f"expected LABEL=GOLD_LABEL, got {part!r}", param_hint="--label-map")
        if source in mapping and mapping[source] != target:
            raise typer.BadParameter(f"label {source!r} is mapped twice", param_hint="--label-map")
        mapping[source] = target
    if not mapping:
        raise typer.BadParameter("no LABEL=GOLD_LABEL pairs given", param_hint="--label-map")
    return mapping


def _check_label_map(mapping: Dict[str, str], model_labels: Set[str], gold_docs: List[Doc]) -> None:
    unknown = sorted(set(mapping) - model_labels)
    if unknown:
        msg.warn(f"--label-map names labels neither pipeline predicts: {', '.join(unknown)}")
    gold_labels = {e.label_ for doc in gold_docs for e in doc.ents}
    unused = sorted(set(mapping.values()) - gold_labels)
    if unused:
        msg.warn(f"--label-map maps to labels the gold data does not have: {', '.join(unused)}")


def _check_positive(**values: int) -> None:
    for name, value in values.items():
        if value < 1:
            raise typer.BadParameter(f"must be >= 1, got {value}", param_hint=f"--{name.replace('_', '-')}")


def _split_labels(labels: Optional[str]) -> Optional[List[str]]:
    if labels is None:
        return None
    out = [label.strip() for label in labels.split(",") if label.strip()]
    if not out:
        raise typer.BadParameter("no labels given", param_hint="--labels")
    return out


def _fmt(value: Optional[float]) -> str:
    return "-" if value is None else f"{value:.3f}"


def print_results(result: Dict[str, Any]) -> None:
    """Print the per-label tables of an `evaluate` result."""
    per_label = result["agreement"]["per_label"]
    counts_base, counts_updated = result["counts"]["base"], result["counts"]["updated"]
    flagged, new_labels = set(result["flagged"]), set(result["new_labels"])
    msg.divider(f"Agreement of {result['updated']} with {result['base']} ({result['n_docs']} texts)")
    rows = []
    absent = []
    for label in sorted(set(result["labels"]["base"]) | set(result["labels"]["updated"])):
        scores = per_label.get(label)
        if label not in new_labels and not counts_base.get(label) and not counts_updated.get(label):
            absent.append(label)
            continue
        known = scores is not None and scores["n_ref"] > 0
        if label in new_labels:
            note = NEW
        elif label in flagged:
            note = FORGOTTEN
        elif not known:
            note = "no base entities"
        elif scores["f"] < result["threshold"]:
            note = f"(< {result['min_count']} base entities)"
        else:
            note = ""
        p, r, f = (scores["p"], scores["r"], scores["f"]) if known else (None, None, None)
        rows.append((label, counts_base.get(label, 0), counts_updated.get(label, 0), _fmt(p), _fmt(r), _fmt(f), note))
    micro = result["agreement"]["micro"]
    rows.append(("(all base labels)", micro["n_ref"], micro["n_pred"], _fmt(micro["p"]), _fmt(micro["r"]), _fmt(micro["f"]), ""))
    header = ("Label", "Base", "Updated", "Agree P", "Agree R", "Agree F", "")
    print(table(rows, header=header, divider=True, aligns=("l", "r", "r", "r", "r", "r", "l")))
    if absent:
        msg.text(f"Not predicted by either pipeline on these texts: {', '.join(absent)}")
    if "gold" in result:
        _print_gold(result)
    if new_labels:
        msg.info(f"New labels (the base pipeline does not have them): {', '.join(sorted(new_labels))}")
    if flagged:
        msg.warn(
            f"{len(flagged)} base labels under agreement F {result['threshold']}: {', '.join(result['flagged'])}"
        )
    else:
        msg.good(f"No base label under agreement F {result['threshold']} (micro F {micro['f']:.3f})")


def _print_gold(result: Dict[str, Any]) -> None:
    gold = result["gold"]
    where = result["gold_path"]
    label_map = result.get("label_map")
    mapped = ", label map " + ",".join(f"{k}={v}" for k, v in label_map.items()) if label_map else ""
    msg.divider(f"Gold P/R/F on {where}{mapped}")
    rows = []
    for label in gold["labels"]:
        b = gold["base"]["per_label"].get(label, {"p": 0.0, "r": 0.0, "f": 0.0})
        u = gold["updated"]["per_label"].get(label, {"p": 0.0, "r": 0.0, "f": 0.0})
        n = gold["counts"].get(label, 0)
        rows.append((label, n, _fmt(b["p"]), _fmt(b["r"]), _fmt(b["f"]), _fmt(u["p"]), _fmt(u["r"]), _fmt(u["f"]), f"{u['f'] - b['f']:+.3f}"))
    b, u = gold["base"]["micro"], gold["updated"]["micro"]
    rows.append(("(micro)", b["n_ref"], _fmt(b["p"]), _fmt(b["r"]), _fmt(b["f"]), _fmt(u["p"]), _fmt(u["r"]), _fmt(u["f"]), f"{u['f'] - b['f']:+.3f}"))
    header = ("Gold label", "Gold", "Base P", "Base R", "Base F", "Upd. P", "Upd. R", "Upd. F", "Delta F")
    print(table(rows, header=header, divider=True, aligns=("l",) + ("r",) * 8))
    if gold["left_out"]:
        msg.text(f"Gold labels no predicted label maps to (not scored): {', '.join(gold['left_out'])}")


# ---------------------------------------------------------------------------
# plot


class PlotError(RuntimeError):
    """The plot cannot be drawn (matplotlib missing)."""


def _import_pyplot() -> Any:
    try:
        import matplotlib
    except ImportError:
        raise PlotError(
            "--plot needs matplotlib, which is not installed: pip install 'spacy-rehearsal[plot]' "
            "(or pip install matplotlib)"
        ) from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_results(result: Dict[str, Any], path: Path) -> None:
    """Write a PNG with per-label agreement F (and gold F1 of both pipelines, with gold).

    result (Dict[str, Any]): An `evaluate` result.
    path (Path): The PNG file to write.
    """
    plt = _import_pyplot()
    per_label = result["agreement"]["per_label"]
    labels = [label for label, s in per_label.items() if s["n_ref"] > 0]
    panels = 2 if "gold" in result else 1
    fig, axes = plt.subplots(1, panels, figsize=(max(6.0, 0.55 * len(labels)) + 4.0 * (panels - 1), 4.5), squeeze=False)
    ax = axes[0][0]
    width = 0.4
    xs = list(range(len(labels)))
    ax.bar([x - width / 2 for x in xs], [1.0] * len(labels), width, label="base (reference)", color="#9e9e9e")
    colors = ["#d62728" if label in result["flagged"] else "#1f77b4" for label in labels]
    ax.bar([x + width / 2 for x in xs], [per_label[label]["f"] for label in labels], width, label="updated", color=colors)
    ax.axhline(result["threshold"], color="#d62728", linestyle="--", linewidth=1, label=f"threshold {result['threshold']}")
    _style_axis(ax, labels, "Agreement F with the base pipeline")
    if "gold" in result:
        gold = result["gold"]
        ax = axes[0][1]
        glabels = list(gold["labels"]) + ["micro"]
        xs = list(range(len(glabels)))

        def f_of(scores: Dict[str, Any], label: str) -> float:
            return scores["micro"]["f"] if label == "micro" else scores["per_label"].get(label, {}).get("f", 0.0)

        ax.bar([x - width / 2 for x in xs], [f_of(gold["base"], g) for g in glabels], width, label="base", color="#9e9e9e")
        ax.bar([x + width / 2 for x in xs], [f_of(gold["updated"], g) for g in glabels], width, label="updated", color="#2ca02c")
        _style_axis(ax, glabels, "Gold F1")
    fig.suptitle(f"{result['updated']} vs {result['base']} ({result['n_docs']} texts)", fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png", dpi=100)
    plt.close(fig)


def _style_axis(ax: Any, labels: List[str], title: str) -> None:
    ax.set_xticks(range(len(labels)))
    ax.set_xticklabels(labels, rotation=45, ha="right", fontsize=8)
    ax.set_ylim(0, 1.05)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7, loc="lower left")
