"""Convolution and transposed convolution in 1, 2 and 3 dimensions, as in ``torch.nn.functional``.

Every op here is one mechanism (the tinygrad view of convolution):

1. pad the input with zeros,
2. view it as windows: ``(N, C, *out, *k)``, a strided view, no copy,
3. contract the windows with the weight over ``(C_in/groups, *k)``.

Grouped, depthwise, dilated, 1-D and 3-D convolution are arguments of that mechanism.
Transposed convolution is the same mechanism on an input with zeros inserted between its
elements (stride > 1) and a wider zero border, with the kernel flipped: see
``_conv_transpose``. Its layouts follow PyTorch: inputs ``(N, C_in, *spatial)`` or unbatched
``(C_in, *spatial)``, weights ``(C_out, C_in/groups, *k)`` and, for transposed convolution,
``(C_in, C_out/groups, *k)``. Padding is per side, output sizes are floored, as in PyTorch.
"""

import numpy as np
from numpy.lib.stride_tricks import as_strided

from . import _validate as v
from .arithmetic import _transpose_sizes

__all__ = [
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
]


# --- the mechanism -----------------------------------------------------------------------------


def _pad(x, pairs):
    """Zero-pad the spatial axes of ``x`` (N, C, *S) by ``(lo, hi)`` per axis; negative crops."""
    crop = tuple(slice(max(-lo, 0), s - max(-hi, 0)) for (lo, hi), s in zip(pairs, x.shape[2:]))
    x = x[(slice(None), slice(None)) + crop]
    grow = [(0, 0), (0, 0)] + [(max(lo, 0), max(hi, 0)) for lo, hi in pairs]
    return np.pad(x, grow) if any(lo or hi for lo, hi in grow) else x


def _windows(xp, kernel_size, stride, dilation, out_size):
    """Every window of a padded input as a read-only view ``(N, C, *out, *k)``.

    ``windows[n, c, o..., i...] == xp[n, c, o*stride + i*dilation ...]``.
    """
    nd = len(kernel_size)
    sp = xp.strides[2:]
    strides = (
        xp.strides[:2]
        + tuple(t * s for t, s in zip(sp, stride))
        + tuple(t * d for t, d in zip(sp, dilation))
    )
    shape = xp.shape[:2] + tuple(out_size) + tuple(kernel_size)
    assert len(shape) == 2 + 2 * nd
    return as_strided(xp, shape, strides, writeable=False)


def _cols(xp, kernel_size, stride, dilation, out_size, groups):
    """im2col per group: ``(G, N*prod(out), C_in/G * prod(k))``, a copy of the windows."""
    n, c = xp.shape[:2]
    nd = len(kernel_size)
    win = _windows(xp, kernel_size, stride, dilation, out_size)
    win = win.reshape((n, groups, c // groups) + win.shape[2:])
    # (N, G, Cg, *O, *k) -> (G, N, *O, Cg, *k): one row per output position
    order = (1, 0) + tuple(range(3, 3 + nd)) + (2,) + tuple(range(3 + nd, 3 + 2 * nd))
    rows = n * int(np.prod(out_size))
    return win.transpose(order).reshape(groups, rows, -1)


def _conv(xp, weight, stride, dilation, groups, out_size):
    """Direct convolution of a padded, batched input: the one contraction of this module.

    xp ``(N, C_in, *S)``, weight ``(C_out, C_in/groups, *k)`` -> ``(N, C_out, *out_size)``.
    """
    n = xp.shape[0]
    c_out, nd = weight.shape[0], weight.ndim - 2
    cols = _cols(xp, weight.shape[2:], stride, dilation, out_size, groups)
    w = weight.reshape(groups, c_out // groups, -1).transpose(0, 2, 1)  # (G, Cg*K, C_out/G)
    y = np.matmul(cols, w)  # (G, N*O, C_out/G)
    y = y.reshape((groups, n) + tuple(out_size) + (c_out // groups,))
    # (G, N, *O, Co/G) -> (N, G, Co/G, *O)
    order = (1, 0, 2 + nd) + tuple(range(2, 2 + nd))
    return np.ascontiguousarray(y.transpose(order)).reshape((n, c_out) + tuple(out_size))


def _zero_insert(x, stride):
    """Put ``stride - 1`` zeros between neighbouring elements along each spatial axis."""
    if all(s == 1 for s in stride):
        return x
    shape = x.shape[:2] + tuple((i - 1) * s + 1 for i, s in zip(x.shape[2:], stride))
    z = np.zeros(shape, dtype=x.dtype)
    z[(slice(None), slice(None)) + tuple(slice(None, None, s) for s in stride)] = x
    return z


def _transpose_weight(weight, groups):
    """The direct-convolution kernel of a transposed convolution.

    ``(C_in, C_out/G, *k)`` -> ``(C_out, C_in/G, *k)``, channels swapped within each group and
    every spatial axis flipped: the adjoint of a correlation is a correlation with the flipped
    kernel.
    """
    c_in, cog = weight.shape[:2]
    k = weight.shape[2:]
    w = weight.reshape((groups, c_in // groups, cog) + k).swapaxes(1, 2)
    w = w.reshape((groups * cog, c_in // groups) + k)
    return np.flip(w, axis=tuple(range(2, 2 + len(k))))


def _conv_transpose(x, weight, stride, padding, output_padding, groups, dilation):
    """Transposed convolution as a direct one (batched, trusted arguments).

    x ``(N, C_in, *S)``, weight ``(C_in, C_out/G, *k)``; ``padding`` per axis (symmetric).
    Equal to: insert ``s-1`` zeros between inputs, pad each side with ``d*(k-1) - p`` zeros
    (plus ``output_padding`` on the high side), then convolve with stride 1 and the flipped kernel.
    """
    k = weight.shape[2:]
    border = [d * (kk - 1) - p for kk, d, p in zip(k, dilation, padding)]
    pairs = [(b, b + op) for b, op in zip(border, output_padding)]
    xp = _pad(_zero_insert(x, stride), pairs)
    out = tuple(i - d * (kk - 1) for i, kk, d in zip(xp.shape[2:], k, dilation))
    return _conv(xp, _transpose_weight(weight, groups), (1,) * len(k), dilation, groups, out)


def _add_bias(y, bias):
    if bias is not None:
        y += bias.reshape((1, -1) + (1,) * (y.ndim - 2)).astype(y.dtype, copy=False)
    return y


# --- the public ops ----------------------------------------------------------------------------


def _convnd(fn, nd, x, weight, bias, stride, padding, dilation, groups):
    x = v.array(fn, "input", x)
    weight = v.array(fn, "weight", weight)
    x, was_batched = v.batched(fn, "input", x, nd)
    v.weight_rank(fn, weight, nd, transposed=False)
    groups = v.int_value(fn, "groups", groups, 1)
    c_in, c_out = x.shape[1], weight.shape[0]
    v.groups_divide(fn, groups, C_in=c_in, C_out=c_out)
    if c_in != weight.shape[1] * groups:
        raise ValueError(
            f"{fn}: input has {c_in} channels but weight expects {weight.shape[1] * groups} "
            f"(weight.shape[1] * groups = {weight.shape[1]} * {groups})"
        )
    bias = v.bias_vector(fn, bias, c_out)
    k = weight.shape[2:]
    stride = v.int_tuple(fn, "stride", stride, nd, 1)
    dilation = v.int_tuple(fn, "dilation", dilation, nd, 1)
    pairs = v.padding_pairs(fn, padding, k, stride, dilation)
    padded = [s + lo + hi for s, (lo, hi) in zip(x.shape[2:], pairs)]
    out = v.output_sizes(fn, padded, k, stride, dilation)

    dtype = v.float_dtype(x, weight)
    xp = _pad(x.astype(dtype, copy=False), pairs)
    y = _add_bias(_conv(xp, weight.astype(dtype, copy=False), stride, dilation, groups, out), bias)
    return y if was_batched else y[0]


def _conv_transposend(fn, nd, x, weight, bias, stride, padding, output_padding, groups, dilation):
    x = v.array(fn, "input", x)
    weight = v.array(fn, "weight", weight)
    x, was_batched = v.batched(fn, "input", x, nd)
    v.weight_rank(fn, weight, nd, transposed=True)
    groups = v.int_value(fn, "groups", groups, 1)
    c_in = x.shape[1]
    if c_in != weight.shape[0]:
        raise ValueError(
            f"{fn}: input has {c_in} channels but weight expects {weight.shape[0]} "
            f"(weight.shape[0]; a transposed convolution's weight is (C_in, C_out/groups, *k))"
        )
    v.groups_divide(fn, groups, C_in=c_in)
    c_out = weight.shape[1] * groups
    bias = v.bias_vector(fn, bias, c_out)
    k = weight.shape[2:]
    stride = v.int_tuple(fn, "stride", stride, nd, 1)
    dilation = v.int_tuple(fn, "dilation", dilation, nd, 1)
    if isinstance(padding, str):
        raise ValueError(f"{fn}: padding must be an int or a tuple of ints, got {padding!r}")
    padding = v.int_tuple(fn, "padding", padding, nd, 0)
    output_padding = v.int_tuple(fn, "output_padding", output_padding, nd, 0)
    _transpose_sizes(fn, x.shape[2:], k, stride, padding, output_padding, dilation)

    dtype = v.float_dtype(x, weight)
    y = _conv_transpose(
        x.astype(dtype, copy=False), weight.astype(dtype, copy=False),
        stride, padding, output_padding, groups, dilation,
    )
    y = _add_bias(y, bias)
    return y if was_batched else y[0]


_CONV_DOC = """{nd}-D convolution (a cross-correlation, as in deep learning), like ``torch.nn.functional.{fn}``.

    Parameters
    ----------
    input : array ``(N, C_in, {sp})`` or unbatched ``(C_in, {sp})``
    weight : array ``(C_out, C_in/groups, {kk})``
    bias : array ``(C_out,)`` or None
    stride, dilation : int or tuple of {nd} ints, >= 1
    padding : int or tuple of {nd} ints (zeros on *each* side), or ``'valid'`` / ``'same'``
    groups : int dividing C_in and C_out; input channels are split into ``groups`` blocks,
        each convolved with its own ``C_out/groups`` filters (``groups = C_in``: depthwise)

    Returns
    -------
    array ``(N, C_out, {so})`` (unbatched: ``(C_out, {so})``), the input's float dtype, where
    each output size is ``o = floor((i + 2*padding - dilation*(k - 1) - 1) / stride) + 1``.

    Formula: ``out[n, o, p] = bias[o] + sum_{{c, j}} input[n, g*C_in/groups + c, p*stride + j*dilation - padding] * weight[o, c, j]``
    with ``g`` the group of output channel ``o`` and zeros outside the input.
    """

_CONV_T_DOC = """{nd}-D transposed convolution, like ``torch.nn.functional.{fn}``.

    The adjoint of ``conv{nd}d`` with the same weight: it maps an output-sized array back to an
    input-sized one (up-sampling for stride > 1). Computed as a direct convolution: ``stride - 1``
    zeros inserted between inputs, ``dilation*(k-1) - padding`` zeros on each side (plus
    ``output_padding`` on the high side), kernel flipped, stride 1.

    Parameters
    ----------
    input : array ``(N, C_in, {sp})`` or unbatched ``(C_in, {sp})``
    weight : array ``(C_in, C_out/groups, {kk})``
    bias : array ``(C_out,)`` or None
    stride, dilation : int or tuple of {nd} ints, >= 1
    padding : int or tuple of {nd} ints: removes that much from each side of the output
    output_padding : int or tuple of {nd} ints, smaller than stride or dilation: adds to
        one side of the output, to pick among the input sizes a strided conv maps to one size
    groups : int dividing C_in

    Returns
    -------
    array ``(N, C_out, {so})`` (unbatched: ``(C_out, {so})``) with each output size
    ``o = (i - 1)*stride - 2*padding + dilation*(k - 1) + output_padding + 1``.
    """


def _doc(template, fn, nd):
    names = v.spatial_names(nd)
    return template.format(
        nd=nd, fn=fn, sp=", ".join(n + "_in" for n in names),
        kk=", ".join("k" + n for n in names), so=", ".join(n + "_out" for n in names),
    )


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return _convnd("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return _convnd("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return _convnd("conv3d", 3, input, weight, bias, stride, padding, dilation, groups)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    return _conv_transposend("conv_transpose1d", 1, input, weight, bias, stride, padding,
                             output_padding, groups, dilation)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    return _conv_transposend("conv_transpose2d", 2, input, weight, bias, stride, padding,
                             output_padding, groups, dilation)


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    return _conv_transposend("conv_transpose3d", 3, input, weight, bias, stride, padding,
                             output_padding, groups, dilation)


for _f, _nd in ((conv1d, 1), (conv2d, 2), (conv3d, 3)):
    _f.__doc__ = _doc(_CONV_DOC, _f.__name__, _nd)
for _f, _nd in ((conv_transpose1d, 1), (conv_transpose2d, 2), (conv_transpose3d, 3)):
    _f.__doc__ = _doc(_CONV_T_DOC, _f.__name__, _nd)
del _f, _nd
