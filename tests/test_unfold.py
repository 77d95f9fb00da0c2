"""im2col / col2im against torch's unfold / fold; conv_matrix as the matrix of conv2d."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from convlab import col2im, conv2d, conv_matrix, conv_transpose2d, im2col


@st.composite
def _layout(draw):
    """A random (input shape, kernel_size, stride, padding, dilation) whose kernel fits."""
    pair = st.tuples
    k = draw(pair(st.integers(1, 3), st.integers(1, 3)))
    s = draw(pair(st.integers(1, 3), st.integers(1, 3)))
    d = draw(pair(st.integers(1, 2), st.integers(1, 2)))
    p = draw(pair(st.integers(0, 2), st.integers(0, 2)))
    hw = [draw(st.integers(max(1, dd * (kk - 1) + 1 - 2 * pp), 7)) for kk, dd, pp in zip(k, d, p)]
    n, c = draw(st.integers(1, 2)), draw(st.integers(1, 3))
    return (n, c, *hw), k, s, p, d


@settings(max_examples=40, deadline=None)
@given(layout=_layout(), seed=st.integers(0, 2**16))
def test_im2col_and_col2im_agree_with_torch(layout, seed):
    torch = pytest.importorskip("torch")
    functional = torch.nn.functional
    shape, k, s, p, d = layout
    x = np.random.default_rng(seed).normal(size=shape)
    cols = im2col(x, k, s, p, d)
    expected = functional.unfold(torch.from_numpy(x), k, dilation=d, padding=p, stride=s)
    np.testing.assert_allclose(cols, expected.numpy(), rtol=0, atol=0)
    back = col2im(cols, shape[2:], k, s, p, d)
    expected = functional.fold(torch.from_numpy(cols), shape[2:], k, dilation=d, padding=p,
                               stride=s)
    np.testing.assert_allclose(back, expected.numpy(), atol=1e-12)


@settings(max_examples=30, deadline=None)
@given(layout=_layout(), c_out=st.integers(1, 3), seed=st.integers(0, 2**16))
def test_im2col_times_weight_is_conv2d(layout, c_out, seed):
    shape, k, s, p, d = layout
    rng = np.random.default_rng(seed)
    x, w = rng.normal(size=shape), rng.normal(size=(c_out, shape[1], *k))
    y = conv2d(x, w, stride=s, padding=p, dilation=d)
    cols = im2col(x, k, s, p, d)
    np.testing.assert_allclose(w.reshape(c_out, -1) @ cols, y.reshape(*y.shape[:2], -1),
                               atol=1e-12)


def _cover(size, out, k, s, p, d):
    """How many of ``out`` windows cover each of ``size`` positions along one axis."""
    counts = np.zeros(size)
    for r in range(out):
        for i in range(k):
            position = r * s + i * d - p
            if 0 <= position < size:
                counts[position] += 1
    return counts


@settings(max_examples=30, deadline=None)
@given(layout=_layout(), seed=st.integers(0, 2**16))
def test_col2im_of_im2col_counts_the_windows_covering_each_pixel(layout, seed):
    shape, k, s, p, d = layout
    x = np.random.default_rng(seed).normal(size=shape)
    out = conv2d(x, np.zeros((1, shape[1], *k)), None, s, p, d).shape[2:]
    count = np.outer(*[_cover(*args) for args in zip(shape[2:], out, k, s, p, d)])
    np.testing.assert_allclose(col2im(im2col(x, k, s, p, d), shape[2:], k, s, p, d), x * count,
                               atol=1e-12)


def test_worked_layout():
    """One 3x3 input, 2x2 kernel: columns are the flattened windows, in row-major order."""
    x = np.arange(9.0).reshape(1, 3, 3)
    np.testing.assert_array_equal(
        im2col(x, 2), [[0, 1, 3, 4], [1, 2, 4, 5], [3, 4, 6, 7], [4, 5, 7, 8]]
    )
    np.testing.assert_array_equal(col2im(im2col(x, 2), 3, 2)[0],
                                  [[0, 2, 2], [6, 16, 10], [6, 14, 8]])


def test_unbatched_and_dtypes():
    x = np.arange(2 * 4 * 4, dtype=np.float32).reshape(2, 4, 4)
    cols = im2col(x, 3, padding=1)
    assert cols.shape == (18, 16) and cols.dtype == np.float32
    np.testing.assert_array_equal(cols, im2col(x[None], 3, padding=1)[0])
    assert col2im(cols, (4, 4), 3, padding=1).shape == (2, 4, 4)
    assert im2col(np.ones((1, 1, 2, 2), int), 1).dtype == np.float64


def test_im2col_never_returns_a_view_of_the_input():
    x = np.ones((1, 1, 3, 3))
    cols = im2col(x, 1)
    cols[0, 0, 0] = 5.0
    assert x[0, 0, 0, 0] == 1.0


def test_conv_matrix_course_shapes():
    """Chapter 06: a 3x3 kernel over a 4x4 input is a 4x16 matrix; its transpose maps 2x2 to 4x4."""
    kernel = np.arange(1.0, 10.0).reshape(3, 3)
    m = conv_matrix(kernel, 4)
    assert m.shape == (4, 16)
    # each row holds the 9 kernel entries at its window's pixels, zeros elsewhere
    assert np.count_nonzero(m, axis=1).tolist() == [9, 9, 9, 9]
    np.testing.assert_array_equal(m[0].reshape(4, 4)[:3, :3], kernel)
    np.testing.assert_array_equal(m[3].reshape(4, 4)[1:, 1:], kernel)
    assert (m.T @ np.ones(4)).reshape(4, 4).shape == (4, 4)


@settings(max_examples=40, deadline=None)
@given(layout=_layout(), seed=st.integers(0, 2**16))
def test_conv_matrix_is_conv2d_and_its_transpose_is_conv_transpose2d(layout, seed):
    shape, k, s, p, d = layout
    h, w = shape[2:]
    rng = np.random.default_rng(seed)
    kernel, x = rng.normal(size=k), rng.normal(size=(h, w))
    m = conv_matrix(kernel, (h, w), s, p, d)
    y = conv2d(x[None, None], kernel[None, None], None, s, p, d)[0, 0]
    assert m.shape == (y.size, h * w)
    np.testing.assert_allclose(m @ x.ravel(), y.ravel(), atol=1e-12)

    g = rng.normal(size=y.shape)
    # output_padding gives back the rows and columns the forward conv's floor dropped
    full = [(o - 1) * ss - 2 * pp + dd * (kk - 1) + 1
            for o, ss, pp, dd, kk in zip(y.shape, s, p, d, k)]
    op = tuple(i - f for i, f in zip((h, w), full))
    t = conv_transpose2d(g[None, None], kernel[None, None], None, s, p, op, 1, d)[0, 0]
    np.testing.assert_allclose((m.T @ g.ravel()).reshape(h, w), t, atol=1e-12)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: im2col(np.ones((3, 3)), 2),
         r"im2col: input must be 3-D \(C, H, W\) or 4-D \(N, C, H, W\), got shape \(3, 3\)"),
        (lambda: im2col(np.ones((1, 1, 3, 3)), 4), "im2col: the kernel spans 4 along H"),
        (lambda: im2col(np.ones((1, 1, 3, 3)), 2, stride=0), "im2col: stride must be >= 1"),
        (lambda: col2im(np.ones((1, 10, 4)), 3, 2),
         r"col2im: cols has 10 rows \(axis 1\) but a 2x2 kernel takes 4 per channel"),
        (lambda: col2im(np.ones((1, 8, 5)), 3, 2),
         r"col2im: cols has 5 columns .* fits 2x2 = 4 times in a 3x3 image"),
        (lambda: col2im(np.ones(4), 3, 2), r"col2im: cols must be 3-D \(N, C\*kh\*kw, L\)"),
        (lambda: conv_matrix(np.ones((1, 3, 3)), 4),
         r"conv_matrix: kernel must be a 2-D array \(kh, kw\)"),
        (lambda: conv_matrix(np.ones((3, 3)), 2), "conv_matrix: the kernel spans 3 along H"),
        (lambda: conv_matrix(np.ones((3, 3)), (4, 4, 4)), "conv_matrix: input_size must be"),
    ],
)
def test_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_an_empty_batch_gives_empty_columns():
    cols = im2col(np.ones((0, 2, 5, 5)), 3, padding=1)
    assert cols.shape == (0, 18, 25)
    assert col2im(cols, 5, 3, padding=1).shape == (0, 2, 5, 5)
    torch = pytest.importorskip("torch")
    assert torch.nn.functional.unfold(torch.ones(0, 2, 5, 5), 3, padding=1).shape == cols.shape
