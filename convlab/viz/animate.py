"""Animations: a diagram of ``grids`` redrawn window by window, one frame per output position.

Each frame *is* the static picture for that position (the same drawing function draws it into
one figure), so an animation can never disagree with the figures beside it.

In a notebook, ``to_png(anim)`` shows it as an animated PNG: an image that plays wherever a
notebook is shown (after Run All in JupyterLab, in a notebook opened untrusted, on a code host,
in an HTML export) with no JavaScript and no kernel; the ``step_through`` explorer steps by
hand. ``save_gif`` writes a GIF with Pillow for slides; ``save_mp4`` an MP4 where ffmpeg is.
"""

import io
import shutil
import tempfile
from pathlib import Path

import matplotlib as mpl
import numpy as np
from matplotlib.animation import FFMpegWriter, FuncAnimation, PillowWriter
from matplotlib.colors import to_rgb

from .. import _validate as v
from ..arithmetic import conv_output_size, conv_transpose_output_size
from .channels import draw_depthwise, draw_pointwise
from .fields import draw_deform_learning
from .grids import _geometry, _image, draw_conv1d, draw_conv2d, draw_conv_transpose2d
from .style import COLORS
from .volumes import draw_conv3d

__all__ = ["CASES", "animate_case", "animate_conv1d", "animate_conv2d", "animate_conv3d",
           "animate_conv_transpose2d", "animate_deform_learning", "animate_depthwise",
           "animate_pointwise", "gallery", "gallery_cases", "save_gif", "save_mp4", "to_png"]

PNG_DPI = 72  # a 9-inch-wide frame at 72 dpi is 648 px wide: 10 pt text stays legible
MAX_BYTES = 1_000_000  # an animation stored in a notebook stays under about 1 MB
COLOURS = 32  # one palette for all frames: the figures use 8 colours, the rest is anti-aliasing
INTERVAL = 700  # ms per frame: time to read one window's numbers


def _animate(draw, out, interval, **kwargs):
    """A FuncAnimation of ``draw(position=p, fig=fig, **kwargs)`` for every ``p`` of ``out``.

    ``out`` is the output's shape; positions run in row-major order, as the window slides.
    """
    positions = list(np.ndindex(*out))
    if len(out) == 1:
        positions = [p[0] for p in positions]
    fig = draw(position=positions[0], **kwargs)

    def frame(n):
        draw(position=positions[n], fig=fig, **kwargs)
        return []

    return FuncAnimation(fig, frame, frames=len(positions), interval=interval, repeat=True)


def animate_conv2d(input_size=5, kernel_size=3, stride=1, padding=0, dilation=1,
                   position=(0, 0), x=None, weight=None, bias=None, interval=INTERVAL):
    """``draw_conv2d`` animated: one frame per output position, row by row.

    Arguments as ``draw_conv2d`` (``position`` is accepted for the same signature and ignored:
    every position is a frame); ``interval`` in ms per frame.

    Returns
    -------
    matplotlib.animation.FuncAnimation with ``H_out * W_out`` frames; show it with
    ``to_png``, save it with ``save_gif`` / ``save_mp4``.
    """
    fn = "animate_conv2d"
    xs = _image(fn, "x", x)
    ws = _image(fn, "weight", weight)
    sizes = _geometry(fn, input_size if xs is None else xs.shape,
                      kernel_size if ws is None else ws.shape, stride, padding, dilation)
    return _animate(draw_conv2d, sizes[-1], interval, input_size=input_size,
                    kernel_size=kernel_size, stride=stride, padding=padding, dilation=dilation,
                    x=x, weight=weight, bias=bias)


def animate_conv_transpose2d(input_size=2, kernel_size=3, stride=1, padding=0, output_padding=0,
                             position=(0, 0), x=None, weight=None, dilation=1,
                             interval=INTERVAL):
    """``draw_conv_transpose2d`` animated: one frame per output position, row by row.

    Each frame shows the window of the equivalent direct convolution and, below, the stamp of
    the first input cell that reaches that output. Arguments as ``draw_conv_transpose2d``
    (``position`` ignored); ``interval`` in ms per frame.

    Returns
    -------
    matplotlib.animation.FuncAnimation with ``H_out * W_out`` frames.
    """
    fn = "animate_conv_transpose2d"
    xs = _image(fn, "x", x)
    ws = _image(fn, "weight", weight)
    i = v.int_tuple(fn, "input_size", input_size if xs is None else xs.shape, 2, 1)
    k = v.int_tuple(fn, "kernel_size", kernel_size if ws is None else ws.shape, 2, 1)
    out = conv_transpose_output_size(i, k, stride, padding, output_padding, dilation)
    return _animate(draw_conv_transpose2d, out, interval, input_size=input_size,
                    kernel_size=kernel_size, stride=stride, padding=padding,
                    output_padding=output_padding, x=x, weight=weight, dilation=dilation)


def animate_conv1d(x, kernel, mode="correlate", interval=INTERVAL):
    """``draw_conv1d`` animated: one frame per output position (``L - kL + 1`` frames).

    x ``(L,)``, kernel ``(kL,)``; ``mode`` ``"correlate"`` or ``"convolve"`` (kernel flipped).
    Returns a ``FuncAnimation``.
    """
    fn = "animate_conv1d"
    n = len(_image(fn, "x", x, nd=1))
    m = len(_image(fn, "kernel", kernel, nd=1))
    if m > n:
        raise ValueError(f"{fn}: the kernel ({m}) is longer than the signal ({n})")
    return _animate(draw_conv1d, (n - m + 1,), interval, x=x, kernel=kernel, mode=mode)


def animate_pointwise(x, weight, bias=None, interval=INTERVAL):
    """``draw_pointwise`` animated: one frame per pixel, row by row, the same matrix each time.

    x ``(C_in, H, W)``, weight ``(C_out, C_in, 1, 1)`` or ``(C_out, C_in)``, bias ``(C_out,)``
    or None. Returns a ``FuncAnimation`` with ``H * W`` frames.
    """
    shape = np.shape(x)
    if len(shape) != 3:
        raise ValueError(f"animate_pointwise: x must be (C_in, H, W), got shape {shape}")
    return _animate(draw_pointwise, shape[1:], interval, x=x, weight=weight, bias=bias)


def animate_depthwise(x, weight, bias=None, interval=INTERVAL):
    """``draw_depthwise`` animated: one frame per output position, row by row, every channel's
    window moving together, each with its own kernel.

    x ``(C, H, W)``, weight ``(C, 1, kh, kw)`` or ``(C, kh, kw)``, bias ``(C,)`` or None.
    Returns a ``FuncAnimation`` with ``H_out * W_out`` frames (stride 1, no padding).
    """
    shape, kernel = np.shape(x), np.shape(weight)
    if len(shape) != 3 or len(kernel) not in (3, 4):
        raise ValueError(f"animate_depthwise: x must be (C, H, W) and weight (C, 1, kh, kw), "
                         f"got shapes {shape} and {kernel}")
    out = conv_output_size(shape[1:], tuple(kernel[-2:]))
    return _animate(draw_depthwise, out, interval, x=x, weight=weight, bias=bias)


def animate_conv3d(input_size=(4, 4, 4), kernel_size=(2, 2, 2), stride=1, position=(0, 0, 0),
                   interval=INTERVAL):
    """``draw_conv3d`` animated: one frame per output position, depth by depth, row by row.

    Arguments as ``draw_conv3d`` (``input_size`` ``(D, H, W)``, ``kernel_size`` ``(kd, kh, kw)``;
    ``position`` is accepted for the same signature and ignored); ``interval`` in ms per frame.

    Returns
    -------
    matplotlib.animation.FuncAnimation with ``D_out * H_out * W_out`` frames: 27 for the
    course's 4x4x4 input and 2x2x2 kernel, 9 when the kernel is as deep as the input.
    """
    fn = "animate_conv3d"
    i = v.int_tuple(fn, "input_size", input_size, 3, 1)
    k = v.int_tuple(fn, "kernel_size", kernel_size, 3, 1)
    out = conv_output_size(i, k, v.int_tuple(fn, "stride", stride, 3, 1))
    return _animate(draw_conv3d, out, interval, input_size=i, kernel_size=k, stride=stride)


def animate_deform_learning(image, history, target, losses, steps, position=None, every=None,
                            interval=INTERVAL):
    """Offsets being learned, one frame per recorded step: ``draw_deform_learning`` redrawn.

    Parameters
    ----------
    image : array ``(H, W)``
    history : sequence of sampling points (``convlab.deform_sampling_points``), one per frame
    target : the points the learning should reach
    losses : the loss at every step of the run
    steps : sequence of ints, the step of each entry of ``history``
    position, every : as ``draw_deform_grid``
    """
    if len(history) != len(steps) or not len(steps):
        raise ValueError(f"animate_deform_learning: give one step per entry of history, got "
                         f"{len(history)} points and {len(steps)} steps")
    fig = draw_deform_learning(image, history[0], target, losses, steps[0], position, every)

    def frame(n):
        draw_deform_learning(image, history[n], target, losses, steps[n], position, every,
                             fig=fig)
        return []

    return FuncAnimation(fig, frame, frames=len(steps), interval=interval, repeat=True)


class AnimatedPNG:
    """An animation as an animated PNG: shows itself in a notebook (``_repr_png_``).

    ``data`` is the file's bytes; ``frames`` how many frames it holds; ``save(path)`` writes it.
    """

    def __init__(self, data, frames):
        self.data, self.frames = data, frames

    def _repr_png_(self):
        return self.data

    def save(self, path):
        Path(path).write_bytes(self.data)
        return path

    def __repr__(self):
        return f"<animated PNG: {self.frames} frames, {len(self.data) // 1024} kB>"


class _APNGWriter(PillowWriter):
    """matplotlib's Pillow writer, saving an animated PNG whose frames share one palette of
    ``colours`` colours."""

    def __init__(self, *args, colours=COLOURS, **kwargs):
        super().__init__(*args, **kwargs)
        self.colours = colours

    def finish(self):
        from PIL import Image

        frames = [f.convert("RGB") for f in self._frames]
        # the palette comes from a few frames side by side, so colours that appear only in
        # later frames (a window that moves) are in it
        sample = frames[:: max(1, len(frames) // 6)]
        strip = Image.new("RGB", (sum(f.width for f in sample), max(f.height for f in sample)))
        for n, f in enumerate(sample):
            strip.paste(f, (sum(g.width for g in sample[:n]), 0))
        # the course's colours are kept exactly: a few orange points over a photograph would
        # otherwise lose their box in the median cut to the photograph's greys
        shades = strip.quantize(self.colours).getpalette()[:3 * self.colours]
        palette = Image.new("P", (1, 1))
        palette.putpalette(shades + [round(255 * a) for c in COLORS.values() for a in to_rgb(c)])
        frames = [f.quantize(palette=palette, dither=Image.Dither.NONE) for f in frames]
        frames[0].save(self.outfile, format="PNG", save_all=True, append_images=frames[1:],
                       duration=round(1000 / self.fps), loop=0, optimize=True)


def to_png(anim, dpi=PNG_DPI, max_bytes=MAX_BYTES, colours=COLOURS):
    """The animation as an animated PNG that plays in any notebook view: ``AnimatedPNG``.

    Frames are drawn at ``dpi`` and share one palette of ``colours`` colours (default 32:
    enough for the diagrams; a photograph behind them needs more); the 25 frames of a
    transposed convolution weigh about 0.35 MB. An image larger than ``max_bytes`` (default
    1 MB, what a notebook output should stay below) is drawn again at the dpi that fits.
    Rendering is deterministic, so re-running a notebook stores the same image.
    """
    for _ in range(3):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp, "animation.png")
            anim.save(str(path), writer=_APNGWriter(fps=1000 / anim.event_source.interval,
                                                    colours=colours),
                      dpi=dpi)
            data = path.read_bytes()
        if len(data) <= max_bytes:
            break
        # the bytes grow about as the pixels, dpi squared; aim under the limit
        dpi *= 0.85 * (max_bytes / len(data)) ** 0.5
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        frames = getattr(image, "n_frames", 1)
    return AnimatedPNG(data, frames)


def save_gif(anim, path, dpi=80, fps=None):
    """Write the animation to ``path`` as a GIF with Pillow (one GIF frame per frame).

    ``fps`` defaults to the animation's own speed (``1000 / interval``).
    """
    fps = fps if fps is not None else 1000 / anim.event_source.interval
    anim.save(str(path), writer=PillowWriter(fps=fps), dpi=dpi)
    return path


def save_mp4(anim, path, dpi=100, fps=None):
    """Write the animation to ``path`` as an H.264 MP4 with ffmpeg.

    Raises ``RuntimeError`` with what to do when ffmpeg is not installed (GIF needs only Pillow).
    """
    if shutil.which(mpl.rcParams["animation.ffmpeg_path"]) is None:
        raise RuntimeError(
            "save_mp4: ffmpeg is not installed (`apt-get install ffmpeg` or "
            "`conda install ffmpeg`); save_gif works without it"
        )
    fps = fps if fps is not None else 1000 / anim.event_source.interval
    anim.save(str(path), writer=FFMpegWriter(fps=fps), dpi=dpi)
    return path


# The classic cases of convolution arithmetic (Dumoulin & Visin, 2016): one table, every GIF of
# the gallery. Each direct case also gives its transposed twin: the transposed convolution that
# maps the case's output size back to its input size, with the same kernel, stride and padding.
CASES = [
    {"name": "no_padding", "input_size": 4, "kernel_size": 3, "stride": 1, "padding": 0},
    {"name": "padding", "input_size": 5, "kernel_size": 4, "stride": 1, "padding": 2},
    {"name": "same_padding", "input_size": 5, "kernel_size": 3, "stride": 1, "padding": 1},
    {"name": "full_padding", "input_size": 5, "kernel_size": 3, "stride": 1, "padding": 2},
    {"name": "stride2", "input_size": 5, "kernel_size": 3, "stride": 2, "padding": 0},
    {"name": "stride2_padding", "input_size": 5, "kernel_size": 3, "stride": 2, "padding": 1},
    {"name": "dilation", "input_size": 7, "kernel_size": 3, "stride": 1, "padding": 0,
     "dilation": 2, "transposed": False},
]


def gallery_cases():
    """``{file name: (animate function, arguments)}`` for every GIF of the gallery, in order."""
    cases = {}
    for case in CASES:
        args = {k: val for k, val in case.items() if k not in ("name", "transposed")}
        cases[case["name"]] = (animate_conv2d, args)
        if case.get("transposed", True):
            i, k, s, p = (args[key] for key in ("input_size", "kernel_size", "stride", "padding"))
            o = conv_output_size(i, k, s, p)
            cases[case["name"] + "_transposed"] = (animate_conv_transpose2d, {
                "input_size": o, "kernel_size": k, "stride": s, "padding": p,
                # the sizes a strided convolution floors away come back as output_padding
                "output_padding": i - conv_transpose_output_size(o, k, s, p)})
    return cases


def animate_case(name, interval=INTERVAL):
    """The animation of one gallery case by file name, e.g. ``"stride2_transposed"``.

    The names are those of ``CASES`` and, for each case with a transposed twin, the name plus
    ``"_transposed"``.
    """
    cases = gallery_cases()
    if name not in cases:
        raise ValueError(f"animate_case: unknown case {name!r}; the cases are {list(cases)}")
    function, args = cases[name]
    return function(interval=interval, **args)


def gallery(outdir, names=None, dpi=80, mp4=False):
    """Render the gallery of classic cases as GIFs (and MP4s with ``mp4``) into ``outdir``.

    ``names``: a subset of the case names (default: all of them). Returns the list of written
    paths, in the order of ``CASES``.
    """
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    cases = gallery_cases()
    names = list(cases) if names is None else list(names)
    unknown = [n for n in names if n not in cases]
    if unknown:
        raise ValueError(f"gallery: unknown case(s) {unknown}; the cases are {list(cases)}")
    written = []
    for name in names:
        anim = animate_case(name)
        written.append(save_gif(anim, outdir / f"{name}.gif", dpi=dpi))
        if mp4:
            written.append(save_mp4(anim, outdir / f"{name}.mp4", dpi=dpi))
    return written
