"""Deformable convolution (Dai et al., ICCV 2017) and its modulated v2, as in torchvision.

A 2-D convolution reads its input on a fixed grid: output ``(oh, ow)`` reads kernel position
``(i, j)`` at ``(oh*s - p + i*d, ow*s - p + j*d)``. A deformable convolution adds a learned
offset ``(dy, dx)`` to every one of those points, separately for every output position, and
reads the input there by bilinear interpolation (the points are fractional). Version 2 also
multiplies each sample by a modulation ``mask``. Everything else is an ordinary grouped
convolution: the samples form im2col's column array ``(N, C_in*kh*kw, H_out, W_out)``, one
channel per (input channel, tap), and ``conv``'s one contraction runs over it as a 1x1
convolution with the weight flattened to ``(C_out, C_in/groups*kh*kw, 1, 1)``.

Layouts follow ``torchvision.ops.deform_conv2d``: input ``(N, C_in, H, W)``, offset
``(N, 2*offset_groups*kh*kw, H_out, W_out)`` holding ``(dy, dx)`` pairs for kernel positions
``k = i*kw + j`` within each offset group, mask ``(N, offset_groups*kh*kw, H_out, W_out)``,
weight ``(C_out, C_in/groups, kh, kw)`` with ``groups = C_in // weight.shape[1]``. Input
channels are split into ``offset_groups`` blocks; each block shares one offset field.
"""

import math
from typing import NamedTuple

import numpy as np

from . import _validate as v
from .conv import _add_bias, _conv, _pad

__all__ = ["DeformConv2dGrads", "deform_conv2d", "deform_conv2d_backward", "deform_conv2d_loops",
           "deform_sampling_points"]


# --- arguments ---------------------------------------------------------------------------------


def _offset_groups(fn, channels, kernel_size):
    """Offset groups from the offset's channel count: ``channels / (2*kh*kw)``."""
    kh, kw = kernel_size
    per_group = 2 * kh * kw
    if channels == 0 or channels % per_group:
        raise ValueError(
            f"{fn}: offset has {channels} channels but a {kh}x{kw} kernel needs "
            f"2*{kh}*{kw} = {per_group} per offset group (a (dy, dx) pair per kernel position)"
        )
    return channels // per_group


def _like_input(fn, name, arr, was_batched, layout):
    """``arr`` with a batch axis, after checking it is batched exactly when the input is."""
    rank = 4 if was_batched else 3
    if arr.ndim != rank:
        axes = f"(N, {layout})" if was_batched else f"({layout})"
        kind = "batched" if was_batched else "unbatched"
        raise ValueError(
            f"{fn}: {name} must be {rank}-D {axes} like the {kind} input, got shape {arr.shape}"
        )
    return arr if was_batched else arr[None]


def _int_padding(fn, padding):
    if isinstance(padding, str):
        raise ValueError(f"{fn}: padding must be an int or a tuple of 2 ints, got {padding!r}")
    return v.int_tuple(fn, "padding", padding, 2, 0)


def _arguments(fn, input, offset, weight, bias, stride, padding, dilation, mask):
    """Validate ``deform_conv2d``'s arguments; return them batched, in one float dtype."""
    x = v.array(fn, "input", input)
    offset = v.array(fn, "offset", offset)
    weight = v.array(fn, "weight", weight)
    x, was_batched = v.batched(fn, "input", x, 2)
    v.weight_rank(fn, weight, 2, transposed=False)
    c_in, c_out, c_group = x.shape[1], weight.shape[0], weight.shape[1]
    if c_in % c_group:
        raise ValueError(
            f"{fn}: input has {c_in} channels, not a multiple of weight.shape[1] = {c_group} "
            f"(each filter sees C_in/groups channels, and groups = C_in // weight.shape[1])"
        )
    groups = c_in // c_group
    v.groups_divide(fn, groups, C_out=c_out)
    bias = v.bias_vector(fn, bias, c_out)
    k = weight.shape[2:]
    stride = v.int_tuple(fn, "stride", stride, 2, 1)
    padding = _int_padding(fn, padding)
    dilation = v.int_tuple(fn, "dilation", dilation, 2, 1)
    out = v.output_sizes(fn, [s + 2 * p for s, p in zip(x.shape[2:], padding)], k, stride,
                         dilation)

    offset = _like_input(fn, "offset", offset, was_batched, "2*offset_groups*kh*kw, H_out, W_out")
    offset_groups = _offset_groups(fn, offset.shape[1], k)
    if c_in % offset_groups:
        raise ValueError(
            f"{fn}: offset has {offset.shape[1]} channels, {offset_groups} offset groups of "
            f"2*{k[0]}*{k[1]}, but offset_groups={offset_groups} must divide C_in={c_in} "
            f"(each offset group moves the sampling points of C_in/offset_groups channels)"
        )
    if offset.shape[0] != x.shape[0]:
        raise ValueError(f"{fn}: offset has batch size {offset.shape[0]} but input has "
                         f"{x.shape[0]}")
    if tuple(offset.shape[2:]) != out:
        raise ValueError(
            f"{fn}: offset has spatial size {tuple(offset.shape[2:])} but the convolution "
            f"produces an output of size {out} (H_out, W_out): one offset per output position"
        )
    if mask is not None:
        mask = _like_input(fn, "mask", v.array(fn, "mask", mask), was_batched,
                           "offset_groups*kh*kw, H_out, W_out")
        expected = (x.shape[0], offset_groups * k[0] * k[1]) + out
        if mask.shape != expected:
            raise ValueError(
                f"{fn}: mask must have shape (N, offset_groups*kh*kw, H_out, W_out) = "
                f"{expected if was_batched else expected[1:]}, got "
                f"{mask.shape if was_batched else mask.shape[1:]}"
            )
    dtype = v.float_dtype(*(a for a in (x, offset, weight, mask) if a is not None))
    x, offset, weight = (a.astype(dtype, copy=False) for a in (x, offset, weight))
    if mask is not None:
        mask = mask.astype(dtype, copy=False)
    return x, offset, weight, bias, mask, stride, padding, dilation, groups, was_batched


# --- the geometry ------------------------------------------------------------------------------


def _sampling_points(offset, kernel_size, stride, padding, dilation):
    """Where each kernel tap reads: ``(N, G, H_out, W_out, kh*kw, 2)`` as ``(y, x)``.

    offset ``(N, 2*G*kh*kw, H_out, W_out)`` (trusted). The regular grid of a convolution,
    ``(oh*s - p + i*d, ow*s - p + j*d)``, plus the offset ``(dy, dx)`` of that tap.
    """
    n, channels, h_out, w_out = offset.shape
    kh, kw = kernel_size
    taps = kh * kw
    shifts = offset.reshape(n, channels // (2 * taps), taps, 2, h_out, w_out)
    shifts = shifts.transpose(0, 1, 4, 5, 2, 3)
    i, j = np.divmod(np.arange(taps), kw)  # tap k = i*kw + j
    y = (np.arange(h_out) * stride[0] - padding[0])[:, None, None] + i * dilation[0]
    x = (np.arange(w_out) * stride[1] - padding[1])[None, :, None] + j * dilation[1]
    grid = np.stack(np.broadcast_arrays(y, x), axis=-1)  # (H_out, W_out, kh*kw, 2)
    return grid.astype(offset.dtype) + shifts


def deform_sampling_points(offset, kernel_size, stride=1, padding=0, dilation=1):
    """The input coordinates a deformable convolution samples, as ``(y, x)``.

    Parameters
    ----------
    offset : array ``(N, 2*offset_groups*kh*kw, H_out, W_out)`` or unbatched
        ``(2*offset_groups*kh*kw, H_out, W_out)``: ``(dy, dx)`` for tap ``k = i*kw + j``
        at channels ``2k`` and ``2k + 1`` of each offset group
    kernel_size : int or tuple of 2 ints ``(kh, kw)``
    stride, dilation : int or tuple of 2 ints, >= 1
    padding : int or tuple of 2 ints, >= 0 (per side)

    Returns
    -------
    array ``(N, offset_groups, H_out, W_out, kh*kw, 2)`` (unbatched: without ``N``), the
    offset's float dtype::

        points[n, g, oh, ow, i*kw + j] = (oh*stride_h - pad_h + i*dil_h + dy,
                                          ow*stride_w - pad_w + j*dil_w + dx)

    With zero offsets these are the taps of an ordinary convolution.

    >>> deform_sampling_points(np.zeros((2, 1, 1)), 1)[0, 0, 0]
    array([[0., 0.]])
    """
    fn = "deform_sampling_points"
    offset = v.array(fn, "offset", offset)
    offset, was_batched = v.batched(fn, "offset", offset, 2)
    kernel_size = v.int_tuple(fn, "kernel_size", kernel_size, 2, 1)
    _offset_groups(fn, offset.shape[1], kernel_size)
    stride = v.int_tuple(fn, "stride", stride, 2, 1)
    padding = _int_padding(fn, padding)
    dilation = v.int_tuple(fn, "dilation", dilation, 2, 1)
    offset = offset.astype(v.float_dtype(offset), copy=False)
    points = _sampling_points(offset, kernel_size, stride, padding, dilation)
    return points if was_batched else points[0]


# --- the fast path -----------------------------------------------------------------------------


def _neighbours(h, w, points):
    """The four neighbours of every point, in the image bordered by two zero pixels.

    points ``(..., 2)`` as ``(y, x)``. Returns ``(index, ly, lx, outside, unknown)``: ``index``
    ``(4, ...)`` the flat indices of the neighbours (top-left, top-right, bottom-left,
    bottom-right) in the bordered ``(H + 4) x (W + 4)`` image, ``ly, lx`` the fractional
    parts of ``y, x``. A point outside (``y <= -1``, ``y >= H``, ``x <= -1`` or ``x >= W``:
    torchvision's rule) or with a NaN coordinate is moved to ``(-2, -2)``, all of whose
    neighbours lie in the border: it reads zeros and passes no gradient, with no index check.
    Each neighbour of a point inside that falls outside the image lies in the border too.
    """
    y, x = points[..., 0], points[..., 1]
    outside = (y <= -1) | (y >= h) | (x <= -1) | (x >= w)  # False for NaN
    unknown = np.isnan(y) | np.isnan(x)
    y, x = np.where(outside | unknown, -2, y), np.where(outside | unknown, -2, x)
    y0, x0 = np.floor(y), np.floor(x)
    top, left = (y0 + 2).astype(np.intp), (x0 + 2).astype(np.intp)  # in the bordered image
    index = np.stack([top * (w + 4) + left, top * (w + 4) + left + 1,
                      (top + 1) * (w + 4) + left, (top + 1) * (w + 4) + left + 1])
    return index, y - y0, x - x0, outside, unknown


def _bilinear_weights(ly, lx):
    """The four bilinear weights ``(4, ...)``, in the neighbours' order of ``_neighbours``."""
    return np.stack([(1 - ly) * (1 - lx), (1 - ly) * lx, ly * (1 - lx), ly * lx])


def _bordered(x, groups):
    """x ``(N, C, H, W)`` bordered by two zero pixels, flat: ``(N, G, C/G, (H+4)*(W+4))``."""
    n, c, h, w = x.shape
    return _pad(x, ((2, 2), (2, 2))).reshape(n, groups, c // groups, (h + 4) * (w + 4))


def _bilinear_gather(x, points, mask):
    """Bilinear samples of every channel at every point, by torchvision's rules.

    x ``(N, C, H, W)``; points ``(N, G, P, 2)`` with ``G`` offset groups; mask ``(N, G, P)`` or
    None. Returns ``(N, G, C/G, P)``. The rules are ``deform_conv2d``'s (a point outside reads
    nothing, a NaN coordinate samples NaN).
    """
    n, c, h, w = x.shape
    groups, npoints = points.shape[1], points.shape[2]
    flat = _bordered(x, groups)
    index, ly, lx, outside, unknown = _neighbours(h, w, points)
    scale = mask
    if (unknown & ~outside).any():
        one = x.dtype.type(1) if mask is None else mask
        scale = np.where(unknown & ~outside, x.dtype.type("nan"), one)
    samples = np.zeros((n, groups, c // groups, npoints), dtype=x.dtype)
    for corner, weight in zip(index, _bilinear_weights(ly, lx)):
        samples += weight[:, :, None] * np.take_along_axis(flat, corner[:, :, None], axis=3)
    if scale is not None:  # after the sum, as torchvision: an infinite mask times a zero is NaN
        samples *= scale[:, :, None]
    return samples


def _tap_points(offset, kernel_size, stride, padding, dilation):
    """The sampling points tap-major, ``(N, G, kh*kw*H_out*W_out, 2)``: ordered like the mask
    ``(N, G, kh*kw, H_out, W_out)``, so that the samples come out as im2col's columns."""
    points = _sampling_points(offset, kernel_size, stride, padding, dilation)
    n, groups, h_out, w_out, taps = points.shape[:5]
    return points.transpose(0, 1, 4, 2, 3, 5).reshape(n, groups, taps * h_out * w_out, 2)


def deform_conv2d(input, offset, weight, bias=None, stride=1, padding=0, dilation=1, mask=None):
    """Deformable 2-D convolution (v2 with ``mask``), like ``torchvision.ops.deform_conv2d``.

    Parameters
    ----------
    input : array ``(N, C_in, H, W)`` or unbatched ``(C_in, H, W)``
    offset : array ``(N, 2*offset_groups*kh*kw, H_out, W_out)`` (unbatched without ``N``):
        ``(dy, dx)`` of tap ``k = i*kw + j`` at channels ``2k``, ``2k + 1`` of each offset
        group; ``offset_groups`` must divide ``C_in``
    weight : array ``(C_out, C_in/groups, kh, kw)``; ``groups = C_in // weight.shape[1]``
    bias : array ``(C_out,)`` or None
    stride, dilation : int or tuple of 2 ints, >= 1
    padding : int or tuple of 2 ints, >= 0 (per side; zeros outside the input)
    mask : array ``(N, offset_groups*kh*kw, H_out, W_out)`` (unbatched without ``N``) or None:
        the modulation of each tap (deformable ConvNets v2)

    Returns
    -------
    array ``(N, C_out, H_out, W_out)`` (unbatched: ``(C_out, H_out, W_out)``), with
    ``H_out = floor((H + 2*pad_h - dil_h*(kh - 1) - 1) / stride_h) + 1`` (``W_out`` likewise)::

        out[n, o, oh, ow] = bias[o] + sum_{c, i, j} weight[o, c, i, j] * m * bilinear(
            input[n, g*C_in/groups + c], oh*s_h - p_h + i*d_h + dy, ow*s_w - p_w + j*d_w + dx)

    with ``(dy, dx)`` and ``m`` the offset and mask of tap ``i*kw + j`` in the channel's
    offset group. Zero offsets and no mask give ``conv2d``.

    The sampling follows torchvision's kernel (``bilinear_interpolate``), also for values that
    are not finite:

    * a point with ``y <= -1``, ``y >= H``, ``x <= -1`` or ``x >= W`` reads no pixel and
      samples 0 (so does an infinite offset);
    * otherwise each of its four neighbours that lies in the image is read with its bilinear
      weight, even a weight of 0 (a NaN pixel reaches the points next to it, as in
      torchvision), and a neighbour outside counts 0;
    * a point with a NaN coordinate that is not outside by its other coordinate samples NaN:
      torchvision's arithmetic propagates it, and a NaN offset is a broken offset network
      that should show, not a point read as (0, 0);
    * the mask multiplies the sample, so a NaN mask gives NaN, even for a point outside.
    """
    x, offset, weight, bias, mask, stride, padding, dilation, groups, was_batched = _arguments(
        "deform_conv2d", input, offset, weight, bias, stride, padding, dilation, mask)
    n, c_in = x.shape[:2]
    kh, kw = weight.shape[2:]
    h_out, w_out = offset.shape[2:]
    v.fits("deform_conv2d", x.dtype, ("the sampled columns", (n, c_in * kh * kw, h_out, w_out)),
           ("the output", (n, weight.shape[0], h_out, w_out)))
    points = _tap_points(offset, (kh, kw), stride, padding, dilation)
    if mask is not None:
        mask = mask.reshape(points.shape[:3])
    cols = _bilinear_gather(x, points, mask).reshape(n, c_in * kh * kw, h_out, w_out)
    y = _conv(cols, [(0, 0)] * 2, weight.reshape(weight.shape[0], -1, 1, 1), (1, 1), (1, 1),
              groups, (h_out, w_out))
    y = _add_bias(y, bias)
    return y if was_batched else y[0]


# --- the backward pass -------------------------------------------------------------------------


class DeformConv2dGrads(NamedTuple):
    """The gradients of a loss w.r.t. each argument of ``deform_conv2d``, in their shapes
    (``bias`` and ``mask`` are None where the call had none)."""

    input: np.ndarray
    offset: np.ndarray
    weight: np.ndarray
    bias: np.ndarray | None
    mask: np.ndarray | None


def _scatter(values, index, size):
    """Sum ``values`` ``(N, G, C, P)`` into ``(N, G, C, size)`` at ``index`` ``(N, G, P)``."""
    n, groups, c, npoints = values.shape
    rows = np.arange(n * groups * c).reshape(n, groups, c, 1) * size
    total = np.bincount((rows + index[:, :, None]).ravel(), weights=values.ravel(),
                        minlength=n * groups * c * size)
    return total.reshape(n, groups, c, size)


def deform_conv2d_backward(grad_output, input, offset, weight, bias=None, stride=1, padding=0,
                           dilation=1, mask=None):
    """Gradients of ``deform_conv2d`` w.r.t. input, offset, weight, bias and mask.

    Parameters
    ----------
    grad_output : array ``(N, C_out, H_out, W_out)`` (unbatched ``(C_out, H_out, W_out)``),
        ``dL/dout`` for ``out = deform_conv2d(input, offset, weight, bias, ..., mask=mask)``
    input, offset, weight, bias, stride, padding, dilation, mask : as ``deform_conv2d``

    Returns
    -------
    ``DeformConv2dGrads(input, offset, weight, bias, mask)``, each in its argument's shape
    (``bias``, ``mask`` None when not given). Write ``v = bilinear(x, y, x)`` for a sample,
    ``cols`` for the modulated samples ``m * v`` (im2col's columns) and ``g = grad_output``:

    * ``bias``: ``sum_{n, oh, ow} g[n, o, oh, ow]``;
    * ``weight``: ``sum_{n, oh, ow} g * cols``, as for a 1x1 convolution over ``cols``;
    * through the weight, each sample gets ``dL/dcols = sum_o weight[o, c, k] * g[n, o]``;
    * ``mask``: ``sum_c dL/dcols * v`` over the channels of its offset group;
    * ``input``: each pixel collects ``m * dL/dcols`` times its bilinear weight, from every
      sample it took part in (a scatter, the transpose of the gather);
    * ``offset``: the bilinear sample is a product of two tents, so along ``y``, with
      ``ly, lx`` the fractional parts and ``v00, v01, v10, v11`` the four neighbours
      (row, column)::

          dv/dy = (1 - lx) * (v10 - v00) + lx * (v11 - v01)
          dv/dx = (1 - ly) * (v01 - v00) + ly * (v11 - v10)

      the difference of the pixels across the cell, interpolated along the other axis;
      ``dL/d(dy) = sum_c m * dL/dcols * dv/dy`` over the group's channels (likewise ``dx``).

    Neighbours outside the image count as zeros, and a point outside (``y <= -1``, ...) passes
    no gradient at all, as in torchvision. At an integer coordinate ``v`` has a kink; the
    formula takes the slope of the cell to its lower right (``floor``), as torchvision does.
    Meant for finite arguments.

    >>> x, w = np.arange(9.0).reshape(1, 3, 3), np.ones((1, 1, 1, 1))
    >>> grads = deform_conv2d_backward(np.ones((1, 1, 1)), x, np.full((2, 1, 1), 0.5), w,
    ...                                stride=3)
    >>> grads.offset.ravel()  # a ramp of slope 3 down and 1 across
    array([3., 1.])
    """
    fn = "deform_conv2d_backward"
    x, offset, weight, bias, mask, stride, padding, dilation, groups, was_batched = _arguments(
        fn, input, offset, weight, bias, stride, padding, dilation, mask)
    n, c_in, h, w = x.shape
    c_out, c_group, kh, kw = weight.shape
    h_out, w_out = offset.shape[2:]
    g = v.array(fn, "grad_output", grad_output)
    expected = (n, c_out, h_out, w_out)
    if g.shape != (expected if was_batched else expected[1:]):
        raise ValueError(f"{fn}: grad_output must have the output's shape "
                         f"{expected if was_batched else expected[1:]}, got {g.shape}")
    g = (g if was_batched else g[None]).astype(x.dtype, copy=False)

    points = _tap_points(offset, (kh, kw), stride, padding, dilation)  # (N, G, P, 2)
    offset_groups, npoints = points.shape[1], points.shape[2]
    flat = _bordered(x, offset_groups)  # (N, G, C/G, (H+4)(W+4))
    index, ly, lx, _, _ = _neighbours(h, w, points)
    corners = [np.take_along_axis(flat, i[:, :, None], axis=3) for i in index]  # v00 .. v11
    bilinear = _bilinear_weights(ly, lx)[:, :, :, None]  # (4, N, G, 1, P)
    samples = sum(b * v_ for b, v_ in zip(bilinear, corners))  # (N, G, C/G, P), unmodulated
    m = 1 if mask is None else mask.reshape(n, offset_groups, 1, npoints)

    # the convolution over the columns: grouped, 1x1
    taps, out_per_group = kh * kw, c_out // groups
    cols = (samples * m).reshape(n, groups, c_group * taps, h_out * w_out)
    g2 = g.reshape(n, groups, out_per_group, h_out * w_out)
    w2 = weight.reshape(groups, out_per_group, c_group * taps)
    grad_weight = np.einsum("ngop,ngcp->goc", g2, cols).reshape(weight.shape)
    grad_cols = np.einsum("goc,ngop->ngcp", w2, g2).reshape(samples.shape)

    # the sampling: mask, input (scatter) and offset (the slopes of the bilinear surface)
    grad_mask = None
    if mask is not None:
        grad_mask = (grad_cols * samples).sum(axis=2).reshape(mask.shape)
    grad_samples = grad_cols * m
    size = (h + 4) * (w + 4)
    grad_flat = sum(_scatter(grad_samples * b, i, size) for b, i in zip(bilinear, index))
    grad_input = grad_flat.reshape(n, c_in, h + 4, w + 4)[:, :, 2:-2, 2:-2].astype(x.dtype)
    v00, v01, v10, v11 = corners
    ly, lx = ly[:, :, None], lx[:, :, None]
    slope_y = (1 - lx) * (v10 - v00) + lx * (v11 - v01)
    slope_x = (1 - ly) * (v01 - v00) + ly * (v11 - v10)
    grad_points = np.stack([(grad_samples * slope_y).sum(axis=2),
                            (grad_samples * slope_x).sum(axis=2)], axis=-1)  # (N, G, P, 2)
    grad_offset = grad_points.reshape(n, offset_groups, taps, h_out, w_out, 2)
    grad_offset = grad_offset.transpose(0, 1, 2, 5, 3, 4).reshape(offset.shape)

    grad_bias = None if bias is None else g.sum(axis=(0, 2, 3))
    if not was_batched:
        grad_input, grad_offset = grad_input[0], grad_offset[0]
        grad_mask = None if grad_mask is None else grad_mask[0]
    return DeformConv2dGrads(grad_input, grad_offset, grad_weight, grad_bias, grad_mask)


# --- the reference path ------------------------------------------------------------------------


def _bilinear(image, y, x):
    """``image`` ``(H, W)`` read at the fractional point ``(y, x)``, by torchvision's rules."""
    height, width = image.shape
    if y <= -1 or y >= height or x <= -1 or x >= width:
        return 0.0  # outside: no pixel is read
    if math.isnan(y) or math.isnan(x):
        return math.nan  # what torchvision's arithmetic makes of a NaN coordinate
    y0, x0 = int(np.floor(y)), int(np.floor(x))
    ly, lx = y - y0, x - x0
    total = 0.0
    for yy, xx, weight in ((y0, x0, (1 - ly) * (1 - lx)), (y0, x0 + 1, (1 - ly) * lx),
                           (y0 + 1, x0, ly * (1 - lx)), (y0 + 1, x0 + 1, ly * lx)):
        if 0 <= yy < height and 0 <= xx < width:
            total += weight * image[yy, xx]
    return total


def deform_conv2d_loops(input, offset, weight, bias=None, stride=1, padding=0, dilation=1,
                        mask=None):
    """``deform_conv2d`` written as plain loops, one multiply-add at a time: the reference.

    Same arguments, shapes and result as ``deform_conv2d``; slow, for reading and for testing.
    """
    x, offset, weight, bias, mask, stride, padding, dilation, groups, was_batched = _arguments(
        "deform_conv2d_loops", input, offset, weight, bias, stride, padding, dilation, mask)
    n_batch, c_in = x.shape[:2]
    c_out, c_group, kh, kw = weight.shape
    h_out, w_out = offset.shape[2:]
    channels_per_offset_group = c_in // (offset.shape[1] // (2 * kh * kw))
    v.fits("deform_conv2d_loops", x.dtype, ("the output", (n_batch, c_out, h_out, w_out)))
    out = np.zeros((n_batch, c_out, h_out, w_out), dtype=x.dtype)
    for n in range(n_batch):
        for o in range(c_out):
            g = o // (c_out // groups)  # the group of output channel o
            for oh in range(h_out):
                for ow in range(w_out):
                    total = 0.0 if bias is None else bias[o]
                    for c in range(c_group):
                        channel = g * c_group + c
                        og = channel // channels_per_offset_group
                        for i in range(kh):
                            for j in range(kw):
                                k = i * kw + j
                                dy = offset[n, og * 2 * kh * kw + 2 * k, oh, ow]
                                dx = offset[n, og * 2 * kh * kw + 2 * k + 1, oh, ow]
                                y = oh * stride[0] - padding[0] + i * dilation[0] + dy
                                xx = ow * stride[1] - padding[1] + j * dilation[1] + dx
                                m = 1.0 if mask is None else mask[n, og * kh * kw + k, oh, ow]
                                total += weight[o, c, i, j] * m * _bilinear(x[n, channel], y, xx)
                    out[n, o, oh, ow] = total
    return out if was_batched else out[0]
