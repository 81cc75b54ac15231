"""Earlier rounds' annotation files, read again beside a round's own (`rehearsal_reader.v2`'s `earlier_paths`).

A later round (`docs/rounds.md`) trains the last round's taught NER further.
Where the files an earlier round was trained on are still there, its texts
are the best place for the taught NER to keep what that round taught: their
gold spans say where its labels are, which the teacher's reading of raw text
only approximates. `init-config` writes the files the pipeline's
`meta["rehearsal"]` records that still exist; this module reads them so that
they never count twice:

- a file that is also under the round's own `path` (a directory of every
  round's files), or under two of the earlier paths, is read once;
- a record whose text the round's own annotations hold again is dropped: the
  round's annotation is the newer one (a Prodigy dataset exported again with
  corrections); between earlier files, the first read is kept.
"""
from pathlib import Path
from typing import List, Sequence, Tuple

from ..errors import InputError
from .formats import Record, read_annotations, source_file
from .textfiles import FileStats


def read_earlier(
    paths: Sequence[Path], own_records: Sequence[Record], own_stats: Sequence[FileStats]
) -> Tuple[List[Record], List[FileStats], int]:
    """The records of the earlier rounds' files that the round's own annotations do not already hold.

    paths (Sequence[Path]): Earlier rounds' files (or directories).
    own_records (Sequence[Record]): The round's own records (from `path`).
    own_stats (Sequence[FileStats]): What was read from `path`, per file.
    RETURNS (Tuple[List[Record], List[FileStats], int]): The records in file
        order, what was read from each file (counts after dropping), and how
        many records were dropped because their text is annotated already (by
        the round's own annotations, or by an earlier file read first).
    """
    own_files = {Path(s.path).resolve() for s in own_stats}
    seen_texts = {record.text.strip() for record in own_records}
    records: List[Record] = []
    stats: List[FileStats] = []
    n_again = 0
    for path in paths:
        if not Path(path).exists():
            raise InputError(str(path), "an earlier round's annotations (earlier_paths) not found: give the file at this "
                                        "path again, or remove it from [corpora.train] earlier_paths")
        read, read_stats = read_annotations(Path(path))
        fresh = [s for s in read_stats if Path(s.path).resolve() not in own_files]
        own_files.update(Path(s.path).resolve() for s in fresh)  # a file under two of `paths` is read once too
        by_file = {str(s.path): s for s in fresh}  # a record's source names its file as its FileStats does
        for file_stats in fresh:
            file_stats.examples = file_stats.spans = 0
        stats.extend(fresh)
        for record in read:
            counted = by_file.get(source_file(record.source))
            if counted is None:
                continue
            if record.text.strip() in seen_texts:
                n_again += 1
                continue
            seen_texts.add(record.text.strip())
            counted.examples += 1
            counted.spans += len(record.spans)
            records.append(record)
    return records, [s for s in stats if s.examples or s.skipped], n_again
