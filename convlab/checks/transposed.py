"""References and task data of chapter 06: the transposed convolution · 转置卷积.

The mistakes this chapter diagnoses (each a hint of a ``Reference`` below, or of
``check_work_transposed``):

* the output size computed with the convolution's formula ``floor((i + 2p - k)/s) + 1``, or
  as ``s·i`` ("stride 2 doubles the size");
* the ``- 2p`` forgotten (padding believed to add to the output, or ignored), or counted once;
* the ``+ output_padding`` forgotten;
* ``i·s`` instead of ``(i - 1)·s`` (one stride too many: zeros after the last input too);
* zeros inserted ``s`` instead of ``s - 1`` between the inputs in the direct view;
* the kernel not flipped in the direct view (or flipped in the scatter view: the same wrong
  numbers);
* the transposed weight's layout ``(C_in, C_out/groups, kh, kw)`` swapped to conv2d's
  ``(C_out, C_in, ...)``, so the output channels are read from the wrong axis;
* the stamps of one input channel only, or the bias forgotten, in an output computed by hand;
* the transposed convolution believed to invert the convolution (反卷积 taken literally), or
  ``output_padding`` believed to change values rather than the size;
* the checkerboard's overlap counts: counted along one axis only, or believed uniform
  (``k // s`` or ``ceil(k / s)`` stamps everywhere).

Each ``Reference`` is the right computation of a kind of answer with its usual mistakes; the
check functions of ``convlab.checks`` take one and name the mistake a wrong answer makes.
"""

from collections import Counter

import numpy as np

from ..arithmetic import conv_output_size, conv_transpose_output_size
from ..conv import conv_transpose2d
from . import (
    Reference,
    _as_number,
    _distinct,
    _fail,
    _key,
    _parse_work,
    _right_sum,
    _then,
    _unanswered,
    _with,
)

__all__ = [
    "CONV_T2D_SINGLE",
    "OUTPUT_PADDING",
    "OVERLAP_LEVELS",
    "TRANSPOSE_SHAPE",
    "TRANSPOSE_WEIGHT_SHAPE",
    "check_work_transposed",
]


# --- one channel, one kernel: the op a learner writes ------------------------------------------


def _insert_zeros(x, zeros):
    """``zeros`` zeros between neighbouring values of a 2-D array."""
    h, w = x.shape
    up = np.zeros(((h - 1) * (zeros + 1) + 1, (w - 1) * (zeros + 1) + 1))
    up[::zeros + 1, ::zeros + 1] = x
    return up


def _direct(x, kernel, stride=1, padding=0, flipped=True, zeros=None, trailing=0, crop=(1, 1)):
    """The direct view: ``zeros`` (default ``stride - 1``) zeros between inputs, ``trailing``
    more after the last, a border of ``k - 1`` zeros, the kernel ``flipped``, stride 1, then
    ``padding`` cropped from each side (``crop`` says which sides: (low, high))."""
    x, kernel = np.asarray(x, dtype=float), np.asarray(kernel, dtype=float)
    up = _insert_zeros(x, stride - 1 if zeros is None else zeros)
    up = np.pad(up, ((0, trailing), (0, trailing)))
    kh, kw = kernel.shape
    up = np.pad(up, ((kh - 1, kh - 1), (kw - 1, kw - 1)))
    k = kernel[::-1, ::-1] if flipped else kernel
    out = np.zeros((up.shape[0] - kh + 1, up.shape[1] - kw + 1))
    for r in range(out.shape[0]):
        for c in range(out.shape[1]):
            out[r, c] = np.sum(up[r:r + kh, c:c + kw] * k)
    lo, hi = padding * crop[0], padding * crop[1]
    if 2 * padding >= min(out.shape) and padding:
        raise ValueError("the padding crops the whole output")
    return out[lo:out.shape[0] - hi, lo:out.shape[1] - hi]


def _conv_t_single(x, kernel, stride=1, padding=0):
    """``conv_transpose2d`` of one channel: x ``(H, W)``, kernel ``(kh, kw)`` -> ``(H_out, W_out)``
    with ``H_out = (H - 1)·stride - 2·padding + kh``."""
    x, kernel = np.asarray(x, dtype=float), np.asarray(kernel, dtype=float)
    return conv_transpose2d(x[None, None], kernel[None, None], stride=stride,
                            padding=padding)[0, 0]


def _conv_t_case(rng, keywords):
    kwargs = {}
    if "stride" in keywords:
        kwargs["stride"] = int(rng.integers(1, 4))
    if "padding" in keywords:
        kwargs["padding"] = int(rng.integers(0, 2))
    h, w = (int(a) for a in rng.integers(2, 5, size=2))
    k = [int(a) for a in rng.integers(2, 4, size=2)]
    x = rng.integers(-3, 4, size=(h, w)).astype(float)
    kernel = rng.integers(-2, 3, size=k).astype(float)
    if (kernel == kernel[::-1, ::-1]).all():
        kernel[0, 0] += 3  # an asymmetric kernel: its flip is another kernel
    if kwargs.get("padding", 0) * 2 >= min((h - 1) * kwargs.get("stride", 1) + a for a in k):
        kwargs["padding"] = 0
    return (x, kernel), kwargs


def _trailing(x, kernel, stride=1, padding=0):
    if stride == 1:
        raise ValueError("no zeros to misplace")
    return _direct(x, kernel, stride, padding, trailing=stride - 1)


_ARTICLE_X = np.array([[1.0, 2.0], [3.0, 4.0]])
_ARTICLE_K = np.array([[1.0, 0.0, -1.0], [2.0, 1.0, 0.0], [0.0, 3.0, 1.0]])

CONV_T2D_SINGLE = Reference(
    name="convlab.conv_transpose2d",
    compute=_conv_t_single,
    mistakes={
        "is your kernel the right way round? In the direct view the kernel is turned by 180° "
        "before it slides; in the scatter view each input stamps the kernel as it is":
            _with(_direct, flipped=False),
        "did you insert as many zeros as the stride ({stride}) between neighbouring inputs? "
        "Stride s leaves s - 1 zeros between them": lambda x, kernel, stride=1, padding=0: _direct(
            x, kernel, stride, padding, zeros=stride),
        "your output has stride - 1 extra rows and columns at the end: the zeros go *between* "
        "the inputs, none after the last one": _trailing,
        "did you forget the padding? In a transposed convolution padding={padding} removes "
        "that many rows and columns from each side of the full output":
            _with(_direct, padding=0),
        "did you crop one side only? padding={padding} removes rows and columns on *each* side":
            lambda x, kernel, stride=1, padding=0: _direct(x, kernel, stride, padding,
                                                           crop=(1, 0)),
        "did you ignore the stride? With stride={stride} the stamps of neighbouring inputs "
        "start {stride} output cells apart": _with(_direct, stride=1),
        "your rows and columns are swapped: did you transpose the output?":
            _then(_conv_t_single, np.transpose),
    },
    hint="compare your loops with: out_full[a*stride + i, b*stride + j] += x[a, b] * kernel[i, j], "
         "then padding cropped from each side",
    cases=_conv_t_case,
    examples=(((_ARTICLE_X, _ARTICLE_K), {}), ((_ARTICLE_X, _ARTICLE_K), {"stride": 2}),
              ((_ARTICLE_X, _ARTICLE_K), {"stride": 2, "padding": 1})),
    keywords=("stride", "padding"),
)


# --- sizes and shapes --------------------------------------------------------------------------


def _t_shape(input_shape, weight_shape, stride=1, padding=0, output_padding=0, formula=None,
             channels=1):
    """``conv_transpose2d``'s output shape for an input ``(N, C_in, H, W)`` and a weight
    ``(C_in, C_out, kh, kw)``; ``formula`` and ``channels`` make the classic mistakes."""
    n, _, h, w = input_shape
    c_out = weight_shape[channels]
    k = weight_shape[2:]
    size = formula or (lambda i, kk: conv_transpose_output_size(i, kk, stride, padding,
                                                                output_padding))
    return (n, c_out) + tuple(int(size(i, kk)) for i, kk in zip((h, w), k))


def _formula(rule):
    def wrong(input_shape, weight_shape, stride=1, padding=0, output_padding=0):
        return _t_shape(input_shape, weight_shape, formula=lambda i, k: rule(
            i, k, stride, padding, output_padding))

    return wrong


def _conv_rule(i, k, s, p, op):
    if i + 2 * p < k:
        raise ValueError("no window fits")
    return (i + 2 * p - k) // s + 1


TRANSPOSE_SHAPE = Reference(
    name="conv_transpose2d's output shape",
    compute=_t_shape,
    mistakes={
        "that is the size a convolution would give: a convolution with these numbers "
        "shrinks the input, its transpose grows it": _formula(_conv_rule),
        "stride {stride} does not simply multiply the size by {stride}: count where the last "
        "input's stamp starts and how wide a stamp is":
            _formula(lambda i, k, s, p, op: s * i),
        "did you forget the padding? In a transposed convolution padding={padding} removes "
        "rows and columns from each side of the output": _formula(
            lambda i, k, s, p, op: (i - 1) * s + k + op),
        "padding={padding} works on each side of the output, not once": _formula(
            lambda i, k, s, p, op: (i - 1) * s - p + k + op),
        "did padding grow your output? In a transposed convolution padding={padding} "
        "removes rows and columns": _formula(lambda i, k, s, p, op: (i - 1) * s + 2 * p + k + op),
        "did you forget output_padding={output_padding}? It adds to one side of the output":
            _formula(lambda i, k, s, p, op: (i - 1) * s - 2 * p + k),
        "one stride too many: between the first and the last of i inputs there are i - 1 "
        "steps of the stride": _formula(lambda i, k, s, p, op: i * s - 2 * p + k + op),
        "with s - 1 zeros between the inputs, the stretched input is not i·s wide: did you "
        "insert {stride} zeros instead?": _formula(
            lambda i, k, s, p, op: (i - 1) * (s + 1) - 2 * p + k + op),
        "a transposed weight is (C_in, C_out/groups, kh, kw): its output channels are its "
        "second axis, not its first": lambda input_shape, weight_shape, stride=1, padding=0,
        output_padding=0: _t_shape(input_shape, weight_shape, stride, padding, output_padding,
                                   channels=0),
        "where is the batch axis? A batch of N inputs gives a batch of N outputs":
            _then(_t_shape, lambda shape: shape[1:]),
    },
    hint="the output is (N, C_out, H_out, W_out): follow where the stamp of the last input "
         "starts and ends, then what padding and output_padding do to each side",
)


def _t_weight_shape(c_in, c_out, kernel_size, groups=1):
    return (c_in, c_out // groups, kernel_size, kernel_size)


TRANSPOSE_WEIGHT_SHAPE = Reference(
    name="ConvTranspose2d's weight shape",
    compute=_t_weight_shape,
    mistakes={
        "that is conv2d's layout (C_out, C_in, kh, kw); a transposed convolution stores its "
        "weight the other way round, the layout of the convolution it is the transpose of":
            lambda c_in, c_out, kernel_size, groups=1: (c_out, c_in // groups, kernel_size,
                                                        kernel_size),
        "each input channel stamps a stack of kernels, one per output channel: a channel axis "
        "is missing": lambda c_in, c_out, kernel_size, groups=1: (c_in, kernel_size,
                                                                  kernel_size),
        "that is TensorFlow's layout (kh, kw, ...); convlab and PyTorch put the channel axes "
        "first": lambda c_in, c_out, kernel_size, groups=1: (kernel_size, kernel_size, c_out,
                                                             c_in),
    },
    hint="PyTorch stores a ConvTranspose2d's weight as (C_in, C_out/groups, kh, kw)",
)


def _output_padding(i, k, stride=1, padding=0):
    """The ``output_padding`` that makes ``conv_transpose2d`` give back size ``i`` from the
    output of ``conv2d(i, k, stride, padding)``."""
    o = conv_output_size(i, k, stride=stride, padding=padding)
    return i - ((o - 1) * stride - 2 * padding + k)


OUTPUT_PADDING = Reference(
    name="the output_padding that gives the size back",
    compute=_output_padding,
    mistakes={
        "with output_padding=0 the transposed convolution gives the smallest of the input "
        "sizes this convolution maps to the same output size; is that this one?":
            lambda i, k, stride=1, padding=0: 0,
        "output_padding is not always stride - 1: it is the number of rows the convolution's "
        "floor dropped": lambda i, k, stride=1, padding=0: stride - 1,
        "a transposed convolution does not make o into stride·o: compute its size from o "
        "with output_padding 0 first": lambda i, k, stride=1, padding=0: i - stride * (
            conv_output_size(i, k, stride=stride, padding=padding)),
    },
    hint="compute the convolution's output size o, then the transposed convolution's size from "
         "o with output_padding 0, and compare with i",
    integer=True,
)


# --- the checkerboard ---------------------------------------------------------------------------


def _levels_1d(k, s):
    """How many stamps an interior output cell receives along one axis: {k//s, ceil(k/s)}."""
    return sorted({k // s, -(-k // s)})


def _overlap_levels(kernel_size, stride, axes=2):
    one = _levels_1d(kernel_size, stride)
    if axes == 1:
        return np.array(one, dtype=float)
    return np.array(sorted({a * b for a in one for b in one}), dtype=float)


OVERLAP_LEVELS = Reference(
    name="the stamp counts of interior output pixels",
    compute=_overlap_levels,
    mistakes={
        "those are the counts along one axis: an output pixel's count is its row's count "
        "times its column's count": _with(_overlap_levels, axes=1),
        "the stamps do not cover every interior pixel equally when the stride does not divide "
        "the kernel size: some pixels get fewer": lambda kernel_size, stride: np.array(
            [float(-(-kernel_size // stride)) ** 2]),
        "the stamps do not cover every interior pixel equally when the stride does not divide "
        "the kernel size: some pixels get more": lambda kernel_size, stride: np.array(
            [float(kernel_size // stride) ** 2]),
        "an output pixel receives one stamp from each input whose stamp covers it, not one per "
        "kernel weight": lambda kernel_size, stride: np.array([float(kernel_size ** 2)]),
    },
    hint="follow one row of the output: which inputs' stamps cover cell r? Then a pixel's "
         "count is its row's count times its column's count",
)


# --- one output of a layer, by hand --------------------------------------------------------------


def _stamps(x, weight, position, stride, padding, flipped=False, zeros=None, channels=None):
    """The products ``x[c, a, b] · w[c, 0, i, j]`` that land on output ``position`` of
    ``conv_transpose2d(x, weight, stride=stride, padding=padding)``, as a multiset of keys,
    products with a zero factor left out (the direct view writes them, the scatter does not).

    ``flipped``, ``zeros`` (between inputs) and ``channels`` make the usual mistakes.
    """
    c_in, _, kh, kw = weight.shape
    step = stride if zeros is None else zeros + 1
    r, q = position
    found = Counter()
    for c in range(c_in) if channels is None else channels:
        for a in range(x.shape[1]):
            for b in range(x.shape[2]):
                i, j = r + padding - a * step, q + padding - b * step
                if 0 <= i < kh and 0 <= j < kw:
                    w = weight[c, 0, kh - 1 - i, kw - 1 - j] if flipped else weight[c, 0, i, j]
                    key = _key(float(x[c, a, b]), float(w))
                    if key[0][0] != 0:
                        found[key] += 1
    return found


def check_work_transposed(work, value, x, weight, position, bias=None, stride=1, padding=0):
    """Check one output element of a ``conv_transpose2d`` computed by hand, its sum written out.

    Parameters
    ----------
    work : str, the sum written out, ``"2*1 + 3*(-1) + ..."``: each product an input value
        times the kernel value it meets (products with a zero may be left out), the bias as a
        lone term; channels may be parenthesised
    value : number, the result of the sum
    x : array ``(C_in, H, W)``; weight : array ``(C_in, 1, kh, kw)`` (one output channel, the
        transposed layout); bias : number or None
    position : ``(row, col)`` of the output element
    stride, padding : ints, as ``conv_transpose2d``

    Diagnoses a kernel not flipped in the direct view, ``stride`` zeros inserted instead of
    ``stride - 1``, the padding not cropped, one channel only, a missing or extra bias, and a
    value that is not the sum.
    """
    _unanswered(work, "work")
    if not isinstance(work, str):
        _fail(f"work should be a string like \"3*0 + 3*1 + ...\", got {type(work).__name__}.")
    value = _as_number(value, "value")
    x, weight = np.asarray(x, dtype=float), np.asarray(weight, dtype=float)
    terms, singles = _parse_work(work)
    products = Counter(k for k in (_key(a, b, s) for s, a, b in terms) if k[0][0] != 0)
    r, q = position
    right = _stamps(x, weight, position, stride, padding)
    if products != right:
        tries = [
            ("your products pair each input with the mirrored kernel value: in the direct view "
             "the kernel is turned by 180° (and in the scatter view it is stamped as it is)",
             _stamps(x, weight, position, stride, padding, flipped=True)),
            (f"did you insert {stride} zeros between the inputs? Stride {stride} leaves "
             f"{stride - 1} between neighbours", _stamps(x, weight, position, stride, padding,
                                                         zeros=stride)),
            (f"did you forget the padding? padding={padding} crops the full output, so output "
             f"({r}, {q}) is not the full output's ({r}, {q})",
             _stamps(x, weight, position, stride, 0)),
            (f"you used output ({q}, {r}): a position is (row, column)",
             _stamps(x, weight, (q, r), stride, padding)),
        ]
        if x.shape[0] > 1:
            tries += [(f"these are the stamps of input channel {c} only: the output sums the "
                       f"stamps of all {x.shape[0]} input channels",
                       _stamps(x, weight, position, stride, padding, channels=[c]))
                      for c in range(x.shape[0])]
        hint = next((h for h, p in tries if products == p), None)
        if hint is None:
            hint = (f"you wrote {sum(products.values())} non-zero products; find every input "
                    f"whose stamp covers output ({r}, {q}), in every channel, and the kernel "
                    f"value that lands there")
        _fail(f"The products in your work are not those of output {tuple(position)}: {hint}.")
    _right_sum(terms, singles, value, bias, position)


# --- the task data of exercises 06, drawn from a course seed ------------------------------------


def _by_hand(rng):
    """A 2-channel input (3x3), a transposed weight (2, 1, 3, 3), stride 2, padding 1 and an
    output position that four stamps per channel cover, such that every mistake of
    ``check_work_transposed`` gives other products."""
    stride, padding = 2, 1
    while True:
        x = rng.integers(1, 4, size=(2, 3, 3)).astype(float)
        weight = rng.integers(-2, 4, size=(2, 1, 3, 3)).astype(float)
        position = tuple(int(a) for a in rng.choice([1, 3], size=2))
        r, q = position
        products = [_stamps(x, weight, position, stride, padding),
                    _stamps(x, weight, position, stride, padding, flipped=True),
                    _stamps(x, weight, position, stride, padding, zeros=stride),
                    _stamps(x, weight, position, stride, 0),
                    _stamps(x, weight, (q, r), stride, padding),
                    _stamps(x, weight, position, stride, padding, channels=[0]),
                    _stamps(x, weight, position, stride, padding, channels=[1])]
        distinct = all(a != b for n, a in enumerate(products) for b in products[n + 1:])
        if distinct and sum(products[0].values()) == 8:
            return x, weight, position


def _exercise_06(rng):
    x, weight, position = _by_hand(rng)
    while True:  # a layer whose every mistaken shape is another shape
        c_in, c_out = (int(a) for a in rng.choice([4, 8, 16, 32, 64], size=2, replace=False))
        k, s = int(rng.choice([3, 4, 5])), int(rng.choice([2, 3]))
        p, op = int(rng.integers(0, 3)), int(rng.integers(1, s))
        input_shape = (int(rng.choice([1, 4, 8])), c_in, *(2 * [int(rng.integers(5, 17))]))
        layer = {"input_shape": input_shape, "weight_shape": (c_in, c_out, k, k), "stride": s,
                 "padding": p, "output_padding": op}
        if _distinct(TRANSPOSE_SHAPE, *layer.values()) and p > 0:
            break
    while True:  # a convolution whose size comes back only with output_padding not 0 or s-1
        recover = {"i": int(rng.integers(5, 20)), "k": int(rng.choice([3, 4, 5])),
                   "stride": int(rng.choice([3, 4])), "padding": int(rng.integers(0, 3))}
        if _distinct(OUTPUT_PADDING, *recover.values()):
            break
    levels_k, levels_s = ((5, 2), (7, 2), (7, 3), (8, 3), (9, 2))[int(rng.integers(0, 5))]
    return {
        "x": x, "weight": weight, "bias": float(rng.integers(-3, 4) or 2), "stride": 2,
        "padding": 1, "position": position,
        "layer": layer,
        "recover": recover,
        "checker": {"kernel_size": levels_k, "stride": levels_s},
    }


EXERCISES = {"06": _exercise_06}
