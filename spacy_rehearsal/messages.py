"""What the plugin shows while `spacy train` runs: counts, skips, wrap-arounds.

Figures a user should see (what each corpus read and skipped, rehearsal text
drawn and started again, raw lines skipped) are printed with wasabi's printer,
as `ℹ`/`⚠` lines like those `spacy train` prints itself, and logged at INFO on
the "spacy_rehearsal" logger. Detail (counts per file, where each kind of skip
first happened, teacher progress) is logged at DEBUG and also printed when
spaCy's own logger is at DEBUG, which is what `spacy train --verbose` sets.
"""
import logging
from typing import Set

from wasabi import msg

logger = logging.getLogger("spacy_rehearsal")

# Lines printed with once=True so far. `spacy train` resolves the corpora and
# callbacks twice (to initialize, then to train): their lines print once.
_SHOWN: Set[str] = set()


def verbose() -> bool:
    """Whether detail is printed: spaCy's logger is at DEBUG (`spacy train --verbose`)."""
    return logging.getLogger("spacy").isEnabledFor(logging.DEBUG)


def info(text: str, once: bool = False) -> None:
    """Print an `ℹ` line (and log it at INFO).

    once (bool): Print it only the first time in this process.
    """
    logger.info(text)
    if _first(text, once):
        msg.info(text)


def warn(text: str, once: bool = False) -> None:
    """Print a `⚠` line (and log it at INFO: a warning would also reach stderr through
    Python's last-resort handler, printing the line twice)."""
    logger.info(text)
    if _first(text, once):
        msg.warn(text)


def detail(text: str, once: bool = False) -> None:
    """Log at DEBUG; print too under `spacy train --verbose`."""
    logger.debug(text)
    if verbose() and _first(text, once):
        msg.text(text)


def _first(text: str, once: bool) -> bool:
    if not once:
        return True
    if text in _SHOWN:
        return False
    _SHOWN.add(text)
    return True
