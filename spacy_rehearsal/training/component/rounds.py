"""Rounds: what a pipeline the component route made says of itself, and what the next round does to each label.

A user updates in rounds: annotate, train, annotate more, correct, add the
next type, each round on the pipeline the last one made. The pipeline stays
one taught NER before the frozen original: a round updates the taught NER
that is there (`rehearsal_component.v3` with `resume`), it never stacks
another. The taught NER's previous self is the teacher for what it knew
(the reader fills its labels in on the new texts and teaches them on raw
text), as the base is for its own labels.

`meta["rehearsal"]` (written by `rehearsal_component.v2`/`.v3`, saved in
the pipeline's meta.json) is the record a round reads back:

    taught_component   the taught NER's name
    taught_labels      every label it predicts (all rounds together)
    corrected_labels   the base's labels among them, gated off in the original
    new_labels         the others
    gated_components   the NERs the corrected labels are gated off in
    base               the pipeline of round 1 (v3)
    rounds             one entry a round: its base, labels, examples and
                       spans per label, and what it did to each label (v3)

Pipelines made before rounds were recorded (v2) read as one round with
unknown counts.
"""
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Set

from ...errors import InputError

# What a round does to a label (`plan`), in the order init-config prints them
NEW = "new"
MORE = "more examples"
CORRECTED = "corrected"
TAUGHT_EARLIER = "taught earlier, kept"
KEPT = "kept"
ACTIONS = (NEW, MORE, CORRECTED, TAUGHT_EARLIER, KEPT)


@dataclass(frozen=True)
class Record:
    """`meta["rehearsal"]` of a pipeline the component route made (see the module docstring)."""

    taught_component: str
    taught_labels: List[str]
    corrected_labels: List[str]
    gated_components: List[str]
    base: Optional[str] = None
    rounds: List[Dict[str, Any]] = field(default_factory=list)

    @property
    def n_rounds(self) -> int:
        return max(1, len(self.rounds))


def read_record(meta: Dict[str, Any], components: Sequence[str], pipeline: str) -> Optional[Record]:
    """The component route's record in a pipeline's meta, checked against its components.

    meta (Dict[str, Any]): The pipeline's `nlp.meta`.
    components (Sequence[str]): Its component names.
    pipeline (str): Its name or path, for messages.
    RETURNS (Optional[Record]): None for a pipeline with no record (a base, or one the one-model route made).
    RAISES (InputError): The record names a taught NER the pipeline does not have (removed or renamed).
    """
    found = meta.get("rehearsal")
    if not isinstance(found, dict) or "taught_component" not in found:
        return None
    taught = str(found["taught_component"])
    if taught not in components:
        raise InputError(
            pipeline,
            f"its meta.json (\"rehearsal\") names '{taught}' as the taught NER of an earlier round, but the pipeline "
            f"has no such component ({', '.join(components)}): restore or rename it back to '{taught}', or delete "
            f"the \"rehearsal\" entry of meta.json to update this pipeline as a new base (a second taught NER)",
        )
    return Record(
        taught_component=taught,
        taught_labels=sorted(found.get("taught_labels", [])),
        corrected_labels=sorted(found.get("corrected_labels", [])),
        gated_components=list(found.get("gated_components", [])),
        base=found.get("base"),
        rounds=list(found.get("rounds", [])),
    )


def original_labels(
    ner_labels: Mapping[str, Iterable[str]], taught: Optional[str], earlier: Iterable[str] = (), earlier_corrected: Iterable[str] = (),
) -> Set[str]:
    """The labels the original NER(s) predict: those of every NER but the taught one, less what they acquired.

    A frozen NER that runs after a taught NER adds the taught labels to its own
    (spaCy adds the labels of entities already on a doc before it parses, with
    output rows at zero), so its `labels` alone do not tell what it knew: a
    label an earlier round taught as new (`earlier` but not
    `earlier_corrected`) is the taught NER's, not the original's.
    """
    found = {label for name, labels in ner_labels.items() if name != taught for label in labels}
    return found - (set(earlier) - set(earlier_corrected))


def check_case(labels: Iterable[str], known: Iterable[str], pipeline: str) -> None:
    """A label that differs from a label `pipeline` knows only in case is a typo: one line with the fix."""
    by_folded = {label.casefold(): label for label in known}
    clashes = [(label, by_folded[label.casefold()]) for label in labels
               if label.casefold() in by_folded and by_folded[label.casefold()] != label]
    if clashes:
        given, meant = zip(*clashes)
        raise InputError(
            "--labels",
            f"{', '.join(given)} differ only in case from {', '.join(meant)}, which {pipeline} predicts: give "
            f"--labels with {', '.join(meant)} to teach those, or a name that differs in more than case for a new type",
        )


def plan(labels: Iterable[str], original_labels: Iterable[str], taught_labels: Iterable[str] = ()) -> Dict[str, str]:
    """What a round does to every label: new, more examples, corrected, taught earlier (kept), kept.

    labels: the labels the round's annotations hold; original_labels: the
    labels of the frozen original NER(s); taught_labels: the taught NER's
    labels from earlier rounds (empty in round 1).
    """
    labels, taught = set(labels), set(taught_labels)
    out: Dict[str, str] = {}
    for label in sorted(labels | taught | set(original_labels)):
        if label in labels:
            out[label] = MORE if label in taught else CORRECTED if label in original_labels else NEW
        else:
            out[label] = TAUGHT_EARLIER if label in taught else KEPT
    return out


def describe(labels_plan: Dict[str, str]) -> str:
    """"new: DRUG; corrected: PERSON; kept: CARDINAL, DATE" for init-config's summary."""
    parts = []
    for action in ACTIONS:
        which = [label for label, what in labels_plan.items() if what == action]
        if which:
            parts.append(f"{action}: {', '.join(which)}")
    return "; ".join(parts)


def span_counts(path: Optional[Path]) -> Dict[str, Any]:
    """Examples and spans per label in a round's annotations (what `rounds` records); empty if unreadable."""
    if path is None:
        return {}
    from ...data.formats import read_annotations

    try:
        records, _ = read_annotations(path)
    except (OSError, ValueError):
        return {}
    spans = Counter(label for record in records for _, _, label in record.spans)
    return {"annotations": str(Path(path).resolve()), "examples": len(records), "spans": dict(sorted(spans.items()))}


def next_record(
    previous: Optional[Record], base: str, component: str, taught: List[str], corrected: List[str], gated: List[str],
    labels_plan: Dict[str, str], counts: Dict[str, Any],
) -> Dict[str, Any]:
    """The `meta["rehearsal"]` a round writes: the taught NER's state now, and the rounds so far with this one."""
    rounds = list(previous.rounds) if previous is not None else []
    if previous is not None and not rounds:  # a pipeline from before rounds were recorded: its round, uncounted
        rounds.append({"round": 1, "base": previous.base, "labels": previous.taught_labels})
    taught_here = {label: what for label, what in labels_plan.items() if what in (NEW, MORE, CORRECTED)}
    rounds.append({"round": len(rounds) + 1, "base": base, "labels": sorted(taught_here), "taught": taught_here, **counts})
    return {
        "taught_component": component, "taught_labels": taught, "corrected_labels": corrected,
        "new_labels": sorted(set(taught) - set(corrected)), "gated_components": gated,
        "base": previous.base if previous is not None else base, "rounds": rounds,
    }
