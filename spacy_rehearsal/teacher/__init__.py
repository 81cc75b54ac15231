"""The original pipeline as a teacher: loading it, annotating raw text, caching the result.

`base_pipeline` inspects the pipeline being updated (its NER, labels,
listeners) for config generation and copies; `teacher` annotates raw text
(`Teacher`), in process or on Dask workers (`dask_engine`, `spacy rehearsal
annotate --engine dask`), in shards that `cache` stores by content address, so
a rerun with the same teacher and text annotates nothing again
(`teacher_pass` is one pass over a stream, with progress).
Imports only `spacy_rehearsal.data`.
"""
