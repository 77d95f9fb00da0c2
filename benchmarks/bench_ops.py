"""Time convlab's ops against PyTorch on the CPU, side by side: ``python benchmarks/bench_ops.py``.

Both run in one process with the same number of threads (``--threads``, default 2) and under
the same memory allocator settings: the script re-executes itself with glibc's
``MALLOC_MMAP_THRESHOLD_`` and ``MALLOC_TRIM_THRESHOLD_`` raised (``allocator.py``) when they are
not set (``--glibc-defaults`` keeps glibc's defaults), so that neither library pays page faults for
fresh memory at every call, and prints the settings it ran under. Each case first checks that
the two agree, then times them in alternating rounds: ``--warmup`` untimed calls and
``--repeat`` timed calls of one, a pause, the same for the other, ``--rounds`` times (each
library going first in turn). It prints one row per case (the best time of each over all its
rounds, their ratio, the ratio of the medians, the contraction convlab chose), the geometric
mean of the best-time ratios per dtype, and the peak memory of the ResNet-style layer.

Deformable convolution is timed against ``torchvision.ops.deform_conv2d`` when torchvision can
be imported, else against convlab's own ``deform_conv2d_loops`` on a small case. Without
PyTorch, small cases are timed against ``convlab.reference.conv2d_loops`` instead. It is a
benchmark, not a test: nothing fails on a slow machine. ``benchmarks/README.md`` has a table.
"""

import argparse
import os

from allocator import described, same_allocator

PARSER = argparse.ArgumentParser(description=__doc__.splitlines()[0])
PARSER.add_argument("--threads", type=int, default=2, help="BLAS and torch threads (default 2)")
PARSER.add_argument("--repeat", type=int, default=7, help="timed calls per round (default 7)")
PARSER.add_argument("--rounds", type=int, default=3,
                    help="alternating rounds of each library (default 3)")
PARSER.add_argument("--warmup", type=int, default=3,
                    help="untimed calls at the start of each round (default 3)")
PARSER.add_argument("--only", default="", help="run only the cases whose name contains this")
PARSER.add_argument("--loops", action="store_true",
                    help="time against the loop references even if PyTorch is installed")
PARSER.add_argument("--glibc-defaults", action="store_true",
                    help="keep glibc's allocator defaults (do not re-execute with the settings)")
ARGS = PARSER.parse_args()
same_allocator(ARGS.glibc_defaults)
# BLAS reads its thread count when it is loaded, so this comes before NumPy's import.
for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_name] = str(ARGS.threads)

import math  # noqa: E402
import statistics  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
from typing import NamedTuple  # noqa: E402

import numpy as np  # noqa: E402

import convlab as cl  # noqa: E402
import convlab._fast  # noqa: E402
from convlab._fast import _contraction, _transpose_form  # noqa: E402

try:
    import torch
    import torch.nn.functional as F
except ImportError:
    torch = None
try:
    from torchvision.ops import deform_conv2d as tv_deform_conv2d
except Exception:  # noqa: BLE001 -- a wheel built for CUDA fails on import with other errors
    tv_deform_conv2d = None


class Case(NamedTuple):
    """One timed call: ``op`` on an input and a weight of the given shapes (PyTorch layouts)."""

    name: str
    op: str
    x: tuple
    w: tuple
    kwargs: dict
    dtype: type = np.float32


RESNET = Case("ResNet 3x3, 8x64x56x56", "conv2d", (8, 64, 56, 56), (64, 64, 3, 3), {"padding": 1})
DEPTHWISE = Case("depthwise 3x3, 8x128x56x56", "conv2d", (8, 128, 56, 56), (128, 1, 3, 3),
                 {"padding": 1, "groups": 128})
TRANSPOSED = Case("transposed 4x4 s2, 8x64x28x28", "conv_transpose2d", (8, 64, 28, 28),
                  (64, 32, 4, 4), {"stride": 2, "padding": 1})
VIDEO = Case("conv3d video, 2x3x16x56x56", "conv3d", (2, 3, 16, 56, 56), (32, 3, 3, 3, 3),
             {"padding": 1})
DEFORM_LOOPS = Case("deformable 3x3, 1x4x8x8", "deform_conv2d", (1, 4, 8, 8), (4, 4, 3, 3),
                    {"padding": 1})

# The layers the course runs: the sliders on real images, chapter 15's CNN and its backward
# pass, and one layer of each kind of convolution.
CASES = [
    RESNET,
    Case("RGB image 3x3, 2x3x224x224", "conv2d", (2, 3, 224, 224), (64, 3, 3, 3), {"padding": 1}),
    Case("RGB stem 7x7 s2, 2x3x224x224", "conv2d", (2, 3, 224, 224), (64, 3, 7, 7),
         {"stride": 2, "padding": 3}),
    Case("deep 3x3, 8x256x14x14", "conv2d", (8, 256, 14, 14), (256, 256, 3, 3), {"padding": 1}),
    Case("MNIST 5x5 s2, 64x1x28x28", "conv2d", (64, 1, 28, 28), (32, 1, 5, 5),
         {"stride": 2, "padding": 2}),
    Case("1x1, 8x256x28x28 -> 64", "conv2d", (8, 256, 28, 28), (64, 256, 1, 1), {}),
    DEPTHWISE,
    Case("grouped g=4, 8x128x28x28", "conv2d", (8, 128, 28, 28), (128, 32, 3, 3),
         {"padding": 1, "groups": 4}),
    Case("dilated d=2, 8x64x56x56", "conv2d", (8, 64, 56, 56), (64, 64, 3, 3),
         {"padding": 2, "dilation": 2}),
    TRANSPOSED,
    VIDEO,
    Case("conv1d signal, 4x16x16000", "conv1d", (4, 16, 16000), (32, 16, 9), {"padding": 4}),
    Case("deformable 3x3, 4x32x28x28", "deform_conv2d", (4, 32, 28, 28), (32, 32, 3, 3),
         {"padding": 1}),
    RESNET._replace(name="ResNet backward input", op="conv2d_input"),
    RESNET._replace(name="ResNet backward weight", op="conv2d_weight"),
    RESNET._replace(dtype=np.float64),
    DEPTHWISE._replace(dtype=np.float64),
    TRANSPOSED._replace(dtype=np.float64),
    VIDEO._replace(dtype=np.float64),
    RESNET._replace(name="ResNet backward weight", op="conv2d_weight", dtype=np.float64),
]

# Without PyTorch: small cases, since the loop references do one multiply-add per Python step.
LOOP_CASES = [
    Case("3x3, 1x8x16x16", "conv2d", (1, 8, 16, 16), (8, 8, 3, 3), {"padding": 1}),
    Case("5x5 s2, 2x1x28x28", "conv2d", (2, 1, 28, 28), (4, 1, 5, 5), {"stride": 2, "padding": 2}),
    Case("depthwise 3x3, 1x8x16x16", "conv2d", (1, 8, 16, 16), (8, 1, 3, 3),
         {"padding": 1, "groups": 8}),
    Case("grouped g=2, 1x8x16x16", "conv2d", (1, 8, 16, 16), (8, 4, 3, 3),
         {"padding": 1, "groups": 2}),
    Case("dilated d=2, 1x8x16x16", "conv2d", (1, 8, 16, 16), (8, 8, 3, 3),
         {"padding": 2, "dilation": 2}),
    DEFORM_LOOPS,
]


def _arguments(case, rng):
    """The case's positional arguments, drawn from ``rng`` (offsets of up to 2 pixels)."""
    x = rng.standard_normal(case.x).astype(case.dtype)
    w = rng.standard_normal(case.w).astype(case.dtype)
    if case.op == "deform_conv2d":
        out = cl.conv_output_size(case.x[2:], case.w[2:], 1, case.kwargs["padding"])
        offset = rng.uniform(-2, 2, (case.x[0], 2 * case.w[2] * case.w[3]) + out)
        return x, offset.astype(case.dtype), w
    if case.op in ("conv2d_input", "conv2d_weight"):
        grad = rng.standard_normal(cl.conv2d(x, w, **case.kwargs).shape).astype(case.dtype)
        return (x.shape, w, grad) if case.op == "conv2d_input" else (x, w.shape, grad)
    return x, w


def _baseline(case, args, loops):
    """The same call in PyTorch (torchvision for deformable), or in convlab's loop reference."""
    kw = case.kwargs
    if loops:
        reference = cl.deform_conv2d_loops if case.op == "deform_conv2d" else cl.conv2d_loops
        return lambda: reference(*args, **kw)
    tensors = [torch.from_numpy(a) if isinstance(a, np.ndarray) else a for a in args]
    if case.op == "deform_conv2d":
        return lambda: tv_deform_conv2d(*tensors, **kw)
    if case.op in ("conv2d_input", "conv2d_weight"):
        return lambda: getattr(torch.nn.grad, case.op)(*tensors, **kw)
    return lambda: getattr(F, case.op)(*tensors, **kw)


def _path(case):
    """The contraction convlab uses for the case, in words."""
    nd = len(case.w) - 2
    k, kw = case.w[2:], case.kwargs

    def per_axis(name):
        value = kw.get(name, 1)
        return (value,) * nd if isinstance(value, int) else tuple(value)

    stride, dilation, groups = per_axis("stride"), per_axis("dilation"), kw.get("groups", 1)
    if case.op == "deform_conv2d":
        # the samples are laid out as one kh x kw tile per output, read with stride k
        return "bilinear gather + " + _contraction(k, case.w[1], k, (1,) * nd, groups,
                                                    case.dtype)
    if case.op == "conv2d_weight":
        return "im2col matmul, cols @ grad_output.T"
    if case.op in ("conv_transpose2d", "conv2d_input"):
        # the input channels per group are case.w[0] // groups for either weight layout
        if _transpose_form(stride, case.w[0] // groups) == "scatter":
            return "scatter: one matmul for all taps, adds per output phase"
        # one stride-1 convolution per output phase, with about k/stride taps per axis
        sub = tuple(-(-kk // s) for kk, s in zip(k, stride))
        return f"polyphase x{math.prod(stride)}: " + _contraction(
            sub, case.w[0] // groups, (1,) * nd, dilation, groups, case.dtype)
    return _contraction(k, case.w[1], stride, dilation, groups, case.dtype)


def _times(fn, repeat, warmup):
    """Milliseconds of ``repeat`` calls after ``warmup`` untimed ones."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(1e3 * (time.perf_counter() - start))
    # BLAS and OpenMP worker threads spin for a while after a call: let them settle, so that
    # neither library is timed while the other's threads still hold a core
    time.sleep(0.2)
    return times


class Timing(NamedTuple):
    """Milliseconds of one library on one case: the best call and the median call."""

    best: float
    median: float


def _timings(fa, fb, repeat, rounds, warmup):
    """Best and median ms of ``fa`` and ``fb`` over alternating rounds, each first in turn."""
    ta, tb = [], []
    for r in range(rounds):
        for f, times in ((fa, ta), (fb, tb)) if r % 2 == 0 else ((fb, tb), (fa, ta)):
            times += _times(f, repeat, warmup)
    return tuple(Timing(min(t), statistics.median(t)) for t in (ta, tb))


def _check(ours, theirs, dtype):
    """Stop if the two results differ by more than float precision, relative to their size."""
    theirs = np.asarray(theirs)
    error = float(np.abs(ours - theirs).max()) / max(1.0, float(np.abs(theirs).max()))
    if error > (1e-4 if dtype == np.float32 else 1e-10):
        raise AssertionError(f"convlab and the baseline disagree: relative error {error:.2e}")


def _peak_memory(case, rng):
    """Peak bytes NumPy allocates in one call, and the forward im2col's size in bytes.

    convlab's threads keep their scratch memory from call to call: it is dropped first, so that
    the peak counts it (it stays allocated after the call).
    """
    args = _arguments(case, rng)
    convlab._fast._SCRATCH = threading.local()
    tracemalloc.start()
    getattr(cl, case.op)(*args, **case.kwargs)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    kw = case.kwargs
    out = cl.conv_output_size(case.x[2:], case.w[2:], kw.get("stride", 1), kw.get("padding", 0),
                              kw.get("dilation", 1))
    cols = case.x[0] * case.x[1] * math.prod(case.w[2:]) * math.prod(out)
    return peak, cols * np.dtype(case.dtype).itemsize


def _measure(case, rng, loops):
    """Check convlab against the baseline on the case, then time both: a Timing of each."""
    args = _arguments(case, rng)
    ours = getattr(cl, case.op)

    def mine():
        return ours(*args, **case.kwargs)

    other = _baseline(case, args, loops)
    result = other()
    _check(mine(), result.numpy() if hasattr(result, "numpy") else result, case.dtype)
    return _timings(mine, other, ARGS.repeat, ARGS.rounds, ARGS.warmup)


def _row(case, ours, other, note=""):
    print(f"{case.name:36s} {np.dtype(case.dtype).name:7s} {ours.best:10.2f} {other.best:10.2f} "
          f"{ours.best / other.best:6.2f} {ours.median / other.median:7.2f}  "
          f"{_path(case)}{note}", flush=True)


def _settings(loops):
    """The allocator settings and thread counts the process runs under, in one line."""
    threads = f"BLAS {os.environ['OPENBLAS_NUM_THREADS']} threads"
    if not loops:
        threads += f", torch {torch.get_num_threads()} threads"
    return f"{described()}; {threads}"


def main():
    loops = torch is None or ARGS.loops
    baseline = "loops" if loops else "torch"
    if not loops:
        torch.set_num_threads(ARGS.threads)
    cases = [c for c in (LOOP_CASES if loops else CASES) if ARGS.only.lower() in c.name.lower()]
    rng = np.random.default_rng(0)
    versions = f"NumPy {np.__version__}" + ("" if loops else f", torch {torch.__version__}")
    print(f"convlab vs {baseline}, {ARGS.threads} threads, best of {ARGS.rounds} alternating "
          f"rounds x {ARGS.repeat} calls, each round after {ARGS.warmup} untimed ({versions})")
    print(f"under {_settings(loops)}")
    header = (f"{'case':36s} {'dtype':7s} {'convlab ms':>10s} {baseline + ' ms':>10s} "
              f"{'ratio':>6s} {'median':>7s}")
    print(header + "  contraction\n" + "-" * (len(header) + 44))
    ratios, aside = {}, []
    for case in cases:
        if case.op == "deform_conv2d" and not loops and tv_deform_conv2d is None:
            aside.append(DEFORM_LOOPS._replace(name=DEFORM_LOOPS.name + " (vs loops)"))
            continue
        ours, other = _measure(case, rng, loops)
        ratios.setdefault(np.dtype(case.dtype).name, []).append(ours.best / other.best)
        _row(case, ours, other)
    for case in aside:  # no usable torchvision: the loop reference, on a case small enough
        _row(case, *_measure(case, rng, loops=True), note=" (not in the mean)")
    print()
    for dtype, values in ratios.items():
        mean = math.exp(sum(math.log(r) for r in values) / len(values))
        print(f"geometric mean of the {dtype} best-time ratios: {mean:.2f} "
              f"(worst {max(values):.2f}, {len(values)} cases)")
    if not loops and not ARGS.only:
        for op in ("conv2d", "conv2d_input", "conv2d_weight"):
            peak, cols = _peak_memory(RESNET._replace(op=op), rng)
            print(f"peak memory of {op} on the ResNet-style layer: {peak / 2**20:.1f} MiB "
                  f"= {peak / cols:.2f} x its im2col ({cols / 2**20:.1f} MiB)")


if __name__ == "__main__":
    main()
