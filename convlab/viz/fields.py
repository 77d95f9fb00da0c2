"""What a unit sees: receptive fields, effective receptive fields, deformable sampling points."""

import matplotlib
import numpy as np
from matplotlib.patches import Patch, Rectangle

from .. import _validate as v
from ..arithmetic import receptive_field
from ..grad import effective_receptive_field, erf_radius
from .grids import _LABEL, _kinds
from .style import COLORS, FIG_WIDTH, FONT, canvas, draw_grid, draw_window, new_figure

__all__ = ["draw_deform_grid", "draw_deform_grids", "draw_deform_learning", "draw_erf",
           "draw_erfs", "draw_field_growth", "draw_reach", "draw_receptive_field", "make_offsets",
           "reach_counts"]

# light to dark: deeper layers see more, drawn stronger
_LAYER_COLORS = ["#F5C26B", "#E69F00", "#D55E00", "#A23B00", "#6B2700", "#3D1600"]


def _field(rf, centre):
    """Input pixels ``[lo, hi]`` seen by the unit of a layer whose field is centred nearest
    ``centre`` (``rf`` a ``ReceptiveField``): that unit and its interval."""
    unit = int(np.clip(round((centre - rf.start) / rf.jump), 0, rf.out - 1))
    middle = rf.start + unit * rf.jump
    half = (rf.size - 1) / 2
    return unit, int(np.floor(middle - half)), int(np.floor(middle - half)) + rf.size - 1


def draw_receptive_field(layers, input_size, fig=None):
    """The input pixels one unit of each layer sees, nested, over the input grid.

    Parameters
    ----------
    layers : sequence of ``Layer`` or ``(kernel_size, stride, padding, dilation)`` tuples
        (square kernels, the same along both axes)
    input_size : int, the input is ``input_size x input_size``
    fig : Figure or None: draw into this figure (cleared) instead of a new one

    Returns
    -------
    matplotlib Figure: the input grid; for the centre unit of the last layer, its receptive
    field shaded (gids ``"window:input:r,c"``), and for every layer the field of the unit
    nearest that centre as a square outline (gid ``"field:l"``), sizes from
    ``convlab.receptive_field(layers, input_size)``. Parts that fall in the padding, outside
    the input, are drawn too, dashed.
    """
    fn = "draw_receptive_field"
    size = v.int_value(fn, "input_size", input_size, 1)
    rfs = receptive_field(layers, size)
    last = rfs[-1]
    centre = last.start + ((last.out - 1) // 2) * last.jump
    fields = [_field(rf, centre) for rf in rfs[1:]]
    lo = min([0] + [f[1] for f in fields])
    hi = max([size - 1] + [f[2] for f in fields])

    def describe(layer):
        k, s, p, d = (tuple(layer) + (1, 0, 1)[len(tuple(layer)) - 1:])[:4]
        return f"{k}×{k}" + (f" s{s}" if s > 1 else "") + (f" p{p}" if p else "") + (
            f" d{d}" if d > 1 else "")

    stack = ", ".join(describe(layer) for layer in layers)
    title = (f"receptive field of the centre unit of layer {len(fields)}: {last.size}×{last.size}"
             f" input pixels\nlayers: {stack}\ninput {size}×{size} · last layer "
             f"{last.out}×{last.out}, neighbours {last.jump} pixel{'s' * (last.jump > 1)} apart")
    span = hi - lo + 1
    fig, ax = canvas(span + 0.5, span + _LABEL + 0.5, title, share=0.62, max_cell=0.34, fig=fig)
    origin = (-lo + 0.25, _LABEL - lo + 0.25)
    draw_grid(ax, "input", origin, _kinds((size, size), "input"),
              label=f"input {size}×{size}")
    _, a, b = fields[-1]
    inside = range(max(a, 0), min(b, size - 1) + 1)
    draw_window(ax, "input", origin, [(r, c) for r in inside for c in inside], outline=False)
    handles = []
    for n, ((_, a, b), rf) in enumerate(zip(fields, rfs[1:]), 1):
        color = _LAYER_COLORS[min(n - 1, len(_LAYER_COLORS) - 1)]
        outside = a < 0 or b > size - 1
        ax.add_patch(Rectangle((origin[0] + a, origin[1] + a), b - a + 1, b - a + 1, fill=False,
                               edgecolor=color, linewidth=2.6, zorder=5 + n,
                               linestyle="--" if outside else "-", gid=f"field:{n}"))
        handles.append(Patch(facecolor="none", edgecolor=color, linewidth=2.6,
                             label=f"layer {n}: {rf.size}×{rf.size}"
                                   + (" (reaches the padding)" if outside else "")))
    fig.legend(handles=handles, loc="center left", bbox_to_anchor=(0.64, 0.5), frameon=False,
               fontsize=FONT["label"], title="receptive field after",
               title_fontsize=FONT["label"])
    return fig


def reach_counts(dilations, kernel_size=3):
    """How many paths lead from one output of a stack of dilated layers to each input pixel.

    Parameters
    ----------
    dilations : sequence of ints, one per layer (stride 1, square ``kernel_size`` kernels)
    kernel_size : int

    Returns
    -------
    array ``(F, F)`` of ints, ``F`` the stack's receptive field
    (``convlab.receptive_field``): entry ``[a, b]`` counts the chains of taps, one per layer,
    that connect the output to input pixel ``(a, b)`` of its field; 0 is a pixel the output
    never sees (a hole). It is the gradient of the output with respect to its input when every
    weight is 1 (``convlab.effective_receptive_field`` with all-ones kernels).
    """
    fn = "reach_counts"
    k = v.int_value(fn, "kernel_size", kernel_size, 1)
    dilations = [v.int_value(fn, "dilation", d, 1) for d in dilations]
    if not dilations:
        raise ValueError(f"{fn}: give at least one dilation")
    field = receptive_field([(k, 1, 0, d) for d in dilations])[-1].size
    ones = [np.ones((k, k))] * len(dilations)
    counts = effective_receptive_field(ones, field, dilation=dilations, padding="valid")
    return np.rint(counts).astype(int)


def draw_reach(stacks, kernel_size=3, fig=None):
    """Which input pixels one output of each stack of dilated layers reaches, as heat maps.

    Parameters
    ----------
    stacks : sequence of sequences of ints: the dilations of each stack, e.g.
        ``[(2, 2, 2), (1, 2, 3)]`` (stride 1, ``kernel_size`` square kernels, 1 to 4 stacks)
    kernel_size : int
    fig : Figure or None: draw into this figure (cleared) instead of a new one

    Returns
    -------
    matplotlib Figure, one panel per stack on one common scale of pixels: ``reach_counts``
    over the stack's receptive field, the number of paths from the output (its centre, ringed
    in the output colour)
    to each input pixel, pixels never reached white and crossed (holes); the title gives the
    field's size and the number of holes. Panel axes have gids ``"reach:<rates>"``.
    """
    fn = "draw_reach"
    stacks = [tuple(s) for s in stacks]
    if not 1 <= len(stacks) <= 4:
        raise ValueError(f"{fn}: give 1 to 4 stacks, got {len(stacks)}")
    counts = [reach_counts(s, kernel_size) for s in stacks]
    biggest = max(c.shape[0] for c in counts)
    n = len(stacks)
    panel = FIG_WIDTH / n
    side = min(0.9 * panel, 4.0)  # inches: the biggest field's square
    height = side + 1.25  # the suptitle and three title lines above the squares
    fig = new_figure(FIG_WIDTH, height, fig)
    cmap = matplotlib.colormaps["YlOrBr"]
    for j, (rates, count) in enumerate(zip(stacks, counts)):
        size = count.shape[0]
        ax = fig.add_axes(((j + 0.5) / n - side / 2 / FIG_WIDTH, 0.08 / height,
                           side / FIG_WIDTH, side / height),
                          gid="reach:" + ",".join(map(str, rates)))
        pad = (biggest - size) / 2
        ax.set_xlim(-0.5 - pad, size - 0.5 + pad)
        ax.set_ylim(size - 0.5 + pad, -0.5 - pad)
        ax.set_aspect("equal")
        ax.axis("off")
        shown = np.ma.masked_equal(count, 0)
        ax.imshow(shown, cmap=cmap, vmin=0, vmax=max(int(count.max()), 2),
                  interpolation="nearest", extent=(-0.5, size - 0.5, size - 0.5, -0.5))
        holes = np.argwhere(count == 0)
        if len(holes):
            ax.scatter(holes[:, 1], holes[:, 0], marker="x", s=(60 / biggest) ** 2 * 9,
                       color=COLORS["line"], linewidths=0.7)
        if biggest <= 31:
            for a in range(size + 1):
                ax.plot([-0.5, size - 0.5], [a - 0.5, a - 0.5], color="white", lw=0.6)
                ax.plot([a - 0.5, a - 0.5], [-0.5, size - 0.5], color="white", lw=0.6)
        ax.add_patch(Rectangle((-0.5, -0.5), size, size, fill=False, edgecolor=COLORS["text"],
                               linewidth=1.2))
        centre = size // 2
        ax.add_patch(Rectangle((centre - 0.5, centre - 0.5), 1, 1, fill=False,
                               edgecolor=COLORS["output"], linewidth=2.4))
        if side / biggest >= 0.22:  # inches per cell: room for a two-digit number
            for (a, b), value in np.ndenumerate(count):
                if value:
                    ax.text(b, a, str(value), ha="center", va="center",
                            fontsize=FONT["small"] - (1 if value > 9 else 0),
                            color="white" if value > 0.6 * count.max() else COLORS["text"])
        zero = int((count == 0).sum())
        most = int(count.max())
        paths = "1 path" if most == 1 else f"1 to {most} paths"
        ax.set_title(f"rates {', '.join(map(str, rates))}: field {size}×{size}\n"
                     + (f"{zero} of {size * size} pixels never reached" if zero else
                        "every pixel reached") + f"\n{paths} per reached pixel",
                     fontsize=FONT["label"])
    fig.suptitle(f"paths from one output (ringed, the centre of its field) to each input pixel, "
                 f"{kernel_size}×{kernel_size} kernels; × = a hole", fontsize=FONT["title"],
                 y=0.985, va="top")
    return fig


def _mass_square(erf, share=0.95):
    """Side of the smallest centred square holding ``share`` of ``sum |erf|``."""
    mag = np.abs(erf)
    total = mag.sum()
    h, w = erf.shape
    cy, cx = h // 2, w // 2
    for r in range(max(h, w)):
        if mag[max(cy - r, 0):cy + r + 1, max(cx - r, 0):cx + r + 1].sum() >= share * total:
            return 2 * r + 1
    return max(h, w)


def draw_erf(erf, title=None, fig=None):
    """Heat map of an effective receptive field, with its profile through the centre.

    Parameters
    ----------
    erf : array ``(H, W)``, e.g. ``convlab.effective_receptive_field(kernels, input_size)``
        (gradients of the centre output; their magnitude is drawn)
    title : str or None (default: the size and where 95 % of the magnitude lies)
    fig : Figure or None: draw into this figure (cleared) instead of a new one

    Returns
    -------
    matplotlib Figure: left ``|erf|`` as a heat map with a colour bar, right the centre row
    and column of ``|erf|`` as curves, both as fractions of the peak (the raw magnitudes grow
    with the weights and the depth, e.g. 9^16 for sixteen all-ones 3x3 layers).
    """
    fn = "draw_erf"
    erf = v.array(fn, "erf", erf)
    if erf.ndim != 2:
        raise ValueError(f"{fn}: erf must be 2-D (H, W), got shape {erf.shape}")
    mag = np.abs(erf)
    mag = mag / mag.max() if mag.max() > 0 else mag
    side = _mass_square(erf)
    h, w = erf.shape
    title = title or (f"effective receptive field: |∂ centre output / ∂ input| over a {h}×{w} "
                      f"input\n95 % of it lies in the central {side}×{side} pixels")
    fig = new_figure(FIG_WIDTH, 4.3, fig)
    fig.suptitle(title, fontsize=FONT["title"], y=0.98, va="top")
    heat = fig.add_axes((0.05, 0.1, 0.42, 0.7))
    im = heat.imshow(mag, cmap="viridis", interpolation="nearest")
    heat.set_title("|gradient| per input pixel (peak = 1)", fontsize=FONT["label"])
    heat.tick_params(labelsize=FONT["small"])
    fig.colorbar(im, ax=heat, fraction=0.046, pad=0.03).ax.tick_params(labelsize=FONT["small"])
    prof = fig.add_axes((0.6, 0.14, 0.37, 0.62))
    prof.plot(np.arange(w) - w // 2, mag[h // 2], color=COLORS["window"], label="centre row")
    prof.plot(np.arange(h) - h // 2, mag[:, w // 2], color=COLORS["input"], linestyle="--",
              label="centre column")
    prof.set_xlabel("offset from the centre (pixels)", fontsize=FONT["label"])
    prof.set_title("profile through the centre (peak = 1)", fontsize=FONT["label"])
    prof.legend(fontsize=FONT["small"], frameon=False)
    prof.tick_params(labelsize=FONT["small"])
    prof.grid(alpha=0.3)
    return fig


def draw_erfs(grid, title, fig=None):
    """Effective receptive fields side by side: one row per setting, one column per case.

    Parameters
    ----------
    grid : dict ``row label -> {column label: erf (H, W)}``, up to 4 rows of up to 5 maps;
        each map is drawn as ``|erf|`` scaled to its own maximum (the shape, not the size of the
        gradient, is compared), with a dashed square around the pixels it reaches (the
        theoretical receptive field) and a circle of radius ``2 · erf_radius`` around the
        gradient's centre of mass (where most of it lies)
    title : str, the figure's title
    fig : Figure or None: draw into this figure (cleared) instead of a new one

    Returns
    -------
    matplotlib Figure; each map's axes has gid ``"erf:<row>:<column>"``.
    """
    fn = "draw_erfs"
    rows = {str(r): dict(cols) for r, cols in dict(grid).items()}
    ncols = max((len(c) for c in rows.values()), default=0)
    if not 1 <= len(rows) <= 4 or not 1 <= ncols <= 5:
        raise ValueError(f"{fn}: give 1 to 4 rows of 1 to 5 maps, got {len(rows)} rows of up to "
                         f"{ncols}")
    side = min(FIG_WIDTH / (ncols + 0.4), 2.4)  # inches per map
    total = side * len(rows) + 0.9  # 0.5 inch for the title, 0.4 for the note below
    fig = new_figure(FIG_WIDTH, total, fig)
    fig.suptitle(title, fontsize=FONT["title"], y=1 - 0.08 / total, va="top")
    top, bottom = 1 - 0.5 / total, 0.4 / total
    height = (top - bottom) / len(rows)
    for i, (row, cols) in enumerate(rows.items()):
        for j, (col, erf) in enumerate(cols.items()):
            erf = v.array(fn, f"map {row}/{col}", erf)
            if erf.ndim != 2:
                raise ValueError(f"{fn}: map {row}/{col} must be 2-D (H, W), got {erf.shape}")
            ax = fig.add_axes((0.5 - (ncols - 0.4) / 2 * side / FIG_WIDTH + j * side / FIG_WIDTH,
                               top - (i + 1) * height + 0.04 * height,
                               0.94 * side / FIG_WIDTH, height * 0.9))
            ax.set_gid(f"erf:{row}:{col}")
            mag = np.abs(erf)
            ax.imshow(mag / max(mag.max(), 1e-300), cmap="viridis", vmin=0, vmax=1,
                      interpolation="nearest")
            rr, cc = np.nonzero(mag)
            if rr.size:
                ax.add_patch(Rectangle((cc.min() - 0.5, rr.min() - 0.5), np.ptp(cc) + 1,
                                       np.ptp(rr) + 1, fill=False, linestyle="--",
                                       edgecolor="white", linewidth=1.0))
                centre = [(np.arange(n) * mag.sum(axis=1 - a)).sum() / mag.sum()
                          for a, n in ((1, erf.shape[1]), (0, erf.shape[0]))]
                ax.add_patch(matplotlib.patches.Circle(
                    centre, 2 * erf_radius(erf), fill=False, edgecolor=COLORS["window"],
                    linewidth=1.4))
            ax.set_xticks([])
            ax.set_yticks([])
            if i == 0:
                ax.set_title(col, fontsize=FONT["label"])
            if j == 0:
                ax.set_ylabel(row, fontsize=FONT["label"])
    fig.text(0.5, 0.1 / total, "dashed: the theoretical field (every pixel reached) · circle: "
             "radius 2σ, σ = erf_radius · each map scaled to its own maximum",
             ha="center", va="bottom", fontsize=FONT["small"])
    return fig


def draw_field_growth(depths, curves, title, ylabel="radius (input pixels)", fig=None):
    """Curves of a size against the number of layers, e.g. theoretical vs effective radius.

    Parameters
    ----------
    depths : sequence of ints, the numbers of layers (x axis)
    curves : dict ``label -> sequence`` of one value per depth; a label ending in ``"(fit)"``
        is drawn dashed without markers
    title, ylabel : str
    fig : Figure or None: draw into this figure (cleared) instead of a new one

    Returns
    -------
    matplotlib Figure with one axes (gid ``"growth"``), a line per curve and a legend.
    """
    fn = "draw_field_growth"
    depths = [v.int_value(fn, "depth", d, 1) for d in depths]
    fig = new_figure(FIG_WIDTH * 0.8, 3.8, fig)
    ax = fig.add_axes((0.1, 0.14, 0.86, 0.72))
    ax.set_gid("growth")
    palette = [COLORS["window"], COLORS["input"], COLORS["output"], "#555555", "#009E73"]
    for n, (label, values) in enumerate(dict(curves).items()):
        values = np.asarray(values, dtype=float)
        if values.shape != (len(depths),):
            raise ValueError(f"{fn}: curve {label!r} needs one value per depth ({len(depths)}), "
                             f"got shape {values.shape}")
        fit = label.endswith("(fit)")
        ax.plot(depths, values, linestyle="--" if fit else "-", marker=None if fit else "o",
                markersize=4, color=palette[n % len(palette)], label=label)
    ax.set_xlabel("layers n", fontsize=FONT["label"])
    ax.set_ylabel(ylabel, fontsize=FONT["label"])
    ax.set_title(title, fontsize=FONT["title"])
    ax.legend(fontsize=FONT["small"], frameon=False)
    ax.tick_params(labelsize=FONT["small"])
    ax.grid(alpha=0.3)
    return fig


def make_offsets(kind, kernel_size, out_size, amount=None, dilation=1):
    """Offset fields for a deformable convolution that deform every kernel the same way.

    Parameters
    ----------
    kind : ``"regular"`` (zeros: an ordinary convolution), ``"scaled"`` (taps spread away from
        the kernel's centre by a factor ``1 + amount``, default 1: twice as wide), or
        ``"rotated"`` (taps turned about the centre by ``amount`` radians, default pi/6)
    kernel_size : int or tuple ``(kh, kw)``
    out_size : int or tuple ``(H_out, W_out)``
    dilation : int or tuple, the spacing of the regular taps

    Returns
    -------
    array ``(2*kh*kw, H_out, W_out)``: ``(dy, dx)`` of tap ``i*kw + j`` at channels ``2k``,
    ``2k + 1`` (one offset group), the layout of ``convlab.deform_conv2d``'s ``offset``
    (add a batch axis for it). For a tap at ``t`` from the centre: scaled ``amount * t``,
    rotated ``R(amount) t - t``.
    """
    fn = "make_offsets"
    kh, kw = v.int_tuple(fn, "kernel_size", kernel_size, 2, 1)
    ho, wo = v.int_tuple(fn, "out_size", out_size, 2, 1)
    dh, dw = v.int_tuple(fn, "dilation", dilation, 2, 1)
    i, j = np.divmod(np.arange(kh * kw), kw)
    taps = np.stack([(i - (kh - 1) / 2) * dh, (j - (kw - 1) / 2) * dw], axis=1)  # (K, 2) as (y, x)
    if kind == "regular":
        shift = np.zeros_like(taps)
    elif kind == "scaled":
        shift = (1.0 if amount is None else float(amount)) * taps
    elif kind == "rotated":
        angle = np.pi / 6 if amount is None else float(amount)
        # taps are (y, x) with y down: a positive angle turns counter-clockwise on the screen
        y, x = taps[:, 0], taps[:, 1]
        turned = np.stack([y * np.cos(angle) - x * np.sin(angle),
                           x * np.cos(angle) + y * np.sin(angle)], axis=1)
        shift = turned - taps
    else:
        raise ValueError(f"{fn}: kind must be 'regular', 'scaled' or 'rotated', got {kind!r}")
    return np.broadcast_to(shift.reshape(-1)[:, None, None], (2 * kh * kw, ho, wo)).copy()


def _points(fn, points):
    """``points`` as ``(H_out, W_out, K, 2)``: batch 0 and offset group 0 of a larger array."""
    points = v.array(fn, "points", points)
    if points.ndim < 4 or points.shape[-1] != 2:
        raise ValueError(f"{fn}: points must end in (H_out, W_out, K, 2) as (y, x), e.g. "
                         f"deform_sampling_points(...) of shape (N, G, H_out, W_out, K, 2); "
                         f"got shape {points.shape}")
    while points.ndim > 4:
        points = points[0]
    return points


def _kernel_lines(ax, taps, color, linewidth, zorder):
    """Join the ``K`` taps ``(K, 2)`` of a square kernel row by row and column by column."""
    side = int(round(np.sqrt(len(taps))))
    if side * side != len(taps):
        return
    grid = taps.reshape(side, side, 2)
    for line in list(grid) + list(grid.transpose(1, 0, 2)):
        ax.plot(line[:, 1], line[:, 0], color=color, linewidth=linewidth, zorder=zorder)


def _every(fn, shape, every):
    """The step between drawn output positions: about six per axis unless ``every`` says."""
    return (max(1, -(-max(shape) // 6)) if every is None
            else v.int_value(fn, "every", every, 1))


def _chosen(fn, shape, position):
    if position is None:
        return None
    chosen = v.int_tuple(fn, "position", position, 2, 0)
    if chosen[0] >= shape[0] or chosen[1] >= shape[1]:
        raise ValueError(f"{fn}: position {chosen} is outside the {shape[0]}×{shape[1]} outputs")
    return chosen


def _draw_points(ax, image, pts, step, chosen, target=None):
    """The image in ``ax`` with the kernels of every ``step``-th output position over it, the
    kernel of ``chosen`` large, and (if given) the ``target`` points as hollow rings."""
    ho, wo = pts.shape[:2]
    shown = [(r, c) for r in range(step // 2, ho, step) for c in range(step // 2, wo, step)
             if (r, c) != chosen]
    ax.imshow(image, cmap="gray", interpolation="nearest")
    if target is not None:
        goal = np.array([target[r, c] for r, c in shown + ([chosen] if chosen else [])])
        goal = goal.reshape(-1, 2)
        ax.scatter(goal[:, 1], goal[:, 0], s=34, facecolor="none", edgecolor=COLORS["output"],
                   linewidth=1.2, zorder=2, gid="points:target")
    for r, c in shown:
        _kernel_lines(ax, pts[r, c], COLORS["input"], 0.8, 3)
    rest = np.array([pts[r, c] for r, c in shown]).reshape(-1, 2)
    ax.scatter(rest[:, 1], rest[:, 0], s=10, color=COLORS["input"], zorder=4, gid="points:all")
    if chosen is not None:
        _kernel_lines(ax, pts[chosen], COLORS["kernel"], 2, 5)
        ax.scatter(pts[chosen][:, 1], pts[chosen][:, 0], s=60, color=COLORS["window"],
                   edgecolor="white", linewidth=1, zorder=6, gid="points:position")
    ax.set_xlim(-0.5, image.shape[1] - 0.5)
    ax.set_ylim(image.shape[0] - 0.5, -0.5)
    ax.axis("off")


def _image(fn, image):
    image = v.array(fn, "image", image)
    if image.ndim != 2:
        raise ValueError(f"{fn}: image must be 2-D (H, W), got shape {image.shape}")
    return image


def draw_deform_grid(image, points, position=None, every=None, target=None, title=None,
                     fig=None):
    """Where a deformable convolution reads the image: its sampling points drawn over it.

    Parameters
    ----------
    image : array ``(H, W)``
    points : array ``(N, G, H_out, W_out, K, 2)``, ``(G, H_out, W_out, K, 2)`` or
        ``(H_out, W_out, K, 2)`` of ``(y, x)`` input coordinates, as returned by
        ``convlab.deform_sampling_points`` (batch 0 and offset group 0 are drawn)
    position : ``(row, col)`` of one output position whose ``K`` points are drawn large, or None
    every : draw the points of every ``every``-th output position along each axis (default:
        about six per axis, so that each kernel's shape stays visible)
    target : points of the same shape drawn as hollow green rings (e.g. where a learned field
        should end up), or None
    title : str or None (default: how many points and outputs are drawn)
    fig : Figure or None: draw into this figure (cleared) instead of a new one

    Returns
    -------
    matplotlib Figure: each drawn position's points joined in kernel order (a square kernel
    shows as a small deformed grid); the scatter of ``position``'s points has gid
    ``"points:position"``, the others ``"points:all"``, the target's ``"points:target"``.
    """
    fn = "draw_deform_grid"
    image = _image(fn, image)
    pts = _points(fn, points)
    goal = None if target is None else _points(fn, target)
    if goal is not None and goal.shape != pts.shape:
        raise ValueError(f"{fn}: target has shape {goal.shape} but points {pts.shape}")
    ho, wo, k = pts.shape[:3]
    step = _every(fn, (ho, wo), every)
    chosen = _chosen(fn, (ho, wo), position)
    if title is None:
        title = (f"deformable convolution: {k} sampling points per output, {ho}×{wo} outputs\n"
                 + (f"drawn for every {step}th output position" if step > 1 else
                    "drawn for every output position"))
        if chosen is not None:
            title += f"; large: output {chosen}"
    fig = new_figure(FIG_WIDTH * 0.75, FIG_WIDTH * 0.75 * image.shape[0] / image.shape[1] + 0.6,
                     fig)
    ax = fig.add_axes((0.02, 0.02, 0.96, 1 - 0.75 / fig.get_figheight()))
    _draw_points(ax, image, pts, step, chosen, goal)
    fig.suptitle(title, fontsize=FONT["title"], y=0.99, va="top")
    return fig


def draw_deform_grids(image, fields, position=None, every=None, fig=None):
    """Small multiples: the sampling points of several offset fields over the same image.

    Parameters
    ----------
    image : array ``(H, W)``
    fields : dict ``{name: points}`` (1 to 4 entries), each ``points`` as ``draw_deform_grid``
        takes them, e.g. ``convlab.deform_sampling_points(offset, 3, padding=1)``
    position, every : as ``draw_deform_grid``, for every panel
    fig : Figure or None

    Returns
    -------
    matplotlib Figure, one panel per field titled by its name (axes gids ``"field:<name>"``).
    """
    fn = "draw_deform_grids"
    image = _image(fn, image)
    if not 1 <= len(fields) <= 4:
        raise ValueError(f"{fn}: give 1 to 4 fields, got {len(fields)}")
    n = len(fields)
    side = FIG_WIDTH / n - 0.15
    height = side * image.shape[0] / image.shape[1] + 0.9
    fig = new_figure(FIG_WIDTH, height, fig)
    for j, (name, points) in enumerate(fields.items()):
        pts = _points(fn, points)
        step = _every(fn, pts.shape[:2], every)
        ax = fig.add_axes(((j + 0.5) / n - side / 2 / FIG_WIDTH, 0.02, side / FIG_WIDTH,
                           (height - 0.9) / height), gid=f"field:{name}")
        _draw_points(ax, image, pts, step, _chosen(fn, pts.shape[:2], position))
        ax.set_title(name, fontsize=FONT["label"])
    k = _points(fn, next(iter(fields.values()))).shape[2]
    fig.suptitle(f"where a deformable convolution reads: {k} points per output; the kernels of "
                 f"a few output positions", fontsize=FONT["title"], y=0.985, va="top")
    return fig


def draw_deform_learning(image, points, target, losses, step=None, position=None, every=None,
                         fig=None):
    """One frame of offsets being learned: the sampling grid so far and the loss curve.

    Parameters
    ----------
    image : array ``(H, W)``
    points : the sampling points after ``step`` steps (as ``draw_deform_grid``)
    target : the points the learning should reach, same shape (hollow green rings)
    losses : sequence of floats, the loss at every step of the whole run
    step : int, which step ``points`` belong to (default: the last)
    position, every : as ``draw_deform_grid``
    fig : Figure or None

    Returns
    -------
    matplotlib Figure: left the grid over the image, right the loss against the step on a log
    scale, the current step marked (gid ``"loss:step"``).
    """
    fn = "draw_deform_learning"
    image = _image(fn, image)
    pts, goal = _points(fn, points), _points(fn, target)
    losses = np.asarray(losses, dtype=float)
    step = len(losses) - 1 if step is None else v.int_value(fn, "step", step, 0)
    if step >= len(losses):
        raise ValueError(f"{fn}: step {step} is past the {len(losses)} losses")
    fig = new_figure(FIG_WIDTH, 4.6, fig)
    ax = fig.add_axes((0.01, 0.02, 0.5, 0.82))
    _draw_points(ax, image, pts, _every(fn, pts.shape[:2], every),
                 _chosen(fn, pts.shape[:2], position), goal)
    ax.set_title("sampling points (blue) and target (green rings)", fontsize=FONT["label"])
    curve = fig.add_axes((0.62, 0.14, 0.36, 0.66))
    curve.semilogy(losses, color=COLORS["line"], linewidth=1.2)
    curve.semilogy(np.arange(step + 1), losses[:step + 1], color=COLORS["window"], linewidth=2)
    curve.scatter([step], [losses[step]], color=COLORS["window"], zorder=3, gid="loss:step")
    curve.set_xlabel("gradient-descent step", fontsize=FONT["label"])
    curve.set_ylabel("loss (mean squared error)", fontsize=FONT["label"])
    curve.tick_params(labelsize=FONT["small"])
    curve.grid(alpha=0.3)
    fig.suptitle(f"learning the offsets: step {step}, loss {losses[step]:.2g}",
                 fontsize=FONT["title"], y=0.98, va="top")
    return fig
