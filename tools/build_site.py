"""Build the course as a static website that works offline.

    python tools/build_site.py OUTDIR      # then open OUTDIR/index.html, or serve OUTDIR

Sphinx with MyST-NB and the Sphinx Book Theme, warnings as errors. The pages come from a
temporary source tree laid out like the repository, so that the lessons' links work as written:

    index.md              the course: every chapter of ``convlab.course.CHAPTERS``, written or not
    notebooks/NN_*.ipynb  the lessons, shown with their stored outputs (never executed here)
    exercises/NN_*.ipynb  the exercises, each page with a link to download its notebook
    glossary.md           ``convlab.course.glossary()``, by section
    docs/teaching.md      the teacher's guide
    api/                  convlab's docstrings, one page per module (autodoc, napoleon)
    files/, solutions/    the notebooks as files to download, not pages

Lessons are found, not listed: a new ``notebooks/NN_topic.ipynb`` is a new page.

The site loads nothing from another host: MathJax is shipped with it (sphinx-mathjax-offline)
and the theme's launch, repository and download buttons are off. Outputs that need a kernel or
the internet are replaced by what they show: an explorer (an ipywidgets view) by a note to run
the notebook and the picture it drew when the lesson was built. (Animations are animated PNGs
already: they play on the site as they are.)
"""

import argparse
import pkgutil
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # document the convlab of this checkout, installed or not
CONFIG = Path(__file__).resolve().parent / "site"  # conf.py and _static/
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
# Files in _static/ that no page loads: the MathJax builds other than tex-chtml.js (which may
# load a11y/, ui/, sre/, input/tex/ and output/chtml/), 15 MB of the 24 sphinx-mathjax-offline
# copies; and the theme's source maps (3 MB, for its developers' debugger).
UNUSED = ["mathjax/*-svg*.js", "mathjax/*mml-chtml.js", "mathjax/tex-chtml-full*.js",
          "mathjax/node-main.js", "mathjax/output/svg*", "mathjax/input/mml*",
          "mathjax/input/asciimath*", "mathjax/input/tex-*.js", "**/*.map"]


# -- outputs that cannot work offline ------------------------------------------------------------

def _widget_outputs(model_id, state):
    """What an explorer showed when the lesson was built, in display order: the HTML texts
    (its formula) and the outputs (its figure) of widget ``model_id`` and its children, from
    the widget ``state`` stored in the notebook."""
    model = state.get(model_id)
    if model is None:
        return []
    s = model["state"]
    if model["model_name"] == "OutputModel":
        return [nbformat.from_dict(o) for o in s["outputs"]]
    if model["model_name"] == "HTMLModel" and s["value"].strip():
        return [nbformat.v4.new_output("display_data", {"text/html": s["value"]})]
    outputs = []
    for child in s.get("children", []):
        outputs += _widget_outputs(child.removeprefix("IPY_MODEL_"), state)
    return outputs


def _explorer(view, state):
    """A widget view's outputs on a page without a kernel: a note, then what it showed."""
    shown = _widget_outputs(view["model_id"], state)
    note = ("<p class='convlab-explorer-note'>An explorer: its controls need a running kernel. "
            "Download this notebook and run it in JupyterLab to use them"
            f"{'; here, what it showed first' if shown else ''}.</p>")
    return [nbformat.v4.new_output("display_data", {"text/html": note}), *shown]


def offline(nb):
    """Replace, in place, the outputs of ``nb`` that need a kernel or another host."""
    state = nb.metadata.pop("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    for cell in nb.cells:
        outputs = []
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if WIDGET_VIEW in data:
                outputs += _explorer(data[WIDGET_VIEW], state)
            else:
                outputs.append(out)
        if cell.cell_type == "code":
            cell.outputs = outputs


# Exercises link their worked answers as ../solutions/NN.ipynb: on the site, files to download.
_SOLUTION_LINK = re.compile(r"\]\((\.\./solutions/[^)]+\.ipynb)\)")


def solutions_as_downloads(nb):
    """Make the links of ``nb`` to ``../solutions/`` download links (MyST's ``path:``)."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = _SOLUTION_LINK.sub(r"](path:\1)", cell.source)


def with_download(nb, href, what):
    """Add a download link to ``href`` under the notebook's title (its first ``#`` line)."""
    link = f"[Download {what}](path:{href}) and run it in JupyterLab."
    first = nb.cells[0]
    if first.cell_type != "markdown" or not first.source.startswith("# "):
        nb.cells.insert(0, nbformat.v4.new_markdown_cell(link))
        return
    title, _, rest = first.source.partition("\n")
    first.source = f"{title}\n\n{link}\n{rest}"


# -- generated pages -----------------------------------------------------------------------------

INDEX = """\
# convlab · the convolution course · 卷积课程

Every kind of convolution used in deep learning: drawn, animated, computed by a small NumPy
library you can read, and practised in exercises that tell you at once whether you are right.

Read the lessons here, with their figures and numbers. To run them, change them, use the
explorers' sliders and do the exercises, download a lesson's notebook from its page and open it
in JupyterLab with `convlab` installed (`pip install -e ".[dev]"` in the repository).

## Chapters

{chapters}

## Reference

* [Glossary · 术语表](glossary.md): every term of the course, in English and Chinese.
* [Teaching with convlab](docs/teaching.md): the graded exercises with nbgrader.
* [The library](api/index.md): `convlab`'s functions, from their docstrings.

```{{toctree}}
:hidden:
:caption: Lessons
:glob:

notebooks/*
```

```{{toctree}}
:hidden:
:caption: Exercises
:glob:

exercises/*
```

```{{toctree}}
:hidden:
:caption: Reference

glossary
docs/teaching
api/index
```
"""


def index_page(lessons, exercises):
    """The home page: the chapter table from ``CHAPTERS``; ``lessons`` and ``exercises`` are
    the stems of the notebooks that exist."""
    from convlab.course import CHAPTERS

    rows = ["| # | chapter · 章节 | what you will be able to do |", "|---|---|---|"]
    for ch in CHAPTERS:
        if ch.stem in lessons:
            chapter = f"[{ch.title}](notebooks/{ch.stem}.ipynb) · {ch.chinese}"
            if ch.stem in exercises:
                chapter += f" · [exercises](exercises/{ch.stem}.ipynb)"
        else:
            chapter = f"{ch.title} · {ch.chinese} *(not yet written)*"
        rows.append(f"| {ch.number} | {chapter} | {ch.goal} |")
    return INDEX.format(chapters="\n".join(rows))


def glossary_page():
    from convlab.course import SECTIONS, glossary

    parts = ["# Glossary · 术语表", "",
             "Every term of the course, in English and Chinese (a † marks a Chinese term the "
             "source articles do not use, given in its usual form), with the chapters that "
             "teach it."]
    for key, title in SECTIONS.items():
        # a no-break space keeps a † on the line of its term in a narrow column
        parts += ["", f"## {title}", "", glossary(key).markdown().replace(" †", "\u00a0†")]
    return "\n".join(parts) + "\n"


def api_modules():
    """The public modules of convlab, packages first: no name part starts with ``_``."""
    import convlab

    names = ["convlab"] + [m.name for m in pkgutil.walk_packages(convlab.__path__, "convlab.")]
    return [n for n in names if not any(part.startswith("_") for part in n.split("."))]


def api_pages():
    """``{file name: text}`` of the API reference: an index and one page per module. Each page
    documents what its module defines (re-exports are documented where they are defined)."""
    modules = api_modules()
    pages = {"index.md": "\n".join([
        "# The library · API", "",
        "`convlab`'s modules, by idea, with the docstrings of everything they define. The "
        "package re-exports the ops: `convlab.conv.conv2d` is `cl.conv2d`.", "",
        "```{toctree}", ":maxdepth: 1", "", *modules, "```", ""])}
    for name in modules:
        pages[f"{name}.md"] = "\n".join([
            f"# {name}", "", "```{eval-rst}", f".. automodule:: {name}", "   :members:",
            "   :ignore-module-all:", "```", ""])
    return pages


# -- the build -----------------------------------------------------------------------------------

def _copy_notebook(source, target, download, what):
    nb = nbformat.read(source, as_version=4)
    offline(nb)
    solutions_as_downloads(nb)
    with_download(nb, download, what)
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, target)


def assemble(src):
    """Write the site's source tree into the empty folder ``src``."""
    shutil.copytree(CONFIG, src, dirs_exist_ok=True)
    lessons = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    exercises = sorted((ROOT / "exercises").glob("[0-9][0-9]_*.ipynb"))
    for folder in ("files/notebooks", "files/exercises", "solutions"):
        (src / folder).mkdir(parents=True)
        for path in sorted((ROOT / Path(folder).name).glob("[0-9][0-9]_*.ipynb")):
            shutil.copy(path, src / folder)
    for path in lessons:
        _copy_notebook(path, src / "notebooks" / path.name, f"../files/notebooks/{path.name}",
                       "this lesson's notebook")
    for path in exercises:
        _copy_notebook(path, src / "exercises" / path.name, f"../files/exercises/{path.name}",
                       "these exercises as a notebook")
    (src / "docs").mkdir()
    shutil.copy(ROOT / "docs" / "teaching.md", src / "docs" / "teaching.md")
    index = index_page({p.stem for p in lessons}, {p.stem for p in exercises})
    (src / "index.md").write_text(index, encoding="utf-8")
    (src / "glossary.md").write_text(glossary_page(), encoding="utf-8")
    (src / "api").mkdir()
    for name, text in api_pages().items():
        (src / "api" / name).write_text(text, encoding="utf-8")


def _prune(html):
    for pattern in UNUSED:
        for path in (html / "_static").glob(pattern):
            shutil.rmtree(path) if path.is_dir() else path.unlink()


def build(outdir):
    """Build the site into ``outdir`` (replaced if it holds a site built before)."""
    from sphinx.cmd.build import build_main

    outdir = Path(outdir)
    if outdir.exists() and any(outdir.iterdir()) and not (outdir / ".buildinfo").exists():
        raise SystemExit(f"build_site: {outdir} is not empty and holds no site built before; "
                         "give a new or empty folder")
    with tempfile.TemporaryDirectory(prefix="convlab-site-") as tmp:
        tmp = Path(tmp)
        src, html = tmp / "src", tmp / "build" / "html"  # myst-nb writes next to html
        src.mkdir()
        assemble(src)
        status = build_main(["-b", "html", "-W", "--keep-going", "-q",
                             "-d", str(tmp / "doctrees"), str(src), str(html)])
        if status:
            raise SystemExit(f"build_site: Sphinx failed (status {status}); see above")
        _prune(html)
        if outdir.exists():
            shutil.rmtree(outdir)
        shutil.copytree(html, outdir)
    return outdir


def _size(folder):
    return sum(p.stat().st_size for p in Path(folder).rglob("*") if p.is_file())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("outdir", type=Path, metavar="OUTDIR", help="where to write the site")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    build(args.outdir)
    print(f"{args.outdir}/index.html: built in {time.perf_counter() - start:.0f} s, "
          f"{_size(args.outdir) / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
