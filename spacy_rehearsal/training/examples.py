"""The annotated examples a reader trains on: aligned to the teacher's tokens, checked, earlier rounds' added.

`reader.py` calls these when `spacy train` resolves the config, so every
problem stops before the first step with one line naming the file and line.
"""
from itertools import islice
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

from .. import messages
from ..data.earlier_rounds import read_earlier
from ..data.formats import Record
from ..data.merge import TokenSpan, gold_token_spans
from ..data.rawtext import too_long_reason
from ..data.textfiles import FileStats
from ..errors import InputError
from ..teacher.teacher import Teacher
from .read_summary import read_summary

MISALIGNED_HINT = ', or set misaligned_spans = "skip" to skip such examples'


def align_records(
    records: List[Record], stats: List[FileStats], teacher: Teacher, max_length: int, misaligned_spans: str
) -> List[Tuple[Record, List[TokenSpan]]]:
    """Records with their gold spans as token offsets in the teacher's tokenization.

    Examples longer than the teacher's `nlp.max_length` characters or
    `max_length` tokens are skipped; an example with a span off token
    boundaries raises InputError, or is skipped with misaligned_spans="skip".
    Skips are counted in the stats of their file.
    """
    out: List[Tuple[Record, List[TokenSpan]]] = []
    todo = iter(records)
    too_long = too_long_reason(teacher.max_chars)
    for file_stats in stats:  # records come file by file, `examples` of each
        for record in islice(todo, file_stats.examples):
            gold: Optional[List[TokenSpan]] = None
            if len(record.text) > teacher.max_chars:
                why = too_long
            else:
                doc = teacher.make_doc(record)
                if max_length and len(doc) > max_length:
                    why = "longer than max_length"
                else:
                    skip = misaligned_spans == "skip"
                    gold = gold_token_spans(record, doc, skip=skip, hint=MISALIGNED_HINT)
                    why = "misaligned spans" if gold is None else ""
            if gold is None:
                file_stats.examples -= 1
                file_stats.spans -= len(record.spans)
                file_stats.skip(why, record.source)
                continue
            out.append((record, gold))
    return out


def check_labels(path: Path, labels: Sequence[str], examples: List[Tuple[Record, List[TokenSpan]]], limit: int) -> None:
    """The annotations' labels must be `labels` (init-config's --labels): one line naming both sets if not."""
    held = sorted({label for record, _ in examples for _, _, label in record.spans})
    named = sorted(set(labels))
    if held == named:
        return
    which = f"the first {limit} usable examples (limit)" if limit else "the annotations"
    if not held:
        fix = f"{which} hold no spans: give annotations of those labels"
    else:
        fix = (f"{which} hold {held}: run init-config again with --labels {','.join(held)}, or set the reader's "
               f"labels to the annotations' labels")
    raise InputError(str(path), f"labels = {named} (init-config --labels) but {fix}")


def add_earlier(
    name: str, paths: Sequence[Path], records: List[Record], stats: List[FileStats], teacher: Teacher, max_length: int,
    misaligned_spans: str,
) -> List[Tuple[Record, List[TokenSpan]]]:
    """The earlier rounds' examples `path` does not hold already, aligned as `path`'s, with one printed line."""
    earlier, earlier_stats, n_again = read_earlier(paths, records, stats)
    examples = align_records(earlier, earlier_stats, teacher, max_length, misaligned_spans)
    again = (f"; skipped {n_again} whose text is annotated already (this round's annotation, or the first earlier "
             f"file's, is used)" if n_again else "")
    messages.info(f"{name} earlier_paths: {read_summary(earlier_stats, len(examples), 0)} from earlier rounds' "
                  f"files{again}", once=True)
    return examples
