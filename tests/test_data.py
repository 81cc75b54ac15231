"""The data a clone holds, and the tests' way with CoNLL-2003, which it never holds.

The fashion-brands files come with the repository, with their source and
licence; CoNLL-2003 is not redistributable, so no file of it is tracked, and
the tests that need it are skipped with a visible reason where it is absent.
"""
import hashlib
import os
import subprocess
import sys

from conftest import CONLL_ENV, FASHION, FASHION_EVAL, FASHION_TRAIN, ROOT

CHECKSUMS = {FASHION_TRAIN: "63373dd656daa1fd3043ce166a59474c", FASHION_EVAL: "5113dc04e03f079525edd8df3f4f39e3"}


def tracked() -> list:
    return subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.splitlines()


def test_fashion_data_is_tracked_with_its_source_and_licence():
    files = tracked()
    for path, md5 in CHECKSUMS.items():
        assert path.relative_to(ROOT).as_posix() in files
        assert hashlib.md5(path.read_bytes()).hexdigest() == md5  # the tutorial's files, unchanged
    notice = (FASHION / "README.md").read_text(encoding="utf8")
    assert "explosion/projects" in notice and "MIT License" in notice and "ExplosionAI GmbH" in notice


def test_no_conll_file_is_tracked():
    assert not [f for f in tracked() if "conll2003" in f or f.endswith(("/train.txt", "/dev.txt"))]


def test_tests_that_need_conll_are_skipped_with_the_reason_where_it_is_absent(tmp_path):
    env = dict(os.environ, **{CONLL_ENV: str(tmp_path / "nowhere")})
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-ra", "-p", "no:cacheprovider", "tests/test_conll_mapping.py"],
                          cwd=ROOT, capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert f"CoNLL-2003 not found at {tmp_path / 'nowhere'}: set {CONLL_ENV}" in proc.stdout
    assert " passed" in proc.stdout and "2 skipped" in proc.stdout  # the others run
