"""convlab.grad: PyTorch's conv*_input / conv*_weight, finite differences, and the ERF."""

import numpy as np
import pytest
from hypothesis import given
from test_conv import CONV, CONV_T, EXAMPLES, TOLERANCE, conv_args, examples

import convlab as cl

INPUT = {1: cl.conv1d_input, 2: cl.conv2d_input, 3: cl.conv3d_input}
WEIGHT = {1: cl.conv1d_weight, 2: cl.conv2d_weight, 3: cl.conv3d_weight}


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


def _grad_output(x, w, kwargs, seed=0):
    """A random upstream gradient shaped like ``conv(x, w)``, in x's dtype."""
    shape = CONV[w.ndim - 2](x, w, **kwargs).shape
    return np.random.default_rng(seed).normal(size=shape).astype(x.dtype)


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_input_and_weight_gradients_match_torch(torch, nd):
    @examples(EXAMPLES[nd])
    @given(conv_args(nd, string_padding=False, unbatched=False))
    def check(args):
        x, w, _, kwargs = args
        g = _grad_output(x, w, kwargs)
        tw, tg = torch.from_numpy(w), torch.from_numpy(g)
        expected_dx = getattr(torch.nn.grad, f"conv{nd}d_input")(x.shape, tw, tg, **kwargs)
        expected_dw = getattr(torch.nn.grad, f"conv{nd}d_weight")(torch.from_numpy(x), w.shape,
                                                                  tg, **kwargs)
        dx = INPUT[nd](x.shape, w, g, **kwargs)
        dw = WEIGHT[nd](x, w.shape, g, **kwargs)
        assert dx.dtype == dw.dtype == x.dtype
        assert dx.shape == x.shape and dw.shape == w.shape
        np.testing.assert_allclose(dx, expected_dx.numpy(), **TOLERANCE[x.dtype.type])
        np.testing.assert_allclose(dw, expected_dw.numpy(), **TOLERANCE[x.dtype.type])

    check()


def _central_differences(f, a, eps=1e-3):
    """``df/da`` of a scalar function by central differences, one element at a time."""
    grad = np.zeros_like(a)
    for index in np.ndindex(a.shape):
        step = np.zeros_like(a)
        step[index] = eps
        grad[index] = (f(a + step) - f(a - step)) / (2 * eps)
    return grad


CASES = [  # (nd, input shape, weight shape, kwargs): leftover rows under a stride, groups, ...
    (1, (2, 2, 9), (3, 2, 3), {"stride": 2, "padding": 1}),
    (2, (1, 4, 6, 7), (2, 2, 3, 2),
     {"stride": (2, 3), "padding": (1, 0), "dilation": (1, 2), "groups": 2}),
    (2, (2, 1, 5, 5), (2, 1, 2, 2), {"dilation": 2, "padding": 2}),
    (3, (1, 2, 4, 5, 4), (2, 1, 2, 2, 3),
     {"stride": (1, 2, 1), "groups": 2, "padding": (0, 1, 1)}),
]


@pytest.mark.parametrize("nd, x_shape, w_shape, kwargs", CASES)
def test_gradients_match_central_differences(nd, x_shape, w_shape, kwargs):
    rng = np.random.default_rng(nd)
    x, w = rng.normal(size=x_shape), rng.normal(size=w_shape)
    g = _grad_output(x, w, kwargs, seed=1)

    def loss(x, w):
        return np.sum(CONV[nd](x, w, **kwargs) * g)

    np.testing.assert_allclose(INPUT[nd](x.shape, w, g, **kwargs),
                               _central_differences(lambda a: loss(a, w), x), rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(WEIGHT[nd](x, w.shape, g, **kwargs),
                               _central_differences(lambda a: loss(x, a), w), rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("size, output_padding", [(7, 0), (8, 1)])
def test_input_gradient_is_a_transposed_convolution(size, output_padding):
    """Stride 2, padding 1, 3x3: inputs of 7 and 8 both give 4 outputs; output_padding tells."""
    rng = np.random.default_rng(size)
    w = rng.normal(size=(3, 2, 3, 3))
    g = rng.normal(size=(1, 3, 4, 4))
    dx = cl.conv2d_input((1, 2, size, size), w, g, stride=2, padding=1)
    assert dx.shape == (1, 2, size, size)
    np.testing.assert_allclose(
        dx, cl.conv_transpose2d(g, w, stride=2, padding=1, output_padding=output_padding))


def test_weight_gradient_of_a_single_output_is_its_window():
    x = np.arange(25.0).reshape(1, 1, 5, 5)
    g = np.zeros((1, 1, 2, 2))
    g[0, 0, 1, 0] = 1.0  # stride 2: output (1, 0) reads rows 2..4, columns 0..2
    np.testing.assert_array_equal(cl.conv2d_weight(x, (1, 1, 3, 3), g, stride=2)[0, 0],
                                  x[0, 0, 2:5, 0:3])


def test_gradients_keep_float32():
    x = np.ones((1, 1, 4, 4), np.float32)
    w = np.ones((1, 1, 3, 3), np.float32)
    g = np.ones((1, 1, 2, 2), np.float32)
    assert cl.conv2d_input(x.shape, w, g).dtype == np.float32
    assert cl.conv2d_weight(x, w.shape, g).dtype == np.float32


def test_gradients_do_not_modify_their_arguments():
    rng = np.random.default_rng(5)
    x, w, g = rng.normal(size=(1, 2, 5, 5)), rng.normal(size=(3, 2, 3, 3)), \
        rng.normal(size=(1, 3, 3, 3))
    copies = x.copy(), w.copy(), g.copy()
    cl.conv2d_input(x.shape, w, g)
    cl.conv2d_weight(x, w.shape, g)
    for a, c in zip((x, w, g), copies):
        np.testing.assert_array_equal(a, c)


# --- the effective receptive field -------------------------------------------------------------


def test_erf_of_two_3x3_box_layers_is_the_5x5_tent():
    erf = cl.effective_receptive_field([np.ones((3, 3))] * 2, 7)
    tent = np.outer([0, 1, 2, 3, 2, 1, 0], [0, 1, 2, 3, 2, 1, 0])
    np.testing.assert_array_equal(erf, tent)


@pytest.mark.parametrize("layers, width", [(1, 3), (2, 5), (3, 7)])
def test_erf_support_is_the_theoretical_receptive_field(layers, width):
    rng = np.random.default_rng(layers)
    kernels = [rng.uniform(0.5, 1.5, size=(3, 3)) for _ in range(layers)]
    erf = cl.effective_receptive_field(kernels, 11)
    rows, cols = np.nonzero(erf)
    assert np.ptp(rows) + 1 == np.ptp(cols) + 1 == width
    assert erf[5, 5] > 0  # centred on the middle output


def test_erf_with_dilation_1_2_4_reaches_15_pixels():
    erf = cl.effective_receptive_field([np.ones((3, 3))] * 3, 21, dilation=[1, 2, 4])
    cols = np.nonzero(erf.sum(axis=0))[0]
    assert (cols.min(), cols.max()) == (3, 17)


def test_erf_equals_the_gradient_of_the_centre_output_by_finite_differences():
    rng = np.random.default_rng(6)
    kernels = [rng.normal(size=(3, 3)), rng.normal(size=(2, 2))]
    erf = cl.effective_receptive_field(kernels, 8, stride=[2, 1], padding=[1, 0])

    def centre(image):
        y = image[None, None]
        for k, s, p in zip(kernels, (2, 1), (1, 0)):
            y = cl.conv2d(y, k[None, None], stride=s, padding=p)
        return y[0, 0, y.shape[2] // 2, y.shape[3] // 2]

    np.testing.assert_allclose(erf, _central_differences(centre, rng.normal(size=(8, 8))),
                               atol=1e-9)


def test_output_padding_recovers_the_input_size_a_stride_dropped():
    """Size 6, stride 2, padding 1, k 3: 3 outputs; transposed gives 5, output_padding=1 gives 6."""
    for nd in (1, 2, 3):
        x = np.zeros((1, 1) + (6,) * nd)
        w = np.ones((1, 1) + (3,) * nd)
        y = CONV[nd](x, w, stride=2, padding=1)
        assert CONV_T[nd](y, w, stride=2, padding=1, output_padding=1).shape == x.shape


@pytest.mark.parametrize("kernel, size, row, cols", [
    ((1, 5), (5, 3), 2, slice(0, 3)),  # 'same' pads each axis by its own kernel size
    ((5, 1), (3, 5), slice(0, 3), 2),
    ((3, 5), (7, 9), slice(2, 5), slice(2, 7)),
])
def test_erf_same_padding_of_a_non_square_kernel(kernel, size, row, cols):
    want = np.zeros(size)
    want[row, cols] = 1.0
    np.testing.assert_array_equal(cl.effective_receptive_field([np.ones(kernel)], size), want)


def test_an_empty_batch_has_empty_gradients(torch):
    w, g = np.ones((3, 2, 3, 3)), np.ones((0, 3, 3, 3))
    assert cl.conv2d_input((0, 2, 5, 5), w, g).shape == (0, 2, 5, 5)
    assert torch.nn.grad.conv2d_input((0, 2, 5, 5), torch.from_numpy(w),
                                      torch.from_numpy(g)).shape == (0, 2, 5, 5)
    np.testing.assert_array_equal(cl.conv2d_weight(np.ones((0, 2, 5, 5)), w.shape, g),
                                  np.zeros(w.shape))


def test_erf_through_relus_matches_torch_autograd(torch):
    rng = np.random.default_rng(5)
    kernels = [rng.normal(size=(3, 3)) for _ in range(3)] + [np.full((2, 2), 0.25)]
    x = rng.normal(size=(17, 17))
    strides, dilations, paddings = [1, 2, 1, 2], [1, 1, 2, 1], [1, 1, 2, 0]
    erf = cl.effective_receptive_field(kernels, 17, stride=strides, dilation=dilations,
                                       padding=paddings, relu=True, input=x)
    h = xt = torch.tensor(x[None, None], requires_grad=True)
    for n, (k, s, d, p) in enumerate(zip(kernels, strides, dilations, paddings)):
        h = torch.nn.functional.conv2d(h, torch.tensor(k[None, None]), stride=s, padding=p,
                                       dilation=d)
        if n < len(kernels) - 1:
            h = torch.relu(h)
    h[0, 0, h.shape[2] // 2, h.shape[3] // 2].backward()
    assert np.allclose(erf, xt.grad[0, 0].numpy())
    assert np.any(erf != cl.effective_receptive_field(
        kernels, 17, stride=strides, dilation=dilations, padding=paddings))


def test_erf_relu_needs_an_input_and_a_linear_stack_refuses_one():
    with pytest.raises(ValueError, match="relu=True the gradient depends on the input"):
        cl.effective_receptive_field([np.ones((3, 3))], 9, relu=True)
    with pytest.raises(ValueError, match=r"input must have the shape input_size \(9, 9\)"):
        cl.effective_receptive_field([np.ones((3, 3))], 9, relu=True, input=np.ones((8, 9)))
    with pytest.raises(ValueError, match="input is only used with relu=True"):
        cl.effective_receptive_field([np.ones((3, 3))], 9, input=np.ones((9, 9)))


@pytest.mark.parametrize(("k", "n"), [(3, 1), (3, 4), (5, 3), (2, 6)])
def test_erf_radius_of_uniform_stacks_is_the_spread_of_a_sum_of_uniform_offsets(k, n):
    erf = cl.effective_receptive_field([np.ones((k, k))] * n, 41, padding="valid")
    assert cl.erf_radius(erf) == pytest.approx(np.sqrt(n * (k * k - 1) / 12))


def test_erf_radius_refuses_a_zero_map():
    with pytest.raises(ValueError, match="erf_radius: erf is zero everywhere"):
        cl.erf_radius(np.zeros((5, 5)))
