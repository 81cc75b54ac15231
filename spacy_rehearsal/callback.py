"""`rehearsal_callback.v1`: pseudo-rehearsal inside `spacy train`'s own update step.

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

spaCy's `Language.rehearse()` (squared error on raw scores against a copy of
the model, experimental upstream) is not used; benchmarks/forgetting.py
measures what each mode keeps.
"""
import random
import weakref
from collections import deque
from itertools import islice
from pathlib import Path
from typing import Any, Callable, Deque, Dict, Iterator, List, Literal, Optional

from spacy.language import Language
from spacy.tokens import Doc
from spacy.training import Example

from . import messages
from .anchor import WeightAnchor
from .distill import RECIPE, Distiller, NewActions, entity_recognizer
from .errors import InputError, SettingError
from .rawtext import check_raw_path, count_raw_texts
from .rehearsal_state import _STATES, RehearsalState, rehearsal_state  # noqa: F401 (rehearsal_state: public here too)
from .teacher import Teacher

NAME = "rehearsal_callback.v1"

Mode = Literal["silver", "distill"]
SHUFFLE_BUFFER = 2048

# Registered as "rehearsal_callback.v1" in the "spacy_callbacks" entry point group.
def create_rehearsal_callback(
    teacher: str,
    raw_path: Path,
    components: List[str] = ["ner"],
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
    RETURNS (Callable[[Language, Dict[str, Any]], None]): The callback.

    The raw text, the teacher and `cache_dir` are checked when the config is
    resolved; raw lines that turn out bad during training are skipped and
    counted (see `rehearsal_reader.v1`).
    """
    for name, value, low in (("batch_size", batch_size, 1), ("every_n_steps", every_n_steps, 1), ("heldout_size", heldout_size, 0)):
        if value < low:
            raise SettingError(f"{NAME}: {name} must be >= {low}, got {value}")
    for name, value in (("temperature", temperature), ("weight", weight)):
        if not value > 0:
            raise SettingError(f"{NAME}: {name} must be > 0, got {value}")
    if l2_pull < 0:
        raise SettingError(f"{NAME}: l2_pull must be >= 0, got {l2_pull}")
    if not components:
        raise SettingError(f"{NAME}: components is empty: name the components to rehearse, e.g. [\"ner\"]")
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
    how = f"soft targets at temperature {temperature}, weight {weight}" if mode == "distill" else "silver labels"
    pull = f"; weights pulled toward the start ({l2_pull})" if l2_pull else ""
    messages.info(
        f"{NAME} {raw_path}: {batch_size} rehearsal texts drawn every {every_n_steps} step(s), {how}{pull}; "
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
    )


# Registered as "rehearsal_callback.v2" in the "spacy_callbacks" entry point group.
def create_rehearsal_callback_v2(
    teacher: str,
    raw_path: Path,
    components: List[str] = ["ner"],
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
) -> Callable[[Language, Dict[str, Any]], None]:
    """`rehearsal_callback.v1` with the measured recipe as its defaults: soft targets (mode "distill").

    Every argument is v1's (see `create_rehearsal_callback`); only the defaults
    differ: `distill.RECIPE`, chosen on a dev split in benchmarks/forgetting.py.
    v1 keeps its published defaults (mode "silver", batch_size 32).
    """
    return create_rehearsal_callback(**locals())


class RehearsalCallback:
    """The callable a `rehearsal_callback.v1` block resolves to: `(nlp, {"step", "epoch"}) -> None`."""

    def __init__(
        self,
        teacher: Teacher,
        raw_path: Path,
        *,
        components: List[str],
        batch_size: int,
        every_n_steps: int,
        cache_dir: Optional[Path],
        seed: int,
        heldout_size: int,
        mode: Mode = "silver",
        distill: Optional[Dict[str, Any]] = None,
        l2_pull: float = 0.0,
    ):
        self.teacher = teacher
        self.raw_path = raw_path
        self.components = list(components)
        self.batch_size = batch_size
        self.every_n_steps = every_n_steps
        self.cache_dir = cache_dir
        self.seed = seed
        self.heldout_size = heldout_size
        self._nlp: Optional["weakref.ref[Language]"] = None
        self._stream: Optional[Iterator[Doc]] = None
        self._exclude: List[str] = []
        self._annotates: List[str] = []
        self._dropout = 0.0
        self.mode = mode
        self.distill_settings = dict(distill or {})
        self.l2_pull = l2_pull
        self._distillers: List[Distiller] = []
        self._anchor: Optional[WeightAnchor] = None

    def __call__(self, nlp: Language, info: Dict[str, Any]) -> None:
        if self._nlp is None or self._nlp() is not nlp:
            self._setup(nlp)
        state = _STATES[nlp]
        if self._anchor is not None:
            state.distance = self._anchor.pull()
        if info.get("step", 0) % self.every_n_steps:
            return
        docs = [doc for doc, _ in zip(self._stream, range(self.batch_size))]  # type: ignore[arg-type]
        state.n_examples += len(docs)
        if self.mode == "distill":
            for distiller in self._distillers:
                state.losses[distiller.name] = state.losses.get(distiller.name, 0.0) + distiller(docs)
            return
        examples = [Example(nlp.make_doc(doc.text), self.teacher.silver_doc(doc, nlp.vocab)) for doc in docs]
        nlp.update(
            examples,
            drop=self._dropout,
            sgd=False,  # type: ignore[arg-type]
            losses=state.losses,
            exclude=self._exclude,
            annotates=self._annotates,
        )

    def _setup(self, nlp: Language) -> None:
        """Check the components against the pipeline and training config (step 0)."""
        training = nlp.config.get("training", {})
        frozen = set(training.get("frozen_components", []))
        missing = [c for c in self.components if c not in nlp.pipe_names]
        if missing:
            raise SettingError(
                f"rehearsal_callback.v1: components {missing} are not in the pipeline {nlp.pipe_names}. "
                f"Set [training.before_update] components to the components to rehearse."
            )
        frozen_asked = [c for c in self.components if c in frozen]
        if frozen_asked:
            raise SettingError(
                f"rehearsal_callback.v1: components {frozen_asked} are in [training] frozen_components, "
                f"so rehearsal cannot update them. Remove them from components or from frozen_components."
            )
        update = set(self.components)
        for name, proc in nlp.pipeline:  # shared tok2vec/transformer the components listen to
            if name not in frozen and update & set(getattr(proc, "listening_components", [])):
                update.add(name)
        self._exclude = [name for name in nlp.pipe_names if name not in update]
        self._annotates = list(training.get("annotating_components", []))
        dropout = training.get("dropout", 0.0)
        self._dropout = float(dropout) if isinstance(dropout, (int, float)) else 0.0
        raw = self.teacher.raw_texts(self.raw_path, owner=NAME)
        heldout = list(islice(self.teacher.annotate(raw, cache_dir=self.cache_dir, vocab=nlp.vocab), self.heldout_size))
        stream = self.teacher.rehearsal_stream(
            self.raw_path, cache_dir=self.cache_dir, vocab=nlp.vocab, skip=self.heldout_size, owner=NAME
        )
        self._stream = _shuffled(stream, random.Random(self.seed))
        if self.mode == "distill":
            self._distillers = [
                Distiller(nlp, name, self.teacher.nlp, frozen=list(frozen), **self.distill_settings)
                for name in self.components
            ]
        if self.l2_pull:
            self._anchor = WeightAnchor([nlp.get_pipe(name).model for name in self.components], self.l2_pull)
        _STATES[nlp] = RehearsalState(self.teacher, heldout)
        self._nlp = weakref.ref(nlp)
        messages.detail(
            f"{NAME}: rehearsing {sorted(update)} on {self.raw_path}: {self.batch_size} raw examples every "
            f"{self.every_n_steps} step(s); {len(heldout)} held out for retention"
        )


def _shuffled(docs: Iterator[Doc], rng: random.Random, size: int = SHUFFLE_BUFFER) -> Iterator[Doc]:
    """Shuffle a stream through a buffer of `size` items (deterministic given `rng`)."""
    buffer: Deque[Doc] = deque()
    for doc in docs:
        buffer.append(doc)
        if len(buffer) >= size:
            i = rng.randrange(len(buffer))
            buffer[i], buffer[-1] = buffer[-1], buffer[i]
            yield buffer.pop()
    items = list(buffer)
    rng.shuffle(items)
    yield from items
