"""Build, execute and store the lesson notebooks of chapters 00, 01 and 02.

    python tools/notebooks/build_lessons_00_02.py              # all three
    python tools/notebooks/build_lessons_00_02.py 01 --png /tmp/nb_png

The cells live in ``lesson_NN.py`` beside this script. Each notebook is written from them,
executed top to bottom in a fresh kernel with ``notebooks/`` as working directory (as nbval
and a learner run it) and stored with its outputs, which nbval compares in CI. ``--png DIR``
also saves every figure of the executed notebooks as ``DIR/NN_cellCC_K.png``, to look at.
"""

import argparse
import base64
import importlib
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent
NOTEBOOKS = HERE.parents[1] / "notebooks"
LESSONS = {
    "00": "00_welcome.ipynb",
    "01": "01_convolution_vs_correlation.ipynb",
    "02": "02_computing_convolution.ipynb",
}


def build(chapter):
    """The chapter's notebook, unexecuted, from ``lesson_<chapter>.CELLS``."""
    sys.path.insert(0, str(HERE))
    cells = importlib.import_module(f"lesson_{chapter}").CELLS
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    for n, cell in enumerate(nb.cells):
        cell.id = f"c{chapter}-{n:02d}"  # stable ids: rebuilding gives the same file
    return nb


def execute(nb):
    """Run ``nb`` in a fresh kernel from ``notebooks/``; return the seconds it took."""
    start = time.perf_counter()
    NotebookClient(nb, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    return time.perf_counter() - start


def _outputs(nb):
    """``(name, output)`` of every cell output, then of every stored ``Output`` widget."""
    for c, cell in enumerate(nb.cells):
        for k, out in enumerate(cell.get("outputs", [])):
            yield f"cell{c:02d}_{k}", out
    state = nb.metadata.get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {})
    for w, model in enumerate(state.get("state", {}).values()):
        for k, out in enumerate(model["state"].get("outputs", [])):
            yield f"widget{w:02d}_{k}", out


def save_pngs(nb, chapter, folder):
    """Write every image/png of ``nb``, widgets' figures included, to ``folder``; count them."""
    folder.mkdir(parents=True, exist_ok=True)
    count = 0
    for name, out in _outputs(nb):
        png = out.get("data", {}).get("image/png")
        if png:
            (folder / f"{chapter}_{name}.png").write_bytes(base64.b64decode(png))
            count += 1
    return count


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("chapters", nargs="*", metavar="NN",
                        help=f"chapters to build, of {', '.join(LESSONS)} (default: all)")
    parser.add_argument("--png", type=Path, help="also save the figures to this folder")
    args = parser.parse_args()
    unknown = set(args.chapters) - set(LESSONS)
    if unknown:
        parser.error(f"no lesson {', '.join(sorted(unknown))}: choose from {', '.join(LESSONS)}")
    for chapter in args.chapters or sorted(LESSONS):
        nb = build(chapter)
        seconds = execute(nb)
        path = NOTEBOOKS / LESSONS[chapter]
        nbformat.write(nb, path)
        line = f"{path.name}: executed in {seconds:.1f} s"
        if args.png:
            line += f", {save_pngs(nb, chapter, args.png)} figures saved to {args.png}"
        print(line)


if __name__ == "__main__":
    main()
