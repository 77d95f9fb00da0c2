"""convlab.arithmetic: the formulas, the articles' numbers, and agreement with the ops' shapes."""

import numpy as np
import pytest
from hypothesis import given
from test_conv import CONV, CONV_T, conv_args, examples

import convlab as cl

# --- output sizes ------------------------------------------------------------------------------


@pytest.mark.parametrize("args, kwargs, expected", [
    ((5, 3), {}, 3),  # the 5x5 worked example
    ((7, 3), {"stride": 2}, 3),
    ((8, 3), {"stride": 2}, 3),  # floor: the last row is dropped
    ((5, 3), {"padding": 1}, 5),
    ((7, 3), {"dilation": 2}, 3),  # effective kernel 2*(3-1)+1 = 5
    ((10, 3), {"padding": "same", "dilation": 3}, 10),
    ((10, 4), {"padding": "valid"}, 7),
    (((224, 224), 7), {"stride": 2, "padding": 3}, (112, 112)),
    (((6, 9), (3, 2)), {"stride": (1, 2), "padding": (1, 0), "dilation": (2, 1)}, (4, 4)),
])
def test_conv_output_size(args, kwargs, expected):
    assert cl.conv_output_size(*args, **kwargs) == expected


@pytest.mark.parametrize("args, kwargs, expected", [
    ((2, 3), {}, 4),  # the 2x2 input with a 3x3 kernel
    ((2, 3), {"stride": 2}, 5),
    ((3, 3), {"stride": 2, "padding": 1, "output_padding": 1}, 6),
    ((4, 3), {"dilation": 2}, 8),
    (((2, 3), 3), {"stride": (2, 1)}, (5, 5)),
])
def test_conv_transpose_output_size(args, kwargs, expected):
    assert cl.conv_transpose_output_size(*args, **kwargs) == expected


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_output_sizes_are_the_shapes_the_ops_return(nd):
    @examples(30)
    @given(conv_args(nd), conv_args(nd, transposed=True))
    def check(args, args_t):
        for op, size, (x, w, _, kwargs) in ((CONV[nd], cl.conv_output_size, args),
                                            (CONV_T[nd], cl.conv_transpose_output_size, args_t)):
            groups = kwargs.pop("groups")
            shape = op(x, w, groups=groups, **kwargs).shape
            assert shape[-nd:] == size(x.shape[-nd:], w.shape[2:], **kwargs)

    check()


def test_non_positive_output_sizes_raise():
    with pytest.raises(ValueError, match=r"conv_output_size: the kernel spans 5 along H but the "
                                         r"padded input is only 4 long"):
        cl.conv_output_size((2, 9), 5, padding=1)
    with pytest.raises(ValueError, match=r"conv_output_size: the kernel spans 7 \(kernel 3 with "
                                         r"dilation 3\) along L but the padded input is only 6"):
        cl.conv_output_size(6, 3, dilation=3)
    with pytest.raises(ValueError, match=r"conv_transpose_output_size: the output would have "
                                         r"size -1 = \(1-1\)\*1 - 2\*1"):
        cl.conv_transpose_output_size(1, 1, padding=1)


# --- receptive fields --------------------------------------------------------------------------


def test_dilated_stack_1_2_4_sees_3_7_15():
    fields = cl.receptive_field([(3, 1, 1, 1), (3, 1, 2, 2), (3, 1, 4, 4)], input_size=32)
    assert [f.size for f in fields] == [1, 3, 7, 15]
    assert [f.out for f in fields] == [32] * 4  # 'same' padding all the way
    assert all(f.start == 0 and f.jump == 1 for f in fields)


@pytest.mark.parametrize("layers, size, weights_stacked, weights_single", [
    (2, 5, 18, 25),
    (3, 7, 27, 49),
])
def test_stacked_3x3_layers_see_like_one_big_kernel_with_fewer_weights(
        layers, size, weights_stacked, weights_single):
    assert cl.receptive_field([cl.Layer(3)] * layers)[-1].size == size
    stacked = sum(cl.conv_cost(1, 1, 3, 9, padding=1).params for _ in range(layers))
    assert (stacked, cl.conv_cost(1, 1, size, 9).params) == (weights_stacked, weights_single)


def test_receptive_field_with_strides_and_pooling():
    # conv3 s1 p1, conv3 s1 p1, maxpool2 s2, conv3 s1 p1, conv3 s2 p0 (VGG-like, then a stride)
    layers = [(3, 1, 1), (3, 1, 1), (2, 2, 0), (3, 1, 1), (3, 2, 0)]
    fields = cl.receptive_field(layers, input_size=16)
    assert [f.size for f in fields] == [1, 3, 5, 6, 10, 14]
    assert [f.jump for f in fields] == [1, 1, 1, 2, 2, 4]
    assert [f.out for f in fields] == [16, 16, 16, 8, 8, 3]
    assert [f.start for f in fields] == [0, 0, 0, 0.5, 0.5, 2.5]


def test_receptive_field_matches_the_effective_receptive_fields_support():
    layers = [(3, 2, 1), (3, 1, 1), (2, 1, 0)]
    size = cl.receptive_field(layers)[-1].size
    erf = cl.effective_receptive_field(
        [np.ones((k, k)) for k, _, _ in layers], 21,
        stride=[s for _, s, _ in layers], padding=[p for _, _, p in layers])
    cols = np.nonzero(erf.sum(axis=0))[0]
    assert cols.max() - cols.min() + 1 == size == 9


# --- costs -------------------------------------------------------------------------------------


def test_depthwise_separable_86400_vs_10275():
    standard = cl.conv_cost(3, 128, 3, 7)
    separable = cl.depthwise_separable_cost(3, 128, 3, 7)
    assert standard.macs == 128 * 3 * 3 * 3 * 5 * 5 == 86_400
    assert cl.conv_cost(3, 3, 3, 7, groups=3).macs == 675
    assert cl.conv_cost(3, 128, 1, 5).macs == 9_600
    assert separable.macs == 10_275
    assert separable.params == 3 * 9 + 3 * 128
    assert separable.macs / standard.macs == pytest.approx(1 / 128 + 1 / 9)


def test_inception_1x1_reduction_120_million_vs_12_million():
    direct = cl.conv_cost(192, 32, 5, 28, padding=2)
    assert direct.macs == 28 * 28 * 32 * 5 * 5 * 192 == 120_422_400
    reduced = cl.conv_cost(192, 16, 1, 28) + cl.conv_cost(16, 32, 5, 28, padding="same")
    assert reduced.macs == 28 * 28 * 16 * 192 + 28 * 28 * 32 * 5 * 5 * 16 == 12_443_648


@pytest.mark.parametrize("n", [5, 7, 28, 100])
def test_spatially_separable_3x3_on_n_by_n(n):
    m = 3
    assert cl.conv_cost(1, 1, m, n).macs == (n - 2) ** 2 * m * m
    assert cl.spatially_separable_cost(1, m, n).macs == (2 * n - 2) * (n - 2) * m


def test_spatially_separable_general_kernel_and_channels():
    n, m, c = 10, 5, 4
    out = n - m + 1
    cost = cl.spatially_separable_cost(c, m, n)
    assert cost.macs == c * (out * n * m + out * out * m)
    assert cost.params == c * 2 * m


def test_flattened_is_a_pointwise_then_two_1d_filters():
    cost = cl.flattened_cost(16, 8, 3, 10, padding=1)
    assert cost.params == 8 * 16 + 8 * 3 + 8 * 3
    assert cost.macs == 10 * 10 * 8 * 16 + 8 * (10 * 10 * 3) * 2


@pytest.mark.parametrize("groups", [1, 2, 4, 8])
def test_grouped_cost_divides_parameters_by_groups(groups):
    cost = cl.conv_cost(8, 16, 3, 12, padding=1, groups=groups)
    assert cost.params == 16 * (8 // groups) * 9
    assert cost.macs == 12 * 12 * cost.params


def test_conv_cost_bias_tuples_and_3d():
    assert cl.conv_cost(3, 4, 3, 5, bias=True).params == 4 * 3 * 9 + 4
    assert cl.conv_cost(2, 5, (3, 1), (6, 4), stride=(1, 2)).macs == 4 * 2 * 5 * 2 * 3
    assert cl.conv_cost(1, 1, (2, 2, 2), (4, 4, 4)) == cl.Cost(8, 27 * 8)
    assert cl.Cost(1, 2) + cl.Cost(3, 4) == cl.Cost(4, 6)


def test_conv_cost_counts_the_multiplications_an_op_does():
    """With ones everywhere and no padding, every output is its number of multiply-adds."""
    x, w = np.ones((1, 6, 9, 8)), np.ones((4, 3, 3, 2))
    y = cl.conv2d(x, w, stride=(2, 1), groups=2)
    macs = cl.conv_cost(6, 4, (3, 2), (9, 8), stride=(2, 1), groups=2).macs
    assert y.sum() == macs == (4 * 7) * 4 * (3 * 3 * 2)  # outputs * C_out * (C_in/groups * k)


def test_bottleneck_cost_counts_the_three_layers_like_pytorch():
    torch = pytest.importorskip("torch")
    nn = torch.nn
    # ResNet-50's first block; ResNeXt-50 (32x4d); a ShuffleNet unit (g = 3, stage 2)
    for c, mid, groups, pw, size in [(256, 64, 1, 1, 56), (256, 128, 32, 1, 56),
                                     (240, 60, 60, 3, 28)]:
        block = nn.Sequential(nn.Conv2d(c, mid, 1, groups=pw, bias=False),
                              nn.Conv2d(mid, mid, 3, padding=1, groups=groups, bias=False),
                              nn.Conv2d(mid, c, 1, groups=pw, bias=False))
        cost = cl.bottleneck_cost(c, mid, c, size, groups=groups, pointwise_groups=pw)
        assert cost.params == sum(p.numel() for p in block.parameters())
        assert cost.macs == size * size * cost.params  # stride 1, 'same': each weight once a pixel
    assert cl.bottleneck_cost(256, 64, 256, 56) == cl.Cost(69_632, 218_365_952)
    # the ShuffleNet paper: 93.4 % of a ResNeXt block's MACs are in its 1x1 layers
    total = cl.bottleneck_cost(256, 128, 256, 56, groups=32)
    spatial = cl.conv_cost(128, 128, 3, 56, padding=1, groups=32)
    assert round(1 - spatial.macs / total.macs, 3) == 0.934
    # stride 2 on the 3x3: the expanding 1x1 runs on the 28 x 28 map
    strided = cl.bottleneck_cost(64, 32, 128, 56, stride=2, bias=True)
    assert strided == (cl.conv_cost(64, 32, 1, 56, bias=True)
                       + cl.conv_cost(32, 32, 3, 56, 2, 1, bias=True)
                       + cl.conv_cost(32, 128, 1, 28, bias=True))
    with pytest.raises(ValueError, match="bottleneck_cost: groups=3 must divide C_in=64"):
        cl.bottleneck_cost(64, 32, 64, 8, pointwise_groups=3)
