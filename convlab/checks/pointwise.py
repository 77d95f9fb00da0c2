"""References of chapter 04 (1x1 convolution): the channel mix at a pixel, the matrix-product
implementation, a dense layer as a k x k convolution, and the costs of a 1x1 bottleneck.

The mistakes learners make in this chapter, each named by a check below:

1. **The input channels left out of a cost.** A 1x1 layer counted as ``H·W·C_out``
   multiply-adds (or ``C_out`` weights), as if a 1x1 filter were one number; it holds one weight
   per input channel (``BOTTLENECK_MACS``, ``BOTTLENECK_PARAMS``).
2. **A 1x1 convolution taken for the identity**, or for a scale of each channel by one number
   (no mixing): the output channel count kept at ``C_in`` (``CONV_SHAPE``), the output equal to
   the input or to ``w[o, o]·x[o]`` (``CONV1X1``).
3. **A 1x1 convolution taken to act on the spatial axes**: a neighbourhood summed by hand
   (``check_pixel_work``), the channel matrix applied along the width (``CONV1X1``).
4. **NCHW reshaped to (pixels, channels) without moving the channel axis last** (a transpose
   forgotten), on the way in or on the way back (``CONV1X1``).
5. **The channel matrix used the wrong way round** (``x @ W`` for ``x @ Wᵀ``), **the output left
   channels last** (``CONV1X1``).
6. **The bias forgotten**, added once per input channel, or another filter's bias taken
   (``CONV1X1``, ``DENSE_AS_CONV``, ``check_pixel_work``, ``BOTTLENECK_PARAMS``).
7. **The 1x1 cost counted on the wrong spatial size**: on the output of the strided k x k layer
   that follows it instead of on its own input (``BOTTLENECK_MACS``).
8. **A bottleneck half counted**: the 1x1 layer's own cost left out, or the k x k layer after the
   reduction still counted with all ``C_in`` channels instead of ``C_mid`` (``BOTTLENECK_*``).
9. **Costs confused**: parameters multiplied by the image size (they are shared by every
   pixel), FLOPs (two per multiply-add) given for multiply-adds, ``k`` weights per kernel for
   ``k²``, the stride ignored (``BOTTLENECK_*``).
10. **A dense layer on a k x k map as a k x k convolution with its weights in the wrong order**:
    read channels last although the input is flattened channels first, kernels transposed, the
    ``(N, n_out, 1, 1)`` of ``conv2d`` returned for ``(N, n_out)`` (``DENSE_AS_CONV``).
11. **By hand, at a strided 1x1 convolution**: the pixel ``(r, c)`` read for ``(s·r, s·c)``,
    another filter's weights, one channel only, the position transposed (``check_pixel_work``).
12. **The price of a bottleneck misread**: "two linear maps make any linear map", or "the 1x1
    loses the spatial extent", when what is lost is rank: every tap of the k x k layer sees only
    a ``C_mid``-dimensional projection of the input channels (``WHY_BOTTLENECK``).
"""

from collections import Counter

import numpy as np

from ..arithmetic import conv_cost, conv_output_size
from ..conv import conv2d
from . import (
    Reference,
    _fail,
    _key,
    _parse_work,
    _same_number,
    _then,
    _unanswered,
    _with,
    check_work,
)

__all__ = [
    "BOTTLENECK_MACS",
    "BOTTLENECK_PARAMS",
    "CONV1X1",
    "DENSE_AS_CONV",
    "WHY_BOTTLENECK",
    "WHY_BOTTLENECK_HINTS",
    "check_pixel_work",
]


# --- one output of a 1x1 convolution, by hand ---------------------------------------------------


def _pixel_products(x, weight, out_channel, pixel):
    """The products of output channel ``out_channel`` at input ``pixel``, as ``_key``s."""
    r, c = pixel
    if not (0 <= r < x.shape[1] and 0 <= c < x.shape[2]):
        return None
    return Counter(_key(float(x[ch, r, c]), float(weight[out_channel, ch, 0, 0]))
                   for ch in range(x.shape[0]))


def check_pixel_work(work, value, x, weight, bias, position, out_channel, stride=1):
    """Check one output of a 1x1 convolution computed by hand, its sum written out.

    First names the mistakes of a 1x1 layer (a neighbourhood summed, the stride ignored,
    another filter's weights or bias), then checks the rest as ``check_work`` does.

    Parameters
    ----------
    work : str, the sum written out, e.g. ``"2*1 + 3*(-1) + 0*2 + 1"`` (as ``check_work``)
    value : number, the result
    x : array ``(C_in, H, W)``; weight : array ``(C_out, C_in, 1, 1)``; bias : array ``(C_out,)``
    position : ``(row, col)`` of the output; out_channel : int, which output channel
    stride : int, as ``conv2d``
    """
    _unanswered(work, "work")
    x, weight = np.asarray(x, dtype=float), np.asarray(weight, dtype=float)
    bias = np.asarray(bias, dtype=float)
    o, (r, c), c_in = out_channel, position, x.shape[0]
    if isinstance(work, str):
        terms, singles = _parse_work(work)
        products = Counter(_key(a, b, s) for s, a, b in terms)
        right = _pixel_products(x, weight, o, (r * stride, c * stride))
        count = sum(products.values())
        if products != right:
            if count > c_in and count % c_in == 0:
                _fail(f"You wrote {count} products, {count // c_in} per input channel: a 1x1 "
                      f"filter reads ONE pixel of each channel, not a neighbourhood; it has "
                      f"{c_in} weights, one per input channel.")
            if stride > 1 and products == _pixel_products(x, weight, o, (r, c)):
                _fail(f"You read input pixel ({r}, {c}), as if the stride were 1: with stride "
                      f"{stride} the 1x1 kernel jumps {stride} pixels between two outputs.")
            for other in range(weight.shape[0]):
                if other != o and products == _pixel_products(x, weight, other,
                                                              (r * stride, c * stride)):
                    _fail(f"These are the weights of filter {other}: output channel {o} is made "
                          f"by filter {o}, weight[{o}].")
        elif not any(_same_number(s, bias[o]) for s in singles):
            for other in range(weight.shape[0]):
                if other != o and any(_same_number(s, bias[other]) for s in singles):
                    _fail(f"Your products are right but that is the bias of filter {other}: "
                          f"output channel {o} adds its own filter's bias.")
    check_work(work, value, x, weight[o], position, bias=bias[o], stride=stride)


# --- a 1x1 convolution as a matrix product -----------------------------------------------------


def _conv1x1(x, weight, bias):
    """x ``(N, C_in, H, W)``, weight ``(C_out, C_in, 1, 1)``, bias ``(C_out,)`` ->
    ``(N, C_out, H, W)``."""
    x, weight = np.asarray(x, dtype=float), np.asarray(weight, dtype=float)
    return conv2d(x, weight, np.asarray(bias, dtype=float))


def _matrix(weight):
    return np.asarray(weight, dtype=float)[:, :, 0, 0]


def _rows_not_pixels(back="right"):
    """The product of ``x.reshape(-1, C_in)``: rows cut in memory order, not pixels."""

    def wrong(x, weight, bias):
        x = np.asarray(x, dtype=float)
        n, c, h, w = x.shape
        out = x.reshape(-1, c) @ _matrix(weight).T + bias
        if back == "right":
            return out.reshape(n, h, w, -1).transpose(0, 3, 1, 2)
        return out.reshape(n, -1, h, w)

    return wrong


def _scrambled_back(x, weight, bias):
    x = np.asarray(x, dtype=float)
    n, c, h, w = x.shape
    out = x.transpose(0, 2, 3, 1).reshape(-1, c) @ _matrix(weight).T + bias
    return out.reshape(n, -1, h, w)


def _square_only(wrong):
    def compute(x, weight, bias):
        if np.shape(weight)[0] != np.shape(weight)[1]:
            raise ValueError("only when C_out = C_in")
        return wrong(np.asarray(x, dtype=float), _matrix(weight), np.asarray(bias, dtype=float))

    return compute


def _along_width(x, weight, bias):
    """The channel matrix applied to the last axis of (N, C, H, W): the width."""
    return np.asarray(x, dtype=float) @ _matrix(weight).T + bias


def _conv1x1_case(rng, keywords):
    n = int(rng.integers(1, 3))
    if rng.random() < 0.4:  # square: C_in = C_out = W, where the shape does not betray a mistake
        c_in = c_out = w = int(rng.integers(2, 5))
        h = int(rng.integers(2, 5))
    else:
        c_in, c_out, h, w = (int(a) for a in rng.integers(2, 6, size=4))
    x = rng.integers(-3, 4, size=(n, c_in, h, w)).astype(float)
    weight = rng.integers(-2, 3, size=(c_out, c_in, 1, 1)).astype(float)
    bias = rng.integers(-4, 5, size=c_out).astype(float)
    return (x, weight, bias), {}


_SQUARE = np.arange(2 * 3 * 2 * 3, dtype=float).reshape(2, 3, 2, 3) % 5 - 1
_SQUARE_W = np.array([[1, -1, 2], [0, 2, 1], [-1, 1, 1]], dtype=float)[:, :, None, None]

CONV1X1 = Reference(
    name="convlab.conv2d with a 1x1 weight",
    compute=_conv1x1,
    mistakes={
        # first: where the width equals C_in, x.reshape(-1, C_in) is this same product
        "your matrix product ran over the last axis of (N, C, H, W), the width: a 1x1 "
        "convolution mixes the channels of each pixel, not the pixels of a row": _along_width,
        "your rows are not pixels: reshaping an (N, C, H, W) array to (-1, C_in) cuts it in "
        "memory order, so a row holds neighbouring values of ONE channel instead of the C_in "
        "channels of one pixel": _rows_not_pixels(),
        "your rows are not pixels, neither going in nor coming back: an (N, C, H, W) array "
        "reshaped to (-1, C_in) is cut in memory order, so a row holds neighbouring values of "
        "one channel": _rows_not_pixels(back="plain"),
        "your products are right but they come back scrambled: the result is (pixels, C_out), "
        "pixel by pixel, and reshaping it straight to (N, C_out, H, W) cuts it in memory order, "
        "mixing pixels and channels": _scrambled_back,
        "did you forget the bias? Each output channel adds its filter's bias at every pixel":
            lambda x, weight, bias: _conv1x1(x, weight, np.zeros(np.shape(weight)[0])),
        "did you add the bias once per input channel? A filter has one bias, added once":
            lambda x, weight, bias: _conv1x1(x, weight, np.shape(weight)[1] * np.asarray(
                bias, dtype=float)),
        "your output is the input: a 1x1 convolution is not the identity; its weights mix the "
        "channels": _square_only(lambda x, m, b: x),
        "your output is the input plus the bias: a 1x1 convolution is not the identity; its "
        "weights mix the channels": _square_only(lambda x, m, b: x + b[:, None, None]),
        "each of your output channels is ONE input channel times a number: that is a 1x1 "
        "convolution only when its channel matrix is diagonal; here every output channel "
        "mixes all the input channels": _square_only(
            lambda x, m, b: x * np.diag(m)[:, None, None] + b[:, None, None]),
        "did you use the channel matrix the wrong way round? weight[o, c] is what input channel "
        "c adds to output channel o": _square_only(
            lambda x, m, b: np.einsum("co,nchw->nohw", m, x) + b[:, None, None]),
        "your output has the channels last; convlab and PyTorch put them first: "
        "(N, C_out, H, W)": _then(_conv1x1, lambda y: y.transpose(0, 2, 3, 1)),
    },
    hint="at every pixel (r, c) of every image n: out[n, :, r, c] = W @ x[n, :, r, c] + bias, "
         "with W = weight[:, :, 0, 0]",
    cases=_conv1x1_case,
    examples=(((_SQUARE, _SQUARE_W, np.array([1.0, -2.0, 0.5])), {}),
              ((_SQUARE[:1, :, :, :2], _SQUARE_W[:2], np.array([3.0, -1.0])), {})),
)


# --- a dense layer on a k x k map is a k x k convolution ---------------------------------------


def _dense(x, w_fc, b):
    """x ``(N, C, k, k)``, w_fc ``(n_out, C·k·k)``, b ``(n_out,)`` -> ``(N, n_out)``: the dense
    layer on the flattened input (channels first, as ``x.reshape(N, -1)``)."""
    x = np.asarray(x, dtype=float)
    return x.reshape(len(x), -1) @ np.asarray(w_fc, dtype=float).T + np.asarray(b, dtype=float)


def _as_conv(order):
    def wrong(x, w_fc, b):
        x, w_fc = np.asarray(x, dtype=float), np.asarray(w_fc, dtype=float)
        n, c, kh, kw = x.shape
        if order == "hwc":
            weight = w_fc.reshape(-1, kh, kw, c).transpose(0, 3, 1, 2)
        else:  # the kernels transposed
            weight = w_fc.reshape(-1, c, kh, kw).transpose(0, 1, 3, 2)
            if kh != kw:
                raise ValueError("the transposed kernels do not fit")
        return conv2d(x, weight, np.asarray(b, dtype=float))[:, :, 0, 0]

    return wrong


def _dense_case(rng, keywords):
    n, c, n_out = int(rng.integers(1, 4)), int(rng.integers(2, 4)), int(rng.integers(2, 5))
    k = int(rng.integers(2, 4))
    x = rng.integers(-3, 4, size=(n, c, k, k)).astype(float)
    w_fc = rng.integers(-2, 3, size=(n_out, c * k * k)).astype(float)
    b = rng.integers(-4, 5, size=n_out).astype(float)
    return (x, w_fc, b), {}


DENSE_AS_CONV = Reference(
    name="the dense layer x.reshape(N, -1) @ w_fc.T + b",
    compute=_dense,
    mistakes={
        "your kernels take the dense weights in channels-last order (height, width, channel), "
        "but a row of w_fc follows the flattened input x.reshape(N, -1), which is channels "
        "first (channel, height, width)": _as_conv("hwc"),
        "your kernels are transposed: their rows and columns are swapped against the flattened "
        "input's order": _as_conv("transposed"),
        "did you forget the bias? A dense layer adds one per output unit":
            _with(_dense, b=np.zeros(1)),
        "that is conv2d's (N, n_out, 1, 1): a dense layer gives one vector of n_out numbers "
        "per image": _then(_dense, lambda y: y[:, :, None, None]),
    },
    hint="out[n, j] = b[j] + sum over c, u, v of w_fc[j, (c·k + u)·k + v] · x[n, c, u, v]",
    cases=_dense_case,
    examples=(((np.arange(2 * 2 * 3 * 3, dtype=float).reshape(2, 2, 3, 3) % 4 - 1,
                np.arange(3 * 18, dtype=float).reshape(3, 18) % 5 - 2,
                np.array([1.0, 0.0, -1.0])), {}),),
)


# --- the costs of a layer and of its 1x1 bottleneck --------------------------------------------


def _costs(c_in, c_out, kernel_size, input_size, stride=1, padding=0, c_mid=None, bias=False,
           flops=False, no_c_in=False, skip_1x1=False, wide=False, reduce_at_output=False,
           k_weights=False, no_stride=False):
    """``Cost`` of the k x k layer ``c_in -> c_out`` or, with ``c_mid``, of the 1x1 reduction
    ``c_in -> c_mid`` followed by the k x k layer ``c_mid -> c_out``; the keyword flags make the
    chapter's mistakes."""
    seen = 1 if no_c_in else c_in

    def square(c):
        """The k x k layer from ``c`` channels; with ``k_weights``, k weights per kernel."""
        cost = conv_cost(c, c_out, kernel_size, input_size, 1 if no_stride else stride, padding)
        if k_weights:
            cost = type(cost)(cost.params // kernel_size, cost.macs // kernel_size)
        return type(cost)(cost.params + (c_out if bias else 0), cost.macs)

    if c_mid is None:
        if skip_1x1 or wide or reduce_at_output:
            raise ValueError("a mistake of the bottleneck only")
        cost = square(seen)
    else:
        out = conv_output_size(input_size, kernel_size, stride, padding)
        reduce = conv_cost(seen, c_mid, 1, out if reduce_at_output else input_size, bias=bias)
        main = square(c_in if wide else c_mid)
        cost = main if skip_1x1 else reduce + main
    return type(cost)(cost.params, 2 * cost.macs if flops else cost.macs)


def _macs(c_in, c_out, kernel_size, input_size, stride=1, padding=0, c_mid=None, **mistake):
    return _costs(c_in, c_out, kernel_size, input_size, stride, padding, c_mid,
                  **mistake).macs


def _params(c_in, c_out, kernel_size, input_size, stride=1, padding=0, c_mid=None, bias=True,
            **mistake):
    return _costs(c_in, c_out, kernel_size, input_size, stride, padding, c_mid, bias=bias,
                  **mistake).params


def _flagged(compute, **flags):
    return lambda *args, **kwargs: compute(*args, **kwargs, **flags)


_LEFT_OUT = ("did you leave out the input channels? A filter holds one kernel per channel it "
             "reads: even a 1x1 filter on {c_in} channels has {c_in} weights, not 1")
_HALF = {
    "did you leave out the 1x1 layer? The bottleneck's total is the reduction plus the k x k "
    "layer": {"skip_1x1": True},
    "after the reduction the k x k layer reads only the reduced channels, not all {c_in}":
        {"wide": True},
}

BOTTLENECK_MACS = Reference(
    name="convlab.conv_cost(...).macs",
    compute=_macs,
    mistakes={
        _LEFT_OUT: _flagged(_macs, no_c_in=True),
        "you counted the 1x1 layer on the wrong spatial size: it runs on its own input, at full "
        "resolution, before the strided k x k layer shrinks the map":
            _flagged(_macs, reduce_at_output=True),
        **{hint: _flagged(_macs, **flags) for hint, flags in _HALF.items()},
        "did you ignore the stride? With stride {stride} the k x k layer has fewer output "
        "pixels, each one costing the same": _flagged(_macs, no_stride=True),
        "those are FLOPs (a multiplication and an addition counted apart): count multiply-adds, "
        "one per product": _flagged(_macs, flops=True),
        "a k x k kernel has k·k weights, each used at every output pixel":
            _flagged(_macs, k_weights=True),
    },
    hint="multiply-adds of a layer = (output pixels) x (output channels) x (weights per filter)",
    integer=True,
)

BOTTLENECK_PARAMS = Reference(
    name="convlab.conv_cost(..., bias=True).params",
    compute=_params,
    mistakes={
        "did you forget the biases? Each filter of each layer has one":
            _with(_params, bias=False),
        _LEFT_OUT: _flagged(_params, no_c_in=True),
        **{hint: _flagged(_params, **flags) for hint, flags in _HALF.items()},
        "you multiplied by the image size: a layer's weights are shared by every pixel, so its "
        "parameters do not depend on the image (its multiply-adds do)":
            lambda c_in, c_out, kernel_size, input_size, stride=1, padding=0, c_mid=None: _macs(
                c_in, c_out, kernel_size, input_size, stride, padding, c_mid),
        "you multiplied the weights by the image size: a layer's weights are shared by every "
        "pixel, so its parameters do not depend on the image (its multiply-adds do)":
            lambda c_in, c_out, kernel_size, input_size, stride=1, padding=0, c_mid=None: _macs(
                c_in, c_out, kernel_size, input_size, stride, padding, c_mid) + c_out + (
                0 if c_mid is None else c_mid),
        "a k x k kernel has k·k weights": _flagged(_params, k_weights=True),
    },
    hint="parameters of a layer = (output channels) x (weights per filter) + one bias per filter",
    integer=True,
)


# --- the price of a bottleneck: a multiple-choice "why" ----------------------------------------

WHY_BOTTLENECK = "v2-0a55fb24b49132f0"  # digest of the right option
WHY_BOTTLENECK_HINTS = {
    "v2-b23c136fecb57c2a": (
        "look at the receptive field: after the 1x1 layer the k x k layer still "
        "reads a k x k window, and every pixel of it carries information from all "
        "the input channels"),
    "v2-a2fed9e9903fa892": (
        "compare the shapes: a 1x1 convolution with stride 1 keeps H x W, so nothing "
        "spatial is lost between the two layers"),
    "v2-6ddf02fb895efaf2": (
        "the product of two matrices is one matrix, but can it be ANY matrix of that "
        "shape? Think of what its rank can be"),
}


# --- the task data of exercises 04 -------------------------------------------------------------


def _pixel_alternatives(x, weight, o, r, c, stride):
    """The product multisets of the by-hand mistakes of output ``(o, r, c)``."""
    alternatives = [_pixel_products(x, weight, o, (r, c)),              # the stride ignored
                    _pixel_products(x, weight, o, (c * stride, r * stride))]  # transposed
    alternatives += [_pixel_products(x, weight, other, (r * stride, c * stride))
                     for other in range(len(weight)) if other != o]
    alternatives += [_pixel_products(x, weight, o, ((r + dr) * stride, (c + dc) * stride))
                     for dr, dc in ((-1, 0), (1, 0), (0, -1), (0, 1))]
    return [a for a in alternatives if a is not None]


def _by_hand(rng):
    """A 3-channel 5x5 input, two 1x1 filters with biases, stride 2, one output to compute:
    drawn until every by-hand mistake gives other products than the right ones."""
    while True:
        x = rng.integers(-2, 5, size=(3, 5, 5)).astype(float)
        weight = rng.choice([-3, -2, -1, 1, 2, 3], size=(2, 3, 1, 1)).astype(float)
        bias = rng.choice([-3, -2, -1, 1, 2, 3], size=2, replace=False).astype(float)
        r, c = (int(a) for a in rng.choice(3, size=2, replace=False))
        o = int(rng.integers(0, 2))
        right = _pixel_products(x, weight, o, (2 * r, 2 * c))
        if all(a != right for a in _pixel_alternatives(x, weight, o, r, c, 2)):
            return {"x": x, "weight": weight, "bias": bias, "stride": 2, "position": (r, c),
                    "out_channel": o}


def _bottleneck_mistakes():
    """``{name: (reference, wrong)}`` of every cost mistake, for the tests of well-posedness."""
    found = {}
    for ref in (BOTTLENECK_MACS, BOTTLENECK_PARAMS):
        for n, (hint, wrong) in enumerate(ref._mistakes.items()):
            found[f"{ref.name} {n}: {hint[:30]}"] = (ref, wrong)
    return found


def _bottleneck(rng):
    """A strided k x k layer and its 1x1 bottleneck, drawn until every cost mistake (and the
    shape mistakes of the stride, the padding and the rounding) gives its own wrong answer."""
    while True:
        c_in = int(rng.choice([96, 128, 160, 192, 256]))
        c_mid = int(rng.choice([8, 16, 24, 32]))
        c_out = int(rng.choice([32, 48, 64, 96]))
        size = int(rng.choice([14, 16, 28, 32]))
        k = int(rng.choice([5, 7]))
        if c_mid >= c_out:  # a bottleneck narrows; and C_mid = C_out would hide a shape mistake
            continue
        args = (c_in, c_out, k, size)
        kwargs = {"stride": 2, "padding": (k - 1) // 2}
        fine = True
        for mid in (None, c_mid):
            for ref in (BOTTLENECK_MACS, BOTTLENECK_PARAMS):
                right = ref._compute(*args, **kwargs, c_mid=mid)
                values = []
                for wrong in ref._mistakes.values():
                    try:
                        values.append(wrong(*args, **kwargs, c_mid=mid))
                    except ValueError:
                        continue
                fine &= right not in values and len(set(values)) == len(values)
        if fine:
            return {"input_shape": (c_in, size, size), "c_in": c_in, "size": size,
                    "c_mid": c_mid, "c_out": c_out, "kernel_size": k, **kwargs}


def _data(rng):
    hand = _by_hand(rng)
    layer = _bottleneck(rng)
    c, k, n_out = int(rng.integers(2, 4)), int(rng.integers(2, 4)), int(rng.integers(3, 6))
    return {
        **hand,
        **{f"layer_{name}": value for name, value in layer.items()},
        # the find-the-bug demonstration: a batch of two (C, k, k) maps and a dense layer
        "fc_x": rng.integers(-3, 4, size=(2, c, k, k)).astype(float),
        "fc_weight": rng.integers(-2, 3, size=(n_out, c * k * k)).astype(float),
        "fc_bias": rng.integers(-3, 4, size=n_out).astype(float),
    }


EXERCISES = {"04": _data}
