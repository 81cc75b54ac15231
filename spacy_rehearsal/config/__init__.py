"""Config generation for `spacy rehearsal init-config`: one config per strategy.

`strategies` writes a complete `config.cfg` (naive, reader, callback,
rehearsal, component, ...) from the base pipeline and the labels; `routes`
holds the recommended settings each strategy writes. Imports the training-time
pieces only for their defaults.
"""
