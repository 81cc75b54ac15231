"""`rehearsal_callback.v1`/`.v2`/`.v3`: pseudo-rehearsal inside `spacy train`'s own update step.

In `[training.before_update]`, before each step's update, the callback draws
the next batch of raw texts and adds a rehearsal gradient for the rehearsed
components; the gradients accumulate with those of the step's own batch, and
the training loop's optimizer applies both together in `finish_update`.
- mode "silver": `nlp.update(..., sgd=False)` on the teacher's entities for
  the raw batch (hard labels).
- mode "distill": soft targets, the teacher NER's action probabilities along
  the student's own transitions (`distill.py`); the gradient vanishes where
  the student already agrees with the teacher.
`l2_pull` (any mode) adds a pull toward the starting weights (`anchor.py`).
v2 has the measured recipe (soft targets) as its defaults; v3 adds that raw
text never argues with your annotations (`annotations`, `respect_annotations`,
see `taught.py`). The step itself is `rehearsal_step.RehearsalCallback`.

spaCy's `Language.rehearse()` (squared error on raw scores against a copy of
the model, experimental upstream) is not used; benchmarks/forgetting.py
measures what each mode keeps.
"""
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

from spacy.language import Language

from ... import messages
from ...data.formats import read_annotations
from ...data.rawtext import check_raw_path, count_raw_texts
from ...data.taught import taught_from_records
from ...errors import InputError, SettingError
from ...teacher.teacher import Teacher, load_pipeline
from .distill import RECIPE, NewActions, entity_recognizer
from .rehearsal_state import rehearsal_state  # noqa: F401 (public here too)
from .rehearsal_step import NAME, AnnotatedTexts, Mode, RehearsalCallback

NAME_V2 = "rehearsal_callback.v2"
NAME_V3 = "rehearsal_callback.v3"


# Registered as "rehearsal_callback.v1" in the "spacy_callbacks" entry point group.
def create_rehearsal_callback(
    teacher: str,
    raw_path: Path,
    components: List[str] = ["ner"],  # noqa: B006 (confection writes it into the config; never mutated)
    batch_size: int = 32,
    every_n_steps: int = 1,
    mode: Mode = "silver",
    cache_dir: Optional[Path] = None,
    seed: int = 0,
    teacher_labels: Optional[List[str]] = None,
    heldout_size: int = 200,
    n_process: int = 1,
    temperature: float = RECIPE["temperature"],  # type: ignore[assignment]
    weight: float = RECIPE["weight"],  # type: ignore[assignment]
    new_actions: NewActions = RECIPE["new_actions"],  # type: ignore[assignment]
    l2_pull: float = RECIPE["l2_pull"],  # type: ignore[assignment]
    annotations: Optional[Path] = None,
    respect_annotations: bool = False,
    taught_teacher: Optional[str] = None,
    taught_component: str = "ner_new",
    annotated_texts: AnnotatedTexts = "skip",
) -> Callable[[Language, Dict[str, Any]], None]:
    """Create a `[training.before_update]` callback that rehearses on teacher-annotated raw text.

    teacher (str): The original pipeline (package name or path); its whole
        pipeline annotates the raw text.
    raw_path (Path): Raw text (.txt, .jsonl, .spacy or a directory), read in
        file order and started again when used up.
    components (List[str]): The components to rehearse. They must be in the
        pipeline and not frozen.
    batch_size (int): Raw examples per rehearsal update.
    every_n_steps (int): Rehearse on every n-th training step.
    mode (str): "silver": update on the teacher's entities for the raw batch;
        "distill": soft targets from the teacher's NER (components must be
        transition-based NERs, and so must the teacher's entity component).
    cache_dir (Optional[Path]): Directory for cached teacher annotations.
    seed (int): Seed for the shuffle buffer over the raw text.
    teacher_labels (Optional[List[str]]): Teacher labels to rehearse (None: all);
        entities of other labels are taught as O.
    heldout_size (int): The first N raw texts are kept out of rehearsal and
        used by `rehearsal_logger.v1`/`.v2` to report retention. 0: none.
    n_process (int): Processes for the teacher pass.
    temperature (float): "distill": softmax temperature of the soft targets.
    weight (float): "distill": scale of the soft-target loss.
    new_actions (str): "distill": the student's actions for labels the teacher
        lacks are left out of the soft targets ("ignore") or get target 0 ("zero").
    l2_pull (float): Pull of the rehearsed components' weights toward their
        values at the first step (0: off).
    annotations (Optional[Path]): Your training annotations (usually
        ${paths.train}), read to know what they teach (`taught.py`).
    respect_annotations (bool): Raw text never argues with `annotations`: raw
        copies of annotated texts are skipped, the labels they teach are never
        the teacher's to rehearse (silver: missing; distill: left out), and
        tokens repeating an annotated string get no target. v1/v2: false; v3: true.
    taught_teacher (Optional[str]): "distill" with annotations: a pipeline
        trained on them (e.g. the component strategy's), whose NER
        `taught_component` teaches the taught labels on raw text while the
        teacher teaches the others (`distill.py`). None: no teacher for them.
    taught_component (str): The taught-label NER in `taught_teacher` (its only
        NER if it has no component of that name).
    annotated_texts (str): With respect_annotations, raw copies of annotated
        texts are skipped ("skip"), or, in mode "distill", rehearsed with their
        annotated strings left out like any raw text ("rehearse").
    RETURNS (Callable[[Language, Dict[str, Any]], None]): The callback.

    The raw text, the teacher and `cache_dir` are checked when the config is
    resolved; raw lines that turn out bad during training are skipped and
    counted (see `rehearsal_reader.v1`).
    """
    return _create_callback(NAME, **locals())


# Registered as "rehearsal_callback.v2" in the "spacy_callbacks" entry point group.
def create_rehearsal_callback_v2(
    teacher: str,
    raw_path: Path,
    components: List[str] = ["ner"],  # noqa: B006 (confection writes it into the config; never mutated)
    batch_size: int = RECIPE["batch_size"],  # type: ignore[assignment]
    every_n_steps: int = 1,
    mode: Mode = "distill",
    cache_dir: Optional[Path] = None,
    seed: int = 0,
    teacher_labels: Optional[List[str]] = None,
    heldout_size: int = 200,
    n_process: int = 1,
    temperature: float = RECIPE["temperature"],  # type: ignore[assignment]
    weight: float = RECIPE["weight"],  # type: ignore[assignment]
    new_actions: NewActions = RECIPE["new_actions"],  # type: ignore[assignment]
    l2_pull: float = RECIPE["l2_pull"],  # type: ignore[assignment]
    annotations: Optional[Path] = None,
    respect_annotations: bool = False,
    taught_teacher: Optional[str] = None,
    taught_component: str = "ner_new",
    annotated_texts: AnnotatedTexts = "skip",
) -> Callable[[Language, Dict[str, Any]], None]:
    """`rehearsal_callback.v1` with the measured recipe as its defaults: soft targets (mode "distill").

    Every argument is v1's (see `create_rehearsal_callback`); only the defaults
    differ: `distill.RECIPE`, chosen on a dev split in benchmarks/forgetting.py.
    v1 keeps its published defaults (mode "silver", batch_size 32).
    """
    return _create_callback(NAME_V2, **locals())


# Registered as "rehearsal_callback.v3" in the "spacy_callbacks" entry point group.
def create_rehearsal_callback_v3(
    teacher: str,
    raw_path: Optional[Path],
    annotations: Optional[Path],
    components: List[str] = ["ner"],  # noqa: B006 (confection writes it into the config; never mutated)
    batch_size: int = RECIPE["batch_size"],  # type: ignore[assignment]
    every_n_steps: int = 1,
    mode: Mode = "distill",
    cache_dir: Optional[Path] = None,
    seed: int = 0,
    teacher_labels: Optional[List[str]] = None,
    heldout_size: int = 200,
    n_process: int = 1,
    temperature: float = RECIPE["temperature"],  # type: ignore[assignment]
    weight: float = RECIPE["weight"],  # type: ignore[assignment]
    new_actions: NewActions = RECIPE["new_actions"],  # type: ignore[assignment]
    l2_pull: float = RECIPE["l2_pull"],  # type: ignore[assignment]
    respect_annotations: bool = True,
    taught_teacher: Optional[str] = None,
    taught_component: str = "ner_new",
    annotated_texts: AnnotatedTexts = "skip",
) -> Callable[[Language, Dict[str, Any]], None]:
    """`rehearsal_callback.v2` whose raw text never argues with your annotations.

    raw_path (Optional[Path]): As v1's; None (an unset `${paths.raw}`)
        stops with one line saying so.
    annotations (Optional[Path]): Your training annotations, usually
        ${paths.train} (required while respect_annotations is true).
    Every other argument is v1's (see `create_rehearsal_callback`); v3 turns
    `respect_annotations` on (`taught.py`).
    """
    return _create_callback(NAME_V3, **locals())


def _create_callback(
    registered: str,
    *,
    teacher: str,
    raw_path: Optional[Path],
    components: List[str],
    batch_size: int,
    every_n_steps: int,
    mode: Mode,
    cache_dir: Optional[Path],
    seed: int,
    teacher_labels: Optional[List[str]],
    heldout_size: int,
    n_process: int,
    temperature: float,
    weight: float,
    new_actions: NewActions,
    l2_pull: float,
    annotations: Optional[Path],
    respect_annotations: bool,
    taught_teacher: Optional[str],
    taught_component: str,
    annotated_texts: AnnotatedTexts,
) -> Callable[[Language, Dict[str, Any]], None]:
    """The body of every version: `registered` is the registered name, for messages."""
    for name, value, low in (("batch_size", batch_size, 1), ("every_n_steps", every_n_steps, 1), ("heldout_size", heldout_size, 0)):
        if value < low:
            raise SettingError(f"{registered}: {name} must be >= {low}, got {value}")
    for name, number in (("temperature", temperature), ("weight", weight)):
        if not number > 0:
            raise SettingError(f"{registered}: {name} must be > 0, got {number}")
    if l2_pull < 0:
        raise SettingError(f"{registered}: l2_pull must be >= 0, got {l2_pull}")
    if not components:
        raise SettingError(f"{registered}: components is empty: name the components to rehearse, e.g. [\"ner\"]")
    if raw_path is None:
        raise SettingError(f"{registered}: raw_path is not set: the callback rehearses on raw text, e.g. --paths.raw FILE")
    check_raw_path(raw_path)
    n_texts = count_raw_texts(raw_path, heldout_size + 1)
    if n_texts <= heldout_size:
        raise InputError(
            str(raw_path),
            f"raw text holds only {n_texts} texts and heldout_size = {heldout_size} holds them all out "
            f"for retention, leaving none to rehearse: lower heldout_size or add raw text",
        )
    teacher_ = Teacher(teacher, teacher_labels, n_process=n_process)
    if mode == "distill":  # the teacher's side is known now; the student's at step 0
        for name in components:
            entity_recognizer(teacher_.nlp, name, "teacher")
    teacher_.cache(cache_dir)  # a file or a read-only directory fails now, not mid-training
    taught = None
    if respect_annotations:
        if annotations is None:
            raise SettingError(
                f"{registered}: respect_annotations = true needs annotations, the training annotations "
                f"(annotations = ${{paths.train}}), to know what they teach; or set respect_annotations = false"
            )
        records, _ = read_annotations(annotations)
        taught = taught_from_records(records, teacher_.make_doc)
        messages.info(
            f"{registered}: rehearsal respects {annotations}: labels {sorted(taught.labels)} are never the teacher's "
            f"to rehearse; {len(taught.phrases)} annotated strings and {len(taught.texts)} annotated texts left "
            f"out of the raw text",
            once=True,
        )
    second = None
    if taught_teacher is not None:
        if mode != "distill" or taught is None:
            raise SettingError(f"{registered}: taught_teacher needs mode = \"distill\" and annotations with respect_annotations = true")
        second = (load_pipeline(taught_teacher, "taught-label teacher"), taught_component)
        entity_recognizer(second[0], taught_component, "teacher")
    how = f"soft targets at temperature {temperature}, weight {weight}" if mode == "distill" else "silver labels"
    pull = f"; weights pulled toward the start ({l2_pull})" if l2_pull else ""
    messages.info(
        f"{registered} {raw_path}: {batch_size} rehearsal texts drawn every {every_n_steps} step(s), {how}{pull}; "
        f"the first {heldout_size} held out for retention",
        once=True,
    )
    return RehearsalCallback(
        teacher_,
        raw_path,
        components=components,
        batch_size=batch_size,
        every_n_steps=every_n_steps,
        cache_dir=cache_dir,
        seed=seed,
        heldout_size=heldout_size,
        mode=mode,
        distill={"temperature": temperature, "weight": weight, "new_actions": new_actions},
        l2_pull=l2_pull,
        taught=taught,
        taught_teacher=second,
        name=registered,
        skip_annotated=annotated_texts == "skip" or mode != "distill",
    )
