"""Build the lessons: each ``notebooks/NN_topic.md`` (a Jupytext MyST notebook) becomes
``notebooks/NN_topic.ipynb``, executed top to bottom in a fresh kernel with its outputs stored.

    python tools/build_lessons.py                 # every lesson, and the README's chapter table
    python tools/build_lessons.py 03 05           # some lessons
    python tools/build_lessons.py 03 --png DIR    # also save every figure as DIR/03_cellNN_K.png
    python tools/build_lessons.py --check         # exit 1 if a lesson or the README is stale

The text file is the source: edit it in any editor, or open either file in JupyterLab (with
Jupytext installed, ``notebooks/jupytext.toml`` pairs them, so saving one updates the other).
The ``.ipynb`` is what learners open and what nbval tests; ``--check`` and
``tests/test_lessons.py`` fail when its cells differ from the text's.
"""

import argparse
import base64
import re
import sys
import time
from pathlib import Path

import jupytext
import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
README = ROOT / "README.md"
# What JupyterLab writes for its default kernel: storing the same keeps a lesson unmodified
# when a learner opens it.
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


def lessons():
    """``{NN: path of the text source}`` of every lesson."""
    return {p.name[:2]: p for p in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.md"))}


def cells(nb):
    """What must agree between a lesson's text and its notebook: each cell's type, source and
    tags."""
    return [(c.cell_type, c.source, tuple(c.metadata.get("tags", ()))) for c in nb.cells]


def read(source):
    """The lesson's notebook, unexecuted, from its text: stable cell ids, JupyterLab's kernel."""
    nb = jupytext.read(source)
    nb.metadata = {"kernelspec": dict(KERNELSPEC)}
    for n, cell in enumerate(nb.cells):
        cell.id = f"c{source.name[:2]}-{n:02d}"  # rebuilding gives the same file
        cell.metadata.pop("lines_to_next_cell", None)
    return nb


def execute(nb):
    """Run ``nb`` in a fresh kernel from ``notebooks/``; return the seconds it took."""
    start = time.perf_counter()
    NotebookClient(nb, timeout=300, kernel_name="python3", record_timing=False,
                   store_widget_state=False,
                   resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    return time.perf_counter() - start


def stale(source):
    """Why the lesson's ``.ipynb`` is out of step with its text, or None."""
    built = source.with_suffix(".ipynb")
    if not built.exists():
        return "no .ipynb"
    stored = nbformat.read(built, as_version=4)
    if cells(stored) != cells(read(source)):
        return "its cells differ from the text"
    if any(c.cell_type == "code" and c.execution_count is None for c in stored.cells):
        return "not executed"
    return None


def readme_table():
    """The README's chapter table, from ``convlab.course.CHAPTERS``."""
    from convlab.course import CHAPTERS

    rows = ["| # | chapter | lesson | exercises |", "|---|---|---|---|"]
    for ch in CHAPTERS:
        if (NOTEBOOKS / f"{ch.stem}.ipynb").exists():
            lesson = f"[notebooks/{ch.stem}.ipynb](notebooks/{ch.stem}.ipynb)"
            exercises = f"[exercises](exercises/{ch.stem}.ipynb)"
        else:
            lesson, exercises = "not yet written", ""
        rows.append(f"| {ch.number} | {ch.title} · {ch.chinese} | {lesson} | {exercises} |")
    return "\n".join(rows)


_TABLE = re.compile(r"(<!-- chapters -->\n).*?(\n<!-- /chapters -->)", re.S)


def readme_with_table(text):
    return _TABLE.sub(lambda m: m.group(1) + readme_table() + m.group(2), text)


def save_pngs(nb, chapter, folder):
    """Write every image/png output of ``nb`` to ``folder``; return how many."""
    folder.mkdir(parents=True, exist_ok=True)
    count = 0
    for c, cell in enumerate(nb.cells):
        for k, out in enumerate(cell.get("outputs", [])):
            png = out.get("data", {}).get("image/png")
            if png:
                (folder / f"{chapter}_cell{c:02d}_{k}.png").write_bytes(base64.b64decode(png))
                count += 1
    return count


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("chapters", nargs="*", metavar="NN", help="lessons to build (default all)")
    parser.add_argument("--png", type=Path, help="also save the figures to this folder")
    parser.add_argument("--check", action="store_true",
                        help="build nothing; exit 1 if a lesson or the README table is stale")
    args = parser.parse_args(argv)
    found = lessons()
    unknown = set(args.chapters) - set(found)
    if unknown:
        parser.error(f"no lesson {', '.join(sorted(unknown))}: choose from {', '.join(found)}")
    readme = README.read_text(encoding="utf-8")
    if args.check:
        problems = [f"notebooks/{p.stem}.ipynb: {why} (python tools/build_lessons.py {n})"
                    for n, p in found.items() if (why := stale(p))]
        if readme_with_table(readme) != readme:
            problems.append("README.md: the chapter table is stale (python tools/build_lessons.py)")
        print("\n".join(problems) or "lessons and README are up to date")
        return 1 if problems else 0
    for chapter in args.chapters or found:
        source = found[chapter]
        nb = read(source)
        seconds = execute(nb)
        nbformat.write(nb, source.with_suffix(".ipynb"))
        line = f"notebooks/{source.stem}.ipynb: executed in {seconds:.1f} s"
        if args.png:
            line += f", {save_pngs(nb, chapter, args.png)} figures saved to {args.png}"
        print(line)
    README.write_text(readme_with_table(readme), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
