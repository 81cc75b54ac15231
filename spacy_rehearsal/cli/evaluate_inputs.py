"""What `spacy rehearsal evaluate` checks and reads before it scores: the order of the pipelines, the taught labels.

`check_order` stops a run whose BASE and UPDATED are swapped, with the
command the other way round. `taught_labels` says which labels the updated
pipeline was taught (new and corrected) and where that came from: with
`--gold`, agreement on the kept types is measured outside the gold spans of
these labels, so a change the user asked for is not counted as forgetting.
`parse_label_map` reads `--label-map`.
"""
from pathlib import Path
from typing import Any, Collection, Dict, List, Mapping, Optional, Set, Tuple

import typer
from spacy.language import Language

from ..errors import SettingError

# Where the training writes what a pipeline was taught (component pipelines)
META_KEY = "rehearsal"


def meta_taught_labels(nlp: Language) -> Optional[List[str]]:
    """`nlp.meta["rehearsal"]["taught_labels"]`, or None where the pipeline has no such record."""
    record = nlp.meta.get(META_KEY)
    if not isinstance(record, Mapping):
        return None
    labels = record.get("taught_labels")
    if not isinstance(labels, (list, tuple)) or not all(isinstance(label, str) for label in labels):
        return None
    return sorted(labels)


def taught_labels(
    updated: Language, base_labels: Collection[str], updated_labels: Collection[str],
    gold_labels: Optional[Collection[str]], label_map: Optional[Mapping[str, str]],
) -> Tuple[List[str], str]:
    """The labels the updated pipeline was taught, and where they were read from.

    In order: the pipeline's own record (`nlp.meta["rehearsal"]`, written by
    training); the gold file's labels that the updated pipeline predicts (not
    with a --label-map: then the gold labels are another scheme); the labels
    the updated pipeline has and the base lacks.
    RETURNS (Tuple[List[str], str]): The labels, and their source in words.
    """
    labels = meta_taught_labels(updated)
    if labels is not None:
        return labels, f'the updated pipeline\'s meta.json ("{META_KEY}")'
    if gold_labels is not None and label_map is None:
        labels = sorted(set(gold_labels) & set(updated_labels))
        if labels:
            return labels, "the gold file's labels"
    return sorted(set(updated_labels) - set(base_labels)), "the labels the updated pipeline has and the base lacks"


def check_order(base: str, updated: str, base_nlp: Language, updated_nlp: Language,
                base_labels: Set[str], updated_labels: Set[str]) -> None:
    """Stop when BASE looks like the pipeline trained from UPDATED (the two swapped).

    BASE is taken for the trained one from any sign it carries: its config
    names UPDATED as where it came from (`[paths] base`, which the configs
    `init-config` writes keep in the trained pipeline; a component's
    `source`; the tokenizer or vocab `[initialize]` copied, as
    `spacy.copy_from_base_model.v1` does in a plain `spacy train` config that
    sources the base's components), it was taught labels (its meta) that
    UPDATED lacks, or it has labels UPDATED lacks while UPDATED adds none (an
    update adds labels and keeps the ones it had, gated ones included).
    RAISES (SettingError): One line with the command the right way round.
    """
    swap = f"give the original first: python -m spacy rehearsal evaluate {updated} {base} ..."
    for setting, ancestor in ancestors(base_nlp):
        if _same_pipeline(ancestor, updated):
            raise SettingError(
                f"BASE and UPDATED are swapped: BASE '{base}' was trained from UPDATED '{updated}' (its config's "
                f"{setting}): {swap}"
            )
    taught = [label for label in meta_taught_labels(base_nlp) or [] if label not in updated_labels]
    if taught:
        raise SettingError(
            f"BASE and UPDATED look swapped: BASE '{base}' was taught {', '.join(taught)}, which UPDATED "
            f"'{updated}' lacks: {swap}"
        )
    lost = sorted(base_labels - updated_labels)
    if lost and not updated_labels - base_labels:
        raise SettingError(
            f"BASE and UPDATED look swapped: BASE '{base}' has labels UPDATED '{updated}' lacks ({', '.join(lost)}) "
            f"and UPDATED adds none, where an update keeps the base's labels: {swap}"
        )


def ancestors(nlp: Language) -> List[Tuple[str, str]]:
    """(setting, pipeline name or path) for each place a pipeline's config names a pipeline it came from."""
    config = nlp.config
    found = [("paths.base", config.get("paths", {}).get("base"))]
    for name, block in config.get("components", {}).items():
        found.append((f"components.{name}.source", block.get("source") if isinstance(block, Mapping) else None))
    for hook in ("before_init", "after_init"):
        block = config.get("initialize", {}).get(hook)
        if isinstance(block, Mapping):
            found += [(f"initialize.{hook}.{key}", block.get(key)) for key in ("tokenizer", "vocab", "base")]
    return [(setting, value) for setting, value in found if isinstance(value, str) and value]


def _same_pipeline(a: str, b: str) -> bool:
    """Whether two pipeline names or paths name the same pipeline."""
    if a == b:
        return True
    path_a, path_b = Path(a), Path(b)
    return path_a.exists() and path_b.exists() and path_a.resolve() == path_b.resolve()


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


def gold_spans_of(labels: Collection[str], docs: Any, label_map: Optional[Mapping[str, str]]) -> List[List[Tuple[int, int]]]:
    """Per gold doc, the character ranges of its spans of `labels` (named in the gold scheme via `label_map`)."""
    gold = {label_map.get(label, label) for label in labels} if label_map else set(labels)
    return [[(e.start_char, e.end_char) for e in doc.ents if e.label_ in gold] for doc in docs]
