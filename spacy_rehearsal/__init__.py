"""Update a pretrained spaCy pipeline without forgetting: pseudo-rehearsal for `spacy train`.

The registered functions are found through entry points (see pyproject.toml);
importing this package registers nothing by itself.
"""
# The one place the version is set: pyproject.toml reads it (dynamic version), see CHANGELOG.md
__version__ = "0.2.0"
