"""What `rehearsal_callback.v1`/`.v2`/`.v3` run at each training step: `RehearsalCallback`.

At step 0 it checks the components against the pipeline and the training
config, holds out the first raw texts for the retention score, and opens the
shuffled rehearsal stream; at every step after that it draws the next batch of
raw texts and adds their rehearsal gradient (silver labels or soft targets)
to the step's own, which the training loop applies in `finish_update`.
"""
import random
import weakref
from collections import deque
from itertools import islice
from pathlib import Path
from typing import Any, Deque, Dict, Iterator, List, Literal, Optional, Tuple, cast

from spacy.language import Language
from spacy.pipeline import TrainablePipe
from spacy.tokens import Doc
from spacy.training import Example
from wasabi import msg

from ... import messages
from ...data.taught import Taught, rehearsal_reference
from ...errors import InputError, SettingError
from ...teacher.teacher import Teacher
from .anchor import WeightAnchor
from .distill import Distiller
from .rehearsal_state import _STATES, RehearsalState

NAME = "rehearsal_callback.v1"
Mode = Literal["silver", "distill"]
AnnotatedTexts = Literal["skip", "rehearse"]
SHUFFLE_BUFFER = 2048


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
        taught: Optional[Taught] = None,
        taught_teacher: Optional[Tuple[Language, str]] = None,
        skip_annotated: bool = True,
        name: str = NAME,
    ):
        self.name = name
        self.skip_annotated = skip_annotated
        self.teacher = teacher
        self.taught = taught
        self.taught_teacher = taught_teacher
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
        try:
            docs = [doc for doc, _ in zip(self._stream, range(self.batch_size))]  # type: ignore[arg-type]
        except InputError as e:  # raw text that holds nothing to rehearse, found at the first step: one line, no traceback
            msg.fail(str(e), exits=1)
        state.n_examples += len(docs)
        if self.mode == "distill":
            for distiller in self._distillers:
                state.losses[distiller.name] = state.losses.get(distiller.name, 0.0) + distiller(docs)
            return
        refs = [rehearsal_reference(self.teacher, doc, nlp.vocab, self.taught) for doc in docs]
        examples = [Example(nlp.make_doc(ref.text), ref) for ref in refs]
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
                f"{self.name}: components {missing} are not in the pipeline {nlp.pipe_names}. "
                f"Set [training.before_update] components to the components to rehearse."
            )
        frozen_asked = [c for c in self.components if c in frozen]
        if frozen_asked:
            raise SettingError(
                f"{self.name}: components {frozen_asked} are in [training] frozen_components, "
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
        raw = self.teacher.raw_texts(self.raw_path, owner=self.name)
        heldout = list(islice(self.teacher.annotate(raw, cache_dir=self.cache_dir, vocab=nlp.vocab), self.heldout_size))
        stream = self.teacher.rehearsal_stream(
            self.raw_path, cache_dir=self.cache_dir, vocab=nlp.vocab, skip=self.heldout_size, owner=self.name,
            exclude=self.taught.is_annotated if self.taught is not None and self.skip_annotated else None,
        )
        self._stream = _shuffled(stream, random.Random(self.seed))
        if self.mode == "distill":
            self._distillers = [
                Distiller(
                    nlp, name, self.teacher.nlp, frozen=list(frozen), taught=self.taught,
                    taught_teacher=self.taught_teacher, **self.distill_settings,
                )
                for name in self.components
            ]
        if self.l2_pull:
            self._anchor = WeightAnchor([cast(TrainablePipe, nlp.get_pipe(name)).model for name in self.components], self.l2_pull)
        _STATES[nlp] = RehearsalState(self.teacher, heldout)
        self._nlp = weakref.ref(nlp)
        messages.detail(
            f"{self.name}: rehearsing {sorted(update)} on {self.raw_path}: {self.batch_size} raw examples every "
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
