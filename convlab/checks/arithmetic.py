"""References of chapter 05, convolution arithmetic: sizes with dilation, padding, receptive fields.

The typical mistakes of the chapter, each named by the reference(s) after it:

1. one output computed by hand with the window of stride 1, without the padding, without the
   bias (or with it once per channel), on one channel only, or with the kernel flipped:
   ``OUTPUT_ELEMENT`` (and ``check_work`` for the written sum);
2. the dilated kernel's span ``d(k-1)+1`` taken as ``d·k`` (one gap too many):
   ``OUTPUT_SIZE_DILATED``, ``SAME_PADDING``, ``RECEPTIVE_FIELD``, ``WINDOW_STARTS``;
3. the dilation ignored (the kernel's taps taken as adjacent): ``OUTPUT_SIZE_DILATED``,
   ``SAME_PADDING``, ``RECEPTIVE_FIELD``;
4. ceil instead of floor (a window that does not fit counted): ``OUTPUT_SIZE_DILATED``,
   ``WINDOW_STARTS``;
5. padding counted once instead of on each side, or the total given where the padding per side
   is asked (d2l counts it in total, PyTorch per side): ``OUTPUT_SIZE_DILATED``,
   ``SAME_PADDING``, ``WINDOW_STARTS``;
6. the ``+ 1`` forgotten (the first window, before any step, not counted):
   ``OUTPUT_SIZE_DILATED``, ``WINDOW_STARTS``;
7. ``/`` instead of ``//`` (a size as a float): ``OUTPUT_SIZE_DILATED`` (an integer reference);
8. a receptive field computed by adding kernel sizes (``k1 + k2``) instead of growing by
   ``(k-1)`` times the jump: ``RECEPTIVE_FIELD``;
9. a receptive field that ignores the jump, the product of the earlier layers' strides:
   ``RECEPTIVE_FIELD``;
10. a layer's own stride counted in its jump (the jump updated before the field grows):
    ``RECEPTIVE_FIELD``;
11. 'same' padding taken as ``k//2`` on each side when the stride is larger than 1 (TensorFlow's
    'SAME' pads only what its ``ceil(i/s)`` windows need), or the odd zero put at the start
    (TensorFlow puts it at the end, bottom and right): ``TF_SAME_PADS``;
12. a multi-branch (Inception) block's outputs added or counted once per branch instead of
    concatenated along the channels, the input's channels counted in, 'valid' sizes, channels
    last: ``INCEPTION_SHAPE``;
13. window starts counted in the unpadded input, or with a step of 1: ``WINDOW_STARTS``.

Task data avoid coincidences: ``EXERCISES["05"]`` draws numbers for which each of these
mistakes gives another answer than the right one, and than the mistakes listed before it.

``OUTPUT_SIZE`` (in ``basics``) checks the size without dilation; ``OUTPUT_SIZE_DILATED`` reuses
its mistakes on the dilated kernel's span.
"""

import math

import numpy as np

from ..arithmetic import conv_output_size, receptive_field
from ..conv import conv2d
from . import Reference, _with
from .basics import OUTPUT_SIZE

__all__ = [
    "INCEPTION_SHAPE",
    "OUTPUT_ELEMENT",
    "OUTPUT_SIZE_DILATED",
    "RECEPTIVE_FIELD",
    "SAME_PADDING",
    "TF_SAME_PADS",
    "WINDOW_STARTS",
]


# --- one output by hand ------------------------------------------------------------------------


def _element(x, weight, bias, position, stride=1, padding=0, flip=False, per_channel=1,
             channels=None):
    """Output ``position`` of one filter ``weight`` ``(C, kh, kw)`` with ``bias`` on ``x``
    ``(C, H, W)``; ``flip``, ``per_channel`` and ``channels`` make the usual mistakes."""
    x, weight = np.asarray(x, dtype=float), np.asarray(weight, dtype=float)
    keep = slice(None) if channels is None else slice(channels, channels + 1 or None)
    weight = np.flip(weight, axis=(-2, -1)) if flip else weight
    out = conv2d(x[keep], weight[None, keep], stride=stride, padding=padding)[0]
    return float(out[tuple(position)] + per_channel * bias)


OUTPUT_ELEMENT = Reference(
    name="convlab.conv2d",
    compute=lambda x, weight, bias, position, stride=1, padding=0: _element(
        x, weight, bias, position, stride, padding),
    mistakes={
        "did you ignore the stride? With stride={stride} the windows of neighbouring outputs "
        "start {stride} cells apart": _with(_element, stride=1),
        "did you forget the padding? The window is taken in the input with padding={padding} "
        "zeros on each side": _with(_element, padding=0),
        "did you forget the bias? A filter adds it once to each of its outputs":
            _with(_element, bias=0),
        "did you add the bias once per channel? A filter has one bias, added once":
            _with(_element, per_channel=2),
        "only the first channel is in your sum: a filter sums the products of every channel":
            _with(_element, channels=0),
        "only the last channel is in your sum: a filter sums the products of every channel":
            _with(_element, channels=-1),
        "did you flip the kernels? Deep learning's convolution multiplies the window by the "
        "kernel as it is": _with(_element, flip=True),
    },
    hint="find the window in the padded input, multiply it by the filter channel by channel, "
         "add everything and the bias",
)


# --- the output size with dilation ------------------------------------------------------------


def _output_size(i, k, stride=1, padding=0, dilation=1):
    return conv_output_size(i, k, stride=stride, padding=padding, dilation=dilation)


def _spanned(wrong, span):
    """A mistake of ``OUTPUT_SIZE`` (no dilation) made on the kernel span ``span(k, d)``."""
    def mistake(i, k, stride=1, padding=0, dilation=1):
        return wrong(i, span(k, dilation), stride, padding)

    return mistake


def _span(k, d):
    return d * (k - 1) + 1


def _plain_size(i, k, stride, padding):
    """``floor((i + 2p - k) / s) + 1`` for any ``k`` (no error when it does not fit)."""
    return (i + 2 * padding - k) // stride + 1


OUTPUT_SIZE_DILATED = Reference(
    name="convlab.conv_output_size",
    compute=_output_size,
    mistakes={
        "did you take the dilated kernel's span as dilation·k = {dilation}·{k}? Count the "
        "gaps: they lie between neighbouring taps, not after the last one":
            _spanned(_plain_size, lambda k, d: d * k),
        "did you ignore the dilation? dilation={dilation} spreads the {k} taps apart, so the "
        "kernel covers more of the input": _with(_output_size, dilation=1),
        **{hint: _spanned(wrong, _span) for hint, wrong in OUTPUT_SIZE._mistakes.items()},
    },
    hint="count the positions: the dilated kernel starts at 0 and moves by stride while its "
         "last tap stays inside the padded input of size i + 2·padding",
    examples=(((7, 3), {"dilation": 2}), ((5, 3), {"padding": 1}),
              ((224, 7), {"stride": 2, "padding": 3})),
    keywords=("stride", "padding", "dilation"),
    integer=True,
)


# --- padding that keeps the size ---------------------------------------------------------------


def _same_padding(k, dilation=1):
    """Per-side padding of PyTorch's 'same' for an odd span, stride 1: ``d(k-1)/2``."""
    total = dilation * (k - 1)
    if total % 2:
        raise ValueError("no symmetric 'same' padding: the total is odd")
    return total // 2


SAME_PADDING = Reference(
    name="the per-side padding of 'same' (stride 1)",
    compute=_same_padding,
    mistakes={
        "did you ignore the dilation? The padding must make room for the whole dilated "
        "kernel, not for {k} adjacent taps": _with(_same_padding, dilation=1),
        "that is the padding in total, over both sides (d2l's convention); PyTorch's "
        "padding, the course's, is per side":
            lambda k, dilation=1: dilation * (k - 1),
        "did you take the dilated kernel's span as dilation·k? The gaps lie between "
        "neighbouring taps, not after the last one": lambda k, dilation=1: dilation * k // 2,
    },
    hint="with stride 1 the output keeps the input's size when the padding on both sides "
         "together equals what the dilated kernel's span adds beyond one cell",
    integer=True,
)


def _tf_same_pads(i, k, stride=1):
    """TensorFlow's 'SAME' padding along one axis: ``(before, after)``, the odd zero after."""
    out = -(-i // stride)
    total = max((out - 1) * stride + k - i, 0)
    return np.array([total // 2, total - total // 2])


TF_SAME_PADS = Reference(
    name="TensorFlow's 'SAME' padding",
    compute=_tf_same_pads,
    mistakes={
        "that is the padding of a stride-1 'same', k//2 on each side (PyTorch's habit); with "
        "stride={stride}, TensorFlow pads only what its strided windows need":
            lambda i, k, stride=1: np.array([k // 2, k // 2]),
        "you put the odd zero before the input; TensorFlow puts it after (at the bottom and "
        "the right)": lambda i, k, stride=1: _tf_same_pads(i, k, stride)[::-1],
    },
    hint="first the output size 'SAME' promises, then the padded length its last window "
         "needs, then split the extra zeros, the odd one at the end",
)


# --- a multi-branch block ------------------------------------------------------------------------


def _inception_shape(input_shape, branches):
    """``(C_out, H, W)`` of branches ``(k, c_out)``, each 'same'-padded with stride 1, whose
    outputs are concatenated along the channels."""
    _, h, w = input_shape
    return (sum(c for _, c in branches), h, w)


def _valid_sizes(input_shape, branches):
    _, h, w = input_shape
    k = max(k for k, _ in branches)
    return (sum(c for _, c in branches), h - k + 1, w - k + 1)


INCEPTION_SHAPE = Reference(
    name="a multi-branch block's output shape",
    compute=_inception_shape,
    mistakes={
        "your channels come last; convlab and PyTorch write shapes channels first (C, H, W); "
        "TensorFlow's (H, W, C) is channels last":
            lambda input_shape, branches: _inception_shape(input_shape, branches)[1:]
            + _inception_shape(input_shape, branches)[:1],
        "did you keep the input's channels? The block's channels come from its branches' "
        "filters": lambda input_shape, branches: tuple(input_shape),
        "did you count the input's channels in? Only the branches' outputs are joined":
            lambda input_shape, branches: (input_shape[0] + sum(c for _, c in branches),)
            + tuple(input_shape[1:]),
        "each branch gives one channel per filter, not one channel":
            lambda input_shape, branches: (len(branches),) + tuple(input_shape[1:]),
        "did you add the branches' maps? Maps of different channel counts cannot be added; "
        "the block joins them": lambda input_shape, branches: (
            max(c for _, c in branches),) + tuple(input_shape[1:]),
        "these are the sizes without padding; every branch pads 'same', or its maps could not "
        "be joined with the others'": _valid_sizes,
    },
    hint="each branch keeps the height and width; the block joins the branches' maps along "
         "one axis",
)


# --- the receptive field of a stack --------------------------------------------------------------


def _field(layers, jump_first=False, dilated=True, jumps=True, span=None):
    """Receptive field of a stack of ``(k, s, d)`` layers; the flags make the usual mistakes."""
    size, jump = 1, 1
    for k, s, d in layers:
        d = d if dilated else 1
        grow = (span(k, d) - 1) if span else d * (k - 1)
        if jump_first:
            jump *= s
        size += grow * (jump if jumps else 1)
        if not jump_first:
            jump *= s
    return size


def _receptive_field(layers):
    return receptive_field([(k, s, 0, d) for k, s, d in layers])[-1].size


def _stack_case(rng):
    """A stack of 1 to 5 layers ``(k, s, d)``, as a tuple: ``check_function`` passes it as is."""
    layers = tuple((int(rng.integers(1, 8)), int(rng.integers(1, 4)), int(rng.integers(1, 4)))
                   for _ in range(int(rng.integers(1, 6))))
    return (layers,), {}


RECEPTIVE_FIELD = Reference(
    name="convlab.receptive_field",
    compute=_receptive_field,
    mistakes={
        "did you add the kernel sizes? Two 3x3 layers do not see 6 pixels: the second "
        "kernel's neighbouring taps share most of their fields":
            lambda layers: sum(k for k, _, _ in layers),
        "did you add the dilated kernels' spans? Neighbouring taps of the next layer see "
        "overlapping fields, so spans do not simply add":
            lambda layers: sum(d * (k - 1) + 1 for k, _, d in layers),
        "did you ignore the strides of the earlier layers? After a stride, neighbouring "
        "units of the next layer lie that many input pixels apart (the jump), so each tap adds "
        "more": _with(_field, jumps=False),
        "did you count a layer's own stride in its jump? A layer's stride spaces its "
        "*outputs*; its kernel's taps still sit the previous jump apart":
            _with(_field, jump_first=True),
        "did you ignore the dilation? A dilated kernel's taps are dilation·jump pixels apart":
            _with(_field, dilated=False),
        "did you take a dilated kernel's span as dilation·k? The gaps lie between taps, not "
        "after the last one": _with(_field, span=lambda k, d: d * k),
    },
    hint="start with one pixel and a jump of 1; a layer with a k-tap kernel widens the field "
         "by the distance, in input pixels, between its first and last tap",
    cases=lambda rng, keywords: _stack_case(rng),
    examples=(
        ((((3, 1, 1), (3, 1, 1)),), {}),
        ((((3, 1, 1), (3, 1, 1), (3, 1, 1)),), {}),
        ((((7, 2, 1), (3, 2, 1), (3, 1, 1), (3, 1, 1)),), {}),
        ((((3, 1, 1), (3, 1, 2), (3, 1, 4)),), {}),
    ),
    integer=True,
)


# --- where every window starts ------------------------------------------------------------------


def _starts(i, k, stride=1, padding=0, dilation=1):
    """Start, in the padded input, of each window along one axis: ``0, s, 2s, ...``."""
    return np.arange(_output_size(i, k, stride, padding, dilation)) * stride


def _counted(count):
    """Starts ``0, s, ...`` for ``count(room, s)`` windows, ``room`` the span's free cells."""
    def mistake(i, k, stride=1, padding=0, dilation=1, sides=2, span=_span):
        room = i + sides * padding - span(k, dilation)
        n = count(room, stride)
        if n < 1:
            raise ValueError("no window")
        return np.arange(n) * stride

    return mistake


WINDOW_STARTS = Reference(
    name="the windows of convlab.conv1d",
    compute=_starts,
    mistakes={
        "did you take the dilated window's span as dilation·k? The gaps lie between taps, "
        "not after the last one": _with(_counted(lambda room, s: room // s + 1),
                                        span=lambda k, d: d * k),
        "did you forget the padding? padding={padding} zeros lie on each side, and windows "
        "run over them": _with(_counted(lambda room, s: room // s + 1), padding=0),
        "did you pad one side only? padding={padding} adds zeros on *each* side":
            _with(_counted(lambda room, s: room // s + 1), sides=1),
        "your last window runs past the end of the padded input: a window that does not fit "
        "entirely is not used": _counted(lambda room, s: math.ceil(room / s) + 1),
        "your last window is missing: the first window is there before the kernel moves, and "
        "every window that fits counts": _counted(lambda room, s: room // s),
        "your starts are counted in the input without its padding; the contract counts from "
        "the first cell of the padded input": lambda i, k, stride=1, padding=0, dilation=1: (
            _starts(i, k, stride, padding, dilation) - padding),
        "did you step by 1? Neighbouring windows start stride={stride} cells apart":
            lambda i, k, stride=1, padding=0, dilation=1: np.arange(
                _output_size(i, k, 1, padding, dilation)),
    },
    hint="the windows start at 0, stride, 2·stride, ... in the padded input, as long as the "
         "window's last tap stays inside it",
    examples=(((5, 3), {"stride": 2, "padding": 1}), ((7, 3), {"stride": 2}),
              ((7, 3), {"dilation": 2}), ((8, 3), {"stride": 3, "padding": 1, "dilation": 2})),
    keywords=("stride", "padding", "dilation"),
)


def _window_case(rng, keywords):
    kwargs = {name: int(rng.integers(low, high)) for name, low, high in
              (("stride", 1, 5), ("padding", 0, 4), ("dilation", 1, 4)) if name in keywords}
    p, d = kwargs.get("padding", 0), kwargs.get("dilation", 1)
    i = int(rng.integers(1, 25))
    k = int(rng.integers(1, (i + 2 * p - 1) // d + 2))
    return (i, k), kwargs


WINDOW_STARTS = WINDOW_STARTS._replace(cases=_window_case)


# --- the task data of exercises 05 ---------------------------------------------------------------


def _first_to_name(reference, hints, *args, **kwargs):
    """Whether each mistake whose hint starts with one of ``hints`` gives another answer than
    the right one and than every mistake listed before it, so that its own hint is given."""
    try:
        right = np.asarray(reference._compute(*args, **kwargs), dtype=float)
    except ValueError:  # the kernel does not fit: not a task
        return False
    before = [right]
    for hint, wrong in reference._mistakes.items():
        try:
            value = np.asarray(wrong(*args, **kwargs), dtype=float)
        except (ValueError, IndexError):
            value = None
        if hint.startswith(hints):
            if value is None or any(v is not None and v.shape == value.shape
                                    and np.array_equal(v, value) for v in before):
                return False
        before.append(value)
    return True


def _draw(rng, make, reference):
    """Draw ``make(rng) -> (args, kwargs)`` until every mistake of ``reference`` is named."""
    while True:
        args, kwargs = make(rng)
        if _first_to_name(reference, reference.hints, *args, **kwargs):
            return args, kwargs


def _exercise_05(rng):
    """The numbers of exercises 05; another course seed gives other numbers of the same kind."""
    # Task 1: one output of a strided, padded, two-channel convolution with a bias
    edge = [(0, 1), (1, 0), (0, 0)]  # windows that reach the padding
    while True:
        x = rng.integers(-2, 5, size=(2, 5, 5))
        x[x == 0] = 1  # every product of the window shows which cells it took
        weight = rng.integers(-1, 3, size=(2, 3, 3))
        weight[weight == 0] = 2
        bias = float(rng.choice((-3, -2, -1, 1, 2, 3)))
        position = edge[int(rng.integers(len(edge)))]
        if _first_to_name(OUTPUT_ELEMENT, OUTPUT_ELEMENT.hints, x.astype(float),
                          weight.astype(float), bias, position, stride=2, padding=1):
            break

    # Task 2: two output sizes with dilation (stride 1, then a larger stride), and the padding
    # that keeps the size; together they show every mistake of the size formula
    wide = ("did you take the dilated", "did you ignore the dilation", "padding is counted on",
            "did you forget the + 1", "that is the size of 'full'")
    strided = ("did you round up", "did you forget the + 1")

    def size(rng, strides, dilations, paddings, hints):
        while True:
            i, k = int(rng.integers(11, 40)), int(rng.choice((3, 5)))
            kwargs = {"stride": int(rng.choice(strides)), "padding": int(rng.choice(paddings)),
                      "dilation": int(rng.choice(dilations))}
            if (_first_to_name(OUTPUT_SIZE_DILATED, hints, i, k, **kwargs)
                    and _output_size(i, k, **kwargs) >= 3):
                return {"i": i, "k": k, **kwargs}

    sizes = [size(rng, (1,), (3, 4), (2, 3), wide), size(rng, (3, 4), (2,), (0, 1, 2), strided)]
    (same_k,), same = _draw(rng, lambda r: ((int(r.choice((3, 5, 7))),),
                                            {"dilation": int(r.choice((2, 3, 4)))}),
                            SAME_PADDING)

    # Task 3: TensorFlow's 'SAME' with a stride, and a multi-branch block
    def tf(rng):
        return (int(rng.integers(9, 40)), int(rng.choice((3, 5, 7))),
                int(rng.choice((2, 3)))), {}

    tf_args, _ = _draw(rng, tf, TF_SAME_PADS)

    def block(rng):
        channels = int(rng.choice((64, 96, 128, 192, 256)))
        side = int(rng.choice((14, 17, 28, 35)))
        branches = ((1, int(rng.choice((32, 48, 64)))), (3, int(rng.choice((64, 96, 128)))),
                    (5, int(rng.choice((16, 24, 32)))))
        return ((channels, side, side), branches), {}

    (block_input, branches), _ = _draw(rng, block, INCEPTION_SHAPE)
    return {
        "x": x.astype(float), "weight": weight.astype(float), "bias": bias,
        "stride": 2, "padding": 1, "position": position,
        "sizes": sizes,
        "same_args": {"k": same_k, **same},
        "tf_args": dict(zip(("i", "k", "stride"), tf_args)),
        "block_input": block_input, "branches": branches,
    }


EXERCISES = {"05": _exercise_05}
