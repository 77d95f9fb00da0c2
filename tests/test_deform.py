"""convlab.deform: torchvision's saved outputs, hand-checked samples, and the properties."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_conv import examples

import convlab as cl

DATA = Path(__file__).with_name("data")
with np.load(DATA / "deform_torchvision.npz") as _npz:
    FIXTURE = dict(_npz)  # "case07_offset": case 7's offset, written by make_deform_fixture.py
CASE_NAMES = sorted({key.split("_")[0] for key in FIXTURE})


def _fixture_case(name):
    case = {key.split("_", 1)[1]: value for key, value in FIXTURE.items()
            if key.startswith(name + "_")}
    sh, sw, ph, pw, dh, dw = (int(p) for p in case.pop("params"))
    kwargs = {"stride": (sh, sw), "padding": (ph, pw), "dilation": (dh, dw)}
    return case, kwargs


def _call(fn, case, kwargs):
    return fn(case["input"], case["offset"], case["weight"], case.get("bias"),
              mask=case.get("mask"), **kwargs)


# --- torchvision -------------------------------------------------------------------------------


def test_the_fixture_covers_masks_groups_offset_groups_and_far_offsets():
    cases = [_fixture_case(name)[0] for name in CASE_NAMES]
    assert len(cases) == 20
    assert sum("mask" in c for c in cases) == 10
    assert any(c["input"].shape[1] // c["weight"].shape[1] > 1 for c in cases)  # groups
    kernel_taps = [c["weight"].shape[2] * c["weight"].shape[3] for c in cases]
    assert any(c["offset"].shape[1] > 2 * k for c, k in zip(cases, kernel_taps))  # offset groups
    assert any(np.abs(c["offset"]).max() > max(c["input"].shape[2:]) for c in cases)


@pytest.mark.parametrize("name", CASE_NAMES)
@pytest.mark.parametrize("fn", [cl.deform_conv2d, cl.deform_conv2d_loops])
def test_matches_torchvisions_saved_outputs(fn, name):
    case, kwargs = _fixture_case(name)
    np.testing.assert_allclose(_call(fn, case, kwargs), case["output"], rtol=1e-12, atol=1e-12)


def _importable_torchvision():
    """torchvision, or a skip: beside a torch it was not built for it fails with any error."""
    try:
        import torch
        from torchvision.ops import deform_conv2d
    except Exception as error:  # noqa: BLE001
        pytest.skip(f"torchvision is not usable here: {error!r}")
    return torch, deform_conv2d


def test_matches_torchvision_on_random_cases_when_it_is_importable():
    _importable_torchvision()
    spec = importlib.util.spec_from_file_location("make_deform_fixture",
                                                  DATA / "make_deform_fixture.py")
    maker = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(maker)
    rng = np.random.default_rng(11)
    for index in range(100):
        case = maker.random_case(rng, index)
        kwargs = maker.arguments(case)
        np.testing.assert_allclose(_call(cl.deform_conv2d, case, kwargs),
                                   maker.torchvision_output(case), rtol=1e-12, atol=1e-12)
        case32 = {k: v.astype(np.float32) if k != "params" else v for k, v in case.items()}
        got = _call(cl.deform_conv2d, case32, kwargs)
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, maker.torchvision_output(case32), rtol=1e-4, atol=1e-4)


# --- bilinear sampling by hand -----------------------------------------------------------------


def _sample(image, dy, dx):
    """A 1x1 deformable convolution with weight 1: ``image`` read at ``(dy, dx)`` from (0, 0)."""
    image = np.asarray(image, dtype=float)
    h, w = image.shape
    offset = np.zeros((2, h, w))
    offset[0], offset[1] = dy, dx
    return cl.deform_conv2d(image[None], offset, np.ones((1, 1, 1, 1)))[0, 0, 0]


@pytest.mark.parametrize("dy, dx, expected", [
    (0.5, 0.5, (1 + 2 + 3 + 4) / 4),  # the middle of the four pixels
    (0.25, 0, 0.75 * 1 + 0.25 * 3),
    (0, 0.75, 0.25 * 1 + 0.75 * 2),
    (-0.5, 0, 0.5 * 1),  # the neighbour above is outside: it reads 0
    (-1, 0, 0),  # y <= -1 reads nothing
    (-0.999, 0, 0.001 * 1),
    (1.5, 0, 0.5 * 3),  # below the last row, inside y < H
    (2, 0, 0),  # y >= H reads nothing
    (1, 1, 4),
    (0.5, -3, 0),
])
def test_bilinear_sample_of_a_2x2_image(dy, dx, expected):
    assert _sample([[1, 2], [3, 4]], dy, dx) == pytest.approx(expected, abs=1e-15)


def test_one_fractional_offset_by_hand_with_a_3x3_kernel():
    """Output (0, 0) of a 3x3 kernel on a 4x4 ramp, tap (1, 1) moved by (0.5, -0.25)."""
    x = np.arange(16.0).reshape(1, 4, 4)  # x[r, c] = 4r + c, so bilinear reads 4y + x exactly
    w = np.zeros((1, 1, 3, 3))
    w[0, 0, 1, 1] = 2.0
    offset = np.zeros((18, 2, 2))
    offset[2 * 4, 0, 0], offset[2 * 4 + 1, 0, 0] = 0.5, -0.25  # tap k = 1*3 + 1 = 4
    y = cl.deform_conv2d(x, offset, w)
    assert y[0, 0, 0] == 2.0 * (4 * 1.5 + 0.75)
    assert y[0, 1, 1] == 2.0 * (4 * 2 + 2)  # untouched taps read the regular grid


# --- properties --------------------------------------------------------------------------------


@st.composite
def deform_args(draw, max_size=6):
    """``(input, offset, weight, bias, mask, kwargs)`` for one random valid call."""
    ints = st.integers
    groups, offset_groups = draw(ints(1, 2)), draw(ints(1, 2))
    c_in = groups * offset_groups * draw(ints(1, 2))
    c_out = groups * draw(ints(1, 2))
    kh, kw = draw(ints(1, 3)), draw(ints(1, 3))
    stride, padding, dilation = (draw(ints(1, 2)), draw(ints(1, 2))), \
        (draw(ints(0, 1)), draw(ints(0, 1))), (draw(ints(1, 2)), draw(ints(1, 2)))
    spans = [d * (k - 1) + 1 for d, k in zip(dilation, (kh, kw))]
    size = [draw(ints(max(1, s - 2 * p), max(1, s - 2 * p) + max_size - 1))
            for s, p in zip(spans, padding)]
    out = [(i + 2 * p - s) // st_ + 1 for i, p, s, st_ in zip(size, padding, spans, stride)]
    n = draw(ints(1, 2))
    rng = np.random.default_rng(draw(ints(0, 2**32 - 1)))
    x = rng.normal(size=(n, c_in, *size))
    offset = rng.normal(scale=2.0, size=(n, 2 * offset_groups * kh * kw, *out))
    w = rng.normal(size=(c_out, c_in // groups, kh, kw))
    bias = rng.normal(size=c_out) if draw(st.booleans()) else None
    mask = rng.uniform(size=(n, offset_groups * kh * kw, *out)) if draw(st.booleans()) else None
    kwargs = {"stride": stride, "padding": padding, "dilation": dilation}
    return x, offset, w, bias, mask, kwargs


@examples(30)
@given(deform_args())
def test_fast_path_equals_the_loops(args):
    x, offset, w, bias, mask, kwargs = args
    np.testing.assert_allclose(cl.deform_conv2d(x, offset, w, bias, mask=mask, **kwargs),
                               cl.deform_conv2d_loops(x, offset, w, bias, mask=mask, **kwargs),
                               rtol=1e-12, atol=1e-12)


@examples(40)
@given(deform_args())
def test_zero_offsets_give_conv2d(args):
    x, offset, w, bias, _, kwargs = args
    np.testing.assert_allclose(
        cl.deform_conv2d(x, np.zeros_like(offset), w, bias, **kwargs),
        cl.conv2d(x, w, bias, groups=x.shape[1] // w.shape[1], **kwargs), rtol=1e-12, atol=1e-12)


def _shift(x, dy, dx):
    """``shifted[..., r, c] = x[..., r + dy, c + dx]``, zero where that falls outside; |d| <= 3."""
    h, w = x.shape[2:]
    return np.pad(x, ((0, 0), (0, 0), (3, 3), (3, 3)))[..., 3 + dy:3 + dy + h, 3 + dx:3 + dx + w]


@examples(40)
@given(deform_args(), st.integers(-3, 3), st.integers(-3, 3))
def test_an_integer_offset_field_is_conv2d_of_the_shifted_input(args, dy, dx):
    x, offset, w, bias, _, kwargs = args
    field = np.zeros_like(offset)
    field[:, 0::2], field[:, 1::2] = dy, dx
    ph, pw = kwargs.pop("padding")
    padded = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    np.testing.assert_allclose(
        cl.deform_conv2d(x, field, w, bias, padding=(ph, pw), **kwargs),
        cl.conv2d(_shift(padded, dy, dx), w, bias, groups=x.shape[1] // w.shape[1], **kwargs),
        atol=1e-12)


@examples(30)
@given(deform_args(), st.floats(-2, 2), st.floats(-2, 2))
def test_the_mask_modulates_linearly_and_ones_change_nothing(args, a, b):
    x, offset, w, _, mask, kwargs = args
    ones = np.ones((offset.shape[0], offset.shape[1] // 2, *offset.shape[2:]))
    m1 = np.random.default_rng(0).uniform(size=ones.shape)
    m2 = ones if mask is None else mask

    def deform(m):
        return cl.deform_conv2d(x, offset, w, mask=m, **kwargs)

    np.testing.assert_allclose(deform(ones), deform(None), rtol=1e-14, atol=1e-14)
    np.testing.assert_allclose(deform(a * m1 + b * m2), a * deform(m1) + b * deform(m2),
                               rtol=1e-10, atol=1e-10)
    np.testing.assert_array_equal(deform(np.zeros_like(ones)), 0)


def test_offset_groups_move_their_own_channels_only():
    """Two offset groups: a shift in group 1's field changes only what its channels read."""
    rng = np.random.default_rng(7)
    x = rng.normal(size=(1, 2, 6, 6))
    w = np.zeros((2, 1, 3, 3))
    w[:, 0, 1, 1] = 1.0  # groups = 2: output c reads input c through the centre tap
    offset = np.zeros((1, 2 * 2 * 9, 4, 4))
    offset[0, 18 + 2 * 4] = 1.0  # offset group 1, tap 4, dy = 1
    y = cl.deform_conv2d(x, offset, w)
    np.testing.assert_array_equal(y[0, 0], x[0, 0, 1:5, 1:5])
    np.testing.assert_array_equal(y[0, 1], x[0, 1, 2:6, 1:5])


def test_unbatched_float32_and_no_side_effects():
    rng = np.random.default_rng(8)
    x, w = rng.normal(size=(2, 5, 5)), rng.normal(size=(3, 2, 3, 3))
    offset, mask = rng.normal(size=(18, 3, 3)), rng.uniform(size=(9, 3, 3))
    copies = [a.copy() for a in (x, w, offset, mask)]
    y = cl.deform_conv2d(x, offset, w, mask=mask)
    np.testing.assert_allclose(y, cl.deform_conv2d(x[None], offset[None], w,
                                                   mask=mask[None])[0])
    np.testing.assert_allclose(y, cl.deform_conv2d_loops(x, offset, w, mask=mask))
    for a, c in zip((x, w, offset, mask), copies):
        np.testing.assert_array_equal(a, c)
        assert not np.shares_memory(y, a)
    y32 = cl.deform_conv2d(*(a.astype(np.float32) for a in (x, offset, w)),
                           mask=mask.astype(np.float32))
    assert y32.dtype == np.float32
    np.testing.assert_allclose(y32, y, rtol=1e-4, atol=1e-5)


def test_an_empty_batch_gives_an_empty_output():
    y = cl.deform_conv2d(np.ones((0, 4, 5, 5)), np.zeros((0, 18, 3, 3)), np.ones((2, 4, 3, 3)),
                         mask=np.ones((0, 9, 3, 3)))
    assert y.shape == (0, 2, 3, 3)


# --- the sampling points -----------------------------------------------------------------------


def test_sampling_points_with_zero_offsets_are_the_convolution_taps():
    points = cl.deform_sampling_points(np.zeros((1, 2 * 3 * 2, 2, 3)), (3, 2), stride=(2, 1),
                                       padding=(1, 0), dilation=(1, 2))
    assert points.shape == (1, 1, 2, 3, 6, 2)
    for oh, ow, i, j in np.ndindex(2, 3, 3, 2):
        assert tuple(points[0, 0, oh, ow, i * 2 + j]) == (oh * 2 - 1 + i, ow + 2 * j)


def test_sampling_points_add_the_offsets_dy_dx_pairs_per_group():
    rng = np.random.default_rng(9)
    offset = rng.normal(size=(2, 2 * 2 * 4, 3, 3)).astype(np.float32)
    points = cl.deform_sampling_points(offset, 2)
    grid = cl.deform_sampling_points(np.zeros_like(offset), 2)
    assert points.dtype == np.float32 and points.shape == (2, 2, 3, 3, 4, 2)
    # group g, tap k: dy at channel g*8 + 2k, dx at g*8 + 2k + 1
    np.testing.assert_allclose(points[1, 1, 2, 0, 3] - grid[1, 1, 2, 0, 3],
                               offset[1, [8 + 6, 8 + 7], 2, 0], rtol=1e-6)
    assert cl.deform_sampling_points(offset[0], 2).shape == (2, 3, 3, 4, 2)


# --- messages ----------------------------------------------------------------------------------


def _good(**changes):
    """A valid call's arguments (input (2, 4, 5, 5), 3x3 kernel, output (2, 2, 3, 3)), changed."""
    args = {"input": np.ones((2, 4, 5, 5)), "offset": np.zeros((2, 18, 3, 3)),
            "weight": np.ones((2, 4, 3, 3)), "bias": None, "mask": None}
    args.update(changes)
    return args


@pytest.mark.parametrize("fn", [cl.deform_conv2d, cl.deform_conv2d_loops])
@pytest.mark.parametrize("changes, message", [
    ({"offset": np.zeros((2, 17, 3, 3))},
     r"offset has 17 channels but a 3x3 kernel needs 2\*3\*3 = 18 per offset group"),
    ({"offset": np.zeros((2, 18, 4, 3))},
     r"offset has spatial size \(4, 3\) but the convolution produces an output of size \(3, 3\)"),
    ({"offset": np.zeros((2, 54, 3, 3))},
     (r"offset has 54 channels, 3 offset groups of 2\*3\*3, but offset_groups=3 must divide "
      r"C_in=4")),
    ({"offset": np.zeros((1, 18, 3, 3))}, r"offset has batch size 1 but input has 2"),
    ({"offset": np.zeros((18, 3, 3))},
     r"offset must be 4-D \(N, 2\*offset_groups\*kh\*kw, H_out, W_out\) like the batched input"),
    ({"mask": np.ones((2, 8, 3, 3))},
     (r"mask must have shape \(N, offset_groups\*kh\*kw, H_out, W_out\) = \(2, 9, 3, 3\), "
      r"got \(2, 8, 3, 3\)")),
    ({"weight": np.ones((2, 3, 3, 3))},
     r"input has 4 channels, not a multiple of weight.shape\[1\] = 3"),
    ({"weight": np.ones((3, 2, 3, 3))}, r"groups=2 must divide C_out=3"),
    ({"weight": np.ones((2, 4, 3))}, r"weight must be 4-D"),
    ({"weight": np.ones((2, 4, 6, 3)), "offset": np.zeros((2, 36, 0, 3))},
     r"the kernel spans 6 along H but the padded input is only 5 long"),
    ({"bias": np.ones(3)}, r"bias must have shape \(2,\)"),
    ({"input": np.ones((5, 5))}, r"input must be 3-D \(C, H, W\) or 4-D \(N, C, H, W\)"),
])
def test_bad_arguments_are_explained(fn, changes, message):
    with pytest.raises(ValueError, match=rf"^{fn.__name__}: {message}"):
        fn(**_good(**changes))


@pytest.mark.parametrize("kwargs, message", [
    ({"stride": 0}, r"stride must be >= 1, got 0"),
    ({"padding": -1}, r"padding must be >= 0, got -1"),
    ({"padding": "same"}, r"padding must be an int or a tuple of 2 ints, got 'same'"),
    ({"dilation": (1, 2, 1)}, r"dilation must be an int or a tuple of 2 ints"),
])
def test_bad_hyperparameters_are_explained(kwargs, message):
    with pytest.raises(ValueError, match=rf"^deform_conv2d: {message}"):
        cl.deform_conv2d(**_good(), **kwargs)


def test_non_numeric_data_is_a_type_error():
    with pytest.raises(TypeError, match=r"deform_conv2d: offset must hold real numbers"):
        cl.deform_conv2d(**_good(offset=np.full((2, 18, 3, 3), "a")))


def test_sampling_points_explain_bad_arguments():
    with pytest.raises(ValueError, match=r"^deform_sampling_points: offset has 10 channels but "
                                         r"a 2x2 kernel needs 2\*2\*2 = 8 per offset group"):
        cl.deform_sampling_points(np.zeros((10, 3, 3)), 2)
    with pytest.raises(ValueError, match=r"^deform_sampling_points: kernel_size must be >= 1"):
        cl.deform_sampling_points(np.zeros((8, 3, 3)), 0)


# --- non-finite values, as torchvision's kernel treats them ------------------------------------


@pytest.mark.parametrize("fn", [cl.deform_conv2d, cl.deform_conv2d_loops])
def test_a_point_outside_the_image_reads_no_pixel(fn):
    """A NaN at pixel (0, 0) reaches the outputs whose taps read it, as in conv2d: not every
    output with a tap in the padding."""
    x = np.random.default_rng(20).random((1, 2, 6, 6))
    x[0, 0, 0, 0] = np.nan
    w = np.ones((3, 2, 3, 3))
    y = fn(x, np.zeros((1, 18, 6, 6)), w, padding=1)
    np.testing.assert_array_equal(np.isnan(y), np.isnan(cl.conv2d(x, w, padding=1)))
    assert np.isnan(y).sum() == 3 * 4


@pytest.mark.parametrize("fn", [cl.deform_conv2d, cl.deform_conv2d_loops])
def test_a_nan_offset_gives_nan_where_torchvision_does(fn):
    """torchvision: a point with a NaN coordinate samples NaN, unless its other coordinate
    already puts it outside the image (then it reads 0); an infinite offset is outside."""
    rng = np.random.default_rng(21)
    x, w = rng.random((1, 2, 5, 5)), rng.random((2, 2, 3, 3))
    offset = rng.random((1, 18, 3, 3))
    offset[0, 2 * 4, 1, 2] = np.nan  # tap 4's dy at output (1, 2)
    offset[0, 2 * 7 + 1, 0, 0] = np.nan  # tap 7's dx at output (0, 0) ...
    offset[0, 2 * 7, 0, 0] = 50.0  # ... whose dy moves it below the image
    offset[0, 2 * 2 + 1, 2, 1] = -np.inf  # tap 2 at output (2, 1): left of the image
    y = fn(x, offset, w)
    want = np.zeros(y.shape, bool)
    want[0, :, 1, 2] = True
    np.testing.assert_array_equal(np.isnan(y), want)
    far = offset.copy()
    far[0, 2 * 7 + 1, 0, 0], far[0, 2 * 2 + 1, 2, 1] = 0.0, -1e6  # outside all the same
    np.testing.assert_allclose(y[~want], fn(x, far, w)[~want], rtol=1e-12)
    mask = rng.random((1, 9, 3, 3))
    mask[0, 7, 2, 2] = np.nan  # a NaN mask multiplies its sample, whatever it is
    assert np.isnan(fn(x, offset, w, mask=mask)[0, :, 2, 2]).all()


@pytest.mark.parametrize("fn", [cl.deform_conv2d, cl.deform_conv2d_loops])
def test_the_mask_multiplies_the_whole_sample(fn):
    """torchvision: ``mask * (w1*v1 + ... + w4*v4)``; an infinite mask never meets the zero of a
    neighbour outside the image on its own (inf * 0 would be NaN)."""
    offset = np.zeros((1, 2, 1, 1))
    offset[0, :, 0, 0] = 0.5, 1.5  # (0.5, 1.5) in a 2x2 image: its right neighbours are outside
    y = fn(np.ones((1, 1, 2, 2)), offset, np.ones((1, 1, 1, 1)), stride=2,
           mask=np.full((1, 1, 1, 1), np.inf))
    assert y[0, 0, 0, 0] == np.inf


# --- the backward pass -------------------------------------------------------------------------


def _loss(g, x, offset, w, bias, mask, kwargs):
    return float(np.sum(g * cl.deform_conv2d(x, offset, w, bias, mask=mask, **kwargs)))


def _numerical(f, arr, eps=1e-6):
    """Central differences of the scalar ``f(a)`` w.r.t. every entry of ``arr``."""
    grad = np.zeros_like(arr)
    for i in np.ndindex(arr.shape):
        up, down = arr.copy(), arr.copy()
        up[i] += eps
        down[i] -= eps
        grad[i] = (f(up) - f(down)) / (2 * eps)
    return grad


@examples(15)
@given(deform_args(max_size=4))
def test_backward_agrees_with_finite_differences(args):
    x, offset, w, bias, mask, kwargs = args
    rng = np.random.default_rng(0)
    offset = offset + 0.01 * np.sign(offset)  # keep points off the integer kinks
    g = rng.normal(size=cl.deform_conv2d(x, offset, w, bias, mask=mask, **kwargs).shape)
    grads = cl.deform_conv2d_backward(g, x, offset, w, bias, mask=mask, **kwargs)
    named = {"input": x, "offset": offset, "weight": w, "bias": bias, "mask": mask}
    for name, value in named.items():
        if value is None:
            assert getattr(grads, name) is None
            continue

        def f(changed, name=name):
            call = dict(named, **{name: changed})
            return _loss(g, call["input"], call["offset"], call["weight"], call["bias"],
                         call["mask"], kwargs)

        got = getattr(grads, name)
        assert got.shape == value.shape, name
        np.testing.assert_allclose(got, _numerical(f, value), rtol=1e-5, atol=1e-6,
                                   err_msg=name)


def test_backward_of_a_ramp_by_hand():
    """On x[r, c] = 4r + c bilinear sampling is exact: the offset gradient is the slope (4, 1)
    times weight and mask, wherever the point is inside the image with all four neighbours."""
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    offset = np.zeros((1, 2, 2, 2))
    offset[0, 0], offset[0, 1] = 0.3, 0.6
    mask = np.full((1, 1, 2, 2), 0.5)
    grads = cl.deform_conv2d_backward(np.ones((1, 1, 2, 2)), x, offset, np.full((1, 1, 1, 1), 2.0),
                                      stride=2, mask=mask)
    np.testing.assert_allclose(grads.offset[0, 0], 2.0 * 0.5 * 4)
    np.testing.assert_allclose(grads.offset[0, 1], 2.0 * 0.5 * 1)
    np.testing.assert_allclose(grads.mask[0, 0], 2.0 * (4 * np.array([0.3, 2.3])[:, None]
                                                        + np.array([0.6, 2.6])))
    # each of the four samples spreads 2 * 0.5 over its neighbours by the bilinear weights
    assert grads.input.sum() == pytest.approx(4 * 1.0)
    assert grads.input[0, 0, 0, 0] == pytest.approx(0.7 * 0.4)


def test_backward_a_point_outside_passes_no_gradient():
    x = np.random.default_rng(1).normal(size=(1, 1, 3, 3))
    offset = np.zeros((1, 2, 3, 3))
    offset[0, 0, 1, 1] = 5.0  # output (1, 1) reads below the image
    grads = cl.deform_conv2d_backward(np.ones((1, 1, 3, 3)), x, offset, np.ones((1, 1, 1, 1)),
                                      mask=np.ones((1, 1, 3, 3)))
    assert grads.offset[0, :, 1, 1].tolist() == [0.0, 0.0]
    assert grads.mask[0, 0, 1, 1] == 0.0
    assert grads.input[0, 0, 1, 1] == 0.0  # nobody reads the centre any more


def test_backward_unbatched_and_float32():
    rng = np.random.default_rng(2)
    x, w = rng.normal(size=(2, 5, 5)), rng.normal(size=(3, 2, 3, 3))
    offset, mask, g = rng.normal(size=(18, 3, 3)), rng.uniform(size=(9, 3, 3)), \
        rng.normal(size=(3, 3, 3))
    one = cl.deform_conv2d_backward(g, x, offset, w, np.zeros(3), mask=mask)
    batched = cl.deform_conv2d_backward(g[None], x[None], offset[None], w, np.zeros(3),
                                        mask=mask[None])
    for a, b in zip(one, batched):
        np.testing.assert_allclose(a, b[0] if a.ndim == b.ndim - 1 else b)
    low = cl.deform_conv2d_backward(*(a.astype(np.float32) for a in (g, x, offset, w)),
                                    mask=mask.astype(np.float32))
    assert low.input.dtype == low.offset.dtype == low.weight.dtype == np.float32
    np.testing.assert_allclose(low.offset, one.offset, rtol=1e-3, atol=1e-4)


def test_backward_explains_a_grad_output_of_the_wrong_shape():
    with pytest.raises(ValueError, match=r"^deform_conv2d_backward: grad_output must have the "
                                         r"output's shape \(2, 2, 3, 3\), got \(2, 2, 3, 4\)"):
        cl.deform_conv2d_backward(np.ones((2, 2, 3, 4)), **_good())


def _torch_deform_conv2d(torch, x, offset, w, bias, mask, stride, padding, dilation):
    """The same bilinear sampling written in PyTorch, independently: for autograd.

    Every point reads its four neighbours (zeros outside the image), points with y <= -1,
    y >= H, x <= -1 or x >= W read nothing; then a grouped 1x1 convolution over the columns.
    """
    n, c_in, h, wd = x.shape
    c_out, c_group, kh, kw = w.shape
    h_out, w_out = offset.shape[2:]
    og = offset.shape[1] // (2 * kh * kw)
    i = torch.arange(kh).repeat_interleave(kw).double()
    j = torch.arange(kw).repeat(kh).double()
    base_y = (torch.arange(h_out) * stride[0] - padding[0]).double()[None, :, None] \
        + (i * dilation[0])[:, None, None]
    base_x = (torch.arange(w_out) * stride[1] - padding[1]).double()[None, None, :] \
        + (j * dilation[1])[:, None, None]
    off = offset.reshape(n, og, kh * kw, 2, h_out, w_out)
    py, px = base_y + off[:, :, :, 0], base_x + off[:, :, :, 1]  # (N, og, K, Ho, Wo)
    inside = (py > -1) & (py < h) & (px > -1) & (px < wd)
    y0, x0 = torch.floor(py), torch.floor(px)
    ly, lx = py - y0, px - x0
    flat = x.reshape(n, og, c_in // og, h * wd)
    samples = 0
    for dy, dx, weight in ((0, 0, (1 - ly) * (1 - lx)), (0, 1, (1 - ly) * lx),
                           (1, 0, ly * (1 - lx)), (1, 1, ly * lx)):
        yy, xx = (y0 + dy).long(), (x0 + dx).long()
        ok = inside & (yy >= 0) & (yy < h) & (xx >= 0) & (xx < wd)
        index = (yy.clamp(0, h - 1) * wd + xx.clamp(0, wd - 1)).reshape(n, og, 1, -1)
        values = torch.gather(flat, 3, index.expand(-1, -1, c_in // og, -1))
        values = values.reshape(n, og, c_in // og, kh * kw, h_out, w_out)
        samples = samples + (weight * ok)[:, :, None] * values
    if mask is not None:
        samples = samples * mask.reshape(n, og, 1, kh * kw, h_out, w_out)
    cols = samples.reshape(n, c_in * kh * kw, h_out, w_out)
    groups = c_in // c_group
    out = torch.nn.functional.conv2d(cols, w.reshape(c_out, -1, 1, 1), groups=groups)
    return out if bias is None else out + bias[None, :, None, None]


@examples(20)
@given(deform_args())
def test_backward_agrees_with_pytorch_autograd_of_an_independent_sampler(args):
    torch = pytest.importorskip("torch")
    x, offset, w, bias, mask, kwargs = args
    tensors = {name: torch.tensor(a, dtype=torch.float64, requires_grad=True)
               for name, a in (("x", x), ("offset", offset), ("w", w), ("bias", bias),
                               ("mask", mask)) if a is not None}
    out = _torch_deform_conv2d(torch, tensors["x"], tensors["offset"], tensors["w"],
                               tensors.get("bias"), tensors.get("mask"), **kwargs)
    np.testing.assert_allclose(out.detach().numpy(),
                               cl.deform_conv2d(x, offset, w, bias, mask=mask, **kwargs),
                               rtol=1e-10, atol=1e-10)
    g = np.random.default_rng(1).normal(size=tuple(out.shape))
    out.backward(torch.tensor(g))
    grads = cl.deform_conv2d_backward(g, x, offset, w, bias, mask=mask, **kwargs)
    for name, field in (("x", "input"), ("offset", "offset"), ("w", "weight"), ("bias", "bias"),
                        ("mask", "mask")):
        if name in tensors:
            np.testing.assert_allclose(getattr(grads, field), tensors[name].grad.numpy(),
                                       rtol=1e-9, atol=1e-9, err_msg=field)


def test_backward_agrees_with_torchvision_autograd_when_it_is_importable():
    torch, deform = _importable_torchvision()
    rng = np.random.default_rng(12)
    for _ in range(20):
        x, w = rng.normal(size=(2, 4, 6, 6)), rng.normal(size=(3, 2, 3, 3))
        offset, mask = rng.normal(scale=2, size=(2, 36, 4, 4)), rng.uniform(size=(2, 18, 4, 4))
        bias, g = rng.normal(size=3), rng.normal(size=(2, 3, 4, 4))
        ts = [torch.tensor(a, requires_grad=True) for a in (x, offset, w, bias, mask)]
        deform(ts[0], ts[1], ts[2], ts[3], mask=ts[4]).backward(torch.tensor(g))
        grads = cl.deform_conv2d_backward(g, x, offset, w, bias, mask=mask)
        for t, got in zip(ts, (grads.input, grads.offset, grads.weight, grads.bias, grads.mask)):
            np.testing.assert_allclose(got, t.grad.numpy(), rtol=1e-9, atol=1e-9)
