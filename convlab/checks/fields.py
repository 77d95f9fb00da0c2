"""References and task data of chapter 13: receptive field and effective receptive field.

感受野与有效感受野.

The mistakes this chapter diagnoses (each a hint of a ``Reference`` below):

* the strides not multiplied through: each layer widens the field by ``k - 1`` input pixels
  whatever the strides below it (the jump forgotten): ``LAYER_FIELDS``, ``UNIT_FIELD``;
* a layer's own stride counted in its jump (the jump updated before the field grows):
  ``LAYER_FIELDS``;
* the ``+ 1`` counted per layer: each layer adds ``k`` (times the jump) instead of ``k - 1``,
  as if neighbouring layers did not share the centre pixel: ``LAYER_FIELDS``;
* the pooling layers forgotten (they widen the field and multiply the jump like any strided
  window): ``LAYER_FIELDS``;
* the dilation ignored (a dilated layer's taps are ``d`` jumps apart): ``LAYER_FIELDS``;
* the padding taken to widen the field (it only moves where the field sits):
  ``LAYER_FIELDS``;
* where a unit's field starts: the padding of a deep layer counted in input pixels without
  its jump, the padding ignored, or the unit's index not multiplied by the jump:
  ``UNIT_FIELD``, ``FIELD_START``;
* the effective receptive field taken as the theoretical one (its radius given as the
  field's half-width), or growing like ``n`` (the layers' spreads added instead of their
  variances), or the variance given for the radius, or a layer's spread taken as that of a
  continuous uniform ``k²/12``, or one layer's spread for the whole stack: ``ERF_RADIUS``;
* the ERF computed by backpropagation with the kernel flipped (the forward window's gather
  instead of the transposed scatter), or its magnitude, or normalised: ``ERF_BACKPROP``.

References: Araujo, Norris & Sim, "Computing Receptive Fields of Convolutional Neural
Networks", Distill 2019; Luo, Li, Urtasun & Zemel, "Understanding the Effective Receptive
Field in Deep Convolutional Neural Networks", NeurIPS 2016.
"""

import math

import numpy as np

from ..arithmetic import receptive_field
from ..grad import effective_receptive_field
from . import Reference, _distinct, _with

__all__ = ["ERF_BACKPROP", "ERF_RADIUS", "FIELD_START", "LAYER_FIELDS", "UNIT_FIELD"]


# --- the theoretical field of a stack, layer by layer ---------------------------------------------


def _sizes(layers, kinds, jumps=True, own_stride=False, plus_one=False, pools=True,
           dilated=True, padded=False):
    """Field after each layer of ``layers`` ``(k, s, p, d)``; the flags make the mistakes."""
    size, jump, sizes = 1, 1, []
    for (k, s, p, d), kind in zip(layers, kinds):
        if kind == "pool" and not pools:
            sizes.append(size)
            continue
        d = d if dilated else 1
        if own_stride:
            jump *= s
        grow = d * (k - 1) + (1 if plus_one else 0) + (2 * p if padded else 0)
        size += grow * (jump if jumps else 1)
        if not own_stride:
            jump *= s
        sizes.append(size)
    return np.array(sizes, dtype=float)


def _fields(layers, kinds):
    return np.array([rf.size for rf in receptive_field(layers)[1:]], dtype=float)


LAYER_FIELDS = Reference(
    name="convlab.receptive_field",
    compute=_fields,
    mistakes={
        "your fields grow by k - 1 per layer whatever the strides below: after a stride, "
        "neighbouring units of the next layer lie several input pixels apart (the jump), so "
        "each of its taps reaches further": _with(_sizes, jumps=False),
        "you counted a layer's own stride in its jump: a layer's stride spaces its outputs; "
        "its own taps still sit the previous jump apart": _with(_sizes, own_stride=True),
        "you added k per layer: neighbouring layers share a pixel (the centre of a window is "
        "one output of the layer below), so a layer adds k - 1 taps' worth": _with(
            _sizes, plus_one=True),
        "your pooling layers leave the field as it was: a pooling window gathers its inputs "
        "like any other window, and its stride multiplies the jump": _with(_sizes, pools=False),
        "you ignored the dilation: a dilated layer's taps are dilation jumps apart": _with(
            _sizes, dilated=False),
        "your padding widens the field: padding adds zeros around the input, it does not let "
        "a unit see more pixels": _with(_sizes, padded=True),
    },
    hint="start with one pixel and a jump of 1; each layer widens the field by the distance, "
         "in input pixels, between its first and last tap, then its stride multiplies the jump",
)


def _start(layers, unit, scaled=True, padded=True, moved=True):
    """First input pixel (along one axis, pixel 0 the first of the input, negative inside the
    padding) of the field of unit ``unit`` of the last layer; the flags make the mistakes."""
    first, jump = 0, 1
    for k, s, p, d in layers:
        if padded:
            first -= p * (jump if scaled else 1)
        jump *= s
    return first + unit * (jump if moved else 1)


def _field_start(layers, unit):
    rf = receptive_field(layers)[-1]
    return int(round(rf.start + unit * rf.jump - (rf.size - 1) / 2))


FIELD_START = Reference(
    name="the first input pixel of the unit's field",
    compute=_field_start,
    mistakes={
        "you subtracted each layer's padding as it is: a deep layer's padding is counted in "
        "its own input's units, each one the jump of the layers below apart in the input":
            _with(_start, scaled=False),
        "you left the padding out: the first unit's window starts inside the padding, before "
        "input pixel 0": _with(_start, padded=False),
        "your unit sits one input pixel per index from the first: neighbouring units of the "
        "last layer are its jump apart": _with(_start, moved=False),
    },
    hint="find where the field of unit 0 starts (each layer's padding, in input pixels, moves "
         "it back), then move it by the distance between neighbouring units",
    integer=True,
)


def _unit_field(layers, unit, scaled=True, padded=True, moved=True):
    first = _start(layers, unit, scaled, padded, moved)
    return np.array([first, first + receptive_field(layers)[-1].size - 1], dtype=float)


def _unit_field_right(layers, unit):
    first = _field_start(layers, unit)
    return np.array([first, first + receptive_field(layers)[-1].size - 1], dtype=float)


def _unit_case(rng, keywords):
    layers = tuple((int(rng.integers(1, 6)), int(rng.integers(1, 4)), int(rng.integers(0, 3)),
                    1) for _ in range(int(rng.integers(1, 5))))
    return (layers, int(rng.integers(0, 5))), {}


UNIT_FIELD = Reference(
    name="convlab.receptive_field (size, jump and start)",
    compute=_unit_field_right,
    mistakes={
        "the padding of a deep layer is counted in its own input's units: one of its zeros "
        "stands for a jump's worth of input pixels": _with(_unit_field, scaled=False),
        "your field ignores the padding: the first window starts inside it": _with(
            _unit_field, padded=False),
        "neighbouring units of the last layer are its jump apart, not one pixel": _with(
            _unit_field, moved=False),
    },
    hint="the field of unit q starts q jumps after that of unit 0, which starts the summed "
         "paddings (each in input pixels) before pixel 0; it is as wide as the receptive field",
    cases=_unit_case,
    examples=(
        ((((3, 1, 1, 1), (3, 1, 1, 1)), 0), {}),
        ((((3, 2, 1, 1), (3, 2, 1, 1), (3, 1, 1, 1)), 2), {}),
        ((((7, 2, 3, 1), (3, 2, 1, 1), (3, 1, 1, 1)), 3), {}),
    ),
)


# --- the effective receptive field ------------------------------------------------------------


def _radius(n, k, add="variance", per_layer=None, layers=None):
    """Spread of a sum of ``n`` offsets, each uniform on ``k`` taps; the keywords make the
    mistakes."""
    one = (k * k - 1) / 12 if per_layer is None else per_layer(k)
    n = n if layers is None else layers
    if add == "spread":
        return n * math.sqrt(one)
    if add == "none":
        return n * one
    return math.sqrt(n * one)


ERF_RADIUS = Reference(
    name="convlab.erf_radius of the stack's effective receptive field",
    compute=_radius,
    mistakes={
        "that is the half-width of the theoretical receptive field: the gradient fades long "
        "before its edge": lambda n, k: n * (k - 1) / 2,
        "your radius grows like the number of layers: independent offsets add their variances, "
        "not their spreads": _with(_radius, add="spread"),
        "that is a variance, in pixels squared; the radius is a spread, in pixels": _with(
            _radius, add="none"),
        "that is the spread of a continuous uniform offset; a layer's offset takes only k "
        "values": _with(_radius, per_layer=lambda k: k * k / 12),
        "that is one layer's spread; the offsets of all the layers add up": _with(
            _radius, layers=1),
    },
    hint="one layer moves a path by one of k equally likely offsets; the offsets of the layers "
         "are independent and add up",
)


def _backprop(kernels, flip=False, magnitude=False, normalise=False):
    """``effective_receptive_field`` over the field (valid padding); the keywords make the
    mistakes."""
    kernels = [np.flip(np.asarray(k, dtype=float)) if flip else np.asarray(k, dtype=float)
               for k in kernels]
    size = [1 + sum(k.shape[a] - 1 for k in kernels) for a in (0, 1)]
    erf = effective_receptive_field(kernels, size, padding="valid")
    if magnitude:
        erf = np.abs(erf)
    if normalise:
        erf = erf / np.abs(erf).sum()
    return erf


def _backprop_case(rng, keywords):
    n = int(rng.integers(1, 5))
    kernels = tuple(rng.integers(-3, 4, size=(int(rng.integers(1, 5)), int(rng.integers(1, 5))))
                    .astype(float) for _ in range(n))
    return (kernels,), {}  # a tuple: check_function would turn a list into one array


_K = (np.array([[1.0, 2.0, 0.0], [0.0, -1.0, 3.0], [1.0, 0.0, 1.0]]),
      np.array([[2.0, -1.0], [1.0, 1.0]]))

ERF_BACKPROP = Reference(
    name="convlab.effective_receptive_field",
    compute=lambda kernels: _backprop(kernels),
    mistakes={
        "your map is turned by 180 degrees: did you flip a kernel? Backward, each output "
        "scatters its gradient onto its window, each pixel times the weight it was multiplied "
        "by going forward": _with(_backprop, flip=True),
        "your map has no negative values: the effective receptive field here is the gradient "
        "itself, signs included": _with(_backprop, magnitude=True),
        "your map is normalised; return the gradient as backpropagation gives it":
            _with(_backprop, normalise=True),
    },
    hint="start from a 1 x 1 gradient of 1 and go down the stack from the last layer: each "
         "gradient value adds itself, times the kernel, onto the window it came from",
    cases=_backprop_case,
    examples=(((_K[:1],), {}), ((_K,), {}), (((np.ones((3, 3)),) * 3,), {}),
              (((np.array([[1.0, -2.0, 3.0]]), np.array([[1.0], [2.0]])),), {})),
)


# --- the task data of exercises 13, drawn from a course seed ------------------------------------


def _layer_table(rng):
    """Five or six layers: convolutions (one dilated, one strided) and pooling."""
    layers = [("conv", int(rng.choice([3, 5, 7])), 1, None, 1),
              ("pool", 2, 2, 0, 1),
              ("conv", 3, 1, None, 2),
              ("conv", 3, int(rng.choice([1, 2])), None, 1),
              ("pool", int(rng.choice([2, 3])), 2, 0, 1)]
    if rng.random() < 0.5:
        layers.insert(int(rng.integers(1, 4)), ("conv", 3, 1, None, 1))
    return [(kind, k, s, d * (k - 1) // 2 if p is None else p, d) for kind, k, s, p, d in layers]


def _exercise_13(rng):
    while True:
        table = _layer_table(rng)
        layers = tuple((k, s, p, d) for _, k, s, p, d in table)
        kinds = tuple(kind for kind, *_ in table)
        unit = int(rng.integers(1, 4))
        if _distinct(LAYER_FIELDS, layers, kinds) and _distinct(FIELD_START, layers, unit):
            break
    while True:
        n, k = int(rng.integers(5, 13)), int(rng.choice([5, 7]))  # the lesson uses 3x3
        if _distinct(ERF_RADIUS, n, k):
            break
    return {"table": table, "layers": layers, "kinds": kinds, "unit": unit,
            "depth": n, "kernel": k}


EXERCISES = {"13": _exercise_13}
