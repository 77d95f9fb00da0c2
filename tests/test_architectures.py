"""convlab.architectures: the receptive fields of real networks against Araujo et al.'s table."""

import pytest

import convlab as cl
from convlab.architectures import (
    NETWORKS,
    PUBLISHED,
    RESNET50,
    RESNET50_TORCHVISION,
    VGG16,
    effective_padding,
    network_fields,
)


@pytest.mark.parametrize("network", list(PUBLISHED))
def test_fields_strides_and_paddings_match_the_published_table(network):
    fields = network_fields(network)
    for end_point, (size, stride, padding) in PUBLISHED[network].items():
        field = fields[end_point]
        assert (field.size, field.jump, effective_padding(field)) == (size, stride, padding), \
            end_point


def test_the_lists_have_the_networks_layers():
    assert sum(name.startswith("conv") for name, _ in VGG16) == 13
    assert sum(name.startswith("pool") for name, _ in VGG16) == 5
    assert len(RESNET50) == 1 + 1 + 3 * (3 + 4 + 6 + 3)  # conv1, pool1, 16 bottlenecks
    assert [name for name, _ in NETWORKS["AlexNet"]][-1] == "pool5"


def test_the_feature_map_sizes_at_224():
    out = {net: cl.receptive_field([layer for _, layer in NETWORKS[net]], 224)[-1].out
           for net in ("AlexNet", "VGG-16")}
    assert out == {"AlexNet": 5, "VGG-16": 7}
    assert cl.receptive_field([layer for _, layer in RESNET50_TORCHVISION], 224)[-1].out == 7


def test_where_the_stride_sits_changes_resnets_field():
    assert network_fields(RESNET50_TORCHVISION)["block4"].size == 427
    assert network_fields(RESNET50)["block4"].size == 483
