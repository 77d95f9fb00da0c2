"""Chapter 05's checks: the references are right, every mistake is named for every course seed,
and no message shows the expected answer."""

import inspect
import math
import re

import numpy as np
import pytest
from checking import failure

import convlab as cl
from convlab import checks

SEEDS = range(21)



# --- the references compute the right thing -----------------------------------------------------


def test_output_size_with_dilation_counts_the_windows():
    for i in range(1, 20):
        for k in range(1, 5):
            for s in range(1, 4):
                for p in range(3):
                    for d in range(1, 4):
                        if d * (k - 1) + 1 > i + 2 * p:
                            continue
                        starts = checks.WINDOW_STARTS._compute(i, k, s, p, d)
                        assert len(starts) == checks.OUTPUT_SIZE_DILATED._compute(i, k, s, p, d)
                        assert starts[-1] + d * (k - 1) <= i + 2 * p - 1 < starts[-1] + s + d * (
                            k - 1)
                        x = np.ones((1, 1, i))
                        w = np.ones((1, 1, k))
                        assert cl.conv1d(x, w, stride=s, padding=p, dilation=d).shape[-1] == len(
                            starts)


def test_receptive_field_of_the_classic_stacks():
    rf = checks.RECEPTIVE_FIELD._compute
    assert rf(((3, 1, 1), (3, 1, 1))) == 5
    assert rf(((3, 1, 1),) * 3) == 7
    assert rf(((3, 1, 1), (3, 1, 2), (3, 1, 4))) == 15
    assert rf(((3, 2, 1), (3, 1, 1))) == 7  # the second kernel's taps are 2 pixels apart


def test_receptive_field_is_what_a_unit_depends_on():
    """Perturb one input pixel at a time: the centre output changes exactly inside the field."""
    rng = np.random.default_rng(1)
    for layers in (((3, 1, 1), (3, 2, 1), (3, 1, 2)), ((5, 2, 1), (3, 1, 1)), ((2, 2, 1),) * 3):
        size = checks.RECEPTIVE_FIELD._compute(layers)
        x = rng.normal(size=64)

        def net(x):
            y = x[None, None]
            for k, s, d in layers:
                y = cl.conv1d(y, rng_weights[(k, s, d)], stride=s, dilation=d)
            return y[0, 0, 0]

        rng_weights = {layer: np.abs(rng.normal(size=(1, 1, layer[0]))) + 0.1 for layer in layers}
        base = net(x)
        moved = [j for j in range(64) if net(x + np.eye(64)[j]) != base]
        assert moved == list(range(size))


def test_same_padding_keeps_the_size():
    for k in (1, 3, 5, 7):
        for d in (1, 2, 3):
            p = checks.SAME_PADDING._compute(k, d)
            assert cl.conv_output_size(10, k, padding=p, dilation=d) == 10


def test_tf_same_pads_give_ceil_outputs_and_the_odd_zero_after():
    for i in range(3, 30):
        for k in (1, 2, 3, 4, 5):
            for s in (1, 2, 3):
                before, after = checks.TF_SAME_PADS._compute(i, k, s)
                assert 0 <= after - before <= 1
                assert (i + before + after - k) // s + 1 == math.ceil(i / s)
    assert list(checks.TF_SAME_PADS._compute(6, 3, 2)) == [0, 1]


def test_inception_shape():
    assert checks.INCEPTION_SHAPE._compute((192, 28, 28), ((1, 64), (3, 128), (5, 32))) == (
        224, 28, 28)


# --- every mistake is named, for every seed ------------------------------------------------------


def _named(check, reference, args, kwargs, answer_name):
    """Each mistake that gives a new wrong answer fails with its own hint, never showing the
    right answer; the right answer passes. Returns the hints given."""
    right = reference._compute(*args, **kwargs)
    seen = [str(np.asarray(right, dtype=float).tolist())]
    named = set()
    bound = inspect.signature(reference._compute).bind(*args, **kwargs)
    bound.apply_defaults()
    for hint, wrong in reference._mistakes.items():
        try:
            value = wrong(*args, **kwargs)
        except (ValueError, IndexError):
            continue
        key = str(np.asarray(value, dtype=float).tolist())
        if key in seen:  # right, or an earlier mistake's answer: that one is named
            continue
        seen.append(key)
        if isinstance(right, tuple):
            value = tuple(int(a) for a in value)
        message = failure(check, value, reference, *args, name=answer_name, **kwargs)
        assert hint.format(**bound.arguments) in message, (hint, message)
        named.add(hint)
        # the answer is never shown (a number the task itself gives may appear in a hint)
        given = {str(a) for a in bound.arguments.values()}
        if not isinstance(right, tuple) and str(right) not in given:
            shown = re.escape(str(np.asarray(right).tolist()))
            assert not re.search(rf"(?<![\w.]){shown}(?![\w.])", message), (
                message)
    check(right, reference, *args, name=answer_name, **kwargs)
    return named


@pytest.mark.parametrize("seed", SEEDS)
def test_every_mistake_of_the_tasks_is_named(seed, capsys):
    task = checks.exercise("05", seed)
    named = set()
    for size in task.sizes:
        size = dict(size)
        named |= _named(checks.check_number, checks.OUTPUT_SIZE_DILATED,
                        (size.pop("i"), size.pop("k")), size, "o")
    chapter = ("did you take the dilated", "did you ignore the dilation", "padding is counted on",
               "did you forget the + 1", "did you round up")
    for start in chapter:
        assert any(h.startswith(start) for h in named), start
    same = dict(task.same_args)
    assert len(_named(checks.check_number, checks.SAME_PADDING, (same.pop("k"),), same,
                      "p_same")) == len(checks.SAME_PADDING._mistakes)
    tf = task.tf_args
    assert len(_named(checks.check_array, checks.TF_SAME_PADS, (tf["i"], tf["k"], tf["stride"]),
                      {}, "tf_pads")) == len(checks.TF_SAME_PADS._mistakes)
    assert len(_named(checks.check_shape, checks.INCEPTION_SHAPE,
                      (task.block_input, task.branches), {}, "block_shape")) == len(
        checks.INCEPTION_SHAPE._mistakes)
    assert len(_named(checks.check_number, checks.OUTPUT_ELEMENT,
                      (task.x, task.weight, task.bias, task.position),
                      {"stride": task.stride, "padding": task.padding}, "value")) == len(
        checks.OUTPUT_ELEMENT._mistakes)


@pytest.mark.parametrize("seed", SEEDS)
def test_the_by_hand_task_is_well_posed(seed, capsys):
    task = checks.exercise("05", seed)
    assert task.bias != 0 and (task.x != 0).all() and (task.weight != 0).all()
    r, c = task.position
    assert task.x.shape == (2, 5, 5) and task.weight.shape == (2, 3, 3)
    # the window reaches the padding: the task trains where a strided, padded window lies
    assert min(r, c) == 0 and max(r, c) <= 1
    work = cl.conv2d(task.x, task.weight[None], np.array([task.bias]), stride=task.stride,
                     padding=task.padding)[0, r, c]
    xp = np.pad(task.x, ((0, 0), (1, 1), (1, 1)))
    window = xp[:, 2 * r:2 * r + 3, 2 * c:2 * c + 3]
    text = " + ".join(f"{a:g}*{b:g}" for a, b in zip(window.ravel(), task.weight.ravel()))
    checks.check_work(f"{text} + {task.bias:g}", work, task.x, task.weight, task.position,
                      bias=task.bias, stride=task.stride, padding=task.padding)
    without_padding = failure(checks.check_work, text, 0, task.x, task.weight, task.position,
                               bias=task.bias, stride=1, padding=0)
    assert "not those of output" in without_padding


def test_receptive_field_mistakes_are_named_as_functions():
    def right(layers):
        size, jump = 1, 1
        for k, s, d in layers:
            size += d * (k - 1) * jump
            jump *= s
        return size

    checks.check_function(right, checks.RECEPTIVE_FIELD, n=60, yourself=True)
    for hint, wrong in checks.RECEPTIVE_FIELD._mistakes.items():
        message = failure(checks.check_function, wrong, checks.RECEPTIVE_FIELD, n=60)
        # on the first case where it shows, another mistake may give the same number
        assert any(h in message for h in checks.RECEPTIVE_FIELD._mistakes), message


def test_window_start_mistakes_are_named_as_functions():
    def right(i, k, stride=1, padding=0, dilation=1):
        return list(range(0, i + 2 * padding - dilation * (k - 1), stride))

    checks.check_function(right, checks.WINDOW_STARTS, n=60, yourself=True)
    for hint, wrong in checks.WINDOW_STARTS._mistakes.items():
        def learner(i, k, stride=1, padding=0, dilation=1, wrong=wrong):
            return wrong(i, k, stride, padding, dilation)

        message = failure(checks.check_function, learner, checks.WINDOW_STARTS, n=60)
        assert any(h.split("{")[0][:40] in message for h in checks.WINDOW_STARTS._mistakes), (
            message)
    # each mistake is named by its own hint on some case
    cases = [((i, k), {"stride": s, "padding": p, "dilation": d}) for i in range(5, 16)
             for k in (2, 3) for s in (1, 2, 3) for p in (0, 1, 2) for d in (1, 2, 3)]
    for hint, wrong in checks.WINDOW_STARTS._mistakes.items():
        for args, kwargs in cases:
            try:
                value = wrong(*args, **kwargs)
            except ValueError:
                continue
            if np.array_equal(value, checks.WINDOW_STARTS._compute(*args, **kwargs)):
                continue
            message = failure(checks.check_array, value, checks.WINDOW_STARTS, *args, **kwargs)
            if hint.format(**kwargs).split("?")[0] in message:
                break
        else:
            raise AssertionError(f"never named: {hint}")


def test_the_buggy_window_starts_of_the_exercise_is_named():
    def buggy(i, k, stride=1, padding=0, dilation=1):
        n = math.ceil((i + 2 * padding - dilation * (k - 1) - 1) / stride) + 1
        return [j * stride for j in range(n)]

    message = failure(checks.check_function, buggy, checks.WINDOW_STARTS)
    assert "runs past the end" in message
