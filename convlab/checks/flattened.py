"""References and task data of chapter 09: flattened convolution · 扁平卷积.

The mistakes this chapter diagnoses (each a hint of a ``Reference`` below):

* one output of a flattened filter by hand: the vertical and horizontal 1-D filters swapped
  (the row vector run down the columns), the kernel flipped, the channel weights left out
  (the channels summed as they are), the three weights added instead of multiplied, a
  channel left out, the bias forgotten;
* the parameters of a flattened layer counted as ``C·k·k`` per filter (the full filter's),
  as ``C + k`` (one spatial 1-D filter for both axes), with ``C_in`` and ``k`` multiplied
  (``C·2k``), for one filter only (``C_out`` forgotten), without the biases, or with one
  bias per pass (three per filter; Jin et al. do add one after each pass, convlab's flattened
  layer and the exercise add one per filter);
* the multiply-adds of the three passes counted at the output size of the last pass only;
  the vertical pass counted at the final ``H_out x W_out`` (it runs before the horizontal
  pass, so its output keeps the input's full width); the channel pass counted at the output
  size (it runs on the whole input) or as ``C_in`` per position (one channel vector shared
  by all filters, instead of one per filter); the full layer's count; the channel pass
  forgotten; the padding forgotten;
* which filters a flattened layer represents exactly: believing a filter whose every
  ``k x k`` kernel is separable is flattened (its kernels must also be multiples of one
  another), or one whose channels are multiples of one kernel (that kernel must also be
  separable);
* the three passes written as code: the padding forgotten, padded in one pass only, or
  padded on both axes in each 1-D pass (the vertical pass pads rows only, the horizontal
  pass columns only), the 1-D filters swapped or flipped, the channel weights left out.

Each ``Reference`` is the right computation of a kind of answer with its usual mistakes; the
check functions of ``convlab.checks`` take one and name the mistake a wrong answer makes.

References: J. Jin, A. Dundar, E. Culurciello, "Flattened convolutional neural networks for
feedforward acceleration", ICLR workshop 2015 (arXiv:1412.5474, 2014); L. De Lathauwer,
B. De Moor, J. Vandewalle, "On the best rank-1 and rank-(R1, ..., RN) approximation of
higher-order tensors", SIAM J. Matrix Anal. Appl. 21(4), 2000.
"""


import numpy as np

from ..arithmetic import conv_cost, conv_output_size, flattened_cost
from ..conv import conv2d
from . import Reference, _distinct, _with

__all__ = [
    "FLAT_CONV2D",
    "FLAT_EXACT",
    "FLAT_MACS",
    "FLAT_OUTPUT",
    "FLAT_PARAMS",
]


def _filter(channel, col, row, combine="product"):
    """The ``C x kh x kw`` filter of three 1-D filters (or, as a mistake, their sum)."""
    a, b, h = (np.asarray(v, dtype=float) for v in (channel, col, row))
    if combine == "sum":
        return a[:, None, None] + b[None, :, None] + h[None, None, :]
    return a[:, None, None] * b[None, :, None] * h[None, None, :]


# --- one output by hand --------------------------------------------------------------------------


def _output(x, channel, col, row, bias, position, swap=False, flip=False, plain=False,
            combine="product", channels=None):
    """One output ``position`` of the flattened filter on ``x`` ``(C, H, W)``, stride 1, no
    padding; the keywords make the usual mistakes."""
    x = np.asarray(x, dtype=float)
    channel = np.ones(len(channel)) if plain else np.asarray(channel, dtype=float)
    if swap:
        col, row = row, col
    w = _filter(channel, col, row, combine)
    if flip:
        w = np.flip(w, axis=(1, 2))
    if channels is not None:
        x, w = x[channels], w[channels]
    kh, kw = w.shape[1:]
    r, c = position
    if r + kh > x.shape[1] or c + kw > x.shape[2]:
        raise ValueError("the window leaves the input")
    return float(np.sum(x[:, r:r + kh, c:c + kw] * w) + (bias or 0.0))


FLAT_OUTPUT = Reference(
    name="convlab.flattened_conv2d",
    compute=lambda x, channel, col, row, bias, position: float(conv2d(
        np.asarray(x, dtype=float)[None], _filter(channel, col, row)[None],
        np.array([bias], dtype=float))[(0, 0, *position)]),
    mistakes={
        "your vertical and horizontal filters are swapped: col runs down the rows of the "
        "window (weight col[i] for row i), row across its columns": _with(_output, swap=True),
        "did you flip the kernel? Deep learning's convolution multiplies each tap by the "
        "weight as it is": _with(_output, flip=True),
        "the channel weights are missing: the first 1-D filter weighs each input channel "
        "before the channels are added": _with(_output, plain=True),
        "you added the three 1-D weights: the weight of a tap is their product, "
        "channel[c]·col[i]·row[j]": _with(_output, combine="sum"),
        "did you forget the bias? It is added once, at the end":
            lambda x, channel, col, row, bias, position: _output(
                x, channel, col, row, 0.0, position),
        "only the first input channel is in your sum: the filter covers every channel":
            _with(_output, channels=slice(0, 1)),
        "only the last input channel is in your sum: the filter covers every channel":
            _with(_output, channels=slice(-1, None)),
    },
    hint="mix the channels of the window with the channel weights first, then weigh its rows "
         "with col and its columns with row, and add the bias once",
)


# --- costs ------------------------------------------------------------------------------------


def _params(c_in, c_out, k, bias=True, per_filter=None, filters=None, biases=1):
    per = c_in + 2 * k if per_filter is None else per_filter(c_in, k)
    n = c_out if filters is None else filters
    return n * per + (biases * n if bias else 0)


FLAT_PARAMS = Reference(
    name="convlab.flattened_cost(...).params",
    compute=lambda c_in, c_out, k, bias=True: flattened_cost(c_in, c_out, k, k,
                                                             bias=bias).params,
    mistakes={
        "that is the full layer's count: a flattened filter keeps three 1-D filters, not "
        "its C·k·k weights": _with(_params, per_filter=lambda c, k: c * k * k),
        "a flattened filter has two spatial 1-D filters, one vertical and one horizontal":
            _with(_params, per_filter=lambda c, k: c + k),
        "the three 1-D filters are stored side by side: their lengths add, they do not "
        "multiply": _with(_params, per_filter=lambda c, k: c * 2 * k),
        "that is one filter: the layer has one flattened filter per output channel":
            _with(_params, filters=1),
        "did you forget the biases? Each filter has one": _with(_params, bias=False),
        "you counted a bias per pass: this layer has one bias per filter, added after its "
        "last pass":
            _with(_params, biases=3),
    },
    hint="count one flattened filter (its three 1-D filters and its bias), then multiply by "
         "the number of filters",
    integer=True,
)


def _macs(c_in, c_out, k, size, padding=0, at=None, vertical_full=True, channel_at_input=True,
          channel_per_filter=True, channel_pass=True):
    """Multiply-adds of a flattened layer, stride 1; the keywords make the usual mistakes."""
    o = conv_output_size(size, k, 1, padding)
    if at == "output":
        return o * o * c_out * (c_in + 2 * k)
    channel = (size * size if channel_at_input else o * o) * c_in * (
        c_out if channel_per_filter else 1)
    vertical = o * (size if vertical_full else o) * c_out * k
    horizontal = o * o * c_out * k
    return (channel if channel_pass else 0) + vertical + horizontal


def _macs_case(rng, keywords):
    k = int(rng.choice([3, 5, 7]))
    kwargs = {"padding": int(rng.integers(0, k))} if "padding" in keywords else {}
    size = int(rng.integers(k, 40))
    return (int(rng.integers(1, 65)), int(rng.integers(1, 65)), k, size), kwargs


FLAT_MACS = Reference(
    name="convlab.flattened_cost(...).macs",
    compute=lambda c_in, c_out, k, size, padding=0: flattened_cost(
        c_in, c_out, k, size, padding=padding).macs,
    mistakes={
        "you counted all three passes at the output size of the last pass: each pass runs "
        "on the output of the one before": _with(_macs, at="output"),
        "your vertical pass has the final output's width: it runs before the horizontal "
        "pass, on every column": _with(_macs, vertical_full=False),
        "your channel pass runs at the output size: it comes first, at every pixel of the "
        "input": _with(_macs, channel_at_input=False),
        "your channel pass has C_in multiply-adds per pixel: each filter has its own channel "
        "weights, so it is a 1x1 convolution from C_in to C_out channels":
            _with(_macs, channel_per_filter=False),
        "that is the full layer's count": lambda c_in, c_out, k, size, padding=0: conv_cost(
            c_in, c_out, k, size, padding=padding).macs,
        "the channel pass is missing: it costs multiply-adds too": _with(_macs,
                                                                         channel_pass=False),
        "did you forget the padding? Each 1-D pass pads its own axis by {padding}":
            _with(_macs, padding=0),
    },
    hint="follow the three passes in order: the size of what each one reads and writes, "
         "times the multiply-adds per output",
    cases=_macs_case,
    examples=(((3, 128, 3, 7), {}), ((64, 64, 3, 56), {"padding": 1}),
              ((16, 32, 5, 20), {"padding": 1})),
    keywords=("padding",),
    integer=True,
)


# --- exact or not ------------------------------------------------------------------------------


def _rank(a):
    return int(np.linalg.matrix_rank(a, tol=1e-9 * max(1.0, float(np.abs(a).max()))))


def _exact(filters, test="all"):
    """1.0 for each ``C x kh x kw`` filter that is an outer product of three vectors, else 0.0;
    ``test`` "kernels": every kernel separable; "channels": the kernels multiples of one."""
    out = []
    for f in np.asarray(filters, dtype=float):
        c, kh, kw = f.shape
        kernels = all(_rank(kernel) <= 1 for kernel in f)
        channels = _rank(f.reshape(c, kh * kw)) <= 1
        out.append({"all": kernels and channels, "kernels": kernels, "channels": channels}[test])
    return np.array(out, dtype=float)


FLAT_EXACT = Reference(
    name="which filters are flattened exactly",
    compute=_exact,
    mistakes={
        "you marked a filter whose kernels are each separable but not multiples of one "
        "another: a flattened filter has one vertical and one horizontal filter for all its "
        "channels": _with(_exact, test="kernels"),
        "you marked a filter whose channels are multiples of one kernel that is not "
        "separable: its kernel must also be an outer product of a column and a row":
            _with(_exact, test="channels"),
    },
    hint="a filter is flattened exactly when it is rank 1 along every axis: its channels are "
         "multiples of one kernel, and that kernel is a column times a row",
)


# --- the three passes as code ---------------------------------------------------------------------


def _passes(x, channel, col, row, padding=0, pad=("rows", "cols"), swap=False, flip=False,
            plain=False):
    """The flattened filter as three passes, one output channel, stride 1; ``pad`` says which
    axes each 1-D pass pads ("both": both axes in each pass)."""
    x = np.asarray(x, dtype=float)
    a = np.ones(x.shape[0]) if plain else np.asarray(channel, dtype=float)
    b, h = np.asarray(col, dtype=float), np.asarray(row, dtype=float)
    if swap:
        b, h = h, b
    if flip:
        b, h = b[::-1], h[::-1]
    y = np.tensordot(a, x, axes=1)  # (H, W): the channels mixed
    p = padding
    both = pad == "both"
    y = np.pad(y, ((p, p) if "rows" in pad or both else (0, 0), (p, p) if both else (0, 0)))
    y = sum(b[i] * y[i:y.shape[0] - len(b) + 1 + i] for i in range(len(b)))
    y = np.pad(y, ((p, p) if both else (0, 0), (p, p) if "cols" in pad or both else (0, 0)))
    return sum(h[j] * y[:, j:y.shape[1] - len(h) + 1 + j] for j in range(len(h)))


def _flat_conv(x, channel, col, row, padding=0):
    x = np.asarray(x, dtype=float)
    w = _filter(channel, col, row)[None]
    return conv2d(x[None], w, padding=padding)[0, 0]


def _conv_case(rng, keywords):
    c, kh, kw = int(rng.integers(1, 4)), int(rng.integers(1, 5)), int(rng.integers(1, 5))
    kwargs = {"padding": int(rng.integers(0, 3))} if "padding" in keywords else {}
    h, w = (int(rng.integers(max(k - 2 * kwargs.get("padding", 0), 1), k + 6))
            for k in (kh, kw))
    x = rng.integers(-4, 5, size=(c, h, w)).astype(float)
    return (x, rng.integers(-3, 4, size=c).astype(float),
            rng.integers(-3, 4, size=kh).astype(float),
            rng.integers(-3, 4, size=kw).astype(float)), kwargs


_X = np.arange(2 * 6 * 7, dtype=float).reshape(2, 6, 7) % 5 - 2
FLAT_CONV2D = Reference(
    name="convlab.flattened_conv2d",
    compute=_flat_conv,
    mistakes={
        "did you forget the padding? padding={padding} pads each 1-D pass's axis":
            _with(_passes, padding=0),
        "only your vertical pass is padded: the horizontal pass pads the columns":
            _with(_passes, pad=("rows",)),
        "only your horizontal pass is padded: the vertical pass pads the rows":
            _with(_passes, pad=("cols",)),
        "your output is too large: you padded both axes in each 1-D pass; the vertical pass "
        "pads the rows only, the horizontal pass the columns only": _with(_passes, pad="both"),
        "your vertical and horizontal filters are swapped: col runs down the rows":
            _with(_passes, swap=True),
        "did you flip the 1-D filters? Deep learning's convolution does not flip":
            _with(_passes, flip=True),
        "the channel weights are missing: the channels are weighed before they are added":
            _with(_passes, plain=True),
    },
    hint="out = the channels mixed by channel, then each column correlated with col, then each "
         "row with row; the vertical pass pads rows, the horizontal pass columns",
    cases=_conv_case,
    examples=(((_X, [1.0, -2.0], [1.0, 2.0, 1.0], [-1.0, 0.0, 1.0]), {}),
              ((_X, [2.0, 1.0], [1.0, -1.0], [1.0, 2.0, 3.0]), {"padding": 1}),
              ((_X, [1.0, 1.0], [3.0, 1.0, 2.0], [1.0, -1.0]), {"padding": 2})),
    keywords=("padding",),
)


# --- the task data of exercises 09, drawn from a course seed ------------------------------------


def _vector(rng, n, low=-2, high=3):
    """A 1-D filter of small ints, not all zero, not a palindrome (so a flip shows)."""
    while True:
        v = rng.integers(low, high, size=n).astype(float)
        if np.any(v) and not np.array_equal(v, v[::-1]):
            return v


def _filters(rng, c, k):
    """Four ``c x k x k`` filters in a random order: one flattened, one with separable kernels
    that are not multiples of one another, one with the channels multiples of one kernel that
    is not separable, one of neither."""
    flat = _filter(_vector(rng, c), _vector(rng, k), _vector(rng, k))
    while True:
        separable = np.stack([np.outer(_vector(rng, k), _vector(rng, k)) for _ in range(c)])
        kernel = rng.integers(-2, 3, size=(k, k)).astype(float)
        shared = _filter(_vector(rng, c), np.ones(k), np.ones(k)) * kernel
        other = rng.integers(-2, 3, size=(c, k, k)).astype(float)
        found = np.stack([flat, separable, shared, other])
        if [list(_exact(found, t)) for t in ("all", "kernels", "channels")] == [
                [1, 0, 0, 0], [1, 1, 0, 0], [1, 0, 1, 0]]:
            return found[rng.permutation(4)] + 0.0  # + 0.0: no -0 in the printout


def _exercise_09(rng):
    while True:  # 2 channels of 5 x 5, a flattened 3x3 filter with a bias
        c, size, k = 2, 5, 3
        x = rng.integers(0, 4, size=(c, size, size)).astype(float)
        channel = _vector(rng, c, -2, 3)
        col, row = _vector(rng, k), _vector(rng, k)
        bias = float(rng.integers(-3, 4) or 1)
        position = (int(rng.integers(0, 3)), int(rng.integers(0, 3)))
        if FLAT_OUTPUT._compute(x, channel, col, row, bias, position) != 0 and _distinct(
                FLAT_OUTPUT, x, channel, col, row, bias, position):
            break
    while True:
        k = int(rng.choice([5, 7]))
        layer = {"c_in": int(rng.choice([16, 24, 32, 48])), "c_out": int(rng.choice([32, 48, 64])),
                 "k": k, "size": int(rng.integers(12, 33)),
                 "padding": int(rng.integers(1, (k - 3) // 2 + 1))}
        if _distinct(FLAT_PARAMS, layer["c_in"], layer["c_out"], k) and _distinct(
                FLAT_MACS, *layer.values()):
            break
    return {
        "x": x, "channel": channel, "col": col, "row": row, "bias": bias, "position": position,
        "layer": layer, "filters": _filters(rng, 2, 3),
    }


EXERCISES = {"09": _exercise_09}
