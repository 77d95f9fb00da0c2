"""convlab.grading, piece by piece: the release step, the scan of answer cells, the feedback in
the learner's terms, the platforms' file names. tests/test_nbgrader.py runs them all through
nbgrader's own commands."""

import ast
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
pytest.importorskip("nbgrader")
from traitlets.config.loader import PyFileConfigLoader  # noqa: E402

from convlab import grading  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SETUP = "import numpy as np\n\nimport convlab as cl\nfrom convlab import checks\n"
TRUSTED = grading._imports(ast.parse(SETUP))


def _cell(source, gid=None, kind="code", **meta):
    cell = (nbformat.v4.new_code_cell if kind == "code" else nbformat.v4.new_markdown_cell)(
        source)
    if gid:
        cell.metadata["nbgrader"] = {"grade_id": gid, "schema_version": 3, "task": False,
                                     "grade": False, "solution": False, "locked": False, **meta}
    return cell


def _test(source, gid, points=1):
    return _cell(source, gid, grade=True, locked=True, points=points)


def _answer(source, gid):
    return _cell(source, gid, solution=True)


def _found(source):
    return [what for _, what in grading.tampering(ast.parse(source), TRUSTED)]


# --- the release step ---------------------------------------------------------------------------


def test_the_release_writes_the_seed_into_every_seed_line_and_unlinks_the_solutions():
    nb = nbformat.v4.new_notebook(cells=[
        _cell("Compare with [the solutions](../solutions/02_x.ipynb) and [the lesson]"
              "(../notebooks/02_x.ipynb).", kind="markdown"),
        _cell(SETUP + "COURSE_SEED = 0  # a comment\ntask = checks.exercise('02', COURSE_SEED)",
              "ch02_setup", locked=True),
        _answer("COURSE_SEED = 0", "ch02_a"),
        _test("checks.check_number(a, 1)\n### BEGIN HIDDEN TESTS\nCOURSE_SEED = 0\n"
              "HIDDEN_SEED = 0\n### END HIDDEN TESTS", "ch02_a_tests"),
    ])
    grading.ReleaseForClass(seed=41, hidden_seed=9876).preprocess(nb, {})
    text, setup, answer, test = (c.source for c in nb.cells)
    assert text == ("Compare with the solutions (your teacher shares them after the deadline) "
                    "and [the lesson](../notebooks/02_x.ipynb).")
    assert "\nCOURSE_SEED = 41  # a comment\n" in setup and "COURSE_SEED = 0" not in setup
    assert answer == "COURSE_SEED = 0"  # a learner's cell is never rewritten
    assert "\nCOURSE_SEED = 41\nHIDDEN_SEED = 9876\n" in test


def test_the_release_refuses_a_seed_it_cannot_apply():
    nb = nbformat.v4.new_notebook(cells=[_answer("a = 1", "ch09_a"),
                                         _test("checks.check_number(a, 1)", "ch09_a_tests")])
    grading.ReleaseForClass(seed=0).preprocess(nb, {})  # the published data: nothing to do
    with pytest.raises(ValueError, match="has no `COURSE_SEED = 0` line"):
        grading.ReleaseForClass(seed=3).preprocess(nb, {})
    with pytest.raises(ValueError, match="int >= 0"):
        grading.ReleaseForClass(seed=-1).preprocess(nb, {})
    nb.cells.append(_cell("COURSE_SEED=0; task = 1", "ch09_setup", locked=True))
    with pytest.raises(ValueError, match="on a line of its own"):
        grading.ReleaseForClass(seed=3).preprocess(nb, {})
    nb.cells[-1] = _cell("COURSE_SEED = 0\nHIDDEN_SEED = 0", "ch09_setup", locked=True)
    with pytest.raises(ValueError, match="belongs between the hidden-test markers"):
        grading.ReleaseForClass(seed=3).preprocess(nb, {})


def test_the_links_stay_for_the_self_paced_exercises():
    nb = nbformat.v4.new_notebook(cells=[_cell("[s](../solutions/a.ipynb)", kind="markdown")])
    grading.ReleaseForClass(solution_links=True).preprocess(nb, {})
    assert nb.cells[0].source == "[s](../solutions/a.ipynb)"


# --- what an answer cell does to the grader -------------------------------------------------------


@pytest.mark.parametrize("source", [
    "size = (28 - 5) // 1 + 1",
    "import numpy as np\nfrom convlab import checks\nimport convlab as cl",
    "def conv2d_naive(x, kernel, stride=1, padding=0):\n    out = np.zeros((2, 2))\n"
    "    out[0, 0] = np.sum(x[:2, :2] * kernel)\n    x.shape\n    return out",
    "np.random.seed(0)\nx = np.pad(task.x, 1)\nprint(cl.conv_output_size(5, 3))",
    "get_ipython().run_line_magic('timeit', 'sum(range(9))')",
    "class Layer:\n    def __init__(self):\n        self.weight = 1",
    "checks.check_number(size, checks.OUTPUT_SIZE, 28, 5)",
    "print(checks.OUTPUT_SIZE.name, checks.OUTPUT_SIZE.hints)",
    "size = getattr(task, 'size')\nshape = getattr(np.zeros(3), 'shape')",
    "from convlab.checks import digest\nprint(digest('b'))",
])
def test_an_honest_answer_does_nothing_to_the_grader(source):
    assert _found(source) == []


@pytest.mark.parametrize(("source", "what"), [
    ("np.allclose = lambda *a, **k: True", "assigns to np.allclose"),
    ("checks.check_function = print", "assigns to checks.check_function"),
    ("cl.conv2d.__code__ = (lambda: 0).__code__", "uses cl.conv2d.__code__"),
    ("del cl.conv2d", "deletes cl.conv2d"),
    ("setattr(np, 'allclose', min)", "calls setattr"),
    ("globals()['checks'] = None", "calls globals()"),
    ("exec('np.allclose = min')", "calls exec"),
    ("import sys\nsys.modules['numpy'] = None", "imports sys"),
    ("import builtins\nbuiltins.abs = len", "imports builtins"),
    ("__builtins__.abs = len", "uses __builtins__"),
    ("import scipy as np", "rebinds np"),
    ("def checks():\n    pass", "rebinds checks"),
    ("task = checks.exercise('02', 0)", "rebinds task"),
    ("COURSE_SEED = 0", "rebinds COURSE_SEED"),
    ("task.x[0, 0] = 1", "assigns to task.x[0, 0]"),
    ("get_ipython().system('rm -rf convlab')", "runs a shell command"),
    ("size = checks.OUTPUT_SIZE.compute(28, 5)",
     "reads the checks' own answers (checks.OUTPUT_SIZE.compute)"),
    ("size = checks.OUTPUT_SIZE._compute(28, 5)",
     "reads the checks' own answers (checks.OUTPUT_SIZE._compute)"),
    ("ref = checks.OUTPUT_SIZE\nsize = ref._compute(28, 5)",
     "reads the checks' own answers (ref._compute)"),
    ("wrong = checks.OUTPUT_SIZE._mistakes",
     "reads the checks' own answers (checks.OUTPUT_SIZE._mistakes)"),
    ("size = cl.checks.basics._output_size(28, 5)",
     "reads the checks' own answers (cl.checks.basics._output_size)"),
    ("from convlab.checks import OUTPUT_SIZE as s\nsize = s._compute(28, 5)",
     "reads the checks' own answers (s._compute)"),
    ("import convlab.checks.basics as b\nsize = b._output_size(28, 5)",
     "reads the checks' own answers (b._output_size)"),
    ("from convlab.checks.basics import _output_size",
     "reads the checks' own answers (imports from convlab.checks.basics)"),
    ("products = checks._window_products(task.x, task.weight, (1, 1), 2, 1)",
     "reads the checks' own answers (checks._window_products)"),
    ("size = getattr(checks.OUTPUT_SIZE, '_compute')(28, 5)",
     "calls getattr with '_compute'"),
    ("size = getattr(checks.OUTPUT_SIZE, '_comp' + 'ute')(28, 5)",
     "calls getattr with a computed attribute name"),
    ("from operator import attrgetter\nf = attrgetter('OUTPUT_SIZE._compute')(checks)",
     "calls attrgetter with 'OUTPUT_SIZE._compute'"),
    ("from functools import reduce\nf = reduce(getattr, ['OUTPUT_SIZE', '_compute'], checks)",
     "uses getattr with a name it does not write out"),
    ("state = object.__getstate__(checks.OUTPUT_SIZE)", "uses object.__getstate__"),
    ("members = checks.inspect.getmembers(checks.OUTPUT_SIZE)",
     "reaches the module inspect (checks.inspect)"),
    ("copy = hidden.sealed('02', 0)", "reads the checks' own answers (hidden.sealed)"),
    ("copy = checks.sealed('02', 0)", "reads the checks' own answers (checks.sealed)"),
    ("import sys\nf = sys._getframe(1)", "uses sys._getframe"),
])
def test_an_answer_that_changes_the_grader_is_found(source, what):
    assert what in _found(source)


def _notebook(*cells):
    nb = nbformat.v4.new_notebook(cells=[_cell(SETUP, "ch02_setup", locked=True), *cells])
    return grading.ScanAnswers().preprocess(nb, {})[0]


def test_the_scan_fails_every_test_cell_after_a_tampering_cell():
    nb = _notebook(
        _answer("a = 1", "ch02_a"), _test("checks.check_number(a, 1)", "ch02_a_tests"),
        _cell("np.allclose = min"),  # a cell the learner added
        _answer("b = 1", "ch02_b"), _test("checks.check_number(b, 1)", "ch02_b_tests"),
    )
    (finding,) = nb.metadata["convlab"]["findings"]
    assert finding["kind"] == "tampering" and finding["fails"] == ["ch02_b_tests"]
    assert finding["message"].startswith("not graded: a cell you added (cell 4) assigns to "
                                         "np.allclose (line 1)")


def test_the_scan_follows_a_write_it_yourself_function_into_its_helpers():
    nb = _notebook(
        _answer("def helper(x, k):\n    return cl.conv2d(x[None], k[None, None])[0]\n\n"
                "def conv2d_naive(x, kernel, stride=1, padding=0):\n    return helper(x, kernel)",
                "ch02_naive"),
        _test("checks.check_function(conv2d_naive, checks.CONV2D_SINGLE, yourself=True)",
              "ch02_naive_tests"),
        _answer("from scipy.signal import correlate\n\ndef corr(x, k):\n"
                "    return correlate(x, k, 'valid')", "ch02_corr"),
        _test("checks.check_function(corr, checks.CORRELATE1D, yourself=True)",
              "ch02_corr_tests"),
        _answer("def fine(x, k):\n    return np.array([np.sum(x[i:i + len(k)] * k) "
                "for i in range(len(x) - len(k) + 1)])", "ch02_fine"),
        _test("checks.check_function(fine, checks.CORRELATE1D, yourself=True)",
              "ch02_fine_tests"),
    )
    found = {f["cell"]: f["message"] for f in nb.metadata["convlab"]["findings"]}
    assert found == {
        "ch02_naive_tests": "this task asks you to write the loops yourself: your function "
                            "conv2d_naive calls convlab.conv2d",
        "ch02_corr_tests": "this task asks you to write the loops yourself: your function corr "
                           "calls scipy.signal.correlate",
    }


# --- feedback in the learner's terms --------------------------------------------------------------

RED, RESET = "\x1b[0;31m", "\x1b[0m"


def _error(ename, evalue, *frames):
    """An error output as IPython 8 writes it: a header, one chunk per frame, the message."""
    chunks = [f"{RED}---------------------------------------------------------------{RESET}",
              f"{RED}{ename}{RESET}                  Traceback (most recent call last)"]
    for head, lines in frames:
        chunks.append(f"{head}\n" + "\n".join(f"\x1b[1;32m  {n}\x1b[0m {code}"
                                              for n, code in lines))
    chunks.append(f"{RED}{ename}{RESET}: {evalue}")
    return nbformat.v4.new_output("error", ename=ename, evalue=evalue, traceback=chunks)


def _feedback(*cells):
    nb = nbformat.v4.new_notebook(cells=list(cells))
    for n, cell in enumerate(nb.cells, 1):
        if cell.cell_type == "code":
            cell.execution_count = n
    nb.metadata["convlab"] = {"time_limit": 30}
    return grading.LearnerFeedback().preprocess(nb, {})[0]


HIDDEN = "hidden.check_function(conv2d_naive, hidden.CONV2D_SINGLE, n=60, seed=COURSE_SEED + 2)"


def test_an_error_of_a_check_cell_shows_its_message_and_no_line():
    test = _test("checks.check_function(conv2d_naive, checks.CONV2D_SINGLE)", "ch02_n_tests")
    test.outputs = [_error("NameError", "name 'conv2d_naive' is not defined",
                           ("Cell \x1b[0;32mIn[1], line 1\x1b[0m", [(1, "checks.check_..."),
                                                                    (4, HIDDEN)]))]
    nb = _feedback(test)
    assert nb.cells[0].outputs[0].traceback == [
        "✗ NameError: name 'conv2d_naive' is not defined"]


def test_an_error_in_the_learners_code_shows_the_learners_lines():
    answer = _answer("def conv2d_naive(x, kernel):\n    return x[9]", "ch02_n")
    test = _test("checks.check_function(conv2d_naive, checks.CONV2D_SINGLE)", "ch02_n_tests")
    test.outputs = [_error(
        "IndexError", "index 9 is out of bounds for axis 0 with size 5",
        ("Cell \x1b[0;32mIn[2], line 4\x1b[0m", [(4, HIDDEN)]),
        ("File \x1b[0;32m/srv/course/convlab/checks/__init__.py:300\x1b[0m, in "
         "\x1b[0;36m_call\x1b[0m(fn)", [(300, "result = fn(*copies)")]),
        ("Cell \x1b[0;32mIn[1], line 2\x1b[0m, in \x1b[0;36mconv2d_naive\x1b[0m(x, kernel)",
         [(2, "return x[9]")]))]
    nb = _feedback(answer, test)
    assert nb.cells[1].outputs[0].traceback == [
        "✗ IndexError: index 9 is out of bounds for axis 0 with size 5",
        "  in your cell ch02_n, in conv2d_naive, line 2: return x[9]"]


def test_an_exception_inside_a_check_is_not_shown_with_its_message():
    test = _test("checks.check_array(out, checks.CONV2D, x, w, b)", "ch02_o_tests")
    test.outputs = [_error(
        "ValueError", "operands could not be broadcast together with shapes (2,5,5) (3,3)",
        ("Cell \x1b[0;32mIn[1], line 1\x1b[0m", [(1, "checks.check_array(...)")]),
        ("File \x1b[0;32m/srv/course/convlab/checks/__init__.py:99\x1b[0m, in "
         "\x1b[0;36m_same_array\x1b[0m(a, b)", [(99, "a - b")]))]
    (line,) = _feedback(test).cells[0].outputs[0].traceback
    assert line.startswith("✗ The check could not read your answer (ValueError inside "
                           "convlab.checks)") and "(2,5,5)" not in line


def test_a_timeout_says_so_once_and_where_the_learners_code_was():
    answer = _answer("def f(x):\n    while True:\n        pass", "ch02_f")
    test = _test("checks.check_function(f, checks.CONV2D_SINGLE)", "ch02_f_tests")
    test.outputs = [
        _error("KeyboardInterrupt", "", ("Cell \x1b[0;32mIn[2], line 1\x1b[0m", [(1, HIDDEN)]),
               ("Cell \x1b[0;32mIn[1], line 2\x1b[0m, in \x1b[0;36mf\x1b[0m(x)",
                [(2, "while True:")])),
        nbformat.v4.new_output("error", ename="CellTimeoutError", evalue="",
                               traceback=["CellTimeoutError: No reply from kernel"]),
    ]
    (output,) = _feedback(answer, test).cells[1].outputs
    assert output.traceback == [
        "✗ This cell did not finish within the time limit of 30 seconds and was stopped: look "
        "for a loop that never ends, or one that does far too much work.",
        "  it was stopped in your cell ch02_f, in f, line 2: while True:"]


def test_a_check_cell_keeps_only_the_message_of_a_warning_and_no_path_anywhere():
    test = _test("checks.check_number(size, 1)", "ch02_s_tests")
    test.outputs = [
        nbformat.v4.new_output("stream", name="stderr", text=(
            "/srv/course/convlab/checks/__init__.py:12: RuntimeWarning: overflow in multiply\n"
            f"  {HIDDEN}\n")),
        nbformat.v4.new_output("stream", name="stdout", text="✓ read /srv/course/data/x.npy\n"),
    ]
    outputs = _feedback(test).cells[0].outputs
    assert [o.text for o in outputs] == ["RuntimeWarning: overflow in multiply\n",
                                         "✓ read …/x.npy\n"]


@pytest.mark.parametrize(("text", "scrubbed"), [
    ("File /home/teacher/course/autograded/ann/02.ipynb", "File …/02.ipynb"),
    ("see https://nbgrader.readthedocs.io/en/stable/", "see https://nbgrader.readthedocs.io/en/stable/"),  # noqa: E501
    ("3/4 and (1, 2) / 2", "3/4 and (1, 2) / 2"),
    ("'/tmp/ipykernel_77/123.py'", "'…/123.py'"),
])
def test_paths_are_scrubbed_and_nothing_else(text, scrubbed):
    assert grading.scrub(text) == scrubbed


# --- the platforms' file names --------------------------------------------------------------------


def _collector():
    config = PyFileConfigLoader("nbgrader_config.py", path=str(ROOT / "tools")).load_config()
    return grading.SubmissionFiles(config=config)


@pytest.mark.parametrize(("path", "found"), [
    ("dl/Jane Doe_1234567_assignsubmission_file_/02_conv.ipynb",
     {"student_id": "1234567", "file_id": "02_conv"}),
    ("Jane Doe_1234567_assignsubmission_file_02_conv.ipynb",
     {"student_id": "1234567", "file_id": "02_conv"}),
    ("doejane_4321_99_02_conv-1.ipynb", {"student_id": "4321", "file_id": "02_conv"}),
    ("doejane_LATE_4321_99_02_conv.ipynb", {"student_id": "4321", "file_id": "02_conv"}),
    ("02_conv_jdoe_attempt_2025-03-01-16-55-00_02_conv.ipynb",
     {"student_id": "jdoe", "file_id": "02_conv", "timestamp": "2025-03-01 16:55:00"}),
    ("class/ann/02_conv.ipynb", {"student_id": "ann", "file_id": "02_conv"}),
])
def test_the_shipped_patterns_read_each_platforms_names(path, found):
    assert _collector().collect(f"/course/downloaded/02_conv/extracted/{path}") == found


def test_a_name_no_pattern_reads_is_skipped():
    assert _collector().collect("/course/downloaded/02_conv/extracted/notes.ipynb") is None
    assert _collector().collect("/course/downloaded/02_conv/extracted/ann/notes.txt") is None


def test_a_file_changed_and_put_back_still_counts_as_changed(tmp_path):
    """What the autograde step compares before and after a submission runs."""
    (tmp_path / "checks.py").write_text("right = True\n")
    before = grading._fingerprint(tmp_path)
    (tmp_path / "checks.py").write_text("right = False\n")
    (tmp_path / "checks.py").write_text("right = True\n")  # same text, new change time
    assert grading._fingerprint(tmp_path) != before
    assert grading._fingerprint(tmp_path) == grading._fingerprint(tmp_path)
