"""One visual language for every figure of the course: the palette, the sizes, the grid primitives.

Colours are Okabe-Ito (colour-blind safe) and always mean the same thing:

========== ============================ =====================================
role       colour                       drawn as
========== ============================ =====================================
input      sky blue                     light cells
padding    grey                         hatched cells, dashed edges
zero       reddish purple               dotted cells: zeros inserted between
                                        inputs (transposed / dilated views)
kernel     orange                       light cells
output     bluish green                 light cells
window     vermillion over orange       shaded overlay with a bold outline:
                                        the window and the output it makes
========== ============================ =====================================

Grids are drawn in one axes in *cell units*: cell ``(r, c)`` of a grid whose top-left corner is
at ``(x0, y0)`` covers ``[x0 + c, x0 + c + 1] x [y0 + r, y0 + r + 1]``, with ``y`` pointing down
(the axes are inverted), so every cell of every grid is the same square.

Every drawn cell, overlay and number carries a ``gid`` (``"input:padding:0,1"``,
``"window:output:0,0"``, ``"text:kernel:2,2"``): tests and widgets read what was drawn with
``drawn_cells`` instead of trusting that a function ran.
"""

import io

import numpy as np
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

__all__ = ["COLORS", "FIG_WIDTH", "FONT", "canvas", "draw_grid", "draw_window", "drawn_cells",
           "drawn_text", "factor", "fmt", "new_figure", "tint"]

COLORS = {
    "input": "#56B4E9",
    "padding": "#999999",
    "zero": "#CC79A7",
    "kernel": "#E69F00",
    "output": "#009E73",
    "window": "#D55E00",
    "text": "#222222",
    "line": "#8C8C8C",
}

FIG_WIDTH = 9.0  # inches: the width of a notebook's output area
FONT = {"title": 12, "label": 10.5, "cell": 10, "small": 9}
_MAX_CELL = 0.5  # inches: large enough for "-12.5" at 10 pt, small enough for 5x5 + 3x3 + 3x3


def tint(color, amount=0.3):
    """``color`` mixed with white: ``amount`` 1 is the colour, 0 is white."""
    rgb = np.array(to_rgb(color))
    return tuple(1 - amount * (1 - rgb))


def fmt(value):
    """A number as a learner writes it: ``2``, ``-1``, ``0.5``, ``0.333`` (never ``-0``)."""
    value = float(value)
    if value == round(value) and abs(value) < 1e6:
        return str(round(value))
    return f"{value:.3g}"


def factor(value):
    """A number as a factor of a written product, negatives in parentheses: ``3``, ``(-1)``."""
    text = fmt(value)
    return f"({text})" if text.startswith("-") else text


class CourseFigure(Figure):
    """A matplotlib ``Figure`` that shows itself in a notebook as a PNG, with no pyplot and no
    ``%matplotlib`` magic: the last expression of a cell displays it exactly once."""

    def _repr_png_(self):
        buffer = io.BytesIO()
        self.savefig(buffer, format="png", bbox_inches="tight")
        return buffer.getvalue()


def new_figure(width, height, fig=None):
    """A ``Figure`` of ``width x height`` inches, or ``fig`` cleared and resized to that.

    Never ``plt.figure``: a returned Figure shows exactly once in a notebook and stays out of
    pyplot's registry.
    """
    if fig is None:
        return CourseFigure(figsize=(width, height))
    fig.clear()
    fig.set_size_inches(width, height)
    return fig


def canvas(width_cells, height_cells, title, width=FIG_WIDTH, max_cell=_MAX_CELL, share=1.0,
           min_height=0.0, fig=None):
    """A figure with one axes in cell units, ``width`` inches wide, and its title.

    The grids span ``[0, width_cells] x [0, height_cells]`` (``y`` down); the cell size is the
    largest square that fits in the left ``share`` of the width, at most ``max_cell`` inches.
    ``min_height`` (inches) leaves room for other axes beside. ``fig``: draw into this figure,
    cleared and resized, instead of a new one (an animation redraws one figure per frame).
    Returns ``(fig, ax)``.
    """
    cell = min(max_cell, 0.96 * share * width / width_cells)
    title_lines = title.count("\n") + 1
    top = 0.1 + 0.24 * title_lines
    margin = 0.1  # cells around the grids, so that the outer lines are not clipped
    grids = max(cell * (height_cells + 2 * margin), min_height)
    height = grids + top + 0.1
    fig = new_figure(width, height, fig)
    ax = fig.add_axes((0, 0.1 / height, share, grids / height))
    span = share * width / cell
    centre = width_cells / 2
    ax.set_xlim(centre - span / 2, centre + span / 2)
    ax.set_ylim(height_cells + margin, -margin)
    ax.set_adjustable("datalim")
    ax.set_aspect("equal")
    ax.axis("off")
    fig.suptitle(title, fontsize=FONT["title"], y=1 - 0.12 / height, va="top")
    return fig, ax


def _cell_font(ax):
    """Font size of the numbers in cells: 45 % of a cell's height, between 9 and 12 pt."""
    fig = ax.figure
    box = ax.get_position()
    # with an equal aspect the scale is the smaller of the two directions' scales
    cell_points = 72 * min(box.width * fig.get_figwidth() / abs(np.diff(ax.get_xlim())[0]),
                           box.height * fig.get_figheight() / abs(np.diff(ax.get_ylim())[0]))
    return float(np.clip(0.42 * cell_points, FONT["small"], 12))


def draw_grid(ax, name, origin, kinds, values=None, label=None, label_below=False,
              number_color=None):
    """Draw a grid of cells; return the label's Text (or None).

    Parameters
    ----------
    ax : axes from ``canvas``
    name : the grid's role in gids, e.g. ``"input"``
    origin : ``(x0, y0)`` of the top-left corner, in cells
    kinds : array ``(rows, cols)`` of role names (``"input"``, ``"padding"``, ``"zero"``,
        ``"kernel"``, ``"output"``) or ``None`` for a cell that is not drawn (a hole)
    values : array ``(rows, cols)`` of numbers or strings written in the cells, or None
        (numbers on padding and inserted-zero cells are drawn grey)
    label : text above the grid (below with ``label_below``)
    """
    kinds = np.asarray(kinds, dtype=object)
    x0, y0 = origin
    rows, cols = kinds.shape
    size = _cell_font(ax)
    for r in range(rows):
        for c in range(cols):
            kind = kinds[r, c]
            if kind is None:
                continue
            dashed = kind in ("padding", "zero")
            # add_artist, not add_patch: canvas() fixes the limits, and add_patch's data-limit
            # bookkeeping was most of a widget's redraw time
            ax.add_artist(Rectangle(
                (x0 + c, y0 + r), 1, 1,
                facecolor=tint(COLORS[kind], 0.18 if kind == "padding" else 0.3),
                edgecolor=COLORS["line"], linewidth=0.8,
                linestyle="--" if dashed else "-",
                hatch={"padding": "////", "zero": "..."}.get(kind),
                hatchcolor="#C4C4C4" if kind == "padding" else tint(COLORS["zero"], 0.8),
                gid=f"{name}:{kind}:{r},{c}", zorder=1,
            ))
            if values is not None and values[r][c] is not None:
                text = values[r][c] if isinstance(values[r][c], str) else fmt(values[r][c])
                color = number_color or ("#6E6E6E" if dashed else COLORS["text"])
                ax.text(x0 + c + 0.5, y0 + r + 0.5, text, ha="center", va="center",
                        fontsize=size, color=color, zorder=4, gid=f"text:{name}:{r},{c}")
    if label is None:
        return None
    y = y0 + rows + 0.25 if label_below else y0 - 0.25
    return ax.text(x0 + cols / 2, y, label, ha="center", va="top" if label_below else "bottom",
                   fontsize=FONT["label"], color=COLORS["text"], gid=f"label:{name}")


def draw_window(ax, name, origin, cells, color=None, outline=True):
    """Shade ``cells`` (a list of ``(r, c)``) of the grid at ``origin`` as the highlighted window.

    Each cell gets a translucent overlay (gid ``"window:<name>:r,c"``) and, with ``outline``,
    a bold outline around the cells' bounding box (the kernel's footprint, holes included).
    """
    x0, y0 = origin
    color = color or COLORS["window"]
    for r, c in cells:
        ax.add_artist(Rectangle((x0 + c, y0 + r), 1, 1, facecolor=COLORS["kernel"], alpha=0.55,
                               edgecolor=color, linewidth=1.6, zorder=2,
                               gid=f"window:{name}:{r},{c}"))
    if outline and cells:
        rs = [r for r, _ in cells]
        cs = [c for _, c in cells]
        ax.add_artist(Rectangle((x0 + min(cs), y0 + min(rs)), max(cs) - min(cs) + 1,
                               max(rs) - min(rs) + 1, fill=False, edgecolor=color, linewidth=3,
                               zorder=3, gid=f"outline:{name}"))


def _coords(gid, prefix):
    """``(r, c)`` from a gid ``"<prefix>:...:r,c"``, or None if the gid is not such a cell."""
    if not gid or not gid.startswith(prefix + ":"):
        return None
    last = gid.rsplit(":", 1)[1]
    if "," not in last:
        return None
    r, c = last.split(",")
    return int(r), int(c)


def drawn_cells(fig, prefix):
    """The ``(r, c)`` of every patch of ``fig`` whose gid starts with ``prefix``, sorted.

    ``drawn_cells(fig, "window:input")`` are the highlighted input cells,
    ``drawn_cells(fig, "input:padding")`` the padding cells, ``drawn_cells(fig, "output")``
    every output cell.
    """
    found = {_coords(p.get_gid(), prefix) for ax in fig.axes for p in ax.patches}
    return sorted(found - {None})


def drawn_text(fig, name):
    """The numbers written in grid ``name``: a dict ``(r, c) -> str``."""
    found = {}
    for ax in fig.axes:
        for t in ax.texts:
            rc = _coords(t.get_gid(), "text:" + name)
            if rc is not None:
                found[rc] = t.get_text()
    return found
