"""Chapter 10's checks: the references compute what convlab (and PyTorch) compute, every listed
mistake is named on the chapter's own task data (seeds 0 to 20) without showing the answer,
and the functions' checks pass a right implementation and name the wrong ones."""

import re

import numpy as np
import pytest
from checking import failure

import convlab as cl
from convlab import checks
from convlab.checks import grouped

SEEDS = range(21)



def _tasks(t):
    """``(check, reference, args)`` of every answer the exercises of a seed ask for."""
    layer, size, reach, pair = t.layer, t.size, t.reach, t.pair
    return [
        (checks.check_number, checks.GROUPED_OUTPUT,
         (t.x, t.weight, t.bias, t.groups, t.out_channel, t.position)),
        (checks.check_shape, checks.GROUPED_WEIGHT_SHAPE, tuple(layer.values())),
        (checks.check_number, checks.GROUPED_PARAMS, tuple(layer.values())),
        (checks.check_number, checks.GROUPED_MACS, (*layer.values(), *size.values())),
        (checks.check_array, checks.GROUPED_REACH, tuple(reach.values())),
        (checks.check_array, checks.GROUPED_VALID, tuple(pair.values())),
    ]


def _same(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return a.shape == b.shape and np.allclose(a, b)


def _given(args):
    """The plain numbers a task gives (its arguments)."""
    return {a for a in args if isinstance(a, (int, float))}


# --- the references compute the right thing -------------------------------------------------


def test_the_articles_numbers():
    # N·C·k² becomes N·(C/G)·k²: a 3x3 layer 256 -> 256 with 2 groups (AlexNet split in two)
    assert checks.GROUPED_PARAMS._compute(256, 256, 3, 2, bias=False) == 256 * 128 * 9
    assert checks.GROUPED_PARAMS._compute(256, 256, 3, 1) == 2 * 256 * 128 * 9 + 256
    # ResNeXt's 3x3 layer, cardinality 32 of 4 channels: 128 * 4 * 9 weights
    assert checks.GROUPED_PARAMS._compute(128, 128, 3, 32, bias=False) == 4608
    assert checks.GROUPED_WEIGHT_SHAPE._compute(96, 256, 5, 2) == (256, 48, 5, 5)  # AlexNet conv2
    assert checks.GROUPED_MACS._compute(96, 256, 5, 2, 27, 1, 2) == 27 * 27 * 256 * 48 * 25
    assert checks.GROUPED_VALID._compute(12, 18).tolist() == [1, 2, 3, 6]
    assert checks.GROUPED_REACH._compute(8, 12, 4, 5).tolist() == [6, 7, 8]
    assert checks.GROUPED_REACH._compute(8, 8, 8, 5).tolist() == [5]  # depthwise


def test_references_agree_with_convlab_and_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    x = rng.integers(-3, 4, size=(6, 5, 5)).astype(float)
    w = rng.integers(-2, 3, size=(9, 2, 3, 3)).astype(float)
    b = rng.integers(-3, 4, size=9).astype(float)
    expected = torch.nn.functional.conv2d(torch.from_numpy(x[None]), torch.from_numpy(w),
                                          torch.from_numpy(b), groups=3).numpy()[0]
    np.testing.assert_allclose(checks.GROUPED_CONV2D._compute(x, w, 3, bias=b), expected)
    np.testing.assert_allclose(grouped._grouped(x, w, 3, bias=b), expected)  # split, concat
    np.testing.assert_allclose(checks.DENSE_WEIGHT._compute(w, 3), cl.dense_weight(w, 3))
    for o in range(9):
        for r in range(3):
            assert checks.GROUPED_OUTPUT._compute(x, w, b, 3, o, (r, 2 - r)) == pytest.approx(
                expected[o, r, 2 - r])
            assert grouped._output(x, w, b, 3, o, (r, 2 - r)) == pytest.approx(
                expected[o, r, 2 - r])
    assert np.prod(checks.GROUPED_WEIGHT_SHAPE._compute(6, 9, 3, 3)) == \
        checks.GROUPED_PARAMS._compute(6, 9, 3, 3, bias=False) == w.size
    moved = np.abs(cl.conv2d(x + np.eye(6)[4][:, None, None], w, groups=3) - cl.conv2d(
        x, w, groups=3)).max(axis=(1, 2))
    assert checks.GROUPED_REACH._compute(6, 9, 3, 4).tolist() == np.flatnonzero(moved).tolist()
    for g in checks.GROUPED_VALID._compute(12, 18):
        cl.conv_cost(12, 18, 3, 5, groups=int(g))  # accepted
    with pytest.raises(ValueError):
        cl.conv_cost(12, 18, 3, 5, groups=4)


# --- the task data of every seed are well posed -----------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
def test_every_mistake_gives_another_answer_on_the_task_data(seed):
    for _, reference, args in _tasks(checks.exercise("10", seed)):
        values = [reference._compute(*args)]
        for wrong in reference._mistakes.values():
            try:
                values.append(wrong(*args))
            except (ValueError, IndexError):  # a mistake that cannot happen here
                continue
        for n, a in enumerate(values):
            for b in values[:n]:
                assert not _same(a, b), (seed, reference.name)


@pytest.mark.parametrize("seed", SEEDS)
def test_wrong_answers_are_named_and_the_answer_never_shown(seed):
    for check, reference, args in _tasks(checks.exercise("10", seed)):
        right = reference._compute(*args)
        heads = [m.split("{")[0] for m in reference._mistakes]
        for message, wrong in reference._mistakes.items():
            try:
                value = wrong(*args)
            except (ValueError, IndexError):
                continue
            if check is checks.check_shape:
                value = tuple(value)
            text = failure(check, value, reference, *args, name="answer")
            assert message.split("{")[0] in text, (reference.name, message, text)
            assert any(h in text for h in heads)
            shown = text.split(":", 1)[1]
            if np.ndim(right) == 0:
                if right not in _given(args):  # a task's own number may be named
                    assert not re.search(rf"(?<![\d.]){right:g}(?![\d.])", shown), text
            else:
                for form in (str(list(right)), str(tuple(right)), str(right)):
                    assert form not in shown, text


@pytest.mark.parametrize("seed", [0, 3, 11])
def test_right_answers_pass(seed, capsys):
    for check, reference, args in _tasks(checks.exercise("10", seed)):
        check(reference._compute(*args), reference, *args)
    assert capsys.readouterr().out.count("✓") == 6


def test_the_by_hand_task_is_in_the_second_group():
    for seed in SEEDS:
        t = checks.exercise("10", seed)
        assert t.out_channel >= 3 and t.bias[t.out_channel] != 0 and t.groups == 2
        assert t.layer["c_in"] != t.layer["c_out"] and t.reach["c_in"] != t.reach["c_out"]


# --- the functions: right ones pass, each mistake is named --------------------------------------


def _split_convolve_concatenate(x, weight, groups, bias=None):
    per_in, per_out = x.shape[0] // groups, weight.shape[0] // groups
    outs = [cl.conv2d(x[None, g * per_in:(g + 1) * per_in],
                      weight[g * per_out:(g + 1) * per_out])[0] for g in range(groups)]
    y = np.concatenate(outs)
    return y if bias is None else y + bias[:, None, None]


def _block_diagonal_loops(weight, groups):
    c_out, per_in = weight.shape[:2]
    dense = np.zeros((c_out, per_in * groups) + weight.shape[2:])
    for o in range(c_out):
        g = o // (c_out // groups)
        dense[o, g * per_in:(g + 1) * per_in] = weight[o]
    return dense


def test_right_functions_pass(capsys):
    checks.check_function(_split_convolve_concatenate, checks.GROUPED_CONV2D, n=40)
    checks.check_function(_block_diagonal_loops, checks.DENSE_WEIGHT, n=40, yourself=True)
    assert capsys.readouterr().out.count("✓") == 2
    def through_convlab(weight, groups):
        return cl.dense_weight(weight, groups)

    text = failure(checks.check_function, through_convlab, checks.DENSE_WEIGHT, yourself=True)
    assert "calls convlab.dense_weight" in text


def _function_mistakes():
    for name in ("GROUPED_CONV2D", "DENSE_WEIGHT"):
        for message in getattr(checks, name)._mistakes:
            yield name, message


@pytest.mark.parametrize(("name", "message"), list(_function_mistakes()),
                         ids=[f"{n}: {m[:40]}" for n, m in _function_mistakes()])
def test_every_function_mistake_is_named_by_its_own_hint(name, message):
    reference = getattr(checks, name)
    wrong = reference._mistakes[message]
    text = failure(checks.check_function, wrong, reference, n=40)
    assert message.split("{")[0] in text, text


def test_the_examples_show_every_function_mistake():
    """The worked examples come first: each mistake is caught before any generated case."""
    for name, message in _function_mistakes():
        reference = getattr(checks, name)
        wrong = reference._mistakes[message]
        assert any(not _same(wrong(*a, **k), reference._compute(*a, **k))
                   for a, k in reference.examples), (name, message)


def test_every_answer_mistake_happens_on_some_seed():
    seen = set()
    for seed in SEEDS:
        for _, reference, args in _tasks(checks.exercise("10", seed)):
            for message, wrong in reference._mistakes.items():
                try:
                    wrong(*args)
                except (ValueError, IndexError):
                    continue
                seen.add(message)
    for name in ("GROUPED_OUTPUT", "GROUPED_WEIGHT_SHAPE", "GROUPED_PARAMS", "GROUPED_MACS",
                 "GROUPED_REACH", "GROUPED_VALID"):
        assert set(getattr(checks, name)._mistakes) <= seen, name
