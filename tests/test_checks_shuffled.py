"""Chapter 11's checks: the references compute what convlab (and PyTorch) compute, every listed
mistake is named on the chapter's own task data (seeds 0 to 20) without showing the answer, and
every course seed gives well-posed tasks."""

import re

import numpy as np
import pytest
from checking import failure

import convlab as cl
from convlab import checks

SEEDS = range(21)



def _tasks(t):
    """``(reference, args, check)`` of every answer the exercises of a seed ask for."""
    cost = (t.cost_channels, t.cost_groups, t.size)
    return [
        (checks.SHUFFLE_ORDER, (t.channels, t.groups), checks.check_array),
        (checks.SHUFFLE_POSITION, (t.channels, t.groups, t.track), checks.check_number),
        (checks.SHUFFLE_REACH, (t.reach_channels, t.reach_groups, t.perturbed),
         checks.check_array),
        (checks.SHUFFLE_STACK_PARAMS, cost, checks.check_number),
        (checks.SHUFFLE_STACK_MACS, cost, checks.check_number),
    ]


# --- the references compute the right thing -------------------------------------------------


def test_order_and_position_agree_with_torch():
    torch = pytest.importorskip("torch")
    for c, g in [(6, 2), (12, 3), (15, 5), (8, 4)]:
        x = torch.arange(c, dtype=torch.float64).reshape(1, c, 1, 1)
        order = torch.nn.ChannelShuffle(g)(x)[0, :, 0, 0].numpy()
        assert np.array_equal(checks.SHUFFLE_ORDER._compute(c, g), order)
        for ch in range(c):
            assert order[checks.SHUFFLE_POSITION._compute(c, g, ch)] == ch


def test_the_inverse_is_the_shuffle_with_n_groups():
    x = np.random.default_rng(1).normal(size=(2, 12, 3, 3))
    for g in (1, 2, 3, 4, 6, 12):
        assert np.array_equal(checks.UNSHUFFLE._compute(cl.channel_shuffle(x, g), g), x)
    assert np.array_equal(cl.channel_shuffle(x, 1), x)
    assert np.array_equal(cl.channel_shuffle(x, 12), x)  # n = 1: a no-op too


def test_reach_is_what_random_weights_show():
    rng = np.random.default_rng(2)
    for c, g in [(8, 4), (12, 3), (10, 5)]:
        w1, w2 = rng.normal(size=(2, c, c // g, 3, 3))
        for j in range(c):
            x = rng.normal(size=(1, c, 6, 6))
            bumped = x.copy()
            bumped[0, j] += 1.0

            def stack(v):
                h = cl.channel_shuffle(cl.conv2d(v, w1, padding=1, groups=g), g)
                return cl.conv2d(h, w2, padding=1, groups=g)

            changed = np.abs(stack(bumped) - stack(x)).max(axis=(0, 2, 3)) > 1e-9
            assert np.array_equal(changed, checks.SHUFFLE_REACH._compute(c, g, j) == 1)


def test_stack_costs_are_conv_costs():
    c, g, s = 96, 4, 28
    one = cl.conv_cost(c, c, 3, s, padding=1, groups=g)
    assert checks.SHUFFLE_STACK_PARAMS._compute(c, g, s) == 2 * one.params == 2 * c * c // g * 9
    assert checks.SHUFFLE_STACK_MACS._compute(c, g, s) == 2 * one.macs == 2 * s * s * c * c // g * 9


def test_shuffle_function_reference_is_torchs():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    for _ in range(20):
        (x, g), _kw = checks.SHUFFLE_FUNCTION.cases(rng, ())
        expected = torch.nn.functional.channel_shuffle(torch.from_numpy(x), g).numpy()
        assert np.array_equal(checks.SHUFFLE_FUNCTION._compute(x, g), expected)


# --- the task data of every seed are well posed -----------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
def test_every_mistake_gives_another_answer_on_the_task_data(seed):
    t = checks.exercise("11", seed)
    assert t.channels != t.groups ** 2 and t.groups > 1 and t.channels > t.groups
    assert t.reach_channels // t.reach_groups < t.reach_groups
    for reference, args, _ in _tasks(t):
        right = np.asarray(reference._compute(*args), dtype=float)
        for message, wrong in reference._mistakes.items():
            value = np.asarray(wrong(*args), dtype=float)
            assert value.shape != right.shape or not np.allclose(value, right), (
                seed, reference.name, message)


@pytest.mark.parametrize("seed", SEEDS)
def test_wrong_answers_are_named_and_the_answer_never_shown(seed):
    t = checks.exercise("11", seed)
    for reference, args, check in _tasks(t):
        right = reference._compute(*args)
        heads = [m.split("{")[0] for m in reference._mistakes]
        for message, wrong in reference._mistakes.items():
            text = failure(check, wrong(*args), reference, *args, name="answer")
            assert message.split("{")[0] in text, (reference.name, message, text)
            assert any(h in text for h in heads)
            if np.ndim(right) == 0 and right not in args:
                assert not re.search(rf"(?<![\d.]){right:g}(?![\d.])", text.split(":", 1)[1])
            if np.ndim(right) == 1:  # an order or a reach is never written out
                assert str(list(np.asarray(right, dtype=int))) not in text


def test_right_answers_pass(capsys):
    t = checks.exercise("11", 5)
    for reference, args, check in _tasks(t):
        check(reference._compute(*args), reference, *args)
    assert capsys.readouterr().out.count("✓") == 5


@pytest.mark.parametrize("name", ["SHUFFLE_FUNCTION", "UNSHUFFLE"])
def test_every_function_mistake_is_named(name):
    reference = getattr(checks, name)
    for message, wrong in reference._mistakes.items():
        text = failure(checks.check_function, wrong, reference)
        assert message.split("{")[0] in text, (message, text)
    checks.check_function(reference._compute, reference)


def test_the_lessons_cases_are_not_asked():
    for seed in SEEDS:
        t = checks.exercise("11", seed)
        lesson = {(6, 2), (6, 3), (12, 3), (12, 4), (18, 3)}
        assert (t.channels, t.groups) not in lesson
        assert (t.reach_channels, t.reach_groups) not in lesson
