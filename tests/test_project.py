"""The project's promises about itself: one dependency list, one test command, one chapter list."""

import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import tomllib

yaml = pytest.importorskip("yaml")

ROOT = Path(__file__).resolve().parents[1]


def _pyproject():
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _split(spec):
    """``'numpy>=1.24'`` -> ``('numpy', '>=1.24')``."""
    name, version = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$", spec).groups()
    return name.lower().replace("_", "-"), version.replace(" ", "")


def test_environment_yml_agrees_with_pyproject():
    project = _pyproject()["project"]
    wanted = {_split(s) for s in project["dependencies"]}
    wanted |= {_split(s) for s in project["optional-dependencies"]["dev"]}
    wanted.add(("python", project["requires-python"]))

    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    conda = [d for d in env["dependencies"] if isinstance(d, str) and d != "pip"]
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    listed = {_split(s) for s in conda} | {_split(s) for s in pip if not s.startswith("-e")}
    assert listed == wanted, (
        f"only in environment.yml: {sorted(listed - wanted)}; "
        f"only in pyproject.toml: {sorted(wanted - listed)}"
    )
    assert "-e ." in pip, "environment.yml must install convlab itself (pip: -e .)"


def _readme_commands():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    quick = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```(?:bash|sh)?\n(.*?)\n```", quick, flags=re.S)


def test_readme_quick_start_has_exactly_two_commands():
    commands = _readme_commands()
    assert len(commands) == 2, commands
    install, test = commands
    assert "pip install" in install and "jupyter lab" in install
    assert "pytest" in test


def test_ci_runs_the_readme_test_command():
    test_command = _readme_commands()[1].strip()
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    lines = [line.strip() for line in ci.splitlines()]
    assert test_command in lines, f"{test_command!r} is not a line of .ci/run"


def test_every_chapter_has_its_three_notebooks_and_is_listed_in_the_readme():
    lessons = sorted(p.name for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    assert lessons, "no chapters in notebooks/"
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in lessons:
        assert (ROOT / "solutions" / name).exists(), f"solutions/{name} is missing"
        assert (ROOT / "exercises" / name).exists(), f"exercises/{name} is missing"
        assert f"notebooks/{name}" in readme, f"README.md does not link notebooks/{name}"


def test_the_code_is_lint_clean():
    ruff = shutil.which("ruff")
    if ruff is None:
        pytest.skip("ruff is not installed (pip install -e '.[dev]')")
    run = subprocess.run([ruff, "check", "convlab", "tests", "tools", "benchmarks"], cwd=ROOT,
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stdout


def test_the_distribution_is_not_pypis_convlab():
    """``convlab`` on PyPI is an unrelated toolkit; the course installs as ``convlab-course``."""
    project = _pyproject()
    assert project["project"]["name"] == "convlab-course"
    assert project["tool"]["setuptools"]["packages"]["find"]["include"] == ["convlab*"]


def test_a_wheel_holds_the_library_and_nothing_of_the_course(tmp_path):
    """What a class installs: ``convlab/`` only, never ``solutions/`` (docs/teaching.md)."""
    checkout = tmp_path / "checkout"
    shutil.copytree(ROOT, checkout, ignore=shutil.ignore_patterns(
        ".git", "__pycache__", "build", "*.egg-info", "dist"))
    run = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(tmp_path / "dist"), str(checkout)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-2000:]
    (wheel,) = (tmp_path / "dist").glob("*.whl")
    assert wheel.name.startswith("convlab_course-")
    names = zipfile.ZipFile(wheel).namelist()
    assert "convlab/checks/__init__.py" in names and "convlab/grading.py" in names
    outside = {n.split("/")[0] for n in names} - {"convlab"}
    assert all(top.endswith(".dist-info") for top in outside), outside
    assert not [n for n in names if n.endswith(".ipynb") or "solutions" in n]
