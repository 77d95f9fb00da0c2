"""Pictures of a network as it trains: a progress bar with a live loss curve, loss curves side
by side, and a layer's learned kernels (``convlab.nn``)."""

import html
import time

import numpy as np

from .. import _validate as v
from .style import COLORS, FIG_WIDTH, FONT, new_figure

__all__ = ["TrainingProgress", "draw_kernels", "draw_losses"]


def _display():
    """IPython's ``display`` in a running IPython (a notebook's kernel), else None."""
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:
        return None
    return display if get_ipython() is not None else None

_LINES = ("#0072B2", COLORS["window"], COLORS["output"], COLORS["kernel"], COLORS["zero"])


class _Bar:
    """A progress bar shown as an HTML ``<progress>`` in JupyterLab and as text elsewhere."""

    def __init__(self, title, step, steps, seconds):
        self.title, self.step, self.steps, self.seconds = title, step, steps, seconds

    def _words(self):
        share = self.step / self.steps
        return f"{self.title}: step {self.step}/{self.steps} · {share:.0%} · {self.seconds:.2f} s"

    def _repr_html_(self):
        return (f'<progress value="{self.step}" max="{self.steps}" style="width: 40%"></progress>'
                f" <code>{html.escape(self._words())}</code>")

    def __repr__(self):
        filled = round(30 * self.step / self.steps)
        return f"[{'#' * filled}{'.' * (30 - filled)}] {self._words()}"


class _Blank:
    """An empty display: what the live displays hold before and after a run."""

    def __repr__(self):
        return ""


class TrainingProgress:
    """``nn.train``'s progress hook: a progress bar and a loss curve that redraw as it trains.

    ``progress = viz.TrainingProgress("standard")``, then ``nn.train(..., progress=progress)``.
    In a notebook, a live bar and curve update in place (``updates`` times in a run); at the
    last step they are emptied and the finished bar and the whole curve are shown as ordinary
    outputs. So a notebook run headless (nbclient, nbval, which do or do not apply updates)
    stores the same outputs: the finished bar and curve. Outside IPython it only draws the
    curve at the end (``progress.figure``).

    Parameters
    ----------
    title : str, names the run in the bar and on the curve
    updates : int >= 1, how many times the live curve is redrawn during a run
    """

    def __init__(self, title="training", updates=10):
        self.title = str(title)
        self.updates = v.int_value("TrainingProgress", "updates", updates, 1)
        self.losses = []
        self.figure = None
        self._live = None
        self._start = None

    def __call__(self, step, steps, loss):
        if self._start is None:
            self._start = time.perf_counter()
        self.losses.append(float(loss))
        every = max(1, steps // self.updates)
        if step % every and step != steps:
            return
        self.figure = self._draw(step, steps)
        bar = _Bar(self.title, step, steps, time.perf_counter() - self._start)
        display = _display()
        if display is None:
            return
        if self._live is None:
            self._live = (display(_Blank(), display_id=True), display(_Blank(), display_id=True))
        if step < steps:
            self._live[0].update(bar)
            self._live[1].update(self.figure)
            return
        for handle in self._live:
            handle.update(_Blank())
        display(bar)
        display(self.figure)

    def _draw(self, step, steps):
        fig = new_figure(FIG_WIDTH, 2.6, self.figure)
        ax = fig.add_subplot()
        steps_seen = np.arange(1, len(self.losses) + 1)
        ax.plot(steps_seen, self.losses, color=_LINES[0], linewidth=1.0)
        ax.set_xlim(0, steps)
        ax.set_ylim(0, max(self.losses[:1] + [1.0]) * 1.05)
        ax.set_xlabel("step (one mini-batch)", fontsize=FONT["label"])
        ax.set_ylabel("loss (cross-entropy)", fontsize=FONT["label"])
        ax.set_title(f"{self.title}: loss after step {step} of {steps}: {self.losses[-1]:.3f}",
                     fontsize=FONT["title"])
        ax.grid(alpha=0.3)
        fig.tight_layout()
        return fig


def draw_losses(runs, per_epoch=None, fig=None):
    """Loss curves of several training runs on one axes.

    Parameters
    ----------
    runs : dict ``name -> losses`` (a sequence of per-step losses, e.g. ``History.losses``)
    per_epoch : int or None, steps per epoch: marks the epochs on the x axis
    fig : Figure or None: draw into this figure (cleared) instead of a new one

    Returns
    -------
    matplotlib Figure with one line per run (gid ``"loss:<name>"``).
    """
    fn = "draw_losses"
    if not runs or len(runs) > len(_LINES):
        raise ValueError(f"{fn}: give 1 to {len(_LINES)} runs, got {len(runs)}")
    fig = new_figure(FIG_WIDTH, 3.0, fig)
    ax = fig.add_subplot()
    for (name, losses), color in zip(runs.items(), _LINES):
        losses = v.array(fn, f"runs[{name!r}]", losses)
        steps = np.arange(1, len(losses) + 1)
        # a running mean over 10 steps: one mini-batch's loss is noisy
        smooth = np.convolve(losses, np.ones(10) / 10, mode="valid") if len(losses) >= 10 \
            else losses
        ax.plot(steps, losses, color=color, alpha=0.25, linewidth=0.8)
        (line,) = ax.plot(steps[len(steps) - len(smooth):], smooth, color=color, linewidth=1.8,
                          label=name)
        line.set_gid(f"loss:{name}")
    if per_epoch:
        ax.set_xticks(np.arange(0, ax.get_xlim()[1] + 1, per_epoch))
        ax.set_xlabel(f"step (one mini-batch; a tick every epoch of {per_epoch} steps)",
                      fontsize=FONT["label"])
    else:
        ax.set_xlabel("step (one mini-batch)", fontsize=FONT["label"])
    ax.set_ylabel("loss (cross-entropy)", fontsize=FONT["label"])
    ax.set_ylim(bottom=0)
    ax.set_title("training loss (faint: every step; bold: mean of 10 steps)",
                 fontsize=FONT["title"])
    ax.grid(alpha=0.3)
    ax.legend(fontsize=FONT["label"])
    fig.tight_layout()
    return fig


def draw_kernels(weight, title, per_row=8, fig=None):
    """The ``k x k`` kernels of a layer's filters, one panel each, on one scale centred on 0.

    Parameters
    ----------
    weight : array ``(C_out, C_in/groups, kh, kw)``; the first kernel of each filter is drawn
        (a filter of one input channel is one kernel)
    title : str, the figure's title
    per_row : int, panels per row

    Returns
    -------
    matplotlib Figure, panel ``n`` (gid ``"kernel:<n>"``) the kernel of filter ``n``, purple
    negative, orange positive, white 0.
    """
    fn = "draw_kernels"
    weight = v.array(fn, "weight", weight)
    if weight.ndim != 4:
        raise ValueError(f"{fn}: weight must be 4-D (C_out, C_in/groups, kh, kw), got shape "
                         f"{weight.shape}")
    per_row = v.int_value(fn, "per_row", per_row, 1)
    kernels = weight[:, 0]
    n = len(kernels)
    cols = min(per_row, n)
    rows = -(-n // cols)
    panel = 0.85 * FIG_WIDTH / cols
    fig = new_figure(FIG_WIDTH, rows * (panel + 0.25) + 0.55, fig)
    fig.suptitle(title, fontsize=FONT["title"], y=0.99, va="top")
    limit = max(float(np.abs(kernels).max()), 1e-12)
    top = 1 - 0.55 / fig.get_figheight()
    grid = fig.add_gridspec(rows, cols + 1, width_ratios=[1] * cols + [0.12], left=0.02,
                            right=0.94, bottom=0.02, top=top, wspace=0.12, hspace=0.3)
    for i, kernel in enumerate(kernels):
        ax = fig.add_subplot(grid[i // cols, i % cols])
        im = ax.imshow(kernel, cmap="PuOr_r", vmin=-limit, vmax=limit)
        ax.set_title(f"filter {i}", fontsize=FONT["small"])
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_gid(f"kernel:{i}")
    bar = fig.colorbar(im, cax=fig.add_subplot(grid[:, cols]))
    bar.ax.tick_params(labelsize=FONT["small"])
    return fig
