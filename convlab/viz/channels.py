"""Channels: filters as stacks of kernels, which channels talk to which, and channel shuffle.

Which input channel reaches which output channel is not drawn from a rule but measured: a
one-hot input channel is pushed through ``convlab.conv2d`` (with its ``groups``) and the
output channels that light up are connected.
"""

import numpy as np
from matplotlib.patches import Rectangle

from .. import _validate as v
from ..arithmetic import conv_cost
from ..conv import conv2d
from ..variants import channel_shuffle
from .grids import _GAP, _LABEL, _kinds, _position, _size
from .style import COLORS, FIG_WIDTH, FONT, canvas, draw_grid, draw_window, factor, fmt, new_figure

__all__ = ["GROUP_COLORS", "connections", "draw_channels", "draw_depthwise", "draw_influence",
           "draw_multichannel", "draw_pointwise", "draw_shuffle"]

# Okabe-Ito again, in an order where neighbouring groups contrast
GROUP_COLORS = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#F0E442",
                "#000000"]


def _group_color(g):
    return GROUP_COLORS[g % len(GROUP_COLORS)]


def connections(c_in, c_out, groups=1):
    """Which input channel reaches which output channel in a (grouped) convolution.

    Measured with ``conv2d``: input channel ``i`` alone set to 1, all weights 1, ``groups``
    as given; output ``o`` is connected to ``i`` when it is not 0.

    Returns
    -------
    array ``(c_out, c_in)`` of bool: block-diagonal with ``groups`` blocks of
    ``(c_out/groups, c_in/groups)``.
    """
    fn = "connections"
    c_in = v.int_value(fn, "c_in", c_in, 1)
    c_out = v.int_value(fn, "c_out", c_out, 1)
    groups = v.int_value(fn, "groups", groups, 1)
    v.groups_divide(fn, groups, C_in=c_in, C_out=c_out)
    one_hot = np.eye(c_in)[:, :, None, None]  # a batch of c_in images, one per input channel
    reached = conv2d(one_hot, np.ones((c_out, c_in // groups, 1, 1)), groups=groups)
    return reached[:, :, 0, 0].T != 0


def _kind(c_in, c_out, groups, kernel_size):
    if kernel_size == 1 and groups == 1:
        return "pointwise (1×1) convolution"
    if groups == c_in and c_out % c_in == 0:
        multiplier = "" if c_out == c_in else f", depth multiplier {c_out // c_in}"
        return f"depthwise convolution (groups = C_in = {c_in}{multiplier})"
    if groups == 1:
        return "standard convolution"
    if kernel_size == 1:
        return f"pointwise grouped (1×1) convolution ({groups} groups)"
    return f"grouped convolution ({groups} groups)"


def _nodes(ax, x, count, offset, color_of, gid, label):
    """A column of ``count`` channel boxes at ``x``, from ``y = offset``; returns their ``y``."""
    ys = np.arange(count) + offset
    for c, y in enumerate(ys):
        ax.add_patch(Rectangle((x - 0.3, y - 0.35), 0.6, 0.7, facecolor=color_of(c),
                               edgecolor=COLORS["text"], linewidth=0.8, zorder=3,
                               gid=f"{gid}:{c}"))
    ax.text(x, -0.9, label, ha="center", va="bottom", fontsize=FONT["label"],
            color=COLORS["text"])
    return ys


def _channel_list(channels):
    """``[3, 4, 5]`` as ``"3-5"``, ``[1, 5, 9]`` as ``"1, 5, 9"``."""
    channels = [int(c) for c in channels]
    if len(channels) > 2 and channels == list(range(channels[0], channels[-1] + 1)):
        return f"{channels[0]}-{channels[-1]}"
    return ", ".join(map(str, channels))


def draw_channels(c_in, c_out, groups=1, kernel_size=3, perturb=None, fig=None):
    """Which input channels feed which output channels, as lines and as a matrix.

    Parameters
    ----------
    c_in, c_out : int, channel counts
    groups : int dividing both: 1 standard, ``c_in`` depthwise, in between grouped
    kernel_size : int, only for the parameter count and the name (1 and groups=1: pointwise)
    perturb : int or None: an input channel to change; its lines are drawn heavy, the others
        faded, and the output channels it reaches (measured by ``connections``) framed
    fig : Figure or None: draw into this figure (cleared) instead of a new one

    Returns
    -------
    matplotlib Figure: left, lines from each input channel to the output channels it reaches
    (coloured by group); right, the connection matrix (outputs x inputs), block-diagonal with
    ``groups`` blocks (``connections(c_in, c_out, groups)``). The title gives the parameter
    count ``C_out * (C_in/groups) * k^2`` and, with ``perturb``, which outputs change
    (gids ``"changed:<o>"`` on their frames, ``"perturbed:<i>"`` on the input's).
    """
    conn = connections(c_in, c_out, groups)
    per_in, per_out = c_in // groups, c_out // groups
    if perturb is not None:
        perturb = v.int_value("draw_channels", "perturb", perturb, 0)
        if perturb >= c_in:
            raise ValueError(f"draw_channels: perturb must be an input channel, 0 to {c_in - 1}, "
                             f"got {perturb}")
    params = conv_cost(c_in, c_out, kernel_size, kernel_size, groups=groups).params
    full = conv_cost(c_in, c_out, kernel_size, kernel_size).params
    title = (f"{_kind(c_in, c_out, groups, kernel_size)}: {c_in} → {c_out} channels\n"
             f"each output sees {per_in} input channel{'s' * (per_in > 1)} · parameters "
             f"{c_out}·{per_in}·{kernel_size}² = {params:,}"
             + ("" if groups == 1 else f" (standard: {full:,}, ÷{groups})"))
    if perturb is not None:
        changed = np.flatnonzero(conn[:, perturb])
        title += (f"\nchange input channel {perturb}: output channel"
                  f"{'s' * (len(changed) > 1)} {_channel_list(changed)} change, "
                  f"the other {c_out - len(changed)} cannot")
    rows = max(c_in, c_out)
    height = min(0.34 * rows + 1.4, 7.0)
    head = 0.62 + (0.25 if perturb is not None else 0)  # room for the title's lines
    fig = new_figure(FIG_WIDTH, height + head - 0.02, fig)
    fig.suptitle(title, fontsize=FONT["title"], y=0.99, va="top")
    top = 1 - head / fig.get_figheight()

    ax = fig.add_axes((0.04, 0.03, 0.44, top - 0.05))
    ax.set_xlim(-0.8, 3.8)
    ax.set_ylim(rows - 0.4, -1.2)
    ax.axis("off")
    offset_in, offset_out = (rows - c_in) / 2, (rows - c_out) / 2
    ys_in = _nodes(ax, 0, c_in, offset_in, lambda c: _group_color(c // per_in), "in",
                   "input channels")
    ys_out = _nodes(ax, 3, c_out, offset_out, lambda c: _group_color(c // per_out), "out",
                    "output channels")
    for o, i in zip(*np.nonzero(conn)):
        faded = perturb is not None and i != perturb
        ax.plot([0.3, 2.7], [ys_in[i], ys_out[o]],
                color=COLORS["line"] if faded else _group_color(i // per_in),
                linewidth=0.8 if faded else (2.4 if perturb is not None else 1.2),
                alpha=0.35 if faded else 0.8, zorder=1 if faded else 2, gid=f"line:{i},{o}")
    if perturb is not None:
        frame = {"fill": False, "edgecolor": COLORS["window"], "linewidth": 2.5, "zorder": 4}
        ax.add_patch(Rectangle((-0.42, ys_in[perturb] - 0.47), 0.84, 0.94,
                               gid=f"perturbed:{perturb}", **frame))
        for o in changed:
            ax.add_patch(Rectangle((3 - 0.42, ys_out[o] - 0.47), 0.84, 0.94,
                                   gid=f"changed:{o}", **frame))

    mat = fig.add_axes((0.55, 0.6 / fig.get_figheight(), 0.42,
                        top - 1.0 / fig.get_figheight()))
    for (o, i), on in np.ndenumerate(conn):
        mat.add_patch(Rectangle((i, o), 1, 1, linewidth=0.5, edgecolor="white",
                                facecolor=_group_color(i // per_in) if on else "#F2F2F2",
                                gid=f"matrix:{'on' if on else 'off'}:{o},{i}"))
    if perturb is not None:  # the column of the changed input: its non-zero entries
        mat.add_patch(Rectangle((perturb, 0), 1, c_out, fill=False, linewidth=2.5,
                                edgecolor=COLORS["window"], zorder=3, gid="matrix:perturbed"))
    _frame_matrix(mat, c_in, c_out, f"connection matrix ({c_out} outputs × {c_in} inputs)",
                  "input channel")
    return fig


def _frame_matrix(ax, c_in, c_out, title, xlabel):
    """Frame an outputs x inputs grid of unit squares: outputs down, ticks every few channels."""
    ax.set_xlim(0, c_in)
    ax.set_ylim(c_out, 0)
    ax.set_aspect("equal")
    ax.set_title(title, fontsize=FONT["label"])
    ax.set_xlabel(xlabel, fontsize=FONT["small"])
    ax.set_ylabel("output channel", fontsize=FONT["small"])
    step = max(1, max(c_in, c_out) // 8)
    ax.set_xticks(np.arange(0, c_in, step) + 0.5, [str(t) for t in range(0, c_in, step)])
    ax.set_yticks(np.arange(0, c_out, step) + 0.5, [str(t) for t in range(0, c_out, step)])
    ax.tick_params(labelsize=FONT["small"], length=0)


def _stripes(ax, x, y, sources, gid):
    """A channel box at ``(x, y)`` striped with the colour of every input group it carries."""
    width = 0.6 / len(sources)
    for n, g in enumerate(sources):
        ax.add_patch(Rectangle((x - 0.3 + n * width, y - 0.35), width, 0.7,
                               facecolor=_group_color(g), edgecolor="none", zorder=3))
    ax.add_patch(Rectangle((x - 0.3, y - 0.35), 0.6, 0.7, fill=False, edgecolor=COLORS["text"],
                           linewidth=0.8, zorder=4, gid=gid))


def draw_shuffle(channels=6, groups=3, shuffle=True, fig=None):
    """Two grouped convolutions, with or without a channel shuffle between them.

    Parameters
    ----------
    channels : int, channels of every layer
    groups : int dividing ``channels``
    shuffle : bool, put ``channel_shuffle(., groups)`` between GConv1 and GConv2
    fig : Figure or None: draw into this figure (cleared) instead of a new one

    Returns
    -------
    matplotlib Figure: four columns of channels (input, after GConv1, after the shuffle, after
    GConv2), each box striped with the colours of the input groups whose information it
    carries. Without the shuffle every output carries one group; with it, every group. The
    shuffle's lines follow ``convlab.channel_shuffle`` (gids ``"shuffle:src->dst"``).
    """
    fn = "draw_shuffle"
    channels = v.int_value(fn, "channels", channels, 1)
    groups = v.int_value(fn, "groups", groups, 1)
    v.groups_divide(fn, groups, channels=channels)
    per = channels // groups
    conn = connections(channels, channels, groups)
    ident = np.arange(channels)
    perm = channel_shuffle(ident.reshape(1, channels, 1), groups)[0, :, 0] if shuffle else ident

    carries0 = np.eye(groups, dtype=bool)[ident // per]  # (channel, input group)
    carries1 = conn @ carries0 > 0
    carries_s = carries1[perm]  # position p after the shuffle holds channel perm[p]
    carries2 = conn @ carries_s > 0
    reach = int(carries2.sum(axis=1).min())

    if reach == groups:
        verdict = f"every output channel carries information from all {groups} groups"
    elif reach == 1:
        verdict = "each output channel carries only its own group: the groups never mix"
    else:
        verdict = (f"each output channel carries {reach} of {groups} groups (a group of GConv2 "
                   f"has only {per} channels to mix)")
    title = (f"GConv1 → {'channel shuffle' if shuffle else 'no shuffle'} → GConv2 · "
             f"{channels} channels, {groups} groups\n{verdict}")
    fig = new_figure(FIG_WIDTH, 0.42 * channels + 1.7, fig)
    fig.suptitle(title, fontsize=FONT["title"], y=0.99, va="top")
    ax = fig.add_axes((0.02, 0.02, 0.96, 1 - 0.75 / fig.get_figheight()))
    xs = [0, 3, 6, 9]
    ax.set_xlim(-1.2, 10.2)
    ax.set_ylim(channels - 0.3, -1.3)
    ax.axis("off")
    names = ["input", f"after GConv1\n({groups} groups)",
             "after channel_shuffle" if shuffle else "(no shuffle)",
             f"after GConv2\n({groups} groups)"]
    for x, carries, name, label in zip(xs, [carries0, carries1, carries_s, carries2],
                                       ["input", "gconv1", "shuffled", "gconv2"], names):
        for c in range(channels):
            _stripes(ax, x, c, np.nonzero(carries[c])[0], f"{name}:{c}")
        ax.text(x, -0.6, label, ha="center", va="bottom", fontsize=FONT["label"],
                color=COLORS["text"])
    # the groups of each convolution, as bands: which channels a GConv may mix
    for g in range(groups):
        for x0, x1 in ((xs[0], xs[1]), (xs[2], xs[3])):
            ax.add_patch(Rectangle((x0 - 0.55, g * per - 0.48), x1 - x0 + 1.1, per - 0.04,
                                   facecolor="#EDEDED" if g % 2 == 0 else "#F8F8F8",
                                   edgecolor="none", zorder=0))
    for o, i in zip(*np.nonzero(conn)):
        ax.plot([xs[0] + 0.3, xs[1] - 0.3], [i, o], color=_group_color(i // per), linewidth=1,
                alpha=0.8, zorder=2, gid=f"gconv1:{i}->{o}")
        # GConv2 mixes whatever its inputs carry: grey lines, the boxes show the colours
        ax.plot([xs[2] + 0.3, xs[3] - 0.3], [i, o], color=COLORS["line"], linewidth=1,
                alpha=0.8, zorder=2, gid=f"gconv2:{i}->{o}")
    for p, src in enumerate(perm):
        ax.plot([xs[1] + 0.3, xs[2] - 0.3], [src, p], color=COLORS["text"], linewidth=1.2,
                zorder=2, gid=f"shuffle:{src}->{p}")
    return fig


def draw_influence(changes, groups, highlight=None, fig=None):
    """Which output channels change when one input channel is perturbed, one panel per stack.

    Parameters
    ----------
    changes : dict ``{title: array (C_out, C_in)}``: for each stack, how much output channel
        ``o`` changed (e.g. the largest absolute change over the map) when input channel ``i``
        alone was perturbed; 1 to 3 stacks of the same shape
    groups : int dividing ``C_in``: colours the columns by the input channel's group
    highlight : int or None, an input channel whose column is outlined
    fig : Figure or None: draw into this figure (cleared) instead of a new one

    Returns
    -------
    matplotlib Figure: per stack, a matrix (outputs x perturbed inputs) with a cell coloured
    by the input's group where the output changed (more than 1e-9 of the largest change),
    light grey where it did not; each panel's title counts the outputs one input reaches.
    Cells have gids ``"influence:<panel>:on|off:o,i"``.
    """
    fn = "draw_influence"
    mats = {title: np.abs(v.array(fn, "changes", m)) for title, m in changes.items()}
    if not 1 <= len(mats) <= 3 or len({m.shape for m in mats.values()}) != 1 or \
            next(iter(mats.values())).ndim != 2:
        raise ValueError(f"{fn}: give 1 to 3 matrices (C_out, C_in) of one shape, got "
                         f"{[np.shape(m) for m in changes.values()]}")
    c_out, c_in = next(iter(mats.values())).shape
    groups = v.int_value(fn, "groups", groups, 1)
    v.groups_divide(fn, groups, C_in=c_in)
    per = c_in // groups
    n = len(mats)
    side = min(FIG_WIDTH / n - 0.5, 4.2)
    height = side * c_out / max(c_in, c_out) + 1.5
    fig = new_figure(FIG_WIDTH, height, fig)
    for j, (title, mat) in enumerate(mats.items()):
        on = mat > 1e-9 * max(float(mat.max()), 1e-300)
        width = side * c_in / max(c_in, c_out)
        ax = fig.add_axes(((j + 0.5) / n - width / 2 / FIG_WIDTH, 0.5 / height,
                           width / FIG_WIDTH, (height - 1.5) / height))
        for (o, i), hit in np.ndenumerate(on):
            ax.add_patch(Rectangle((i, o), 1, 1, linewidth=0.5, edgecolor="white",
                                   facecolor=_group_color(i // per) if hit else "#F2F2F2",
                                   gid=f"influence:{j}:{'on' if hit else 'off'}:{o},{i}"))
        for g in range(1, groups):
            ax.axvline(g * per, color=COLORS["text"], linewidth=0.8)
        if highlight is not None:
            ax.add_patch(Rectangle((highlight, 0), 1, c_out, fill=False, linewidth=2.4,
                                   edgecolor=COLORS["text"], linestyle="--", zorder=5,
                                   gid=f"influence:{j}:highlight:{highlight}"))
        reach = " or ".join(map(str, sorted(set(on.sum(axis=0).tolist()))))
        _frame_matrix(ax, c_in, c_out, f"{title}\none input reaches {reach} of {c_out} outputs",
                      "perturbed input channel")
    return fig


def _filters(fn, x, weight):
    """``x`` as ``(C, H, W)`` and ``weight`` as ``(C_out, C, kh, kw)``."""
    x = v.array(fn, "x", x)
    weight = v.array(fn, "weight", weight)
    if x.ndim != 3:
        raise ValueError(f"{fn}: x must be (C, H, W), got shape {x.shape}")
    if weight.ndim == 3:
        weight = weight[None]
    if weight.ndim != 4 or weight.shape[1] != x.shape[0]:
        raise ValueError(f"{fn}: weight must be (C, kh, kw) or (C_out, C, kh, kw) with "
                         f"C = {x.shape[0]} (a filter has one kernel per input channel), "
                         f"got shape {weight.shape}")
    return x, weight


def draw_multichannel(x, weight, bias=None, position=(0, 0), fig=None):
    """A filter is a stack of kernels: one per input channel, results summed, plus one bias.

    Parameters
    ----------
    x : array ``(C, H, W)``
    weight : array ``(C, kh, kw)`` (one filter) or ``(C_out, C, kh, kw)``
    bias : array ``(C_out,)``, a float (one filter) or None
    position : ``(row, col)`` of the output element highlighted everywhere
    fig : Figure or None: draw into this figure (cleared) instead of a new one

    Returns
    -------
    matplotlib Figure: top, the ``C`` input channels with the window; then one row per filter:
    under each input channel its kernel and the per-channel result (``conv2d`` of that channel
    with that kernel), and at the end the sum of the per-channel results plus the bias, which
    is the filter's output map ``conv2d(x, weight, bias)[f]``. Stride 1, no padding.
    """
    fn = "draw_multichannel"
    x, weight = _filters(fn, x, weight)
    c, c_out = x.shape[0], weight.shape[0]
    b = np.zeros(c_out) if bias is None else np.atleast_1d(v.array(fn, "bias", bias)).ravel()
    v.bias_vector(fn, b, c_out)
    y = conv2d(x, weight, b)
    # each filter's per-channel results: a depthwise convolution with that filter's kernels
    parts = np.stack([conv2d(x, weight[f][:, None], groups=c) for f in range(c_out)])
    k, out = weight.shape[2:], y.shape[1:]
    pos = _position(fn, position, out)

    column = max(x.shape[2], k[1] + _GAP + out[1]) + 1.5  # with the gap to the next channel
    width = c * column + 3 * _GAP + out[1]
    height = _LABEL + x.shape[1] + 0.6 + c_out * (_LABEL + max(k[0], out[0]) + 0.4)
    sums = []
    for f in range(c_out):
        terms = [factor(parts[f, ch][pos]) for ch in range(c)]
        terms += [] if bias is None else [factor(b[f])]
        sums.append(f"output {f}[{pos[0]}, {pos[1]}] = {' + '.join(terms)} = {fmt(y[f][pos])}")
    title = (f"{c} input channel{'s' * (c > 1)} · {c_out} filter{'s' * (c_out > 1)} of "
             f"{_size((c, *k))}: w[f, c] is filter f's kernel for channel c → {c_out} output "
             f"map{'s' * (c_out > 1)} of {_size(out)}\n" + " · ".join(sums))
    fig, ax = canvas(width, height, title, max_cell=0.4, fig=fig)

    window = [(pos[0] + a, pos[1] + bb) for a in range(k[0]) for bb in range(k[1])]
    for ch in range(c):
        origin = (ch * column, _LABEL)
        draw_grid(ax, f"input{ch}", origin, _kinds(x.shape[1:], "input"), x[ch],
                  label=f"input x[{ch}] {_size(x.shape[1:])}")
        draw_window(ax, f"input{ch}", origin, window)
    y0 = _LABEL + x.shape[1] + 0.6
    for f in range(c_out):
        top = y0 + _LABEL
        for ch in range(c):
            x0 = ch * column
            draw_grid(ax, f"kernel{f}_{ch}", (x0, top), _kinds(k, "kernel"), weight[f, ch],
                      label=f"w[{f}, {ch}]")
            origin = (x0 + k[1] + _GAP, top)
            draw_grid(ax, f"partial{f}_{ch}", origin, _kinds(out, "output"), parts[f, ch],
                      label=f"x[{ch}] ⋆ w[{f}, {ch}]")
            draw_window(ax, f"partial{f}_{ch}", origin, [pos])
            ax.text(x0 + k[1] + _GAP / 2, top + k[0] / 2, "→", ha="center", va="center",
                    fontsize=FONT["title"], color=COLORS["text"])
        x_out = c * column - 1.5 + 3 * _GAP
        plus_b = "" if bias is None else f" {'−' if b[f] < 0 else '+'} {fmt(abs(b[f]))}"
        ax.text(x_out - 1.5 * _GAP, top + out[0] / 2, f"Σ{plus_b} =", ha="center", va="center",
                fontsize=FONT["label"] + 1, color=COLORS["text"])
        draw_grid(ax, f"output{f}", (x_out, top), _kinds(out, "output"), y[f],
                  label=f"output {f}")
        draw_window(ax, f"output{f}", (x_out, top), [pos])
        y0 = top + max(k[0], out[0]) + 0.4
    return fig


def draw_depthwise(x, weight, bias=None, position=(0, 0), fig=None):
    """A depthwise convolution: each channel with its own kernel, the channels never mixed.

    Parameters
    ----------
    x : array ``(C, H, W)``
    weight : array ``(C, 1, kh, kw)`` (``depthwise_conv2d``'s weight) or ``(C, kh, kw)``
    bias : array ``(C,)`` or None
    position : ``(row, col)`` of the output element highlighted everywhere
    fig : Figure or None: draw into this figure (cleared) instead of a new one

    Returns
    -------
    matplotlib Figure: one column per channel: the input channel ``x[c]`` with the window,
    below it its kernel ``w[c]`` and its output map ``y[c] = x[c] ⋆ w[c] (+ b[c])``
    (``depthwise_conv2d(x, weight, bias)``), the same position marked. Stride 1, no padding.
    Unlike a standard filter (``draw_multichannel``), nothing is summed across channels: C
    inputs give C outputs. The title writes each channel's result at the position.
    """
    fn = "draw_depthwise"
    x = v.array(fn, "x", x)
    weight = v.array(fn, "weight", weight)
    if x.ndim != 3:
        raise ValueError(f"{fn}: x must be (C, H, W), got shape {x.shape}")
    if weight.ndim == 3:
        weight = weight[:, None]
    if weight.ndim != 4 or weight.shape[:2] != (x.shape[0], 1):
        raise ValueError(f"{fn}: weight must be (C, 1, kh, kw) or (C, kh, kw) with C = "
                         f"{x.shape[0]}, one kernel per input channel, got shape {weight.shape}")
    c = x.shape[0]
    b = None if bias is None else np.atleast_1d(v.array(fn, "bias", bias)).ravel()
    if b is not None:
        v.bias_vector(fn, b, c)
    y = conv2d(x, weight, b, groups=c)
    k, out = weight.shape[2:], y.shape[1:]
    pos = _position(fn, position, out)

    column = max(x.shape[2], k[1] + _GAP + out[1]) + 1.5
    width = c * column - 1.5
    top = _LABEL + x.shape[1] + 0.6 + _LABEL
    height = top + max(k[0], out[0]) + 0.2
    shown = [f"y[{ch}][{pos[0]}, {pos[1]}] = {fmt(y[ch][pos])}" for ch in range(c)]
    plus = "" if b is None else " + b[c]"
    title = (f"depthwise convolution: {c} channel{'s' * (c > 1)}, one {_size(k)} kernel each, "
             f"never mixed\n→ {c} output map{'s' * (c > 1)} of {_size(out)}, "
             f"y[c] = x[c] ⋆ w[c]{plus}:   " + ";   ".join(shown[:3])
             + (";   ..." if c > 3 else ""))
    fig, ax = canvas(width, height, title, max_cell=0.4, fig=fig)
    window = [(pos[0] + a, pos[1] + bb) for a in range(k[0]) for bb in range(k[1])]
    for ch in range(c):
        x0 = ch * column
        draw_grid(ax, f"input{ch}", (x0, _LABEL), _kinds(x.shape[1:], "input"), x[ch],
                  label=f"input x[{ch}]")
        draw_window(ax, f"input{ch}", (x0, _LABEL), window)
        draw_grid(ax, f"kernel{ch}", (x0, top), _kinds(k, "kernel"), weight[ch, 0],
                  label=f"w[{ch}]")
        ax.text(x0 + k[1] + _GAP / 2, top + k[0] / 2, "→", ha="center", va="center",
                fontsize=FONT["title"], color=COLORS["text"])
        origin = (x0 + k[1] + _GAP, top)
        plus = "" if b is None else f", b[{ch}] = {fmt(b[ch])}"
        draw_grid(ax, f"output{ch}", origin, _kinds(out, "output"), y[ch],
                  label=f"y[{ch}]{plus}")
        draw_window(ax, f"output{ch}", origin, [pos])
    return fig


def draw_pointwise(x, weight, bias=None, position=(0, 0), fig=None):
    """A 1x1 convolution at one pixel: the pixel's channels, times the channel matrix, plus bias.

    Parameters
    ----------
    x : array ``(C_in, H, W)``
    weight : array ``(C_out, C_in, 1, 1)`` (``conv2d``'s 1x1 weight) or ``(C_out, C_in)``
    bias : array ``(C_out,)`` or None
    position : ``(row, col)`` of the pixel highlighted everywhere
    fig : Figure or None: draw into this figure (cleared) instead of a new one

    Returns
    -------
    matplotlib Figure: top, the ``C_in`` input channels with the pixel marked in each; below,
    the channel matrix ``W = weight[:, :, 0, 0]`` ``(C_out x C_in)`` times the pixel's vector
    ``x[:, r, c]``, plus ``b``, equals ``y[:, r, c]``, and the ``C_out`` output channels
    ``conv2d(x, weight, bias)`` with the same pixel marked. Lines join each input channel's
    pixel to the vector it makes. The title writes the arithmetic of the output channels at
    that pixel (the first three).
    """
    fn = "draw_pointwise"
    x = v.array(fn, "x", x)
    weight = v.array(fn, "weight", weight)
    if x.ndim != 3:
        raise ValueError(f"{fn}: x must be (C_in, H, W), got shape {x.shape}")
    if weight.ndim == 2:
        weight = weight[:, :, None, None]
    if weight.ndim != 4 or weight.shape[2:] != (1, 1) or weight.shape[1] != x.shape[0]:
        raise ValueError(f"{fn}: weight must be (C_out, C_in, 1, 1) or (C_out, C_in) with "
                         f"C_in = {x.shape[0]}, got shape {weight.shape}")
    c_in, h, w = x.shape
    c_out = weight.shape[0]
    b = None if bias is None else np.atleast_1d(v.array(fn, "bias", bias)).ravel()
    if b is not None:
        v.bias_vector(fn, b, c_out)
    y = conv2d(x, weight, b)
    r, c = _position(fn, position, (h, w))
    matrix = weight[:, :, 0, 0]
    pixel = x[:, r, c]

    column = w + 1.2
    top_width = c_in * column - 1.2
    # bottom row, top-aligned: W · x[:, r, c] (+ b) = y[:, r, c], then the output channels
    parts = [("W", c_in), ("·", _GAP), ("x", 1)] + ([("+", _GAP), ("b", 1)] if b is not None
                                                     else []) + [("=", _GAP), ("y", 1)]
    xs, at = {}, 0.0
    for name, size in parts:
        xs[name] = at
        at += size
    out_x = at + _GAP
    width = max(top_width, out_x + c_out * column - 1.2)
    y0 = _LABEL + h + 2.2  # top of the bottom row: room for the lines that gather the pixel
    height = y0 + max(c_in, c_out, h) + _LABEL
    sums = []
    for o in range(min(c_out, 3)):  # three lines of arithmetic at most; the picture has all
        terms = " + ".join(f"{factor(matrix[o, i])}·{factor(pixel[i])}" for i in range(c_in))
        terms += "" if b is None else f" + {factor(b[o])}"
        sums.append(f"y[{o}, {r}, {c}] = {terms} = {fmt(y[o, r, c])}")
    title = (f"1×1 convolution, {c_in} → {c_out} channels: at pixel ({r}, {c}), "
             f"y[:, {r}, {c}] = W · x[:, {r}, {c}]{' + b' if b is not None else ''} "
             f"(the same W at every pixel)\n" + "\n".join(sums)
             + ("\n..." if c_out > 3 else ""))
    fig, ax = canvas(width, height, title, max_cell=0.4, fig=fig)

    line = {"color": COLORS["window"], "linewidth": 1.0, "alpha": 0.7, "zorder": 0.5}
    x_left = (width - top_width) / 2
    for i in range(c_in):
        origin = (x_left + i * column, _LABEL)
        draw_grid(ax, f"input{i}", origin, _kinds((h, w), "input"), x[i],
                  label=f"input x[{i}]")
        draw_window(ax, f"input{i}", origin, [(r, c)])
        # from under the pixel's column, so that no line runs behind another grid
        ax.plot([origin[0] + c + 0.5, xs["x"] + 0.5], [_LABEL + h, y0],
                gid=f"gather:{i}", **line)
    below = {"label_below": True}
    draw_grid(ax, "matrix", (xs["W"], y0), _kinds(matrix.shape, "kernel"), matrix,
              label="W = weight[:, :, 0, 0]" if c_in >= 4 else "W", **below)
    draw_grid(ax, "pixel", (xs["x"], y0), _kinds((c_in, 1), "input"), pixel[:, None],
              label=f"x[:, {r}, {c}]", **below)
    if b is not None:
        draw_grid(ax, "bias", (xs["b"], y0), _kinds((c_out, 1), "kernel"), b[:, None],
                  label="b", **below)
    draw_grid(ax, "result", (xs["y"], y0), _kinds((c_out, 1), "output"), y[:, r, c][:, None],
              label=f"y[:, {r}, {c}]", **below)
    for sign in ("·", "+", "="):
        if sign in xs:
            ax.text(xs[sign] + _GAP / 2, y0 + min(c_in, c_out) / 2, sign, ha="center",
                    va="center", fontsize=FONT["title"] + (8 if sign == "·" else 2),
                    fontweight="bold", color=COLORS["text"])
    for o in range(c_out):
        origin = (out_x + o * column, y0)
        draw_grid(ax, f"output{o}", origin, _kinds((h, w), "output"), y[o],
                  label=f"output y[{o}]", **below)
        draw_window(ax, f"output{o}", origin, [(r, c)])
    return fig
