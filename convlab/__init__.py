"""convlab: every convolution of deep learning in small, readable NumPy.

``import convlab as cl``. The ops mirror ``torch.nn.functional`` (names, arguments, NCHW layouts);
the arithmetic, the pictures (``convlab.viz``) and the exercise checks (``convlab.checks``) live
in modules of their own.
"""

from . import nn
from .arithmetic import (
    Cost,
    Layer,
    ReceptiveField,
    bottleneck_cost,
    conv_cost,
    conv_output_size,
    conv_transpose_output_size,
    depthwise_separable_cost,
    flattened_cost,
    receptive_field,
    spatially_separable_cost,
)
from .conv import conv1d, conv2d, conv3d, conv_transpose1d, conv_transpose2d, conv_transpose3d
from .deform import (
    DeformConv2dGrads,
    deform_conv2d,
    deform_conv2d_backward,
    deform_conv2d_loops,
    deform_sampling_points,
)
from .grad import (
    conv1d_input,
    conv1d_weight,
    conv2d_input,
    conv2d_weight,
    conv3d_input,
    conv3d_weight,
    effective_receptive_field,
    erf_radius,
)
from .reference import conv2d_loops
from .signal import convolve1d, convolve2d, correlate1d, correlate2d
from .unfold import col2im, conv_matrix, im2col
from .variants import (
    channel_shuffle,
    dense_weight,
    depthwise_conv2d,
    depthwise_separable_conv2d,
    depthwise_separable_factors,
    depthwise_separable_weight,
    flattened_conv2d,
    flattened_factors,
    flattened_weight,
    grouped_weight,
    kernel_rank,
    separable_factors,
    spatially_separable_conv2d,
)

__version__ = "0.1.0"
