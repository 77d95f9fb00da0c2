"""References and task data of chapter 10: grouped convolution · 分组卷积.

The mistakes this chapter diagnoses (each a hint of a ``Reference`` below):

1. **Parameters divided by G² instead of G**: ``C_in/G · C_out/G · k²`` is *one* group's
   count, and there are G groups (``GROUPED_PARAMS``); the same for multiply-adds
   (``GROUPED_MACS``).
2. **Nothing divided**: the standard layer's count given for the grouped one
   (``GROUPED_PARAMS``, ``GROUPED_MACS``).
3. **The bias divided by G** (or forgotten): every output channel keeps its one bias, grouped
   or not (``GROUPED_PARAMS``).
4. **k weights per kernel** instead of ``k²`` (``GROUPED_PARAMS``); multiply-adds counted on the
   input's size instead of the output's (stride and padding ignored), or FLOPs (two per
   multiply-add) given for multiply-adds (``GROUPED_MACS``).
5. **The weight's shape**: ``(C_out, C_in, k, k)`` as if every filter still read every channel;
   one group's ``(C_out/G, C_in/G, k, k)``; ``(C_out/G, C_in, k, k)`` (the filters divided
   instead of their depth); an extra group axis ``(G, C_out/G, C_in/G, k, k)``; the transposed
   convolution's layout ``(C_in, C_out/G, k, k)`` (``GROUPED_WEIGHT_SHAPE``).
6. **Groups taken as interleaved**: channel ``c`` in group ``c % G`` instead of the contiguous
   block ``c // (C_in/G)``, for the inputs, the filters or the outputs' order
   (``GROUPED_OUTPUT``, ``GROUPED_REACH``, ``GROUPED_CONV2D``, ``DENSE_WEIGHT``).
7. **A filter's kernels applied to the first input channels**: ``weight[o, j]`` read as the
   kernel of input channel ``j``, when it is that of channel ``g·C_in/G + j`` of the filter's own
   group (``GROUPED_OUTPUT``, ``GROUPED_CONV2D``).
8. **The group of a channel found with the other side's group size**: input channel ``i`` put
   in group ``i // (C_out/G)`` (``GROUPED_REACH``).
9. **Believing an input channel still reaches every output** (grouping changes nothing but the
   cost), or **only the output with its own number** (thinking of every grouped layer as
   depthwise) (``GROUPED_REACH``).
10. **Any G taken as possible**: G must divide both ``C_in`` and ``C_out``; dividing only one of
    them is not enough (``GROUPED_VALID``).
11. **By hand**: the bias forgotten, the kernel flipped (``GROUPED_OUTPUT``).
12. **Implementing the block-diagonal weight**: the kernels copied into every group's columns
    (no zeros), put on interleaved columns, or filter ``o``'s group taken as ``o % G``
    (``DENSE_WEIGHT``).
13. **The price misread**: thinking a grouped layer saves parameters but not multiply-adds (it
    saves both by G), that it shrinks the receptive field or the number of output channels,
    when what it loses is every connection between channels of different groups
    (``WHY_GROUPED``).

Each ``Reference`` is the right computation of a kind of answer with its usual mistakes; the
check functions of ``convlab.checks`` take one and name the mistake a wrong answer makes.
"""

import math

import numpy as np

from ..arithmetic import conv_cost
from ..conv import conv2d
from ..variants import dense_weight
from . import Reference, _distinct, _with

__all__ = [
    "DENSE_WEIGHT",
    "GROUPED_CONV2D",
    "GROUPED_MACS",
    "GROUPED_OUTPUT",
    "GROUPED_PARAMS",
    "GROUPED_REACH",
    "GROUPED_VALID",
    "GROUPED_WEIGHT_SHAPE",
]


# --- which channels a group holds -------------------------------------------------------------


def _members(count, groups, g, interleaved=False):
    """The channels of group ``g`` when ``count`` channels are split into ``groups``."""
    if interleaved:
        return np.arange(g, count, groups)
    per = count // groups
    return np.arange(g * per, (g + 1) * per)


def _group_of(channel, count, groups, interleaved=False):
    return channel % groups if interleaved else channel // (count // groups)


# --- one output by hand ----------------------------------------------------------------------


def _output(x, weight, bias, groups, out_channel, position, interleaved=False, first=False,
            flip=False, with_bias=True):
    """Output ``(out_channel, *position)`` of ``conv2d(x, weight, bias, groups=groups)``.

    x ``(C_in, H, W)``, weight ``(C_out, C_in/G, k, k)``, bias ``(C_out,)``; stride 1, no
    padding. The keywords make the usual mistakes.
    """
    x, weight = np.asarray(x, dtype=float), np.asarray(weight, dtype=float)
    c_in, c_out = x.shape[0], weight.shape[0]
    g = _group_of(out_channel, c_out, groups, interleaved)
    channels = _members(c_in, groups, 0 if first else g, interleaved)
    kernels = weight[out_channel]
    if flip:
        kernels = np.flip(kernels, axis=(1, 2))
    k = kernels.shape[-1]
    r, c = position
    window = x[channels, r:r + k, c:c + k]
    if window.shape != kernels.shape:
        raise ValueError("the window leaves the input")
    return float(np.sum(window * kernels) + (bias[out_channel] if with_bias else 0.0))


GROUPED_OUTPUT = Reference(
    name="convlab.conv2d(..., groups=G)",
    compute=lambda x, weight, bias, groups, out_channel, position: float(conv2d(
        np.asarray(x, dtype=float), np.asarray(weight, dtype=float),
        np.asarray(bias, dtype=float), groups=groups)[(out_channel, *position)]),
    mistakes={
        "you took the groups as interleaved (channel c in group c % G): the channels are split "
        "into contiguous blocks, the first C_in/G channels in group 0, the next in group 1, ...":
            _with(_output, interleaved=True),
        "you multiplied the filter's kernels with the first input channels: weight[o, j] is the "
        "kernel for channel j of the filter's own group, not for input channel j":
            _with(_output, first=True),
        "did you flip the kernels? Deep learning's convolution multiplies each tap by the "
        "weight as it is": _with(_output, flip=True),
        "did you forget the bias? Each filter adds its own, once": _with(_output,
                                                                         with_bias=False),
    },
    hint="find the group of output channel {out_channel}, then its input channels; multiply "
         "each window by its kernel, add, and add the filter's bias once",
)


# --- shapes and costs ------------------------------------------------------------------------


def _weight_shape(c_in, c_out, k, groups):
    return (c_out, c_in // groups, k, k)


GROUPED_WEIGHT_SHAPE = Reference(
    name="the weight of conv2d(..., groups=G)",
    compute=_weight_shape,
    mistakes={
        "that is the weight of the standard layer: in a grouped layer a filter reads only its "
        "group's input channels": lambda c_in, c_out, k, groups: (c_out, c_in, k, k),
        "that is one group's weight: the layer holds the filters of every group, stacked along "
        "the first axis": lambda c_in, c_out, k, groups: (c_out // groups, c_in // groups, k, k),
        "you divided the number of filters: every output channel still has its filter, it is "
        "the filters' depth that shrinks":
            lambda c_in, c_out, k, groups: (c_out // groups, c_in, k, k),
        "the weight has four axes, as for the standard layer: the groups are stacked along the "
        "first one, not given an axis of their own":
            lambda c_in, c_out, k, groups: (groups, c_out // groups, c_in // groups, k, k),
        "that is the layout of a transposed convolution's weight (input channels first)":
            lambda c_in, c_out, k, groups: (c_in, c_out // groups, k, k),
    },
    hint="one row per filter (output channel), then the input channels one filter reads, then "
         "the kernel",
)


def _params(c_in, c_out, k, groups, bias=True, over=None, bias_over=1, taps=2):
    over = groups if over is None else over
    return c_out * c_in * k ** taps // over + (c_out // bias_over if bias else 0)


GROUPED_PARAMS = Reference(
    name="convlab.conv_cost(..., groups=G, bias=True).params",
    compute=lambda c_in, c_out, k, groups, bias=True: conv_cost(
        c_in, c_out, k, k, groups=groups, bias=bias).params,
    mistakes={
        "you divided by G twice: C_in/G · C_out/G · k² is the count of one group, and the "
        "layer has G groups": lambda c_in, c_out, k, groups, bias=True: _params(
            c_in, c_out, k, groups, bias, over=groups ** 2),
        "that is the standard layer's count: each filter reads only C_in/G input channels":
            lambda c_in, c_out, k, groups, bias=True: _params(c_in, c_out, k, groups, bias,
                                                              over=1),
        "you divided the biases by G too: every output channel keeps its own bias":
            lambda c_in, c_out, k, groups, bias=True: _params(c_in, c_out, k, groups, bias,
                                                              bias_over=groups),
        "you divided by G twice, and the biases too: one group holds C_in/G · C_out/G · k² "
        "weights and C_out/G biases, and the layer has G groups":
            lambda c_in, c_out, k, groups, bias=True: _params(
                c_in, c_out, k, groups, bias, over=groups ** 2, bias_over=groups),
        "did you forget the biases? Each filter has one": _with(_params, bias=False),
        "a k x k kernel has k² weights, not k": _with(_params, taps=1),
    },
    hint="count the weights of one filter (its kernels, one per input channel it reads), add "
         "its bias, then multiply by the number of filters",
    integer=True,
)


def _macs(c_in, c_out, k, groups, i, stride=1, padding=0, over=None, size=None, per=1):
    over = groups if over is None else over
    if size is None:
        size = (i + 2 * padding - k) // stride + 1
    return size * size * c_out * c_in * k * k // over * per


GROUPED_MACS = Reference(
    name="convlab.conv_cost(..., groups=G).macs",
    compute=lambda c_in, c_out, k, groups, i, stride=1, padding=0: conv_cost(
        c_in, c_out, k, i, stride, padding, groups=groups).macs,
    mistakes={
        "you divided by G twice: C_in/G · C_out/G · k² multiply-adds per position is one "
        "group's work, and the layer has G groups":
            lambda c_in, c_out, k, groups, i, stride=1, padding=0: _macs(
                c_in, c_out, k, groups, i, stride, padding, over=groups ** 2),
        "that is the standard layer's count: each output value sums over C_in/G input "
        "channels only": lambda c_in, c_out, k, groups, i, stride=1, padding=0: _macs(
            c_in, c_out, k, groups, i, stride, padding, over=1),
        "you counted on the input's {i} x {i} positions: a multiply-add happens per output "
        "value, and the output's size comes from the stride and the padding":
            lambda c_in, c_out, k, groups, i, stride=1, padding=0: _macs(
                c_in, c_out, k, groups, i, size=i),
        "that counts the multiplication and the addition separately (FLOPs): a multiply-add "
        "is one": lambda c_in, c_out, k, groups, i, stride=1, padding=0: _macs(
            c_in, c_out, k, groups, i, stride, padding, per=2),
    },
    hint="multiply-adds = output values x the weights one output value uses; how many input "
         "channels does one output value sum over?",
    integer=True,
)


# --- which channels reach which ---------------------------------------------------------------


def _reach(c_in, c_out, groups, channel, interleaved=False, per=None):
    per = c_in // groups if per is None else per
    g = channel % groups if interleaved else channel // per
    if g >= groups:
        raise ValueError("no such group")
    return _members(c_out, groups, g, interleaved)


GROUPED_REACH = Reference(
    name="the output channels that input channel changes",
    compute=lambda c_in, c_out, groups, channel: np.flatnonzero(
        conv2d(np.eye(c_in)[channel][None, :, None, None], np.ones((c_out, c_in // groups, 1, 1)),
               groups=groups)[0, :, 0, 0]),
    mistakes={
        "you took the groups as interleaved (channel c in group c % G): the groups are "
        "contiguous blocks of channels, in the inputs and in the outputs":
            _with(_reach, interleaved=True),
        "an output channel reads only the input channels of its group: a change in one group "
        "cannot reach the outputs of the others":
            lambda c_in, c_out, groups, channel: np.arange(c_out),
        "only in a depthwise layer (G = C_in = C_out) does an input channel feed just the "
        "output with its own number": lambda c_in, c_out, groups, channel: np.array([channel]),
        "those are the input channels of its group: the question asks for the output "
        "channels, and a group has C_out/G of them":
            lambda c_in, c_out, groups, channel: _members(c_in, groups,
                                                          channel // (c_in // groups)),
        "you found the input channel's group with the outputs' group size: input channels "
        "come C_in/G to a group, output channels C_out/G":
            lambda c_in, c_out, groups, channel: _reach(c_in, c_out, groups, channel,
                                                        per=c_out // groups),
    },
    hint="find the group of input channel {channel} (the channels are split into G contiguous "
         "blocks), then the output channels of that group",
)


def _divisors(n):
    return np.array([d for d in range(1, n + 1) if n % d == 0])


GROUPED_VALID = Reference(
    name="the numbers of groups conv2d accepts",
    compute=lambda c_in, c_out: _divisors(math.gcd(c_in, c_out)),
    mistakes={
        "those divide C_in only: the output channels are split into the same G groups, so G "
        "must divide C_out too": lambda c_in, c_out: _divisors(c_in),
        "those divide C_out only: the input channels are split into the G groups as well, so "
        "G must divide C_in too": lambda c_in, c_out: _divisors(c_out),
        "not every G splits the channels into equal groups: a group takes C_in/G input and "
        "C_out/G output channels, whole numbers":
            lambda c_in, c_out: np.arange(1, min(c_in, c_out) + 1),
    },
    hint="every group takes the same whole number of input channels and of output channels",
)


# --- the whole layer, and its block-diagonal weight -------------------------------------------


def _grouped(x, weight, groups, bias=None, interleaved_in=False, interleaved_out=False,
             first=False, with_bias=True):
    """conv2d(x[None], weight, bias, groups=groups)[0], split, convolved, concatenated."""
    x, weight = np.asarray(x, dtype=float), np.asarray(weight, dtype=float)
    c_in, c_out = x.shape[0], weight.shape[0]
    outs = np.empty((c_out,) + conv2d(x[None, :1], weight[:1, :1]).shape[2:])
    for g in range(groups):
        channels = _members(c_in, groups, 0 if first else g, interleaved_in)
        filters = _members(c_out, groups, g)
        y = conv2d(x[None, channels], weight[filters])[0]
        outs[_members(c_out, groups, g, interleaved_out)] = y
    if bias is not None and with_bias:
        outs += np.asarray(bias, dtype=float)[:, None, None]
    return outs


def _grouped_case(rng, keywords):
    groups = int(rng.integers(2, 5))
    per_in, per_out = (int(n) for n in rng.integers(1, 4, size=2))
    c_in, c_out = groups * per_in, groups * per_out
    k = int(rng.integers(1, 4))
    size = [int(s) for s in rng.integers(k, k + 4, size=2)]
    x = rng.integers(-3, 4, size=(c_in, *size)).astype(float)
    weight = rng.integers(-2, 3, size=(c_out, per_in, k, k)).astype(float)
    kwargs = {}
    if "bias" in keywords:
        kwargs["bias"] = rng.integers(-3, 4, size=c_out).astype(float)
    return (x, weight, groups), kwargs


_X6 = np.arange(6 * 16, dtype=float).reshape(6, 4, 4) % 7
_W6 = (np.arange(6 * 2 * 9, dtype=float).reshape(6, 2, 3, 3) % 5) - 2

GROUPED_CONV2D = Reference(
    name="convlab.conv2d(..., groups=G)",
    compute=lambda x, weight, groups, bias=None: conv2d(
        np.asarray(x, dtype=float)[None], np.asarray(weight, dtype=float),
        None if bias is None else np.asarray(bias, dtype=float), groups=groups)[0],
    mistakes={
        "your groups take interleaved input channels (channel c in group c % G): a group is a "
        "contiguous block of C_in/G channels": _with(_grouped, interleaved_in=True),
        "your groups take interleaved input channels and put their outputs on interleaved "
        "channels: groups are contiguous blocks, in the input and in the output":
            _with(_grouped, interleaved_in=True, interleaved_out=True),
        "your outputs are in interleaved order: group g's output channels come as one block, "
        "after those of group g - 1": _with(_grouped, interleaved_out=True),
        "every group of yours reads the first group's input channels": _with(_grouped,
                                                                              first=True),
        "did you forget the bias?": _with(_grouped, with_bias=False),
    },
    hint="split the input channels into G contiguous blocks and the filters likewise; convolve "
         "block g with filter block g; concatenate in order",
    cases=_grouped_case,
    examples=(((_X6, _W6, 3), {}), ((_X6, _W6[:, :1], 6), {}), ((_X6, _W6, 3),
                                                                  {"bias": np.arange(6.0)})),
    keywords=("bias",),
)


def _dense(weight, groups, interleaved_cols=False, tiled=False, group_by_mod=False):
    weight = np.asarray(weight, dtype=float)
    c_out, per_in = weight.shape[:2]
    c_in = per_in * groups
    dense = np.zeros((c_out, c_in) + weight.shape[2:])
    for o in range(c_out):
        g = o % groups if group_by_mod else o // (c_out // groups)
        if tiled:
            for h in range(groups):
                dense[o, _members(c_in, groups, h)] = weight[o]
        else:
            dense[o, _members(c_in, groups, g, interleaved_cols)] = weight[o]
    return dense


def _dense_case(rng, keywords):
    groups = int(rng.integers(2, 5))
    per_in, per_out = (int(n) for n in rng.integers(1, 4, size=2))
    k = int(rng.integers(1, 4))
    weight = rng.integers(-3, 4, size=(groups * per_out, per_in, k, k)).astype(float)
    weight[weight == 0] = 1.0  # no zero kernel entries: the blocks' zeros are all structural
    return (weight, groups), {}


DENSE_WEIGHT = Reference(
    name="convlab.dense_weight",
    compute=lambda weight, groups: dense_weight(np.asarray(weight, dtype=float), groups),
    mistakes={
        "you copied each filter's kernels into every group's columns: a filter has zero "
        "kernels for the input channels of the other groups": _with(_dense, tiled=True),
        "your kernels sit on interleaved input channels (channel c in group c % G): a group "
        "reads a contiguous block of C_in/G channels": _with(_dense, interleaved_cols=True),
        "you put filter o in group o % G: the filters are split into contiguous blocks of "
        "C_out/G, like the channels": _with(_dense, group_by_mod=True),
        "you put the filters in interleaved groups and their kernels on interleaved channels: "
        "both are split into contiguous blocks":
            _with(_dense, group_by_mod=True, interleaved_cols=True),
    },
    hint="dense[o, c] is weight[o, c - g·C_in/G] when c lies in the block of o's group g, and "
         "a zero kernel otherwise",
    cases=_dense_case,
    examples=(((_W6, 3), {}), ((_W6[:, :1], 6), {}), ((_W6[:4], 2), {})),
)


# --- the task data of exercises 10, drawn from a course seed ------------------------------------


def _exercise_10(rng):
    while True:  # 4 channels of 4 x 4, 2 groups, 6 filters of 2 x 3 x 3: a 2 x 2 output
        c_in, c_out, hand_groups, k, size = 4, 6, 2, 3, 4
        x = rng.integers(0, 4, size=(c_in, size, size)).astype(float)
        weight = rng.integers(-1, 3, size=(c_out, c_in // hand_groups, k, k)).astype(float)
        bias = rng.integers(-3, 4, size=c_out).astype(float)
        # in the second group, where contiguous, interleaved and "the first channels" differ
        out_channel = int(rng.integers(c_out // hand_groups, c_out))
        position = (int(rng.integers(0, 2)), int(rng.integers(0, 2)))
        if bias[out_channel] != 0 and _distinct(GROUPED_OUTPUT, x, weight, bias, hand_groups,
                                                out_channel, position):
            break
    while True:
        groups = int(rng.choice([2, 4, 8]))
        layer = {"c_in": groups * int(rng.integers(2, 9)),
                 "c_out": groups * int(rng.integers(2, 9)), "k": int(rng.choice([3, 5])),
                 "groups": groups}
        size = {"i": int(rng.integers(14, 57)), "stride": int(rng.choice([1, 2])),
                "padding": int(rng.integers(0, 3))}
        if layer["c_in"] != layer["c_out"] and all((
                _distinct(GROUPED_WEIGHT_SHAPE, *layer.values()),
                _distinct(GROUPED_PARAMS, *layer.values()),
                _distinct(GROUPED_MACS, *layer.values(), *size.values()))):
            break
    while True:
        groups = int(rng.choice([3, 4]))
        reach = {"c_in": groups * int(rng.integers(2, 4)),
                 "c_out": groups * int(rng.integers(2, 5)), "groups": groups}
        reach["channel"] = int(rng.integers(reach["c_in"] // groups, reach["c_in"]))
        if reach["c_in"] != reach["c_out"] and _distinct(GROUPED_REACH, *reach.values()):
            break
    while True:
        pair = {"c_in": int(rng.choice([12, 16, 18, 20, 24, 30, 36])),
                "c_out": int(rng.choice([8, 12, 16, 18, 20, 24, 27, 30, 45]))}
        if _distinct(GROUPED_VALID, *pair.values()):
            break
    return {"x": x, "weight": weight, "bias": bias, "groups": hand_groups,
            "out_channel": out_channel, "position": position, "layer": layer, "size": size,
            "reach": reach, "pair": pair}


EXERCISES = {"10": _exercise_10}
