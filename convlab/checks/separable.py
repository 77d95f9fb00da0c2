"""References and task data of chapter 08: separable convolutions · 可分离卷积.

The mistakes this chapter diagnoses (each a hint of a ``Reference`` below):

Spatially separable (a ``kh x 1`` pass, then a ``1 x kw`` pass):

1. **The two 1-D kernels in the wrong orientation**: the column kernel run along a row and
   the row kernel down a column, which is the convolution with the transposed kernel
   ``outer(row, col)`` (``SEP_OUTPUT``, ``SEP_MIDDLE``, ``RANK1_KERNEL``).
2. **One output of the two passes by hand**: the window at the transposed position, the kernel
   flipped, the bias forgotten, the horizontal pass's values given for the vertical pass's
   (``SEP_OUTPUT``, ``SEP_MIDDLE``).
3. **The separated cost counted on the wrong grids**: the second pass counted on ``N`` rows
   instead of ``N - m + 1``, the first pass counted on the ``n x n`` outputs only (it runs over
   all ``N`` columns), no ``N - m + 1`` at all, one pass only, or the standard cost given
   (``SPATIAL_MACS``); the standard cost counted on ``N x N`` outputs or with ``m`` weights
   (``FULL_MACS``).
4. **The ratio inverted** (standard / separated), or given as its limit ``2/m`` for large ``N``,
   or as ``1/m`` (one pass) (``SPATIAL_RATIO``).
5. **Rank misread**: a rank-2 kernel taken as separable, non-zero rows counted as the rank
   (``SEPARABLE_KERNELS``).
6. **The best separable approximation misbuilt or mismeasured**: a column of ``Vᵀ`` taken for
   the row factor, the singular value left out or used twice, the second singular pair taken
   (``RANK1_KERNEL``); the error given as the largest dropped singular value only, as their sum,
   squared, as the kept one, or relative (``RANK1_ERROR``).

Depthwise separable (depthwise ``k x k``, one kernel per channel, then pointwise 1x1):

7. **The depthwise step counted with C_out** (one kernel per output channel, or the standard
   ``C_in·C_out·k²``) (``DWS_MACS``, ``DWS_PARAMS``).
8. **The pointwise step's cost forgotten**, counted with ``k²`` weights, or on the input's
   ``H x W`` instead of the depthwise output's (a stride shrinks it) (``DWS_MACS``).
9. **Parameters**: multiplied by the image size, one set of biases only, the pointwise step
   forgotten (``DWS_PARAMS``).
10. **The ratio** inverted, with ``C_in`` for ``C_out``, ``1/(C_out·k²)`` (multiplied, not
    added), ``k`` not squared (``DWS_RATIO``).
11. **Implementing it**: the pointwise step left out, the channels summed in the depthwise
    step, the pointwise matrix used the wrong way round, the kernels flipped (``DWS_CONV``).
12. **The price misread**: the receptive field, the resolution, or "two linear maps make any
    linear map", when what is lost is rank: per input channel, all output channels use
    multiples of one kernel (``WHY_DWS``).

Each ``Reference`` is the right computation of a kind of answer with its usual mistakes; the
check functions of ``convlab.checks`` take one and name the mistake a wrong answer makes.
"""

import math

import numpy as np

from ..arithmetic import conv_cost, depthwise_separable_cost, spatially_separable_cost
from ..conv import conv2d
from ..variants import depthwise_separable_conv2d, separable_factors, spatially_separable_conv2d
from . import Reference, _distinct, _then, _with

__all__ = [
    "DWS_CONV",
    "DWS_MACS",
    "DWS_PARAMS",
    "DWS_RATIO",
    "FULL_MACS",
    "RANK1_ERROR",
    "RANK1_KERNEL",
    "SEPARABLE_KERNELS",
    "SEP_MIDDLE",
    "SEP_OUTPUT",
    "SPATIAL_MACS",
    "SPATIAL_RATIO",
    "WHY_DWS",
    "WHY_DWS_HINTS",
]


# --- one output of the two passes, by hand ------------------------------------------------------


def _floats(*arrays):
    return [np.asarray(a, dtype=float) for a in arrays]


def _output(x, col, row, bias, position, swap=False, flip=False, transpose=False, no_bias=False):
    """Output ``position`` of the vertical pass ``col`` then the horizontal pass ``row`` on
    ``x (H, W)``, plus ``bias``; the keywords make the usual mistakes."""
    x, col, row = _floats(x, col, row)
    kernel = np.outer(row, col) if swap else np.outer(col, row)
    if flip:
        kernel = kernel[::-1, ::-1]
    r, c = position[::-1] if transpose else position
    window = x[r:r + kernel.shape[0], c:c + kernel.shape[1]]
    if window.shape != kernel.shape:
        raise ValueError("the window leaves the input")
    return float(np.sum(window * kernel) + (0.0 if no_bias else bias))


SEP_OUTPUT = Reference(
    name="convlab.spatially_separable_conv2d",
    compute=lambda x, col, row, bias, position: float(spatially_separable_conv2d(
        np.asarray(x, dtype=float)[None], col, row, np.array([bias], dtype=float))[
        (0, *position)]),
    mistakes={
        "your 1-D kernels run the wrong way: col is the vertical kernel (a kh x 1 column, "
        "down the rows), row the horizontal one (1 x kw, along a row)": _with(_output, swap=True),
        "did you flip a kernel? Both passes are cross-correlations: no flip":
            _with(_output, flip=True),
        "you used the window of the transposed position: a position is (row, column)":
            _with(_output, transpose=True),
        "did you forget the bias? It is added once, after the second pass":
            _with(_output, no_bias=True),
    },
    hint="the vertical pass gives kw numbers (col down each column of the window); the "
         "horizontal pass weighs them with row; then add the bias",
)


def _middle(x, col, row, position, pass_="col down"):
    """The ``kw`` values of the vertical pass that the horizontal pass combines for output
    ``position``; ``pass_`` makes the usual mistakes (a kernel along the other axis)."""
    x, col, row = _floats(x, col, row)
    r, c = position
    window = x[r:r + len(col), c:c + len(row)]
    if window.shape != (len(col), len(row)):
        raise ValueError("the window leaves the input")
    if pass_ == "row along":
        return window @ row
    if pass_ == "col along":
        return window @ col if len(col) == len(row) else window[:, :len(col)] @ col
    if pass_ == "row down":
        return row @ window if len(col) == len(row) else row[:len(col)] @ window
    return col @ window


SEP_MIDDLE = Reference(
    name="the vertical pass (col) under the output's window",
    compute=_middle,
    mistakes={
        "those are the values of a horizontal pass (row along each row of the window): the "
        "task runs the vertical pass, col down each column, first":
            _with(_middle, pass_="row along"),
        "your values run the column kernel along the rows: col goes down each column of the "
        "window": _with(_middle, pass_="col along"),
        "you ran the row kernel down the columns: the vertical pass uses col, the kh x 1 "
        "kernel": _with(_middle, pass_="row down"),
    },
    hint="one value per column of the window: col[0]·(top pixel) + col[1]·(next) + ...",
)


# --- the costs of a spatially separable kernel ---------------------------------------------------


def _spatial(N, m, grid="right"):
    """Multiply-adds of an m x m kernel as m x 1 then 1 x m on an N x N image, valid, one
    channel; ``grid`` makes the usual counting mistakes."""
    n = N - m + 1
    if grid == "second on N":
        return 2 * n * N * m
    if grid == "first on n":
        return 2 * n * n * m
    if grid == "all on N":
        return 2 * N * N * m
    if grid == "one pass":
        return n * N * m
    return spatially_separable_cost(1, m, N).macs


SPATIAL_MACS = Reference(
    name="convlab.spatially_separable_cost(1, m, N).macs",
    compute=_spatial,
    mistakes={
        "you counted the second pass on N rows: the first pass (m x 1, valid) leaves only "
        "N - m + 1 rows for it": _with(_spatial, grid="second on N"),
        "you counted the first pass on the final n x n outputs only: it must run over every one "
        "of the N columns, since the second pass needs them all": _with(_spatial,
                                                                         grid="first on n"),
        "you counted both passes on all N x N pixels: a valid pass of m taps has N - m + 1 "
        "positions along its axis": _with(_spatial, grid="all on N"),
        "that is one pass only: the 1 x m pass comes after the m x 1 pass":
            _with(_spatial, grid="one pass"),
        "that is the cost of the full m x m kernel, not of the two 1-D passes":
            lambda N, m: (N - m + 1) ** 2 * m * m,
    },
    hint="count each pass: (its output rows) x (its output columns) x (its taps)",
    integer=True,
)


def _full(N, m):
    return conv_cost(1, 1, m, N).macs


FULL_MACS = Reference(
    name="convlab.conv_cost(1, 1, m, N).macs",
    compute=_full,
    mistakes={
        "you counted N x N outputs: a valid m x m window fits N - m + 1 times along each axis":
            lambda N, m: N * N * m * m,
        "an m x m kernel has m·m weights, each used at every output": lambda N, m: (
            N - m + 1) ** 2 * m,
    },
    hint="(output pixels) x (weights of the kernel)",
    integer=True,
)


def _ratio(N, m):
    return _spatial(N, m) / _full(N, m)


SPATIAL_RATIO = Reference(
    name="separated / full multiply-adds",
    compute=_ratio,
    mistakes={
        "that is full / separated: the question asks for separated / full, a number below 1 "
        "when the trick saves": lambda N, m: 1 / _ratio(N, m),
        "that is the limit for large N (or both passes counted on the same grid): at this N "
        "the first pass runs over all N columns, more than the N - m + 1 of the outputs":
            lambda N, m: 2 / m,
        "that counts one 1-D pass only": lambda N, m: 1 / m,
        "you counted the second pass on N rows": lambda N, m: _spatial(
            N, m, "second on N") / _full(N, m),
    },
    hint="divide the two passes' multiply-adds by those of the full kernel, on the same image",
)


# --- rank, and the best separable approximation --------------------------------------------------


def _separable(kernels, at_most=1, rows=False):
    kernels = [np.asarray(k, dtype=float) for k in kernels]
    if rows:
        return np.array([float(np.count_nonzero(np.abs(k).sum(axis=1)) <= at_most)
                         for k in kernels])
    return np.array([float(np.linalg.matrix_rank(k) <= at_most) for k in kernels])


SEPARABLE_KERNELS = Reference(
    name="numpy.linalg.matrix_rank(kernel) == 1",
    compute=_separable,
    mistakes={
        "you took a rank-2 kernel as separable: one column times one row makes rank 1 only; a "
        "rank-2 kernel needs two such products": _with(_separable, at_most=2),
        "you counted non-zero rows: rows that are multiples of each other add nothing to the "
        "rank": _with(_separable, rows=True),
    },
    hint="a kernel separates when every row is a multiple of one row (rank 1): compute the "
         "rank, or try to write it as an outer product",
)


def _rank1(kernel, bug=None):
    kernel = np.asarray(kernel, dtype=float)
    u, s, vt = np.linalg.svd(kernel)
    t = 1 if bug == "second" else 0
    col, row = u[:, t], vt[t]
    if bug == "vt column":
        row = vt[:, 0]
    scale = {"unscaled": 1.0, "twice": s[t] ** 2}.get(bug, s[t])
    return scale * np.outer(col, row)


def _rank1_case(rng, keywords):
    kh, kw = (int(a) for a in rng.integers(2, 6, size=2))
    return (rng.integers(-4, 5, size=(kh, kw)).astype(float),), {}


_SOBEL = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=float)
_LAPLACE = np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], dtype=float)

RANK1_KERNEL = Reference(
    name="np.outer(*convlab.separable_factors(kernel))",
    compute=lambda kernel: np.outer(*separable_factors(np.asarray(kernel, dtype=float))),
    mistakes={
        "your row factor is a column of Vᵀ: numpy's svd returns Vᵀ, whose ROWS are the right "
        "singular vectors": _with(_rank1, bug="vt column"),
        "your rank-1 kernel is too small: the outer product of the two unit singular vectors "
        "must be scaled by the largest singular value": _with(_rank1, bug="unscaled"),
        "your rank-1 kernel is scaled by the largest singular value twice (once in each "
        "factor?): split it as its square root on each side, or use it once":
            _with(_rank1, bug="twice"),
        "you kept the second singular pair: the best rank-1 kernel keeps the largest":
            _with(_rank1, bug="second"),
        "your kernel is transposed: the left singular vector (U's column) is the column "
        "factor, the right one (Vᵀ's row) the row factor": _then(_rank1, lambda k: k.T),
    },
    hint="with kernel = U diag(s) Vᵀ, the closest rank-1 kernel is s[0] · outer(U[:, 0], "
         "Vᵀ[0])",
    cases=_rank1_case,
    examples=(((_SOBEL,), {}), ((_LAPLACE,), {}), ((_SOBEL[:, :2],), {})),
)


def _rank1_error(kernel, how="right"):
    s = np.linalg.svd(np.asarray(kernel, dtype=float), compute_uv=False)
    if how == "largest":
        return float(s[1])
    if how == "sum":
        return float(s[1:].sum())
    if how == "squared":
        return float((s[1:] ** 2).sum())
    if how == "kept":
        return float(s[0])
    if how == "relative":
        return float(math.sqrt((s[1:] ** 2).sum() / (s ** 2).sum()))
    return float(math.sqrt((s[1:] ** 2).sum()))


RANK1_ERROR = Reference(
    name="the Frobenius distance to the best rank-1 kernel",
    compute=_rank1_error,
    mistakes={
        "that is the largest dropped singular value alone: the error collects every dropped "
        "one": _with(_rank1_error, how="largest"),
        "you added the dropped singular values: the Frobenius norm adds their squares, then "
        "takes the root": _with(_rank1_error, how="sum"),
        "that is the squared error: take the square root": _with(_rank1_error, how="squared"),
        "that is the singular value you keep, not what you lose": _with(_rank1_error,
                                                                         how="kept"),
        "that is the relative error (divided by the kernel's norm): the question asks for the "
        "distance itself": _with(_rank1_error, how="relative"),
    },
    hint="‖kernel − best rank-1 kernel‖ (Frobenius: the root of the sum of squared entries); "
         "the singular values say what each rank-1 piece weighs",
)


# --- depthwise separable: costs -------------------------------------------------------------------


def _layer(f):
    """``f(c_in, c_out, k, size, stride, padding)`` with the names of ``depthwise_separable_cost``
    (``kernel_size``, ``input_size``), so that a task's layer dict can be passed as ``**layer``."""
    def compute(c_in, c_out, kernel_size, input_size, stride=1, padding=0):
        return f(c_in, c_out, kernel_size, input_size, stride, padding)

    return compute


def _dws(c_in, c_out, k, size, stride, padding, mistake=None, bias=False):
    """``Cost`` of the depthwise separable layer; ``mistake`` makes the usual wrong counts."""
    cost = type(conv_cost(1, 1, 1, 1))
    depthwise = conv_cost(c_in, c_in, k, size, stride, padding, groups=c_in, bias=bias)
    out = conv_cost(1, 1, k, size, stride, padding).macs // (k * k)  # output pixels
    pointwise = cost(c_in * c_out + (c_out if bias else 0), out * c_in * c_out)
    if mistake == "depthwise with C_out":
        depthwise = cost(c_out * k * k + (c_out if bias else 0), out * c_out * k * k)
    elif mistake == "depthwise standard":
        depthwise = conv_cost(c_in, c_out, k, size, stride, padding, bias=bias)
    elif mistake == "no pointwise":
        pointwise = cost(0, 0)
    elif mistake == "pointwise on input":
        pointwise = cost(pointwise.params, c_in * c_out * size * size)
    elif mistake == "pointwise k2":
        pointwise = cost(pointwise.params * k * k, pointwise.macs * k * k)
    elif mistake == "one bias":
        depthwise = cost(depthwise.params - c_in, depthwise.macs)
    return depthwise + pointwise


def _macs(mistake=None):
    return _layer(lambda *layer: _dws(*layer, mistake).macs)


def _params(mistake=None, bias=True):
    return _layer(lambda *layer: _dws(*layer, mistake, bias=bias).params)


def _standard(*layer):
    return conv_cost(*layer[:4], layer[4], layer[5])


DWS_MACS = Reference(
    name="convlab.depthwise_separable_cost(...).macs",
    compute=_layer(lambda *layer: depthwise_separable_cost(*layer).macs),
    mistakes={
        "you counted the depthwise step with C_out kernels: it has one k x k kernel per INPUT "
        "channel": _macs("depthwise with C_out"),
        "you counted the depthwise step as a standard layer (C_in·C_out·k² per output pixel): "
        "it convolves each channel with its own kernel, never mixing":
            _macs("depthwise standard"),
        "that is the depthwise step alone: the pointwise 1x1 step costs multiply-adds too":
            _macs("no pointwise"),
        "you counted the pointwise step on the input's H x W: it runs on the depthwise step's "
        "output, which the stride and padding sized": _macs("pointwise on input"),
        "a 1x1 kernel has one weight per channel, not k²": _macs("pointwise k2"),
        "that is the standard k x k layer's cost, not the separated one":
            _layer(lambda *layer: _standard(*layer).macs),
    },
    hint="(output pixels) x (C_in·k² for the depthwise step + C_in·C_out for the pointwise "
         "step)",
    integer=True,
)

DWS_PARAMS = Reference(
    name="convlab.depthwise_separable_cost(..., bias=True).params",
    compute=_layer(lambda *layer: depthwise_separable_cost(*layer, bias=True).params),
    mistakes={
        "did you forget the biases? Each of the two steps has one per output channel":
            _params(bias=False),
        "you counted one set of biases: the depthwise step has C_in, the pointwise step C_out":
            _params("one bias"),
        "you counted the depthwise step with C_out kernels: it has one per INPUT channel":
            _params("depthwise with C_out"),
        "that is the depthwise step alone: the pointwise 1x1 step has weights too":
            _params("no pointwise"),
        "you multiplied by the image size: weights are shared by every pixel, so parameters do "
        "not depend on the image (multiply-adds do)": _macs(),
    },
    hint="depthwise: C_in kernels of k x k and C_in biases; pointwise: C_out filters of C_in "
         "weights and C_out biases",
    integer=True,
)


def _ratio_dws(*layer):
    return depthwise_separable_cost(*layer).macs / _standard(*layer).macs


def _shares(f):
    """A wrong ratio from the channels and the kernel size alone."""
    return _layer(lambda c_in, c_out, k, size, stride, padding: f(c_in, c_out, k))


DWS_RATIO = Reference(
    name="separated / standard multiply-adds",
    compute=_layer(_ratio_dws),
    mistakes={
        "that is standard / separated: the question asks for separated / standard, below 1 "
        "when the trick saves": _layer(lambda *layer: 1 / _ratio_dws(*layer)),
        "you used C_in where C_out belongs: the depthwise step's share is C_in·k² out of "
        "C_in·C_out·k²": _shares(lambda c_in, c_out, k: 1 / c_in + 1 / k ** 2),
        "you multiplied the two shares: the depthwise and pointwise costs add":
            _shares(lambda c_in, c_out, k: 1 / (c_out * k ** 2)),
        "k x k kernels have k² weights": _shares(lambda c_in, c_out, k: 1 / c_out + 1 / k),
        "that leaves out the pointwise step": _shares(lambda c_in, c_out, k: 1 / c_out),
        "that leaves out the depthwise step": _shares(lambda c_in, c_out, k: 1 / k ** 2),
    },
    hint="write both costs per output pixel and divide; the image size cancels",
)


# --- depthwise separable: implementing it --------------------------------------------------------


def _dws_conv(x, depthwise, pointwise, mistake=None):
    """x ``(C, H, W)``, depthwise ``(C, k, k)``, pointwise ``(C_out, C)`` -> ``(C_out, H', W')``
    (stride 1, no padding); ``mistake`` makes the usual wrong layers."""
    x, dw, pw = _floats(x, depthwise, pointwise)
    if mistake == "flip":
        dw = dw[:, ::-1, ::-1]
    if mistake == "no pointwise":
        if pw.shape[0] != pw.shape[1]:
            raise ValueError("shapes differ anyway")
        return conv2d(x, dw[:, None], groups=x.shape[0])
    if mistake == "summed":
        mixed = conv2d(x, dw[None])                            # (1, H', W'): channels summed
        return pw.sum(axis=1)[:, None, None] * mixed
    if mistake == "transposed":
        if pw.shape[0] != pw.shape[1]:
            raise ValueError("only when C_out = C")
        pw = pw.T
    return depthwise_separable_conv2d(x, dw[:, None], pw[:, :, None, None])


def _dws_case(rng, keywords):
    c = int(rng.integers(1, 4))
    c_out = c if rng.random() < 0.4 else int(rng.integers(1, 5))
    k = int(rng.integers(1, 4))
    h, w = (int(a) for a in rng.integers(k, k + 4, size=2))
    x = rng.integers(-3, 4, size=(c, h, w)).astype(float)
    dw = rng.integers(-2, 3, size=(c, k, k)).astype(float)
    pw = rng.integers(-2, 3, size=(c_out, c)).astype(float)
    return (x, dw, pw), {}


_X = np.arange(2 * 5 * 5, dtype=float).reshape(2, 5, 5) % 4
_DW = np.array([[[1, 0, -1], [2, 0, -2], [1, 0, -1]], [[0, 1, 0], [1, -4, 1], [0, 1, 0]]],
               dtype=float)

DWS_CONV = Reference(
    name="convlab.depthwise_separable_conv2d",
    compute=_dws_conv,
    mistakes={
        "your output is the depthwise step alone: the pointwise 1x1 step then mixes the "
        "channels": _with(_dws_conv, mistake="no pointwise"),
        "your depthwise step sums the channels, like a standard filter: it keeps each channel "
        "apart, one output map per input channel": _with(_dws_conv, mistake="summed"),
        "your pointwise matrix is used the wrong way round: pointwise[o, c] is what channel c "
        "adds to output o": _with(_dws_conv, mistake="transposed"),
        "did you flip the kernels? Deep learning's convolution does not flip":
            _with(_dws_conv, mistake="flip"),
    },
    hint="d[c] = x[c] ⋆ depthwise[c] for every channel c, then out[o] = Σ_c pointwise[o, c]·d[c]",
    cases=_dws_case,
    examples=(((_X, _DW, np.array([[1.0, 2.0], [-1.0, 1.0], [0.0, 3.0]])), {}),
              ((_X, _DW, np.array([[2.0, -1.0], [1.0, 1.0]])), {})),
)


# --- the price of depthwise separable: a multiple-choice "why" -----------------------------------

WHY_DWS = "v2-a2fed9e9903fa892"  # digest of the right option, "c"
WHY_DWS_HINTS = {
    "v2-b23c136fecb57c2a": (  # a: the receptive field
        "compare the windows: the depthwise step reads the same k x k window of every channel "
        "as the standard layer does, and the 1x1 step adds nothing spatial nor removes it"),
    "v2-0a55fb24b49132f0": (  # b: the resolution
        "compare the shapes: with stride 1 and the same padding, both layers give the same "
        "H x W; a 1x1 step keeps it"),
    "v2-6ddf02fb895efaf2": (  # d: "two linear maps make any linear map"
        "two linear maps compose into one linear map, but can it be ANY one? Write the "
        "composed weight w[o, c] and see what the kernels of one input channel have in common"),
}


# --- the task data of exercises 08 ----------------------------------------------------------------


def _exercise_08(rng):
    while True:  # one output of a 3x1 then 1x3 pass pair on a 7x7 input, with a bias
        x = rng.integers(0, 5, size=(7, 7)).astype(float)
        col = rng.choice([-2, -1, 1, 2, 3], size=3).astype(float)
        row = rng.choice([-2, -1, 0, 1, 2], size=3).astype(float)
        bias = float(rng.choice([-3, -2, -1, 1, 2, 3]))
        r, c = (int(a) for a in rng.choice(5, size=2, replace=False))
        if _distinct(SEP_OUTPUT, x, col, row, bias, (r, c)) and _distinct(
                SEP_MIDDLE, x, col, row, (r, c)) and not np.allclose(col, row):
            break
    while True:  # the spatial costs
        m = int(rng.choice([3, 5, 7]))
        N = int(rng.integers(2 * m, 40))
        if _distinct(SPATIAL_MACS, N, m) and _distinct(SPATIAL_RATIO, N, m) and \
                _distinct(FULL_MACS, N, m):
            break
    while True:  # a strided depthwise separable layer
        layer = {"c_in": int(rng.choice([16, 24, 32, 48])),
                 "c_out": int(rng.choice([32, 64, 96, 128])),
                 "kernel_size": int(rng.choice([3, 5])),
                 "input_size": int(rng.choice([14, 28, 56])), "stride": 2}
        layer["padding"] = layer["kernel_size"] // 2
        args = tuple(layer.values())
        if layer["c_in"] != layer["c_out"] and all(
                _distinct(ref, *args) for ref in (DWS_MACS, DWS_PARAMS, DWS_RATIO)):
            break
    while True:  # three kernels: separable, rank 2, rank 3; the last one's best rank-1 error
        a = rng.choice([-2, -1, 1, 2], size=3).astype(float)
        b = rng.choice([-2, -1, 1, 2], size=3).astype(float)
        one = np.outer(a, b)
        two = one + np.outer(rng.choice([-1, 0, 1], size=3), rng.choice([-1, 1], size=3))
        three = rng.integers(-3, 4, size=(3, 3)).astype(float)
        kernels = [one, two, three]
        order = rng.permutation(3)
        kernels = [kernels[i] for i in order]
        ranks = [int(np.linalg.matrix_rank(k)) for k in kernels]
        if sorted(ranks) == [1, 2, 3] and all(np.abs(k).sum(axis=1).all() for k in kernels) \
                and _distinct(SEPARABLE_KERNELS, kernels) and _distinct(RANK1_ERROR, three):
            break
    return {"x": x, "col": col, "row": row, "bias": bias, "position": (r, c),
            "N": N, "m": m, "layer": layer, "kernels": kernels, "error_kernel": three}


EXERCISES = {"08": _exercise_08}
