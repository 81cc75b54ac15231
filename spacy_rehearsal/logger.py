"""`rehearsal_logger.v1`: spaCy's console logger with rehearsal loss and retention columns."""
from pathlib import Path
from types import SimpleNamespace
from typing import IO, Any, Callable, Dict, Optional, Tuple, Union

from spacy.language import Language
from spacy.util import registry

from .callback import rehearsal_state

LOSS_COLUMN = "rehearsal"
RETENTION_COLUMN = "retention"


class _LossColumn:
    """Stands in for a trainable component so the console logger shows a loss column."""

    is_trainable = True


# Registered as "rehearsal_logger.v1" in the "spacy_loggers" entry point group.
def create_rehearsal_logger(
    progress_bar: Optional[str] = None,
    console_output: bool = True,
    output_file: Optional[Union[str, Path]] = None,
) -> Callable[[Language], Tuple[Callable[[Optional[Dict[str, Any]]], None], Callable[[], None]]]:
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
        import sys

        training = dict(nlp.config["training"])
        training["score_weights"] = {**training["score_weights"], RETENTION_COLUMN: 0.0}
        view = SimpleNamespace(pipeline=[*nlp.pipeline, (LOSS_COLUMN, _LossColumn())], config={"training": training})
        log_step, finalize = console(view, stdout or sys.stdout, stderr or sys.stderr)

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

        return log_rehearsal_step, finalize

    return setup_printer
