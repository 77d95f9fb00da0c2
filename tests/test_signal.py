"""convlab.signal against scipy.signal (2-D) and numpy (1-D)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from convlab import conv2d, convolve1d, convolve2d, correlate1d, correlate2d

signal = pytest.importorskip("scipy.signal")

MODES = ("full", "valid", "same")
COURSE_INPUT = [[3, 3, 2, 1, 0], [0, 0, 1, 3, 1], [3, 1, 2, 2, 3], [2, 0, 0, 2, 2], [2, 0, 0, 0, 1]]
COURSE_KERNEL = [[0, 1, 2], [2, 2, 0], [0, 1, 2]]


def _grid(max_side):
    values = st.floats(-10, 10, allow_nan=False, width=64)
    shape = st.tuples(st.integers(1, max_side), st.integers(1, max_side))
    return arrays(np.float64, shape, elements=values)


def test_course_example_correlate_valid():
    out = correlate2d(COURSE_INPUT, COURSE_KERNEL)
    np.testing.assert_array_equal(out, [[12, 12, 17], [10, 17, 19], [9, 6, 14]])
    assert out.dtype == np.float64


def test_correlate2d_is_conv2d():
    rng = np.random.default_rng(0)
    a, k = rng.normal(size=(6, 7)), rng.normal(size=(3, 2))
    np.testing.assert_allclose(correlate2d(a, k), conv2d(a[None, None], k[None, None])[0, 0])


@settings(max_examples=60, deadline=None)
@given(a=_grid(7), k=_grid(5), mode=st.sampled_from(MODES))
def test_2d_agrees_with_scipy(a, k, mode):
    if mode == "valid" and (k.shape[0] > a.shape[0] or k.shape[1] > a.shape[1]):
        with pytest.raises(ValueError, match="mode='valid' needs the kernel to fit"):
            correlate2d(a, k, mode)
        return
    np.testing.assert_allclose(correlate2d(a, k, mode), signal.correlate2d(a, k, mode),
                               atol=1e-9)
    np.testing.assert_allclose(convolve2d(a, k, mode), signal.convolve2d(a, k, mode), atol=1e-9)


@pytest.mark.parametrize("kshape", [(2, 2), (4, 3), (1, 2), (3, 3), (2, 5)])
def test_same_mode_centring_of_even_kernels(kshape):
    """correlate2d and convolve2d centre 'same' differently for even kernels, as SciPy does."""
    rng = np.random.default_rng(1)
    a, k = rng.normal(size=(6, 7)), rng.normal(size=kshape)
    same_c, same_v = correlate2d(a, k, "same"), convolve2d(a, k, "same")
    np.testing.assert_allclose(same_c, signal.correlate2d(a, k, "same"), atol=1e-12)
    np.testing.assert_allclose(same_v, signal.convolve2d(a, k, "same"), atol=1e-12)
    full = correlate2d(a, k, "full")
    (kh, kw) = kshape
    # correlate2d pads (k-1)//2 zeros on the low side: full from index k//2 on
    np.testing.assert_allclose(same_c, full[kh // 2:kh // 2 + 6, kw // 2:kw // 2 + 7])
    flipped_same = correlate2d(a, k[::-1, ::-1], "same")
    assert np.allclose(same_v, flipped_same) == (kh % 2 == 1 and kw % 2 == 1)


@settings(max_examples=30, deadline=None)
@given(a=_grid(6), k=_grid(4))
def test_convolve_is_correlate_with_the_flipped_kernel(a, k):
    for mode in ("full", "valid"):
        if mode == "valid" and (k.shape[0] > a.shape[0] or k.shape[1] > a.shape[1]):
            continue
        np.testing.assert_allclose(convolve2d(a, k, mode), correlate2d(a, k[::-1, ::-1], mode),
                                   atol=1e-12)


@settings(max_examples=60, deadline=None)
@given(
    a=arrays(np.float64, st.integers(1, 9), elements=st.floats(-10, 10, width=64)),
    k=arrays(np.float64, st.integers(1, 6), elements=st.floats(-10, 10, width=64)),
    mode=st.sampled_from(MODES),
)
def test_1d_agrees_with_numpy(a, k, mode):
    if len(k) > len(a) and mode != "full":
        # NumPy swaps the arrays here; convlab keeps 'same' the size of a and refuses 'valid'
        if mode == "valid":
            with pytest.raises(ValueError, match="mode='valid'"):
                correlate1d(a, k, mode)
        else:
            assert correlate1d(a, k, mode).shape == a.shape
        return
    np.testing.assert_allclose(correlate1d(a, k, mode), np.correlate(a, k, mode), atol=1e-9)
    np.testing.assert_allclose(convolve1d(a, k, mode), np.convolve(a, k, mode), atol=1e-9)


def test_1d_worked_numbers():
    np.testing.assert_array_equal(correlate1d([1, 2, 3], [0, 1, 0.5], "full"),
                                  [0.5, 2, 3.5, 3, 0])
    np.testing.assert_array_equal(convolve1d([1, 2, 3], [0, 1, 0.5], "full"), [0, 1, 2.5, 4, 1.5])
    np.testing.assert_array_equal(correlate1d([1, 2, 4, 8], [1, -1], "same"), [-1, -1, -2, -4])
    np.testing.assert_array_equal(convolve1d([1, 2, 4, 8], [1, -1], "same"), [1, 1, 2, 4])


def test_dtypes():
    a32 = np.ones((4, 4), np.float32)
    assert correlate2d(a32, np.ones((2, 2), np.float32)).dtype == np.float32
    assert convolve1d(np.ones(4, np.float32), np.ones(2, np.float32)).dtype == np.float32
    assert correlate2d(np.ones((4, 4), int), np.ones((2, 2), int)).dtype == np.float64
    assert convolve1d([1, 2, 3], [1, 1]).dtype == np.float64


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: correlate2d(np.ones((3, 3)), np.ones((4, 2))),
         r"correlate2d: mode='valid' needs the kernel to fit inside a, but k has shape \(4, 2\)"),
        (lambda: convolve2d(np.ones((3, 3)), np.ones((2, 2)), mode="middle"),
         "convolve2d: mode must be 'full', 'valid' or 'same', got 'middle'"),
        (lambda: correlate2d(np.ones(3), np.ones((2, 2))),
         r"correlate2d: a must be a 2-D array \(H, W\), got shape \(3,\)"),
        (lambda: convolve2d(np.ones((3, 3)), np.ones((1, 2, 2))),
         r"convolve2d: k must be a 2-D array \(kH, kW\), got shape \(1, 2, 2\)"),
        (lambda: correlate1d(np.ones((3, 3)), [1]),
         r"correlate1d: a must be a 1-D array \(L\)"),
        (lambda: convolve1d([], [1]), r"convolve1d: a is empty"),
    ],
)
def test_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()
