"""What runs inside `spacy train`: the registered readers, augmenter, callbacks and logger.

- `reader`, `corpus`: `rehearsal_reader.v1/v2` (gold with teacher-fill, mixed with
  teacher-annotated raw text);
- `augmenter`: `rehearsal_fill.v1` for `spacy.Corpus.v1`;
- `callback`, `rehearsal_step`, `rehearsal_state`: `rehearsal_callback.v1/v2/v3`
  (silver or soft-target rehearsal in `[training.before_update]`);
  `distill` and `actions` compute the soft targets, `anchor` the L2 pull;
- `component`: `rehearsal_copy_ner.v1` (the component strategy's new NER
  started from the original's weights);
- `logger`: `rehearsal_logger.v1/v2` (rehearsal loss and agreement columns).
- `checks`: `rehearsal_check_paths.v1` (unset paths and a base that does not load
  stop `spacy train` in one line, before spaCy sources the base); `phase` tells
  these pieces where in `spacy train` they are called from; `steps` estimates a
  run's steps for the reader's `eval_frequency` hint.
Imports `spacy_rehearsal.data` and `spacy_rehearsal.teacher`, never the config
generation or the commands.
"""
