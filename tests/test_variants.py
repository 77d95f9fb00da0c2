"""Each named convolution equals its conv2d equivalent and costs what convlab.arithmetic says."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from convlab import (
    channel_shuffle,
    conv2d,
    conv_cost,
    dense_weight,
    depthwise_conv2d,
    depthwise_separable_conv2d,
    depthwise_separable_cost,
    depthwise_separable_factors,
    depthwise_separable_weight,
    flattened_conv2d,
    flattened_cost,
    flattened_factors,
    flattened_weight,
    grouped_weight,
    kernel_rank,
    separable_factors,
    spatially_separable_conv2d,
    spatially_separable_cost,
)

SOBEL = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]])


@settings(max_examples=25, deadline=None)
@given(c=st.integers(1, 3), m=st.integers(1, 2), k=st.integers(1, 3), stride=st.integers(1, 2),
       padding=st.integers(0, 1), dilation=st.integers(1, 2), seed=st.integers(0, 2**16))
def test_depthwise_is_grouped_conv2d(c, m, k, stride, padding, dilation, seed):
    rng = np.random.default_rng(seed)
    x, w = rng.normal(size=(2, c, 6, 5)), rng.normal(size=(c * m, 1, k, k))
    b = rng.normal(size=c * m)
    expected = conv2d(x, w, b, stride, padding, dilation, groups=c)
    np.testing.assert_allclose(depthwise_conv2d(x, w, b, stride, padding, dilation), expected)
    np.testing.assert_allclose(depthwise_conv2d(x[0], w, b, stride, padding, dilation),
                               expected[0])


def test_depthwise_channel_by_channel():
    """Output channel c*m + t is input channel c correlated with kernel c*m + t, alone."""
    rng = np.random.default_rng(0)
    x, w = rng.normal(size=(1, 3, 5, 5)), rng.normal(size=(6, 1, 3, 3))
    y = depthwise_conv2d(x, w, padding="same")
    for out_channel in range(6):
        alone = conv2d(x[:, out_channel // 2:out_channel // 2 + 1], w[out_channel:out_channel + 1],
                       padding="same")
        np.testing.assert_allclose(y[:, out_channel], alone[:, 0])


def test_depthwise_separable_is_depthwise_then_pointwise_and_the_course_cost():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(1, 3, 7, 7))
    dw, pw = rng.normal(size=(3, 1, 3, 3)), rng.normal(size=(128, 3, 1, 1))
    db, pb = rng.normal(size=3), rng.normal(size=128)
    y = depthwise_separable_conv2d(x, dw, pw, db, pb)
    expected = conv2d(conv2d(x, dw, db, groups=3), pw, pb)
    np.testing.assert_allclose(y, expected)
    assert y.shape == (1, 128, 5, 5)
    # chapter 08: 675 multiplies for the depthwise step, 9,600 for the pointwise step
    depthwise_macs = y.shape[2] * y.shape[3] * dw.size
    pointwise_macs = y.shape[2] * y.shape[3] * pw.size
    assert (depthwise_macs, pointwise_macs) == (675, 9600)
    assert depthwise_separable_cost(3, 128, 3, 7).macs == depthwise_macs + pointwise_macs


def test_depthwise_separable_with_multiplier_stride_padding():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(2, 2, 8, 6))
    dw, pw = rng.normal(size=(4, 1, 3, 2)), rng.normal(size=(5, 4, 1, 1))
    y = depthwise_separable_conv2d(x, dw, pw, stride=2, padding=(1, 0), dilation=(1, 2))
    expected = conv2d(conv2d(x, dw, None, 2, (1, 0), (1, 2), groups=2), pw)
    np.testing.assert_allclose(y, expected)


@pytest.mark.parametrize("m", [1, 2])
def test_depthwise_separable_weight_is_the_pair_as_one_conv2d(m):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    x = rng.normal(size=(2, 3, 7, 6))
    dw, pw = rng.normal(size=(3 * m, 1, 3, 2)), rng.normal(size=(4, 3 * m, 1, 1))
    w = depthwise_separable_weight(dw, pw, depth_multiplier=m)
    assert w.shape == (4, 3, 3, 2)
    pair = depthwise_separable_conv2d(x, dw, pw, stride=2, padding=1)
    np.testing.assert_allclose(conv2d(x, w, stride=2, padding=1), pair, atol=1e-12)
    tx = torch.from_numpy(x)
    expected = torch.nn.functional.conv2d(
        torch.nn.functional.conv2d(tx, torch.from_numpy(dw), stride=2, padding=1, groups=3),
        torch.from_numpy(pw)).numpy()
    np.testing.assert_allclose(pair, expected, atol=1e-12)
    # each input channel's C_out kernels, as a matrix, have rank <= m
    for c in range(3):
        assert np.linalg.matrix_rank(w[:, c].reshape(4, -1)) == m


@pytest.mark.parametrize("m", [1, 2, 3])
def test_depthwise_separable_factors_is_the_closest_pair(m):
    rng = np.random.default_rng(6)
    w = rng.normal(size=(5, 3, 3, 3))
    dw, pw = depthwise_separable_factors(w, depth_multiplier=m)
    assert dw.shape == (3 * m, 1, 3, 3) and pw.shape == (5, 3 * m, 1, 1)
    best = depthwise_separable_weight(dw, pw, depth_multiplier=m)
    # Eckart-Young per input channel: the dropped singular values are the distance
    dropped = sum((np.linalg.svd(w[:, c].reshape(5, 9), compute_uv=False)[m:] ** 2).sum()
                  for c in range(3))
    assert np.linalg.norm(w - best) == pytest.approx(np.sqrt(dropped))
    for _ in range(20):  # no other pair is closer
        other = depthwise_separable_weight(dw + 0.05 * rng.normal(size=dw.shape),
                                           pw + 0.05 * rng.normal(size=pw.shape), m)
        assert np.linalg.norm(w - other) >= np.linalg.norm(w - best) - 1e-12
    # a weight that is a pair is recovered exactly
    exact = depthwise_separable_weight(rng.normal(size=(3, 1, 3, 3)), rng.normal(size=(5, 3)))
    np.testing.assert_allclose(depthwise_separable_weight(*depthwise_separable_factors(exact)),
                               exact, atol=1e-12)


@settings(max_examples=25, deadline=None)
@given(c=st.integers(1, 3), kh=st.integers(1, 3), kw=st.integers(1, 3),
       stride=st.tuples(st.integers(1, 2), st.integers(1, 2)),
       padding=st.tuples(st.integers(0, 2), st.integers(0, 2)), seed=st.integers(0, 2**16))
def test_spatially_separable_is_depthwise_with_the_outer_product(c, kh, kw, stride, padding,
                                                                  seed):
    rng = np.random.default_rng(seed)
    x, col, row, b = (rng.normal(size=(2, c, 6, 7)), rng.normal(size=(c, kh)),
                      rng.normal(size=(c, kw)), rng.normal(size=c))
    kernels = np.einsum("ci,cj->cij", col, row)[:, None]
    expected = depthwise_conv2d(x, kernels, b, stride, padding)
    np.testing.assert_allclose(spatially_separable_conv2d(x, col, row, b, stride, padding),
                               expected, atol=1e-12)


def test_sobel_shared_by_all_channels_and_its_cost():
    """1-D col/row are shared; the Sobel filter is [1, 2, 1]^T [-1, 0, 1]."""
    rng = np.random.default_rng(3)
    x = rng.normal(size=(2, 8, 8))
    y = spatially_separable_conv2d(x, [1, 2, 1], [-1, 0, 1])
    expected = conv2d(x, np.broadcast_to(SOBEL, (2, 1, 3, 3)), groups=2)
    np.testing.assert_allclose(y, expected, atol=1e-12)
    # the vertical pass makes 6x8 outputs of 3 multiplies, the horizontal one 6x6 of 3
    cost = spatially_separable_cost(2, 3, 8)
    assert cost.macs == 2 * (6 * 8 * 3 + 6 * 6 * 3)
    assert cost.macs < 2 * 6 * 6 * 9


def test_separable_factors_of_sobel():
    col, row = separable_factors(SOBEL)
    np.testing.assert_allclose(np.outer(col, row), SOBEL, atol=1e-12)
    # the factors are Sobel's up to scale: col ~ [1, 2, 1], row ~ [-1, 0, 1]
    np.testing.assert_allclose(col / col[0], [1, 2, 1])
    np.testing.assert_allclose(row / row[2], [-1, 0, 1], atol=1e-12)
    assert col[1] > 0
    assert kernel_rank(SOBEL) == 1


def test_a_random_kernel_does_not_separate():
    kernel = np.random.default_rng(4).normal(size=(3, 3))
    assert kernel_rank(kernel) == 3
    col, row = separable_factors(kernel)
    singular = np.linalg.svd(kernel, compute_uv=False)
    residual = kernel - np.outer(col, row)
    # Eckart-Young: what is left is the rest of the spectrum
    np.testing.assert_allclose(np.linalg.norm(residual), np.hypot(singular[1], singular[2]))
    np.testing.assert_allclose(np.linalg.norm(residual, 2), singular[1])
    assert kernel_rank(np.outer([1, 2], [3, 4, 5]) + np.outer([0, 1], [1, 0, 0])) == 2
    assert kernel_rank(np.zeros((2, 2))) == 0
    assert kernel_rank(np.diag([1.0, 1e-9]), tol=1e-6) == 1


@settings(max_examples=40, deadline=None)
@given(
    kernel=arrays(np.float64, st.tuples(st.integers(1, 4), st.integers(1, 4)),
                  elements=st.floats(-5, 5, width=64)),
    col=arrays(np.float64, 4, elements=st.floats(-5, 5, width=64)),
    row=arrays(np.float64, 4, elements=st.floats(-5, 5, width=64)),
)
def test_separable_factors_is_the_best_rank_one_approximation(kernel, col, row):
    best_col, best_row = separable_factors(kernel)
    best = np.linalg.norm(kernel - np.outer(best_col, best_row))
    other = np.outer(col[:kernel.shape[0]], row[:kernel.shape[1]])
    assert best <= np.linalg.norm(kernel - other) + 1e-9
    # a rank-1 kernel is reproduced exactly
    exact = np.outer(col[:kernel.shape[0]], row[:kernel.shape[1]])
    np.testing.assert_allclose(np.outer(*separable_factors(exact)), exact, atol=1e-9)


@settings(max_examples=25, deadline=None)
@given(c_in=st.integers(1, 3), c_out=st.integers(1, 3), kh=st.integers(1, 3),
       kw=st.integers(1, 3), stride=st.integers(1, 2), padding=st.integers(0, 1),
       seed=st.integers(0, 2**16))
def test_flattened_is_conv2d_with_the_flattened_weight(c_in, c_out, kh, kw, stride, padding,
                                                       seed):
    rng = np.random.default_rng(seed)
    x, channel = rng.normal(size=(2, c_in, 6, 5)), rng.normal(size=(c_out, c_in))
    col, row, b = rng.normal(size=(c_out, kh)), rng.normal(size=(c_out, kw)), rng.normal(size=c_out)
    w = flattened_weight(channel, col, row)
    assert w.shape == (c_out, c_in, kh, kw)
    np.testing.assert_allclose(w[c_out - 1, c_in - 1, kh - 1, kw - 1],
                               channel[-1, -1] * col[-1, -1] * row[-1, -1])
    np.testing.assert_allclose(flattened_conv2d(x, channel, col, row, b, stride, padding),
                               conv2d(x, w, b, stride, padding), atol=1e-12)


def test_flattened_weight_is_rank_one_in_every_direction_and_the_cost():
    rng = np.random.default_rng(5)
    w = flattened_weight(rng.normal(size=(2, 3)), rng.normal(size=(2, 3)), [1.0, 2.0, 3.0])
    for o in range(2):
        for axis in range(3):
            unfolded = np.moveaxis(w[o], axis, 0).reshape(w.shape[1 + axis], -1)
            assert np.linalg.matrix_rank(unfolded) == 1
    np.testing.assert_array_equal(w[:, :, :, 2], 3 * w[:, :, :, 0])
    # a 1x1 over 3 channels at 8x8 for 2 outputs, then the two 1-D passes on 2 channels
    assert flattened_cost(3, 2, 3, 8).macs == 8 * 8 * 2 * 3 + spatially_separable_cost(2, 3, 8).macs


def test_channel_shuffle_worked_order():
    x = np.arange(6).reshape(1, 6, 1)
    assert channel_shuffle(x, 2)[0, :, 0].tolist() == [0, 3, 1, 4, 2, 5]
    assert channel_shuffle(x, 3)[0, :, 0].tolist() == [0, 2, 4, 1, 3, 5]
    assert channel_shuffle(x, 1)[0, :, 0].tolist() == list(range(6))
    assert channel_shuffle(x, 2).dtype == x.dtype
    shuffled = channel_shuffle(x, 1)
    shuffled[0, 0, 0] = 99
    assert x[0, 0, 0] == 0


@pytest.mark.parametrize("shape", [(2, 12, 3, 4), (1, 6, 5), (2, 8, 2, 2, 2)])
@pytest.mark.parametrize("groups", [1, 2, 3, 6])
def test_channel_shuffle_agrees_with_torch(shape, groups):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(6).normal(size=shape)
    if shape[1] % groups:
        with pytest.raises(RuntimeError):
            torch.nn.functional.channel_shuffle(torch.from_numpy(x), groups)
        with pytest.raises(ValueError, match="cannot be split"):
            channel_shuffle(x, groups)
        return
    expected = torch.nn.functional.channel_shuffle(torch.from_numpy(x), groups).numpy()
    np.testing.assert_array_equal(channel_shuffle(x, groups), expected)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: channel_shuffle(np.ones((1, 12, 2, 2)), 5),
         "channel_shuffle: 12 channels cannot be split into 5 groups"),
        (lambda: channel_shuffle(np.ones((1, 12, 2)), 0), "channel_shuffle: groups must be >= 1"),
        (lambda: channel_shuffle(np.ones((12, 2)), 2),
         "channel_shuffle: input must have at least 3 axes"),
        (lambda: depthwise_conv2d(np.ones((1, 3, 5, 5)), np.ones((4, 1, 3, 3))),
         (r"depthwise_conv2d: weight must be \(C\*m, 1, kh, kw\), m kernels for each of the "
         r"input's 3 channels, got shape \(4, 1, 3, 3\)")),
        (lambda: depthwise_conv2d(np.ones((1, 3, 5, 5)), np.ones((3, 3, 3, 3))),
         r"depthwise_conv2d: weight must be \(C\*m, 1, kh, kw\)"),
        (lambda: depthwise_conv2d(np.ones((3, 5)), np.ones((3, 1, 3, 3))),
         r"depthwise_conv2d: input must be 3-D"),
        (lambda: depthwise_conv2d(np.ones((1, 3, 5, 5)), np.ones((3, 1, 3, 3)), np.ones(2)),
         r"depthwise_conv2d: bias must have shape \(3,\)"),
        (lambda: depthwise_separable_conv2d(np.ones((1, 3, 5, 5)), np.ones((3, 1, 3, 3)),
                                            np.ones((4, 3, 3, 3))),
         (r"depthwise_separable_conv2d: pointwise_weight must be \(C_out, C\*m, 1, 1\) = "
         r"\(C_out, 3, 1, 1\)")),
        (lambda: depthwise_separable_conv2d(np.ones((1, 3, 5, 5)), np.ones((6, 1, 3, 3)),
                                            np.ones((4, 3, 1, 1))),
         r"depthwise_separable_conv2d: pointwise_weight .* over the depthwise step's 6 channels"),
        (lambda: depthwise_separable_conv2d(np.ones((1, 3, 5, 5)), np.ones((3, 1, 6, 3)),
                                            np.ones((4, 3, 1, 1))),
         r"depthwise_separable_conv2d \(depthwise step\): the kernel spans 6 along H"),
        (lambda: spatially_separable_conv2d(np.ones((1, 3, 5, 5)), np.ones((2, 3)), [1, 1]),
         (r"spatially_separable_conv2d: col must be \(3, kh\), one 1-D filter per channel, or "
         r"\(kh,\) shared by all channels, got shape \(2, 3\)")),
        (lambda: spatially_separable_conv2d(np.ones((1, 3, 5, 5)), [1], np.ones((3, 9))),
         "spatially_separable_conv2d: the kernel spans 9 along W"),
        (lambda: spatially_separable_conv2d(np.ones((1, 3, 5, 5)), [1], [1], stride=0),
         "spatially_separable_conv2d: stride must be >= 1"),
        (lambda: separable_factors(np.ones(3)),
         r"separable_factors: kernel must be a 2-D array \(kh, kw\), got shape \(3,\)"),
        (lambda: kernel_rank(np.ones((2, 2, 2))), "kernel_rank: kernel must be a 2-D array"),
        (lambda: depthwise_separable_weight(np.ones((3, 1, 3, 3)), np.ones((4, 2))),
         r"depthwise_separable_weight: pointwise_weight must be \(C_out, 3, 1, 1\)"),
        (lambda: depthwise_separable_weight(np.ones((3, 3, 3)), np.ones((4, 3))),
         r"depthwise_separable_weight: depthwise_weight must be \(C\*m, 1, kh, kw\)"),
        (lambda: depthwise_separable_weight(np.ones((3, 1, 3, 3)), np.ones((4, 3)), 2),
         "depthwise_separable_weight: depth_multiplier 2 does not divide the 3 depthwise"),
        (lambda: depthwise_separable_factors(np.ones((4, 3, 3, 3)), 5),
         r"depthwise_separable_factors: depth_multiplier 5 is more than min\(C_out, kh\*kw\)"),
        (lambda: depthwise_separable_factors(np.ones((4, 3, 3))),
         "depthwise_separable_factors: weight must be 4-D"),
        (lambda: flattened_conv2d(np.ones((1, 3, 5, 5)), np.ones((2, 4)), [1], [1]),
         r"flattened_conv2d: channel must be \(C_out, C_in\) with C_in = 3"),
        (lambda: flattened_weight(np.ones((2, 3)), np.ones((3, 3)), [1]),
         r"flattened_weight: col must be \(2, kh\)"),
    ],
)
def test_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@settings(max_examples=25, deadline=None)
@given(groups=st.integers(1, 4), per_in=st.integers(1, 3), per_out=st.integers(1, 3),
       k=st.integers(1, 3), seed=st.integers(0, 2**16))
def test_dense_weight_is_the_grouped_convolution_and_agrees_with_torch(groups, per_in, per_out,
                                                                     k, seed):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(seed)
    c_in, c_out = groups * per_in, groups * per_out
    x, w = rng.normal(size=(2, c_in, 5, 6)), rng.normal(size=(c_out, per_in, k, k))
    dense = dense_weight(w, groups)
    assert dense.shape == (c_out, c_in, k, k)
    expected = torch.nn.functional.conv2d(torch.from_numpy(x), torch.from_numpy(w),
                                          groups=groups).numpy()
    np.testing.assert_allclose(conv2d(x, w, groups=groups), expected, atol=1e-12)
    np.testing.assert_allclose(conv2d(x, dense), expected, atol=1e-12)
    # the zeros are structural: a fraction 1 - 1/G of the kernels, off the diagonal blocks
    zero = ~dense.any(axis=(2, 3))
    assert zero.sum() == c_out * c_in * (groups - 1) // groups
    np.testing.assert_array_equal(grouped_weight(dense, groups), w)


def test_dense_weight_contiguous_blocks_and_cost():
    """Filter o of group o // (C_out/G) reads input channels g*C_in/G ... (g+1)*C_in/G - 1."""
    w = np.arange(1, 7, dtype=float).reshape(6, 1, 1, 1)  # C_in = 3 groups of 1: depthwise x2
    pattern = dense_weight(w, 3)[:, :, 0, 0]
    np.testing.assert_array_equal(pattern, [[1, 0, 0], [2, 0, 0], [0, 3, 0], [0, 4, 0],
                                            [0, 0, 5], [0, 0, 6]])
    # the stored weights are those conv_cost counts: C_out * (C_in/G) * k^2
    w = np.ones((8, 2, 3, 3))
    assert w.size == conv_cost(8, 8, 3, 5, groups=4).params == conv_cost(8, 8, 3, 5).params // 4


def test_grouped_weight_is_the_closest_grouped_weight():
    rng = np.random.default_rng(2)
    full = rng.normal(size=(6, 4, 3, 3))
    best = dense_weight(grouped_weight(full, 2), 2)
    error = np.sum((full - best) ** 2)
    for _ in range(20):  # any other grouped weight is further away
        other = dense_weight(grouped_weight(full, 2) + rng.normal(size=(6, 2, 3, 3)) * 0.1, 2)
        assert np.sum((full - other) ** 2) > error
    np.testing.assert_allclose(error, np.sum(full ** 2) - np.sum(best ** 2))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: dense_weight(np.ones((5, 2, 3, 3)), 2),
         r"dense_weight: groups=2 must divide C_out=5"),
        (lambda: dense_weight(np.ones((4, 2)), 2),
         r"dense_weight: weight must be \(C_out, C_in/groups, \*k\)"),
        (lambda: dense_weight(np.ones((4, 2, 3, 3)), 0), "dense_weight: groups must be >= 1"),
        (lambda: grouped_weight(np.ones((4, 6, 3, 3)), 4),
         r"grouped_weight: groups=4 must divide C_in=6"),
    ],
)
def test_grouped_weight_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@settings(max_examples=25, deadline=None)
@given(c_out=st.integers(1, 3), c_in=st.integers(1, 5), kh=st.integers(1, 4),
       kw=st.integers(1, 4), seed=st.integers(0, 2**16))
def test_flattened_factors_reproduce_a_flattened_weight(c_out, c_in, kh, kw, seed):
    rng = np.random.default_rng(seed)
    w = flattened_weight(rng.normal(size=(c_out, c_in)), rng.normal(size=(c_out, kh)),
                         rng.normal(size=(c_out, kw)))
    channel, col, row = flattened_factors(w)
    assert channel.shape == (c_out, c_in) and col.shape == (c_out, kh) and row.shape == (c_out, kw)
    np.testing.assert_allclose(flattened_weight(channel, col, row), w, atol=1e-9)
    np.testing.assert_allclose(np.linalg.norm(col, axis=1), 1.0)
    assert np.all(np.take_along_axis(col, np.abs(col).argmax(1)[:, None], 1) > 0)


def _rank1_error(w, channel, col, row):
    return np.linalg.norm(w - np.einsum("c,i,j->cij", channel, col, row))


def test_flattened_factors_are_a_best_rank_one_approximation():
    rng = np.random.default_rng(11)
    w = rng.normal(size=(4, 6, 3, 3))
    channel, col, row = flattened_factors(w)
    for o in range(4):
        best = _rank1_error(w[o], channel[o], col[o], row[o])
        # a stationary point: each vector is the filter contracted with the other two
        np.testing.assert_allclose(np.einsum("cij,i,j->c", w[o], col[o], row[o]), channel[o],
                                   atol=1e-8)
        size = np.linalg.norm(channel[o])
        np.testing.assert_allclose(np.einsum("cij,c,j->i", w[o], channel[o], row[o]),
                                   size ** 2 * col[o], atol=1e-8)
        # no power iteration from a random start ends closer
        for _ in range(20):
            a, b = rng.normal(size=3), rng.normal(size=3)
            for _ in range(200):
                c = np.einsum("cij,i,j->c", w[o], a, b) / (a @ a) / (b @ b)
                a = np.einsum("cij,c,j->i", w[o], c, b) / (c @ c) / (b @ b)
                b = np.einsum("cij,c,i->j", w[o], c, a) / (c @ c) / (a @ a)
            assert best <= _rank1_error(w[o], c, a, b) + 1e-9
        # and it is closer than the flattened filter of its leading spatial kernel alone
        assert best < np.linalg.norm(w[o])


def test_flattened_factors_of_one_channel_are_the_svd():
    rng = np.random.default_rng(2)
    for _ in range(10):
        kernel = rng.normal(size=(3, 4))
        channel, col, row = flattened_factors(kernel[None, None])
        col_s, row_s = separable_factors(kernel)
        np.testing.assert_allclose(channel[0, 0] * np.outer(col[0], row[0]),
                                   np.outer(col_s, row_s), atol=1e-9)


def test_flattened_factors_keep_float32_and_zero_filters_and_check_arguments():
    w = np.zeros((2, 3, 3, 3), dtype=np.float32)
    w[1] = flattened_weight([[1.0, 2.0, 3.0]], [1.0, 0.0, -1.0], [1.0, 2.0, 1.0])[0]
    channel, col, row = flattened_factors(w)
    assert channel.dtype == np.float32 and np.all(np.isfinite(channel))
    np.testing.assert_allclose(flattened_weight(channel, col, row), w, atol=1e-6)
    with pytest.raises(ValueError, match=r"flattened_factors: weight must be a 4-D array"):
        flattened_factors(np.ones((3, 3, 3)))
    with pytest.raises(ValueError, match="steps must be >= 1"):
        flattened_factors(w, steps=0)
    with pytest.raises(ValueError, match="tol must be a number >= 0"):
        flattened_factors(w, tol=-1.0)
