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

import numpy as np

from . import _validate as v
from .conv import _add_bias, _conv, _pad

__all__ = ["deform_conv2d", "deform_conv2d_loops", "deform_sampling_points"]


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


def _bilinear_gather(x, points, mask):
    """Bilinear samples of every channel at every point, by torchvision's rules.

    x ``(N, C, H, W)``; points ``(N, G, P, 2)`` with ``G`` offset groups; mask ``(N, G, P)`` or
    None. Returns ``(N, G, C/G, P)``. The rules are ``deform_conv2d``'s (a point outside reads
    nothing, a NaN coordinate samples NaN). A zero border two pixels wide gives the zeros: each
    neighbour outside the image is in it, and points that read nothing move to ``(-2, -2)``,
    all of whose neighbours are, so no index needs a check.
    """
    n, c, h, w = x.shape
    groups, npoints = points.shape[1], points.shape[2]
    flat = _pad(x, ((2, 2), (2, 2))).reshape(n, groups, c // groups, (h + 4) * (w + 4))
    y, xx = points[..., 0], points[..., 1]
    outside = (y <= -1) | (y >= h) | (xx <= -1) | (xx >= w)  # False for NaN
    unknown = np.isnan(y) | np.isnan(xx)
    y, xx = np.where(outside | unknown, -2, y), np.where(outside | unknown, -2, xx)
    y0, x0 = np.floor(y), np.floor(xx)
    ly, lx = y - y0, xx - x0
    top, left = (y0 + 2).astype(np.intp), (x0 + 2).astype(np.intp)  # in the bordered image
    scale = mask
    if (unknown & ~outside).any():
        one = x.dtype.type(1) if mask is None else mask
        scale = np.where(unknown & ~outside, x.dtype.type("nan"), one)
    samples = np.zeros((n, groups, c // groups, npoints), dtype=x.dtype)
    for dy, dx, weight in ((0, 0, (1 - ly) * (1 - lx)), (0, 1, (1 - ly) * lx),
                           (1, 0, ly * (1 - lx)), (1, 1, ly * lx)):
        index = ((top + dy) * (w + 4) + left + dx)[:, :, None]
        samples += weight[:, :, None] * np.take_along_axis(flat, index, axis=3)
    if scale is not None:  # after the sum, as torchvision: an infinite mask times a zero is NaN
        samples *= scale[:, :, None]
    return samples


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
    points = _sampling_points(offset, (kh, kw), stride, padding, dilation)
    offset_groups = points.shape[1]
    count = kh * kw * h_out * w_out  # points per image and offset group
    # tap-major, (N, G, kh*kw, H_out, W_out) like the mask, so the samples come out as columns
    points = points.transpose(0, 1, 4, 2, 3, 5).reshape(n, offset_groups, count, 2)
    if mask is not None:
        mask = mask.reshape(n, offset_groups, count)
    cols = _bilinear_gather(x, points, mask).reshape(n, c_in * kh * kw, h_out, w_out)
    y = _conv(cols, [(0, 0)] * 2, weight.reshape(weight.shape[0], -1, 1, 1), (1, 1), (1, 1),
              groups, (h_out, w_out))
    y = _add_bias(y, bias)
    return y if was_batched else y[0]


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
