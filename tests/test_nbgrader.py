"""A teacher's whole nbgrader workflow, in a temporary course folder, with nbgrader's commands.

The commands are those of docs/teaching.md, with ``tools/nbgrader_config.py`` as shipped. The
course folder releases every chapter; chapter 02 goes through nbgrader's exchange (in a
temporary folder) to three students who fetch it and submit, through a learning platform's
download (``zip_collect``) to three more, and by hand to the others, each failing in one of the
ways a class does: a wrong answer, an error in the learner's code, an exception inside a check,
a loop that never ends, a deleted or edited check cell, moved cells, an answer that switches the
checks off, a write-it-yourself task done with convlab, an invalid file, a file under another
name. Then ``autograde``, ``export``, ``generate_feedback``, ``release_feedback``, the students'
``fetch_feedback`` and the course's ``python -m convlab report``. A second course folder releases
chapter 02 under another course seed.
"""

import csv
import html
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest

nbformat = pytest.importorskip("nbformat")
pytest.importorskip("nbgrader")
from nbgrader.api import Gradebook  # noqa: E402 (nbgrader is optional: the teacher's extra)

import convlab as cl  # noqa: E402
from convlab import checks  # noqa: E402
from convlab.grading import ReleaseForClass  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted(p.stem for p in (ROOT / "solutions").glob("[0-9][0-9]_*.ipynb"))
CH02 = "02_computing_convolution"
TIMEOUT = 10  # seconds per cell while autograding: the loop below costs this much
SEED = 7  # the second course seed

# Broken answers for chapter 02: grade id of the answer cell -> its new source.
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
CRASH = {  # a loop that never ends, and an exception
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
MIXED = {
    # an answer a check cannot take as a number (before the fix: OverflowError inside a check)
    "ch02_by_hand": 'work = "1*1"\nvalue = 10**400',
    # a write-it-yourself task done with convlab
    "ch02_conv2d_naive": '''
def conv2d_naive(x, kernel, stride=1, padding=0):
    return cl.conv2d(x[None], kernel[None, None], stride=stride, padding=padding)[0]
''',
    # works for 3x3 kernels only: an exception in the learner's code on another case
    "ch02_conv2d_multi": '''
def conv2d_multi(x, weight, bias):
    out = np.zeros((weight.shape[0], x.shape[1] - 2, x.shape[2] - 2))
    for o in range(weight.shape[0]):
        for i in range(out.shape[1]):
            for j in range(out.shape[2]):
                out[o, i, j] = np.sum(x[:, i:i + 3, j:j + 3] * weight[o]) + bias[o]
    return out
''',
}
MISNAMED = {"ch02_conv2d_naive": "def conv2d_naiv(x, kernel, stride=1, padding=0):\n    pass"}
TAMPER = {  # the second answer switches the checks off; every later answer is wrong
    "ch02_cost": '''
weight_shape, macs = (1,), 1
checks.check_function = lambda *args, **kwargs: None
checks.check_shape = checks.check_number = checks.check_choice = lambda *a, **k: None
np.allclose = lambda *args, **kwargs: True
''',
    "ch02_conv2d_naive": "def conv2d_naive(x, kernel, stride=1, padding=0):\n    return 0",
    "ch02_conv2d_multi": "def conv2d_multi(x, weight, bias):\n    return 0",
    "ch02_fix_padding": "def conv2d_padded(x, weight, bias, padding=0):\n    return 0",
    "ch02_why_bias": 'why = "d"',
}
# the students of chapter 02 who use nbgrader's exchange, and their answers
EXCHANGE = {"alice": {}, "bob": MISNAMED, "carol": TAMPER}
# the students of chapter 02 in a learning platform's download: file name -> answers
PLATFORM = {
    "moodle/Jane Doe_1234567_assignsubmission_file_/{nb}": "deleted",  # of _submissions
    "doejane_4321_99_{stem}-1.ipynb": "reordered",  # Canvas, a resubmission
    "{stem}_jdoe_attempt_{late}_{nb}": "wrong",  # Blackboard, with the time of submission
}


def _nbgrader(cwd, *args, check=True, env=None):
    result = subprocess.run(
        [sys.executable, "-m", "nbgrader", *args], cwd=cwd, capture_output=True, text=True,
        timeout=900, env=env)
    if check:
        assert result.returncode == 0, (
            f"nbgrader {' '.join(args)} failed:\n{result.stderr[-3000:]}")
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


def _submissions(release, solution):
    """Chapter 02's hand-placed submissions: ``{student: notebook, or bytes of a bad file}``."""
    subs = {"solved": _solved(release, solution), "blank": release,
            "wrong": _solved(release, solution, WRONG),  # jdoe's, from the platform
            "crash": _solved(release, solution, CRASH),
            "mixed": _solved(release, solution, MIXED)}
    deleted = _solved(release, solution)  # a check cell deleted, another one edited
    deleted.cells = [c for c in deleted.cells if _grade_id(c) != "ch02_cost_tests"]
    for cell in deleted.cells:
        if _grade_id(cell) == "ch02_conv2d_naive_tests":
            cell.source = "print('✓ all good')"
    subs["deleted"] = deleted
    reordered = _solved(release, solution)  # a check cell moved above its answer
    cells = reordered.cells
    i = next(n for n, c in enumerate(cells) if _grade_id(c) == "ch02_by_hand")
    cells[i], cells[i + 1] = cells[i + 1], cells[i]
    subs["reordered"] = reordered
    return subs


def _student_env(home):
    return {**os.environ, "HOME": str(home), "JUPYTER_CONFIG_DIR": str(home / ".jupyter")}


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """The course folder after the whole workflow (docs/teaching.md, command by command)."""
    base = tmp_path_factory.mktemp("class")
    root, exchange = base / "course", base / "exchange"
    root.mkdir()
    shutil.copy(ROOT / "tools" / "nbgrader_config.py", root / "nbgrader_config.py")
    ex = f"--Exchange.root={exchange}"
    for name in CHAPTERS:
        (root / "source" / name).mkdir(parents=True)
        shutil.copy(ROOT / "solutions" / f"{name}.ipynb", root / "source" / name)
        _nbgrader(root, "generate_assignment", name, "--force")
    now = datetime.now(timezone.utc).replace(microsecond=0)
    due = (now + timedelta(days=1)).strftime("%Y-%m-%d %H:%M:%S UTC")
    _nbgrader(root, "db", "assignment", "add", CH02, f"--duedate={due}")

    release = nbformat.read(root / "release" / CH02 / f"{CH02}.ipynb", as_version=4)
    solution = nbformat.read(ROOT / "solutions" / f"{CH02}.ipynb", as_version=4)

    # the exchange: release, every student fetches, answers and submits; collect
    _nbgrader(root, "release_assignment", CH02, ex)
    homes = {student: base / "home" / student for student in EXCHANGE}
    for student, home in homes.items():
        home.mkdir(parents=True)
        env = _student_env(home)
        _nbgrader(home, "fetch_assignment", CH02, "--course=convlab", ex, env=env)
        fetched = home / CH02 / f"{CH02}.ipynb"
        nbformat.write(_solved(nbformat.read(fetched, 4), solution, EXCHANGE[student]), fetched)
        _nbgrader(home, "submit", CH02, "--course=convlab", f"--student={student}", ex, env=env)
    _nbgrader(root, "collect", CH02, ex)

    # by hand: every chapter solved and untouched; chapter 02 broken in every way
    for name in CHAPTERS:
        nb_release = nbformat.read(root / "release" / name / f"{name}.ipynb", as_version=4)
        nb_solution = nbformat.read(ROOT / "solutions" / f"{name}.ipynb", as_version=4)
        subs = {"solved": _solved(nb_release, nb_solution), "blank": nb_release}
        if name == CH02:
            subs = {s: nb for s, nb in _submissions(nb_release, nb_solution).items()
                    if s not in PLATFORM.values()}  # those come from the platform below
        for student, nb in subs.items():
            folder = root / "submitted" / student / name
            folder.mkdir(parents=True)
            nbformat.write(nb, folder / f"{name}.ipynb")
    bad = root / "submitted" / "badfile" / CH02
    bad.mkdir(parents=True)
    (bad / f"{CH02}.ipynb").write_text('{"cells": [', encoding="utf-8")  # cut off
    renamed = root / "submitted" / "renamed" / CH02
    renamed.mkdir(parents=True)
    nbformat.write(_solved(release, solution), renamed / f"{CH02} (copy).ipynb")

    # a learning platform's download: zip_collect with the shipped file-name patterns
    archive = root / "downloaded" / CH02 / "archive"
    archive.mkdir(parents=True)
    hand = _submissions(release, solution)
    late = (now + timedelta(days=2)).strftime("%Y-%m-%d-%H-%M-%S")
    with zipfile.ZipFile(archive / "download.zip", "w") as zf:
        for pattern, student in PLATFORM.items():
            nb = hand[student]
            zf.writestr(pattern.format(nb=f"{CH02}.ipynb", stem=CH02, late=late),
                        nbformat.writes(nb))
    zipped = _nbgrader(root, "zip_collect", CH02)

    logs = {"zip_collect": zipped.stdout + zipped.stderr}
    for name in CHAPTERS:  # failing submissions make autograde's exit status 1
        graded = _nbgrader(root, "autograde", name, "--force",
                           f"--ExecutePreprocessor.timeout={TIMEOUT}", check=False)
        logs[name] = graded.stdout + graded.stderr
    _nbgrader(root, "generate_feedback", CH02, "--force")
    for student, home in homes.items():
        # per student: release_feedback stops at a submission without a timestamp.txt
        _nbgrader(root, "release_feedback", CH02, f"--student={student}", ex)
        _nbgrader(home, "fetch_feedback", CH02, "--course=convlab", f"--student={student}", ex,
                  env=_student_env(home))
    report = subprocess.run([sys.executable, "-m", "convlab", "report", CH02], cwd=root,
                            capture_output=True, text=True, timeout=300)
    assert report.returncode == 0, report.stderr
    return {"root": root, "homes": homes, "logs": logs, "report": report.stdout}


def _grades(course, name, student):
    """``{grade_id: (score, max_score, needs_manual_grade)}`` of one autograded submission."""
    with Gradebook(f"sqlite:///{course['root'] / 'gradebook.db'}") as gb:
        notebook = gb.find_submission_notebook(name, name, student)
        return {g.name: (g.score, g.max_score, g.needs_manual_grade) for g in notebook.grades}


def _manual_ids(name):
    nb = nbformat.read(ROOT / "solutions" / f"{name}.ipynb", as_version=4)
    return {_grade_id(c) for c in nb.cells if c.cell_type == "markdown" and _grade_id(c)
            and c.metadata["nbgrader"].get("grade")}


def _lost(course, student, name=CH02):
    """The automatically graded cells ``student`` lost points on, against the full solution."""
    solved, other = _grades(course, name, "solved"), _grades(course, name, student)
    return {gid for gid in solved if other[gid][0] != solved[gid][0]} - _manual_ids(name)


# --- release -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", CHAPTERS)
def test_a_class_gets_the_exercises_without_links_to_the_solutions(course, name):
    released = (course["root"] / "release" / name / f"{name}.ipynb").read_text(encoding="utf-8")
    assert "../solutions/" not in released
    exercise = nbformat.read(ROOT / "exercises" / f"{name}.ipynb", as_version=4)
    ReleaseForClass(solution_links=False).preprocess(exercise, {})
    assert exercise == nbformat.reads(released, as_version=4), (
        f"exercises/{name}.ipynb is stale against solutions/: run python tools/release.py")


def test_the_release_tool_writes_the_exercises_and_finds_stale_ones(tmp_path):
    spec = importlib.util.spec_from_file_location("release", ROOT / "tools" / "release.py")
    release = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(release)
    released = release.generate()
    assert released == {f"{name}.ipynb": (ROOT / "exercises" / f"{name}.ipynb").read_bytes()
                        for name in CHAPTERS}
    assert release.stale(released) == []
    for name, data in released.items():
        (tmp_path / name).write_bytes(data)
    edited = tmp_path / f"{CH02}.ipynb"
    edited.write_bytes(edited.read_bytes().replace(b"YOUR CODE HERE", b"YOUR CODE", 1))
    (tmp_path / "99_extra.ipynb").write_bytes(b"{}")
    assert release.stale(released, tmp_path) == [f"{CH02}.ipynb", "99_extra.ipynb"]


# --- grading -------------------------------------------------------------------------------------


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
    assert _lost(course, "jdoe") == {"ch02_conv2d_multi_tests"}


def test_a_loop_and_an_exception_score_zero_and_the_rest_is_graded(course):
    assert _lost(course, "crash") == {"ch02_conv2d_naive_tests", "ch02_fix_padding_tests"}
    graded = nbformat.read(
        course["root"] / "autograded" / "crash" / CH02 / f"{CH02}.ipynb", as_version=4)
    errors = {_grade_id(c): [o for o in c.outputs if o.output_type == "error"]
              for c in graded.cells if c.cell_type == "code"}
    # the timeout interrupts the kernel: the loop ends in KeyboardInterrupt, the next cells run
    assert errors["ch02_conv2d_naive_tests"][0].ename in {"KeyboardInterrupt", "CellTimeoutError"}
    assert "I give up" in errors["ch02_fix_padding_tests"][0].evalue


def test_switching_the_checks_off_loses_every_later_task(course):
    """carol's second answer rebinds the checks and np.allclose: the scan outside the kernel
    fails every test cell after it; her first answer, before it, keeps its points."""
    lost = _lost(course, "carol")
    solved = _grades(course, CH02, "solved")
    later = {gid for gid in solved if gid.endswith("_tests") and gid != "ch02_by_hand_tests"}
    assert lost == later
    assert _grades(course, CH02, "carol")["ch02_by_hand_tests"][0] == solved[
        "ch02_by_hand_tests"][0] > 0


def test_a_write_it_yourself_task_done_with_convlab_loses_its_points(course):
    assert _lost(course, "mixed") == {"ch02_by_hand_tests", "ch02_conv2d_naive_tests",
                                      "ch02_conv2d_multi_tests"}


def test_a_deleted_check_cell_is_put_back_and_an_edited_one_restored(course):
    assert _lost(course, "1234567") == set()  # Moodle's id of the student who did both


def test_export_writes_the_grades_and_manual_grades_complete_them(course):
    # The teacher grades the free-text answers of the solved submissions (formgrader does this
    # through the same gradebook): full points for the model answers.
    root = course["root"]
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        for name in CHAPTERS:
            for gid in _manual_ids(name):
                grade = gb.find_grade(gid, name, name, "solved")
                grade.manual_score = grade.max_score
            gb.db.commit()
    _nbgrader(root, "export", "--to", "grades.csv")
    with open(root / "grades.csv", newline="") as fh:
        rows = {(r["assignment"], r["student_id"]): r for r in csv.DictReader(fh)}

    for name in CHAPTERS:
        solved = rows[name, "solved"]
        assert float(solved["score"]) == float(solved["max_score"]) > 0
        assert float(rows[name, "blank"]["score"]) == 0
    solved = _grades(course, CH02, "solved")
    points = {gid: g[1] for gid, g in solved.items()}
    manual = sum(points[gid] for gid in _manual_ids(CH02))
    max_score = float(rows[CH02, "solved"]["max_score"])
    assert float(rows[CH02, "jdoe"]["score"]) == (
        max_score - manual - points["ch02_conv2d_multi_tests"])
    assert float(rows[CH02, "crash"]["score"]) == (
        max_score - manual - points["ch02_conv2d_naive_tests"] - points["ch02_fix_padding_tests"])


def test_regrading_needs_force(course):
    """Without --force, autograde skips a graded submission (docs/teaching.md says so)."""
    root = course["root"]
    graded = root / "autograded" / "solved" / CH02 / f"{CH02}.ipynb"
    before = graded.stat().st_mtime_ns
    log = _nbgrader(root, "autograde", CH02, "--student=solved", check=False)
    assert "Skipping existing assignment" in log.stdout + log.stderr
    assert graded.stat().st_mtime_ns == before


# --- the exchange and a learning platform --------------------------------------------------------


def test_the_exchange_round_trip_for_three_students(course):
    assert _lost(course, "alice") == set()
    assert _lost(course, "bob") == {"ch02_conv2d_naive_tests"}
    pages = {student: list((home / CH02 / "feedback").glob(f"*/{CH02}.html"))
             for student, home in course["homes"].items()}
    assert all(len(found) == 1 for found in pages.values()), pages
    for student, (page,) in pages.items():  # what the student fetched is the teacher's page
        assert page.read_bytes() == (
            course["root"] / "feedback" / student / CH02 / f"{CH02}.html").read_bytes()
    assert "NameError: name 'conv2d_naive' is not defined" in _text(pages["bob"][0])


def test_students_can_validate_before_they_submit(course):
    """docs/teaching.md tells students to run nbgrader's Validate (the same from a terminal):
    it lists each failing check with the check's message, as the autograder sees it."""
    for student, words in (("alice", "Success! Your notebook passes all the tests."),
                           ("bob", "NameError: name 'conv2d_naive' is not defined")):
        home = course["homes"][student]
        result = _nbgrader(home, "validate", f"{CH02}/{CH02}.ipynb", check=False,
                           env=_student_env(home))
        assert words in result.stdout + result.stderr, (student, result.stdout[-2000:])


def test_zip_collect_reads_the_platforms_file_names(course):
    root = course["root"]
    assert "Skipped submission" not in course["logs"]["zip_collect"]
    for student in ("1234567", "4321", "jdoe"):
        assert (root / "submitted" / student / CH02 / f"{CH02}.ipynb").exists(), student
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        late = {s.student.id: s.total_seconds_late for s in gb.assignment_submissions(CH02)}
    assert late["jdoe"] > 0  # Blackboard's file name carries the time of submission
    assert late["alice"] == 0  # the exchange's timestamp, before the due date


# --- feedback ------------------------------------------------------------------------------------


def _text(page):
    """A feedback page as a reader sees it."""
    return html.unescape(re.sub(r"<[^>]+>", "", Path(page).read_text(encoding="utf-8")))


def _hidden_lines():
    """Every line of chapter 02's hidden tests that no other cell of the release holds."""
    hidden, visible = set(), []
    for cell in nbformat.read(ROOT / "solutions" / f"{CH02}.ipynb", as_version=4).cells:
        inside = False
        for line in cell.source.splitlines():
            if "BEGIN HIDDEN TESTS" in line:
                inside = True
            elif "END HIDDEN TESTS" in line:
                inside = False
            elif inside:
                hidden.add(line.strip())
            else:
                visible.append(line)
    return {line for line in hidden if len(line) > 6 and not any(line in v for v in visible)}


# student -> what the page must say about each failure, in the learner's terms
FAILURES = {
    "jdoe": ["did you forget the bias?"],
    "crash": ["did not finish within the time limit of 10 seconds",
              "in your cell ch02_conv2d_naive, in conv2d_naive, line 2: while True:",
              "raised ValueError: I give up"],
    "mixed": ["value = 1000", "this task asks you to write the loops yourself: your function "
              "conv2d_naive calls convlab.conv2d", "raised ValueError"],
    "bob": ["NameError: name 'conv2d_naive' is not defined"],
    "carol": ["not graded: ch02_cost assigns to checks.check_function"],
    "1234567": ["was missing from the submission"],
    "4321": ["NameError: name 'work' is not defined"],
    "badfile": None, "renamed": None,  # no page: not graded (the report says why)
}


@pytest.mark.parametrize("student", FAILURES)
def test_feedback_says_what_went_wrong_and_nothing_hidden(course, student):
    page = course["root"] / "feedback" / student / CH02 / f"{CH02}.html"
    if FAILURES[student] is None:
        assert not page.exists()
        return
    text = _text(page)
    for words in FAILURES[student]:
        assert words in text, (student, words)
    for line in _hidden_lines():
        assert line not in text, f"a hidden test's line on {student}'s page: {line}"
    assert "HIDDEN TESTS" not in text and "sealed" not in text
    root = str(course["root"].parent)
    for path in (root, str(ROOT), sys.prefix, "site-packages", "/tmp/", "/root/", "/home/"):
        assert path not in text, f"{path!r} on {student}'s page"
    assert "Traceback (most recent call last)" not in text


# --- the teacher's report ------------------------------------------------------------------------


def test_untouched_cells_give_no_checksum_warning(course):
    for name in CHAPTERS:
        warnings = re.findall(r"Attribute 'checksum' for cell (\w+)", course["logs"][name])
        assert warnings == (["ch02_conv2d_naive_tests"] if name == CH02 else []), warnings


def test_the_report_names_every_submission_not_graded_or_altered(course):
    report = course["report"]
    sections = dict(re.findall(r"^([A-Z ]+) \(\d+\)\n((?:  .*\n?)*)", report, flags=re.M))
    assert set(sections) == {"NOT GRADED", "ALTERED", "LATE", "NOTE"}, report
    listed = {status: {line.split(":")[0].strip() for line in lines.splitlines()}
              for status, lines in sections.items()}
    assert listed["NOT GRADED"] == {"badfile", "renamed"}
    assert listed["ALTERED"] == {"carol", "mixed", "1234567"}
    assert listed["LATE"] == {"jdoe"}
    assert listed["NOTE"] == {"crash", "4321", "1234567"}
    untimed = re.search(r"^NO TIMESTAMP .*: (.*)$", report, flags=re.M)[1].split(", ")
    assert "solved" in untimed and "alice" not in untimed and "jdoe" not in untimed
    assert "alice" not in report
    assert f"found {CH02} (copy).ipynb" in report
    assert "not a valid notebook" in report
    assert "the cell ch02_cost_tests was deleted (it was put back and graded)" in report
    assert "the locked cell ch02_conv2d_naive_tests was edited" in report
    assert "ch02_conv2d_naive_tests was stopped by the time limit" in report
    assert "are not in their released order" in report
    assert "conv2d_naive calls convlab.conv2d" in report


# --- another course seed -------------------------------------------------------------------------


# answers computed from the task's data: right for any seed, if the task is the class's
COMPUTED = {
    "ch02_by_hand": """
r, c = task.position
p, s = task.padding, task.stride
xp = np.pad(task.x, ((0, 0), (p, p), (p, p)))
window = xp[:, r * s:r * s + 3, c * s:c * s + 3]
work = " + ".join(f"{a:g}*({b:g})" for a, b in zip(window.ravel(), task.weight.ravel()))
work += f" + ({task.bias:g})"
value = float(np.sum(window * task.weight) + task.bias)
""",
    "ch02_cost": """
c_in, h, _ = task.layer["input_shape"]
k, c_out = task.layer["kernel_size"], task.layer["c_out"]
weight_shape = (c_out, c_in, k, k)
macs = cl.conv_cost(c_in, c_out, k, h, task.layer["stride"], task.layer["padding"]).macs
""",
}


def _stated(seed):
    """Chapter 02's by-hand and cost answers for the course seed ``seed``, stated as numbers
    (as a learner of that class writes them, and as solutions/ states those of the seed 0)."""
    answers = {"np": np, "cl": cl, "task": checks.exercise("02", seed)}
    for source in COMPUTED.values():
        exec(source, answers)
    return {"ch02_by_hand": f"work = {answers['work']!r}\nvalue = {answers['value']!r}",
            "ch02_cost": f"weight_shape = {answers['weight_shape']}\nmacs = {answers['macs']}"}


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    """Chapter 02 released under the course seed 7, and graded."""
    root = tmp_path_factory.mktemp("seeded")
    config = (ROOT / "tools" / "nbgrader_config.py").read_text(encoding="utf-8")
    for line, value in (("seed = 0", f"seed = {SEED}"), ("hidden_seed = 0", "hidden_seed = 90125")):
        config = config.replace(f"\nc.ReleaseForClass.{line}\n", f"\nc.ReleaseForClass.{value}\n")
    assert f"c.ReleaseForClass.seed = {SEED}\n" in config  # as docs/teaching.md's sed does
    (root / "nbgrader_config.py").write_text(config, encoding="utf-8")
    (root / "source" / CH02).mkdir(parents=True)
    shutil.copy(ROOT / "solutions" / f"{CH02}.ipynb", root / "source" / CH02)
    _nbgrader(root, "generate_assignment", CH02)
    release = nbformat.read(root / "release" / CH02 / f"{CH02}.ipynb", as_version=4)
    solution = nbformat.read(ROOT / "solutions" / f"{CH02}.ipynb", as_version=4)
    reseeded = {"ch02_by_hand": "COURSE_SEED = 0\ntask = checks.exercise('02', COURSE_SEED)\n"
                + COMPUTED["ch02_by_hand"]}
    subs = {"published": _solved(release, solution),  # solutions/ as published
            "right": _solved(release, solution, _stated(SEED)),  # the class's numbers
            "computed": _solved(release, solution, COMPUTED),
            "reseeded": _solved(release, solution, reseeded)}
    for student, nb in subs.items():
        folder = root / "submitted" / student / CH02
        folder.mkdir(parents=True)
        nbformat.write(nb, folder / f"{CH02}.ipynb")
    _nbgrader(root, "autograde", CH02, f"--ExecutePreprocessor.timeout={TIMEOUT}")
    return {"root": root, "release": release, "solution": solution}


def _source(root, cell_id):
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        return gb.find_source_cell(cell_id, CH02, CH02).source


def test_another_course_seed_gives_other_data(seeded, course):
    setup = next(c for c in seeded["release"].cells if _grade_id(c) == "ch02_setup")
    assert f"COURSE_SEED = {SEED}" in setup.source and "COURSE_SEED = 0" not in setup.source
    for gid in ("ch02_by_hand_tests", "ch02_conv2d_naive_tests"):
        hidden = _source(seeded["root"], gid)
        assert f"COURSE_SEED = {SEED}\n" in hidden and "COURSE_SEED = 0" not in hidden
        assert "COURSE_SEED = 0\n" in _source(course["root"], gid)
    a, b = checks.exercise("02", 0), checks.exercise("02", SEED)
    assert not (a.x == b.x).all() or a.position != b.position
    assert a.layer != b.layer or a.bias != b.bias


def test_the_published_solutions_state_the_seed_0_numbers():
    """What the grading below relies on: solutions/ answers the by-hand and cost tasks with the
    numbers of the seed 0, stated, as ``_stated`` writes them for a class's seed."""
    solution = nbformat.read(ROOT / "solutions" / f"{CH02}.ipynb", as_version=4)
    published, stated = {"np": np, "cl": cl}, {}
    for cell in solution.cells:
        if _grade_id(cell) in ("ch02_by_hand", "ch02_cost"):
            assert "task" not in cell.source
            exec(cell.source, published)
            exec(_stated(0)[_grade_id(cell)], stated)
    for name in ("value", "weight_shape", "macs"):
        assert published[name] == stated[name], name


def test_another_course_seed_is_graded_against_its_own_data(seeded):
    root = seeded["root"]
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        def lost(student):
            nb = gb.find_submission_notebook(CH02, CH02, student)
            return {g.name for g in nb.grades if g.max_score and g.score != g.max_score
                    and not g.needs_manual_grade}

        # the published solutions lose exactly the tasks on the task's data; their functions
        # (general) and the choice still score
        assert lost("published") == {"ch02_by_hand_tests", "ch02_cost_tests"}
        # the right numbers of the class's seed get full marks, stated or computed
        assert lost("right") == set()
        assert lost("computed") == set()
        # and an answer cell cannot bring the seed 0 back
        assert "ch02_by_hand_tests" in lost("reseeded")
