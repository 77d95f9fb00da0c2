"""Exercise checks: say at once whether an answer is right and, if not, what is wrong.

A check cell of an exercise notebook calls one helper per kind of answer:

==================  ====================================================================
``check_array``     an array (a convolution's output, ...)
``check_shape``     a predicted shape
``check_number``    a number (an output size, a parameter count, ...)
``check_function``  a function the learner wrote, run on worked examples and generated cases
``check_work``      one output element computed by hand, with the sum written out
``check_choice``    a choice or a short text, compared through a hash
``check_matching``  a dict of pairs (e.g. glossary terms), compared pair by pair through hashes
==================  ====================================================================

A right answer prints one line starting with ``✓``. A wrong one raises ``CheckFailed``, whose
message names what is wrong in the learner's terms. Checks never print, and check cells never
contain, the expected value: the expected answer is computed here, with convlab's own ops, from
the task's arguments (a ``Reference``), or compared through ``digest``. The diagnosis comes from
trying the usual wrong computations (a ``Reference``'s ``mistakes``: the kernel flipped, the
padding forgotten, the stride ignored, ceil instead of floor, ...) against the learner's answer.

A ``Reference`` bundles the right computation, its usual mistakes and a generator of test cases.
The ones here cover chapters 00-02; later chapters add theirs the same way.
"""

import hashlib
import inspect
import math
import numbers
import re
import unicodedata
from collections import Counter
from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from .arithmetic import conv_cost, conv_output_size
from .conv import conv1d, conv2d

__all__ = [
    "CONV2D",
    "CONV2D_SINGLE",
    "CONVOLVE1D",
    "CONV_PARAMS",
    "CONV_SHAPE",
    "CORRELATE1D",
    "DENSE_PARAMS",
    "OUTPUT_SIZE",
    "WEIGHT_SHAPE",
    "CheckFailed",
    "Reference",
    "check_array",
    "check_choice",
    "check_function",
    "check_matching",
    "check_number",
    "check_shape",
    "check_work",
    "digest",
]


class CheckFailed(AssertionError):
    """A wrong answer. Jupyter shows only the message (no traceback into this module)."""

    def _render_traceback_(self):
        # IPython calls this instead of printing a traceback: the learner (and nbgrader's
        # feedback) sees the diagnosis, not the check's code.
        return [f"✗ {self}"]


class Reference(NamedTuple):
    """What an answer is checked against.

    name : how messages call the right computation, e.g. ``"convlab.conv2d"``
    compute : the right answer from the task's arguments
    mistakes : ``{hint: wrong_compute}``, each ``wrong_compute`` with ``compute``'s signature;
        ``hint`` may name ``compute``'s arguments in braces, e.g. ``"{padding}"``
    hint : what to look at when no known mistake explains a wrong answer
    cases : ``cases(rng, keywords) -> (args, kwargs)``, one random test case for
        ``check_function``; ``keywords`` are the optional arguments the tested function takes
    examples : worked ``(args, kwargs)`` cases tried first, e.g. the articles' numbers
    keywords : the optional arguments ``cases`` can vary
    integer : the answer must be an int (sizes, counts), not merely close to one
    """

    name: str
    compute: Callable
    mistakes: dict
    hint: str = ""
    cases: Callable | None = None
    examples: tuple = ()
    keywords: tuple = ()
    integer: bool = False


# --- comparing -----------------------------------------------------------------------------------


def _fail(message):
    raise CheckFailed(message)


def _unanswered(answer, name):
    if answer is None or answer is Ellipsis:
        shown = "..." if answer is Ellipsis else "None"
        _fail(f"{name} is still {shown}: replace it with your answer and run the cell again.")


def _fmt(value):
    """A number as a learner writes it: ``3`` not ``3.0``, short floats."""
    value = float(value)
    return str(int(value)) if value.is_integer() else f"{value:.6g}"


def _describe(value):
    """An argument as a message shows it: small 1-D arrays by value, other arrays by shape."""
    if isinstance(value, np.ndarray):
        if value.ndim == 1 and value.size <= 10:
            return "[" + ", ".join(_fmt(a) for a in value) + "]"
        return f"an array of shape {value.shape}"
    return repr(value)


def _as_array(answer, name):
    _unanswered(answer, name)
    try:
        arr = np.asarray(answer, dtype=float)
    except (TypeError, ValueError):
        _fail(f"{name} should be an array of numbers, got {type(answer).__name__}.")
    return arr


def _as_number(answer, name):
    _unanswered(answer, name)
    if isinstance(answer, np.ndarray) and answer.size == 1:
        answer = answer.item()
    if isinstance(answer, (bool, np.bool_)) or not isinstance(answer, numbers.Real):
        _fail(f"{name} should be a number, got {type(answer).__name__} {answer!r}.")
    return answer


def _as_shape(answer, name):
    _unanswered(answer, name)
    if not isinstance(answer, (tuple, list)) or not all(
        isinstance(a, numbers.Integral) and not isinstance(a, (bool, np.bool_)) for a in answer
    ):
        _fail(f"{name} should be a tuple of ints like (2, 3, 3), got {answer!r}.")
    return tuple(int(a) for a in answer)


def _same_array(a, b):
    b = np.asarray(b, dtype=float)
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=1e-6, atol=1e-6))


def _same_number(a, b):
    return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-9)


def _same_shape(a, b):
    return tuple(a) == tuple(b)


def _expected(reference, args, kwargs):
    """The right answer, and ``diagnose`` for a wrong one.

    ``diagnose(answer, *sames, default=None)`` returns the hint of the first mistake whose
    result is the same as ``answer`` by the first of ``sames`` that finds one, else ``default``,
    else the reference's general hint (or None).
    """
    if isinstance(reference, Reference):
        compute, mistakes, hint = reference.compute, reference.mistakes, reference.hint
    else:
        compute, mistakes, hint = reference, {}, ""
    expected = compute(*args, **kwargs)
    bound = inspect.signature(compute).bind(*args, **kwargs)
    bound.apply_defaults()

    def diagnose(answer, *sames, default=None):
        for same in sames:
            for message, wrong in mistakes.items():
                try:
                    value = wrong(*args, **kwargs)
                except (ValueError, IndexError):  # the mistake cannot happen for these arguments
                    continue
                if same(answer, value):
                    return message.format(**bound.arguments)
        return default or (hint.format(**bound.arguments) if hint else None)

    return expected, diagnose


def _join(problem, hint):
    return f"{problem}: {hint}" if hint else f"{problem}."


def _array_problem(arr, expected, diagnose, name):
    """What is wrong with an array answer, or None if it is right."""
    expected = np.asarray(expected, dtype=float)
    if _same_array(arr, expected):
        return None
    if arr.shape != expected.shape:
        # when no mistake gives these values, one may still explain the shape
        hint = diagnose(arr, _same_array, lambda a, b: a.shape == np.shape(b))
        return _join(f"{name} has shape {arr.shape} but should have shape {expected.shape}", hint)
    hint = diagnose(arr, _same_array)
    wrong = ~np.isclose(arr, expected, rtol=1e-6, atol=1e-6)
    first = tuple(int(i) for i in np.argwhere(wrong)[0])
    where = f"index {first}" if len(first) > 1 else f"index {first[0]}" if first else "it"
    return _join(
        f"{name} has the right shape {arr.shape} but {int(wrong.sum())} of {arr.size} values are "
        f"wrong (the first at {where}, where you have {_fmt(arr[first])})",
        hint,
    )


def _number_problem(number, expected, diagnose, name, integer=False):
    """What is wrong with a number; with ``integer``, a float is wrong even if it is close."""
    if integer and not isinstance(number, numbers.Integral):
        hint = "floor division // keeps them ints"
        if not _same_number(number, expected):
            hint = diagnose(number, _same_number, default=hint)
        return _join(f"{name} should be a whole number (an int) but is the float {number!r}: "
                     f"sizes and counts are ints", hint)
    if _same_number(number, expected):
        return None
    return _join(f"{name} = {_fmt(number)} is not right", diagnose(number, _same_number))


def _shape_problem(shape, expected, diagnose, name):
    if _same_shape(shape, expected):
        return None
    axes = len(shape) != len(expected)
    hint = diagnose(shape, _same_shape, default=axes and (
        f"it has {len(shape)} axes, the shape asked for has {len(expected)}"))
    return _join(f"{name} {shape} is not the right shape", hint)


def _ok(message):
    print(f"✓ {message}")


# --- the checks, one per kind of answer ---------------------------------------------------------


def check_array(answer, reference, *args, name="your array", **kwargs):
    """Check an array against ``reference(*args, **kwargs)``.

    Parameters
    ----------
    answer : array-like, any shape
    reference : ``Reference`` or callable computing the right array from ``args``/``kwargs``
    name : how the message calls the answer, e.g. ``"out"``

    A wrong shape is reported with the right shape (the shape is not the answer); wrong values
    with how many differ and the first place, showing only the learner's value.

    >>> check_array([[12, 12, 17], [10, 17, 19], [9, 6, 14]], CONV2D_SINGLE,
    ...             [[3, 3, 2, 1, 0], [0, 0, 1, 3, 1], [3, 1, 2, 2, 3], [2, 0, 0, 2, 2],
    ...              [2, 0, 0, 0, 1]], [[0, 1, 2], [2, 2, 0], [0, 1, 2]])
    ✓ your array is right (shape (3, 3)).
    """
    arr = _as_array(answer, name)
    expected, diagnose = _expected(reference, args, kwargs)
    problem = _array_problem(arr, expected, diagnose, name)
    if problem:
        _fail(problem)
    _ok(f"{name} is right (shape {arr.shape}).")


def check_shape(answer, reference, *args, name="your shape", **kwargs):
    """Check a predicted shape (a tuple of ints) against ``reference(*args, **kwargs)``.

    The right shape is never shown: it is the answer.

    >>> check_shape((2, 3, 3), CONV_SHAPE, (3, 5, 5), 2, 3)
    ✓ your shape (2, 3, 3) is right.
    """
    shape = _as_shape(answer, name)
    expected, diagnose = _expected(reference, args, kwargs)
    problem = _shape_problem(shape, tuple(expected), diagnose, name)
    if problem:
        _fail(problem)
    _ok(f"{name} {shape} is right.")


def check_number(answer, reference, *args, name="your number", **kwargs):
    """Check a number against ``reference(*args, **kwargs)`` (relative tolerance 1e-9).

    With ``reference.integer`` the answer must also be an int.

    >>> check_number(24, OUTPUT_SIZE, 28, 5)
    ✓ your number 24 is right.
    """
    integer = isinstance(reference, Reference) and reference.integer
    number = _as_number(answer, name)
    expected, diagnose = _expected(reference, args, kwargs)
    problem = _number_problem(number, expected, diagnose, name, integer)
    if problem:
        _fail(problem)
    _ok(f"{name} {_fmt(number)} is right.")


def _call(fn, fname, args, kwargs):
    """``fn(*args, **kwargs)`` on copies, with a learner's exception turned into a message."""
    described = [_describe(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()]
    call = f"{fname}({', '.join(described)})"
    copies = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    try:
        result = fn(*copies, **kwargs)
    except NotImplementedError:
        _fail(f"{fname} is not written yet: replace `raise NotImplementedError` by your code.")
    except Exception as error:  # noqa: BLE001 (any error of the learner's code is a diagnosis)
        _fail(f"{call} raised {type(error).__name__}: {error}")
    if result is None:
        _fail(f"{call} returned None: write the function's body, and `return` the result.")
    return call, result


def check_function(fn, reference, n=20, seed=0, keywords=None, name=None):
    """Run a learner's function on the reference's worked examples and ``n`` generated cases.

    Parameters
    ----------
    fn : the learner's function, called like ``reference.compute``
    reference : ``Reference`` with ``cases``
    n : how many generated cases after the worked examples
    seed : seed of the generated cases (hidden tests use another one)
    keywords : the optional arguments ``fn`` takes, of ``reference.keywords`` (default: all)
    name : how messages call ``fn`` (default: its ``__name__``)

    The first case that goes wrong is reported with its arguments, what is wrong and, when a
    known mistake reproduces the wrong result, which one.
    """
    fname = name or getattr(fn, "__name__", "your function")
    _unanswered(fn, fname)
    if not callable(fn):
        _fail(f"{fname} should be a function, got {type(fn).__name__}.")
    keywords = reference.keywords if keywords is None else tuple(keywords)
    rng = np.random.default_rng(seed)
    examples = [(a, k) for a, k in reference.examples if set(k) <= set(keywords)]
    cases = examples + [reference.cases(rng, keywords) for _ in range(n)]
    for args, kwargs in cases:
        args = tuple(np.asarray(a, dtype=float) if isinstance(a, list) else a for a in args)
        call, result = _call(fn, fname, args, kwargs)
        expected, diagnose = _expected(reference, args, kwargs)
        if isinstance(expected, np.ndarray):
            problem = _array_problem(_as_array(result, call), expected, diagnose, call)
        else:
            number = _as_number(result, f"{call}'s result")
            problem = _number_problem(number, expected, diagnose, call, reference.integer)
        if problem:
            _fail(problem)
    worked = f"{len(examples)} worked example{'s' * (len(examples) != 1)}"
    _ok(f"{fname} agrees with {reference.name} on {len(cases)} cases ({worked}, {n} generated).")


_PRODUCT = re.compile(r"^\(?\s*(-?[\d.]+)\s*\)?\s*[*·×]\s*\(?\s*(-?[\d.]+)\s*\)?$")


def _parse_work(work):
    """``"3·0 + 3·1 + ... + 1"`` -> the products as a multiset of sorted pairs, and the lone
    terms (the bias) as a list."""
    products, singles = [], []
    for term in re.split(r"\+", work.replace("−", "-").replace(" ", "")):
        if not term:
            continue
        match = _PRODUCT.match(term)
        if match:
            products.append(tuple(sorted(float(t) for t in match.groups())))
        else:
            try:
                singles.append(float(term.strip("()")))
            except ValueError:
                _fail(f"I cannot read the term {term!r} of your work: write products as a*b "
                      f"(or a·b), joined by +, like \"3*0 + 3*1 + ...\".")
    return Counter(products), singles


def _window_products(x, kernel, position, stride, padding):
    """The products ``x[...] * kernel[...]`` of the window at ``position``, as a multiset.

    ``show_work`` finds the window (one place for it); None where the position has no window.
    """
    from .viz.work import show_work  # the pictures load only when a learner checks a sum

    try:
        work = show_work(x, kernel, position=position, stride=stride, padding=padding)
    except ValueError:
        return None
    return Counter(tuple(sorted(term)) for term in work.terms[0])


def check_work(work, value, x, kernel, position, bias=None, stride=1, padding=0):
    """Check one output element of a single-channel ``conv2d`` computed by hand.

    Parameters
    ----------
    work : str, the sum written out, e.g. ``"3*0 + 3*1 + 2*2 + ..."`` (``*``, ``·`` or ``×``;
        order free; the bias as a lone term)
    value : number, the result of the sum
    x : array ``(H, W)``; kernel : array ``(kh, kw)``; bias : number or None
    position : ``(row, col)`` of the output element
    stride, padding : ints, as ``conv2d``

    Checks that the products are those of the right window (diagnosing a flipped kernel, a
    window at the transposed position or one step off, and a missing or extra term), that the
    bias is there, and that the value is the sum.
    """
    _unanswered(work, "work")
    if not isinstance(work, str):
        _fail(f"work should be a string like \"3*0 + 3*1 + ...\", got {type(work).__name__}.")
    value = _as_number(value, "value")
    x, kernel = np.asarray(x, dtype=float), np.asarray(kernel, dtype=float)
    products, singles = _parse_work(work)
    right = _window_products(x, kernel, position, stride, padding)
    wants_bias = bias is not None and bias != 0
    if products != right:
        r, c = position
        shift = (f"your window is one step off: the window of output ({r}, {c}) starts at row "
                 f"{r * stride}, column {c * stride} of the (padded) input")
        tries = [
            ("your products are those of the flipped kernel: that is convolution as in signal "
             "processing; deep learning's conv2d multiplies the window by the kernel as it is",
             _window_products(x, kernel[::-1, ::-1], position, stride, padding)),
            (f"you used the window of output ({c}, {r}): a position is (row, column)",
             _window_products(x, kernel, (c, r), stride, padding)),
        ] + [(shift, _window_products(x, kernel, (r + dr, c + dc), stride, padding))
             for dr, dc in ((-1, 0), (1, 0), (0, -1), (0, 1))]
        hint = next((h for h, p in tries if p is not None and products == p), None)
        if hint is None:
            count = sum(products.values())
            hint = (f"you wrote {count} products; a {kernel.shape[0]}x{kernel.shape[1]} kernel "
                    f"gives {kernel.size}" if count != kernel.size else
                    "some products do not pair an input value with the kernel value on top of it")
        _fail(f"The products in your work are not those of output {tuple(position)}: {hint}.")
    if wants_bias and not any(_same_number(s, bias) for s in singles):
        _fail("Your products are right but the bias is missing: add it once, at the end.")
    if not wants_bias and singles:
        _fail("Your products are right but you added an extra term: this output has no bias.")
    if not _same_number(sum(a * b for (a, b), k in products.items() for _ in range(k))
                        + sum(singles), value):
        _fail("Your products are right but value is not their sum: add them up again.")
    _ok(f"right: output {tuple(position)} = {_fmt(value)}, and your work shows why.")


def _canonical(value):
    """The text a value is hashed from: strings NFC, stripped and case-folded; numbers short."""
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value).strip().casefold()
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, numbers.Real):
        return _fmt(value)
    if isinstance(value, (tuple, list)):
        return "(" + ", ".join(_canonical(v) for v in value) + ")"
    if isinstance(value, np.ndarray):
        return _canonical(value.tolist())
    raise TypeError(f"digest: cannot hash a {type(value).__name__}")


def digest(value):
    """A short hash of an answer, for checks that must not contain the answer.

    Strings are compared NFC-normalised, stripped and case-insensitively; ``3`` and ``3.0``
    hash alike; tuples, lists and arrays element by element.

    >>> digest("B") == digest(" b ")
    True
    """
    return hashlib.sha256(("convlab:" + _canonical(value)).encode()).hexdigest()[:16]


def check_choice(answer, expected_digest, name="your answer", hints=None):
    """Check a choice or a short text against the ``digest`` of the right one.

    ``hints`` maps the digest of a known wrong answer to what to think about.

    >>> check_choice("b", digest("B"))
    ✓ your answer 'b' is right.
    """
    _unanswered(answer, name)
    try:
        d = digest(answer)
    except TypeError:
        _fail(f"{name} should be a string or a number, got {type(answer).__name__}.")
    if d != expected_digest:
        _fail(_join(f"{name} {answer!r} is not right", (hints or {}).get(d)))
    _ok(f"{name} {answer!r} is right.")


def check_matching(answer, digests, name="your matching"):
    """Check a dict of pairs, e.g. English term -> Chinese term, pair by pair through hashes.

    ``digests`` maps each key to the ``digest`` of its right value. The message lists the keys
    that are missing or wrong, never the right values.
    """
    _unanswered(answer, name)
    if not isinstance(answer, dict):
        _fail(f"{name} should be a dict like {{'kernel': '...', ...}}, got "
              f"{type(answer).__name__}.")
    missing = [k for k in digests if answer.get(k) in (None, Ellipsis, "")]
    wrong = [k for k in digests if k not in missing and digest(answer[k]) != digests[k]]
    extra = [k for k in answer if k not in digests]
    if missing or wrong or extra:
        parts = [f"{len(digests) - len(missing) - len(wrong)} of {len(digests)} pairs are right"]
        if wrong:
            parts.append("not yet right: " + ", ".join(map(repr, wrong)))
        if missing:
            parts.append("not answered: " + ", ".join(map(repr, missing)))
        if extra:
            parts.append("not asked for: " + ", ".join(map(repr, extra)))
        _fail(f"{name}: " + "; ".join(parts) + ".")
    _ok(f"all {len(digests)} pairs of {name} are right.")


# --- references: the right computations and their usual mistakes -------------------------------


def _with(compute, **changes):
    """``compute`` with some arguments replaced, e.g. ``padding=0``: ignoring an argument."""
    signature = inspect.signature(compute)

    def wrong(*args, **kwargs):
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        bound.arguments.update(changes)
        return compute(*bound.args, **bound.kwargs)

    return wrong


def _then(compute, transform):
    """``compute`` followed by ``transform`` of its result, e.g. a transposed output."""
    return lambda *args, **kwargs: transform(compute(*args, **kwargs))


_ARTICLE_X = np.array([[3, 3, 2, 1, 0], [0, 0, 1, 3, 1], [3, 1, 2, 2, 3], [2, 0, 0, 2, 2],
                       [2, 0, 0, 0, 1]], dtype=float)
_ARTICLE_K = np.array([[0, 1, 2], [2, 2, 0], [0, 1, 2]], dtype=float)


def _single(nd, flip):
    """Single-channel cross-correlation (``flip=False``) or convolution in ``nd`` dimensions.

    Its ``compute(x, kernel, stride=1, padding=0)`` takes x ``(L,)`` or ``(H, W)`` and kernel
    ``(k,)`` or ``(kh, kw)`` and gives ``(L_out,)`` or ``(H_out, W_out)``.
    """
    op = (conv1d, conv2d)[nd - 1]

    def compute(x, kernel, stride=1, padding=0, flipped=flip, sides=(1, 1)):
        x, kernel = np.asarray(x, dtype=float), np.asarray(kernel, dtype=float)
        kernel = np.flip(kernel) if flipped else kernel
        x = np.pad(x, [(padding * sides[0], padding * sides[1])] * nd)
        return op(x[None], kernel[None, None], stride=stride)[0]

    mistakes = {
        "did you forget to flip the kernel? Convolution turns the kernel around before it "
        "slides: the kernel's last value meets the window's first" if flip else
        "did you flip the kernel? Flipping makes it the convolution of signal processing; deep "
        "learning's convolution is the cross-correlation: the window is multiplied by the kernel "
        "as it is":
            _with(compute, flipped=not flip),
        "did you forget the padding? padding={padding} adds that many zeros on each side of the "
        "input before the kernel slides": _with(compute, padding=0),
        "did you pad one side only? padding={padding} adds that many zeros on *each* side":
            _with(compute, sides=(1, 0)),
        "did you ignore the stride? With stride={stride} the kernel moves {stride} steps "
        "between outputs": _with(compute, stride=1),
        "that is 'full' mode, every partial overlap; here the kernel stays inside the "
        "(padded) input": lambda x, kernel, stride=1, padding=0: compute(
            x, kernel, stride, max(np.shape(kernel)) - 1),
        "your output is one too short: the last window ends on the last (padded) sample, so "
        "there are floor((n + 2p - k) / s) + 1 windows along an axis of size n":
            _then(compute, lambda y: y[(slice(0, -1),) * nd]),
    }
    if nd == 2:
        mistakes["your rows and columns are swapped: did you transpose the output?"] = _then(
            compute, np.transpose)
    worked = (_ARTICLE_X, _ARTICLE_K) if nd == 2 else (_ARTICLE_X[0], _ARTICLE_K[0])
    examples = ((worked, {}), (worked, {"padding": 1}), (worked, {"stride": 2, "padding": 1}))

    def cases(rng, keywords):
        kwargs = {}
        if "stride" in keywords:
            kwargs["stride"] = int(rng.integers(1, 4))
        if "padding" in keywords:
            kwargs["padding"] = int(rng.integers(0, 3))
        pad = kwargs.get("padding", 0)
        size = rng.integers(3, 9, size=nd)
        if nd == 2 and rng.random() < 0.5:
            size[1] = size[0]
        k = [int(rng.integers(2, min(s + 2 * pad, 4) + 1)) for s in size]
        x = rng.integers(-4, 5, size=size).astype(float)
        kernel = rng.integers(-3, 4, size=k).astype(float)
        return (x, kernel), kwargs

    if nd == 1:
        formula = "out[i] = sum_j x[i*stride + j - padding] * kernel[{}]".format(
            "K-1-j" if flip else "j")
    else:
        formula = "out[i, j] = sum_(a, b) x[i*stride + a - padding, j*stride + b - padding] * " \
                  "kernel[a, b]"
    return Reference(
        name=f"convlab.conv{nd}d" + (" with the kernel flipped" if flip else ""),
        compute=lambda x, kernel, stride=1, padding=0: compute(x, kernel, stride, padding),
        mistakes=mistakes,
        hint=f"compare your loops with {formula}, zeros outside x",
        cases=cases,
        examples=examples,
        keywords=("stride", "padding"),
    )


CORRELATE1D = _single(1, flip=False)
CONVOLVE1D = _single(1, flip=True)
CONV2D_SINGLE = _single(2, flip=False)


def _conv2d(x, weight, bias, stride=1, padding=0):
    """Multi-channel ``conv2d`` of one image.

    x ``(C_in, H, W)``, weight ``(C_out, C_in, kh, kw)``, bias ``(C_out,)`` or None ->
    ``(C_out, H_out, W_out)``.
    """
    x, weight = np.asarray(x, dtype=float), np.asarray(weight, dtype=float)
    bias = None if bias is None else np.asarray(bias, dtype=float)
    return conv2d(x, weight, bias, stride=stride, padding=padding)


def _bias_per_channel(x, weight, bias, stride=1, padding=0):
    y = _conv2d(x, weight, None, stride, padding)
    return y + np.shape(x)[0] * np.asarray(bias, dtype=float)[:, None, None]


def _not_summed(x, weight, bias, stride=1, padding=0):
    """The per-channel results, not summed: ``(C_out, C_in, H_out, W_out)``."""
    parts = [_conv2d(x[c:c + 1], weight[:, c:c + 1], None, stride, padding)
             for c in range(np.shape(x)[0])]
    return np.stack(parts, axis=1) + np.asarray(bias, dtype=float)[:, None, None, None]


def _one_channel(channel):
    def wrong(x, weight, bias, stride=1, padding=0):
        keep = slice(channel, channel + 1 or None)
        return _conv2d(x[keep], weight[:, keep], bias, stride, padding)

    return wrong


def _padded_channels(x, weight, bias, stride=1, padding=0):
    """``np.pad(x, p)`` pads every axis: zero channels in front, the last channels cut off."""
    xp = np.pad(np.asarray(x, dtype=float), padding)
    return _conv2d(xp[:np.shape(x)[0]], weight, bias, stride)


def _conv2d_case(rng, keywords):
    kwargs = {}
    if "stride" in keywords:
        kwargs["stride"] = int(rng.integers(1, 3))
    if "padding" in keywords:
        kwargs["padding"] = int(rng.integers(1, 3))
    c_in, c_out = (int(c) for c in rng.integers(2, 4, size=2))
    h, w = (int(s) for s in rng.integers(4, 8, size=2))
    k = int(rng.integers(2, 4))
    x = rng.integers(-3, 4, size=(c_in, h, w)).astype(float)
    weight = rng.integers(-2, 3, size=(c_out, c_in, k, k)).astype(float)
    bias = rng.integers(-5, 6, size=c_out).astype(float)
    return (x, weight, bias), kwargs


CONV2D = Reference(
    name="convlab.conv2d",
    compute=_conv2d,
    mistakes={
        "did you forget the bias? Each filter adds its bias once to every element of its "
        "output channel": _with(_conv2d, bias=None),
        "did you add the bias once per input channel? A filter has one bias, added once after "
        "the channels are summed": _bias_per_channel,
        "you did not sum over the input channels: a filter gives ONE output channel, the sum of "
        "its kernels' results on every input channel": _not_summed,
        "only the first input channel counts in your output: a filter sums over all input "
        "channels": _one_channel(0),
        "only the last input channel counts in your output: did you write = instead of += in "
        "the loop over the channels?": _one_channel(-1),
        "did you pad the channel axis too? np.pad(x, p) pads every axis; pad only the height "
        "and the width: np.pad(x, ((0, 0), (p, p), (p, p)))": _padded_channels,
        "did you forget the padding? padding={padding} adds that many zeros on each side of the "
        "height and of the width": _with(_conv2d, padding=0),
        "did you ignore the stride? With stride={stride} the filter moves {stride} steps "
        "between outputs": _with(_conv2d, stride=1),
        "did you flip the kernels? Deep learning's convolution does not flip": (
            lambda x, weight, bias, stride=1, padding=0: _conv2d(
                x, np.flip(weight, axis=(2, 3)), bias, stride, padding)),
        "your output has the channels last; convlab and PyTorch put them first: "
        "(C_out, H_out, W_out)": _then(_conv2d, lambda y: np.moveaxis(y, 0, -1)),
        "did you swap the weight's first two axes? weight[o, c] is the kernel of filter o for "
        "input channel c": lambda x, weight, bias, stride=1, padding=0: _conv2d(
            x, np.swapaxes(weight, 0, 1), bias, stride, padding),
    },
    hint="out[o, i, j] = bias[o] + sum over c, a, b of x_padded[c, i*stride + a, j*stride + b] "
         "* weight[o, c, a, b]",
    cases=_conv2d_case,
    examples=(
        ((_ARTICLE_X[None], _ARTICLE_K[None, None], np.array([1.0])), {}),
        ((np.stack([_ARTICLE_X, _ARTICLE_X.T, np.ones((5, 5))]),
          np.stack([np.stack([_ARTICLE_K, -_ARTICLE_K, np.eye(3)]),
                    np.stack([np.eye(3), _ARTICLE_K.T, _ARTICLE_K])]),
          np.array([1.0, -2.0])), {"padding": 1}),
    ),
    keywords=("stride", "padding"),
)


def _output_size(i, k, stride=1, padding=0):
    return conv_output_size(i, k, stride=stride, padding=padding)


def _size_case(rng, keywords):
    kwargs = {}
    if "stride" in keywords:
        kwargs["stride"] = int(rng.integers(1, 5))
    if "padding" in keywords:
        kwargs["padding"] = int(rng.integers(0, 4))
    i = int(rng.integers(1, 40))
    k = int(rng.integers(1, min(i + 2 * kwargs.get("padding", 0), 8) + 1))
    return (i, k), kwargs


OUTPUT_SIZE = Reference(
    name="convlab.conv_output_size",
    compute=_output_size,
    mistakes={
        "did you round up? Sizes are floored: a window that does not fit entirely is not used":
            lambda i, k, stride=1, padding=0: math.ceil((i + 2 * padding - k) / stride) + 1,
        "padding is counted on each side, so it adds 2·padding to the input":
            lambda i, k, stride=1, padding=0: (i + padding - k) // stride + 1,
        "the / operator gives a float; floor division // gives the whole number of steps":
            lambda i, k, stride=1, padding=0: (i + 2 * padding - k) / stride + 1,
        "did you forget the + 1? The first window is there before the kernel moves at all":
            lambda i, k, stride=1, padding=0: (i + 2 * padding - k) // stride,
        "did you ignore the stride? It divides the room the kernel has to move":
            lambda i, k, stride=1, padding=0: i + 2 * padding - k + 1,
        "that is the size of 'full' mode (every partial overlap)":
            lambda i, k, stride=1, padding=0: (i + 2 * padding + k - 2) // stride + 1,
    },
    hint="count the positions: the kernel starts at 0 and moves by stride while it fits in the "
         "padded input of size i + 2·padding",
    cases=_size_case,
    examples=(((5, 3), {}), ((5, 3), {"padding": 1}), ((7, 3), {"stride": 2}),
              ((224, 7), {"stride": 2, "padding": 3})),
    keywords=("stride", "padding"),
    integer=True,
)


def _conv_shape(input_shape, c_out, kernel_size, stride=1, padding=0, ceil=False, sides=2):
    """``conv2d``'s output shape for an input ``(..., C_in, H, W)`` and ``c_out`` filters.

    ``kernel_size`` is an int or ``(kh, kw)``; ``ceil`` and ``sides=1`` make two classic
    mistakes (rounding up, padding counted once).
    """
    k = kernel_size if isinstance(kernel_size, (tuple, list)) else (kernel_size,) * 2
    room = [i + sides * padding - kk for i, kk in zip(input_shape[-2:], k)]
    if min(room) < 0:
        raise ValueError("the kernel does not fit")
    steps = [math.ceil(r / stride) if ceil else r // stride for r in room]
    return tuple(input_shape[:-3]) + (c_out,) + tuple(s + 1 for s in steps)


def _channels_last(shape):
    return shape[:-3] + shape[-2:] + shape[-3:-2]


CONV_SHAPE = Reference(
    name="conv2d's output shape",
    compute=_conv_shape,
    mistakes={
        "did you forget the padding? padding={padding} adds that many zeros on each side":
            _with(_conv_shape, padding=0),
        "did you ignore the stride? stride={stride} divides the room the kernel has to move":
            _with(_conv_shape, stride=1),
        "did you round up? Output sizes are floored": _with(_conv_shape, ceil=True),
        "padding is per side: it adds 2·padding to the height and to the width":
            _with(_conv_shape, sides=1),
        "your channels come last; convlab and PyTorch write shapes channels first (NCHW)":
            _then(_conv_shape, _channels_last),
        "the output has one channel per filter, not one per input channel":
            lambda input_shape, c_out, kernel_size, stride=1, padding=0: _conv_shape(
                input_shape, input_shape[-3], kernel_size, stride, padding),
        "where is the batch axis? A batch of N images gives a batch of N outputs":
            _then(_conv_shape, lambda shape: shape[-3:]),
    },
    hint="the output is (C_out, H_out, W_out), with N in front for a batch, each size "
         "floor((i + 2·padding - k) / stride) + 1",
)


def _weight_shape(c_in, c_out, kernel_size):
    kh, kw = kernel_size if isinstance(kernel_size, (tuple, list)) else (kernel_size,) * 2
    return (c_out, c_in, kh, kw)


WEIGHT_SHAPE = Reference(
    name="conv2d's weight shape",
    compute=_weight_shape,
    mistakes={
        "you swapped the two channel axes: which comes first in PyTorch's layout, the number "
        "of filters or the depth of each filter?":
            _then(_weight_shape, lambda s: (s[1], s[0]) + s[2:]),
        "a filter is a stack of kernels, one per input channel: its depth is missing":
            _then(_weight_shape, lambda s: s[:1] + s[2:]),
        "that is TensorFlow's layout (kh, kw, C_in, C_out); convlab and PyTorch put the channel "
        "axes first": _then(_weight_shape, lambda s: s[2:] + (s[1], s[0])),
    },
    hint="a weight holds one filter per output channel, each a stack of kernels, one per "
         "input channel",
)


def _conv_params(c_in, c_out, kernel_size, bias=True, square=True):
    """Parameters of a conv layer; ``square=False`` is the mistake of k weights per kernel."""
    k = kernel_size if square else (kernel_size, 1)
    return conv_cost(c_in, c_out, k, k, bias=bias).params


CONV_PARAMS = Reference(
    name="convlab.conv_cost",
    compute=_conv_params,
    mistakes={
        "did you forget the biases? Each filter has one": _with(_conv_params, bias=False),
        "a filter has one kernel per input channel: its weights are C_in·kh·kw":
            _with(_conv_params, c_in=1),
        "a k x k kernel has k·k weights": _with(_conv_params, square=False),
    },
    hint="count one filter (its kernels and its bias), then multiply by the number of filters; "
         "the weights are shared by every position, so the image size does not enter",
    integer=True,
)


def _dense_params(input_shape, output_shape, bias=True):
    n_in, n_out = math.prod(input_shape), math.prod(output_shape)
    return n_in * n_out + (n_out if bias else 0)


DENSE_PARAMS = Reference(
    name="a dense layer's parameter count",
    compute=_dense_params,
    mistakes={
        "did you forget the biases? A dense layer has one per output unit":
            _with(_dense_params, bias=False),
        "a dense layer has one bias per output *unit*, not one per output channel":
            lambda input_shape, output_shape, bias=True: _dense_params(
                input_shape, output_shape, False) + output_shape[0],
        "did you count the pixels but not the channels? Every channel of every pixel is a unit":
            lambda input_shape, output_shape, bias=True: _dense_params(
                input_shape[1:], output_shape[1:], bias),
        "each output unit is connected to every input unit: the counts multiply, they do not add":
            lambda input_shape, output_shape, bias=True: math.prod(input_shape)
            + 2 * math.prod(output_shape),
    },
    hint="every output unit has one weight per input unit, plus its bias",
    integer=True,
)
