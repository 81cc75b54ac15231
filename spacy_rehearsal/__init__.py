"""Update a pretrained spaCy pipeline without forgetting: pseudo-rehearsal for `spacy train`.

The registered functions are found through entry points (see pyproject.toml);
importing this package registers nothing by itself.
"""
__version__ = "0.1.0"
