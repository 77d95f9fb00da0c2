"""The course as data: its chapters and its bilingual glossary, kept in one place.

Lesson 00 shows both tables (``course_map()``, ``glossary()``), the README's chapter table and
the website are made from ``CHAPTERS``, and each chapter adds its terms to ``GLOSSARY`` in the
same change that writes it.

A † after a Chinese term marks one the source articles do not use, given in its usual form.
"""

from pathlib import Path
from typing import NamedTuple

__all__ = ["CHAPTERS", "GLOSSARY", "SECTIONS", "Chapter", "Table", "Term", "course_map",
           "glossary"]


class Chapter(NamedTuple):
    """One chapter: its number ``"NN"``, file stem, English and Chinese titles, and its goal."""

    number: str
    stem: str
    title: str
    chinese: str
    goal: str


CHAPTERS = [
    Chapter("00", "00_welcome", "Welcome", "导论",
            "find your way around; know the conventions and the terms"),
    Chapter("01", "01_convolution_vs_correlation",
            "Convolution vs cross-correlation; kernel, stride, padding, channel",
            "卷积与互相关, 卷积的基本属性",
            "tell the two operations apart; name the basic properties; count what weight "
            "sharing saves"),
    Chapter("02", "02_computing_convolution", "Computing a convolution by hand", "卷积的计算过程",
            "compute any output element with many channels, filters and a bias; write `conv2d` "
            "with loops"),
    Chapter("03", "03_3d_convolution", "3D convolution", "三维卷积",
            "tell a 2-D convolution on a volume from a real 3-D one (video, CT, MRI)"),
    Chapter("04", "04_1x1_convolution", "1x1 convolution", "1x1卷积",
            "mix channels pixel by pixel; cut the cost of a layer with a 1x1 reduction"),
    Chapter("05", "05_convolution_arithmetic", "Convolution arithmetic", "卷积的算术",
            "predict output sizes; choose valid, same or full padding; compute receptive fields"),
    Chapter("06", "06_transposed_convolution", "Transposed convolution", "转置卷积(反卷积)",
            "up-sample with a learned kernel; see it as $C^\\mathsf{T}$; avoid checkerboard "
            "artifacts"),
    Chapter("07", "07_dilated_convolution", "Dilated (atrous) convolution", "空洞卷积(膨胀卷积)",
            "widen the receptive field without more weights; spot the gridding artifact"),
    Chapter("08", "08_separable_convolutions", "Separable convolutions", "可分离卷积",
            "split a kernel in space or in depth (MobileNet, Xception) and count the savings"),
    Chapter("09", "09_flattened_convolution", "Flattened convolution", "扁平卷积",
            "replace a 3-D filter by three 1-D filters"),
    Chapter("10", "10_grouped_convolution", "Grouped convolution", "分组卷积",
            "split the channels into groups (AlexNet) and read the block-diagonal weight"),
    Chapter("11", "11_shuffled_grouped_convolution", "Shuffled grouped convolution",
            "混洗分组卷积", "let information cross groups with a channel shuffle (ShuffleNet)"),
    Chapter("12", "12_pointwise_grouped_convolution", "Pointwise grouped convolution",
            "逐点分组卷积", "group the 1x1 convolutions too; cost the ShuffleNet unit"),
    Chapter("13", "13_receptive_fields", "Receptive field and effective receptive field",
            "感受野与有效感受野", "compute what a unit sees, and measure what it really uses"),
    Chapter("14", "14_deformable_convolution", "Deformable convolution", "可变形卷积",
            "move the sampling points with learned offsets"),
    Chapter("15", "15_putting_it_together", "Putting it together", "综合实践",
            "train a small CNN built from `convlab` and compare layer types"),
]


class Term(NamedTuple):
    """A glossary entry: the English term, the Chinese term(s), what it means, its chapters."""

    english: str
    chinese: str
    meaning: str
    chapters: str
    section: str


SECTIONS = {
    "basics": "The basics",
    "sizes": "Sizes, fields and costs",
    "family": "The family of convolutions",
}


def _terms(section, *rows):
    return [Term(*row, section) for row in rows]


GLOSSARY = _terms(
    "basics",
    ("convolution", "卷积",
     "slide a kernel over the input; at each position multiply element-wise and sum (in "
     "signal processing, with the kernel flipped)", "01"),
    ("cross-correlation", "互相关",
     "the same without the flip; what deep learning calls convolution, written $\\star$ in "
     "this course", "01"),
    ("impulse response", "冲激响应 †",
     "the output for an input that is a single 1: a convolution's is its kernel", "01"),
    ("translation equivariance", "平移等变性 †",
     "shift the input and the output shifts the same way: what a convolution has", "01"),
    ("translation invariance", "平移不变性 †",
     "shift the input and the output does not change: what pooling gives, approximately",
     "01, 13"),
    ("kernel", "卷积核",
     "a small 2-D array of weights, applied to one input channel; Chinese articles often call "
     "the whole $C_{in} \\times k \\times k$ filter 卷积核 too", "01, 02"),
    ("filter", "滤波器 (also 过滤器)",
     "a stack of kernels, one per input channel; gives one output channel", "02"),
    ("element-wise product", "逐元素乘积 †",
     "multiply two arrays of the same shape entry by entry", "02"),
    ("feature map", "特征图", "one channel of a layer's output", "02, 15"),
    ("channel", "通道",
     "one 2-D slice of a layer: R, G or B of an image, or one feature map", "01, 02"),
    ("layer", "层", "one step of the network: all its filters applied to its input", "02"),
    ("bias", "偏置", "one number per filter, added to every element of its output channel",
     "02"),
    ("stride", "步长 (also 步幅)", "how many pixels the kernel moves between positions",
     "01, 05"),
    ("padding", "填充", "zeros added around the input, counted per side", "01, 05"),
    ("local connectivity", "局部连接",
     "each output depends on a small window of the input only", "01"),
    ("weight sharing", "权值共享 (also 参数共享)", "the same kernel is used at every position",
     "01, 15"),
    ("locally connected layer", "局部连接层",
     "local windows like a convolution, but a different kernel at every position (no "
     "sharing)", "01"),
    ("fully connected (dense) layer", "全连接层", "every output connected to every input",
     "01, 04, 15"),
    ("2-D convolution", "二维卷积",
     "a filter that slides in height and width (and spans all channels)", "02"),
    ("non-linearity", "非线性",
     "an activation between layers; without it stacked convolutions compose into one", "05"),
    ("volumetric data / slice", "三维数据 (also 体数据 †) / 切片",
     "data with depth, height and width (video, CT, MRI) / one 2-D image of a scan", "03"),
    ("temporal dimension", "时间维度", "the axis of frames in a video clip", "03"),
    ("convolutional neural network (CNN)", "卷积神经网络",
     "a network built mainly from convolution layers, trained end to end", "15"),
    ("forward pass / backward pass (backpropagation)", "前向传播 † / 反向传播",
     "computing a network's output layer by layer / its gradients layer by layer in reverse, "
     "by the chain rule", "13, 14, 15"),
    ("gradient", "梯度 †",
     "how much the loss changes per unit change of each weight (or input)", "13, 14, 15"),
    ("numerical gradient (gradient check)", "数值梯度 † (梯度检验 †)",
     "the central difference $(L(w+h) - L(w-h)) / 2h$, to test a backward pass", "14, 15"),
    ("max pooling / average pooling", "最大池化 † / 平均池化 †",
     "the largest / the mean value of each window; the gradient goes to the maximum / is "
     "shared evenly", "15"),
    ("softmax cross-entropy", "交叉熵损失 † (softmax)",
     "the classification loss: minus the log of the softmax probability of the right class",
     "15"),
    ("mini-batch / epoch", "小批量 † / 轮次 †",
     "the images of one training step / one pass over the whole training set", "15"),
    ("optimiser (SGD with momentum, Adam)", "优化器 † (动量 SGD †, Adam)",
     "the rule that updates the weights from their gradients", "15"),
    ("training set / test set", "训练集 † / 测试集 †",
     "the images a network learns from / the images kept aside to measure its accuracy", "15"),
)

GLOSSARY += _terms(
    "sizes",
    ("output size", "输出尺寸", "$\\lfloor (i + 2p - d(k-1) - 1)/s \\rfloor + 1$", "05"),
    ("convolution arithmetic", "卷积算法 (chapter 05's title: 卷积的算术 †)",
     "the rules for sizes, strides and padding", "05"),
    ("valid / same / full padding", "valid / same / full 填充 †",
     "no padding / output as large as input / every partial overlap", "05"),
    ("dilation (rate)", "膨胀率 (also 空洞率 †)",
     "spacing of the kernel's taps: rate $d$ leaves $d-1$ gaps", "05, 07"),
    ("effective kernel size", "有效卷积核大小 †",
     "the span $d(k-1)+1$ a dilated kernel covers", "05, 07"),
    ("receptive field", "感受野", "the input region one output unit depends on", "05, 07, 13"),
    ("effective receptive field", "有效感受野",
     "the part of the receptive field that really moves the unit; roughly Gaussian", "13"),
    ("ERF radius", "有效感受野半径 †",
     "the spread (standard deviation, in pixels) of |∂ unit / ∂ input|; grows like √n with "
     "depth while the receptive field grows like n", "13"),
    ("effective stride", "有效步长 †",
     "Araujo et al.'s name for the jump of a network's last layer: input pixels between "
     "neighbouring units, the product of all the strides", "13"),
    ("effective padding", "有效填充 †",
     "how far the field of a layer's first unit reaches before input pixel 0: every layer's "
     "padding times the jump of the layers below it", "13"),
    ("multi-scale", "多尺度",
     "seeing the input at several sizes of context at once (Inception, atrous pyramids)",
     "05, 07"),
    ("up-sampling / down-sampling", "上采样 / 下采样",
     "making a feature map larger / smaller", "01, 06"),
    ("pooling", "池化", "down-sampling by the maximum or mean of each window", "13, 15"),
    ("dimensionality reduction", "降维 (its opposite: 升维)",
     "fewer channels (or features) that keep what matters; a 1x1 convolution does it", "04"),
    ("global average pooling", "全局平均池化 †",
     "the mean of each feature map, one number per channel; replaces the top dense layers",
     "04"),
    ("embedding / projection / null space", "嵌入 / 投影 † / 零空间 †",
     "a low-dimensional representation / a linear map to fewer dimensions / the directions "
     "it sends to 0", "04"),
    ("bottleneck", "瓶颈 †",
     "a block that reduces the channels (1x1), works cheaply, then restores them", "04, 12"),
    ("parameters", "参数量", "the number of learned weights (and biases)", "01, 04, 08"),
    ("multiply-adds (MACs), FLOPs", "计算量 (also 乘加次数 †)",
     "the number of multiply-accumulate operations; FLOPs count the multiplication and the "
     "addition separately", "04, 08"),
    ("im2col", "im2col †",
     "copying every window into a row, so a convolution becomes one matrix product", "06"),
    ("sparse matrix", "稀疏矩阵",
     "a matrix that is mostly zeros: a convolution written as a matrix is one", "06"),
    ("output padding", "输出填充 †",
     "extra rows and columns on one side of a transposed convolution's output, to choose among "
     "the input sizes a strided convolution maps to one size", "06"),
    ("zero insertion", "插零 †", "s - 1 zeros between neighbouring inputs (transposed view)", "06"),
    ("adjoint identity", "伴随恒等式 †",
     "<Cx, y> = <x, Cᵀy>: the transposed matrix moves the inner product to the other side",
     "06, 13"),
    ("frame / voxel", "帧 / 体素 †",
     "one image of a video / one cell of a 3-D volume (a 3-D pixel)", "03"),
    ("depth", "深度",
     "the third axis of a volume (time in a video, slices in a scan), D in (N, C, D, H, W)",
     "03"),
    ("channels last / channels first (NHWC / NCHW)", "通道在后 / 通道在前 †",
     "(N, H, W, C) as TensorFlow and the articles write / (N, C, H, W) as PyTorch", "02, 03, 05"),
    ("jump", "相邻单元间距 †",
     "input pixels between neighbouring units of a layer: the product of the strides so far",
     "05, 13"),
    ("TensorFlow 'SAME' padding", "'SAME' 填充 †",
     "padding for ceil(i/s) outputs, the odd zero at the end (bottom, right)", "05"),
)

GLOSSARY += _terms(
    "family",
    ("3D convolution", "三维卷积", "a filter that also slides in depth (time, slices)", "03"),
    ("2-D convolution on a volume", "体数据上的二维卷积 †",
     "a filter as deep as the input's channels that slides in height and width only", "02, 03"),
    ("temporal difference kernel", "时间差分卷积核 †",
     "weights -1, +1 along time: x[t+1] - x[t], zero where nothing changes", "03"),
    ("1x1 convolution", "1x1卷积",
     "a kernel of one pixel: a linear map across channels at every pixel", "04"),
    ("transposed convolution", "转置卷积",
     "the transpose $C^\\mathsf{T}$ of a convolution's matrix; a learned up-sampling; also "
     "the backward pass of a convolution", "06, 13"),
    ("deconvolution", "反卷积",
     "a common but misleading name for transposed convolution (it does not invert)", "06"),
    ("fractionally strided convolution", "小数步长卷积",
     "another name for transposed convolution (a stride of 1/s)", "06"),
    ("scatter view / direct view", "散布视角 † / 直接卷积视角 †",
     "each input stamps the scaled kernel on the output / zeros inserted, a wider border, the "
     "kernel flipped, then a convolution", "06"),
    ("checkerboard artifacts", "棋盘效应",
     "a grid pattern from the uneven overlap of a transposed convolution", "06"),
    ("uneven overlap", "不均匀重叠",
     "stamps covering output pixels unequally when k is not divisible by s", "06"),
    ("nearest / bilinear interpolation", "最近邻插值 † / 双线性插值",
     "reading an image between pixels: the nearest pixel's value / the four nearest, weighted "
     "by distance", "06, 14"),
    ("dilated / atrous convolution", "空洞卷积, 膨胀卷积 (also 带孔卷积 †)",
     "a convolution with a dilated kernel", "07"),
    ("gridding artifact", "网格效应 †",
     "stacked dilated layers whose rates share a factor g > 1 reach only every g-th input "
     "pixel", "07"),
    ("hybrid dilated convolution (HDC)", "混合空洞卷积 †",
     "stacked dilated layers whose rates share no factor (e.g. 1, 2, 3): every pixel of the "
     "field is reached", "07"),
    ("atrous spatial pyramid pooling (ASPP)", "空洞空间金字塔池化 †",
     "parallel dilated branches (rates 6, 12, 18) on one feature map, concatenated (DeepLab)",
     "07"),
    ("causal convolution", "因果卷积 †",
     "a 1-D convolution padded on the left only: output t sees inputs up to t (WaveNet)", "07"),
    ("separable convolution", "可分离卷积", "a convolution split into cheaper steps", "08"),
    ("spatially separable convolution", "空间可分离卷积",
     "a $k \\times k$ kernel as a $k \\times 1$ then a $1 \\times k$ kernel", "08"),
    ("outer product / rank / SVD", "外积 / 秩 / 奇异值分解 †",
     "a column times a row / how many outer products a matrix needs / the decomposition "
     "that finds them", "04, 08, 09"),
    ("depthwise convolution", "深度卷积",
     "one kernel per input channel, channels kept apart", "08, 10, 12"),
    ("pointwise convolution", "逐点卷积 †", "a 1x1 convolution that mixes channels", "04, 08"),
    ("Network in Network (NIN), mlpconv", "网络中的网络 †",
     "a convolution followed by 1x1 convolutions with ReLUs: a small MLP on every pixel's "
     "channels (Lin et al., 2013)", "04"),
    ("Inception module", "Inception模块 †",
     "1x1, 3x3 and 5x5 convolutions and a pooling side by side, with 1x1 reductions before "
     "the large ones (GoogLeNet, 2014)", "04, 05"),
    ("concatenation along channels", "拼接 † (the articles say 整合)",
     "joining maps of the same height and width into more channels (Inception)", "05"),
    ("fully convolutional network", "全卷积网络 †",
     "dense layers turned into k x k and 1x1 convolutions, so the network slides over larger "
     "images", "04"),
    ("depthwise separable convolution", "深度可分离卷积", "depthwise then pointwise", "08"),
    ("depth multiplier", "深度乘子 †",
     "depthwise kernels per input channel (m): C·m depthwise maps before the 1x1 step; "
     "m = k² reaches every standard weight", "08"),
    ("best rank-1 approximation", "最佳秩1近似 †",
     "the separable kernel closest to a kernel: $s_0 u_0 v_0^\\mathsf{T}$ from its SVD, off by "
     "$\\sqrt{s_1^2 + s_2^2 + \\dots}$ (Eckart-Young); for a 3-D filter, the closest outer "
     "product of three vectors (cl.flattened_factors)", "08, 09"),
    ("MobileNet / Xception", "MobileNet / Xception",
     "networks built from depthwise separable convolutions (Howard et al., 2017; Chollet, "
     "2017)", "08"),
    ("flattened convolution", "扁平卷积",
     "a $C \\times k \\times k$ filter as three 1-D filters (channel, vertical, horizontal) "
     "in sequence; exact only for filters of rank 1 in all three directions (Jin et al., "
     "2014)", "09"),
    ("one-dimensional (1-D) filter", "一维滤波器 †",
     "weights along one axis only: across the channels ($C \\times 1 \\times 1$), down the "
     "rows ($k_h \\times 1$) or along the columns ($1 \\times k_w$)", "09"),
    ("grouped convolution", "分组卷积",
     "input channels and filters split into G contiguous groups; each group's filters read "
     "only its C_in/G channels: parameters and multiply-adds divided by G", "10, 11, 12"),
    ("block-diagonal matrix", "块对角矩阵 †",
     "non-zero only in blocks along the diagonal: the connection matrix of a grouped layer",
     "10"),
    ("connection matrix", "连接矩阵 †",
     "which input channel reaches which output channel (outputs down, inputs across)",
     "04, 10, 11"),
    ("structured sparsity", "结构化稀疏 † (the articles: 稀疏操作)",
     "zeros in whole blocks known in advance, never stored or multiplied: a grouped layer "
     "seen as a dense one", "10"),
    ("cardinality", "基数 †",
     "ResNeXt's number of groups (parallel paths) in the grouped 3x3 layer of its block",
     "10, 12"),
    ("model parallelism", "模型并行 †",
     "one model split across devices, as AlexNet's two groups on two GPUs", "10"),
    ("channel shuffle", "通道混洗 †",
     "reorder channels so the next grouped layer mixes groups: reshape to (G, n), transpose, "
     "flatten", "11, 12"),
    ("inverse permutation", "逆置换 †",
     "the reordering that undoes another: channel_shuffle(x, C/G) undoes "
     "channel_shuffle(x, G), and is what a reshape to (C/G, G) computes by mistake", "11"),
    ("shuffled grouped convolution", "混洗分组卷积 (also 随机分组卷积)",
     "grouped convolutions with a channel shuffle between them", "11"),
    ("pointwise grouped convolution", "点组卷积 (usually 逐点分组卷积 †)",
     "a grouped 1x1 convolution", "12"),
    ("ShuffleNet unit", "ShuffleNet单元 †",
     "1x1 grouped convolution, channel shuffle, 3x3 depthwise, 1x1 grouped convolution, plus "
     "the input added back: ShuffleNet's building block (Zhang et al., 2017)", "12"),
    ("shortcut (residual connection)", "捷径连接 † (also 残差连接)",
     "the block's input added to its output, so that the block only learns a correction",
     "12"),
    ("deformable convolution", "可变形卷积",
     "sampling points moved by learned offsets · 偏移量", "14"),
    ("modulation mask", "调制掩码 †",
     "a learned weight in [0, 1] per sampling point (deformable convolution v2)", "14"),
    ("offset / offset field", "偏移量 / 偏移场 †",
     "the learned (dy, dx) added to each sampling point, per tap and output position: shape "
     "(N, 2·G·kh·kw, H_out, W_out), torchvision's (dy, dx) order", "14"),
    ("sampling grid / sampling point", "采样网格 / 采样点 †",
     "the input positions a kernel reads: a fixed square for a convolution, moved by offsets "
     "in a deformable one", "14"),
    ("offset branch", "偏移分支 †",
     "the ordinary k x k convolution that predicts a deformable layer's offsets (2Gk² maps; "
     "3Gk² with masks) from its input, initialised to zero", "14"),
    ("offset groups", "偏移组 †",
     "blocks of input channels that share one offset field (torchvision's offset_groups)",
     "14"),
    ("modulated deformable convolution (v2)", "调制可变形卷积 †",
     "deformable convolution whose samples are each multiplied by a learned mask in [0, 1] "
     "(Zhu et al., 2019)", "14"),
)


class Table:
    """A Markdown table that shows itself as a table in a notebook (``_repr_markdown_``)."""

    def __init__(self, header, rows):
        self.header, self.rows = tuple(header), [tuple(r) for r in rows]

    def markdown(self):
        lines = [self.header, ("---",) * len(self.header), *self.rows]
        return "\n".join("| " + " | ".join(cells) + " |" for cells in lines)

    _repr_markdown_ = __str__ = __repr__ = markdown


def course_map(folder=None, link=True):
    """The chapters as a table; with ``folder`` (the lessons' folder), chapters whose lesson is
    not there yet are marked *(not yet written)*, and written ones are linked."""
    rows = []
    for ch in CHAPTERS:
        title = ch.title
        if folder is not None:
            written = (Path(folder) / f"{ch.stem}.ipynb").exists()
            if not written:
                title += " *(not yet written)*"
            elif link:
                title = f"[{title}]({ch.stem}.ipynb)"
        rows.append((ch.number, title, ch.chinese, ch.goal))
    return Table(("#", "chapter", "中文", "what you will be able to do"), rows)


def glossary(section=None):
    """The glossary (one ``SECTIONS`` key, or all) as a table: English, 中文, meaning, chapter."""
    if section is not None and section not in SECTIONS:
        raise ValueError(f"glossary: section must be one of {list(SECTIONS)}, got {section!r}")
    return Table(("English", "中文", "meaning", "chapter"),
                 [t[:4] for t in GLOSSARY if section in (None, t.section)])
