"""A teacher's whole nbgrader round trip, in a temporary course folder, with nbgrader's commands.

The commands are those of docs/teaching.md: the course folder gets ``tools/nbgrader_config.py``
and ``source/NN_topic/`` from ``solutions/``; ``generate_assignment`` must reproduce
``exercises/`` byte for byte; then submissions are autograded: the solutions (full marks), the
untouched exercises (no automatic marks), one wrong answer (that task alone loses its points),
one function that loops forever and one that raises (those two score zero, within
``ExecutePreprocessor.timeout``, and the rest is graded); ``export`` writes the grades to CSV and
``generate_feedback`` must not show the hidden tests.
"""

import csv
import html
import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
pytest.importorskip("nbgrader")
from nbgrader.api import Gradebook  # noqa: E402 (nbgrader is optional: the teacher's extra)

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted(p.stem for p in (ROOT / "solutions").glob("[0-9][0-9]_*.ipynb"))
CH02 = "02_computing_convolution"
TIMEOUT = 10  # seconds per cell while autograding: the loop below costs this much

# The broken submissions of chapter 02: grade id of the answer cell -> its new source.
WRONG = {  # forgets the bias
    "ch02_conv2d_multi": '''
def conv2d_multi(x, weight, bias):
    c_out, c_in, kh, kw = weight.shape
    h_out, w_out = x.shape[1] - kh + 1, x.shape[2] - kw + 1
    out = np.zeros((c_out, h_out, w_out))
    for o in range(c_out):
        for i in range(h_out):
            for j in range(w_out):
                out[o, i, j] = np.sum(x[:, i:i + kh, j:j + kw] * weight[o])
    return out
''',
}
CRASH = {
    "ch02_conv2d_naive": '''
def conv2d_naive(x, kernel, stride=1, padding=0):
    while True:
        pass
''',
    "ch02_fix_padding": '''
def conv2d_padded(x, weight, bias, padding=0):
    raise ValueError("I give up")
''',
}


def _nbgrader(course, *args):
    result = subprocess.run(
        [sys.executable, "-m", "nbgrader", *args], cwd=course, capture_output=True, text=True,
        timeout=600,
    )
    assert result.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{result.stderr[-3000:]}"
    return result


def _grade_id(cell):
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def _solved(release, solution, changes=None):
    """The released notebook with every answer cell filled in from the solution (markers
    removed, as a learner would type it), then ``changes`` applied by grade id."""
    answers = {_grade_id(c): c.source for c in solution.cells
               if c.metadata.get("nbgrader", {}).get("solution")}
    nb = nbformat.from_dict(release)
    for cell in nb.cells:
        gid = _grade_id(cell)
        if gid in answers:
            lines = answers[gid].splitlines()
            cell.source = "\n".join(x for x in lines if "### BEGIN SOLUTION" not in x
                                    and "### END SOLUTION" not in x)
        if changes and gid in changes:
            cell.source = changes[gid].strip()
    return nb


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """The course folder after release, four students' submissions, autograde and export."""
    root = tmp_path_factory.mktemp("course")
    shutil.copy(ROOT / "tools" / "nbgrader_config.py", root / "nbgrader_config.py")
    for name in CHAPTERS:
        (root / "source" / name).mkdir(parents=True)
        shutil.copy(ROOT / "solutions" / f"{name}.ipynb", root / "source" / name)
        _nbgrader(root, "generate_assignment", name, "--force")

    for name in CHAPTERS:
        release = nbformat.read(root / "release" / name / f"{name}.ipynb", as_version=4)
        solution = nbformat.read(ROOT / "solutions" / f"{name}.ipynb", as_version=4)
        students = {"solved": _solved(release, solution), "blank": release}
        if name == CH02:
            students["wrong"] = _solved(release, solution, WRONG)
            students["crash"] = _solved(release, solution, CRASH)
        for student, nb in students.items():
            folder = root / "submitted" / student / name
            folder.mkdir(parents=True)
            nbformat.write(nb, folder / f"{name}.ipynb")

    for name in CHAPTERS:
        _nbgrader(root, "autograde", name, "--force", f"--ExecutePreprocessor.timeout={TIMEOUT}")
    return root


def _grades(course, name, student):
    """``{grade_id: (score, max_score, needs_manual_grade)}`` of one autograded submission."""
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        notebook = gb.find_submission_notebook(name, name, student)
        return {g.name: (g.score, g.max_score, g.needs_manual_grade) for g in notebook.grades}


def _auto(grades):
    return {gid: g for gid, g in grades.items() if not g[2] or g[0]}


def _manual_ids(name):
    nb = nbformat.read(ROOT / "solutions" / f"{name}.ipynb", as_version=4)
    return {_grade_id(c) for c in nb.cells if c.cell_type == "markdown" and _grade_id(c)
            and c.metadata["nbgrader"].get("grade")}


@pytest.mark.parametrize("name", CHAPTERS)
def test_release_reproduces_the_committed_exercises(course, name):
    released = (course / "release" / name / f"{name}.ipynb").read_bytes()
    committed = (ROOT / "exercises" / f"{name}.ipynb").read_bytes()
    assert released == committed, (
        f"exercises/{name}.ipynb is stale against solutions/: run python tools/release.py"
    )


def test_the_release_tool_gives_the_same_files_and_finds_stale_ones(course, tmp_path):
    spec = importlib.util.spec_from_file_location("release", ROOT / "tools" / "release.py")
    release = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(release)
    released = release.generate()
    assert released == {f"{name}.ipynb": (course / "release" / name / f"{name}.ipynb").read_bytes()
                        for name in CHAPTERS}
    assert release.stale(released) == []
    for name, data in released.items():
        (tmp_path / name).write_bytes(data)
    edited = tmp_path / f"{CH02}.ipynb"
    edited.write_bytes(edited.read_bytes().replace(b"YOUR CODE HERE", b"YOUR CODE", 1))
    (tmp_path / "99_extra.ipynb").write_bytes(b"{}")
    assert release.stale(released, tmp_path) == ["02_computing_convolution.ipynb",
                                                 "99_extra.ipynb"]


@pytest.mark.parametrize("name", CHAPTERS)
def test_the_solutions_get_full_automatic_marks(course, name):
    grades = _grades(course, name, "solved")
    manual = _manual_ids(name)
    for gid, (score, max_score, needs_manual) in grades.items():
        if gid in manual:
            assert needs_manual and score == 0, gid
        else:
            assert score == max_score > 0, f"{gid}: {score} of {max_score}"


@pytest.mark.parametrize("name", CHAPTERS)
def test_the_untouched_exercises_get_no_automatic_marks(course, name):
    grades = _grades(course, name, "blank")
    assert grades and all(score == 0 for score, _, _ in grades.values()), grades


def test_one_wrong_answer_loses_only_its_own_points(course):
    solved, wrong = _grades(course, CH02, "solved"), _grades(course, CH02, "wrong")
    lost = {gid for gid in solved if wrong[gid][0] != solved[gid][0]}
    assert lost == {"ch02_conv2d_multi_tests"}
    assert wrong["ch02_conv2d_multi_tests"][0] == 0


def test_a_loop_and_an_exception_score_zero_and_the_rest_is_graded(course):
    solved, crash = _grades(course, CH02, "solved"), _grades(course, CH02, "crash")
    lost = {gid for gid in solved if crash[gid][0] != solved[gid][0]}
    assert lost == {"ch02_conv2d_naive_tests", "ch02_fix_padding_tests"}
    graded = nbformat.read(course / "autograded" / "crash" / CH02 / f"{CH02}.ipynb", 4)
    errors = {_grade_id(c): [o for o in c.outputs if o.output_type == "error"]
              for c in graded.cells if c.cell_type == "code"}
    # the timeout interrupts the kernel: the loop ends in KeyboardInterrupt, the next cells run
    assert errors["ch02_conv2d_naive_tests"][0].ename in {"KeyboardInterrupt", "CellTimeoutError"}
    assert "I give up" in errors["ch02_fix_padding_tests"][0].evalue


def test_export_writes_the_grades_and_manual_grades_complete_them(course):
    # The teacher grades the free-text answers of the solved submissions (formgrader does this
    # through the same gradebook): full points for the model answers.
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        for name in CHAPTERS:
            for gid in _manual_ids(name):
                grade = gb.find_grade(gid, name, name, "solved")
                grade.manual_score = grade.max_score
            gb.db.commit()
    _nbgrader(course, "export", "--to", "grades.csv")
    with open(course / "grades.csv", newline="") as fh:
        rows = {(r["assignment"], r["student_id"]): r for r in csv.DictReader(fh)}

    for name in CHAPTERS:
        solved = rows[name, "solved"]
        assert float(solved["score"]) == float(solved["max_score"]) > 0
        assert float(rows[name, "blank"]["score"]) == 0
    solved = _grades(course, CH02, "solved")
    points = {gid: g[1] for gid, g in solved.items()}
    manual = sum(points[gid] for gid in _manual_ids(CH02))
    max_score = float(rows[CH02, "solved"]["max_score"])
    assert float(rows[CH02, "wrong"]["score"]) == (
        max_score - manual - points["ch02_conv2d_multi_tests"])
    assert float(rows[CH02, "crash"]["score"]) == (
        max_score - manual - points["ch02_conv2d_naive_tests"] - points["ch02_fix_padding_tests"])


def test_feedback_shows_the_diagnosis_but_not_the_hidden_tests(course):
    _nbgrader(course, "generate_feedback", CH02, "--force")
    page = (course / "feedback" / "wrong" / CH02 / f"{CH02}.html").read_text(encoding="utf-8")
    text = html.unescape(re.sub(r"<[^>]+>", "", page))  # the code as a reader sees it
    assert "did you forget the bias?" in text
    assert "checks.check_function(conv2d_multi, checks.CONV2D, keywords=(), yourself=True)" in text
    assert "HIDDEN TESTS" not in text
    assert "sealed" not in text and not re.search(r"seed=COURSE_SEED", text), (
        "hidden test code leaked into the feedback")
