"""Convolution on real images: feature maps of classic filters, and checkerboard artefacts."""

import numpy as np

from .. import _validate as v
from ..conv import conv2d, conv_transpose2d
from .style import COLORS, FIG_WIDTH, FONT, fmt, new_figure

__all__ = ["draw_checkerboard", "draw_feature_maps", "draw_images", "draw_maps",
           "overlap_counts"]


def _kernel_text(kernel):
    """A small kernel in one line, e.g. ``1/16·[1 2 1; 2 4 2; 1 2 1]``; None above 3x3.

    A common denominator up to 256 is taken out, so that blurs read as integers.
    """
    if kernel.shape[0] > 3 or kernel.shape[1] > 3:
        return None
    scale = next((d for d in range(1, 257) if np.allclose(kernel * d, np.round(kernel * d))), 1)
    rows = "; ".join(" ".join(fmt(a * scale) for a in row) for row in kernel)
    return f"1/{scale}·[{rows}]" if scale > 1 else f"[{rows}]"


def _show(fig, ax, data, signed, title):
    """``data`` as an image with a colour bar: signed data on a diverging map centred on 0."""
    if signed:
        limit = max(float(np.abs(data).max()), 1e-12)
        im = ax.imshow(data, cmap="PuOr_r", vmin=-limit, vmax=limit)
    elif data.min() == data.max():  # a constant map is its value, not a mid-grey: 0 is black
        value = float(data.flat[0])
        im = ax.imshow(data, cmap="gray", vmin=min(value, 0.0), vmax=max(value, 0.0) or 1.0)
    else:
        im = ax.imshow(data, cmap="gray")
    ax.set_title(title, fontsize=FONT["label"], linespacing=1.4)
    ax.set_xticks([])
    ax.set_yticks([])
    bar = fig.colorbar(im, ax=ax, fraction=0.046, pad=0.03)
    bar.ax.tick_params(labelsize=FONT["small"])
    return im


def draw_feature_maps(image, kernels, fig=None):
    """An image and the feature map each kernel makes of it, with colour bars.

    Parameters
    ----------
    image : array ``(H, W)``, e.g. ``convlab.data.sample_image()``
    kernels : dict ``name -> array (kh, kw)``, e.g. a few of ``convlab.data.KERNELS``
    fig : Figure or None: draw into this figure (cleared) instead of a new one

    Returns
    -------
    matplotlib Figure, one panel per map (the image first): each map is
    ``conv2d(image, kernel, padding='same')`` (a cross-correlation, the same size as the image),
    drawn grey, or on a purple-orange scale centred on 0 when the kernel sums to 0 (an edge
    detector: its response is signed, 0 on flat regions).
    Each map's axes has gid ``"feature:<name>"``.
    """
    fn = "draw_feature_maps"
    image = v.array(fn, "image", image)
    if image.ndim != 2:
        raise ValueError(f"{fn}: image must be 2-D (H, W), got shape {image.shape}")
    if not kernels:
        raise ValueError(f"{fn}: give at least one kernel, e.g. {{'sobel_x': KERNELS['sobel_x']}}")
    maps = {}
    for name, kernel in kernels.items():
        kernel = v.array(fn, f"kernels[{name!r}]", kernel)
        if kernel.ndim != 2:
            raise ValueError(f"{fn}: kernels[{name!r}] must be 2-D (kh, kw), got shape "
                             f"{kernel.shape}")
        maps[name] = (kernel, conv2d(image[None], kernel[None, None], padding="same")[0])

    panels = [("input", image, bool(image.min() < 0), "input image")]
    for name, (kernel, fmap) in maps.items():
        text = _kernel_text(kernel)
        # spaces, not underscores: an underscore above the kernel's numbers reads as a bar
        title = name.replace("_", " ") + ("" if text is None else f"\n{text}")
        panels.append((name, fmap, bool(np.isclose(kernel.sum(), 0)), title))
    return _panels(panels, f"feature maps: each kernel slid over a {image.shape[0]}×"
                           f"{image.shape[1]} image (conv2d, padding 'same')", fig)


def _panels(panels, title, fig=None):
    """``(gid name, 2-D array, signed, title)`` panels, four to a row, under ``title``."""
    cols = min(4, len(panels))
    rows = -(-len(panels) // cols)
    lines = title.count("\n") + 1
    label_lines = max(label.count("\n") + 1 for _, _, _, label in panels)
    # a square image about as wide as its column leaves beside its colour bar; between rows,
    # room for the next row's titles
    image = 0.72 * FIG_WIDTH / cols
    gap = 0.2 * label_lines + 0.3
    room = 0.2 + 0.25 * lines + 0.2 * label_lines  # inches above the first row's images
    fig = new_figure(FIG_WIDTH, rows * image + (rows - 1) * gap + room + 0.1, fig)
    fig.suptitle(title, fontsize=FONT["title"], y=0.995, va="top")
    grid = fig.add_gridspec(rows, cols, left=0.02, right=0.96, bottom=0.1 / fig.get_figheight(),
                            top=1 - room / fig.get_figheight(), wspace=0.3, hspace=gap / image)
    for n, (name, data, signed, label) in enumerate(panels):
        ax = fig.add_subplot(grid[n // cols, n % cols])
        _show(fig, ax, data, signed=signed, title=label)
        ax.set_gid(f"feature:{name}")
    return fig


def draw_maps(maps, title, fig=None):
    """Maps computed elsewhere (an image, a layer's outputs), side by side with colour bars.

    Parameters
    ----------
    maps : dict ``title -> array (H, W)``; a map with negative values is drawn on the
        purple-orange scale centred on 0, others grey
    title : str, the figure's title
    fig : Figure or None: draw into this figure (cleared) instead of a new one

    Returns
    -------
    matplotlib Figure, one panel per map in the order given, four to a row; each map's axes
    has gid ``"feature:<title>"``.
    """
    fn = "draw_maps"
    if not maps:
        raise ValueError(f"{fn}: give at least one map, e.g. {{'input': image}}")
    panels = []
    for name, data in maps.items():
        data = v.array(fn, f"maps[{name!r}]", data)
        if data.ndim != 2:
            raise ValueError(f"{fn}: maps[{name!r}] must be 2-D (H, W), got shape {data.shape}")
        panels.append((name, data, bool(data.min() < 0), name))
    return _panels(panels, title, fig)


def overlap_counts(kernel_size, stride, input_size):
    """How many kernel stamps of a transposed convolution land on each output pixel.

    ``conv_transpose2d`` of an ``input_size x input_size`` image of ones with a
    ``kernel_size x kernel_size`` kernel of ones: array ``(o, o)``, ``o = (i - 1)s + k``.
    """
    ones = np.ones((1, 1, input_size, input_size))
    return conv_transpose2d(ones, np.ones((1, 1, kernel_size, kernel_size)), stride=stride)[0, 0]


def _upsample(image, kernel_size, stride):
    """``image`` up-sampled by a transposed convolution with a flat kernel of mean gain 1."""
    kernel = np.full((1, 1, kernel_size, kernel_size), stride ** 2 / kernel_size ** 2)
    return conv_transpose2d(image[None, None], kernel, stride=stride)[0, 0]


def draw_checkerboard(kernel_size=3, stride=2, input_size=8, image=None, fig=None):
    """Checkerboard artefacts of a transposed convolution: uneven overlap of the kernel stamps.

    Parameters
    ----------
    kernel_size, stride : int
    input_size : int, the side of the input of ones whose overlap is counted
    image : array ``(H, W)`` or None: also up-sample this image with a flat kernel of size
        ``kernel_size`` (the artefact) and with the nearest size divisible by ``stride``
        (the remedy)
    fig : Figure or None: draw into this figure (cleared) instead of a new one

    Returns
    -------
    matplotlib Figure: the overlap counts ``overlap_counts(kernel_size, stride, input_size)``
    as a heat map with the numbers written in (gids ``"text:counts:r,c"``), and with an image,
    the image up-sampled both ways.
    """
    fn = "draw_checkerboard"
    k = v.int_value(fn, "kernel_size", kernel_size, 1)
    s = v.int_value(fn, "stride", stride, 1)
    i = v.int_value(fn, "input_size", input_size, 1)
    counts = overlap_counts(k, s, i)
    interior = counts[k:-k, k:-k] if counts.shape[0] > 2 * k else counts
    levels = sorted({int(c) for c in np.unique(interior)})
    even = k % s == 0
    verdict = ("k divisible by s: every interior pixel gets the same number of stamps" if even
               else f"k not divisible by s: interior pixels get {levels} stamps, a checkerboard")
    title = (f"conv_transpose2d, kernel {k}×{k}, stride {s}: input {i}×{i} → output "
             f"{counts.shape[0]}×{counts.shape[1]}\n{verdict}")
    panels = 1 if image is None else 3
    fig = new_figure(FIG_WIDTH, 3.9 if panels == 3 else 4.6, fig)
    fig.suptitle(title, fontsize=FONT["title"], y=0.985, va="top")
    side = 0.03 if panels == 3 else 0.25  # one panel: centred, not stretched
    grid = fig.add_gridspec(1, panels, left=side, right=1 - side, bottom=0.04,
                            top=1 - 0.85 / fig.get_figheight(), wspace=0.25)
    ax = fig.add_subplot(grid[0, 0])
    im = ax.imshow(counts, cmap="cividis", vmin=0, interpolation="nearest")
    ax.set_title("overlap count per output pixel", fontsize=FONT["label"])
    ax.set_xticks([])
    ax.set_yticks([])
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.03).ax.tick_params(labelsize=FONT["small"])
    if counts.shape[0] <= (24 if image is None else 12):  # numbers only where they fit
        top = counts.max()
        for (r, c), n in np.ndenumerate(counts):
            ax.text(c, r, fmt(n), ha="center", va="center", fontsize=FONT["small"],
                    color=COLORS["text"] if n > 0.6 * top else "white",
                    gid=f"text:counts:{r},{c}")
    if image is not None:
        image = v.array(fn, "image", image)
        if image.ndim != 2:
            raise ValueError(f"{fn}: image must be 2-D (H, W), got shape {image.shape}")
        fixed = -(-k // s) * s if not even else k
        for n, (size, name) in enumerate([(k, "artefact"), (fixed, "remedy")], 1):
            ax = fig.add_subplot(grid[0, n])
            ax.imshow(_upsample(image, size, s), cmap="gray", interpolation="nearest")
            ax.set_title(f"{name}: image up-sampled ×{s}\nwith a flat {size}×{size} kernel",
                         fontsize=FONT["label"])
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_gid(f"upsampled:{size}")
    return fig


def draw_images(images, title=None, same_scale=True, fig=None):
    """Grey images side by side on one scale, each with its title and size: to compare
    up-sampled versions of one image.

    Parameters
    ----------
    images : dict ``title -> array (H, W)``, at most 4; the sizes may differ
    title : str or None, above all panels
    same_scale : bool: one grey scale for all (from the smallest to the largest value of all
        images), or each image from its own minimum to its own maximum
    fig : Figure or None: draw into this figure (cleared) instead of a new one

    Returns
    -------
    matplotlib Figure, one panel per image (gid ``"image:<n>"``), drawn pixel for pixel
    (nearest) in grey.
    """
    fn = "draw_images"
    if not images or len(images) > 4:
        raise ValueError(f"{fn}: give 1 to 4 images, got {len(images)}")
    arrays = [v.array(fn, "image", a) for a in images.values()]
    for a in arrays:
        if a.ndim != 2:
            raise ValueError(f"{fn}: every image must be 2-D (H, W), got shape {a.shape}")
    low = min(float(a.min()) for a in arrays)
    high = max(float(a.max()) for a in arrays)
    n = len(arrays)
    margin = 1.0 if title else 0.6  # inches above the panels: their titles (and the title)
    fig = new_figure(FIG_WIDTH, 0.92 * FIG_WIDTH / n + margin + 0.1, fig)
    if title:
        fig.suptitle(title, fontsize=FONT["title"], y=0.985, va="top")
    top = 1 - margin / fig.get_figheight()
    grid = fig.add_gridspec(1, n, left=0.01, right=0.99, bottom=0.02, top=top, wspace=0.06)
    for m, (name, a) in enumerate(zip(images, arrays)):
        ax = fig.add_subplot(grid[0, m])
        scale = (low, high) if same_scale else (float(a.min()), float(a.max()))
        ax.imshow(a, cmap="gray", vmin=scale[0], vmax=scale[1], interpolation="nearest")
        ax.set_anchor("N")
        ax.set_title(f"{name}\n{a.shape[0]}×{a.shape[1]}", fontsize=FONT["label"],
                     linespacing=1.3)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_gid(f"image:{m}")
    return fig
