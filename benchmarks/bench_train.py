"""One epoch of chapter 15's CNN, convlab against PyTorch: ``python benchmarks/bench_train.py``.

The standard network of ``convlab.nn.digits_network`` (three 3x3 convolutions, max and average
pooling, a linear layer; 25,866 parameters) and the identical ``torch.nn`` network, with the
same initial weights, the same mini-batches (64 images, in the same order), Adam (lr 0.005)
and float32, one epoch over the 1,437 training digits each. Both run in one process:

* same allocator: glibc's ``MALLOC_MMAP_THRESHOLD_`` and ``MALLOC_TRIM_THRESHOLD_`` are raised
  before the process starts (the script re-executes itself with them if they are not set), so
  that neither library pays page faults for memory the allocator handed back to the system;
* alternating rounds: each round times one epoch of every configuration, each going first in
  turn; the best of ``--rounds`` is reported (the machine's other load only ever adds time);
* threads: PyTorch with ``torch.set_num_threads(--threads)`` (default 2) and with 1; convlab
  as ``nn.train`` runs it (one BLAS thread, its default) and with BLAS's ``--threads``.

It first checks that the two networks agree (the first step's loss and gradients), then
prints the epochs' times, the ratio convlab / PyTorch, and where convlab's epoch goes: the
forward and backward time of every layer and the optimiser's (``--profile``, on by default).
A benchmark, not a test: nothing fails on a slow machine. ``benchmarks/README.md`` has the
figures.
"""

import argparse
import os

from allocator import described, same_allocator

PARSER = argparse.ArgumentParser(description=__doc__.splitlines()[0])
PARSER.add_argument("--threads", type=int, default=2, help="torch and BLAS threads (default 2)")
PARSER.add_argument("--rounds", type=int, default=5, help="alternating rounds (default 5)")
PARSER.add_argument("--no-profile", action="store_true", help="skip convlab's per-layer profile")
ARGS = PARSER.parse_args()

same_allocator()
# BLAS reads its thread count when it is loaded, so this comes before NumPy's import.
for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_name] = str(ARGS.threads)

import collections  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

from convlab import nn  # noqa: E402

BATCH, LR = 64, 0.005


def torch_twin(net):
    """The ``torch.nn`` network with ``net``'s layers and weights (a copy)."""
    layers = []
    for layer in net.layers:
        if isinstance(layer, nn.Conv2d):
            conv = torch.nn.Conv2d(layer.c_in, layer.c_out, layer.kernel_size, layer.stride,
                                   layer.padding, layer.dilation, layer.groups)
            conv.weight.data = torch.tensor(layer.params["weight"])
            conv.bias.data = torch.tensor(layer.params["bias"])
            layers.append(conv)
        elif isinstance(layer, nn.Linear):
            linear = torch.nn.Linear(layer.in_features, layer.out_features)
            linear.weight.data = torch.tensor(layer.params["weight"])
            linear.bias.data = torch.tensor(layer.params["bias"])
            layers.append(linear)
        elif isinstance(layer, nn.MaxPool2d):
            layers.append(torch.nn.MaxPool2d(layer.kernel_size, layer.stride, layer.padding))
        elif isinstance(layer, nn.AvgPool2d):
            layers.append(torch.nn.AvgPool2d(layer.kernel_size, layer.stride, layer.padding))
        elif isinstance(layer, nn.ReLU):
            layers.append(torch.nn.ReLU())
        elif isinstance(layer, nn.Flatten):
            layers.append(torch.nn.Flatten())
        else:
            raise ValueError(f"no PyTorch twin for {layer!r}")
    return torch.nn.Sequential(*layers)


def torch_epoch(model, optimizer, x, y, order):
    """One epoch in PyTorch over the batches of ``order``; returns (seconds, last loss)."""
    loss_fn = torch.nn.CrossEntropyLoss()
    start = time.perf_counter()
    for b in range(0, len(order), BATCH):
        batch = order[b:b + BATCH]
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model(x[batch]), y[batch])
        loss.backward()
        optimizer.step()
    return time.perf_counter() - start, float(loss)


def convlab_epoch(net, optimizer, x, y, order, threads):
    """One epoch of ``nn.train``'s loop (its own ``_epoch``) with ``threads`` BLAS threads."""
    from threadpoolctl import threadpool_limits

    losses = []
    with threadpool_limits(threads, user_api="blas"):
        seconds = nn._epoch(net, x, y, BATCH, optimizer, nn.SoftmaxCrossEntropy(), order,
                            losses, None, 0)
    return seconds, losses[-1]


def check_agreement(x, y):
    """The first step's loss and first-layer weight gradient agree between the two."""
    net = nn.digits_network("standard", seed=0)
    model = torch_twin(net)
    loss_fn = nn.SoftmaxCrossEntropy()
    loss = loss_fn.forward(net.forward(x[:BATCH]), y[:BATCH])
    net.backward(loss_fn.backward())
    t_loss = torch.nn.functional.cross_entropy(model(torch.tensor(x[:BATCH])),
                                               torch.tensor(y[:BATCH]))
    t_loss.backward()
    t_loss = float(t_loss.detach())
    grad = net.layers[0].grads["weight"]
    assert abs(loss - t_loss) < 1e-5 * abs(loss), (loss, t_loss)
    assert np.allclose(grad, model[0].weight.grad.numpy(), rtol=1e-3, atol=1e-6)
    print(f"first step: loss {loss:.6f} (convlab) and {t_loss:.6f} (PyTorch); "
          f"gradients agree")


def profile(x, y, order):
    """Seconds of each layer's forward and backward in one convlab epoch (one BLAS thread)."""
    net = nn.digits_network("standard", seed=0)
    spent = collections.Counter()

    def timed(name, method):
        def wrapper(*args):
            start = time.perf_counter()
            out = method(*args)
            spent[name] += time.perf_counter() - start
            return out
        return wrapper

    for n, layer in enumerate(net.layers):
        name = f"{n}: {layer!r}"
        layer.forward = timed(f"{name} forward", layer.forward)
        layer.backward = timed(f"{name} backward", layer.backward)
    optimizer = nn.Adam(net, lr=LR)
    optimizer.step = timed("Adam step", optimizer.step)
    total, _ = convlab_epoch(net, optimizer, x, y, order, 1)
    print(f"\nwhere convlab's epoch goes ({total * 1e3:.0f} ms, one BLAS thread):")
    for name, seconds in spent.most_common():
        print(f"  {seconds * 1e3:7.1f} ms  {seconds / total:5.1%}  {name}")
    print(f"  {(total - sum(spent.values())) * 1e3:7.1f} ms  "
          f"{1 - sum(spent.values()) / total:5.1%}  loss and batching")


def main():
    x_train, y_train, _, _ = nn.digits_split()
    x_t, y_t = torch.tensor(x_train), torch.tensor(y_train)
    order = np.random.default_rng(0).permutation(len(x_train))
    print(f"{len(x_train)} digits, batches of {BATCH}, {-(-len(x_train) // BATCH)} steps per "
          f"epoch; allocator: {described()}; torch {torch.__version__}")
    check_agreement(x_train, y_train)

    def run_torch(threads):
        def run():
            torch.set_num_threads(threads)
            model = torch_twin(nn.digits_network("standard", seed=0))
            return torch_epoch(model, torch.optim.Adam(model.parameters(), lr=LR), x_t, y_t,
                               torch.tensor(order))
        return run

    def run_convlab(threads):
        def run():
            net = nn.digits_network("standard", seed=0)
            return convlab_epoch(net, nn.Adam(net, lr=LR), x_train, y_train, order, threads)
        return run

    configs = {
        f"PyTorch, {ARGS.threads} threads": run_torch(ARGS.threads),
        "PyTorch, 1 thread": run_torch(1),
        "convlab, 1 BLAS thread (nn.train)": run_convlab(1),
        f"convlab, {ARGS.threads} BLAS threads": run_convlab(ARGS.threads),
    }
    for run in configs.values():  # warm up: first calls load code and fault pages in
        run()
    times = {name: [] for name in configs}
    losses = {}
    names = list(configs)
    for r in range(ARGS.rounds):
        for name in names[r % len(names):] + names[:r % len(names)]:
            seconds, losses[name] = configs[name]()
            times[name].append(seconds)
    best = {name: min(t) for name, t in times.items()}
    print(f"\none epoch, best of {ARGS.rounds} alternating rounds (median in brackets):")
    for name in names:
        print(f"  {name:36} {best[name] * 1e3:7.0f} ms  ({np.median(times[name]) * 1e3:.0f})"
              f"  last loss {losses[name]:.4f}")
    torch_best = best[f"PyTorch, {ARGS.threads} threads"]
    for name in names[2:]:
        print(f"ratio {name} / PyTorch, {ARGS.threads} threads: {best[name] / torch_best:.2f}")
    if not ARGS.no_profile:
        profile(x_train, y_train, order)


if __name__ == "__main__":
    main()
