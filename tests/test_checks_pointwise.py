"""convlab.checks.pointwise (chapter 04): every mistake of the chapter is named, right answers
pass, the answer never shows, and every course seed gives well-posed tasks."""

import numpy as np
import pytest
from checking import failure, head

import convlab as cl
from convlab import checks
from convlab.checks import CheckFailed, pointwise

SEEDS = range(21)




# --- the references compute the right thing -----------------------------------------------------


def test_conv1x1_is_a_matrix_product_over_the_channels():
    rng = np.random.default_rng(0)
    x, w, b = rng.normal(size=(2, 5, 4, 3)), rng.normal(size=(3, 5, 1, 1)), rng.normal(size=3)
    loops = np.zeros((2, 3, 4, 3))
    for n in range(2):
        for r in range(4):
            for c in range(3):
                loops[n, :, r, c] = w[:, :, 0, 0] @ x[n, :, r, c] + b
    assert np.allclose(checks.CONV1X1._compute(x, w, b), loops)


def test_a_dense_layer_on_a_k_by_k_map_is_a_k_by_k_convolution():
    rng = np.random.default_rng(1)
    x, w_fc, b = rng.normal(size=(3, 4, 5, 5)), rng.normal(size=(6, 100)), rng.normal(size=6)
    conv = cl.conv2d(x, w_fc.reshape(6, 4, 5, 5), b)
    assert conv.shape == (3, 6, 1, 1)
    assert np.allclose(checks.DENSE_AS_CONV._compute(x, w_fc, b), conv[:, :, 0, 0])


def test_the_classic_bottleneck_costs():
    macs, params = checks.BOTTLENECK_MACS._compute, checks.BOTTLENECK_PARAMS._compute
    assert macs(192, 32, 5, 28, padding=2) == 28 * 28 * 32 * 5 * 5 * 192 == 120_422_400
    assert macs(192, 32, 5, 28, padding=2, c_mid=16) == (
        28 * 28 * 16 * 192 + 28 * 28 * 32 * 5 * 5 * 16) == 12_443_648
    assert params(192, 32, 5, 28, padding=2) == 32 * 192 * 25 + 32
    assert params(192, 32, 5, 28, padding=2, c_mid=16) == 16 * 192 + 16 + 32 * 16 * 25 + 32
    # strided: the reduction runs at full resolution, the k x k layer at half
    assert macs(64, 32, 3, 8, stride=2, padding=1, c_mid=8) == 8 * 8 * 8 * 64 + 4 * 4 * 32 * 9 * 8


# --- every listed mistake is recognised ---------------------------------------------------------


def _array_cases(reference, n=300):
    rng = np.random.default_rng(0)
    return list(reference.examples) + [reference.cases(rng, ()) for _ in range(n)]


@pytest.mark.parametrize(
    ("reference", "message"),
    [(ref, m) for ref in (checks.CONV1X1, checks.DENSE_AS_CONV) for m in ref._mistakes],
    ids=lambda v: v[:40] if isinstance(v, str) else v.name[:20])
def test_every_array_mistake_is_diagnosed(reference, message):
    wrong = reference._mistakes[message]
    for args, kwargs in _array_cases(reference):
        try:
            answer = wrong(*args, **kwargs)
        except (ValueError, IndexError):
            continue
        try:
            checks.check_array(answer, reference, *args, **kwargs)
        except CheckFailed as failure:
            if head(message) in str(failure):
                return
    pytest.fail(f"no case shows the mistake {message!r}")


def _layer(task):
    args = (task.layer_input_shape[0], task.layer_c_out, task.layer_kernel_size,
            task.layer_input_shape[1])
    return args, {"stride": task.layer_stride, "padding": task.layer_padding}


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("reference", [checks.BOTTLENECK_MACS, checks.BOTTLENECK_PARAMS],
                         ids=["macs", "params"])
def test_every_cost_mistake_is_named_on_every_seed_and_the_answer_never_shows(reference, seed):
    task = checks.exercise("04", seed)
    args, kwargs = _layer(task)
    for c_mid in (None, task.layer_c_mid):
        right = reference._compute(*args, **kwargs, c_mid=c_mid)
        checks.check_number(right, reference, *args, **kwargs, c_mid=c_mid)
        wrongs = set()
        for message, wrong in reference._mistakes.items():
            try:
                answer = wrong(*args, **kwargs, c_mid=c_mid)
            except ValueError:
                assert c_mid is None  # only the bottleneck's own mistakes need a 1x1 layer
                continue
            assert answer != right and answer not in wrongs, message
            wrongs.add(answer)
            said = failure(checks.check_number, answer, reference, *args, **kwargs,
                               c_mid=c_mid)
            assert head(message) in said and str(right) not in said


@pytest.mark.parametrize("seed", SEEDS)
def test_the_shapes_of_the_bottleneck_task_are_well_posed(seed):
    task = checks.exercise("04", seed)
    mid = (task.layer_c_mid,) + task.layer_input_shape[1:]
    right = checks.CONV_SHAPE._compute(mid, task.layer_c_out, task.layer_kernel_size,
                                      stride=task.layer_stride, padding=task.layer_padding)
    for message, wrong in checks.CONV_SHAPE._mistakes.items():
        if "batch" in message:  # the task's shapes are of one image
            continue
        answer = wrong(mid, task.layer_c_out, task.layer_kernel_size, stride=task.layer_stride,
                       padding=task.layer_padding)
        assert answer != right, message
    identity = checks.CONV_SHAPE._mistakes[
        "the output has one channel per filter, not one per input channel"]
    assert identity(task.layer_input_shape, task.layer_c_mid, 1) != mid


# --- one output by hand -------------------------------------------------------------------------


def _written(x, weight, o, pixel, bias=None):
    r, c = pixel
    terms = [f"{x[ch, r, c]:g}*{weight[o, ch, 0, 0]:g}" for ch in range(x.shape[0])]
    return " + ".join(terms) + ("" if bias is None else f" + {bias:g}")


@pytest.mark.parametrize("seed", SEEDS)
def test_by_hand_every_mistake_is_named_on_every_seed(seed, capsys):
    t = checks.exercise("04", seed)
    x, w, b, s, (r, c), o = t.x, t.weight, t.bias, t.stride, t.position, t.out_channel
    value = cl.conv2d(x, w, b, stride=s)[o, r, c]
    right = (s * r, s * c)

    def fails(work, answer=0.0):
        message = failure(checks.check_pixel_work, work, answer, x, w, b, t.position, o, s)
        assert f"{value:g}" not in message.split(":")[-1] or value in (0, 1, 2, 3)
        return message

    checks.check_pixel_work(_written(x, w, o, right, b[o]), value, x, w, b, t.position, o, s)
    assert capsys.readouterr().out.startswith("✓ right")
    assert "as if the stride were 1" in fails(_written(x, w, o, (r, c), b[o]))
    assert f"weights of filter {1 - o}" in fails(_written(x, w, 1 - o, right, b[o]))
    assert f"bias of filter {1 - o}" in fails(_written(x, w, o, right, b[1 - o]))
    assert "bias is missing" in fails(_written(x, w, o, right))
    assert f"window of output ({c}, {r})" in fails(_written(x, w, o, (s * c, s * r), b[o]))
    neighbourhood = " + ".join(
        f"{x[ch, rr, cc]:g}*{w[o, ch, 0, 0]:g}" for ch in range(3)
        for rr in range(max(right[0] - 1, 0), right[0] + 1)
        for cc in range(max(right[1] - 1, 0), right[1] + 1)) + f" + {b[o]:g}"
    if neighbourhood.count("*") > 3:
        assert "not a neighbourhood" in fails(neighbourhood)
    single = f"{x[0, right[0], right[1]]:g}*{w[o, 0, 0, 0]:g} + {b[o]:g}"
    assert "channel 0 only" in fails(single)
    assert "not their sum" in fails(_written(x, w, o, right, b[o]), value + 1)


def test_the_by_hand_task_needs_an_answer():
    t = checks.exercise("04", 0)
    assert "still ..." in failure(checks.check_pixel_work, ..., ..., t.x, t.weight, t.bias,
                                   t.position, t.out_channel, t.stride)


# --- the multiple choice ------------------------------------------------------------------------


def test_the_why_question_has_one_right_option_and_a_hint_for_every_other(capsys):
    checks.check_choice("B", checks.WHY_BOTTLENECK, hints=checks.WHY_BOTTLENECK_HINTS)
    assert capsys.readouterr().out.startswith("✓")
    for option in "acd":
        message = failure(checks.check_choice, option, checks.WHY_BOTTLENECK,
                           hints=checks.WHY_BOTTLENECK_HINTS)
        assert message.split(": ", 1)[1] == checks.WHY_BOTTLENECK_HINTS[checks.digest(option)]


# --- the task data ------------------------------------------------------------------------------


def test_the_task_data_depend_on_the_seed_and_are_registered():
    assert checks.EXERCISES["04"] is pointwise.EXERCISES["04"]
    a, b = checks.exercise("04", 0), checks.exercise("04", 1)
    assert not np.array_equal(a.x, b.x)
    assert np.array_equal(a.x, checks.exercise("04", 0).x)


@pytest.mark.parametrize("seed", SEEDS)
def test_the_bug_demonstration_shows_the_bug(seed):
    t = checks.exercise("04", seed)
    buggy = checks.DENSE_AS_CONV._mistakes[next(iter(checks.DENSE_AS_CONV._mistakes))]
    assert not np.allclose(buggy(t.fc_x, t.fc_weight, t.fc_bias),
                           checks.DENSE_AS_CONV._compute(t.fc_x, t.fc_weight, t.fc_bias))
