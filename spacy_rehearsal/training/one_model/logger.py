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
from pathlib import Path
from types import SimpleNamespace
from typing import IO, Any, Callable, Dict, Optional, Tuple, Union

from spacy.language import Language
from spacy.util import registry

from .rehearsal_state import rehearsal_state

LOSS_COLUMN = "rehearsal"
RETENTION_COLUMN = "retention"
# The loss's name in the console tables the plugin makes (v1, v2's default): spaCy's console
# logger names a loss column "Loss " + the name and cuts names over 13 characters ("Loss
# rehearsal" showed as "LOSS REHEA..."). The info dict and the output_file JSONL keep LOSS_COLUMN.
CONSOLE_LOSS = "rehearse"

LogStep = Callable[[Optional[Dict[str, Any]]], None]
Finalize = Callable[[], None]
# What a registered spaCy logger returns (spacy-loggers calls it LoggerT).
LoggerT = Callable[[Language, IO, IO], Tuple[LogStep, Finalize]]


class _LossColumn:
    """Stands in for a trainable component so the console logger shows a loss column."""

    is_trainable = True


class _PipelineView:
    """The pipeline being trained as the wrapped logger sees it.

    Its `pipeline` has the loss entry (named `loss`) and its config the
    "retention" score weight; everything else is the pipeline's own.
    """

    def __init__(self, nlp: Language, loss: str = LOSS_COLUMN):
        self._nlp = nlp
        self.pipeline = [*nlp.pipeline, (loss, _LossColumn())]
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


def _as_console_loss(log_step: LogStep) -> LogStep:
    """A console table's `log_step`: the rehearsal loss under CONSOLE_LOSS, the name its column is made from."""

    def log_console_step(info: Optional[Dict[str, Any]]) -> None:
        if info is not None:
            losses = {k: v for k, v in info["losses"].items() if k != LOSS_COLUMN}
            info = {**info, "losses": {**losses, CONSOLE_LOSS: info["losses"][LOSS_COLUMN]}}
        log_step(info)

    return log_console_step


def _both(first: Tuple[LogStep, Finalize], second: Tuple[LogStep, Finalize]) -> Tuple[LogStep, Finalize]:
    def log_step(info: Optional[Dict[str, Any]]) -> None:
        first[0](info)
        second[0](info)

    def finalize() -> None:
        first[1]()
        second[1]()

    return log_step, finalize


# Registered as "rehearsal_logger.v1" in the "spacy_loggers" entry point group.
def create_rehearsal_logger(
    progress_bar: Optional[str] = None,
    console_output: bool = True,
    output_file: Optional[Union[str, Path]] = None,
) -> Callable[[Language], Tuple[LogStep, Finalize]]:
    """Create a logger that adds the rehearsal loss and retention to `spacy.ConsoleLogger.v3`.

    Columns added to the console table (and the `output_file` JSONL):
    "Loss rehearse" (the JSONL's "rehearsal"): the loss of
    `rehearsal_callback.v1`'s updates since the last evaluation, reported
    apart from the components' own losses;
    "retention": at each evaluation, agreement F (x100) of the pipeline being
    trained with the teacher on the callback's held-out raw texts. Retention
    uses the current weights, not the optimizer's averages that the dev score
    uses. Without the callback both columns show 0.

    progress_bar, console_output, output_file: As for spacy.ConsoleLogger.v3.
    """
    # Two of spaCy's console loggers: the table (its loss column CONSOLE_LOSS, so that its name
    # fits) and, with output_file, the JSONL writer (the loss under LOSS_COLUMN, as it always was)
    make_console = registry.loggers.get("spacy.ConsoleLogger.v3")
    table = make_console(progress_bar=progress_bar, console_output=console_output, output_file=None)
    jsonl = make_console(progress_bar=None, console_output=False, output_file=output_file) if output_file else None

    def setup_printer(
        nlp: Language, stdout: Optional[IO] = None, stderr: Optional[IO] = None
    ) -> Tuple[Callable[[Optional[Dict[str, Any]]], None], Callable[[], None]]:
        training = dict(nlp.config["training"])
        training["score_weights"] = {**training["score_weights"], RETENTION_COLUMN: 0.0}

        def view(loss: str) -> SimpleNamespace:
            return SimpleNamespace(pipeline=[*nlp.pipeline, (loss, _LossColumn())], config={"training": training})

        out, err = stdout or sys.stdout, stderr or sys.stderr
        file_logger = jsonl(view(LOSS_COLUMN), out, err) if jsonl is not None else None
        table_step, table_finalize = table(view(CONSOLE_LOSS), out, err)
        logger = (_as_console_loss(table_step), table_finalize)
        log_step, finalize = _both(file_logger, logger) if file_logger is not None else logger
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
        `[training.one_model.logger.logger]`. None: `spacy.ConsoleLogger.v3` with its
        defaults, whose table names the loss column "Loss rehearse" (a
        wrapped logger gets the loss as "rehearsal": a console logger given
        here cuts that column's name to "Loss rehea...").
    RETURNS (LoggerT): The logger.
    """
    wrapped = logger if logger is not None else registry.loggers.get("spacy.ConsoleLogger.v3")()

    def setup_logger(nlp: Language, stdout: IO = sys.stdout, stderr: IO = sys.stderr) -> Tuple[LogStep, Finalize]:
        if logger is None:  # the plugin's own console table
            log_step, finalize = wrapped(_PipelineView(nlp, CONSOLE_LOSS), stdout, stderr)  # type: ignore[arg-type]
            return _with_rehearsal(nlp)(_as_console_loss(log_step)), finalize
        log_step, finalize = wrapped(_PipelineView(nlp), stdout, stderr)  # type: ignore[arg-type]
        return _with_rehearsal(nlp)(log_step), finalize

    return setup_logger
