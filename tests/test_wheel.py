"""The wheel `python -m build` makes: what pip installs from it is the package, whole, and nothing else.

Built once per session from a copy of the working tree (no build/ or egg-info
left in the checkout), with `--no-isolation`: the `test` extra installs
setuptools, wheel and build, so it needs no network.
"""
import ast
import shutil
import subprocess
import sys
import zipfile
from importlib.metadata import Distribution
from pathlib import Path
from typing import Dict, List

import pytest
from packaging.requirements import Requirement

import spacy_rehearsal

if sys.version_info >= (3, 11):
    import tomllib
else:  # the `test` extra installs tomli there
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "spacy_rehearsal"
# Never in the wheel: they live in the repository only
REPO_ONLY = ("tests/", "benchmarks/", "scripts/", "configs/", "docs/")
# Not copied for the build: version control, caches, build leftovers and the project's run outputs (.gitignore)
COPY_IGNORE = {".git", "build", "dist", "training", "corpus", "metrics", "assets", ".cache", ".benchmarks"}


def _ignore(folder: str, names: List[str]) -> List[str]:
    top = Path(folder) == ROOT
    return [
        n for n in names
        if (top and n in COPY_IGNORE) or n == "__pycache__" or n.endswith(".egg-info") or (n.startswith(".") and n.endswith("_cache"))
    ]


@pytest.fixture(scope="module")
def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf8"))


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The extracted wheel, built from a copy of the working tree."""
    tmp = tmp_path_factory.mktemp("wheel")
    src, out, unpacked = tmp / "src", tmp / "dist", tmp / "unpacked"
    shutil.copytree(ROOT, src, ignore=_ignore)
    cmd = [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out), str(src)]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"{' '.join(cmd)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    (path,) = out.glob("*.whl")
    with zipfile.ZipFile(path) as zf:
        zf.extractall(unpacked)
    return unpacked


@pytest.fixture(scope="module")
def files(wheel) -> List[str]:
    return sorted(p.relative_to(wheel).as_posix() for p in wheel.rglob("*") if p.is_file())


@pytest.fixture(scope="module")
def dist_info(wheel) -> Path:
    (found,) = wheel.glob("*.dist-info")
    return found


def test_declared_entry_points_are_in_the_wheel(pyproject, dist_info):
    declared = {(group, name): value for group, eps in pyproject["project"]["entry-points"].items() for name, value in eps.items()}
    shipped = {(ep.group, ep.name): ep.value for ep in Distribution.at(dist_info).entry_points}
    assert shipped == declared


def test_entry_point_modules_and_functions_are_in_the_wheel(pyproject, wheel):
    for group, eps in pyproject["project"]["entry-points"].items():
        for name, value in eps.items():
            module, _, attr = value.partition(":")
            base = wheel.joinpath(*module.split("."))
            found = [p for p in (base.with_suffix(".py"), base / "__init__.py") if p.is_file()]
            assert found, f"{group} {name}: module {module} is not in the wheel"
            if attr:
                tree = ast.parse(found[0].read_text(encoding="utf8"))
                defined = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
                assert attr in defined, f"{group} {name}: {module} in the wheel defines no {attr}"


def test_every_module_of_the_source_tree_is_in_the_wheel(files):
    # A package left out of [tool.setuptools] packages would lose its modules (and its __init__.py) here
    source = sorted(
        p.relative_to(ROOT).as_posix() for p in (ROOT / PACKAGE).rglob("*.py") if "__pycache__" not in p.parts
    )
    missing = [f for f in source if f not in files]
    assert not missing, f"not in the wheel (a package missing from [tool.setuptools] packages?): {missing}"
    packages = [p.parent for p in (ROOT / PACKAGE).rglob("*.py") if "__pycache__" not in p.parts]
    no_init = sorted({str(p.relative_to(ROOT)) for p in packages if not (p / "__init__.py").is_file()})
    assert not no_init, f"folders of modules without an __init__.py: {no_init}"


def test_wheel_holds_the_package_and_its_metadata_only(files, dist_info):
    assert f"{PACKAGE}/py.typed" in files
    repo_only = [f for f in files if f.startswith(REPO_ONLY)]
    assert not repo_only, f"repository-only files in the wheel: {repo_only}"
    top = {f.split("/")[0] for f in files}
    assert top == {PACKAGE, dist_info.name}
    assert not [f for f in files if "__pycache__" in f or f.endswith(".pyc")]


def test_license_and_metadata(pyproject, dist_info):
    licenses = [p for p in dist_info.rglob("LICENSE")]  # dist-info/LICENSE, or dist-info/licenses/LICENSE
    assert licenses, "LICENSE is not in the wheel's .dist-info"
    assert licenses[0].read_text(encoding="utf8") == (ROOT / "LICENSE").read_text(encoding="utf8")
    meta = Distribution.at(dist_info).metadata
    assert meta["Version"] == spacy_rehearsal.__version__
    assert meta["Name"] == pyproject["project"]["name"]
    # The dependencies the wheel declares are pyproject's (the tested spaCy range among them)
    declared: Dict[str, str] = {Requirement(r).name: str(Requirement(r).specifier) for r in pyproject["project"]["dependencies"]}
    shipped = {
        Requirement(r).name: str(Requirement(r).specifier)
        for r in meta.get_all("Requires-Dist") or []
        if Requirement(r).marker is None
    }
    assert shipped == declared
