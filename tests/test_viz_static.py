"""The static pictures draw what convlab computes: cells, numbers, labels, titles."""

import re

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure
from matplotlib.text import Text

import convlab as cl
import convlab.viz as viz
from convlab.data import KERNELS, gabor_kernel, sample_image

X = np.array([[3, 3, 2, 1, 0], [0, 0, 1, 3, 1], [3, 1, 2, 2, 3], [2, 0, 0, 2, 2],
              [2, 0, 0, 0, 1]])
W = np.array([[0, 1, 2], [2, 2, 0], [0, 1, 2]])
ARTICLE_OUTPUT = [[12, 12, 17], [10, 17, 19], [9, 6, 14]]


def _grid(fig, name, shape):
    """The numbers written in grid ``name`` as an array of ``shape`` (None where blank)."""
    out = np.full(shape, None, dtype=object)
    for (r, c), text in viz.drawn_text(fig, name).items():
        out[r, c] = text
    return out


def _as_text(values):
    return np.vectorize(viz.style.fmt, otypes=[object])(values)


def _readable(fig):
    """Every text of the figure is at least 9 pt."""
    sizes = [t.get_fontsize() for t in fig.findobj(Text) if t.get_text().strip()]
    assert sizes and min(sizes) >= 9, min(sizes)


@pytest.fixture(autouse=True)
def _no_pyplot_figures():
    before = plt.get_fignums()
    yield
    assert plt.get_fignums() == before, "a picture leaked a figure into pyplot"


# --- draw_conv2d and show_work -----------------------------------------------------------------


def test_conv2d_article_example_numbers_window_and_title():
    fig = viz.draw_conv2d(x=X, weight=W, position=(1, 2))
    assert isinstance(fig, Figure)
    assert (_grid(fig, "output", (3, 3)) == _as_text(ARTICLE_OUTPUT)).all()
    assert (_grid(fig, "input", (5, 5)) == _as_text(X)).all()
    assert (_grid(fig, "kernel", (3, 3)) == _as_text(W)).all()
    assert viz.drawn_cells(fig, "window:input") == [(r, c) for r in (1, 2, 3) for c in (2, 3, 4)]
    assert viz.drawn_cells(fig, "window:output") == [(1, 2)]
    title = fig._suptitle.get_text()
    assert "input 5×5" in title and "kernel 3×3" in title and "output 3×3" in title
    assert "output[1, 2] = 19" in title
    labels = {t.get_gid(): t.get_text() for t in fig.axes[0].texts if t.get_gid()}
    assert labels["label:input"] == "input 5×5"
    assert labels["label:output"] == "output 3×3"
    _readable(fig)


@pytest.mark.parametrize(("i", "k", "s", "p", "d"), [
    (5, 3, 1, 0, 1), (5, 3, 2, 1, 1), (7, 3, 1, 0, 2), (6, 4, 1, "same", 1), (8, 3, 3, 2, 1),
    ((5, 7), (3, 2), (1, 2), (1, 0), 1),
])
def test_conv2d_output_grid_has_the_size_conv_output_size_says(i, k, s, p, d):
    out = cl.conv_output_size(i, k, s, p, d)
    out = out if isinstance(out, tuple) else (out, out)
    fig = viz.draw_conv2d(i, k, s, p, d, position=(out[0] - 1, out[1] - 1))
    cells = viz.drawn_cells(fig, "output")
    assert max(r for r, _ in cells) + 1 == out[0] and max(c for _, c in cells) + 1 == out[1]
    assert len(cells) == out[0] * out[1]
    ii = i if isinstance(i, tuple) else (i, i)
    padded = viz.drawn_cells(fig, "input")
    padding = viz.drawn_cells(fig, "input:padding")
    assert len(padded) - len(padding) == ii[0] * ii[1]
    assert f"output {out[0]}×{out[1]}" in fig._suptitle.get_text()
    plt.close(fig)


def test_conv2d_draws_the_window_show_work_describes():
    rng = np.random.default_rng(1)
    x = rng.integers(-3, 4, (6, 7))
    w = rng.integers(-2, 3, (3, 3))
    args = {"stride": 2, "padding": 1, "dilation": 2}
    fig = viz.draw_conv2d(x=x, weight=w, position=(1, 1), bias=0.5, **args)
    work = viz.show_work(x, w, bias=0.5, position=(1, 1), **args)
    assert viz.drawn_cells(fig, "window:input") == sorted(work.window)
    expected = cl.conv2d(x[None], w[None, None], np.array([0.5]), **args)[0]
    assert (_grid(fig, "output", expected.shape) == _as_text(expected)).all()
    assert viz.style.fmt(work.value) in fig._suptitle.get_text()


def _sum_of(text):
    """Evaluate a worked sum ``"3·0 + (-1)·2 + 1 = 2"``: its terms, and the value after ``=``."""
    left, right = text.rsplit(" = ", 1)
    terms = left.replace("·", "*").replace("(", " (")
    return eval(terms), float(right)  # the text is ours: numbers, *, +, parentheses only


def test_show_work_article_example_sums_to_12():
    work = viz.show_work(X, W)
    assert work.text == "3·0 + 3·1 + 2·2 + 0·2 + 0·2 + 1·0 + 3·0 + 1·1 + 2·2 = 12"
    assert _sum_of(work.text) == (12, 12.0)
    assert work.value == 12 == cl.conv2d(X[None], W[None, None])[0, 0, 0]
    assert r"\underbrace" in work.latex and r"\cdot" in work.latex
    assert work._repr_latex_().startswith("$$") and "output[0, 0, 0]" in work._repr_markdown_()
    assert repr(work) == f"Work(output[0, 0, 0]: {work.text})"


def test_show_work_every_position_equals_conv2d_with_bias():
    y = cl.conv2d(X[None], W[None, None], np.array([1.0]))[0]
    for pos in np.ndindex(3, 3):
        work = viz.show_work(X, W, bias=1, position=pos)
        terms, value = _sum_of(work.text)
        assert terms == value == work.value == y[pos]
        assert work.text.endswith(f" + 1 = {viz.style.fmt(y[pos])}")


def test_show_work_multichannel_one_sum_per_channel():
    rng = np.random.default_rng(0)
    x = rng.integers(-3, 4, (3, 5, 5))
    w = rng.integers(-2, 3, (2, 3, 3, 3))
    b = np.array([1.0, -2.0])
    y = cl.conv2d(x, w, b, stride=2, padding=1)
    for o in range(2):
        for pos in np.ndindex(*y.shape[1:]):
            work = viz.show_work(x, w, b, position=pos, stride=2, padding=1, out_channel=o)
            assert work.value == pytest.approx(y[(o, *pos)])
            assert _sum_of(work.text)[0] == pytest.approx(work.value)
    assert re.match(r"^\(.*\) \+ \(.*\) \+ \(.*\) \+ \(-2\) = ", work.text)
    assert work.latex.count(r"\text{channel") == 3


def test_show_work_rejects_a_filter_of_the_wrong_depth():
    with pytest.raises(ValueError, match="depth must equal the input's channels"):
        viz.show_work(np.zeros((3, 5, 5)), np.zeros((2, 2, 3, 3)))
    with pytest.raises(ValueError, match="position"):
        viz.draw_conv2d(position=(3, 0))


# --- transposed, 1-D, matrix --------------------------------------------------------------------


@pytest.mark.parametrize(("i", "k", "s", "p", "op"), [(2, 3, 1, 0, 0), (2, 3, 2, 0, 0),
                                                       (3, 3, 2, 1, 1), (2, 4, 2, 1, 0)])
def test_conv_transpose2d_both_views_agree_with_the_op(i, k, s, p, op):
    rng = np.random.default_rng(i + k + s)
    x = rng.integers(1, 5, (i, i))
    w = rng.integers(-2, 3, (k, k))
    y = cl.conv_transpose2d(x[None, None], w[None, None], stride=s, padding=p,
                            output_padding=op)[0, 0]
    o = cl.conv_transpose_output_size(i, k, s, p, op)
    assert y.shape == (o, o)
    pos = (o // 2, o - 1)
    fig = viz.draw_conv_transpose2d(x=x, weight=w, stride=s, padding=p, output_padding=op,
                                    position=pos)
    assert (_grid(fig, "output", (o, o)) == _as_text(y)).all()
    flipped = _grid(fig, "kernel", (k, k))
    assert (flipped == _as_text(w[::-1, ::-1])).all(), "the direct view shows the kernel flipped"
    assert (_grid(fig, "scatter_kernel", (k, k)) == _as_text(w)).all()
    # the direct view's window, read off the drawing, gives the output value
    wide = len(viz.drawn_cells(fig, "input")) ** 0.5
    grid = _grid(fig, "input", (int(wide), int(wide))).astype(float)
    window = viz.drawn_cells(fig, "window:input")
    assert sum(grid[c] * w[::-1, ::-1][n // k, n % k] for n, c in enumerate(window)) == y[pos]
    zeros = viz.drawn_cells(fig, "input:zero")
    assert len(zeros) == ((i - 1) * s + 1) ** 2 - i * i
    assert f"output {o}×{o}" in fig._suptitle.get_text()
    assert fig._suptitle.get_text().endswith(f"= {viz.style.fmt(y[pos])}")
    # the scatter view: the stamp of one input cell is that cell times the kernel
    (src,) = viz.drawn_cells(fig, "window:scatter_input")
    stamp = viz.drawn_text(fig, "scatter_output")
    assert stamp and all(float(t) in (x[src] * w).ravel() for t in stamp.values())
    assert pos in viz.drawn_cells(fig, "window:scatter_position")
    plt.close(fig)


def test_conv_transpose2d_without_numbers_names_the_flip():
    fig = viz.draw_conv_transpose2d(2, 3, stride=2, position=(1, 2))
    assert _grid(fig, "kernel", (3, 3))[0].tolist() == ["i", "h", "g"]
    assert _grid(fig, "scatter_kernel", (3, 3))[0].tolist() == ["a", "b", "c"]
    assert "output[1, 2] = A·f + B·d" in fig._suptitle.get_text()
    texts = " ".join(t.get_text() for t in fig.axes[0].texts)
    assert "kernel flipped" in texts and "as a direct convolution" in texts
    assert "as a scatter" in texts and "kernel as given" in texts
    _readable(fig)


@pytest.mark.parametrize("mode", ["correlate", "convolve"])
def test_conv1d_output_and_kernel_as_used(mode):
    x = np.array([1, 3, 2, 0, -1, 2, 4, 1])
    k = np.array([1, 0, -1])
    op = cl.correlate1d if mode == "correlate" else cl.convolve1d
    y = op(x, k)
    fig = viz.draw_conv1d(x, k, mode=mode, position=2)
    assert (_grid(fig, "output", (1, 6))[0] == _as_text(y)).all()
    used = k[::-1] if mode == "convolve" else k
    assert (_grid(fig, "kernel", (1, 3))[0] == _as_text(used)).all()
    assert viz.drawn_cells(fig, "window:input") == [(0, 2), (0, 3), (0, 4)]
    title = fig._suptitle.get_text()
    assert _sum_of(title.split("output[2] = ")[1]) == (y[2], y[2])
    assert ("flipped" in title) == (mode == "convolve")


def test_conv_matrix_picture_is_the_matrix():
    kernel = np.arange(1, 10).reshape(3, 3)
    fig = viz.draw_conv_matrix(kernel, 4, position=(1, 0))
    matrix = cl.conv_matrix(kernel, 4)
    image = next(ax for ax in fig.axes if ax.images).images[0].get_array()
    assert np.array_equal(image, matrix) and matrix.shape == (4, 16)
    assert viz.drawn_cells(fig, "window:matrix") == [(2, 0)]
    numbers = [int(viz.drawn_text(fig, "input")[cell]) for cell in
               viz.drawn_cells(fig, "window:input")]
    assert numbers == list(np.nonzero(matrix[2])[0])
    assert "(4, 16)" in fig._suptitle.get_text() and "(16, 4)" in fig._suptitle.get_text()


def test_matrix_and_its_transpose_are_drawn_from_conv_matrix():
    kernel = np.arange(1, 10).reshape(3, 3) - 4
    fig = viz.draw_conv_matrix_transpose(kernel, 4)
    matrix = cl.conv_matrix(kernel, 4)
    drawn = {ax.get_gid(): ax.images[0].get_array() for ax in fig.axes}
    assert np.array_equal(drawn["matrix:C"], matrix) and matrix.shape == (4, 16)
    assert np.array_equal(drawn["matrix:CT"], matrix.T)
    assert fig.get_figwidth() <= 9
    plt.close(fig)


# --- channels -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("c_in", "c_out", "groups"), [(6, 9, 3), (4, 4, 1), (8, 8, 8)])
def test_connection_matrix_is_block_diagonal(c_in, c_out, groups):
    fig = viz.draw_channels(c_in, c_out, groups)
    on = set(viz.drawn_cells(fig, "matrix:on"))
    pi, po = c_in // groups, c_out // groups
    assert on == {(o, i) for o in range(c_out) for i in range(c_in) if o // po == i // pi}
    lines = [a for ax in fig.axes for a in ax.lines if (a.get_gid() or "").startswith("line:")]
    assert len(lines) == c_out * pi
    if groups == c_in:
        assert "depthwise" in fig._suptitle.get_text()
    plt.close(fig)


def test_channels_names_pointwise_and_counts_parameters():
    fig = viz.draw_channels(4, 8, 1, kernel_size=1)
    assert "pointwise" in fig._suptitle.get_text()
    assert "pointwise grouped" in viz.draw_channels(12, 6, 3, kernel_size=1)._suptitle.get_text()
    fig = viz.draw_channels(6, 6, 3)
    assert "6·2·3² = 108" in fig._suptitle.get_text() and "÷3" in fig._suptitle.get_text()


@pytest.mark.parametrize(("c_in", "c_out", "groups", "channel"),
                         [(8, 12, 4, 5), (6, 6, 1, 2), (4, 4, 4, 3)])
def test_perturbed_channel_frames_the_outputs_it_changes(c_in, c_out, groups, channel):
    fig = viz.draw_channels(c_in, c_out, groups, perturb=channel)
    gids = {p.get_gid() for ax in fig.axes for p in ax.patches}
    framed = sorted(int(g.split(":")[1]) for g in gids if g and g.startswith("changed:"))
    rng = np.random.default_rng(0)  # measured on random data, not from the picture's rule
    x = rng.normal(size=(1, c_in, 4, 4))
    w = rng.normal(size=(c_out, c_in // groups, 3, 3))
    bumped = x.copy()
    bumped[0, channel] += rng.normal(size=(4, 4))
    moved = np.abs(cl.conv2d(bumped, w, groups=groups) - cl.conv2d(x, w, groups=groups))
    assert framed == np.flatnonzero(moved.max(axis=(0, 2, 3)) > 1e-9).tolist()
    assert f"perturbed:{channel}" in gids and "matrix:perturbed" in gids
    assert f"the other {c_out - len(framed)} cannot" in fig._suptitle.get_text()
    with pytest.raises(ValueError, match="perturb must be an input channel"):
        viz.draw_channels(c_in, c_out, groups, perturb=c_in)
    plt.close(fig)


def _shuffle_lines(fig):
    pairs = {}
    for line in fig.axes[0].lines:
        gid = line.get_gid() or ""
        if gid.startswith("shuffle:"):
            src, dst = gid.split(":")[1].split("->")
            pairs[int(dst)] = int(src)
    return [pairs[p] for p in sorted(pairs)]


@pytest.mark.parametrize(("channels", "groups"), [(6, 3), (9, 3), (8, 2)])
def test_shuffle_picture_uses_channel_shuffles_permutation(channels, groups):
    fig = viz.draw_shuffle(channels, groups, shuffle=True)
    perm = cl.channel_shuffle(np.arange(channels).reshape(1, channels, 1), groups)[0, :, 0]
    assert _shuffle_lines(fig) == perm.tolist()
    fig = viz.draw_shuffle(channels, groups, shuffle=False)
    assert _shuffle_lines(fig) == list(range(channels))
    assert "never mix" in fig._suptitle.get_text()


def test_shuffle_mixes_every_group_when_groups_are_wide_enough():
    assert "all 3 groups" in viz.draw_shuffle(9, 3)._suptitle.get_text()
    assert "2 of 3 groups" in viz.draw_shuffle(6, 3)._suptitle.get_text()


def test_influence_draws_what_changed_coloured_by_group():
    from convlab.checks import SHUFFLE_REACH

    reach = np.stack([SHUFFLE_REACH._compute(12, 4, i) for i in range(12)], axis=1)
    fig = viz.draw_influence({"no shuffle": viz.connections(12, 12, 4).astype(float),
                              "shuffle": 3.5 * reach}, groups=4, highlight=5)
    assert fig.get_figwidth() <= 9.0
    titles = [ax.get_title() for ax in fig.axes]
    assert "reaches 3 of 12" in titles[0] and "reaches 9 of 12" in titles[1]
    gids = [p.get_gid() for p in fig.axes[1].patches]
    assert sum(g.startswith("influence:1:on:") for g in gids) == 9 * 12
    assert "influence:1:on:0,0" in gids and "influence:1:off:0,9" in gids
    assert "influence:1:highlight:5" in gids
    with pytest.raises(ValueError, match="1 to 3 matrices"):
        viz.draw_influence({}, groups=1)
    with pytest.raises(ValueError, match="groups"):
        viz.draw_influence({"a": np.ones((6, 6))}, groups=4)


def test_costs_are_stacked_by_layer_and_fit_the_column():
    parts = {"1x1": cl.conv_cost(16, 4, 1, 8), "3x3": cl.conv_cost(4, 4, 3, 8, padding=1)}
    fig = viz.draw_costs({"a": parts, "b": {"1x1": cl.conv_cost(16, 4, 1, 8, groups=2)}},
                         title="t")
    assert fig.get_figwidth() <= 9.0
    gids = [p.get_gid() for p in fig.axes[1].patches]
    assert gids == ["cost:macs:a:1x1", "cost:macs:a:3x3", "cost:macs:b:1x1"]
    widths = [p.get_width() for p in fig.axes[0].patches]
    assert widths == [64, 144, 32]
    with pytest.raises(ValueError, match="must be a Cost"):
        viz.draw_costs({"a": {"1x1": 5}})


def test_multichannel_sums_per_channel_results_plus_bias():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 3, (3, 5, 5))
    w = rng.integers(-1, 2, (2, 3, 3, 3))
    b = np.array([1.0, -1.0])
    fig = viz.draw_multichannel(x, w, b, position=(1, 2))
    y = cl.conv2d(x, w, b)
    for f in range(2):
        assert (_grid(fig, f"output{f}", (3, 3)) == _as_text(y[f])).all()
        parts = [_grid(fig, f"partial{f}_{c}", (3, 3)).astype(float) for c in range(3)]
        assert np.array_equal(sum(parts) + b[f], y[f])
        assert viz.drawn_cells(fig, f"window:output{f}") == [(1, 2)]
    title = fig._suptitle.get_text()
    assert "output 1[1, 2] = " in title and title.endswith(f"= {viz.style.fmt(y[1, 1, 2])}")
    _readable(fig)


def test_pointwise_draws_the_channel_mix_at_one_pixel():
    rng = np.random.default_rng(4)
    x = rng.integers(-2, 4, (3, 4, 5))
    w = rng.integers(-2, 3, (2, 3, 1, 1))
    b = np.array([1.0, -2.0])
    fig = viz.draw_pointwise(x, w, b, position=(2, 3))
    y = cl.conv2d(x, w, b)
    assert (_grid(fig, "matrix", (2, 3)) == _as_text(w[:, :, 0, 0])).all()
    assert (_grid(fig, "pixel", (3, 1)) == _as_text(x[:, 2, 3][:, None])).all()
    assert (_grid(fig, "result", (2, 1)) == _as_text(y[:, 2, 3][:, None])).all()
    for o in range(2):
        assert (_grid(fig, f"output{o}", (4, 5)) == _as_text(y[o])).all()
        assert viz.drawn_cells(fig, f"window:output{o}") == [(2, 3)]
    for i in range(3):
        assert viz.drawn_cells(fig, f"window:input{i}") == [(2, 3)]
    title = fig._suptitle.get_text()
    assert "y[1, 2, 3] = " in title and title.endswith(f"= {viz.style.fmt(y[1, 2, 3])}")
    # a (C_out, C_in) matrix is the same layer; no bias, no bias column
    plain = viz.draw_pointwise(x, w[:, :, 0, 0], position=(0, 0))
    assert not viz.drawn_cells(plain, "bias") and "+ b" not in plain._suptitle.get_text()
    _readable(fig)
    with pytest.raises(ValueError, match="C_in = 3"):
        viz.draw_pointwise(x, np.ones((2, 4, 1, 1)))
    with pytest.raises(ValueError, match="outside"):
        viz.draw_pointwise(x, w, position=(4, 0))


def test_depthwise_draws_each_channel_with_its_own_kernel():
    rng = np.random.default_rng(5)
    x = rng.integers(-2, 4, (3, 5, 4))
    w = rng.integers(-2, 3, (3, 1, 3, 2))
    b = np.array([1.0, -2.0, 0.5])
    fig = viz.draw_depthwise(x, w, b, position=(1, 2))
    y = cl.depthwise_conv2d(x, w, b)
    for c in range(3):
        assert (_grid(fig, f"kernel{c}", (3, 2)) == _as_text(w[c, 0])).all()
        assert (_grid(fig, f"output{c}", (3, 3)) == _as_text(y[c])).all()
        assert viz.drawn_cells(fig, f"window:output{c}") == [(1, 2)]
        assert viz.drawn_cells(fig, f"window:input{c}") == [
            (1 + a, 2 + bb) for a in range(3) for bb in range(2)]
    title = fig._suptitle.get_text()
    assert "never mixed" in title and f"y[2][1, 2] = {viz.style.fmt(y[2, 1, 2])}" in title
    _readable(fig)
    assert fig.get_figwidth() <= 9.0
    plain = viz.draw_depthwise(x, w[:, 0])  # (C, kh, kw) is the same layer
    assert "+ b[c]" not in plain._suptitle.get_text()
    with pytest.raises(ValueError, match="C = 3"):
        viz.draw_depthwise(x, np.ones((2, 1, 3, 3)))


# --- volumes ------------------------------------------------------------------------------------


def _labels(fig):
    return {t.get_gid(): t.get_text() for ax in fig.axes for t in ax.texts if t.get_gid()}


def test_volume_labels_the_shapes():
    fig = viz.draw_volume((3, 7, 7), (128, 3, 3, 3))
    labels = _labels(fig)
    assert "7×7×3" in labels["label:input"] and "5×5×128" in labels["label:output"]
    assert "128 filters, each 3×3×3" in labels["label:filters"]
    assert (labels["edge:output:H"], labels["edge:output:C"]) == ("5", "128")
    with pytest.raises(ValueError, match="as deep as"):
        viz.draw_volume((3, 7, 7), (8, 4, 3, 3))
    _readable(fig)


def test_conv3d_course_example_gives_3x3x3():
    fig = viz.draw_conv3d((4, 4, 4), (2, 2, 2), position=(1, 0, 2))
    assert cl.conv_output_size((4, 4, 4), (2, 2, 2)) == (3, 3, 3)
    assert _labels(fig)["label:output"] == "output 3×3×3"
    assert "output[1, 0, 2]" in fig._suptitle.get_text()
    outlines = {a.get_gid() for ax in fig.axes for a in ax.lines}
    assert {"outline:input", "outline:output"} <= outlines


def test_conv3d_names_its_edges_and_says_when_the_kernel_spans_the_depth():
    labels = _labels(viz.draw_conv3d((5, 4, 6), (2, 3, 3), position=(0, 1, 2)))
    assert (labels["edge:input:D"], labels["edge:input:H"], labels["edge:input:W"]) == (
        "D=5", "H=4", "W=6")
    assert (labels["edge:output:D"], labels["edge:output:W"]) == ("D=4", "W=4")
    spanning = viz.draw_conv3d((4, 4, 4), (4, 2, 2), position=(0, 2, 1))
    assert "slides in height and width only" in spanning._suptitle.get_text()
    assert _labels(spanning)["label:output"] == "output 1×3×3"
    assert "along depth too" in viz.draw_conv3d()._suptitle.get_text()


def test_slices_are_drawn_one_panel_each_on_one_scale_per_volume():
    clip = np.zeros((6, 5, 7))
    for t in range(6):
        clip[t, 2, t:t + 2] = 1.0  # a dash moving right
    moved = cl.conv3d(clip[None, None], np.array([-1.0, 1.0]).reshape(1, 1, 2, 1, 1))[0, 0]
    fig = viz.draw_slices({"clip": clip, "difference": moved}, axis="frame")
    gids = [ax.get_gid() for ax in fig.axes if ax.get_gid()]
    assert gids == [f"slice:clip:{t}" for t in range(6)] + [
        f"slice:difference:{t}" for t in range(5)]
    panels = {ax.get_gid(): ax for ax in fig.axes}
    assert panels["slice:clip:3"].get_title() == "frame 3"
    image = panels["slice:clip:2"].images[0]
    assert np.array_equal(image.get_array(), clip[2]) and image.get_cmap().name == "gray"
    assert panels["slice:difference:0"].images[0].get_cmap().name == "PuOr_r"  # signed
    assert fig.get_figwidth() <= 9
    with pytest.raises(ValueError, match="at most 10"):
        viz.draw_slices({"long": np.zeros((12, 3, 3))})
    with pytest.raises(ValueError, match=r"must be 3-D \(D, H, W\)"):
        viz.draw_slices({"flat": np.zeros((3, 3))})
    _readable(fig)


# --- fields -------------------------------------------------------------------------------------


def test_receptive_field_squares_have_the_computed_sizes():
    layers = [(3, 1, 1), (3, 1, 1), (3, 2, 1), (3, 1, 1)]
    fig = viz.draw_receptive_field(layers, 16)
    rfs = cl.receptive_field(layers, 16)
    squares = {p.get_gid(): p for p in fig.axes[0].patches
               if (p.get_gid() or "").startswith("field:")}
    assert [squares[f"field:{n}"].get_width() for n in range(1, 5)] == [3, 5, 7, 11]
    assert [rf.size for rf in rfs[1:]] == [3, 5, 7, 11]
    assert len(viz.drawn_cells(fig, "window:input")) == 11 * 11
    assert "11×11 input pixels" in fig._suptitle.get_text()


def test_erf_heat_map_is_the_magnitude():
    erf = cl.effective_receptive_field([np.ones((3, 3)) / 9] * 3, 15)
    fig = viz.draw_erf(erf)
    peak = np.abs(erf).max()  # drawn as fractions of the peak
    assert np.allclose(fig.axes[0].images[0].get_array(), np.abs(erf) / peak)
    mag = np.abs(erf)
    side = next(2 * r + 1 for r in range(8)
                if mag[7 - r:8 + r, 7 - r:8 + r].sum() >= 0.95 * mag.sum())
    assert 1 < side < 15
    assert f"central {side}×{side} pixels" in fig._suptitle.get_text()
    assert viz.draw_erf(erf, title="mine")._suptitle.get_text() == "mine"


def test_offsets_move_the_sampling_points_as_named():
    centre = np.array([1.0, 1.0])
    base = cl.deform_sampling_points(viz.make_offsets("regular", 3, (2, 2)), 3)[0, 0, 0]
    scaled = cl.deform_sampling_points(viz.make_offsets("scaled", 3, (2, 2), 1.0), 3)[0, 0, 0]
    turned = cl.deform_sampling_points(viz.make_offsets("rotated", 3, (2, 2), np.pi / 2), 3)
    assert np.allclose(scaled - centre, 2 * (base - centre))
    # the tap right of the centre (y=1, x=2) turns a quarter counter-clockwise: above it
    assert np.allclose(turned[0, 0, 0, 5], [0.0, 1.0])
    with pytest.raises(ValueError, match="kind"):
        viz.make_offsets("twisted", 3, 2)


def test_deform_grid_draws_the_points():
    image = sample_image("shapes", 20)
    points = cl.deform_sampling_points(viz.make_offsets("rotated", 3, (18, 18)), 3)
    fig = viz.draw_deform_grid(image, points, position=(4, 5))
    chosen = next(c for c in fig.axes[0].collections if c.get_gid() == "points:position")
    assert np.allclose(chosen.get_offsets(), points[0, 4, 5][:, ::-1])


def test_deform_grid_draws_a_target_and_small_multiples_and_the_learning():
    image = sample_image("shapes", 20)
    regular = cl.deform_sampling_points(viz.make_offsets("regular", 3, 18), 3)
    turned = cl.deform_sampling_points(viz.make_offsets("rotated", 3, 18), 3)
    fig = viz.draw_deform_grid(image, regular, target=turned, title="t")
    goal = next(c for c in fig.axes[0].collections if c.get_gid() == "points:target")
    assert len(goal.get_offsets()) == 6 * 6 * 9  # every 3rd of 18 x 18 outputs, 9 taps each
    fig = viz.draw_deform_grids(image, {"regular": regular, "rotated": turned}, position=(4, 5))
    assert [ax.get_gid() for ax in fig.axes] == ["field:regular", "field:rotated"]
    assert fig.get_figwidth() <= 9.0
    fig = viz.draw_deform_learning(image, regular, turned, [1.0, 0.5, 0.25], step=1)
    marker = next(c for c in fig.axes[1].collections if c.get_gid() == "loss:step")
    assert np.allclose(marker.get_offsets(), [[1, 0.5]])
    with pytest.raises(ValueError, match="step 3 is past the 3 losses"):
        viz.draw_deform_learning(image, regular, turned, [1.0, 0.5, 0.25], step=3)


# --- features -----------------------------------------------------------------------------------


def test_feature_maps_are_conv2d_of_the_image():
    image = sample_image("shapes", 32)
    kernels = {"sobel_x": KERNELS["sobel_x"], "blur": KERNELS["box_blur"],
               "gabor": gabor_kernel(7, 0.0, 2.0, 4.0)}
    fig = viz.draw_feature_maps(image, kernels)
    shown = {ax.get_gid(): ax.images[0].get_array() for ax in fig.axes if ax.get_gid()}
    for name, kernel in kernels.items():
        expected = cl.conv2d(image[None, None], kernel[None, None], padding="same")[0, 0]
        assert np.allclose(shown[f"feature:{name}"], expected)
    assert np.allclose(shown["feature:input"], image)
    titles = [ax.get_title() for ax in fig.axes if ax.get_gid() == "feature:blur"]
    assert titles == ["blur\n1/9·[1 1 1; 1 1 1; 1 1 1]"]


def _direct_overlap(k, s, i):
    counts = np.zeros(((i - 1) * s + k,) * 2)
    for a in range(i):
        for b in range(i):
            counts[a * s:a * s + k, b * s:b * s + k] += 1
    return counts


@pytest.mark.parametrize(("k", "s", "i"), [(3, 2, 5), (4, 2, 4), (3, 1, 3), (5, 3, 4)])
def test_checkerboard_counts_equal_a_direct_count(k, s, i):
    fig = viz.draw_checkerboard(k, s, i)
    counts = _direct_overlap(k, s, i)
    assert np.array_equal(fig.axes[0].images[0].get_array(), counts)
    assert (_grid(fig, "counts", counts.shape) == _as_text(counts)).all()
    assert ("not divisible" in fig._suptitle.get_text()) == (k % s != 0)
    plt.close(fig)


def test_images_side_by_side_keep_their_pixels():
    small, big = np.arange(12.0).reshape(3, 4), np.ones((6, 8))
    fig = viz.draw_images({"small": small, "big": big}, title="two")
    panels = {ax.get_gid(): ax for ax in fig.axes}
    assert np.array_equal(panels["image:0"].images[0].get_array(), small)
    assert panels["image:1"].images[0].get_clim() == (0.0, 11.0)  # one scale for all
    assert "3×4" in panels["image:0"].get_title()
    own = viz.draw_images({"small": small, "big": big}, same_scale=False)
    assert next(ax for ax in own.axes if ax.get_gid() == "image:1").images[0].get_clim() == (
        1.0, 1.0)
    with pytest.raises(ValueError, match="draw_images"):
        viz.draw_images({})
    plt.close(fig)
    plt.close(own)


def test_checkerboard_on_an_image_shows_artefact_and_remedy():
    fig = viz.draw_checkerboard(3, 2, image=sample_image("shapes", 16))
    gids = {ax.get_gid() for ax in fig.axes}
    assert {"upsampled:3", "upsampled:4"} <= gids
    flat = next(ax for ax in fig.axes if ax.get_gid() == "upsampled:4").images[0].get_array()
    # a flat 4x4 kernel at stride 2 covers the interior evenly: a flat image stays flat there
    even = viz.features._upsample(np.ones((6, 6)), 4, 2)
    assert np.allclose(even[2:-2, 2:-2], 1.0) and flat.shape == (34, 34)


# --- draw_all_windows --------------------------------------------------------------------------


@pytest.mark.parametrize("args", [(5, 3, 2, 1, 1), (7, 3, 3, 0, 1), (7, 3, 1, 0, 2),
                                  ((6, 5), (2, 3), (2, 1), (1, 0), 1)])
def test_all_windows_draws_every_window_where_conv2d_reads_it(args):
    i, k, s, p, d = args
    out = cl.conv_output_size(i, k, s, p, d)
    out = out if isinstance(out, tuple) else (out, out)
    fig = viz.draw_all_windows(i, k, s, p, d)
    ks = k if isinstance(k, tuple) else (k, k)
    ss = s if isinstance(s, tuple) else (s, s)
    for r in range(out[0]):
        for c in range(out[1]):
            expected = sorted((r * ss[0] + a * d, c * ss[1] + b * d)
                              for a in range(ks[0]) for b in range(ks[1]))
            assert viz.drawn_cells(fig, f"window:panel{r}_{c}") == expected
    assert not viz.drawn_cells(fig, f"window:panel{out[0]}_0")
    # the counts say how many windows read each padded cell: each window reads k·k cells
    counts = {rc: int(t) for rc, t in viz.drawn_text(fig, "coverage").items()}
    assert sum(counts.values()) == out[0] * out[1] * ks[0] * ks[1]
    assert f"output {out[0]}×{out[1]}" in fig._suptitle.get_text()
    _readable(fig)


def test_all_windows_marks_the_cells_a_large_stride_skips():
    counts = viz.drawn_text(viz.draw_all_windows(7, 2, 3, 0), "coverage")
    assert [counts[(0, c)] for c in range(7)] == ["1", "1", "0", "1", "1", "0", "0"]


def test_all_windows_refuses_too_many_panels():
    with pytest.raises(ValueError, match="at most 36"):
        viz.draw_all_windows(10, 3, 1, 0)


def test_maps_draws_the_given_arrays_in_order():
    image = sample_image("shapes", size=32)
    edges = cl.conv2d(image[None], KERNELS["sobel_x"][None, None], padding="same")[0]
    fig = viz.draw_maps({"image": image, "layer 1": edges}, title="two maps")
    assert [ax.get_gid() for ax in fig.axes if ax.get_gid()] == ["feature:image",
                                                                 "feature:layer 1"]
    shown = [ax for ax in fig.axes if ax.get_gid() == "feature:layer 1"][0].images[0]
    assert np.array_equal(shown.get_array(), edges)
    assert shown.get_cmap().name == "PuOr_r"  # signed: centred on 0
    assert fig._suptitle.get_text() == "two maps"
    with pytest.raises(ValueError, match="2-D"):
        viz.draw_maps({"x": np.ones((2, 3, 3))}, title="")


def test_a_constant_map_shows_its_value():
    fig = viz.draw_maps({"zero": np.zeros((4, 4)), "twos": np.full((4, 4), 2.0)}, title="flat")
    images = {ax.get_gid(): ax.images[0] for ax in fig.axes if ax.get_gid()}
    assert images["feature:zero"].get_clim() == (0.0, 1.0)  # black, not a mid-grey 0
    assert images["feature:twos"].get_clim() == (0.0, 2.0)  # white
    plt.close(fig)


def test_draw_erfs_outlines_the_field_and_circles_two_sigma():
    erf = cl.effective_receptive_field([np.ones((3, 3))] * 4, 15)
    fig = viz.draw_erfs({"uniform": {"n = 4": erf, "n = 4 again": erf}}, "ERFs")
    assert fig.get_figwidth() <= 9.0
    ax = fig.axes[0]
    assert ax.get_gid() == "erf:uniform:n = 4" and ax.get_title() == "n = 4"
    square, circle = ax.patches
    assert square.get_width() == 9  # the theoretical field of four 3x3 layers
    assert circle.radius == pytest.approx(2 * cl.erf_radius(erf))
    assert circle.center == pytest.approx((7, 7))
    with pytest.raises(ValueError, match="draw_erfs: give 1 to 4 rows of 1 to 5 maps"):
        viz.draw_erfs({}, "nothing")


def test_draw_field_growth_draws_one_line_per_curve():
    fig = viz.draw_field_growth([1, 2, 3], {"a": [1, 2, 3], "b (fit)": [1, 1.4, 1.7]}, "t")
    ax = fig.axes[0]
    assert ax.get_gid() == "growth" and len(ax.lines) == 2
    assert ax.lines[1].get_linestyle() == "--"
    with pytest.raises(ValueError, match="curve 'a' needs one value per depth"):
        viz.draw_field_growth([1, 2], {"a": [1, 2, 3]}, "t")


def test_draw_flattened_colours_each_cube_by_the_product():
    fig = viz.draw_flattened([2, -1, 0.5], [1, 2, 1], [-1, 0, 1])
    assert fig.get_figwidth() <= 9.0
    ax = fig.axes[0]
    faces = {p.get_gid(): p.get_facecolor() for p in ax.patches}
    # one front face per cell of channel 0, a top face per (channel, column), a side per row
    assert sum(g.startswith("filter:front:") for g in faces) == 9
    assert sum(g.startswith("filter:top:") for g in faces) == 9
    # w[0, 1, 0] = 2 * 2 * -1 = -4, the most negative: the same colour as row[0] = -1
    assert faces["filter:front:1,0"] == faces["row:front:0,0"]
    assert faces["filter:front:1,1"] == faces["row:front:0,1"]  # zeros are white in both
    texts = {t.get_gid(): t.get_text() for t in ax.texts}
    assert texts["filter:value:1,0"] == "-4" and texts["filter:value:0,2"] == "2"
    assert "[2, -1, 0.5]" in texts["label:channel"]
    _readable(fig)
    with pytest.raises(ValueError, match="draw_flattened: col must be a 1-D array"):
        viz.draw_flattened([1, 2], [[1, 2]], [1, 2])
