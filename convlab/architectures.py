"""Layer lists of real networks, for ``convlab.receptive_field``: AlexNet, VGG-16, ResNet-50.

Each network is a list of ``(name, Layer)`` pairs, one per convolution or pooling layer on
the path from the input to the last feature map, in order, along one axis (every kernel is
square). Fully connected layers, ReLUs and normalisation are left out: they do not move or
widen the field. The networks are those of TF-Slim, the versions whose receptive fields
Araujo, Norris & Sim tabulate ("Computing Receptive Fields of Convolutional Neural Networks",
Distill, 2019, and the table of their library, google-research/receptive_field); ``PUBLISHED``
holds that table's numbers at the end-points it lists, and ``tests/test_architectures.py``
checks ``receptive_field`` against them.

Padding is per side, as in PyTorch. Where TensorFlow pads 'SAME' unevenly (a stride-2 layer
on an even input puts the odd zero at the end), the list gives the padding *before* the first
pixel, the one that places the field: at 224 x 224 that is 0 for ResNet-50's first max pool.

>>> fields = receptive_field([layer for _, layer in VGG16])
>>> fields[-1].size, fields[-1].jump
(212, 32)
"""

from .arithmetic import Layer, receptive_field

__all__ = ["ALEXNET", "NETWORKS", "PUBLISHED", "RESNET50", "RESNET50_TORCHVISION", "VGG16",
           "effective_padding", "network_fields"]


def _conv(name, k, stride=1, padding=None):
    """A layer with TF's 'SAME' padding ``(k-1)//2`` before the first pixel unless given."""
    return name, Layer(k, stride, (k - 1) // 2 if padding is None else padding, 1)


# alexnet_v2 (TF-Slim): 'VALID' first convolution and pools, 'SAME' convolutions after.
ALEXNET = [
    _conv("conv1", 11, 4, padding=0),
    _conv("pool1", 3, 2, padding=0),
    _conv("conv2", 5),
    _conv("pool2", 3, 2, padding=0),
    _conv("conv3", 3),
    _conv("conv4", 3),
    _conv("conv5", 3),
    _conv("pool5", 3, 2, padding=0),
]

# vgg_16: five blocks of 3x3 'SAME' convolutions, each block ended by a 2x2 max pool, stride 2.
VGG16 = []
for _block, _convs in enumerate((2, 2, 3, 3, 3), 1):
    VGG16 += [_conv(f"conv{_block}_{n}", 3) for n in range(1, _convs + 1)]
    VGG16.append(_conv(f"pool{_block}", 2, 2, padding=0))


def _bottlenecks(block, units, stride, first=False):
    """A ResNet block of ``units`` bottlenecks (1x1, 3x3, 1x1), the stride in the 3x3
    convolution of the last unit (TF-Slim) or of the first (``first``, torchvision). The last
    layer is named ``block<n>``: the block's end-point."""
    layers = []
    for unit in range(1, units + 1):
        s = stride if unit == (1 if first else units) else 1
        layers += [_conv(f"block{block}/unit{unit}/conv1", 1),
                   _conv(f"block{block}/unit{unit}/conv2", 3, s, padding=1),
                   _conv(f"block{block}/unit{unit}/conv3", 1)]
    layers[-1] = (f"block{block}", layers[-1][1])
    return layers


# resnet_v1_50: the longest path, through every unit's residual branch (the shortcut of a
# unit sees less than its branch, so the branch sets the field).
RESNET50 = [
    _conv("conv1", 7, 2, padding=3),
    _conv("pool1", 3, 2, padding=0),
    *_bottlenecks(1, 3, 2),
    *_bottlenecks(2, 4, 2),
    *_bottlenecks(3, 6, 2),
    *_bottlenecks(4, 3, 1),
]

# torchvision's resnet50: the same layers, each block's stride in its first unit (blocks 2-4),
# none in block 1. Not in the published table; the lesson compares the two.
RESNET50_TORCHVISION = [
    _conv("conv1", 7, 2, padding=3),
    _conv("pool1", 3, 2, padding=1),
    *_bottlenecks(1, 3, 1),
    *_bottlenecks(2, 4, 2, first=True),
    *_bottlenecks(3, 6, 2, first=True),
    *_bottlenecks(4, 3, 2, first=True),
]

NETWORKS = {"AlexNet": ALEXNET, "VGG-16": VGG16, "ResNet-50": RESNET50}

# Araujo et al.'s table (TF-Slim models, input 224 x 224): end-point -> (receptive field,
# effective stride, effective padding).
PUBLISHED = {
    "AlexNet": {"conv1": (11, 4, 0), "pool1": (19, 8, 0), "conv2": (51, 8, 16),
                "conv3": (99, 16, 32), "conv4": (131, 16, 48), "conv5": (163, 16, 64),
                "pool5": (195, 32, 64)},
    "VGG-16": {"conv1_1": (3, 1, 1), "pool1": (6, 2, 2), "conv2_1": (10, 2, 4),
               "pool2": (16, 4, 6), "conv3_1": (24, 4, 10), "conv3_2": (32, 4, 14),
               "pool3": (44, 8, 18), "conv4_1": (60, 8, 26), "conv4_2": (76, 8, 34),
               "pool4": (100, 16, 42), "conv5_1": (132, 16, 58), "conv5_2": (164, 16, 74),
               "pool5": (212, 32, 90)},
    "ResNet-50": {"block1": (35, 8, 15), "block2": (99, 16, 47), "block3": (291, 32, 143),
                  "block4": (483, 32, 239)},
}


def effective_padding(field):
    """Araujo et al.'s effective padding of a ``ReceptiveField``: how far the first unit's
    field reaches before input pixel 0, ``(size - 1) / 2 - start``."""
    return (field.size - 1) / 2 - field.start


def network_fields(network):
    """``{layer name: ReceptiveField}`` after every layer of one of ``NETWORKS`` (a name or a
    list of ``(name, Layer)``)."""
    layers = NETWORKS[network] if isinstance(network, str) else list(network)
    fields = receptive_field([layer for _, layer in layers])[1:]
    return {name: field for (name, _), field in zip(layers, fields)}
