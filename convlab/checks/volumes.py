"""References of chapter 03 (3-D convolution): one output by hand, shapes, costs, ``conv3d``.

The chapter's typical mistakes, each named by a check below:

1. **The kernel's depth taken for the input's depth (or channels)**: a 3-D kernel is as deep as
   its own ``kd``, not as the clip; who thinks it spans the whole depth predicts an output depth
   of 1 (``CONV3D_SHAPE``), a weight ``(C_out, C_in, D, kh, kw)`` (``WEIGHT3D_SHAPE``), costs
   with ``kd = D`` (``CONV3D_PARAMS``, ``CONV3D_MACS``).
2. **The channel axis left out of the weight**: ``(C_out, kd, kh, kw)`` (``WEIGHT3D_SHAPE``),
   a filter of one kernel in the costs (``CONV3D_PARAMS``, ``CONV3D_MACS``), one channel's
   products only (``check_work3d``), the channels not summed (``CONV3D``).
3. **The depth axis forgotten in the output shape**: ``(N, C_out, H_out, W_out)``
   (``CONV3D_SHAPE``); a window that does not slide in depth (``CONV3D``); the products of one
   slice of the window (``check_work3d``).
4. **Channels last against channels first**: the articles (and TensorFlow) write
   ``(N, D, H, W, C)``, PyTorch ``(N, C, D, H, W)``: a shape left channels last
   (``INPUT3D_SHAPE``, ``CONV3D_SHAPE``, ``CLIP3D_SHAPE``), TensorFlow's weight layout
   (``WEIGHT3D_SHAPE``), a
   ``reshape`` where a ``transpose`` is needed, or the result not moved back
   (``CONV3D_LAST``).
5. **A cost counted without the kernel's depth** (the count of a 2-D layer) **or without the
   input channels** (``CONV3D_PARAMS``, ``CONV3D_MACS``); multiply-adds of one output frame
   only, or counted over the input's positions (``CONV3D_MACS``); the biases forgotten
   (``CONV3D_PARAMS``).
6. **Stride and padding forgotten on the depth axis**, or everywhere (``CONV3D_SHAPE``,
   ``CONV3D``, ``check_work3d``: the window of depth index ``t`` starts at slice ``t·stride``).
7. **The kernel flipped** (in depth, or in every axis) as in signal processing (``CONV3D``,
   ``check_work3d``).
"""

from collections import Counter

import numpy as np

from ..arithmetic import conv_cost, conv_output_size
from ..conv import conv3d
from . import (
    Reference,
    _as_number,
    _fail,
    _key,
    _parse_work,
    _right_sum,
    _then,
    _unanswered,
    _with,
)

__all__ = [
    "CLIP3D_SHAPE",
    "CONV3D",
    "CONV3D_LAST",
    "CONV3D_MACS",
    "CONV3D_PARAMS",
    "CONV3D_SHAPE",
    "INPUT3D_SHAPE",
    "WEIGHT3D_SHAPE",
    "check_work3d",
]


def _triple(value):
    return tuple(value) if isinstance(value, (tuple, list)) else (value,) * 3


# --- one output by hand ------------------------------------------------------------------------


def _products(x, kernel, corner):
    """The products of the window whose first input element is ``corner`` ``(d, h, w)``, as a
    multiset of keys, or None where the window leaves the input. x ``(C, D, H, W)``, kernel
    ``(C, kd, kh, kw)``."""
    if min(corner) < 0:
        return None
    d, h, w = corner
    window = x[:, d:d + kernel.shape[1], h:h + kernel.shape[2], w:w + kernel.shape[3]]
    if window.shape != kernel.shape:
        return None
    return Counter(_key(a, b) for a, b in zip(window.ravel().tolist(), kernel.ravel().tolist()))


def check_work3d(work, value, x, kernel, position, bias=None, stride=1):
    """Check one output element of a ``conv3d`` computed by hand, its sum written out.

    Checks that the products are those of the right window (diagnosing a window placed without
    the stride, a window one slice off, the kernel flipped in depth or in every axis, one slice
    of the window only, one channel only, a missing or extra term), that the bias is there,
    and that the value is the sum.

    Parameters
    ----------
    work : str, the sum written out as for ``check_work``: ``"3*0 + 1*2 - 2*1 + ... + 1"``
        (``*``, ``·`` or ``×``; any order; the bias as a lone term)
    value : number, the result of the sum
    x : array ``(C, D, H, W)``, one clip or volume; kernel : array ``(C, kd, kh, kw)``, one
        filter; bias : number or None
    position : ``(t, r, c)``, the output element's depth, row and column
    stride : int or tuple of 3 ints (no padding)
    """
    _unanswered(work, "work")
    if not isinstance(work, str):
        _fail(f"work should be a string like \"3*0 + 3*1 + ...\", got {type(work).__name__}.")
    value = _as_number(value, "value")
    x, kernel = np.asarray(x, dtype=float), np.asarray(kernel, dtype=float)
    t, r, c = (int(a) for a in position)
    s = _triple(stride)
    corner = (t * s[0], r * s[1], c * s[2])
    terms, singles = _parse_work(work)
    products = Counter(_key(a, b, sign) for sign, a, b in terms)
    if products != _products(x, kernel, corner):
        kd, kh, kw = kernel.shape[1:]
        tries = [
            (f"your window starts at slice {t} in depth, as if the layer had stride 1 along "
             f"the depth: its stride {s[0]} applies to the depth too",
             _products(x, kernel, (t, *corner[1:])))
            if s[0] > 1 else ("", None),
            (f"your window is placed as if the stride were 1: with stride {stride}, the window "
             f"moves that many steps between neighbouring outputs, along every axis",
             _products(x, kernel, (t, r, c))) if max(s) > 1 else ("", None),
            ("your window is one slice off in depth: count the slices from 0",
             _products(x, kernel, (corner[0] - 1, *corner[1:]))),
            ("your window is one slice off in depth: count the slices from 0",
             _products(x, kernel, (corner[0] + 1, *corner[1:]))),
            (f"you used the window of row {c}, column {r}: a position is (depth, row, column)",
             _products(x, kernel, (corner[0], corner[2], corner[1]))),
            ("your products pair the kernel's slices with the window's in reverse order: that is "
             "the flip of signal processing; deep learning's conv3d multiplies the window by the "
             "kernel as it is", _products(x, np.flip(kernel, axis=1), corner)),
            ("your products are those of the kernel flipped: deep learning's conv3d does not "
             "flip", _products(x, np.flip(kernel, axis=(1, 2, 3)), corner)),
        ]
        window = x[:, corner[0]:corner[0] + kd, corner[1]:corner[1] + kh,
                   corner[2]:corner[2] + kw]
        tries += [(f"these are the products of one slice of the window only: a 3-D kernel has "
                   f"{kd} slices in depth, and all of them are multiplied and summed",
                   Counter(_key(a, b) for a, b in zip(window[:, d].ravel().tolist(),
                                                      kernel[:, d].ravel().tolist())))
                  for d in range(kd) if window.shape == kernel.shape]
        if x.shape[0] > 1:
            tries += [(f"these are the products of channel {ch} only: a filter sums the "
                       f"products of all {x.shape[0]} channels",
                       _products(x[ch:ch + 1], kernel[ch:ch + 1], corner))
                      for ch in range(x.shape[0])]
        hint = next((h for h, p in tries if p is not None and products == p), None)
        if hint is None:
            count = sum(products.values())
            hint = (f"you wrote {count} products; this window has {kernel.size} "
                    f"({' x '.join(map(str, kernel.shape))}: channels x depth x height x width)"
                    if count != kernel.size else
                    "some products do not pair an input value with the kernel value on top of it")
        _fail(f"The products in your work are not those of output {(t, r, c)}: {hint}.")
    _right_sum(terms, singles, value, bias, (t, r, c))


# --- shapes ------------------------------------------------------------------------------------


def _input_shape(shape_last):
    """A channels-last ``(N, D, H, W, C)`` shape in PyTorch's layout ``(N, C, D, H, W)``."""
    n, d, h, w, c = shape_last
    return (n, c, d, h, w)


INPUT3D_SHAPE = Reference(
    name="PyTorch's layout of a batch of clips",
    compute=_input_shape,
    mistakes={
        "that is still channels last, as the articles and TensorFlow write it; PyTorch puts "
        "the channels right after the batch": lambda shape_last: tuple(shape_last),
        "the channels are first, but depth, height and width must keep their order: did you "
        "swap the channel axis with the last axis?":
            lambda shape_last: (shape_last[0], shape_last[4], shape_last[2], shape_last[3],
                                shape_last[1]),
        "where is the batch axis? The batch of N clips stays in front":
            lambda shape_last: _input_shape(shape_last)[1:],
        "a clip has a depth (its frames) besides height and width: your shape has no depth axis":
            lambda shape_last: (shape_last[0], shape_last[4], shape_last[2], shape_last[3]),
    },
    hint="PyTorch writes a batch of volumes as (N, C, D, H, W): batch, channels, then depth, "
         "height, width",
)


def _weight_shape(c_in, c_out, kernel_size, input_depth=None):
    kd, kh, kw = _triple(kernel_size)
    return (c_out, c_in, kd, kh, kw)


WEIGHT3D_SHAPE = Reference(
    name="conv3d's weight shape",
    compute=_weight_shape,
    mistakes={
        "a filter is a stack of 3-D kernels, one per input channel: its channel axis is "
        "missing": _then(_weight_shape, lambda s: s[:1] + s[2:]),
        "the kernel's depth is its own size kd, not the depth of the clip: a 3-D kernel is "
        "smaller than the volume, so that it can slide through it":
            lambda c_in, c_out, kernel_size, input_depth=None: _weight_shape(
                c_in, c_out, (input_depth,) + _triple(kernel_size)[1:]),
        "you swapped the two channel axes: which comes first in PyTorch's layout, the number "
        "of filters or the depth of each filter?":
            _then(_weight_shape, lambda s: (s[1], s[0]) + s[2:]),
        "that is TensorFlow's layout (kd, kh, kw, C_in, C_out); PyTorch puts the two channel "
        "axes first": _then(_weight_shape, lambda s: s[2:] + (s[1], s[0])),
        "that is a 2-D convolution's weight: a 3-D kernel has a depth as well":
            _then(_weight_shape, lambda s: s[:2] + s[3:]),
    },
    hint="a weight holds one filter per output channel; each filter has one 3-D kernel "
         "(depth x height x width) per input channel",
)


def _conv3d_shape(input_shape, c_out, kernel_size, stride=1, padding=0, ceil=False, sides=2):
    """``conv3d``'s output shape for an input ``(N, C_in, D, H, W)`` (``ceil``, ``sides=1``:
    two classic mistakes)."""
    k, s, p = _triple(kernel_size), _triple(stride), _triple(padding)
    room = [i + sides * pp - kk for i, pp, kk in zip(input_shape[-3:], p, k)]
    if min(room) < 0:
        raise ValueError("the kernel does not fit")
    steps = [-(-r // st) if ceil else r // st for r, st in zip(room, s)]
    return tuple(input_shape[:-4]) + (c_out,) + tuple(st + 1 for st in steps)


def _spanning(input_shape, c_out, kernel_size, stride=1, padding=0):
    """The output if the kernel were as deep as the (padded) input: depth 1."""
    shape = _conv3d_shape(input_shape, c_out, kernel_size, stride, padding)
    return shape[:-3] + (1,) + shape[-2:]


def _depth_only(change):
    """The output shape with stride or padding ignored on the depth axis only."""
    def wrong(input_shape, c_out, kernel_size, stride=1, padding=0):
        values = {"stride": list(_triple(stride)), "padding": list(_triple(padding))}
        values[change][0] = 1 if change == "stride" else 0
        return _conv3d_shape(input_shape, c_out, kernel_size, **values)

    return wrong


CONV3D_SHAPE = Reference(
    name="conv3d's output shape",
    compute=_conv3d_shape,
    mistakes={
        "your output has depth 1, as if the kernel were as deep as the clip: a 3-D kernel is "
        "kd slices deep and slides along the depth too": _spanning,
        "your shape has no depth axis: a 3-D convolution's output is a volume, (N, C_out, "
        "D_out, H_out, W_out)": _then(_conv3d_shape, lambda s: s[:-3] + s[-2:]),
        "your channels come last; PyTorch writes shapes channels first, (N, C, D, H, W)":
            _then(_conv3d_shape, lambda s: s[:-4] + s[-3:] + s[-4:-3]),
        "the output has one channel per filter, not one per input channel":
            lambda input_shape, c_out, kernel_size, stride=1, padding=0: _conv3d_shape(
                input_shape, input_shape[-4], kernel_size, stride, padding),
        "did you forget the padding? padding={padding} adds zeros on each side of each axis "
        "it names": _with(_conv3d_shape, padding=0),
        "did you ignore the stride? stride={stride} divides the room the kernel has to move":
            _with(_conv3d_shape, stride=1),
        "the depth ignores the padding: padding={padding} is (depth, height, width)":
            _depth_only("padding"),
        "the depth ignores the stride: stride={stride} is (depth, height, width)":
            _depth_only("stride"),
        "did you round up? Output sizes are floored": _with(_conv3d_shape, ceil=True),
        "padding is per side: it adds 2·padding to each axis": _with(_conv3d_shape, sides=1),
        "where is the batch axis? A batch of N clips gives a batch of N outputs":
            _then(_conv3d_shape, lambda s: s[-4:]),
    },
    hint="the output is (N, C_out, D_out, H_out, W_out); count the positions of the kernel "
         "along each of the three axes",
)


def _from_last(fn):
    """``fn`` of a PyTorch input shape, taking a channels-last clip shape ``(N, D, H, W, C)``."""
    def wrapped(clip_shape, c_out, kernel_size, stride=1, padding=0):
        return fn(_input_shape(clip_shape), c_out, kernel_size, stride, padding)

    return wrapped


CLIP3D_SHAPE = Reference(
    name="conv3d's output shape for clips stored channels last",
    compute=_from_last(_conv3d_shape),
    mistakes={hint: _from_last(wrong) for hint, wrong in CONV3D_SHAPE._mistakes.items()},
    hint=CONV3D_SHAPE.hint,
)


# --- costs -------------------------------------------------------------------------------------


def _cost(c_in, c_out, kernel_size, input_size, stride=1, padding=0, bias=True):
    return conv_cost(c_in, c_out, _triple(kernel_size), _triple(input_size), stride=_triple(
        stride), padding=_triple(padding), bias=bias)


def _flat(kernel_size):
    """The kernel without its depth: a 2-D kernel counted as a 3-D one of depth 1."""
    return (1,) + _triple(kernel_size)[1:]


def _costs(field, extra):
    """The params or macs of ``_cost``, and its mistakes shared by both counts."""
    def compute(c_in, c_out, kernel_size, input_size, stride=1, padding=0, bias=True):
        return getattr(_cost(c_in, c_out, kernel_size, input_size, stride, padding, bias), field)

    mistakes = {
        "you counted a 2-D kernel: a 3-D kernel has kd·kh·kw weights, its depth too":
            lambda c_in, c_out, kernel_size, input_size, stride=1, padding=0, bias=True:
            compute(c_in, c_out, _flat(kernel_size), input_size, stride, padding, bias),
        "you left out the input channels: a filter has one 3-D kernel per input channel, "
        "C_in·kd·kh·kw weights": _with(compute, c_in=1),
        "a kernel as deep as the clip is the 2-D convolution on a volume; a 3-D kernel is kd "
        "slices deep":
            lambda c_in, c_out, kernel_size, input_size, stride=1, padding=0, bias=True:
            compute(c_in, c_out, (_triple(input_size)[0] + 2 * _triple(padding)[0],)
                    + _triple(kernel_size)[1:], input_size, stride, padding, bias),
    }
    mistakes.update(extra(compute))
    return compute, mistakes


def _params_mistakes(compute):
    return {
        "did you forget the biases? Each filter has one": _with(compute, bias=False),
        "the weights are shared by every position: the size of the clip does not enter the "
        "parameter count":
            lambda c_in, c_out, kernel_size, input_size, stride=1, padding=0, bias=True:
            compute(c_in, c_out, kernel_size, input_size, stride, padding, bias) * int(
                np.prod(conv_output_size(_triple(input_size), _triple(kernel_size),
                                         _triple(stride), _triple(padding)))),
    }


def _macs_mistakes(compute):
    def positions(input_size, kernel_size, stride, padding):
        return conv_output_size(_triple(input_size), _triple(kernel_size), _triple(stride),
                                _triple(padding))

    def one_frame(c_in, c_out, kernel_size, input_size, stride=1, padding=0, bias=True):
        d = positions(input_size, kernel_size, stride, padding)[0]
        return compute(c_in, c_out, kernel_size, input_size, stride, padding) // d

    def per_input(c_in, c_out, kernel_size, input_size, stride=1, padding=0, bias=True):
        per = compute(c_in, c_out, kernel_size, input_size, stride, padding)
        per //= int(np.prod(positions(input_size, kernel_size, stride, padding)))
        return per * int(np.prod(_triple(input_size)))

    def frames_2d(c_in, c_out, kernel_size, input_size, stride=1, padding=0, bias=True):
        d = _triple(input_size)[0]
        return one_frame(c_in, c_out, _flat(kernel_size), input_size, stride, padding) * d

    return {
        "that is the count of one output frame: the kernel works at every depth position "
        "too, so multiply by D_out": one_frame,
        "you counted over the input's positions: there is one multiply-add per weight for "
        "every OUTPUT element": per_input,
        "that is a 2-D convolution applied to each frame: a 3-D kernel is also kd slices deep":
            frames_2d,
        "the biases are additions, not multiply-adds; count only the products of the "
        "windows": lambda c_in, c_out, kernel_size, input_size, stride=1, padding=0, bias=True:
            compute(c_in, c_out, kernel_size, input_size, stride, padding)
            + _cost(c_in, c_out, kernel_size, input_size, stride, padding).macs
            // (c_in * int(np.prod(_triple(kernel_size)))),
    }


_params, _pm = _costs("params", _params_mistakes)
_macs, _mm = _costs("macs", _macs_mistakes)

CONV3D_PARAMS = Reference(
    name="convlab.conv_cost(...).params",
    compute=_params,
    mistakes=_pm,
    hint="count the weights of one filter and its bias, then multiply by the number of filters",
    integer=True,
)

CONV3D_MACS = Reference(
    name="convlab.conv_cost(...).macs",
    compute=_macs,
    mistakes=_mm,
    hint="count the multiply-adds of one output element, then multiply by the number of "
         "output elements (channels x depth x height x width)",
    integer=True,
)


# --- conv3d written with loops -----------------------------------------------------------------


def _conv3d(x, weight, bias, stride=1, padding=0):
    """conv3d of one clip: x ``(C_in, D, H, W)``, weight ``(C_out, C_in, kd, kh, kw)``, bias
    ``(C_out,)`` or None -> ``(C_out, D_out, H_out, W_out)``."""
    x, weight = np.asarray(x, dtype=float), np.asarray(weight, dtype=float)
    bias = None if bias is None else np.asarray(bias, dtype=float)
    return conv3d(x, weight, bias, stride=stride, padding=padding)


def _not_summed(x, weight, bias, stride=1, padding=0):
    parts = [_conv3d(x[c:c + 1], weight[:, c:c + 1], None, stride, padding)
             for c in range(np.shape(x)[0])]
    return np.stack(parts, axis=1) + np.asarray(bias, dtype=float)[:, None, None, None, None]


def _one_channel(channel):
    def wrong(x, weight, bias, stride=1, padding=0):
        keep = slice(channel, channel + 1 or None)
        return _conv3d(x[keep], weight[:, keep], bias, stride, padding)

    return wrong


def _padded_channels(x, weight, bias, stride=1, padding=0):
    """``np.pad(x, p)`` pads every axis: zero channels in front, the last channels cut off."""
    xp = np.pad(np.asarray(x, dtype=float), padding)
    return _conv3d(xp[:np.shape(x)[0]], weight, bias, stride)


def _depth_stride_ignored(x, weight, bias, stride=1, padding=0):
    return _conv3d(x, weight, bias, (1,) + _triple(stride)[1:], padding)


def _conv3d_case(rng, keywords):
    kwargs = {}
    if "stride" in keywords:
        kwargs["stride"] = int(rng.integers(1, 3))
    if "padding" in keywords:
        kwargs["padding"] = int(rng.integers(1, 3))
    c_in, c_out = (int(c) for c in rng.integers(2, 4, size=2))
    d, h, w = (int(s) for s in rng.integers(3, 7, size=3))
    k = [int(rng.integers(1, 3)), int(rng.integers(2, 4)), int(rng.integers(2, 4))]
    k[0] = max(2, min(k[0] + 1, d))
    x = rng.integers(-3, 4, size=(c_in, d, h, w)).astype(float)
    weight = rng.integers(-2, 3, size=(c_out, c_in, *k)).astype(float)
    bias = rng.integers(-5, 6, size=c_out).astype(float)
    return (x, weight, bias), kwargs


_ARTICLE = (np.arange(64, dtype=float).reshape(1, 4, 4, 4) % 7 - 3,
            np.array([[[[[1, 0], [0, -1]], [[2, 1], [-1, 0]]]]], dtype=float), np.array([0.5]))

CONV3D = Reference(
    name="convlab.conv3d",
    compute=_conv3d,
    mistakes={
        "your output does not go along the depth: the window must slide through the slices "
        "too, one output slice per position": _then(_conv3d, lambda y: y[:, :1]),
        "did you forget the bias? Each filter adds its bias once to every element of its "
        "output": _with(_conv3d, bias=None),
        "you did not sum over the input channels: a filter gives ONE output channel, the sum "
        "over all input channels": _not_summed,
        "only the first input channel counts in your output: a filter sums over all input "
        "channels": _one_channel(0),
        "only the last input channel counts in your output: did you write = instead of += in "
        "the loop over the channels?": _one_channel(-1),
        "did you pad the channel axis too? np.pad(x, p) pads every axis, channels included":
            _padded_channels,
        "did you forget the padding? padding={padding} adds zeros on each side of the depth, "
        "the height and the width": _with(_conv3d, padding=0),
        "did you ignore the stride? With stride={stride} the filter moves {stride} steps "
        "between outputs": _with(_conv3d, stride=1),
        "the stride is ignored along the depth: the filter moves {stride} slices between "
        "output slices too": _depth_stride_ignored,
        "did you flip the kernels? Deep learning's convolution does not flip": (
            lambda x, weight, bias, stride=1, padding=0: _conv3d(
                x, np.flip(weight, axis=(2, 3, 4)), bias, stride, padding)),
        "your kernels are flipped in depth: slice a of the kernel goes with slice a of the "
        "window": lambda x, weight, bias, stride=1, padding=0: _conv3d(
            x, np.flip(weight, axis=2), bias, stride, padding),
        "your output has the channels last; PyTorch puts them first: (C_out, D_out, H_out, "
        "W_out)": _then(_conv3d, lambda y: np.moveaxis(y, 0, -1)),
    },
    hint="out[o, t, i, j] = bias[o] + sum over c, a, b, e of "
         "x_padded[c, t*stride + a, i*stride + b, j*stride + e] * weight[o, c, a, b, e]",
    cases=_conv3d_case,
    examples=((_ARTICLE, {}), (_ARTICLE, {"padding": 1}), (_ARTICLE, {"stride": 2})),
    keywords=("stride", "padding"),
)


# --- clips stored channels last ----------------------------------------------------------------


def _conv3d_last(clip, weight, bias):
    """conv3d of clips stored channels last: clip ``(N, D, H, W, C_in)``, weight PyTorch's
    ``(C_out, C_in, kd, kh, kw)`` -> ``(N, D_out, H_out, W_out, C_out)``."""
    x = np.moveaxis(np.asarray(clip, dtype=float), -1, 1)
    return np.moveaxis(conv3d(x, np.asarray(weight, dtype=float), bias), 1, -1)


def _reshaped_in(clip, weight, bias):
    n, d, h, w, c = np.shape(clip)
    x = np.asarray(clip, dtype=float).reshape(n, c, d, h, w)
    return np.moveaxis(conv3d(x, np.asarray(weight, dtype=float), bias), 1, -1)


def _reshaped_both(clip, weight, bias):
    n, d, h, w, c = np.shape(clip)
    y = conv3d(np.asarray(clip, dtype=float).reshape(n, c, d, h, w),
               np.asarray(weight, dtype=float), bias)
    return y.reshape(y.shape[0], *y.shape[2:], y.shape[1])


def _reshaped_out(clip, weight, bias):
    y = conv3d(np.moveaxis(np.asarray(clip, dtype=float), -1, 1),
               np.asarray(weight, dtype=float), bias)
    return y.reshape(y.shape[0], *y.shape[2:], y.shape[1])


def _last_case(rng, keywords):
    n, c_in, c_out = (int(a) for a in rng.integers(2, 4, size=3))
    d, h, w = (int(s) for s in rng.integers(3, 6, size=3))
    clip = rng.integers(-3, 4, size=(n, d, h, w, c_in)).astype(float)
    weight = rng.integers(-2, 3, size=(c_out, c_in, 2, 2, 2)).astype(float)
    bias = rng.integers(-3, 4, size=c_out).astype(float)
    return (clip, weight, bias), {}


CONV3D_LAST = Reference(
    name="convlab.conv3d on clips moved channels first and back",
    compute=_conv3d_last,
    mistakes={
        "reshape keeps the numbers in their memory order: it relabels the axes without moving "
        "any number, so your channels are scrambled with the frames and the pixels":
            _reshaped_in,
        "reshape keeps the numbers in their memory order, on the way in and on the way out: "
        "it relabels the axes without moving any number": _reshaped_both,
        "the way in is right, but the reshape on the way out relabels the axes without "
        "moving any number: the channels are scrambled with the positions": _reshaped_out,
        "your result is channels first; the contract asks for it channels last, like the "
        "input": lambda clip, weight, bias: np.moveaxis(_conv3d_last(clip, weight, bias), -1, 1),
    },
    hint="the clip is (N, D, H, W, C); conv3d wants (N, C, D, H, W) and gives (N, C_out, D_out, "
         "H_out, W_out); the result must be channels last again",
    cases=_last_case,
    keywords=(),
)


# --- the task data of exercises 03 --------------------------------------------------------------


def _layer_tasks(data):
    """``[(reference, args, kwargs), ...]`` of the layer tasks for task data ``data``."""
    n, d, h, w, c = data["clip_shape"]
    cost = ((c, data["c_out"], data["kernel_size"], (d, h, w), data["stride"],
             data["padding"]), {})
    return [
        (INPUT3D_SHAPE, (data["clip_shape"],), {}),
        (WEIGHT3D_SHAPE, (c, data["c_out"], data["kernel_size"], d), {}),
        (CLIP3D_SHAPE, (data["clip_shape"], data["c_out"], data["kernel_size"]),
         {"stride": data["stride"], "padding": data["padding"]}),
        (CONV3D_PARAMS, *cost),
        (CONV3D_MACS, *cost),
    ]


def _well_posed(data):
    """Every mistake of every layer task gives its own answer, none the right one."""
    for reference, args, kwargs in _layer_tasks(data):
        answers = [reference._compute(*args, **kwargs)]
        for wrong in reference._mistakes.values():
            answer = wrong(*args, **kwargs)
            if answer in answers:
                return False
            answers.append(answer)
    return True


def _data(rng):
    """Task data of exercises 03, drawn from ``rng``.

    By hand: a clip ``x`` ``(2, 4, 4, 4)`` (two channels, four slices), one filter ``weight``
    ``(2, 2, 2, 2)``, an int ``bias``, stride 2 and an output ``position`` at depth 1
    (row and column 0 and 1, in either order).
    A layer: a batch of feature clips of shape ``clip_shape`` ``(N, D, H, W, C)`` (channels
    last), ``c_out`` filters of ``kernel_size`` ``(kd, k, k)``, ``stride`` and ``padding``
    (depth, height, width), drawn again until every listed mistake gives its own answer.
    """
    x = rng.integers(-2, 4, size=(2, 4, 4, 4))
    weight = rng.integers(-1, 3, size=(2, 2, 2, 2))
    while len(set(weight.ravel().tolist())) < 3 or np.array_equal(weight, np.flip(weight, 1)):
        weight = rng.integers(-1, 3, size=(2, 2, 2, 2))
    position = (1, *[(0, 1), (1, 0)][int(rng.integers(0, 2))])
    data = {"x": x.astype(float), "weight": weight.astype(float),
            "bias": int(rng.integers(-3, 4) or 1), "by_hand_stride": 2, "position": position}
    while True:
        kd, k = int(rng.choice([2, 3])), int(rng.choice([3, 5]))
        layer = {
            "clip_shape": (int(rng.choice([2, 4, 8])), int(rng.choice([8, 9, 12, 15, 16])),
                           int(rng.choice([27, 28, 32, 45, 56])),
                           int(rng.choice([27, 28, 32, 45, 56])), int(rng.choice([4, 5, 6]))),
            "c_out": int(rng.choice([16, 24, 32])), "kernel_size": (kd, k, k),
            "stride": (int(rng.choice([2, 3])), 2, 2),
            "padding": (1, int(rng.integers(1, k // 2 + 1)), int(rng.integers(1, k // 2 + 1))),
        }
        layer["padding"] = (1, layer["padding"][1], layer["padding"][1])
        if _well_posed(layer):
            return data | layer


EXERCISES = {"03": _data}
