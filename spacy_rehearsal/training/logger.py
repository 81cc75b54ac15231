"""Loggers that report the rehearsal loss and the live retention.

- `rehearsal_logger.v1`: spaCy's console logger (`spacy.ConsoleLogger.v3`)
  with the two figures as columns.
- `rehearsal_logger.v2`: wraps any spaCy logger given as a nested block
  (`spacy.ConsoleLogger.v3` by default; `spacy.WandbLogger`,
  `spacy.MLflowLogger`, `spacy.ChainLogger` from spacy-loggers, ...) and adds
  the figures to the `info` dict it passes on, so they reach whatever the user
  logs to.

Both add `info["losses"]["rehearsal"]` (the loss of `rehearsal_callback.v1`'s
updates since the last evaluation) and `info["other_scores"]["retention"]`
(agreement F of the pipeline being trained with the teacher on the callback's
held-out raw texts, measured at each evaluation with the current weights).
The wrapped logger sees the pipeline with an extra trainable entry named
"rehearsal" and a "retention" score weight of 0 (which does not change the
score that picks model-best), so loggers that make a column or a JSONL field
per component and per score weight (the console logger) show both.
"""
import sys
from types import SimpleNamespace
from typing import IO, Any, Callable, Dict, Optional, Tuple, Union
from pathlib import Path

from spacy.language import Language
from spacy.util import registry

from .rehearsal_state import rehearsal_state

LOSS_COLUMN = "rehearsal"
RETENTION_COLUMN = "retention"

LogStep = Callable[[Optional[Dict[str, Any]]], None]
Finalize = Callable[[], None]
# What a registered spaCy logger returns (spacy-loggers calls it LoggerT).
LoggerT = Callable[[Language, IO, IO], Tuple[LogStep, Finalize]]


class _LossColumn:
    """Stands in for a trainable component so the console logger shows a loss column."""

    is_trainable = True


class _PipelineView:
    """The pipeline being trained as the wrapped logger sees it.

    Its `pipeline` has the "rehearsal" loss entry and its config the
    "retention" score weight; everything else is the pipeline's own.
    """

    def __init__(self, nlp: Language):
        self._nlp = nlp
        self.pipeline = [*nlp.pipeline, (LOSS_COLUMN, _LossColumn())]
        config = nlp.config.copy()
        config["training"]["score_weights"] = {**config["training"]["score_weights"], RETENTION_COLUMN: 0.0}
        self.config = config

    def __getattr__(self, name: str) -> Any:
        return getattr(self._nlp, name)


def _with_rehearsal(nlp: Language) -> Callable[[LogStep], LogStep]:
    """Wrap a `log_step` so that each logged info carries the rehearsal loss and retention."""

    def wrap(log_step: LogStep) -> LogStep:
        def log_rehearsal_step(info: Optional[Dict[str, Any]]) -> None:
            if info is None:
                return log_step(None)
            state = rehearsal_state(nlp)
            retention = state.retention(nlp) if state is not None else None
            info = {
                **info,
                "losses": {**info["losses"], LOSS_COLUMN: state.loss() if state is not None else 0.0},
                "other_scores": {**info["other_scores"], RETENTION_COLUMN: retention or 0.0},
            }
            log_step(info)
            if state is not None:
                state.reset()

        return log_rehearsal_step

    return wrap


# Registered as "rehearsal_logger.v1" in the "spacy_loggers" entry point group.
def create_rehearsal_logger(
    progress_bar: Optional[str] = None,
    console_output: bool = True,
    output_file: Optional[Union[str, Path]] = None,
) -> Callable[[Language], Tuple[LogStep, Finalize]]:
    """Create a logger that adds the rehearsal loss and retention to `spacy.ConsoleLogger.v3`.

    Columns added to the console table (and the `output_file` JSONL):
    "Loss rehearsal": the loss of `rehearsal_callback.v1`'s updates since the
    last evaluation, reported apart from the components' own losses;
    "retention": at each evaluation, agreement F (x100) of the pipeline being
    trained with the teacher on the callback's held-out raw texts. Retention
    uses the current weights, not the optimizer's averages that the dev score
    uses. Without the callback both columns show 0.

    progress_bar, console_output, output_file: As for spacy.ConsoleLogger.v3.
    """
    console = registry.loggers.get("spacy.ConsoleLogger.v3")(
        progress_bar=progress_bar, console_output=console_output, output_file=output_file
    )

    def setup_printer(nlp: Language, stdout: IO = None, stderr: IO = None):  # type: ignore[assignment]
        training = dict(nlp.config["training"])
        training["score_weights"] = {**training["score_weights"], RETENTION_COLUMN: 0.0}
        view = SimpleNamespace(pipeline=[*nlp.pipeline, (LOSS_COLUMN, _LossColumn())], config={"training": training})
        log_step, finalize = console(view, stdout or sys.stdout, stderr or sys.stderr)
        return _with_rehearsal(nlp)(log_step), finalize

    return setup_printer


# Registered as "rehearsal_logger.v2" in the "spacy_loggers" entry point group.
def create_rehearsal_logger_v2(logger: Optional[LoggerT] = None) -> LoggerT:
    """Create a logger that wraps another spaCy logger and passes it the rehearsal figures.

    Each `info` dict the wrapped logger gets has `losses["rehearsal"]` and
    `other_scores["retention"]` (see the module docstring): W&B and MLflow log
    them as `loss_rehearsal` and `retention`, the console logger shows them as
    columns and writes them to its `output_file`. Without
    `rehearsal_callback.v1` both are 0.

    logger (Optional[LoggerT]): The logger to wrap, as a nested block
        `[training.logger.logger]`. None: `spacy.ConsoleLogger.v3` with its defaults.
    RETURNS (LoggerT): The logger.
    """
    wrapped = logger if logger is not None else registry.loggers.get("spacy.ConsoleLogger.v3")()

    def setup_logger(nlp: Language, stdout: IO = sys.stdout, stderr: IO = sys.stderr) -> Tuple[LogStep, Finalize]:
        log_step, finalize = wrapped(_PipelineView(nlp), stdout, stderr)  # type: ignore[arg-type]
        return _with_rehearsal(nlp)(log_step), finalize

    return setup_logger
