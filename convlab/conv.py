"""Convolution and transposed convolution in 1, 2 and 3 dimensions, as in ``torch.nn.functional``.

Every op here is one mechanism (the tinygrad view of convolution):

1. pad the input with zeros (``_pad``),
2. read it through the kernel's taps: tap ``j`` of output ``o`` reads input
   ``o*stride + j*dilation`` (``_windows`` is that read as one strided view, nothing copied),
3. contract the windows with the weight over ``(C_in/groups, *k)`` (``_conv``).

Grouped, depthwise, dilated, 1-D and 3-D convolution are arguments of that mechanism.
Transposed convolution is its adjoint, which is again a convolution: see ``_conv_transpose``.
Layouts follow PyTorch: inputs ``(N, C_in, *spatial)`` or unbatched ``(C_in, *spatial)``, weights
``(C_out, C_in/groups, *k)`` and, for transposed convolution, ``(C_in, C_out/groups, *k)``.
Padding is per side, output sizes are floored, as in PyTorch.

This file is the one to read beside the chapters, with ``convlab.reference`` (the same
convolution as plain loops). Step 3 is one call into ``convlab._fast``, which computes the same
numbers the fastest way plain NumPy allows (threads, cache-sized blocks, Winograd, ...) and
which a learner can skip.
"""

import numpy as np
from numpy.lib.stride_tricks import as_strided

from . import _fast
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


def _pad(x, pairs, copy=np.copyto):
    """Zero-pad the spatial axes of ``x`` (N, C, *S) by ``(lo, hi)`` per axis; negative crops.

    ``copy(destination, source)`` writes ``x`` into the middle of the zeros (``convlab._fast``
    passes one that spreads a large copy over threads).
    """
    x, grow = _crop(x, pairs)
    if not any(lo or hi for lo, hi in grow):
        return x
    # zeros and one copy (fewer calls than zeroing the borders: small inputs pay per call)
    xp = np.zeros(x.shape[:2] + _grown(x.shape[2:], grow), x.dtype)
    inside = tuple(slice(lo, lo + s) for s, (lo, _) in zip(x.shape[2:], grow))
    copy(xp[(slice(None), slice(None)) + inside], x)
    return xp


def _crop(x, pairs):
    """``x`` cropped where ``pairs`` are negative (a view), and the zeros still to add per side."""
    crop = tuple(slice(max(-lo, 0), s - max(-hi, 0)) for (lo, hi), s in zip(pairs, x.shape[2:]))
    return x[(slice(None), slice(None)) + crop], [(max(lo, 0), max(hi, 0)) for lo, hi in pairs]


def _grown(size, grow):
    """The spatial size ``size`` with ``grow`` (``(lo, hi)`` per axis) zeros added."""
    return tuple(s + lo + hi for s, (lo, hi) in zip(size, grow))


def _windows(xp, kernel_size, stride, dilation, out_size):
    """Every window of a padded input as a read-only view ``(N, C, *out, *k)``.

    ``windows[n, c, o..., i...] == xp[n, c, o*stride + i*dilation ...]``.
    """
    nd = len(kernel_size)
    sp = xp.strides[2:]
    # an axis of one output (or one tap) never steps: its stride (or dilation) reads nothing,
    # and may be far larger than the input (its bytes would overflow NumPy's strides)
    strides = (
        xp.strides[:2]
        + tuple(t * s if o > 1 else 0 for t, s, o in zip(sp, stride, out_size))
        + tuple(t * d if k > 1 else 0 for t, d, k in zip(sp, dilation, kernel_size))
    )
    shape = xp.shape[:2] + tuple(out_size) + tuple(kernel_size)
    assert len(shape) == 2 + 2 * nd
    return as_strided(xp, shape, strides, writeable=False)


def _conv(x, pairs, weight, stride, dilation, groups, out_size):
    """Direct convolution of a batched input (trusted arguments): steps 1 to 3.

    x ``(N, C_in, *S)`` zero-padded by ``pairs`` (``(lo, hi)`` per axis, negative crops), weight
    ``(C_out, C_in/groups, *k)`` -> ``(N, C_out, *out_size)``. With ``G = groups``,
    ``M = C_out/G`` filters and ``C = C_in/G`` channels per group, it is the contraction::

        windows = _windows(_pad(x, pairs), k, stride, dilation, out_size)  # (N, C_in, *out, *k)
        y[n, g*M + m, o] = sum_{c, j} weight[g*M + m, c, j] * windows[n, g*C + c, o, j]

    ``convlab._fast.conv`` computes exactly that sum without ever building all the windows
    at once (``convlab.reference.conv2d_loops`` is the same sum as plain loops).
    """
    return _fast.conv(x, pairs, weight, stride, dilation, groups, out_size)


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
    """Transposed convolution of a batched input (trusted arguments).

    x ``(N, C_in, *S)``, weight ``(C_in, C_out/G, *k)``; ``padding`` per axis (symmetric),
    ``output_padding`` adds to the high side. It equals ``_conv`` of ``x`` with ``stride - 1``
    zeros inserted between its elements and ``dilation*(k-1) - padding`` zeros on each side
    (plus ``output_padding`` on the high side), with ``_transpose_weight(weight)``, stride 1:
    input ``i`` adds ``x[i] * weight[j]`` to output ``i*stride + j*dilation - padding``.
    ``convlab._fast.conv_transpose`` computes that sum without a product with an inserted zero.
    """
    size = [(i - 1) * s - 2 * p + d * (kk - 1) + op + 1 for i, kk, s, p, op, d
            in zip(x.shape[2:], weight.shape[2:], stride, padding, output_padding, dilation)]
    return _fast.conv_transpose(x, weight, stride, padding, groups, dilation, size)


def _add_bias(y, bias):
    if bias is not None:
        y += bias.reshape((1, -1) + (1,) * (y.ndim - 2)).astype(y.dtype, copy=False)
    return y


# --- the public ops ----------------------------------------------------------------------------


def _convnd(fn, nd, x, weight, bias, stride, padding, dilation, groups):
    x, was_batched, weight, bias, stride, pairs, dilation, groups, out = v.conv_arguments(
        fn, nd, x, weight, bias, stride, padding, dilation, groups)
    dtype = v.float_dtype(x, weight)
    y = _conv(x.astype(dtype, copy=False), pairs, weight.astype(dtype, copy=False), stride,
              dilation, groups, out)
    y = _add_bias(y, bias)
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
    size = _transpose_sizes(fn, x.shape[2:], k, stride, padding, output_padding, dilation)
    dtype = v.float_dtype(x, weight)
    v.fits(fn, dtype, ("the output", (x.shape[0], c_out) + size))

    y = _conv_transpose(
        x.astype(dtype, copy=False), weight.astype(dtype, copy=False),
        stride, padding, output_padding, groups, dilation,
    )
    y = _add_bias(y, bias)
    return y if was_batched else y[0]


_CONV_DOC = """{nd}-D convolution (a cross-correlation), like ``torch.nn.functional.{fn}``.

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

    Formula, with ``g`` the group of output channel ``o``, ``r`` an output position (per
    spatial axis; ``p`` and ``s`` are kept for padding and stride) and zeros outside the input::

        out[n, o, r] = bias[o] + sum_{{c, j}} weight[o, c, j]
                       * input[n, g*C_in/groups + c, r*stride + j*dilation - padding]
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
