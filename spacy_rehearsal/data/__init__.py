"""Reading what the user gives: annotations, raw text, and what the annotations teach.

Nothing here loads a pipeline. `textfiles` opens text files (plain, .gz, .jsonl)
and counts what it skips by file and line; `rawtext` turns them into raw texts
for rehearsal; `formats` reads annotations (Prodigy JSONL, `.spacy`) into
records and docs; `merge` combines gold spans with the teacher's entities (the
fill policy a config user sets with `fill`); `taught` works out the taught
labels (every label in the annotations) and the strings the user annotated,
which `respect_annotations` keeps the teacher from arguing with.
"""
