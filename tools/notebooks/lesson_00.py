"""Chapter 00, Welcome · 导论: how to use the course, a tour of convlab, conventions, glossary."""

from _cells import code, md, table

HOW_TO = table(
    ("folder", "what it is", "what you do"),
    [
        ("`notebooks/`", "the lesson (this kind of notebook)", "read it and run it, top to bottom"),
        (
            "`exercises/`",
            "your turn: small tasks with empty cells (`# YOUR CODE HERE`)",
            "fill them in and run the check below each",
        ),
        ("`solutions/`", "the same exercises, solved and explained", "compare after you tried"),
    ],
)

COURSE_MAP = table(
    ("#", "chapter", "中文", "what you will be able to do"),
    [
        ("00", "Welcome", "导论", "find your way around; know the conventions and the terms"),
        (
            "01",
            "Convolution vs cross-correlation; kernel, stride, padding, channel",
            "卷积与互相关, 卷积的基本属性",
            "tell the two operations apart; name the basic properties; count what weight "
            "sharing saves",
        ),
        (
            "02",
            "Computing a convolution by hand",
            "卷积的计算过程",
            "compute any output element with many channels, filters and a bias; write `conv2d` "
            "with loops",
        ),
        (
            "03",
            "3D convolution",
            "三维卷积",
            "tell a 2-D convolution on a volume from a real 3-D one (video, CT, MRI)",
        ),
        (
            "04",
            "1x1 convolution",
            "1x1卷积",
            "mix channels pixel by pixel; cut the cost of a layer with a 1x1 reduction",
        ),
        (
            "05",
            "Convolution arithmetic",
            "卷积的算术",
            "predict output sizes; choose valid, same or full padding; compute receptive fields",
        ),
        (
            "06",
            "Transposed convolution",
            "转置卷积(反卷积)",
            "up-sample with a learned kernel; see it as $C^\\mathsf{T}$; avoid checkerboard "
            "artifacts",
        ),
        (
            "07",
            "Dilated (atrous) convolution",
            "空洞卷积(膨胀卷积)",
            "widen the receptive field without more weights; spot the gridding artifact",
        ),
        (
            "08",
            "Separable convolutions",
            "可分离卷积",
            "split a kernel in space or in depth (MobileNet, Xception) and count the savings",
        ),
        ("09", "Flattened convolution", "扁平卷积", "replace a 3-D filter by three 1-D filters"),
        (
            "10",
            "Grouped convolution",
            "分组卷积",
            "split the channels into groups (AlexNet) and read the block-diagonal weight",
        ),
        (
            "11",
            "Shuffled grouped convolution",
            "混洗分组卷积",
            "let information cross groups with a channel shuffle (ShuffleNet)",
        ),
        (
            "12",
            "Pointwise grouped convolution",
            "逐点分组卷积",
            "group the 1x1 convolutions too; cost the ShuffleNet unit",
        ),
        (
            "13",
            "Receptive field and effective receptive field",
            "感受野与有效感受野",
            "compute what a unit sees, and measure what it really uses",
        ),
        (
            "14",
            "Deformable convolution",
            "可变形卷积",
            "move the sampling points with learned offsets",
        ),
        (
            "15",
            "Putting it together",
            "综合实践",
            "train a small CNN built from `convlab` and compare layer types",
        ),
    ],
)

GLOSSARY_BASICS = table(
    ("English", "中文", "meaning", "chapter"),
    [
        (
            "convolution",
            "卷积",
            "slide a kernel over the input; at each position multiply element-wise and sum (in "
            "signal processing, with the kernel flipped)",
            "01",
        ),
        (
            "cross-correlation",
            "互相关",
            "the same without the flip; what deep learning calls convolution",
            "01",
        ),
        (
            "kernel",
            "卷积核",
            "a small 2-D array of weights, applied to one input channel",
            "01, 02",
        ),
        (
            "filter",
            "滤波器",
            "a stack of kernels, one per input channel; gives one output channel",
            "02",
        ),
        ("feature map", "特征图", "one channel of a layer's output", "02"),
        (
            "channel",
            "通道",
            "one 2-D slice of a layer: R, G or B of an image, or one feature map",
            "01, 02",
        ),
        ("layer", "层", "one step of the network: all its filters applied to its input", "02"),
        (
            "bias",
            "偏置",
            "one number per filter, added to every element of its output channel",
            "02",
        ),
        ("stride", "步长", "how many pixels the kernel moves between positions", "01, 05"),
        ("padding", "填充", "zeros added around the input, counted per side", "01, 05"),
        (
            "local connectivity",
            "局部连接",
            "each output depends on a small window of the input only",
            "01",
        ),
        ("weight sharing", "权值共享", "the same kernel is used at every position", "01"),
        (
            "fully connected (dense) layer",
            "全连接层",
            "every output connected to every input",
            "01, 04",
        ),
        (
            "2-D convolution",
            "二维卷积",
            "a filter that slides in height and width (and spans all channels)",
            "02",
        ),
    ],
)

GLOSSARY_COSTS = table(
    ("English", "中文", "meaning", "chapter"),
    [
        ("output size", "输出尺寸", "$\\lfloor (i + 2p - d(k-1) - 1)/s \\rfloor + 1$", "05"),
        (
            "convolution arithmetic",
            "卷积算法 (chapter 05's title: 卷积的算术 †)",
            "the rules for sizes, strides and padding",
            "05",
        ),
        (
            "valid / same / full padding",
            "valid / same / full 填充 †",
            "no padding / output as large as input / every partial overlap",
            "05",
        ),
        (
            "dilation (rate)",
            "膨胀率 (also 空洞率 †)",
            "spacing of the kernel's taps: rate $l$ leaves $l-1$ gaps",
            "05, 07",
        ),
        ("receptive field", "感受野", "the input region one output unit depends on", "05, 13"),
        (
            "effective receptive field",
            "有效感受野",
            "the part of the receptive field that really moves the unit; roughly Gaussian",
            "13",
        ),
        (
            "up-sampling / down-sampling",
            "上采样 / 下采样",
            "making a feature map larger / smaller",
            "01, 06",
        ),
        ("pooling", "池化", "down-sampling by the maximum or mean of each window", "13"),
        ("parameters", "参数量", "the number of learned weights (and biases)", "01, 04, 08"),
        (
            "multiply-adds (MACs), FLOPs",
            "计算量",
            "the number of multiply-accumulate operations; FLOPs count the multiplication and "
            "the addition separately",
            "04, 08",
        ),
        (
            "im2col",
            "im2col †",
            "copying every window into a row, so a convolution becomes one matrix product",
            "06",
        ),
    ],
)

GLOSSARY_FAMILY = table(
    ("English", "中文", "meaning", "chapter"),
    [
        ("3D convolution", "三维卷积", "a filter that also slides in depth (time, slices)", "03"),
        (
            "1x1 convolution",
            "1x1卷积",
            "a kernel of one pixel: a linear map across channels at every pixel",
            "04",
        ),
        (
            "transposed convolution",
            "转置卷积",
            "the transpose $C^\\mathsf{T}$ of a convolution's matrix; a learned up-sampling",
            "06",
        ),
        (
            "deconvolution",
            "反卷积",
            "a common but misleading name for transposed convolution (it does not invert)",
            "06",
        ),
        (
            "checkerboard artifacts",
            "棋盘效应",
            "a grid pattern from the uneven overlap of a transposed convolution",
            "06",
        ),
        (
            "dilated / atrous convolution",
            "空洞卷积, 膨胀卷积",
            "a convolution with a dilated kernel",
            "07",
        ),
        ("separable convolution", "可分离卷积", "a convolution split into cheaper steps", "08"),
        (
            "spatially separable convolution",
            "空间可分离卷积",
            "a $k \\times k$ kernel as a $k \\times 1$ then a $1 \\times k$ kernel",
            "08",
        ),
        (
            "depthwise convolution",
            "深度卷积",
            "one kernel per input channel, channels kept apart",
            "08, 10",
        ),
        ("pointwise convolution", "逐点卷积 †", "a 1x1 convolution that mixes channels", "08"),
        ("depthwise separable convolution", "深度可分离卷积", "depthwise then pointwise", "08"),
        (
            "flattened convolution",
            "扁平卷积",
            "a 3-D filter as three 1-D filters (channel, vertical, horizontal)",
            "09",
        ),
        (
            "grouped convolution",
            "分组卷积",
            "channels split into groups, each convolved on its own",
            "10",
        ),
        (
            "channel shuffle",
            "通道混洗 †",
            "reorder channels so the next grouped layer mixes groups",
            "11",
        ),
        (
            "shuffled grouped convolution",
            "混洗分组卷积 (also 随机分组卷积)",
            "grouped convolutions with a channel shuffle between them",
            "11",
        ),
        (
            "pointwise grouped convolution",
            "点组卷积 (usually 逐点分组卷积 †)",
            "a grouped 1x1 convolution",
            "12",
        ),
        (
            "deformable convolution",
            "可变形卷积",
            "sampling points moved by learned offsets · 偏移量",
            "14",
        ),
        (
            "bilinear interpolation",
            "双线性插值",
            "reading an image between pixels, from the nearest pixels weighted by distance",
            "14",
        ),
    ],
)

SOURCES = table(
    ("short name", "article", "what the course takes from it"),
    [
        (
            "the illustrated article",
            "雪饼, 【图解AI：动图】各种类型的卷积，你认全了吗？ (two copies, one with the "
            "convolution formula added)",
            "the basic properties; a tour of the types with pictures",
        ),
        (
            "Bai",
            "Kunlun Bai, *A Comprehensive Introduction to Different Types of Convolutions in "
            "Deep Learning* (with a Chinese translation)",
            "the order of chapters 01-12; the worked sizes and costs",
        ),
        (
            "卷积层知识点",
            "*卷积层知识点* (knowledge points of convolution layers)",
            'the "why" questions: receptive fields, kernel sizes, checkerboard artifacts, '
            "grouped, deformable and 3D convolution",
        ),
        (
            "卷积是如何计算的",
            "*卷积是如何计算的* (how a convolution is computed)",
            "the calculations by hand of chapter 02",
        ),
    ],
)

CELLS = [
    md(r"""
    # Welcome · 导论

    Convolution · 卷积 is the operation that gave convolutional neural networks (CNNs) their
    name. Deep learning has grown a whole family of them: 1x1, 3-D, transposed, dilated,
    separable, flattened, grouped, shuffled, deformable. Each one exists because the standard
    convolution was too expensive, saw too little of the image, could not make an image
    larger, or could only sample a rigid grid.

    This course teaches every member of the family in the same three ways:

    * **drawn**: a picture of what slides over what, made from the same numbers the code uses;
    * **computed**: the exact numbers, by hand first and then with `convlab`, a small NumPy
      library you can read line by line;
    * **costed**: how many parameters and multiplications it needs, and why that matters.

    `convlab` takes the same arguments as PyTorch's `torch.nn.functional` and gives the same
    numbers, so what you learn here reads straight across to PyTorch.

    This notebook explains how to work with the course, takes a quick tour of `convlab`, fixes
    the conventions once for all chapters, and ends with a map of the course and a bilingual
    glossary (English · 中文) of every term you will meet.
    """),
    md(
        r"""
    ## How to use the course · 如何使用本课程

    **Three notebooks per chapter.** Every chapter `NN` comes as

    """,
        HOW_TO,
        r"""

    **Running a notebook.** Start JupyterLab from the course folder with `jupyter lab`, open a
    notebook, and run a cell with <kbd>Shift</kbd>+<kbd>Enter</kbd>. Cells build on the cells
    above them, so run them in order; *Run ▸ Restart Kernel and Run All Cells* runs the whole
    notebook the way the course's tests run it.

    **Widgets.** Some cells end with sliders or number boxes (ipywidgets). A widget needs a
    running kernel: until its cell has run, JupyterLab shows a line of text in its place. Run
    the cell, and the figure appears for the starting values; move a slider and it is redrawn.
    The same goes for the animations: run their cell, then press play.
    """,
    ),
    md(r"""
    **Exercises check themselves.** Under each exercise cell there is a check cell. Run it and
    it tells you at once whether your answer is right, and if not, gives a hint about what is
    wrong (a shape, a flipped kernel, a missing bias). A check never prints the expected answer:
    it compares yours with an independent computation, a property the answer must have, or a
    hash of it.

    **Grading.** The exercise notebooks are [nbgrader](https://nbgrader.readthedocs.io)
    assignments. The cells you answer in have fixed ids and the check cells are locked, so do
    not delete, copy or rewrite them. A teacher collects the notebooks and runs
    `nbgrader autograde`, which adds hidden tests: the same questions asked with other inputs.
    A solution that passes the self-checks by accident (say, by typing the number in) fails
    them; a solution that computes the right thing passes both. Teachers: the set-up is in
    [docs/teaching.md](../docs/teaching.md).
    """),
    md(r"""
    ## A tour of convlab

    `convlab` is imported as `cl`, its pictures as `viz`. Everything the lessons compute comes
    from these two imports (and NumPy), so the text and the library cannot drift apart.
    """),
    code(r"""
    import numpy as np

    import convlab as cl
    import convlab.viz as viz
    """),
    md(r"""
    **The ops.** One call of each kind. An input is a batch of images `(N, C, H, W)`; each op
    returns a batch again. Watch how each one changes the shape.
    """),
    code(r"""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, 4, 8, 8))  # 1 image, 4 channels, 8x8 pixels
    ones = np.ones
    results = {
        "conv2d, 6 filters of 3x3": cl.conv2d(x, ones((6, 4, 3, 3))),
        "  ... with padding=1": cl.conv2d(x, ones((6, 4, 3, 3)), padding=1),
        "  ... with stride=2": cl.conv2d(x, ones((6, 4, 3, 3)), stride=2),
        "  ... with dilation=2": cl.conv2d(x, ones((6, 4, 3, 3)), dilation=2),
        "1x1 convolution": cl.conv2d(x, ones((2, 4, 1, 1))),
        "grouped, groups=2": cl.conv2d(x, ones((6, 2, 3, 3)), groups=2),
        "depthwise, groups=4": cl.conv2d(x, ones((4, 1, 3, 3)), groups=4),
        "transposed, stride=2": cl.conv_transpose2d(x, ones((4, 2, 3, 3)), stride=2),
        "1-D: (N, C, L)": cl.conv1d(ones((1, 2, 10)), ones((3, 2, 3))),
        "3-D: (N, C, D, H, W)": cl.conv3d(ones((1, 1, 4, 4, 4)), ones((1, 1, 2, 2, 2))),
    }
    print(f"{'input':26} {x.shape}")
    for name, y in results.items():
        print(f"{name:26} {y.shape}")
    """),
    md(r"""
    And a few of the ops the later chapters build: the windows as columns (`im2col`), a
    depthwise separable convolution, a channel shuffle, and a deformable convolution, which
    with all its offsets at zero is an ordinary convolution.
    """),
    code(r"""
    print("im2col, 3x3 windows      ", cl.im2col(x, 3).shape)
    print("depthwise separable      ",
          cl.depthwise_separable_conv2d(x, ones((4, 1, 3, 3)), ones((6, 4, 1, 1))).shape)
    print("channel shuffle, 2 groups", cl.channel_shuffle(x, 2).shape)
    zero_offsets = np.zeros((1, 2 * 3 * 3, 6, 6))  # (N, 2*kh*kw, H_out, W_out)
    w = rng.standard_normal((6, 4, 3, 3))
    print("deformable, zero offsets == conv2d:",
          np.allclose(cl.deform_conv2d(x, zero_offsets, w), cl.conv2d(x, w)))
    """),
    md(r"""
    **A picture.** Every figure of the course is drawn by `convlab.viz` from the same
    parameters the code uses, so a caption cannot disagree with its figure. Here a 3x3 kernel
    slides over a 5x5 input with stride 2 and one ring of zero padding; the highlighted output
    cell is the one the kernel's footprint produces.
    """),
    code(r"""
    viz.draw_conv2d(input_size=5, kernel_size=3, stride=2, padding=1, position=(1, 1))
    """),
    md(r"""
    And what convolutions are for: the same small kernels slid over a real photograph (Grace
    Hopper, from matplotlib's sample data) blur it or pick out its vertical and horizontal
    edges. A CNN learns kernels like these from data.
    """),
    code(r"""
    from convlab.data import KERNELS, sample_image

    photo = sample_image("grace_hopper", size=128)
    viz.draw_feature_maps(photo, {name: KERNELS[name]
                                  for name in ("gaussian_blur", "sobel_x", "sobel_y")})
    """),
    md(r"""
    **A widget.** Your turn to filter the photograph: choose a kernel from the menu, or type
    your own numbers into the boxes, and the filtered image and its histogram follow (with a
    running kernel).
    """),
    code(r"""
    viz.filter_playground(photo)
    """),
    md(r"""
    **The arithmetic.** Sizes, receptive fields and costs have functions of their own. The
    first layer of ResNet (a 7x7 convolution, stride 2, padding 3, on a 224x224 RGB image, 64
    filters):
    """),
    code(r"""
    print("output size :", cl.conv_output_size(224, 7, stride=2, padding=3))
    cost = cl.conv_cost(3, 64, 7, 224, stride=2, padding=3)
    print(f"parameters  : {cost.params:,}")
    print(f"multiply-adds: {cost.macs:,}")
    rf = cl.receptive_field([(3,), (3,)])[-1].size
    print(f"two 3x3 layers see {rf}x{rf} input pixels")
    """),
    md(r"""
    **The checks.** In the exercise notebooks, `convlab.checks` gives the instant feedback.
    Say an exercise asks for the output of a 3x3 kernel on a 5x5 input, and you computed it
    with the kernel flipped (a convolution in the signal-processing sense, see chapter 01).
    The check recognises the mistake:
    """),
    code(r"""
    import convlab.checks as checks

    image = rng.integers(0, 4, (5, 5))
    kernel = rng.integers(0, 3, (3, 3))
    try:
        checks.check_array(cl.convolve2d(image, kernel), checks.CONV2D_SINGLE, image, kernel,
                           name="out")
    except checks.CheckFailed as failure:
        print("✗", failure)
    """),
    md(r"""
    In an exercise the ✗ message appears by itself (the check raises an error, which stops
    the notebook there until you fix the answer). A right answer gets a ✓:
    """),
    code(r"""
    checks.check_array(cl.correlate2d(image, kernel), checks.CONV2D_SINGLE, image, kernel,
                       name="out")
    """),
    md(r"""
    ## Conventions, stated once · 约定

    These hold in every chapter, in `convlab`, and in PyTorch.

    **1. Layout NCHW.** A batch of images is an array `(N, C, H, W)`: batch size, channels,
    height, width. A single image `(C, H, W)` is accepted too. (Some articles and TensorFlow
    write `[H, W, C]`; chapter 02 shows how to convert.)

    **2. Weight `(C_out, C_in/groups, kh, kw)`.** One row per output channel (one *filter*),
    each holding one `kh x kw` *kernel* per input channel it reads. With `groups` the input
    channels are split into groups and each filter reads only its group.
    """),
    code(r"""
    x = np.ones((1, 4, 5, 5))            # (N, C_in, H, W)
    w = np.ones((6, 4, 3, 3))            # (C_out, C_in, kh, kw): 6 filters of 4 kernels
    print("weight", w.shape, "-> output", cl.conv2d(x, w).shape)
    w_grouped = np.ones((6, 2, 3, 3))    # groups=2: each filter reads C_in/groups channels
    print("weight", w_grouped.shape, "-> output", cl.conv2d(x, w_grouped, groups=2).shape)
    """),
    md(r"""
    **3. Padding is counted per side.** `padding=p` adds `p` rows of zeros at the top *and* `p`
    at the bottom (and the same left and right), so the padded input is $i + 2p$ wide.
    """),
    code(r"""
    for p in (0, 1, 2):
        print(f"i=5, k=3, padding={p}: padded input {5 + 2 * p}x{5 + 2 * p},"
              f" output {cl.conv_output_size(5, 3, padding=p)}")
    """),
    md(r"""
    **4. Output sizes are floored.** With input size $i$, kernel $k$, stride $s$, padding $p$
    and dilation $d$,

    $$o = \left\lfloor \frac{i + 2p - d(k-1) - 1}{s} \right\rfloor + 1 .$$

    When the stride does not fit exactly, the last positions are dropped, never padded:
    """),
    code(r"""
    i, k, s = 6, 3, 2
    print(f"(i - k) / s = {(i - k) / s}, floored: {(i - k) // s}, so o = {(i - k) // s + 1}")
    print("conv_output_size(6, 3, stride=2) =", cl.conv_output_size(i, k, stride=s))
    """),
    md(r"""
    **5. "Convolution" in deep learning is cross-correlation · 互相关.** The kernel is *not*
    flipped. Slide a kernel over an image that is zero except for a single 1: a true
    convolution would copy the kernel into the output as it is; `conv2d` copies it rotated by
    half a turn. Chapter 01 explains why nobody minds.
    """),
    code(r"""
    impulse = np.zeros((1, 5, 5))
    impulse[0, 2, 2] = 1
    kernel = np.arange(1.0, 10.0).reshape(1, 1, 3, 3)
    print("kernel:\n", kernel[0, 0])
    print("conv2d(impulse, kernel, padding=1):\n", cl.conv2d(impulse, kernel, padding=1)[0])
    """),
    md(
        r"""
    ## The course map · 课程地图

    """,
        COURSE_MAP,
        r"""
    """,
    ),
    md(
        r"""
    ## Glossary · 术语表

    The Chinese terms are those the source articles use, with their variants; a † marks a
    term the articles do not use, given in its usual Chinese form.

    **The basics**

    """,
        GLOSSARY_BASICS,
        r"""
    """,
    ),
    md(
        r"""
    **Sizes, fields and costs**

    """,
        GLOSSARY_COSTS,
        r"""
    """,
    ),
    md(
        r"""
    **The family of convolutions**

    """,
        GLOSSARY_FAMILY,
        r"""
    """,
    ),
    md(
        r"""
    ## The sources · 参考文章

    The course follows these articles (Chinese; Bai's also in English). Their facts, formulas
    and worked numbers are reproduced and checked by code; their figures are redrawn by
    `convlab`, and the chapters refer to them by the short names below.

    """,
        SOURCES,
        r"""
    """,
    ),
    md(r"""
    ## Summary

    * Each chapter is a lesson (`notebooks/`), exercises with instant self-checks
      (`exercises/`) and worked solutions (`solutions/`); teachers grade the exercises with
      nbgrader's hidden tests.
    * `convlab` computes (`cl.conv2d`, ...), counts (`cl.conv_output_size`, `cl.conv_cost`,
      ...) and draws (`convlab.viz`); the course uses nothing else.
    * Conventions: NCHW, weights `(C_out, C_in/groups, kh, kw)`, padding per side, floored
      output sizes, and "convolution" means cross-correlation.

    **Your turn:** [the exercises of chapter 00](../exercises/00_welcome.ipynb) ·
    next chapter: [01 Convolution vs cross-correlation](01_convolution_vs_correlation.ipynb)
    """),
]
