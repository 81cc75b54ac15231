"""Every bad input stops `spacy train` before its first step, with one `✘` line naming the file (and line).

Each case runs `spacy train` (spaCy's own `train`, in this process) on a tiny
config with one bad input and checks: exit code 1, exactly one `✘` message,
that message names the file and line and says what is wrong, and no training
step ran (no "Training pipeline" section, no model-last). One case per kind
also runs `python -m spacy train` in a subprocess to check that no traceback
is printed.
"""
import codecs
import gzip
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from train_helpers import add_callback, failure_messages, run_train, tiny_data, write_config

GOOD = json.dumps({"text": "I love Gucci bags", "spans": [{"start": 7, "end": 12, "label": "FASHION_BRAND"}]})


def jsonl(tmp: Path, second_line: str) -> Path:
    """A JSONL file whose first line is good and whose second is `second_line`."""
    path = tmp / "bad.jsonl"
    path.write_text(GOOD + "\n" + second_line + "\n", encoding="utf8")
    return path


def raw_bytes(tmp: Path, data: bytes, name: str = "raw.txt") -> Path:
    path = tmp / name
    path.write_bytes(data)
    return path


def read_only_dir(tmp: Path) -> Path:
    """A directory nobody can write to; root writes anywhere, so it then gets sysfs."""
    path = tmp / "read_only"
    path.mkdir()
    path.chmod(0o555)
    if not os.access(path, os.W_OK):
        return path
    sysfs = Path("/sys/kernel")
    try:
        (sysfs / "rehearsal_probe").mkdir()
    except OSError:
        return sysfs
    pytest.skip("no read-only directory available")


# case name -> (maker(tmp) -> the bad path, location regex, message regex)
ANNOTATION_CASES = {
    "not JSON": (lambda t: jsonl(t, "{not json"), r"bad\.jsonl:2", r"line is not valid JSON"),
    "JSON not an object": (lambda t: jsonl(t, "[1, 2]"), r"bad\.jsonl:2", r"expected a JSON object, got list"),
    "no text": (lambda t: jsonl(t, '{"spans": []}'), r"bad\.jsonl:2", r"record has no 'text' field"),
    "text not a string": (lambda t: jsonl(t, '{"text": 5}'), r"bad\.jsonl:2", r"'text' must be a string, got int"),
    "spans not a list": (lambda t: jsonl(t, '{"text": "Gucci", "spans": "Gucci"}'), r"bad\.jsonl:2", r"'spans' must be a list, got str"),
    "spans a dict": (lambda t: jsonl(t, '{"text": "Gucci", "spans": {"start": 0}}'), r"bad\.jsonl:2", r"'spans' must be a list, got dict"),
    "entities not a list": (lambda t: jsonl(t, '{"text": "Gucci", "entities": 3}'), r"bad\.jsonl:2", r"'entities' must be a list, got int"),
    "tokens not a list": (lambda t: jsonl(t, '{"text": "Gucci", "tokens": 3}'), r"bad\.jsonl:2", r"'tokens' must be a list, got int"),
    "span not an object": (lambda t: jsonl(t, '{"text": "Gucci", "spans": [[0, 5, "B"]]}'), r"bad\.jsonl:2", r"span 0 needs 'start', 'end' and 'label'"),
    "offset not an integer": (lambda t: jsonl(t, '{"text": "Gucci", "spans": [{"start": "0", "end": 5, "label": "B"}]}'), r"bad\.jsonl:2", r"span offsets must be integers"),
    "overlapping spans": (
        lambda t: jsonl(t, '{"text": "Gucci Prada", "spans": [{"start": 0, "end": 5, "label": "B"}, {"start": 3, "end": 11, "label": "B"}]}'),
        r"bad\.jsonl:2", r"overlapping spans \(0, 5, B\) 'Gucci' and \(3, 11, B\)",
    ),
    "start >= end": (lambda t: jsonl(t, '{"text": "Gucci", "spans": [{"start": 5, "end": 0, "label": "B"}]}'), r"bad\.jsonl:2", r"span \(5, 0, B\) has start >= end"),
    "span past the text": (lambda t: jsonl(t, '{"text": "Gucci", "spans": [{"start": 0, "end": 9, "label": "B"}]}'), r"bad\.jsonl:2", r"span \(0, 9, B\) is outside the text"),
    "misaligned span": (
        lambda t: jsonl(t, '{"text": "Guccis shoes", "spans": [{"start": 0, "end": 5, "label": "B"}]}'),
        r"bad\.jsonl:2", r"span \(0, 5, B\) 'Gucci' does not fall on token boundaries .*misaligned_spans = \"skip\"",
    ),
    "UTF-16 with BOM": (
        lambda t: raw_bytes(t, (GOOD + "\n").encode("utf-16"), "bad.jsonl"),
        r"bad\.jsonl", r"the file is UTF-16 text \(byte-order mark FF FE\): save it as UTF-8",
    ),
    "UTF-16 without BOM": (
        lambda t: raw_bytes(t, (GOOD + "\n").encode("utf-16-le"), "bad.jsonl"),
        r"bad\.jsonl:1", r"not a text file: NUL byte at byte offset 1 \(a binary or UTF-16 file\? save it as UTF-8\)",
    ),
    "binary (gzip)": (
        lambda t: raw_bytes(t, gzip.compress((GOOD + "\n").encode()), "bad.jsonl"),
        r"bad\.jsonl:1", r"not UTF-8 text: byte 0x8B at byte offset 1 cannot be decoded",
    ),
    "Latin-1 line": (
        lambda t: raw_bytes(t, (GOOD + "\n").encode() + '{"text": "Hermès"}\n'.encode("latin-1"), "bad.jsonl"),
        r"bad\.jsonl:2", rf"not UTF-8 text: byte 0xE8 at byte offset {len(GOOD) + 1 + 14} cannot be decoded",
    ),
    "missing file": (lambda t: t / "nope.jsonl", r"nope\.jsonl", r"annotation file or directory not found"),
    "unsupported type": (lambda t: raw_bytes(t, b"a,b\n", "notes.csv"), r"notes\.csv", r"unsupported annotation file type '\.csv'"),
    "unreadable DocBin": (lambda t: raw_bytes(t, b"not a docbin", "bad.spacy"), r"bad\.spacy", r"not a readable DocBin file"),
}


def _empty_dir(tmp: Path) -> Path:
    (tmp / "empty").mkdir()
    return tmp / "empty"


RAW_CASES = {
    "raw UTF-16": (lambda t: raw_bytes(t, "One text.\nAnother.\n".encode("utf-16")), r"raw\.txt", r"the file is UTF-16 text"),
    "raw UTF-32": (lambda t: raw_bytes(t, "One text.\n".encode("utf-32")), r"raw\.txt", r"the file is UTF-32 text"),
    "raw binary": (lambda t: raw_bytes(t, b"\x00\x01\x02binary\n"), r"raw\.txt:1", r"not a text file: NUL byte at byte offset 0"),
    "raw bad byte near the top": (
        lambda t: raw_bytes(t, b"One text.\nAnother.\nBad \xff byte.\n"), r"raw\.txt:3", r"not UTF-8 text: byte 0xFF at byte offset 23",
    ),
    "raw empty": (lambda t: raw_bytes(t, b"\n \n"), r"raw\.txt", r"raw text file holds no texts"),
    "raw empty directory": (_empty_dir, r"empty", r"directory holds no raw text files"),
}
CACHE_CASES = {
    "cache_dir is a file": (lambda t: raw_bytes(t, b"", "cache"), r"cache", r"cache_dir is a file, not a directory"),
    "cache_dir under a file": (
        lambda t: raw_bytes(t, b"", "afile") / "cache", r"afile/cache", r"cache_dir cannot be used as a cache directory: Not a directory",
    ),
    "cache_dir read-only": (
        read_only_dir, r"(read_only|/sys/kernel)", r"cache_dir cannot be used as a cache directory: (Permission denied|Operation not permitted)",
    ),
}


def check_stopped_before_training(code: int, output: str, out: Path, expected: str) -> None:
    """Exit 1 with one `✘` message matching `expected`, before any training step."""
    failures = failure_messages(output)
    assert code == 1, output
    assert len(failures) == 1, output
    assert re.match(rf"✘ {expected}", failures[0]), failures[0]
    assert "Training pipeline" not in output
    assert not (out / "model-last").exists()


def names(location: str, message: str) -> str:
    """The expected message: the file (any directory before it), line if any, then the problem."""
    return rf"\S*{location}: {message}"


@pytest.mark.parametrize("case", list(ANNOTATION_CASES))
def test_bad_annotations_stop_before_training(base_model, tmp_path, capsys, case):
    make, location, message = ANNOTATION_CASES[case]
    data = tiny_data(tmp_path)
    config = write_config(tmp_path, base_model)
    code, output = run_train(config, tmp_path / "out", capsys, **{**data, "train": make(tmp_path)})
    check_stopped_before_training(code, output, tmp_path / "out", names(location, message))


@pytest.mark.parametrize("case", list(RAW_CASES))
@pytest.mark.parametrize("user", ["reader", "callback"])
def test_bad_raw_text_stops_before_training(base_model, tmp_path, capsys, case, user):
    make, location, message = RAW_CASES[case]
    data = tiny_data(tmp_path)
    if user == "callback":  # the reader reads no raw text: only the callback does

        def edit(config):
            add_callback(config)
            config["corpora"]["train"]["raw_path"] = None

        config = write_config(tmp_path, base_model, edit=edit)
    else:
        config = write_config(tmp_path, base_model)
    data = {**data, "raw": make(tmp_path)}
    code, output = run_train(config, tmp_path / "out", capsys, **data)
    check_stopped_before_training(code, output, tmp_path / "out", names(location, message))


@pytest.mark.parametrize("case", list(CACHE_CASES))
@pytest.mark.parametrize("user", ["reader", "callback"])
def test_unusable_cache_dir_stops_before_training(base_model, tmp_path, capsys, case, user):
    make, location, message = CACHE_CASES[case]
    data = tiny_data(tmp_path)
    if user == "callback":
        # The corpora use no cache; only the callback does.
        def edit(config):
            add_callback(config, cache_dir=str(make(tmp_path)))
            for corpus in config["corpora"].values():
                corpus["cache_dir"] = None

        config = write_config(tmp_path, base_model, edit=edit)
    else:
        data = {**data, "cache": make(tmp_path)}
        config = write_config(tmp_path, base_model)
    code, output = run_train(config, tmp_path / "out", capsys, **data)
    check_stopped_before_training(code, output, tmp_path / "out", names(location, message))


def test_callback_heldout_larger_than_the_raw_text(base_model, tmp_path, capsys):
    data = tiny_data(tmp_path)  # 40 raw texts
    config = write_config(tmp_path, base_model, edit=lambda c: add_callback(c, heldout_size=40))
    code, output = run_train(config, tmp_path / "out", capsys, **data)
    expected = names(r"raw\.txt", r"raw text holds only 40 texts and heldout_size = 40 holds them all out")
    check_stopped_before_training(code, output, tmp_path / "out", expected)


@pytest.mark.parametrize(
    "setting,value,message",
    [
        ("rehearsal_ratio", -1, r"rehearsal_reader\.v2: rehearsal_ratio must be >= 0, got -1"),
        ("teacher_labels", ["PERSON", "FASHION_BRAND"], r"teacher_labels \['FASHION_BRAND'\] are not predicted by teacher"),
        ("teacher", "no_such_pipeline_xyz", r"Cannot load teacher pipeline 'no_such_pipeline_xyz'"),
        # init-config's --labels with a typo: the annotations hold another label
        ("labels", ["FASHON_BRAND"], names(r"train\.jsonl", r"labels = \['FASHON_BRAND'\] \(init-config --labels\) but the "
                                            r"annotations hold \['FASHION_BRAND'\]: run init-config again with --labels FASHION_BRAND")),
        ("labels", ["FASHION_BRAND", "SHOE"], names(r"train\.jsonl", r"labels = \['FASHION_BRAND', 'SHOE'\] \(init-config --labels\) "
                                                     r"but the annotations hold \['FASHION_BRAND'\]")),
    ],
)
def test_bad_settings_stop_before_training(base_model, tmp_path, capsys, setting, value, message):
    data = tiny_data(tmp_path)
    config = write_config(tmp_path, base_model, edit=lambda c: c["corpora"]["train"].update({setting: value}))
    code, output = run_train(config, tmp_path / "out", capsys, **data)
    check_stopped_before_training(code, output, tmp_path / "out", message)


@pytest.mark.parametrize(
    "source,unset,message",
    [
        ("reader.cfg", ["train"], r"paths\.train is not set: give your annotations with --paths\.train FILE$"),
        ("reader.cfg", ["dev"], r"paths\.dev is not set: give held-out annotations with --paths\.dev FILE$"),
        ("reader.cfg", ["train", "dev"], r"paths\.train and paths\.dev are not set: give your annotations and held-out "
                                         r"annotations with --paths\.train FILE --paths\.dev FILE$"),
        # The callback strategies rehearse on raw text; the reader's runs without it (no rehearsal)
        ("rehearsal.cfg", ["raw"], r"paths\.raw is not set: give raw text \(this config rehearses on it\) with --paths\.raw FILE$"),
    ],
)
def test_unset_paths_stop_before_training_naming_the_setting(base_model, tmp_path, capsys, source, unset, message):
    """init-config's configs check [paths] (rehearsal_check_paths.v1) before spaCy builds the pipeline."""
    data = tiny_data(tmp_path)
    config = write_config(tmp_path, base_model, source=source)
    code, output = run_train(config, tmp_path / "out", capsys, **{**data, **{name: None for name in unset}})
    check_stopped_before_training(code, output, tmp_path / "out", message)


def test_base_that_does_not_exist_stops_before_spacy_sources_it(base_model, tmp_path, capsys):
    data = tiny_data(tmp_path)
    config = write_config(tmp_path, base_model)
    missing = tmp_path / "no_base"
    code, output = run_train(config, tmp_path / "out", capsys, **data, base=missing)
    expected = (rf"Cannot load base pipeline '{re.escape(str(missing))}': no such directory: give the path of a saved "
                r"pipeline \(e\.g\. training/model-last\) or an installed package name \(paths\.base: give an "
                r"installed pipeline or a pipeline directory with --paths\.base NAME_OR_PATH\)$")
    check_stopped_before_training(code, output, tmp_path / "out", expected)


def test_base_package_not_installed_says_how_to_install_it(base_model, tmp_path, capsys):
    data = tiny_data(tmp_path)
    config = write_config(tmp_path, base_model)
    code, output = run_train(config, tmp_path / "out", capsys, **data, base="xx_core_news_tiny")
    expected = (r"Cannot load base pipeline 'xx_core_news_tiny': no installed package or directory of that name: "
                r"install it \(pip install xx-core-news-tiny, or python -m spacy download xx_core_news_tiny for spaCy's "
                r"own pipelines\) or give the path of a pipeline directory")
    check_stopped_before_training(code, output, tmp_path / "out", expected)


def test_bom_and_crlf_jsonl_is_accepted(base_model, tmp_path, capsys):
    """UTF-8 with a byte-order mark and CRLF line ends, as many Windows tools write it."""
    data = tiny_data(tmp_path)
    lines = data["train"].read_text(encoding="utf8").splitlines()
    data["train"].write_bytes(codecs.BOM_UTF8 + "\r\n".join(lines).encode("utf8") + b"\r\n")
    raw_lines = data["raw"].read_text(encoding="utf8").splitlines()
    data["raw"].write_bytes(codecs.BOM_UTF8 + "\r\n".join(raw_lines).encode("utf8") + b"\r\n")
    config = write_config(tmp_path, base_model)
    code, output = run_train(config, tmp_path / "out", capsys, **data)
    assert code == 0 and not failure_messages(output), output
    assert (tmp_path / "out" / "model-last").is_dir()
    assert f"{data['train']}: 20 examples" in " ".join(output.split())


@pytest.mark.parametrize("case", ["Latin-1 line", "cache_dir is a file"])
def test_no_traceback_from_the_real_command(base_model, tmp_path, case):
    make, location, message = {**ANNOTATION_CASES, **CACHE_CASES}[case]
    data = tiny_data(tmp_path)
    bad = make(tmp_path)
    data = {**data, "train": bad} if case in ANNOTATION_CASES else {**data, "cache": bad}
    config = write_config(tmp_path, base_model)
    cmd = [sys.executable, "-m", "spacy", "train", str(config), "--output", str(tmp_path / "out")]
    for name, value in data.items():
        cmd += [f"--paths.{name}", str(value)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ, ANSI_COLORS_DISABLED="1"), timeout=300)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 1, output
    assert "Traceback" not in output
    (failure,) = failure_messages(output)
    assert re.match(rf"✘ {names(location, message)}", failure), failure
    assert not (tmp_path / "out" / "model-last").exists()


def test_first_run_slips_with_the_real_commands(base_model, tmp_path):
    """A new user's slips, as they type them: each stops with one line and no traceback."""
    data = tiny_data(tmp_path)
    config = tmp_path / "config.cfg"
    cli = [sys.executable, "-m", "spacy"]
    env = dict(os.environ, ANSI_COLORS_DISABLED="1")
    init = [*cli, "rehearsal", "init-config", base_model, str(config), "--labels", "FASHON_BRAND", "--strategy", "component"]
    subprocess.run(init, capture_output=True, text=True, env=env, timeout=300, check=True)
    train = [*cli, "train", str(config), "--output", str(tmp_path / "out"), "--paths.train", str(data["train"]),
             "--paths.dev", str(data["dev"]), "--paths.raw", str(data["raw"]), "--training.max_epochs", "1"]
    for extra, expected in (
        (["--paths.base", str(tmp_path / "no_base")], rf"✘ Cannot load base pipeline '{re.escape(str(tmp_path))}/no_base': no such directory"),
        ([], rf"✘ {re.escape(str(data['train']))}: labels = \['FASHON_BRAND'\] \(init-config --labels\) but the annotations "
             r"hold \['FASHION_BRAND'\]"),
    ):
        proc = subprocess.run(train + extra, capture_output=True, text=True, env=env, timeout=300)
        output = proc.stdout + proc.stderr
        assert proc.returncode == 1 and "Traceback" not in output, output
        (failure,) = failure_messages(output)
        assert re.match(expected, failure), failure
    assert not (tmp_path / "out" / "model-last").exists()


def test_cache_dir_made_read_only_after_a_first_run(base_model, tmp_path, capsys, monkeypatch):
    """A cache another run filled (manifest and all), now read-only: found at resolve time, not mid-training."""
    from spacy_rehearsal.teacher.teacher import Teacher

    data = tiny_data(tmp_path)
    shard_dir = Teacher(base_model).cache(data["cache"]).dir  # as a first run leaves it
    shard_dir.chmod(0o555)
    if os.access(shard_dir, os.W_OK):  # root writes anyway: take the view of any other user
        real_access = os.access
        monkeypatch.setattr(os, "access", lambda p, mode: False if Path(p) == shard_dir else real_access(p, mode))
    try:
        code, output = run_train(write_config(tmp_path, base_model), tmp_path / "out", capsys, **data)
    finally:
        shard_dir.chmod(0o755)
    expected = names(re.escape(str(data["cache"])), rf"cache_dir cannot be used as a cache directory: Permission denied \({re.escape(str(shard_dir))}\)")
    check_stopped_before_training(code, output, tmp_path / "out", expected)


def test_fill_augmenter_checks_its_corpus_and_cache_dir_at_resolve_time(base_model, tmp_path):
    from confection import Config
    from spacy.tokens import Doc, DocBin
    from spacy.util import registry
    from spacy.vocab import Vocab

    from spacy_rehearsal.errors import InputError

    corpus = tmp_path / "train.spacy"
    DocBin(docs=[Doc(Vocab(), words=["Gucci", "bags"])]).to_disk(corpus)

    def resolve(**args):
        block = {"@augmenters": "rehearsal_fill.v1", "teacher": base_model, "path": str(corpus), **args}
        return registry.resolve(Config({"aug": block}))["aug"]

    with pytest.raises(InputError, match=rf"^{re.escape(str(tmp_path))}/afile: cache_dir is a file, not a directory"):
        resolve(cache_dir=str(raw_bytes(tmp_path, b"", "afile")))
    raw_bytes(tmp_path, b"not a docbin", "train.spacy")
    with pytest.raises(InputError, match=r"train\.spacy: not a readable DocBin file"):
        resolve()
