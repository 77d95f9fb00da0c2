"""convlab.conv: the articles' numbers, PyTorch agreement, the adjoint identity, no side effects.

``conv_args`` (a hypothesis strategy for one random, valid call) is shared with the other test
modules of convlab's core.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import convlab as cl

CONV = {1: cl.conv1d, 2: cl.conv2d, 3: cl.conv3d}
CONV_T = {1: cl.conv_transpose1d, 2: cl.conv_transpose2d, 3: cl.conv_transpose3d}
# float32 sums of up to ~50 products of N(0, 1) values: PyTorch and NumPy round differently
TOLERANCE = {np.float32: {"rtol": 1e-4, "atol": 1e-4}, np.float64: {"rtol": 1e-10, "atol": 1e-12}}
EXAMPLES = {1: 40, 2: 40, 3: 20}
# PyTorch's note that 'same' with an even kernel copies the input: not about convlab
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same':UserWarning")


def examples(n):
    return settings(max_examples=n, deadline=None)


@st.composite
def conv_args(draw, nd, transposed=False, string_padding=True, unbatched=True, max_size=5):
    """One valid call of ``conv{nd}d`` (or ``conv_transpose{nd}d``) with random arrays.

    Returns ``(input, weight, bias, kwargs)``; the arrays are float32 or float64.
    """
    def tuple_or_int(values):
        return values[0] if len(set(values)) == 1 and draw(st.booleans()) else tuple(values)

    ints = st.integers
    groups = draw(ints(1, 3))
    c_in, c_out = groups * draw(ints(1, 2)), groups * draw(ints(1, 2))
    k = [draw(ints(1, 3)) for _ in range(nd)]
    stride = [draw(ints(1, 3)) for _ in range(nd)]
    dilation = [draw(ints(1, 2)) for _ in range(nd)]
    kwargs = {"stride": tuple_or_int(stride), "dilation": tuple_or_int(dilation), "groups": groups}
    if transposed:
        padding = [draw(ints(0, 2)) for _ in range(nd)]
        output_padding = [draw(ints(0, max(s, d) - 1)) for s, d in zip(stride, dilation)]
        size = [draw(ints(1, max_size - 1)) for _ in range(nd)]
        # keep the output size (i-1)s - 2p + d(k-1) + op + 1 at least 1
        padding = [min(p, ((i - 1) * s + d * (kk - 1) + op) // 2)
                   for i, s, p, d, kk, op in zip(size, stride, padding, dilation, k,
                                                 output_padding)]
        kwargs.update(padding=tuple_or_int(padding), output_padding=tuple_or_int(output_padding))
        w_shape = (c_in, c_out // groups, *k)
    else:
        choices = ["int"] + (["valid"] + (["same"] if set(stride) == {1} else [])
                             if string_padding else [])
        kind = draw(st.sampled_from(choices))
        padding = [draw(ints(0, 2)) if kind == "int" else 0 for _ in range(nd)]
        spans = [d * (kk - 1) + 1 for d, kk in zip(dilation, k)]
        size = [draw(ints(max(1, span - 2 * p), max(1, span - 2 * p) + max_size - 1))
                for span, p in zip(spans, padding)]
        kwargs["padding"] = tuple_or_int(padding) if kind == "int" else kind
        w_shape = (c_out, c_in // groups, *k)
    batch = draw(ints(1, 2)) if not unbatched or draw(st.booleans()) else None
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    rng = np.random.default_rng(draw(ints(0, 2**32 - 1)))
    x = rng.normal(size=((batch,) if batch else ()) + (c_in, *size)).astype(dtype)
    w = rng.normal(size=w_shape).astype(dtype)
    bias = rng.normal(size=c_out).astype(dtype) if draw(st.booleans()) else None
    return x, w, bias, kwargs


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


def _torch_call(torch, fn, *arrays, **kwargs):
    tensors = [None if a is None else torch.from_numpy(a) for a in arrays]
    return fn(*tensors, **kwargs).numpy()


# --- the articles' worked examples -------------------------------------------------------------


def test_worked_example_5x5_input_3x3_kernel():
    x = [[3, 3, 2, 1, 0], [0, 0, 1, 3, 1], [3, 1, 2, 2, 3], [2, 0, 0, 2, 2], [2, 0, 0, 0, 1]]
    k = [[0, 1, 2], [2, 2, 0], [0, 1, 2]]
    y = cl.conv2d(np.array(x)[None, None], np.array(k)[None, None])
    np.testing.assert_array_equal(y[0, 0], [[12, 12, 17], [10, 17, 19], [9, 6, 14]])
    assert y.dtype == np.float64


def test_three_channels_one_filter_sums_the_channels_plus_one_bias():
    rng = np.random.default_rng(0)
    x, w = rng.normal(size=(3, 5, 5)), rng.normal(size=(1, 3, 3, 3))
    per_channel = [cl.conv2d(x[c:c + 1], w[:, c:c + 1]) for c in range(3)]
    np.testing.assert_allclose(cl.conv2d(x, w, bias=[0.5]), sum(per_channel) + 0.5)


def test_transposed_2x2_input_3x3_kernel_gives_4x4_overlap_counts():
    y = cl.conv_transpose2d(np.ones((1, 1, 2, 2)), np.ones((1, 1, 3, 3)))
    np.testing.assert_array_equal(
        y[0, 0], [[1, 2, 2, 1], [2, 4, 4, 2], [2, 4, 4, 2], [1, 2, 2, 1]])


def test_transposed_stride_2_gives_5x5():
    y = cl.conv_transpose2d(np.ones((1, 1, 2, 2)), np.ones((1, 1, 3, 3)), stride=2)
    line = np.array([1, 1, 2, 1, 1])
    np.testing.assert_array_equal(y[0, 0], np.outer(line, line))


def test_transposed_scatters_each_input_times_the_kernel():
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    k = np.arange(9.0).reshape(3, 3)
    expected = np.zeros((5, 5))
    for (a, b), value in np.ndenumerate(x):
        expected[2 * a:2 * a + 3, 2 * b:2 * b + 3] += value * k
    np.testing.assert_array_equal(cl.conv_transpose2d(x[None], k[None, None], stride=2)[0],
                                  expected)


def test_conv3d_4x4x4_volume_with_2x2x2_kernel_gives_3x3x3():
    volume = np.arange(64.0).reshape(1, 4, 4, 4)
    y = cl.conv3d(volume, np.ones((1, 1, 2, 2, 2)))
    assert y.shape == (1, 3, 3, 3)
    # each window sums a 2x2x2 block of consecutive-index values: 8 * its mean
    assert y[0, 0, 0, 0] == volume[0, :2, :2, :2].sum() == 8 * 10.5


def test_conv1d_is_a_sliding_dot_product_and_flipping_the_kernel_gives_convolution():
    x, k = np.array([1.0, 2.0, 3.0, 4.0]), np.array([1.0, 0.0, -1.0])
    np.testing.assert_array_equal(cl.conv1d(x[None], k[None, None])[0], [-2, -2])
    np.testing.assert_array_equal(cl.conv1d(x[None], k[None, None, ::-1])[0],
                                  np.convolve(x, k, mode="valid"))


def test_depthwise_convolution_convolves_each_channel_alone():
    rng = np.random.default_rng(1)
    x, w = rng.normal(size=(1, 3, 6, 6)), rng.normal(size=(3, 1, 3, 3))
    y = cl.conv2d(x, w, groups=3)
    for c in range(3):
        np.testing.assert_allclose(y[:, c:c + 1], cl.conv2d(x[:, c:c + 1], w[c:c + 1]))


def test_same_padding_keeps_the_size_with_the_extra_zero_on_the_high_side():
    x = np.arange(1.0, 6.0)[None]
    y = cl.conv1d(x, np.ones((1, 1, 4)), padding="same")  # total padding 3: 1 before, 2 after
    np.testing.assert_array_equal(y[0], [1 + 2 + 3, 1 + 2 + 3 + 4, 2 + 3 + 4 + 5, 3 + 4 + 5, 4 + 5])


def test_integer_input_gives_float64_and_float32_stays_float32():
    assert cl.conv2d(np.ones((1, 3, 3), int), np.ones((1, 1, 2, 2), int)).dtype == np.float64
    x32 = np.ones((1, 3, 3), np.float32)
    assert cl.conv2d(x32, np.ones((1, 1, 2, 2), np.float32)).dtype == np.float32
    assert cl.conv_transpose2d(x32, np.ones((1, 1, 2, 2), np.float32)).dtype == np.float32


# --- against PyTorch ---------------------------------------------------------------------------


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_conv_matches_torch(torch, nd):
    @examples(EXAMPLES[nd])
    @given(conv_args(nd))
    def check(args):
        x, w, b, kwargs = args
        expected = _torch_call(torch, getattr(torch.nn.functional, f"conv{nd}d"), x, w, b,
                               **kwargs)
        got = CONV[nd](x, w, b, **kwargs)
        assert got.dtype == x.dtype and got.shape == expected.shape
        np.testing.assert_allclose(got, expected, **TOLERANCE[x.dtype.type])

    check()


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_conv_transpose_matches_torch(torch, nd):
    @examples(EXAMPLES[nd])
    @given(conv_args(nd, transposed=True))
    def check(args):
        x, w, b, kwargs = args
        fn = getattr(torch.nn.functional, f"conv_transpose{nd}d")
        expected = _torch_call(torch, fn, x, w, b, **kwargs)
        got = CONV_T[nd](x, w, b, **kwargs)
        assert got.dtype == x.dtype and got.shape == expected.shape
        np.testing.assert_allclose(got, expected, **TOLERANCE[x.dtype.type])

    check()


# --- without PyTorch ---------------------------------------------------------------------------


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_transposed_convolution_is_the_adjoint_of_convolution(nd):
    """``<conv(x), y> == <x, conv_transpose(y)>`` with the same weight and arguments."""
    @examples(EXAMPLES[nd])
    @given(conv_args(nd, string_padding=False), st.integers(0, 2**32 - 1))
    def check(args, seed):
        x, w, _, kwargs = args
        x, w = x.astype(np.float64), w.astype(np.float64)
        y = np.random.default_rng(seed).normal(size=CONV[nd](x, w, **kwargs).shape)
        stride = np.broadcast_to(kwargs["stride"], nd)
        padding = np.broadcast_to(kwargs["padding"], nd)
        dilation = np.broadcast_to(kwargs["dilation"], nd)
        # the conv's floor drops trailing inputs; output_padding restores x's size
        full = [(o - 1) * s - 2 * p + d * (k - 1) + 1
                for o, s, p, d, k in zip(y.shape[-nd:], stride, padding, dilation, w.shape[2:])]
        output_padding = tuple(i - f for i, f in zip(x.shape[-nd:], full))
        back = CONV_T[nd](y, w, output_padding=output_padding, **kwargs)
        assert back.shape == x.shape
        np.testing.assert_allclose(np.vdot(CONV[nd](x, w, **kwargs), y), np.vdot(x, back),
                                   rtol=1e-10)

    check()


def test_unbatched_equals_the_first_item_of_a_batch():
    rng = np.random.default_rng(2)
    x, w = rng.normal(size=(2, 4, 6, 5)), rng.normal(size=(4, 2, 3, 2))
    np.testing.assert_allclose(cl.conv2d(x[0], w, groups=2, padding=1),
                               cl.conv2d(x, w, groups=2, padding=1)[0])
    wt = rng.normal(size=(4, 3, 2, 2))
    np.testing.assert_allclose(cl.conv_transpose2d(x[1], wt, stride=2),
                               cl.conv_transpose2d(x, wt, stride=2)[1])


def _every_op_call(rng):
    """One call of every op in conv.py with fresh arrays: ``(fn, arrays, kwargs)``."""
    for nd in (1, 2, 3):
        x = rng.normal(size=(2, 4) + (5,) * nd)
        yield CONV[nd], (x, rng.normal(size=(2, 2) + (3,) * nd), rng.normal(size=2)), \
            {"padding": 1, "groups": 2}
        yield CONV_T[nd], (x, rng.normal(size=(4, 1) + (2,) * nd), rng.normal(size=2)), \
            {"stride": 2, "groups": 2}


@pytest.mark.parametrize("nd_op", range(6))
def test_inputs_are_never_modified_and_never_aliased(nd_op):
    fn, arrays, kwargs = list(_every_op_call(np.random.default_rng(3)))[nd_op]
    copies = [a.copy() for a in arrays]
    out = fn(*arrays, **kwargs)
    for a, c in zip(arrays, copies):
        np.testing.assert_array_equal(a, c)
        assert not np.shares_memory(out, a)


@pytest.mark.parametrize("nd_op", range(6))
def test_an_empty_batch_gives_an_empty_output(nd_op):
    fn, (x, w, b), kwargs = list(_every_op_call(np.random.default_rng(3)))[nd_op]
    full = fn(x, w, b, **kwargs)
    assert fn(x[:0], w, b, **kwargs).shape == (0,) + full.shape[1:]


def test_one_by_one_convolution_is_a_dense_layer_at_every_pixel():
    rng = np.random.default_rng(4)
    x, w = rng.normal(size=(2, 5, 4, 3)), rng.normal(size=(7, 5, 1, 1))
    dense = np.einsum("oc,nchw->nohw", w[:, :, 0, 0], x)
    np.testing.assert_allclose(cl.conv2d(x, w), dense)


# --- the mechanism, as conv.py writes it -------------------------------------------------------


def test_conv_is_the_contraction_of_the_padded_windows():
    """``_conv``'s docstring, executed: pad, strided windows, one contraction (einsum)."""
    from convlab.conv import _conv, _pad, _windows

    rng = np.random.default_rng(9)
    x, w = rng.normal(size=(2, 6, 7, 8)), rng.normal(size=(6, 2, 3, 2))
    pairs, stride, dilation, groups = [(1, 2), (0, 1)], (2, 1), (1, 2), 3
    out = cl.conv_output_size((7 + 3, 8 + 1), (3, 2), stride, 0, dilation)
    windows = _windows(_pad(x, pairs), (3, 2), stride, dilation, out)
    grouped = windows.reshape((2, groups, 2) + windows.shape[2:])  # (N, G, C, *out, *k)
    want = np.einsum("ngcpqij,gmcij->ngmpq", grouped, w.reshape(groups, 2, 2, 3, 2))
    np.testing.assert_allclose(_conv(x, pairs, w, stride, dilation, groups, out),
                               want.reshape((2, 6) + out), rtol=1e-12, atol=1e-12)


def test_conv_transpose_is_conv_of_the_input_with_zeros_inserted():
    """``_conv_transpose``'s docstring, executed, with the flipped kernel of each group."""
    from convlab.conv import _conv, _conv_transpose, _transpose_weight

    rng = np.random.default_rng(10)
    x, w = rng.normal(size=(2, 4, 3, 4)), rng.normal(size=(4, 3, 3, 2))
    stride, padding, output_padding, groups, dilation = (2, 3), (1, 0), (1, 2), 2, (1, 2)
    spread = np.zeros((2, 4, (3 - 1) * 2 + 1, (4 - 1) * 3 + 1))
    spread[:, :, ::2, ::3] = x
    pairs = [(d * (k - 1) - p, d * (k - 1) - p + op)
             for k, d, p, op in zip((3, 2), dilation, padding, output_padding)]
    size = [s + lo + hi - d * (k - 1) for s, (lo, hi), d, k in zip(spread.shape[2:], pairs,
                                                                    dilation, (3, 2))]
    want = _conv(spread, pairs, _transpose_weight(w, groups), (1, 1), dilation, groups, size)
    np.testing.assert_allclose(
        _conv_transpose(x, w, stride, padding, output_padding, groups, dilation), want,
        rtol=1e-12, atol=1e-12)
