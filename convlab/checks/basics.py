"""References and task data of chapters 00-02: single- and multi-channel conv2d, output sizes,
shapes, counts, and what a shift of the input does to the output.

The mistakes these chapters diagnose (each a hint of a ``Reference`` below, or of ``check_work``):

* the kernel flipped (signal processing's convolution) or not flipped when it should be;
* padding forgotten, counted on one side only, or added to the channel axis too;
* the stride ignored; the + 1 forgotten; ceil instead of floor; ``/`` instead of ``//``;
* rows and columns swapped; channels last instead of first; the batch axis dropped;
* the bias forgotten, or added once per input channel; the channels not summed, or only one
  channel kept (``=`` instead of ``+=``);
* the weight's two channel axes swapped, or TensorFlow's layout; a filter without its depth;
* parameters: the biases forgotten, one kernel per filter, k weights per k x k kernel; a dense
  layer's counts added instead of multiplied, or its biases per channel;
* multiply-adds: counted on the input's size, without the input channels, or without the
  filters;
* a shifted input believed to leave the output unchanged (invariance), or to shift it the
  other way, or by the input's shift when the stride divides it.

Each ``Reference`` is the right computation of a kind of answer with its usual mistakes; the
check functions of ``convlab.checks`` take one and name the mistake a wrong answer makes.
"""

import math

import numpy as np

from ..arithmetic import conv_cost, conv_output_size
from ..conv import conv1d, conv2d
from . import Reference, _then, _with

__all__ = [
    "CONV2D",
    "CONV_MACS",
    "CONV2D_SINGLE",
    "CONVOLVE1D",
    "CONV_PARAMS",
    "CONV_SHAPE",
    "CORRELATE1D",
    "DENSE_PARAMS",
    "OUTPUT_SIZE",
    "SHIFT",
    "WEIGHT_SHAPE",
]

_ARTICLE_X = np.array([[3, 3, 2, 1, 0], [0, 0, 1, 3, 1], [3, 1, 2, 2, 3], [2, 0, 0, 2, 2],
                       [2, 0, 0, 0, 1]], dtype=float)
_ARTICLE_K = np.array([[0, 1, 2], [2, 2, 0], [0, 1, 2]], dtype=float)


def _single(nd, flip):
    """Single-channel cross-correlation (``flip=False``) or convolution in ``nd`` dimensions.

    Its ``compute(x, kernel, stride=1, padding=0)`` takes x ``(L,)`` or ``(H, W)`` and kernel
    ``(k,)`` or ``(kh, kw)`` and gives ``(L_out,)`` or ``(H_out, W_out)``.
    """
    op = (conv1d, conv2d)[nd - 1]

    def compute(x, kernel, stride=1, padding=0, flipped=flip, sides=(1, 1)):
        x, kernel = np.asarray(x, dtype=float), np.asarray(kernel, dtype=float)
        kernel = np.flip(kernel) if flipped else kernel
        x = np.pad(x, [(padding * sides[0], padding * sides[1])] * nd)
        return op(x[None], kernel[None, None], stride=stride)[0]

    mistakes = {
        "did you forget to flip the kernel? Convolution turns the kernel around before it "
        "slides: the kernel's last value meets the window's first" if flip else
        "did you flip the kernel? Flipping makes it the convolution of signal processing; deep "
        "learning's convolution is the cross-correlation: the window is multiplied by the kernel "
        "as it is":
            _with(compute, flipped=not flip),
        "did you forget the padding? padding={padding} adds that many zeros on each side of the "
        "input before the kernel slides": _with(compute, padding=0),
        "did you pad one side only? padding={padding} adds that many zeros on *each* side":
            _with(compute, sides=(1, 0)),
        "did you ignore the stride? With stride={stride} the kernel moves {stride} steps "
        "between outputs": _with(compute, stride=1),
        "that is 'full' mode, every partial overlap; here the kernel stays inside the "
        "(padded) input": lambda x, kernel, stride=1, padding=0: compute(
            x, kernel, stride, max(np.shape(kernel)) - 1),
        "your output is one too short: the last window ends on the last (padded) sample, so "
        "there are floor((n + 2p - k) / s) + 1 windows along an axis of size n":
            _then(compute, lambda y: y[(slice(0, -1),) * nd]),
    }
    if nd == 2:
        mistakes["your rows and columns are swapped: did you transpose the output?"] = _then(
            compute, np.transpose)
    worked = (_ARTICLE_X, _ARTICLE_K) if nd == 2 else (_ARTICLE_X[0], _ARTICLE_K[0])
    examples = ((worked, {}), (worked, {"padding": 1}), (worked, {"stride": 2, "padding": 1}))

    def cases(rng, keywords):
        kwargs = {}
        if "stride" in keywords:
            kwargs["stride"] = int(rng.integers(1, 4))
        if "padding" in keywords:
            kwargs["padding"] = int(rng.integers(0, 3))
        pad = kwargs.get("padding", 0)
        size = rng.integers(3, 9, size=nd)
        if nd == 2 and rng.random() < 0.5:
            size[1] = size[0]
        k = [int(rng.integers(2, min(s + 2 * pad, 4) + 1)) for s in size]
        x = rng.integers(-4, 5, size=size).astype(float)
        kernel = rng.integers(-3, 4, size=k).astype(float)
        return (x, kernel), kwargs

    if nd == 1:
        formula = "out[i] = sum_j x[i*stride + j - padding] * kernel[{}]".format(
            "K-1-j" if flip else "j")
    else:
        formula = "out[i, j] = sum_(a, b) x[i*stride + a - padding, j*stride + b - padding] * " \
                  "kernel[a, b]"
    return Reference(
        name=f"convlab.conv{nd}d" + (" with the kernel flipped" if flip else ""),
        compute=lambda x, kernel, stride=1, padding=0: compute(x, kernel, stride, padding),
        mistakes=mistakes,
        hint=f"compare your loops with {formula}, zeros outside x",
        cases=cases,
        examples=examples,
        keywords=("stride", "padding"),
    )


CORRELATE1D = _single(1, flip=False)
CONVOLVE1D = _single(1, flip=True)
CONV2D_SINGLE = _single(2, flip=False)


def _conv2d(x, weight, bias, stride=1, padding=0):
    """Multi-channel ``conv2d`` of one image.

    x ``(C_in, H, W)``, weight ``(C_out, C_in, kh, kw)``, bias ``(C_out,)`` or None ->
    ``(C_out, H_out, W_out)``.
    """
    x, weight = np.asarray(x, dtype=float), np.asarray(weight, dtype=float)
    bias = None if bias is None else np.asarray(bias, dtype=float)
    return conv2d(x, weight, bias, stride=stride, padding=padding)


def _bias_per_channel(x, weight, bias, stride=1, padding=0):
    y = _conv2d(x, weight, None, stride, padding)
    return y + np.shape(x)[0] * np.asarray(bias, dtype=float)[:, None, None]


def _not_summed(x, weight, bias, stride=1, padding=0):
    """The per-channel results, not summed: ``(C_out, C_in, H_out, W_out)``."""
    parts = [_conv2d(x[c:c + 1], weight[:, c:c + 1], None, stride, padding)
             for c in range(np.shape(x)[0])]
    return np.stack(parts, axis=1) + np.asarray(bias, dtype=float)[:, None, None, None]


def _one_channel(channel):
    def wrong(x, weight, bias, stride=1, padding=0):
        keep = slice(channel, channel + 1 or None)
        return _conv2d(x[keep], weight[:, keep], bias, stride, padding)

    return wrong


def _padded_channels(x, weight, bias, stride=1, padding=0):
    """``np.pad(x, p)`` pads every axis: zero channels in front, the last channels cut off."""
    xp = np.pad(np.asarray(x, dtype=float), padding)
    return _conv2d(xp[:np.shape(x)[0]], weight, bias, stride)


def _conv2d_case(rng, keywords):
    kwargs = {}
    if "stride" in keywords:
        kwargs["stride"] = int(rng.integers(1, 3))
    if "padding" in keywords:
        kwargs["padding"] = int(rng.integers(1, 3))
    c_in, c_out = (int(c) for c in rng.integers(2, 4, size=2))
    h, w = (int(s) for s in rng.integers(4, 8, size=2))
    k = int(rng.integers(2, 4))
    x = rng.integers(-3, 4, size=(c_in, h, w)).astype(float)
    weight = rng.integers(-2, 3, size=(c_out, c_in, k, k)).astype(float)
    bias = rng.integers(-5, 6, size=c_out).astype(float)
    return (x, weight, bias), kwargs


CONV2D = Reference(
    name="convlab.conv2d",
    compute=_conv2d,
    mistakes={
        "did you forget the bias? Each filter adds its bias once to every element of its "
        "output channel": _with(_conv2d, bias=None),
        "did you add the bias once per input channel? A filter has one bias, added once after "
        "the channels are summed": _bias_per_channel,
        "you did not sum over the input channels: a filter gives ONE output channel, the sum of "
        "its kernels' results on every input channel": _not_summed,
        "only the first input channel counts in your output: a filter sums over all input "
        "channels": _one_channel(0),
        "only the last input channel counts in your output: did you write = instead of += in "
        "the loop over the channels?": _one_channel(-1),
        "did you pad the channel axis too? Your output is what zero channels added in front "
        "(and the last channels dropped) would give": _padded_channels,
        "did you forget the padding? padding={padding} adds that many zeros on each side of the "
        "height and of the width": _with(_conv2d, padding=0),
        "did you ignore the stride? With stride={stride} the filter moves {stride} steps "
        "between outputs": _with(_conv2d, stride=1),
        "did you flip the kernels? Deep learning's convolution does not flip": (
            lambda x, weight, bias, stride=1, padding=0: _conv2d(
                x, np.flip(weight, axis=(2, 3)), bias, stride, padding)),
        "your output has the channels last; convlab and PyTorch put them first: "
        "(C_out, H_out, W_out)": _then(_conv2d, lambda y: np.moveaxis(y, 0, -1)),
        "did you swap the weight's first two axes? weight[o, c] is the kernel of filter o for "
        "input channel c": lambda x, weight, bias, stride=1, padding=0: _conv2d(
            x, np.swapaxes(weight, 0, 1), bias, stride, padding),
    },
    hint="out[o, i, j] = bias[o] + sum over c, a, b of x_padded[c, i*stride + a, j*stride + b] "
         "* weight[o, c, a, b]",
    cases=_conv2d_case,
    examples=(
        ((_ARTICLE_X[None], _ARTICLE_K[None, None], np.array([1.0])), {}),
        ((np.stack([_ARTICLE_X, _ARTICLE_X.T, np.ones((5, 5))]),
          np.stack([np.stack([_ARTICLE_K, -_ARTICLE_K, np.eye(3)]),
                    np.stack([np.eye(3), _ARTICLE_K.T, _ARTICLE_K])]),
          np.array([1.0, -2.0])), {"padding": 1}),
    ),
    keywords=("stride", "padding"),
)


def _output_size(i, k, stride=1, padding=0):
    return conv_output_size(i, k, stride=stride, padding=padding)


def _size_case(rng, keywords):
    kwargs = {}
    if "stride" in keywords:
        kwargs["stride"] = int(rng.integers(1, 5))
    if "padding" in keywords:
        kwargs["padding"] = int(rng.integers(0, 4))
    i = int(rng.integers(1, 40))
    k = int(rng.integers(1, min(i + 2 * kwargs.get("padding", 0), 8) + 1))
    return (i, k), kwargs


OUTPUT_SIZE = Reference(
    name="convlab.conv_output_size",
    compute=_output_size,
    mistakes={
        "did you round up? Sizes are floored: a window that does not fit entirely is not used":
            lambda i, k, stride=1, padding=0: math.ceil((i + 2 * padding - k) / stride) + 1,
        "padding is counted on each side, so it adds 2·padding to the input":
            lambda i, k, stride=1, padding=0: (i + padding - k) // stride + 1,
        "the / operator gives a float; floor division // gives the whole number of steps":
            lambda i, k, stride=1, padding=0: (i + 2 * padding - k) / stride + 1,
        "did you forget the + 1? The first window is there before the kernel moves at all":
            lambda i, k, stride=1, padding=0: (i + 2 * padding - k) // stride,
        "did you ignore the stride? It divides the room the kernel has to move":
            lambda i, k, stride=1, padding=0: i + 2 * padding - k + 1,
        "that is the size of 'full' mode (every partial overlap)":
            lambda i, k, stride=1, padding=0: (i + 2 * padding + k - 2) // stride + 1,
    },
    hint="count the positions: the kernel starts at 0 and moves by stride while it fits in the "
         "padded input of size i + 2·padding",
    cases=_size_case,
    examples=(((5, 3), {}), ((5, 3), {"padding": 1}), ((7, 3), {"stride": 2}),
              ((224, 7), {"stride": 2, "padding": 3})),
    keywords=("stride", "padding"),
    integer=True,
)


def _conv_shape(input_shape, c_out, kernel_size, stride=1, padding=0, ceil=False, sides=2):
    """``conv2d``'s output shape for an input ``(..., C_in, H, W)`` and ``c_out`` filters.

    ``kernel_size`` is an int or ``(kh, kw)``; ``ceil`` and ``sides=1`` make two classic
    mistakes (rounding up, padding counted once).
    """
    k = kernel_size if isinstance(kernel_size, (tuple, list)) else (kernel_size,) * 2
    room = [i + sides * padding - kk for i, kk in zip(input_shape[-2:], k)]
    if min(room) < 0:
        raise ValueError("the kernel does not fit")
    steps = [math.ceil(r / stride) if ceil else r // stride for r in room]
    return tuple(input_shape[:-3]) + (c_out,) + tuple(s + 1 for s in steps)


def _channels_last(shape):
    return shape[:-3] + shape[-2:] + shape[-3:-2]


CONV_SHAPE = Reference(
    name="conv2d's output shape",
    compute=_conv_shape,
    mistakes={
        "did you forget the padding? padding={padding} adds that many zeros on each side":
            _with(_conv_shape, padding=0),
        "did you ignore the stride? stride={stride} divides the room the kernel has to move":
            _with(_conv_shape, stride=1),
        "did you round up? Output sizes are floored": _with(_conv_shape, ceil=True),
        "padding is per side: it adds 2·padding to the height and to the width":
            _with(_conv_shape, sides=1),
        "your channels come last; convlab and PyTorch write shapes channels first (NCHW)":
            _then(_conv_shape, _channels_last),
        "the output has one channel per filter, not one per input channel":
            lambda input_shape, c_out, kernel_size, stride=1, padding=0: _conv_shape(
                input_shape, input_shape[-3], kernel_size, stride, padding),
        "where is the batch axis? A batch of N images gives a batch of N outputs":
            _then(_conv_shape, lambda shape: shape[-3:]),
    },
    hint="the output is (C_out, H_out, W_out), with N in front for a batch, each size "
         "floor((i + 2·padding - k) / stride) + 1",
)


def _weight_shape(c_in, c_out, kernel_size):
    kh, kw = kernel_size if isinstance(kernel_size, (tuple, list)) else (kernel_size,) * 2
    return (c_out, c_in, kh, kw)


WEIGHT_SHAPE = Reference(
    name="conv2d's weight shape",
    compute=_weight_shape,
    mistakes={
        "you swapped the two channel axes: which comes first in PyTorch's layout, the number "
        "of filters or the depth of each filter?":
            _then(_weight_shape, lambda s: (s[1], s[0]) + s[2:]),
        "a filter is a stack of kernels, one per input channel: its depth is missing":
            _then(_weight_shape, lambda s: s[:1] + s[2:]),
        "that is TensorFlow's layout (kh, kw, C_in, C_out); convlab and PyTorch put the channel "
        "axes first": _then(_weight_shape, lambda s: s[2:] + (s[1], s[0])),
    },
    hint="a weight holds one filter per output channel, each a stack of kernels, one per "
         "input channel",
)


def _conv_params(c_in, c_out, kernel_size, bias=True, square=True):
    """Parameters of a conv layer; ``square=False`` is the mistake of k weights per kernel."""
    k = kernel_size if square else (kernel_size, 1)
    return conv_cost(c_in, c_out, k, k, bias=bias).params


CONV_PARAMS = Reference(
    name="convlab.conv_cost",
    compute=_conv_params,
    mistakes={
        "did you forget the biases? Each filter has one": _with(_conv_params, bias=False),
        "a filter has one kernel per input channel: its weights are C_in·kh·kw":
            _with(_conv_params, c_in=1),
        "a k x k kernel has k·k weights": _with(_conv_params, square=False),
    },
    hint="count one filter (its kernels and its bias), then multiply by the number of filters; "
         "the weights are shared by every position, so the image size does not enter",
    integer=True,
)


def _dense_params(input_shape, output_shape, bias=True):
    n_in, n_out = math.prod(input_shape), math.prod(output_shape)
    return n_in * n_out + (n_out if bias else 0)


DENSE_PARAMS = Reference(
    name="a dense layer's parameter count",
    compute=_dense_params,
    mistakes={
        "did you forget the biases? A dense layer has one per output unit":
            _with(_dense_params, bias=False),
        "a dense layer has one bias per output *unit*, not one per output channel":
            lambda input_shape, output_shape, bias=True: _dense_params(
                input_shape, output_shape, False) + output_shape[0],
        "did you count the pixels but not the channels? Every channel of every pixel is a unit":
            lambda input_shape, output_shape, bias=True: _dense_params(
                input_shape[1:], output_shape[1:], bias),
        "each output unit is connected to every input unit: the counts multiply, they do not add":
            lambda input_shape, output_shape, bias=True: math.prod(input_shape)
            + 2 * math.prod(output_shape),
    },
    hint="every output unit has one weight per input unit, plus its bias",
    integer=True,
)


def _conv_macs(input_shape, c_out, kernel_size, stride=1, padding=0, on_input=False,
               depth=True, filters=True, square=True):
    """Multiply-adds of a conv2d layer on an input ``(C_in, H, W)``; the keyword flags make
    the classic miscounts."""
    c_in, h, w = input_shape
    k = kernel_size if square else (kernel_size, 1)
    cost = conv_cost(c_in if depth else 1, c_out if filters else 1, k, (h, w), stride, padding)
    if on_input:
        return cost.macs // math.prod(conv_output_size((h, w), k, stride, padding)) * h * w
    return cost.macs


CONV_MACS = Reference(
    name="convlab.conv_cost(...).macs",
    compute=_conv_macs,
    mistakes={
        "you counted one output position per input pixel: the kernel takes only the "
        "output's positions": _with(_conv_macs, on_input=True),
        "each output value sums over every input channel too: a filter has C_in kernels":
            _with(_conv_macs, depth=False),
        "that is the count for one filter: every filter makes its own output channel":
            _with(_conv_macs, filters=False),
        "a k x k kernel makes k·k products per channel": _with(_conv_macs, square=False),
    },
    hint="count the products of one output value, then multiply by how many output values "
         "there are (every channel of every position)",
    integer=True,
)


def _shift(shift, stride=1):
    return shift // stride


SHIFT = Reference(
    name="the shift of the output",
    compute=_shift,
    mistakes={
        "the output does not stay where it was: that would be translation invariance, what "
        "pooling gives (roughly); a convolution is equivariant":
            lambda shift, stride=1: 0,
        "the output moves the same way as the input, not the other way":
            lambda shift, stride=1: -shift // stride,
        "with stride={stride} one step of the output covers {stride} steps of the input":
            lambda shift, stride=1: shift,
    },
    hint="slide the kernel over the shifted input: where does the window that saw the first "
         "non-zero value end up?",
    integer=True,
)


# --- the task data of exercises 00-02, drawn from a course seed ---------------------------------


def _odd_room(rng, low, high, k, stride, padding):
    """An input size in [low, high) whose room ``i + 2p - k`` the stride does not divide, so
    that ceil and floor (and / and //) give different answers."""
    while True:
        i = int(rng.integers(low, high))
        if (i + 2 * padding - k) % stride:
            return i


def _exercise_00(rng):
    k, padding = int(rng.choice([3, 5, 7])), int(rng.integers(1, 3))
    side = _odd_room(rng, 20, 40, k, 2, padding)
    c_out, k2, p2 = int(rng.choice([4, 6, 8, 12, 16])), int(rng.choice([3, 5])), 1
    return {
        "size": {"i": side, "k": k, "stride": 2, "padding": padding},
        "layer": {"input_shape": (3, *(2 * [_odd_room(rng, 16, 48, k2, 2, p2)])),
                  "c_out": c_out, "kernel_size": k2, "stride": 2, "padding": p2},
    }


def _exercise_01(rng):
    def signal(n):
        return rng.integers(-2, 6, size=n).astype(float)

    while True:  # an asymmetric kernel: its flip is another kernel
        kernel = rng.integers(-2, 3, size=3).astype(float)
        if (kernel != kernel[::-1]).any() and np.count_nonzero(kernel) >= 2:
            break
    stride = int(rng.integers(2, 4))
    c_in, c_out = int(rng.choice([1, 3])), int(rng.choice([8, 16, 32]))
    size = int(rng.choice([16, 28, 32]))
    return {
        "x": signal(6), "kernel": kernel,
        "shift": {"shift": stride * int(rng.integers(1, 4)), "stride": stride},
        "params": {"input_shape": (c_in, size, size), "c_out": c_out,
                   "kernel_size": int(rng.choice([3, 5]))},
    }


def _exercise_02(rng):
    c_in, k = 2, 3
    x = rng.integers(0, 4, size=(c_in, 5, 5)).astype(float)
    weight = rng.integers(-1, 3, size=(c_in, k, k)).astype(float)
    weight[rng.integers(0, c_in), rng.integers(0, k), rng.integers(0, k)] = -1  # a subtraction
    stride = 2
    out = conv_output_size(5, k, stride, 1)
    return {
        "x": x, "weight": weight, "bias": float(rng.integers(-3, 4) or 1), "stride": stride,
        "padding": 1, "position": (int(rng.integers(0, out)), int(rng.integers(0, out))),
        "layer": {"input_shape": (int(rng.choice([3, 4, 16])), *(2 * [int(rng.choice(
            [14, 28, 32]))])), "c_out": int(rng.choice([8, 16, 32])),
            "kernel_size": int(rng.choice([3, 5])), "stride": 1, "padding": 1},
    }


EXERCISES = {"00": _exercise_00, "01": _exercise_01, "02": _exercise_02}
