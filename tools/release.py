"""Generate ``exercises/`` from ``solutions/`` with nbgrader's ``generate_assignment``.

    python tools/release.py             # regenerate exercises/NN_*.ipynb
    python tools/release.py --check     # exit 1 if exercises/ is stale against solutions/
    python tools/release.py --execute   # first re-run solutions/ and store their outputs
    python tools/release.py --execute 08 09   # re-run only these chapters' solutions

Each ``solutions/NN_topic.ipynb`` becomes the assignment ``NN_topic`` of a temporary nbgrader
course folder (``source/NN_topic/NN_topic.ipynb``) configured by ``tools/nbgrader_config.py``
with the course seed 0 and the links to ``../solutions/`` kept; nbgrader's own preprocessors
then lock the check cells, replace the solutions by ``# YOUR CODE HERE``, compute the checksums,
remove the hidden tests and clear the outputs. The released notebook is what
``exercises/NN_topic.ipynb`` must hold byte for byte. A teacher's ``nbgrader
generate_assignment`` with the shipped configuration gives the same file but for those links
(and, under another course seed, other task data).
"""

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOOLS = ROOT / "tools"


def chapters(solutions=ROOT / "solutions"):
    """The assignment ids: the names of ``solutions/NN_*.ipynb`` without ``.ipynb``."""
    return sorted(p.stem for p in solutions.glob("[0-9][0-9]_*.ipynb"))


def generate(solutions=ROOT / "solutions"):
    """Release every solution notebook; returns ``{file name: released bytes}``."""
    from nbgrader.apps import NbGraderAPI
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=str(TOOLS)).load_config()
    # the self-paced exercises: the published data (seed 0) and the links to the solutions
    config.ReleaseForClass.seed = 0
    config.ReleaseForClass.solution_links = True
    released = {}
    with tempfile.TemporaryDirectory(prefix="convlab-release-") as course:
        config.CourseDirectory.root = course
        api = NbGraderAPI(config=config)
        for name in chapters(solutions):
            source = Path(course, "source", name)
            source.mkdir(parents=True)
            shutil.copy(solutions / f"{name}.ipynb", source / f"{name}.ipynb")
            result = api.generate_assignment(name)
            if not result["success"]:
                raise RuntimeError(f"generate_assignment {name} failed:\n{result['log']}")
            out = Path(course, "release", name, f"{name}.ipynb")
            released[out.name] = out.read_bytes()
    return released


def execute(path):
    """Run a notebook top to bottom in a fresh kernel, in its folder, and store its outputs.

    Returns the seconds it took. Cell timings are not recorded: they would change every run.
    """
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    NotebookClient(nb, timeout=600, kernel_name="python3", record_timing=False,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    seconds = time.perf_counter() - start
    nbformat.write(nb, path)
    return seconds


def stale(released, exercises=ROOT / "exercises"):
    """Names whose ``exercises/`` file differs from the release (or is missing or extra)."""
    present = {p.name for p in exercises.glob("[0-9][0-9]_*.ipynb")}
    return sorted(
        name for name in present | set(released)
        if name not in released or name not in present
        or (exercises / name).read_bytes() != released[name]
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="do not write; exit 1 if exercises/ differs from the release")
    parser.add_argument("--execute", action="store_true",
                        help="first re-run every solution notebook and store its outputs")
    parser.add_argument("numbers", nargs="*", metavar="NN",
                        help="with --execute: re-run only these chapters' solutions")
    args = parser.parse_args(argv)
    if args.execute:
        for name in chapters():
            if args.numbers and name[:2] not in args.numbers:
                continue
            seconds = execute(ROOT / "solutions" / f"{name}.ipynb")
            print(f"ran solutions/{name}.ipynb in {seconds:.1f} s")
    released = generate()
    exercises = ROOT / "exercises"
    if args.check:
        names = stale(released, exercises)
        for name in names:
            print(f"stale: exercises/{name} (run python tools/release.py)")
        return 1 if names else 0
    for name, data in released.items():
        (exercises / name).write_bytes(data)
        print(f"wrote exercises/{name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
