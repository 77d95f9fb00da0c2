"""convlab._fast: the fast contractions behind convlab.conv, held to the loop reference."""

import numpy as np
import pytest

import convlab as cl
from convlab import _fast

# --- the fast paths a small test never reaches --------------------------------------------------
# Winograd F(2x2, 3x3) serves 3x3, stride-1, ungrouped layers with 16+ channels; the blocked and
# threaded im2col serves layers whose windows exceed a block. Both are held to the loop reference.


@pytest.mark.parametrize("groups, padding", [(1, 1), (1, 0), (2, 1)])
def test_winograd_and_grouped_layers_with_odd_output_sizes(groups, padding):
    rng = np.random.default_rng(5)
    x = rng.normal(size=(2, 16 * groups, 9, 11)).astype(np.float32)
    w = rng.normal(size=(6 * groups, 16, 3, 3)).astype(np.float32)
    b = rng.normal(size=6 * groups).astype(np.float32)
    got = cl.conv2d(x, w, b, padding=padding, groups=groups)
    want = cl.conv2d_loops(x.astype(np.float64), w, b, padding=padding, groups=groups)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("stride, dilation", [(1, 1), (2, 1), ((2, 3), (1, 2))])
def test_depthwise_blocks_pad_their_own_images(monkeypatch, stride, dilation):
    rng = np.random.default_rng(10)
    x = rng.normal(size=(3, 4, 11, 9))
    w = rng.normal(size=(8, 1, 3, 3))  # two filters per channel
    want = cl.conv2d_loops(x, w, stride=stride, padding=2, dilation=dilation, groups=4)
    monkeypatch.setattr(_fast, "_BLOCK_BYTES", 64)  # a channel per block, scratch reused
    got = cl.conv2d(x, w, stride=stride, padding=2, dilation=dilation, groups=4)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    # the transposed convolution's phases crop as well as pad (negative padding pairs)
    g = rng.normal(size=(3, 4, 6, 5))
    t = rng.normal(size=(4, 1, 4, 4))
    whole = cl.conv_transpose2d(g, t, stride=2, padding=2, groups=4)
    monkeypatch.setattr(_fast, "_BLOCK_BYTES", 1 << 20)
    np.testing.assert_allclose(whole, cl.conv_transpose2d(g, t, stride=2, padding=2, groups=4),
                               rtol=1e-12, atol=1e-12)


def test_winograd_input_transform_by_additions_is_the_matrix():
    d = np.random.default_rng(7).normal(size=(4, 4, 5))
    v = _fast._winograd_in(d, np.empty_like(d), np.empty_like(d))
    b = np.kron(_fast._WINO_B, _fast._WINO_B)
    np.testing.assert_allclose(v.reshape(16, 5), b @ d.reshape(16, 5))


def test_winograd_in_many_blocks_with_more_outputs_than_inputs(monkeypatch):
    rng = np.random.default_rng(8)
    x = rng.normal(size=(2, 16, 9, 13))
    w = rng.normal(size=(40, 16, 3, 3))
    want = cl.conv2d_loops(x, w, padding=1)
    monkeypatch.setattr(_fast, "_BLOCK_BYTES", 64)
    monkeypatch.setattr(_fast, "_BLOCK_COLUMNS", 3)  # blocks of a few tiles, split along rows
    np.testing.assert_allclose(cl.conv2d(x, w, padding=1), want, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("op", ["conv2d", "conv_transpose2d", "conv2d_input", "conv2d_weight"])
def test_blocked_and_threaded_paths_agree_with_unblocked(monkeypatch, op):
    rng = np.random.default_rng(6)
    x = rng.normal(size=(3, 5, 13, 12))
    w = rng.normal(size=(4, 5, 3, 2))
    g = rng.normal(size=(3, 4) + cl.conv_output_size((13, 12), (3, 2), 2, 1))
    calls = {
        "conv2d": lambda: cl.conv2d(x, w, stride=2, padding=1),
        "conv_transpose2d": lambda: cl.conv_transpose2d(g, w, stride=2, padding=1),
        "conv2d_input": lambda: cl.conv2d_input(x.shape, w, g, stride=2, padding=1),
        "conv2d_weight": lambda: cl.conv2d_weight(x, w.shape, g, stride=2, padding=1),
    }
    whole = calls[op]()
    monkeypatch.setattr(_fast, "_BLOCK_BYTES", 64)  # a block of a few positions: many blocks
    np.testing.assert_allclose(calls[op](), whole, rtol=1e-12, atol=1e-12)
