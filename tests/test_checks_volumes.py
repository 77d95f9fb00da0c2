"""convlab.checks.volumes (chapter 03): the references are right, every mistake of the chapter is
named on the task data of every course seed, the answer never shows."""

import itertools
import re

import numpy as np
import pytest
from checking import failure

import convlab as cl
from convlab import checks
from convlab.checks import CheckFailed

SEEDS = range(21)
torch = pytest.importorskip("torch")



# --- the references compute the right thing -----------------------------------------------------


def test_the_article_example_and_torch():
    x, w = np.ones((1, 1, 4, 4, 4)), np.ones((1, 1, 2, 2, 2))
    assert checks.CONV3D_SHAPE._compute(x.shape, 1, 2) == (1, 1, 3, 3, 3)
    assert checks.INPUT3D_SHAPE._compute((1, 4, 4, 4, 1)) == (1, 1, 4, 4, 4)
    rng = np.random.default_rng(0)
    for _ in range(10):
        (x, w, b), kwargs = checks.CONV3D.cases(rng, ("stride", "padding"))
        want = torch.nn.functional.conv3d(torch.tensor(x[None]), torch.tensor(w),
                                          torch.tensor(b), **kwargs)[0].numpy()
        assert np.allclose(checks.CONV3D._compute(x, w, b, **kwargs), want)
        (clip, w, b), _ = checks.CONV3D_LAST.cases(rng, ())
        y = torch.nn.functional.conv3d(torch.tensor(clip).permute(0, 4, 1, 2, 3),
                                       torch.tensor(w), torch.tensor(b)).permute(0, 2, 3, 4, 1)
        assert np.allclose(checks.CONV3D_LAST._compute(clip, w, b), y.numpy())


@pytest.mark.parametrize("seed", SEEDS)
def test_shapes_and_costs_agree_with_torch(seed):
    t = checks.exercise("03", seed)
    n, d, h, w, c = t.clip_shape
    layer = torch.nn.Conv3d(c, t.c_out, t.kernel_size, stride=t.stride, padding=t.padding)
    out = layer(torch.zeros(n, c, d, h, w))
    assert checks.INPUT3D_SHAPE._compute(t.clip_shape) == (n, c, d, h, w)
    assert checks.WEIGHT3D_SHAPE._compute(c, t.c_out, t.kernel_size, d) == tuple(
        layer.weight.shape)
    args = ((n, c, d, h, w), t.c_out, t.kernel_size)
    assert checks.CONV3D_SHAPE._compute(*args, t.stride, t.padding) == tuple(out.shape)
    assert checks.CLIP3D_SHAPE._compute(t.clip_shape, *args[1:], t.stride, t.padding) == tuple(
        out.shape)
    cost = (c, t.c_out, t.kernel_size, (d, h, w), t.stride, t.padding)
    assert checks.CONV3D_PARAMS._compute(*cost) == sum(p.numel() for p in layer.parameters())
    assert checks.CONV3D_MACS._compute(*cost) == out[0].numel() * c * int(np.prod(t.kernel_size))


# --- every mistake, on every seed's task data, gives another answer and is named ----------------


def _task_cases(seed):
    """``{reference name: (check, args, kwargs)}`` of the tasks of exercises 03 for one seed."""
    t = checks.exercise("03", seed)
    n, d, h, w, c = t.clip_shape
    cost = ((c, t.c_out, t.kernel_size, (d, h, w), t.stride, t.padding), {})
    return {
        "INPUT3D_SHAPE": (checks.check_shape, (t.clip_shape,), {}),
        "WEIGHT3D_SHAPE": (checks.check_shape, (c, t.c_out, t.kernel_size, d), {}),
        "CONV3D_SHAPE": (checks.check_shape, ((n, c, d, h, w), t.c_out, t.kernel_size),
                         {"stride": t.stride, "padding": t.padding}),
        "CLIP3D_SHAPE": (checks.check_shape, (t.clip_shape, t.c_out, t.kernel_size),
                         {"stride": t.stride, "padding": t.padding}),
        "CONV3D_PARAMS": (checks.check_number, *cost),
        "CONV3D_MACS": (checks.check_number, *cost),
    }


TASK_REFERENCES = ["INPUT3D_SHAPE", "WEIGHT3D_SHAPE", "CONV3D_SHAPE", "CLIP3D_SHAPE",
                   "CONV3D_PARAMS", "CONV3D_MACS"]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", TASK_REFERENCES)
def test_every_mistake_gives_its_own_answer_and_is_named(name, seed):
    check, args, kwargs = _task_cases(seed)[name]
    reference = getattr(checks, name)
    right = reference._compute(*args, **kwargs)
    answers = {}
    for message, wrong in reference._mistakes.items():
        answer = wrong(*args, **kwargs)
        assert answer != right, (seed, message)
        # two mistakes giving one answer would name only the first of them
        assert answer not in answers.values(), (seed, message, answers)
        answers[message] = answer
        said = failure(check, answer, reference, *args, **kwargs)
        assert message.split("{")[0] in said, (seed, said)
        shown = str(right)
        assert shown not in said.replace(str(answer), ""), (seed, said)


def _mistaken_arrays():
    for name in ("CONV3D", "CONV3D_LAST"):
        for message in getattr(checks, name)._mistakes:
            yield name, message


@pytest.mark.parametrize(("name", "message"), list(_mistaken_arrays()),
                         ids=[f"{n}: {m[:40]}" for n, m in _mistaken_arrays()])
def test_every_mistake_of_an_implementation_is_named(name, message):
    reference = getattr(checks, name)
    wrong = reference._mistakes[message]

    def learner(*args, **kwargs):
        return wrong(*args, **kwargs)

    with pytest.raises(CheckFailed) as info:
        checks.check_function(learner, reference, n=30, seed=1)
    assert message.split("{")[0] in str(info.value), str(info.value)


def test_a_right_implementation_passes():
    def conv3d_loops(x, weight, bias, stride=1, padding=0):
        xp = np.pad(x, ((0, 0),) + ((padding, padding),) * 3)
        c_out, _, kd, kh, kw = weight.shape
        out = cl.conv_output_size(x.shape[1:], (kd, kh, kw), stride, padding)
        y = np.zeros((c_out, *out))
        for o, t, i, j in itertools.product(range(c_out), *map(range, out)):
            window = xp[:, t * stride:t * stride + kd, i * stride:i * stride + kh,
                        j * stride:j * stride + kw]
            y[o, t, i, j] = np.sum(window * weight[o]) + bias[o]
        return y

    checks.check_function(conv3d_loops, checks.CONV3D, n=30, yourself=False)

    def channels_last(clip, weight, bias):
        y = cl.conv3d(clip.transpose(0, 4, 1, 2, 3), weight, bias)
        return y.transpose(0, 2, 3, 4, 1)

    checks.check_function(channels_last, checks.CONV3D_LAST, n=20)


# --- one output by hand --------------------------------------------------------------------------


def _work(x, kernel, corner, bias=None):
    d, h, w = corner
    kd, kh, kw = kernel.shape[1:]
    window = x[:, d:d + kd, h:h + kh, w:w + kw]
    terms = " + ".join(f"{a:g}*{b:g}" for a, b in zip(window.ravel(), kernel.ravel()))
    value = float(np.sum(window * kernel))
    if bias:
        terms += f" + {bias:g}"
        value += bias
    return terms, value


@pytest.mark.parametrize("seed", SEEDS)
def test_by_hand_every_mistake_is_named_on_every_seed(seed):
    t = checks.exercise("03", seed)
    x, k, b, s, (dd, r, c) = t.x, t.weight, t.bias, t.by_hand_stride, t.position
    corner = (dd * s, r * s, c * s)
    work, value = _work(x, k, corner, b)
    checks.check_work3d(work, value, x, k, t.position, b, s)
    right = float(cl.conv3d(x, k[None], np.array([b]), stride=s)[(0, *t.position)])
    assert value == right

    wrong = {
        "as if the layer had stride 1 along the depth": _work(x, k, (dd, r * s, c * s), b),
        "placed as if the stride were 1": _work(x, k, (dd, r, c), b),
        "reverse order": _work(x, np.flip(k, 1), corner, b),
        "kernel flipped": _work(x, np.flip(k, (1, 2, 3)), corner, b),
        "one slice of the window only": _work(x[:, corner[0]:corner[0] + 1],
                                              k[:, :1], (0, *corner[1:]), b),
        "channel 0 only": _work(x[:1], k[:1], corner, b),
        "channel 1 only": _work(x[1:], k[1:], corner, b),
        "bias is missing": _work(x, k, corner),
    }
    assert r != c
    wrong["row"] = _work(x, k, (corner[0], corner[2], corner[1]), b)
    for words, (work, value) in wrong.items():
        said = failure(checks.check_work3d, work, value, x, k, t.position, b, s)
        assert words in said, (seed, words, said)
        assert not re.search(rf"= ?{right:g}\b", said), said
    said = failure(checks.check_work3d, *(_work(x, k, corner, b)[0], right + 1), x, k,
                       t.position, b, s)
    assert "value is not their sum" in said


@pytest.mark.parametrize("seed", SEEDS)
def test_the_task_data_are_well_posed(seed):
    t = checks.exercise("03", seed)
    assert t.x.shape == (2, 4, 4, 4) and t.weight.shape == (2, 2, 2, 2) and t.bias != 0
    assert cl.conv_output_size(4, 2, 2) == 2 and t.position[0] == 1
    n, d, h, w, c = t.clip_shape
    assert len({d, h, w, c}) >= 3 and c != t.kernel_size[0]
    assert checks.exercise("03", seed).clip_shape == t.clip_shape  # the seed fixes the data


def test_by_hand_with_stride_1_a_window_one_slice_off_is_named():
    x = np.arange(1, 37, dtype=float).reshape(1, 4, 3, 3)
    k = np.array([[[[1, 2], [0, -1]], [[3, 0], [1, 1]]]], dtype=float)
    checks.check_work3d(*_work(x, k, (1, 0, 0)), x, k, (1, 0, 0))
    for corner in ((0, 0, 0), (2, 0, 0)):
        said = failure(checks.check_work3d, *_work(x, k, corner), x, k, (1, 0, 0))
        assert "one slice off in depth" in said
    said = failure(checks.check_work3d, *_work(x, k, (1, 0, 0), 2), x, k, (1, 0, 0))
    assert "extra term" in said
