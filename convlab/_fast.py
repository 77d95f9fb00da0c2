"""The fast contractions behind ``convlab.conv``: its numbers, as fast as NumPy computes them.

``convlab.conv`` reads as the mechanism the course teaches (pad, strided windows, contraction);
this module is its step 3, reached through one call per op (``conv``, ``conv_transpose``,
``conv_weight``). Nothing here changes what is computed, only how:

* dense and grouped layers: im2col, copied block by block into a cache-sized buffer and
  multiplied by the weight (BLAS), written straight into the output;
* 3x3, stride 1, ungrouped, many channels: Winograd's F(2x2, 3x3), 2.25 times fewer products;
* 1x1, stride 1: the input itself is the matrix, nothing is copied;
* depthwise: one multiply-add per tap over whole flattened images (BLAS has nothing to do);
* transposed: a scatter (one product for every tap, then adds into each output phase) or, for
  stride 1 and depthwise, the direct convolution of each output phase: never a product with an
  inserted zero;
* the weight gradient: im2col blocks multiplied by the upstream gradient.

The blocks run on as many threads as BLAS uses (``_parallel``), each thread with its own
scratch memory kept from call to call (``_scratch``). ``benchmarks/README.md`` has the timings
behind each choice.
"""

import contextvars
import itertools
import math
import os
import threading
from concurrent.futures import ThreadPoolExecutor, wait

import numpy as np
from threadpoolctl import ThreadpoolController

# conv.py holds the mechanism (padding, windows, the flipped kernel) and calls this module for
# its contraction: importing the module, not its names, keeps that cycle harmless
from . import conv as mechanism

# --- threads and blocks ------------------------------------------------------------------------
#
# NumPy runs its own loops (copies, multiply-adds) on one core; only BLAS uses the others. The
# blocks below are independent, so they are spread over as many Python threads as BLAS has
# (NumPy releases the GIL inside its loops), with BLAS single-threaded meanwhile: a product per
# thread and block beats sharing each block's product between cores, which must synchronise.

_BLAS = ThreadpoolController().select(user_api="blas")


def _fresh_threads():
    """Make ``_parallel``'s thread pool (its threads start on first use) and its lock.

    BLAS's thread count is one setting for the whole process, so one parallel section at a time
    may change it. A forked child makes its own: its parent's threads did not come along.
    """
    global _POOL, _LOCK
    _POOL = ThreadPoolExecutor(os.cpu_count(), thread_name_prefix="convlab")
    _LOCK = threading.Lock()


_fresh_threads()
os.register_at_fork(after_in_child=_fresh_threads)

# The size of one block (bytes): about a core's L2 cache, so a block's copy of the windows is
# still in cache when the matrix product reads it (BLAS runs fastest on such blocks), and
# memory stays at a block per thread; but at least _BLOCK_COLUMNS output positions, so the
# product's cost is not in packing the weight.
_BLOCK_BYTES = 1 << 20
_BLOCK_COLUMNS = 256


class _Shared:
    """The items of one parallel section, taken one at a time by all its threads.

    ``stop()`` ends the iteration for every thread: each finishes the item it holds.
    """

    def __init__(self, items):
        self._items = iter(items)
        self._stopped = False

    def __iter__(self):
        return self

    def __next__(self):
        if self._stopped:
            raise StopIteration
        return next(self._items)

    def stop(self):
        self._stopped = True


def _parallel(task, items, weight_bytes=0):
    """``task(shared)`` on as many threads as BLAS uses, all taking items from one iterator.

    Returns the tasks' results. Each task holds its own scratch memory. The items run on one
    thread, BLAS keeping its threads, when

    * their products read a weight of more than ``_BLOCK_BYTES`` (``weight_bytes``): a block
      per thread would have each core read the whole weight, where BLAS splits each product
      (the 256-channel layer: 15 ms with a block per thread, 9.5 ms with BLAS's threads);
    * there are fewer than two per thread: waking a thread costs 25 to 100 us here (the MNIST
      layer, 0.5 ms of work, measured as the benchmark runs it: 0.48 ms on one thread, 0.75 ms
      on two).

    Otherwise they run on a thread per core with BLAS single-threaded meanwhile (a product per
    thread beats sharing each product between cores). BLAS's thread count is a process-wide
    setting, changed under a lock and restored after.

    An exception on any thread (an error, ``MemoryError``, ``FloatingPointError`` under
    ``np.errstate(all="raise")``, which the workers share with the caller, or the
    ``KeyboardInterrupt`` of Ctrl-C, which Python raises in the main thread) stops every
    thread after the item it holds, and surfaces as itself once none is computing.
    """
    before = [lib.num_threads for lib in _BLAS.lib_controllers]
    threads = max(before, default=1)
    if threads == 1 or weight_bytes > _BLOCK_BYTES or len(items) < 2 * threads:
        return [task(iter(items))] if items else []
    shared = _Shared(items)
    with _LOCK:
        futures = []
        try:
            for lib in _BLAS.lib_controllers:  # as threadpoolctl's limit(), in a fifth the time
                lib.set_num_threads(1)
            # each worker runs in a copy of the caller's context, where np.errstate lives
            futures = [_POOL.submit(contextvars.copy_context().run, _worker, task, shared)
                       for _ in range(threads - 1)]
            results = [task(shared)]
            results += [f.result() for f in futures]
        except BaseException:
            shared.stop()
            _settle(futures)
            raise
        finally:
            for lib, count in zip(_BLAS.lib_controllers, before):
                lib.set_num_threads(count)
    return results


def _worker(task, shared):
    """``task(shared)`` on a pool thread; its exception stops the other threads too."""
    try:
        return task(shared)
    except BaseException:
        shared.stop()
        raise


def _settle(futures):
    """Wait until every future is done, through further interrupts (a block's time at most)."""
    while True:
        try:
            wait(futures)
            return
        except KeyboardInterrupt:  # Ctrl-C pressed again: the first is on its way already
            continue


def _pad(x, pairs):
    """``conv._pad`` with a large copy spread over the threads, an image per item.

    The copy is the first touch of the padded array's fresh pages, so two threads fault them in
    about half the time (the depthwise layer's padding: 1.6 -> 1.0 ms). A small input is copied
    at once, since the threads would cost more than the copy.
    """
    return mechanism._pad(x, pairs, _copy)


def _copy(destination, source):
    if destination.nbytes < 4 * _BLOCK_BYTES:
        np.copyto(destination, source)
        return

    def task(shared):
        for images in shared:
            destination[images] = source[images]

    _parallel(task, [slice(i, i + 1) for i in range(source.shape[0])])


# Fresh memory costs a page fault per 4 KiB on first touch, and glibc gives large blocks back to
# the system when they are freed: a layer's scratch (several MiB), allocated afresh at every
# call, cost as much as its arithmetic here (the 256-channel layer: 20 ms instead of 10). So each
# thread keeps its scratch arrays from call to call, as large as the largest layer needed.
_SCRATCH = threading.local()


def _scratch(name, size, dtype):
    """This thread's scratch array ``name`` of ``size`` elements (contents undefined)."""
    kept = _SCRATCH.__dict__
    nbytes = size * np.dtype(dtype).itemsize
    if name not in kept or kept[name].size < nbytes:
        kept[name] = np.empty(nbytes, np.uint8)
    return kept[name][:nbytes].view(dtype)


def _blocks(n, sizes, items):
    """Boxes of an ``(n, *sizes)`` grid, each of about ``items`` elements, in row-major order.

    Each box is ``(images, (slice per axis of sizes))``: a run of whole images if one image fits,
    else a run along the first axis one of whose slices fits (one index on the axes before it).
    """
    sizes = (n,) + tuple(sizes)
    axis = 0
    while axis < len(sizes) - 1 and math.prod(sizes[axis + 1:]) > items:
        axis += 1
    # as many runs as needed, then all of one length: threads finish together
    runs = -(-sizes[axis] // max(1, items // math.prod(sizes[axis + 1:])))
    step = max(1, -(-sizes[axis] // max(1, runs)))
    boxes = []
    for lead in itertools.product(*map(range, sizes[:axis])):
        for i in range(0, sizes[axis], step):
            box = [slice(b, b + 1) for b in lead] + [slice(i, min(i + step, sizes[axis]))]
            boxes.append((box[0], tuple(box[1:]) + tuple(slice(0, o) for o in sizes[axis + 1:])))
    return boxes


def _im2col_sum(xp, kernel_size, stride, dilation, out_size, worker, taps_first=False, longer=1,
                weight_bytes=0):
    """The sum over im2col blocks of ``work(images, box, cols)`` (None if it returns None).

    ``cols`` is ``(C * prod(k), images, *box)``: row ``(c, j)`` holds channel ``c`` under kernel
    tap ``j`` at the output positions ``out[images, :, *box]``, see ``_blocks`` (rows ``(j, c)``
    if ``taps_first``); one copy of the block's windows, of at least ``longer * _BLOCK_COLUMNS``
    positions. ``worker(most)`` makes one thread's ``work``, given the number of positions in
    the largest block. Each thread reuses its memory from block to block and from call to call
    (``_scratch``): threads faulting fresh pages at once also wait for each other.
    ``weight_bytes``, the size of the weight every block's product reads, picks how the blocks
    share the cores (``_parallel``).
    """
    n, c = xp.shape[:2]
    nd, taps = len(kernel_size), math.prod(kernel_size)
    windows = mechanism._windows(xp, kernel_size, stride, dilation, out_size)  # (N, C, *out, *k)
    order = tuple(range(2 + nd, 2 + 2 * nd)) + (1, 0) if taps_first else (
        (1,) + tuple(range(2 + nd, 2 + 2 * nd)) + (0,))
    windows = windows.transpose(order + tuple(range(2, 2 + nd)))  # (C, *k, N, *out) or so
    lead = (slice(None),) * (nd + 1)
    least = longer * _BLOCK_COLUMNS
    blocks = _blocks(n, out_size, max(_BLOCK_BYTES // (c * taps * xp.itemsize), least))
    most = max((math.prod([b.stop - b.start for b in (i,) + box]) for i, box in blocks),
               default=0)

    def task(shared):
        buffer = _scratch("cols", c * taps * most, xp.dtype)
        work = worker(most)
        total = None
        for images, box in shared:
            block = windows[lead + (images,) + box]
            cols = buffer[:block.size].reshape(block.shape)
            np.copyto(cols, block)
            part = work(images, box, cols.reshape((c * taps,) + block.shape[nd + 1:]))
            total = part if total is None else total + part
        return total

    parts = [p for p in _parallel(task, blocks, weight_bytes) if p is not None]
    return sum(parts[1:], parts[0]) if parts else None


def _run(box, size):
    """A box inside one image as ``(first, count)``: a run of its row-major positions."""
    first = 0
    for b, s in zip(box, size):
        first = first * s + b.start
    return first, math.prod([b.stop - b.start for b in box])


# --- depthwise: stride phases and one multiply-add per tap -------------------------------------


def _pad_into(x, grow, out):
    """Write ``x`` (N, C, *S) with ``grow`` zeros per side into ``out`` (N, C, *grown S)."""
    lead = (slice(None), slice(None))
    for axis, (lo, hi) in enumerate(grow):  # the borders only: the rest is overwritten
        before = (slice(None),) * axis
        out[lead + before + (slice(0, lo),)] = 0
        out[lead + before + (slice(out.shape[2 + axis] - hi, None),)] = 0
    out[lead + tuple(slice(lo, lo + s) for s, (lo, _) in zip(x.shape[2:], grow))] = x


def _phases(x, grow, stride, residues, out):
    """The stride phases ``residues`` of ``x`` zero-padded by ``grow``, written into ``out``.

    x ``(N, C, *S)``, out ``(len(residues), N, C, *Q)`` with ``Q = ceil((S + lo + hi) / stride)``:
    phase ``r`` (a residue per axis) is ``xp[..., r::stride]`` of the padded input ``xp``,
    zero-filled to ``Q``. Tap ``j`` of output ``o`` reads ``xp[o*s + j*d]``, which is phase
    ``(j*d) % s`` at ``o + (j*d) // s``: after one split, every tap of a strided convolution is
    a stride-1 read. Each phase is read straight from ``x`` (no padded copy); with stride 1 the
    one phase is the padded input.
    """
    for p, r in enumerate(residues):
        reads, zeros = [], []
        for a, s, (lo, _), size, q in zip(r, stride, grow, x.shape[2:], out.shape[3:]):
            # phase index i holds input a + s*i - lo: inside for first <= i < last
            first = min(q, max(0, -(-(lo - a) // s)))
            last = max(first, min(q, -(-(size + lo - a) // s)))
            start = a + s * first - lo
            reads.append(slice(start, start + s * (last - first), s))
            zeros.append((first, q - last))
        _pad_into(x[(slice(None), slice(None)) + tuple(reads)], zeros, out[p])
    return out


def _taps(kernel_size, stride, dilation):
    """Where each kernel tap reads in ``_phases``: ``[(residues, start), ...]``, taps row-major."""
    taps = []
    for j in np.ndindex(*kernel_size):
        at = [i * d for i, d in zip(j, dilation)]
        taps.append((tuple(a % s for a, s in zip(at, stride)),
                     tuple(a // s for a, s in zip(at, stride))))
    return taps


def _conv_depthwise(x, pairs, weight, stride, dilation, out_size):
    """Depthwise convolution (one input channel per group) as one multiply-add per kernel tap.

    x ``(N, C, *S)`` zero-padded by ``pairs``, weight ``(C*M, 1, *k)`` -> ``(N, C*M, *out_size)``:
    ``y[n, c*M + m, o] = sum_j weight[c*M + m, 0, j] * xp[n, c, o*s + j*d]``. As matrix products
    these are ``C`` products of a ``1 x k`` matrix, too small for BLAS. Each tap instead scales
    a shifted copy of the image. The phases are flattened, so a shift is one offset and every
    multiply-add runs along whole rows of images; the outputs that land in the padding columns
    are computed in a block's scratch and dropped. Each block splits its own images into padded
    phases (``_phases``): in cache, on its thread, where padding the whole input first would be
    one more pass through memory.
    """
    x, grow = mechanism._crop(x, pairs)
    n, c = x.shape[:2]
    m = weight.shape[0] // c
    # an axis of one output never steps: stride 1 reads the same (a stride past the input
    # would split it into as many phases)
    stride = tuple(s if o > 1 else 1 for s, o in zip(stride, out_size))
    # the shape of one phase
    q = tuple(-(-i // s) for i, s in zip(mechanism._grown(x.shape[2:], grow), stride))
    taps = _taps(weight.shape[2:], stride, dilation)
    residues = sorted({r for r, _ in taps})  # the phases a tap reads (all, if stride <= k)
    phases = len(residues) * math.prod(q)  # elements of one channel's phases
    shifts = [(residues.index(r), int(np.ravel_multi_index(start, q))) for r, start in taps]
    length = int(np.ravel_multi_index([o - 1 for o in out_size], q)) + 1
    w = weight.reshape(c, m, len(shifts), 1)
    y = np.empty((n, c, m) + tuple(out_size), x.dtype)
    grid = (out_size[0],) + q[1:]  # one channel's outputs with the padding columns
    # large blocks: a thread holds the GIL between NumPy calls, so the calls should be long;
    # sized by a channel's largest array (its padded input, for a strided layer)
    per_channel = max(phases, m * math.prod(grid)) * x.itemsize
    blocks = _blocks(n, (c,), max(1, 2 * _BLOCK_BYTES // per_channel))
    most = max(((i.stop - i.start) * (b.stop - b.start) for i, (b,) in blocks), default=0)

    def task(shared):
        phase_buffer = _scratch("phases", most * phases, x.dtype)
        acc_buffer = _scratch("sum", most * m * math.prod(grid), x.dtype)
        tmp_buffer = _scratch("term", most * m * length, x.dtype)
        for images, (channels,) in shared:
            shape = (images.stop - images.start, channels.stop - channels.start)
            count = math.prod(shape)
            split = phase_buffer[:count * phases].reshape((-1,) + shape + q)
            _phases(x[images, channels], grow, stride, residues, split)
            flat = split.reshape((-1,) + shape + (math.prod(q),))
            acc = acc_buffer[:count * m * math.prod(grid)].reshape(shape + (m,) + grid)
            flat_acc = acc.reshape(shape + (m, -1))[..., :length]
            tmp = tmp_buffer[:count * m * length].reshape(shape + (m, length))
            for t, (p, shift) in enumerate(shifts):
                image = flat[p, :, :, None, shift:shift + length]
                if t == 0:
                    np.multiply(image, w[channels, :, t], out=flat_acc)
                else:
                    flat_acc += np.multiply(image, w[channels, :, t], out=tmp)
            y[images, channels] = acc[(Ellipsis,) + tuple(slice(0, o) for o in out_size)]

    _parallel(task, blocks)
    return y.reshape((n, c * m) + tuple(out_size))


# --- Winograd F(2x2, 3x3) ----------------------------------------------------------------------


# Winograd's minimal filtering F(2x2, 3x3) (Lavin & Gray, 2016): a 4x4 input tile d gives the
# 2x2 outputs A^T [(G g G^T) * (B^T d B)] A of a 3x3 kernel g, with 16 multiplications
# instead of 36. Its constants are 0, +-1 and +-1/2, so its rounding error is of the direct
# sum's order (larger tiles, F(4x4, 3x3), would save more and lose digits in float32).
_WINO_B = np.array([[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]], float)
_WINO_G = np.array([[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]])
_WINO_A = np.array([[1, 1, 1, 0], [0, 1, -1, -1]], float)


def _winograd_in(d, half, out):
    """``B^T d B`` of 4x4 tiles, by additions: ``d``, ``half``, ``out`` ``(4, 4, ...)``.

    ``d[i, j]`` holds element ``(i, j)`` of every tile. B^T combines four rows as ``0 - 2,
    1 + 2, 2 - 1, 1 - 3``: four additions of whole slabs for the rows (into ``half``), four
    for the columns (into ``out``). Measured twice as fast as the 16 x 16 matrix product.
    """
    for rows, result in ((d, half), (half.swapaxes(0, 1), out.swapaxes(0, 1))):
        np.subtract(rows[0], rows[2], out=result[0])
        np.add(rows[1], rows[2], out=result[1])
        np.subtract(rows[2], rows[1], out=result[2])
        np.subtract(rows[1], rows[3], out=result[3])
    return out


def _winograd_kernels(weight, dtype):
    """``G g G^T`` of each kernel of a weight ``(C_out, C_in, 3, 3)``: ``(16, C_out, C_in)``.

    Computed in float64, then rounded to ``dtype``; not finite where the weight is not or where
    the transform overflows ``dtype``.
    """
    c_out, c = weight.shape[:2]
    with np.errstate(over="ignore", invalid="ignore"):  # the caller checks the result
        u = np.kron(_WINO_G, _WINO_G) @ weight.reshape(c_out * c, 9).T  # (16, C_out * C_in)
        return u.astype(dtype).reshape(16, c_out, c)


def _conv_winograd(xp, u, weight, out_size):
    """2-D 3x3 convolution, stride 1, dilation 1, one group, with Winograd's F(2x2, 3x3).

    xp ``(N, C_in, H, W)``, ``u`` the finite ``_winograd_kernels`` of weight
    ``(C_out, C_in, 3, 3)`` -> ``(N, C_out, *out_size)``. The input's 4x4 tiles (stride 2) are
    an im2col with a 4x4 kernel. Per block, the tiles are transformed (by additions,
    ``_winograd_in``), multiplied with the transformed kernels channel by channel as 16 matrix
    products of ``(C_out, C_in)`` by ``(C_in, tiles)`` -- 2.25 times fewer multiplications than
    the direct sum -- and transformed back into 2x2 outputs (a product with A^T's 4 x 16
    Kronecker square: as additions it wrote the strided output twice).

    Winograd mixes the 16 inputs of a tile before multiplying: one NaN or infinity would spread
    over all four outputs of its tile, and inputs that fit a dtype can overflow in the transform
    (four of 2e4 in float16, of 1e38 in float32). So a block whose outputs are not all finite
    is computed again as the direct sum of its tiles' 3x3 windows, in the caller's
    ``np.errstate``: NaN and infinity land where ``conv2d_loops`` puts them, and nothing
    overflows that the direct sum keeps finite. Checking a block's outputs costs about 1% of
    its time (``benchmarks/README.md``).
    """
    n, c = xp.shape[:2]
    c_out = weight.shape[0]
    direct = weight.transpose(0, 2, 3, 1).reshape(c_out, 9 * c)  # rows (i, j, c) as the tiles
    at = np.kron(_WINO_A, _WINO_A).astype(xp.dtype)
    tiles = tuple(-(-o // 2) for o in out_size)
    # the last tile of an odd-sized output reads one row (column) past the input: zeros
    xp = _pad(xp, [(0, o % 2) for o in out_size])
    y = np.empty((n, c_out) + tuple(out_size), xp.dtype)

    def worker(most):
        v_buffer = _scratch("tiles", 16 * max(c, c_out) * most, xp.dtype)
        m_buffer = _scratch("products", 16 * max(c, c_out) * most, xp.dtype)

        def work(images, box, d):  # d (16 * C_in, images, rows, columns) of 4x4 tiles
            shape = d.shape[1:]
            count = math.prod(shape)
            out = v_buffer[:4 * c_out * count].reshape((2, 2, c_out) + shape)
            with np.errstate(over="ignore", invalid="ignore"):  # checked below
                v = v_buffer[:16 * c * count].reshape(4, 4, c * count)
                _winograd_in(d.reshape(4, 4, -1), m_buffer[:16 * c * count].reshape(v.shape), v)
                m = m_buffer[:16 * c_out * count].reshape(16, c_out, count)
                np.matmul(u, v.reshape(16, c, count), out=m)
                np.matmul(at, m.reshape(16, -1), out=out.reshape(4, -1))  # v is used up
            if not np.isfinite(out).all():
                tiles = d.reshape(4, 4, c, count)
                for a, b in np.ndindex(2, 2):
                    window = tiles[a:a + 3, b:b + 3].reshape(9 * c, count)
                    np.matmul(direct, window, out=out[a, b].reshape(c_out, count))
            for a, b in np.ndindex(2, 2):
                rows = slice(2 * box[0].start + a, 2 * box[0].stop, 2)
                cols = slice(2 * box[1].start + b, 2 * box[1].stop, 2)
                part = out[a, b, :, :, :len(range(*rows.indices(out_size[0]))),
                           :len(range(*cols.indices(out_size[1])))]
                y[images, :, rows, cols] = part.swapaxes(0, 1)

        return work

    # blocks of at least _BLOCK_COLUMNS tiles: each block reads the whole transformed weight
    # (16 C_out C_in: 4 MiB for 256 channels), which must not cost more than its products
    _im2col_sum(xp, (4, 4), (2, 2), (1, 1), tiles, worker, taps_first=True, weight_bytes=u.nbytes)
    return y


# --- the direct convolution: the contraction that suits the layer ------------------------------


_DEPTHWISE, _POINTWISE, _IM2COL = "depthwise multiply-add", "1x1 matmul", "im2col matmul"
_WINOGRAD = "Winograd F(2x2, 3x3)"
# Winograd's transforms cost about what they save with 16 input channels (measured); with
# fewer, im2col is faster. Grouped layers too (4 groups of 32 channels: 6.3 to 7.2 ms against
# 7.5 to 7.8; 2 groups of 64: 7.0 against 9.3): their 16 x G products are smaller.
_WINOGRAD_CHANNELS = 16


def _contraction(kernel_size, c_in_per_group, stride, dilation, groups, dtype):
    """The contraction ``conv`` uses for a layer, by name (the benchmark prints it).

    Winograd only in float32 and float64: its transforms round a tile's mixed inputs, an error
    of the order of the tile's largest input, which float16's 11 bits make visible (2% on a
    tile holding 2e4 and values near 1), where NumPy's float16 products accumulate in float32.
    """
    if groups > 1 and c_in_per_group == 1:
        return _DEPTHWISE
    if all(k == 1 for k in kernel_size) and all(s == 1 for s in stride):
        return _POINTWISE
    if (tuple(kernel_size) == (3, 3) and tuple(stride) == (1, 1) and tuple(dilation) == (1, 1)
            and groups == 1 and c_in_per_group >= _WINOGRAD_CHANNELS
            and np.dtype(dtype).itemsize >= 4):
        return _WINOGRAD
    return _IM2COL


def conv(x, pairs, weight, stride, dilation, groups, out_size):
    """``conv._conv``: direct convolution of a batched input, by the contraction that suits it.

    x ``(N, C_in, *S)`` zero-padded by ``pairs`` (``(lo, hi)`` per axis, negative crops), weight
    ``(C_out, C_in/groups, *k)`` -> ``(N, C_out, *out_size)``.
    """
    c_out, k = weight.shape[0], weight.shape[2:]
    out_size = tuple(out_size)
    how = _contraction(k, weight.shape[1], stride, dilation, groups, x.dtype)
    if how == _DEPTHWISE:
        return _conv_depthwise(x, pairs, weight, stride, dilation, out_size)
    xp = _pad(x, pairs)
    n, c_in = xp.shape[:2]
    if how == _WINOGRAD:
        u = _winograd_kernels(weight, xp.dtype)
        if np.isfinite(u).all():  # else a weight that is not finite, or too large: im2col
            return _conv_winograd(xp, u, weight, out_size)
    w = weight.reshape(groups, c_out // groups, -1)
    if how == _POINTWISE:
        # every image already is the (C_in, positions) matrix, so nothing is copied
        y = np.matmul(w, xp.reshape(n, groups, c_in // groups, math.prod(out_size)))
        return y.reshape((n, c_out) + out_size)
    y = np.empty((n, c_out) + out_size, xp.dtype)
    flat = y.reshape(n, groups, c_out // groups, math.prod(out_size))

    def work(images, box, cols):
        first, count = _run(box, out_size)
        # (C_in*k, images, P) -> (images, G, C_in/G*k, P): one product per image and group,
        # written straight into the output
        cols = cols.reshape(groups, -1, cols.shape[1], count).transpose(2, 0, 1, 3)
        np.matmul(w, cols, out=flat[images, :, :, first:first + count])

    _im2col_sum(xp, k, stride, dilation, out_size, lambda most: work, weight_bytes=w.nbytes)
    return y


# --- transposed convolution: output phases or a scatter ----------------------------------------


def _phase_plan(i, k, s, d, p, out, r):
    """One axis of one output phase of a transposed convolution (``_conv_transpose_polyphase``).

    Returns ``(taps, dilation, (lo, hi), size)``: the flipped kernel's taps ``slice(j0, k, step)``
    that reach outputs ``r, r + s, ...``, their spacing in the input, the input's padding and
    the phase's length; ``None`` if no tap reaches them.
    """
    border = d * (k - 1) - p
    first = [j for j in range(min(k, s)) if (r + j * d - border) % s == 0]
    size = len(range(r, out, s))
    if not first or size == 0:
        return None
    g = math.gcd(s, d)
    taps = range(first[0], k, s // g)
    start = (r + first[0] * d - border) // s
    hi = start + size - 1 + (len(taps) - 1) * (d // g) - (i - 1)
    return slice(taps.start, k, taps.step), d // g, (-start, hi), size


def _conv_transpose_polyphase(x, weight, stride, padding, groups, dilation, size):
    """Transposed convolution as ``prod(stride)`` direct convolutions, one per output phase.

    The transposed convolution equals a direct convolution, with the flipped kernel, of the
    input with ``s-1`` zeros inserted between elements and ``d*(k-1) - p`` on each side. Most
    of those products are with the inserted zeros: outputs ``r, r + s, r + 2s, ...`` meet only
    every ``s/gcd(s, d)``-th tap. So each output phase is a plain stride-1 convolution of ``x``
    with its sub-kernel, and the phases interleave into the result ``(N, C_out, *size)``.
    """
    k = weight.shape[2:]
    flipped = mechanism._transpose_weight(weight, groups)
    reached = _reached(k, stride, dilation, padding)
    y = _output((x.shape[0], flipped.shape[0]) + tuple(size), x.dtype, reached, stride)
    for r in itertools.product(*reached):
        plan = [_phase_plan(*a) for a in zip(x.shape[2:], k, stride, dilation, padding, size, r)]
        phase = (Ellipsis,) + tuple(slice(a, None, s) for a, s in zip(r, stride))
        if None in plan:
            y[phase] = 0  # no tap reaches these outputs
            continue
        taps, dil, pairs, out = zip(*plan)
        y[phase] = conv(x, pairs, flipped[(slice(None), slice(None)) + taps],
                        (1,) * len(k), dil, groups, out)
    return y


def _reached(kernel_size, stride, dilation, padding):
    """Per axis, the output phases ``r`` (outputs ``r, r + s, ...``) some tap reaches.

    Input ``i`` and tap ``j`` reach output ``i*s + j*d - p``: phase ``(j*d - p) % s``. All
    ``s`` phases when ``s <= k``; with a larger stride the others are zeros.
    """
    return [sorted({(j * d - p) % s for j in range(k)})
            for k, s, d, p in zip(kernel_size, stride, dilation, padding)]


def _output(shape, dtype, reached, stride):
    """The output array: zeros if some phase is never reached, else left to be written."""
    every = all(len(r) == s for r, s in zip(reached, stride))
    return np.empty(shape, dtype) if every else np.zeros(shape, dtype)


def _scatter_range(box, offset, s, size):
    """Inputs ``box`` (a slice) of one axis whose output ``i*s + offset`` lies in ``[0, size)``.

    Returns ``(inputs, outputs)``: the inputs as a slice relative to ``box.start`` and their
    outputs as a slice of the output phase ``offset % s`` (output ``m*s + offset % s`` is its
    ``m``-th element), or None if there are none.
    """
    lo = max(box.start, -(offset // s))  # the first i with i*s + offset >= 0
    hi = min(box.stop - 1, (size - 1 - offset) // s)
    if hi < lo:
        return None
    return slice(lo - box.start, hi + 1 - box.start), slice(lo + offset // s, hi + 1 + offset // s)


# The scatter's blocks are longer than im2col's (measured): its product is short (C_in/G inner
# size) and each block costs one Python-level add per tap, so fewer, whole-image blocks win.
_SCATTER_COLUMNS = 4 * _BLOCK_COLUMNS


def _conv_transpose_scatter(x, weight, stride, padding, groups, dilation, size):
    """Transposed convolution as a scatter (col2im): every input adds a scaled kernel.

    Input ``i`` adds ``x[i] * weight[j]`` to output ``i*stride + j*dilation - padding``. One
    matrix product per block of inputs gives every tap's contribution at once,
    ``(k, C_out/G, positions)`` per group, with ``C_in/G`` as its inner size; each tap's is then
    added to a shifted slice of its output phase (the outputs ``r, r + s, ...`` it reaches),
    and each phase is written into the output once. No product involves an inserted zero.
    """
    n, c_in = x.shape[:2]
    cog, k = weight.shape[1], weight.shape[2:]
    c_out, cig, taps = cog * groups, c_in // groups, math.prod(k)
    # (C_in, C_out/G, *k) -> (G, k * C_out/G, C_in/G)
    w = weight.reshape(groups, cig, cog, taps).transpose(0, 3, 2, 1).reshape(groups, -1, cig)
    offsets = [tuple(j * d - p for j, d, p in zip(tap, dilation, padding))
               for tap in np.ndindex(*k)]
    # the output phases a tap reaches, each as (its slice of the output, its shape)
    reached = _reached(k, stride, dilation, padding)
    phases = {r: (tuple(slice(a, None, s) for a, s in zip(r, stride)),
                  tuple(len(range(a, o, s)) for a, o, s in zip(r, size, stride)))
              for r in itertools.product(*reached)}
    y = _output((n, c_out) + tuple(size), x.dtype, reached, stride)
    boxes = _blocks(n, x.shape[2:], max(_BLOCK_BYTES // (taps * c_out * x.itemsize),
                                        _SCATTER_COLUMNS))
    plans = {}  # per box: (tap, phase, inputs, outputs) of every tap that lands in the output
    for _, box in boxes:
        key = tuple((b.start, b.stop) for b in box)
        if key not in plans:
            ranges = [[_scatter_range(*a) for a in zip(box, o, stride, size)] for o in offsets]
            plans[key] = [(t, tuple(a % s for a, s in zip(o, stride))) + tuple(zip(*r))
                          for t, (o, r) in enumerate(zip(offsets, ranges)) if None not in r]
    # taps of neighbouring blocks of one image overlap in the output: one thread per image
    jobs = {}
    for i, box in boxes:
        jobs.setdefault(i.start, []).append((i, box, plans[tuple((b.start, b.stop) for b in box)]))
    most = max((math.prod([s.stop - s.start for s in (i,) + box]) for i, box in boxes),
               default=0)
    most_images = max((i.stop - i.start for i, _ in boxes), default=0)

    def task(shared):
        buffer = _scratch("taps", taps * c_out * most, x.dtype)
        # one image run's phases: the strided adds of the taps become adds along rows
        sums = {r: _scratch(f"phase {r}", most_images * c_out * math.prod(shape), x.dtype)
                for r, (_, shape) in phases.items()}
        for job in shared:
            count_images = job[0][0].stop - job[0][0].start
            parts = {r: sums[r][:count_images * c_out * math.prod(shape)].reshape(
                (count_images, c_out) + shape) for r, (_, shape) in phases.items()}
            # a tap of the first block that reaches all of its phase writes it, saving the
            # zeros and one add; the phases no such tap reaches start from zeros
            first = {}
            for t, r, src, dst in job[0][2]:
                if r not in first and all(d.stop - d.start == q for d, q in
                                          zip(dst, phases[r][1])):
                    first[r] = t
            for r, part in parts.items():
                if r not in first:
                    part.fill(0)
            for number, (images, box, plan) in enumerate(job):
                if number == 0:  # the writes before the adds
                    plan = sorted(plan, key=lambda step: first.get(step[1]) != step[0])
                shape = (images.stop - images.start,) + tuple(b.stop - b.start for b in box)
                count = math.prod(shape)
                # (images, C_in, *box) -> (G, C_in/G, images * positions)
                xb = x[(images, slice(None)) + box].swapaxes(0, 1).reshape(groups, cig, count)
                z = buffer[:taps * c_out * count].reshape(groups, taps * cog, count)
                np.matmul(w, xb, out=z)
                # (G, k, C_out/G, images, *box) -> (k, images, C_out, *box)
                z = z.reshape((groups, taps, cog) + shape).transpose(
                    (1, 3, 0, 2) + tuple(range(4, 3 + len(shape))))
                z = z.reshape((taps, shape[0], c_out) + shape[1:])
                for t, r, src, dst in plan:
                    target = parts[r][(slice(None), slice(None)) + dst]
                    if number == 0 and first.get(r) == t:
                        target[...] = z[(t, slice(None), slice(None)) + src]
                    else:
                        target += z[(t, slice(None), slice(None)) + src]
            images = job[0][0]
            for r, (where, _) in phases.items():
                y[(images, slice(None)) + where] = parts[r]

    _parallel(task, list(jobs.values()))
    return y


def conv_transpose(x, weight, stride, padding, groups, dilation, size):
    """``conv._conv_transpose`` into an output of spatial ``size``, in the cheaper of two forms.

    x ``(N, C_in, *S)``, weight ``(C_in, C_out/G, *k)``, ``padding`` per axis (symmetric) ->
    ``(N, C_out, *size)``. Stride 1 has one phase, the direct convolution with the flipped
    kernel; so does one input channel per group, whose scatter product would have inner size 1
    (the phases are depthwise convolutions then). Otherwise, and for a weight that is not
    finite, the scatter form: its one product covers every tap, where the phases need
    ``prod(stride)`` smaller ones.
    """
    # an axis of one input never steps: any stride puts it at 0
    stride = tuple(1 if i == 1 else s for i, s in zip(x.shape[2:], stride))
    # the phases' direct convolutions multiply zeros of padding by the weight: where it is not
    # finite that gives NaN, where the scatter (and PyTorch) multiply nothing
    if (_transpose_form(stride, x.shape[1] // groups) == _POLYPHASE
            and np.isfinite(weight).all()):
        return _conv_transpose_polyphase(x, weight, stride, padding, groups, dilation, size)
    return _conv_transpose_scatter(x, weight, stride, padding, groups, dilation, size)


_POLYPHASE, _SCATTER = "polyphase", "scatter"


def _transpose_form(stride, c_in_per_group):
    """The form ``conv_transpose`` uses (the benchmark prints it)."""
    return _POLYPHASE if all(s == 1 for s in stride) or c_in_per_group == 1 else _SCATTER




# --- the weight gradient -----------------------------------------------------------------------


def conv_weight(x, padding, grad_output, weight_size, stride, dilation, groups):
    """``grad.conv{1,2,3}d_weight`` of a batched input (trusted arguments).

    x ``(N, C_in, *S)`` zero-padded by ``padding`` per side, grad_output ``(N, C_out, *out)``
    -> ``weight_size`` ``(C_out, C_in/G, *k)``: ``grad_output @ cols.T`` summed over im2col
    blocks, where ``cols`` are the windows of the padded input.
    """
    n, c_out = grad_output.shape[:2]
    out = grad_output.shape[2:]
    xp = _pad(x, [(p, p) for p in padding])
    g = grad_output.reshape(n, groups, c_out // groups, math.prod(out))

    def work(images, box, cols):
        first, count = _run(box, out)
        # (images, G, C_out/G, P) -> (G, C_out/G, images*P), a copy only if images > 1
        gb = g[images, :, :, first:first + count].transpose(1, 2, 0, 3)
        gb = gb.reshape(groups, c_out // groups, -1)
        # dw.T = cols @ grad_output.T: OpenBLAS runs this order at 44 GMAC/s here, the other
        # (grad_output @ cols.T) at 32
        return np.matmul(cols.reshape(groups, -1, gb.shape[-1]), gb.swapaxes(1, 2))

    # the blocks' positions are the product's inner size, so longer blocks than the forward
    # pass's run faster
    dw = _im2col_sum(xp, weight_size[2:], stride, dilation, out, lambda most: work, longer=4)
    if dw is None:  # an empty batch
        return np.zeros(weight_size, x.dtype)
    return np.ascontiguousarray(dw.swapaxes(1, 2)).reshape(weight_size)
