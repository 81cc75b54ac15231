"""The class-incremental protocol's data: CoNLL-2003 train split into disjoint slices, one per step.

The greedy sampler of CFNER (Zheng et al., EMNLP 2022, zzz47zzz/CFNER
`src/dataloader.py`, `spilt_dataset`), followed by RDP, TBCL and CPFD:

- each step's slice holds `len(step types) / n_types` of the training
  sentences (rounded down; the few sentences left over go nowhere);
- sentences are taken in file order; one that holds entities goes to the slice
  of its rarest type (fewest mentions in the whole training file) whose slice
  still has room, else, like a sentence without entities, to a random slice
  with room (a seeded `random.Random`, never the global one);
- in slice k only step k's types are labelled: every other mention is O, as
  in a user's export of the new type.

`python benchmarks/conll_slices.py [--setting fg-1-pg-1]` prints the slice
statistics.
"""
import argparse
import random
import sys
from collections import Counter
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from conll_mapping import iob_spans  # noqa: E402
from data_paths import CONLL  # noqa: E402
from prepare_conll import Sentence, read_conll  # noqa: E402

CONLL_TRAIN = CONLL / "train.txt"
# The literature's type order and settings: FG-a-PG-b = a types at the first step, b at each later one
TYPE_ORDER = ("LOC", "MISC", "ORG", "PER")
SETTINGS: Dict[str, List[List[str]]] = {
    "fg-1-pg-1": [["LOC"], ["MISC"], ["ORG"], ["PER"]],
    "fg-2-pg-1": [["LOC", "MISC"], ["ORG"], ["PER"]],
}


def mention_types(tags: Sequence[str]) -> List[str]:
    """The type of every entity mention in IOB2 `tags` (a stray I- starts one)."""
    return [label for _, _, label in iob_spans(tags)]


def type_counts(sentences: Sequence[Sentence]) -> Counter:
    """Mentions per type over all sentences."""
    return Counter(t for _, tags in sentences for t in mention_types(tags))


def split_slices(sentences: Sequence[Sentence], steps: Sequence[Sequence[str]], seed: int) -> List[List[int]]:
    """Sentence indices of each step's slice (see the module docstring).

    sentences (Sequence[Sentence]): (words, IOB2 tags), in file order.
    steps (Sequence[Sequence[str]]): The types of each step.
    seed (int): Seeds the random placement of sentences without a slice of their own.
    RETURNS (List[List[int]]): Disjoint, in file order within each slice.
    """
    n_types = sum(len(types) for types in steps)
    step_of = {t: k for k, types in enumerate(steps) for t in types}
    room = [len(sentences) * len(types) // n_types for types in steps]
    frequency = type_counts(sentences)
    rng = random.Random(seed)
    slices: List[List[int]] = [[] for _ in steps]
    for i, (_, tags) in enumerate(sentences):
        rarest_first = sorted({t for t in mention_types(tags) if t in step_of}, key=lambda t: (frequency[t], t))
        target = next((step_of[t] for t in rarest_first if room[step_of[t]] > 0), None)
        if target is None:
            open_slices = [k for k, left in enumerate(room) if left > 0]
            if not open_slices:
                continue
            target = rng.choice(open_slices)
        slices[target].append(i)
        room[target] -= 1
    return slices


def keep_types(tags: Sequence[str], types: Sequence[str]) -> List[str]:
    """IOB2 tags with every mention of another type set to O."""
    return [tag if tag != "O" and tag[2:] in types else "O" for tag in tags]


def slice_stats(sentences: Sequence[Sentence], slices: Sequence[Sequence[int]], steps: Sequence[Sequence[str]]) -> List[Dict]:
    """Per slice: its types, sentences, tokens, mentions of every type and its share of each type's mentions."""
    total = type_counts(sentences)
    stats = []
    for types, indices in zip(steps, slices):
        counts = type_counts([sentences[i] for i in indices])
        stats.append({
            "types": list(types), "sentences": len(indices), "tokens": sum(len(sentences[i][0]) for i in indices),
            "mentions": {t: counts[t] for t in TYPE_ORDER},
            "share_of_mentions": {t: round(counts[t] / total[t], 3) if total[t] else 0.0 for t in TYPE_ORDER},
        })
    return stats


def load_slices(setting: str, seed: int, path: Path = CONLL_TRAIN) -> Tuple[List[Sentence], List[List[int]], List[Dict]]:
    """The training sentences, the setting's slices and their statistics."""
    sentences = read_conll(path)
    slices = split_slices(sentences, SETTINGS[setting], seed)
    return sentences, slices, slice_stats(sentences, slices, SETTINGS[setting])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--setting", choices=list(SETTINGS), default="fg-1-pg-1")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    sentences, _, stats = load_slices(args.setting, args.seed)
    print(f"{len(sentences)} sentences; mentions {dict(type_counts(sentences))}")
    for k, row in enumerate(stats, start=1):
        print(f"step {k} {'+'.join(row['types'])}: {row['sentences']} sentences, {row['tokens']} tokens, "
              f"mentions {row['mentions']}, share {row['share_of_mentions']}")


if __name__ == "__main__":
    main()
