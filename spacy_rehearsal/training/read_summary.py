"""What the reader prints of the annotations it read: one line for `spacy train`'s output, per-file detail."""
from collections import Counter
from pathlib import Path
from typing import Dict, List, Optional

from .. import messages
from ..data.textfiles import FileStats


def read_summary(stats: List[FileStats], n_read: int, limit: int) -> str:
    """"1230 examples, 527 spans read; skipped 3 answer=reject (first at a.jsonl:7); limit 100"."""
    skipped: Counter = Counter()
    first: Dict[str, str] = {}
    for file_stats in stats:
        skipped.update(file_stats.skipped)
        for why, where in file_stats.first_skip.items():
            first.setdefault(why, where)
    text = f"{n_read} examples, {sum(s.spans for s in stats)} spans read"
    if skipped:
        text += "; skipped " + ", ".join(
            f"{n} {why}" + (f" (first at {first[why]})" if why in first else "") for why, n in sorted(skipped.items())
        )
    if limit and n_read > limit:
        text += f"; limit = {limit}: using the first {limit}"
    return text


def show_counts(name: str, path: Path, stats: List[FileStats], n_read: int, limit: int, n_rehearsal: int, raw_path: Optional[Path]) -> None:
    """One line for the corpus in `spacy train`'s output; per-file detail under --verbose."""
    line = f"{name} {path}: {read_summary(stats, n_read, limit)}"
    if raw_path is not None:
        line += f"; {n_rehearsal} rehearsal texts drawn a call from {raw_path}"
    messages.info(line, once=True)
    for file_stats in stats:
        if len(stats) > 1:
            messages.detail(f"  {file_stats.describe()}", once=True)
        for why, where in sorted(file_stats.first_skip.items()):
            messages.detail(f"  {why}: first at {where}", once=True)
