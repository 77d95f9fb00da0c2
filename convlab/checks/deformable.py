"""References and task data of chapter 14: deformable convolution · 可变形卷积.

The mistakes this chapter diagnoses (each a hint of a ``Reference`` below):

* bilinear interpolation by hand: the weights of the near and far pixels swapped (each
  neighbour weighted by its *distance* instead of by one minus it), the point read at
  ``(x, y)`` instead of ``(y, x)``, the nearest pixel taken (rounding), interpolated along one
  axis only, ``int()`` (truncation toward zero) taken for ``floor`` at a negative coordinate,
  a neighbour outside the image read as the border pixel (clamped) instead of 0, or the whole
  sample set to 0 as soon as one neighbour is outside;
* where a sampling point lands: the offset pair read as ``(dx, dy)`` (torchvision's pairs are
  ``(dy, dx)``), the padding not subtracted, the dilation or the stride ignored, the flat tap
  index ``k`` decoded column-major (``i = k % kh``) instead of row-major (``i = k // kw``);
* the offset tensor's shape without the 2 (one number per tap instead of a pair), without
  ``kh·kw`` (one offset per output position instead of per tap), with one offset field per
  input channel instead of per offset group, or with the input's height and width instead of
  the output's; the mask's shape with a 2 it does not have (one mask value per tap, not per
  coordinate);
* the parameters of the offset (and mask) branch: the masks forgotten, the 2 forgotten, the
  mask counted per coordinate, the bias forgotten, the input channels forgotten;
* the gradient of a bilinear sample w.r.t. its point: ``(d/dx, d/dy)`` returned in the wrong
  order, the interpolation weights of the other axis swapped, the sign flipped, or the slope
  of one pair of pixels only (not interpolated along the other axis);
* the deformable sampling of a whole layer: the offset pairs read as ``(dx, dy)``, all ``dy``
  read first then all ``dx`` (the wrong layout), the padding forgotten, the mask applied
  twice or not at all.

Each ``Reference`` is the right computation of a kind of answer with its usual mistakes; the
check functions of ``convlab.checks`` take one and name the mistake a wrong answer makes.

References: J. Dai et al., "Deformable Convolutional Networks", ICCV 2017; X. Zhu et al.,
"Deformable ConvNets v2: More Deformable, Better Results", CVPR 2019; the layouts of
``torchvision.ops.deform_conv2d``.
"""

import math

import numpy as np

from ..arithmetic import conv_cost, conv_output_size
from ..deform import deform_conv2d, deform_conv2d_backward
from . import Reference, _distinct, _with

__all__ = [
    "BILINEAR",
    "BILINEAR_GRAD",
    "BILINEAR_VALUE",
    "DEFORM_MASK_SHAPE",
    "DEFORM_OFFSET_SHAPE",
    "DEFORM_SAMPLES",
    "OFFSET_BRANCH_PARAMS",
    "SAMPLING_POINT",
]


# --- one bilinear sample ----------------------------------------------------------------------


def _sample(image, y, x):
    """``image`` ``(H, W)`` read at ``(y, x)`` by ``convlab.deform_conv2d`` (a 1x1 kernel)."""
    image = np.asarray(image, dtype=float)
    offset = np.array([y, x], dtype=float).reshape(2, 1, 1)
    stride = image.shape  # one output, at (0, 0)
    return float(deform_conv2d(image[None], offset, np.ones((1, 1, 1, 1)), stride=stride)[0, 0, 0])


def _bilinear(image, y, x, swap=False, far=False, nearest=False, along=None, trunc=False,
              clamp=False, strict=False):
    """A bilinear sample with the usual mistakes as switches (the right one with none)."""
    image = np.asarray(image, dtype=float)
    if swap:
        y, x = x, y
    h, w = image.shape
    if nearest:
        r, c = math.floor(y + 0.5), math.floor(x + 0.5)
        return float(image[r, c]) if 0 <= r < h and 0 <= c < w else 0.0
    if y <= -1 or y >= h or x <= -1 or x >= w:
        return 0.0
    y0, x0 = (int(y), int(x)) if trunc else (math.floor(y), math.floor(x))
    ly, lx = y - y0, x - x0
    if along == "x":
        ly = 0.0
    if along == "y":
        lx = 0.0
    if far:
        ly, lx = 1 - ly, 1 - lx
    total = 0.0
    for yy, xx, weight in ((y0, x0, (1 - ly) * (1 - lx)), (y0, x0 + 1, (1 - ly) * lx),
                           (y0 + 1, x0, ly * (1 - lx)), (y0 + 1, x0 + 1, ly * lx)):
        inside = 0 <= yy < h and 0 <= xx < w
        if strict and not inside and weight:
            return 0.0
        if clamp:
            total += weight * image[min(max(yy, 0), h - 1), min(max(xx, 0), w - 1)]
        elif inside:
            total += weight * image[yy, xx]
    return float(total)


_BILINEAR_MISTAKES = {
    "the near and far pixels' weights are swapped: a neighbour's weight is one minus its "
    "distance along each axis, so the nearest pixel weighs most": _with(_bilinear, far=True),
    "you read the point at (x, y): the coordinates are (y, x), row first, as the offsets' "
    "(dy, dx) pairs": _with(_bilinear, swap=True),
    "that is the nearest pixel's value: bilinear interpolation mixes the four pixels around "
    "the point": _with(_bilinear, nearest=True),
    "only the neighbours outside the image count 0; those inside still add their share":
        _with(_bilinear, strict=True),
    "you interpolated along the row only: the point lies between two rows as well":
        _with(_bilinear, along="x"),
    "you interpolated along the column only: the point lies between two columns as well":
        _with(_bilinear, along="y"),
    "int() truncates toward zero: for a negative coordinate the pixel above (or to the "
    "left) is one lower, floor()": _with(_bilinear, trunc=True),
    "a neighbour outside the image counts 0, not the value of the border pixel next to it":
        _with(_bilinear, clamp=True),
}

BILINEAR_VALUE = Reference(
    name="bilinear interpolation as convlab.deform_conv2d samples",
    compute=_sample,
    mistakes=_BILINEAR_MISTAKES,
    hint="find the four pixels around the point (floor of each coordinate and one more), "
         "weight each by (1 - its row distance)·(1 - its column distance), outside pixels 0",
)


def _bilinear_case(rng, keywords):
    h, w = (int(s) for s in rng.integers(2, 6, size=2))
    image = rng.integers(-5, 10, size=(h, w)).astype(float)
    y, x = rng.uniform(-1.4, h + 0.4), rng.uniform(-1.4, w + 0.4)
    if rng.random() < 0.2:  # on a pixel, or on a row or column of pixels
        y = float(rng.integers(0, h))
    return (image, float(y), float(x)), {}


_IMAGE = np.array([[1.0, 2, 3], [4, 5, 6], [7, 8, 9]])

BILINEAR = Reference(
    name="convlab.deform_conv2d's bilinear sampling",
    compute=_sample,
    mistakes=_BILINEAR_MISTAKES,
    hint="floor() each coordinate for the pixel above-left; weights (1 - ly)(1 - lx), "
         "(1 - ly)lx, ly(1 - lx), ly·lx; a neighbour outside the image counts 0, and a point "
         "with y <= -1, y >= H, x <= -1 or x >= W reads nothing",
    cases=_bilinear_case,
    examples=(((_IMAGE, 0.25, 1.5), {}), ((_IMAGE, -0.5, 0.0), {}), ((_IMAGE, 2.0, 2.0), {}),
              ((_IMAGE, 1.0, -1.0), {})),
)


# --- the gradient of one sample w.r.t. its point ------------------------------------------------


def _grad(image, y, x):
    """``(dv/dy, dv/dx)`` of the bilinear sample, by ``convlab.deform_conv2d_backward``."""
    image = np.asarray(image, dtype=float)
    offset = np.array([y, x], dtype=float).reshape(2, 1, 1)
    grads = deform_conv2d_backward(np.ones((1, 1, 1)), image[None], offset,
                                   np.ones((1, 1, 1, 1)), stride=image.shape)
    return grads.offset.reshape(2)


def _grad_with(image, y, x, swap=False, far=False, sign=1.0, one_pair=False):
    image = np.asarray(image, dtype=float)
    h, w = image.shape
    if y <= -1 or y >= h or x <= -1 or x >= w:
        return np.zeros(2)
    y0, x0 = math.floor(y), math.floor(x)
    ly, lx = y - y0, x - x0
    if far:
        ly, lx = 1 - ly, 1 - lx

    def pixel(r, c):
        return image[r, c] if 0 <= r < h and 0 <= c < w else 0.0

    v00, v01 = pixel(y0, x0), pixel(y0, x0 + 1)
    v10, v11 = pixel(y0 + 1, x0), pixel(y0 + 1, x0 + 1)
    if one_pair:
        dy, dx = v10 - v00, v01 - v00
    else:
        dy = (1 - lx) * (v10 - v00) + lx * (v11 - v01)
        dx = (1 - ly) * (v01 - v00) + ly * (v11 - v10)
    out = sign * np.array([dy, dx])
    return out[::-1].copy() if swap else out


def _grad_case(rng, keywords):
    h, w = (int(s) for s in rng.integers(2, 6, size=2))
    image = rng.integers(-5, 10, size=(h, w)).astype(float)
    # fractional coordinates (at an integer one the slope has a kink), some outside
    y = float(rng.integers(-1, h)) + float(rng.choice([0.1, 0.25, 0.4, 0.6, 0.7, 0.9]))
    x = float(rng.integers(-1, w)) + float(rng.choice([0.15, 0.3, 0.45, 0.55, 0.8]))
    return (image, y, x), {}


BILINEAR_GRAD = Reference(
    name="convlab.deform_conv2d_backward's offset gradient",
    compute=_grad,
    mistakes={
        "your pair is (d/dx, d/dy): return (d/dy, d/dx), in the offsets' (dy, dx) order":
            _with(_grad_with, swap=True),
        "the weights of the other axis are swapped: the pixel pair nearer the point weighs "
        "more": _with(_grad_with, far=True),
        "your slopes have the wrong sign: moving the point down (y larger) moves the sample "
        "toward the lower row's values": _with(_grad_with, sign=-1.0),
        "you took the difference of one pair of pixels only: the slope along y is "
        "interpolated along x between the left and the right pair (and likewise for x)":
            _with(_grad_with, one_pair=True),
    },
    hint="differentiate the four weights (1 - ly)(1 - lx), (1 - ly)lx, ly(1 - lx), ly·lx "
         "w.r.t. ly and lx; a point outside the image passes no gradient",
    cases=_grad_case,
    examples=(((_IMAGE, 0.25, 0.5), {}), ((_IMAGE, 1.6, 1.3), {}), ((_IMAGE, -0.5, 1.25), {}),
              ((_IMAGE, 2.5, 0.75), {})),
)


# --- where a point lands, and the shapes --------------------------------------------------------


def _point(position, tap, pair, kernel_size, stride=1, padding=0, dilation=1, swap=False,
           pad=True, dil=True, strided=True, column_major=False):
    kh, kw = kernel_size
    i, j = (tap % kh, tap // kh) if column_major else divmod(tap, kw)
    dy, dx = pair[::-1] if swap else pair
    s = stride if strided else 1
    p = padding if pad else 0
    d = dilation if dil else 1
    return np.array([position[0] * s - p + i * d + dy, position[1] * s - p + j * d + dx])


SAMPLING_POINT = Reference(
    name="convlab.deform_sampling_points",
    compute=_point,
    mistakes={
        "you read the pair as (dx, dy): torchvision's offsets are (dy, dx) pairs, row first":
            _with(_point, swap=True),
        "the padding moves the grid: the first window starts `padding` pixels before the "
        "input's first pixel": _with(_point, pad=False),
        "the taps of a dilated kernel are `dilation` pixels apart": _with(_point, dil=False),
        "the window of output (r, c) starts at r·stride, c·stride": _with(_point, strided=False),
        "tap k counts row by row: k = i·kw + j": _with(_point, column_major=True),
    },
    hint="the regular tap (r·s - p + i·d, c·s - p + j·d), then add the tap's (dy, dx)",
)


def _out(input_shape, weight_shape, stride, padding, dilation):
    return tuple(conv_output_size(i, k, stride, padding, dilation)
                 for i, k in zip(input_shape[2:], weight_shape[2:]))


def _offset_shape(input_shape, weight_shape, stride=1, padding=0, dilation=1, offset_groups=1,
                  pair=2, taps=True, per_channel=False, spatial="out"):
    kh, kw = weight_shape[2:]
    groups = input_shape[1] if per_channel else offset_groups
    size = (_out(input_shape, weight_shape, stride, padding, dilation) if spatial == "out"
            else tuple(input_shape[2:]))
    return (input_shape[0], pair * groups * (kh * kw if taps else 1)) + size


DEFORM_OFFSET_SHAPE = Reference(
    name="the shape of deform_conv2d's offset",
    compute=_offset_shape,
    mistakes={
        "each tap moves along two axes: an offset is a (dy, dx) pair":
            _with(_offset_shape, pair=1),
        "every tap of the kernel has its own offset, not every output position one":
            _with(_offset_shape, taps=False),
        "the channels of one offset group share a field: one field per group, not per input "
        "channel": _with(_offset_shape, per_channel=True),
        "there is an offset per output position: the offset's height and width are the "
        "output's": _with(_offset_shape, spatial="in"),
    },
    hint="(batch, numbers per output position, output height, output width): count the "
         "numbers one output position needs",
)


DEFORM_MASK_SHAPE = Reference(
    name="the shape of deform_conv2d's mask",
    compute=lambda *a, **k: _offset_shape(*a, pair=1, **k),
    mistakes={
        "a mask value scales a whole sample: one per tap, not one per coordinate":
            lambda *a, **k: _offset_shape(*a, **k),
        "every tap of the kernel has its own mask value":
            lambda *a, **k: _offset_shape(*a, pair=1, taps=False, **k),
        "there is a mask per output position: its height and width are the output's":
            lambda *a, **k: _offset_shape(*a, pair=1, spatial="in", **k),
        "the channels of one offset group share a mask: one per group, not per input channel":
            lambda *a, **k: _offset_shape(*a, pair=1, per_channel=True, **k),
    },
    hint="like the offset, but count the numbers one output position needs for the masks",
)


def _branch(c_in, k, offset_groups, outputs=3, bias=True, inputs=True):
    """The offset-and-mask branch: a k x k conv from C_in channels to ``outputs``·G·k² maps."""
    return conv_cost(c_in if inputs else 1, outputs * offset_groups * k * k, k, k,
                     bias=bias).params


OFFSET_BRANCH_PARAMS = Reference(
    name="convlab.conv_cost(...).params of the offset branch",
    compute=_branch,
    mistakes={
        "count the branch's output maps again: per tap and offset group it predicts a "
        "(dy, dx) pair and a mask": _with(_branch, outputs=2),
        "you counted one output map per tap: a (dy, dx) pair and a mask make more":
            _with(_branch, outputs=1),
        "one mask value per tap, not per coordinate": _with(_branch, outputs=4),
        "did you forget the biases? Every output map of the branch has one":
            _with(_branch, bias=False),
        "each output map of the branch is a filter over all C_in input channels":
            _with(_branch, inputs=False),
    },
    hint="the branch is an ordinary k x k convolution: count its output maps first, then "
         "its filters' weights and biases",
    integer=True,
)


# --- the sampling of a whole layer ------------------------------------------------------------


def _samples(image, offset, mask, swap=False, planar=False, shift=0.0, power=1):
    """The 9 modulated samples ``(9, H, W)`` of a 3x3 deformable layer, stride 1, padding 1;
    ``shift`` moves every point by ``(shift, shift)`` (1: the padding forgotten)."""
    image, offset = np.asarray(image, dtype=float), np.asarray(offset, dtype=float)
    mask = np.asarray(mask, dtype=float)
    if planar:  # all dy first, then all dx
        offset = offset.reshape(2, 9, *offset.shape[1:]).transpose(1, 0, 2, 3).reshape(
            offset.shape)
    if swap:
        offset = offset.reshape(9, 2, *offset.shape[1:])[:, ::-1].reshape(offset.shape)
    eye = np.eye(9).reshape(9, 1, 3, 3)
    return deform_conv2d(image[None], offset + shift, eye, padding=1, mask=mask ** power)


def _samples_case(rng, keywords):
    h, w = (int(s) for s in rng.integers(3, 7, size=2))
    image = rng.integers(-4, 10, size=(h, w)).astype(float)
    offset = np.round(rng.normal(scale=0.8, size=(18, h, w)), 2)
    mask = np.round(rng.uniform(0.1, 1.0, size=(9, h, w)), 2)
    return (image, offset, mask), {}


_OFF = np.zeros((18, 4, 4))
_OFF[0::2], _OFF[1::2] = 0.5, -0.25

DEFORM_SAMPLES = Reference(
    name="convlab.deform_conv2d (3x3, padding 1, one filter per tap)",
    compute=_samples,
    mistakes={
        "your points move along the wrong axes: the offsets come in (dy, dx) pairs, row first":
            _with(_samples, swap=True),
        "the offsets of tap k are at channels 2k (dy) and 2k + 1 (dx), pair by pair, not all "
        "dy then all dx": _with(_samples, planar=True),
        "did you forget the padding? The 3x3 window of output (r, c) starts at (r - 1, c - 1)":
            _with(_samples, shift=1.0),
        "the mask multiplies each sample once": _with(_samples, power=2),
        "the mask is missing: each sample is multiplied by its tap's mask value":
            _with(_samples, power=0),
    },
    hint="samples[k, r, c] = mask[k, r, c] · bilinear(image, r - 1 + i + dy, c - 1 + j + dx) "
         "with k = 3i + j and (dy, dx) = offset[2k], offset[2k + 1] at (r, c)",
    cases=_samples_case,
    examples=(((np.arange(16.0).reshape(4, 4), _OFF, np.full((9, 4, 4), 0.5)), {}),),
)


# --- the task data of exercises 14, drawn from a course seed ------------------------------------


_INSIDE = ("the near", "you read", "that is the nearest", "you interpolated")
_EDGE = ("the near", "that is the nearest", "int()", "a neighbour outside", "only the")


def _exercise_14(rng):
    fractions = [0.2, 0.3, 0.4, 0.6, 0.7, 0.8]
    while True:  # a 4 x 5 image, a point inside and a point within one pixel of the top edge
        image = rng.integers(0, 10, size=(4, 5)).astype(float)
        inside = (int(rng.integers(0, 3)) + float(rng.choice(fractions)),
                  int(rng.integers(0, 4)) + float(rng.choice(fractions)))
        edge = (-float(rng.choice([0.2, 0.3, 0.4])),
                int(rng.integers(0, 4)) + float(rng.choice(fractions)))
        if _distinct(BILINEAR_VALUE, image, *inside, among=_INSIDE) and _distinct(
                BILINEAR_VALUE, image, *edge, among=_EDGE) and all(
                abs(_sample(image, *p)) > 0 for p in (inside, edge)):
            break
    while True:
        k = int(rng.choice([3, 5]))
        layer = {"input_shape": (int(rng.integers(2, 9)), int(rng.choice([16, 32, 64])),
                                 int(rng.integers(20, 60)), int(rng.integers(20, 60))),
                 "weight_shape": (int(rng.choice([32, 64, 128])), 0, k, k),
                 "stride": int(rng.choice([1, 2])), "padding": int(rng.integers(0, 3)),
                 "dilation": int(rng.choice([1, 2])), "offset_groups": int(rng.choice([2, 4]))}
        layer["weight_shape"] = (layer["weight_shape"][0], layer["input_shape"][1], k, k)
        if _distinct(DEFORM_OFFSET_SHAPE, **layer) and _distinct(DEFORM_MASK_SHAPE, **layer):
            break
    while True:
        point = {"position": (int(rng.integers(1, 6)), int(rng.integers(1, 6))),
                 "tap": int(rng.integers(0, 9)),
                 "pair": (float(rng.choice([-1.5, -0.5, 0.25, 0.75, 1.5])),
                          float(rng.choice([-1.25, -0.75, 0.5, 1.25]))),
                 "kernel_size": (3, 3), "stride": 2, "padding": int(rng.integers(1, 3)),
                 "dilation": int(rng.choice([2, 3]))}
        if point["tap"] not in (0, 4, 8) and _distinct(SAMPLING_POINT, **point):
            break
    while True:
        branch = {"c_in": int(rng.choice([32, 64, 128, 256])), "k": int(rng.choice([3, 5])),
                  "offset_groups": int(rng.choice([1, 2, 4]))}
        if _distinct(OFFSET_BRANCH_PARAMS, **branch):
            break
    return {"image": image, "inside": inside, "edge": edge, "layer": layer, "point": point,
            "branch": branch}


EXERCISES = {"14": _exercise_14}
