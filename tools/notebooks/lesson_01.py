"""Chapter 01: convolution vs cross-correlation; kernel, stride, padding, channel."""

from _cells import code, md

CELLS = [
    md(r"""
    # Convolution vs cross-correlation · 卷积与互相关
    ## and the basic properties of a convolution · 卷积的基本属性

    Deep learning borrowed the word *convolution* · 卷积 from signal processing, but the
    operation a CNN layer computes is what signal processing calls *cross-correlation* ·
    互相关. The two differ by one detail: convolution flips the kernel before sliding it.

    In this chapter you will

    * see both operations slide over the same 1-D signal, and write both formulas;
    * compute both in 2-D and check that `convlab.conv2d` is the cross-correlation;
    * watch a model learn the flipped kernel, which is why the difference never matters in
      training;
    * meet the four basic properties of a convolution layer, kernel, stride, padding and
      channel, each with a picture;
    * count how many weights local connectivity and weight sharing save against a dense layer.
    """),
    code(r"""
    import numpy as np

    import convlab as cl
    import convlab.viz as viz
    """),
    md(r"""
    ## Two ways to slide a kernel

    Take a signal that is zero everywhere except for a single 1 (an *impulse*) and an
    asymmetric kernel, and slide the kernel along the signal. At each position multiply the
    overlapping values and add them up.
    """),
    code(r"""
    impulse = np.array([0.0, 0, 0, 1, 0, 0, 0])
    w = np.array([1.0, 2, 3])
    print("kernel                     ", w)
    print("cross-correlation (correlate)", cl.correlate1d(impulse, w))
    print("convolution       (convolve) ", cl.convolve1d(impulse, w))
    """),
    md(r"""
    Convolution reproduces the kernel as it is: the *impulse response* of a convolution is its
    kernel, which is why signal processing defines it that way. Cross-correlation reproduces
    it backwards. The reason: convolution slides the kernel **flipped**, cross-correlation
    slides it as it is. Here is one position of each on a longer signal (same kernel):
    """),
    code(r"""
    x = np.array([0.0, 1, 2, 3, 0, 0, 1, 0])
    viz.draw_conv1d(x, w, mode="correlate", position=2)
    """),
    code(r"""
    viz.draw_conv1d(x, w, mode="convolve", position=2)
    """),
    md(r"""
    And every position, as an animation (run the cell, then press play). First
    cross-correlation, then convolution:
    """),
    code(r"""
    viz.to_html(viz.animate_conv1d(x, w, mode="correlate"))
    """),
    code(r"""
    viz.to_html(viz.animate_conv1d(x, w, mode="convolve"))
    """),
    md(r"""
    ## The formulas

    For functions of a continuous variable, **convolution** is the integral of the product of
    $f$ and a reversed, shifted $g$:

    $$(f * g)(t) = \int_{-\infty}^{\infty} f(\tau)\, g(t - \tau)\, d\tau .$$

    **Cross-correlation** shifts $g$ without reversing it (a *sliding dot product*):

    $$(g \star f)(t) = \int_{-\infty}^{\infty} g(\tau)\, f(t + \tau)\, d\tau .$$

    The minus sign in $g(t - \tau)$ is the flip. For a signal $x$ and a kernel $w$ of $k$
    values $w[0], \dots, w[k-1]$, at every position $n$ where the kernel fits inside the signal
    ("valid" positions):

    $$\text{cross-correlation: } y[n] = \sum_{m=0}^{k-1} w[m]\, x[n + m],
    \qquad
    \text{convolution: } y[n] = \sum_{m=0}^{k-1} w[k-1-m]\, x[n + m] .$$

    So a convolution is a cross-correlation with the reversed kernel $w[k-1], \dots, w[0]$.
    """),
    md(r"""
    Both formulas, written as loops, checked against `convlab` and against NumPy's own
    `np.correlate` and `np.convolve`:
    """),
    code(r"""
    def correlate_valid(x, w):
        k = len(w)
        return np.array([sum(w[m] * x[n + m] for m in range(k)) for n in range(len(x) - k + 1)])


    def convolve_valid(x, w):
        k = len(w)
        return np.array([sum(w[k - 1 - m] * x[n + m] for m in range(k))
                         for n in range(len(x) - k + 1)])


    print("cross-correlation:", correlate_valid(x, w))
    print("convolution:      ", convolve_valid(x, w))
    print("convlab agrees:", np.allclose(correlate_valid(x, w), cl.correlate1d(x, w)),
          np.allclose(convolve_valid(x, w), cl.convolve1d(x, w)))
    print("NumPy agrees:  ", np.allclose(correlate_valid(x, w), np.correlate(x, w, "valid")),
          np.allclose(convolve_valid(x, w), np.convolve(x, w, "valid")))
    """),
    md(r"""
    ## In two dimensions

    An image has two axes, so the kernel is flipped along both: upside down and left to right,
    a rotation by half a turn. The illustrated article (in the copy with a formula) writes
    the 2-D convolution of an image $f$ with a kernel $w$ of size $(2a+1) \times (2b+1)$ as

    $$(w * f)(x, y) = \sum_{s=-a}^{a} \sum_{t=-b}^{b} w(s, t)\, f(x - s,\, y - t),$$

    and again the minus signs are the flip; cross-correlation has $f(x + s, y + t)$ instead.
    With an asymmetric kernel the two results differ:
    """),
    code(r"""
    image = np.array([[3.0, 3, 2, 1, 0],
                      [0, 0, 1, 3, 1],
                      [3, 1, 2, 2, 3],
                      [2, 0, 0, 2, 2],
                      [2, 0, 0, 0, 1]])
    kernel = np.array([[1.0, 2, 0],
                       [0, 1, 0],
                       [0, 0, -1]])
    print("correlate2d:\n", cl.correlate2d(image, kernel))
    print("convolve2d:\n", cl.convolve2d(image, kernel))
    """),
    md(r"""
    Three facts to check: convolution is correlation with the kernel rotated by half a turn;
    deep learning's `conv2d` (which wants `(N, C, H, W)` arrays, hence the `[None, None]`) is
    the correlation; and SciPy, the standard scientific library, agrees with both (if it is
    installed).
    """),
    code(r"""
    flipped = kernel[::-1, ::-1]
    print("convolve2d(k) == correlate2d(flipped k):",
          np.allclose(cl.convolve2d(image, kernel), cl.correlate2d(image, flipped)))
    print("conv2d == correlate2d:",
          np.allclose(cl.conv2d(image[None, None], kernel[None, None])[0, 0],
                      cl.correlate2d(image, kernel)))
    try:
        from scipy import signal
    except ImportError:
        print("SciPy is not installed: comparison skipped")
    else:
        print("SciPy agrees:",
              np.allclose(signal.correlate2d(image, kernel, "valid"),
                          cl.correlate2d(image, kernel)),
              np.allclose(signal.convolve2d(image, kernel, "valid"),
                          cl.convolve2d(image, kernel)))
    """),
    md(r"""
    ## Why the flip does not matter for learning

    In signal processing the kernel is given (a blur, an edge detector), so whether it is
    flipped matters. In a CNN the kernel is *learned*. If the best layer for a task happens to
    be a true convolution with some kernel $g$, a cross-correlation layer can do exactly the
    same thing with the flipped kernel, and training will find it.

    Let us check. The target is a true convolution of a random image with an asymmetric $g$.
    We start `conv2d` from a zero kernel and follow the gradient of the squared error, computed
    by `cl.conv2d_weight` (the backward pass of `conv2d` with respect to its weight).
    """),
    code(r"""
    rng = np.random.default_rng(0)
    photo = rng.standard_normal((1, 1, 12, 12))            # (N, C, H, W)
    g = np.array([[1.0, 2, 0], [0, 1, 0], [0, 0, -1]])     # the "right" kernel
    target = cl.convolve2d(photo[0, 0], g)[None, None]     # what the layer should output

    learned = np.zeros((1, 1, 3, 3))                       # (C_out, C_in, kh, kw)
    step = 0.5 / target.size
    for _ in range(300):
        error = cl.conv2d(photo, learned) - target
        learned -= step * cl.conv2d_weight(photo, learned.shape, error)

    print("g:\n", g)
    print("learned kernel (rounded):\n", np.round(learned[0, 0], 3) + 0.0)
    print("learned == g rotated by half a turn:", np.allclose(learned[0, 0], g[::-1, ::-1]))
    """),
    md(r"""
    The layer learned $g$ rotated by half a turn and reproduces the convolution exactly.
    Flipping the kernel in every layer would cost time and change nothing a network can
    express, so deep learning skips the flip and keeps the name. From now on, "convolution"
    means cross-correlation, as in PyTorch and in `convlab`.
    """),
    md(r"""
    ## The basic properties · 卷积的基本属性

    Four words describe a convolution layer. Each figure below shows the input (with its
    padding, if any), the kernel's footprint at one position, and the output cell that
    position produces; the title gives the parameters and the output size.

    **Kernel · 卷积核**: the small grid of weights that slides over the input. Its size
    (3x3 here, the most common choice) is how much of the input one output looks at: the
    receptive field · 感受野 of one output.
    """),
    code(r"""
    viz.draw_conv2d(input_size=5, kernel_size=3, position=(1, 1))
    """),
    md(r"""
    **Stride · 步长**: how many pixels the kernel moves between positions. Stride 2 skips
    every other position, so the output is about half as wide: a stride above 1
    down-samples · 下采样 the feature map, which makes every later layer cheaper.
    """),
    code(r"""
    print("output size, stride 1:", cl.conv_output_size(5, 3, stride=1))
    print("output size, stride 2:", cl.conv_output_size(5, 3, stride=2))
    viz.draw_conv2d(input_size=5, kernel_size=3, stride=2, position=(1, 1))
    """),
    md(r"""
    **Padding · 填充**: what happens at the border. Without padding the kernel only visits
    positions inside the input, so the output is smaller than the input. With a ring of zeros
    around the input (padding 1 for a 3x3 kernel) the output keeps the input's size.
    """),
    code(r"""
    print("output size, padding 0:", cl.conv_output_size(5, 3, padding=0))
    print("output size, padding 1:", cl.conv_output_size(5, 3, padding=1))
    viz.draw_conv2d(input_size=5, kernel_size=3, padding=1, position=(0, 0))
    """),
    md(r"""
    **Channel · 通道**: the depth of a layer. A colour image has one channel per colour
    (R, G, B); a convolution layer's output has one channel, one *feature map* · 特征图, per
    filter. A filter spans all the input's channels, so a layer maps an $H \times W \times C$
    input to an $H' \times W' \times k$ output with $k$ filters. Chapter 02 computes this by
    hand.
    """),
    code(r"""
    viz.draw_volume((3, 5, 5), (2, 3, 3, 3))
    """),
    md(r"""
    ## Local connectivity and weight sharing · 局部连接与权值共享

    Two ideas make a convolution layer far smaller than a dense (fully connected) layer on
    the same image:

    * **local connectivity**: each output looks at a small window of the input, not at all of
      it;
    * **weight sharing**: every window uses the same kernel.

    Take a 224x224 RGB image and produce 64 feature maps of the same size. A convolution with
    3x3 kernels and padding 1 needs one 3x3x3 filter (plus a bias) per feature map. A dense
    layer to an output of the same size connects every input number to every output number.
    In between sits a *locally connected* layer: 3x3 windows, but a different kernel at every
    position (local connectivity without weight sharing).
    """),
    code(r"""
    size, c_in, c_out, k = 224, 3, 64, 3
    conv = cl.conv_cost(c_in, c_out, k, size, padding=1, bias=True)
    inputs, outputs = c_in * size * size, c_out * size * size
    dense = inputs * outputs + outputs
    local = (c_in * k * k + 1) * outputs  # one filter and bias per output value

    print(f"input values {inputs:,}, output values {outputs:,}")
    print(f"dense layer:             {dense:>20,} parameters")
    print(f"locally connected layer: {local:>20,} parameters")
    print(f"convolution layer:       {conv.params:>20,} parameters")
    print(f"dense / convolution: {dense / conv.params:.2e}")
    print(f"the dense layer's weights in float32: {dense * 4 / 1e12:.1f} TB")
    """),
    md(r"""
    A dense layer is itself a convolution whose kernel covers the whole image and which has
    one filter per output value; `conv_cost` counts it the same way (without biases here):
    """),
    code(r"""
    as_conv = cl.conv_cost(c_in, outputs, kernel_size=size, input_size=size)
    print(f"{as_conv.params:,} == {inputs * outputs:,}:", as_conv.params == inputs * outputs)
    """),
    md(r"""
    Weight sharing has a second consequence: a convolution treats every position alike. Shift
    the input and the output shifts by the same amount (away from the borders):
    """),
    code(r"""
    any_kernel = rng.standard_normal((1, 1, 3, 3))
    shifted = np.roll(photo, 2, axis=3)                     # move the image 2 pixels right
    before, after = cl.conv2d(photo, any_kernel), cl.conv2d(shifted, any_kernel)
    print("output shifted by the same 2 pixels:",
          np.allclose(after[..., 2:], before[..., :-2]))
    """),
    md(r"""
    ## Summary

    * Signal-processing convolution flips the kernel: $y[n] = \sum_m w[k-1-m]\,x[n+m]$;
      cross-correlation does not: $y[n] = \sum_m w[m]\,x[n+m]$. In 2-D the flip is a rotation
      by half a turn.
    * Deep learning's convolution (`conv2d`, PyTorch's `conv2d`) is the cross-correlation.
      It does not matter, because the kernel is learned: a network that needs a flipped
      kernel learns it.
    * A layer is described by its kernel, stride, padding and channels.
    * Local connectivity and weight sharing make a convolution layer hundreds of millions of
      times smaller than a dense layer on an image, and make it treat every position alike.

    **Your turn:** [the exercises of chapter 01](../exercises/01_convolution_vs_correlation.ipynb)
    · previous: [00 Welcome](00_welcome.ipynb)
    · next: [02 Computing a convolution by hand](02_computing_convolution.ipynb)
    """),
]
