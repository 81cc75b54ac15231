"""`spacy rehearsal evaluate`: measure what an updated pipeline forgot.

    python -m spacy rehearsal evaluate BASE UPDATED [INPUT] [--gold GOLD] [--html FILE]

`evaluate` runs the original ("base") and the updated pipeline over the same
texts and reports, per label, how many of the base's entities the updated
pipeline still predicts ("agreement", base as reference), and optionally gold
P/R/F of both. This module runs the pipelines, loads the texts and gold
annotations and computes the figures; `evaluate_report.py` prints and plots them,
`evaluate_html.py` writes the `--html` page of the entities that changed.
"""
from itertools import islice
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

import typer
from spacy.cli._util import Arg, Opt
from spacy.tokens import Doc, Span
from tqdm import tqdm
from wasabi import msg

from ..data.formats import RawText, Record, doc_from_record, iter_raw_texts, iter_records_as_raw, read_annotations
from ..data.merge import gold_token_spans
from ..errors import InputError, RehearsalError
from ..scoring import label_counts, score_ents
from ..teacher.teacher import Teacher
from ._util import check_output_file, check_positive, fail, rehearsal_cli, write_json
from .evaluate_html import write_page
from .evaluate_inputs import check_order, gold_spans_of, parse_label_map, taught_labels
from .evaluate_report import PlotError, import_pyplot, plot_results, print_results, warn_label_map

RESULTS_FORMAT = 1
MIN_COUNT = 20  # under 20 base entities, one entity moves a label's agreement by 0.05 or more


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
    min_count: int = Opt(MIN_COUNT, "--min-count", help="Flag only labels the base predicts at least this often in the texts: with n base entities, each one moves agreement by 1/n, 0.05 or more under 20"),
    html: Optional[Path] = Opt(None, "--html", help="Write an HTML page of the passages where the entities differ, base and updated side by side (displaCy), grouped by kind of change"),
    html_max: int = Opt(50, "--html-max", help="Show at most this many passages per kind of change on the --html page (0: counts only)"),
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
    --min-count times: fewer are noise) are flagged as FORGOTTEN; labels only
    the updated pipeline has are shown as new. --html writes a page of the
    passages where the entities differ, grouped by kind of change.

    With --gold, the pipelines run over the gold file's texts (with its
    tokenization for .spacy and Prodigy input), so that predictions and gold
    line up. INPUT may then be left out or name the gold file; if it names
    another file, that file must hold the same texts in the same order (e.g.
    prepare_conll.py's dev.txt beside dev.spacy), compared without
    surrounding whitespace. Gold spans are checked as the reader checks them:
    a span off the base pipeline's token boundaries stops the command with
    its file and line. With --gold, agreement is measured on the kept types,
    outside the gold spans of the labels the updated pipeline was taught (new
    and corrected: from its meta.json, else the gold labels it predicts, else
    the labels the base lacks), so a change you taught is not counted as
    forgetting; the taught labels get gold P/R/F. Without --gold, such changes
    count as disagreement, and the output says so.

    BASE and UPDATED given the wrong way round (BASE's config names UPDATED
    as its paths.base, a component's source or the tokenizer it copied; BASE
    taught labels UPDATED lacks; BASE with labels UPDATED lacks while UPDATED
    adds none), a training output folder instead of its model-last (with or
    without a config.cfg beside it), or a path that holds no pipeline stop
    the command with one line saying what to give.
    """
    try:
        check_positive(n_process=n_process, batch_size=batch_size, min_count=min_count)
        if not 0.0 <= threshold <= 1.0:
            raise typer.BadParameter(f"must be between 0 and 1, got {threshold}", param_hint="--threshold")
        for name, value in (("--limit", limit), ("--html-max", html_max)):
            if value < 0:
                raise typer.BadParameter(f"must be >= 0, got {value}", param_hint=name)
        if plot is not None and plot.suffix.lower() != ".png":
            raise InputError(str(plot), "the plot is written as PNG: give a .png path")
        for path, option in ((output, "--output"), (plot, "--plot"), (html, "--html")):
            if path is not None:
                check_output_file(path, option)  # fail before the pipelines run
        if plot is not None:
            import_pyplot()
        result = evaluate(
            base,
            updated,
            input_path,
            gold=gold,
            label_map=parse_label_map(label_map) if label_map else None,
            threshold=threshold,
            min_count=min_count,
            html=html,
            html_max=html_max,
            limit=limit,
            n_process=n_process,
            batch_size=batch_size,
        )
    except (RehearsalError, PlotError) as e:
        fail(e)
    print_results(result)
    if output is not None:
        write_json(output, result)
    if plot is not None:
        plot_results(result, plot)
        msg.good(f"Wrote {plot}")
    if html is not None:
        msg.info("Changed entities: " + ", ".join(f"{n} {kind}" for kind, n in result["html"]["changes"].items()))
        msg.good(f"Wrote {html}")


def evaluate(
    base: str,
    updated: str,
    input_path: Optional[Path] = None,
    *,
    gold: Optional[Path] = None,
    label_map: Optional[Dict[str, str]] = None,
    threshold: float = 0.7,
    min_count: int = MIN_COUNT,
    html: Optional[Path] = None,
    html_max: int = 50,
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
    html (Optional[Path]): Write the page of changed entities here (`evaluate_html.py`).
    html_max (int): At most this many passages per kind of change on the page.
    limit (int): Use only the first N texts. 0: all.
    n_process (int): Processes for `nlp.pipe`.
    batch_size (int): Batch size for `nlp.pipe`.
    RETURNS (Dict[str, Any]): The figures, as written by `--output`; with `html`,
        "html" holds its path and the changed entities per kind.
    """
    if label_map is not None and gold is None:
        msg.warn("--label-map only applies to the gold comparison: it is ignored without --gold")
    items, records = _load_texts(input_path, gold, limit)
    base_teacher = Teacher(base, batch_size=batch_size, n_process=n_process, role="base")
    updated_teacher = Teacher(updated, batch_size=batch_size, n_process=n_process, role="updated")
    _check_lengths(items, min(base_teacher.max_chars, updated_teacher.max_chars))
    gold_docs = _gold_docs(records, base_teacher) if records is not None else None
    if gold_docs is not None and label_map is not None:
        warn_label_map(label_map, base_teacher.all_labels | updated_teacher.all_labels, gold_docs)
    check_order(base, updated, base_teacher.nlp, updated_teacher.nlp, base_teacher.all_labels, updated_teacher.all_labels)
    base_docs = _run(base_teacher, items, "base")
    updated_docs = _run(updated_teacher, items, "updated")
    base_labels = sorted(base_teacher.all_labels)
    new_labels = sorted(updated_teacher.all_labels - base_teacher.all_labels)
    in_gold = {e.label_ for doc in gold_docs for e in doc.ents} if gold_docs is not None else None
    taught, source = taught_labels(updated_teacher.nlp, base_labels, updated_teacher.all_labels, in_gold, label_map)
    if gold_docs is not None:  # a change the user taught is no forgetting: only the kept types, off taught spans
        kept = [label for label in base_labels if label not in taught]
        agreement = score_ents(updated_docs, base_docs, labels=kept, ignore=gold_spans_of(taught, gold_docs, label_map))
    else:
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
        # which labels were taught, and whether agreement left their gold spans out
        "taught": {"labels": taught, "source": source, "outside_gold": gold_docs is not None},
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
    if html is not None:
        sources = [Path(item.source).name for item in items]
        page = {"base": base, "updated": updated, "sources": sources, "max_shown": html_max}
        result["html"] = {"path": str(html), "changes": write_page(html, base_docs, updated_docs, base_labels, **page)}
    return result


def _load_texts(
    input_path: Optional[Path], gold: Optional[Path], limit: int
) -> Tuple[List[RawText], Optional[List[Record]]]:
    """The texts to run the pipelines on, and the gold records for them (if `gold`)."""
    if gold is None:
        if input_path is None:
            raise InputError("INPUT", "give the texts to evaluate on (INPUT), or --gold")
        items = list(islice(iter_raw_texts(input_path), limit or None))
        if not items:
            raise InputError(str(input_path), "holds no texts")
        return items, None
    records, _ = read_annotations(gold)
    records = records[:limit] if limit else records
    if not records:
        raise InputError(str(gold), "holds no annotated texts")
    if input_path is not None and Path(input_path).resolve() != Path(gold).resolve():
        _check_same_texts(input_path, gold, records, limit)
    return list(iter_records_as_raw(records)), records


def _check_lengths(items: Sequence[RawText], max_chars: int) -> None:
    """Fail on a text the pipelines cannot take (longer than their `nlp.max_length`)."""
    for item in items:
        if len(item.text) > max_chars:
            raise InputError(
                item.source,
                f"text of {len(item.text)} characters is longer than the pipelines' max_length "
                f"({max_chars} characters): split it or leave it out",
            )


def _check_same_texts(input_path: Path, gold: Path, records: Sequence[Record], limit: int) -> None:
    """Fail unless INPUT holds the gold texts, in the same order."""
    texts = list(islice(iter_raw_texts(input_path), limit or None))
    for item, record in zip(texts, records):
        if item.text.strip() != record.text.strip():
            raise InputError(
                item.source,
                f"text differs from the gold text at {record.source} (INPUT and --gold must hold the same "
                f"texts in the same order; leave INPUT out to use the gold texts)",
            )
    if len(texts) != len(records):
        raise InputError(
            str(input_path), f"holds {len(texts)} texts but the gold file {gold} holds {len(records)} (after --limit)"
        )


def _gold_docs(records: Sequence[Record], base: Teacher) -> List[Doc]:
    """Docs holding the gold entities, on the records' own tokens or the base pipeline's.

    Spans are checked as `rehearsal_reader.v1` checks them: one that does not
    fall on token boundaries raises InputError naming its file and line.
    Scoring compares character offsets, so the tokens only serve this check.
    """
    docs = []
    for record in records:
        doc = doc_from_record(base.nlp.vocab, record, base.nlp.make_doc)
        spans = gold_token_spans(record, doc)
        doc.set_ents([Span(doc, start, end, label=label) for start, end, label in spans or []])
        docs.append(doc)
    return docs


def _run(teacher: Teacher, items: List[RawText], desc: str) -> List[Doc]:
    docs = teacher.annotate(items, desc=f"{desc} texts")
    return list(tqdm(docs, total=len(items), desc=f"Running {desc}", unit="texts"))


def _sorted_counts(docs: Iterable[Doc]) -> Dict[str, int]:
    return dict(sorted(label_counts(docs).items()))
