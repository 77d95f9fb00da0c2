"""The lessons: each ``notebooks/NN_topic.ipynb`` is in step with its Jupytext text source, the
README's chapter table is made from ``convlab.course``, and no stored figure is wider than a
JupyterLab notebook column."""

import base64
import importlib.util
import struct
from pathlib import Path

import pytest

pytest.importorskip("jupytext")
nbformat = pytest.importorskip("nbformat")

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("build_lessons", ROOT / "tools" / "build_lessons.py")
build = importlib.util.module_from_spec(spec)
spec.loader.exec_module(build)

LESSONS = build.lessons()
COLUMN = 960  # px: the output area of a notebook at JupyterLab's default width (about 968)


@pytest.mark.parametrize("number", sorted(LESSONS))
def test_the_notebook_is_built_from_its_text(number):
    assert build.stale(LESSONS[number]) is None, (
        f"notebooks/{LESSONS[number].stem}.ipynb: {build.stale(LESSONS[number])}: "
        f"run python tools/build_lessons.py {number}")


def test_every_lesson_notebook_has_a_text_source_and_stores_jupyterlabs_kernelspec():
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        assert path.with_suffix(".md").exists(), f"{path.name} has no text source"
        nb = nbformat.read(path, as_version=4)
        assert nb.metadata["kernelspec"] == build.KERNELSPEC, path.name


def test_the_readme_chapter_table_comes_from_the_course_data():
    readme = build.README.read_text(encoding="utf-8")
    assert "<!-- chapters -->" in readme
    assert build.readme_with_table(readme) == readme, "run python tools/build_lessons.py"


def test_a_stale_notebook_is_found(tmp_path):
    source = LESSONS["00"]
    copy = tmp_path / source.name
    copy.write_text(source.read_text(encoding="utf-8").replace("# Welcome", "# Hello", 1),
                    encoding="utf-8")
    (tmp_path / f"{source.stem}.ipynb").write_bytes(source.with_suffix(".ipynb").read_bytes())
    assert build.stale(copy) == "its cells differ from the text"


def _png_widths(path):
    nb = nbformat.read(path, as_version=4)
    for n, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            png = out.get("data", {}).get("image/png")
            if png:
                head = base64.b64decode(png[:64])
                yield n, struct.unpack(">I", head[16:20])[0]


@pytest.mark.parametrize("path", sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
                         + sorted((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb")),
                         ids=lambda p: f"{p.parent.name}/{p.name}")
def test_no_figure_is_wider_than_the_notebook_column(path):
    wide = [(n, w) for n, w in _png_widths(path) if w > COLUMN]
    assert not wide, f"cells {wide} have figures wider than {COLUMN} px"
