"""`spacy rehearsal evaluate --html`: the kinds of entity change, the page, and the page in a browser."""
import html
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

import pytest
import spacy
from spacy.tokens import Doc
from test_cli import check_ok, output_of, run_cli

from spacy_rehearsal.cli.evaluate_html import (
    ADDED,
    BOUNDARY,
    KINDS,
    LOST,
    NEW_LABEL,
    RELABELLED,
    build_page,
    classify_changes,
    group_changes,
)

ROOT = Path(__file__).resolve().parent.parent
BASE_LABELS = {"GPE", "ORG", "PERSON"}

# --- classification on hand-made spans ---------------------------------------------------------


def two_docs(text: str, base: Sequence[Tuple[str, str]], updated: Sequence[Tuple[str, str]]) -> Tuple[Doc, Doc]:
    """The same text twice, with entities given as (words, label), found by their first occurrence."""
    nlp = spacy.blank("en")

    def doc_with(ents: Sequence[Tuple[str, str]]) -> Doc:
        doc = nlp(text)
        spans = []
        for words, label in ents:
            start = text.index(words)
            span = doc.char_span(start, start + len(words), label=label)
            assert span is not None, words
            spans.append(span)
        doc.ents = spans
        return doc

    return doc_with(base), doc_with(updated)


def kinds_of(base_doc: Doc, updated_doc: Doc) -> List[Tuple[str, str]]:
    return [(c.kind, c.key) for c in classify_changes(base_doc.ents, updated_doc.ents, BASE_LABELS)]


@pytest.mark.parametrize(
    "text,base,updated,expected",
    [
        ("Merkel visited Paris.", [("Merkel", "PERSON"), ("Paris", "GPE")], [("Merkel", "PERSON"), ("Paris", "GPE")], []),
        ("Merkel visited Paris.", [], [], []),
        ("Merkel visited Paris.", [("Merkel", "PERSON"), ("Paris", "GPE")], [("Merkel", "PERSON")], [(LOST, "GPE")]),
        ("He bought a Gucci bag.", [("Gucci", "ORG")], [("Gucci", "FASHION_BRAND")], [(RELABELLED, "ORG → FASHION_BRAND")]),
        ("He bought a Gucci bag.", [("Gucci", "ORG")], [("Gucci", "PERSON")], [(RELABELLED, "ORG → PERSON")]),
        ("They moved to New York.", [("New York", "GPE")], [("York", "GPE")], [(BOUNDARY, "GPE")]),
        ("They moved to New York.", [("York", "GPE")], [("to New York", "GPE")], [(BOUNDARY, "GPE")]),
        ("They moved to New York.", [("New York", "GPE")], [("York", "LOC")], [(BOUNDARY, "GPE → LOC")]),
        ("A Prada coat.", [], [("Prada", "FASHION_BRAND")], [(NEW_LABEL, "FASHION_BRAND")]),
        ("Rome is lovely.", [], [("Rome", "GPE")], [(ADDED, "GPE")]),
    ],
)
def test_classify_changes_one_kind_each(text, base, updated, expected):
    assert kinds_of(*two_docs(text, base, updated)) == expected


def test_classify_split_and_merge_count_base_entities():
    text = "Tim Cook met Sarah Smith in Tokyo."
    # One base entity split in two updated ones: one boundary change, holding both.
    base_doc, updated_doc = two_docs(text, [("Tim Cook", "PERSON")], [("Tim", "PERSON"), ("Cook", "PERSON")])
    (change,) = classify_changes(base_doc.ents, updated_doc.ents, BASE_LABELS)
    assert change.kind == BOUNDARY and [label for _, _, label in change.updated] == ["PERSON", "PERSON"]
    # Two base entities merged into one: two boundary changes, one per base entity.
    base_doc, updated_doc = two_docs(text, [("Sarah", "PERSON"), ("Smith", "PERSON")], [("Sarah Smith", "PERSON")])
    assert kinds_of(base_doc, updated_doc) == [(BOUNDARY, "PERSON"), (BOUNDARY, "PERSON")]


def test_classify_several_kinds_in_one_text():
    text = "Gucci and Prada opened shops in Paris, Rome and New York."
    base = [("Gucci", "ORG"), ("Paris", "GPE"), ("New York", "GPE")]
    updated = [("Gucci", "FASHION_BRAND"), ("Prada", "FASHION_BRAND"), ("Rome", "GPE"), ("York", "GPE")]
    assert kinds_of(*two_docs(text, base, updated)) == [
        (RELABELLED, "ORG → FASHION_BRAND"), (LOST, "GPE"), (BOUNDARY, "GPE"), (NEW_LABEL, "FASHION_BRAND"), (ADDED, "GPE"),
    ]  # fmt: skip


def test_page_of_docs_without_changes_says_they_agree():
    base_doc, updated_doc = two_docs("Merkel visited Paris.", [("Paris", "GPE")], [("Paris", "GPE")])
    page, counts = build_page([base_doc], [updated_doc], BASE_LABELS, base="b", updated="u")
    assert counts == {kind: 0 for kind in KINDS}
    assert "agree on every entity" in page and "Merkel" not in page


def test_page_escapes_text_and_names():
    text = "<script>alert(1)</script> & Paris"
    base_doc, updated_doc = two_docs(text, [("Paris", "GPE")], [])
    page, counts = build_page([base_doc], [updated_doc], BASE_LABELS, base="<b>", updated="x&y", sources=["<src>"])
    assert counts[LOST] == 1
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "<b>" not in page.split("<body>")[0] and "&lt;b&gt;" in page and "x&amp;y" in page and "&lt;src&gt;" in page


# --- the CLI, end to end, on two entity-ruler pipelines -----------------------------------------------

BASE_PATTERNS = {
    "GPE": ["Paris", "Berlin", "Tokyo", "New York"], "ORG": ["Gucci", "Apple", "Microsoft"], "PERSON": ["Angela Merkel"],
}  # fmt: skip
UPDATED_PATTERNS = {
    "GPE": ["Paris", "Tokyo", "York", "Rome"], "ORG": ["Apple"], "PERSON": ["Angela Merkel"],
    "FASHION_BRAND": ["Gucci", "Prada"],
}  # fmt: skip
TEXTS = [
    "Angela Merkel visited Paris.",  # unchanged
    "She flew to Berlin on Monday.",  # lost GPE
    "He bought a Gucci bag.",  # relabelled ORG -> FASHION_BRAND
    "They moved to New York last year.",  # boundary GPE
    "A Prada coat costs a lot.",  # new label FASHION_BRAND
    "Rome is lovely in spring.",  # added GPE
    "Tokyo was sunny. Then she flew to Berlin.",  # lost GPE, in the second sentence only
    "Gucci and Prada are both Italian.",  # relabelled + new label
    "Microsoft hired staff in Berlin.",  # lost ORG + lost GPE, one passage
    "Apple makes phones.",  # unchanged
]
UNCHANGED = ["Angela Merkel visited Paris.", "Tokyo was sunny.", "Apple makes phones."]
# Kind -> (entities, passages, lines of texts.jsonl shown), with --html-max 2
EXPECTED = {
    LOST: (4, 3, [2, 7]),
    RELABELLED: (2, 2, [3, 8]),
    BOUNDARY: (1, 1, [4]),
    NEW_LABEL: (2, 2, [5, 8]),
    ADDED: (1, 1, [6]),
}
EXPECTED_LABELS = {
    LOST: [("GPE", 3), ("ORG", 1)],
    RELABELLED: [("ORG → FASHION_BRAND", 2)],
    BOUNDARY: [("GPE", 1)],
    NEW_LABEL: [("FASHION_BRAND", 2)],
    ADDED: [("GPE", 1)],
}


def ruler_pipeline(path: Path, patterns: Dict[str, List[str]]) -> Path:
    nlp = spacy.blank("en")
    ruler = nlp.add_pipe("entity_ruler")
    ruler.add_patterns([{"label": label, "pattern": p} for label, ps in patterns.items() for p in ps])
    nlp.to_disk(path)
    return path


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory) -> Dict[str, object]:
    """`evaluate base updated texts.jsonl --html out.html --html-max 2` run once: its page, JSON and output."""
    tmp = tmp_path_factory.mktemp("evaluate_html")
    base = ruler_pipeline(tmp / "base", BASE_PATTERNS)
    updated = ruler_pipeline(tmp / "updated", UPDATED_PATTERNS)
    texts = tmp / "texts.jsonl"
    texts.write_text("".join(json.dumps({"text": t}) + "\n" for t in TEXTS), encoding="utf8")
    page_path = tmp / "out" / "out.html"
    proc = run_cli(
        "evaluate", base, updated, texts, "--html", page_path, "--html-max", 2, "--output", tmp / "metrics.json"
    )
    check_ok(proc)
    return {
        "path": page_path,
        "page": page_path.read_text(encoding="utf8"),
        "result": json.loads((tmp / "metrics.json").read_text()),
        "stdout": proc.stdout,
        "output": output_of(proc),
    }


def sections(page: str) -> Dict[str, str]:
    parts = re.split(r"<section id='", page)[1:]
    return {part.split("'", 1)[0].replace("-", " "): part for part in parts}


def test_page_groups_the_changed_passages_by_kind(evaluated):
    page = evaluated["page"]
    found = sections(page)
    assert set(found) == set(KINDS)
    for kind, (entities, passages, lines) in EXPECTED.items():
        section = found[kind]
        shown = [int(n) for n in re.findall(r"<div class='src'>texts\.jsonl:(\d+):", section)]
        assert shown == lines, kind
        row = re.search(rf"<tr><td><a href='#{kind.replace(' ', '-')}'>{kind}</a></td><td>[^<]*</td>" + r"<td class='n'>(\d+)</td>" * 3, page)
        assert row is not None, kind
        assert tuple(map(int, row.groups())) == (entities, passages, len(lines)), kind
        labels = re.findall(r"<li>([^<]+) <b>(\d+)</b></li>", section)
        assert [(html.unescape(k), int(n)) for k, n in labels] == EXPECTED_LABELS[kind], kind
    assert "1 more passages of this kind not shown (--html-max 2)" in found[LOST]
    assert "not shown" not in page.replace(found[LOST], "")
    assert evaluated["result"]["html"]["changes"] == {kind: v[0] for kind, v in EXPECTED.items()}


def test_page_leaves_out_unchanged_sentences_and_needs_no_network(evaluated):
    page = evaluated["page"]
    text = html.unescape(re.sub(r"<[^>]+>", " ", page))
    for sentence in UNCHANGED:
        assert sentence.split()[0] not in text, sentence
    assert "Then she flew to" in text  # the changed sentence of that text
    assert "Microsoft" not in text  # the third lost passage: over --html-max 2
    assert page.startswith("<!DOCTYPE html>") and "<title>Entity changes:" in page
    assert not re.search(r"(src|href)=['\"]?(https?:)?//", page) and "<script" not in page and "@import" not in page
    # displaCy rendered both sides: the base's ORG and the updated FASHION_BRAND for Gucci
    relabelled = sections(page)[RELABELLED]
    assert relabelled.count("class=\"entity\"") >= 4 and "FASHION_BRAND" in relabelled and ">ORG<" in relabelled.replace("\n", "").replace(" ", "")


def test_min_count_default_and_output_names_the_page(evaluated):
    result, stdout = evaluated["result"], evaluated["stdout"]
    assert result["min_count"] == 20
    assert result["flagged"] == []  # agreement on GPE and ORG is low, but on far too few entities
    assert result["agreement"]["per_label"]["ORG"]["f"] < 0.7
    assert "Not judged, under --min-count 20 base entities" in stdout and "0.05 or more" in stdout
    lines = [line for line in stdout.splitlines() if line.strip()]
    assert str(evaluated["path"]) in lines[-1]
    assert "Changed entities: 4 lost, 2 relabelled, 1 boundary, 2 new label, 1 added" in lines[-2]


def test_passages_are_the_base_docs_sentences_else_the_punctuations():
    text = "Tokyo was sunny. Then she flew to Berlin. It rained."
    base_doc, updated_doc = two_docs(text, [("Berlin", "GPE")], [])
    (passage,) = group_changes([base_doc], [updated_doc], BASE_LABELS)[LOST]
    assert text[passage.start : passage.end] == "Then she flew to Berlin."
    assert not base_doc.has_annotation("SENT_START")  # left as it was
    # The base doc's own sentences win: here one sentence, the whole text.
    for token in base_doc:
        token.is_sent_start = token.i == 0
    (passage,) = group_changes([base_doc], [updated_doc], BASE_LABELS)[LOST]
    assert (passage.start, passage.end) == (0, len(text))
    # A change across sentences shows all the sentences it touches.
    base_doc, updated_doc = two_docs(text, [("sunny. Then", "GPE")], [])
    (passage,) = group_changes([base_doc], [updated_doc], BASE_LABELS)[LOST]
    assert text[passage.start : passage.end] == "Tokyo was sunny. Then she flew to Berlin."


@pytest.mark.parametrize(
    "args,expected",
    [(["--html", "{tmp}"], "--html is a directory"), (["--html", "{tmp}/p.html", "--html-max", "-1"], "--html-max")],
)
def test_bad_html_options_fail_before_loading_the_pipelines(tmp_path, args, expected):
    proc = run_cli("evaluate", tmp_path / "no_base", tmp_path / "no_updated", "texts.txt", *[a.format(tmp=tmp_path) for a in args])
    assert proc.returncode != 0 and expected in output_of(proc), output_of(proc)
    assert "Traceback" not in output_of(proc) and "no_base" not in output_of(proc)


# --- the page in a browser ------------------------------------------------------------------------


@pytest.mark.skipif(shutil.which("chromium") is None, reason="needs Chromium for the browser check: apt-get install chromium")
def test_page_renders_in_headless_chromium(evaluated, tmp_path):
    png = tmp_path / "page.png"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "render_html.py"), str(evaluated["path"]), str(png)],
        capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    from render_html import check_not_blank

    assert check_not_blank(png) > 0.01
