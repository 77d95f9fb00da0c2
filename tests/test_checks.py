"""convlab.checks: right answers pass, every listed mistake is named, the answer is never shown."""

import math
import re
from collections import Counter

import numpy as np
import pytest
from checking import failure

import convlab as cl
import convlab.viz as viz
from convlab import checks
from convlab.checks import CheckFailed

X = np.array([[3, 3, 2, 1, 0], [0, 0, 1, 3, 1], [3, 1, 2, 2, 3], [2, 0, 0, 2, 2],
              [2, 0, 0, 0, 1]], dtype=float)
K = np.array([[0, 1, 2], [2, 2, 0], [0, 1, 2]], dtype=float)
ARTICLE_OUT = [[12, 12, 17], [10, 17, 19], [9, 6, 14]]



# --- the references compute the right thing -----------------------------------------------------


def test_the_article_example():
    assert np.array_equal(checks.CONV2D_SINGLE._compute(X, K), ARTICLE_OUT)
    bias = np.array([1.0])
    assert np.array_equal(checks.CONV2D._compute(X[None], K[None, None], bias)[0],
                          np.array(ARTICLE_OUT) + 1)


def test_references_agree_with_numpy_and_loops():
    rng = np.random.default_rng(0)
    for _ in range(20):
        n = int(rng.integers(3, 12))
        x, k = rng.normal(size=n), rng.normal(size=int(rng.integers(1, n + 1)))
        assert np.allclose(checks.CORRELATE1D._compute(x, k), np.correlate(x, k, "valid"))
        assert np.allclose(checks.CONVOLVE1D._compute(x, k), np.convolve(x, k, "valid"))
        s, p = int(rng.integers(1, 4)), int(rng.integers(0, 3))
        xp = np.pad(x, p)
        loops = [xp[i:i + len(k)] @ k for i in range(0, len(xp) - len(k) + 1, s)]
        assert np.allclose(checks.CORRELATE1D._compute(x, k, stride=s, padding=p), loops)

        x2, k2 = rng.normal(size=(6, 5)), rng.normal(size=(3, 2))
        xp2 = np.pad(x2, p)
        loops2 = [[np.sum(xp2[i:i + 3, j:j + 2] * k2) for j in range(0, xp2.shape[1] - 1, s)]
                  for i in range(0, xp2.shape[0] - 2, s)]
        assert np.allclose(checks.CONV2D_SINGLE._compute(x2, k2, stride=s, padding=p), loops2)

        x3, w3, b3 = rng.normal(size=(3, 6, 6)), rng.normal(size=(2, 3, 3, 3)), rng.normal(size=2)
        y = checks.CONV2D._compute(x3, w3, b3, stride=s, padding=p)
        assert np.allclose(y, cl.conv2d_loops(x3, w3, b3, stride=s, padding=p))


@pytest.mark.parametrize("i", range(1, 30))
def test_output_size_counts_the_positions(i):
    for k in range(1, i + 5):
        for s in (1, 2, 3, 5):
            for p in (0, 1, 2):
                positions = len(range(0, i + 2 * p - k + 1, s))
                if positions:
                    assert checks.OUTPUT_SIZE._compute(i, k, stride=s, padding=p) == positions


def test_shape_and_count_references():
    for shape, c_out, k, s, p in [((3, 32, 32), 8, 3, 2, 1), ((2, 3, 7, 9), 4, (3, 2), 2, 1)]:
        x, w = np.zeros(shape), np.zeros((c_out, shape[-3]) + ((k, k) if isinstance(k, int) else k))
        assert checks.CONV_SHAPE._compute(shape, c_out, k, stride=s, padding=p) == cl.conv2d(
            x, w, stride=s, padding=p).shape
    assert checks.WEIGHT_SHAPE._compute(3, 2, 3) == (2, 3, 3, 3)
    assert checks.WEIGHT_SHAPE._compute(3, 2, (5, 1)) == (2, 3, 5, 1)
    assert checks.CONV_PARAMS._compute(3, 16, 3) == 16 * 27 + 16
    assert checks.DENSE_PARAMS._compute((3, 32, 32), (16, 32, 32)) == 3072 * 16384 + 16384


# --- every listed mistake is recognised ---------------------------------------------------------

ARRAY_REFERENCES = {"CORRELATE1D": checks.CORRELATE1D, "CONVOLVE1D": checks.CONVOLVE1D,
                    "CONV2D_SINGLE": checks.CONV2D_SINGLE, "CONV2D": checks.CONV2D}
FIXED_CASES = {  # references without a case generator: the arguments of their tasks and more
    "OUTPUT_SIZE": (checks.check_number, None),
    "CONV_SHAPE": (checks.check_shape, [
        (((3, 32, 32), 8, 3), {"stride": 2, "padding": 1}),
        (((2, 3, 9, 7), 4, 3), {"stride": 2, "padding": 1}),
        (((3, 5, 5), 2, 3), {"padding": 1}),
        (((3, 8, 8), 4, 3), {"stride": 3, "padding": 1}),
    ]),
    "WEIGHT_SHAPE": (checks.check_shape, [((3, 2, 3), {}), ((4, 8, (3, 5)), {})]),
    "CONV_PARAMS": (checks.check_number, [((3, 16, 3), {}), ((8, 4, 5), {"bias": True})]),
    "DENSE_PARAMS": (checks.check_number, [(((3, 32, 32), (16, 32, 32)), {})]),
}


def _mistakes():
    for name, reference in ARRAY_REFERENCES.items():
        for message in reference._mistakes:
            yield name, reference, checks.check_array, None, message
    for name, (check, cases) in FIXED_CASES.items():
        reference = getattr(checks, name)
        for message in reference._mistakes:
            yield name, reference, check, cases, message


@pytest.mark.parametrize(
    ("reference", "check", "cases", "message"),
    [m[1:] for m in _mistakes()],
    ids=[f"{m[0]}: {m[4][:40]}" for m in _mistakes()],
)
def test_every_mistake_is_diagnosed(reference, check, cases, message):
    """Some case makes this mistake give a wrong answer that the check names as this mistake."""
    if cases is None:
        rng = np.random.default_rng(0)
        cases = list(reference.examples) + [
            reference.cases(rng, reference.keywords) for _ in range(300)]
    wrong = reference._mistakes[message]
    for args, kwargs in cases:
        try:
            answer = wrong(*args, **kwargs)
        except (ValueError, IndexError):
            continue
        try:
            check(answer, reference, *args, **kwargs)
        except CheckFailed as failure:
            head = message.split("{")[0]
            if head in str(failure):
                return
    pytest.fail(f"no case shows the mistake {message!r}")


# --- the kinds of answer ------------------------------------------------------------------------


def test_a_right_answer_prints_one_line(capsys):
    checks.check_array(ARTICLE_OUT, checks.CONV2D_SINGLE, X, K, name="out")
    checks.check_shape((8, 16, 16), checks.CONV_SHAPE, (3, 32, 32), 8, 3, stride=2, padding=1)
    checks.check_number(24, checks.OUTPUT_SIZE, 28, 5, name="size")
    lines = capsys.readouterr().out.splitlines()
    assert lines == ["✓ out is right (shape (3, 3)).", "✓ your shape (8, 16, 16) is right.",
                     "✓ size 24 is right."]


@pytest.mark.parametrize(("unanswered", "shown"), [(None, "None"), (..., "...")])
def test_an_unanswered_question_says_so(unanswered, shown):
    message = failure(checks.check_number, unanswered, checks.OUTPUT_SIZE, 28, 5, name="size")
    assert message.startswith(f"size is still {shown}: replace it")


def test_the_shape_message_of_the_brief():
    message = failure(checks.check_array, np.zeros((3, 3)), checks.CONV2D_SINGLE, X, K,
                       padding=1, name="your output")
    assert message == (
        "your output has shape (3, 3) but should have shape (5, 5): did you forget the padding? "
        "padding=1 adds that many zeros on each side of the input before the kernel slides")


def test_wrong_values_are_located_without_showing_the_right_ones():
    answer = np.array(ARTICLE_OUT, dtype=float)
    answer[1, 2] = 18
    message = failure(checks.check_array, answer, checks.CONV2D_SINGLE, X, K, name="out")
    assert "1 of 9 values are wrong (the first at index (1, 2), where you have 18)" in message
    assert "19" not in message


def test_shape_and_number_messages_never_contain_the_answer():
    for mistake in checks.CONV_SHAPE._mistakes.values():
        answer = mistake((3, 32, 32), 8, 3, stride=2, padding=1)
        if answer == (8, 16, 16):  # this mistake makes no difference here
            continue
        message = failure(checks.check_shape, answer, checks.CONV_SHAPE, (3, 32, 32), 8, 3,
                           stride=2, padding=1)
        assert "(8, 16, 16)" not in message
    for answer in (23, 25, 28, 24.0, 12):
        message = failure(checks.check_number, answer, checks.OUTPUT_SIZE, 28, 5)
        assert "24" not in message.replace("24.0", "")


def test_an_integer_answer_must_be_an_int():
    message = failure(checks.check_number, 24.0, checks.OUTPUT_SIZE, 28, 5, name="size")
    assert message.startswith("size should be a whole number (an int) but is the float 24.0")
    message = failure(checks.check_number, 2.5, checks.OUTPUT_SIZE, 6, 3, stride=2)
    assert "floor division //" in message
    checks.check_number(np.int64(24), checks.OUTPUT_SIZE, 28, 5)


def test_shapes_must_be_tuples_of_ints():
    assert "tuple of ints" in failure(checks.check_shape, (8.0, 16, 16), checks.CONV_SHAPE,
                                       (3, 32, 32), 8, 3, stride=2, padding=1)
    checks.check_shape([8, 16, 16], checks.CONV_SHAPE, (3, 32, 32), 8, 3, stride=2, padding=1)
    message = failure(checks.check_shape, (16, 16), checks.CONV_SHAPE, (3, 32, 32), 8, 3,
                       stride=2, padding=1)
    assert message.endswith("it has 2 axes, the shape asked for has 3")


# --- functions ----------------------------------------------------------------------------------


def _conv2d_loops(x, kernel, stride=1, padding=0):
    xp = np.pad(x, padding)
    kh, kw = kernel.shape
    rows = range(0, xp.shape[0] - kh + 1, stride)
    cols = range(0, xp.shape[1] - kw + 1, stride)
    return np.array([[np.sum(xp[i:i + kh, j:j + kw] * kernel) for j in cols] for i in rows])


def test_a_right_function_passes_worked_and_generated_cases(capsys):
    checks.check_function(_conv2d_loops, checks.CONV2D_SINGLE, n=30)
    assert capsys.readouterr().out == (
        "✓ _conv2d_loops agrees with convlab.conv2d on 33 cases (3 worked examples, "
        "30 generated).\n")


def test_a_function_is_run_on_copies():
    def mutating(x, kernel, stride=1, padding=0):
        out = _conv2d_loops(x, kernel, stride, padding)
        x[...] = 0
        return out

    checks.check_function(mutating, checks.CONV2D_SINGLE, n=5)


def test_a_function_is_called_with_only_the_keywords_it_takes(capsys):
    checks.check_function(lambda x, kernel: _conv2d_loops(x, kernel), checks.CONV2D_SINGLE,
                          keywords=(), name="plain")
    assert "1 worked example, 20 generated" in capsys.readouterr().out


def test_a_function_not_written_yet():
    def stub(x, kernel, stride=1, padding=0):
        """Only a docstring, as in a released exercise."""

    assert "returned None" in failure(checks.check_function, stub, checks.CONV2D_SINGLE)

    def raising(x, kernel, stride=1, padding=0):
        raise NotImplementedError

    assert "is not written yet" in failure(checks.check_function, raising, checks.CONV2D_SINGLE)
    assert "still ..." in failure(checks.check_function, ..., checks.CONV2D_SINGLE)


def test_a_function_that_raises_is_reported_with_its_arguments():
    def broken(x, kernel, stride=1, padding=0):
        return x[100]

    message = failure(checks.check_function, broken, checks.CONV2D_SINGLE, name="conv2d_naive")
    assert message.startswith("conv2d_naive(an array of shape (5, 5), an array of shape (3, 3)) "
                              "raised IndexError")


def test_a_wrong_function_is_diagnosed_on_its_first_wrong_case():
    def no_padding(x, kernel, stride=1, padding=0):
        return _conv2d_loops(x, kernel, stride, 0)

    message = failure(checks.check_function, no_padding, checks.CONV2D_SINGLE)
    assert message.startswith("no_padding(an array of shape (5, 5), an array of shape (3, 3), "
                              "padding=1) has shape (3, 3) but should have shape (5, 5)")
    assert "did you forget the padding?" in message

    def flipped(x, kernel):
        return np.convolve(x, kernel, "valid")

    message = failure(checks.check_function, flipped, checks.CORRELATE1D, keywords=())
    assert message.startswith("flipped([3, 3, 2, 1, 0], [0, 1, 2]) has the right shape (3,)")
    assert "did you flip the kernel?" in message

    def true_division(i, k, stride=1, padding=0):
        return (i + 2 * padding - k) / stride + 1

    message = failure(checks.check_function, true_division, checks.OUTPUT_SIZE)
    assert "should be a whole number" in message


def test_hidden_cases_differ_from_visible_ones():
    rng0, rng1 = np.random.default_rng(0), np.random.default_rng(1)
    a = checks.CONV2D.cases(rng0, ("padding",))
    b = checks.CONV2D.cases(rng1, ("padding",))
    assert a[0][0].shape != b[0][0].shape or not np.array_equal(a[0][0], b[0][0])


# --- show your work -----------------------------------------------------------------------------

WORK_12 = "3*0 + 3*1 + 2*2 + 0*2 + 0*2 + 1*0 + 3*0 + 1*1 + 2*2"


def test_work_accepts_any_order_and_notation(capsys):
    checks.check_work(WORK_12, 12, X, K, position=(0, 0))
    checks.check_work("0·3 + 1×3 + 2*2 + 2*0 + 2*0 + 0*1 + 0*3 + 1*1 + 2*2", 12, X, K, (0, 0))
    checks.check_work(WORK_12 + " + 1", 13, X, K, (0, 0), bias=1)
    out = capsys.readouterr().out
    assert out.count("✓ right: output (0, 0) = 12") == 2 and "= 13" in out


def test_work_mistakes():
    flipped = " + ".join(f"{a:g}*{b:g}" for a, b in zip(X[:3, :3].flat, K[::-1, ::-1].flat))
    assert "flipped kernel" in failure(checks.check_work, flipped, 12, X, K, (0, 0))
    transposed = " + ".join(f"{a:g}*{b:g}" for a, b in zip(X[2:5, 1:4].flat, K.flat))
    assert "you used the window of output (2, 1): a position is (row, column)" in failure(
        checks.check_work, transposed, 0, X, K, (1, 2))
    shifted = " + ".join(f"{a:g}*{b:g}" for a, b in zip(X[1:4, 1:4].flat, K.flat))
    assert "one step off" in failure(checks.check_work, shifted, 0, X, K, (1, 2))
    assert "you wrote 3 products; this window has 9 (3 x 3)" in failure(
        checks.check_work, "1*0 + 3*1 + 1*2", 5, X, K, (1, 2))
    assert "value is not their sum" in failure(checks.check_work, WORK_12, 13, X, K, (0, 0))
    assert "bias is missing" in failure(checks.check_work, WORK_12, 12, X, K, (0, 0), bias=1)
    assert "extra term" in failure(checks.check_work, WORK_12 + " + 1", 13, X, K, (0, 0))
    assert "cannot read 't'" in failure(checks.check_work, "3 times 0", 0, X, K, (0, 0))
    assert "cannot read your work" in failure(checks.check_work, "3..0*1", 0, X, K, (0, 0))
    assert "multiplies more than two" in failure(checks.check_work, "(3+1)*0", 0, X, K, (0, 0))


def test_work_reads_subtraction_and_negative_factors_alike():
    k = K.copy()
    k[0, 1] = -1  # the window of (0, 0) holds 3 there: the product 3·(-1)
    for written in ("3*0 - 3*1", "3*0 + 3*(-1)", "3*0 + (-3)*1", "3*0 − 3·1"):
        work = written + " + 2*2 + 0*2 + 0*2 + 1*0 + 3*0 + 1*1 + 2*2"
        checks.check_work(work, 6, X, k, (0, 0))
    assert "not those of output" in failure(
        checks.check_work, "3*0 + 3*1 + 2*2 + 0*2 + 0*2 + 1*0 + 3*0 + 1*1 + 2*2", 12, X, k,
        (0, 0))


def test_work_on_several_channels_with_a_bias():
    x = np.stack([X, X.T])
    w = np.stack([K, -K])
    work = viz.show_work(x, w, bias=2, position=(1, 1))
    written, value = work.text.split(" = ")
    checks.check_work(written, float(value), x, w, (1, 1), bias=2)
    one = viz.show_work(x[1], w[1], position=(1, 1)).text.split(" = ")[0]
    assert "channel 1 only" in failure(checks.check_work, one + " + 2", 0, x, w, (1, 1), bias=2)
    flipped = viz.show_work(x, np.flip(w, axis=(1, 2)), bias=2, position=(1, 1)).text
    assert "flipped kernel" in failure(checks.check_work, flipped.split(" = ")[0], 0, x, w,
                                        (1, 1), bias=2)


def _loops(x, kernel, stride=1, padding=0):
    xp = np.pad(np.asarray(x, dtype=float), padding)
    kh, kw = kernel.shape
    rows, cols = (xp.shape[0] - kh) // stride + 1, (xp.shape[1] - kw) // stride + 1
    return np.array([[np.sum(xp[i * stride:i * stride + kh, j * stride:j * stride + kw] * kernel)
                      for j in range(cols)] for i in range(rows)])


def test_a_write_it_yourself_task_rejects_the_library_at_once():
    checks.check_function(_loops, checks.CONV2D_SINGLE, yourself=True)

    def with_convlab(x, kernel, stride=1, padding=0):
        return cl.conv2d(x[None], kernel[None, None], stride=stride, padding=padding)[0]

    def with_numpy(x, kernel, stride=1, padding=0):
        return np.array([np.correlate(x[0], kernel[0])])

    assert "write the loops yourself: your function with_convlab calls convlab.conv2d" in (
        failure(checks.check_function, with_convlab, checks.CONV2D_SINGLE, yourself=True))
    assert "calls np.correlate" in failure(
        checks.check_function, with_numpy, checks.CONV2D_SINGLE, yourself=True)
    checks.check_function(with_convlab, checks.CONV2D_SINGLE)  # allowed where not asked


def test_exercise_data_follow_the_course_seed(monkeypatch):
    monkeypatch.setitem(checks.EXERCISES, "99", lambda rng: {"x": rng.integers(0, 9, 20)})
    a, b = checks.exercise("99", 0), checks.exercise("99", 1)
    assert (a.x == checks.exercise("99", 0).x).all() and not (a.x == b.x).all()
    with pytest.raises(ValueError, match="course seed must be an int"):
        checks.exercise("99", -1)
    with pytest.raises(ValueError, match="no task data"):
        checks.exercise("98")
def test_work_never_shows_the_value():
    for work, value in [(WORK_12, 11), ("3*0", 12), (WORK_12 + " + 1", 12)]:
        assert "12" not in failure(checks.check_work, work, value, X, K, (0, 0))


# --- hashed answers -----------------------------------------------------------------------------


def test_digest_normalises():
    assert checks.digest(" A ") == checks.digest("a")
    assert checks.digest(3) == checks.digest(3.0) == checks.digest(np.int64(3))
    assert checks.digest((2, 3)) == checks.digest([2, 3]) == checks.digest(np.array([2, 3]))
    assert checks.digest("卷积核") != checks.digest("卷积")
    assert checks.digest(True) != checks.digest(1)
    with pytest.raises(TypeError):
        checks.digest({"a": 1})


def test_choice_with_a_hint(capsys):
    right, wrong = checks.digest("A"), checks.digest("B")
    checks.check_choice(" a", right, name="which")
    assert capsys.readouterr().out == "✓ which ' a' is right.\n"
    assert failure(checks.check_choice, "B", right, name="which", hints={wrong: "look again"}) \
        == "which 'B' is not right: look again"
    assert failure(checks.check_choice, "C", right) == "your answer 'C' is not right."


def test_matching_lists_keys_never_values():
    digests = {"kernel": checks.digest("卷积核"), "stride": checks.digest("步长"),
               "padding": checks.digest("填充")}
    message = failure(checks.check_matching, {"kernel": "卷积核", "stride": "填充",
                                               "padding": ..., "bias": "偏置"}, digests)
    assert message == ("your matching: 1 of 3 pairs are right; not yet right: 'stride'; "
                       "not answered: 'padding'; not asked for: 'bias'.")
    assert "步长" not in message
    checks.check_matching({"kernel": " 卷积核", "stride": "步长", "padding": "填充"}, digests)


def test_a_failure_renders_as_its_message_only():
    failure = CheckFailed("your output is wrong")
    assert isinstance(failure, AssertionError)
    assert failure._render_traceback_() == ["✗ your output is wrong"]


def test_generated_sizes_fit():
    rng = np.random.default_rng(3)
    for _ in range(200):
        (i, k), kwargs = checks.OUTPUT_SIZE.cases(rng, ("stride", "padding"))
        assert k <= i + 2 * kwargs["padding"]
        assert math.floor((i + 2 * kwargs["padding"] - k) / kwargs["stride"]) + 1 >= 1


# --- malformed answers, what a failed check leaves behind, and what an answer cell can reach ----


def _ragged():
    return [[1.0, 2.0], [3.0]]


@pytest.mark.parametrize(("check", "args", "words"), [
    (checks.check_array, (np.array(ARTICLE_OUT) + 0j, checks.CONV2D_SINGLE, X, K),
     "holds complex numbers"),
    (checks.check_array, (np.array(ARTICLE_OUT).astype(str), checks.CONV2D_SINGLE, X, K),
     "holds text"),
    (checks.check_array, (_ragged(), checks.CONV2D_SINGLE, X, K), "rows of equal length"),
    (checks.check_array, ([[10**400]], checks.CONV2D_SINGLE, X, K), "too large for a float"),
    (checks.check_array, ([["a", 1]], checks.CONV2D_SINGLE, X, K), "holds text"),
    (checks.check_array, ([[None, 1]], checks.CONV2D_SINGLE, X, K), "it holds NoneType"),
    (checks.check_number, (10**400, checks.OUTPUT_SIZE, 28, 5), "far too large"),
    (checks.check_number, ("24", checks.OUTPUT_SIZE, 28, 5), "should be a number, got str"),
    (checks.check_matching, ({"kernel": {"卷积核"}}, {"kernel": checks.digest("卷积核")}),
     "the value of 'kernel' should be a string"),
    (checks.check_matching, ({"kernel", "stride"}, {"kernel": checks.digest("卷积核")}),
     "should be a dict"),
    (checks.check_work, ("3..0*1", 0, X, K, (0, 0)), "cannot read your work"),
    (checks.check_work, ("3*0", 10**400, X, K, (0, 0)), "far too large"),
    (checks.check_choice, ({"a"}, checks.digest("a")), "should be a string or a number"),
    (checks.check_choice, (10**400, checks.digest("a")), "is not right"),
    (checks.check_matching, ({"kernel": ({},)}, {"kernel": checks.digest("卷积核")}),
     "the value of 'kernel' should be a string"),
    (checks.check_matching, ({"kernel": 10**400}, {"kernel": checks.digest("卷积核")}),
     "not yet right: 'kernel'"),
    (checks.check_work, ("(" * 5000 + "1*0", 0, X, K, (0, 0)), "too many parentheses"),
])
def test_a_malformed_answer_gets_a_clear_message(check, args, words):
    message = failure(check, *args)
    assert words in message and len(message) < 300, message


def test_a_function_returning_complex_values_is_wrong():
    def complex_loops(x, kernel, stride=1, padding=0):
        return _loops(x, kernel, stride, padding) + 0j

    assert "holds complex numbers" in failure(checks.check_function, complex_loops,
                                               checks.CONV2D_SINGLE)


def _locals(info):
    """The locals of the traceback's frames inside convlab."""
    tb = info.tb
    while tb is not None:
        if "convlab" in tb.tb_frame.f_code.co_filename:
            yield tb.tb_frame.f_code.co_name, tb.tb_frame.f_locals
        tb = tb.tb_next


def _holds(value, expected):
    if isinstance(expected, np.ndarray):
        return isinstance(value, np.ndarray) and value.shape == expected.shape and bool(
            (value == expected).all())
    return type(value) is type(expected) and value == expected


@pytest.mark.parametrize(("check", "args", "expected"), [
    (checks.check_number, (23, checks.OUTPUT_SIZE, 28, 5), 24),
    (checks.check_shape, ((8, 15, 15), checks.CONV_SHAPE, (3, 32, 32), 8, 3),
     (8, 30, 30)),
    (checks.check_array, (np.zeros((3, 3)), checks.CONV2D_SINGLE, X, K),
     np.array(ARTICLE_OUT, dtype=float)),
    (checks.check_function, (lambda x, kernel, stride=1, padding=0: np.zeros((3, 3)),
                             checks.CONV2D_SINGLE), np.array(ARTICLE_OUT, dtype=float)),
])
def test_no_frame_of_a_failed_check_holds_the_expected_value(check, args, expected):
    """What ``%debug`` after a failed check could read: every local of every frame."""
    with pytest.raises(CheckFailed) as info:
        check(*args)
    assert list(_locals(info))
    for function, names in _locals(info):
        for name, value in names.items():
            assert not _holds(value, expected), f"{function}() holds it as {name}"


def test_no_frame_of_a_failed_work_check_holds_the_right_products():
    with pytest.raises(CheckFailed) as info:
        checks.check_work("3*0 + 3*1", 3, X, K, (0, 0))
    right = checks._window_products(X, K, (0, 0), 1, 0)
    frames = list(_locals(info))
    assert [function for function, _ in frames] == ["check_work", "_fail"]
    for function, names in frames:
        assert not any(isinstance(value, Counter) and value == right
                       for value in names.values()), function


def test_the_checks_own_computation_counts_as_the_library():
    def borrowed(i, k, stride=1, padding=0):
        return checks.OUTPUT_SIZE._compute(i, k, stride=stride, padding=padding)

    assert "calls convlab.checks (the checks' own computation)" in failure(
        checks.check_function, borrowed, checks.OUTPUT_SIZE, yourself=True)


def test_a_sealed_copy_is_out_of_reach_and_quiet(monkeypatch, capsys):
    monkeypatch.setattr(checks, "check_number", lambda *args, **kwargs: None)
    monkeypatch.setattr(cl, "conv_output_size", lambda *args, **kwargs: 23)
    hidden = checks.sealed("00", 0)
    assert hidden is not checks and hidden.check_number is not checks.check_number
    size = hidden.task.size
    with pytest.raises(AssertionError, match="is not right"):
        hidden.check_number(cl.conv_output_size(**size), hidden.OUTPUT_SIZE, **size)
    right = (size["i"] + 2 * size["padding"] - size["k"]) // size["stride"] + 1
    hidden.check_number(right, hidden.OUTPUT_SIZE, **size)
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("change", [
    lambda mp: mp.setattr(np, "allclose", lambda *args, **kwargs: True),
    lambda mp: mp.setattr(math, "isclose", lambda *args, **kwargs: True),
    lambda mp: mp.setattr(np.pad.__wrapped__, "__code__", (lambda *args, **kwargs: 0).__code__),
    lambda mp: mp.setattr("builtins.abs", lambda value: 0),
])
def test_a_sealed_copy_refuses_a_changed_numpy(monkeypatch, change):
    change(monkeypatch)
    with pytest.raises(CheckFailed, match="not graded: an answer cell changed"):
        checks.sealed("00", 0)


def test_digests_are_slow_salted_and_still_read_older_ones(capsys):
    import time

    start = time.perf_counter()
    text = str(checks.digest("卷积核"))
    assert time.perf_counter() - start > 0.01
    assert re.fullmatch(r"v2-[0-9a-f]{16}", text)
    assert checks.digest(" 卷积核") == text and checks.digest("卷积") != text
    assert checks.digest("卷积核") == "3f62c0d06f9dc1fb"  # the digest before v2
    checks.check_choice("B", str(checks.digest("b")), hints={str(checks.digest("a")): "no"})
    assert failure(checks.check_choice, "a", str(checks.digest("b")),
                    hints={str(checks.digest("a")): "look again"}).endswith("look again")


def test_show_work_will_not_do_the_by_hand_task():
    task = checks.exercise("02", 3)
    args = dict(position=task.position, stride=task.stride, padding=task.padding)
    with pytest.raises(ValueError, match="by-hand task of your exercises"):
        viz.show_work(task.x, task.weight, bias=task.bias, **args)
    changed = task.x.copy()
    changed[..., -1, -1] += 100  # a value outside the window changes nothing
    if task.position != (2, 2):
        with pytest.raises(ValueError, match="by-hand task"):
            viz.show_work(changed, task.weight, **args)
    other = (0, 1) if task.position != (0, 1) else (1, 0)
    viz.show_work(task.x, task.weight, position=other, stride=task.stride,
                  padding=task.padding)


def test_work_products_compare_numpy_numbers_too():
    assert checks._key(np.float64(2), np.float64(-1)) == checks._key(2.0, -1.0) == ((1.0, 2.0), -1)


# --- no public object returns an expected answer --------------------------------------------------

REFERENCES = [(name, getattr(checks, name)) for name in checks.__all__
              if isinstance(getattr(checks, name), checks.Reference)]
PUBLIC = {"name", "hint", "hints", "cases", "examples", "keywords", "integer"}


def test_every_reference_is_found():
    assert len(REFERENCES) >= 40 and ("OUTPUT_SIZE", checks.OUTPUT_SIZE) in REFERENCES


@pytest.mark.parametrize(("name", "reference"), REFERENCES, ids=[n for n, _ in REFERENCES])
def test_a_reference_hands_out_neither_its_computation_nor_its_mistakes(name, reference):
    """A check cell shows its reference: nothing public of it computes an answer."""
    assert {a for a in dir(reference) if not a.startswith("_")} == PUBLIC
    assert reference.hints == tuple(reference._mistakes)
    for attribute in ("compute", "mistakes"):
        with pytest.raises(AttributeError, match="private"):
            getattr(reference, attribute)
    for index in (0, 1, slice(None)):
        with pytest.raises(TypeError):
            reference[index]
    with pytest.raises(TypeError):
        iter(reference)
    assert repr(reference) == str(reference) == f"Reference({reference.name!r})"
    # nothing public is the computation (a function's "cases" returns only arguments)
    for attribute in PUBLIC:
        value = getattr(reference, attribute)
        assert value is not reference._compute
        assert not (callable(value) and attribute != "cases")
    with pytest.raises(AttributeError, match="cannot be changed"):
        reference._compute = abs
    with pytest.raises(AttributeError, match="cannot be changed"):
        reference.name = "x"
    import copy
    import pickle

    for leak in (copy.copy, copy.deepcopy, pickle.dumps, lambda r: r.__reduce_ex__(2)):
        with pytest.raises(TypeError, match="cannot be copied"):
            leak(reference)


def test_a_reference_is_built_as_before_and_checks_as_before(capsys):
    size = checks.Reference(name="the size", compute=lambda i, k: i - k + 1,
                            mistakes={"off by one": lambda i, k: i - k}, integer=True)
    checks.check_number(24, size, 28, 5)
    assert failure(checks.check_number, 23, size, 28, 5).endswith(": off by one")
    changed = size._replace(name="another")
    assert changed.name == "another" and changed.hints == ("off by one",) and changed.integer


def test_the_topic_modules_export_only_references_and_checks():
    """What a learner finds in ``convlab.checks`` and its topic modules: references, checks,
    digests, the task data and convlab's own (public, documented) ops; no answer helper."""
    import types

    from convlab.checks import arithmetic, basics, dilated, pointwise, transposed, volumes

    for module in (checks, arithmetic, basics, dilated, pointwise, transposed, volumes):
        for name in dir(module):
            value = getattr(module, name)
            if name.startswith("_") or isinstance(value, (types.ModuleType, type, str, dict,
                                                          checks.Reference)):
                continue
            origin = getattr(value, "__module__", "")
            assert name.startswith("check_") or name in {"digest", "exercise", "sealed"} or (
                origin.startswith("convlab.") and not origin.startswith("convlab.checks")), (
                f"{module.__name__}.{name} is public")
