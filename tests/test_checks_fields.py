"""Chapter 13's checks: the references compute what convlab computes, every listed mistake is
named on the chapter's own task data (seeds 0 to 20) without showing the answer, and each
mistake gives its own answer."""

import math
import re

import numpy as np
import pytest
from checking import failure

import convlab as cl
from convlab import checks
from convlab.checks import CheckFailed

SEEDS = range(21)



def _tasks(t):
    """``(check, reference, args)`` of every value the exercises of a seed ask for."""
    return [
        (checks.check_array, checks.LAYER_FIELDS, (t.layers, t.kinds)),
        (checks.check_number, checks.FIELD_START, (t.layers, t.unit)),
        (checks.check_number, checks.ERF_RADIUS, (t.depth, t.kernel)),
    ]


# --- the references compute the right thing ---------------------------------------------------


def test_the_articles_numbers():
    vgg = [(3, 1, 1, 1), (3, 1, 1, 1), (2, 2, 0, 1)]
    assert list(checks.LAYER_FIELDS._compute(vgg, ("conv", "conv", "pool"))) == [3, 5, 6]
    # the unit field of VGG-16's conv1_1 starts one pixel inside the padding (Araujo et al.)
    assert checks.FIELD_START._compute(vgg[:1], 0) == -1
    assert checks.ERF_RADIUS._compute(6, 3) == pytest.approx(2.0)  # sqrt(6 * 8 / 12)


def test_references_agree_with_convlab():
    rng = np.random.default_rng(0)
    for _ in range(50):
        (layers, unit), _ = checks.UNIT_FIELD.cases(rng, ())
        rf = cl.receptive_field(layers)[-1]
        first, last = checks.UNIT_FIELD._compute(layers, unit)
        assert (first + last) / 2 == pytest.approx(rf.start + unit * rf.jump)
        assert last - first + 1 == rf.size
        assert first == checks.FIELD_START._compute(layers, unit)
    for k in (3, 5):
        for n in (1, 4, 9):
            erf = cl.effective_receptive_field([np.ones((k, k))] * n, 60)
            assert cl.erf_radius(erf) == pytest.approx(checks.ERF_RADIUS._compute(n, k))
    kernels = [np.arange(9.0).reshape(3, 3) - 4, np.array([[1.0, -2.0]])]
    erf = checks.ERF_BACKPROP._compute(kernels)
    full = np.zeros((3, 4))  # the full convolution of the two kernels (no flip in sight)
    for a, b in np.ndindex(3, 3):
        full[a:a + 1, b:b + 2] += kernels[0][a, b] * kernels[1]
    assert np.array_equal(erf, full)


# --- the task data of every seed are well posed -------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
def test_every_mistake_gives_its_own_answer_on_the_task_data(seed):
    t = checks.exercise("13", seed)
    for _, reference, args in _tasks(t):
        answers = [reference._compute(*args)] + [w(*args) for w in reference._mistakes.values()]
        for i, a in enumerate(answers):
            for b in answers[:i]:
                assert not np.allclose(a, b), (seed, reference.name)


@pytest.mark.parametrize("seed", SEEDS)
def test_wrong_answers_are_named_and_the_answer_never_shown(seed):
    t = checks.exercise("13", seed)
    for check, reference, args in _tasks(t):
        right = reference._compute(*args)
        for message, wrong in reference._mistakes.items():
            value = wrong(*args)
            if reference.integer:
                value = int(value)
            text = failure(check, value, reference, *args, name="answer")
            assert message.split("{")[0] in text, (reference.name, message, text)
            for number in np.atleast_1d(right):
                assert not re.search(rf"(?<![\d.]){number:g}(?![\d.])",
                                     text.split(":", 1)[1].split("where you have")[0]), text


def test_right_answers_pass(capsys):
    for seed in (0, 7):
        t = checks.exercise("13", seed)
        for check, reference, args in _tasks(t):
            check(reference._compute(*args), reference, *args)
    assert capsys.readouterr().out.count("✓") == 6


def test_the_lessons_cases_are_not_asked():
    for seed in SEEDS:
        t = checks.exercise("13", seed)
        assert t.kernel != 3 and 5 <= t.depth <= 12
        assert "pool" in t.kinds and any(d > 1 for *_, d in t.layers)


# --- functions: every mistake is recognised on the worked examples or generated cases ----------


def _function_mistakes():
    for name in ("UNIT_FIELD", "ERF_BACKPROP"):
        for message in getattr(checks, name)._mistakes:
            yield name, message


@pytest.mark.parametrize(("name", "message"), list(_function_mistakes()),
                         ids=[f"{n}: {m[:40]}" for n, m in _function_mistakes()])
def test_every_function_mistake_is_diagnosed_by_its_own_hint(name, message):
    reference = getattr(checks, name)
    wrong = reference._mistakes[message]
    with pytest.raises(CheckFailed, match=re.escape(message.split("{")[0])):
        checks.check_function(wrong, reference, n=40)


def test_right_functions_pass(capsys):
    checks.check_function(checks.UNIT_FIELD._compute, checks.UNIT_FIELD, n=40)
    checks.check_function(checks.ERF_BACKPROP._compute, checks.ERF_BACKPROP, n=40)
    assert capsys.readouterr().out.count("✓") == 2


def test_the_radius_grows_like_the_square_root_of_depth():
    r = [checks.ERF_RADIUS._compute(n, 3) for n in (4, 16, 64)]
    assert r[1] / r[0] == pytest.approx(2.0) and r[2] / r[1] == pytest.approx(2.0)
    assert math.isclose(checks.ERF_RADIUS._mistakes[next(iter(checks.ERF_RADIUS._mistakes))](
        4, 3), 4.0)
