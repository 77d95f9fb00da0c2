"""Compare every convlab op with PyTorch on random argument sets, in float32 and float64.

Not a test: a report. For each op and dtype it prints the number of cases, the failures (a
case fails when ``|convlab - torch| > atol + rtol*max|torch|`` anywhere, or the shapes or
dtypes differ) and the largest absolute and relative error (relative to the largest value of
PyTorch's result in that case). Run from the repository root::

    python benchmarks/compare_torch.py            # 150 cases per op and dtype
    python benchmarks/compare_torch.py --cases 20 --seed 1

Ops covered: conv1d/2d/3d, conv_transpose1d/2d/3d, conv{1,2,3}d_input and _weight (against
``torch.nn.grad``), and, when convlab has them, im2col/col2im (against ``unfold``/``fold``) and
channel_shuffle. Deformable convolution needs torchvision: see tests/data/make_deform_fixture.py.
"""

import argparse
import time
import warnings

import numpy as np
import torch
import torch.nn.functional as F

import convlab as cl

TOLERANCE = {np.float32: (1e-4, 1e-5), np.float64: (1e-10, 1e-12)}  # (rtol, atol)


# --- random argument sets ----------------------------------------------------------------------


def _per_axis(rng, nd, low, high):
    values = tuple(int(a) for a in rng.integers(low, high + 1, size=nd))
    return values[0] if len(set(values)) == 1 and rng.random() < 0.5 else values


def _axes(value, nd):
    return value if isinstance(value, tuple) else (value,) * nd


def conv_case(rng, nd, transposed=False, batched=None, string_padding=True):
    """``(input, weight, bias, kwargs)`` for one valid ``conv{nd}d`` / ``conv_transpose{nd}d``."""
    max_size = {1: 12, 2: 9, 3: 6}[nd]
    groups = int(rng.integers(1, 4))
    c_in, c_out = groups * int(rng.integers(1, 4)), groups * int(rng.integers(1, 4))
    k = tuple(int(a) for a in rng.integers(1, 5, size=nd))
    stride, dilation = _per_axis(rng, nd, 1, 3), _per_axis(rng, nd, 1, 3)
    kwargs = {"stride": stride, "dilation": dilation, "groups": groups}
    s, d = _axes(stride, nd), _axes(dilation, nd)
    if transposed:
        size = tuple(int(a) for a in rng.integers(1, max_size // 2 + 1, size=nd))
        output_padding = tuple(int(rng.integers(0, max(a, b))) for a, b in zip(s, d))
        # keep the output size (i-1)s - 2p + d(k-1) + op + 1 at least 1
        padding = tuple(min(int(rng.integers(0, 4)), ((i - 1) * a + b * (kk - 1) + op) // 2)
                        for i, a, b, kk, op in zip(size, s, d, k, output_padding))
        kwargs.update(padding=padding, output_padding=output_padding)
        w_shape = (c_in, c_out // groups, *k)
    else:
        kinds = ["int"] + (["valid"] + (["same"] if set(s) == {1} else []) if string_padding
                           else [])
        kind = kinds[int(rng.integers(len(kinds)))]
        padding = _per_axis(rng, nd, 0, 3) if kind == "int" else kind
        p = _axes(padding, nd) if kind == "int" else (0,) * nd
        size = tuple(max(1, b * (kk - 1) + 1 - 2 * pp) + int(rng.integers(0, max_size))
                     for b, kk, pp in zip(d, k, p))
        kwargs["padding"] = padding
        w_shape = (c_out, c_in // groups, *k)
    batched = rng.random() < 0.7 if batched is None else batched
    x = rng.normal(size=((int(rng.integers(1, 4)),) if batched else ()) + (c_in, *size))
    bias = rng.normal(size=c_out) if rng.random() < 0.5 else None
    return x, rng.normal(size=w_shape), bias, kwargs


def _tensor(a, dtype):
    return None if a is None else torch.from_numpy(np.asarray(a, dtype=dtype))


def _cast(a, dtype):
    return None if a is None else a.astype(dtype)


# --- one case of each op: (convlab result, torch result) --------------------------------------


def conv(rng, dtype, nd):
    x, w, b, kw = conv_case(rng, nd)
    ours = getattr(cl, f"conv{nd}d")(*(_cast(a, dtype) for a in (x, w, b)), **kw)
    theirs = getattr(F, f"conv{nd}d")(*(_tensor(a, dtype) for a in (x, w, b)), **kw)
    return ours, theirs


def conv_transpose(rng, dtype, nd):
    x, w, b, kw = conv_case(rng, nd, transposed=True)
    ours = getattr(cl, f"conv_transpose{nd}d")(*(_cast(a, dtype) for a in (x, w, b)), **kw)
    theirs = getattr(F, f"conv_transpose{nd}d")(*(_tensor(a, dtype) for a in (x, w, b)), **kw)
    return ours, theirs


def _grad_case(rng, dtype, nd):
    x, w, _, kw = conv_case(rng, nd, batched=True, string_padding=False)
    g = rng.normal(size=getattr(cl, f"conv{nd}d")(x, w, **kw).shape)
    return x.astype(dtype), w.astype(dtype), g.astype(dtype), kw


def conv_input(rng, dtype, nd):
    x, w, g, kw = _grad_case(rng, dtype, nd)
    ours = getattr(cl, f"conv{nd}d_input")(x.shape, w, g, **kw)
    theirs = getattr(torch.nn.grad, f"conv{nd}d_input")(x.shape, _tensor(w, dtype),
                                                        _tensor(g, dtype), **kw)
    return ours, theirs


def conv_weight(rng, dtype, nd):
    x, w, g, kw = _grad_case(rng, dtype, nd)
    ours = getattr(cl, f"conv{nd}d_weight")(x, w.shape, g, **kw)
    theirs = getattr(torch.nn.grad, f"conv{nd}d_weight")(_tensor(x, dtype), w.shape,
                                                         _tensor(g, dtype), **kw)
    return ours, theirs


def _unfold_case(rng):
    x, w, _, kw = conv_case(rng, 2, batched=True, string_padding=False)
    geometry = {k: kw[k] for k in ("stride", "padding", "dilation")}
    return x, tuple(w.shape[2:]), geometry


def im2col(rng, dtype):
    x, k, geometry = _unfold_case(rng)
    return cl.im2col(x.astype(dtype), k, **geometry), F.unfold(_tensor(x, dtype), k, **geometry)


def col2im(rng, dtype):
    x, k, geometry = _unfold_case(rng)
    cols = rng.normal(size=cl.im2col(x, k, **geometry).shape)
    size = x.shape[2:]
    return (cl.col2im(cols.astype(dtype), size, k, **geometry),
            F.fold(_tensor(cols, dtype), size, k, **geometry))


def channel_shuffle(rng, dtype):
    groups = int(rng.integers(1, 5))
    shape = (int(rng.integers(1, 3)), groups * int(rng.integers(1, 5)),
             *rng.integers(1, 5, size=int(rng.integers(1, 4))))
    x = rng.normal(size=shape)
    return cl.channel_shuffle(x.astype(dtype), groups), F.channel_shuffle(_tensor(x, dtype),
                                                                          groups)


def ops():
    """``{name: function(rng, dtype) -> (ours, theirs)}`` for every op convlab has."""
    table = {}
    for nd in (1, 2, 3):
        table[f"conv{nd}d"] = lambda rng, dtype, nd=nd: conv(rng, dtype, nd)
        table[f"conv_transpose{nd}d"] = lambda rng, dtype, nd=nd: conv_transpose(rng, dtype, nd)
        table[f"conv{nd}d_input"] = lambda rng, dtype, nd=nd: conv_input(rng, dtype, nd)
        table[f"conv{nd}d_weight"] = lambda rng, dtype, nd=nd: conv_weight(rng, dtype, nd)
    for name, fn in (("im2col", im2col), ("col2im", col2im), ("channel_shuffle", channel_shuffle)):
        if hasattr(cl, name):
            table[name] = fn
    return table


# --- the report --------------------------------------------------------------------------------


def compare(fn, dtype, cases, rng):
    """``(failures, max abs error, max rel error, first error message or None)``."""
    rtol, atol = TOLERANCE[dtype]
    failures, max_abs, max_rel, first_error = 0, 0.0, 0.0, None
    for _ in range(cases):
        try:
            ours, theirs = fn(rng, dtype)
        except Exception as error:  # noqa: BLE001 -- a report counts a crash as a failure
            failures += 1
            first_error = first_error or f"{type(error).__name__}: {error}"
            continue
        theirs = theirs.numpy()
        if ours.shape != theirs.shape or ours.dtype != theirs.dtype:
            failures += 1
            first_error = first_error or f"shape/dtype {ours.shape} {ours.dtype} against " \
                                         f"{theirs.shape} {theirs.dtype}"
            continue
        if ours.size == 0:
            continue
        error = float(np.max(np.abs(ours.astype(np.float64) - theirs)))
        scale = float(np.max(np.abs(theirs)))
        max_abs = max(max_abs, error)
        max_rel = max(max_rel, error / scale if scale else error)
        failures += error > atol + rtol * scale
    return failures, max_abs, max_rel, first_error


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=150, help="cases per op and dtype")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    rng = np.random.default_rng(args.seed)
    # PyTorch's note that 'same' with an even kernel copies the input: not about convlab
    warnings.filterwarnings("ignore", message="Using padding='same'")
    print(f"convlab {cl.__version__} against torch {torch.__version__}, numpy {np.__version__}")
    print(f"{'op':<20} {'dtype':<8} {'cases':>6} {'failures':>9} {'max abs err':>12} "
          f"{'max rel err':>12} {'seconds':>8}")
    total = failed = 0
    for name, fn in ops().items():
        for dtype in (np.float32, np.float64):
            start = time.perf_counter()
            failures, max_abs, max_rel, first_error = compare(fn, dtype, args.cases, rng)
            total, failed = total + args.cases, failed + failures
            print(f"{name:<20} {np.dtype(dtype).name:<8} {args.cases:>6} {failures:>9} "
                  f"{max_abs:>12.3g} {max_rel:>12.3g} {time.perf_counter() - start:>8.2f}")
            if first_error:
                print(f"    first failure: {first_error}")
    print(f"total: {total} cases, {failed} failures")


if __name__ == "__main__":
    main()
