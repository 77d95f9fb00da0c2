"""Show your work: the arithmetic of one output element, as a learner writes it by hand."""

import numpy as np

from .. import _validate as v
from .grids import _geometry, _position
from .style import factor, fmt

__all__ = ["Work", "show_work"]


class Work:
    """The arithmetic of one output element of a convolution.

    Attributes
    ----------
    value : float, the sum of the products plus the bias
    terms : tuple with one entry per input channel, each a tuple of ``(input, weight)`` pairs
        in the window's row-major order
    bias : float or None
    index : ``(out_channel, row, col)`` of the output element
    window : list of ``(row, col)`` of the window's cells in the *padded* input, the cells
        ``draw_conv2d`` highlights for the same position
    text, latex : the sum written out, e.g. ``"1·0 + 2·0 + 0·1 + ... + 1 = 2"``
    """

    def __init__(self, terms, bias, index, window):
        self.terms = terms
        self.bias = bias
        self.index = index
        self.window = window
        self.value = float(sum(a * b for channel in terms for a, b in channel)
                           + (0.0 if bias is None else bias))

    def _parts(self, times, paren):
        sums = [" + ".join(f"{factor(a)}{times}{factor(b)}" for a, b in channel)
                for channel in self.terms]
        if len(sums) > 1:
            sums = [paren(s, c) for c, s in enumerate(sums)]
        return sums

    @property
    def text(self):
        parts = self._parts("·", lambda s, c: f"({s})")
        if self.bias is not None:
            parts.append(factor(self.bias))
        return " + ".join(parts) + f" = {fmt(self.value)}"

    @property
    def latex(self):
        """The sum in LaTeX, one line per channel (and per 9 products), so that it fits the
        width of a notebook: an ``aligned`` block when it needs more than one line."""
        lines = []
        for c, channel in enumerate(self.terms):
            products = [f"{factor(a)} \\cdot {factor(b)}" for a, b in channel]
            chunks = [" + ".join(products[n:n + 9]) for n in range(0, len(products), 9)]
            label = "kernel" if len(self.terms) == 1 else f"channel {c}"
            if len(chunks) == 1:
                lines.append(r"\underbrace{(" + chunks[0] + r")}_{\text{" + label + "}}")
            else:
                lines += ["(" + chunks[0]] + chunks[1:-1] + [chunks[-1] + ")"]
        if self.bias is not None:
            lines.append(r"\underbrace{" + factor(self.bias) + r"}_{\text{bias}}")
        total = f" = {fmt(self.value)}"
        if len(lines) == 1:
            return lines[0] + total
        return (r"\begin{aligned} &" + r" \\ + &".join(lines) + total + r"\end{aligned}")

    def _name(self):
        return "output[{}, {}, {}]".format(*self.index)

    def __str__(self):
        return self.text

    def __repr__(self):
        return f"Work({self._name()}: {self.text})"

    def _repr_markdown_(self):
        return f"`{self._name()}`\n\n$$ {self.latex} $$"

    def _repr_latex_(self):
        return f"$$ {self.latex} $$"


def show_work(x, weight, bias=None, position=(0, 0), stride=1, padding=0, dilation=1,
              out_channel=0):
    """The arithmetic of one output element of ``conv2d``: every product, the bias, the sum.

    Parameters
    ----------
    x : array ``(H, W)`` or ``(C, H, W)``
    weight : array ``(kh, kw)``, ``(C, kh, kw)`` (one filter) or ``(C_out, C, kh, kw)``
    bias : float, array ``(C_out,)`` or None
    position : ``(row, col)`` of the output element
    stride, padding, dilation : as ``conv2d`` (padding per side, ``'valid'`` or ``'same'``)
    out_channel : which filter of a 4-D ``weight``

    Returns
    -------
    Work: ``.value`` equals ``conv2d(x, weight, bias, ...)[out_channel, row, col]``, ``.text``
    and ``.latex`` write out ``sum_c sum_{i,j} x[c, r*s + i*d, q*s + j*d] * w[c, i, j] + b``,
    one parenthesised sum per channel when there are several.

    >>> x = [[3, 3, 2, 1, 0], [0, 0, 1, 3, 1], [3, 1, 2, 2, 3], [2, 0, 0, 2, 2], [2, 0, 0, 0, 1]]
    >>> show_work(x, [[0, 1, 2], [2, 2, 0], [0, 1, 2]]).text
    '3·0 + 3·1 + 2·2 + 0·2 + 0·2 + 1·0 + 3·0 + 1·1 + 2·2 = 12'
    """
    work = _work(x, weight, bias, position, stride, padding, dilation, out_channel)
    from ..checks import _is_by_hand  # the exercises' by-hand tasks (checks.exercise notes them)

    if _is_by_hand(work.terms):
        raise ValueError("show_work: this is the by-hand task of your exercises: work it out "
                         "yourself (show_work explains any other position or input)")
    return work


def _work(x, weight, bias=None, position=(0, 0), stride=1, padding=0, dilation=1,
          out_channel=0):
    """``show_work`` without the guard of the exercises' by-hand task (the checks use it)."""
    fn = "show_work"
    x = v.array(fn, "x", x)
    weight = v.array(fn, "weight", weight)
    if x.ndim not in (2, 3):
        raise ValueError(f"{fn}: x must be (H, W) or (C, H, W), got shape {x.shape}")
    if weight.ndim not in (2, 3, 4):
        raise ValueError(f"{fn}: weight must be (kh, kw), (C, kh, kw) or (C_out, C, kh, kw), "
                         f"got shape {weight.shape}")
    x = x if x.ndim == 3 else x[None]
    while weight.ndim < 4:  # (kh, kw) and (C, kh, kw) are a single filter
        weight = weight[None]
    if weight.shape[1] != x.shape[0]:
        raise ValueError(f"{fn}: x has {x.shape[0]} channels but each filter has "
                         f"{weight.shape[1]} kernels (weight shape {weight.shape}): a filter's "
                         f"depth must equal the input's channels")
    c_out = weight.shape[0]
    o = v.int_value(fn, "out_channel", out_channel, 0)
    if o >= c_out:
        raise ValueError(f"{fn}: out_channel {o} does not exist, the weight has {c_out} filters")
    if bias is not None:
        bias = np.atleast_1d(v.array(fn, "bias", bias)).ravel()
        bias = float(v.bias_vector(fn, bias, c_out)[o])
    _, k, s, d, pairs, out = _geometry(fn, x.shape[1:], weight.shape[2:], stride, padding,
                                       dilation)
    r, q = _position(fn, position, out)
    xp = np.pad(x, [(0, 0), *pairs])
    window = [(r * s[0] + i * d[0], q * s[1] + j * d[1]) for i in range(k[0]) for j in range(k[1])]
    terms = tuple(tuple((float(xp[c][cell]), float(weight[o, c][i, j]))
                        for cell, (i, j) in zip(window, np.ndindex(*k)))
                  for c in range(x.shape[0]))
    return Work(terms, bias, (o, r, q), window)
