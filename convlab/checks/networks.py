"""References and task data of chapter 15: putting it together · 综合实践 (a CNN in convlab).

The mistakes this chapter diagnoses (each a hint of a ``Reference`` below, or a message of
``check_network``):

* the weight gradient of a strided convolution taken over stride-1 windows (the stride
  ignored), with the kernel flipped, from one output position only, or without the upstream
  gradient (the input's values summed);
* the input gradient of a pixel collected from the flipped kernel (the transposed convolution
  needs the tap that *read* the pixel), from one window only, from windows one pixel apart
  (the stride ignored), or without the upstream gradient;
* the bias gradient taken as the mean of the upstream gradient instead of its sum;
* a depthwise-separable block counted with a full ``C_in x C_in`` depthwise layer, with a
  ``k x k`` pointwise layer, or without the biases of one of its two layers;
* its multiply-adds counted on an output shrunk by a padding forgotten, or with the
  pointwise layer ``k x k``;
* a grouped layer's parameters divided by the groups twice (``C_in/G x C_out/G``), not divided
  at all, or without the biases;
* the backward pass of a convolution written with the kernel flipped, without the stride, or
  without cropping the padding back off (implement task);
* max-pooling's gradient sent to every pixel of the window, shared as an average, or to the
  maximum's mirror image (row and column of the window swapped: the find-the-bug task);
* the parameter saving of a whole network taken from the replaced layers alone, upside down,
  or without the biases;
* a separable network that is still standard, or is separable in its first layer too (one
  input channel: nothing to separate), or that is built but not trained (``check_network``).

Each ``Reference`` is the right computation of a kind of answer with its usual mistakes; the
check functions of ``convlab.checks`` take one and name the mistake a wrong answer makes.

References: CS231n's ``layers.py`` (forward/backward pairs, gradient checks); Dumoulin & Visin,
"A guide to convolution arithmetic" (2016), §4 (the backward pass is a transposed convolution);
Howard et al., "MobileNets" (2017) (depthwise-separable costs); Krizhevsky et al. (2012) and
Xie et al., "ResNeXt" (2017) (grouped convolution).
"""


import numpy as np

from ..arithmetic import conv_cost, depthwise_separable_cost
from ..grad import conv2d_input, conv2d_weight
from . import CheckFailed, Reference, _distinct, _ok, _with
from .grouped import GROUPED_PARAMS  # chapter 10's: one reference per kind of answer

__all__ = [
    "BIAS_GRAD",
    "CONV_INPUT_GRAD",
    "CONV_WEIGHT_GRAD",
    "INPUT_GRAD_ENTRY",
    "MAXPOOL_BACKWARD",
    "NETWORK_SAVING",
    "SEPARABLE_MACS",
    "SEPARABLE_PARAMS",
    "STANDARD_PARAMS",
    "WEIGHT_GRAD_ENTRY",
    "check_network",
]


# --- one entry of a gradient, by hand -----------------------------------------------------------


def _weight_entry(x, dout, stride, index, step=None, flip=False, first_only=False,
                  ones=False):
    """``dL/dw[c, a, b]`` of ``y = conv2d(x[None], w[None], stride=stride)`` for ``dout``.

    x ``(C, H, W)``, dout ``(H_out, W_out)``, a 3x3 kernel; the keywords make the mistakes.
    """
    x, dout = np.asarray(x, dtype=float), np.asarray(dout, dtype=float)
    c, a, b = index
    if flip:
        a, b = 2 - a, 2 - b
    step = stride if step is None else step
    if ones:
        dout = np.ones_like(dout)
    total = 0.0
    for r in range(dout.shape[0]):
        for q in range(dout.shape[1]):
            if first_only and (r, q) != (0, 0):
                continue
            total += dout[r, q] * x[c, r * step + a, q * step + b]
    return total


WEIGHT_GRAD_ENTRY = Reference(
    name="convlab.conv2d_weight",
    compute=lambda x, dout, stride, index: float(conv2d_weight(
        np.asarray(x, dtype=float)[None], (1, len(x), 3, 3),
        np.asarray(dout, dtype=float)[None, None], stride)[(0, *index)]),
    mistakes={
        "you took the windows one pixel apart: with stride {stride}, output (r, q)'s tap "
        "(a, b) reads input (r·{stride} + a, q·{stride} + b)": _with(_weight_entry, step=1),
        "did you flip the kernel? Tap (a, b) multiplies the input pixel at offset (a, b) of "
        "each window, as it is": _with(_weight_entry, flip=True),
        "that is one output's term only: the weight is used by every output, so its gradient "
        "sums over all of them": _with(_weight_entry, first_only=True),
        "you added the input values only: each is weighted by the upstream gradient of the "
        "output that read it": _with(_weight_entry, ones=True),
    },
    hint="for every output (r, q), find the input pixel that tap (a, b) multiplied and weight "
         "it by dout[r, q]; add all of them",
)


def _input_entry(weight, dout, stride, pixel, step=None, flip=False, last_only=False,
                 ones=False):
    """``dL/dx[c, i, j]`` of ``y = conv2d(x[None], weight[None], stride=stride)``.

    weight one filter ``(C, 3, 3)``, dout ``(H_out, W_out)``; the keywords make the mistakes.
    """
    weight, dout = np.asarray(weight, dtype=float), np.asarray(dout, dtype=float)
    c, i, j = pixel
    step = stride if step is None else step
    if ones:
        dout = np.ones_like(dout)
    terms = []
    for r in range(dout.shape[0]):
        for q in range(dout.shape[1]):
            a, b = i - r * step, j - q * step
            if 0 <= a < 3 and 0 <= b < 3:
                tap = weight[c, 2 - a, 2 - b] if flip else weight[c, a, b]
                terms.append(dout[r, q] * tap)
    if last_only:
        terms = terms[-1:]
    return float(sum(terms))


INPUT_GRAD_ENTRY = Reference(
    name="convlab.conv2d_input",
    compute=lambda weight, dout, stride, pixel, input_size: float(conv2d_input(
        (1, len(weight)) + tuple(input_size), np.asarray(weight, dtype=float)[None],
        np.asarray(dout, dtype=float)[None, None], stride)[(0, *pixel)]),
    mistakes={
        "did you flip the kernel? The pixel's gradient comes back through the tap that read "
        "it, the weight at its offset inside each window": lambda weight, dout, stride, pixel,
        input_size: _input_entry(weight, dout, stride, pixel, flip=True),
        "that is one window's term: every window that covers the pixel sends back its share":
            lambda weight, dout, stride, pixel, input_size: _input_entry(
                weight, dout, stride, pixel, last_only=True),
        "you placed the windows one pixel apart: with stride {stride} they start "
        "{stride} pixels apart": lambda weight, dout, stride, pixel, input_size: _input_entry(
            weight, dout, stride, pixel, step=1),
        "you added the weights only: each is weighted by the upstream gradient of its output":
            lambda weight, dout, stride, pixel, input_size: _input_entry(
                weight, dout, stride, pixel, ones=True),
    },
    hint="list the windows that cover the pixel, and for each the tap that sits on it; add "
         "tap weight times dout of that window's output",
)

BIAS_GRAD = Reference(
    name="the bias gradient",
    compute=lambda dout: float(np.sum(dout)),
    mistakes={
        "that is the mean: the bias is added to every output, so each output's gradient "
        "reaches it in full": lambda dout: float(np.mean(dout)),
    },
    hint="the bias is added once to every output of its channel",
)


# --- what a cheaper layer costs -------------------------------------------------------------------


def _standard(c_in, c_out, k, bias=True):
    return conv_cost(c_in, c_out, k, k, bias=bias).params


STANDARD_PARAMS = Reference(
    name="convlab.conv_cost(...).params",
    compute=_standard,
    mistakes={
        "did you forget the biases? Each filter has one": _with(_standard, bias=False),
        "a filter has a k x k kernel for every input channel": _with(_standard, c_in=1),
    },
    hint="count one filter (a k x k kernel per input channel, and a bias), then multiply by "
         "the number of filters",
    integer=True,
)


def _separable(c_in, c_out, k, depthwise_bias=True, pointwise_bias=True, full=False,
               pointwise_k=1):
    depthwise = conv_cost(c_in, c_in, k, k, groups=1 if full else c_in, bias=depthwise_bias)
    pointwise = conv_cost(c_in, c_out, pointwise_k, pointwise_k, bias=pointwise_bias)
    return depthwise.params + pointwise.params


SEPARABLE_PARAMS = Reference(
    name="convlab.depthwise_separable_cost(..., bias=True).params",
    compute=lambda c_in, c_out, k: depthwise_separable_cost(c_in, c_out, k, k,
                                                            bias=True).params,
    mistakes={
        "your depthwise layer is a full convolution: each of its filters sees one channel, so "
        "it has C_in kernels of k x k in all": _with(_separable, full=True),
        "your pointwise layer has k x k kernels: it is 1x1": _with(_separable, pointwise_k=3),
        "the depthwise layer has biases too, one per channel": _with(
            _separable, depthwise_bias=False),
        "the pointwise layer has biases too, one per output channel": _with(
            _separable, pointwise_bias=False),
        "did you forget the biases of both layers?": _with(
            _separable, depthwise_bias=False, pointwise_bias=False),
    },
    hint="count the two layers apart: a depthwise k x k layer (one kernel and one bias per "
         "input channel), then a 1x1 layer from C_in to C_out channels",
    integer=True,
)


def _separable_macs(c_in, c_out, k, size, padding, shrink=False, pointwise_k=1, full=False):
    depthwise = conv_cost(c_in, c_in, k, size, padding=0 if shrink else padding,
                          groups=1 if full else c_in)
    out = size + 2 * (0 if shrink else padding) - k + 1
    return depthwise.macs + conv_cost(c_in, c_out, pointwise_k, out + pointwise_k - 1).macs


SEPARABLE_MACS = Reference(
    name="convlab.depthwise_separable_cost(...).macs",
    compute=lambda c_in, c_out, k, size, padding: depthwise_separable_cost(
        c_in, c_out, k, size, padding=padding).macs,
    mistakes={
        "your output is smaller than the input: padding={padding} per side keeps the size":
            _with(_separable_macs, shrink=True),
        "your pointwise layer has k x k kernels: it is 1x1": _with(_separable_macs,
                                                                    pointwise_k=3),
        "your depthwise layer is a full convolution: each of its filters sees one channel":
            _with(_separable_macs, full=True),
        "that is the parameter count, not the multiply-adds: every weight is used once per "
        "output position": lambda c_in, c_out, k, size, padding: _separable(c_in, c_out, k),
    },
    hint="each layer costs (its output positions) x (its output channels) x (the weights of "
         "one of its filters)",
    integer=True,
)


def _network_params(width, kind, bias=True, replaced_only=False):
    """Parameters of ``nn.digits_network(kind, width=width)``, counted layer by layer."""
    half = width // 2
    layer = STANDARD_PARAMS._compute if kind == "standard" else SEPARABLE_PARAMS._compute
    if not bias:
        layer = _with(_standard, bias=False) if kind == "standard" else _with(
            _separable, depthwise_bias=False, pointwise_bias=False)
    replaced = layer(half, width, 3) + layer(width, 2 * width, 3)
    if replaced_only:
        return replaced
    first = _standard(1, half, 3, bias=bias)
    linear = 2 * width * 4 * 10 + (10 if bias else 0)
    return first + replaced + linear


NETWORK_SAVING = Reference(
    name="the ratio of the two networks' parameters",
    compute=lambda width: _network_params(width, "standard") / _network_params(width,
                                                                                "separable"),
    mistakes={
        "that is the saving of the replaced layers alone: the first convolution and the linear "
        "layer stay as they are, and count in both networks": lambda width: _network_params(
            width, "standard", replaced_only=True) / _network_params(
            width, "separable", replaced_only=True),
        "your ratio is upside down: how many times fewer parameters has the separable network, "
        "standard over separable": lambda width: _network_params(
            width, "separable") / _network_params(width, "standard"),
        "did you forget the biases? Every layer has them, one per output channel": lambda width:
            _network_params(width, "standard", bias=False) / _network_params(
                width, "separable", bias=False),
    },
    hint="count both networks layer by layer (weights and biases), then divide",
)


# --- the backward pass of a convolution, written by the learner ---------------------------------


def _backward_case(rng, keywords):
    stride = int(rng.integers(1, 4)) if "stride" in keywords else 1
    padding = int(rng.integers(0, 3)) if "padding" in keywords else 0
    kh, kw = (int(k) for k in rng.integers(1, 4, size=2))
    size = [int(rng.integers(max(k - 2 * padding, 1), k + 7)) for k in (kh, kw)]
    out = [(s + 2 * padding - k) // stride + 1 for s, k in zip(size, (kh, kw))]
    x = rng.integers(-4, 5, size=size).astype(float)
    kernel = rng.integers(-3, 4, size=(kh, kw)).astype(float)
    dout = rng.integers(-3, 4, size=out).astype(float)
    kwargs = {name: value for name, value in (("stride", stride), ("padding", padding))
              if name in keywords}
    return (x, kernel, dout), kwargs


def _input_grad(x, kernel, dout, stride=1, padding=0, flip=False, crop=True):
    kernel = np.asarray(kernel, dtype=float)
    if flip:
        kernel = np.flip(kernel)
    shape = np.shape(x)
    full = conv2d_input((1, 1, shape[0] + 2 * padding, shape[1] + 2 * padding),
                        kernel[None, None], np.asarray(dout, dtype=float)[None, None],
                        stride)[0, 0]
    if not crop or not padding:
        return full
    return full[padding:-padding, padding:-padding]


def _weight_grad(x, kernel, dout, stride=1, padding=0, flip=False, step=None):
    x = np.pad(np.asarray(x, dtype=float), padding)
    dout = np.asarray(dout, dtype=float)
    kh, kw = np.shape(kernel)
    step = stride if step is None else step
    out = np.zeros((kh, kw))
    for a in range(kh):
        for b in range(kw):
            rows, cols = a + step * np.arange(dout.shape[0]), b + step * np.arange(dout.shape[1])
            if rows[-1] >= x.shape[0] or cols[-1] >= x.shape[1]:
                raise ValueError("the window leaves the input")
            out[a, b] = np.sum(x[np.ix_(rows, cols)] * dout)
    return np.flip(out) if flip else out


_X = np.arange(30, dtype=float).reshape(5, 6) % 7 - 3
_K = np.array([[1, 0, -1], [2, 1, 0], [0, -1, 1]], dtype=float)
_EXAMPLES = (((_X, _K, np.arange(12, dtype=float).reshape(3, 4) % 5 - 2), {}),
             ((_X, _K, np.array([[1.0, -2.0], [3.0, 1.0]])), {"stride": 2}),
             ((_X, _K, np.arange(16, dtype=float).reshape(4, 4) % 3 - 1),
              {"stride": 2, "padding": 2}))

CONV_INPUT_GRAD = Reference(
    name="convlab.conv2d_input",
    compute=_input_grad,
    mistakes={
        "your gradient comes through the flipped kernel: each input pixel gets dout times the "
        "tap that read it, the kernel as it is": _with(_input_grad, flip=True),
        "your gradient still has the padding: the zeros added around the input are not "
        "inputs, crop {padding} from each side": _with(_input_grad, crop=False),
    },
    hint="dx[i + ..., j + ...] += dout[r, q] · kernel for every output (r, q): scatter each "
         "output's gradient back over the window it read",
    cases=_backward_case,
    examples=_EXAMPLES,
    keywords=("stride", "padding"),
)

CONV_WEIGHT_GRAD = Reference(
    name="convlab.conv2d_weight",
    compute=lambda x, kernel, dout, stride=1, padding=0: conv2d_weight(
        np.asarray(x, dtype=float)[None, None], (1, 1) + np.shape(kernel),
        np.asarray(dout, dtype=float)[None, None], stride, padding)[0, 0],
    mistakes={
        "your gradient is flipped: tap (a, b) multiplied the pixel at offset (a, b) of each "
        "window": _with(_weight_grad, flip=True),
        "you took the windows one pixel apart: with stride {stride} they start {stride} "
        "pixels apart": _with(_weight_grad, step=1),
    },
    hint="dkernel[a, b] = sum over outputs (r, q) of dout[r, q] · (the input pixel tap (a, b) "
         "read for that output)",
    cases=_backward_case,
    examples=_EXAMPLES,
    keywords=("stride", "padding"),
)


# --- max-pooling's backward pass (the find-the-bug task) ----------------------------------------


def _pool_backward(x, dout, k, share="max", swap=False):
    x, dout = np.asarray(x, dtype=float), np.asarray(dout, dtype=float)
    dx = np.zeros_like(x)
    for r in range(dout.shape[0]):
        for q in range(dout.shape[1]):
            window = x[r * k:(r + 1) * k, q * k:(q + 1) * k]
            if share == "max":
                i, j = divmod(int(np.argmax(window)), k)
                if swap:
                    i, j = j, i
                dx[r * k + i, q * k + j] += dout[r, q]
            else:
                dx[r * k:(r + 1) * k, q * k:(q + 1) * k] += dout[r, q] / (
                    k * k if share == "mean" else 1)
    return dx


def _pool_case(rng, keywords):
    k = int(rng.integers(2, 4))
    out = [int(o) for o in rng.integers(1, 4, size=2)]
    size = [o * k + int(rng.integers(0, k)) for o in out]  # rows past the last window too
    x = (rng.permutation(size[0] * size[1]).reshape(size) - size[0] * size[1] / 2).astype(float)
    dout = rng.integers(1, 6, size=out).astype(float) * rng.choice([-1.0, 1.0], size=out)
    return (x, dout, k), {}


_P = np.array([[3, 9, 0, 4], [1, 2, 7, 5], [8, 6, 11, 10], [12, 15, 13, 14]], dtype=float)

MAXPOOL_BACKWARD = Reference(
    name="convlab.nn.MaxPool2d(k).backward",
    compute=lambda x, dout, k: _pool_backward(x, dout, k),
    mistakes={
        "you sent the gradient to every pixel of the window: only the largest one made the "
        "output, the others did not move it": lambda x, dout, k: _pool_backward(
            x, dout, k, share="all"),
        "you shared the gradient out evenly: that is average pooling's backward pass":
            lambda x, dout, k: _pool_backward(x, dout, k, share="mean"),
        "your gradient lands on the mirror image of the maximum: a flat index into a k x k "
        "window is row·k + column": lambda x, dout, k: _pool_backward(x, dout, k, swap=True),
    },
    hint="each output's gradient goes to the one input that was the largest of its window, "
         "everything else gets 0",
    cases=_pool_case,
    examples=(((_P, np.array([[1.0, -2.0], [3.0, 4.0]]), 2), {}),
              ((_P[:3, :3], np.array([[5.0]]), 3), {})),
)


# --- the separable network, built and trained by the learner --------------------------------------


def check_network(net, width, kind="separable", min_accuracy=0.9, name="net"):
    """Check a network the learner built from ``convlab.nn`` layers and trained.

    It must be ``nn.digits_network(kind, width=width)``'s architecture: the same output shape
    and the same numbers of parameters and multiply-adds per image (counted by ``net``'s own
    layers), and classify at least ``min_accuracy`` of the digits' test images
    (``nn.digits_split()``) right.
    """
    from .. import nn

    if net is None or net is Ellipsis:
        raise CheckFailed(f"{name} is still {net!r}: build it, train it, run the cell again.")
    if not all(callable(getattr(net, m, None)) for m in ("forward", "num_params", "macs")):
        raise CheckFailed(f"{name} should be an nn.Sequential of convlab.nn layers, got "
                          f"{type(net).__name__}.")
    right = nn.digits_network(kind, width=width)
    shape = (1, 8, 8)
    try:
        out = net.output_shape(shape)
        params, macs = net.num_params(), net.macs(shape)
    except (ValueError, TypeError, IndexError, AttributeError) as error:
        raise CheckFailed(f"{name} cannot take an 8x8 digit (1, 8, 8): {error}") from None
    if tuple(out) != (10,):
        raise CheckFailed(f"{name} gives scores of shape {tuple(out)} for one digit; it "
                          f"should give one score per class.")
    if params != right.num_params() or macs != right.macs(shape):
        wrongs = {
            "standard": "its layers are standard convolutions: replace the second and third "
                        "by depthwise-separable blocks",
            "all": "the first convolution sees one channel: there is nothing to separate, so "
                   "it stays a standard layer",
        }
        standard = nn.digits_network("standard", width=width)
        first = nn.Sequential(nn.DepthwiseSeparable(1, width // 2, 3, padding=1),
                              *right.layers[1:])
        for key, other in (("standard", standard), ("all", first)):
            if params == other.num_params() and macs == other.macs(shape):
                raise CheckFailed(f"{name} has {params} parameters and {macs} multiply-adds, "
                                  f"not those of the network asked for: {wrongs[key]}.")
        raise CheckFailed(f"{name} has {params} parameters and {macs} multiply-adds, not "
                          f"those of the network asked for: compare your layers, one by one, "
                          f"with the standard network's (net.summary((1, 8, 8))).")
    x_train, y_train, x_test, y_test = nn.digits_split()
    accuracy = nn.accuracy(net, x_test, y_test)
    if not accuracy >= min_accuracy:
        raise CheckFailed(f"{name} is built right but classifies {accuracy:.1%} of the test "
                          f"digits right: train it (longer, or with another learning rate) "
                          f"until it reaches {min_accuracy:.0%}.")
    _ok(f"{name} is built right ({params} parameters, {macs} multiply-adds per digit) and "
        f"trained: {accuracy:.1%} of the test digits right.")


# --- the task data of exercises 15, drawn from a course seed --------------------------------------


def _exercise_15(rng):
    # Task 1: a 2-channel 5x5 input, a 3x3 filter, stride 2: a 2x2 output and its gradient
    stride, size = 2, 5
    while True:
        x = rng.integers(-2, 4, size=(2, size, size)).astype(float)
        weight = rng.integers(-2, 3, size=(2, 3, 3)).astype(float)
        dout = rng.integers(-2, 4, size=(2, 2)).astype(float)
        index = (int(rng.integers(0, 2)), int(rng.integers(0, 3)), int(rng.integers(0, 3)))
        # a pixel on the windows' overlap (row or column 2), covered by two or four windows
        pixel = (int(rng.integers(0, 2)), 2, int(rng.choice([1, 2, 3])))
        if (_distinct(WEIGHT_GRAD_ENTRY, x, dout, stride, index)
                and _distinct(INPUT_GRAD_ENTRY, weight, dout, stride, pixel, (size, size))
                and _distinct(BIAS_GRAD, dout) and np.all(dout != 0)):
            break
    # Task 2: one layer of a network and its cheaper versions
    while True:
        c_in, c_out = (int(c) for c in rng.choice([16, 24, 32, 48, 64], size=2, replace=False))
        layer = {"c_in": c_in, "c_out": c_out, "k": 3, "size": int(rng.choice([7, 14, 28])),
                 "padding": 1}
        groups = int(rng.choice([2, 4, 8]))
        if (_distinct(SEPARABLE_PARAMS, c_in, c_out, 3)
                and _distinct(SEPARABLE_MACS, *layer.values())
                and _distinct(STANDARD_PARAMS, c_in, c_out, 3)
                and _distinct(GROUPED_PARAMS, c_in, c_out, 3, groups)):
            break
    return {"x": x, "weight": weight, "dout": dout, "stride": stride, "index": index,
            "pixel": pixel, "layer": layer, "groups": groups,
            "width": int(rng.choice([8, 12, 16]))}


EXERCISES = {"15": _exercise_15}

