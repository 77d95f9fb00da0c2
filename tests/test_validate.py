"""Every bad argument of every op raises ValueError (TypeError for non-numbers) in the learner's
terms: the message starts with the function's name and names the values it got."""

import os
import tracemalloc

import numpy as np
import pytest

import convlab as cl
from convlab import _validate as v

AXES = {1: "L", 2: "H", 3: "D"}
OPS = [(kind, nd) for kind in ("conv", "conv_transpose", "input", "weight") for nd in (1, 2, 3)]


def _name(kind, nd):
    return {"conv": f"conv{nd}d", "conv_transpose": f"conv_transpose{nd}d",
            "input": f"conv{nd}d_input", "weight": f"conv{nd}d_weight"}[kind]


def _valid(kind, nd):
    """A valid call: 4 input channels, 6 output channels, groups=2, size 6 (3 for transposed)."""
    size, k = (6,) * nd, (3,) * nd
    if kind == "conv":
        return {"input": np.ones((2, 4, *size)), "weight": np.ones((6, 2, *k)),
                "bias": np.ones(6), "groups": 2}
    if kind == "conv_transpose":
        return {"input": np.ones((2, 4) + (3,) * nd), "weight": np.ones((4, 3, *k)),
                "bias": np.ones(6), "groups": 2, "stride": 2}
    grad_output = np.ones((2, 6) + (4,) * nd)
    if kind == "input":
        return {"input_size": (2, 4, *size), "weight": np.ones((6, 2, *k)),
                "grad_output": grad_output, "groups": 2}
    return {"input": np.ones((2, 4, *size)), "weight_size": (6, 2, *k),
            "grad_output": grad_output, "groups": 2}


def _raises(kind, nd, message, error=ValueError, **changes):
    """Call op ``(kind, nd)`` with ``changes`` to its valid arguments; check the message."""
    name = _name(kind, nd)
    with pytest.raises(error, match=rf"^{name}: {message}"):
        getattr(cl, name)(**{**_valid(kind, nd), **changes})


def re_tuple(value):
    """A tuple's repr as a regular expression."""
    return repr(tuple(value)).replace("(", r"\(").replace(")", r"\)")


def _ids(ops):
    return [_name(kind, nd) for kind, nd in ops]


def _only(*kinds):
    ops = [(kind, nd) for kind, nd in OPS if kind in kinds]
    return pytest.mark.parametrize("kind, nd", ops, ids=_ids(ops))


every_op = pytest.mark.parametrize("kind, nd", OPS, ids=_ids(OPS))


@every_op
def test_the_valid_calls_are_valid(kind, nd):
    shapes = {"conv": (2, 6) + (4,) * nd, "conv_transpose": (2, 6) + (7,) * nd,
              "input": (2, 4) + (6,) * nd, "weight": (6, 2) + (3,) * nd}
    assert getattr(cl, _name(kind, nd))(**_valid(kind, nd)).shape == shapes[kind]


# --- channels and groups -----------------------------------------------------------------------


def test_channel_mismatch_names_both_counts():
    with pytest.raises(ValueError, match=r"^conv2d: input has 3 channels but weight expects 2"):
        cl.conv2d(np.ones((1, 3, 5, 5)), np.ones((1, 2, 3, 3)))


@every_op
def test_channel_mismatch(kind, nd):
    if kind == "input":
        changes = {"input_size": (2, 6) + (6,) * nd}
    else:
        size = (3,) * nd if kind == "conv_transpose" else (6,) * nd
        changes = {"input": np.ones((2, 6, *size))}
    _raises(kind, nd, r"input has 6 channels but weight expects 4", **changes)


@every_op
def test_groups_must_divide_the_input_channels(kind, nd):
    _raises(kind, nd, r"groups=3 must divide C_in=4 \(each group takes C_in/groups channels\)",
            groups=3)


@_only("conv", "input", "weight")
def test_groups_must_divide_the_output_channels(kind, nd):
    shape = (5, 2) + (3,) * nd
    changes = {"weight_size": shape} if kind == "weight" else {"weight": np.ones(shape)}
    _raises(kind, nd, r"groups=2 must divide C_out=5", **changes)


@every_op
@pytest.mark.parametrize("groups", [0, 1.5, True])
def test_groups_must_be_a_positive_int(kind, nd, groups):
    if groups == 0:
        message = "groups must be >= 1, got 0"
    else:
        message = f"groups must be an int, got {groups}"
    _raises(kind, nd, message, groups=groups)


# --- stride, padding, dilation -----------------------------------------------------------------


@every_op
@pytest.mark.parametrize("name", ["stride", "dilation"])
@pytest.mark.parametrize("value", [0, -1])
def test_stride_and_dilation_must_be_positive(kind, nd, name, value):
    _raises(kind, nd, rf"{name} must be >= 1, got {value}", **{name: value})


@every_op
@pytest.mark.parametrize("name, value", [("stride", 2.0), ("dilation", "2"), ("padding", None)])
def test_hyperparameters_must_be_ints(kind, nd, name, value):
    _raises(kind, nd, rf"{name} must be an int, got {value!r}", **{name: value})


@every_op
def test_padding_must_not_be_negative(kind, nd):
    _raises(kind, nd, r"padding must be >= 0, got -1", padding=-1)


@every_op
@pytest.mark.parametrize("name", ["stride", "padding", "dilation"])
def test_a_tuple_of_the_wrong_length(kind, nd, name):
    value = (1,) * (nd + 1)
    axes = {1: "L", 2: "H, W", 3: "D, H, W"}[nd]
    _raises(kind, nd, rf"{name} must be an int or a tuple of {nd} ints \({axes}\), "
                      rf"got {re_tuple(value)} of length {nd + 1}", **{name: value})


@_only("conv", "input", "weight")
@pytest.mark.parametrize("dilation", [1, 4])
def test_a_kernel_larger_than_the_padded_input(kind, nd, dilation):
    k = 7 if dilation == 1 else 3
    shape = (6, 2) + (k,) * nd
    changes = {"weight_size": shape} if kind == "weight" else {"weight": np.ones(shape)}
    span, extra = (7, "") if dilation == 1 else (9, r" \(kernel 3 with dilation 4\)")
    _raises(kind, nd, rf"the kernel spans {span}{extra} along {AXES[nd]} but the padded input "
                      rf"is only 6 long: use a smaller kernel or more padding",
            dilation=dilation, **changes)


@_only("conv")
def test_same_padding_needs_stride_1(kind, nd):
    _raises(kind, nd, r"padding='same' needs stride 1", padding="same", stride=2)


@_only("conv")
def test_an_unknown_padding_string(kind, nd):
    _raises(kind, nd, r"padding must be an int, a tuple of ints, 'valid' or 'same', got 'full'",
            padding="full")


@_only("conv_transpose")
def test_transposed_convolution_has_no_padding_strings(kind, nd):
    _raises(kind, nd, r"padding must be an int or a tuple of ints, got 'same'", padding="same")


@_only("conv_transpose")
def test_output_padding_must_be_smaller_than_stride_or_dilation(kind, nd):
    _raises(kind, nd, r"output_padding must be smaller than stride or dilation, got "
                      r"output_padding=2 with stride=2 and dilation=1", output_padding=2)
    getattr(cl, _name(kind, nd))(**{**_valid(kind, nd), "stride": 1}, output_padding=1,
                                 dilation=2)  # smaller than the dilation: allowed


@_only("conv_transpose")
def test_transposed_output_must_be_positive(kind, nd):
    _raises(kind, nd, r"the output would have size -1 = \(1-1\)\*1 - 2\*2 \+ 1\*\(3-1\) \+ 0 "
                      r"\+ 1: the padding 2 removes more than the input provides",
            input=np.ones((1, 4) + (1,) * nd), stride=1, padding=2)


# --- ranks and shapes --------------------------------------------------------------------------


@_only("conv", "conv_transpose")
def test_input_rank(kind, nd):
    axes = {1: "L", 2: "H, W", 3: "D, H, W"}[nd]
    _raises(kind, nd, rf"input must be {nd + 1}-D \(C, {axes}\) or {nd + 2}-D \(N, C, {axes}\), "
                      rf"got shape \({', '.join(['6'] * nd)},?\) \(add axes with x\[None, None\]",
            input=np.ones((6,) * nd))
    _raises(kind, nd, rf"input must be .* got shape \(1, 1, 2, 4, {', '.join(['6'] * nd)}\)$",
            input=np.ones((1, 1, 2, 4) + (6,) * nd))


@_only("weight")
def test_weight_gradient_input_rank(kind, nd):
    _raises(kind, nd, rf"input must be {nd + 2}-D \(N, C_in, ...\)",
            input=np.ones((4,) + (6,) * nd))


@_only("input")
def test_input_size_length(kind, nd):
    _raises(kind, nd, rf"input_size must be a shape \(N, C_in, ...\) of "
            rf"{nd + 2}", input_size=(4,) + (6,) * nd)


@_only("conv", "conv_transpose", "input")
def test_weight_rank(kind, nd):
    layout = r"C_in, C_out/groups" if kind == "conv_transpose" else r"C_out, C_in/groups"
    axes = ", ".join("k" + a for a in {1: "L", 2: "HW", 3: "DHW"}[nd])
    _raises(kind, nd, rf"weight must be {nd + 2}-D \({layout}, {axes}\), got shape \(6, 2\)",
            weight=np.ones((6, 2)))


@_only("weight")
def test_weight_size_length(kind, nd):
    _raises(kind, nd, rf"weight_size must be a shape \(C_out, C_in/groups, ...\) of {nd + 2} ints, "
                      rf"got \(6, 2\)", weight_size=(6, 2))


@_only("conv", "conv_transpose")
def test_an_empty_weight(kind, nd):
    _raises(kind, nd, r"weight has an empty axis", weight=np.ones((4, 0) + (3,) * nd))


@_only("conv", "conv_transpose")
@pytest.mark.parametrize("shape", [(5,), (7,), (6, 1), ()])
def test_bias_needs_one_value_per_output_channel(kind, nd, shape):
    _raises(kind, nd, rf"bias must have shape \(6,\), one value per output channel, "
                      rf"got shape {re_tuple(shape)}", bias=np.ones(shape))


@_only("input", "weight")
def test_grad_output_shape(kind, nd):
    _raises(kind, nd, rf"grad_output must be {nd + 2}-D \(N, C_out, ...\)",
            grad_output=np.ones((6,) + (4,) * nd))
    _raises(kind, nd, r"grad_output has 5 channels but the weight has 6 output channels",
            grad_output=np.ones((2, 5) + (4,) * nd))
    _raises(kind, nd, rf"grad_output has spatial size {re_tuple((5,) * nd)} but the convolution "
                      rf"produces {re_tuple((4,) * nd)}", grad_output=np.ones((2, 6) + (5,) * nd))


# --- data that is not numbers ------------------------------------------------------------------


@every_op
def test_arrays_of_strings_are_a_type_error(kind, nd):
    for name, value in _valid(kind, nd).items():
        if isinstance(value, np.ndarray):
            _raises(kind, nd, rf"{name} must hold real numbers, got an array of dtype <U1",
                    error=TypeError, **{name: np.full(value.shape, "a")})


def test_complex_numbers_are_a_type_error():
    with pytest.raises(TypeError, match=r"^conv1d: weight must hold real numbers, got an array "
                                        r"of dtype complex128"):
        cl.conv1d(np.ones((1, 4)), np.ones((1, 1, 2), complex))


# --- the arithmetic ----------------------------------------------------------------------------


@pytest.mark.parametrize("call, message", [
    (lambda: cl.conv_output_size(2, 5), r"conv_output_size: the kernel spans 5 along L"),
    (lambda: cl.conv_output_size((6, 2), 3, dilation=(1, 2)),
     (r"conv_output_size: the kernel spans 5 \(kernel 3 with dilation 2\) along W but the padded "
      r"input is only 2 long")),
    (lambda: cl.conv_output_size(0, 1), r"conv_output_size: i must be >= 1, got 0"),
    (lambda: cl.conv_output_size(5, 3, stride=0), r"conv_output_size: stride must be >= 1"),
    (lambda: cl.conv_output_size(5, 3, padding=-2), r"conv_output_size: padding must be >= 0"),
    (lambda: cl.conv_output_size(5, 3, stride=2, padding="same"),
     r"conv_output_size: padding='same' needs stride 1"),
    (lambda: cl.conv_output_size(5, 3, padding="full"),
     r"conv_output_size: padding must be an int, a tuple of ints, 'valid' or 'same'"),
    (lambda: cl.conv_transpose_output_size(1, 1, padding=1),
     r"conv_transpose_output_size: the output would have size -1"),
    (lambda: cl.conv_transpose_output_size(4, 3, stride=2, output_padding=2),
     (r"conv_transpose_output_size: output_padding must be smaller than stride or dilation, "
      r"got output_padding=2 with stride=2 and dilation=1")),
    (lambda: cl.conv_cost(3, 4, 9, 7), r"conv_cost: the kernel spans 9 along H"),
    (lambda: cl.conv_cost(3, 4, 3, 7, groups=2), r"conv_cost: groups=2 must divide C_in=3"),
    (lambda: cl.conv_cost(4, 6, 3, 7, groups=4), r"conv_cost: groups=4 must divide C_out=6"),
    (lambda: cl.conv_cost(0, 4, 3, 7), r"conv_cost: c_in must be >= 1, got 0"),
    (lambda: cl.receptive_field([(3, 1, 1), (0, 1)]),
     r"receptive_field: layer 2 kernel_size must be >= 1, got 0"),
    (lambda: cl.receptive_field([(5, 1, 0)], input_size=3),
     r"receptive_field \(layer 1\): the kernel spans 5 along L but the padded input is only 3"),
    (lambda: cl.effective_receptive_field([], 9),
     r"effective_receptive_field: give at least one kernel"),
    (lambda: cl.effective_receptive_field([np.ones(3)], 9),
     r"effective_receptive_field: each kernel must be 2-D \(kh, kw\), got shape \(3,\)"),
    (lambda: cl.effective_receptive_field([np.ones((3, 3))] * 2, 9, stride=[1, 2, 1]),
     r"effective_receptive_field: stride needs one value per layer \(2\), got 3"),
    (lambda: cl.effective_receptive_field([np.ones((5, 5))], 3, padding=0),
     r"effective_receptive_field: the kernel spans 5 along H"),
])
def test_arithmetic_errors_name_the_values(call, message):
    with pytest.raises(ValueError, match="^" + message):
        call()


# --- messages for malformed arguments -----------------------------------------------------


def test_tuples_of_different_lengths_name_the_function():
    with pytest.raises(ValueError, match=r"^conv_output_size: .*i.*k"):
        cl.conv_output_size((5, 5), (3, 3, 3))


@pytest.mark.parametrize("call, name", [
    (lambda: cl.depthwise_separable_cost(0, 4, 3, 7), "depthwise_separable_cost"),
    (lambda: cl.spatially_separable_cost(3, 3, 2), "spatially_separable_cost"),
    (lambda: cl.flattened_cost(3, 4, 5, 3), "flattened_cost"),
])
def test_cost_helpers_name_themselves(call, name):
    with pytest.raises(ValueError, match=rf"^{name}: "):
        call()


@pytest.mark.parametrize("layer", [(3, 1, 1, 1, 5), 3])
def test_receptive_field_explains_a_malformed_layer(layer):
    with pytest.raises(ValueError, match=r"^receptive_field: layer 1"):
        cl.receptive_field([layer])


def test_effective_receptive_field_explains_a_padding_string():
    with pytest.raises(ValueError, match=r"^effective_receptive_field: padding"):
        cl.effective_receptive_field([np.ones((3, 3))], 9, padding="full")
    valid = cl.effective_receptive_field([np.ones((3, 3))], 9, padding="valid")
    assert valid.shape == (9, 9) and valid.sum() == 9 and valid[3:6, 3:6].all()


@pytest.mark.parametrize("size", [("a", 4, 6, 6), (2, 4, -5, 6)])
def test_input_size_entries_are_checked(size):
    with pytest.raises(ValueError, match=r"^conv2d_input: input_size"):
        cl.conv2d_input(size, np.ones((6, 2, 3, 3)), np.ones((2, 6, 4, 4)), groups=2)


def test_a_ragged_list_is_explained():
    with pytest.raises(ValueError, match=r"^conv1d: input"):
        cl.conv1d([[1.0, 2.0], [3.0]], np.ones((1, 2, 1)))


# --- no op modifies or returns its inputs ------------------------------------------------------


def _random_calls():
    rng = np.random.default_rng(0)

    def r(*shape):
        return rng.normal(size=shape)

    for kind, nd in OPS:
        args = {k: r(*a.shape) if isinstance(a, np.ndarray) else a
                for k, a in _valid(kind, nd).items()}
        yield _name(kind, nd), getattr(cl, _name(kind, nd)), args
    offset, mask = r(2, 18, 3, 3), r(2, 9, 3, 3)
    for fn in (cl.deform_conv2d, cl.deform_conv2d_loops):
        yield fn.__name__, fn, {"input": r(2, 4, 5, 5), "offset": offset, "weight": r(2, 4, 3, 3),
                                "bias": r(2), "mask": mask}
    yield "deform_sampling_points", cl.deform_sampling_points, {"offset": offset,
                                                                "kernel_size": 3}
    yield "effective_receptive_field", cl.effective_receptive_field, {
        "kernels": [r(3, 3), r(3, 3)], "input_size": 7}


CALLS = list(_random_calls())


@pytest.mark.parametrize("name, fn, args", CALLS, ids=[c[0] for c in CALLS])
def test_no_op_modifies_or_returns_its_inputs(name, fn, args):
    arrays = [a for value in args.values()
              for a in (value if isinstance(value, list) else [value])
              if isinstance(a, np.ndarray)]
    copies = [a.copy() for a in arrays]
    out = fn(**args)
    for a, c in zip(arrays, copies):
        np.testing.assert_array_equal(a, c, err_msg=f"{name} modified an argument")
        assert not np.shares_memory(out, a), f"{name} returned a view of an argument"


# --- sizes that cannot fit ---------------------------------------------------------------------

HUGE = 2**62  # inside NumPy's index range (2**63 - 1), far beyond any image
ONE = np.ones((1, 1, 5, 5))
K3 = np.ones((1, 1, 3, 3))

# (name, call that needs more memory than any machine has)
TOO_BIG = [
    ("conv1d", lambda: cl.conv1d(ONE[0, :, :1], K3[0, :, :1], padding=2**40)),
    ("conv2d", lambda: cl.conv2d(ONE, K3, padding=2**40)),
    ("conv3d", lambda: cl.conv3d(ONE[None], K3[None], padding=(0, 2**30, 2**30))),
    ("conv2d_loops", lambda: cl.conv2d_loops(ONE, K3, padding=2**40)),
    ("depthwise_conv2d", lambda: cl.depthwise_conv2d(ONE, K3, padding=2**40)),
    ("conv_transpose2d", lambda: cl.conv_transpose2d(ONE, K3, stride=2**40)),
    ("conv_transpose2d", lambda: cl.conv_transpose2d(ONE, K3, dilation=2**40)),
    ("conv2d_input", lambda: cl.conv2d_input((1, 1, 2**40, 2**40), K3, np.ones((1, 1, 1, 1)),
                                             stride=2**40)),
    ("conv2d_weight", lambda: cl.conv2d_weight(ONE, (1, 1, 3, 3), np.ones((1, 1, 1, 1)),
                                               stride=HUGE, padding=(2**40, 0),
                                               dilation=(2**40, 1))),
    ("im2col", lambda: cl.im2col(ONE, 3, padding=2**40)),
    ("col2im", lambda: cl.col2im(np.ones((1, 9, 1)), 2**40, 3, stride=HUGE)),
    ("conv_matrix", lambda: cl.conv_matrix(np.ones((3, 3)), 2**20)),
    ("correlate2d", lambda: cl.correlate2d(np.ones((2**16, 1)), np.ones((1, 2**16)),
                                           mode="full")),
    ("effective_receptive_field", lambda: cl.effective_receptive_field([np.ones((3, 3))],
                                                                      2**40)),
    ("flattened_weight", lambda: cl.flattened_weight(np.ones((1, 1)), np.ones(2**17),
                                                     np.ones(2**17))),
    ("deform_conv2d", lambda: cl.deform_conv2d(np.ones((1, 2**14, 1, 1)),
                                               np.zeros((1, 2, 511, 511)),
                                               np.ones((1, 2**14, 1, 1)), padding=255)),
]


@pytest.mark.parametrize("name, call", TOO_BIG, ids=[name for name, _ in TOO_BIG])
def test_sizes_that_cannot_fit_are_explained_before_anything_is_allocated(monkeypatch, name,
                                                                          call):
    monkeypatch.setattr(v, "MEMORY", 8 * 2**30)  # a learner's laptop, whatever runs the tests
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=rf"^{name}: .+ would need [\d.]+(e\+\d+ bytes| "
                                             rf"[GTPE]iB) of float64, more than this machine's "
                                             rf"memory \(8 GiB\)$"):
            call()
        # nothing large was made first (the call's own arguments take up to 4 MiB)
        assert tracemalloc.get_traced_memory()[1] < 16 * 2**20
    finally:
        tracemalloc.stop()


def test_the_memory_limit_is_this_machines():
    assert v.MEMORY == os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def test_the_size_message_names_the_arrays_and_the_bytes(monkeypatch):
    monkeypatch.setattr(v, "MEMORY", 8 * 2**30)  # a learner's 8 GiB laptop
    with pytest.raises(ValueError, match=r"^conv_matrix: the matrix \(49284, 50176\) would need "
                                         r"18\.4 GiB of float64, more than this machine's "
                                         r"memory \(8 GiB\)$"):
        cl.conv_matrix(np.ones((3, 3)), 224)
    with pytest.raises(ValueError, match=r"^conv2d: the output \(2, 8, 222, 222\) and the "
                                         r"padded input \(2, 4, 224, 224\) would need"):
        monkeypatch.setattr(v, "MEMORY", 2**20)
        cl.conv2d(np.ones((2, 4, 222, 222), np.float32), np.ones((8, 4, 3, 3)), padding=1)


def test_conv_matrix_builds_its_matrix_in_place():
    """Its peak is the matrix itself (and small index arrays), not the matrix and a copy."""
    tracemalloc.start()
    try:
        m = cl.conv_matrix(np.ones((3, 3)), 48, padding=1)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert m.shape == (48 * 48, 48 * 48) and m.flags.c_contiguous
    assert peak < 1.1 * m.nbytes


@pytest.mark.parametrize("name, value", [("stride", 2**70), ("padding", 2**63),
                                         ("dilation", 2**64)])
def test_ints_beyond_numpys_index_range_are_explained(name, value):
    with pytest.raises(ValueError, match=rf"^conv2d: {name} must be at most 2\*\*63 - 1 "
                                         rf"\(NumPy's index range\), got {value}$"):
        cl.conv2d(ONE, K3, **{name: value})


# a stride past the input leaves one output: the result of any such stride
ONE_STEP = [
    lambda s: cl.conv1d(ONE[0, :, 0], K3[0, :, :1], stride=s),
    lambda s: cl.conv2d(ONE, K3, stride=s, dilation=(2, 1)),
    lambda s: cl.conv2d(ONE, np.ones((1, 1, 1, 1)), stride=s, dilation=s),
    lambda s: cl.depthwise_conv2d(np.ones((1, 2, 5, 5)), np.ones((2, 1, 3, 3)), stride=s),
    lambda s: cl.conv3d(ONE[None], K3[None], stride=s),
    lambda s: cl.conv_transpose2d(ONE[:, :, :1, :1], K3, stride=s),
    lambda s: cl.conv_transpose2d(np.ones((1, 2, 1, 1)), np.ones((2, 1, 3, 3)), stride=s),
    lambda s: cl.conv2d_weight(ONE, (1, 1, 3, 3), np.ones((1, 1, 1, 1)), stride=s),
    lambda s: cl.conv2d_input((1, 1, 5, 5), K3, np.ones((1, 1, 1, 1)), stride=s),
    lambda s: cl.im2col(ONE, 3, stride=s),
    lambda s: cl.col2im(np.ones((1, 9, 1)), 5, 3, stride=s),
    lambda s: cl.conv_matrix(np.ones((3, 3)), 5, stride=s),
    lambda s: cl.deform_conv2d(ONE, np.zeros((1, 18, 1, 1)), K3, stride=s),
    lambda s: cl.conv2d_loops(ONE, K3, stride=s),
]


@pytest.mark.parametrize("call", ONE_STEP)
def test_a_huge_stride_is_one_step(call):
    np.testing.assert_array_equal(call(HUGE), call(5))


# --- edge cases found by fuzzing ---------------------------------------------------------------


@pytest.mark.parametrize("call, message", [
    (lambda: cl.receptive_field(None),
     r"receptive_field: layers must be a sequence of Layer or \(kernel_size, stride, padding, "
     r"dilation\) tuples, got None"),
    (lambda: cl.effective_receptive_field(None, 9),
     r"effective_receptive_field: kernels must be a sequence of 2-D kernels \(kh, kw\), got None"),
    (lambda: cl.effective_receptive_field([np.ones((3, 3)), [[1, 2], [3]]], 9),
     r"effective_receptive_field: kernel 2 is a ragged nested list"),
    (lambda: cl.effective_receptive_field([[[1, 2], [3]]], 9, padding="valid"),
     r"effective_receptive_field: kernel 1 is a ragged nested list"),
    (lambda: cl.conv_cost(3, 4, 3, 7, bias="yes"),
     r"conv_cost: bias must be True or False, got 'yes'"),
    (lambda: cl.depthwise_separable_cost(3, 4, 3, 7, bias=1),
     r"depthwise_separable_cost: bias must be True or False, got 1"),
    (lambda: cl.spatially_separable_cost(3, 3, 7, bias=None),
     r"spatially_separable_cost: bias must be True or False, got None"),
    (lambda: cl.flattened_cost(3, 4, 3, 7, bias="no"),
     r"flattened_cost: bias must be True or False, got 'no'"),
    (lambda: cl.conv2d_input((2, 4, 6, 6), np.ones((6, 2, 3, 3)), np.ones((3, 6, 4, 4)),
                             groups=2),
     r"conv2d_input: grad_output has batch size 3 but input_size has 2"),
    (lambda: cl.conv2d_weight(np.ones((2, 4, 6, 6)), (6, 2, 3, 3), np.ones((3, 6, 4, 4)),
                              groups=2),
     r"conv2d_weight: grad_output has batch size 3 but input has 2"),
])
def test_edge_cases_are_explained(call, message):
    with pytest.raises(ValueError, match="^" + message):
        call()


def test_a_cost_adds_only_to_a_cost():
    cost = cl.conv_cost(3, 4, 3, 7)
    assert cost + cost == cl.Cost(2 * cost.params, 2 * cost.macs)
    for other in (1, (1, 2), None):
        with pytest.raises(TypeError, match=r"unsupported operand type\(s\) for \+: 'Cost'"):
            cost + other
