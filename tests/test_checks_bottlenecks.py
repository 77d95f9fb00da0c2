"""Chapter 12's checks: the references compute what convlab (and PyTorch) compute, every listed
mistake is named on the chapter's own task data (seeds 0 to 20) without showing the answer, and
every course seed gives well-posed tasks."""

import re

import numpy as np
import pytest
from checking import failure

import convlab as cl
from convlab import checks
from convlab.checks import bottlenecks

SEEDS = range(21)



def _tasks(t):
    """``(reference, kwargs)`` of every number the exercises of a seed ask for."""
    layer = t.layer
    return [
        (checks.GCONV1X1_PARAMS, {k: layer[k] for k in ("c_in", "c_out", "groups")}),
        (checks.GCONV1X1_MACS, layer),
        (checks.UNIT_PARAMS, t.unit),
        (checks.UNIT_MACS, t.unit),
        (checks.POINTWISE_SHARE, t.block),
    ]


# --- the references compute the right thing -------------------------------------------------


def test_the_papers_numbers():
    # ShuffleNet (Zhang et al. 2017): in a ResNeXt block the 1x1 layers take 93.4 % of the MACs
    assert checks.POINTWISE_SHARE._compute(256, 128, 32) == pytest.approx(0.934, abs=5e-4)
    # Table 1's stage-2 widths keep the unit's cost about the same for every g
    macs = [checks.UNIT_MACS._compute(c, g, 28) for g, c in bottlenecks._WIDTHS.items()]
    assert max(macs) / min(macs) < 1.1


def test_the_mistakes_helpers_agree_with_convlab_when_right():
    for c_in, c_out, g, size, s in [(20, 48, 4, 29, 2), (24, 24, 3, 28, 1), (8, 16, 8, 7, 3)]:
        assert bottlenecks._layer(c_in, c_out, g) == checks.GCONV1X1_PARAMS._compute(c_in, c_out, g)
        assert bottlenecks._layer(c_in, c_out, g, size, s, "macs") == \
            checks.GCONV1X1_MACS._compute(c_in, c_out, g, size, s)
    for c, g, size in [(240, 3, 28), (544, 4, 14), (768, 8, 7)]:
        for what, ref in (("params", checks.UNIT_PARAMS), ("macs", checks.UNIT_MACS)):
            assert bottlenecks._unit(c, g, size, what) == ref._compute(c, g, size)
    for c, m, card in [(256, 128, 32), (512, 256, 8)]:
        assert bottlenecks._share_wrong(c, m, card) == pytest.approx(
            checks.POINTWISE_SHARE._compute(c, m, card))


def test_block_by_hand_is_bottleneck_cost():
    rng = np.random.default_rng(4)
    for _ in range(30):
        args, kwargs = checks.BLOCK_MACS.cases(rng, checks.BLOCK_MACS.keywords)
        assert bottlenecks._block(*args, **kwargs) == checks.BLOCK_MACS._compute(*args, **kwargs)


def test_grouped_1x1_by_hand_is_conv2d():
    rng = np.random.default_rng(0)
    for _ in range(20):
        (x, w, g), _kw = checks.GCONV1X1.cases(rng, ())
        assert np.allclose(bottlenecks._grouped_1x1(x, w, g), cl.conv2d(x, w, groups=g))


def test_the_unit_agrees_with_pytorch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    for _ in range(5):
        (x, w1, w_dw, w2, g), _kw = checks.SHUFFLENET_UNIT.cases(rng, ())
        t = {k: torch.from_numpy(v) for k, v in dict(x=x, w1=w1, w_dw=w_dw, w2=w2).items()}
        F = torch.nn.functional
        h = F.channel_shuffle(F.relu(F.conv2d(t["x"], t["w1"], groups=g)), g)
        h = F.conv2d(h, t["w_dw"], padding=1, groups=h.shape[1])
        y = F.relu(F.conv2d(h, t["w2"], groups=g) + t["x"])
        assert np.allclose(checks.SHUFFLENET_UNIT._compute(x, w1, w_dw, w2, g), y.numpy())


# --- the task data of every seed are well posed -----------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
def test_every_mistake_gives_another_answer_on_the_task_data(seed):
    t = checks.exercise("12", seed)
    for reference, kwargs in _tasks(t):
        right = reference._compute(**kwargs)
        for message, wrong in reference._mistakes.items():
            assert wrong(**kwargs) != pytest.approx(right), (seed, reference.name, message)


@pytest.mark.parametrize("seed", SEEDS)
def test_wrong_numbers_are_named_and_the_answer_never_shown(seed):
    t = checks.exercise("12", seed)
    for reference, kwargs in _tasks(t):
        right = reference._compute(**kwargs)
        for message, wrong in reference._mistakes.items():
            value = wrong(**kwargs)
            if reference.integer and float(value).is_integer():
                value = int(value)
            text = failure(checks.check_number, value, reference, name="answer", **kwargs)
            assert message.split("{")[0] in text, (reference.name, message, text)
            if right not in kwargs.values():
                assert not re.search(rf"(?<![\d.]){right:g}(?![\d.])", text.split(":", 1)[1])


def test_right_answers_pass(capsys):
    t = checks.exercise("12", 3)
    for reference, kwargs in _tasks(t):
        checks.check_number(reference._compute(**kwargs), reference, **kwargs)
    assert capsys.readouterr().out.count("✓") == 5


@pytest.mark.parametrize("name", ["BLOCK_MACS", "GCONV1X1", "SHUFFLENET_UNIT"])
def test_every_function_mistake_is_named(name):
    reference = getattr(checks, name)
    for message, wrong in reference._mistakes.items():
        if reference.integer:  # a learner's count is an int
            wrong = (lambda w: lambda *a, **k: int(w(*a, **k)))(wrong)
        text = failure(checks.check_function, wrong, reference)
        assert message.split("{")[0] in text, (message, text)
    checks.check_function(reference._compute, reference)


def test_the_lessons_cases_are_not_asked():
    for seed in SEEDS:
        t = checks.exercise("12", seed)
        assert t.unit["size"] in (7, 14) and (t.block["channels"], t.block["cardinality"]) != (
            256, 32)
