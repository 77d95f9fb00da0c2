"""Convolution arithmetic: output sizes, receptive fields, parameter and multiply-add counts.

Conventions (PyTorch's, used throughout the course): padding is counted per side, output
sizes are floored. ``i`` input size, ``k`` kernel size, ``s`` stride, ``p`` padding,
``d`` dilation::

    conv:            o = floor((i + 2p - d(k-1) - 1) / s) + 1
    transposed conv: o = (i - 1)s - 2p + d(k-1) + output_padding + 1

A multiply-add (MAC) is one multiplication and one addition; bias additions are not counted.
"""

import math
from typing import NamedTuple

from . import _validate as v

__all__ = [
    "conv_output_size",
    "conv_transpose_output_size",
    "Layer",
    "ReceptiveField",
    "receptive_field",
    "Cost",
    "conv_cost",
    "depthwise_separable_cost",
    "spatially_separable_cost",
    "flattened_cost",
    "bottleneck_cost",
]


def _ndim(fn, **values):
    """How many spatial axes the arguments describe: a tuple's length, else 1 (plain ints)."""
    tuples = {k: x for k, x in values.items() if isinstance(x, (tuple, list))}
    lengths = {len(x) for x in tuples.values()}
    if len(lengths) > 1:
        given = ", ".join(f"{k}={tuple(x)}" for k, x in tuples.items())
        raise ValueError(f"{fn}: tuples must all have one entry per axis, got {given}")
    return lengths.pop() if lengths else 1


def _result(values, like_tuple):
    return tuple(values) if like_tuple else values[0]


def conv_output_size(i, k, stride=1, padding=0, dilation=1):
    """Output size of a convolution: ``floor((i + 2p - d(k-1) - 1) / s) + 1``.

    ``i``, ``k``, ``stride``, ``padding`` (per side, or ``'valid'``/``'same'``) and
    ``dilation`` are ints or tuples (one entry per spatial axis); the result is an int or a tuple.

    >>> conv_output_size(5, 3)
    3
    >>> conv_output_size((224, 224), 7, stride=2, padding=3)
    (112, 112)
    """
    fn = "conv_output_size"
    tup = any(isinstance(x, (tuple, list)) for x in (i, k, stride, padding, dilation))
    nd = _ndim(fn, i=i, k=k, stride=stride, padding=padding, dilation=dilation)
    i = v.int_tuple(fn, "i", i, nd, 1)
    k = v.int_tuple(fn, "k", k, nd, 1)
    stride = v.int_tuple(fn, "stride", stride, nd, 1)
    dilation = v.int_tuple(fn, "dilation", dilation, nd, 1)
    pairs = v.padding_pairs(fn, padding, k, stride, dilation)
    padded = [a + lo + hi for a, (lo, hi) in zip(i, pairs)]
    return _result(v.output_sizes(fn, padded, k, stride, dilation), tup)


def _transpose_sizes(fn, i, k, stride, padding, output_padding, dilation):
    """Output sizes of a transposed convolution (tuples in, tuple out), with clear errors."""
    sizes = []
    for ii, kk, s, p, op, d in zip(i, k, stride, padding, output_padding, dilation):
        if op >= s and op >= d:
            raise ValueError(
                f"{fn}: output_padding must be smaller than stride or dilation, "
                f"got output_padding={op} with stride={s} and dilation={d}"
            )
        o = (ii - 1) * s - 2 * p + d * (kk - 1) + op + 1
        if o < 1:
            raise ValueError(
                f"{fn}: the output would have size {o} = ({ii}-1)*{s} - 2*{p} + {d}*({kk}-1) "
                f"+ {op} + 1: the padding {p} removes more than the input provides"
            )
        sizes.append(o)
    return tuple(sizes)


def conv_transpose_output_size(i, k, stride=1, padding=0, output_padding=0, dilation=1):
    """Output size of a transposed convolution: ``(i-1)s - 2p + d(k-1) + output_padding + 1``.

    Ints or tuples, as ``conv_output_size``. ``output_padding`` must be smaller than the stride
    or the dilation.

    >>> conv_transpose_output_size(2, 3, stride=2)
    5
    """
    fn = "conv_transpose_output_size"
    args = (i, k, stride, padding, output_padding, dilation)
    tup = any(isinstance(x, (tuple, list)) for x in args)
    names = ("i", "k", "stride", "padding", "output_padding", "dilation")
    nd = _ndim(fn, **dict(zip(names, args)))
    lows = (1, 1, 1, 0, 0, 1)
    vals = [v.int_tuple(fn, n, a, nd, lo) for n, a, lo in zip(names, args, lows)]
    return _result(_transpose_sizes(fn, *vals), tup)


class Layer(NamedTuple):
    """One layer of a stack, for ``receptive_field``: a convolution or a pooling window."""

    kernel_size: int
    stride: int = 1
    padding: int = 0
    dilation: int = 1


class ReceptiveField(NamedTuple):
    """What one unit of a layer sees of the input.

    size: receptive field in input pixels; jump: input pixels between neighbouring units;
    start: input coordinate of the centre of the first unit's field (pixel centres at 0, 1, ...);
    out: the layer's size, if an input size was given.
    """

    size: int
    jump: int
    start: float
    out: int | None = None


def receptive_field(layers, input_size=None):
    """Receptive field after each layer of a stack (along one axis).

    ``layers`` is a sequence of ``Layer`` or ``(kernel_size, stride, padding, dilation)`` tuples
    (trailing entries optional). Returns a list of ``ReceptiveField``, entry 0 for the input
    itself, entry ``l`` after layer ``l``::

        jump_l  = jump_{l-1} * s_l
        size_l  = size_{l-1} + d_l (k_l - 1) * jump_{l-1}
        start_l = start_{l-1} + (d_l (k_l - 1) / 2 - p_l) * jump_{l-1}

    >>> [rf.size for rf in receptive_field([(3, 1, 1, 1), (3, 1, 2, 2), (3, 1, 4, 4)])]
    [1, 3, 7, 15]
    """
    fn = "receptive_field"
    try:
        layers = list(layers)
    except TypeError:
        raise ValueError(f"{fn}: layers must be a sequence of Layer or (kernel_size, stride, "
                         f"padding, dilation) tuples, got {layers!r}") from None
    size, jump, start = 1, 1, 0.0
    out = None if input_size is None else v.int_value(fn, "input_size", input_size, 1)
    fields = [ReceptiveField(size, jump, start, out)]
    for n, layer in enumerate(layers, 1):
        if not isinstance(layer, (tuple, list)) or not 1 <= len(layer) <= 4:
            raise ValueError(
                f"{fn}: layer {n} must be a Layer or a tuple (kernel_size, stride, padding, "
                f"dilation) of 1 to 4 ints, got {layer!r}"
            )
        layer = Layer(*layer)
        k = v.int_value(fn, f"layer {n} kernel_size", layer.kernel_size, 1)
        s = v.int_value(fn, f"layer {n} stride", layer.stride, 1)
        p = v.int_value(fn, f"layer {n} padding", layer.padding, 0)
        d = v.int_value(fn, f"layer {n} dilation", layer.dilation, 1)
        span = d * (k - 1)
        start += (span / 2 - p) * jump
        size += span * jump
        jump *= s
        if out is not None:
            out = v.output_sizes(f"{fn} (layer {n})", (out + 2 * p,), (k,), (s,), (d,))[0]
        fields.append(ReceptiveField(size, jump, start, out))
    return fields


class Cost(NamedTuple):
    """Parameters and multiply-adds of a layer; ``+`` adds two costs (and nothing else)."""

    params: int
    macs: int

    def __add__(self, other):
        if not isinstance(other, Cost):
            return NotImplemented  # Python's TypeError: a cost plus a number means nothing
        return Cost(self.params + other.params, self.macs + other.macs)


def _spatial(fn, kernel_size, input_size, stride, padding, dilation):
    nd = _ndim(fn, kernel_size=kernel_size, input_size=input_size, stride=stride,
               padding=padding, dilation=dilation)
    nd = 2 if nd == 1 else nd  # plain ints describe square 2-D images and kernels
    k = v.int_tuple(fn, "kernel_size", kernel_size, nd, 1)
    i = v.int_tuple(fn, "input_size", input_size, nd, 1)
    s = v.int_tuple(fn, "stride", stride, nd, 1)
    d = v.int_tuple(fn, "dilation", dilation, nd, 1)
    pairs = v.padding_pairs(fn, padding, k, s, d)
    out = v.output_sizes(fn, [a + lo + hi for a, (lo, hi) in zip(i, pairs)], k, s, d)
    return k, out


def conv_cost(c_in, c_out, kernel_size, input_size, stride=1, padding=0, dilation=1, groups=1,
              bias=False, *, _fn="conv_cost"):
    """Parameters and multiply-adds of a (grouped) convolution layer.

    ``params = C_out * (C_in/groups) * prod(k) (+ C_out with bias)``,
    ``macs = prod(out) * C_out * (C_in/groups) * prod(k)``.
    Standard (groups=1), grouped, depthwise (groups=C_in) and 1x1 (k=1) are all this function.
    Plain ints mean square 2-D sizes; tuples give any number of axes.

    >>> conv_cost(3, 128, 3, 7)  # the 7x7x3 -> 5x5x128 example
    Cost(params=3456, macs=86400)
    """
    fn = _fn
    c_in = v.int_value(fn, "c_in", c_in, 1)
    c_out = v.int_value(fn, "c_out", c_out, 1)
    groups = v.int_value(fn, "groups", groups, 1)
    v.groups_divide(fn, groups, C_in=c_in, C_out=c_out)
    bias = v.flag(fn, "bias", bias)
    k, out = _spatial(fn, kernel_size, input_size, stride, padding, dilation)
    per_output = (c_in // groups) * math.prod(k)
    return Cost(c_out * per_output + (c_out if bias else 0), math.prod(out) * c_out * per_output)


def _output_size(fn, kernel_size, input_size, stride, padding, dilation):
    return _spatial(fn, kernel_size, input_size, stride, padding, dilation)[1]


def depthwise_separable_cost(c_in, c_out, kernel_size, input_size, stride=1, padding=0,
                             dilation=1, depth_multiplier=1, bias=False):
    """Depthwise ``k x k`` convolution (``C_in * depth_multiplier`` channels) then pointwise 1x1.

    Against a standard convolution the ratio is about ``1/C_out + 1/k^2``.

    >>> depthwise_separable_cost(3, 128, 3, 7).macs  # 675 + 9600
    10275
    """
    fn = "depthwise_separable_cost"
    c_in = v.int_value(fn, "c_in", c_in, 1)
    mid = c_in * v.int_value(fn, "depth_multiplier", depth_multiplier, 1)
    depthwise = conv_cost(c_in, mid, kernel_size, input_size, stride, padding, dilation,
                          groups=c_in, bias=bias, _fn=fn)
    out = _output_size(fn, kernel_size, input_size, stride, padding, dilation)
    return depthwise + conv_cost(mid, c_out, 1, out, bias=bias, _fn=fn)


def spatially_separable_cost(channels, kernel_size, input_size, stride=1, padding=0, bias=False,
                             *, _fn="spatially_separable_cost"):
    """A ``kh x kw`` kernel applied as ``kh x 1`` then ``1 x kw``, on each channel separately.

    The vertical pass keeps the full width (it pads and strides rows only), so on an N x N image
    with an m x m kernel (stride 1, no padding), with ``n = N - m + 1`` outputs per axis, it
    costs ``n*N*m + n*n*m`` multiply-adds against ``n*n*m^2``: a ratio that tends to ``2/m``.

    >>> spatially_separable_cost(1, 3, 5).macs  # n = 3: 3*5*3 + 3*3*3 against 3*3*9 = 81
    72
    """
    fn = _fn
    channels = v.int_value(fn, "channels", channels, 1)
    kh, kw = v.int_tuple(fn, "kernel_size", kernel_size, 2, 1)
    h, w = v.int_tuple(fn, "input_size", input_size, 2, 1)
    sh, sw = v.int_tuple(fn, "stride", stride, 2, 1)
    ph, pw = v.int_tuple(fn, "padding", padding, 2, 0)
    # One bias, after the second pass: a bias between the passes would be zero-padded by the
    # second pass and no longer equal the full kernel's convolution.
    vertical = conv_cost(channels, channels, (kh, 1), (h, w), (sh, 1), (ph, 0), groups=channels,
                         _fn=fn)
    mid = _output_size(fn, (kh, 1), (h, w), (sh, 1), (ph, 0), 1)
    return vertical + conv_cost(channels, channels, (1, kw), mid, (1, sw), (0, pw),
                                groups=channels, bias=bias, _fn=fn)


def flattened_cost(c_in, c_out, kernel_size, input_size, stride=1, padding=0, bias=False):
    """Flattened convolution: a 1x1 across channels, then ``kh x 1`` and ``1 x kw`` per channel.

    The three 1-D filters replace a full ``C_in x kh x kw`` filter (Jin et al., 2014).
    """
    fn = "flattened_cost"
    pointwise = conv_cost(c_in, c_out, 1, input_size, _fn=fn)
    return pointwise + spatially_separable_cost(c_out, kernel_size, input_size, stride, padding,
                                                bias=bias, _fn=fn)


def bottleneck_cost(c_in, c_mid, c_out, input_size, kernel_size=3, stride=1, groups=1,
                    pointwise_groups=1, bias=False):
    """A bottleneck block's residual branch: 1x1 (``c_in -> c_mid``), ``k x k`` (``c_mid ->
    c_mid``, ``stride``, padding ``k // 2``, ``groups``), 1x1 (``c_mid -> c_out``).

    One function for the family:

    * ResNet's bottleneck: ``groups = pointwise_groups = 1``;
    * ResNeXt's block: ``groups`` = the cardinality, the 1x1 layers dense;
    * ShuffleNet's unit: ``groups = c_mid`` (a depthwise ``k x k``) and ``pointwise_groups``
      = its ``g``, both 1x1 layers grouped; the channel shuffle between the first 1x1 and the
      depthwise layer moves numbers and costs nothing.

    The 1x1 layers cost ``C_in * C_out / pointwise_groups`` per output pixel each (÷g, not
    ÷g²); the second runs on the strided map. Not counted: batch norm, the non-linearities and
    the shortcut's addition.

    >>> bottleneck_cost(256, 64, 256, 56)  # ResNet-50's first block: 16,384 + 36,864 + 16,384
    Cost(params=69632, macs=218365952)
    """
    fn = "bottleneck_cost"
    c_mid = v.int_value(fn, "c_mid", c_mid, 1)
    k = v.int_value(fn, "kernel_size", kernel_size, 1)
    reduce = conv_cost(c_in, c_mid, 1, input_size, groups=pointwise_groups, bias=bias, _fn=fn)
    spatial = conv_cost(c_mid, c_mid, k, input_size, stride, k // 2, groups=groups, bias=bias,
                        _fn=fn)
    out = _output_size(fn, k, input_size, stride, k // 2, 1)
    expand = conv_cost(c_mid, c_out, 1, out, groups=pointwise_groups, bias=bias, _fn=fn)
    return reduce + spatial + expand
