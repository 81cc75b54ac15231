"""A later round's config: the taught NER of the last round trained further, never a second one beside it.

`init-config` on a pipeline the component route made (its `meta["rehearsal"]`
names the taught NER, `training/component/rounds.py`) writes this instead of
adding a taught NER:

- every component sourced from `${paths.base}` (the last round's pipeline),
  all frozen but the taught NER, which `spacy train` resumes;
- the taught NER learns this round's labels (new ones get output rows,
  `rehearsal_component.v3` with `resume = true`), and every label it knew is
  kept: the last round's pipeline is the teacher, filling the taught labels
  your annotations leave out on their texts (`fill = "teacher"`,
  `teacher_labels` = what it taught) and teaching them on raw text;
- a corrected label (one the original predicts) is gated off in the
  original, as in round 1. A taught NER that knew only new types is a small
  fresh NER that cannot learn a correction well: the first round that
  corrects starts it again as a full copy of the original NER
  (`copy_weights`), and it learns the earlier rounds' labels from the teacher.

The pipeline so keeps two NERs however many rounds it has had.
"""
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional

from spacy.util import copy_config

from ..teacher.base_pipeline import BasePipeline
from ..training.component.rounds import Record, plan
from .component import COMPONENT_INIT_V3, SPEED, STUDENT_COST, STUDENT_SPEED, corrected_labels, ner_block, original_labels
from .render import Notes


@dataclass(frozen=True)
class Round:
    """What `add_round` wrote: the taught NER, and what the train reader must do."""

    component: str
    restart: bool
    raw_ratio: float
    teacher_labels: List[str]
    corrected: List[str]
    labels_plan: Dict[str, str]
    learned: List[str]  # the labels the taught NER learned from the user in earlier rounds
    earlier_paths: List[str]  # earlier rounds' annotation files that are still where they were
    earlier_gone: List[str]  # ... and those that are not


# Raw texts a new example in a round that corrects, with the earlier rounds' files read again (dev split, 2 seeds,
# benchmarks/results/rounds_corrections_frontier_devsplit.json: 1.0 kept 0.64 of naive's gain, 0.3 0.83, 0.1 and 0 0.89)
CORRECTION_ROUND_RAW = 0.0


def plan_round(base: BasePipeline, labels: List[str], record: Record) -> Round:
    """What a round on `base` does (see the module docstring), before anything is written."""
    originals = original_labels(base)
    corrected = set(record.taught_labels) & originals | set(labels) & originals
    restart = bool(corrected) and not set(record.taught_labels) & originals
    earlier = set(record.taught_labels) - set(labels)
    files = [r for r in record.rounds if r.get("annotations")]
    found = list(dict.fromkeys(str(r["annotations"]) for r in files if Path(r["annotations"]).exists()))
    in_found = {label for r in files if str(r["annotations"]) in found for label in r.get("spans", {})}
    # Raw text keeps a taught NER of new types off the original's types (round 1's recipe), and keeps the labels
    # taught earlier that no file read this round holds. It also teaches O where the base missed a corrected
    # label, which costs a correction its gain: a round that corrects reads CORRECTION_ROUND_RAW when every
    # earlier label is in an earlier round's file read again (measured: docs/rounds.md).
    raw_ratio = CORRECTION_ROUND_RAW if corrected and earlier <= in_found else 1.0
    # The teacher's entities of every label the taught NER will predict: targets where this round's annotations
    # leave them out, missing on raw text where they hold them (respect_annotations). A label left out of
    # teacher_labels would be taught O on raw text: a correction's mentions there (0.27 of naive's gain, measured)
    teacher_labels = sorted((set(record.taught_labels) | set(labels)) & base.labels)  # a new label: nobody's yet
    gone = list(dict.fromkeys(str(r["annotations"]) for r in files if str(r["annotations"]) not in found))
    return Round(record.taught_component, restart, raw_ratio, teacher_labels, sorted(corrected),
                 plan(labels, originals, record.taught_labels), sorted(record.taught_labels),
                 found, gone)


def add_round(config: Dict[str, Any], notes: Notes, base: BasePipeline, labels: List[str], record: Record) -> Round:
    """Train `record`'s taught NER further in `config` (see the module docstring); RETURNS what was written."""
    found = plan_round(base, labels, record)
    taught, restart, corrected = found.component, found.restart, found.corrected
    config["training"]["frozen_components"] = [name for name in base.components if name != taught]
    gate_components = [name for name in base.ners if name != taught] if corrected else []
    if restart:
        config["components"][taught] = {**ner_block(base), "model": copy_config(base.ner_model)}
        notes[(f"components.{taught}", "factory")] = (
            f"The taught NER starts again as a full copy of '{base.ner}' (a correction needs what the original knew); "
            f"the last round's pipeline teaches it {', '.join(record.taught_labels)}"
        )
    else:
        notes[(f"components.{taught}", "source")] = (
            f"The taught NER of round {record.n_rounds}, trained further (not frozen): it keeps what it knew, "
            f"and learns {', '.join(labels)}"
        )
    notes[("training", "frozen_components")] = f"Everything but '{taught}' stays as the last round left it"
    upstream = _listens_to(base.config["components"][taught].get("model", {}))
    if upstream is not None and not restart:  # shared features (round 1's --shared-features): computed while training
        config["training"]["annotating_components"] = [upstream]
        notes[("training", "annotating_components")] = f"'{upstream}' writes the features both NERs read"
    config["initialize"]["after_init"] = {
        "@callbacks": COMPONENT_INIT_V3, "base": "${paths.base}", "component": taught, "source": base.ner,
        "copy_weights": restart, "corrected": corrected, "gate_components": gate_components, "features": None,
        "resume": not restart, "labels": list(labels), "annotations": "${paths.train}",
    }
    notes[("initialize.after_init", "resume")] = (
        "Train the last round's taught NER further (true), or start it again as a copy of the original (false)"
    )
    notes[("initialize.after_init", "corrected")] = (
        "The original's labels the taught NER predicts (this round's and earlier rounds'): gated off in "
        "gate_components (-1e4 output biases, plain weights)"
    )
    return found


def round_corpus(reader: Dict[str, Any], notes: Notes, found: Round) -> None:
    """A later round's train reader (`reader`, as strategies writes it): what the last round taught stays taught.

    The earlier rounds' files are read again where they still are; each file's
    texts get the last round's entities of the labels it does not annotate,
    except a correction's, which another file annotates: missing there.
    """
    reader["labels_per_file"] = True
    notes[("corpora.train", "labels_per_file")] = (
        "Each file's texts (this round's and the earlier rounds') get the teacher's entities of the labels that file "
        "does not annotate, instead of O"
    )
    reader["learned_labels"] = found.learned
    notes[("corpora.train", "learned_labels")] = (
        "What the last round's taught NER learned from your annotations: a label another file annotates that is not "
        "one of these (a correction) is left missing on a file's texts, never the uncorrected reading"
    )
    reader["earlier_paths"] = found.earlier_paths
    notes[("corpora.train", "earlier_paths")] = (
        "The earlier rounds' annotations (meta[\"rehearsal\"]), read again: the taught NER keeps what they taught "
        "where their labels are (measured: docs/rounds.md); [] to train on this round's alone"
    )
    if found.raw_ratio > 0:  # measured on own-corpus raw text: +0.05 F1 for more examples, news agreement 0.944
        reader["trusted_labels"] = []
        notes[("corpora.train", "trusted_labels")] = (
            "[]: the last round's entities of the labels your annotations hold are missing on raw text (measured: "
            "trusting them gained F1 and lost agreement, docs/rounds.md)"
        )
    notes[("corpora.train", "fill")] = (
        "The last round's pipeline (paths.base) fills in the labels its taught NER knew where your annotations "
        "leave them out; everything else is O for the taught NER"
    )
    notes[("corpora.train", "teacher_labels")] = (
        "Every label the taught NER predicts that the teacher knows: its entities of these are targets (those "
        "your annotations hold are yours on their texts, and missing in raw text); other entities are O"
    )


# Corrections and a new type in one file, measured (benchmarks/results/corrections_mixed.json, 4 seeds)
MIX_COST = (
    "Measured for a mix (500 CoNLL corrections of PERSON/ORG/GPE with MISC as a new type): 1.04 of naive's gain, "
    "MISC F1 0.711 (naive 0.688), news agreement 0.899 on the kept types, 0.987 outside the gold spans: the new "
    "type takes over spans the base read as NORP (benchmarks/results/corrections_mixed.json)"
)
# Measured with three NERs (two rounds stacked, as this package did before rounds; issue 39's check)
STACKED_SPEED = "0.57x the base's words per second was measured with three NERs"


def component_summary(
    base: BasePipeline, labels: List[str], record: Optional[Record], found: Optional[Round], shared: bool
) -> List[str]:
    """What init-config prints of a component config: the round, the NERs the pipeline runs and what that costs.

    record, found: the base's record of earlier rounds and `plan_round`'s answer for this one (None: round 1).
    """
    lines = []
    if record is None or found is None:
        corrected = corrected_labels(labels, base)
        n_ners = len(base.ners) + 1
        full_copy = bool(corrected)
        if corrected:
            lines.append(f"The taught NER is a full copy of '{base.ner}' and learns {', '.join(labels)}; "
                         f"{', '.join(corrected)} {'is' if len(corrected) == 1 else 'are'} gated off in the original, which keeps the "
                         f"other types")
        if corrected and set(labels) - set(corrected):
            lines.append(MIX_COST)
    else:
        n_ners, full_copy = len(base.ners), bool(found.corrected)
        shared = _listens_to(base.config["components"][found.component].get("model", {})) is not None
        kept = sorted(set(record.taught_labels) - set(labels))
        how = ("starts again as a full copy of the original (a correction needs what it knew)" if found.restart
               else "is trained further")
        lines.append(
            f"Round {record.n_rounds + 1}: '{found.component}' {how}"
            + (f"; the last round's pipeline teaches it {', '.join(kept)} on your texts and on raw text" if kept else "")
            + f"; the pipeline keeps {n_ners} NERs, as after round 1"
        )
        if found.earlier_paths:
            lines.append(f"Earlier rounds' annotations, read again (earlier_paths): {', '.join(found.earlier_paths)}")
        if found.earlier_gone:
            lines.append(
                f"Not found, so not read again: {', '.join(found.earlier_gone)}. Without an earlier round's texts the "
                f"taught NER keeps its labels from the teacher on your texts and raw text alone, which loses some "
                f"(measured: docs/rounds.md): put the file back, or add its new path to earlier_paths in the config"
            )
    cost = SPEED[(full_copy, shared)] if n_ners <= 2 else f"{n_ners} NERs ({STACKED_SPEED}; each NER costs)"
    if found is not None and _resumes_student(base, found) and n_ners <= 2:
        cost = f"the student in the taught NER's place ({STUDENT_SPEED})"
    lines.append(f"Inference cost, measured with en_core_web_sm: {cost}")
    if n_ners <= 2 and trains_full_copy(base, labels, found) and not shared:
        lines.append(f"Faster, at a cost (spacy rehearsal distill, after training): {STUDENT_COST}")
    return lines


def trains_full_copy(base: BasePipeline, labels: List[str], found: Optional[Round]) -> bool:
    """Whether the config trains a full copy of the original NER (what `spacy rehearsal distill` shrinks).

    found: `plan_round`'s answer (None: round 1). A later round that trains a distilled student further does not.
    """
    if found is None:
        return bool(corrected_labels(labels, base))
    return bool(found.corrected) and not _resumes_student(base, found)


def _resumes_student(base: BasePipeline, found: Round) -> bool:
    """The round trains further the student `spacy rehearsal distill` put in the taught NER's place."""
    return not found.restart and isinstance((base.meta.get("rehearsal") or {}).get("student"), dict)


def _listens_to(model: Any) -> Optional[str]:
    """The component a NER model's features come from through a `spacy.Tok2VecListener`, if it names one."""
    if isinstance(model, dict):
        if str(model.get("@architectures", "")).startswith("spacy.Tok2VecListener") and model.get("upstream") not in (None, "*"):
            return str(model["upstream"])
        for value in model.values():
            found = _listens_to(value)
            if found is not None:
                return found
    return None
