"""The errors a user fixes: one line each, naming the file (and line) or the setting at fault.

They derive from confection's `ConfigValidationError`, the error spaCy raises
for a bad config. Raised while `spacy train` resolves the config (where the
reader, callback, augmenter and logger check their inputs), spaCy's CLI
prints them as one `✘` line and exits with 1, as it does for its own config
errors, instead of printing a traceback and starting to train. For code that
calls the functions directly they are ordinary `ValueError`s whose `str()` is
the one line.
"""
from typing import Callable, Optional, Tuple, Type

from confection import ConfigValidationError


class RehearsalError(ConfigValidationError):
    """A problem with the user's input or settings, as one line of text.

    message (str): The whole message, one line.
    """

    def __init__(self, message: str):
        self.message = message
        super().__init__(title=message, errors=[], show_config=False)

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"

    def __reduce__(self) -> Tuple[Callable, tuple, dict]:
        # Pickled (from a worker process) by its attributes: the constructors differ.
        return (_new_error, (type(self),), self.__dict__)

    @classmethod
    def from_error(
        cls,
        err: ConfigValidationError,
        title: Optional[str] = None,
        desc: Optional[str] = None,
        parent: Optional[str] = None,
        show_config: Optional[bool] = None,
    ) -> ConfigValidationError:
        # spaCy's `show_validation_error` re-creates the error it prints with
        # this method and keyword arguments: give it a plain confection error.
        return ConfigValidationError(
            config=err.config,
            errors=err.errors,
            title=title if title is not None else err.title,
            desc=desc if desc is not None else err.desc,
            parent=parent if parent is not None else err.parent,
            show_config=show_config if show_config is not None else err.show_config,
        )


class InputError(RehearsalError):
    """Bad input data or an unusable path. The message names the file and line or doc index.

    location (str): "file", "file:line" or "file#docN".
    message (str): What is wrong, and what to do about it where that is not obvious.
    """

    def __init__(self, location: str, message: str):
        self.location = location
        super().__init__(f"{location}: {message}")


class TeacherError(RehearsalError):
    """A pipeline (the teacher, or a pipeline `spacy rehearsal evaluate` compares) cannot be used."""


class SettingError(RehearsalError):
    """A config setting or command option with a value that cannot work."""


def _new_error(cls: Type[RehearsalError]) -> RehearsalError:
    """An empty error of `cls`, for unpickling; its attributes are set from the pickle."""
    return cls.__new__(cls)
