"""`spacy rehearsal annotate` and `spacy rehearsal evaluate`, through spaCy's real CLI entry."""
import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import List

import pytest
import spacy
import typer

from spacy_rehearsal.cli.evaluate import parse_label_map
from spacy_rehearsal.data.formats import iter_raw_texts
from spacy_rehearsal.teacher.teacher import Teacher

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
CONLL_MAP = "PERSON=PER,GPE=LOC,LOC=LOC,ORG=ORG"
TEXTS = [
    "Barack Obama visited Paris and Berlin last week.",
    "Apple is looking at buying a U.K. startup for $1 billion.",
    "",
    "Angela Merkel met Emmanuel Macron in London on Tuesday.",
    "Microsoft and Google opened offices in Tokyo.",
    "She bought a Gucci bag in Milan for 300 euros.",
]


def run_cli(*args: object, env_extra: dict = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, ANSI_COLORS_DISABLED="1")
    env.update(env_extra or {})
    return subprocess.run(
        [sys.executable, "-m", "spacy", "rehearsal", *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def output_of(proc: subprocess.CompletedProcess) -> str:
    return proc.stdout + proc.stderr


def check_ok(proc: subprocess.CompletedProcess) -> None:
    assert proc.returncode == 0, output_of(proc)


@pytest.fixture(scope="module")
def raw_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("raw") / "raw.txt"
    path.write_text("\n".join(TEXTS) + "\n", encoding="utf8")
    return path


@pytest.fixture(scope="module")
def forgetful_model(base_model, tmp_path_factory) -> Path:
    """The base pipeline with its NER replaced by a ruler for one new label: it forgot every old label."""
    nlp = spacy.load(base_model)
    nlp.remove_pipe("ner")
    ruler = nlp.add_pipe("entity_ruler")
    ruler.add_patterns([{"label": "FASHION_BRAND", "pattern": "Gucci"}])
    path = tmp_path_factory.mktemp("forgetful") / "model"
    nlp.to_disk(path)
    return path


def test_help_lists_commands():
    proc = subprocess.run([sys.executable, "-m", "spacy", "--help"], capture_output=True, text=True)
    assert "rehearsal" in proc.stdout
    proc = run_cli("--help")
    check_ok(proc)
    assert "annotate" in proc.stdout and "evaluate" in proc.stdout


COMMANDS = ("init-config", "annotate", "evaluate", "consolidate")
INTERNAL_NAME = re.compile(r"\b[a-z_]+\.[A-Z][A-Z_]{2,}\b")  # module.CONSTANT, e.g. routes.REHEARSAL_ROUTE


def test_help_names_every_command_and_no_internal_names():
    from spacy.cli._util import app
    from typer.testing import CliRunner

    import spacy_rehearsal.cli  # noqa: F401 (adds the commands to spaCy's app)

    def help_text(*args: str) -> str:
        result = CliRunner().invoke(app, ["rehearsal", *args, "--help"], terminal_width=400, max_content_width=400)
        assert result.exit_code == 0, result.output
        return result.output

    description = help_text().split("Options:")[0]
    assert all(command in description for command in COMMANDS), description
    for command in COMMANDS:
        text = help_text(command)
        assert not INTERNAL_NAME.search(text), f"{command}: {INTERNAL_NAME.search(text).group()}"
    assert "rehearsal_reader.v1" not in help_text("init-config")  # it writes rehearsal_reader.v2


def test_help_says_both_use_cases_new_types_and_corrections():
    """The group's help, consolidate's and its --labels say new types and corrections of the base's own types."""
    import typer

    import spacy_rehearsal.cli  # noqa: F401
    from spacy_rehearsal.cli._util import rehearsal_cli

    group = typer.main.get_command(rehearsal_cli)
    consolidate = group.commands["consolidate"]
    (labels,) = [p for p in consolidate.params if "--labels" in p.opts]
    for text in (group.help, consolidate.help, labels.help):
        text = " ".join((text or "").split()).lower()
        assert "new" in text and "correct" in text, text


def test_annotate_writes_the_cache_the_teacher_reads(base_model, raw_file, tmp_path, caplog):
    out = tmp_path / "cache"
    proc = run_cli("annotate", base_model, raw_file, out, "--summary", tmp_path / "summary.json")
    check_ok(proc)
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert (summary["texts"], summary["annotated"], summary["from_cache"]) == (5, 5, 0)
    assert summary["skipped"] == {"blank lines": 1}
    assert summary["entities"]["PERSON"] >= 3 and summary["entities"]["GPE"] >= 3
    assert "5 annotated" in output_of(proc) and "PERSON" in proc.stdout
    shards = sorted(out.glob("*/*.spacy"))
    assert len(shards) == 1 and (shards[0].parent / "manifest.json").exists()
    stamps = {p: p.stat().st_mtime_ns for p in out.rglob("*")}

    # The reader's teacher finds every text in the cache: nothing is annotated or rewritten.
    teacher = Teacher(base_model)
    with caplog.at_level(logging.DEBUG, logger="spacy_rehearsal"):  # progress lines are DEBUG
        docs = list(teacher.annotate(iter_raw_texts(raw_file), cache_dir=out))
    assert not [r for r in caplog.records if "Teacher annotated" in r.getMessage()]
    assert [r for r in caplog.records if "from cache" in r.getMessage()]
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*")} == stamps
    texts = [t for t in TEXTS if t]
    assert [d.text for d in docs] == texts
    expected = [[(e.start_char, e.end_char, e.label_) for e in doc.ents] for doc in teacher.nlp.pipe(texts)]
    assert [[(e.start_char, e.end_char, e.label_) for e in doc.ents] for doc in docs] == expected

    # A second run serves everything from the cache.
    proc = run_cli("annotate", base_model, raw_file, out, "--labels", "PERSON,GPE", "--summary", tmp_path / "again.json")
    check_ok(proc)
    again = json.loads((tmp_path / "again.json").read_text())
    assert (again["annotated"], again["from_cache"]) == (0, 5)
    assert set(again["entities"]) <= {"PERSON", "GPE"} and again["entities"]["PERSON"] == summary["entities"]["PERSON"]
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*")} == stamps


def test_annotate_rejects_labels_the_teacher_lacks(base_model, raw_file, tmp_path):
    proc = run_cli("annotate", base_model, raw_file, tmp_path / "cache", "--labels", "PERSON,FASHION_BRAND")
    assert proc.returncode != 0
    assert "FASHION_BRAND" in output_of(proc)


def evaluate(tmp_path: Path, *args: object) -> dict:
    out = tmp_path / "metrics.json"
    proc = run_cli("evaluate", *args, "--output", out)
    check_ok(proc)
    result = json.loads(out.read_text())
    result["_stdout"] = proc.stdout
    return result


def test_evaluate_base_against_itself_agrees(base_model, raw_file, tmp_path):
    plot = tmp_path / "plot.png"
    result = evaluate(tmp_path, base_model, base_model, raw_file, "--plot", plot)
    per_label = result["agreement"]["per_label"]
    assert {"PERSON", "GPE", "ORG"} <= set(per_label)
    assert all(s["f"] == 1.0 and s["p"] == 1.0 and s["r"] == 1.0 for s in per_label.values())
    assert result["agreement"]["micro"]["f"] == 1.0
    assert result["flagged"] == [] and result["new_labels"] == []
    assert result["counts"]["base"] == result["counts"]["updated"]
    assert result["n_docs"] == 5 and "gold" not in result
    assert "FORGOTTEN" not in result["_stdout"]
    assert plot.read_bytes()[:8] == PNG_MAGIC


def test_evaluate_flags_forgotten_and_new_labels(base_model, forgetful_model, raw_file, tmp_path):
    plot = tmp_path / "forgetting.png"
    # 5 texts hold far fewer base entities than the default --min-count 20: judge every label.
    result = evaluate(tmp_path, base_model, forgetful_model, raw_file, "--plot", plot, "--min-count", 1)
    for field in ("base", "updated", "input", "n_docs", "agreement", "counts", "new_labels", "flagged"):
        assert field in result
    assert set(result["agreement"]) == {"micro", "per_label"}
    assert set(result["counts"]) == {"base", "updated"}
    base_labels = set(result["counts"]["base"])
    assert {"PERSON", "GPE", "ORG"} <= base_labels
    assert set(result["flagged"]) == base_labels
    assert result["new_labels"] == ["FASHION_BRAND"]
    assert result["counts"]["updated"] == {"FASHION_BRAND": 1}
    assert result["agreement"]["per_label"]["PERSON"]["r"] == 0.0
    stdout = result["_stdout"]
    assert stdout.count("FORGOTTEN") == len(base_labels)
    person_row = next(line for line in stdout.splitlines() if line.startswith("PERSON"))
    assert "FORGOTTEN" in person_row
    brand_row = next(line for line in stdout.splitlines() if line.startswith("FASHION_BRAND"))
    assert brand_row.split()[-1] == "new"
    assert plot.read_bytes()[:8] == PNG_MAGIC

    # The threshold decides what is flagged.
    result = evaluate(tmp_path, base_model, forgetful_model, raw_file, "--threshold", "0", "--min-count", 1)
    assert result["flagged"] == [] and "FORGOTTEN" not in result["_stdout"]
    # The default --min-count 20: on so few entities nothing is flagged, and the output says why.
    result = evaluate(tmp_path, base_model, forgetful_model, raw_file)
    assert result["min_count"] == 20 and result["flagged"] == []
    assert "FORGOTTEN" not in result["_stdout"] and "Not judged, under --min-count 20" in result["_stdout"]


def test_evaluate_with_gold_and_label_map(base_model, forgetful_model, conll_prepared, tmp_path):
    dev_txt, dev_gold = conll_prepared / "dev.txt", conll_prepared / "dev.spacy"
    common = ["--gold", dev_gold, "--label-map", CONLL_MAP, "--limit", 40]
    # INPUT left out: the gold texts are used.
    result = evaluate(tmp_path, base_model, forgetful_model, *common)
    assert result["n_docs"] == 40
    gold = result["gold"]
    assert gold["labels"] == ["LOC", "ORG", "PER"] and gold["left_out"] == ["MISC"]
    assert set(gold["base"]["per_label"]) <= {"LOC", "ORG", "PER"}
    assert gold["base"]["per_label"]["PER"]["f"] > 0.3 and gold["base"]["per_label"]["LOC"]["f"] > 0.3
    assert gold["updated"]["micro"]["f"] == 0.0 and gold["updated"]["micro"]["n_ref"] == gold["base"]["micro"]["n_ref"]
    assert "FASHION_BRAND" not in gold["updated"]["per_label"]
    assert "Gold P/R/F" in result["_stdout"]
    # INPUT holding the same texts as the gold file gives the same figures.
    same = evaluate(tmp_path, base_model, forgetful_model, dev_txt, *common)
    assert same["gold"] == gold and same["agreement"] == result["agreement"]
    # The base against itself: identical gold scores, nothing flagged.
    self_result = evaluate(tmp_path, base_model, base_model, *common, "--plot", tmp_path / "gold.png")
    assert self_result["gold"]["base"] == self_result["gold"]["updated"] == gold["base"]
    assert self_result["flagged"] == []
    assert (tmp_path / "gold.png").read_bytes()[:8] == PNG_MAGIC


def test_evaluate_rejects_input_that_differs_from_gold(base_model, conll_prepared):
    proc = run_cli("evaluate", base_model, base_model, conll_prepared / "train.txt", "--gold", conll_prepared / "dev.spacy", "--limit", 5)
    assert proc.returncode != 0
    assert "train.txt" in output_of(proc) and "differs from the gold text" in output_of(proc)


@pytest.mark.parametrize(
    "args,named",
    [
        (["evaluate", "BASE", "BASE", "{tmp}/missing.txt"], "missing.txt"),
        (["evaluate", "BASE", "BASE", "{raw}", "--gold", "{tmp}/gold_missing.spacy"], "gold_missing.spacy"),
        (["evaluate", "BASE", "{tmp}/no_such_model", "{raw}"], "no_such_model"),
        (["evaluate", "BASE", "BASE", "{tmp}/notes.csv"], "notes.csv"),
        (["evaluate", "BASE", "BASE", "{raw}", "--plot", "{tmp}/plot.jpg"], "plot.jpg"),
        (["evaluate", "BASE", "BASE", "{raw}", "--gold", "{raw}"], "raw.txt"),
        (["evaluate", "BASE", "BASE", "{raw}", "--label-map", "PERSON:PER"], "PERSON:PER"),
        (["annotate", "BASE", "{tmp}/missing_raw", "{tmp}/out"], "missing_raw"),
    ],
)
def test_bad_inputs_exit_nonzero_naming_the_file(base_model, raw_file, tmp_path, args: List[str], named: str):
    (tmp_path / "notes.csv").write_text("a,b\n")
    fill = {"{tmp}": str(tmp_path), "{raw}": str(raw_file)}

    def sub(arg: str) -> str:
        if arg == "BASE":
            return base_model
        for key, value in fill.items():
            arg = arg.replace(key, value)
        return arg

    proc = run_cli(*[sub(a) for a in args])
    assert proc.returncode != 0
    assert named in output_of(proc)
    assert "Traceback" not in output_of(proc)


def test_plot_without_matplotlib_fails_clearly(base_model, raw_file, tmp_path):
    # A `matplotlib` package that cannot be imported shadows the real one.
    fake = tmp_path / "site" / "matplotlib"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ImportError('matplotlib is not installed (test)')\n")
    pythonpath = os.pathsep.join(filter(None, [str(tmp_path / "site"), os.environ.get("PYTHONPATH")]))
    proc = run_cli("evaluate", base_model, base_model, raw_file, "--plot", tmp_path / "p.png", env_extra={"PYTHONPATH": pythonpath})
    assert proc.returncode != 0
    assert "needs matplotlib" in output_of(proc) and "pip install" in output_of(proc)
    assert not (tmp_path / "p.png").exists()


def test_parse_label_map():
    assert parse_label_map("PERSON=PER, GPE=LOC,,LOC=LOC") == {"PERSON": "PER", "GPE": "LOC", "LOC": "LOC"}
    for bad in ("PERSON", "=PER", "PERSON=", "PERSON=PER,PERSON=LOC", ","):
        with pytest.raises(typer.BadParameter):
            parse_label_map(bad)
