"""Chapter 02, Computing a convolution by hand · 卷积的计算过程."""

from _cells import code, md, table

VOCABULARY = table(
    ("level", "word", "中文", "what it is", "in case 4"),
    [
        ("upper", "layer", "层", "a stage of the network, with its input and output",
         "the convolution from `x3` to `y4`"),
        ("upper", "filter", "滤波器",
         "a stack of kernels, one per input channel; makes one output channel",
         "`w4[o]`, shape `(C_in, kh, kw)`"),
        ("lower", "channel = feature map", "通道 = 特征图",
         "one 2-D slice of a layer's input or output", "`x3[c]`, `y4[o]`"),
        ("lower", "kernel", "卷积核", "a 2-D array of weights, applied to one input channel",
         "`w4[o, c]`, shape `(kh, kw)`"),
    ],
)

CELLS = [
    md(r"""
    # Computing a convolution by hand · 卷积的计算过程

    A convolution layer does nothing but multiply and add. This chapter makes every
    multiplication visible: you will compute outputs by hand for one and for several input
    channels, with one and with several filters, with a bias; learn the words *layer, channel,
    feature map, filter, kernel* and the shape rules that tie them together; and finally write
    `conv2d` yourself with plain loops and check it against `convlab`.

    Once you can do this on paper, every later chapter (1x1, grouped, depthwise, dilated,
    transposed ...) is a change to *which* numbers get multiplied, never to *how*.
    """),
    code(r"""
    import numpy as np

    import convlab as cl
    import convlab.viz as viz
    """),
    md(r"""
    ## A single channel · 二维卷积（单通道）

    The example of Bai's article (its section 2.1): a 5x5 input, the 3x3 kernel
    below, stride 1, no padding. The kernel sits on a 3x3 window of the input; multiply the
    nine overlapping pairs and add them up. That is one output number. Then slide the kernel
    one pixel and repeat.
    """),
    code(r"""
    x = np.array([[3, 3, 2, 1, 0],
                  [0, 0, 1, 3, 1],
                  [3, 1, 2, 2, 3],
                  [2, 0, 0, 2, 2],
                  [2, 0, 0, 0, 1]])
    k = np.array([[0, 1, 2],
                  [2, 2, 0],
                  [0, 1, 2]])
    viz.draw_conv2d(x=x, weight=k, position=(0, 0))
    """),
    md(r"""
    The work for the top-left output, written out (`viz.show_work` writes it from the arrays):
    """),
    code(r"""
    viz.show_work(x, k, position=(0, 0))
    """),
    md(r"""
    Nine windows fit in a 5x5 input (three across, three down), so the output is 3x3.
    `convlab.conv2d` computes all of them. It expects a batch of images `(N, C, H, W)` and a
    weight `(C_out, C_in, kh, kw)`, or a single image `(C, H, W)`: for one channel and one
    kernel we add the missing axes with `[None]`.
    """),
    code(r"""
    y = cl.conv2d(x[None], k[None, None])   # (1, 5, 5) and (1, 1, 3, 3) -> (1, 3, 3)
    print(y.shape, "=", y.size, "outputs")
    print(y[0])
    """),
    md(r"""
    Check one more by hand before reading on: the centre output uses the centre window.
    """),
    code(r"""
    print(viz.show_work(x, k, position=(1, 1)).text)
    """),
    md(r"""
    ## The four cases · 四种情况

    The article *卷积是如何计算的* works through four cases: one or three input channels, one or two
    kernels, always with a bias. Its figures cannot be shown here, but its equations (1)-(3)
    print the products term by term, which gives back part of its data:

    * **one channel** (its equations (1) and (2)): every product is written *input · weight*,
      and the second factors are the same nine numbers in both equations, so they are the kernel
      `[[0, 0, 1], [0, 1, 1], [1, 0, 1]]`; the bias is 1; the first factors give the top-left
      and bottom-right 3x3 windows of the input. The two windows share the input's centre pixel,
      which the two equations print with opposite signs: one of them is a typo. We keep the
      sign of equation (1); in the bottom-right window that pixel meets a kernel weight of 0,
      so both results of the article stay as printed.
    * **three channels** (its equation (3)): the top-left 3x3 window of each channel, the three
      kernels of the filter and the bias.

    The other input values and the second filters are not in the text: we chose them.
    """),
    md(r"""
    ### Case 1: one channel, one kernel, with a bias · 单通道单卷积核

    The article's input has shape `[5, 5, 1]` (height, width, channels). In `convlab` it is
    `(1, 5, 5)` (channels first), the kernel `(1, 1, 3, 3)` (one filter of one kernel) and the
    bias `(1,)` (one number per filter).
    """),
    code(r"""
    x1 = np.array([[[ 1,  2,  0, 1, 0],
                    [-1,  1,  0, 2, 1],
                    [ 2, -1, -2, 1, 0],
                    [ 0,  1,  0, 0, 0],
                    [ 1, -1, -1, 0, 0]]])          # (C_in=1, H=5, W=5)
    w1 = np.array([[[[0, 0, 1],
                     [0, 1, 1],
                     [1, 0, 1]]]])                   # (C_out=1, C_in=1, 3, 3)
    b1 = np.array([1])                               # (C_out,)
    print("kernel:\n", w1[0, 0], "\nbias:", b1)
    print(x1.shape, w1.shape, b1.shape, "->", cl.conv2d(x1, w1, b1).shape)
    viz.draw_conv2d(x=x1[0], weight=w1[0, 0], bias=b1[0], position=(0, 0))
    """),
    md(r"""
    Every output element, its arithmetic written out. The first line is the article's
    equation (1), the last its equation (2):
    """),
    code(r"""
    for i in range(3):
        for j in range(3):
            print(f"({i}, {j}):", viz.show_work(x1, w1, b1, position=(i, j)).text)
    """),
    code(r"""
    print(cl.conv2d(x1, w1, b1)[0])
    """),
    md(r"""
    ### Case 2: one channel, two kernels · 单通道多卷积核

    One kernel detects one kind of pattern; to detect several, use several kernels. Each
    kernel gives its own output channel, a *feature map* · 特征图. The article's input
    `[5, 5, 1]` becomes an output `[3, 3, 2]`: in `convlab` `(1, 5, 5)` becomes `(2, 3, 3)`.
    The second kernel (ours) responds to vertical edges.
    """),
    code(r"""
    w2 = np.array([[[[0, 0, 1], [0, 1, 1], [1, 0, 1]]],      # the article's kernel
                   [[[1, 0, -1], [1, 0, -1], [1, 0, -1]]]])  # a vertical-edge kernel (ours)
    b2 = np.array([1, 0])
    y2 = cl.conv2d(x1, w2, b2)
    print(w2.shape, "->", y2.shape)
    print("feature map 0:\n", y2[0])
    print("feature map 1:\n", y2[1])
    """),
    code(r"""
    viz.draw_multichannel(x1, w2, b2, position=(0, 0))
    """),
    md(r"""
    ### Case 3: three channels, one kernel · 多通道单卷积核

    A colour image has three channels. A kernel on one channel would ignore the other two, so
    the filter holds **one kernel per input channel**: its depth equals the input's channels.
    At each position each kernel works on its own channel, the three results are **added**,
    and **one** bias is added to the sum. One filter gives one output channel, however many
    input channels there are. (The article stresses that this is one filter, not three; it
    is the most common misunderstanding.)
    """),
    code(r"""
    x3 = np.array([[[0, 2, 0, 1, 2],
                    [0, 2, 0, 0, 1],
                    [2, 1, 2, 1, 0],
                    [1, 0, 2, 2, 0],
                    [0, 1, 1, 0, 2]],
                   [[0, 0, 0, 2, 1],
                    [1, 0, 0, 1, 0],
                    [1, 0, 0, 2, 2],
                    [0, 2, 1, 0, 1],
                    [2, 0, 1, 1, 0]],
                   [[1, 1, 0, 0, 2],
                    [0, 1, 0, 2, 1],
                    [0, 1, 1, 0, 0],
                    [2, 0, 1, 1, 2],
                    [1, 2, 0, 1, 0]]])               # (C_in=3, 5, 5)
    print(x3.shape)
    """),
    code(r"""
    w3 = np.array([[[[2, 0, 0], [1, 0, 1], [0, 3, 0]],     # kernel for channel 0
                    [[1, 0, 1], [0, 0, 0], [1, 1, 1]],     # kernel for channel 1
                    [[0, 0, 1], [1, 1, 1], [1, 1, 0]]]])   # kernel for channel 2
    b3 = np.array([1])
    print("one filter:", w3.shape, "  input:", x3.shape, "  output:", cl.conv2d(x3, w3, b3).shape)
    viz.draw_multichannel(x3, w3, b3, position=(0, 0))
    """),
    md(r"""
    The top-left output, one parenthesised sum per channel and then the bias, as in the
    article's equation (3):
    """),
    code(r"""
    work = viz.show_work(x3, w3, b3, position=(0, 0))
    print(work.text)
    print("conv2d at (0, 0):", cl.conv2d(x3, w3, b3)[0, 0, 0])
    """),
    md(r"""
    ### Case 4: three channels, two kernels · 多通道多卷积核

    Two filters, each with three kernels and its own bias, give two output channels: the
    article's `[5, 5, 3]` input becomes `[3, 3, 2]`. The second filter and its bias are ours.
    """),
    code(r"""
    second = np.array([[[[1, 0, 0], [0, 1, 0], [0, 0, 1]],
                        [[0, 1, 0], [1, -1, 1], [0, 1, 0]],
                        [[-1, 0, 1], [-1, 0, 1], [-1, 0, 1]]]])
    w4 = np.concatenate([w3, second])                # (C_out=2, C_in=3, 3, 3)
    b4 = np.array([1, -1])
    y4 = cl.conv2d(x3, w4, b4)
    print(x3.shape, w4.shape, "->", y4.shape)
    print(y4)
    """),
    code(r"""
    viz.draw_multichannel(x3, w4, b4, position=(0, 0))
    """),
    md(r"""
    Another way to see it (Bai's): each filter is a 3x3x3 block with the depth of the input,
    and it slides over the input in height and width only. That is why this is still called
    a 2-D convolution · 二维卷积, although the data and the filters are 3-D; chapter 03 lets
    the filter slide in depth too. The shapes:
    """),
    code(r"""
    viz.draw_volume(x3.shape, w4.shape)
    """),
    code(r"""
    viz.show_work(x3, w4, b4, position=(0, 0), out_channel=1)
    """),
    md(r"""
    ## Layer, channel, feature map, filter, kernel

    Bai's article sorts these words into two levels:
    """,
    VOCABULARY,
    r"""
    A channel describes the structure of a layer; a kernel describes the structure of a
    filter. For one input channel a filter *is* a kernel, which is why the two words are
    often mixed up.
    """),
    code(r"""
    print("input channels (x3):   ", x3.shape[0])
    print("filters in the layer:  ", w4.shape[0])
    print("kernels per filter:    ", w4.shape[1])
    print("kernel size:           ", w4.shape[2:])
    print("output feature maps:   ", y4.shape[0])
    """),
    md(r"""
    ## The shape rules · 形状规则

    1. **A filter's depth equals the input's channels.** A filter needs one kernel per
       input channel.
    2. **`k` filters give `k` output channels.** One feature map per filter.
    3. **Hence the weight shape `(C_out, C_in, kh, kw)`**: `C_out` filters, each of `C_in`
       kernels of `kh x kw`, and the bias has shape `(C_out,)`.

    Break rule 1 and `convlab` says so in these terms:
    """),
    code(r"""
    try:
        cl.conv2d(x3, w2)   # 3 input channels, but filters of depth 1
    except ValueError as error:
        print("ValueError:", error)
    """),
    md(r"""
    **Two ways to write shapes.** The articles (and TensorFlow) put channels last: an input
    `[H, W, C]` and weights `[kh, kw, C, k]`. `convlab` and PyTorch put channels first:
    `(C, H, W)` and `(k, C, kh, kw)`. Converting is a transpose of the axes:
    """),
    code(r"""
    x_hwc = x3.transpose(1, 2, 0)           # the article's [5, 5, 3]
    w_hwck = w4.transpose(2, 3, 1, 0)       # the article's [3, 3, 3, 2]
    print("article:", list(x_hwc.shape), list(w_hwck.shape))

    x_chw = x_hwc.transpose(2, 0, 1)        # back to (C, H, W)
    w_kchw = w_hwck.transpose(3, 2, 0, 1)   # back to (k, C, kh, kw)
    print("convlab:", x_chw.shape, w_kchw.shape)
    print("same numbers:", np.array_equal(x_chw, x3) and np.array_equal(w_kchw, w4))
    """),
    md(r"""
    ## Build it yourself: the loops behind `conv2d`

    Everything above fits in one formula. For an input $x$ of shape $(C_\text{in}, H, W)$
    (padded with $p$ zeros on each side), weights $w$ of shape $(C_\text{out}, C_\text{in},
    k_h, k_w)$, a bias $b$ and a stride $s$:

    $$y[o, i, j] = b[o] + \sum_{c=0}^{C_\text{in}-1} \sum_{u=0}^{k_h-1} \sum_{v=0}^{k_w-1}
      w[o, c, u, v]\; x[c,\; i s + u,\; j s + v] .$$

    Here we build its core: one channel, one kernel, stride 1, no padding. **Step 1**: one
    output number is the sum of a window times the kernel.
    """),
    code(r"""
    window = x[0:3, 0:3]                    # rows 0-2, columns 0-2 of the 5x5 input
    print(np.sum(window * k), "==", cl.conv2d(x[None, None], k[None, None])[0, 0, 0, 0])
    """),
    md(r"""
    **Step 2**: slide the window one step at a time. An $h \times w$ input and a
    $k_h \times k_w$ kernel leave room for $(h - k_h + 1) \times (w - k_w + 1)$ windows:
    two nested loops visit them all.
    """),
    code(r'''
    def correlate_valid(x, kernel):
        """x (H, W), kernel (kh, kw) -> (H - kh + 1, W - kw + 1), stride 1, no padding."""
        kh, kw = kernel.shape
        y = np.zeros((x.shape[0] - kh + 1, x.shape[1] - kw + 1))
        for i in range(y.shape[0]):
            for j in range(y.shape[1]):
                y[i, j] = np.sum(x[i:i + kh, j:j + kw] * kernel)
        return y


    print(correlate_valid(x, k))
    '''),
    md(r"""
    It reproduces the first example. On random data it agrees with `convlab.conv2d` too:
    """),
    code(r"""
    rng = np.random.default_rng(0)
    for shape, kshape in [((5, 5), (3, 3)), ((7, 4), (2, 3)), ((6, 6), (1, 1))]:
        a, kern = rng.standard_normal(shape), rng.standard_normal(kshape)
        print(shape, kshape, np.allclose(correlate_valid(a, kern),
                                         cl.conv2d(a[None, None], kern[None, None])[0, 0]))
    """),
    md(r"""
    **Step 3** is yours: in [the exercises](../exercises/02_computing_convolution.ipynb) you
    add stride and padding, then channels, several filters and the bias. When you are done,
    read `convlab.reference.conv2d_loops`, convlab's own loop version (one loop per index of
    the formula), and check that it reproduces the four cases above:
    """),
    code(r"""
    from convlab.reference import conv2d_loops

    for name, (xx, ww, bb) in {"case 1": (x1, w1, b1), "case 2": (x1, w2, b2),
                               "case 3": (x3, w3, b3), "case 4": (x3, w4, b4)}.items():
        print(name, conv2d_loops(xx, ww, bb).shape,
              np.allclose(conv2d_loops(xx, ww, bb), cl.conv2d(xx, ww, bb)))
    """),
    md(r"""
    ## Step through it, then explore

    Step through case 1 one output at a time with the slider (or press play): the figure
    shows the window, the line above it the arithmetic. (The slider needs a running kernel.)
    """),
    code(r"""
    viz.step_through(x1[0], w1[0, 0], bias=b1[0])
    """),
    md(r"""
    The convolution explorer draws any combination of input size, kernel size, stride,
    padding and dilation, with the output size it gives. Try to predict the output size
    before you move a slider.
    """),
    code(r"""
    viz.conv_explorer()
    """),
    md(r"""
    ## Summary

    * One output number = the sum, over the input channels, of a window times that channel's
      kernel, plus the filter's bias.
    * A filter is a stack of kernels, one per input channel; a layer with $k$ filters makes
      $k$ feature maps. The weight has shape `(C_out, C_in, kh, kw)`, the bias `(C_out,)`.
    * The articles write `[H, W, C]`; `convlab` and PyTorch write `(C, H, W)`: transpose to
      convert.
    * `conv2d` is nested loops (filters, output rows, output columns, and the sum over the
      window and the channels); `convlab.conv2d` computes the same numbers without Python
      loops.

    **Your turn:** [the exercises of chapter 02](../exercises/02_computing_convolution.ipynb)
    · previous: [01 Convolution vs cross-correlation](01_convolution_vs_correlation.ipynb)
    """),
]
