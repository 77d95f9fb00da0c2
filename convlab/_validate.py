"""Argument checks shared by every op: validate once at the boundary, in the learner's terms.

Each helper raises ``ValueError`` (``TypeError`` for data that is not numbers) with a message
that names the function, the argument, the value and what was expected. The math below the
boundary trusts its input.
"""

import math
import numbers
import os

import numpy as np

_SPATIAL = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}

# NumPy counts elements and bytes in intp: no size, stride or array goes beyond it
INDEX_MAX = int(np.iinfo(np.intp).max)


def _physical_memory():
    """This machine's memory in bytes (NumPy's index range where the system does not say)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, OSError, ValueError):
        return INDEX_MAX


# the most the arrays of one call may take together (``fits``)
MEMORY = _physical_memory()


def spatial_names(nd):
    """Names of the spatial axes for ``nd`` dimensions, e.g. ``('H', 'W')``."""
    return _SPATIAL[nd]


def array(fn, name, value):
    """``value`` as a real-valued ndarray (never a view that could be written through)."""
    try:
        arr = np.asarray(value)
    except ValueError:
        raise ValueError(
            f"{fn}: {name} is a ragged nested list (rows of different lengths): "
            f"every row must have the same length"
        ) from None
    if arr.dtype.kind not in "biuf":
        raise TypeError(
            f"{fn}: {name} must hold real numbers, got an array of dtype {arr.dtype}"
        )
    return arr


def plain(fn, name, value, axes):
    """``value`` as a real array with exactly the axes ``axes`` (no batch or channel axes)."""
    arr = array(fn, name, value)
    if arr.ndim != len(axes):
        raise ValueError(
            f"{fn}: {name} must be a {len(axes)}-D array ({', '.join(axes)}), got shape {arr.shape}"
        )
    if 0 in arr.shape:
        raise ValueError(f"{fn}: {name} is empty, shape {arr.shape}")
    return arr


def float_dtype(*arrays):
    """The dtype of a result: the inputs' float dtype (float32 stays float32), else float64."""
    dtype = np.result_type(*arrays)
    return dtype if dtype.kind == "f" else np.dtype(np.float64)


def int_value(fn, name, value, low):
    """A single int ``>= low`` (and inside NumPy's index range)."""
    if type(value) is int and low <= value <= INDEX_MAX:  # the common case: it is per call
        return value
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{fn}: {name} must be an int, got {value!r}")
    if value < low:
        raise ValueError(f"{fn}: {name} must be >= {low}, got {value}")
    if value > INDEX_MAX:
        raise ValueError(f"{fn}: {name} must be at most 2**{INDEX_MAX.bit_length()} - 1 "
                         f"(NumPy's index range), got {value}")
    return int(value)


def shape_tuple(fn, name, value, length, layout, empty_batch=False):
    """A full array shape: ``length`` positive ints, e.g. ``(N, C_in, H, W)``.

    ``empty_batch``: the first entry, a batch size, may be 0 (as in PyTorch).
    """
    if not isinstance(value, (tuple, list)) or len(value) != length:
        raise ValueError(f"{fn}: {name} must be a shape {layout} of {length} ints, got {value!r}")
    lows = [0 if empty_batch else 1] + [1] * (length - 1)
    return tuple(int_value(fn, name, s, low) for s, low in zip(value, lows))


def flag(fn, name, value):
    """``True`` or ``False`` (NumPy's bools too), as a bool."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise ValueError(f"{fn}: {name} must be True or False, got {value!r}")


def int_tuple(fn, name, value, n, low):
    """An int or a tuple of ``n`` ints, each ``>= low``, as a tuple of ``n`` ints."""
    if isinstance(value, (tuple, list)):
        if len(value) != n:
            raise ValueError(
                f"{fn}: {name} must be an int or a tuple of {n} ints "
                f"({', '.join(_SPATIAL.get(n, ()))}), got {tuple(value)!r} of length {len(value)}"
            )
        values = tuple(value)
    else:
        values = (value,) * n
    return tuple(int_value(fn, name, v, low) for v in values)


def padding_pairs(fn, padding, kernel_size, stride, dilation):
    """Per-side padding ``((lo, hi), ...)`` from an int, a tuple, ``'valid'`` or ``'same'``.

    ``'same'`` follows PyTorch: total ``d*(k-1)``, the odd one extra on the high side.
    """
    n = len(kernel_size)
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * n
        if padding == "same":
            if any(s != 1 for s in stride):
                raise ValueError(
                    f"{fn}: padding='same' needs stride 1 (the output could not keep the input's "
                    f"size otherwise), got stride={stride}"
                )
            totals = [d * (k - 1) for k, d in zip(kernel_size, dilation)]
            return tuple((t // 2, t - t // 2) for t in totals)
        raise ValueError(
            f"{fn}: padding must be an int, a tuple of ints, 'valid' or 'same', got {padding!r}"
        )
    return tuple((p, p) for p in int_tuple(fn, "padding", padding, n, 0))


def batched(fn, name, x, nd):
    """``x`` with a batch axis, and whether the caller gave one.

    Convolution inputs are ``(N, C, *spatial)`` or, unbatched as in PyTorch, ``(C, *spatial)``.
    """
    axes = ", ".join(_SPATIAL[nd])
    if x.ndim == nd + 2:
        return x, True
    if x.ndim == nd + 1:
        return x[None], False
    hint = " (add axes with x[None, None] for a single image)" if x.ndim == nd else ""
    raise ValueError(
        f"{fn}: {name} must be {nd + 1}-D (C, {axes}) or {nd + 2}-D (N, C, {axes}), "
        f"got shape {x.shape}{hint}"
    )


def weight_rank(fn, weight, nd, transposed):
    """Check that a weight is ``(C_out, C_in/groups, *k)`` (or the transposed layout)."""
    axes = ", ".join("k" + a for a in _SPATIAL[nd])
    layout = "C_in, C_out/groups" if transposed else "C_out, C_in/groups"
    if weight.ndim != nd + 2:
        raise ValueError(
            f"{fn}: weight must be {nd + 2}-D ({layout}, {axes}), got shape {weight.shape}"
        )
    if 0 in weight.shape:
        raise ValueError(f"{fn}: weight has an empty axis, shape {weight.shape}")


def bias_vector(fn, bias, channels):
    """``None`` or a 1-D array of ``channels`` values."""
    if bias is None:
        return None
    bias = array(fn, "bias", bias)
    if bias.ndim != 1 or bias.shape[0] != channels:
        raise ValueError(
            f"{fn}: bias must have shape ({channels},), one value per output channel, "
            f"got shape {bias.shape}"
        )
    return bias


def groups_divide(fn, groups, **channels):
    """Check that ``groups`` divides every named channel count."""
    for name, count in channels.items():
        if count % groups:
            raise ValueError(
                f"{fn}: groups={groups} must divide {name}={count} "
                f"(each group takes {name}/groups channels)"
            )


def output_sizes(fn, padded, kernel_size, stride, dilation):
    """Output size along each axis of a padded input; a clear error if the kernel does not fit."""
    sizes = []
    for axis, (i, k, s, d) in enumerate(zip(padded, kernel_size, stride, dilation)):
        span = d * (k - 1) + 1
        if span > i:
            name = _SPATIAL[len(padded)][axis]
            extra = f" (kernel {k} with dilation {d})" if d > 1 else ""
            raise ValueError(
                f"{fn}: the kernel spans {span}{extra} along {name} but the padded input is only "
                f"{i} long: use a smaller kernel or more padding"
            )
        sizes.append((i - span) // s + 1)
    return tuple(sizes)


def weight_channels(fn, c_in, weight_shape, groups):
    """The input's channels must be what the weight expects: ``weight.shape[1] * groups``."""
    if c_in != weight_shape[1] * groups:
        raise ValueError(
            f"{fn}: input has {c_in} channels but weight expects {weight_shape[1] * groups} "
            f"(weight.shape[1] * groups = {weight_shape[1]} * {groups})"
        )


def conv_arguments(fn, nd, x, weight, bias, stride, padding, dilation, groups):
    """Every check of a convolution's arguments, in one order for every op that takes them.

    Returns ``(x, was_batched, weight, bias, stride, pairs, dilation, groups, out)``: ``x``
    batched, tuples for stride and dilation, per-side padding ``pairs``, the output size ``out``.
    """
    x = array(fn, "input", x)
    weight = array(fn, "weight", weight)
    x, was_batched = batched(fn, "input", x, nd)
    weight_rank(fn, weight, nd, transposed=False)
    groups = int_value(fn, "groups", groups, 1)
    groups_divide(fn, groups, C_in=x.shape[1], C_out=weight.shape[0])
    weight_channels(fn, x.shape[1], weight.shape, groups)
    bias = bias_vector(fn, bias, weight.shape[0])
    k = weight.shape[2:]
    stride = int_tuple(fn, "stride", stride, nd, 1)
    dilation = int_tuple(fn, "dilation", dilation, nd, 1)
    pairs = padding_pairs(fn, padding, k, stride, dilation)
    padded = tuple(s + lo + hi for s, (lo, hi) in zip(x.shape[2:], pairs))
    out = output_sizes(fn, padded, k, stride, dilation)
    arrays = [("the output", (x.shape[0], weight.shape[0]) + out)]
    if padded != x.shape[2:]:
        arrays.append(("the padded input", x.shape[:2] + padded))
    fits(fn, float_dtype(x, weight), *arrays)
    return x, was_batched, weight, bias, stride, pairs, dilation, groups, out


def padded_input(shape, pairs):
    """``[("the padded input", its shape)]`` for ``fits``, or ``[]`` if ``pairs`` add nothing.

    ``pairs`` pad the last ``len(pairs)`` axes of ``shape``, ``(lo, hi) >= 0`` each.
    """
    lead = len(shape) - len(pairs)
    padded = tuple(s + lo + hi for s, (lo, hi) in zip(shape[lead:], pairs))
    return [] if padded == tuple(shape[lead:]) else [("the padded input", shape[:lead] + padded)]


def _bytes(n):
    """``n`` bytes in words: ``'18.4 GiB'`` (``'7.74e+25 bytes'`` beyond the units)."""
    units = ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB")
    power = max(0, (n.bit_length() - 1) // 10)
    if power >= len(units):
        return f"{n:.3g} bytes"
    return f"{n / 1024 ** power:.3g} {units[power]}"


def fits(fn, dtype, *arrays):
    """Check that arrays ``(description, shape)`` of ``dtype`` fit in memory, before any is made.

    The arrays are those a call makes at once (the output, a padded copy of the input, ...);
    together they must fit in this machine's memory (``MEMORY``) and in NumPy's index range.
    The error names each array's shape and the bytes they would need.
    """
    need = 0
    for _, shape in arrays:  # a loop, not sum() of a generator: this runs at every call
        need += math.prod(shape)
    need *= np.dtype(dtype).itemsize
    if need <= MEMORY and need <= INDEX_MAX:
        return
    where = (f"this machine's memory ({_bytes(MEMORY)})" if MEMORY <= INDEX_MAX
             else f"NumPy's index range ({_bytes(INDEX_MAX)})")
    names = " and ".join(f"{name} {tuple(shape)}" for name, shape in arrays)
    raise ValueError(f"{fn}: {names} would need {_bytes(need)} of {np.dtype(dtype).name}, "
                     f"more than {where}")
