"""Animations: one frame per output position, each frame the static picture; GIFs; the gallery."""

import io
import shutil
import subprocess
import sys

import numpy as np
import pytest
from matplotlib.animation import AbstractMovieWriter
from PIL import Image

import convlab as cl
import convlab.viz as viz
from convlab.__main__ import main
from convlab.viz.animate import gallery_cases


class _Record(AbstractMovieWriter):
    """A movie writer that keeps, for every frame, what the frame highlighted and its title."""

    def __init__(self):
        super().__init__(fps=1)
        self.frames = []

    def setup(self, fig, outfile, dpi=None):
        self.fig = fig

    def grab_frame(self, **savefig_kwargs):
        self.frames.append((viz.drawn_cells(self.fig, "window:output"),
                            viz.drawn_cells(self.fig, "window:input"),
                            self.fig._suptitle.get_text()))

    def finish(self):
        pass


def _frames(anim, tmp_path):
    writer = _Record()
    anim.save(str(tmp_path / "unused"), writer=writer)
    return writer.frames


def test_conv2d_animation_slides_the_window_over_every_output(tmp_path):
    x = np.arange(16).reshape(4, 4) % 5
    w = np.array([[1, 0], [0, -1]])
    anim = viz.animate_conv2d(x=x, weight=w, stride=2, padding=1)
    frames = _frames(anim, tmp_path)
    out = cl.conv_output_size(4, 2, 2, 1)
    assert [f[0] for f in frames] == [[p] for p in np.ndindex(out, out)]
    y = cl.conv2d(x[None], w[None, None], stride=2, padding=1)[0]
    for (pos,), window, title in frames:
        assert window == [(pos[0] * 2 + a, pos[1] * 2 + b) for a in (0, 1) for b in (0, 1)]
        assert title.endswith(f"= {viz.style.fmt(y[pos])}")


def test_transposed_and_1d_animations_have_one_frame_per_output(tmp_path):
    frames = _frames(viz.animate_conv_transpose2d(2, 2, stride=2), tmp_path)
    assert len(frames) == cl.conv_transpose_output_size(2, 2, 2) ** 2 == 16
    assert [f[0] for f in frames] == [[p] for p in np.ndindex(4, 4)]
    assert len(_frames(viz.animate_conv1d([1, 2, 3, 4, 5, 6], [1, -1, 2]), tmp_path)) == 4


def test_pointwise_animation_visits_every_pixel_with_the_same_matrix(tmp_path):
    x, w = np.arange(24).reshape(2, 3, 4) % 5, np.array([[1, -1], [2, 0], [0, 1]])
    frames = _frames(viz.animate_pointwise(x, w, [1, 0, -1]), tmp_path)
    assert len(frames) == 12
    assert all(f"at pixel {p}" in title for (_, _, title), p in zip(frames, np.ndindex(3, 4)))
    with pytest.raises(ValueError, match=r"\(C_in, H, W\)"):
        viz.animate_pointwise(x[0], w)

def test_depthwise_animation_moves_every_channels_window_together(tmp_path):
    x, w = np.arange(30).reshape(2, 3, 5) % 4, np.array([[[1, -1]], [[2, 0]]])
    frames = _frames(viz.animate_depthwise(x, w), tmp_path)
    assert len(frames) == 3 * 4
    y = cl.depthwise_conv2d(x, w[:, None])
    for (_, _, title), p in zip(frames, np.ndindex(3, 4)):  # row by row, both channels
        assert f"y[0][{p[0]}, {p[1]}] = {viz.style.fmt(y[0][p])}" in title
        assert f"y[1][{p[0]}, {p[1]}] = {viz.style.fmt(y[1][p])}" in title
    with pytest.raises(ValueError, match=r"\(C, H, W\)"):
        viz.animate_depthwise(x[0], w)


def _window_box(fig):
    """The corners of the window box drawn on the input of a 3-D picture."""
    return [p.get_xy().round(6).tolist() for ax in fig.axes for p in ax.patches
            if p.get_gid() == "window:input:front"]


class _Record3d(_Record):
    def grab_frame(self, **savefig_kwargs):
        self.frames.append((self.fig._suptitle.get_text(), _window_box(self.fig)))


def test_conv3d_animation_visits_every_position_and_each_frame_is_the_static_picture(tmp_path):
    for size, kernel, stride in (((4, 4, 4), (2, 2, 2), 1), ((4, 4, 4), (4, 2, 2), 1),
                                 ((5, 4, 4), (2, 2, 2), 2)):
        writer = _Record3d()
        viz.animate_conv3d(size, kernel, stride=stride).save(str(tmp_path / "x"), writer=writer)
        out = cl.conv_output_size(size, kernel, stride)
        positions = list(np.ndindex(*out))
        assert len(writer.frames) == len(positions) == int(np.prod(out))
        for (title, box), pos in zip(writer.frames, positions):
            static = viz.draw_conv3d(size, kernel, position=pos, stride=stride)
            assert title == static._suptitle.get_text()
            assert title.endswith(f"output[{pos[0]}, {pos[1]}, {pos[2]}]")
            assert box == _window_box(static)
    assert len(_frames(viz.animate_conv3d(), tmp_path)) == 27
    assert viz.to_png(viz.animate_conv3d((4, 4, 4), (4, 2, 2))).frames == 9


def test_animated_png_plays_every_frame_is_small_and_the_same_every_time():
    anim = viz.to_png(viz.animate_conv2d(4, 3))
    assert isinstance(anim, viz.AnimatedPNG) and anim._repr_png_() == anim.data
    with Image.open(io.BytesIO(anim.data)) as image:
        assert image.format == "PNG" and image.is_animated and image.n_frames == anim.frames == 4
        assert image.width == round(viz.animate.PNG_DPI * 9) and image.info["loop"] == 0
    assert len(anim.data) < 100_000
    assert viz.to_png(viz.animate_conv2d(4, 3)).data == anim.data
    limit = int(0.7 * len(anim.data))
    smaller = viz.to_png(viz.animate_conv2d(4, 3), max_bytes=limit)
    assert len(smaller.data) <= limit and smaller.frames == 4


def test_save_gif_writes_every_frame(tmp_path):
    path = viz.save_gif(viz.animate_conv2d(3, 2), tmp_path / "small.gif", dpi=40)
    with Image.open(path) as gif:
        assert gif.n_frames == 4


@pytest.mark.skipif(shutil.which("ffmpeg") is not None, reason="ffmpeg is installed here")
def test_save_mp4_says_what_is_missing_and_gif_still_works(tmp_path):
    anim = viz.animate_conv2d(3, 2)
    with pytest.raises(RuntimeError, match="ffmpeg is not installed.*save_gif works"):
        viz.save_mp4(anim, tmp_path / "small.mp4")
    assert not (tmp_path / "small.mp4").exists()
    with Image.open(viz.save_gif(anim, tmp_path / "small.gif", dpi=30)) as gif:
        assert gif.n_frames == 4


def test_gallery_cases_are_the_classic_ones_and_their_twins_invert_them():
    cases = gallery_cases()
    assert {"no_padding", "padding", "same_padding", "full_padding", "stride2",
            "stride2_padding", "dilation"} <= set(cases)
    for case in viz.CASES:
        if case.get("transposed", True):
            _, twin = cases[case["name"] + "_transposed"]
            size = cl.conv_transpose_output_size(twin["input_size"], twin["kernel_size"],
                                                 twin["stride"], twin["padding"],
                                                 twin["output_padding"])
            assert size == case["input_size"]
    assert cl.conv_output_size(5, 3, padding=1) == 5  # 'same' (half) padding keeps the size
    assert cl.conv_output_size(5, 3, padding=2) == 7  # full padding grows it


def test_every_gallery_case_draws_its_first_frame():
    draw = {viz.animate_conv2d: viz.draw_conv2d,
            viz.animate_conv_transpose2d: viz.draw_conv_transpose2d}
    for name, (animate, args) in gallery_cases().items():
        fig = draw[animate](position=(0, 0), **args)
        assert viz.drawn_cells(fig, "window:output") == [(0, 0)], name


def test_gallery_command_writes_the_gifs(tmp_path, capsys):
    assert main(["gallery", str(tmp_path), "--only", "no_padding", "stride2", "--dpi", "40"]) == 0
    written = capsys.readouterr().out.split()
    assert written == [str(tmp_path / "no_padding.gif"), str(tmp_path / "stride2.gif")]
    for name, frames in (("no_padding", 4), ("stride2", 4)):
        with Image.open(tmp_path / f"{name}.gif") as gif:
            assert gif.n_frames == frames == cl.conv_output_size(*_size_args(name)) ** 2
    assert main(["gallery", str(tmp_path), "--only", "nonsense"]) == 1
    assert "unknown case" in capsys.readouterr().err


def _size_args(name):
    case = next(c for c in viz.CASES if c["name"] == name)
    return case["input_size"], case["kernel_size"], case["stride"], case["padding"]


def test_command_line_help():
    result = subprocess.run([sys.executable, "-m", "convlab", "--help"], capture_output=True,
                            text=True, check=True)
    assert "gallery" in result.stdout
    listed = subprocess.run([sys.executable, "-m", "convlab", "gallery", "x", "--list"],
                            capture_output=True, text=True, check=True).stdout.split()
    assert listed == list(gallery_cases())


def test_deform_learning_animation_has_a_frame_per_step_and_keeps_the_course_colours():
    image = np.linspace(0, 1, 144).reshape(12, 12)
    field = viz.make_offsets("rotated", 3, 12)
    target = cl.deform_sampling_points(field, 3, padding=1)
    history = [cl.deform_sampling_points(field * t, 3, padding=1) for t in (0.0, 0.5, 1.0)]
    losses = 0.5 ** np.arange(11)
    png = viz.to_png(viz.animate_deform_learning(image, history, target, losses, [0, 5, 10],
                                                 position=(6, 6)))
    assert png.frames == 3
    with Image.open(io.BytesIO(png.data)) as im:
        im.seek(2)
        colours = {c for _, c in im.convert("RGB").getcolors(1 << 16)}
    assert (0xD5, 0x5E, 0x00) in colours  # the window's vermillion, exactly
    with pytest.raises(ValueError, match="one step per entry"):
        viz.animate_deform_learning(image, history, target, [1.0], [0])
