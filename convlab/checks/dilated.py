"""References and task data of chapter 07: dilated (atrous) convolution · 空洞卷积.

The mistakes this chapter diagnoses (each a hint of a ``Reference`` below):

* the effective kernel size taken as ``d·k`` (or ``k + d``), or as the kernel size itself
  (dilation ignored);
* ``d`` gaps between taps instead of ``d - 1`` (the rate read as the size of the gap, as some
  articles write it), which stretches the kernel to ``(d+1)(k-1)+1``;
* the output size computed without the dilation, or with ``d·k`` as the kernel's span, or
  with the padding counted once, or rounded up;
* 'same' padding for a dilated kernel taken as ``k // 2`` (the undilated kernel's), or as
  ``d·k // 2``;
* the receptive field of a stack of stride-1 layers computed by multiplying the layers'
  spans, by adding the kernel sizes without their dilation, or by adding the spans without
  the ``- 1`` for the pixel they share;
* believing that dilation adds parameters (counting the effective ``d(k-1)+1`` squared
  weights) or forgetting the biases;
* one dilated output by hand: the window taken contiguous (dilation ignored), with ``d``
  gaps, at position ``r·d`` instead of ``r``, the kernel flipped, the bias forgotten, a
  channel left out;
* the gridding artifact: believing a stack's receptive field is reached everywhere (no
  holes), counting the holes of one axis only, or counting the reached pixels instead of the
  holes.

Each ``Reference`` is the right computation of a kind of answer with its usual mistakes; the
check functions of ``convlab.checks`` take one and name the mistake a wrong answer makes.
"""

import math

import numpy as np

from ..arithmetic import conv_cost, conv_output_size, receptive_field
from ..conv import conv2d
from . import Reference, _distinct, _with

__all__ = [
    "DILATED_CONV2D",
    "DILATED_OUTPUT",
    "DILATED_PARAMS",
    "DILATED_SAME",
    "DILATED_SAME_PADDING",
    "DILATED_SIZE",
    "EFFECTIVE_KERNEL",
    "GRID_HOLES",
    "STACK_FIELD",
]


# --- sizes -----------------------------------------------------------------------------------


def _span(k, d, gaps=None):
    """Span of a kernel of ``k`` taps with ``gaps`` zeros between taps (``d - 1`` is right)."""
    gaps = d - 1 if gaps is None else gaps
    return k + (k - 1) * gaps


def _effective(k, dilation):
    return _span(k, dilation)


EFFECTIVE_KERNEL = Reference(
    name="the effective kernel size",
    compute=_effective,
    mistakes={
        "that is d·k: the dilation spreads the gaps *between* the taps, there is nothing after "
        "the last tap": lambda k, dilation: dilation * k,
        "that is k + d: each of the k - 1 spaces between neighbouring taps grows, not the "
        "kernel by d once": lambda k, dilation: k + dilation,
        "you inserted d zeros between neighbouring taps: dilation {dilation} puts "
        "{dilation} - 1 of them there (dilation 1 is the ordinary kernel, no gap)":
            lambda k, dilation: _span(k, dilation, gaps=dilation),
        "that is the kernel size itself: the taps are spread apart, so the kernel spans more "
        "of the input than it has weights": lambda k, dilation: k,
    },
    hint="draw the k taps on a line with the gaps between them and count the pixels from the "
         "first tap to the last",
    integer=True,
)


def _size(i, k, stride=1, padding=0, dilation=1, gaps=None, sides=2, ceil=False):
    room = i + sides * padding - _span(k, dilation, gaps)
    if room < 0:
        raise ValueError("the kernel does not fit")
    return (math.ceil(room / stride) if ceil else room // stride) + 1


DILATED_SIZE = Reference(
    name="convlab.conv_output_size",
    compute=lambda i, k, stride=1, padding=0, dilation=1: conv_output_size(
        i, k, stride, padding, dilation),
    mistakes={
        "that is the output size of the undilated kernel: the dilated kernel spans more input "
        "pixels, so it has less room to move": _with(_size, dilation=1),
        "you took the kernel's span as d·k; count its span from the first tap to the last":
            lambda i, k, stride=1, padding=0, dilation=1: _size(
                i, dilation * k, stride, padding, 1),
        "you spread the taps by d zeros each: dilation {dilation} leaves {dilation} - 1 "
        "between neighbouring taps": lambda i, k, stride=1, padding=0, dilation=1: _size(
            i, k, stride, padding, dilation, gaps=dilation),
        "padding is counted on each side: it adds 2·padding to the input":
            _with(_size, sides=1),
        "did you round up? Sizes are floored: a window that does not fit entirely is not used":
            _with(_size, ceil=True),
        "did you forget the + 1? The first window is there before the kernel moves at all":
            lambda i, k, stride=1, padding=0, dilation=1: _size(
                i, k, stride, padding, dilation) - 1,
    },
    hint="the kernel's span is what must fit inside the padded input; count how many steps "
         "of the stride it can make",
    integer=True,
)


def _same_padding(k, dilation):
    return dilation * (k - 1) // 2


DILATED_SAME_PADDING = Reference(
    name="'same' padding of a dilated kernel",
    compute=_same_padding,
    mistakes={
        "that is the 'same' padding of the undilated k x k kernel: the dilated kernel sticks "
        "out further on each side": lambda k, dilation: k // 2,
        "you took the kernel's span as d·k: the span ends at the last tap; count from the "
        "centre tap to the last one": lambda k, dilation: dilation * k // 2,
        "that is the padding of the whole span, on one side; padding is per side and the "
        "centre tap needs none": lambda k, dilation: _span(k, dilation) - 1,
        "you spread the taps by d zeros each: a dilation d leaves d - 1 zeros between "
        "neighbouring taps": lambda k, dilation: _span(k, dilation, dilation) // 2,
    },
    hint="with stride 1, 'same' keeps the size: the padding per side must cover how far the "
         "kernel reaches from its centre tap",
    integer=True,
)


# --- receptive fields and costs --------------------------------------------------------------


def _stack_field(k, dilations):
    """Receptive field of a stack of stride-1 ``k x k`` layers with these dilations."""
    return receptive_field([(k, 1, 0, d) for d in dilations])[-1].size


STACK_FIELD = Reference(
    name="convlab.receptive_field",
    compute=_stack_field,
    mistakes={
        "you multiplied the layers' spans: each layer adds its reach to the field of the "
        "layer below, it does not scale it": lambda k, dilations: math.prod(
            _span(k, d) for d in dilations),
        "you added the kernel sizes without their dilation: each layer adds the span of its "
        "dilated kernel": lambda k, dilations: _stack_field(k, [1] * len(dilations)),
        "you added the spans whole: neighbouring layers share a pixel (the centre of the "
        "window is the output of the layer below), so each adds its span minus 1":
            lambda k, dilations: sum(_span(k, d) for d in dilations),
        "you spread the taps by d zeros each: dilation d leaves d - 1 between neighbouring "
        "taps": lambda k, dilations: 1 + sum(_span(k, d, d) - 1 for d in dilations),
        "that is the span of the last layer alone: the layers below widen what each of its "
        "taps sees": lambda k, dilations: _span(k, dilations[-1]),
    },
    hint="start from 1 pixel and let each layer add how far its taps reach beyond one pixel",
    integer=True,
)


def _params(c_in, c_out, k, dilation=1, bias=True, effective=False):
    kk = _span(k, dilation) if effective else k
    return conv_cost(c_in, c_out, kk, kk, bias=bias).params


DILATED_PARAMS = Reference(
    name="convlab.conv_cost(...).params",
    compute=_params,
    mistakes={
        "dilation adds no weights: the gaps are holes, not weights. Did you count the "
        "effective kernel's weights?": _with(_params, effective=True),
        "did you forget the biases? Each filter has one": _with(_params, bias=False),
        "dilation adds no weights, and each filter has a bias": _with(
            _params, effective=True, bias=False),
        "a filter has one kernel per input channel: its weights are C_in·k·k":
            _with(_params, c_in=1),
    },
    hint="count one filter (its k x k kernels, one per input channel, and its bias), then "
         "multiply by the number of filters",
    integer=True,
)


# --- one output by hand, and the whole layer ---------------------------------------------------


def _output(x, weight, bias, position, dilation, gaps=None, scaled=False, flip=False,
            channels=None):
    """One output ``position`` of ``conv2d(x, weight[None], [bias], dilation=dilation)``.

    x ``(C, H, W)``, weight one filter ``(C, k, k)``; the keywords make the usual mistakes.
    """
    x, weight = np.asarray(x, dtype=float), np.asarray(weight, dtype=float)
    if flip:
        weight = np.flip(weight, axis=(1, 2))
    if channels is not None:
        x, weight = x[channels], weight[channels]
    step = (dilation - 1 if gaps is None else gaps) + 1
    k = weight.shape[-1]
    r, c = position
    if scaled:
        r, c = r * dilation, c * dilation
    rows, cols = r + step * np.arange(k), c + step * np.arange(k)
    if rows[-1] >= x.shape[1] or cols[-1] >= x.shape[2]:
        raise ValueError("the window leaves the input")
    return float(np.sum(x[:, rows][:, :, cols] * weight) + (bias or 0.0))


DILATED_OUTPUT = Reference(
    name="convlab.conv2d with dilation",
    compute=lambda x, weight, bias, position, dilation: float(conv2d(
        np.asarray(x, dtype=float), np.asarray(weight, dtype=float)[None],
        np.array([bias], dtype=float), dilation=dilation)[(0, *position)]),
    mistakes={
        "you used a contiguous window: with dilation {dilation} the kernel's taps sit "
        "{dilation} pixels apart": _with(_output, dilation=1),
        "your taps are one pixel too far apart: dilation {dilation} leaves {dilation} - 1 "
        "pixels between neighbouring taps": lambda x, weight, bias, position, dilation: _output(
            x, weight, bias, position, dilation, gaps=dilation),
        "your window starts at (row·{dilation}, column·{dilation}): dilation spreads the taps "
        "of one window, it does not move the window; with stride 1 the window of output (r, c) "
        "starts at input (r, c)": _with(_output, scaled=True),
        "did you flip the kernel? Deep learning's convolution multiplies each tap by the "
        "weight as it is": _with(_output, flip=True),
        "did you forget the bias? It is added once to the sum": lambda x, weight, bias, position,
        dilation: _output(x, weight, 0.0, position, dilation),
        "only the first input channel is in your sum: a filter sums the products of every "
        "channel": _with(_output, channels=slice(0, 1)),
        "only the last input channel is in your sum: a filter sums the products of every "
        "channel": _with(_output, channels=slice(-1, None)),
    },
    hint="list the k·k input pixels under the taps (they are dilation apart), multiply each by "
         "its weight, on every channel, and add the bias once",
)


def _dilated(x, kernel, dilation=1, padding=0):
    x, kernel = np.asarray(x, dtype=float), np.asarray(kernel, dtype=float)
    return conv2d(x[None], kernel[None, None], padding=padding, dilation=dilation)[0]


def _dilated_case(rng, keywords):
    kwargs = {"dilation": int(rng.integers(1, 4))}
    if "padding" in keywords:
        kwargs["padding"] = int(rng.integers(0, 4))
    k = int(rng.choice([2, 3]))
    span = _span(k, kwargs["dilation"])
    size = [int(rng.integers(max(span - 2 * kwargs.get("padding", 0), 1), span + 6))
            for _ in range(2)]
    x = rng.integers(-4, 5, size=size).astype(float)
    kernel = rng.integers(-3, 4, size=(k, k)).astype(float)
    return (x, kernel), kwargs


_X7 = np.arange(49, dtype=float).reshape(7, 7) % 5
_K3 = np.array([[1, 0, -1], [2, 1, 0], [0, -1, 1]], dtype=float)

DILATED_CONV2D = Reference(
    name="convlab.conv2d with dilation",
    compute=_dilated,
    mistakes={
        "your output is that of the undilated kernel: with dilation={dilation} the taps sit "
        "{dilation} pixels apart": _with(_dilated, dilation=1),
        "your taps are one pixel too far apart: dilation={dilation} leaves {dilation} - 1 "
        "pixels between neighbouring taps":
            lambda x, kernel, dilation=1, padding=0: _dilated(x, kernel, dilation + 1, padding),
        "did you forget the padding? padding={padding} adds that many zeros on each side":
            _with(_dilated, padding=0),
        "did you flip the kernel? Deep learning's convolution does not flip":
            lambda x, kernel, dilation=1, padding=0: _dilated(
                x, np.flip(np.asarray(kernel, dtype=float)), dilation, padding),
        "your output is cut short: the number of windows comes from the dilated kernel's span, "
        "not from k": lambda x, kernel, dilation=1, padding=0: _dilated(
            x, kernel, dilation, padding)[:-1, :-1],
    },
    hint="out[r, c] = sum over a, b of x_padded[r + a·dilation, c + b·dilation] · kernel[a, b]",
    cases=_dilated_case,
    examples=(((_X7, _K3), {"dilation": 2}), ((_X7, _K3), {"dilation": 3}),
              ((_X7, _K3), {"dilation": 2, "padding": 2})),
    keywords=("dilation", "padding"),
)


def _same(x, kernel, dilation=1):
    return _dilated(x, kernel, dilation, _same_padding(np.shape(kernel)[0], dilation))


def _same_case(rng, keywords):
    d, k = int(rng.integers(1, 5)), int(rng.choice([3, 5]))
    size = [int(s) for s in rng.integers(3, 10, size=2)]
    x = rng.integers(-4, 5, size=size).astype(float)
    return (x, rng.integers(-3, 4, size=(k, k)).astype(float)), {"dilation": d}


def _padded_by(padding):
    return lambda x, kernel, dilation=1: _dilated(x, kernel, dilation, padding(
        np.shape(kernel)[0], dilation))


DILATED_SAME = Reference(
    name="convlab.conv2d(..., padding='same') with dilation",
    compute=_same,
    mistakes={
        "your output is smaller than the input: the padding is that of the undilated kernel, "
        "and the dilated kernel sticks out further": _padded_by(lambda k, d: k // 2),
        "your output is larger than the input: too much padding": _padded_by(
            lambda k, d: d * k // 2),
        "your output is that of the undilated kernel": lambda x, kernel, dilation=1: _dilated(
            x, kernel, 1, np.shape(kernel)[0] // 2),
    },
    hint="'same' keeps the size: pad each side by how far the dilated kernel reaches from its "
         "centre tap",
    cases=_same_case,
    examples=(((_X7, _K3), {"dilation": 2}), ((_X7, _K3), {"dilation": 3}),
              ((_X7[:5], _K3), {"dilation": 1})),
    keywords=("dilation",),
)


# --- gridding ---------------------------------------------------------------------------------


def _reached(k, dilations):
    """Offsets (from the first input pixel of the field) that a stack of stride-1 ``k``-tap
    layers with these dilations reaches along one axis: a sorted list of ints."""
    offsets = {0}
    for d in dilations:
        offsets = {o + d * t for o in offsets for t in range(k)}
    return sorted(offsets)


def _holes(k, dilations, axes=2, count="holes"):
    field = _stack_field(k, dilations)
    hit = len(_reached(k, dilations))
    if count == "reached":
        return hit ** axes
    return field ** axes - hit ** axes


GRID_HOLES = Reference(
    name="the holes of the stack's receptive field",
    compute=_holes,
    mistakes={
        "the stack does not reach every pixel of its receptive field: follow the taps layer by "
        "layer, which input offsets can a path land on?": lambda k, dilations: 0,
        "that is the count along one axis; the field is square and a pixel is reached only if "
        "its row offset and its column offset both are": _with(_holes, axes=1),
        "that is the number of pixels the stack reaches; the question asks for those it "
        "never reaches": _with(_holes, count="reached"),
    },
    hint="list the offsets one axis reaches (each layer adds 0, d, 2d, ... to every offset "
         "so far), then count the square's pixels whose row or column is missing",
    integer=True,
)


# --- the task data of exercises 07, drawn from a course seed ------------------------------------


def _differ(reference, *args):
    """Whether every mistake's answer differs from the right one."""
    right = reference._compute(*args)
    return not any(math.isclose(wrong(*args), right) for wrong in reference._mistakes.values())


# the output-size mistakes kept apart on the task (the span's own are Task 2's first question)
_SIZE_APART = ("that is the output size of the undilated", "padding is counted", "did you round",
               "did you forget the + 1")


def _exercise_07(rng):
    while True:  # 2 channels of 9 x 9, a 3x3 filter with a bias, dilation 2: a 5 x 5 output
        c_in, size, k, dilation = 2, 9, 3, 2
        x = rng.integers(0, 4, size=(c_in, size, size)).astype(float)
        weight = rng.integers(-1, 3, size=(c_in, k, k)).astype(float)
        weight[rng.integers(0, c_in), rng.integers(0, k), rng.integers(0, k)] = -1
        bias = float(rng.integers(-3, 4) or 2)
        # a position whose window, spread one pixel too far or moved to (2r, 2c), still fits
        position = (int(rng.integers(0, 3)), int(rng.integers(0, 3)))
        if _distinct(DILATED_OUTPUT, x, weight, bias, position, dilation):
            break
    while True:
        layer = {"i": int(rng.integers(30, 70)), "k": int(rng.choice([3, 5, 7])),
                 "stride": int(rng.choice([2, 3])), "padding": int(rng.integers(0, 7)),
                 "dilation": int(rng.integers(2, 5))}
        if _distinct(DILATED_SIZE, *layer.values(), among=_SIZE_APART) and _differ(
                DILATED_SIZE, *layer.values()) and _distinct(
                EFFECTIVE_KERNEL, layer["k"], layer["dilation"]):
            break
    while True:
        same = {"k": int(rng.choice([3, 5, 7])), "dilation": int(rng.integers(2, 7))}
        if _distinct(DILATED_SAME_PADDING, *same.values()):
            break
    channels = int(rng.choice([16, 32, 64]))
    while True:
        rates = sorted(int(r) for r in rng.choice([1, 2, 3, 4, 5, 6], size=3, replace=False))
        # not the lesson's stacks (1, 2, 3) and (1, 2, 4): their fields are printed there
        if rates not in ([1, 2, 3], [1, 2, 4]) and _distinct(STACK_FIELD, 3, rates) and \
                _distinct(DILATED_PARAMS, channels, channels, 3, max(rates)):
            break
    while True:
        holes = [int(r) for r in rng.choice([2, 3, 4], size=1)] * int(rng.integers(2, 4))
        holes[-1] += int(rng.choice([0, 2]))
        if holes != [2, 2, 2] and _holes(3, holes) and _distinct(GRID_HOLES, 3, holes):
            break
    return {
        "x": x, "weight": weight, "bias": bias, "position": position, "dilation": dilation,
        "layer": layer, "same": same, "rates": rates, "channels": channels, "holes": holes,
    }


EXERCISES = {"07": _exercise_07}
