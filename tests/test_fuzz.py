"""The fuzzing of issue 15, kept running: every op fed what a reliability engineer would feed it.

NaN and infinities among small values, float16, float32, float64 and integers, non-contiguous
views, empty batches; each result is held to a plain-loop reference computed in float64 on the
same values (``convlab.reference.conv2d_loops``, ``deform_conv2d_loops``, and the loops below for
the transposed convolution, the weight gradient and im2col), and to PyTorch where it is
installed. NaN and infinities must land exactly where the reference puts them; the finite
values agree to the dtype's precision.
"""

import itertools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import convlab as cl

# float16 sums round at every output and, in the transposed scatter, at every tap's add
TOLERANCE = {"float16": 1e-2, "float32": 1e-5, "float64": 1e-12}
DTYPES = [np.float16, np.float32, np.float64, np.int32, np.int64]
SPECIALS = [np.nan, np.inf, -np.inf]
# the loop references run one multiply-add per Python step: few, small examples
fuzz = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# non-finite inputs make NumPy's reference loops (and the direct sums) warn: that is expected
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


def _torch():
    try:
        import torch
    except ImportError:
        return None
    return torch


TORCH = _torch()


# --- what is fed -------------------------------------------------------------------------------


@st.composite
def arrays(draw, shape, dtype, specials=True):
    """Multiples of 1/4 in [-4, 4] (exact in every float dtype; integers for int dtypes), a few
    replaced by NaN or an infinity, as a contiguous array or a view (strided, reversed,
    Fortran-ordered)."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    integer = np.dtype(dtype).kind == "i"
    values = rng.integers(-4 if integer else -16, 5 if integer else 17, size=shape)
    values = values.astype(float) if integer else values / 4
    if specials and not integer and values.size and draw(st.booleans()):
        flat = values.reshape(-1)
        for _ in range(draw(st.integers(1, 3))):
            flat[rng.integers(flat.size)] = SPECIALS[rng.integers(len(SPECIALS))]
    values = values.astype(dtype)
    layout = draw(st.sampled_from(["contiguous", "strided", "reversed", "fortran"]))
    if layout == "strided" and values.ndim:
        wide = np.zeros(values.shape[:-1] + (2 * values.shape[-1],), dtype)
        wide[..., ::2] = values
        return wide[..., ::2]
    if layout == "reversed":
        return np.flip(np.flip(values).copy())
    if layout == "fortran":
        return np.asfortranarray(values)
    return values


@st.composite
def conv_case(draw, transposed=False):
    """``(x, w, kwargs)`` for ``conv2d`` (or ``conv_transpose2d``): every contraction of
    ``convlab._fast`` (im2col, Winograd, 1x1, depthwise, grouped) and an empty batch."""
    ints = st.integers
    dtype = draw(st.sampled_from(DTYPES))
    winograd = not transposed and draw(st.booleans())  # 3x3, stride 1, 16 channels
    if winograd:
        groups, per_group, c_out = 1, 16, draw(ints(1, 2))
        k, stride, dilation = (3, 3), (1, 1), (1, 1)
    else:
        groups = draw(ints(1, 3))
        per_group = draw(ints(1, 2))  # one channel per group and groups > 1: depthwise
        c_out = groups * draw(ints(1, 2))
        k = (draw(ints(1, 3)), draw(ints(1, 3)))
        stride, dilation = (draw(ints(1, 3)), draw(ints(1, 3))), (draw(ints(1, 2)),
                                                                 draw(ints(1, 2)))
    padding = (draw(ints(0, 2)), draw(ints(0, 2)))
    batch = draw(st.sampled_from([0, 1, 2]))
    c_in = groups * per_group
    if transposed:
        size = (draw(ints(1, 4)), draw(ints(1, 4)))
        output_padding = tuple(draw(ints(0, max(s, d) - 1)) for s, d in zip(stride, dilation))
        # keep the output size (i-1)s - 2p + d(k-1) + op + 1 at least 1
        padding = tuple(min(p, ((i - 1) * s + d * (kk - 1) + op) // 2) for p, i, s, d, kk, op
                        in zip(padding, size, stride, dilation, k, output_padding))
        w_shape = (c_in, c_out // groups) + k
        kwargs = {"output_padding": output_padding}
    else:
        spans = [d * (kk - 1) + 1 for d, kk in zip(dilation, k)]
        size = tuple(draw(ints(max(1, s - 2 * p), max(1, s - 2 * p) + 4))
                     for s, p in zip(spans, padding))
        w_shape = (c_out, per_group) + k
        kwargs = {}
    x = draw(arrays((batch, c_in) + size, dtype))
    w = draw(arrays(w_shape, dtype))
    kwargs.update(stride=stride, padding=padding, dilation=dilation, groups=groups)
    return x, w, kwargs


def _float_dtype(*arrays):
    dtype = np.result_type(*arrays)
    return dtype.name if dtype.kind == "f" else "float64"


def assert_same(got, want, dtype):
    """NaN and infinities exactly where ``want`` has them, the finite values close."""
    got, want = np.asarray(got, float), np.asarray(want, float)
    assert got.shape == want.shape
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want), err_msg="NaN")
    np.testing.assert_array_equal(np.isposinf(got), np.isposinf(want), err_msg="+inf")
    np.testing.assert_array_equal(np.isneginf(got), np.isneginf(want), err_msg="-inf")
    finite = np.isfinite(want)
    scale = 1 + (np.abs(want[finite]).max() if finite.any() else 0)
    np.testing.assert_allclose(got[finite], want[finite], rtol=0,
                               atol=TOLERANCE[dtype] * scale)


def _torch_agrees(padding, *arrays):
    """Whether PyTorch must agree on NaN and infinities: not where a non-finite value meets the
    zeros of padding, which some of its kernels multiply (0 * inf = NaN, as the loops) and
    others skip (its depthwise kernels)."""
    return TORCH is not None and (not any(padding) or all(np.isfinite(a).all() for a in arrays))


def _as_torch(*arrays):
    return [None if a is None else TORCH.from_numpy(np.ascontiguousarray(a)) for a in arrays]


# --- references the library has no loops for ---------------------------------------------------


def conv_transpose2d_loops(x, w, stride, padding, output_padding, groups, dilation):
    """The scatter that defines it: input ``i`` adds ``x[i] * w[j]`` to output
    ``i*stride + j*dilation - padding``, one product at a time (float64)."""
    n, c_in, h, wd = x.shape
    cog, kh, kw = w.shape[1:]
    size = [(i - 1) * s - 2 * p + d * (k - 1) + op + 1 for i, k, s, p, op, d
            in zip((h, wd), (kh, kw), stride, padding, output_padding, dilation)]
    out = np.zeros((n, cog * groups, *size))
    for b, c, i, j, o, a, e in itertools.product(range(n), range(c_in), range(h), range(wd),
                                                 range(cog), range(kh), range(kw)):
        r = i * stride[0] + a * dilation[0] - padding[0]
        q = j * stride[1] + e * dilation[1] - padding[1]
        if 0 <= r < size[0] and 0 <= q < size[1]:
            out[b, c // (c_in // groups) * cog + o, r, q] += float(x[b, c, i, j]) * float(
                w[c, o, a, e])
    return out


def conv2d_weight_loops(x, weight_size, g, stride, padding, dilation, groups):
    """``dw[o, c, j] = sum_{n, p} g[n, o, p] * x_padded[n, group(o)*C + c, p*s + j*d]``."""
    xp = np.pad(x.astype(float), ((0, 0), (0, 0)) + tuple((p, p) for p in padding))
    c_out, cig, kh, kw = weight_size
    dw = np.zeros(weight_size)
    for o, c, a, e in itertools.product(range(c_out), range(cig), range(kh), range(kw)):
        channel = o // (c_out // groups) * cig + c
        for b, r, q in itertools.product(range(g.shape[0]), range(g.shape[2]), range(g.shape[3])):
            dw[o, c, a, e] += float(g[b, o, r, q]) * xp[b, channel, r * stride[0] + a * dilation[0],
                                                       q * stride[1] + e * dilation[1]]
    return dw


# --- the properties ----------------------------------------------------------------------------


@fuzz
@given(conv_case())
def test_conv2d_puts_every_value_where_the_loops_do(case):
    x, w, kwargs = case
    dtype = _float_dtype(x, w)
    got = cl.conv2d(x, w, **kwargs)
    assert got.dtype == dtype
    assert_same(got, cl.conv2d_loops(x.astype(float), w.astype(float), **kwargs), dtype)
    if _torch_agrees(kwargs["padding"], w):
        assert_same(got, TORCH.nn.functional.conv2d(*_as_torch(x.astype(dtype), w.astype(dtype)),
                                                    **kwargs).float().numpy(), dtype)


@fuzz
@given(conv_case(), st.sampled_from([1, 3]))
def test_conv1d_and_conv3d_are_conv2d_with_a_unit_axis(case, nd):
    x, w, kwargs = case
    one = {key: value[1] for key, value in kwargs.items() if key != "groups"}
    if nd == 1:  # the 2-D case's second row of every image and kernel, as 1-D signals
        x, w = x[:, :, :1], w[:, :, :1]
        got = cl.conv1d(x[:, :, 0], w[:, :, 0], groups=kwargs["groups"], **one)[:, :, None]
        kwargs = {**kwargs, "stride": (1, one["stride"]), "padding": (0, one["padding"]),
                  "dilation": (1, one["dilation"])}
    else:  # a depth of one
        depth = {"stride": 1, "padding": 0, "dilation": 1}
        got = cl.conv3d(x[:, :, None], w[:, :, None], groups=kwargs["groups"],
                        **{key: (depth[key],) + value for key, value in kwargs.items()
                           if key != "groups"})[:, :, 0]
    assert_same(got, cl.conv2d_loops(x.astype(float), w.astype(float), **kwargs),
                _float_dtype(x, w))


@fuzz
@given(conv_case(transposed=True))
def test_conv_transpose2d_and_conv2d_input_put_every_value_where_the_scatter_does(case):
    x, w, kwargs = case
    dtype = _float_dtype(x, w)
    want = conv_transpose2d_loops(x, w, **{k: kwargs[k] for k in (
        "stride", "padding", "output_padding", "groups", "dilation")})
    got = cl.conv_transpose2d(x, w, **kwargs)
    assert got.dtype == dtype
    assert_same(got, want, dtype)
    # the same sum as the gradient of conv2d with the same weight (when a stride's floor can
    # give that output_padding)
    if all(op < s for op, s in zip(kwargs["output_padding"], kwargs["stride"])):
        grad = {k: kwargs[k] for k in ("stride", "padding", "dilation", "groups")}
        assert_same(cl.conv2d_input(want.shape, w, x, **grad), want, dtype)
    if TORCH is not None:
        theirs = TORCH.nn.functional.conv_transpose2d(*_as_torch(x.astype(dtype),
                                                                 w.astype(dtype)), **kwargs)
        assert_same(got, theirs.float().numpy(), dtype)


@fuzz
@given(conv_case(), st.data())
def test_conv2d_weight_puts_every_value_where_the_loops_do(case, data):
    x, w, kwargs = case
    out = cl.conv_output_size(x.shape[2:], w.shape[2:], kwargs["stride"], kwargs["padding"],
                              kwargs["dilation"])
    g = data.draw(arrays((x.shape[0], w.shape[0]) + out, w.dtype))
    dtype = _float_dtype(x, g)
    got = cl.conv2d_weight(x, w.shape, g, **kwargs)
    assert got.dtype == dtype
    assert_same(got, conv2d_weight_loops(x, w.shape, g, **kwargs), dtype)
    if _torch_agrees(kwargs["padding"], g) and x.shape[0]:
        theirs = TORCH.nn.grad.conv2d_weight(*_as_torch(x.astype(dtype)), w.shape,
                                             *_as_torch(g.astype(dtype)), **kwargs)
        assert_same(got, theirs.float().numpy(), dtype)


@st.composite
def deform_case(draw):
    ints = st.integers
    dtype = draw(st.sampled_from(DTYPES))
    groups, offset_groups = draw(ints(1, 2)), draw(ints(1, 2))
    c_in, c_out = groups * offset_groups, groups * draw(ints(1, 2))
    k = (draw(ints(1, 3)), draw(ints(1, 3)))
    padding = (draw(ints(0, 1)), draw(ints(0, 1)))
    size = tuple(draw(ints(max(1, kk - 2 * p), 5)) for kk, p in zip(k, padding))
    out = tuple(i + 2 * p - kk + 1 for i, p, kk in zip(size, padding, k))
    batch = draw(st.sampled_from([0, 1, 2]))
    x = draw(arrays((batch, c_in) + size, dtype))
    if x.dtype.kind == "f" and draw(st.booleans()):
        x[..., 0, 0] = np.nan  # the pixel a point outside the image must not read
    offset = draw(arrays((batch, 2 * offset_groups * k[0] * k[1]) + out, dtype))
    w = draw(arrays((c_out, c_in // groups) + k, dtype))
    mask = draw(st.none() | arrays((batch, offset_groups * k[0] * k[1]) + out, dtype))
    return x, offset, w, mask, padding


@settings(fuzz, max_examples=80)  # its loops are fast, and NaN must meet the image's edge
@given(deform_case())
def test_deform_conv2d_puts_every_value_where_the_loops_do(case):
    x, offset, w, mask, padding = case
    dtype = _float_dtype(x, offset, w)
    got = cl.deform_conv2d(x, offset, w, padding=padding, mask=mask)
    assert got.dtype == dtype
    want = cl.deform_conv2d_loops(*(a.astype(float) for a in (x, offset, w)), padding=padding,
                                  mask=None if mask is None else mask.astype(float))
    assert_same(got, want, dtype)


@fuzz
@given(conv_case())
def test_im2col_and_col2im_move_every_value(case):
    x, w, kwargs = case
    geometry = {key: kwargs[key] for key in ("stride", "padding", "dilation")}
    k = w.shape[2:]
    cols = cl.im2col(x, k, **geometry)
    # cols[n, c*kh*kw + i*kw + j, r*W_out + s] = x_padded[n, c, r*sh + i*dh, s*sw + j*dw]
    xp = np.pad(x.astype(float), ((0, 0), (0, 0)) + tuple((p, p) for p in kwargs["padding"]))
    out = cl.conv_output_size(x.shape[2:], k, **geometry)
    (sh, sw), (dh, dw) = kwargs["stride"], kwargs["dilation"]
    want = np.empty((x.shape[0], x.shape[1] * k[0] * k[1], out[0] * out[1]))
    for c, i, j, r, s in itertools.product(range(x.shape[1]), range(k[0]), range(k[1]),
                                           range(out[0]), range(out[1])):
        want[:, (c * k[0] + i) * k[1] + j, r * out[1] + s] = xp[:, c, r * sh + i * dh,
                                                               s * sw + j * dw]
    np.testing.assert_array_equal(cols, want)
    dtype = _float_dtype(x)
    assert_same(cl.col2im(cols, x.shape[2:], k, **geometry),
                cl.col2im(want, x.shape[2:], k, **geometry), dtype)
    if TORCH is not None:
        theirs = TORCH.nn.functional.fold(*_as_torch(want), x.shape[2:], k, **{
            "dilation": kwargs["dilation"], "padding": kwargs["padding"], "stride": (sh, sw)})
        assert_same(cl.col2im(cols, x.shape[2:], k, **geometry), theirs.numpy(), dtype)


@fuzz
@given(conv_case(), st.sampled_from(["full", "valid", "same"]))
def test_correlate2d_is_conv2d_loops_with_its_mode(case, mode):
    x, w, _ = case
    a, k = x[:1, :1].reshape(x.shape[2:]) if x.shape[0] else x[0:0], w[0, 0]
    if a.size == 0 or (mode == "valid" and any(m > n for m, n in zip(k.shape, a.shape))):
        return
    padding = {"full": tuple(m - 1 for m in k.shape), "valid": 0, "same": "same"}[mode]
    want = cl.conv2d_loops(a[None, None].astype(float), k[None, None].astype(float),
                           padding=padding)[0, 0]
    assert_same(cl.correlate2d(a, k, mode), want, _float_dtype(a, k))
