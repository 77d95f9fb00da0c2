"""Grid diagrams of convolution: the input, the kernel's window on it, and the output it makes.

Every number in a cell comes from convlab's ops (``conv2d``, ``conv_transpose2d``, ``conv1d``);
every size in a label or title comes from the same values the drawing used.
"""

import numpy as np
from matplotlib.patches import Rectangle

from .. import _validate as v
from ..arithmetic import conv_transpose_output_size
from ..conv import _pad, conv2d, conv_transpose2d
from ..signal import convolve1d, correlate1d
from ..unfold import conv_matrix
from .style import COLORS, FONT, canvas, draw_grid, draw_window, factor, fmt

__all__ = ["draw_conv1d", "draw_conv2d", "draw_conv_matrix", "draw_conv_transpose2d"]

_GAP = 1.6  # cells between grids, room for the operator sign
_LABEL = 1.0  # cells above the grids for their labels

# Deep learning's convolution (cross-correlation) is written ⋆ in the whole course; mathtext's
# star is a small binary operator, so it is drawn larger than the "=" beside it.
STAR = r"$\star$"
_SIGN_SIZE = {STAR: FONT["title"] + 14, "=": FONT["title"] + 4}


def _size(shape):
    return "×".join(str(n) for n in shape)


def _describe_padding(padding, pairs):
    """``'padding 1'``, ``'padding (1, 2)'`` or ``"padding 'same' (1 before, 2 after)"``."""
    if all(lo == hi for lo, hi in pairs):
        text = _square(tuple(lo for lo, _ in pairs))
    elif len(set(pairs)) == 1:
        text = f"{pairs[0][0]} before, {pairs[0][1]} after"
    else:
        text = ", ".join(f"{a}: {lo} before, {hi} after" for a, (lo, hi) in zip("HW", pairs))
    if isinstance(padding, str):
        return f"padding '{padding}' ({text})"
    return f"padding {text}"


def _square(values):
    """``'3'`` for ``(3, 3)``, ``'(1, 2)'`` otherwise: parameters as a learner passes them."""
    return str(values[0]) if len(set(values)) == 1 else str(tuple(values))


def _position(fn, position, out):
    pos = v.int_tuple(fn, "position", position, len(out), 0)
    if any(p >= o for p, o in zip(pos, out)):
        raise ValueError(f"{fn}: position {pos} is outside the {_size(out)} output "
                         f"(indices start at 0)")
    return pos


def _image(fn, name, value, nd=2):
    """``None`` or a ``nd``-D array of numbers."""
    if value is None:
        return None
    arr = v.array(fn, name, value)
    if arr.ndim != nd:
        raise ValueError(f"{fn}: {name} must be {nd}-D, got shape {arr.shape}")
    return arr


def _geometry(fn, input_size, kernel_size, stride, padding, dilation):
    """Validated ``(i, k, stride, dilation, pairs, out)`` of a 2-D convolution, as tuples."""
    i = v.int_tuple(fn, "input_size", input_size, 2, 1)
    k = v.int_tuple(fn, "kernel_size", kernel_size, 2, 1)
    s = v.int_tuple(fn, "stride", stride, 2, 1)
    d = v.int_tuple(fn, "dilation", dilation, 2, 1)
    pairs = v.padding_pairs(fn, padding, k, s, d)
    out = v.output_sizes(fn, [a + lo + hi for a, (lo, hi) in zip(i, pairs)], k, s, d)
    return i, k, s, d, pairs, out


def _layout(a, pairs, stride=(1, 1)):
    """A 2-D array as a diagram shows it: ``stride - 1`` zeros between its elements, then
    ``(before, after)`` zeros on each side per axis (a negative count crops instead).

    The picture's layout only: every number the diagrams print comes from convlab's ops.
    """
    a = np.asarray(a)
    spread = np.zeros(tuple((n - 1) * s + 1 for n, s in zip(a.shape, stride)), dtype=a.dtype)
    spread[::stride[0], ::stride[1]] = a
    return _pad(spread[None, None], pairs)[0, 0]


def _kinds(shape, kind):
    return np.full(shape, kind, dtype=object)


def _letters(shape, upper=False):
    """Names for cells without values: a, b, c, ... (A, B, ... with ``upper``).

    More than 26 cells: ``w0, w1, ...`` (``None`` with ``upper``: inputs that big stay blank).
    """
    n = int(np.prod(shape))
    if n > 26:
        return None if upper else np.array([f"w{j}" for j in range(n)], dtype=object).reshape(shape)
    first = ord("A" if upper else "a")
    return np.array([chr(first + j) for j in range(n)], dtype=object).reshape(shape)


def draw_conv2d(input_size=5, kernel_size=3, stride=1, padding=0, dilation=1, position=(0, 0),
                x=None, weight=None, bias=None, fig=None):
    """Input (with its padding), kernel and output of a 2-D convolution, one window highlighted.

    Parameters
    ----------
    input_size, kernel_size, stride, dilation : int or tuple of 2 ints (taken from ``x`` and
        ``weight`` when those are given)
    padding : int, tuple of 2 ints (per side), ``'valid'`` or ``'same'``
    position : ``(row, col)`` of the output element whose window is highlighted
    x : array ``(H, W)`` or None: numbers written in the input cells
    weight : array ``(kh, kw)`` or None: numbers written in the kernel cells
    bias : float or None, added to every output (needs ``x`` and ``weight``)
    fig : Figure or None: draw into this figure (cleared) instead of a new one

    Returns
    -------
    matplotlib Figure: the padded input (padding hatched) with the window of output
    ``position`` shaded (holes for dilation), the kernel, and the output grid of size
    ``conv_output_size(i, k, stride, padding, dilation)`` with that cell highlighted; with ``x``
    and ``weight``, the output numbers are ``convlab.conv2d(x, weight, bias, ...)``.
    """
    fn = "draw_conv2d"
    x = _image(fn, "x", x)
    weight = _image(fn, "weight", weight)
    input_size = input_size if x is None else x.shape
    kernel_size = kernel_size if weight is None else weight.shape
    i, k, s, d, pairs, out = _geometry(fn, input_size, kernel_size, stride, padding, dilation)
    pos = _position(fn, position, out)

    y = None
    if x is not None and weight is not None:
        b = None if bias is None else np.atleast_1d(v.array(fn, "bias", bias)).ravel()
        y = conv2d(x[None], weight[None, None], b, s, padding, d)[0]
    padded = tuple(a + lo + hi for a, (lo, hi) in zip(i, pairs))
    inside = _layout(np.ones(i), pairs) > 0
    kinds = np.where(inside, "input", "padding").astype(object)
    xp = None if x is None else _layout(x, pairs)

    height = _LABEL + max(padded[0], k[0], out[0])
    gap = max(_GAP, 0.06 * (padded[1] + k[1] + out[1]))  # room for ⋆ and = when cells are small
    width = padded[1] + gap + k[1] + gap + out[1]
    title = (f"conv2d · input {_size(i)} · kernel {_size(k)} · stride {_square(s)} · "
             f"{_describe_padding(padding, pairs)} · dilation {_square(d)}\n"
             f"→ output {_size(out)} · window of output[{pos[0]}, {pos[1]}]"
             + ("" if y is None else f" = {fmt(y[pos])}")
             + ("" if y is None or bias is None else f" (window sum + bias {fmt(b[0])})"))
    fig, ax = canvas(width, height, title, fig=fig)

    def top(rows):
        return _LABEL + (height - _LABEL - rows) / 2

    origin_in = (0, top(padded[0]))
    pad_note = "" if all(lo == hi == 0 for lo, hi in pairs) else " + padding (hatched)"
    draw_grid(ax, "input", origin_in, kinds, xp, label=f"input {_size(i)}{pad_note}")
    window = [(pos[0] * s[0] + a * d[0], pos[1] * s[1] + b * d[1])
              for a in range(k[0]) for b in range(k[1])]
    draw_window(ax, "input", origin_in, window)

    origin_k = (padded[1] + gap, top(k[0]))
    span = tuple(dd * (kk - 1) + 1 for kk, dd in zip(k, d))
    k_note = "" if span == k else f" (dilation {_square(d)}: spans {_size(span)})"
    draw_grid(ax, "kernel", origin_k, _kinds(k, "kernel"), weight,
              label=f"kernel {_size(k)}{k_note}")

    origin_out = (origin_k[0] + k[1] + gap, top(out[0]))
    draw_grid(ax, "output", origin_out, _kinds(out, "output"), y, label=f"output {_size(out)}")
    draw_window(ax, "output", origin_out, [pos])

    mid = top(1) + 0.5
    for sign, xc in ((STAR, padded[1] + gap / 2), ("=", origin_out[0] - gap / 2)):
        ax.text(xc, mid, sign, ha="center", va="center", fontsize=_SIGN_SIZE[sign],
                color=COLORS["text"])
    return fig


def _stamp(source, k, s, p, d, out):
    """Output cells ``{(r, c): (i, j)}`` that input cell ``source`` reaches through tap ``(i, j)``.

    A transposed convolution scatters: input ``(a, b)`` adds ``x[a, b] * w[i, j]`` to output
    ``(a*s - p + i*d, b*s - p + j*d)`` (the cells the padding crops are left out).
    """
    cells = {}
    for i in range(k[0]):
        for j in range(k[1]):
            r = source[0] * s[0] - p[0] + i * d[0]
            c = source[1] * s[1] - p[1] + j * d[1]
            if 0 <= r < out[0] and 0 <= c < out[1]:
                cells[(r, c)] = (i, j)
    return cells


def draw_conv_transpose2d(input_size=2, kernel_size=3, stride=1, padding=0, output_padding=0,
                          position=(0, 0), x=None, weight=None, dilation=1, source=None,
                          fig=None):
    """A transposed convolution seen two ways: as a direct convolution, and as a scatter.

    Top: the equivalent direct convolution: ``stride - 1`` zeros inserted between the inputs
    (dotted), a border of ``dilation*(k-1) - padding`` zeros (hatched; ``output_padding`` more on
    the high side), the kernel flipped (rotated 180°), stride 1; the window of output
    ``position`` shaded. Bottom: the scatter view: input cell ``source`` stamps
    ``x[source] * kernel`` (kernel as given) onto the output; output ``position`` is the sum of
    the stamps that cover it. Without numbers the kernel's cells are named a, b, c, ... so the
    flip can be followed.

    Parameters
    ----------
    input_size, kernel_size, stride, padding, output_padding, dilation : int or tuple of 2 ints
        (sizes taken from ``x`` and ``weight`` when those are given), as ``conv_transpose2d``
    position : ``(row, col)`` of the output element
    x : array ``(H, W)`` or None
    weight : array ``(kh, kw)`` or None, the kernel as ``conv_transpose2d`` takes it
    source : ``(row, col)`` of the input cell whose stamp is drawn; default the first input cell
        that reaches ``position``
    fig : Figure or None: draw into this figure (cleared) instead of a new one

    Returns
    -------
    matplotlib Figure; the output grid has ``conv_transpose_output_size(...)`` cells per axis
    and its numbers are ``convlab.conv_transpose2d(x, weight, ...)``.
    """
    fn = "draw_conv_transpose2d"
    x = _image(fn, "x", x)
    weight = _image(fn, "weight", weight)
    i = v.int_tuple(fn, "input_size", input_size if x is None else x.shape, 2, 1)
    k = v.int_tuple(fn, "kernel_size", kernel_size if weight is None else weight.shape, 2, 1)
    s = v.int_tuple(fn, "stride", stride, 2, 1)
    p = v.int_tuple(fn, "padding", padding, 2, 0)
    op = v.int_tuple(fn, "output_padding", output_padding, 2, 0)
    d = v.int_tuple(fn, "dilation", dilation, 2, 1)
    out = conv_transpose_output_size(i, k, s, p, op, d)
    pos = _position(fn, position, out)

    border = [dd * (kk - 1) - pp for kk, dd, pp in zip(k, d, p)]
    pairs = [(b, b + o) for b, o in zip(border, op)]
    # input cell q (row-major, from 1) lands where ``number == q`` in the direct view's grid
    number = _layout(np.arange(1, np.prod(i) + 1).reshape(i), pairs, s)
    real = number > 0
    spread = _layout(np.ones(tuple((a - 1) * ss + 1 for a, ss in zip(i, s))), pairs) > 0
    kinds = np.where(real, "input", np.where(spread, "zero", "padding")).astype(object)

    y = xz = None
    if x is not None:
        xz = _layout(x, pairs, s)
    if x is not None and weight is not None:
        y = conv_transpose2d(x[None, None], weight[None, None], None, s, p, op, 1, d)[0, 0]
    names = _letters(k) if weight is None else weight
    inputs = x if x is not None else _letters(i, upper=True)
    if x is None and inputs is not None:
        xz = np.where(real, inputs.ravel()[number - 1], "0").astype(object)

    reach = [(a, b) for a in range(i[0]) for b in range(i[1])
             if pos in _stamp((a, b), k, s, p, d, out)]
    src = reach[0] if source is None and reach else source
    src = None if src is None else _position(fn, src, i)

    # the output as the sum of the stamps that cover it: the same terms as window A's products
    worked = ""
    if not reach:
        worked = "0 (no input reaches it)"
    elif inputs is not None:
        taps = [_stamp(cell, k, s, p, d, out)[pos] for cell in reach]
        worked = " + ".join(
            f"{inputs[cell]}·{names[tap]}" if x is None or weight is None
            else f"{factor(x[cell])}·{factor(weight[tap])}" for cell, tap in zip(reach, taps))
    if y is not None and reach:
        worked = f"{worked} = {fmt(y[pos])}"

    wide = kinds.shape
    top_h = max(wide[0], k[0], out[0])
    bottom_h = max(i[0], k[0], out[0])
    head = 1.5  # cells for a row's two-line heading
    gap = 0.6
    width = max(wide[1] + k[1] + out[1], i[1] + k[1] + out[1]) + 2 * _GAP
    height = 2 * (head + _LABEL) + top_h + gap + bottom_h
    title = (f"conv_transpose2d · input {_size(i)} · kernel {_size(k)} · stride {_square(s)} · "
             f"padding {_square(p)} · output_padding {_square(op)}"
             + ("" if d == (1, 1) else f" · dilation {_square(d)}")
             + f" → output {_size(out)}\nwindow of output[{pos[0]}, {pos[1]}]"
             + (f" = {worked}" if worked else ""))
    fig, ax = canvas(width, height, title, max_cell=0.42, fig=fig)

    def row(y0, rows_h, grids, heading):
        ax.text(ax.get_xlim()[0] + 0.4, y0, heading, ha="left", va="top", fontsize=FONT["label"],
                color=COLORS["text"], linespacing=1.4)
        x0, origins = 0.0, []
        for shape in grids:
            origins.append((x0, y0 + head + _LABEL + (rows_h - shape[0]) / 2))
            x0 += shape[1] + _GAP
        for (xa, _), sign in zip(origins[1:], (STAR, "=")):
            ax.text(xa - _GAP / 2, y0 + head + _LABEL + rows_h / 2, sign, ha="center",
                    va="center", fontsize=_SIGN_SIZE[sign], color=COLORS["text"])
        return origins

    zeros = [f"{_square(tuple(a - 1 for a in s))} zero(s) between inputs (dotted)"] * (s != (1, 1))
    if any(border) or any(op):
        zeros.append(f"a border of d(k-1) - p = {_square(tuple(border))} zeros (hatched)"
                     + (f", output_padding {_square(op)} more after" if any(op) else ""))
    o_in, o_k, o_out = row(0, top_h, [wide, k, out],
                           "A · as a direct convolution: kernel flipped, stride 1\n    "
                           + ("; ".join(zeros) or "no zeros to add"))
    draw_grid(ax, "input", o_in, kinds, xz, label=f"input {_size(i)} → {_size(wide)} with zeros")
    draw_window(ax, "input", o_in, [(pos[0] + a * d[0], pos[1] + b * d[1])
                                    for a in range(k[0]) for b in range(k[1])])
    draw_grid(ax, "kernel", o_k, _kinds(k, "kernel"), names[::-1, ::-1],
              label=f"kernel {_size(k)} flipped (180°)")
    draw_grid(ax, "output", o_out, _kinds(out, "output"), y, label=f"output {_size(out)}")
    draw_window(ax, "output", o_out, [pos])

    named = [f"[{a}, {b}]" for a, b in reach]
    cells = (", ".join(named) if len(named) <= 4 else
             f"{len(named)} inputs: {', '.join(named[:2])}, …, {named[-1]}") or "no input"
    s_in, s_k, s_out = row(head + _LABEL + top_h + gap, bottom_h, [i, k, out],
                           "B · as a scatter: each input cell adds (its value × kernel) to the "
                           f"output\n    output[{pos[0]}, {pos[1]}] collects the stamps of "
                           f"input {cells}")
    draw_grid(ax, "scatter_input", s_in, _kinds(i, "input"), inputs, label=f"input {_size(i)}")
    draw_grid(ax, "scatter_kernel", s_k, _kinds(k, "kernel"), names, label="kernel as given")
    stamp = {} if src is None else _stamp(src, k, s, p, d, out)
    stamp_values = np.full(out, None, dtype=object)
    for cell, tap in stamp.items():
        if x is not None and weight is not None:
            stamp_values[cell] = x[src] * weight[tap]
        else:  # names: "A·f", or just the kernel's "f" when the input is too big to name
            stamp_values[cell] = names[tap] if inputs is None else f"{inputs[src]}·{names[tap]}"
    draw_grid(ax, "scatter_output", s_out, _kinds(out, "output"), stamp_values,
              label=f"output {_size(out)}" + ("" if src is None
                                              else f": the stamp of input[{src[0]}, {src[1]}]"))
    if src is not None:
        draw_window(ax, "scatter_input", s_in, [src])
        draw_window(ax, "scatter_output", s_out, sorted(stamp), outline=False)
    draw_window(ax, "scatter_position", s_out, [pos], color=COLORS["text"])
    return fig


def draw_conv1d(x, kernel, mode="correlate", position=0, fig=None):
    """A 1-D signal, the kernel over one window, and the output: correlation or convolution.

    Parameters
    ----------
    x : array ``(L,)``, the signal
    kernel : array ``(kL,)``
    mode : ``"correlate"`` (deep learning's conv1d: the kernel as given) or ``"convolve"``
        (signal processing: the kernel flipped first, drawn flipped and labelled so)
    position : index of the output element whose window is highlighted
    fig : Figure or None: draw into this figure (cleared) instead of a new one

    Returns
    -------
    matplotlib Figure: the signal with the window shaded, the kernel under it (as used), and the
    ``L - kL + 1`` outputs (valid positions; each sits under the centre of its window) computed
    by ``convlab.correlate1d`` / ``convolve1d``; the title writes out the highlighted sum.
    """
    fn = "draw_conv1d"
    x = _image(fn, "x", x, nd=1)
    kernel = _image(fn, "kernel", kernel, nd=1)
    ops = {"correlate": correlate1d, "convolve": convolve1d}
    if mode not in ops:
        raise ValueError(f"{fn}: mode must be 'correlate' or 'convolve', got {mode!r}")
    n, m = len(x), len(kernel)
    if m > n:
        raise ValueError(f"{fn}: the kernel ({m}) is longer than the signal ({n})")
    y = ops[mode](x, kernel, mode="valid")
    (pos,) = _position(fn, position, (len(y),))
    used = kernel[::-1] if mode == "convolve" else kernel

    products = " + ".join(f"{factor(a)}·{factor(b)}" for a, b in zip(x[pos:pos + m], used))
    name = {"correlate": "cross-correlation (deep learning's conv1d)",
            "convolve": "convolution (signal processing: kernel flipped)"}[mode]
    title = (f"{name} · signal {n} · kernel {m} → output {len(y)}\n"
             f"output[{pos}] = {products} = {fmt(y[pos])}")
    extra = m + _GAP if mode == "convolve" else 0
    fig, ax = canvas(n + extra, 3 * (_LABEL + 1) + 0.4, title, fig=fig)
    row = _LABEL + 1 + 0.2
    draw_grid(ax, "input", (0, _LABEL), _kinds((1, n), "input"), x[None], label=f"signal x ({n})")
    draw_window(ax, "input", (0, _LABEL), [(0, pos + j) for j in range(m)])
    k_label = "kernel flipped: k[::-1]" if mode == "convolve" else "kernel k (as given)"
    draw_grid(ax, "kernel", (pos, _LABEL + row), _kinds((1, m), "kernel"), used[None],
              label=k_label)
    draw_grid(ax, "output", ((m - 1) / 2, _LABEL + 2 * row), _kinds((1, len(y)), "output"),
              y[None], label=f"output ({len(y)})")
    draw_window(ax, "output", ((m - 1) / 2, _LABEL + 2 * row), [(0, pos)])
    if mode == "convolve":
        draw_grid(ax, "given", (n + _GAP, _LABEL + row), _kinds((1, m), "kernel"), kernel[None],
                  label="kernel k as given")
        ax.text(n + _GAP - 0.15, _LABEL + row + 0.5, "← flip", ha="right", va="center",
                fontsize=FONT["label"], color=COLORS["text"])
    return fig


def draw_conv_matrix(kernel, input_size, stride=1, padding=0, position=(0, 0)):
    """A convolution as a matrix: ``y = C x`` with ``C`` of shape ``(H_out*W_out, H*W)``.

    Left: the input with its pixels numbered in row-major order (the columns of ``C``), the
    kernel, the output numbered likewise (the rows of ``C``); right: ``C`` as a heat map, row
    ``position`` (the window shaded on the left) outlined. ``C`` comes from
    ``convlab.conv_matrix``; the transposed convolution multiplies by ``C.T``.

    Parameters
    ----------
    kernel : array ``(kh, kw)``
    input_size : int or tuple of 2 ints
    stride, padding : int or tuple of 2 ints (padding per side)
    position : ``(row, col)`` of the output whose row of ``C`` is outlined

    Returns
    -------
    matplotlib Figure.
    """
    fn = "draw_conv_matrix"
    kernel = _image(fn, "kernel", kernel)
    i, k, s, _, pairs, out = _geometry(fn, input_size, kernel.shape, stride, padding, 1)
    pos = _position(fn, position, out)
    c = conv_matrix(kernel, i, s, padding)
    padded = tuple(a + lo + hi for a, (lo, hi) in zip(i, pairs))
    inside = _layout(np.ones(i), pairs) > 0
    kinds = np.where(inside, "input", "padding").astype(object)
    index = np.full(padded, None, dtype=object)
    index[inside] = [str(q) for q in range(i[0] * i[1])]
    row_of = pos[0] * out[1] + pos[1]

    height = _LABEL + padded[0] + 1.4 + max(k[0], out[0]) + _LABEL
    width = max(padded[1], k[1] + _GAP + out[1]) + 2  # a cell each side for wide labels
    title = (f"the matrix of a convolution: input {_size(i)} · kernel {_size(k)} · stride "
             f"{_square(s)} · {_describe_padding(padding, pairs)} → output {_size(out)}\n"
             f"y = C·x with C of shape {c.shape}; the transposed convolution is Cᵀ {c.T.shape}")
    fig, ax = canvas(width, height, title, share=0.36, max_cell=0.42)
    draw_grid(ax, "input", (1, _LABEL), kinds, index, label=f"input {_size(i)}: pixel numbers")
    draw_window(ax, "input", (1, _LABEL), [(pos[0] * s[0] + a, pos[1] * s[1] + b)
                                           for a in range(k[0]) for b in range(k[1])])
    y0 = _LABEL + padded[0] + 1.4 + _LABEL
    draw_grid(ax, "kernel", (1, y0), _kinds(k, "kernel"), kernel, label=f"kernel {_size(k)}")
    out_index = np.arange(out[0] * out[1]).reshape(out).astype(str).astype(object)
    draw_grid(ax, "output", (1 + k[1] + _GAP, y0), _kinds(out, "output"), out_index,
              label=f"output {_size(out)}")
    draw_window(ax, "output", (1 + k[1] + _GAP, y0), [pos])

    box = ax.get_position()
    mat = fig.add_axes((0.42, box.y0 + 0.02, 0.5, box.height * 0.9))
    limit = max(np.abs(c).max(), 1e-12)
    im = mat.imshow(c, cmap="PuOr_r", vmin=-limit, vmax=limit, aspect="equal",
                    interpolation="nearest")
    mat.set_title(f"C: {c.shape[0]} rows (outputs) × {c.shape[1]} columns (input pixels)",
                  fontsize=FONT["label"])
    mat.set_xlabel("input pixel number (column)", fontsize=FONT["small"])
    mat.set_ylabel("output number (row)", fontsize=FONT["small"])
    mat.set_xticks(range(0, c.shape[1], max(1, c.shape[1] // 16)))
    mat.set_yticks(range(0, c.shape[0], max(1, c.shape[0] // 16)))
    mat.tick_params(labelsize=FONT["small"])
    mat.set_xticks(np.arange(c.shape[1] + 1) - 0.5, minor=True)
    mat.set_yticks(np.arange(c.shape[0] + 1) - 0.5, minor=True)
    mat.grid(which="minor", color="white", linewidth=0.8)
    mat.tick_params(which="minor", length=0)
    if c.size <= 400:
        for (r, q), value in np.ndenumerate(c):
            if value != 0:
                mat.text(q, r, fmt(value), ha="center", va="center", fontsize=FONT["small"],
                         color="white" if abs(value) > 0.6 * limit else COLORS["text"],
                         gid=f"text:matrix:{r},{q}")
    mat.add_patch(Rectangle((-0.5, row_of - 0.5), c.shape[1], 1, fill=False,
                            edgecolor=COLORS["window"], linewidth=2.5,
                            gid=f"window:matrix:{row_of},0"))
    if c.size > 400:  # too many entries to write in: a colour bar reads the values instead
        fig.colorbar(im, ax=mat, fraction=0.03, pad=0.02, shrink=0.7)
    return fig
