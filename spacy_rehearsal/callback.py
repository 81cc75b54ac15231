"""`rehearsal_callback.v1`: pseudo-rehearsal inside `spacy train`'s own update step.

In `[training.before_update]`, before each step's update, the callback draws
the next batch of raw texts annotated by the teacher ("silver" examples) and
runs `nlp.update(..., sgd=False)` on them for the rehearsed components. The
gradients accumulate with those of the step's own batch, and the training
loop's optimizer applies both together in `finish_update`. So the updated
component keeps seeing what the original predicted on ordinary text.

spaCy's `Language.rehearse()` (which nudges the model's scores towards a copy
of itself, experimental for NER upstream) is not used: silver examples are,
and benchmarks/forgetting.py measures what they keep.
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
from .errors import InputError, SettingError
from .rawtext import check_raw_path, count_raw_texts
from .scoring import score_ents
from .teacher import Teacher

NAME = "rehearsal_callback.v1"

Mode = Literal["silver"]
SHUFFLE_BUFFER = 2048

_STATES: "weakref.WeakKeyDictionary[Language, RehearsalState]" = weakref.WeakKeyDictionary()


def rehearsal_state(nlp: Language) -> Optional["RehearsalState"]:
    """The state of the rehearsal callback training `nlp`, if there is one."""
    return _STATES.get(nlp)


class RehearsalState:
    """What the callback shares with `rehearsal_logger.v1`."""

    def __init__(self, teacher: Teacher, heldout: List[Doc]):
        self.teacher = teacher
        self.heldout = heldout
        # The teacher's entities for the held-out texts, built once for every evaluation
        self.heldout_refs = [teacher.silver_doc(doc, doc.vocab) for doc in heldout]
        self.losses: Dict[str, float] = {}
        self.n_examples = 0

    def loss(self) -> float:
        """Rehearsal loss summed over components since the last reset."""
        return float(sum(self.losses.values()))

    def reset(self) -> None:
        self.losses = {}

    def retention(self, nlp: Language) -> Optional[float]:
        """Agreement F of `nlp` with the teacher on the held-out raw texts (teacher labels)."""
        if not self.heldout:
            return None
        preds = nlp.pipe(doc.text for doc in self.heldout)
        labels = self.teacher.labels if self.teacher.labels is not None else self.teacher.all_labels
        return float(score_ents(preds, self.heldout_refs, labels=labels)["micro"]["f"])  # type: ignore[index]


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
    mode (str): "silver": update on the teacher's entities for the raw batch.
    cache_dir (Optional[Path]): Directory for cached teacher annotations.
    seed (int): Seed for the shuffle buffer over the raw text.
    teacher_labels (Optional[List[str]]): Teacher labels to rehearse (None: all);
        entities of other labels are taught as O.
    heldout_size (int): The first N raw texts are kept out of rehearsal and
        used by `rehearsal_logger.v1`/`.v2` to report retention. 0: none.
    n_process (int): Processes for the teacher pass.
    RETURNS (Callable[[Language, Dict[str, Any]], None]): The callback.

    The raw text, the teacher and `cache_dir` are checked when the config is
    resolved; raw lines that turn out bad during training are skipped and
    counted (see `rehearsal_reader.v1`).
    """
    for name, value, low in (("batch_size", batch_size, 1), ("every_n_steps", every_n_steps, 1), ("heldout_size", heldout_size, 0)):
        if value < low:
            raise SettingError(f"{NAME}: {name} must be >= {low}, got {value}")
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
    teacher_.cache(cache_dir)  # a file or a read-only directory fails now, not mid-training
    messages.info(
        f"{NAME} {raw_path}: {batch_size} rehearsal texts drawn every {every_n_steps} step(s); "
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
    )


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

    def __call__(self, nlp: Language, info: Dict[str, Any]) -> None:
        if self._nlp is None or self._nlp() is not nlp:
            self._setup(nlp)
        if info.get("step", 0) % self.every_n_steps:
            return
        state = _STATES[nlp]
        examples = [
            Example(nlp.make_doc(doc.text), self.teacher.silver_doc(doc, nlp.vocab))
            for doc, _ in zip(self._stream, range(self.batch_size))  # type: ignore[arg-type]
        ]
        nlp.update(
            examples,
            drop=self._dropout,
            sgd=False,  # type: ignore[arg-type]
            losses=state.losses,
            exclude=self._exclude,
            annotates=self._annotates,
        )
        state.n_examples += len(examples)

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
