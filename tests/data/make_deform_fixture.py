"""Compare ``convlab.deform_conv2d`` with ``torchvision.ops.deform_conv2d``; save the fixture.

torchvision cannot be installed beside the course's torch, so run this with a separate venv,
from the repository root::

    python -m venv /tmp/tv
    /tmp/tv/bin/pip install torch==2.14.1 torchvision==0.29.1 numpy
    PYTHONPATH=. /tmp/tv/bin/python tests/data/make_deform_fixture.py

It runs torchvision on random float64 cases (offsets that reach outside the image or land on
whole and half pixels, masks, groups, offset groups, strides, padding, dilation), prints the
largest difference from convlab, and saves the first ``SAVED`` cases with torchvision's outputs
as ``tests/data/deform_torchvision.npz``, which ``tests/test_deform.py`` checks on every run.
"""

import math
from pathlib import Path

import numpy as np
import torch
from torchvision.ops import deform_conv2d as tv_deform_conv2d

from convlab import deform_conv2d

CASES = 400
SAVED = 20
FIXTURE = Path(__file__).with_name("deform_torchvision.npz")
OFFSET_KINDS = ("normal", "half-pixel", "integer", "far")


def random_case(rng, index):
    """One random argument set; the offset kind, mask and bias cycle with ``index``."""
    groups, offset_groups = rng.integers(1, 3, size=2)
    c_in = math.lcm(groups, offset_groups) * int(rng.integers(1, 3))
    c_out = groups * int(rng.integers(1, 3))
    kh, kw = rng.integers(1, 4, size=2)
    stride, padding, dilation = rng.integers(1, 3, size=2), rng.integers(0, 2, size=2), \
        rng.integers(1, 3, size=2)
    span = dilation * (np.array([kh, kw]) - 1) + 1
    h, w = np.maximum(span - 2 * padding, 1) + rng.integers(0, 4, size=2)
    h_out, w_out = (np.array([h, w]) + 2 * padding - span) // stride + 1
    n = int(rng.integers(1, 3))
    taps = kh * kw
    offset_shape = (n, 2 * offset_groups * taps, h_out, w_out)
    kind = OFFSET_KINDS[index % len(OFFSET_KINDS)]
    if kind == "normal":
        offset = rng.normal(scale=1.5, size=offset_shape)
    elif kind == "half-pixel":  # exactly on pixels, between them, and on the -1 / H borders
        offset = rng.integers(-8, 9, size=offset_shape) / 2
    elif kind == "integer":
        offset = rng.integers(-2, 3, size=offset_shape).astype(float)
    else:
        offset = rng.uniform(-1.5 * max(h, w), 1.5 * max(h, w), size=offset_shape)
    case = {
        "input": rng.normal(size=(n, c_in, h, w)),
        "offset": offset,
        "weight": rng.normal(size=(c_out, c_in // groups, kh, kw)),
        "params": np.array([*stride, *padding, *dilation]),
    }
    if index % 2:
        case["mask"] = rng.uniform(-0.5, 1.5, size=(n, offset_groups * taps, h_out, w_out))
    if index % 3:
        case["bias"] = rng.normal(size=c_out)
    return case


def arguments(case):
    sh, sw, ph, pw, dh, dw = (int(p) for p in case["params"])
    return {"stride": (sh, sw), "padding": (ph, pw), "dilation": (dh, dw)}


def torchvision_output(case):
    t = {k: torch.from_numpy(case[k]) for k in ("input", "offset", "weight", "mask", "bias")
         if k in case}
    return tv_deform_conv2d(t["input"], t["offset"], t["weight"], t.get("bias"),
                            mask=t.get("mask"), **arguments(case)).numpy()


def main():
    rng = np.random.default_rng(2017)
    saved, worst = {}, 0.0
    for index in range(CASES):
        case = random_case(rng, index)
        expected = torchvision_output(case)
        got = deform_conv2d(case["input"], case["offset"], case["weight"], case.get("bias"),
                            mask=case.get("mask"), **arguments(case))
        error = float(np.max(np.abs(got - expected)))
        worst = max(worst, error)
        if error > 1e-10:
            print(f"case {index}: max abs error {error:.3g}", {k: v.shape for k, v in case.items()})
        if index < SAVED:
            saved.update({f"case{index:02d}_{k}": v for k, v in case.items()})
            saved[f"case{index:02d}_output"] = expected
    print(f"{CASES} cases against torchvision {torch.__version__}: max abs error {worst:.3g}")
    np.savez_compressed(FIXTURE, **saved)
    print(f"saved {SAVED} cases to {FIXTURE} ({FIXTURE.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
