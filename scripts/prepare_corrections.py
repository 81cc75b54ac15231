"""CoNLL-2003 sentences as corrections of en_core_web_sm's own PERSON, ORG and GPE, in Prodigy JSONL.

    python scripts/prepare_corrections.py CONLL_FILE OUTPUT_DIR [--n 300] [--n-dev 100] [--seed 0]

The README's corrections example plays a user who corrected the base's
PERSON/ORG/GPE on news it reads less well and exported the answers from
Prodigy. CoNLL's PER becomes PERSON, ORG stays ORG, LOC becomes GPE (CoNLL
cannot tell countries and cities from regions; benchmarks/conll_mapping.py
has the finer rule the benchmark uses), MISC is left out (O), as from a user
who corrected only those three types. Writes OUTPUT_DIR/train.jsonl (the
first --n shuffled sentences) and OUTPUT_DIR/dev.jsonl (the next --n-dev).
"""
import argparse
import json
import random
from pathlib import Path
from typing import Dict, List

from prepare_conll import read_conll

LABELS = {"PER": "PERSON", "ORG": "ORG", "LOC": "GPE"}


def record(words: List[str], tags: List[str]) -> Dict[str, object]:
    """One sentence as a Prodigy ner_manual answer, with its tokens and the mapped spans."""
    tokens, pos = [], 0
    for i, word in enumerate(words):
        tokens.append({"text": word, "start": pos, "end": pos + len(word), "id": i, "ws": i < len(words) - 1})
        pos += len(word) + 1
    spans, start, label = [], -1, ""
    for i, tag in enumerate([*tags, "O"]):
        prefix, _, tag_label = tag.partition("-")
        if start >= 0 and (prefix != "I" or tag_label != label):
            if label in LABELS:
                spans.append({"start": tokens[start]["start"], "end": tokens[i - 1]["end"], "token_start": start,
                              "token_end": i - 1, "label": LABELS[label]})
            start = -1
        if prefix == "B" or (prefix == "I" and start < 0):
            start, label = i, tag_label
    return {"text": " ".join(words), "tokens": tokens, "spans": spans, "answer": "accept"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("conll", type=Path)
    parser.add_argument("output", type=Path)
    parser.add_argument("--n", type=int, default=300, help="corrections to train on")
    parser.add_argument("--n-dev", type=int, default=100, help="held-out corrections for spacy train's dev score")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    sentences = read_conll(args.conll)
    random.Random(args.seed).shuffle(sentences)
    args.output.mkdir(parents=True, exist_ok=True)
    for name, part in (("train", sentences[: args.n]), ("dev", sentences[args.n: args.n + args.n_dev])):
        path = args.output / f"{name}.jsonl"
        path.write_text("".join(json.dumps(record(w, t)) + "\n" for w, t in part), encoding="utf8")
        print(f"Wrote {len(part)} corrections of {', '.join(LABELS.values())} to {path}")


if __name__ == "__main__":
    main()
