"""convlab._fast: the fast contractions behind convlab.conv, held to the loop reference."""

import os
import signal
import sys
import threading
import time

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

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


# --- errors and interrupts in a threaded section -----------------------------------------------


def _busy_workers():
    """The names of convlab's pool threads that are running convlab code right now."""
    package = os.path.dirname(cl.__file__)
    frames = sys._current_frames()
    busy = []
    for thread in threading.enumerate():
        frame = frames.get(thread.ident)
        if not thread.name.startswith("convlab") or frame is None:
            continue
        while frame is not None:
            if frame.f_code.co_filename.startswith(package):
                busy.append(thread.name)
                break
            frame = frame.f_back
    return busy


@pytest.fixture
def two_blas_threads():
    """BLAS (and so ``_parallel``) on two threads, whatever the machine has."""
    with threadpool_limits(2, user_api="blas"):
        yield


def test_an_error_in_the_calling_thread_surfaces_as_itself(two_blas_threads):
    with np.errstate(all="raise"), pytest.raises(FloatingPointError):
        cl.conv2d(np.full((8, 8, 64, 64), 1e200), np.full((8, 8, 3, 3), 1e200))
    assert not _busy_workers()


@pytest.mark.parametrize("where", ["caller", "worker"])
def test_an_error_stops_every_thread_and_surfaces_as_itself(two_blas_threads, where):
    caller = threading.get_ident()
    taken = []

    def task(shared):
        for item in shared:
            taken.append(item)
            time.sleep(0.002)
            if item >= 6 and (threading.get_ident() == caller) == (where == "caller"):
                raise MemoryError(f"item {item}")
        return 0

    with pytest.raises(MemoryError, match=r"^item \d+$"):
        _fast._parallel(task, list(range(200)))
    assert not _busy_workers()
    assert len(taken) < 50  # nobody went on taking items after the error


def test_an_interrupt_ends_a_threaded_convolution_cleanly(two_blas_threads):
    """Ctrl-C (Jupyter's stop button: SIGINT to the main thread) during a large convolution."""
    if threading.current_thread() is not threading.main_thread() or \
            signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        pytest.skip("needs Python's own SIGINT handler in the main thread")
    rng = np.random.default_rng(12)
    x, w = rng.normal(size=(16, 32, 96, 96)), rng.normal(size=(32, 32, 3, 3))
    done, interrupted, finished = threading.Event(), threading.Event(), []

    def press_stop():  # once the pool computes, as a learner would mid-way
        while not done.is_set():
            if _busy_workers():
                signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)
                interrupted.set()
                return
            time.sleep(0.001)

    stopper = threading.Thread(target=press_stop)
    with pytest.raises(KeyboardInterrupt):
        stopper.start()
        try:
            finished.append(cl.conv2d(x, w, padding=2, dilation=2))  # im2col on two threads
        finally:
            done.set()
            stopper.join()
    assert interrupted.is_set() and not finished
    assert not _busy_workers()
    # the threads are free again and BLAS has its thread count back
    assert max(lib.num_threads for lib in _fast._BLAS.lib_controllers) == 2
    small = x[:2, :, :12, :12]
    np.testing.assert_allclose(cl.conv2d(small, w, padding=2, dilation=2),
                               cl.conv2d_loops(small, w, padding=2, dilation=2), rtol=1e-10,
                               atol=1e-10)


# --- non-finite values and large magnitudes through Winograd and the transposed forms ----------


def _same_specials(got, want):
    """NaN where ``want`` has NaN, the same infinities, and the finite values close."""
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_array_equal(np.where(np.isinf(got), got, 0),
                                  np.where(np.isinf(want), want, 0))
    finite = np.isfinite(want)
    np.testing.assert_allclose(got[finite].astype(float), want[finite], rtol=1e-3, atol=1e-3)


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_winograd_puts_non_finite_values_where_the_direct_sum_does(value):
    rng = np.random.default_rng(13)
    x = rng.random((1, 16, 6, 6))  # 3x3, stride 1, 16 channels: Winograd's layer
    x[0, 0, 2, 3] = value
    w = rng.random((1, 16, 3, 3))
    y = cl.conv2d(x, w)
    assert np.isnan(y).sum() == (9 if np.isnan(value) else 0)  # one NaN reaches 9 outputs, not 16
    _same_specials(y, cl.conv2d_loops(x, w))
    _same_specials(cl.conv2d(x, w, padding=1), cl.conv2d_loops(x, w, padding=1))


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")  # the direct sum's 0 * inf
def test_winograd_with_a_non_finite_weight_is_the_direct_sum():
    rng = np.random.default_rng(14)
    x, w = rng.random((2, 16, 7, 6)), rng.random((3, 16, 3, 3))
    w[1, 4, 0, 2] = np.inf
    _same_specials(cl.conv2d(x, w, padding=1), cl.conv2d_loops(x, w, padding=1))


@pytest.mark.parametrize("dtype, big, big_weight", [(np.float16, 2e4, 3e4),
                                                    (np.float32, 1e38, 2e38)])
def test_winograd_never_overflows_where_the_direct_sum_does_not(dtype, big, big_weight):
    """Winograd's transforms add up to four inputs (2e4 overflow float16 then, 1e38 float32)
    and scale a kernel by up to 2.25 (3e4 overflow float16, 2e38 float32)."""
    rng = np.random.default_rng(15)
    x = rng.random((1, 16, 6, 6)).astype(dtype)
    x[0, 0, 2, 3] = big
    w = (rng.random((2, 16, 3, 3)) / 100).astype(dtype)
    for x, w in [(x, w), (np.full_like(x, big), w),
                 ((rng.random(x.shape) / 1000).astype(dtype), np.full_like(w, big_weight))]:
        got = cl.conv2d(x, w)
        assert got.dtype == dtype and np.isfinite(got).all()
        np.testing.assert_allclose(got.astype(float), cl.conv2d_loops(x.astype(float), w),
                                   rtol=1e-3)


def test_transposed_convolutions_through_winograd_put_nan_where_the_scatter_does():
    rng = np.random.default_rng(16)
    g = rng.random((1, 16, 5, 5))
    g[0, 3, 1, 2] = np.nan
    w = rng.random((16, 4, 3, 3))
    # input (1, 2) adds into outputs (1..3, 2..4) only
    want = np.zeros((1, 4, 7, 7), bool)
    want[..., 1:4, 2:5] = True
    np.testing.assert_array_equal(np.isnan(cl.conv_transpose2d(g, w)), want)
    # the gradient of conv2d (C_in 4, C_out 16, weight w) is the same transposed convolution
    np.testing.assert_array_equal(np.isnan(cl.conv2d_input((1, 4, 7, 7), w, g)), want)


@pytest.mark.parametrize("stride, groups", [(1, 1), (2, 2)])
def test_a_transposed_convolution_multiplies_no_inserted_zero_by_an_infinite_weight(stride,
                                                                                   groups):
    """Stride 1 and one channel per group take the output-phase form: it must not pad."""
    x = np.ones((1, 2, 3, 3))
    w = np.ones((2, 1, 3, 3))
    w[:, 0, 0, 0] = np.inf
    y = cl.conv_transpose2d(x, w, stride=stride, groups=groups)
    # tap (0, 0) of input (i, j) lands on output (i*s, j*s): infinite there, finite elsewhere
    want = np.zeros(y.shape, bool)
    want[..., :3 * stride:stride, :3 * stride:stride] = True
    assert not np.isnan(y).any()
    np.testing.assert_array_equal(np.isinf(y), want)


@pytest.mark.parametrize("c_in", [1, 2])  # the output-phase form and the scatter form
def test_a_stride_past_the_kernel_computes_only_the_phases_a_tap_reaches(c_in):
    """Stride 1000 has a million output phases per image; a 1x1 kernel reaches one."""
    x = np.arange(4.0 * c_in).reshape(1, c_in, 2, 2)
    start = time.perf_counter()
    y = cl.conv_transpose2d(x, np.full((c_in, 1, 1, 1), 2.0), stride=1000)
    assert time.perf_counter() - start < 5  # 0.1 s here; 13 to 35 s phase by phase
    want = np.zeros((1, 1, 1001, 1001))
    want[..., ::1000, ::1000] = 2 * x.sum(axis=1)
    np.testing.assert_array_equal(y, want)
    # the forward depthwise layer splits the input into the phases its taps read, not all
    x = np.random.default_rng(17).normal(size=(1, 2, 200, 200))
    w = np.ones((2, 1, 2, 2))
    np.testing.assert_allclose(cl.conv2d(x, w, stride=90, groups=2),
                               cl.conv2d_loops(x, w, stride=90, groups=2), rtol=1e-12)
