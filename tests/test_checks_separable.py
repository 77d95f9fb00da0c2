"""Chapter 08's checks: the references compute what convlab computes (and the articles'
numbers), every listed mistake is named on the chapter's own task data (seeds 0 to 20) or on
generated cases, right answers pass, and the answer is never shown."""

import re

import numpy as np
import pytest
from checking import failure, head

import convlab as cl
from convlab import checks
from convlab.checks import CheckFailed

SEEDS = range(21)




def _number_tasks(t):
    """``(reference, args)`` of every number the exercises of a seed ask for."""
    layer = tuple(t.layer.values())
    return [
        (checks.SEP_OUTPUT, (t.x, t.col, t.row, t.bias, t.position)),
        (checks.SPATIAL_MACS, (t.N, t.m)),
        (checks.FULL_MACS, (t.N, t.m)),
        (checks.SPATIAL_RATIO, (t.N, t.m)),
        (checks.DWS_MACS, layer),
        (checks.DWS_PARAMS, layer),
        (checks.DWS_RATIO, layer),
        (checks.RANK1_ERROR, (t.error_kernel,)),
    ]


def _array_tasks(t):
    return [
        (checks.SEP_MIDDLE, (t.x, t.col, t.row, t.position)),
        (checks.SEPARABLE_KERNELS, (t.kernels,)),
    ]


# --- the references compute the right thing -----------------------------------------------------


def test_the_articles_numbers():
    layer = (3, 128, 3, 7)
    assert cl.conv_cost(*layer).macs == 86_400
    assert checks.DWS_MACS._compute(*layer) == 675 + 9_600 == 10_275
    assert checks.DWS_RATIO._compute(*layer) == pytest.approx(1 / 128 + 1 / 9)
    assert checks.DWS_PARAMS._compute(*layer) == 3 * 9 + 3 + 128 * 3 + 128
    n = 12 - 5 + 1
    assert checks.SPATIAL_MACS._compute(12, 5) == n * 12 * 5 + n * n * 5
    assert checks.FULL_MACS._compute(12, 5) == n * n * 25
    assert checks.SPATIAL_RATIO._compute(1000, 3) == pytest.approx(2 / 3, rel=1e-2)
    sobel = np.outer([1, 2, 1], [-1, 0, 1])
    assert list(checks.SEPARABLE_KERNELS._compute([sobel, sobel + np.eye(3)])) == [1.0, 0.0]
    assert np.allclose(checks.RANK1_KERNEL._compute(sobel), sobel)
    assert checks.RANK1_ERROR._compute(sobel) == pytest.approx(0, abs=1e-12)


def test_by_hand_references_agree_with_loops():
    t = checks.exercise("08", 3)
    r, c = t.position
    window = t.x[r:r + 3, c:c + 3]
    loops = sum(window[a, b] * t.col[a] * t.row[b] for a in range(3) for b in range(3))
    assert checks.SEP_OUTPUT._compute(t.x, t.col, t.row, t.bias, t.position) == pytest.approx(
        loops + t.bias)
    middle = [sum(window[a, b] * t.col[a] for a in range(3)) for b in range(3)]
    assert np.allclose(checks.SEP_MIDDLE._compute(t.x, t.col, t.row, t.position), middle)
    assert checks.SEP_MIDDLE._compute(t.x, t.col, t.row, t.position) @ t.row == pytest.approx(
        loops)


def test_the_best_rank_one_error_is_the_distance_to_separable_factors():
    rng = np.random.default_rng(0)
    for _ in range(10):
        k = rng.normal(size=(3, 4))
        best = checks.RANK1_KERNEL._compute(k)
        assert np.linalg.matrix_rank(best) == 1
        assert np.linalg.norm(k - best) == pytest.approx(checks.RANK1_ERROR._compute(k))


def test_the_implementation_reference_is_depthwise_then_pointwise():
    rng = np.random.default_rng(1)
    x, dw, pw = rng.normal(size=(3, 6, 5)), rng.normal(size=(3, 3, 3)), rng.normal(size=(4, 3))
    w = cl.depthwise_separable_weight(dw[:, None], pw)
    assert np.allclose(checks.DWS_CONV._compute(x, dw, pw), cl.conv2d(x, w))


# --- the task data of every seed are well posed -------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
def test_every_mistake_gives_another_answer_on_the_task_data(seed):
    t = checks.exercise("08", seed)
    for reference, args in _number_tasks(t) + _array_tasks(t):
        right = np.asarray(reference._compute(*args), dtype=float)
        seen = [right]
        for message, wrong in reference._mistakes.items():
            try:
                value = np.asarray(wrong(*args), dtype=float)
            except (ValueError, IndexError):
                continue
            for other in seen:
                assert value.shape != other.shape or not np.allclose(value, other), (
                    seed, reference.name, message)
            seen.append(value)


@pytest.mark.parametrize("seed", SEEDS)
def test_wrong_numbers_are_named_and_the_answer_never_shown(seed):
    t = checks.exercise("08", seed)
    for reference, args in _number_tasks(t):
        right = reference._compute(*args)
        heads = [head(m) for m in reference._mistakes]
        for message, wrong in reference._mistakes.items():
            try:
                value = wrong(*args)
            except (ValueError, IndexError):
                continue
            text = failure(checks.check_number, value, reference, *args, name="answer")
            assert head(message) in text, (reference.name, message, text)
            assert any(h in text for h in heads)
            shown = f"{right:.6g}" if isinstance(right, float) else str(right)
            if abs(right) <= 3 and float(right).is_integer():  # "1-D", "kh x 1": not the answer
                continue
            assert not re.search(rf"(?<![\d.]){re.escape(shown)}(?![\d.])",
                                 text.split(":", 1)[1]), text


@pytest.mark.parametrize("seed", SEEDS)
def test_wrong_arrays_are_named(seed):
    t = checks.exercise("08", seed)
    for reference, args in _array_tasks(t):
        for message, wrong in reference._mistakes.items():
            text = failure(checks.check_array, wrong(*args), reference, *args, name="answer")
            assert head(message) in text, (reference.name, message, text)


@pytest.mark.parametrize("reference", ["RANK1_KERNEL", "DWS_CONV"])
def test_every_function_mistake_is_diagnosed(reference):
    reference = getattr(checks, reference)
    rng = np.random.default_rng(0)
    cases = list(reference.examples) + [reference.cases(rng, ()) for _ in range(200)]
    for message, wrong in reference._mistakes.items():
        for args, kwargs in cases:
            try:
                answer = wrong(*args, **kwargs)
            except (ValueError, IndexError):
                continue
            try:
                checks.check_array(answer, reference, *args, **kwargs)
            except CheckFailed as failure:
                if head(message) in str(failure):
                    break
        else:
            pytest.fail(f"no case shows the mistake {message!r}")


def test_right_answers_pass(capsys):
    t = checks.exercise("08", 4)
    for reference, args in _number_tasks(t):
        checks.check_number(reference._compute(*args), reference, *args)
    for reference, args in _array_tasks(t):
        checks.check_array(reference._compute(*args), reference, *args)
    checks.check_function(lambda k: np.outer(*cl.separable_factors(k)), checks.RANK1_KERNEL)
    checks.check_function(checks.DWS_CONV._compute, checks.DWS_CONV)
    assert capsys.readouterr().out.count("✓") == 12


def test_the_why_digests_and_hints():
    assert checks.digest("c") == checks.WHY_DWS
    for option in "abd":
        assert checks.digest(option) in checks.WHY_DWS_HINTS
    text = failure(checks.check_choice, "d", checks.WHY_DWS, name="why",
                    hints=checks.WHY_DWS_HINTS)
    assert "ANY one" in text


def test_the_task_kernels_are_one_of_each_rank():
    for seed in SEEDS:
        t = checks.exercise("08", seed)
        assert sorted(cl.kernel_rank(k) for k in t.kernels) == [1, 2, 3]
        assert cl.kernel_rank(t.error_kernel) == 3
        assert t.layer["c_in"] != t.layer["c_out"] and t.layer["stride"] == 2
