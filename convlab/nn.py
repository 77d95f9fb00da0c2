"""A small neural-network layer set built on convlab's own forward and backward passes.

``from convlab import nn``. Each layer is a small object in the manner of CS231n's ``layers.py``:

* ``forward(x)`` computes the output and keeps what the backward pass needs (its *cache*);
* ``backward(dout)`` takes ``dL/d(output)``, returns ``dL/d(input)`` and stores the gradient of
  every parameter in ``layer.grads`` (same keys and shapes as ``layer.params``).

A convolution's backward pass is two convolutions (``convlab.grad``): the gradient w.r.t. the
input is the *transposed* convolution of ``dout`` with the same weight (``conv2d_input``), the
gradient w.r.t. the weight *correlates* the input with ``dout`` (``conv2d_weight``).

``Sequential`` chains layers and counts their parameters and multiply-adds (per image, from
``convlab.conv_cost``); ``SGD`` and ``Adam`` update parameters in place from ``grads``;
``train`` runs mini-batch training with a progress hook; ``digits_network`` builds chapter 15's
CNN for scikit-learn's 8x8 digits from standard, depthwise-separable or grouped layers.

Shapes are PyTorch's: images ``(N, C, H, W)``, conv weight ``(C_out, C_in/groups, kh, kw)``,
linear weight ``(out_features, in_features)``. Pooling and ReLU cost comparisons, not
multiply-adds: they count 0.
"""

import contextlib
import math
import time
from typing import NamedTuple

import numpy as np
from threadpoolctl import threadpool_limits

from . import _validate as v
from .arithmetic import conv_cost, conv_output_size
from .conv import conv2d
from .grad import conv2d_input, conv2d_weight

__all__ = [
    "SGD", "Adam", "AvgPool2d", "Conv2d", "DepthwiseSeparable", "Flatten", "History", "Linear",
    "MaxPool2d", "Module", "ReLU", "Sequential", "SoftmaxCrossEntropy", "accuracy",
    "digits_network", "digits_split", "predict", "train",
]


class Module:
    """Base of every layer: no parameters, no cost, shape unchanged."""

    def __init__(self):
        self.params = {}
        self.grads = {}

    def output_shape(self, input_shape):
        """Shape of one image's output ``(C, H, W)`` (or ``(features,)``) for one image's input."""
        return tuple(input_shape)

    def macs(self, input_shape):
        """Multiply-adds for one image of shape ``input_shape`` (without the batch axis)."""
        return 0

    def num_params(self):
        return sum(p.size for p in self.params.values())

    def __call__(self, x):
        return self.forward(x)

    def __repr__(self):
        return f"{type(self).__name__}()"


def _he(rng, shape, fan_in, dtype):
    # He et al. (2015): variance 2/fan_in keeps the activations' scale through ReLU layers
    return (rng.standard_normal(shape) * math.sqrt(2.0 / fan_in)).astype(dtype)


class Conv2d(Module):
    """2-D convolution layer: ``y = conv2d(x, weight, bias, stride, padding, dilation, groups)``.

    weight ``(C_out, C_in/groups, k, k)`` drawn with He initialisation from ``rng``; bias
    ``(C_out,)`` zeros. Input ``(N, C_in, H, W)``, output ``(N, C_out, H_out, W_out)`` with
    ``H_out = floor((H + 2p - d(k-1) - 1) / s) + 1``. ``groups=C_in`` makes it depthwise.
    """

    def __init__(self, c_in, c_out, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, rng=None, dtype=np.float64):
        super().__init__()
        fn = "Conv2d"
        c_in = v.int_value(fn, "c_in", c_in, 1)
        c_out = v.int_value(fn, "c_out", c_out, 1)
        self.groups = v.int_value(fn, "groups", groups, 1)
        v.groups_divide(fn, self.groups, C_in=c_in, C_out=c_out)
        self.kernel_size = v.int_tuple(fn, "kernel_size", kernel_size, 2, 1)
        self.stride = v.int_tuple(fn, "stride", stride, 2, 1)
        self.padding = v.int_tuple(fn, "padding", padding, 2, 0)
        self.dilation = v.int_tuple(fn, "dilation", dilation, 2, 1)
        self.c_in, self.c_out = c_in, c_out
        rng = np.random.default_rng(rng)
        shape = (c_out, c_in // self.groups) + self.kernel_size
        self.params["weight"] = _he(rng, shape, math.prod(shape[1:]), dtype)
        if bias:
            self.params["bias"] = np.zeros(c_out, dtype)

    def forward(self, x):
        self.x = x
        return conv2d(x, self.params["weight"], self.params.get("bias"), self.stride,
                      self.padding, self.dilation, self.groups)

    def backward(self, dout):
        w = self.params["weight"]
        args = (self.stride, self.padding, self.dilation, self.groups)
        self.grads["weight"] = conv2d_weight(self.x, w.shape, dout, *args)
        if "bias" in self.params:
            self.grads["bias"] = dout.sum(axis=(0, 2, 3))
        return conv2d_input(self.x.shape, w, dout, *args)

    def output_shape(self, input_shape):
        return (self.c_out,) + tuple(
            conv_output_size(i, k, s, p, d) for i, k, s, p, d in
            zip(input_shape[1:], self.kernel_size, self.stride, self.padding, self.dilation))

    def macs(self, input_shape):
        return conv_cost(self.c_in, self.c_out, self.kernel_size, tuple(input_shape[1:]),
                         self.stride, self.padding, self.dilation, self.groups).macs

    def __repr__(self):
        k = "x".join(map(str, self.kernel_size))
        extra = "".join(f", {name}={value[0]}" for name, value, default in
                        (("stride", self.stride, 1), ("padding", self.padding, 0),
                         ("dilation", self.dilation, 1)) if value != (default, default))
        if self.groups > 1:
            extra += f", groups={self.groups}"
        return f"Conv2d({self.c_in}, {self.c_out}, {k}{extra})"


class ReLU(Module):
    """``max(x, 0)``; its gradient passes where the input was positive."""

    def forward(self, x):
        self.mask = x > 0
        return x * self.mask

    def backward(self, dout):
        return dout * self.mask


class _Pool(Module):
    """Shared geometry of the pooling layers: a ``k x k`` window every ``s`` pixels."""

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        fn = type(self).__name__
        self.kernel_size = v.int_tuple(fn, "kernel_size", kernel_size, 2, 1)
        self.stride = (self.kernel_size if stride is None
                       else v.int_tuple(fn, "stride", stride, 2, 1))
        self.padding = v.int_tuple(fn, "padding", padding, 2, 0)

    def _taps(self, shape):
        """For every tap ``(i, j)`` of the window, in row-major order, the slice of the padded
        input it reads for all outputs: input ``(r*s + i, q*s + j)`` for output ``(r, q)``."""
        (sh, sw), (kh, kw) = self.stride, self.kernel_size
        oh, ow = self.output_shape(shape[1:])[1:]
        for i in range(kh):
            for j in range(kw):
                yield (slice(None), slice(None), slice(i, i + sh * (oh - 1) + 1, sh),
                       slice(j, j + sw * (ow - 1) + 1, sw))

    def _padded(self, x, fill):
        (ph, pw) = self.padding
        self.shape, self.dtype = x.shape, x.dtype
        return np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=fill) \
            if ph or pw else x

    def _scatter(self, per_tap):
        """The transposed view of pooling: add ``per_tap(tap)`` (``(N, C, H_out, W_out)``)
        to the input pixels tap number ``tap`` read, then drop the padding."""
        (ph, pw) = self.padding
        n, c, h, w = self.shape
        dxp = np.zeros((n, c, h + 2 * ph, w + 2 * pw), self.dtype)
        for tap, where in enumerate(self._taps(self.shape)):
            dxp[where] += per_tap(tap)
        return dxp[:, :, ph:ph + h, pw:pw + w]

    def output_shape(self, input_shape):
        return (input_shape[0],) + tuple(
            conv_output_size(i, k, s, p) for i, k, s, p in
            zip(input_shape[1:], self.kernel_size, self.stride, self.padding))

    def __repr__(self):
        return f"{type(self).__name__}({self.kernel_size[0]}, stride={self.stride[0]})"


class MaxPool2d(_Pool):
    """Largest value in each ``k x k`` window (stride defaults to ``k``; padding with -inf).

    Input ``(N, C, H, W)``, output ``(N, C, H_out, W_out)``. The gradient goes to the window's
    largest input only (the first one on a tie, as ``argmax`` picks it).
    """

    def forward(self, x):
        xp = self._padded(x, -np.inf)
        out = None
        # the running maximum over the taps, and which tap gave it (a later tap wins only if
        # strictly larger: the first on a tie, as argmax)
        for tap, where in enumerate(self._taps(x.shape)):
            if out is None:
                out, self.arg = xp[where].copy(), np.zeros(xp[where].shape, np.int16)
            else:
                np.copyto(self.arg, tap, where=xp[where] > out)
                np.maximum(out, xp[where], out=out)
        return out

    def backward(self, dout):
        return self._scatter(lambda tap: dout * (self.arg == tap))


class AvgPool2d(_Pool):
    """Mean of each ``k x k`` window (stride defaults to ``k``; zero padding counted, as in
    PyTorch's default ``count_include_pad=True``). Each input gets ``dout / (kh*kw)``."""

    def forward(self, x):
        xp = self._padded(x, 0.0)
        return sum(xp[where] for where in self._taps(x.shape)) / math.prod(self.kernel_size)

    def backward(self, dout):
        share = dout / math.prod(self.kernel_size)
        return self._scatter(lambda tap: share)


class Flatten(Module):
    """``(N, C, H, W) -> (N, C*H*W)``, in C order (as ``torch.flatten(x, 1)``)."""

    def forward(self, x):
        self.shape = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, dout):
        return dout.reshape(self.shape)

    def output_shape(self, input_shape):
        return (math.prod(input_shape),)


class Linear(Module):
    """``y = x @ weight.T + bias``: weight ``(out_features, in_features)``, x ``(N, in)``."""

    def __init__(self, in_features, out_features, bias=True, rng=None, dtype=np.float64):
        super().__init__()
        self.in_features = v.int_value("Linear", "in_features", in_features, 1)
        self.out_features = v.int_value("Linear", "out_features", out_features, 1)
        rng = np.random.default_rng(rng)
        self.params["weight"] = _he(rng, (out_features, in_features), in_features, dtype)
        if bias:
            self.params["bias"] = np.zeros(out_features, dtype)

    def forward(self, x):
        self.x = x
        y = x @ self.params["weight"].T
        return y + self.params["bias"] if "bias" in self.params else y

    def backward(self, dout):
        self.grads["weight"] = dout.T @ self.x
        if "bias" in self.params:
            self.grads["bias"] = dout.sum(axis=0)
        return dout @ self.params["weight"]

    def output_shape(self, input_shape):
        return (self.out_features,)

    def macs(self, input_shape):
        return self.in_features * self.out_features

    def __repr__(self):
        return f"Linear({self.in_features}, {self.out_features})"


class SoftmaxCrossEntropy:
    """Mean cross-entropy of softmax(scores) against integer labels.

    ``forward(scores (N, classes), labels (N,))`` returns the loss (a float);
    ``backward()`` returns ``dL/dscores = (softmax(scores) - onehot(labels)) / N``.
    """

    def forward(self, scores, labels):
        shifted = scores - scores.max(axis=1, keepdims=True)  # exp never overflows
        log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        self.probs, self.labels = np.exp(log_probs), labels
        return float(-log_probs[np.arange(len(labels)), labels].mean())

    def backward(self):
        d = self.probs.copy()
        d[np.arange(len(self.labels)), self.labels] -= 1.0
        return d / len(self.labels)

    def __call__(self, scores, labels):
        return self.forward(scores, labels)


class Sequential(Module):
    """Layers applied in order; the backward pass runs them in reverse.

    ``net.layers`` is the list; ``net.parameters()`` yields ``(layer, name)`` pairs of every
    parameter (nested containers included); ``net.num_params()`` and
    ``net.macs(input_shape)`` count the whole network for one image; ``net.summary(shape)``
    lists every layer with its output shape, parameters and multiply-adds.
    """

    def __init__(self, *layers):
        super().__init__()
        for layer in layers:
            if not hasattr(layer, "forward") or not hasattr(layer, "backward"):
                raise ValueError(f"Sequential: every layer needs forward and backward, got "
                                 f"{layer!r}")
        self.layers = list(layers)

    def forward(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, dout):
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        return dout

    def parameters(self):
        for layer in self.layers:
            if isinstance(layer, Sequential):
                yield from layer.parameters()
            else:
                for name in layer.params:
                    yield layer, name

    def num_params(self):
        return sum(layer.num_params() for layer in self.layers)

    def output_shape(self, input_shape):
        for layer in self.layers:
            input_shape = layer.output_shape(input_shape)
        return input_shape

    def macs(self, input_shape):
        total = 0
        for layer in self.layers:
            total += layer.macs(input_shape)
            input_shape = layer.output_shape(input_shape)
        return total

    def summary(self, input_shape):
        """Rows ``(layer, output shape, parameters, multiply-adds)`` for one image."""
        rows = []
        for layer in self.layers:
            macs = layer.macs(input_shape)
            input_shape = layer.output_shape(input_shape)
            rows.append((repr(layer), tuple(input_shape), layer.num_params(), macs))
        return rows

    def __repr__(self):
        inner = ",\n  ".join(repr(layer).replace("\n", "\n  ") for layer in self.layers)
        return f"{type(self).__name__}(\n  {inner})"


class DepthwiseSeparable(Sequential):
    """A depthwise ``k x k`` convolution (``groups=C_in``) followed by a pointwise 1x1 one.

    Replaces ``Conv2d(c_in, c_out, k, ...)``: the same output shape for
    ``c_in*k*k + c_in*c_out`` weights instead of ``c_in*c_out*k*k`` (plus biases), as
    ``convlab.depthwise_separable_cost`` counts. No non-linearity between the two.
    """

    def __init__(self, c_in, c_out, kernel_size, stride=1, padding=0, dilation=1, bias=True,
                 rng=None, dtype=np.float64):
        rng = np.random.default_rng(rng)
        super().__init__(
            Conv2d(c_in, c_in, kernel_size, stride, padding, dilation, groups=c_in, bias=bias,
                   rng=rng, dtype=dtype),
            Conv2d(c_in, c_out, 1, bias=bias, rng=rng, dtype=dtype))

    def __repr__(self):
        depthwise, pointwise = self.layers
        extra = repr(depthwise).split("x", 1)[1].replace(f", groups={depthwise.groups}", "")
        return f"DepthwiseSeparable({pointwise.c_in}, {pointwise.c_out}, " \
               f"{depthwise.kernel_size[0]}x{extra}"


# --- optimisers ------------------------------------------------------------------------------


class _Optimizer:
    def __init__(self, net, lr):
        if not hasattr(net, "parameters"):
            raise ValueError(f"{type(self).__name__}: give the network (a Sequential), got "
                             f"{net!r}")
        self.net, self.lr = net, float(lr)
        self.state = {}

    def step(self):
        """Update every parameter in place from the gradients of the last backward pass."""
        for layer, name in self.net.parameters():
            key = (id(layer), name)
            self._update(layer.params[name], layer.grads[name], key)


class SGD(_Optimizer):
    """Stochastic gradient descent with momentum, as ``torch.optim.SGD``:
    ``v = momentum * v + g``, ``p -= lr * v`` (``g`` includes ``weight_decay * p``)."""

    def __init__(self, net, lr=0.05, momentum=0.9, weight_decay=0.0):
        super().__init__(net, lr)
        self.momentum, self.weight_decay = float(momentum), float(weight_decay)

    def _update(self, p, g, key):
        if self.weight_decay:
            g = g + self.weight_decay * p
        if self.momentum:
            velocity = self.state.get(key)
            velocity = g.copy() if velocity is None else self.momentum * velocity + g
            self.state[key] = velocity
            g = velocity
        p -= self.lr * g


class Adam(_Optimizer):
    """Adam (Kingma & Ba, 2015), as ``torch.optim.Adam``: running means of the gradient ``m``
    and of its square ``u``, bias-corrected, ``p -= lr * m_hat / (sqrt(u_hat) + eps)``."""

    def __init__(self, net, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
        super().__init__(net, lr)
        self.beta1, self.beta2 = map(float, betas)
        self.eps = float(eps)
        self.t = 0

    def step(self):
        self.t += 1
        super().step()

    def _update(self, p, g, key):
        m, u = self.state.get(key, (np.zeros_like(p), np.zeros_like(p)))
        m = self.beta1 * m + (1 - self.beta1) * g
        u = self.beta2 * u + (1 - self.beta2) * g * g
        self.state[key] = (m, u)
        m_hat = m / (1 - self.beta1 ** self.t)
        u_hat = u / (1 - self.beta2 ** self.t)
        p -= (self.lr * m_hat / (np.sqrt(u_hat) + self.eps)).astype(p.dtype, copy=False)


# --- training --------------------------------------------------------------------------------


class History(NamedTuple):
    """What ``train`` measured: the loss of every step, the mean loss and the seconds of every
    epoch (the network's forward, backward and update only)."""

    losses: list
    epoch_losses: list
    seconds: float


def predict(net, x, batch_size=256):
    """Class scores ``(N, classes)`` of ``x`` ``(N, C, H, W)``, computed a batch at a time."""
    return np.concatenate([net.forward(x[i:i + batch_size])
                           for i in range(0, len(x), batch_size)])


def accuracy(net, x, labels):
    """Share of ``x`` whose highest score is its label (0..1)."""
    return float((predict(net, x).argmax(axis=1) == labels).mean())


def train(net, x, labels, epochs=6, batch_size=64, optimizer=None, seed=0, progress=None,
          threads=1):
    """Mini-batch training of ``net`` with softmax cross-entropy.

    Parameters
    ----------
    net : Sequential, ending in class scores ``(N, classes)``
    x : array ``(N, C, H, W)``; labels : int array ``(N,)``
    epochs, batch_size : ints; each epoch visits every image once, in a fresh random order
        (from ``seed``); the last batch may be smaller
    optimizer : SGD or Adam on ``net`` (default ``Adam(net, lr=5e-3)``)
    progress : None or ``progress(step, steps, loss)``, called after every step (1-based)
    threads : int or None, the BLAS threads while training (None: leave BLAS as it is). A
        small network's matrix products (tens of channels, a batch of 8x8 images) take
        microseconds, less than waking a second thread: one thread trained chapter 15's
        standard network 4 times faster than two on a busy 2-core machine (benchmarks/)

    Returns
    -------
    History: every step's loss, every epoch's mean loss, the training time in seconds.
    """
    fn = "train"
    if len(x) != len(labels):
        raise ValueError(f"{fn}: x has {len(x)} images but labels has {len(labels)}")
    epochs = v.int_value(fn, "epochs", epochs, 1)
    batch_size = v.int_value(fn, "batch_size", batch_size, 1)
    optimizer = Adam(net, lr=5e-3) if optimizer is None else optimizer
    loss_fn = SoftmaxCrossEntropy()
    rng = np.random.default_rng(seed)
    per_epoch = -(-len(x) // batch_size)
    losses, epoch_losses, seconds = [], [], 0.0
    with (contextlib.nullcontext() if threads is None
          else threadpool_limits(v.int_value(fn, "threads", threads, 1), user_api="blas")):
        for _ in range(epochs):
            seconds += _epoch(net, x, labels, batch_size, optimizer, loss_fn,
                              rng.permutation(len(x)), losses, progress, epochs * per_epoch)
            epoch_losses.append(float(np.mean(losses[-per_epoch:])))
    return History(losses, epoch_losses, seconds)


def _epoch(net, x, labels, batch_size, optimizer, loss_fn, order, losses, progress, steps):
    """One pass over ``x`` in the given ``order``; returns the seconds of its steps."""
    seconds = 0.0
    for b in range(0, len(x), batch_size):
        batch = order[b:b + batch_size]
        start = time.perf_counter()
        loss = loss_fn.forward(net.forward(x[batch]), labels[batch])
        net.backward(loss_fn.backward())
        optimizer.step()
        seconds += time.perf_counter() - start
        losses.append(loss)
        if progress is not None:
            progress(len(losses), steps, loss)
    return seconds


def digits_split(test_size=360, seed=0, dtype=np.float32):
    """scikit-learn's 8x8 digits (``convlab.data.digits``), shuffled and split.

    Returns ``x_train (N, 1, 8, 8), y_train (N,), x_test, y_test`` with ``test_size`` test
    images, values in [0, 1] as ``dtype``.
    """
    from .data import digits

    images, labels = digits()
    order = np.random.default_rng(seed).permutation(len(images))
    images, labels = images[order].astype(dtype), labels[order]
    return images[test_size:], labels[test_size:], images[:test_size], labels[:test_size]


DIGITS_KINDS = ("standard", "separable", "grouped")


def digits_network(kind="standard", seed=0, width=32, groups=4, dtype=np.float32):
    """Chapter 15's CNN for 8x8 digits ``(N, 1, 8, 8)`` -> 10 class scores.

    ``conv 3x3 (1 -> w/2) · ReLU · conv 3x3 (w/2 -> w) · ReLU · max-pool 2 ·
    conv 3x3 (w -> 2w) · ReLU · avg-pool 2 · flatten · linear (2w*2*2 -> 10)``, padding 1.
    ``kind`` says how the second and third convolutions are built: ``"standard"``,
    ``"separable"`` (``DepthwiseSeparable``) or ``"grouped"`` (``groups`` groups). The first
    convolution sees one channel, so it is standard in all three.
    """
    fn = "digits_network"
    if kind not in DIGITS_KINDS:
        raise ValueError(f"{fn}: kind must be one of {DIGITS_KINDS}, got {kind!r}")
    rng = np.random.default_rng(seed)

    def conv(c_in, c_out):
        if kind == "separable":
            return DepthwiseSeparable(c_in, c_out, 3, padding=1, rng=rng, dtype=dtype)
        return Conv2d(c_in, c_out, 3, padding=1, groups=groups if kind == "grouped" else 1,
                      rng=rng, dtype=dtype)

    half = width // 2
    return Sequential(
        Conv2d(1, half, 3, padding=1, rng=rng, dtype=dtype), ReLU(),
        conv(half, width), ReLU(), MaxPool2d(2),
        conv(width, 2 * width), ReLU(), AvgPool2d(2),
        Flatten(), Linear(2 * width * 2 * 2, 10, rng=rng, dtype=dtype))
