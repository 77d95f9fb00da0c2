"""Convolution on volumes: shapes as 3-D boxes, and a 3-D kernel sliding in depth too.

Boxes are drawn in an oblique projection: width to the right, height down, depth going back
up-right at 35°, foreshortened by half. A point ``(x, y, z)`` (width, height, depth) lands at
``(x + z*cx, y - z*cy)`` in the axes (``y`` down).
"""

import matplotlib
import numpy as np
from matplotlib.patches import Polygon

from .. import _validate as v
from ..arithmetic import conv_output_size
from .style import COLORS, FIG_WIDTH, FONT, fmt, new_figure, tint

__all__ = ["draw_conv3d", "draw_flattened", "draw_slices", "draw_volume"]

_CX, _CY = 0.5 * np.cos(np.radians(35)), 0.5 * np.sin(np.radians(35))


def _p(x, y, z):
    return (x + z * _CX, y - z * _CY)


def _box(ax, origin, size, color, gid, alpha=1.0, edge=None, linewidth=1.0, zorder=1):
    """A box ``size = (w, h, d)`` with its front-top-left corner at ``origin = (x, y, z)``.

    Draws the three visible faces (front, top, right side) in three shades of ``color``.
    """
    x, y, z = origin
    w, h, d = size
    faces = {
        "front": [_p(x, y, z), _p(x + w, y, z), _p(x + w, y + h, z), _p(x, y + h, z)],
        "top": [_p(x, y, z), _p(x + w, y, z), _p(x + w, y, z + d), _p(x, y, z + d)],
        "side": [_p(x + w, y, z), _p(x + w, y, z + d), _p(x + w, y + h, z + d),
                 _p(x + w, y + h, z)],
    }
    shade = {"front": 0.35, "top": 0.2, "side": 0.55}
    for name, corners in faces.items():
        ax.add_patch(Polygon(corners, closed=True, facecolor=tint(color, shade[name]),
                             edgecolor=edge or COLORS["line"], linewidth=linewidth, alpha=alpha,
                             zorder=zorder, gid=f"{gid}:{name}"))


def _cube_grid(ax, origin, shape, color, gid):
    """A ``(d, h, w)`` block of unit cubes: the visible faces with a light grid on them."""
    d, h, w = shape
    x, y, z = origin
    _box(ax, origin, (w, h, d), color, gid)
    style = {"color": COLORS["line"], "linewidth": 0.6, "zorder": 1.5}
    for a in range(1, w):  # vertical lines on the front, depth lines on the top
        ax.plot(*zip(_p(x + a, y, z), _p(x + a, y + h, z)), **style)
        ax.plot(*zip(_p(x + a, y, z), _p(x + a, y, z + d)), **style)
    for b in range(1, h):  # horizontal lines on the front and on the side
        ax.plot(*zip(_p(x, y + b, z), _p(x + w, y + b, z)), **style)
        ax.plot(*zip(_p(x + w, y + b, z), _p(x + w, y + b, z + d)), **style)
    for c in range(1, d):  # depth slices on the top and on the side
        ax.plot(*zip(_p(x, y, z + c), _p(x + w, y, z + c)), **style)
        ax.plot(*zip(_p(x + w, y, z + c), _p(x + w, y + h, z + c)), **style)


def _outline(ax, origin, size, gid, color=None):
    """All twelve edges of a box, bold: the window seen through the volume."""
    x, y, z = origin
    w, h, d = size
    corners = {(a, b, c): _p(x + a * w, y + b * h, z + c * d)
               for a in (0, 1) for b in (0, 1) for c in (0, 1)}
    for p, q in [((0, 0, 0), (1, 0, 0)), ((0, 1, 0), (1, 1, 0)), ((0, 0, 1), (1, 0, 1)),
                 ((0, 1, 1), (1, 1, 1)), ((0, 0, 0), (0, 1, 0)), ((1, 0, 0), (1, 1, 0)),
                 ((0, 0, 1), (0, 1, 1)), ((1, 0, 1), (1, 1, 1)), ((0, 0, 0), (0, 0, 1)),
                 ((1, 0, 0), (1, 0, 1)), ((0, 1, 0), (0, 1, 1)), ((1, 1, 0), (1, 1, 1))]:
        ax.plot(*zip(corners[p], corners[q]), color=color or COLORS["window"], linewidth=2.4,
                zorder=5, gid=gid)


def _extent(items):
    """Bounding box in the axes of boxes ``[(origin, size), ...]``: ``(x0, x1, y0, y1)``."""
    points = [_p(x + a * w, y + b * h, z + c * d)
              for (x, y, z), (w, h, d) in items for a in (0, 1) for b in (0, 1) for c in (0, 1)]
    xs, ys = zip(*points)
    return min(xs), max(xs), min(ys), max(ys)


def _frame(items, title, fig=None, margin=1.2, max_unit=0.32, below=0.0):
    """A figure whose one axes holds ``items`` (boxes) at an equal scale, with ``title``.

    ``below``: room (inches) under the boxes for their labels.
    """
    x0, x1, y0, y1 = _extent(items)
    x0, x1, y0, y1 = x0 - margin, x1 + margin, y0 - margin, y1 + margin
    unit = min(max_unit, 0.96 * FIG_WIDTH / (x1 - x0))
    y1 += below / unit
    top = 0.2 + 0.24 * (title.count("\n") + 1)
    fig = new_figure(FIG_WIDTH, unit * (y1 - y0) + top, fig)
    height = fig.get_figheight()
    ax = fig.add_axes((0, 0, 1, unit * (y1 - y0) / height))
    span = FIG_WIDTH / unit
    ax.set_xlim((x0 + x1) / 2 - span / 2, (x0 + x1) / 2 + span / 2)
    ax.set_ylim(y1, y0)
    ax.set_aspect("equal")
    ax.axis("off")
    fig.suptitle(title, fontsize=FONT["title"], y=1 - 0.1 / height, va="top")
    return fig, ax


def _label(ax, xy, text, gid, **kwargs):
    kwargs = {"ha": "center", "va": "center", "fontsize": FONT["label"],
              "color": COLORS["text"], **kwargs}
    return ax.text(*xy, text, gid=gid, **kwargs)


def _scaled(sizes):
    """Drawn lengths of ``sizes``: true lengths up to 12, else compressed (square root).

    Returns the lengths and whether they were compressed (the picture then says so).
    """
    top = max(sizes)
    if top <= 12:
        return [float(s) for s in sizes], False
    return [max(1.0, 12 * np.sqrt(s / top)) for s in sizes], True


def draw_volume(input_shape, weight_shape, stride=1, padding=0, fig=None):
    """Shapes of a convolution layer as boxes: input, the filters, output.

    Parameters
    ----------
    input_shape : ``(C_in, H, W)``, the layout of ``conv2d``'s unbatched input
    weight_shape : ``(C_out, C_in, kh, kw)``, the layout of ``conv2d``'s weight: ``C_out``
        filters, each a stack of ``C_in`` kernels of ``kh x kw``
    stride, padding : int or tuple of 2 ints (padding per side)
    fig : Figure or None: draw into this figure (cleared) instead of a new one

    Returns
    -------
    matplotlib Figure: the input box ``H x W x C_in``, the ``C_out`` filter boxes
    ``kh x kw x C_in`` (a filter's depth equals the input's channels), and the output box
    ``H_out x W_out x C_out`` (one channel per filter), each labelled with its numbers;
    ``H_out, W_out = conv_output_size((H, W), (kh, kw), stride, padding)``.
    """
    fn = "draw_volume"
    c, h, w = v.int_tuple(fn, "input_shape", input_shape, 3, 1)
    k, c_w, kh, kw = v.int_tuple(fn, "weight_shape", weight_shape, 4, 1)
    if c_w != c:
        raise ValueError(f"{fn}: each filter has {c_w} kernels but the input has {c} channels "
                         f"(weight_shape[1] must equal input_shape[0]: a filter is as deep as "
                         f"the input)")
    ho, wo = conv_output_size((h, w), (kh, kw), stride, padding)
    (sh, sw, sc, skh, skw, sho, swo, sk), squeezed = _scaled([h, w, c, kh, kw, ho, wo, k])
    shown = min(k, 3)  # a few filters drawn, the rest counted

    gap = 5.0
    origin_in = (0.0, 0.0, 0.0)
    x_f = sw + sc * _CX + gap
    filters = [((x_f + j * (skw + sc * _CX + 0.8), 0.0, 0.0), (skw, skh, sc))
               for j in range(shown)]
    x_out = filters[-1][0][0] + skw + sc * _CX + gap
    origin_out = (x_out, 0.0, 0.0)
    items = [(origin_in, (sw, sh, sc)), *filters, (origin_out, (swo, sho, sk))]

    note = " · boxes not to scale" if squeezed else ""
    s = v.int_tuple(fn, "stride", stride, 2, 1)
    p = v.int_tuple(fn, "padding", padding, 2, 0)
    s_text = str(s[0]) if s[0] == s[1] else str(s)
    p_text = str(p[0]) if p[0] == p[1] else str(p)
    title = (f"conv2d on a volume: input {h}×{w}×{c} → {k} filter{'s' * (k > 1)} of "
             f"{kh}×{kw}×{c} → output {ho}×{wo}×{k}\nstride {s_text} · padding {p_text} · "
             f"weight {(k, c, kh, kw)} = (C_out, C_in, kh, kw){note}")
    fig, ax = _frame(items, title, fig, below=0.75)

    _box(ax, origin_in, (sw, sh, sc), COLORS["input"], "input")
    _outline(ax, origin_in, (skw, skh, sc), "window:input")
    for j, (o, size) in enumerate(filters):
        _box(ax, o, size, COLORS["kernel"], f"filter:{j}", zorder=2 + j)
    _box(ax, origin_out, (swo, sho, sk), COLORS["output"], "output")
    _outline(ax, origin_out, (1 if swo >= 1 else swo, 1 if sho >= 1 else sho, sk),
             "window:output")

    below = max(sh, skh, sho) + 1.0
    _label(ax, (sw / 2, below), f"input\n{h}×{w}×{c}\n(H×W×C_in)", "label:input", va="top")
    x_mid = (x_f + filters[-1][0][0] + skw) / 2
    _label(ax, (x_mid, below),
           f"{k} filter{'s' * (k > 1)}, each {kh}×{kw}×{c}\n(depth = input channels)"
           + (f"\n{shown} drawn" if k > shown else ""), "label:filters", va="top")
    _label(ax, (x_out + swo / 2, below), f"output\n{ho}×{wo}×{k}\n(one channel per filter)",
           "label:output", va="top")
    for xa in (x_f - 0.6 * gap, x_out - 0.6 * gap):
        _label(ax, (xa, sh / 2), "→", "arrow", fontsize=FONT["title"] + 6)
    # edge numbers on the input and output boxes: height on the left, width below
    for (x, _, _), (bw, bh, bd), (nh, nw, nd), name in (
            (origin_in, (sw, sh, sc), (h, w, c), "input"),
            (origin_out, (swo, sho, sk), (ho, wo, k), "output")):
        _label(ax, (x - 0.35, bh / 2), str(nh), f"edge:{name}:H", ha="right",
               fontsize=FONT["small"])
        _label(ax, (x + bw / 2, bh + 0.35), str(nw), f"edge:{name}:W", va="top",
               fontsize=FONT["small"])
        _label(ax, _p(x + bw + 0.3, -0.3, bd / 2), str(nd), f"edge:{name}:C", ha="left",
               fontsize=FONT["small"])
    return fig


def draw_conv3d(input_size=(4, 4, 4), kernel_size=(2, 2, 2), position=(0, 0, 0), stride=1,
                fig=None):
    """A 3-D convolution: the kernel is a small cube that slides along depth, height and width.

    Parameters
    ----------
    input_size : ``(D, H, W)`` (one channel)
    kernel_size : ``(kd, kh, kw)``
    position : ``(d, h, w)`` of the output element whose window is outlined
    stride : int or tuple of 3 ints (no padding: every cube drawn is an input value)
    fig : Figure or None: draw into this figure (cleared) instead of a new one

    Returns
    -------
    matplotlib Figure: the input volume with the window outlined, the kernel cube, and the
    output volume ``conv_output_size(input_size, kernel_size, stride)`` with the
    element at ``position`` outlined. For the course's example, (4, 4, 4) with a 2x2x2 kernel
    gives (3, 3, 3).
    """
    fn = "draw_conv3d"
    i = v.int_tuple(fn, "input_size", input_size, 3, 1)
    k = v.int_tuple(fn, "kernel_size", kernel_size, 3, 1)
    s = v.int_tuple(fn, "stride", stride, 3, 1)
    out = conv_output_size(i, k, s)
    pos = v.int_tuple(fn, "position", position, 3, 0)
    if any(a >= o for a, o in zip(pos, out)):
        raise ValueError(f"{fn}: position {pos} is outside the output {out} (indices from 0)")

    gap = 3.5
    o_in = (0.0, 0.0, 0.0)
    o_k = (i[2] + i[0] * _CX + gap, (i[1] - k[1]) / 2, 0.0)
    o_out = (o_k[0] + k[2] + k[0] * _CX + gap, (i[1] - out[1]) / 2, 0.0)
    items = [(o_in, i[::-1]), (o_k, k[::-1]), (o_out, out[::-1])]
    how = ("the kernel is as deep as the input: it slides in height and width only"
           if k[0] == i[0] else "the kernel slides along depth too")
    title = (f"conv3d · input {'×'.join(map(str, i))} (D×H×W) · kernel "
             f"{'×'.join(map(str, k))} · stride {s[0] if len(set(s)) == 1 else s} → output "
             f"{'×'.join(map(str, out))}\n{how}: window of "
             f"output[{pos[0]}, {pos[1]}, {pos[2]}]")
    fig, ax = _frame(items, title, fig, below=0.6)

    _cube_grid(ax, o_in, i, COLORS["input"], "input")
    corner = (pos[2] * s[2], pos[1] * s[1], pos[0] * s[0])
    _box(ax, corner, k[::-1], COLORS["kernel"], "window:input", alpha=0.45, zorder=4)
    _outline(ax, corner, k[::-1], "outline:input")
    _cube_grid(ax, o_k, k, COLORS["kernel"], "kernel")
    _cube_grid(ax, o_out, out, COLORS["output"], "output")
    cell = (o_out[0] + pos[2], o_out[1] + pos[1], o_out[2] + pos[0])
    _box(ax, cell, (1, 1, 1), COLORS["kernel"], "window:output", alpha=0.6, zorder=4)
    _outline(ax, cell, (1, 1, 1), "outline:output")

    # edge names on the input and output: H on the left, W below, D along the depth edge
    for (x, y, _), (nd, nh, nw), name in ((o_in, i, "input"), (o_out, out, "output")):
        _label(ax, (x - 0.3, y + nh / 2), f"H={nh}", f"edge:{name}:H", ha="right",
               fontsize=FONT["small"])
        _label(ax, (x + nw / 2, y + nh + 0.25), f"W={nw}", f"edge:{name}:W", va="top",
               fontsize=FONT["small"])
        _label(ax, _p(x + nw + 0.2, y + nh - 0.1, nd / 2), f"D={nd}", f"edge:{name}:D",
               ha="left", va="top", fontsize=FONT["small"])

    below = max(i[1], out[1]) + 1.3
    _label(ax, (i[2] / 2, below), f"input {'×'.join(map(str, i))}", "label:input",
           va="top")
    _label(ax, (o_k[0] + k[2] / 2, below), f"kernel {'×'.join(map(str, k))}", "label:kernel",
           va="top")
    _label(ax, (o_out[0] + out[2] / 2, below), f"output {'×'.join(map(str, out))}",
           "label:output", va="top")
    return fig


def draw_slices(volumes, axis="frame", fig=None):
    """Volumes cut into their 2-D slices: one row per volume, one panel per slice.

    Parameters
    ----------
    volumes : dict ``label -> array (D, H, W)``, e.g. a video clip ``(frames, H, W)``, a scan
        ``(slices, H, W)`` or a ``conv3d`` output ``(D_out, H_out, W_out)``; at most 10 slices
    axis : what a slice is called in the panel titles, e.g. ``"frame"`` or ``"slice"``
    fig : Figure or None: draw into this figure (cleared) instead of a new one

    Returns
    -------
    matplotlib Figure: row ``n`` shows volume ``n`` slice by slice (slice ``t`` in column
    ``t``), all its slices on one colour scale: grey, or purple-orange centred on 0 when the
    volume has negative values (a signed response, 0 where nothing happens). Each panel's axes
    has gid ``"slice:<label>:<t>"``.
    """
    fn = "draw_slices"
    if not volumes:
        raise ValueError(f"{fn}: give at least one volume, e.g. {{'clip': x}} with x (D, H, W)")
    arrays = {}
    for label, volume in volumes.items():
        volume = v.array(fn, f"volumes[{label!r}]", volume)
        if volume.ndim != 3:
            raise ValueError(f"{fn}: volumes[{label!r}] must be 3-D (D, H, W), got shape "
                             f"{volume.shape}")
        if volume.shape[0] > 10:
            raise ValueError(f"{fn}: volumes[{label!r}] has {volume.shape[0]} slices; show at "
                             f"most 10, e.g. volume[::2]")
        arrays[label] = volume
    cols = max(a.shape[0] for a in arrays.values())
    panel = min(2.2, 0.8 * FIG_WIDTH / cols)
    fig = new_figure(FIG_WIDTH, len(arrays) * (panel + 0.45) + 0.15, fig)
    height = fig.get_figheight()
    left = 0.11 * FIG_WIDTH
    for row, (label, volume) in enumerate(arrays.items()):
        signed = bool(volume.min() < 0)
        limit = max(float(np.abs(volume).max()), 1e-12)
        scale = ({"cmap": "PuOr_r", "vmin": -limit, "vmax": limit} if signed else
                 {"cmap": "gray", "vmin": float(volume.min()),
                  "vmax": max(float(volume.max()), float(volume.min()) + 1e-12)})
        bottom = height - (row + 1) * (panel + 0.45) + 0.1
        for t in range(volume.shape[0]):
            ax = fig.add_axes((
                (left + t * panel * 1.0) / FIG_WIDTH, bottom / height,
                0.94 * panel / FIG_WIDTH, panel / height))
            image = ax.imshow(volume[t], interpolation="nearest", **scale)
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title(f"{axis} {t}", fontsize=FONT["small"], pad=3)
            ax.set_gid(f"slice:{label}:{t}")
            if t == 0:
                ax.text(-0.08, 0.5, label, transform=ax.transAxes, ha="right", va="center",
                        fontsize=FONT["label"], color=COLORS["text"])
        bar = fig.add_axes(((left + cols * panel + 0.1) / FIG_WIDTH, bottom / height,
                            0.1 / FIG_WIDTH, panel / height))
        fig.colorbar(image, cax=bar).ax.tick_params(labelsize=FONT["small"] - 1)
    return fig


def _valued_block(ax, origin, values, limit, gid, numbers=True):
    """A ``(d, h, w)`` block of unit cubes, each visible face coloured by its cube's value.

    The front face shows depth slice 0 (with its numbers), the top face row 0 of every slice,
    the side face the last column of every slice; ``limit`` is the value of the strongest
    colour (the colour scale is PuOr, orange positive, purple negative, white 0).
    """
    cmap = matplotlib.colormaps["PuOr_r"]
    d, h, w = values.shape
    x, y, z = origin

    def face(corners, value, name):
        colour = cmap(0.5 + 0.5 * value / limit) if limit else cmap(0.5)
        ax.add_patch(Polygon([_p(*c) for c in corners], closed=True, facecolor=colour,
                             edgecolor=COLORS["line"], linewidth=0.6, zorder=1, gid=name))

    for i in range(h):
        for j in range(w):
            face([(x + j, y + i, z), (x + j + 1, y + i, z), (x + j + 1, y + i + 1, z),
                  (x + j, y + i + 1, z)], values[0, i, j], f"{gid}:front:{i},{j}")
            if numbers:
                text = COLORS["text"] if abs(values[0, i, j]) < 0.6 * limit else "white"
                ax.text(*_p(x + j + 0.5, y + i + 0.5, z), fmt(round(float(values[0, i, j]), 1)),
                        ha="center", va="center", fontsize=FONT["small"], color=text, zorder=3,
                        gid=f"{gid}:value:{i},{j}")
    for c in range(d):
        for j in range(w):
            face([(x + j, y, z + c), (x + j + 1, y, z + c), (x + j + 1, y, z + c + 1),
                  (x + j, y, z + c + 1)], values[c, 0, j], f"{gid}:top:{c},{j}")
        for i in range(h):
            face([(x + w, y + i, z + c), (x + w, y + i, z + c + 1), (x + w, y + i + 1, z + c + 1),
                  (x + w, y + i + 1, z + c)], values[c, i, w - 1], f"{gid}:side:{c},{i}")


def draw_flattened(channel, col, row, fig=None):
    """One flattened filter: its three 1-D filters and the ``C x kh x kw`` filter they make.

    Parameters
    ----------
    channel : array ``(C,)``, the weights across the input channels (drawn along depth)
    col : array ``(kh,)``, the vertical 1-D filter (drawn along the height)
    row : array ``(kw,)``, the horizontal 1-D filter (drawn along the width)
    fig : Figure or None: draw into this figure (cleared) instead of a new one

    Returns
    -------
    matplotlib Figure: ``channel`` as a ``1 x 1 x C`` column of cubes going back, ``col`` as
    ``kh x 1 x 1``, ``row`` as ``1 x kw x 1``, then ``=`` and their product
    ``w[c, i, j] = channel[c] * col[i] * row[j]`` as a ``kh x kw x C`` block, each cube coloured
    by its value on one scale per block (orange positive, purple negative); the numbers of the
    front slices (channel 0) are written on them, and each 1-D filter's numbers under it.
    """
    fn = "draw_flattened"
    channel = v.plain(fn, "channel", channel, ("C",)).astype(float)
    col = v.plain(fn, "col", col, ("kh",)).astype(float)
    row = v.plain(fn, "row", row, ("kw",)).astype(float)
    c, kh, kw = len(channel), len(col), len(row)
    if max(c, kh, kw) > 12:
        raise ValueError(f"{fn}: at most 12 entries per 1-D filter can be drawn, got C = {c}, "
                         f"kh = {kh}, kw = {kw}")
    product = np.einsum("c,i,j->cij", channel, col, row)
    gap = 3.2
    parts = [("channel", channel[:, None, None], (1, 1, c)),
             ("col", col[None, :, None], (1, kh, 1)),
             ("row", row[None, None, :], (kw, 1, 1)),
             ("filter", product, (kw, kh, c))]
    origins, x = [], 0.0
    for _, _, (w, _, d) in parts:
        origins.append((x, 0.0, 0.0))
        x += w + d * _CX + gap
    items = [(o, size) for o, (_, _, size) in zip(origins, parts)]
    title = (f"a flattened filter: {c} channel weights × {kh} vertical × {kw} horizontal = "
             f"{c + kh + kw} numbers\nmake a {c}×{kh}×{kw} filter of {c * kh * kw} weights, "
             f"w[c, i, j] = channel[c] · col[i] · row[j]")
    height = kh + 0.5
    fig, ax = _frame(items, title, fig, margin=2.4,
                     below=0.35 + 0.17 * (3 + (max(c, kh, kw) - 1) // 6))
    for (name, values, _), origin in zip(parts, origins):
        limit = float(np.abs(values).max())
        _valued_block(ax, origin, values, limit, name)
    def listed(values):  # six numbers a line
        text = [fmt(round(float(a), 2)) for a in values]
        return ",\n".join(", ".join(text[n:n + 6]) for n in range(0, len(text), 6))

    labels = [f"channel (C×1×1)\n[{listed(channel)}]\nfront to back",
              f"vertical (1×kh×1)\n[{listed(col)}]", f"horizontal (1×1×kw)\n[{listed(row)}]",
              f"filter (C×kh×kw)\n{c}×{kh}×{kw}\nfront: channel 0"]
    for (name, _, (w, _, _)), origin, text in zip(parts, origins, labels):
        _label(ax, (origin[0] + w / 2, height), text, f"label:{name}", va="top")
    for n, sign in enumerate("××="):
        x_sign = origins[n + 1][0] - 0.55 * gap
        _label(ax, (x_sign, 0.5 if n < 2 else kh / 2), sign, f"sign:{n}",
               fontsize=FONT["title"] + 6)
    return fig
