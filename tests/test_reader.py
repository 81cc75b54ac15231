"""`rehearsal_reader.v1`: config validation at resolve time, fill policies, rehearsal sampling, counts."""
import json
import logging
import re
from pathlib import Path
from typing import Dict, List, Optional

import pytest
import spacy
from confection import Config, ConfigValidationError
from spacy.language import Language
from spacy.tokens import Doc, DocBin, Span
from spacy.util import registry

from spacy_rehearsal.data.formats import InputError
from spacy_rehearsal.errors import SettingError
from spacy_rehearsal.teacher.teacher import TeacherError, load_pipeline
from spacy_rehearsal.training.reader import create_rehearsal_reader, create_rehearsal_reader_v2

BRAND = "FASHION_BRAND"
# Texts the teacher annotates with old labels; token offsets as the teacher sees them.
NEW = [
    # Teacher: Gucci PERSON, Paris GPE, Tim Cook PERSON, last Monday DATE.
    {"text": "I bought Gucci shoes in Paris with Tim Cook last Monday.", "spans": [(9, 14, BRAND)]},
    # Teacher: Prada ORG, 500 dollars MONEY, Milan GPE.
    {"text": "The Prada bag cost 500 dollars in Milan.", "spans": [(4, 9, BRAND)]},
    # Teacher: Angela Merkel PERSON, Emmanuel Macron PERSON, Berlin GPE, Friday DATE.
    {"text": "Angela Merkel met Emmanuel Macron in Berlin on Friday.", "spans": []},
]
RAW = [
    "Apple opened a store in London on Monday.",
    "Barack Obama visited Germany in 2015.",
    "Microsoft hired 300 engineers in Seattle.",
    "Nike sued Adidas in Oregon.",
    "Rain fell on Tuesday.",
]
LOGGER = "spacy_rehearsal"


def write_jsonl(path: Path, records: List[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = []
    for r in records:
        r = dict(r)
        r["spans"] = [{"start": s, "end": e, "label": label} for s, e, label in r.get("spans", [])]
        lines.append(json.dumps(r))
    path.write_text("\n".join(lines) + "\n", encoding="utf8")
    return path


@pytest.fixture
def new_path(tmp_path) -> Path:
    return write_jsonl(tmp_path / "new.jsonl", NEW)


@pytest.fixture
def raw_path(tmp_path) -> Path:
    path = tmp_path / "raw.txt"
    path.write_text("\n".join(RAW) + "\n", encoding="utf8")
    return path


@pytest.fixture
def nlp() -> Language:
    return spacy.blank("en")


@pytest.fixture(scope="session")
def teacher_nlp(base_model) -> Language:
    return load_pipeline(base_model)


@pytest.fixture(scope="session")
def no_ner_pipeline(tmp_path_factory) -> Path:
    blank = spacy.blank("en")
    blank.add_pipe("sentencizer")
    path = tmp_path_factory.mktemp("no_ner") / "pipeline"
    blank.to_disk(path)
    return path


def ents(doc: Doc):
    return {(e.start_char, e.end_char, e.label_) for e in doc.ents}


def by_text(examples) -> Dict[str, Doc]:
    return {eg.reference.text: eg.reference for eg in examples}


def teacher_ents(teacher_nlp, text: str, labels: Optional[set] = None):
    return {e for e in ents(teacher_nlp(text)) if labels is None or e[2] in labels}


def overlaps(a, b) -> bool:
    return a[0] < b[1] and b[0] < a[1]


# --- Building through the config, as `spacy train` does -------------------------------------------


def reader_config(**args) -> str:
    lines = ["[corpora]", "", "[corpora.train]", '@readers = "rehearsal_reader.v1"']
    for key, value in args.items():
        lines.append(f"{key} = {json.dumps(str(value) if isinstance(value, Path) else value)}")
    return "\n".join(lines) + "\n"


def resolve(**args):
    return registry.resolve(Config().from_str(reader_config(**args)))["corpora"]["train"]


@pytest.mark.parametrize("fill", ["teacher", "missing", "outside"])
@pytest.mark.parametrize("misaligned_spans", ["error", "skip"])
def test_config_resolves_and_reader_runs(base_model, new_path, raw_path, nlp, fill, misaligned_spans):
    corpus = resolve(
        path=new_path, teacher=base_model, raw_path=raw_path, fill=fill, misaligned_spans=misaligned_spans,
        rehearsal_ratio=1.0, teacher_labels=["PERSON", "GPE"], max_length=50, limit=10, seed=3,
        n_process=1, batch_size=8,
    )
    examples = list(corpus(nlp))
    assert len(examples) == 6
    assert {eg.reference.text for eg in examples} == {r["text"] for r in NEW} | set(RAW[:3])
    for eg in examples:
        assert eg.predicted.text == eg.reference.text and not eg.predicted.ents


def test_config_with_cache_dir_and_no_raw(base_model, new_path, nlp, tmp_path):
    corpus = resolve(path=new_path, teacher=base_model, raw_path=None, cache_dir=tmp_path / "cache", shuffle=False)
    first = [ents(eg.reference) for eg in corpus(nlp)]
    assert len(first) == len(NEW)  # no raw_path: no rehearsal examples
    again = resolve(path=new_path, teacher=base_model, cache_dir=tmp_path / "cache", shuffle=False)
    assert [ents(eg.reference) for eg in again(spacy.blank("en"))] == first
    assert any((tmp_path / "cache").rglob("*.spacy"))


def write_bad(tmp_path: Path, line: str) -> Path:
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps({"text": "Fine", "spans": []}) + "\n" + line + "\n", encoding="utf8")
    return path


@pytest.mark.parametrize(
    "line,message",
    [
        ("{not json", r"bad\.jsonl:2: line is not valid JSON"),
        ('{"spans": []}', r"bad\.jsonl:2: record has no 'text' field"),
        (
            '{"text": "Gucci Prada", "spans": [{"start": 0, "end": 5, "label": "B"}, {"start": 3, "end": 11, "label": "B"}]}',
            r"bad\.jsonl:2: overlapping spans \(0, 5, B\) 'Gucci' and \(3, 11, B\)",
        ),
        ('{"text": "Gucci", "spans": [{"start": 5, "end": 0, "label": "B"}]}', r"bad\.jsonl:2: span \(5, 0, B\) has start >= end"),
        ('{"text": "Gucci", "spans": [{"start": 0, "end": 9, "label": "B"}]}', r"bad\.jsonl:2: span \(0, 9, B\) is outside the text"),
        (
            '{"text": "Guccis shoes", "spans": [{"start": 0, "end": 5, "label": "B"}]}',
            r"bad\.jsonl:2: span \(0, 5, B\) 'Gucci' does not fall on token boundaries .*misaligned_spans = \"skip\"",
        ),
    ],
)
def test_config_bad_annotations_fail_at_resolve_time(base_model, tmp_path, line, message):
    with pytest.raises(InputError, match=message):
        resolve(path=write_bad(tmp_path, line), teacher=base_model)


def test_config_missing_path_and_empty_directory(base_model, tmp_path, new_path):
    with pytest.raises(InputError, match=r"nope\.jsonl: annotation file or directory not found"):
        resolve(path=tmp_path / "nope.jsonl", teacher=base_model)
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match=r"empty: directory holds no annotation files"):
        resolve(path=tmp_path / "empty", teacher=base_model)
    with pytest.raises(InputError, match=r"raw\.txt: raw text file or directory not found"):
        resolve(path=new_path, teacher=base_model, raw_path=tmp_path / "raw.txt")
    with pytest.raises(InputError, match=r"empty: directory holds no raw text files"):
        resolve(path=new_path, teacher=base_model, raw_path=tmp_path / "empty")


def test_config_teacher_errors(base_model, new_path, no_ner_pipeline, tmp_path):
    with pytest.raises(TeacherError, match=r"Teacher pipeline '.*pipeline' has no 'ner' component"):
        resolve(path=new_path, teacher=str(no_ner_pipeline))
    with pytest.raises(TeacherError, match=r"Cannot load teacher pipeline"):
        resolve(path=new_path, teacher=str(tmp_path / "no_such_pipeline"))
    with pytest.raises(TeacherError, match=r"teacher_labels \['FASHION_BRAND'\] are not predicted"):
        resolve(path=new_path, teacher=base_model, teacher_labels=["PERSON", BRAND])


@pytest.mark.parametrize(
    "args,message",
    [
        ({"rehearsal_ratio": -0.5}, r"rehearsal_ratio must be >= 0, got -0\.5"),
        ({"limit": -1}, r"limit must be >= 0 \(0 means no limit\), got -1"),
        ({"max_length": -3}, r"max_length must be >= 0 \(0 means no max_length\), got -3"),
        ({"n_process": 0}, r"n_process and batch_size must be >= 1, got 0 and 256"),
        ({"batch_size": 0}, r"n_process and batch_size must be >= 1, got 1 and 0"),
    ],
)
def test_config_bad_numbers(base_model, new_path, args, message):
    with pytest.raises(ValueError, match=message):
        resolve(path=new_path, teacher=base_model, **args)


@pytest.mark.parametrize(
    "args,message",
    [
        ({"fill": "nothing"}, r"fill\s+at root: 'nothing' is not typing\.Literal\['teacher', 'missing', 'outside'\]"),
        ({"misaligned_spans": "drop"}, r"misaligned_spans\s+at root: 'drop' is not typing\.Literal\['error', 'skip'\]"),
        ({"rehearsal_ratio": "a lot"}, r"rehearsal_ratio\s+at root: 'a lot' is not <class 'float'>"),
        ({"shuffle": "maybe"}, r"shuffle\s+at root: 'maybe' is not <class 'bool'>"),
        ({"colour": "red"}, r"colour\s+unexpected argument: 'colour'"),
    ],
)
def test_config_type_hints_reject_bad_values(base_model, new_path, args, message):
    with pytest.raises(ConfigValidationError, match=message):
        resolve(path=new_path, teacher=base_model, **args)


def test_config_every_example_skipped(base_model, new_path):
    with pytest.raises(InputError, match=r"new\.jsonl: no usable annotated examples"):
        resolve(path=new_path, teacher=base_model, max_length=3)


def resolve_v2(**args):
    block = {"@readers": "rehearsal_reader.v2", **{k: str(v) if isinstance(v, Path) else v for k, v in args.items()}}
    return registry.resolve(Config({"corpora": {"train": block}}))["corpora"]["train"]


def test_v2_labels_must_be_what_the_annotations_hold(base_model, tmp_path, new_path):
    """init-config writes its --labels into the train reader: a typo, or a label too many or too few, stops at resolve time."""
    assert resolve_v2(path=new_path, teacher=base_model, labels=[BRAND])
    typo = (rf"^{re.escape(str(new_path))}: labels = \['FASHON_BRAND'\] \(init-config --labels\) but the annotations "
            rf"hold \['FASHION_BRAND'\]: run init-config again with --labels FASHION_BRAND, or set the reader's labels")
    with pytest.raises(InputError, match=typo):
        resolve_v2(path=new_path, teacher=base_model, labels=["FASHON_BRAND"])
    with pytest.raises(InputError, match=r"labels = \['FASHION_BRAND', 'SHOE'\] .* hold \['FASHION_BRAND'\]"):
        resolve_v2(path=new_path, teacher=base_model, labels=[BRAND, "SHOE"])
    # Corrections (labels the base predicts) are named like new ones: exactly what the annotations hold
    corrections = write_jsonl(tmp_path / "corrections.jsonl", [
        {"text": "Tim Cook met Angela Merkel.", "spans": [(0, 8, "PERSON"), (13, 26, "PERSON")]},
        {"text": "Apple is big.", "spans": [(0, 5, "ORG")]},
    ])
    assert resolve_v2(path=corrections, teacher=base_model, labels=["PERSON", "ORG"])
    with pytest.raises(InputError, match=r"labels = \['PERSON'\] .* hold \['ORG', 'PERSON'\]: run init-config again with --labels ORG,PERSON"):
        resolve_v2(path=corrections, teacher=base_model, labels=["PERSON"])
    with pytest.raises(InputError, match=r"but the first 1 usable examples \(limit\) hold \['PERSON'\]"):
        resolve_v2(path=corrections, teacher=base_model, labels=["PERSON", "ORG"], limit=1)
    no_spans = write_jsonl(tmp_path / "none.jsonl", [{"text": "Nothing to see here.", "spans": []}])
    with pytest.raises(InputError, match=r"but the annotations hold no spans"):
        resolve_v2(path=no_spans, teacher=base_model, labels=[BRAND])
    # No labels (v2's default) and v1, which has no such argument: no check, as before
    assert resolve_v2(path=corrections, teacher=base_model)
    assert resolve(path=corrections, teacher=base_model)
    with pytest.raises(ConfigValidationError, match=r"unexpected argument: 'labels'"):
        resolve(path=corrections, teacher=base_model, labels=["PERSON"])


def test_v2_path_not_set_is_one_line(base_model):
    with pytest.raises(SettingError, match=r"^rehearsal_reader\.v2: path is not set: give the annotations, e\.g\. with --paths\.train FILE"):
        resolve_v2(path=None, teacher=base_model)
    with pytest.raises(ConfigValidationError) as v1:  # v1 as it was: confection's error for a missing path
        resolve(path=None, teacher=base_model)
    assert not isinstance(v1.value, SettingError)


# --- Fill policies -----------------------------------------------------------------------------------


def test_fill_teacher_gold_wins_and_covered_labels_are_not_filled(base_model, tmp_path, nlp, teacher_nlp):
    # GPE is covered: one example annotates it, so the teacher's GPEs are never added.
    records = NEW + [{"text": "Rain fell in Rome.", "spans": [(13, 17, "GPE")]}]
    path = write_jsonl(tmp_path / "new.jsonl", records)
    corpus = create_rehearsal_reader(path, base_model, fill="teacher")
    refs = by_text(corpus(nlp))
    assert len(refs) == len(records)
    n_added = 0
    for record in records:
        gold = set(record["spans"])
        ref = ents(refs[record["text"]])
        assert gold <= ref  # gold wins: every gold span is there as given
        added = ref - gold
        expected = {
            e for e in teacher_ents(teacher_nlp, record["text"])
            if e[2] not in {BRAND, "GPE"} and not any(overlaps(e, g) for g in gold)
        }
        assert added == expected
        assert all(label not in {BRAND, "GPE"} for _, _, label in added)
        assert not any(overlaps(a, g) for a in added for g in gold)
        assert all(t.ent_iob != 0 for t in refs[record["text"]])  # the rest is O, not missing
        n_added += len(added)
    assert n_added >= 6  # the teacher did fill: PERSON, DATE, MONEY, ...
    # Gucci is PERSON and Prada ORG for the teacher: gold won.
    assert ents(refs[NEW[0]["text"]]) & {(9, 14, "PERSON")} == set()
    assert (4, 9, "ORG") not in ents(refs[NEW[1]["text"]])


def test_fill_missing_leaves_unlabelled_tokens_missing(base_model, new_path, nlp):
    refs = by_text(create_rehearsal_reader(new_path, base_model, fill="missing")(nlp))
    for record in NEW:
        ref = refs[record["text"]]
        assert ents(ref) == set(record["spans"])
        in_gold = {t.i for e in ref.ents for t in e}
        assert all(t.ent_iob == 0 for t in ref if t.i not in in_gold)
        assert all(t.ent_iob in (1, 3) for t in ref if t.i in in_gold)


def test_fill_outside_sets_unlabelled_tokens_to_o(base_model, new_path, nlp):
    refs = by_text(create_rehearsal_reader(new_path, base_model, fill="outside")(nlp))
    for record in NEW:
        ref = refs[record["text"]]
        assert ents(ref) == set(record["spans"])
        assert all(t.ent_iob != 0 for t in ref)


def test_docbin_missing_tokens_stay_missing(base_model, tmp_path, nlp):
    # "Tim Cook" is a PERSON for the teacher, but its NER annotation is missing in the input.
    vocab = nlp.vocab
    words = ["I", "bought", "Gucci", "shoes", "in", "Paris", "with", "Tim", "Cook", "last", "Monday", "."]
    spaces = [True] * 10 + [False, False]
    doc = Doc(vocab, words=words, spaces=spaces)
    doc.set_ents([Span(doc, 2, 3, BRAND)], missing=[doc[7:9]], default="outside")
    path = tmp_path / "new.spacy"
    DocBin(docs=[doc]).to_disk(path)
    for fill in ("teacher", "missing", "outside"):
        (eg,) = create_rehearsal_reader(path, base_model, fill=fill)(nlp)
        ref = eg.reference
        assert [t.text for t in ref] == words
        assert ref[7].ent_iob == 0 and ref[8].ent_iob == 0
        assert (9, 14, BRAND) in ents(ref)
        labels = {label for _, _, label in ents(ref)}
        assert "PERSON" not in labels
        if fill == "teacher":
            assert {"GPE", "DATE"} <= labels


def test_teacher_labels_restricts_fill_and_rehearsal(base_model, new_path, raw_path, nlp):
    corpus = create_rehearsal_reader(new_path, base_model, raw_path=raw_path, teacher_labels=["PERSON"])
    examples = list(corpus(nlp))
    labels = {label for eg in examples for _, _, label in ents(eg.reference)}
    assert labels == {"PERSON", BRAND}
    refs = by_text(examples)
    assert ents(refs[RAW[1]]) == {(0, 12, "PERSON")}  # Barack Obama; Germany and 2015 are O
    assert all(t.ent_iob != 0 for t in refs[RAW[1]])


# --- Rehearsal sampling ------------------------------------------------------------------------------


def rehearsal_texts(examples) -> List[str]:
    new = {r["text"] for r in NEW}
    return [eg.reference.text for eg in examples if eg.reference.text not in new]


def test_rehearsal_examples_are_teacher_annotated(base_model, new_path, raw_path, nlp, teacher_nlp):
    corpus = create_rehearsal_reader(new_path, base_model, raw_path=raw_path, rehearsal_ratio=5 / 3)
    refs = by_text(corpus(nlp))
    for text in RAW:
        assert ents(refs[text]) == teacher_ents(teacher_nlp, text)
        assert all(t.ent_iob != 0 for t in refs[text])


def test_successive_calls_draw_the_next_rehearsal_texts(base_model, new_path, raw_path, nlp):
    ratio = 0.7  # round(0.7 * 3) == 2 rehearsal examples per call
    corpus = create_rehearsal_reader(new_path, base_model, raw_path=raw_path, rehearsal_ratio=ratio, shuffle=False)
    calls = [list(corpus(nlp)) for _ in range(3)]
    assert all(len(examples) == len(NEW) + round(ratio * len(NEW)) for examples in calls)
    drawn = [rehearsal_texts(examples) for examples in calls]
    # The stream goes on where the previous call stopped, and starts again when used up.
    assert drawn == [RAW[0:2], RAW[2:4], [RAW[4], RAW[0]]]
    # The new examples are in every call.
    assert all({r["text"] for r in NEW} <= {eg.reference.text for eg in examples} for examples in calls)


@pytest.mark.parametrize("ratio", [0.0, 0.5, 1.0, 2.0])
def test_rehearsal_count_is_rounded_ratio_times_new(base_model, new_path, raw_path, nlp, ratio):
    corpus = create_rehearsal_reader(new_path, base_model, raw_path=raw_path, rehearsal_ratio=ratio)
    assert len(rehearsal_texts(corpus(nlp))) == round(ratio * len(NEW))


def test_same_seed_same_stream(base_model, new_path, raw_path):
    def stream(seed):
        corpus = create_rehearsal_reader(new_path, base_model, raw_path=raw_path, seed=seed)
        nlp = spacy.blank("en")
        return [[eg.reference.text for eg in corpus(nlp)] for _ in range(3)]

    assert stream(1) == stream(1)
    assert stream(1) != stream(2)
    first = stream(1)
    assert first[0] != first[1]  # shuffled anew in each call


def test_rehearsal_respects_max_length(base_model, new_path, raw_path, nlp):
    # RAW[3] has 6 tokens (== max_length: kept), RAW[4] 5; the other raw texts are longer.
    records = [{"text": "Gucci is nice.", "spans": [(0, 5, BRAND)]}]
    path = write_jsonl(new_path.parent / "short.jsonl", records)
    corpus = create_rehearsal_reader(path, base_model, raw_path=raw_path, max_length=6, rehearsal_ratio=4.0)
    drawn = [eg.reference.text for eg in corpus(nlp) if eg.reference.text != records[0]["text"]]
    assert sorted(drawn) == sorted([RAW[3], RAW[4]] * 2)


# --- Limits, counts and logs -------------------------------------------------------------------------


def test_max_length_edges(base_model, tmp_path, nlp, caplog):
    records = [
        {"text": "Gucci is nice.", "spans": [(0, 5, BRAND)]},  # 4 tokens
        {"text": "Gucci is very nice.", "spans": [(0, 5, BRAND)]},  # 5 tokens
        {"text": "Gucci is really very nice.", "spans": [(0, 5, BRAND)]},  # 6 tokens
    ]
    path = write_jsonl(tmp_path / "new.jsonl", records)
    with caplog.at_level(logging.INFO, logger=LOGGER):
        corpus = create_rehearsal_reader(path, base_model, max_length=5)
    assert sorted(eg.reference.text for eg in corpus(nlp)) == sorted(r["text"] for r in records[:2])
    assert f"rehearsal_reader.v1 {path}: 2 examples, 2 spans read; skipped 1 longer than max_length" in caplog.text


def test_limit_is_counted_over_the_whole_corpus(base_model, tmp_path, nlp):
    write_jsonl(tmp_path / "dir" / "a.jsonl", NEW[:2])
    write_jsonl(tmp_path / "dir" / "b.jsonl", NEW[2:] + [{"text": "Nike shoes.", "spans": [(0, 4, BRAND)]}])
    corpus = create_rehearsal_reader(tmp_path / "dir", base_model, limit=3, shuffle=False)
    assert [eg.reference.text for eg in corpus(nlp)] == [r["text"] for r in NEW]
    everything = create_rehearsal_reader(tmp_path / "dir", base_model, limit=0)
    assert len(list(everything(nlp))) == 4


def test_directory_input(base_model, tmp_path, nlp):
    write_jsonl(tmp_path / "dir" / "a.jsonl", NEW[:1])
    doc = Doc(nlp.vocab, words=["Nike", "shoes", "."], spaces=[True, False, False])
    doc.set_ents([Span(doc, 0, 1, BRAND)], default="outside")
    (tmp_path / "dir" / "sub").mkdir()
    DocBin(docs=[doc]).to_disk(tmp_path / "dir" / "sub" / "b.spacy")
    refs = by_text(create_rehearsal_reader(tmp_path / "dir", base_model)(nlp))
    assert set(refs) == {NEW[0]["text"], "Nike shoes."}
    assert (0, 4, BRAND) in ents(refs["Nike shoes."])


def test_answers_skipped_and_everything_counted_in_the_log(base_model, tmp_path, nlp, caplog):
    records = NEW + [dict(NEW[0], answer="reject"), dict(NEW[1], answer="ignore"), dict(NEW[1], answer="accept")]
    path = write_jsonl(tmp_path / "new.jsonl", records)
    with caplog.at_level(logging.INFO, logger=LOGGER):
        corpus = create_rehearsal_reader(path, base_model)
    assert (f"rehearsal_reader.v1 {path}: 4 examples, 3 spans read; skipped 1 answer=ignore (first at {path}:5), "
            f"1 answer=reject (first at {path}:4)") in caplog.text
    assert len(list(corpus(nlp))) == 4


def test_misaligned_spans_error_by_default_names_file_and_line(base_model, tmp_path):
    records = NEW + [{"text": "Guccis are nice.", "spans": [(0, 5, BRAND)]}]
    path = write_jsonl(tmp_path / "new.jsonl", records)
    # Raised when the reader is created (config resolve time), not on its first call.
    with pytest.raises(InputError, match=rf"{path}:4: span \(0, 5, FASHION_BRAND\) 'Gucci' does not fall on token"):
        create_rehearsal_reader(path, base_model)


def test_misaligned_spans_skip_is_counted_and_logged(base_model, tmp_path, nlp, caplog):
    records = NEW + [{"text": "Guccis are nice.", "spans": [(0, 5, BRAND)]}]
    path = write_jsonl(tmp_path / "new.jsonl", records)
    with caplog.at_level(logging.INFO, logger=LOGGER):
        corpus = create_rehearsal_reader(path, base_model, misaligned_spans="skip")
    assert f"rehearsal_reader.v1 {path}: 3 examples, 2 spans read; skipped 1 misaligned spans" in caplog.text
    assert {eg.reference.text for eg in corpus(nlp)} == {r["text"] for r in NEW}


def test_prodigy_tokens_make_spans_align(base_model, tmp_path, nlp):
    # With the tokenization given, "Gucci" in "Guccis" is a token of its own.
    text = "Guccis are nice."
    tokens = [{"start": 0, "end": 5}, {"start": 5, "end": 6}, {"start": 7, "end": 10}, {"start": 11, "end": 15},
              {"start": 15, "end": 16}]
    path = tmp_path / "new.jsonl"
    path.write_text(json.dumps({"text": text, "tokens": tokens, "spans": [{"start": 0, "end": 5, "label": BRAND}]}))
    (eg,) = create_rehearsal_reader(path, base_model)(nlp)
    assert [t.text for t in eg.reference] == ["Gucci", "s", "are", "nice", "."]
    assert ents(eg.reference) == {(0, 5, BRAND)}


@pytest.mark.parametrize("per_file", [True, False])
def test_labels_per_file_fills_what_a_file_does_not_annotate(base_model, tmp_path, per_file):
    """Every round's files given together: PERSON is annotated in one file only, so the other's names are the teacher's."""
    folder = tmp_path / "rounds"
    folder.mkdir()
    brand = "Angela Merkel wore Gucci shoes to the party."
    person = "Tim Cook met Sarah Smith in Paris."
    (folder / "a.jsonl").write_text(json.dumps({"text": brand, "spans": [{"start": 19, "end": 24, "label": "FASHION_BRAND"}]}) + "\n")
    (folder / "b.jsonl").write_text(json.dumps({"text": person, "spans": [
        {"start": 0, "end": 8, "label": "PERSON"}, {"start": 13, "end": 24, "label": "PERSON"}]}) + "\n")
    reader = create_rehearsal_reader_v2(folder, base_model, fill="teacher", shuffle=False, labels_per_file=per_file)
    nlp = spacy.blank("en")
    refs = {eg.reference.text: [(e.text, e.label_) for e in eg.reference.ents] for eg in reader(nlp)}
    assert ("Gucci", "FASHION_BRAND") in refs[brand]
    assert (("Angela Merkel", "PERSON") in refs[brand]) is per_file  # else PERSON is the annotations' alone: O here
