"""Chapter 09's checks: the references compute what convlab computes, every listed mistake is
named on the chapter's own task data (seeds 0 to 20) without showing the answer, and the
task's filters are exact or not as the chapter says."""

import re

import numpy as np
import pytest
from checking import failure

import convlab as cl
from convlab import checks
from convlab.checks import CheckFailed

SEEDS = range(21)



def _number_tasks(t):
    """``(reference, args, kwargs)`` of every number the exercises of a seed ask for."""
    layer = t.layer
    return [
        (checks.FLAT_OUTPUT, (t.x, t.channel, t.col, t.row, t.bias, t.position), {}),
        (checks.FLAT_PARAMS, (layer["c_in"], layer["c_out"], layer["k"]), {}),
        (checks.FLAT_MACS, (), layer),
    ]


def _given(args, kwargs):
    """The plain numbers a task gives (its arguments and their list entries)."""
    values = list(args) + list(kwargs.values())
    flat = [a for v in values for a in (v if isinstance(v, (list, tuple)) else [v])]
    return {a for a in flat if isinstance(a, (int, float))}


# --- the references compute the right thing -------------------------------------------------


def test_references_agree_with_convlab():
    rng = np.random.default_rng(3)
    x = rng.integers(-3, 4, size=(2, 6, 7)).astype(float)
    a, b, h = [1.0, -2.0], [1.0, 2.0, 1.0], [-1.0, 0.0, 1.0]
    full = cl.flattened_conv2d(x, [a], b, h, [1.5])[0]
    for r in range(4):
        for c in range(5):
            loops = sum(x[ch, r + i, c + j] * a[ch] * b[i] * h[j]
                        for ch in range(2) for i in range(3) for j in range(3)) + 1.5
            assert checks.FLAT_OUTPUT._compute(x, a, b, h, 1.5, (r, c)) == pytest.approx(loops)
            assert full[r, c] == pytest.approx(loops)
    for padding in (0, 1, 2):
        np.testing.assert_allclose(checks.FLAT_CONV2D._compute(x, a, b, h, padding=padding),
                                   cl.flattened_conv2d(x, [a], b, h, padding=padding)[0])
    # the mistakes' three-pass code is right when no mistake is made
    from convlab.checks.flattened import _passes
    for padding in (0, 1, 2):
        np.testing.assert_allclose(_passes(x, a, b, h, padding=padding),
                                   checks.FLAT_CONV2D._compute(x, a, b, h, padding=padding))
    # C_in + 2k per filter and a bias; the three passes' multiply-adds, counted by hand
    assert checks.FLAT_PARAMS._compute(64, 64, 3) == 64 * (64 + 3 + 3) + 64
    i, k, p, c_in, c_out = 20, 5, 1, 16, 32
    o = i + 2 * p - k + 1
    assert checks.FLAT_MACS._compute(c_in, c_out, k, i, padding=p) == (
        i * i * c_in * c_out + o * i * c_out * k + o * o * c_out * k)


def test_exactness_of_the_task_filters():
    for seed in SEEDS:
        filters = checks.exercise("09", seed).filters
        exact = checks.FLAT_EXACT._compute(filters)
        assert exact.sum() == 1
        for f, e in zip(filters, exact):
            error = np.linalg.norm(f - cl.flattened_weight(*cl.flattened_factors(f[None])))
            assert (error < 1e-9) == bool(e)


# --- the task data of every seed are well posed -----------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
def test_every_mistake_gives_another_answer_on_the_task_data(seed):
    t = checks.exercise("09", seed)
    for reference, args, kwargs in _number_tasks(t):
        answers = [reference._compute(*args, **kwargs)]
        for message, wrong in reference._mistakes.items():
            value = wrong(*args, **kwargs)
            assert all(value != pytest.approx(a) for a in answers), (seed, reference.name,
                                                                     message)
            answers.append(value)
    right = checks.FLAT_EXACT._compute(t.filters)
    for wrong in checks.FLAT_EXACT._mistakes.values():
        assert not np.array_equal(wrong(t.filters), right)


@pytest.mark.parametrize("seed", SEEDS)
def test_wrong_numbers_are_named_and_the_answer_never_shown(seed):
    t = checks.exercise("09", seed)
    for reference, args, kwargs in _number_tasks(t):
        right = reference._compute(*args, **kwargs)
        for message, wrong in reference._mistakes.items():
            value = wrong(*args, **kwargs)
            text = failure(checks.check_number, value, reference, *args, name="answer",
                            **kwargs)
            assert message.split("{")[0] in text, (reference.name, message, text)
            if right not in _given(args, kwargs):  # a task's own number may be named
                assert not re.search(rf"(?<![\d.]){right:g}(?![\d.])",
                                     text.split(":", 1)[1]), text
    for message, wrong in checks.FLAT_EXACT._mistakes.items():
        text = failure(checks.check_array, wrong(t.filters), checks.FLAT_EXACT, t.filters,
                        name="exact")
        assert message in text


def _generated_cases(reference):
    rng = np.random.default_rng(0)
    return list(reference.examples) + [reference.cases(rng, reference.keywords)
                                       for _ in range(200)]


@pytest.mark.parametrize("name", ["FLAT_CONV2D", "FLAT_MACS"])
def test_every_mistake_of_a_function_is_diagnosed_by_its_own_hint(name):
    reference = getattr(checks, name)
    check = checks.check_array if name == "FLAT_CONV2D" else checks.check_number
    for message, wrong in reference._mistakes.items():
        head = message.split("{")[0]
        for args, kwargs in _generated_cases(reference):
            try:
                check(wrong(*args, **kwargs), reference, *args, **kwargs)
            except CheckFailed as failure:
                if head in str(failure):
                    break
        else:
            pytest.fail(f"no case shows the mistake {message!r}")


def test_right_answers_and_functions_pass(capsys):
    t = checks.exercise("09", 4)
    for reference, args, kwargs in _number_tasks(t):
        checks.check_number(reference._compute(*args, **kwargs), reference, *args, **kwargs)
    checks.check_array(checks.FLAT_EXACT._compute(t.filters) > 0, checks.FLAT_EXACT, t.filters)
    checks.check_function(lambda *a, **k: checks.FLAT_CONV2D._compute(*a, **k),
                          checks.FLAT_CONV2D, name="flat")
    checks.check_function(lambda *a, **k: checks.FLAT_MACS._compute(*a, **k), checks.FLAT_MACS,
                          name="macs")
    assert capsys.readouterr().out.count("✓") == 6
