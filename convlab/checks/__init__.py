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

A ``Reference`` bundles the right computation, its usual mistakes and a generator of test cases;
a check cell shows it, so it keeps the first two private. They live in one module per topic
(``basics``: chapters 00-02), each exported here.
"""

import builtins
import hashlib
import importlib
import importlib.util
import inspect
import math
import numbers
import re
import secrets
import sys
import types
import unicodedata
from collections import Counter
from pathlib import Path

import numpy as np

__all__ = [
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
    "exercise",
    "sealed",
]


class CheckFailed(AssertionError):
    """A wrong answer. Jupyter shows only the message (no traceback into this module)."""

    def _render_traceback_(self):
        # IPython calls this instead of printing a traceback: the learner (and nbgrader's
        # feedback) sees the diagnosis, not the check's code.
        return [f"✗ {self}"]


class Reference:
    """What an answer is checked against: the right computation, its usual mistakes, test cases.

    Parameters
    ----------
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

    A check cell shows the reference it uses, so a reference must not hand out the answer: the
    right computation and the mistakes (a mistake called on changed arguments can give the right
    answer) are kept private (``_compute``, ``_mistakes``), with no public attribute, index or
    repr that reaches them; ``hints`` lists the mistakes' hints. A reference cannot be changed.
    """

    __slots__ = ("name", "hint", "cases", "examples", "keywords", "integer", "hints",
                 "_compute", "_mistakes")

    def __init__(self, name, compute, mistakes, hint="", cases=None, examples=(), keywords=(),
                 integer=False):
        for slot, value in (("name", name), ("hint", hint), ("cases", cases),
                            ("examples", tuple(examples)), ("keywords", tuple(keywords)),
                            ("integer", integer), ("hints", tuple(mistakes)),
                            ("_compute", compute), ("_mistakes", dict(mistakes))):
            object.__setattr__(self, slot, value)

    def __setattr__(self, name, value):
        raise AttributeError(f"a Reference cannot be changed (tried to set {name!r})")

    __delattr__ = __setattr__

    def __getattr__(self, name):
        # only called for what the slots lack: say where the computation went
        if name in ("compute", "mistakes"):
            raise AttributeError(f"a Reference keeps its {name} private: the checks use it, "
                                 f"an answer must not (the hint texts are .hints)")
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __repr__(self):
        return f"Reference({self.name!r})"

    def __getstate__(self):
        # copying or pickling would hand the private parts out in a plain dict
        raise TypeError("a Reference cannot be copied or pickled")

    def __reduce_ex__(self, protocol):
        self.__getstate__()

    def __reduce__(self):
        self.__getstate__()

    def _replace(self, **changes):
        """A copy with some of the constructor's arguments changed (as a NamedTuple's)."""
        given = {"name": self.name, "compute": self._compute, "mistakes": self._mistakes,
                 "hint": self.hint, "cases": self.cases, "examples": self.examples,
                 "keywords": self.keywords, "integer": self.integer}
        return Reference(**{**given, **changes})


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


def _short(value, limit=60):
    """``repr(value)``, cut to ``limit`` characters: a message must stay one readable line."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 4] + " ..."


def _describe(value):
    """An argument as a message shows it: small 1-D arrays by value, other arrays by shape."""
    if isinstance(value, np.ndarray):
        if value.ndim == 1 and value.size <= 10:
            return "[" + ", ".join(_fmt(a) for a in value) + "]"
        return f"an array of shape {value.shape}"
    return repr(value)


def _as_array(answer, name):
    """``answer`` as a float array, or a message saying why it is not an array of numbers."""
    _unanswered(answer, name)
    try:
        raw = np.asarray(answer)
    except (TypeError, ValueError, OverflowError):  # e.g. rows of different lengths
        _fail(f"{name} should be an array of numbers with rows of equal length, got "
              f"{type(answer).__name__}.")
    if raw.dtype.kind == "c":
        _fail(f"{name} holds complex numbers: the convolution of real arrays is real.")
    if raw.dtype.kind in "USa":
        _fail(f"{name} holds text (strings like {_short(raw.flat[0]) if raw.size else ''}): "
              f"write numbers, not strings.")
    if raw.dtype.kind not in "biufO":
        _fail(f"{name} should be an array of numbers, got an array of {raw.dtype}.")
    odd = [a for a in raw.flat if not isinstance(a, numbers.Real)][:1] if raw.dtype == object \
        else []
    if odd:
        _fail(f"{name} should be an array of numbers, but it holds "
              f"{type(odd[0]).__name__} {_short(odd[0])}.")
    try:
        return raw.astype(float)
    except OverflowError:
        _fail(f"{name} holds a number too large for a float.")


def _as_number(answer, name):
    """``answer`` as a real number, or a message saying why it is not one."""
    _unanswered(answer, name)
    if isinstance(answer, np.ndarray) and answer.size == 1:
        answer = answer.item()
    if isinstance(answer, (bool, np.bool_)) or not isinstance(answer, numbers.Real):
        _fail(f"{name} should be a number, got {type(answer).__name__} {_short(answer)}.")
    try:
        float(answer)
    except OverflowError:
        _fail(f"{name} = {_short(answer)} is far too large to be right.")
    return answer


def _as_shape(answer, name):
    _unanswered(answer, name)
    if not isinstance(answer, (tuple, list)) or not all(
        isinstance(a, numbers.Integral) and not isinstance(a, (bool, np.bool_)) for a in answer
    ):
        _fail(f"{name} should be a tuple of ints like (2, 3, 3), got {_short(answer)}.")
    return tuple(int(a) for a in answer)


def _close(a, b):
    """Element-wise closeness by the arrays' own operators, not ``np.isclose``: an answer cell
    can rebind a NumPy function, not an operator of ``ndarray``."""
    return abs(a - b) <= 1e-6 + 1e-6 * abs(b)


def _same_array(a, b):
    b = np.asarray(b, dtype=float)
    return a.shape == b.shape and bool(_close(a, b).all())


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
        compute, mistakes, hint = reference._compute, reference._mistakes, reference.hint
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
    wrong = ~_close(arr, expected)
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
    expected = tuple(expected)
    if _same_shape(shape, expected):
        return None
    axes = len(shape) != len(expected)
    hint = diagnose(shape, _same_shape, default=axes and (
        f"it has {len(shape)} axes, the shape asked for has {len(expected)}"))
    return _join(f"{name} {_short(shape)} is not the right shape", hint)


def _problem(problem_of, answer, reference, args, kwargs, *more):
    """What is wrong with ``answer`` (``problem_of``'s message), or None.

    The expected value lives only in this frame, which has returned when a check raises: after
    a failed check, no frame of its traceback (``%debug``) holds the answer.
    """
    expected, diagnose = _expected(reference, args, kwargs)
    return problem_of(answer, expected, diagnose, *more)


def _ok(message):
    print(f"✓ {message}")


# --- the checks, one per kind of answer ---------------------------------------------------------


def check_array(answer, reference, *args, name="your array", **kwargs):
    """Check an array against ``reference(*args, **kwargs)``.

    A wrong shape is reported with the right shape (the shape is not the answer); wrong values
    with how many differ and the first place, showing only the learner's value.

    Parameters
    ----------
    answer : array-like, any shape
    reference : ``Reference`` or callable computing the right array from ``args``/``kwargs``
    name : how the message calls the answer, e.g. ``"out"``

    Examples
    --------
    >>> check_array([[12, 12, 17], [10, 17, 19], [9, 6, 14]], CONV2D_SINGLE,
    ...             [[3, 3, 2, 1, 0], [0, 0, 1, 3, 1], [3, 1, 2, 2, 3], [2, 0, 0, 2, 2],
    ...              [2, 0, 0, 0, 1]], [[0, 1, 2], [2, 2, 0], [0, 1, 2]])
    ✓ your array is right (shape (3, 3)).
    """
    arr = _as_array(answer, name)
    problem = _problem(_array_problem, arr, reference, args, kwargs, name)
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
    problem = _problem(_shape_problem, shape, reference, args, kwargs, name)
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
    problem = _problem(_number_problem, number, reference, args, kwargs, name, integer)
    if problem:
        _fail(problem)
    _ok(f"{name} {_fmt(number)} is right.")


_PACKAGE = str(Path(__file__).resolve().parents[1])
# What a write-it-yourself task may not call: convlab itself, and the library routines that
# would do the task's work (NumPy's 1-D correlate/convolve, SciPy's signal and ndimage).
_LIBRARY = {"correlate": "np.correlate", "convolve": "np.convolve"}
_LIBRARIES = (_PACKAGE, str(Path(np.__file__).parent), "<frozen")


def _library_call(frame):
    """The name of the library function ``frame`` runs, if a write-it-yourself task forbids it.

    Only calls from the learner's own code count, so importing a library or a library calling
    itself do not. Any code of convlab counts, the checks' own computations (a ``Reference``'s
    ``_compute``, a sealed copy) included; of NumPy and SciPy, the routines that do the task.
    """
    caller = frame.f_back
    if caller is None or caller.f_code.co_filename.startswith(_LIBRARIES):
        return None
    code, names = frame.f_code, frame.f_globals
    if code.co_filename.startswith(_PACKAGE):
        module = re.sub(r"^_convlab_sealed_\w+", "convlab", names.get("__name__", "convlab"))
        if "checks" in module.split("."):
            return "convlab.checks (the checks' own computation)"
        if not code.co_name.startswith(("_", "<")):
            return f"convlab.{code.co_name}"
        return module
    function = names.get(code.co_name)
    function = getattr(function, "__wrapped__", function)  # NumPy's dispatchers wrap theirs
    if getattr(function, "__code__", None) is not code or code.co_name.startswith("_"):
        return None
    module = names.get("__name__", "")
    public = ".".join(part for part in module.split(".") if not part.startswith("_"))
    if module.startswith(("scipy.signal", "scipy.ndimage")) and not caller.f_globals.get(
            "__name__", "").startswith("scipy"):
        return f"{public}.{code.co_name}"
    if module.startswith("numpy") and code.co_name in _LIBRARY:
        return _LIBRARY[code.co_name]
    return None


def _watched(fn, args, kwargs):
    """``fn(*args, **kwargs)``, and the first forbidden library routine it called (or None)."""
    found = []

    def profile(frame, event, arg):
        if event == "call" and not found:
            name = _library_call(frame)
            if name:
                found.append(name)

    previous = sys.getprofile()
    sys.setprofile(profile)
    try:
        result = fn(*args, **kwargs)
    finally:
        sys.setprofile(previous)
    return result, (found[0] if found else None)


def _call(fn, fname, args, kwargs, yourself=False):
    """``fn(*args, **kwargs)`` on copies, with a learner's exception turned into a message;
    with ``yourself``, a call into convlab (or a library routine doing the task) fails it."""
    described = [_describe(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()]
    call = f"{fname}({', '.join(described)})"
    copies = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    try:
        result, used = _watched(fn, copies, kwargs) if yourself else (fn(*copies, **kwargs), None)
    except NotImplementedError:
        _fail(f"{fname} is not written yet: replace `raise NotImplementedError` by your code.")
    except Exception as error:  # noqa: BLE001 (any error of the learner's code is a diagnosis)
        _fail(f"{call} raised {type(error).__name__}: {error}")
    if result is None:
        _fail(f"{call} returned None: write the function's body, and `return` the result.")
    if used:
        _fail(f"this task asks you to write the loops yourself: your function {fname} calls "
              f"{used}.")
    return call, result


def check_function(fn, reference, n=20, seed=0, keywords=None, name=None, yourself=False):
    """Run a learner's function on the reference's worked examples and ``n`` generated cases.

    Parameters
    ----------
    fn : the learner's function, called like the reference's right computation
    reference : ``Reference`` with ``cases``
    n : how many generated cases after the worked examples
    seed : seed of the generated cases (hidden tests use another one)
    keywords : the optional arguments ``fn`` takes, of ``reference.keywords`` (default: all)
    name : how messages call ``fn`` (default: its ``__name__``)
    yourself : the task asks the learner to write it without the library: ``fn`` fails as soon
        as it calls convlab, ``np.correlate``/``np.convolve`` or ``scipy.signal``/``ndimage``

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
        call, result = _call(fn, fname, args, kwargs, yourself)
        problem = _problem(_result_problem, result, reference, args, kwargs, call,
                           reference.integer)
        if problem:
            _fail(problem)
    worked = f"{len(examples)} worked example{'s' * (len(examples) != 1)}"
    _ok(f"{fname} agrees with {reference.name} on {len(cases)} cases ({worked}, {n} generated).")


def _result_problem(result, expected, diagnose, call, integer):
    """What is wrong with what a learner's function returned for one case."""
    if isinstance(expected, np.ndarray):
        return _array_problem(_as_array(result, call), expected, diagnose, call)
    number = _as_number(result, f"{call}'s result")
    return _number_problem(number, expected, diagnose, call, integer)


_TOKEN = re.compile(r"\s*(?:(\d+(?:\.\d*)?|\.\d+)|(.))")


def _tokens(work):
    """The numbers (as floats) and symbols of a written sum; ``·``/``×``/``x`` are ``*``."""
    text = work.replace("−", "-").replace("·", "*").replace("×", "*").replace("⋅", "*")
    tokens = []
    for number, symbol in _TOKEN.findall(text.strip()):
        if number:
            tokens.append(float(number))
        elif symbol in "+-*()":
            tokens.append(symbol)
        else:
            _fail(f"I cannot read {symbol!r} in your work: write products as a*b (or a·b), "
                  f"joined by + or -, like \"3*0 + 3*1 - 2*1 + ...\".")
    return tokens


def _parse_work(work):
    """``"3·0 + 3·1 - 2·1 + ... + 1"`` -> ``(products, singles)``: the products as signed
    ``(sign, a, b)`` triples and the lone terms (the bias) as signed numbers.

    Parentheses may group a channel's sum, ``(...) + (...)``, or hold a negative factor,
    ``2·(-1)``; a minus before a term or a group negates it.
    """
    tokens, at = _tokens(work), 0

    def peek():
        return tokens[at] if at < len(tokens) else None

    def take():
        nonlocal at
        at += 1
        return tokens[at - 1]

    def unreadable():
        near = " ".join(map(_show_token, tokens[at:at + 3])) or "its end"
        _fail(f"I cannot read your work near {near!r}: write products as a*b (or a·b), joined "
              f"by + or -, like \"3*0 + 3*1 - 2*1\".")

    def atom():
        """A number, or a parenthesised sum: a list of signed terms."""
        sign = 1.0
        while peek() in ("-", "+"):
            sign *= -1.0 if take() == "-" else 1.0
        token = peek()
        if isinstance(token, float):
            take()
            return [(sign, token, None)]
        if token == "(":
            take()
            inner = expression()
            if peek() != ")":
                unreadable()
            take()
            return [(sign * s, a, b) for s, a, b in inner]
        unreadable()

    def term():
        left = atom()
        if peek() != "*":
            return left
        take()
        right = atom()
        if len(left) != 1 or len(right) != 1 or left[0][2] is not None or right[0][2] is not None:
            _fail("Your work multiplies more than two numbers, or a sum: write each product "
                  "as input value * kernel value.")
        (s1, a, _), (s2, b, _) = left[0], right[0]
        return [(s1 * s2, a, b)]

    def expression():
        terms = term()
        while peek() in ("+", "-"):
            sign = -1.0 if take() == "-" else 1.0
            terms += [(sign * s, a, b) for s, a, b in term()]
        return terms

    if not tokens:
        _fail("work is empty: write the sum of products, like \"3*0 + 3*1 + ...\".")
    try:
        terms = expression()
    except RecursionError:  # parentheses nested hundreds deep
        _fail("I cannot read your work: it nests too many parentheses; write products as a*b, "
              "joined by + or -.")
    if peek() is not None:
        unreadable()
    products = [(s, a, b) for s, a, b in terms if b is not None]
    singles = [s * a for s, a, b in terms if b is None]
    return products, singles


def _show_token(token):
    return _fmt(token) if isinstance(token, float) else token


def _key(a, b, sign=1.0):
    """A product as it is compared: its two factors' sizes and the sign of the product, so
    that ``- 2·1``, ``2·(-1)`` and ``(-2)·1`` are the same product."""
    value = sign * a * b
    return tuple(sorted((abs(a), abs(b)))), int(value > 0) - int(value < 0)  # NumPy bools: no -


def _window_products(x, kernel, position, stride, padding):
    """The products of the window at ``position``, over every channel, as a multiset of keys.

    ``show_work`` finds the window (one place for it); None where the position has no window.
    """
    from ..viz.work import _work  # the pictures load only when a learner checks a sum

    try:
        work = _work(x, kernel, position=position, stride=stride, padding=padding)
    except ValueError:
        return None
    return Counter(_key(a, b) for channel in work.terms for a, b in channel)


def _window_problem(products, x, kernel, position, stride, padding):
    """What is wrong with the products of a learner's work, or None if they are the window's.

    The right products live only in this frame, gone when ``check_work`` raises.
    """
    right = _window_products(x, kernel, position, stride, padding)
    if products == right:
        return None
    r, c = position
    channels = x.shape[0] if x.ndim == 3 else 1
    shift = (f"your window is one step off: the window of output ({r}, {c}) starts at row "
             f"{r * stride}, column {c * stride} of the (padded) input")
    tries = [
        ("your products are those of the flipped kernel: that is convolution as in signal "
         "processing; deep learning's conv2d multiplies the window by the kernel as it is",
         _window_products(x, np.flip(kernel, axis=(-2, -1)), position, stride, padding)),
        (f"you used the window of output ({c}, {r}): a position is (row, column)",
         _window_products(x, kernel, (c, r), stride, padding)),
    ] + [(shift, _window_products(x, kernel, (r + dr, c + dc), stride, padding))
         for dr, dc in ((-1, 0), (1, 0), (0, -1), (0, 1))]
    if channels > 1:
        tries += [(f"these are the products of channel {ch} only: a filter sums the "
                   f"products of all {channels} channels",
                   _window_products(x[ch], kernel[ch], position, stride, padding))
                  for ch in range(channels)]
    hint = next((h for h, p in tries if p is not None and products == p), None)
    if hint is None:
        count, size = sum(products.values()), kernel.size
        hint = (f"you wrote {count} products; this window has {size} "
                f"({' x '.join(map(str, kernel.shape))})" if count != size else
                "some products do not pair an input value with the kernel value on top of it")
    return f"The products in your work are not those of output {tuple(position)}: {hint}."


def check_work(work, value, x, kernel, position, bias=None, stride=1, padding=0):
    """Check one output element of a ``conv2d`` computed by hand, its sum written out.

    Checks that the products are those of the right window on every channel (diagnosing a
    flipped kernel, a window at the transposed position or one step off, a channel left out,
    and a missing or extra term), that the bias is there, and that the value is the sum.

    Parameters
    ----------
    work : str, the sum written out, e.g. ``"3*0 + 3*1 - 2*1 + ..."`` (``*``, ``·`` or ``×``;
        order free; ``-`` before a product or a factor in parentheses, ``2*(-1)``; each
        channel's sum may be parenthesised; the bias as a lone term)
    value : number, the result of the sum
    x : array ``(H, W)`` or ``(C, H, W)``; kernel : array ``(kh, kw)`` or one filter
        ``(C, kh, kw)``; bias : number or None
    position : ``(row, col)`` of the output element
    stride, padding : ints, as ``conv2d``
    """
    _unanswered(work, "work")
    if not isinstance(work, str):
        _fail(f"work should be a string like \"3*0 + 3*1 + ...\", got {type(work).__name__}.")
    value = _as_number(value, "value")
    x, kernel = np.asarray(x, dtype=float), np.asarray(kernel, dtype=float)
    terms, singles = _parse_work(work)
    products = Counter(_key(a, b, s) for s, a, b in terms)
    problem = _window_problem(products, x, kernel, position, stride, padding)
    if problem:
        _fail(problem)
    _right_sum(terms, singles, value, bias, position)


def _right_sum(terms, singles, value, bias, position):
    """The end of every by-hand check, once its products are right: the bias is there once
    (and only if there is one), the value is the sum; then the ✓."""
    wants_bias = bias is not None and bias != 0
    if wants_bias and not any(_same_number(s, bias) for s in singles):
        _fail("Your products are right but the bias is missing: add it once, at the end.")
    if not wants_bias and singles:
        _fail("Your products are right but you added an extra term: this output has no bias.")
    if not _same_number(sum(s * a * b for s, a, b in terms) + sum(singles), value):
        _fail("Your products are right but value is not their sum: add them up again.")
    _ok(f"right: output {tuple(position)} = {_fmt(value)}, and your work shows why.")


def _canonical(value):
    """The text a value is hashed from: strings NFC, stripped and case-folded; numbers short."""
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value).strip().casefold()
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, numbers.Real):
        try:
            return _fmt(value)
        except OverflowError:  # an int too large for a float: no answer is one
            return str(value)
    if isinstance(value, (tuple, list)):
        return "(" + ", ".join(_canonical(v) for v in value) + ")"
    if isinstance(value, np.ndarray):
        return _canonical(value.tolist())
    raise TypeError(f"digest: cannot hash a {type(value).__name__}")


# A digest is a slow, salted hash: each candidate answer costs about a tenth of a second, so
# recovering an answer by hashing every string of a lesson takes minutes, not a blink.
_DIGEST_SALT = b"convlab-course digest v2"
_DIGEST_ROUNDS = 100_000
_OLD_DIGEST = re.compile(r"[0-9a-f]{16}")


class Digest:
    """What ``digest`` returns: compares equal to the digest of the same answer, and to its
    text ``"v2-<16 hex digits>"`` (``str(d)``, what a check cell holds). It also equals the
    16-hex-digit digest of convlab before v2, so that older notebooks still check until their
    digests are recomputed."""

    def __init__(self, canonical):
        self._text = canonical
        self._v2 = None

    def __str__(self):
        if self._v2 is None:
            key = hashlib.pbkdf2_hmac("sha256", self._text.encode(), _DIGEST_SALT,
                                      _DIGEST_ROUNDS)
            self._v2 = "v2-" + key.hex()[:16]
        return self._v2

    __repr__ = __str__

    def __eq__(self, other):
        if isinstance(other, Digest):
            return self._text == other._text
        if isinstance(other, str) and _OLD_DIGEST.fullmatch(other):
            return hashlib.sha256(("convlab:" + self._text).encode()).hexdigest()[:16] == other
        return isinstance(other, str) and str(self) == other

    def __ne__(self, other):
        return not self == other

    def __hash__(self):
        return hash(str(self))


def digest(value):
    """The hash of an answer, for checks that must not contain the answer.

    Strings are compared NFC-normalised, stripped and case-insensitively; ``3`` and ``3.0``
    hash alike; tuples, lists and arrays element by element. ``print(digest(...))`` gives the
    text to write into a check cell.

    >>> digest("B") == digest(" b ")
    True
    """
    return Digest(_canonical(value))


def _hint(d, hints):
    return next((hint for key, hint in (hints or {}).items() if d == key), None)


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
        _fail(_join(f"{name} {_short(answer)} is not right", _hint(d, hints)))
    _ok(f"{name} {_short(answer)} is right.")


def check_matching(answer, digests, name="your matching"):
    """Check a dict of pairs, e.g. English term -> Chinese term, pair by pair through hashes.

    ``digests`` maps each key to the ``digest`` of its right value. The message lists the keys
    that are missing or wrong, never the right values.
    """
    _unanswered(answer, name)
    if not isinstance(answer, dict):
        _fail(f"{name} should be a dict like {{'kernel': '...', ...}}, got "
              f"{type(answer).__name__}.")
    missing = [k for k in digests if answer.get(k) is None or answer.get(k) is Ellipsis
               or answer.get(k) == ""]
    given = {}
    for key in digests:
        if key in missing:
            continue
        try:  # a string, a number, or a tuple or list of them
            given[key] = digest(answer[key])
        except TypeError:
            _fail(f"{name}: the value of {key!r} should be a string like '...', got "
                  f"{type(answer[key]).__name__} {_short(answer[key])}.")
    wrong = [k for k in given if given[k] != digests[k]]
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


# --- a chapter's numbers, and the hidden tests' own copy of the checks --------------------------

EXERCISES = {}  # "NN" -> data(rng): the task data of exercises NN, filled by the topic modules


def exercise(chapter, seed=0):
    """The task data of exercises ``chapter`` (``"NN"``) for a course seed, as a namespace.

    Every exercise's setup cell has ``COURSE_SEED = 0`` and ``task = checks.exercise("NN",
    COURSE_SEED)``; a teacher who releases the assignment with another seed gives the class
    other numbers to compute and other shapes to predict (``tools/nbgrader_config.py``).
    """
    if chapter not in EXERCISES:
        raise ValueError(f"exercise: no task data for chapter {chapter!r}; chapters with data: "
                         f"{sorted(EXERCISES)}")
    if not isinstance(seed, numbers.Integral) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"exercise: the course seed must be an int >= 0, got {seed!r}")
    rng = np.random.default_rng([int(chapter), int(seed)])
    data = EXERCISES[chapter](rng)
    if {"x", "weight", "position"} <= set(data):  # a by-hand task: show_work will not do it
        _BY_HAND.append(_window_products(data["x"], data["weight"], data["position"],
                                         data.get("stride", 1), data.get("padding", 0)))
    return types.SimpleNamespace(**data)


_BY_HAND = []  # the products of the by-hand tasks of the exercises loaded in this kernel


def _is_by_hand(terms):
    """Whether ``show_work``'s products are those of an exercise's by-hand task."""
    return Counter(_key(a, b) for channel in terms for a, b in channel) in _BY_HAND


def sealed(chapter, seed=0):
    """A fresh copy of ``convlab.checks``, loaded from disk, with ``.task`` the chapter's data.

    For hidden tests. An answer cell runs in the same kernel and may rebind
    ``checks.check_function``, ``np.allclose`` or ``cl.conv2d``; the copy and the convlab it
    computes with are new module objects that no earlier cell has seen, and the copy compares
    answers with the arrays' own operators. Written in a test cell as::

        COURSE_SEED = 0
        hidden = checks.sealed("02", COURSE_SEED)
        hidden.check_function(conv2d_naive, hidden.CONV2D_SINGLE, n=60, seed=COURSE_SEED + 202)
    """
    changed = _changed()
    if changed:
        _fail(f"not graded: an answer cell changed {', '.join(changed[:3])}, which the checks "
              f"rely on; an answer must not change numpy, convlab or the checks.")
    name = f"_convlab_sealed_{secrets.token_hex(8)}"
    spec = importlib.util.spec_from_file_location(
        name, Path(_PACKAGE, "__init__.py"), submodule_search_locations=[_PACKAGE])
    package = importlib.util.module_from_spec(spec)
    sys.modules[name] = package  # its submodules import each other through this name
    spec.loader.exec_module(package)
    copy = importlib.import_module(f"{name}.checks")
    copy.task = copy.exercise(chapter, seed)
    for key, module in list(sys.modules.items()):
        if key.startswith(f"{name}.checks"):
            module._ok = lambda message: None  # the visible check has said ✓ already
    return copy


# What the checks compute with, as it was when they were first imported (in the setup cell,
# before any answer ran): every public callable of these modules, and its code. ``sealed``
# refuses to grade if an answer cell has rebound one (``np.allclose = ...``) or replaced its
# code (``f.__code__ = ...``); nbgrader's side of the course (``convlab.grading``) also reads
# the answer cells for such changes, outside the kernel.
_RELIED_ON = (np, math, builtins, hashlib, inspect, re, numbers, unicodedata, importlib,
              importlib.util, types, secrets)
# Of the builtins, those the checks use (the kernel itself swaps some others, e.g. ``input``).
_BUILTINS = {"abs", "all", "any", "bool", "callable", "dict", "enumerate", "float", "getattr",
             "hash", "int", "isinstance", "iter", "len", "list", "map", "max", "min", "next",
             "print", "range", "repr", "round", "set", "sorted", "str", "sum", "tuple", "type",
             "zip"}


def _code(obj):
    """A function's code; NumPy's dispatchers run the code of the function they wrap."""
    return getattr(getattr(obj, "__wrapped__", obj), "__code__", None)


# Of ``inspect``, what the checks use: importing PyTorch replaces ``inspect.getfile`` (its
# ``torch.package`` does), which a learner may do after the setup cell.
_ONLY = {"builtins": _BUILTINS, "inspect": {"signature"}}


def _snapshot():
    return {(module.__name__, name): (obj, _code(obj))
            for module in _RELIED_ON for name, obj in list(vars(module).items())
            if not name.startswith("_") and callable(obj)
            and name in _ONLY.get(module.__name__, (name,))}


_ORIGINALS = _snapshot()


def _changed():
    """``["np.allclose", ...]``: what the checks rely on and an answer cell has changed."""
    modules = {module.__name__: module for module in _RELIED_ON}
    changed = []
    for (module, name), (obj, code) in _ORIGINALS.items():
        now = getattr(modules[module], name, None)
        if now is not obj or _code(now) is not code:
            changed.append(f"{'np' if module == 'numpy' else module}.{name}")
    return sorted(changed)


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


def _distinct(reference, *args, among=None, strict=True, **kwargs):
    """Whether the right answer and the mistakes' answers for these arguments all differ, so
    that each wrong answer is named by its own hint: the test every task's data passes.

    ``among``: only the mistakes whose hints start with it (a string or a tuple of them). A
    mistake that cannot happen for these arguments (it raises) makes them unfit when
    ``strict``, and is left out otherwise.
    """
    values = []
    for hint, compute in [("", reference._compute), *reference._mistakes.items()]:
        if hint and among is not None and not hint.startswith(among):
            continue
        try:
            values.append(np.atleast_1d(np.asarray(compute(*args, **kwargs), dtype=float)))
        except (ValueError, IndexError):
            if strict:
                return False
    return all(a.shape != b.shape or not np.allclose(a, b)
               for n, a in enumerate(values) for b in values[:n])


def _then(compute, transform):
    """``compute`` followed by ``transform`` of its result, e.g. a transposed output."""
    return lambda *args, **kwargs: transform(compute(*args, **kwargs))


# The references and task data, one module per topic, each with its ``__all__`` (the references)
# and its ``EXERCISES`` (the task data of its chapters).
from . import (  # noqa: E402
    arithmetic,
    basics,
    bottlenecks,
    deformable,
    dilated,
    fields,
    flattened,
    grouped,
    networks,
    pointwise,
    separable,
    shuffled,
    transposed,
    volumes,
)

for _topic in (
    basics,
    volumes,
    pointwise,
    arithmetic,
    transposed,
    dilated,
    separable,
    flattened,
    grouped,
    shuffled,
    bottlenecks,
    fields,
    deformable,
    networks,
):
    if set(_topic.__all__) & set(__all__):  # one name, one reference: a topic must not shadow
        raise ImportError(f"{_topic.__name__} exports names already taken: "
                          f"{sorted(set(_topic.__all__) & set(__all__))}")
    __all__ += _topic.__all__
    globals().update({_name: getattr(_topic, _name) for _name in _topic.__all__})
    EXERCISES.update(getattr(_topic, "EXERCISES", {}))
