"""The reference path: convolution as plain Python loops, to read beside chapter 02.

``conv2d_loops`` computes exactly what ``convlab.conv2d`` computes, one multiplication at a
time, with the same arguments, checks and error messages. It is slow on purpose (seven nested
loops); the tests hold the fast path to it, and the benchmarks time against it when PyTorch is
not installed.
"""

import numpy as np

from . import _validate as v

__all__ = ["conv2d_loops"]


def conv2d_loops(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution (cross-correlation) by plain loops: ``convlab.conv2d``, step by step.

    Parameters
    ----------
    input : array ``(N, C_in, H_in, W_in)`` or unbatched ``(C_in, H_in, W_in)``
    weight : array ``(C_out, C_in/groups, kH, kW)``
    bias : array ``(C_out,)`` or None
    stride, dilation : int or tuple of 2 ints, >= 1
    padding : int or tuple of 2 ints (zeros on each side), or ``'valid'`` / ``'same'``
    groups : int dividing C_in and C_out

    Returns
    -------
    array ``(N, C_out, H_out, W_out)`` (unbatched: ``(C_out, H_out, W_out)``), the input's
    float dtype, ``H_out = floor((H_in + 2*padding - dilation*(kH - 1) - 1) / stride) + 1``
    (the same for ``W_out``) and::

        out[n, o, r, q] = bias[o] + sum over c, i, j of
            x_padded[n, g*C_in/groups + c, r*stride + i*dilation, q*stride + j*dilation]
            * weight[o, c, i, j]

    with ``g`` the group of output channel ``o`` and ``(r, q)`` the output's row and column
    (``p`` and ``s`` are kept for padding and stride, as everywhere in the course).

    >>> x = [[[3, 3, 2, 1, 0], [0, 0, 1, 3, 1], [3, 1, 2, 2, 3], [2, 0, 0, 2, 2], [2, 0, 0, 0, 1]]]
    >>> conv2d_loops(x, [[[[0, 1, 2], [2, 2, 0], [0, 1, 2]]]])
    array([[[12., 12., 17.],
            [10., 17., 19.],
            [ 9.,  6., 14.]]])
    """
    fn = "conv2d_loops"
    x, was_batched, weight, bias, stride, pairs, dilation, groups, (h_out, w_out) = \
        v.conv_arguments(fn, 2, input, weight, bias, stride, padding, dilation, groups)
    batch = x.shape[0]
    c_out, c_group, kh, kw = weight.shape
    (top, bottom), (left, right) = pairs
    x_padded = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)))
    out = np.zeros((batch, c_out, h_out, w_out), dtype=v.float_dtype(x, weight))
    outputs_per_group = c_out // groups

    for n in range(batch):
        for o in range(c_out):
            g = o // outputs_per_group  # this filter's group sees input channels g*c_group...
            for r in range(h_out):
                for q in range(w_out):
                    total = 0.0
                    for c in range(c_group):
                        for i in range(kh):
                            for j in range(kw):
                                row = r * stride[0] + i * dilation[0]
                                col = q * stride[1] + j * dilation[1]
                                total += x_padded[n, g * c_group + c, row, col] * weight[o, c, i, j]
                    if bias is not None:
                        total += bias[o]
                    out[n, o, r, q] = total
    return out if was_batched else out[0]
