"""Named convolution types, each a special case of ``conv2d``.

Depthwise is ``conv2d`` with ``groups = C``; depthwise separable is depthwise then a 1x1;
spatially separable is a ``kh x 1`` pass then a ``1 x kw`` pass; flattened (Jin et al., 2014)
is a 1x1 across channels then the two 1-D passes. Channel shuffle (ShuffleNet) lets grouped
convolutions exchange information. Every function here checks its arguments in its own name
and hands the arithmetic to the one mechanism of ``convlab.conv``; the multiply counts are
those of ``convlab.arithmetic`` (``depthwise_separable_cost``, ``spatially_separable_cost``,
``flattened_cost``).
"""

import math
import numbers

import numpy as np

from . import _validate as v
from .conv import _convnd

__all__ = [
    "channel_shuffle",
    "depthwise_conv2d",
    "depthwise_separable_conv2d",
    "flattened_conv2d",
    "flattened_factors",
    "flattened_weight",
    "kernel_rank",
    "separable_factors",
    "spatially_separable_conv2d",
]


def _channels(fn, x):
    """The number of channels of a conv2d input ``(N, C, H, W)`` or ``(C, H, W)``."""
    return v.batched(fn, "input", v.array(fn, "input", x), 2)[0].shape[1]


def _depthwise(fn, x, weight, bias, stride, padding, dilation):
    c = _channels(fn, x)
    weight = v.array(fn, "weight", weight)
    v.weight_rank(fn, weight, 2, transposed=False)
    if weight.shape[1] != 1 or weight.shape[0] % c:
        raise ValueError(
            f"{fn}: weight must be (C*m, 1, kh, kw), m kernels for each of the input's {c} "
            f"channels, got shape {weight.shape}"
        )
    return _convnd(fn, 2, x, weight, bias, stride, padding, dilation, c)


def depthwise_conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1):
    """Depthwise convolution: each channel convolved with its own kernels, never mixed.

    Equal to ``conv2d(input, weight, bias, stride, padding, dilation, groups=C)``: output
    channel ``c*m + t`` is input channel ``c`` correlated with ``weight[c*m + t, 0]``.

    Parameters
    ----------
    input : array ``(N, C, H, W)`` or unbatched ``(C, H, W)``
    weight : array ``(C*m, 1, kh, kw)``, ``m`` the depth multiplier (kernels per channel)
    bias : array ``(C*m,)`` or None
    stride, padding, dilation : as ``conv2d``

    Returns
    -------
    array ``(N, C*m, H_out, W_out)`` (unbatched: ``(C*m, H_out, W_out)``) with ``conv2d``'s
    output sizes ``floor((i + 2p - d(k-1) - 1) / s) + 1``.
    """
    return _depthwise("depthwise_conv2d", input, weight, bias, stride, padding, dilation)


def depthwise_separable_conv2d(input, depthwise_weight, pointwise_weight, depthwise_bias=None,
                               pointwise_bias=None, stride=1, padding=0, dilation=1):
    """Depthwise separable convolution (MobileNet, Xception): depthwise, then a 1x1 pointwise.

    Equal to ``conv2d(conv2d(input, depthwise_weight, depthwise_bias, stride, padding,
    dilation, groups=C), pointwise_weight, pointwise_bias)``. It stands in for a standard
    ``C_out x C x kh x kw`` convolution at about ``1/C_out + 1/(kh*kw)`` of the multiplies
    (``convlab.depthwise_separable_cost``).

    Parameters
    ----------
    input : array ``(N, C, H, W)`` or unbatched ``(C, H, W)``
    depthwise_weight : array ``(C*m, 1, kh, kw)``, ``m`` the depth multiplier
    pointwise_weight : array ``(C_out, C*m, 1, 1)``
    depthwise_bias : array ``(C*m,)`` or None
    pointwise_bias : array ``(C_out,)`` or None
    stride, padding, dilation : of the depthwise step, as ``conv2d``

    Returns
    -------
    array ``(N, C_out, H_out, W_out)`` (unbatched: ``(C_out, H_out, W_out)``).
    """
    fn = "depthwise_separable_conv2d"
    y = _depthwise(f"{fn} (depthwise step)", input, depthwise_weight, depthwise_bias, stride,
                   padding, dilation)
    pointwise_weight = v.array(fn, "pointwise_weight", pointwise_weight)
    mid = y.shape[-3]
    if pointwise_weight.ndim != 4 or pointwise_weight.shape[1:] != (mid, 1, 1):
        raise ValueError(
            f"{fn}: pointwise_weight must be (C_out, C*m, 1, 1) = (C_out, {mid}, 1, 1), a 1x1 "
            f"kernel over the depthwise step's {mid} channels, got shape {pointwise_weight.shape}"
        )
    return _convnd(f"{fn} (pointwise step)", 2, y, pointwise_weight, pointwise_bias, 1, 0, 1, 1)


def _per_channel(fn, name, value, channels, axis):
    """1-D filters ``(channels, k)``; a 1-D ``(k,)`` is shared by every channel."""
    arr = v.array(fn, name, value)
    if arr.ndim == 1:
        arr = np.broadcast_to(arr, (channels,) + arr.shape)
    if arr.ndim != 2 or arr.shape[0] != channels or arr.shape[1] == 0:
        raise ValueError(
            f"{fn}: {name} must be ({channels}, {axis}), one 1-D filter per channel, or "
            f"({axis},) shared by all channels, got shape {np.shape(value)}"
        )
    return arr


def _spatially_separable(fn, x, col, row, bias, stride, padding):
    c = _channels(fn, x)
    col = _per_channel(fn, "col", col, c, "kh")
    row = _per_channel(fn, "row", row, c, "kw")
    sh, sw = v.int_tuple(fn, "stride", stride, 2, 1)
    ph, pw = v.int_tuple(fn, "padding", padding, 2, 0)
    # The vertical pass pads and strides rows only and keeps the full width, as
    # spatially_separable_cost counts it; the bias comes once, after both passes.
    y = _convnd(fn, 2, x, col[:, None, :, None], None, (sh, 1), (ph, 0), 1, c)
    return _convnd(fn, 2, y, row[:, None, None, :], bias, (1, sw), (0, pw), 1, c)


def spatially_separable_conv2d(input, col, row, bias=None, stride=1, padding=0):
    """Spatially separable convolution: a vertical ``kh x 1`` pass, then a horizontal ``1 x kw``.

    Per channel, like depthwise convolution. Equal to ``depthwise_conv2d`` with the kernels
    ``outer(col[c], row[c])`` (a rank-1 kernel is an outer product, e.g. Sobel
    ``[[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]] = [1, 2, 1]^T [-1, 0, 1]``), at ``kh + kw``
    instead of ``kh*kw`` multiplies per output of each pass (``spatially_separable_cost``).

    Parameters
    ----------
    input : array ``(N, C, H, W)`` or unbatched ``(C, H, W)``
    col : array ``(C, kh)``, or ``(kh,)`` shared by all channels: the vertical filters
    row : array ``(C, kw)``, or ``(kw,)`` shared by all channels: the horizontal filters
    bias : array ``(C,)`` or None, added once at the end
    stride, padding : int or tuple of 2 ints ``(rows, columns)``; the vertical pass uses the
        row entries, the horizontal pass the column entries

    Returns
    -------
    array ``(N, C, H_out, W_out)`` (unbatched: ``(C, H_out, W_out)``), the sizes of a
    ``kh x kw`` convolution with the same stride and padding.
    """
    return _spatially_separable("spatially_separable_conv2d", input, col, row, bias, stride,
                                padding)


def separable_factors(kernel):
    """The best rank-1 approximation ``outer(col, row)`` of a 2-D kernel, from its SVD.

    With ``kernel = U diag(s) V^T``: ``col = sqrt(s_0) U[:, 0]``, ``row = sqrt(s_0) V[:, 0]``,
    signed so that ``col``'s entry of largest magnitude is positive. ``outer(col, row)`` equals
    the kernel exactly when it is separable (rank 1); otherwise it is the closest rank-1
    kernel (Eckart-Young), at the Frobenius distance ``sqrt(s_1^2 + s_2^2 + ...)``.

    Parameters
    ----------
    kernel : array ``(kh, kw)``

    Returns
    -------
    col : array ``(kh,)``
    row : array ``(kw,)``

    >>> col, row = separable_factors([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]])
    >>> bool(np.allclose(np.outer(col, row), [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]))
    True
    """
    fn = "separable_factors"
    kernel = v.plain(fn, "kernel", kernel, ("kh", "kw"))
    u, s, vt = np.linalg.svd(kernel.astype(v.float_dtype(kernel), copy=False))
    scale = math.sqrt(s[0])
    col, row = u[:, 0] * scale, vt[0] * scale
    # SVD fixes the factors only up to a common sign
    if col[np.argmax(np.abs(col))] < 0:
        col, row = -col, -row
    return col, row


def kernel_rank(kernel, tol=None):
    """The rank of a 2-D kernel, like ``numpy.linalg.matrix_rank``: 1 means separable.

    Parameters
    ----------
    kernel : array ``(kh, kw)``
    tol : float or None, singular values below it count as zero (None: NumPy's default,
        ``s_max * max(kh, kw) * eps``)

    Returns
    -------
    int, between 0 (all zeros) and ``min(kh, kw)``.
    """
    kernel = v.plain("kernel_rank", "kernel", kernel, ("kh", "kw"))
    return int(np.linalg.matrix_rank(kernel, tol=tol))


def flattened_conv2d(input, channel, col, row, bias=None, stride=1, padding=0):
    """Flattened convolution (Jin et al., 2014): a 1x1 across channels, then 1-D filters.

    Three 1-D filters in sequence: ``channel`` mixes the input channels (a 1x1 convolution),
    then each output channel gets a vertical ``kh x 1`` and a horizontal ``1 x kw`` pass, as
    ``spatially_separable_conv2d``. Equal to ``conv2d(input, flattened_weight(channel, col,
    row), bias, stride, padding)``: a full filter is flattened exactly when it is rank-1 across
    channels, rows and columns. Costs as ``convlab.flattened_cost``.

    Parameters
    ----------
    input : array ``(N, C_in, H, W)`` or unbatched ``(C_in, H, W)``
    channel : array ``(C_out, C_in)``
    col : array ``(C_out, kh)``, or ``(kh,)`` shared
    row : array ``(C_out, kw)``, or ``(kw,)`` shared
    bias : array ``(C_out,)`` or None, added at the end
    stride, padding : int or tuple of 2 ints, as ``spatially_separable_conv2d``

    Returns
    -------
    array ``(N, C_out, H_out, W_out)`` (unbatched: ``(C_out, H_out, W_out)``).
    """
    fn = "flattened_conv2d"
    c_in = _channels(fn, input)
    channel = v.plain(fn, "channel", channel, ("C_out", "C_in"))
    if channel.shape[1] != c_in:
        raise ValueError(
            f"{fn}: channel must be (C_out, C_in) with C_in = {c_in}, the input's channels, "
            f"got shape {channel.shape}"
        )
    y = _convnd(fn, 2, input, channel[:, :, None, None], None, 1, 0, 1, 1)
    return _spatially_separable(fn, y, col, row, bias, stride, padding)


def flattened_weight(channel, col, row):
    """The full weight of a flattened convolution, ``channel[o, c] * col[o, i] * row[o, j]``.

    ``w[o, c, i, j] = channel[o, c] * col[o, i] * row[o, j]``: rank 1 along channels, rows and
    columns for every output channel ``o``.

    Parameters
    ----------
    channel : array ``(C_out, C_in)``
    col : array ``(C_out, kh)``, or ``(kh,)`` shared
    row : array ``(C_out, kw)``, or ``(kw,)`` shared

    Returns
    -------
    array ``(C_out, C_in, kh, kw)``, the weight for which ``conv2d`` equals ``flattened_conv2d``.
    """
    fn = "flattened_weight"
    channel = v.plain(fn, "channel", channel, ("C_out", "C_in"))
    c_out = channel.shape[0]
    col = _per_channel(fn, "col", col, c_out, "kh")
    row = _per_channel(fn, "row", row, c_out, "kw")
    dtype = v.float_dtype(channel, col, row)
    v.fits(fn, dtype, ("the weight", channel.shape + (col.shape[1], row.shape[1])))
    return np.einsum("oc,oi,oj->ocij", channel, col, row).astype(dtype, copy=False)


def _unit(v):
    """``v`` scaled to length 1 along its last axis (all-zero rows stay zero), and the lengths."""
    norm = np.linalg.norm(v, axis=-1, keepdims=True)
    return v / np.where(norm > 0, norm, 1.0), norm[..., 0]


def _leading(m):
    """The leading left singular vector of each matrix of a stack ``(n, rows, columns)``."""
    return np.linalg.svd(m, full_matrices=False)[0][..., 0]


def flattened_factors(weight, steps=500, tol=1e-10):
    """The best flattened approximation of a weight: per filter, the closest rank-1 tensor.

    For each filter ``w[o]`` (``C_in x kh x kw``) the vectors ``channel[o]``, ``col[o]``,
    ``row[o]`` that make ``channel[o, c] * col[o, i] * row[o, j]`` closest to ``w[o, c, i, j]``
    (least squares), found by the higher-order power method (alternating least squares: fix two
    vectors, the best third is the filter contracted with them; De Lathauwer, De Moor &
    Vandewalle, 2000), started from the leading singular vectors of the filter's unfoldings.
    It stops after ``steps`` rounds or when no entry of the (unit) vectors ``col`` and ``row``
    moves by more than ``tol`` in a round. A filter that is rank 1 in all three directions is
    reproduced exactly; otherwise the result is a (local, from this start in practice the
    global) best, and
    ``flattened_weight(*flattened_factors(w))`` is the weight a flattened layer comes closest
    to. For one channel it is ``separable_factors``.

    Parameters
    ----------
    weight : array ``(C_out, C_in, kh, kw)``
    steps : int >= 1, rounds of the power method at most
    tol : float >= 0, how far the unit vectors may still move in the last round

    Returns
    -------
    channel : array ``(C_out, C_in)``, carrying each filter's scale and sign
    col : array ``(C_out, kh)``, each of length 1, its entry of largest magnitude positive
    row : array ``(C_out, kw)``, the same

    >>> w = flattened_weight([[1.0, -2.0]], [[1.0, 2.0, 1.0]], [[-1.0, 0.0, 1.0]])
    >>> bool(np.allclose(flattened_weight(*flattened_factors(w)), w))
    True
    """
    fn = "flattened_factors"
    w = v.plain(fn, "weight", weight, ("C_out", "C_in", "kh", "kw"))
    steps = v.int_value(fn, "steps", steps, 1)
    if not (isinstance(tol, numbers.Real) and tol >= 0):
        raise ValueError(f"{fn}: tol must be a number >= 0, got {tol!r}")
    dtype = v.float_dtype(w)
    t = w.astype(np.float64)
    n_out, c_in, kh, kw = t.shape
    # start: the leading left singular vector of the (kh, C_in*kw) and (kw, C_in*kh) unfoldings
    col = _leading(t.transpose(0, 2, 1, 3).reshape(n_out, kh, -1))
    row = _leading(t.transpose(0, 3, 1, 2).reshape(n_out, kw, -1))
    for _ in range(steps):
        before = np.concatenate([col, row], axis=1)
        channel, _ = _unit(np.einsum("ocij,oi,oj->oc", t, col, row))
        col, _ = _unit(np.einsum("ocij,oc,oj->oi", t, channel, row))
        row, _ = _unit(np.einsum("ocij,oc,oi->oj", t, channel, col))
        if np.abs(np.concatenate([col, row], axis=1) - before).max() <= tol:
            break
    # the best scale for unit vectors is the filter contracted with all three
    channel = channel * np.einsum("ocij,oc,oi,oj->o", t, channel, col, row)[:, None]
    for v_ in (col, row):  # each vector fixed up to a sign: the largest entry positive
        flip = np.where(np.take_along_axis(v_, np.abs(v_).argmax(1)[:, None], 1) < 0, -1.0, 1.0)
        v_ *= flip
        channel *= flip
    return channel.astype(dtype), col.astype(dtype), row.astype(dtype)


def channel_shuffle(input, groups):
    """Interleave the channels of ``groups`` groups, like ``torch.nn.functional.channel_shuffle``.

    ShuffleNet's remedy for stacked grouped convolutions, whose groups never see each other:
    view the ``C`` channels as a ``(groups, C/groups)`` table, transpose it, flatten. Channel
    ``g*(C/groups) + i`` moves to position ``i*groups + g``; with 6 channels and 2 groups the
    order becomes ``0, 3, 1, 4, 2, 5``.

    Parameters
    ----------
    input : array ``(N, C, *)`` with at least 3 axes, channels on axis 1 (as PyTorch)
    groups : int >= 1 dividing ``C``

    Returns
    -------
    array of the input's shape and dtype, channels reordered.
    """
    fn = "channel_shuffle"
    x = v.array(fn, "input", input)
    if x.ndim < 3:
        raise ValueError(
            f"{fn}: input must have at least 3 axes (N, C, ...), channels on axis 1, "
            f"got shape {x.shape}"
        )
    groups = v.int_value(fn, "groups", groups, 1)
    n, c = x.shape[:2]
    if c % groups:
        raise ValueError(f"{fn}: {c} channels cannot be split into {groups} groups")
    table = x.reshape((n, groups, c // groups) + x.shape[2:])
    # copy before flattening: one copy, and the result never shares memory with the input
    return table.swapaxes(1, 2).copy().reshape(x.shape)
