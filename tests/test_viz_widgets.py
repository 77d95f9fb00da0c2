"""The explorers: a control's new value changes the text, the picture and the numbers shown."""

import html
import re
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pytest
from ipywidgets import IntSlider

import convlab
from convlab.data import KERNELS
from convlab.viz import drawn_cells, show_work
from convlab.viz.widgets import (
    Explorer,
    conv_explorer,
    filter_playground,
    receptive_field_explorer,
    step_through,
)

# chapter 02's worked example: 5x5 input, 3x3 kernel, stride 1, no padding
X = np.array([[3, 3, 2, 1, 0], [0, 0, 1, 3, 1], [3, 1, 2, 2, 3], [2, 0, 0, 2, 2], [2, 0, 0, 0, 1]])
W = np.array([[0, 1, 2], [2, 2, 0], [0, 1, 2]])
Y = np.array([[12, 12, 17], [10, 17, 19], [9, 6, 14]])


def _text(widget):
    """The text a learner reads in an HTML widget (tags dropped, entities decoded)."""
    return html.unescape(re.sub(r"<[^>]+>", "", widget.value))


def _svg(explorer):
    """The SVG text of the picture the explorer's Output shows (exactly one image)."""
    (output,) = explorer.output.outputs
    svg = output["data"]["image/svg+xml"]
    assert svg.startswith("<?xml") and "<svg" in svg
    return svg


def _output_shape(fig):
    """Rows and columns of the output grid drawn in ``fig``."""
    cells = drawn_cells(fig, "output:output")
    return max(r for r, _ in cells) + 1, max(c for _, c in cells) + 1


# --- conv_explorer -----------------------------------------------------------------------------


def test_conv_explorer_draws_once_at_construction():
    ex = conv_explorer()
    text = _text(ex.text)
    assert "o = floor((i + 2p - d(k-1) - 1) / s) + 1" in text
    assert "floor((5 + 2·0 - 1·(3-1) - 1) / 1) + 1 = floor(2 / 1) + 1 = 3" in text
    assert "output 3×3" in text
    assert ex.message.value == ""
    assert _output_shape(ex.figure) == (3, 3)
    assert "output 3×3" in ex.output.outputs[0]["data"]["text/plain"]
    assert "→ output 3×3" in _svg(ex)  # the picture's own title, as text in the SVG


def test_conv_explorer_slider_changes_text_and_picture():
    ex = conv_explorer()
    before = _svg(ex)
    ex.sliders["input_size"].value = 7
    text = _text(ex.text)
    assert "floor((7 + 2·0 - 1·(3-1) - 1) / 1) + 1 = floor(4 / 1) + 1 = 5" in text
    assert "output 5×5" in text
    assert _output_shape(ex.figure) == (5, 5)
    assert _svg(ex) != before
    assert "→ output 5×5" in _svg(ex)


@pytest.mark.parametrize("i, k, s, p, d", [(5, 3, 2, 1, 1), (7, 3, 1, 0, 2), (6, 4, 3, 2, 1),
                                           (4, 1, 1, 0, 1), (10, 7, 4, 4, 1)])
def test_conv_explorer_agrees_with_conv_output_size(i, k, s, p, d):
    ex = conv_explorer()
    with ex.hold():
        for name, value in zip(("input_size", "kernel_size", "stride", "padding", "dilation"),
                               (i, k, s, p, d)):
            ex.sliders[name].value = value
    o = convlab.conv_output_size(i, k, s, p, d)
    assert f") + 1 = {o}\n" in _text(ex.text)
    assert _output_shape(ex.figure) == (o, o)
    assert len(drawn_cells(ex.figure, "input:padding")) == (i + 2 * p) ** 2 - i ** 2
    assert ex.message.value == ""


def test_conv_explorer_invalid_combination_shows_the_message_not_a_traceback():
    ex = conv_explorer()
    with ex.hold():
        ex.sliders["input_size"].value = 2
        ex.sliders["kernel_size"].value = 5
    message = _text(ex.message)
    assert "the kernel spans 5 along H but the padded input is only 2 long" in message
    assert "Traceback" not in message
    assert ex.output.outputs == ()  # a picture of other values would contradict the sliders
    assert "no output" in _text(ex.text)

    ex.sliders["padding"].value = 2  # 2 + 2·2 = 6 >= 5: a convolution again
    assert ex.message.value == ""
    assert _output_shape(ex.figure) == (2, 2)
    _svg(ex)


def test_conv_explorer_transposed_view():
    ex = conv_explorer()
    assert ex.sliders["output_padding"].disabled
    with ex.hold():
        ex.sliders["transposed"].value = True
        ex.sliders["input_size"].value = 2
        ex.sliders["stride"].value = 2
    text = _text(ex.text)
    o = convlab.conv_transpose_output_size(2, 3, stride=2)
    assert o == 5  # chapter 06: 2x2 input, one zero between inputs, 3x3 kernel -> 5x5
    assert "o = (i - 1)·s - 2p + d(k-1) + output_padding + 1" in text
    assert f"(2 - 1)·2 - 2·0 + 1·(3-1) + 0 + 1 = {o}" in text
    assert _output_shape(ex.figure) == (o, o)
    assert drawn_cells(ex.figure, "input:zero") != []  # the zeros inserted between inputs
    assert not ex.sliders["output_padding"].disabled

    ex.sliders["output_padding"].value = 1
    assert _output_shape(ex.figure) == (6, 6)
    ex.sliders["output_padding"].value = 2  # must be smaller than the stride or the dilation
    assert "output_padding must be smaller than stride or dilation" in _text(ex.message)
    assert ex.output.outputs == ()


# --- filter_playground -------------------------------------------------------------------------


def _boxes(ex):
    return np.array([[box.value for box in row] for row in ex.boxes])


def _correlate_same(image, kernel):
    """An independent 3x3 cross-correlation with one zero on each side: nine shifted sums."""
    padded = np.pad(image, 1)
    h, w = image.shape
    return sum(kernel[a, b] * padded[a:a + h, b:b + w] for a in range(3) for b in range(3))


def test_filter_playground_preset_fills_the_boxes_and_filters():
    image = np.random.default_rng(0).random((40, 30))
    ex = filter_playground(image, preset="sobel_x")
    np.testing.assert_array_equal(_boxes(ex), KERNELS["sobel_x"])
    np.testing.assert_allclose(ex.result, _correlate_same(image, KERNELS["sobel_x"]))
    assert "kernel sum = 0" in _text(ex.text)
    shown = ex.figure.axes[1].images[0]
    assert shown.get_cmap().name == "PuOr_r"  # signed response, centred on 0
    assert shown.get_clim() == (-np.abs(ex.result).max(), np.abs(ex.result).max())
    before = _svg(ex)

    ex.preset.value = "gaussian_blur"
    np.testing.assert_array_equal(_boxes(ex), KERNELS["gaussian_blur"])
    np.testing.assert_allclose(ex.result, _correlate_same(image, KERNELS["gaussian_blur"]))
    assert "kernel sum = 1: flat regions keep their brightness" in _text(ex.text)
    assert shown.get_cmap().name == "gray"
    assert _svg(ex) != before


def test_filter_playground_editing_a_box_refilters_and_says_custom():
    image = np.random.default_rng(1).random((20, 20))
    ex = filter_playground(image, preset="identity")
    np.testing.assert_allclose(ex.result, image)
    ex.boxes[1][1].value = 2.0
    assert ex.preset.value == "custom"
    np.testing.assert_allclose(ex.result, 2 * image)
    assert "kernel sum = 2: flat regions are scaled by 2" in _text(ex.text)
    ex.boxes[1][1].value = 1.0  # back to a preset's numbers: the menu names it again
    assert ex.preset.value == "identity"


def test_filter_playground_default_image_is_small_and_averaged():
    ex = filter_playground()
    image = convlab.data.sample_image()  # 600x512 -> blocks of 4x4 -> 150x128
    assert ex.result.shape == (150, 128)
    small = image.reshape(150, 4, 128, 4).mean(axis=(1, 3))
    np.testing.assert_allclose(ex.result, _correlate_same(small, KERNELS["sobel_x"]), atol=1e-12)


def test_filter_playground_rejects_bad_arguments():
    with pytest.raises(ValueError, match="filter_playground: unknown preset 'blurry'"):
        filter_playground(preset="blurry")
    with pytest.raises(ValueError, match="filter_playground: image must be 2-D"):
        filter_playground(np.zeros((3, 8, 8)))


# --- step_through ------------------------------------------------------------------------------


def test_step_through_work_text_follows_the_slider():
    ex = step_through(X, W)
    slider = ex.sliders["position"]
    assert [value for _, value in slider.options] == [(r, c) for r in range(3) for c in range(3)]
    assert ex.play.max == 8
    for position in [(0, 0), (0, 2), (1, 1), (2, 1), (2, 2)]:
        slider.value = position
        work = show_work(X, W, position=position)
        assert _text(ex.text).strip() == f"output[{position[0]}, {position[1]}] = {work.text}"
        assert ex.work.value == Y[position]
        assert drawn_cells(ex.figure, "window:output") == [position]
    assert "3·0 + 3·1 + 2·2" in _text(step_through(X, W).text)  # output[0, 0] = 12


def test_step_through_with_bias_stride_padding():
    ex = step_through(X, W, bias=1, stride=2, padding=1)
    expected = convlab.conv2d(X[None], W[None, None], np.array([1.0]), stride=2, padding=1)[0]
    positions = [value for _, value in ex.sliders["position"].options]
    assert len(positions) == expected.size == 9
    for position in positions:
        ex.sliders["position"].value = position
        assert ex.work.value == expected[position]
        assert _text(ex.text).rstrip().endswith(f"= {expected[position]:g}")


def test_step_through_rejects_a_multichannel_input():
    with pytest.raises(ValueError, match="step_through: x must be 2-D"):
        step_through(np.zeros((2, 5, 5)), W)


# --- all explorers -----------------------------------------------------------------------------


def test_explorers_leak_no_figures():
    before = plt.get_fignums()
    explorers = [conv_explorer(), filter_playground(), step_through(X, W),
                 receptive_field_explorer()]
    for ex in explorers:
        for control in ex.sliders.values():
            if hasattr(control, "max") and isinstance(control.value, int):
                control.value = min(control.value + 1, control.max)
    assert plt.get_fignums() == before


def test_hold_redraws_once():
    calls = []
    a, b = IntSlider(1), IntSlider(2)

    def draw(ex, a, b):
        calls.append((a, b))
        ex.text.value = f"{a + b}"
        return convlab.viz.draw_conv2d(fig=ex.figure)

    ex = Explorer({"a": a, "b": b}, a, draw)
    with ex.hold():
        a.value, b.value = 3, 4
    assert calls == [(1, 2), (3, 4)]
    assert ex.text.value == "7"


# --- receptive_field_explorer ------------------------------------------------------------------


def _field_side(fig):
    cells = drawn_cells(fig, "window:input")
    rows = {r for r, _ in cells}
    return max(rows) - min(rows) + 1


def test_receptive_field_explorer_two_then_three_layers():
    ex = receptive_field_explorer(layers=2, input_size=9)
    text = _text(ex.text)
    assert "layer 1: r = 1 + 1·(3 - 1)·1 = 3" in text
    assert "layer 2: r = 3 + 1·(3 - 1)·1 = 5" in text
    # chapter 05: two 3x3 layers see 5x5 with 18 weights instead of 25
    assert ("2 layers see 5×5 input pixels with 18 weights per channel pair; "
            "one 5×5 kernel has 25") in text
    assert _field_side(ex.figure) == 5
    assert [row.layout.display for row in ex.rows] == [None, None] + ["none"] * 4

    ex.sliders["layers"].value = 3
    assert "3 layers see 7×7 input pixels with 27 weights" in _text(ex.text)
    assert _field_side(ex.figure) == 7
    assert [row.layout.display for row in ex.rows] == [None] * 3 + ["none"] * 3
    assert [rf.size for rf in ex.fields] == [1, 3, 5, 7]


def test_receptive_field_explorer_dilated_stack_and_strides():
    ex = receptive_field_explorer(layers=3, input_size=16)
    with ex.hold():
        ex.sliders["dilation_2"].value = 2
        ex.sliders["dilation_3"].value = 4
    # chapter 07: rates 1, 2, 4 give receptive fields 3, 7, 15
    assert [rf.size for rf in ex.fields] == [1, 3, 7, 15]
    assert "layer 3: r = 7 + 4·(3 - 1)·1 = 15" in _text(ex.text)
    assert _field_side(ex.figure) == 15

    with ex.hold():
        ex.sliders["stride_1"].value = 2
        ex.sliders["input_size"].value = 32
    expected = convlab.receptive_field([(3, 2, 0, 1), (3, 1, 0, 2), (3, 1, 0, 4)], 32)
    assert [rf.size for rf in expected] == [1, 3, 11, 27]
    assert ex.fields == expected
    assert "j = 1·2 = 2" in _text(ex.text)


def test_receptive_field_explorer_too_small_input_shows_the_message():
    ex = receptive_field_explorer(layers=3, input_size=6)
    assert "receptive_field (layer 3)" in _text(ex.message)
    assert ex.output.outputs == () and ex.text.value == ""
    ex.sliders["input_size"].value = 7
    assert ex.message.value == ""
    assert [rf.out for rf in ex.fields] == [7, 5, 3, 1]


def test_a_notebook_run_headless_keeps_the_figure():
    """nbclient, as CI runs the chapters: the explorer's first picture is in the saved state."""
    nbclient = pytest.importorskip("nbclient")
    nbformat = pytest.importorskip("nbformat")

    nb = nbformat.read(Path(__file__).parent / "browser" / "conv_explorer.ipynb", as_version=4)
    nbclient.NotebookClient(nb, timeout=60, kernel_name="python3").execute()
    (shown,) = nb.cells[0].outputs
    assert "application/vnd.jupyter.widget-view+json" in shown["data"]
    state = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    outputs = [o for m in state.values() if m["model_name"] == "OutputModel"
               for o in m["state"]["outputs"]]
    assert len(outputs) == 1
    assert "→ output 3×3" in outputs[0]["data"]["image/svg+xml"]
    assert "→ output 3×3" in outputs[0]["data"]["text/plain"]
    formulas = [m["state"]["value"] for m in state.values()
                if "convlab-formula" in m["state"].get("_dom_classes", ())]
    assert len(formulas) == 1 and "floor(2 / 1) + 1 = 3" in formulas[0]
