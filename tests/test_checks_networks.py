"""Chapter 15's checks: the references compute what convlab computes, every listed mistake is
named on the chapter's own task data (seeds 0 to 20) without showing the answer, and the
network check tells a standard, a wrongly separated and an untrained network apart."""

import re

import numpy as np
import pytest
from checking import failure

import convlab as cl
from convlab import checks, nn

SEEDS = range(21)



def _number_tasks(t):
    """``(reference, args)`` of every number the exercises of a seed ask for."""
    layer = t.layer
    return [
        (checks.WEIGHT_GRAD_ENTRY, (t.x, t.dout, t.stride, t.index)),
        (checks.INPUT_GRAD_ENTRY, (t.weight, t.dout, t.stride, t.pixel, t.x.shape[1:])),
        (checks.BIAS_GRAD, (t.dout,)),
        (checks.STANDARD_PARAMS, (layer["c_in"], layer["c_out"], 3)),
        (checks.SEPARABLE_PARAMS, (layer["c_in"], layer["c_out"], 3)),
        (checks.SEPARABLE_MACS, tuple(layer.values())),
        (checks.GROUPED_PARAMS, (layer["c_in"], layer["c_out"], 3, t.groups)),
        (checks.NETWORK_SAVING, (t.width,)),
    ]


# --- the references compute the right thing -------------------------------------------------


def test_gradient_entries_are_those_of_autograd_by_finite_differences():
    t = checks.exercise("15", 0)
    x, w = t.x.copy(), t.weight.copy()

    def loss():
        return float(np.sum(cl.conv2d(x[None], w[None], stride=t.stride)[0, 0] * t.dout))

    h = 1e-6
    c, a, b = t.index
    w[c, a, b] += h
    plus = loss()
    w[c, a, b] -= 2 * h
    minus = loss()
    w[c, a, b] += h
    assert checks.WEIGHT_GRAD_ENTRY._compute(x, t.dout, t.stride, t.index) == pytest.approx(
        (plus - minus) / (2 * h), abs=1e-6)
    c, i, j = t.pixel
    x[c, i, j] += h
    plus = loss()
    x[c, i, j] -= 2 * h
    minus = loss()
    x[c, i, j] += h
    assert checks.INPUT_GRAD_ENTRY._compute(w, t.dout, t.stride, t.pixel, x.shape[1:]) == \
        pytest.approx((plus - minus) / (2 * h), abs=1e-6)


def test_costs_are_convlabs_and_the_networks():
    assert checks.SEPARABLE_PARAMS._compute(16, 32, 3) == nn.DepthwiseSeparable(
        16, 32, 3).num_params() == 16 * 9 + 16 + 16 * 32 + 32
    assert checks.SEPARABLE_MACS._compute(16, 32, 3, 8, 1) == nn.DepthwiseSeparable(
        16, 32, 3, padding=1).macs((16, 8, 8)) == 64 * (16 * 9 + 16 * 32)
    assert checks.GROUPED_PARAMS._compute(32, 64, 3, 4) == nn.Conv2d(
        32, 64, 3, groups=4).num_params() == 64 * 8 * 9 + 64
    assert checks.STANDARD_PARAMS._compute(32, 64, 3) == 64 * 32 * 9 + 64
    for width in (8, 12, 16, 24, 32):
        assert checks.NETWORK_SAVING._compute(width) == pytest.approx(
            nn.digits_network("standard", width=width).num_params()
            / nn.digits_network("separable", width=width).num_params(), rel=1e-12)


@pytest.mark.parametrize("ref", ["CONV_INPUT_GRAD", "CONV_WEIGHT_GRAD"])
def test_backward_references_agree_with_loops(ref):
    rng = np.random.default_rng(4)
    for _ in range(30):
        (x, kernel, dout), kwargs = checks.CONV_INPUT_GRAD.cases(rng, ("stride", "padding"))
        s, p = kwargs["stride"], kwargs["padding"]
        xp = np.pad(x, p)
        dx, dw = np.zeros_like(xp), np.zeros_like(kernel)
        kh, kw = kernel.shape
        for r in range(dout.shape[0]):
            for q in range(dout.shape[1]):
                dx[r * s:r * s + kh, q * s:q * s + kw] += dout[r, q] * kernel
                dw += dout[r, q] * xp[r * s:r * s + kh, q * s:q * s + kw]
        dx = dx[p:xp.shape[0] - p, p:xp.shape[1] - p]
        expected = dx if ref == "CONV_INPUT_GRAD" else dw
        assert np.allclose(getattr(checks, ref)._compute(x, kernel, dout, **kwargs), expected)


def test_maxpool_reference_is_nn_maxpool():
    rng = np.random.default_rng(5)
    for _ in range(20):
        (x, dout, k), _ = checks.MAXPOOL_BACKWARD.cases(rng, ())
        layer = nn.MaxPool2d(k)
        layer.forward(x[None, None])
        assert np.allclose(layer.backward(dout[None, None])[0, 0],
                           checks.MAXPOOL_BACKWARD._compute(x, dout, k))


# --- the task data of every seed are well posed -----------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
def test_every_mistake_gives_another_answer_on_the_task_data(seed):
    t = checks.exercise("15", seed)
    assert t.layer["c_in"] % t.groups == 0 and t.layer["c_out"] % t.groups == 0
    for reference, args in _number_tasks(t):
        values = [reference._compute(*args)] + [wrong(*args) for wrong in
                                              reference._mistakes.values()]
        assert len({round(v, 9) for v in values}) == len(values), (seed, reference.name)


@pytest.mark.parametrize("seed", SEEDS)
def test_wrong_numbers_are_named_and_the_answer_never_shown(seed):
    t = checks.exercise("15", seed)
    for reference, args in _number_tasks(t):
        right = reference._compute(*args)
        for message, wrong in reference._mistakes.items():
            text = failure(checks.check_number, wrong(*args), reference, *args, name="answer")
            assert message.split("{")[0] in text, (reference.name, message, text)
            assert not re.search(rf"(?<![\d.]){right:g}(?![\d.])", text.split(":", 1)[1]), text
        checks.check_number(int(right) if reference.integer else right, reference, *args,
                            name="answer")


def test_seed_zero_tasks_differ_from_other_seeds():
    zero = checks.exercise("15", 0)
    others = [checks.exercise("15", s) for s in range(1, 6)]
    for other in others:
        answers = [ref._compute(*args) for ref, args in _number_tasks(other)]
        assert answers != [ref._compute(*args) for ref, args in _number_tasks(zero)]


# --- function references: each mistake named ----------------------------------------------------


def _as_function(wrong):
    return lambda *args, **kwargs: wrong(*args, **kwargs)


@pytest.mark.parametrize("name", ["CONV_INPUT_GRAD", "CONV_WEIGHT_GRAD", "MAXPOOL_BACKWARD"])
def test_function_mistakes_are_named_and_right_passes(name, capsys):
    reference = getattr(checks, name)
    checks.check_function(_as_function(reference._compute), reference, n=30)
    assert "✓" in capsys.readouterr().out
    for message, wrong in reference._mistakes.items():
        text = failure(checks.check_function, _as_function(wrong), reference, n=30)
        assert message.split("{")[0] in text, (name, message, text)


# --- the network check ---------------------------------------------------------------------------


def test_check_network_names_each_wrong_network(capsys):
    x_train, y_train, _, _ = nn.digits_split()
    text = failure(checks.check_network, nn.digits_network("standard", width=8), 8)
    assert "standard convolutions" in text
    first = nn.Sequential(nn.DepthwiseSeparable(1, 4, 3, padding=1),
                          *nn.digits_network("separable", width=8).layers[1:])
    assert "nothing to separate" in failure(checks.check_network, first, 8)
    net = nn.digits_network("separable", width=8)
    assert "train it" in failure(checks.check_network, net, 8)
    assert "should be an nn.Sequential" in failure(checks.check_network, "net", 8)
    nn.train(net, x_train, y_train, epochs=5, optimizer=nn.Adam(net, lr=0.01))
    checks.check_network(net, 8)
    assert "trained" in capsys.readouterr().out
