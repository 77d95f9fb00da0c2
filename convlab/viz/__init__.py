"""Pictures of convolution, drawn from convlab's own ops: ``import convlab.viz as viz``.

Every function returns the matplotlib Figure it drew (made with ``matplotlib.figure.Figure``,
so it shows once in a notebook and never leaks into pyplot), or an animation object; none calls
``plt.show()``. One palette and one grid style for the whole course live in ``style``.

Modules by idea: ``grids`` (2-D and 1-D grid diagrams, the matrix view), ``work`` (the
arithmetic of one output), ``volumes`` (3-D boxes), ``channels`` (filters as stacks of
kernels, groups, shuffle), ``fields`` (receptive fields, deformable sampling), ``features``
(real images, checkerboard artefacts), ``training`` (a network as it trains:
progress, loss curves, learned kernels), ``animate`` (animations and the GIF gallery),
``widgets`` (the ipywidgets explorers: ``viz.conv_explorer`` etc., imported on first use).
"""

from .animate import (
    CASES,
    AnimatedPNG,
    animate_case,
    animate_conv1d,
    animate_conv2d,
    animate_conv3d,
    animate_conv_transpose2d,
    animate_deform_learning,
    animate_depthwise,
    animate_pointwise,
    gallery,
    save_gif,
    save_mp4,
    to_png,
)
from .channels import (
    connections,
    draw_channels,
    draw_depthwise,
    draw_influence,
    draw_multichannel,
    draw_pointwise,
    draw_shuffle,
)
from .costs import draw_costs
from .features import draw_checkerboard, draw_feature_maps, draw_images, draw_maps, overlap_counts
from .fields import (
    draw_deform_grid,
    draw_deform_grids,
    draw_deform_learning,
    draw_erf,
    draw_erfs,
    draw_field_growth,
    draw_reach,
    draw_receptive_field,
    make_offsets,
    reach_counts,
)
from .grids import (
    draw_all_windows,
    draw_conv1d,
    draw_conv2d,
    draw_conv_matrix,
    draw_conv_matrix_transpose,
    draw_conv_transpose2d,
)
from .style import COLORS, drawn_cells, drawn_text
from .training import TrainingProgress, draw_kernels, draw_losses
from .volumes import draw_conv3d, draw_flattened, draw_slices, draw_volume
from .work import Work, show_work

__all__ = [
    "AnimatedPNG",
    "CASES",
    "COLORS",
    "TrainingProgress",
    "Work",
    "animate_case",
    "animate_conv1d",
    "animate_conv2d",
    "animate_conv3d",
    "animate_conv_transpose2d",
    "animate_deform_learning",
    "animate_depthwise",
    "animate_pointwise",
    "connections",
    "draw_all_windows",
    "draw_channels",
    "draw_checkerboard",
    "draw_conv1d",
    "draw_conv2d",
    "draw_conv3d",
    "draw_conv_matrix",
    "draw_conv_matrix_transpose",
    "draw_conv_transpose2d",
    "draw_costs",
    "draw_deform_grid",
    "draw_deform_grids",
    "draw_deform_learning",
    "draw_depthwise",
    "draw_erf",
    "draw_erfs",
    "draw_feature_maps",
    "draw_field_growth",
    "draw_flattened",
    "draw_images",
    "draw_influence",
    "draw_kernels",
    "draw_losses",
    "draw_maps",
    "draw_multichannel",
    "draw_pointwise",
    "draw_reach",
    "draw_receptive_field",
    "draw_shuffle",
    "draw_slices",
    "draw_volume",
    "drawn_cells",
    "drawn_text",
    "gallery",
    "make_offsets",
    "overlap_counts",
    "reach_counts",
    "save_gif",
    "save_mp4",
    "show_work",
    "to_png",
]

_WIDGETS = ("conv_explorer", "filter_playground", "receptive_field_explorer", "step_through")


def __getattr__(name):
    # the explorers import ipywidgets: load them when first asked for, not with every picture
    if name in _WIDGETS:
        from . import widgets

        return getattr(widgets, name)
    raise AttributeError(f"module 'convlab.viz' has no attribute {name!r}")
