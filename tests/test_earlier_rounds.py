"""A later round's reader: earlier rounds' files read again once, and a correction never filled from the teacher.

`rehearsal_reader.v2`'s `earlier_paths` and `learned_labels`, with the real
base pipeline as the teacher (`docs/rounds.md`).
"""
import json
from pathlib import Path
from typing import Dict, List, Tuple

import pytest
import spacy

from spacy_rehearsal.data.formats import InputError
from spacy_rehearsal.training.reader import create_rehearsal_reader_v2

BRAND_TEXT = "Angela Merkel wore Gucci shoes to the party."
PERSON_TEXT = "Tim Cook met Sarah Smith in Paris."


def _line(text: str, spans: List[Tuple[int, int, str]]) -> str:
    return json.dumps({"text": text, "spans": [{"start": s, "end": e, "label": label} for s, e, label in spans]}) + "\n"


def _refs(reader) -> Dict[str, List[Tuple[str, str]]]:
    """Each example's reference entities, and its missing tokens as ("token", "-")."""
    out = {}
    for eg in reader(spacy.blank("en")):
        ref = eg.reference
        ents = [(e.text, e.label_) for e in ref.ents]
        out[ref.text] = ents + [(t.text, "-") for t in ref if t.ent_iob_ == ""]
    return out


@pytest.fixture
def round_files(tmp_path: Path) -> Dict[str, Path]:
    """Round 1 taught FASHION_BRAND (a.jsonl); round 2 corrects PERSON (b.jsonl)."""
    earlier = tmp_path / "round1" / "a.jsonl"
    earlier.parent.mkdir()
    earlier.write_text(_line(BRAND_TEXT, [(19, 24, "FASHION_BRAND")]))
    own = tmp_path / "round2" / "b.jsonl"
    own.parent.mkdir()
    own.write_text(_line(PERSON_TEXT, [(0, 8, "PERSON"), (13, 24, "PERSON")]))
    return {"earlier": earlier, "own": own}


def test_earlier_files_are_read_beside_the_rounds_own(base_model, round_files, caplog):
    reader = create_rehearsal_reader_v2(round_files["own"], base_model, shuffle=False, labels=["PERSON"],
                                        labels_per_file=True, earlier_paths=[round_files["earlier"]])
    refs = _refs(reader)
    assert set(refs) == {BRAND_TEXT, PERSON_TEXT}  # `labels` checked the round's own file alone
    assert ("Gucci", "FASHION_BRAND") in refs[BRAND_TEXT]


def test_a_file_given_twice_and_a_text_annotated_again_count_once(base_model, round_files, tmp_path, capsys):
    both = tmp_path / "both"
    both.mkdir()
    (both / "a.jsonl").write_text(round_files["earlier"].read_text())
    (both / "b.jsonl").write_text(round_files["own"].read_text())
    # the directory holds round 1's file: read once, as part of `path`; a file named twice is read once
    again = tmp_path / "again.jsonl"
    again.write_text(round_files["earlier"].read_text() + _line("Prada opened a store.", [(0, 5, "FASHION_BRAND")]))
    reader = create_rehearsal_reader_v2(both, base_model, shuffle=False, labels_per_file=True,
                                        earlier_paths=[both / "a.jsonl", again, again])
    texts = [eg.reference.text for eg in reader(spacy.blank("en"))]
    assert sorted(texts) == sorted([BRAND_TEXT, PERSON_TEXT, "Prada opened a store."])
    # BRAND_TEXT, which the directory holds, is the one text skipped: the file named twice is not read again
    assert "1 examples, 1 spans read from earlier rounds' files; skipped 1 whose text is annotated already" in " ".join(
        capsys.readouterr().out.split())


def test_an_earlier_file_gone_stops_with_the_fix(base_model, round_files, tmp_path):
    gone = tmp_path / "moved.jsonl"
    with pytest.raises(InputError, match=r"moved\.jsonl.*earlier_paths"):
        create_rehearsal_reader_v2(round_files["own"], base_model, earlier_paths=[gone])


@pytest.mark.parametrize("learned", [None, ["FASHION_BRAND"]])
def test_a_correction_is_missing_on_another_files_texts(base_model, round_files, learned):
    """The base reads "Angela Merkel" as PERSON, uncorrected: a correction round leaves it missing on round 1's texts."""
    reader = create_rehearsal_reader_v2(round_files["own"], base_model, shuffle=False, labels_per_file=True,
                                        earlier_paths=[round_files["earlier"]], learned_labels=learned)
    refs = _refs(reader)
    if learned is None:  # every teacher label trusted: the base's reading is the target
        assert ("Angela Merkel", "PERSON") in refs[BRAND_TEXT]
    else:
        assert ("Angela", "-") in refs[BRAND_TEXT] and ("Merkel", "-") in refs[BRAND_TEXT]
        assert not any(label == "PERSON" for _, label in refs[BRAND_TEXT])
    assert ("Gucci", "FASHION_BRAND") in refs[BRAND_TEXT]  # gold stays gold
    assert ("Tim Cook", "PERSON") in refs[PERSON_TEXT]


def test_earlier_examples_are_drawn_in_turn_at_earlier_ratio(base_model, round_files, tmp_path):
    earlier = tmp_path / "round1" / "more.jsonl"
    earlier.write_text("".join(_line(f"{brand} opened a store.", [(0, len(brand), "FASHION_BRAND")])
                               for brand in ("Prada", "Chanel", "Dior")))
    reader = create_rehearsal_reader_v2(round_files["own"], base_model, labels_per_file=True, earlier_ratio=1.0,
                                        earlier_paths=[round_files["earlier"], earlier])
    nlp = spacy.blank("en")
    calls = [[eg.reference.text for eg in reader(nlp)] for _ in range(4)]
    assert all(len(texts) == 2 and PERSON_TEXT in texts for texts in calls)  # the round's own, and one earlier a call
    drawn = [text for texts in calls for text in texts if text != PERSON_TEXT]
    assert len(set(drawn[:4])) == 4  # each of the 4 earlier texts once before any comes again
