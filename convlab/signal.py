"""Convolution and cross-correlation of single 1-D and 2-D arrays, as in signal processing.

Like ``numpy.correlate`` / ``numpy.convolve`` (1-D) and ``scipy.signal.correlate2d`` /
``convolve2d`` (2-D, ``boundary='fill'``, ``fillvalue=0``), built on the one mechanism of
``convlab.conv``. The one-line difference between the two families:

    convolution flips the kernel, deep learning's "convolution" (``conv2d``) does not: it is
    the cross-correlation.

So ``convolve2d(a, k) == correlate2d(a, k[::-1, ::-1])``.

Modes (SciPy's), with ``a`` of size ``n`` and the kernel ``k`` of size ``m`` along an axis:

``'full'``
    every position where the kernel overlaps ``a`` at all: ``n + m - 1`` outputs (``a`` padded
    with ``m - 1`` zeros on each side).
``'valid'``
    only the positions where the kernel lies inside ``a``: ``n - m + 1`` outputs, so the
    kernel must not be larger than ``a``.
``'same'``
    the centre of ``'full'``, as many outputs as ``a`` has (``m - 1`` zeros of padding in all).
    For an even ``m`` the centre is ambiguous by one sample and the references disagree:
    ``correlate2d`` puts the odd zero on the high side (like ``scipy.signal.correlate2d`` and
    PyTorch's ``padding='same'``), ``convolve2d``, ``correlate1d`` and ``convolve1d`` put it on
    the low side (like ``scipy.signal.convolve2d``, ``numpy.correlate`` and ``numpy.convolve``).
    Unlike NumPy, which returns ``max(n, m)`` values in 1-D, ``'same'`` always returns ``n``.

Float inputs keep their dtype (float32 stays float32); integers give float64.
"""

import numpy as np

from . import _validate as v
from .conv import _conv

__all__ = ["convolve1d", "convolve2d", "correlate1d", "correlate2d"]

_MODES = ("full", "valid", "same")


def _filter(fn, nd, a, k, mode, flip, odd_zero_high):
    """Correlate (or, with ``flip``, convolve) an ``nd``-D array with an ``nd``-D kernel.

    ``odd_zero_high``: in ``'same'`` mode with an even kernel, put the odd zero of padding on
    the high side of each axis (else on the low side).
    """
    names = v.spatial_names(nd)
    a = v.plain(fn, "a", a, names)
    k = v.plain(fn, "k", k, tuple("k" + n for n in names))
    if mode not in _MODES:
        raise ValueError(f"{fn}: mode must be 'full', 'valid' or 'same', got {mode!r}")
    if mode == "valid" and any(m > n for m, n in zip(k.shape, a.shape)):
        raise ValueError(
            f"{fn}: mode='valid' needs the kernel to fit inside a, but k has shape {k.shape} "
            f"and a has shape {a.shape}: use mode='same' or 'full'"
        )
    if mode == "full":
        pairs = [(m - 1, m - 1) for m in k.shape]
    elif mode == "valid":
        pairs = [(0, 0)] * nd
    else:
        low = [(m - 1) // 2 if odd_zero_high else m // 2 for m in k.shape]
        pairs = [(lo, m - 1 - lo) for lo, m in zip(low, k.shape)]

    dtype = v.float_dtype(a, k)
    kernel = np.flip(k) if flip else k
    out = tuple(n + lo + hi - m + 1 for n, (lo, hi), m in zip(a.shape, pairs, k.shape))
    v.fits(fn, dtype, ("the output", out), *v.padded_input(a.shape, pairs))
    ones = (1,) * nd
    x = a.astype(dtype, copy=False)[None, None]
    return _conv(x, pairs, kernel.astype(dtype, copy=False)[None, None], ones, ones, 1, out)[0, 0]


def correlate1d(a, k, mode="valid"):
    """Cross-correlation of two 1-D arrays, like ``numpy.correlate``.

    ``out[i] = sum_j a[i + j - lo] * k[j]`` with zeros outside ``a`` and ``lo`` the low-side
    padding of ``mode`` (see the module docstring for the modes).

    Parameters
    ----------
    a : array ``(L,)``
    k : array ``(kL,)``
    mode : ``'full'``, ``'valid'`` or ``'same'``

    Returns
    -------
    array ``(L + kL - 1,)``, ``(L - kL + 1,)`` or ``(L,)`` for ``'full'``, ``'valid'``, ``'same'``

    >>> correlate1d([1, 2, 3], [0, 1, 0.5], mode="full")
    array([0.5, 2. , 3.5, 3. , 0. ])
    """
    return _filter("correlate1d", 1, a, k, mode, flip=False, odd_zero_high=False)


def convolve1d(a, k, mode="valid"):
    """Convolution of two 1-D arrays, like ``numpy.convolve``: the kernel is flipped.

    ``out[i] = sum_j a[i - j + lo] * k[j]`` with zeros outside ``a`` and ``lo`` the low-side
    padding of ``mode``; ``convolve1d(a, k) == correlate1d(a, k[::-1])``.

    Parameters
    ----------
    a : array ``(L,)``
    k : array ``(kL,)``
    mode : ``'full'``, ``'valid'`` or ``'same'``

    Returns
    -------
    array ``(L + kL - 1,)``, ``(L - kL + 1,)`` or ``(L,)`` for ``'full'``, ``'valid'``, ``'same'``

    >>> convolve1d([1, 2, 3], [0, 1, 0.5], mode="full")
    array([0. , 1. , 2.5, 4. , 1.5])
    """
    return _filter("convolve1d", 1, a, k, mode, flip=True, odd_zero_high=False)


def correlate2d(a, k, mode="valid"):
    """Cross-correlation of two 2-D arrays, like ``scipy.signal.correlate2d``.

    This is what deep learning calls convolution: ``correlate2d(a, k, 'valid')`` equals
    ``conv2d(a[None, None], k[None, None])[0, 0]``.
    ``out[i, j] = sum_{p, q} a[i + p - lo_H, j + q - lo_W] * k[p, q]`` with zeros outside ``a``.

    Parameters
    ----------
    a : array ``(H, W)``
    k : array ``(kH, kW)``
    mode : ``'full'``, ``'valid'`` or ``'same'`` (see the module docstring)

    Returns
    -------
    array ``(H + kH - 1, W + kW - 1)``, ``(H - kH + 1, W - kW + 1)`` or ``(H, W)``

    >>> a = [[3, 3, 2, 1, 0], [0, 0, 1, 3, 1], [3, 1, 2, 2, 3], [2, 0, 0, 2, 2], [2, 0, 0, 0, 1]]
    >>> correlate2d(a, [[0, 1, 2], [2, 2, 0], [0, 1, 2]])
    array([[12., 12., 17.],
           [10., 17., 19.],
           [ 9.,  6., 14.]])
    """
    return _filter("correlate2d", 2, a, k, mode, flip=False, odd_zero_high=True)


def convolve2d(a, k, mode="valid"):
    """Convolution of two 2-D arrays, like ``scipy.signal.convolve2d``: the kernel is flipped.

    ``convolve2d(a, k) == correlate2d(a, k[::-1, ::-1])`` (in ``'full'`` and ``'valid'``;
    ``'same'`` centres even kernels differently, see the module docstring).
    ``out[i, j] = sum_{p, q} a[i - p + lo_H, j - q + lo_W] * k[p, q]`` with zeros outside ``a``.

    Parameters
    ----------
    a : array ``(H, W)``
    k : array ``(kH, kW)``
    mode : ``'full'``, ``'valid'`` or ``'same'``

    Returns
    -------
    array ``(H + kH - 1, W + kW - 1)``, ``(H - kH + 1, W - kW + 1)`` or ``(H, W)``
    """
    return _filter("convolve2d", 2, a, k, mode, flip=True, odd_zero_high=False)
