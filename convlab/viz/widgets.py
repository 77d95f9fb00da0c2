"""Explorers (ipywidgets 8): move a slider, and the picture and its numbers follow.

Each explorer is an ``Explorer``, a ``VBox`` of its controls, a line of text (the formula with
the numbers substituted, or the worked sum), a line for errors and the picture in an ``Output``.
It draws once when it is made, so a notebook run headless (nbval, nbclient) still shows the
figure. The pictures are ``convlab.viz``'s own functions redrawn into one reused Figure; the
figure reaches the notebook as an SVG image and never enters pyplot, so nothing leaks
(``plt.get_fignums()`` stays as it was).
"""

import contextlib
import html
import io
import re

import ipywidgets as widgets
import numpy as np
from matplotlib import rc_context

from .. import _validate as v
from ..arithmetic import conv_output_size, conv_transpose_output_size, receptive_field
from ..conv import conv2d
from ..data import KERNELS, sample_image
from .fields import draw_receptive_field
from .grids import _geometry, _image, draw_conv2d, draw_conv_transpose2d
from .style import COLORS, FIG_WIDTH, FONT, fmt, new_figure
from .work import show_work

__all__ = ["Explorer", "conv_explorer", "filter_playground", "receptive_field_explorer",
           "step_through"]

_LABEL_WIDTH = {"description_width": "150px"}
_PIXELS_PER_INCH = 80  # the standard 9-inch figure is 720 pixels wide
_MAX_SIDE = 160  # pixels: the playground filters and redraws the image at every key stroke


def _svg(fig):
    """``fig`` as a notebook output: an SVG image, with the figure's titles as its plain text.

    Vector, so it stays sharp at any zoom. Text stays text (``svg.fonttype: none``) instead of
    glyph outlines, which makes it two to three times faster than rendering a PNG for the grids
    of numbers; fixed ids and no date keep the saved notebook the same from run to run.
    """
    buffer = io.BytesIO()
    with rc_context({"svg.fonttype": "none", "svg.hashsalt": "convlab"}):
        fig.savefig(buffer, format="svg", metadata={"Date": None})
    # matplotlib sizes the image in points (9 in = 864 screen pixels), wider than a notebook's
    # output area beside the file browser, and JupyterLab does not shrink SVG images to fit
    width, height = fig.get_size_inches() * _PIXELS_PER_INCH
    svg = re.sub(r'width="[\d.]+pt" height="[\d.]+pt"',
                 f'width="{width:.0f}px" height="{height:.0f}px"',
                 buffer.getvalue().decode("utf-8"), count=1)
    return {
        "output_type": "display_data",
        "data": {
            "image/svg+xml": svg,
            "text/plain": "\n".join(t.get_text() for t in fig.texts) or repr(fig),
        },
        "metadata": {},
    }


def _pre(*lines):
    """Lines of monospaced text as HTML (a formula and its numbers, aligned)."""
    body = "\n".join(html.escape(line) for line in lines)
    return f'<pre style="margin: 4px 0; font-size: 13px; line-height: 1.5">{body}</pre>'


def _slider(description, value, low, high):
    return widgets.IntSlider(value=value, min=low, max=high, description=description,
                             style=_LABEL_WIDTH, layout=widgets.Layout(width="340px"))


class Explorer(widgets.VBox):
    """An interactive picture: controls, a line of text, a line for errors, the figure.

    Attributes
    ----------
    sliders : dict, name -> control; a change of any of their values redraws the picture
    text : ``ipywidgets.HTML``, the formula with the numbers substituted (or the worked sum)
    message : ``ipywidgets.HTML``, empty, or the ``ValueError``'s message when the values do
        not make a convolution (the picture is then cleared: it would contradict the sliders)
    output : ``ipywidgets.Output`` holding the picture as an SVG image
    figure : the matplotlib Figure drawn into, reused by every redraw
    """

    def __init__(self, sliders, controls, draw, name="explorer"):
        """``draw(explorer, **values)`` writes ``explorer.text`` and returns the Figure drawn."""
        self.name = name
        self.sliders = dict(sliders)
        self.text = widgets.HTML().add_class("convlab-formula")
        self.message = widgets.HTML().add_class("convlab-message")
        self.output = widgets.Output()
        self.figure = None
        self._draw = draw
        self._held = False
        super().__init__([controls, self.text, self.message, self.output])
        for control in self.sliders.values():
            control.observe(self.update, names="value")
        self.update()

    def __repr__(self):
        # the plain-text fallback a notebook shows where the widget cannot render (a code
        # host, a notebook opened before its cell is run): say what it is, not its children
        return f"convlab {self.name}: run this cell in Jupyter to use its controls"

    def values(self):
        """The controls' current values, name -> value."""
        return {name: control.value for name, control in self.sliders.items()}

    def update(self, change=None):
        """Redraw from the controls' values: the callback of every control."""
        if self._held:
            return
        try:
            self.figure = self._draw(self, **self.values())
        except ValueError as err:
            self.message.value = (f'<div style="color: {COLORS["window"]}; line-height: 1.4">'
                                  f"⚠ {html.escape(str(err))}</div>")
            self.output.outputs = ()
            return
        self.message.value = ""
        self.output.outputs = (_svg(self.figure),)

    @contextlib.contextmanager
    def hold(self):
        """Change several controls, then redraw once."""
        self._held = True
        try:
            yield
        finally:
            self._held = False
        self.update()


# --- the convolution explorer ------------------------------------------------------------------


def _conv_formula(i, k, s, p, d):
    """The output-size formula, its steps with the numbers substituted, and the size function.

    The sizes are asked for as (H, W) pairs so that a message names the axis as a learner
    sees it in the picture (H, not L).
    """
    top = i + 2 * p - d * (k - 1) - 1
    return ("o = floor((i + 2p - d(k-1) - 1) / s) + 1",
            [f"floor(({i} + 2·{p} - {d}·({k}-1) - 1) / {s}) + 1", f"floor({top} / {s}) + 1"],
            lambda: conv_output_size((i, i), k, s, p, d))


def _transpose_formula(i, k, s, p, d, op):
    return ("o = (i - 1)·s - 2p + d(k-1) + output_padding + 1",
            [f"({i} - 1)·{s} - 2·{p} + {d}·({k}-1) + {op} + 1"],
            lambda: conv_transpose_output_size((i, i), k, s, p, op, d))


def _draw_conv(ex, input_size, kernel_size, stride, padding, dilation, output_padding,
               transposed):
    ex.sliders["output_padding"].disabled = not transposed
    args = (input_size, kernel_size, stride, padding, dilation)
    rule, steps, size = (_transpose_formula(*args, output_padding) if transposed
                         else _conv_formula(*args))
    worked = "  = " + " = ".join(steps)
    ex.text.value = _pre(rule, worked + "  → no output (see below)")
    out = size()  # a ValueError here is the message the learner sees
    ex.text.value = _pre(rule, f"{worked} = {out[0]}", f"output {out[0]}×{out[1]}")
    if transposed:
        return draw_conv_transpose2d(input_size, kernel_size, stride, padding, output_padding,
                                     dilation=dilation, fig=ex.figure)
    return draw_conv2d(input_size, kernel_size, stride, padding, dilation, fig=ex.figure)


def conv_explorer(input_size=5, kernel_size=3, stride=1, padding=0, dilation=1,
                  output_padding=0, transposed=False):
    """Sliders for a square 2-D convolution's sizes: the grids redraw, the output size follows.

    The picture is ``draw_conv2d`` (``draw_conv_transpose2d`` with ``transposed``); the text is
    the output-size formula with the numbers substituted, computed by ``conv_output_size``::

        o = floor((i + 2p - d(k-1) - 1) / s) + 1                 (padding p on each side)
        o = (i - 1)·s - 2p + d(k-1) + output_padding + 1        (transposed)

    Values that make no convolution (a kernel wider than the padded input, ...) show the
    ``ValueError``'s message instead of a picture.

    Parameters
    ----------
    input_size, kernel_size, stride, padding, dilation, output_padding : int, the sliders'
        starting values (``output_padding`` is used by the transposed view only)
    transposed : bool, start with the transposed convolution

    Returns
    -------
    Explorer with ``.sliders`` ``"input_size"``, ``"kernel_size"``, ``"stride"``,
    ``"padding"``, ``"dilation"``, ``"output_padding"`` and ``"transposed"``.
    """
    sliders = {
        "input_size": _slider("input size i", input_size, 1, 10),
        "kernel_size": _slider("kernel size k", kernel_size, 1, 7),
        "stride": _slider("stride s", stride, 1, 4),
        "padding": _slider("padding p (per side)", padding, 0, 4),
        "dilation": _slider("dilation d", dilation, 1, 4),
        "output_padding": _slider("output_padding", output_padding, 0, 3),
        "transposed": widgets.ToggleButton(value=transposed, description="transposed",
                                           tooltip="conv_transpose2d instead of conv2d",
                                           icon="exchange"),
    }
    names = list(sliders)
    controls = widgets.HBox([widgets.VBox([sliders[n] for n in names[:3]]),
                             widgets.VBox([sliders[n] for n in names[3:6]]),
                             sliders["transposed"]])
    return Explorer(sliders, controls, _draw_conv, name="conv_explorer")


# --- the filter playground ---------------------------------------------------------------------


def _shrink(image, side):
    """``image`` ``(H, W)`` averaged over blocks of ``f x f`` pixels so that both sides <= ``side``.

    Block means, not every f-th pixel: skipping pixels would alias fine texture into stripes
    that the edge kernels then "find".
    """
    f = -(-max(image.shape) // side)
    if f == 1:
        return image
    h, w = (n // f * f for n in image.shape)
    return image[:h, :w].reshape(h // f, f, w // f, f).mean(axis=(1, 3))


def _sum_note(total):
    if np.isclose(total, 1):
        return "flat regions keep their brightness"
    if np.isclose(total, 0):
        return "flat regions become 0: only changes (edges) remain"
    return f"flat regions are scaled by {fmt(total)}"


class _FilterPicture:
    """The image, its filtered version and their histogram, in one figure updated in place."""

    def __init__(self, image):
        self.image = image
        self.figure = new_figure(FIG_WIDTH, 3.4)
        ax_in, ax_out, self.ax_hist = self.figure.subplots(
            1, 3, gridspec_kw={"width_ratios": [1, 1.2, 1.15], "wspace": 0.45})
        for ax in (ax_in, ax_out):
            ax.set_xticks([])
            ax.set_yticks([])
        # interpolation "none": the SVG carries the pixels themselves, drawn as crisp squares
        # (a third of the time and of the size of a resampled image)
        ax_in.imshow(image, cmap="gray", vmin=0, vmax=1, interpolation="none")
        ax_in.set_title(f"image {image.shape[0]}×{image.shape[1]}", fontsize=FONT["label"])
        self.shown = ax_out.imshow(image, cmap="gray", interpolation="none")
        self.ax_out = ax_out
        bar = self.figure.colorbar(self.shown, ax=ax_out, fraction=0.046, pad=0.03)
        bar.ax.tick_params(labelsize=FONT["small"])
        self.bars = self.ax_hist.stairs([0], [0, 1], fill=True, color=COLORS["output"])
        self.ax_hist.set_title("histogram of the filtered image", fontsize=FONT["label"])
        self.ax_hist.set_xlabel("value", fontsize=FONT["small"])
        self.ax_hist.tick_params(labelsize=FONT["small"])
        self.figure.subplots_adjust(left=0.02, right=0.99, bottom=0.15, top=0.86)

    def draw(self, kernel):
        """Filter with ``kernel`` ``(3, 3)``; return the result ``(H, W)``.

        Colours as ``draw_feature_maps``: grey, or purple-orange centred on 0 when the kernel
        sums to 0 (an edge detector's signed response).
        """
        result = conv2d(self.image[None, None], kernel[None, None], padding=1)[0, 0]
        low, high = float(result.min()), float(result.max())
        self.shown.set_data(result)
        if np.isclose(kernel.sum(), 0):
            limit = max(abs(low), abs(high), 1e-12)
            self.shown.set_cmap("PuOr_r")
            self.shown.set_clim(-limit, limit)
        else:
            self.shown.set_cmap("gray")
            self.shown.set_clim(low, max(high, low + 1e-12))
        self.ax_out.set_title(f"conv2d(image, kernel, padding=1)\nvalues {fmt(low)} … {fmt(high)}",
                              fontsize=FONT["label"])
        counts, edges = np.histogram(result, bins=48)
        self.bars.set_data(counts, edges)
        self.ax_hist.set_xlim(edges[0], edges[-1])
        self.ax_hist.set_ylim(0, counts.max() * 1.08)
        return result


def filter_playground(image=None, preset="sobel_x"):
    """Edit a 3x3 kernel and see it filter an image, and the filtered values' histogram.

    Nine number boxes hold the kernel; the preset menu fills them with one of
    ``convlab.data.KERNELS`` (and shows "custom" once the boxes match none). The filtered image
    is ``convlab.conv2d(image, kernel, padding=1)``: a cross-correlation, as in deep learning.

    Parameters
    ----------
    image : array ``(H, W)`` or None (``sample_image("grace_hopper")``); averaged down to at
        most 160 pixels a side so that every key stroke redraws at once
    preset : name in ``KERNELS``, the starting kernel

    Returns
    -------
    Explorer with ``.sliders`` ``"k[r,c]"`` for the nine boxes, ``.preset`` (the menu),
    ``.boxes`` (3 x 3 nested list of the boxes), ``.kernel`` (the current kernel, ``(3, 3)``)
    and ``.result`` (the filtered image, ``(H', W')``).
    """
    fn = "filter_playground"
    if preset not in KERNELS:
        raise ValueError(f"{fn}: unknown preset {preset!r}; choose one of {sorted(KERNELS)}")
    image = sample_image() if image is None else _image(fn, "image", v.array(fn, "image", image))
    picture = _FilterPicture(_shrink(np.asarray(image, dtype=np.float64), _MAX_SIDE))
    boxes = [[widgets.FloatText(value=float(KERNELS[preset][r, c]), step=0.1,
                                layout=widgets.Layout(width="72px"))
              for c in range(3)] for r in range(3)]
    menu = widgets.Dropdown(options=[*KERNELS, "custom"], value=preset, description="preset",
                            style={"description_width": "50px"})
    grid = widgets.GridBox([b for row in boxes for b in row],
                           layout=widgets.Layout(grid_template_columns="repeat(3, 76px)"))
    sliders = {f"k[{r},{c}]": boxes[r][c] for r in range(3) for c in range(3)}

    def draw(ex, **values):
        ex.kernel = np.array([[boxes[r][c].value for c in range(3)] for r in range(3)])
        ex.result = picture.draw(ex.kernel)
        menu.value = next((name for name, k in KERNELS.items()
                           if np.array_equal(k, ex.kernel)), "custom")
        total = float(ex.kernel.sum())
        ex.text.value = _pre(f"kernel sum = {fmt(total)}: {_sum_note(total)}")
        return picture.figure

    controls = widgets.HBox([widgets.VBox([widgets.Label("kernel (3×3)"), grid]), menu])
    ex = Explorer(sliders, controls, draw, name="filter_playground")
    ex.preset, ex.boxes = menu, boxes

    def fill(change):
        if change["new"] == "custom" or np.array_equal(ex.kernel, KERNELS[change["new"]]):
            return
        with ex.hold():
            for (r, c), value in np.ndenumerate(KERNELS[change["new"]]):
                boxes[r][c].value = float(value)

    menu.observe(fill, names="value")
    return ex


# --- step through the output positions ---------------------------------------------------------


def step_through(x, weight, bias=None, stride=1, padding=0, dilation=1):
    """Slide over the output positions of a 2-D convolution: the window and its worked sum.

    The picture is ``draw_conv2d(x=x, weight=weight, position=...)``, the text the sum written
    out by ``show_work``: ``output[r, c] = sum_{i,j} x[r*s + i*d, c*s + j*d] * w[i, j] + b``
    (on the padded input).

    Parameters
    ----------
    x : array ``(H, W)``
    weight : array ``(kh, kw)``
    bias : float or None
    stride, padding, dilation : int or tuple of 2 ints, as ``conv2d`` (padding per side)

    Returns
    -------
    Explorer with ``.sliders["position"]`` (its value is ``(row, col)``, in row-major order),
    ``.play`` (steps through by itself in a browser) and ``.work``, the ``Work`` shown.
    """
    fn = "step_through"
    x = _image(fn, "x", v.array(fn, "x", x))
    weight = _image(fn, "weight", v.array(fn, "weight", weight))
    out = _geometry(fn, x.shape, weight.shape, stride, padding, dilation)[-1]
    cells = [(r, c) for r in range(out[0]) for c in range(out[1])]
    slider = widgets.SelectionSlider(options=[(f"({r}, {c})", (r, c)) for r, c in cells],
                                     value=(0, 0), description="output position",
                                     style=_LABEL_WIDTH, layout=widgets.Layout(width="420px"))
    play = widgets.Play(min=0, max=len(cells) - 1, interval=800, description="step")
    widgets.jslink((play, "value"), (slider, "index"))

    def draw(ex, position):
        ex.work = show_work(x, weight, bias, position, stride, padding, dilation)
        ex.text.value = _pre(f"output[{position[0]}, {position[1]}] = {ex.work.text}")
        return draw_conv2d(x=x, weight=weight, bias=bias, stride=stride, padding=padding,
                           dilation=dilation, position=position, fig=ex.figure)

    ex = Explorer({"position": slider}, widgets.HBox([play, slider]), draw, name="step_through")
    ex.play = play
    return ex


# --- the receptive field of a stack ------------------------------------------------------------

_MAX_LAYERS = 6


def _field_lines(layers, fields):
    """The receptive-field recursion with each layer's numbers substituted."""
    lines = ["r_l = r_(l-1) + d_l·(k_l - 1)·j_(l-1)    j_l = j_(l-1)·s_l    (r_0 = j_0 = 1)"]
    for n, ((k, s, _, d), before, after) in enumerate(zip(layers, fields, fields[1:]), 1):
        lines.append(f"layer {n}: r = {before.size} + {d}·({k} - 1)·{before.jump} = {after.size}"
                     f"    j = {before.jump}·{s} = {after.jump}"
                     f"    output {after.out}×{after.out}")
    weights = sum(k * k for k, *_ in layers)
    size = fields[-1].size
    lines.append(f"{len(layers)} layer{'s' * (len(layers) > 1)} see {size}×{size} input pixels "
                 f"with {weights} weights per channel pair; one {size}×{size} kernel has "
                 f"{size * size}")
    return lines


def receptive_field_explorer(layers=2, input_size=7, kernel_size=3, stride=1, dilation=1):
    """A stack of square convolutions, one row of sliders per layer, and what its centre unit sees.

    The picture is ``draw_receptive_field``; the numbers are ``convlab.receptive_field``'s,
    written out with the recursion (padding 0)::

        r_l = r_{l-1} + d_l (k_l - 1) j_{l-1},    j_l = j_{l-1} s_l,    r_0 = j_0 = 1

    Parameters
    ----------
    layers : int, 1 to 6, how many layers are shown at first
    input_size : int, the input is ``input_size x input_size``
    kernel_size, stride, dilation : int, every layer's starting values

    Returns
    -------
    Explorer with ``.sliders`` ``"layers"``, ``"input_size"`` and, for ``l`` = 1 to 6,
    ``"kernel_size_l"``, ``"stride_l"``, ``"dilation_l"`` (the rows beyond ``layers`` are
    hidden), ``.rows`` (one ``HBox`` of sliders per layer) and ``.fields``, the
    ``ReceptiveField`` list shown.
    """
    sliders = {"layers": _slider("layers", layers, 1, _MAX_LAYERS),
               "input_size": _slider("input size", input_size, 1, 32)}
    rows = []
    for n in range(1, _MAX_LAYERS + 1):
        row = [widgets.Label(f"layer {n}", layout=widgets.Layout(width="60px"))]
        for name, value, high in (("kernel_size", kernel_size, 7), ("stride", stride, 4),
                                  ("dilation", dilation, 4)):
            sliders[f"{name}_{n}"] = widgets.IntSlider(value=value, min=1, max=high,
                                                       layout=widgets.Layout(width="200px"))
            row.append(sliders[f"{name}_{n}"])
        rows.append(widgets.HBox(row))
    header = widgets.HBox([widgets.Label(text, layout=widgets.Layout(width=width))
                           for text, width in (("", "60px"), ("kernel k", "200px"),
                                               ("stride s", "200px"), ("dilation d", "200px"))])

    def draw(ex, **values):
        count = values["layers"]
        for n, row in enumerate(rows, 1):
            row.layout.display = None if n <= count else "none"
        stack = [(values[f"kernel_size_{n}"], values[f"stride_{n}"], 0, values[f"dilation_{n}"])
                 for n in range(1, count + 1)]
        ex.text.value = ""  # no stale numbers beside an error message
        ex.fields = receptive_field(stack, values["input_size"])
        ex.text.value = _pre(*_field_lines(stack, ex.fields))
        return draw_receptive_field(stack, values["input_size"], fig=ex.figure)

    controls = widgets.VBox([widgets.HBox([sliders["layers"], sliders["input_size"]]), header,
                             *rows])
    ex = Explorer(sliders, controls, draw, name="receptive_field_explorer")
    ex.rows = rows
    return ex
