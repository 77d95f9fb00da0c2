"""Costs as pictures: where a block's parameters and multiply-adds go, layer by layer."""

import numpy as np
from matplotlib.patches import Rectangle
from matplotlib.ticker import FuncFormatter

from ..arithmetic import Cost
from .style import COLORS, FIG_WIDTH, FONT, new_figure

__all__ = ["draw_costs"]

# one colour per kind of layer, the same in every bar: Okabe-Ito
_LAYER_COLORS = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9"]


def draw_costs(blocks, title=None, fig=None):
    """Stacked bars of each block's parameters and multiply-adds, split by layer.

    Parameters
    ----------
    blocks : dict ``{block name: {layer name: Cost}}``, 1 to 6 blocks; layers with the same
        name get the same colour in every bar (e.g. ``"1x1 reduce"``, ``"3x3"``,
        ``"1x1 expand"``)
    title : str or None, above both panels
    fig : Figure or None: draw into this figure (cleared) instead of a new one

    Returns
    -------
    matplotlib Figure: left, parameters; right, multiply-adds; one horizontal bar per block
    (the first on top), its segments the layers, each bar labelled with its total. The bars'
    patches have gids ``"cost:<params|macs>:<block>:<layer>"``.
    """
    fn = "draw_costs"
    if not 1 <= len(blocks) <= 6:
        raise ValueError(f"{fn}: give 1 to 6 blocks, got {len(blocks)}")
    layers = []
    for name, parts in blocks.items():
        for layer, cost in parts.items():
            if not isinstance(cost, Cost):
                raise ValueError(f"{fn}: blocks[{name!r}][{layer!r}] must be a Cost (from "
                                 f"convlab.conv_cost), got {type(cost).__name__}")
            if layer not in layers:
                layers.append(layer)
    colors = {layer: _LAYER_COLORS[n % len(_LAYER_COLORS)] for n, layer in enumerate(layers)}
    height = 1.3 + 0.55 * len(blocks) + (0.3 if title else 0)
    fig = new_figure(FIG_WIDTH, height, fig)
    if title:
        fig.suptitle(title, fontsize=FONT["title"], y=0.99, va="top")
    top = 1 - (0.75 if title else 0.45) / height
    names = list(blocks)
    for j, what in enumerate(("params", "macs")):
        ax = fig.add_axes((0.2 + j * 0.41, 0.8 / height, 0.33, top - 0.8 / height))
        totals = []
        for row, name in enumerate(names):
            left = 0
            for layer, cost in blocks[name].items():
                value = getattr(cost, what)
                ax.barh(row, value, left=left, color=colors[layer], edgecolor="white",
                        height=0.62, gid=f"cost:{what}:{name}:{layer}")
                left += value
            totals.append(left)
        biggest = max(max(totals), 1)
        for row, total in enumerate(totals):
            ax.text(total + 0.02 * biggest, row, f"{total:,}", va="center",
                    fontsize=FONT["small"], color=COLORS["text"])
        ax.set_xlim(0, biggest * 1.42)
        ax.set_ylim(len(names) - 0.5, -0.5)
        ax.set_yticks(np.arange(len(names)), names if j == 0 else [""] * len(names))
        ax.tick_params(labelsize=FONT["small"])
        ax.set_title("parameters" if what == "params" else "multiply-adds",
                     fontsize=FONT["label"])
        ax.xaxis.set_major_formatter(FuncFormatter(_short))
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
    handles = [Rectangle((0, 0), 1, 1, color=colors[layer]) for layer in layers]
    fig.legend(handles, layers, loc="lower center", ncol=len(layers), frameon=False,
               fontsize=FONT["small"], bbox_to_anchor=(0.5, 0.0))
    return fig


def _short(value, _position=None):
    """An axis tick in words a reader says: 0, 20k, 1.5M (no 1e8 offset above the axis)."""
    for size, unit in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"{value / size:g}{unit}"
    return f"{value:g}"
