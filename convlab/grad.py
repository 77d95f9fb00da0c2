"""Backward passes of convolution, like ``torch.nn.grad.conv{1,2,3}d_input`` / ``_weight``.

For ``y = conv(x, w)`` and an upstream gradient ``g = dL/dy``:

* ``dL/dx`` is the *transposed convolution* of ``g`` with the same weight: every input pixel
  collects the gradient of each output its window touched. That is why transposed convolution
  exists in every framework, and why the effective receptive field (chapter 13) is computed with
  it.
* ``dL/dw`` correlates the input with ``g``: the windows of ``x`` weighted by ``g`` and summed
  over the batch and every output position.
"""

import math

import numpy as np

from . import _fast
from . import _validate as v
from .conv import _conv_transpose, _doc, conv2d

__all__ = [
    "conv1d_input", "conv2d_input", "conv3d_input",
    "conv1d_weight", "conv2d_weight", "conv3d_weight",
    "effective_receptive_field", "erf_radius",
]


def _check(fn, nd, weight_shape, c_in, grad_output, stride, padding, dilation, groups, spatial):
    """Validate shared arguments; return ``(stride, padding, dilation, groups)`` as tuples."""
    if grad_output.ndim != nd + 2:
        raise ValueError(f"{fn}: grad_output must be {nd + 2}-D (N, C_out, ...), "
                         f"got shape {grad_output.shape}")
    groups = v.int_value(fn, "groups", groups, 1)
    c_out = weight_shape[0]
    v.groups_divide(fn, groups, C_in=c_in, C_out=c_out)
    v.weight_channels(fn, c_in, weight_shape, groups)
    if grad_output.shape[1] != c_out:
        raise ValueError(f"{fn}: grad_output has {grad_output.shape[1]} channels but the weight "
                         f"has {c_out} output channels")
    stride = v.int_tuple(fn, "stride", stride, nd, 1)
    dilation = v.int_tuple(fn, "dilation", dilation, nd, 1)
    padding = v.int_tuple(fn, "padding", padding, nd, 0)
    k = tuple(weight_shape[2:])
    out = v.output_sizes(fn, [i + 2 * p for i, p in zip(spatial, padding)], k, stride, dilation)
    if tuple(grad_output.shape[2:]) != out:
        raise ValueError(f"{fn}: grad_output has spatial size {tuple(grad_output.shape[2:])} but "
                         f"the convolution produces {out}")
    return stride, padding, dilation, groups


def _same_batch(fn, grad_output, batch, name):
    if grad_output.shape[0] != batch:
        raise ValueError(f"{fn}: grad_output has batch size {grad_output.shape[0]} but {name} "
                         f"has {batch}")


def _input_grad(fn, nd, input_size, weight, grad_output, stride, padding, dilation, groups):
    weight = v.array(fn, "weight", weight)
    grad_output = v.array(fn, "grad_output", grad_output)
    v.weight_rank(fn, weight, nd, transposed=False)
    input_size = v.shape_tuple(fn, "input_size", input_size, nd + 2, "(N, C_in, ...)",
                               empty_batch=True)
    stride, padding, dilation, groups = _check(fn, nd, weight.shape, input_size[1], grad_output,
                                               stride, padding, dilation, groups, input_size[2:])
    _same_batch(fn, grad_output, input_size[0], "input_size")
    # The conv's floor drops up to s-1 trailing input positions; output_padding gives them back.
    k = weight.shape[2:]
    full = [(o - 1) * s - 2 * p + d * (kk - 1) + 1
            for o, s, p, d, kk in zip(grad_output.shape[2:], stride, padding, dilation, k)]
    output_padding = [i - f for i, f in zip(input_size[2:], full)]
    dtype = v.float_dtype(weight, grad_output)
    v.fits(fn, dtype, ("the output", input_size))
    return _conv_transpose(grad_output.astype(dtype, copy=False), weight.astype(dtype, copy=False),
                           stride, padding, output_padding, groups, dilation)


def _weight_grad(fn, nd, x, weight_size, grad_output, stride, padding, dilation, groups):
    x = v.array(fn, "input", x)
    grad_output = v.array(fn, "grad_output", grad_output)
    if x.ndim != nd + 2:
        raise ValueError(f"{fn}: input must be {nd + 2}-D (N, C_in, ...), got shape {x.shape}")
    weight_size = v.shape_tuple(fn, "weight_size", weight_size, nd + 2,
                                "(C_out, C_in/groups, ...)")
    stride, padding, dilation, groups = _check(fn, nd, weight_size, x.shape[1], grad_output,
                                               stride, padding, dilation, groups, x.shape[2:])
    _same_batch(fn, grad_output, x.shape[0], "input")
    dtype = v.float_dtype(x, grad_output)
    v.fits(fn, dtype, ("the output", weight_size),
           *v.padded_input(x.shape, [(p, p) for p in padding]))
    return _fast.conv_weight(x.astype(dtype, copy=False), padding,
                             grad_output.astype(dtype, copy=False), weight_size, stride,
                             dilation, groups)


_INPUT_DOC = """Gradient of ``conv{nd}d`` w.r.t. its input, like ``torch.nn.grad.conv{nd}d_input``.

    input_size: the input's full shape ``(N, C_in, {sp})``; weight ``(C_out, C_in/groups, {kk})``;
    grad_output ``(N, C_out, {so})``. Returns ``(N, C_in, {sp})``: the transposed convolution
    of ``grad_output`` with ``weight`` (same stride, padding, dilation, groups), with
    ``output_padding`` chosen so the result has ``input_size``.
    """

_WEIGHT_DOC = """Gradient of ``conv{nd}d`` w.r.t. its weight, as ``torch.nn.grad.conv{nd}d_weight``.

    input ``(N, C_in, {sp})``; weight_size ``(C_out, C_in/groups, {kk})``;
    grad_output ``(N, C_out, {so})``. Returns an array of ``weight_size``:
    ``dw[o, c, j] = sum_{{n, p}} grad_output[n, o, p] * input_padded[n, c, p*stride + j*dilation]``.
    """


def conv1d_input(input_size, weight, grad_output, stride=1, padding=0, dilation=1, groups=1):
    return _input_grad("conv1d_input", 1, input_size, weight, grad_output, stride, padding,
                       dilation, groups)


def conv2d_input(input_size, weight, grad_output, stride=1, padding=0, dilation=1, groups=1):
    return _input_grad("conv2d_input", 2, input_size, weight, grad_output, stride, padding,
                       dilation, groups)


def conv3d_input(input_size, weight, grad_output, stride=1, padding=0, dilation=1, groups=1):
    return _input_grad("conv3d_input", 3, input_size, weight, grad_output, stride, padding,
                       dilation, groups)


def conv1d_weight(input, weight_size, grad_output, stride=1, padding=0, dilation=1, groups=1):
    return _weight_grad("conv1d_weight", 1, input, weight_size, grad_output, stride, padding,
                        dilation, groups)


def conv2d_weight(input, weight_size, grad_output, stride=1, padding=0, dilation=1, groups=1):
    return _weight_grad("conv2d_weight", 2, input, weight_size, grad_output, stride, padding,
                        dilation, groups)


def conv3d_weight(input, weight_size, grad_output, stride=1, padding=0, dilation=1, groups=1):
    return _weight_grad("conv3d_weight", 3, input, weight_size, grad_output, stride, padding,
                        dilation, groups)


for _nd, (_fi, _fw) in enumerate([(conv1d_input, conv1d_weight), (conv2d_input, conv2d_weight),
                                   (conv3d_input, conv3d_weight)], 1):
    _fi.__doc__ = _doc(_INPUT_DOC, _fi.__name__, _nd)
    _fw.__doc__ = _doc(_WEIGHT_DOC, _fw.__name__, _nd)
del _nd, _fi, _fw


def effective_receptive_field(kernels, input_size, stride=1, dilation=1, padding="same",
                              relu=False, input=None):
    """Gradient of the centre output pixel of a stack of convolutions w.r.t. its input.

    The effective receptive field (Luo et al., 2016): how much each input pixel moves the centre
    output. ``kernels`` is a sequence of 2-D kernels ``(kh, kw)`` (one channel); ``stride``,
    ``dilation`` are ints or one per layer; ``padding`` an int, one per layer, ``'valid'`` (0),
    or ``'same'`` for ``dilation*(k-1)//2`` per side, with ``k`` the kernel's size along each
    axis (``kh`` for rows, ``kw`` for columns). An average pooling layer is the kernel
    ``np.full((s, s), 1 / s**2)`` with stride ``s``.

    With ``relu=True`` a ReLU follows every layer but the last, and the gradient depends on
    the input: ``input`` ``(H, W)`` is run forward and each ReLU passes the gradient only where
    its input was positive. Without it the stack is linear and ``input`` is not needed.

    Returns ``(H, W)``, the input's size: a one-hot gradient at the centre output,
    backpropagated with ``conv2d_input`` (a transposed convolution) layer by layer.
    """
    fn = "effective_receptive_field"
    try:
        kernels = list(kernels)
    except TypeError:
        raise ValueError(f"{fn}: kernels must be a sequence of 2-D kernels (kh, kw), "
                         f"got {kernels!r}") from None
    n = len(kernels)
    if n == 0:
        raise ValueError(f"{fn}: give at least one kernel")
    weights = []
    for number, k in enumerate(kernels, 1):
        w = v.array(fn, f"kernel {number}", k)
        if w.ndim != 2:
            raise ValueError(f"{fn}: each kernel must be 2-D (kh, kw), got shape {w.shape}")
        weights.append(w[None, None].astype(np.float64))

    def per_layer(name, value):
        values = list(value) if isinstance(value, (list, tuple)) else [value] * n
        if len(values) != n:
            raise ValueError(f"{fn}: {name} needs one value per layer ({n}), got {len(values)}")
        return values

    strides = [v.int_value(fn, "stride", s, 1) for s in per_layer("stride", stride)]
    dilations = [v.int_value(fn, "dilation", d, 1) for d in per_layer("dilation", dilation)]
    if padding == "same":
        paddings = [tuple(d * (k - 1) // 2 for k in w.shape[2:])
                    for w, d in zip(weights, dilations)]
    elif padding == "valid":
        paddings = [(0, 0)] * n
    elif isinstance(padding, str):
        raise ValueError(f"{fn}: padding must be an int, one int per layer, 'same' or 'valid', "
                         f"got {padding!r}")
    else:
        paddings = [(p, p) for p in (v.int_value(fn, "padding", p, 0)
                                     for p in per_layer("padding", padding))]
    shapes = [(1, 1) + tuple(v.int_tuple(fn, "input_size", input_size, 2, 1))]
    for w, s, p, d in zip(weights, strides, paddings, dilations):
        padded = [i + 2 * pp for i, pp in zip(shapes[-1][2:], p)]
        shapes.append((1, 1) + v.output_sizes(fn, padded, w.shape[2:], (s, s), (d, d)))
    v.fits(fn, np.float64, ("a layer's gradient", max(shapes, key=math.prod)))
    masks = [None] * n  # masks[l]: where the ReLU after layer l let its input through
    if relu:
        if input is None:
            raise ValueError(f"{fn}: with relu=True the gradient depends on the input; give "
                             f"input, an array of shape {shapes[0][2:]}")
        h = v.array(fn, "input", input).astype(np.float64)
        if h.shape != shapes[0][2:]:
            raise ValueError(f"{fn}: input must have the shape input_size {shapes[0][2:]}, "
                             f"got {h.shape}")
        h = h[None, None]
        for number, (w, s, p, d) in enumerate(zip(weights, strides, paddings, dilations)):
            h = conv2d(h, w, stride=s, padding=p, dilation=d)
            if number < n - 1:
                masks[number] = h > 0
                h = np.maximum(h, 0.0)
    elif input is not None:
        raise ValueError(f"{fn}: input is only used with relu=True (a linear stack's gradient "
                         f"does not depend on it)")
    grad = np.zeros(shapes[-1])
    grad[0, 0, shapes[-1][2] // 2, shapes[-1][3] // 2] = 1.0
    for w, shape, s, p, d, mask in reversed(list(zip(weights, shapes[:-1], strides, paddings,
                                                    dilations, [None] + masks[:-1]))):
        grad = conv2d_input(shape, w, grad, s, p, d)
        if mask is not None:
            grad = grad * mask
    return grad[0, 0]


def erf_radius(erf):
    """The radius of an effective receptive field: the standard deviation, in pixels, of
    ``|erf|`` read as a distribution over the rows.

    erf ``(H, W)``, e.g. ``effective_receptive_field(...)``. Returns a float
    ``sqrt(sum_r (r - mean)^2 m_r / sum_r m_r)`` with ``m_r`` the sum of ``|erf|`` over row
    ``r``. For ``n`` stacked ``k``-tap uniform kernels it is ``sqrt(n (k^2 - 1) / 12)``: the
    spread of a sum of ``n`` independent uniform offsets.
    """
    fn = "erf_radius"
    erf = v.array(fn, "erf", erf)
    if erf.ndim != 2:
        raise ValueError(f"{fn}: erf must be 2-D (H, W), got shape {erf.shape}")
    mass = np.abs(erf).sum(axis=1)
    if not mass.sum() > 0:
        raise ValueError(f"{fn}: erf is zero everywhere: no input pixel moves the output")
    rows = np.arange(erf.shape[0])
    mean = (rows * mass).sum() / mass.sum()
    return float(np.sqrt(((rows - mean) ** 2 * mass).sum() / mass.sum()))
