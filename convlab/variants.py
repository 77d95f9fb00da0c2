"""Named convolution types, each a special case of ``conv2d``.

Depthwise is ``conv2d`` with ``groups = C``; depthwise separable is depthwise then a 1x1;
spatially separable is a ``kh x 1`` pass then a ``1 x kw`` pass; flattened (Jin et al., 2014)
is a 1x1 across channels then the two 1-D passes. Channel shuffle (ShuffleNet) lets grouped
convolutions exchange information; ``dense_weight`` and ``grouped_weight`` go between a
grouped weight and the block-diagonal dense weight it stands for. Every function here checks
its arguments in its own name and hands the arithmetic to the one mechanism of
``convlab.conv``; the multiply counts are those of ``convlab.arithmetic``
(``depthwise_separable_cost``, ``spatially_separable_cost``, ``flattened_cost``).
"""

import math
import numbers

import numpy as np

from . import _validate as v
from .conv import _convnd

__all__ = [
    "channel_shuffle",
    "dense_weight",
    "depthwise_conv2d",
    "depthwise_separable_conv2d",
    "depthwise_separable_factors",
    "depthwise_separable_weight",
    "flattened_conv2d",
    "flattened_factors",
    "flattened_weight",
    "grouped_weight",
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


def depthwise_separable_weight(depthwise_weight, pointwise_weight, depth_multiplier=1):
    """The standard weight that equals a depthwise separable pair (biases aside).

    ``w[o, c] = sum_t pointwise_weight[o, c*m + t] * depthwise_weight[c*m + t, 0]``: for each
    input channel ``c``, the ``C_out`` kernels ``w[:, c]`` are combinations of the ``m``
    depthwise kernels of that channel (with ``m = 1``, multiples of one kernel). That is what
    a depthwise separable layer cannot escape: stacked as a ``C_out x (kh*kw)`` matrix,
    ``w[:, c]`` has rank at most ``m``.

    Parameters
    ----------
    depthwise_weight : array ``(C*m, 1, kh, kw)``, ``m`` the depth multiplier
    pointwise_weight : array ``(C_out, C*m, 1, 1)`` or ``(C_out, C*m)``
    depth_multiplier : int ``m >= 1`` dividing ``C*m``

    Returns
    -------
    array ``(C_out, C, kh, kw)``: ``conv2d(x, w)`` equals
    ``depthwise_separable_conv2d(x, depthwise_weight, pointwise_weight)`` (no padding or
    stride, or the same ones for both).
    """
    fn = "depthwise_separable_weight"
    dw = v.array(fn, "depthwise_weight", depthwise_weight)
    pw = v.array(fn, "pointwise_weight", pointwise_weight)
    if dw.ndim != 4 or dw.shape[1] != 1:
        raise ValueError(f"{fn}: depthwise_weight must be (C*m, 1, kh, kw), one kernel per "
                         f"row, got shape {dw.shape}")
    if pw.ndim == 4 and pw.shape[2:] == (1, 1):
        pw = pw[:, :, 0, 0]
    if pw.ndim != 2 or pw.shape[1] != dw.shape[0]:
        raise ValueError(f"{fn}: pointwise_weight must be (C_out, {dw.shape[0]}, 1, 1) or "
                         f"(C_out, {dw.shape[0]}), one weight per depthwise channel, got shape "
                         f"{np.shape(pointwise_weight)}")
    m = v.int_value(fn, "depth_multiplier", depth_multiplier, 1)
    c_out, mid = pw.shape
    if mid % m:
        raise ValueError(f"{fn}: depth_multiplier {m} does not divide the {mid} depthwise "
                         f"channels")
    c = mid // m
    kernels = dw[:, 0].reshape(c, m, *dw.shape[2:])          # (C, m, kh, kw)
    mixes = pw.reshape(c_out, c, m)                           # (C_out, C, m)
    return np.einsum("oct,ctij->ocij", mixes, kernels).astype(v.float_dtype(dw, pw), copy=False)


def depthwise_separable_factors(weight, depth_multiplier=1):
    """The depthwise separable pair closest to a standard weight, from one SVD per channel.

    For each input channel ``c`` the ``C_out`` kernels ``weight[:, c]``, as a
    ``C_out x (kh*kw)`` matrix ``U diag(s) V^T``, are replaced by their best rank-``m``
    approximation (Eckart-Young): the depthwise kernels are ``sqrt(s_t) V[:, t]`` and the
    pointwise weights ``sqrt(s_t) U[:, t]``, ``t < m``. The channels do not interact, so the
    pair is the closest one to ``weight`` (Frobenius norm), at the distance
    ``sqrt(sum over c of s_m(c)^2 + s_{m+1}(c)^2 + ...)``; zero exactly when every
    ``weight[:, c]`` has rank ``<= m``. ``depthwise_separable_weight`` of the result is the
    closest weight a depthwise separable layer can have.

    Parameters
    ----------
    weight : array ``(C_out, C, kh, kw)``, a standard (``groups=1``) weight
    depth_multiplier : int ``m >= 1``, depthwise kernels per input channel

    Returns
    -------
    depthwise_weight : array ``(C*m, 1, kh, kw)``
    pointwise_weight : array ``(C_out, C*m, 1, 1)``
    """
    fn = "depthwise_separable_factors"
    w = v.array(fn, "weight", weight)
    v.weight_rank(fn, w, 2, transposed=False)
    m = v.int_value(fn, "depth_multiplier", depth_multiplier, 1)
    c_out, c, kh, kw = w.shape
    if m > min(c_out, kh * kw):
        raise ValueError(f"{fn}: depth_multiplier {m} is more than min(C_out, kh*kw) = "
                         f"{min(c_out, kh * kw)}, the largest rank weight[:, c] can have")
    dtype = v.float_dtype(w)
    dw, pw = np.zeros((c, m, kh * kw), dtype), np.zeros((c_out, c, m), dtype)
    for ch in range(c):
        u, s, vt = np.linalg.svd(w[:, ch].reshape(c_out, kh * kw).astype(dtype, copy=False),
                                 full_matrices=False)
        root = np.sqrt(s[:m])
        # SVD fixes each pair only up to a common sign: make the kernel's largest entry positive
        sign = np.where(vt[np.arange(m), np.argmax(np.abs(vt[:m]), axis=1)] < 0, -1.0, 1.0)
        dw[ch] = (root * sign)[:, None] * vt[:m]
        pw[:, ch] = u[:, :m] * root * sign
    return dw.reshape(c * m, 1, kh, kw), pw.reshape(c_out, c * m, 1, 1)


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


def _grouped_shapes(fn, weight, groups, axis):
    """``weight`` as an array with kernel axes, and ``groups`` checked to divide C_out and the
    channel axis ``axis`` (1: C_in of a dense weight; None: nothing more)."""
    weight = v.array(fn, "weight", weight)
    if weight.ndim < 3:
        raise ValueError(f"{fn}: weight must be (C_out, C_in/groups, *k) with at least one "
                         f"kernel axis, got shape {weight.shape}")
    groups = v.int_value(fn, "groups", groups, 1)
    channels = {"C_out": weight.shape[0]}
    if axis is not None:
        channels["C_in"] = weight.shape[axis]
    v.groups_divide(fn, groups, **channels)
    return weight, groups


def dense_weight(weight, groups):
    """The dense weight a grouped convolution stands for: its groups' kernels on the block
    diagonal, zero kernels everywhere else.

    Filter ``o`` belongs to group ``g = o // (C_out/groups)``; its ``C_in/groups`` kernels
    read the input channels ``g*C_in/groups`` to ``(g+1)*C_in/groups - 1`` (contiguous
    blocks, as PyTorch splits them), and it has a zero kernel for every other input channel.
    So ``conv2d(x, dense_weight(w, G)) == conv2d(x, w, groups=G)``, and a fraction
    ``1 - 1/G`` of the dense weight is zero by construction: grouping is a structured
    sparsity that the grouped layer neither stores nor multiplies.

    Parameters
    ----------
    weight : array ``(C_out, C_in/groups, *k)``, any number of kernel axes
    groups : int >= 1 dividing ``C_out``

    Returns
    -------
    array ``(C_out, C_in, *k)`` with ``C_in = groups * weight.shape[1]``, of the weight's dtype.

    >>> dense_weight(np.ones((4, 2, 1, 1)), groups=2)[:, :, 0, 0]
    array([[1., 1., 0., 0.],
           [1., 1., 0., 0.],
           [0., 0., 1., 1.],
           [0., 0., 1., 1.]])
    """
    fn = "dense_weight"
    weight, groups = _grouped_shapes(fn, weight, groups, None)
    c_out, per_in = weight.shape[:2]
    per_out = c_out // groups
    dense = np.zeros((c_out, per_in * groups) + weight.shape[2:], dtype=v.float_dtype(weight))
    for g in range(groups):
        rows, cols = slice(g * per_out, (g + 1) * per_out), slice(g * per_in, (g + 1) * per_in)
        dense[rows, cols] = weight[rows]
    return dense


def grouped_weight(weight, groups):
    """The diagonal blocks of a dense weight: the grouped weight closest to it.

    Keeps, for filter ``o`` of group ``g = o // (C_out/groups)``, its kernels on the input
    channels of group ``g`` and drops the others, which no grouped layer can hold. The inverse
    of ``dense_weight`` on block-diagonal weights; for any dense weight ``w``,
    ``dense_weight(grouped_weight(w, G), G)`` is the block-diagonal weight nearest to ``w`` in
    the sum of squares, and ``w`` minus it is what grouping cannot represent.

    Parameters
    ----------
    weight : array ``(C_out, C_in, *k)``
    groups : int >= 1 dividing ``C_out`` and ``C_in``

    Returns
    -------
    array ``(C_out, C_in/groups, *k)``, the weight for ``conv2d(..., groups=groups)``.
    """
    fn = "grouped_weight"
    weight, groups = _grouped_shapes(fn, weight, groups, 1)
    c_out, c_in = weight.shape[:2]
    per_out, per_in = c_out // groups, c_in // groups
    return np.concatenate([weight[g * per_out:(g + 1) * per_out, g * per_in:(g + 1) * per_in]
                           for g in range(groups)])
