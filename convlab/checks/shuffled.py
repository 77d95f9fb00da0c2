"""References and task data of chapter 11: shuffled grouped convolution · 混洗分组卷积.

The mistakes this chapter diagnoses (each a hint of a ``Reference`` below):

* the shuffle's table reshaped to ``(n, G)`` instead of ``(G, n)`` (``n = C/G`` channels per
  group): that is the *inverse* permutation, ``channel_shuffle(x, n)``; the same answer comes
  from listing where each channel goes instead of which channel lands at each position;
* reshaping and flattening without the transpose (the order unchanged: a no-op), or believing
  every shuffle reorders: with ``G = 1`` or ``n = 1`` (depthwise, ``G = C``) it is a no-op;
* positions counted from 1 instead of 0;
* which output channels of GConv -> shuffle -> GConv one input channel reaches: only its own
  group (as without the shuffle), all of them (true only when a group of GConv2 has room for
  every group, ``n >= G``), or only the shuffled positions (GConv2's mixing forgotten);
* believing the shuffle costs parameters or multiply-adds (counting it as a 1x1 convolution
  with a permutation matrix), dividing a grouped layer's cost by ``G²`` instead of ``G``,
  forgetting the groups, or counting one of the two layers;
* an implementation that reshapes without the batch axis and so moves channels between the
  images of a batch (right for one image, wrong for a batch);
* undoing a shuffle by shuffling again (with ``G`` groups) instead of with ``n``, or by
  reversing the channels.

Each ``Reference`` is the right computation of a kind of answer with its usual mistakes; the
check functions of ``convlab.checks`` take one and name the mistake a wrong answer makes.
"""

import numpy as np

from ..arithmetic import conv_cost
from ..conv import conv2d
from ..variants import channel_shuffle
from . import Reference, _distinct, _with

__all__ = [
    "SHUFFLE_FUNCTION",
    "SHUFFLE_ORDER",
    "SHUFFLE_POSITION",
    "SHUFFLE_REACH",
    "SHUFFLE_STACK_MACS",
    "SHUFFLE_STACK_PARAMS",
    "UNSHUFFLE",
]


# --- the order of the channels ----------------------------------------------------------------


def _order(channels, groups, table_groups=None, base=0):
    """Which channel sits at each position after ``channel_shuffle`` (``table_groups``: the
    groups of the table actually reshaped to; ``base`` 1 counts from 1)."""
    g = groups if table_groups is None else table_groups
    return channel_shuffle(np.arange(channels).reshape(1, channels, 1), g)[0, :, 0] + base


def _inverse(channels, groups):
    return _order(channels, groups, table_groups=channels // groups)


SHUFFLE_ORDER = Reference(
    name="convlab.channel_shuffle",
    compute=lambda channels, groups: _order(channels, groups),
    mistakes={
        "that is the inverse order: either the table was reshaped to (n, G) instead of "
        "(G, n), one row per group, or you listed where each channel goes instead of which "
        "channel sits at each position": _inverse,
        "that is the order unchanged: the table has to be transposed before it is flattened":
            lambda channels, groups: _order(channels, 1),
        "positions and channels count from 0, as in Python": _with(_order, base=1),
    },
    hint="write the channels as a table with one row per group, transpose it, and read it "
         "row by row",
)


def _position(channels, groups, channel, inverse=False, base=0):
    order = list(_order(channels, channels // groups if inverse else groups))
    return order.index(channel) + base


SHUFFLE_POSITION = Reference(
    name="the position of a channel after convlab.channel_shuffle",
    compute=_position,
    mistakes={
        "that is where the inverse shuffle puts it: the table is (G, n), one row per group, "
        "and its transpose is read row by row": _with(_position, inverse=True),
        "that is the channel's position before the shuffle: it moves":
            lambda channels, groups, channel: channel,
        "positions count from 0, as in Python": _with(_position, base=1),
    },
    hint="channel c is in row c // n, column c % n of the (G, n) table; where is that entry "
         "after the transpose?",
    integer=True,
)


# --- which outputs one input channel reaches ------------------------------------------------


def _reached(channels, groups, channel, shuffle="right", second=True):
    """Which output channels of GConv -> shuffle -> GConv (1x1, every weight 1) change when
    only input ``channel`` does: a 0/1 float array ``(channels,)``."""
    x = np.zeros((1, channels, 1, 1))
    x[0, channel] = 1.0
    ones = np.ones((channels, channels // groups, 1, 1))
    h = conv2d(x, ones, groups=groups)
    if shuffle == "right":
        h = channel_shuffle(h, groups)
    elif shuffle == "inverse":
        h = channel_shuffle(h, channels // groups)
    if second:
        h = conv2d(h, ones, groups=groups)
    return (h[0, :, 0, 0] != 0).astype(float)


SHUFFLE_REACH = Reference(
    name="GConv -> channel_shuffle -> GConv, measured",
    compute=_reached,
    mistakes={
        "those are the outputs without the shuffle (its own group only): the shuffle "
        "sends this group's channels into other groups of GConv2": _with(_reached, shuffle=None),
        "that is every output channel: a group of GConv2 takes only n = {channels} / {groups} "
        "channels, so it cannot hold one from every group; count which groups of GConv2 "
        "receive this group's channels": lambda channels, groups, channel: np.ones(channels),
        "those are the positions the shuffle moves the group's channels to: GConv2 then mixes "
        "each of them into its whole group": _with(_reached, second=False),
        "those are the outputs of the inverse shuffle: the table is (G, n), one row per group":
            _with(_reached, shuffle="inverse"),
    },
    hint="follow the input channel: GConv1 spreads it over its group; the shuffle sends each "
         "of those channels to a position; GConv2 spreads each over the group it lands in",
)


# --- what the stack costs ----------------------------------------------------------------------


def _stack(channels, groups, size, k=3, what="params", square=False, shuffle_as_conv=False,
           layers=2):
    """Cost of ``layers`` grouped ``k x k`` convolutions ('same' padding, no bias) with the
    shuffle between them, which is free; the keywords make the usual mistakes."""
    one = conv_cost(channels, channels, k, size, padding=k // 2, groups=groups)
    if square:  # the layer's cost over G once more
        one = one._replace(params=one.params / groups, macs=one.macs / groups)
    total = one
    for _ in range(layers - 1):
        total = total + one
    if shuffle_as_conv:  # the permutation written as a 1x1 convolution and costed as one
        total = total + conv_cost(channels, channels, 1, size)
    return getattr(total, what)


def _stack_reference(what):
    return Reference(
        name=f"convlab.conv_cost(...).{what}, summed over the stack",
        compute=lambda channels, groups, size: _stack(channels, groups, size, what=what),
        mistakes={
            "the shuffle only moves channels: it has no weights and multiplies nothing, so it "
            "adds nothing to the cost": lambda channels, groups, size: _stack(
                channels, groups, size, what=what, shuffle_as_conv=True),
            "a grouped layer costs 1/G of the standard one, not 1/G²: each of its filters sees "
            "C_in/G channels, and there are still C_out filters": lambda channels, groups, size:
                _stack(channels, groups, size, what=what, square=True),
            "that is the cost of standard layers: with {groups} groups each filter sees only "
            "{channels} / {groups} input channels": lambda channels, groups, size: _stack(
                channels, 1, size, what=what),
            "that is one layer: the stack has two grouped convolutions":
                lambda channels, groups, size: _stack(channels, groups, size, what=what,
                                                      layers=1),
        },
        hint="count one filter (its 3 x 3 kernels, one per channel of its group), then the "
             "filters of a layer, then the layers; and the shuffle between them",
        integer=True,
    )


SHUFFLE_STACK_PARAMS = _stack_reference("params")
SHUFFLE_STACK_MACS = _stack_reference("macs")


# --- shuffle and unshuffle as functions --------------------------------------------------------


def _batch_mixed(x, groups):
    """The shuffle reshaped without the batch axis: channels move between images."""
    x = np.asarray(x, dtype=float)
    table = x.reshape((groups, -1) + x.shape[2:])
    return table.swapaxes(0, 1).reshape(x.shape)


def _shuffle_case(rng, keywords):
    groups, per = int(rng.integers(1, 5)), int(rng.integers(1, 5))
    batch = int(rng.integers(1, 4))
    size = [int(s) for s in rng.integers(1, 4, size=2)]
    x = rng.integers(-9, 10, size=(batch, groups * per, *size)).astype(float)
    return (x, groups), {}


_EXAMPLE = np.arange(2 * 6 * 2 * 2, dtype=float).reshape(2, 6, 2, 2)

SHUFFLE_FUNCTION = Reference(
    name="convlab.channel_shuffle",
    compute=lambda x, groups: channel_shuffle(np.asarray(x, dtype=float), groups),
    mistakes={
        "channels moved from one image of the batch to another: the reshape must keep the "
        "batch axis (N) apart from the channel table": _batch_mixed,
        "that is the inverse shuffle: the table is (G, n), one row per group":
            lambda x, groups: channel_shuffle(np.asarray(x, dtype=float),
                                              np.shape(x)[1] // groups),
        "the channels are in their old order: transpose the table before flattening it":
            lambda x, groups: np.asarray(x, dtype=float),
    },
    hint="out[:, i*G + g] should be x[:, g*n + i] for every image of the batch",
    cases=_shuffle_case,
    examples=(((_EXAMPLE, 2), {}), ((_EXAMPLE, 3), {}), ((_EXAMPLE[:1], 2), {})),
)


def _unshuffle(x, groups):
    x = np.asarray(x, dtype=float)
    return channel_shuffle(x, x.shape[1] // groups)


UNSHUFFLE = Reference(
    name="the inverse of convlab.channel_shuffle",
    compute=_unshuffle,
    mistakes={
        "that shuffles once more with the same groups: a shuffle is not its own inverse "
        "(unless C = G²); the inverse reads the (G, n) table back": lambda x, groups:
            channel_shuffle(np.asarray(x, dtype=float), groups),
        "the channels are in their old order: undoing a shuffle still moves them":
            lambda x, groups: np.asarray(x, dtype=float),
        "that reverses the channel order: a shuffle is undone by the opposite transpose, not "
        "by a reversal": lambda x, groups: np.asarray(x, dtype=float)[:, ::-1],
    },
    hint="channel_shuffle read the (G, n) table column by column; undoing it writes the "
         "channels back into that table column by column and reads it row by row",
    cases=_shuffle_case,
    examples=(((_EXAMPLE, 2), {}), ((_EXAMPLE, 3), {})),
)


# --- the task data of exercises 11, drawn from a course seed -------------------------------------


# (channels, groups) the lesson shows: the tasks ask others
_LESSON = {(6, 2), (6, 3), (12, 3), (12, 4), (18, 3)}


def _exercise_11(rng):
    while True:  # the order: n != G (else the inverse is the same), neither 1
        groups, per = int(rng.integers(2, 6)), int(rng.integers(2, 6))
        channels = groups * per
        if per == groups or (channels, groups) in _LESSON:
            continue
        track = int(rng.integers(1, channels - 1))
        if _distinct(SHUFFLE_ORDER, channels, groups) and _distinct(
                SHUFFLE_POSITION, channels, groups, track):
            break
    while True:  # the reach: n < G, so that not every output is reached
        reach_groups = int(rng.integers(3, 6))
        reach_channels = reach_groups * int(rng.integers(2, reach_groups))
        perturbed = int(rng.integers(0, reach_channels))
        if (reach_channels, reach_groups) not in _LESSON and _distinct(
                SHUFFLE_REACH, reach_channels, reach_groups, perturbed):
            break
    while True:  # the cost: a stack of two 3x3 grouped layers on size x size
        cost_groups = int(rng.choice([2, 4, 8]))
        cost_channels = int(rng.choice([48, 96, 120, 144, 240]))
        size = int(rng.choice([14, 28, 56]))
        args = (cost_channels, cost_groups, size)
        if _distinct(SHUFFLE_STACK_PARAMS, *args) and _distinct(SHUFFLE_STACK_MACS, *args):
            break
    return {
        "channels": channels, "groups": groups, "track": track,
        "reach_channels": reach_channels, "reach_groups": reach_groups, "perturbed": perturbed,
        "cost_channels": cost_channels, "cost_groups": cost_groups, "size": size,
    }


EXERCISES = {"11": _exercise_11}
