"""Turn CoNLL-2003 ("token TAG" lines, IOB2) into rehearsal and evaluation data.

    python scripts/prepare_conll.py CONLL_FILE OUTPUT_DIR [--limit N] [--seed S] [--skip N]

writes to OUTPUT_DIR:
- `<stem>.txt`: one sentence per line (tokens joined by spaces), shuffled with
  the seed so that consecutive lines come from different articles; raw text
  for `raw_path` or for `spacy rehearsal evaluate`.
- `<stem>.spacy`: the same sentences, in the same order, with their gold
  PER/ORG/LOC/MISC entities, for `--gold`.

`--skip N` drops the first N shuffled sentences and `--limit N` keeps the
next N, so disjoint samples can be cut from one file.
"""
import argparse
import random
from pathlib import Path
from typing import List, Tuple

import spacy
from spacy.tokens import Doc, DocBin, Span

Sentence = Tuple[List[str], List[str]]


def read_conll(path: Path) -> List[Sentence]:
    """Sentences as (words, IOB2 tags); blank lines separate sentences."""
    sentences: List[Sentence] = []
    words: List[str] = []
    tags: List[str] = []
    with Path(path).open(encoding="utf8") as f:
        for i, line in enumerate(f, start=1):
            line = line.strip()
            if not line or line.startswith("-DOCSTART-"):
                if words:
                    sentences.append((words, tags))
                words, tags = [], []
                continue
            parts = line.split()
            if len(parts) < 2:
                raise ValueError(f"{path}:{i}: expected 'token TAG', got {line!r}")
            words.append(parts[0])
            tags.append(parts[-1])
    if words:
        sentences.append((words, tags))
    return sentences


def to_doc(nlp, words: List[str], tags: List[str]) -> Doc:
    """A Doc with the gold entities of IOB2 `tags` (a stray I- starts an entity)."""
    doc = Doc(nlp.vocab, words=words, spaces=[True] * (len(words) - 1) + [False])
    ents = []
    start, label = None, None
    for i, tag in enumerate(tags + ["O"]):
        prefix, _, tag_label = tag.partition("-")
        if start is not None and (prefix != "I" or tag_label != label):
            ents.append(Span(doc, start, i, label=label))
            start, label = None, None
        if prefix == "B" or (prefix == "I" and start is None):
            start, label = i, tag_label
    doc.ents = ents
    return doc


def main(conll_file: Path, output_dir: Path, limit: int = 0, seed: int = 0, skip: int = 0) -> None:
    sentences = read_conll(conll_file)
    random.Random(seed).shuffle(sentences)
    sentences = sentences[skip:]
    if limit:
        sentences = sentences[:limit]
    output_dir.mkdir(parents=True, exist_ok=True)
    nlp = spacy.blank("en")
    stem = Path(conll_file).stem
    with (output_dir / f"{stem}.txt").open("w", encoding="utf8") as f:
        for words, _ in sentences:
            f.write(" ".join(words) + "\n")
    DocBin(docs=(to_doc(nlp, w, t) for w, t in sentences)).to_disk(output_dir / f"{stem}.spacy")
    print(f"Wrote {len(sentences)} sentences to {output_dir / stem}.txt and .spacy")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("conll_file", type=Path)
    parser.add_argument("output_dir", type=Path)
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip", type=int, default=0)
    args = parser.parse_args()
    main(args.conll_file, args.output_dir, args.limit, args.seed, args.skip)
