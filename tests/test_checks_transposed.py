"""Chapter 06's checks: the references agree with PyTorch-style ops, every mistake is named,
the task data are well posed for every course seed."""

import numpy as np
import pytest

import convlab as cl
from convlab import checks
from convlab.checks import CheckFailed
from convlab.checks import transposed as t

SEEDS = range(21)


def test_the_references_agree_with_convlab():
    rng = np.random.default_rng(0)
    for _ in range(50):
        (x, kernel), kwargs = t.CONV_T2D_SINGLE.cases(rng, ("stride", "padding"))
        assert np.allclose(t._direct(x, kernel, **kwargs),
                           checks.CONV_T2D_SINGLE._compute(x, kernel, **kwargs))
    shape = ((2, 3, 5, 7), (3, 4, 3, 3))
    y = cl.conv_transpose2d(np.zeros(shape[0]), np.zeros(shape[1]), stride=2, padding=1,
                            output_padding=1)
    assert checks.TRANSPOSE_SHAPE._compute(*shape, 2, 1, 1) == y.shape
    for i in range(5, 30):
        for k, s, p in [(3, 2, 1), (4, 3, 0), (5, 4, 2)]:
            o = cl.conv_output_size(i, k, s, p)
            op = checks.OUTPUT_PADDING._compute(i, k, s, p)
            assert 0 <= op < s
            assert cl.conv_transpose_output_size(o, k, s, p, op) == i
    for k, s in [(3, 2), (4, 2), (5, 2), (7, 3)]:
        counts = cl.conv_transpose2d(np.ones((1, 1, 12, 12)), np.ones((1, 1, k, k)),
                                     stride=s)[0, 0]
        interior = counts[2 * k:-2 * k, 2 * k:-2 * k]
        assert sorted(np.unique(interior)) == list(checks.OVERLAP_LEVELS._compute(k, s))


def _every_mistake(reference, check, cases):
    for message, wrong in reference._mistakes.items():
        for args, kwargs in cases:
            try:
                answer = wrong(*args, **kwargs)
            except (ValueError, IndexError):
                continue
            try:
                check(answer, reference, *args, **kwargs)
            except CheckFailed as failure:
                if message.split("{")[0] in str(failure):
                    break
        else:
            pytest.fail(f"no case shows the mistake {message!r}")


def test_every_mistake_of_the_array_reference_is_named():
    rng = np.random.default_rng(1)
    cases = list(t.CONV_T2D_SINGLE.examples) + [
        t.CONV_T2D_SINGLE.cases(rng, ("stride", "padding")) for _ in range(200)]
    _every_mistake(checks.CONV_T2D_SINGLE, checks.check_array, cases)


@pytest.mark.parametrize("seed", SEEDS)
def test_every_mistake_of_the_sizes_is_named_for_every_seed(seed):
    task = checks.exercise("06", seed)
    for reference, check, args in [
        (checks.TRANSPOSE_SHAPE, checks.check_shape, tuple(task.layer.values())),
        (checks.OUTPUT_PADDING, checks.check_number, tuple(task.recover.values())),
        (checks.OVERLAP_LEVELS, checks.check_array, tuple(task.checker.values())),
    ]:
        right = reference._compute(*args)
        check(right, reference, *args)
        for message, wrong in reference._mistakes.items():
            try:
                answer = wrong(*args)
            except ValueError:
                continue
            with pytest.raises(CheckFailed) as failure:
                check(answer, reference, *args)
            assert message.split("{")[0] in str(failure.value), (message, str(failure.value))
            if isinstance(right, tuple):  # a shape is never shown
                assert f"{right}" not in str(failure.value)


def test_the_weight_layout_is_named():
    with pytest.raises(CheckFailed, match="conv2d's layout"):
        checks.check_shape((16, 8, 4, 4), checks.TRANSPOSE_WEIGHT_SHAPE, 8, 16, 4)
    checks.check_shape((8, 16, 4, 4), checks.TRANSPOSE_WEIGHT_SHAPE, 8, 16, 4)


def _work(products, bias):
    return " + ".join(f"{a:g}*({b:g})" for a, b in products) + f" + ({bias:g})"


def _products(task, flipped=False, zeros=None, padding=None, position=None, channels=(0, 1)):
    """The (input, kernel) pairs the scatter view gives, with the usual mistakes."""
    x, w = task.x, task.weight
    s = task.stride if zeros is None else zeros + 1
    p = task.padding if padding is None else padding
    r, q = task.position if position is None else position
    pairs = []
    for c in channels:
        for a in range(3):
            for b in range(3):
                i, j = r + p - a * s, q + p - b * s
                if 0 <= i < 3 and 0 <= j < 3:
                    pairs.append((x[c, a, b], w[c, 0, 2 - i, 2 - j] if flipped else w[c, 0, i, j]))
    return pairs


@pytest.mark.parametrize("seed", SEEDS)
def test_work_by_hand_names_every_mistake(seed, capsys):
    task = checks.exercise("06", seed)
    args = (task.x, task.weight, task.position)
    kw = {"bias": task.bias, "stride": task.stride, "padding": task.padding}
    right = _products(task)
    value = sum(a * b for a, b in right) + task.bias
    y = cl.conv_transpose2d(task.x, task.weight, np.array([task.bias]), stride=2, padding=1)
    assert value == y[(0, *task.position)]
    checks.check_work_transposed(_work(right, task.bias), value, *args, **kw)
    assert "right" in capsys.readouterr().out
    r, q = task.position
    for pairs, named in [
        (_products(task, flipped=True), "mirrored"),
        (_products(task, zeros=2), "zeros between"),
        (_products(task, padding=0), "forget the padding"),
        (_products(task, position=(q, r)), "(row, column)"),
        (_products(task, channels=(0,)), "channel 0 only"),
        (_products(task, channels=(1,)), "channel 1 only"),
    ]:
        with pytest.raises(CheckFailed, match=named.replace("(", r"\(").replace(")", r"\)")):
            checks.check_work_transposed(_work(pairs, task.bias), 0, *args, **kw)
    with pytest.raises(CheckFailed, match="bias is missing"):
        checks.check_work_transposed(_work(right, 0).rsplit(" + ", 1)[0], value, *args, **kw)
    with pytest.raises(CheckFailed, match="not their sum") as failure:
        checks.check_work_transposed(_work(right, task.bias), value + 1, *args, **kw)
    assert f"{value:g}" not in str(failure.value)


def test_the_zeros_of_the_direct_view_may_be_written():
    task = checks.exercise("06", 0)
    right = _products(task)
    value = sum(a * b for a, b in right) + task.bias
    work = _work(right + [(0, 2), (0, -1)], task.bias)
    checks.check_work_transposed(work, value, task.x, task.weight, task.position,
                                 bias=task.bias, stride=2, padding=1)
