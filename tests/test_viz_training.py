"""convlab.viz.training: the progress hook, loss curves and learned kernels draw what they say."""

import numpy as np
import pytest

import convlab.viz as viz
from convlab import nn


def test_training_progress_keeps_every_loss_and_draws_the_last_state():
    progress = viz.TrainingProgress("standard", updates=3)
    for step in range(1, 8):
        progress(step, 7, 2.0 / step)
    assert progress.losses == pytest.approx([2.0 / s for s in range(1, 8)])
    ax = progress.figure.axes[0]
    assert "step 7 of 7" in ax.get_title()
    assert np.allclose(ax.lines[0].get_ydata(), progress.losses)
    assert progress.figure.get_figwidth() <= 9.0


def test_training_progress_is_a_train_hook():
    x_train, y_train, _, _ = nn.digits_split()
    progress = viz.TrainingProgress("grouped")
    history = nn.train(nn.digits_network("grouped", width=8), x_train[:128], y_train[:128],
                       epochs=1, progress=progress)
    assert progress.losses == pytest.approx(history.losses)


def test_draw_losses_one_line_per_run():
    fig = viz.draw_losses({"a": [2.0, 1.0, 0.5] * 5, "b": np.linspace(2, 0.1, 15)},
                          per_epoch=5)
    gids = [line.get_gid() for line in fig.axes[0].lines if line.get_gid()]
    assert gids == ["loss:a", "loss:b"]
    assert fig.get_figwidth() <= 9.0
    with pytest.raises(ValueError, match="1 to 5 runs"):
        viz.draw_losses({})


def test_draw_kernels_one_panel_per_filter():
    weight = np.arange(16 * 9, dtype=float).reshape(16, 1, 3, 3) - 70
    fig = viz.draw_kernels(weight, "kernels")
    panels = [ax for ax in fig.axes if (ax.get_gid() or "").startswith("kernel:")]
    assert len(panels) == 16
    assert np.array_equal(panels[5].images[0].get_array(), weight[5, 0])
    with pytest.raises(ValueError, match="4-D"):
        viz.draw_kernels(weight[0], "kernels")
