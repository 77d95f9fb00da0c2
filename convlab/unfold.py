"""Convolution as a matrix product: im2col, col2im and the convolution matrix.

``im2col`` lays every window of the input out as one column (``torch.nn.functional.unfold``);
a convolution is then one matrix product with the weight flattened to ``(C_out, C_in*kh*kw)``.
``col2im`` (``torch.nn.functional.fold``) puts columns back, summing where windows overlap: it
is im2col's adjoint. ``conv_matrix`` writes a single-channel convolution as one matrix ``M``
acting on the flattened image, so the transposed convolution is ``M.T`` (chapter 06).
"""

import numpy as np

from . import _validate as v
from .conv import _pad, _windows

__all__ = ["col2im", "conv_matrix", "im2col"]


def _geometry(fn, size, kernel_size, stride, padding, dilation):
    """Validated ``(stride, dilation, padding pairs, output size)`` of a 2-D window layout."""
    stride = v.int_tuple(fn, "stride", stride, 2, 1)
    dilation = v.int_tuple(fn, "dilation", dilation, 2, 1)
    pairs = v.padding_pairs(fn, padding, kernel_size, stride, dilation)
    padded = [s + lo + hi for s, (lo, hi) in zip(size, pairs)]
    return stride, dilation, pairs, v.output_sizes(fn, padded, kernel_size, stride, dilation)


def im2col(input, kernel_size, stride=1, padding=0, dilation=1):
    """Every sliding window of the input as a column, like ``torch.nn.functional.unfold``.

    Parameters
    ----------
    input : array ``(N, C, H, W)`` or unbatched ``(C, H, W)``
    kernel_size, stride, dilation : int or tuple of 2 ints, >= 1
    padding : int or tuple of 2 ints (zeros on each side), or ``'valid'`` / ``'same'``

    Returns
    -------
    array ``(N, C*kh*kw, L)`` (unbatched: ``(C*kh*kw, L)``) in the input's float dtype, with
    ``L = H_out*W_out`` windows in row-major order and
    ``cols[n, c*kh*kw + i*kw + j, r*W_out + s] = input_padded[n, c, r*sh + i*dh, s*sw + j*dw]``.
    ``H_out, W_out`` are ``conv2d``'s output sizes, so
    ``weight.reshape(C_out, -1) @ im2col(x, k)`` is ``conv2d(x, weight)`` flattened to
    ``(N, C_out, L)``.

    The arguments come in ``conv2d``'s order (stride, padding, dilation); PyTorch's ``unfold``
    and ``fold`` take dilation, padding, stride: name them when moving between the two.
    """
    fn = "im2col"
    x, was_batched = v.batched(fn, "input", v.array(fn, "input", input), 2)
    k = v.int_tuple(fn, "kernel_size", kernel_size, 2, 1)
    stride, dilation, pairs, out = _geometry(fn, x.shape[2:], k, stride, padding, dilation)
    n, c = x.shape[:2]
    dtype = v.float_dtype(x)
    v.fits(fn, dtype, ("the columns", (n, c * k[0] * k[1], out[0] * out[1])),
           *v.padded_input(x.shape, pairs))
    xp = _pad(x.astype(dtype, copy=False), pairs)
    windows = _windows(xp, k, stride, dilation, out)  # (N, C, H_out, W_out, kh, kw)
    # copy before flattening: one copy, and never a read-only view of the input (1x1 kernels)
    cols = windows.transpose(0, 1, 4, 5, 2, 3).copy().reshape(n, c * k[0] * k[1],
                                                              out[0] * out[1])
    return cols if was_batched else cols[0]


def col2im(cols, output_size, kernel_size, stride=1, padding=0, dilation=1):
    """Put columns back as an image, summing overlaps, like ``torch.nn.functional.fold``.

    The adjoint of ``im2col`` with the same arguments: every column entry is added to the
    pixel it was read from, so ``col2im(im2col(x))`` is ``x`` times the number of windows
    covering each pixel.

    Parameters
    ----------
    cols : array ``(N, C*kh*kw, L)`` or unbatched ``(C*kh*kw, L)``, laid out as ``im2col``'s
    output_size : int or tuple of 2 ints, the image's ``(H, W)``
    kernel_size, stride, dilation : int or tuple of 2 ints, >= 1
    padding : int or tuple of 2 ints, or ``'valid'`` / ``'same'``

    Returns
    -------
    array ``(N, C, H, W)`` (unbatched: ``(C, H, W)``) in the columns' float dtype.
    """
    fn = "col2im"
    cols = v.array(fn, "cols", cols)
    if cols.ndim not in (2, 3):
        raise ValueError(
            f"{fn}: cols must be 3-D (N, C*kh*kw, L) or 2-D (C*kh*kw, L), got shape {cols.shape}"
        )
    was_batched = cols.ndim == 3
    cols = cols if was_batched else cols[None]
    size = v.int_tuple(fn, "output_size", output_size, 2, 1)
    k = v.int_tuple(fn, "kernel_size", kernel_size, 2, 1)
    kh, kw = k
    stride, dilation, pairs, out = _geometry(fn, size, k, stride, padding, dilation)
    n, rows, length = cols.shape
    if rows % (kh * kw):
        raise ValueError(
            f"{fn}: cols has {rows} rows (axis 1) but a {kh}x{kw} kernel takes {kh * kw} "
            f"per channel: {rows} is not a multiple of {kh * kw}"
        )
    if length != out[0] * out[1]:
        raise ValueError(
            f"{fn}: cols has {length} columns (L, the last axis) but a {kh}x{kw} kernel with "
            f"stride {stride}, padding {padding!r} and dilation {dilation} fits "
            f"{out[0]}x{out[1]} = {out[0] * out[1]} times in a {size[0]}x{size[1]} image"
        )

    c = rows // (kh * kw)
    padded = (n, c) + tuple(s + lo + hi for s, (lo, hi) in zip(size, pairs))
    v.fits(fn, v.float_dtype(cols), ("the padded image", padded))
    blocks = cols.astype(v.float_dtype(cols), copy=False).reshape(n, c, kh, kw, *out)
    xp = np.zeros(padded, blocks.dtype)
    (sh, sw), (dh, dw) = stride, dilation
    for i in range(kh):
        for j in range(kw):
            # entry (i, j) of window (r, s) was read from padded pixel (r*sh + i*dh, s*sw + j*dw)
            ys = slice(i * dh, i * dh + sh * out[0], sh)
            xs = slice(j * dw, j * dw + sw * out[1], sw)
            xp[:, :, ys, xs] += blocks[:, :, i, j]
    x = _pad(xp, [(-lo, -hi) for lo, hi in pairs])
    return x if was_batched else x[0]


def conv_matrix(kernel, input_size, stride=1, padding=0, dilation=1):
    """The matrix ``M`` of a single-channel 2-D convolution: ``conv2d(x) == M @ x.ravel()``.

    Row ``p`` of ``M`` holds the kernel's entries at the pixels that window ``p`` reads, zeros
    elsewhere (so column ``q`` is the convolution of the ``q``-th one-hot image). Its transpose
    is the transposed convolution: ``(M.T @ y.ravel()).reshape(H, W) == conv_transpose2d(
    y[None, None], kernel[None, None], None, stride, padding, output_padding, 1, dilation)[0, 0]``
    with ``output_padding`` chosen to give back ``(H, W)``. A 3x3 kernel over a 4x4 input is a
    4x16 matrix; ``M.T`` (16x4) maps a 2x2 back to 4x4.

    Parameters
    ----------
    kernel : array ``(kh, kw)``
    input_size : int or tuple of 2 ints, ``(H, W)``
    stride, dilation : int or tuple of 2 ints, >= 1
    padding : int or tuple of 2 ints (zeros on each side), or ``'valid'`` / ``'same'``

    Returns
    -------
    array ``(H_out*W_out, H*W)`` in the kernel's float dtype, where
    ``conv2d(x[None, None], kernel[None, None], None, stride, padding, dilation)[0, 0].ravel()
    == M @ x.ravel()`` for every ``x`` of shape ``(H, W)``.
    """
    fn = "conv_matrix"
    kernel = v.plain(fn, "kernel", kernel, ("kh", "kw"))
    h, w = v.int_tuple(fn, "input_size", input_size, 2, 1)
    stride, dilation, pairs, out = _geometry(fn, (h, w), kernel.shape, stride, padding, dilation)
    windows = out[0] * out[1]
    dtype = v.float_dtype(kernel)
    v.fits(fn, dtype, ("the matrix", (windows, h * w)))
    # number the pixels from 1, so that the zeros of padding mark the reads outside the image
    pixels = _pad(np.arange(1, h * w + 1).reshape(1, 1, h, w), pairs)
    reads = _windows(pixels, kernel.shape, stride, dilation, out).reshape(windows, kernel.size)
    rows, taps = np.nonzero(reads)
    m = np.zeros((windows, h * w), dtype)  # the only large array: written in place
    m[rows, reads[rows, taps] - 1] = kernel.ravel()[taps]
    return m
