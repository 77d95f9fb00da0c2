"""Chapter 14's checks: the references compute what convlab computes, every listed mistake is
named on the chapter's own task data (seeds 0 to 20) or on generated cases, without showing
the answer."""

import re

import numpy as np
import pytest
from checking import failure

import convlab as cl
from convlab import checks
from convlab.checks import CheckFailed, deformable

SEEDS = range(21)



def _number_tasks(t):
    """``(check, reference, args, kwargs)`` of every answer the exercises of a seed ask for."""
    return [
        (checks.check_number, checks.BILINEAR_VALUE, (t.image, *t.inside), {}),
        (checks.check_number, checks.BILINEAR_VALUE, (t.image, *t.edge), {}),
        (checks.check_shape, checks.DEFORM_OFFSET_SHAPE, (), t.layer),
        (checks.check_shape, checks.DEFORM_MASK_SHAPE, (), t.layer),
        (checks.check_array, checks.SAMPLING_POINT, (), t.point),
        (checks.check_number, checks.OFFSET_BRANCH_PARAMS, (), t.branch),
    ]


def _given(args, kwargs):
    """The plain numbers a task gives (its arguments, their entries, its image's pixels)."""
    found = set()

    def walk(value):
        if isinstance(value, (list, tuple, np.ndarray)):
            for v in value:
                walk(v)
        elif isinstance(value, (int, float, np.number)):
            found.add(float(value))

    walk(list(args) + list(kwargs.values()))
    return found


def _apart(reference, args, message):
    """Whether the task keeps this mistake apart: a point inside the image cannot show the
    mistakes of the border (truncation, clamping), a point by the edge those of the inside."""
    if reference is not checks.BILINEAR_VALUE:
        return True
    among = deformable._EDGE if args[1] < 0 else deformable._INSIDE
    return message.startswith(among)


def _different(a, b):
    a, b = np.atleast_1d(np.asarray(a, dtype=float)), np.atleast_1d(np.asarray(b, dtype=float))
    return a.shape != b.shape or not np.allclose(a, b)


# --- the references compute the right thing -------------------------------------------------


def test_bilinear_by_hand():
    image = np.array([[1.0, 2], [3, 4]])
    assert checks.BILINEAR_VALUE._compute(image, 0.25, 0.5) == pytest.approx(
        0.75 * (0.5 * 1 + 0.5 * 2) + 0.25 * (0.5 * 3 + 0.5 * 4))
    assert checks.BILINEAR_VALUE._compute(image, -0.25, 0.0) == pytest.approx(0.75 * 1)
    assert checks.BILINEAR_VALUE._compute(image, -1.0, 0.0) == 0.0
    ramp = np.add.outer(4 * np.arange(4.0), np.arange(4.0))  # 4y + x
    np.testing.assert_allclose(checks.BILINEAR_GRAD._compute(ramp, 1.3, 2.6), [4, 1])


def test_the_gradient_reference_is_the_finite_difference():
    rng = np.random.default_rng(5)
    for _ in range(30):
        (image, y, x), _ = checks.BILINEAR_GRAD.cases(rng, ())
        eps = 1e-7
        numeric = [(checks.BILINEAR._compute(image, y + eps, x)
                    - checks.BILINEAR._compute(image, y - eps, x)) / (2 * eps),
                   (checks.BILINEAR._compute(image, y, x + eps)
                    - checks.BILINEAR._compute(image, y, x - eps)) / (2 * eps)]
        np.testing.assert_allclose(checks.BILINEAR_GRAD._compute(image, y, x), numeric,
                                   atol=1e-6)


def test_points_shapes_and_branch_agree_with_convlab():
    t = checks.exercise("14", 0)
    p = t.point
    offset = np.zeros((18, 8, 8))
    offset[2 * p["tap"]], offset[2 * p["tap"] + 1] = p["pair"]
    points = cl.deform_sampling_points(offset, 3, p["stride"], p["padding"], p["dilation"])
    np.testing.assert_allclose(points[0, p["position"][0], p["position"][1], p["tap"]],
                               checks.SAMPLING_POINT._compute(**p))
    layer = t.layer
    n, c, h, w = layer["input_shape"]
    out = cl.conv_output_size(h, layer["weight_shape"][2], layer["stride"], layer["padding"],
                              layer["dilation"])
    assert checks.DEFORM_OFFSET_SHAPE._compute(**layer)[2] == out
    assert checks.DEFORM_OFFSET_SHAPE._compute(**layer)[1] == 2 * checks.DEFORM_MASK_SHAPE._compute(
        **layer)[1]
    b = t.branch
    maps = 3 * b["offset_groups"] * b["k"] ** 2
    assert checks.OFFSET_BRANCH_PARAMS._compute(**b) == b["c_in"] * b["k"] ** 2 * maps + maps


def test_deform_samples_reference_is_the_loops():
    rng = np.random.default_rng(3)
    (image, offset, mask), _ = checks.DEFORM_SAMPLES.cases(rng, ())
    got = checks.DEFORM_SAMPLES._compute(image, offset, mask)
    h, w = image.shape
    for k in range(9):
        i, j = divmod(k, 3)
        for r in range(h):
            for c in range(w):
                y, x = r - 1 + i + offset[2 * k, r, c], c - 1 + j + offset[2 * k + 1, r, c]
                want = mask[k, r, c] * checks.BILINEAR._compute(image, y, x)
                assert got[k, r, c] == pytest.approx(want)


# --- the task data of every seed are well posed -----------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
def test_every_mistake_gives_another_answer_on_the_task_data(seed):
    t = checks.exercise("14", seed)
    for _, reference, args, kwargs in _number_tasks(t):
        right = reference._compute(*args, **kwargs)
        for message, wrong in reference._mistakes.items():
            if _apart(reference, args, message):
                assert _different(wrong(*args, **kwargs), right), (seed, reference.name,
                                                                   message)


@pytest.mark.parametrize("seed", SEEDS)
def test_wrong_answers_are_named_and_the_answer_never_shown(seed):
    t = checks.exercise("14", seed)
    for check, reference, args, kwargs in _number_tasks(t):
        right = reference._compute(*args, **kwargs)
        heads = [m.split("{")[0] for m in reference._mistakes]
        for message, wrong in reference._mistakes.items():
            value = wrong(*args, **kwargs)
            if not _different(value, right):
                continue
            if check is checks.check_shape:
                value = tuple(int(a) for a in value)
            elif check is checks.check_number and reference.integer:
                value = int(value)
            text = failure(check, value, reference, *args, name="answer", **kwargs)
            assert any(h in text for h in heads), (reference.name, message, text)
            shown = text.split(":", 1)[1]
            for number in np.atleast_1d(right):
                if float(number) not in _given(args, kwargs):
                    assert not re.search(rf"(?<![\d.]){float(number):g}(?![\d.])", shown), text


def _mistake_cases():
    for name in ("BILINEAR_VALUE", "DEFORM_OFFSET_SHAPE", "DEFORM_MASK_SHAPE", "SAMPLING_POINT",
                 "OFFSET_BRANCH_PARAMS", "BILINEAR", "BILINEAR_GRAD", "DEFORM_SAMPLES"):
        for message in getattr(checks, name)._mistakes:
            yield name, message


@pytest.mark.parametrize(("name", "message"), list(_mistake_cases()),
                         ids=[f"{n}: {m[:40]}" for n, m in _mistake_cases()])
def test_every_mistake_is_diagnosed_by_its_own_hint(name, message):
    """On some seed's task (or some generated case), the mistake's answer is named by its hint."""
    reference = getattr(checks, name)
    head = message.split("{")[0]
    if reference.cases is not None:
        rng = np.random.default_rng(0)
        cases = list(reference.examples) + [reference.cases(rng, reference.keywords)
                                            for _ in range(100)]
        check = checks.check_array if name != "BILINEAR" else checks.check_number
    else:
        cases = [(a, k) for s in SEEDS for _, r, a, k in _number_tasks(checks.exercise("14", s))
                 if r is reference]
        check = next(c for c, r, _, _ in _number_tasks(checks.exercise("14", 0))
                     if r is reference)
    for args, kwargs in cases:
        answer = reference._mistakes[message](*args, **kwargs)
        if check is checks.check_shape:
            answer = tuple(int(a) for a in answer)
        try:
            check(answer, reference, *args, **kwargs)
        except CheckFailed as failure:
            if head in str(failure):
                return
    pytest.fail(f"no case shows the mistake {message!r}")


def test_right_answers_pass(capsys):
    t = checks.exercise("14", 4)
    for check, reference, args, kwargs in _number_tasks(t):
        check(reference._compute(*args, **kwargs), reference, *args, **kwargs)
    assert capsys.readouterr().out.count("✓") == 6


def test_a_right_implementation_passes_and_a_library_call_is_refused(capsys):
    def bilinear(image, y, x):
        h, w = image.shape
        if y <= -1 or y >= h or x <= -1 or x >= w:
            return 0.0
        y0, x0 = int(np.floor(y)), int(np.floor(x))
        total = 0.0
        for r, c in ((y0, x0), (y0, x0 + 1), (y0 + 1, x0), (y0 + 1, x0 + 1)):
            if 0 <= r < h and 0 <= c < w:
                total += (1 - abs(y - r)) * (1 - abs(x - c)) * image[r, c]
        return total

    checks.check_function(bilinear, checks.BILINEAR, n=60, yourself=True)
    assert "✓" in capsys.readouterr().out
    def sample(image, y, x):
        offset = np.array([y, x]).reshape(2, 1, 1)
        return cl.deform_conv2d(image[None], offset, np.ones((1, 1, 1, 1)), stride=image.shape)

    with pytest.raises(CheckFailed, match="calls convlab.deform_conv2d"):
        checks.check_function(sample, checks.BILINEAR, yourself=True)
