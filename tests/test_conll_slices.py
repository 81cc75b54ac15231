"""The class-incremental benchmark's slice sampler (benchmarks/conll_slices.py, CFNER's greedy sampler)."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

import pytest  # noqa: E402
from conll_slices import SETTINGS, keep_types, load_slices, mention_types, split_slices, type_counts  # noqa: E402

STEPS = [["A"], ["B"], ["C"]]  # frequencies below: A 6 mentions, B 3, C 1 (C rarest)


def sentence(*tags: str):
    return ([f"w{i}" for i in range(len(tags))], list(tags))


def corpus():
    return [
        sentence("B-A", "O", "B-C"),  # A and C: goes to C's slice, the rarer
        sentence("B-A", "B-B"),  # A and B: B's slice
        sentence("B-A", "I-A", "B-B"),  # B's slice
        sentence("B-A", "B-B"),  # B's slice, its last room
        sentence("B-A",),
        sentence("B-A",),
        sentence("O", "O"),  # no entity: a random open slice
        sentence("O",),
        sentence("O",),
    ]


def test_slices_are_disjoint_and_filled_to_capacity():
    sentences = corpus()
    slices = split_slices(sentences, STEPS, seed=0)
    flat = [i for s in slices for i in s]
    assert len(flat) == len(set(flat)) == len(sentences)
    assert [len(s) for s in slices] == [3, 3, 3]  # 9 sentences, 3 types: 9 * 1 // 3 each


def test_rarest_type_first_then_the_next_with_room():
    slices = split_slices(corpus(), STEPS, seed=0)
    assert 0 in slices[2]  # A + C: C is rarer
    assert {1, 2, 3} <= set(slices[1])  # A + B: B is rarer than A
    assert {4, 5} <= set(slices[0])  # A alone
    # B's slice is full after three sentences: a fourth A + B sentence goes to A's slice
    extra = split_slices(corpus()[:3] + [sentence("B-A", "B-B")] * 2 + corpus()[4:], STEPS, seed=0)
    assert 4 in extra[0]


def test_capacity_follows_the_number_of_types_a_step_adds():
    sentences = corpus() * 4  # 36 sentences
    slices = split_slices(sentences, [["A", "B"], ["C"]], seed=0)
    assert [len(s) for s in slices] == [24, 12]


def test_random_placement_is_seeded():
    sentences = [sentence("O")] * 30
    assert split_slices(sentences, STEPS, seed=3) == split_slices(sentences, STEPS, seed=3)
    assert split_slices(sentences, STEPS, seed=3) != split_slices(sentences, STEPS, seed=4)


def test_mentions_and_label_restriction():
    assert mention_types(["B-A", "I-A", "I-B", "O", "I-A", "B-A"]) == ["A", "B", "A", "A"]  # a stray I- starts one
    assert type_counts([sentence("B-A", "B-C"), sentence("B-A")]) == {"A": 2, "C": 1}
    assert keep_types(["B-A", "I-A", "B-B", "O"], ["B"]) == ["O", "O", "B-B", "O"]


@pytest.mark.parametrize("setting", list(SETTINGS))
def test_conll_slices_put_each_types_mentions_mostly_in_its_own_slice(conll_data, setting):
    sentences, slices, stats = load_slices(setting, seed=1, path=conll_data / "train.txt")
    assert sum(len(s) for s in slices) == len({i for s in slices for i in s}) >= len(sentences) - len(slices)
    for row in stats:
        for t in row["types"]:
            # the rarest-first rule: a step's own types are the ones its slice holds most of
            assert row["share_of_mentions"][t] == max(r["share_of_mentions"][t] for r in stats)
    misc = next(r for r in stats if "MISC" in r["types"])
    assert misc["share_of_mentions"]["MISC"] > 0.95  # MISC, the rarest, fills its slice first
