"""Chapter 07's checks: the references compute what convlab computes, every listed mistake is
named on the chapter's own task data (seeds 0 to 20) without showing the answer, and the
pictures of reach and gridding count the right paths."""

import re

import numpy as np
import pytest
from checking import failure

import convlab as cl
import convlab.viz as viz
from convlab import checks
from convlab.checks import CheckFailed, dilated

SEEDS = range(21)



def _number_tasks(t):
    """``(reference, args, kwargs)`` of every number the exercises of a seed ask for."""
    layer = t.layer
    return [
        (checks.DILATED_OUTPUT, (t.x, t.weight, t.bias, t.position, t.dilation), {}),
        (checks.EFFECTIVE_KERNEL, (layer["k"], layer["dilation"]), {}),
        (checks.DILATED_SIZE, (), layer),
        (checks.DILATED_SAME_PADDING, (), t.same),
        (checks.STACK_FIELD, (3, t.rates), {}),
        (checks.DILATED_PARAMS, (t.channels, t.channels, 3, max(t.rates)), {}),
        (checks.GRID_HOLES, (3, t.holes), {}),
    ]


def _given(args, kwargs):
    """The plain numbers a task gives (its arguments and their list entries)."""
    values = list(args) + list(kwargs.values())
    flat = [a for v in values for a in (v if isinstance(v, (list, tuple)) else [v])]
    return {a for a in flat if isinstance(a, (int, float))}


# --- the references compute the right thing -------------------------------------------------


def test_the_articles_numbers():
    assert [checks.EFFECTIVE_KERNEL._compute(3, d) for d in (1, 2, 3, 4)] == [3, 5, 7, 9]
    assert [checks.STACK_FIELD._compute(3, [1, 2, 4][:n]) for n in (1, 2, 3)] == [3, 7, 15]
    assert checks.STACK_FIELD._compute(2, [2 ** j for j in range(10)]) == 1024  # WaveNet
    assert checks.DILATED_SAME_PADDING._compute(3, 6) == 6  # DeepLab's ASPP branch of rate 6
    assert checks.DILATED_PARAMS._compute(64, 64, 3, 4) == checks.DILATED_PARAMS._compute(
        64, 64, 3, 1) == 64 * 64 * 9 + 64
    assert checks.GRID_HOLES._compute(3, [2, 2, 2]) == 13 ** 2 - 7 ** 2
    assert checks.GRID_HOLES._compute(3, [1, 2, 3]) == 0


def test_references_agree_with_convlab_and_loops():
    rng = np.random.default_rng(3)
    x = rng.integers(-3, 4, size=(2, 9, 9)).astype(float)
    w = rng.integers(-2, 3, size=(2, 3, 3)).astype(float)
    y = cl.conv2d(x, w[None], np.array([1.5]), dilation=3)[0]
    for r in range(3):
        for c in range(3):
            loops = sum(x[ch, r + 3 * a, c + 3 * b] * w[ch, a, b]
                        for ch in range(2) for a in range(3) for b in range(3)) + 1.5
            assert checks.DILATED_OUTPUT._compute(x, w, 1.5, (r, c), 3) == pytest.approx(loops)
            assert y[r, c] == pytest.approx(loops)
    for i, k, s, p, d in [(40, 3, 2, 2, 3), (7, 3, 1, 0, 2), (32, 5, 1, 4, 2)]:
        assert checks.DILATED_SIZE._compute(i, k, s, p, d) == (i + 2 * p - d * (k - 1) - 1) // s + 1
    for k in (3, 5, 7):
        for d in range(1, 7):
            shape = cl.conv2d(np.ones((1, 20, 20)), np.ones((1, 1, k, k)),
                              padding=checks.DILATED_SAME_PADDING._compute(k, d), dilation=d).shape
            assert shape == (1, 20, 20)


@pytest.mark.parametrize("rates", [(2, 2, 2), (1, 2, 3), (1, 2, 4), (3, 3, 5), (2, 4)])
def test_reach_counts_are_paths_and_their_zeros_the_holes(rates):
    counts = viz.reach_counts(rates)
    field = cl.receptive_field([(3, 1, 0, d) for d in rates])[-1].size
    assert counts.shape == (field, field)
    assert counts.sum() == 9 ** len(rates)  # every chain of taps lands somewhere
    hit = dilated._reached(3, rates)
    assert (counts == 0).sum() == checks.GRID_HOLES._compute(3, list(rates))
    assert list(np.flatnonzero(counts.any(axis=0))) == hit
    ones = np.zeros((1, 1, 2 * field - 1, 2 * field - 1))
    ones[0, 0, field - 1, field - 1] = 1.0
    for d in rates:  # the impulse pushed through the stack forward gives the flipped map
        ones = cl.conv2d(ones, np.ones((1, 1, 3, 3)), padding=d, dilation=d)
    centre = ones[0, 0, field // 2:field // 2 + field, field // 2:field // 2 + field]
    assert np.array_equal(centre, counts[::-1, ::-1])


def test_draw_reach_marks_holes_and_fits_the_column():
    fig = viz.draw_reach([(2, 2, 2), (1, 2, 3)])
    assert fig.get_figwidth() <= 9.0
    titles = [ax.get_title() for ax in fig.axes]
    assert "120 of 169 pixels never reached" in titles[0]
    assert "every pixel reached" in titles[1]
    assert [ax.get_gid() for ax in fig.axes] == ["reach:2,2,2", "reach:1,2,3"]
    with pytest.raises(ValueError, match="1 to 4 stacks"):
        viz.draw_reach([])


# --- the task data of every seed are well posed -----------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
def test_every_mistake_gives_another_answer_on_the_task_data(seed):
    t = checks.exercise("07", seed)
    for reference, args, kwargs in _number_tasks(t):
        right = reference._compute(*args, **kwargs)
        for message, wrong in reference._mistakes.items():
            try:
                value = wrong(*args, **kwargs)
            except (ValueError, IndexError):
                continue
            assert value != pytest.approx(right), (seed, reference.name, message)


@pytest.mark.parametrize("seed", SEEDS)
def test_wrong_numbers_are_named_and_the_answer_never_shown(seed):
    t = checks.exercise("07", seed)
    for reference, args, kwargs in _number_tasks(t):
        right = reference._compute(*args, **kwargs)
        heads = [m.split("{")[0] for m in reference._mistakes]
        for message, wrong in reference._mistakes.items():
            try:
                value = wrong(*args, **kwargs)
            except (ValueError, IndexError):
                continue
            text = failure(checks.check_number, value, reference, *args, name="answer",
                            **kwargs)
            assert any(h in text for h in heads), (reference.name, message, text)
            if right not in _given(args, kwargs):  # a task's own number may be named
                assert not re.search(rf"(?<![\d.]){right:g}(?![\d.])",
                                     text.split(":", 1)[1]), text


def _mistake_cases():
    for name in ("EFFECTIVE_KERNEL", "DILATED_SIZE", "DILATED_SAME_PADDING", "STACK_FIELD",
                 "DILATED_PARAMS", "DILATED_OUTPUT", "GRID_HOLES"):
        for message in getattr(checks, name)._mistakes:
            yield name, message
    for name in ("DILATED_CONV2D", "DILATED_SAME"):
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
                                            for _ in range(200)]
        check = checks.check_array
    else:
        cases = [(a, k) for s in SEEDS for r, a, k in _number_tasks(checks.exercise("07", s))
                 if r is reference]
        if reference is checks.DILATED_SIZE:  # the span's mistakes also come first elsewhere
            cases += [((i, k, s, p, d), {}) for i in (30, 31) for k in (3, 5) for s in (1, 2)
                      for p in (0, 1) for d in (2, 3, 4)]
        check = checks.check_number
    for args, kwargs in cases:
        try:
            answer = reference._mistakes[message](*args, **kwargs)
        except (ValueError, IndexError):
            continue
        try:
            check(answer, reference, *args, **kwargs)
        except CheckFailed as failure:
            if head in str(failure):
                return
    pytest.fail(f"no case shows the mistake {message!r}")


def test_right_answers_pass(capsys):
    t = checks.exercise("07", 4)
    for reference, args, kwargs in _number_tasks(t):
        checks.check_number(reference._compute(*args, **kwargs), reference, *args, **kwargs)
    assert capsys.readouterr().out.count("✓") == 7


def test_the_lessons_stacks_are_not_asked():
    for seed in SEEDS:
        t = checks.exercise("07", seed)
        assert t.rates not in ([1, 2, 3], [1, 2, 4]) and t.holes != [2, 2, 2]
