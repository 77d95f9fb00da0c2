"""convlab.nn: every backward pass against finite differences, and against PyTorch's autograd."""

import numpy as np
import pytest

from convlab import nn

RNG = np.random.default_rng(0)

LAYERS = {
    "conv": lambda: nn.Conv2d(3, 4, 3, rng=1),
    "conv_stride_pad": lambda: nn.Conv2d(2, 4, 3, stride=2, padding=1, rng=2),
    "conv_dilated": lambda: nn.Conv2d(2, 3, 3, padding=2, dilation=2, rng=3),
    "conv_grouped": lambda: nn.Conv2d(4, 6, (3, 2), padding=(1, 0), groups=2, rng=4),
    "conv_depthwise": lambda: nn.Conv2d(3, 3, 3, padding=1, groups=3, rng=5),
    "conv_rect_stride": lambda: nn.Conv2d(2, 2, 2, stride=(2, 1), bias=False, rng=6),
    "separable": lambda: nn.DepthwiseSeparable(3, 5, 3, padding=1, rng=7),
    "relu": nn.ReLU,
    "maxpool": lambda: nn.MaxPool2d(2),
    "maxpool_overlap": lambda: nn.MaxPool2d(3, stride=2, padding=1),
    "avgpool": lambda: nn.AvgPool2d(2),
    "avgpool_overlap": lambda: nn.AvgPool2d(3, stride=2, padding=1),
    "flatten": nn.Flatten,
    "linear": lambda: nn.Linear(12, 5, rng=8),
}

SHAPES = {"linear": (4, 12), "conv_grouped": (2, 4, 5, 6), "conv_depthwise": (2, 3, 5, 5),
          "conv_stride_pad": (2, 2, 7, 6), "conv_dilated": (2, 2, 6, 6), "flatten": (2, 3, 2, 2),
          "conv_rect_stride": (2, 2, 5, 5)}


def _input(name):
    # distinct values away from 0 and from each other: ReLU's kink and max-pool ties stay
    # further than the finite difference's step
    shape = SHAPES.get(name, (2, 3, 6, 6))
    values = RNG.permutation(np.prod(shape)).reshape(shape) * 0.1 + 0.05
    return values * RNG.choice([-1.0, 1.0], size=shape)


def _numeric(f, a, h=1e-6):
    """Central difference of the scalar ``f()`` w.r.t. every entry of ``a`` (changed in place)."""
    grad = np.zeros_like(a)
    for i in np.ndindex(a.shape):
        old = a[i]
        a[i] = old + h
        plus = f()
        a[i] = old - h
        minus = f()
        a[i] = old
        grad[i] = (plus - minus) / (2 * h)
    return grad


def _all_params(layer):
    if isinstance(layer, nn.Sequential):
        return [(owner.params, owner.grads, name) for owner, name in layer.parameters()]
    return [(layer.params, layer.grads, name) for name in layer.params]


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_backward_matches_finite_differences(name):
    layer = LAYERS[name]()
    x = _input(name)
    out = layer.forward(x)
    up = RNG.standard_normal(out.shape)
    dx = layer.backward(up)

    def loss():
        return float((layer.forward(x) * up).sum())

    np.testing.assert_allclose(dx, _numeric(loss, x), rtol=1e-5, atol=1e-7)
    for params, grads, key in _all_params(layer):
        np.testing.assert_allclose(grads[key], _numeric(loss, params[key]), rtol=1e-5,
                                   atol=1e-7, err_msg=key)


def test_softmax_cross_entropy_gradient():
    scores = RNG.standard_normal((5, 4))
    labels = np.array([0, 3, 1, 1, 2])
    loss = nn.SoftmaxCrossEntropy()
    loss.forward(scores, labels)
    numeric = _numeric(lambda: loss.forward(scores, labels), scores)
    loss.forward(scores, labels)
    np.testing.assert_allclose(loss.backward(), numeric, rtol=1e-6, atol=1e-9)
    # uniform scores: the loss is log(classes)
    assert loss.forward(np.zeros((3, 10)), np.array([1, 2, 3])) == pytest.approx(np.log(10))


def test_network_gradient_end_to_end():
    net = nn.digits_network("separable", seed=1, width=4, dtype=np.float64)
    x = RNG.random((2, 1, 8, 8))
    labels = np.array([3, 7])
    loss_fn = nn.SoftmaxCrossEntropy()
    loss_fn.forward(net.forward(x), labels)
    dx = net.backward(loss_fn.backward())

    def loss():
        return loss_fn.forward(net.forward(x), labels)

    np.testing.assert_allclose(dx, _numeric(loss, x), rtol=1e-4, atol=1e-8)
    layer, key = next(iter(net.parameters()))
    loss_fn.forward(net.forward(x), labels)
    net.backward(loss_fn.backward())
    np.testing.assert_allclose(layer.grads[key], _numeric(loss, layer.params[key]), rtol=1e-4,
                               atol=1e-8)


def test_counts_match_convlab_costs():
    import convlab as cl

    for kind in nn.DIGITS_KINDS:
        net = nn.digits_network(kind, width=32)
        assert net.output_shape((1, 8, 8)) == (10,)
        assert net.num_params() == sum(layer.params[k].size for layer, k in net.parameters())
    std = nn.digits_network("standard")
    # conv1 + conv2 + conv3 + linear, with biases
    assert std.num_params() == (16 * 9 + 16) + (32 * 16 * 9 + 32) + (64 * 32 * 9 + 64) + (
        256 * 10 + 10)
    assert std.macs((1, 8, 8)) == (cl.conv_cost(1, 16, 3, 8, padding=1).macs
                                   + cl.conv_cost(16, 32, 3, 8, padding=1).macs
                                   + cl.conv_cost(32, 64, 3, 4, padding=1).macs + 2560)
    sep = nn.digits_network("separable")
    assert sep.macs((1, 8, 8)) == (cl.conv_cost(1, 16, 3, 8, padding=1).macs
                                   + cl.depthwise_separable_cost(16, 32, 3, 8, padding=1).macs
                                   + cl.depthwise_separable_cost(32, 64, 3, 4, padding=1).macs
                                   + 2560)
    rows = std.summary((1, 8, 8))
    assert rows[4][1] == (32, 4, 4) and rows[-1][1] == (10,)
    assert sum(r[2] for r in rows) == std.num_params()


def test_optimizers_match_formulas():
    layer = nn.Linear(2, 1, rng=0)
    net = nn.Sequential(layer)
    w0 = layer.params["weight"].copy()
    g = np.array([[0.5, -1.0]])
    layer.grads = {"weight": g, "bias": np.array([0.0])}
    opt = nn.SGD(net, lr=0.1, momentum=0.9)
    opt.step()
    opt.step()
    np.testing.assert_allclose(layer.params["weight"], w0 - 0.1 * g - 0.1 * (0.9 * g + g))
    layer.params["weight"] = w0.copy()
    adam = nn.Adam(net, lr=0.01)
    adam.step()
    # the first Adam step moves every parameter by lr against its gradient's sign
    np.testing.assert_allclose(layer.params["weight"], w0 - 0.01 * np.sign(g), rtol=1e-6)


def test_train_learns_digits_quickly():
    x_train, y_train, x_test, y_test = nn.digits_split()
    assert x_train.shape == (1437, 1, 8, 8) and x_test.shape == (360, 1, 8, 8)
    net = nn.digits_network("grouped", width=16)
    calls = []
    history = nn.train(net, x_train[:400], y_train[:400], epochs=3,
                       progress=lambda step, steps, loss: calls.append((step, steps)))
    assert calls[-1] == (21, 21) and len(history.losses) == 21
    assert history.epoch_losses[-1] < history.epoch_losses[0]
    assert nn.accuracy(net, x_test, y_test) > 0.5


def test_errors_name_the_argument():
    with pytest.raises(ValueError, match="groups"):
        nn.Conv2d(4, 6, 3, groups=4)
    with pytest.raises(ValueError, match="kind"):
        nn.digits_network("dilated")
    with pytest.raises(ValueError, match="labels"):
        nn.train(nn.digits_network(), np.zeros((3, 1, 8, 8)), np.zeros(2, int))


torch = pytest.importorskip("torch")
F = torch.nn.functional


def _torch_layer(name, layer):
    """The PyTorch function equivalent to ``layer`` (same parameters)."""
    t = {k: torch.tensor(p, requires_grad=True) for k, p in layer.params.items()}
    if isinstance(layer, nn.Conv2d):
        return t, lambda x: F.conv2d(x, t["weight"], t.get("bias"), layer.stride,
                                     layer.padding, layer.dilation, layer.groups)
    if isinstance(layer, nn.Linear):
        return t, lambda x: F.linear(x, t["weight"], t["bias"])
    if isinstance(layer, nn.MaxPool2d):
        return t, lambda x: F.max_pool2d(x, layer.kernel_size, layer.stride, layer.padding)
    if isinstance(layer, nn.AvgPool2d):
        return t, lambda x: F.avg_pool2d(x, layer.kernel_size, layer.stride, layer.padding)
    if isinstance(layer, nn.ReLU):
        return t, F.relu
    return t, lambda x: torch.flatten(x, 1)


@pytest.mark.parametrize("name", sorted(set(LAYERS) - {"separable"}))
def test_backward_matches_torch_autograd(name):
    layer = LAYERS[name]()
    x = _input(name)
    out = layer.forward(x)
    up = RNG.standard_normal(out.shape)
    dx = layer.backward(up)
    params, f = _torch_layer(name, layer)
    xt = torch.tensor(x, requires_grad=True)
    yt = f(xt)
    np.testing.assert_allclose(out, yt.detach().numpy(), rtol=1e-10, atol=1e-12)
    yt.backward(torch.tensor(up))
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-10, atol=1e-12)
    for key, p in params.items():
        np.testing.assert_allclose(layer.grads[key], p.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_optimizers_match_torch():
    for make, torch_make in ((lambda net: nn.SGD(net, lr=0.1, momentum=0.9, weight_decay=0.01),
                              lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9,
                                                        weight_decay=0.01)),
                             (lambda net: nn.Adam(net, lr=0.01),
                              lambda p: torch.optim.Adam(p, lr=0.01))):
        layer = nn.Linear(3, 2, rng=0)
        net = nn.Sequential(layer)
        w = torch.tensor(layer.params["weight"], requires_grad=True)
        b = torch.tensor(layer.params["bias"], requires_grad=True)
        opt, topt = make(net), torch_make([w, b])
        for step in range(4):
            gw, gb = RNG.standard_normal((2, 3)), RNG.standard_normal(2)
            layer.grads = {"weight": gw, "bias": gb}
            w.grad, b.grad = torch.tensor(gw), torch.tensor(gb)
            opt.step()
            topt.step()
        np.testing.assert_allclose(layer.params["weight"], w.detach().numpy(), rtol=1e-10)
        np.testing.assert_allclose(layer.params["bias"], b.detach().numpy(), rtol=1e-10)
