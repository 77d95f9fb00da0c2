"""The loop reference agrees with the fast conv2d: values, shapes, dtypes and error messages."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from convlab import conv2d, conv2d_loops

COURSE_INPUT = [[3, 3, 2, 1, 0], [0, 0, 1, 3, 1], [3, 1, 2, 2, 3], [2, 0, 0, 2, 2], [2, 0, 0, 0, 1]]
COURSE_KERNEL = [[0, 1, 2], [2, 2, 0], [0, 1, 2]]


@st.composite
def _conv_case(draw):
    """Small random conv2d arguments whose kernel fits (loops are slow)."""
    groups = draw(st.integers(1, 2))
    c_in, c_out = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    stride = draw(st.tuples(st.integers(1, 2), st.integers(1, 2)))
    dilation = draw(st.tuples(st.integers(1, 2), st.integers(1, 2)))
    if stride == (1, 1) and draw(st.booleans()):
        padding = draw(st.sampled_from(["same", "valid"]))
        pad = (0, 0)
    else:
        padding = pad = draw(st.tuples(st.integers(0, 1), st.integers(0, 1)))
    h = draw(st.integers(max(1, dilation[0] * (kh - 1) + 1 - 2 * pad[0]), 5))
    w = draw(st.integers(max(1, dilation[1] * (kw - 1) + 1 - 2 * pad[1]), 5))
    return {
        "shape": (draw(st.integers(1, 2)), c_in, h, w),
        "weight_shape": (c_out, c_in // groups, kh, kw),
        "bias": draw(st.booleans()),
        "stride": stride,
        "padding": padding,
        "dilation": dilation,
        "groups": groups,
    }


@settings(max_examples=40, deadline=None)
@given(case=_conv_case(), seed=st.integers(0, 2**16))
def test_loops_agree_with_conv2d(case, seed):
    rng = np.random.default_rng(seed)
    x, w = rng.normal(size=case["shape"]), rng.normal(size=case["weight_shape"])
    b = rng.normal(size=w.shape[0]) if case["bias"] else None
    args = (case["stride"], case["padding"], case["dilation"], case["groups"])
    expected = conv2d(x, w, b, *args)
    got = conv2d_loops(x, w, b, *args)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, atol=1e-12)


def test_course_example_and_its_bias():
    """Chapter 02: the 5x5 input with the 3x3 kernel, stride 1, no padding."""
    x = np.array(COURSE_INPUT)[None, None]
    w = np.array(COURSE_KERNEL)[None, None]
    expected = np.array([[12, 12, 17], [10, 17, 19], [9, 6, 14]])
    np.testing.assert_array_equal(conv2d_loops(x, w)[0, 0], expected)
    np.testing.assert_array_equal(conv2d_loops(x, w, [1])[0, 0], expected + 1)


def test_unbatched_and_dtypes():
    rng = np.random.default_rng(0)
    x, w = rng.normal(size=(2, 4, 4)).astype(np.float32), rng.normal(size=(3, 2, 2, 2))
    y = conv2d_loops(x, w.astype(np.float32), padding=1)
    assert y.shape == (3, 5, 5) and y.dtype == np.float32
    np.testing.assert_allclose(y, conv2d(x, w.astype(np.float32), padding=1), rtol=1e-5)
    assert conv2d_loops(np.ones((1, 2, 2), int), np.ones((1, 1, 1, 1), int)).dtype == np.float64


K2 = (1, 1, 2, 2)
BAD_ARGUMENTS = [  # (input shape, weight shape, other arguments): one fault each
    ((3, 3), K2, {}),
    ((1, 2, 3, 3), (1, 2, 2), {}),
    ((1, 3, 3, 3), (1, 2, 2, 2), {}),
    ((1, 4, 3, 3), (3, 2, 2, 2), {"groups": 2}),
    ((1, 4, 3, 3), (2, 2, 2, 2), {"groups": 0}),
    ((1, 2, 3, 3), (2, 2, 2, 2), {"bias": np.ones(3)}),
    ((1, 1, 3, 3), (1, 1, 4, 1), {}),
    ((1, 1, 3, 3), K2, {"dilation": 3}),
    ((1, 1, 3, 3), K2, {"stride": (1, 0)}),
    ((1, 1, 3, 3), K2, {"stride": 2, "padding": "same"}),
    ((1, 1, 3, 3), K2, {"padding": "half"}),
    ((1, 1, 3, 3), K2, {"padding": (1, 1, 1)}),
    ((1, 1, 3, 3), K2, {"padding": -1}),
]


@pytest.mark.parametrize(("input_shape", "weight_shape", "options"), BAD_ARGUMENTS)
def test_same_errors_as_conv2d(input_shape, weight_shape, options):
    x, w = np.ones(input_shape), np.ones(weight_shape)
    with pytest.raises(ValueError) as fast:
        conv2d(x, w, **options)
    with pytest.raises(ValueError) as loops:
        conv2d_loops(x, w, **options)
    assert str(loops.value).startswith("conv2d_loops: ")
    assert str(loops.value).replace("conv2d_loops", "conv2d") == str(fast.value)


def test_same_type_error_for_non_numbers():
    with pytest.raises(TypeError, match="conv2d_loops: input must hold real numbers"):
        conv2d_loops(np.array([["a"]]), np.ones((1, 1, 1, 1)))
