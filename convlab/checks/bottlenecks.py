"""References and task data of chapter 12: pointwise grouped convolution · 逐点分组卷积.

The mistakes this chapter diagnoses (each a hint of a ``Reference`` below):

* a grouped 1x1 layer's cost divided by ``g²`` instead of ``g`` (a filter sees ``C_in/g``
  channels, and there are still ``C_out`` filters), or not divided at all (the groups
  forgotten);
* its output size taken as ``i // s`` or ``i`` (the stride ignored) instead of
  ``floor((i - 1)/s) + 1``, or its biases forgotten;
* the ShuffleNet unit's cost with the depthwise 3x3 counted as a full 3x3 (or as a 3x3 with
  the unit's ``g`` groups), a pointwise step forgotten, the 1x1 layers ungrouped or divided by
  ``g²``, or the shuffle counted as a 1x1 convolution;
* the share of a ResNeXt block's multiply-adds spent in its 1x1 layers computed with one 1x1
  layer only, with the 3x3 ungrouped, or as the 3x3's share;
* a bottleneck's multiply-adds with a grouped 1x1 divided by ``g²``, the expanding 1x1
  forgotten, or the groups of the 3x3 or of the 1x1 layers ignored;
* a grouped 1x1 convolution written by hand that slices each group's input channels by the
  *output* channels per group (right only when ``C_in = C_out``), or feeds every group the
  first group's channels;
* the ShuffleNet unit put together without the shuffle, with the inverse shuffle, with the
  shuffle after the depthwise layer, without the shortcut, or with a ReLU after the depthwise
  layer (ShuffleNet has none there).

Each ``Reference`` is the right computation of a kind of answer with its usual mistakes; the
check functions of ``convlab.checks`` take one and name the mistake a wrong answer makes.
"""

import numpy as np

from ..arithmetic import bottleneck_cost, conv_cost
from ..conv import conv2d
from ..variants import channel_shuffle
from . import Reference, _distinct, _with

__all__ = [
    "BLOCK_MACS",
    "GCONV1X1",
    "GCONV1X1_MACS",
    "GCONV1X1_PARAMS",
    "POINTWISE_SHARE",
    "SHUFFLENET_UNIT",
    "UNIT_MACS",
    "UNIT_PARAMS",
]


# --- one grouped 1x1 layer ------------------------------------------------------------------


def _layer(c_in, c_out, groups, size=1, stride=1, what="params", divide=None, bias=True,
           out=None):
    """A grouped 1x1 layer with bias; ``divide`` the divisor the mistakes use, ``out`` their
    output size."""
    divide = groups if divide is None else divide
    out = (size - 1) // stride + 1 if out is None else out
    weights = c_out * c_in / divide
    if what == "params":
        return weights + (c_out if bias else 0)
    return out * out * weights


def _check_layer(c_in, c_out, groups, size, stride):
    return conv_cost(c_in, c_out, 1, size, stride, groups=groups, bias=True)


GCONV1X1_PARAMS = Reference(
    name="convlab.conv_cost(c_in, c_out, 1, ..., groups, bias=True).params",
    compute=lambda c_in, c_out, groups: _check_layer(c_in, c_out, groups, 1, 1).params,
    mistakes={
        "a grouped layer has 1/g of the standard layer's weights, not 1/g²: each of its "
        "{c_out} filters sees {c_in} / {groups} input channels": lambda c_in, c_out, groups:
            _layer(c_in, c_out, groups, divide=groups * groups),
        "that is the standard 1x1 layer: with {groups} groups each filter sees only "
        "{c_in} / {groups} input channels": lambda c_in, c_out, groups: _layer(
            c_in, c_out, groups, divide=1),
        "did you forget the biases? Each filter has one": lambda c_in, c_out, groups: _layer(
            c_in, c_out, groups, bias=False),
    },
    hint="count one filter's weights (a 1x1 kernel for each channel of its group), then the "
         "filters, then the biases",
    integer=True,
)

GCONV1X1_MACS = Reference(
    name="convlab.conv_cost(c_in, c_out, 1, size, stride, groups).macs",
    compute=lambda c_in, c_out, groups, size, stride: _check_layer(
        c_in, c_out, groups, size, stride).macs,
    mistakes={
        "a grouped layer does 1/g of the standard layer's multiply-adds, not 1/g²":
            lambda c_in, c_out, groups, size, stride: _layer(
                c_in, c_out, groups, size, stride, "macs", divide=groups * groups),
        "that is the standard 1x1 layer's count: with {groups} groups each output sees only "
        "{c_in} / {groups} input channels": lambda c_in, c_out, groups, size, stride: _layer(
            c_in, c_out, groups, size, stride, "macs", divide=1),
        "your output map is the input's size: with stride {stride} the 1x1 window skips "
        "pixels": lambda c_in, c_out, groups, size, stride: _layer(
            c_in, c_out, groups, size, stride, "macs", out=size),
        "your output size is {size} // {stride}: the windows sit at 0, {stride}, "
        "2·{stride}, ... as long as they fit; count them": lambda c_in, c_out, groups, size,
        stride: _layer(c_in, c_out, groups, size, stride, "macs", out=size // stride),
    },
    hint="count the output pixels, then the multiply-adds of one output value (one per input "
         "channel its filter sees), then the output channels",
    integer=True,
)


# --- the ShuffleNet unit and the ResNeXt block ---------------------------------------------------


def _unit(channels, groups, size, what="params", depthwise=None, pointwise=None,
          square=False, expand=True, shuffle_as_conv=False):
    """A ShuffleNet unit's branch (bottleneck channels/4, stride 1, no bias) counted layer by
    layer; the keywords make the usual mistakes."""
    mid = channels // 4
    point = groups if pointwise is None else pointwise
    divide = groups if square else 1  # the 1x1 layers over g once more
    ones = [conv_cost(channels, mid, 1, size, groups=point)]
    ones += [conv_cost(mid, channels, 1, size, groups=point)] if expand else []
    spatial = conv_cost(mid, mid, 3, size, padding=1, groups=mid if depthwise is None else
                        depthwise)
    value = sum(getattr(c, what) for c in ones) / divide + getattr(spatial, what)
    if shuffle_as_conv:  # the permutation costed as a 1x1 convolution
        value += getattr(conv_cost(mid, mid, 1, size), what)
    return value


def _unit_reference(what):
    def wrong(**changes):
        return lambda channels, groups, size: _unit(channels, groups, size, what, **changes)

    return Reference(
        name=f"convlab.bottleneck_cost(...).{what} of the ShuffleNet unit",
        compute=lambda channels, groups, size: getattr(bottleneck_cost(
            channels, channels // 4, channels, size, groups=channels // 4,
            pointwise_groups=groups), what),
        mistakes={
            "you counted the depthwise 3x3 as a full 3x3: each of its filters sees one "
            "channel, not all of them": wrong(depthwise=1),
            "the 3x3 layer is depthwise (one channel per filter), not grouped like the 1x1 "
            "layers": lambda channels, groups, size: _unit(channels, groups, size, what,
                                                           depthwise=groups),
            "a grouped 1x1 layer costs 1/g of the dense one, not 1/g²": wrong(square=True),
            "those are dense 1x1 layers: in the ShuffleNet unit both 1x1 layers have "
            "{groups} groups": wrong(pointwise=1),
            "a pointwise step is missing: the unit has two 1x1 layers, one reducing to "
            "{channels} / 4 channels and one expanding back": wrong(expand=False),
            "the shuffle only moves channels: it has no weights and multiplies nothing":
                wrong(shuffle_as_conv=True),
        },
        hint="three layers: 1x1 ({channels} -> {channels}/4, {groups} groups), 3x3 depthwise, "
             "1x1 back ({groups} groups); cost each with its groups and add",
        integer=True,
    )


UNIT_PARAMS = _unit_reference("params")
UNIT_MACS = _unit_reference("macs")


def _spatial_per_pixel(mid, groups):
    return conv_cost(mid, mid, 3, 1, padding=1, groups=groups).macs


def _share(channels, mid, cardinality):
    """The share of a ResNeXt block's multiply-adds in its 1x1 layers (any map size)."""
    total = bottleneck_cost(channels, mid, channels, 1, groups=cardinality).macs
    return (total - _spatial_per_pixel(mid, cardinality)) / total


def _share_wrong(channels, mid, cardinality, layers=2, spatial_groups=None, of="pointwise"):
    point = layers * conv_cost(channels, mid, 1, 1).macs
    spatial = _spatial_per_pixel(mid, cardinality if spatial_groups is None else spatial_groups)
    return (spatial if of == "spatial" else point) / (point + spatial)


POINTWISE_SHARE = Reference(
    name="the 1x1 layers' share of convlab.bottleneck_cost(...).macs",
    compute=_share,
    mistakes={
        "that counts one 1x1 layer: the block has two, one reducing and one expanding":
            _with(_share_wrong, layers=1),
        "that is the share with a dense 3x3: ResNeXt's 3x3 has {cardinality} groups":
            _with(_share_wrong, spatial_groups=1),
        "that is the 3x3 layer's share: the question asks for the 1x1 layers'":
            _with(_share_wrong, of="spatial"),
    },
    hint="per output pixel, count the multiply-adds of each of the three layers with its own "
         "groups; the map size cancels",
)


def _block(channels, mid, size, groups=1, pointwise_groups=1, square=False, expand=True,
           spatial_groups=None, pointwise=None):
    """A bottleneck branch's multiply-adds counted layer by layer (stride 1, 'same' padding);
    the keywords make the usual mistakes."""
    point = pointwise_groups if pointwise is None else pointwise
    spatial = groups if spatial_groups is None else spatial_groups
    ones = size * size * channels * mid / point * (2 if expand else 1)
    if square:
        ones /= point
    return ones + size * size * mid * (mid // spatial) * 9


def _block_case(rng, keywords):
    mid = 4 * int(rng.integers(1, 5))
    channels = 4 * int(rng.integers(1, 9))
    kwargs = {}
    if "groups" in keywords:
        kwargs["groups"] = int(rng.choice([1, 2, 4, mid]))
    if "pointwise_groups" in keywords:
        kwargs["pointwise_groups"] = int(rng.choice([1, 2, 4]))
    return (channels, mid, int(rng.integers(1, 12))), kwargs


BLOCK_MACS = Reference(
    name="convlab.bottleneck_cost(channels, mid, channels, size, ...).macs",
    compute=lambda channels, mid, size, groups=1, pointwise_groups=1: bottleneck_cost(
        channels, mid, channels, size, groups=groups, pointwise_groups=pointwise_groups).macs,
    mistakes={
        "a grouped 1x1 layer costs 1/g of the dense one, not 1/g²": _with(_block, square=True),
        "the expanding 1x1 layer is missing: the branch has two pointwise steps":
            _with(_block, expand=False),
        "your 3x3 layer ignores its groups: each of its filters sees mid / groups channels":
            _with(_block, spatial_groups=1),
        "your 1x1 layers ignore pointwise_groups: each of their filters sees 1/g of the "
        "channels": _with(_block, pointwise=1),
    },
    hint="three layers on a size x size map: 1x1 channels -> mid, 3x3 mid -> mid, 1x1 mid -> "
         "channels; each output value costs one multiply-add per weight of its filter",
    cases=_block_case,
    examples=(((256, 64, 56), {}), ((256, 128, 56), {"groups": 32}),
              ((256, 64, 56), {"groups": 64, "pointwise_groups": 8})),
    keywords=("groups", "pointwise_groups"),
    integer=True,
)


# --- the layer and the unit as functions ---------------------------------------------------------


def _grouped_1x1(x, weight, groups, slice_by="in", same_group=False):
    """A grouped 1x1 convolution by hand, group by group; the keywords make the usual bugs."""
    x, weight = np.asarray(x, dtype=float), np.asarray(weight, dtype=float)
    c_in, c_out = x.shape[1], weight.shape[0]
    per_in, per_out = c_in // groups, c_out // groups
    outs = []
    for g in range(groups):
        start = 0 if same_group else g * (per_in if slice_by == "in" else per_out)
        part = x[:, start:start + per_in]
        if part.shape[1] != per_in:
            raise ValueError("the slice leaves the input")
        w = weight[g * per_out:(g + 1) * per_out, :, 0, 0]
        outs.append(np.einsum("oc,nchw->nohw", w, part))
    return np.concatenate(outs, axis=1)


def _grouped_case(rng, keywords):
    groups = int(rng.integers(1, 5))
    per_in, per_out = int(rng.integers(1, 5)), int(rng.integers(1, 5))
    batch, h, w = (int(a) for a in rng.integers(1, 4, size=3))
    x = rng.integers(-5, 6, size=(batch, groups * per_in, h, w)).astype(float)
    weight = rng.integers(-3, 4, size=(groups * per_out, per_in, 1, 1)).astype(float)
    return (x, weight, groups), {}


_XG = np.arange(2 * 12 * 2 * 2, dtype=float).reshape(2, 12, 2, 2) % 7
_WG = (np.arange(6 * 4, dtype=float).reshape(6, 4, 1, 1) % 5) - 2
_WE = (np.arange(16 * 6, dtype=float).reshape(16, 6, 1, 1) % 7) - 3

GCONV1X1 = Reference(
    name="convlab.conv2d(x, weight, groups=groups) with a 1x1 weight",
    compute=lambda x, weight, groups: conv2d(np.asarray(x, dtype=float),
                                             np.asarray(weight, dtype=float), groups=groups),
    mistakes={
        "group g read the input channels from g·(C_out/groups): a group's input channels are "
        "counted with C_in/groups (the two differ when the layer reduces or expands)":
            _with(_grouped_1x1, slice_by="out"),
        "every group read the first group's input channels: group g reads its own slice of "
        "C_in/groups channels": _with(_grouped_1x1, same_group=True),
    },
    hint="group g: output channels g·C_out/G ... (g+1)·C_out/G - 1 are weight[those] applied "
         "to input channels g·C_in/G ... (g+1)·C_in/G - 1",
    cases=_grouped_case,
    examples=(((_XG, _WG, 3), {}), ((_XG, _WE, 2), {}), ((_XG[:, :6], _WG[:, :2], 3), {})),
)


def _relu(a):
    return np.maximum(a, 0.0)


def _unit_forward(x, w1, w_dw, w2, groups, shuffle="before", shortcut=True, dw_relu=False):
    x = np.asarray(x, dtype=float)
    h = _relu(conv2d(x, np.asarray(w1, dtype=float), groups=groups))
    mid = h.shape[1]
    if shuffle == "before":
        h = channel_shuffle(h, groups)
    elif shuffle == "inverse":
        h = channel_shuffle(h, mid // groups)
    h = conv2d(h, np.asarray(w_dw, dtype=float), padding=1, groups=mid)
    if dw_relu:
        h = _relu(h)
    if shuffle == "after":
        h = channel_shuffle(h, groups)
    h = conv2d(h, np.asarray(w2, dtype=float), groups=groups)
    return _relu(h + x) if shortcut else _relu(h)


def _unit_case(rng, keywords):
    groups = int(rng.integers(2, 4))
    per_mid = int(rng.integers(2, 4))
    mid = groups * per_mid
    channels = groups * int(rng.integers(per_mid, per_mid + 3))
    batch, h, w = 1, int(rng.integers(3, 6)), int(rng.integers(3, 6))
    x = rng.normal(size=(batch, channels, h, w))
    w1 = rng.normal(size=(mid, channels // groups, 1, 1))
    w_dw = rng.normal(size=(mid, 1, 3, 3))
    w2 = rng.normal(size=(channels, mid // groups, 1, 1))
    return (x, w1, w_dw, w2, groups), {}


def _unit_example(seed, channels, mid, groups):
    rng = np.random.default_rng(seed)
    return ((rng.normal(size=(2, channels, 4, 4)), rng.normal(size=(mid, channels // groups, 1, 1)),
             rng.normal(size=(mid, 1, 3, 3)), rng.normal(size=(channels, mid // groups, 1, 1)),
             groups), {})


SHUFFLENET_UNIT = Reference(
    name="the ShuffleNet unit from convlab's ops",
    compute=_unit_forward,
    mistakes={
        "no shuffle: the second grouped 1x1 then sees only the channels its own group "
        "computed": _with(_unit_forward, shuffle=None),
        "that is the inverse shuffle: the table is (G, n), one row per group":
            _with(_unit_forward, shuffle="inverse"),
        "the shuffle comes right after the first grouped 1x1, before the depthwise layer":
            _with(_unit_forward, shuffle="after"),
        "the shortcut is missing: the input is added to the branch before the last ReLU":
            _with(_unit_forward, shortcut=False),
        "ShuffleNet has no ReLU after the depthwise layer": _with(_unit_forward, dw_relu=True),
    },
    hint="1x1 GConv, ReLU, shuffle, 3x3 depthwise (padding 1), 1x1 GConv, add the input, ReLU",
    cases=_unit_case,
    examples=(_unit_example(0, 12, 6, 3), _unit_example(1, 16, 8, 2)),
)


# --- the task data of exercises 12, drawn from a course seed -------------------------------------


# ShuffleNet's stage widths for g = 1, 2, 3, 4, 8 (Zhang et al. 2017, Table 1); the lesson
# prints stage 2 (28 x 28), the tasks ask stages 3 (14 x 14) and 4 (7 x 7)
_WIDTHS = {1: 144, 2: 200, 3: 240, 4: 272, 8: 384}


def _exercise_12(rng):
    while True:  # one grouped 1x1 layer, stride 2 on an odd map, with biases
        groups = int(rng.choice([2, 3, 4, 8]))
        c_in = groups * int(rng.integers(3, 13))
        c_out = groups * int(rng.integers(3, 13))
        size, stride = int(rng.choice([13, 15, 27, 29])), 2
        if c_in != c_out and _distinct(GCONV1X1_PARAMS, c_in, c_out, groups) and _distinct(
                GCONV1X1_MACS, c_in, c_out, groups, size, stride):
            break
    layer = {"c_in": c_in, "c_out": c_out, "groups": groups, "size": size, "stride": stride}
    while True:  # a ShuffleNet unit of stage 3 or 4
        unit_groups = int(rng.choice([2, 3, 4, 8]))
        stage = int(rng.choice([3, 4]))
        unit = {"channels": _WIDTHS[unit_groups] * 2 ** (stage - 2), "groups": unit_groups,
                "size": 28 // 2 ** (stage - 2)}
        if _distinct(UNIT_PARAMS, *unit.values()) and _distinct(UNIT_MACS, *unit.values()):
            break
    while True:  # a ResNeXt block, not the lesson's 256-128-256 with 32 groups
        channels = int(rng.choice([256, 512, 1024]))
        block = {"channels": channels, "mid": channels // 2,
                 "cardinality": int(rng.choice([8, 16, 32, 64]))}
        if (channels, block["cardinality"]) != (256, 32) and _distinct(
                POINTWISE_SHARE, *block.values()):
            break
    return {"layer": layer, "unit": unit, "block": block}


EXERCISES = {"12": _exercise_12}
