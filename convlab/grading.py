"""Grading a class with nbgrader: the course's own steps, and the teacher's report.

``tools/nbgrader_config.py`` puts these into nbgrader's pipelines (docs/teaching.md gives the
whole workflow); they need nbgrader, the teacher's extra (``pip install -e ".[teacher]"``).

=======================  ==========================================================================
``ReleaseForClass``      ``generate_assignment``: writes the course seed into every
                         ``COURSE_SEED = <int>`` line (every task's data follows it), the hidden
                         seed into the hidden tests' ``HIDDEN_SEED = <int>`` lines (the cases
                         they try), and turns links to ``../solutions/`` into plain text
``InspectSubmission``    ``autograde``, first: notes graded cells that a submission deleted,
                         duplicated or moved
``OverwriteCells``       nbgrader's, but a locked cell is compared with its *released* text: no
                         false "checksum has changed" warning, and real changes are noted
``ScanAnswers``          reads every cell the student wrote, outside the student's kernel: an
                         answer that changes the grader (``np.allclose = ...``, ``setattr``,
                         ``exec``, ``sys.modules``, ...) or that calls convlab in a write-it-
                         yourself task fails the test cells it could fool
``Execute``              nbgrader's, and afterwards fails those test cells (and every test cell if
                         convlab's files changed on disk while the submission ran)
``LearnerFeedback``      ``generate_feedback``: every error in the learner's terms, never a line
                         of a check cell, a hidden literal or a path of the grading machine
``SubmissionFiles``      ``zip_collect``: the file names of learning platforms' downloads
``report``               ``python -m convlab report ASSIGNMENT``: in one place, the submissions
                         that were not graded or were altered, and why
=======================  ==========================================================================

What a preprocessor notes goes into the autograded notebook's metadata (``convlab.findings``),
where ``report`` reads it.
"""

import ast
import hashlib
import re
import sys
from pathlib import Path

import nbformat
from nbgrader import utils
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.plugins import FileNameCollectorPlugin
from nbgrader.preprocessors import Execute as _Execute
from nbgrader.preprocessors import NbGraderPreprocessor
from nbgrader.preprocessors import OverwriteCells as _OverwriteCells
from nbgrader.preprocessors.clearhiddentests import ClearHiddenTests
from traitlets import Bool, Int, List, Unicode

_PACKAGE = Path(__file__).resolve().parent

# --- findings: what grading noticed about a submission -------------------------------------------


def _findings(nb):
    return nb.metadata.setdefault("convlab", {}).setdefault("findings", [])


def _note(nb, kind, cell, message, fails=()):
    """Note a finding; ``fails`` are the grade ids of the test cells it makes fail."""
    _findings(nb).append({"kind": kind, "cell": cell, "message": message, "fails": list(fails)})


def _grade_id(cell):
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def _is_test(cell):
    return cell.cell_type == "code" and utils.is_grade(cell) and not utils.is_solution(cell)


def _hidden_removed(source):
    """The text of a test cell as released: without its hidden tests."""
    cell = nbformat.v4.new_code_cell(source)
    ClearHiddenTests()._remove_hidden_test_region(cell)
    return cell.source


# --- release: the course seed, and no links to the solutions -------------------------------------

_SEED_LINE = re.compile(r"(?P<indent>[ \t]*)(?P<name>COURSE_SEED|HIDDEN_SEED)[ \t]*=[ \t]*\d+"
                        r"(?P<comment>[ \t]*#.*)?[ \t]*")
_ANY_SEED_LINE = re.compile(r"[ \t]*(COURSE_SEED|HIDDEN_SEED)\s*=")
_SOLUTION_LINK = re.compile(r"\[(?P<text>[^\]]*)\]\((?:\.\./)?solutions/[^)]*\)")


class ReleaseForClass(NbGraderPreprocessor):
    """Release for a class: the teacher's seeds, and no links to the public solutions.

    Every ``COURSE_SEED = <int>`` line of a locked cell (the setup cell and the hidden tests)
    gets ``seed``; every ``HIDDEN_SEED = <int>`` line, which only hidden tests may hold, gets
    ``hidden_seed``. Runs first in ``generate_assignment``, so that the gradebook keeps the
    seeded hidden tests.
    """

    seed = Int(0, help="The course seed written into every `COURSE_SEED = <int>` line: every "
                       "task's data follows it. 0 gives the published exercises/ and "
                       "solutions/.").tag(config=True)
    hidden_seed = Int(0, help="Written into every `HIDDEN_SEED = <int>` line of the hidden "
                              "tests: the cases they try. Released notebooks never show it; "
                              "0 gives the cases of the published solutions/.").tag(config=True)
    solution_links = Bool(False, help="Keep links to ../solutions/ (the self-paced "
                                      "exercises/ keep them; a graded class must not "
                                      "have them).").tag(config=True)

    def preprocess(self, nb, resources):
        values = {"COURSE_SEED": self.seed, "HIDDEN_SEED": self.hidden_seed}
        for trait, value in (("seed", self.seed), ("hidden_seed", self.hidden_seed)):
            if value < 0:
                raise ValueError(f"ReleaseForClass.{trait} must be an int >= 0, got {value}")
        seeded = 0
        for cell in nb.cells:
            if cell.cell_type == "code" and not utils.is_solution(cell):
                lines, hidden = [], False
                for line in cell.source.split("\n"):
                    if "BEGIN HIDDEN TESTS" in line:
                        hidden = True
                    elif "END HIDDEN TESTS" in line:
                        hidden = False
                    elif _ANY_SEED_LINE.match(line):
                        match = _SEED_LINE.fullmatch(line)
                        if not match:
                            raise ValueError(f"cannot write a seed into {line.strip()!r}: write "
                                             f"it `COURSE_SEED = 0` on a line of its own")
                        if match["name"] == "HIDDEN_SEED" and not hidden:
                            raise ValueError("a `HIDDEN_SEED = ...` line belongs between the "
                                             "hidden-test markers: elsewhere it is released")
                        line = (f"{match['indent']}{match['name']} = {values[match['name']]}"
                                f"{match['comment'] or ''}")
                        seeded += match["name"] == "COURSE_SEED"
                    lines.append(line)
                cell.source = "\n".join(lines)
            elif cell.cell_type == "markdown" and not self.solution_links:
                cell.source = _SOLUTION_LINK.sub(
                    r"\g<text> (your teacher shares them after the deadline)", cell.source)
        graded = any(_is_test(cell) for cell in nb.cells)
        if self.seed and graded and not seeded:
            raise ValueError(
                f"{resources.get('nbgrader', {}).get('notebook', 'this notebook')} has no "
                f"`COURSE_SEED = 0` line: its tasks cannot follow the course seed {self.seed} "
                f"(see docs/teaching.md, 'Writing or changing an assignment')")
        return nb, resources


# --- autograde: what a submission changed --------------------------------------------------------


def _released_ids(resources):
    """The grade ids of this notebook's cells in the released order, and those graded."""
    nbg = resources["nbgrader"]
    with Gradebook(nbg["db_url"]) as gb:
        notebook = gb.find_notebook(nbg["notebook"], nbg["assignment"])
        return [c.name for c in notebook.source_cells], {c.name for c in notebook.grade_cells}


class InspectSubmission(NbGraderPreprocessor):
    """Note the graded and locked cells a submission deleted, duplicated or moved.

    First of autograde's sanitizing steps (before nbgrader's ``DeduplicateIds``); it also
    clears any ``convlab`` metadata the submission brought along.
    """

    def preprocess(self, nb, resources):
        nb.metadata.pop("convlab", None)
        _findings(nb)
        order, graded = _released_ids(resources)
        seen = [_grade_id(c) for c in nb.cells if _grade_id(c)]
        for name in order:
            if name not in seen:
                what = "it was put back and graded" if name in graded else "it was not put back"
                _note(nb, "missing", name, f"the cell {name} was deleted ({what})")
        for name in sorted({n for n in seen if seen.count(n) > 1}):
            _note(nb, "duplicate", name,
                  f"the cell {name} appears {seen.count(name)} times (the last one is graded)")
        known = [n for n in dict.fromkeys(seen) if n in order]
        for before, after in zip(known, known[1:]):
            if order.index(before) > order.index(after):
                _note(nb, "order", after,
                      f"the cells {before} and {after} are not in their released order")
        return nb, resources


class OverwriteCells(_OverwriteCells):
    """nbgrader's ``OverwriteCells``, comparing a locked cell with the text it was released with.

    nbgrader compares a submitted test cell with its source *including the hidden tests*, so it
    warns "checksum has changed" for every test cell of every submission. Here a locked cell
    counts as changed only if it differs from its released text; a real change is restored (as
    nbgrader does), warned about and noted for the report. Deleted graded cells are put back
    when ``add_missing_cells`` is set (the shipped configuration sets it).
    """

    def preprocess_cell(self, cell, resources, cell_index):
        released = None
        if _grade_id(cell) is not None:
            try:
                source = self.gradebook.find_source_cell(
                    _grade_id(cell), self.notebook_id, self.assignment_id)
                released = _hidden_removed(source.source) if source.locked else None
            except MissingEntry:
                pass
        self._source_changed = released is not None and cell.source.strip() != released.strip()
        return super().preprocess_cell(cell, resources, cell_index)

    def report_change(self, name, attr, old, new):
        if attr == "checksum" and not self._source_changed:
            return  # only the hidden tests differ: the cell is as released
        super().report_change(name, attr, old, new)
        what = "its text" if attr == "checksum" else f"its {attr}"
        self._changes.append((name, f"the locked cell {name} was edited ({what}); the "
                                    f"released version was graded"))

    def preprocess(self, nb, resources):
        self._changes = []
        nb, resources = super().preprocess(nb, resources)
        for name, message in self._changes:
            _note(nb, "altered", name, message)
        return nb, resources


# --- autograde: answers that change the grader ---------------------------------------------------

# Names a check cell relies on, besides the modules the locked cells import.
_PROTECTED = {"COURSE_SEED", "task", "hidden", "__builtins__"}
# Attributes through which code reaches the insides of functions, modules and frames.
_DUNDERS = {"__code__", "__globals__", "__dict__", "__builtins__", "__closure__",
            "__defaults__", "__kwdefaults__", "__subclasses__", "__bases__", "__mro__",
            "__setattr__", "__delattr__", "__getattribute__", "__import__", "__loader__",
            "__spec__", "__path__", "__file__", "__func__", "__wrapped__", "__class__",
            "f_globals", "f_locals", "f_back", "f_builtins", "tb_frame", "gi_frame",
            "cr_frame", "_getframe", "currentframe", "__getstate__", "__reduce__",
            "__reduce_ex__", "__slots__"}
_CALLS = {"setattr": "calls setattr", "delattr": "calls delattr", "exec": "calls exec",
          "eval": "calls eval", "compile": "calls compile", "__import__": "calls __import__",
          "globals": "calls globals()", "vars": "calls vars()", "locals": "calls locals()"}
_MODULES = {"builtins", "importlib", "ctypes", "gc", "sys", "types", "unittest", "inspect",
            "runpy"}
# What of the checks an answer must not read: their own computation of the expected answers,
# through any name bound to convlab.checks (``checks``, ``hidden``, ``cl.checks``, an answer's
# own import); a ``Reference``'s private computation and mistakes, through any name at all.
_ANSWERS = {"compute", "mistakes", "sealed", "EXERCISES"}
_REFERENCE = {"_compute", "_mistakes"}
_GETTERS = {"getattr", "attrgetter", "methodcaller"}
# What a write-it-yourself task forbids: convlab, and NumPy's and SciPy's ready-made ops.
_READY_MADE = {"numpy": {"correlate", "convolve"}, "scipy": {"signal", "ndimage"}}


def _python(source):
    """A cell's source as Python (IPython's ``%`` and ``!`` lines become calls), or None."""
    from IPython.core.inputtransformer2 import TransformerManager

    try:
        return ast.parse(TransformerManager().transform_cell(source))
    except (SyntaxError, ValueError):
        return None


def _imports(tree):
    """``{bound name: module path}`` of a cell's imports, e.g. ``{"np": "numpy",
    "checks": "convlab.checks", "conv2d": "convlab.conv2d"}``."""
    bound = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    bound[alias.asname] = alias.name
                else:
                    bound[alias.name.split(".")[0]] = alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                bound[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return bound


def _root(node):
    """The name an attribute or subscript chain starts from (``np`` of ``np.linalg.norm``)."""
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Call)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def _dotted(node):
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def _top_level_stores(tree):
    """Names a cell binds at the top level (not inside functions or classes)."""
    stores = []

    def visit(node):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                stores.append((child.name, child.lineno))
                continue
            if isinstance(child, ast.Lambda):
                continue
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                stores.extend((a.asname or a.name.split(".")[0], child.lineno)
                              for a in child.names)
            if isinstance(child, ast.Name) and isinstance(child.ctx, (ast.Store, ast.Del)):
                stores.append((child.id, child.lineno))
            visit(child)

    visit(tree)
    return stores


def _private(path):
    """Whether a dotted path names what the checks keep from answers: ``convlab.checks.…``
    followed by a private name or one of ``_ANSWERS``, or a ``Reference``'s private parts."""
    parts = path.split(".")
    if any(part in _REFERENCE for part in parts):
        return True
    return parts[:2] == ["convlab", "checks"] and any(
        part.startswith("_") or part in _ANSWERS for part in parts[2:])


def _reads_answers(node, bound):
    """Whether an attribute reaches into the checks' answers (``checks.OUTPUT_SIZE._compute``,
    ``cl.checks.sealed``, ``ref._mistakes``), by the names the cells bound."""
    if node.attr in _REFERENCE:
        return True
    dotted = _dotted(node)
    if dotted is None:  # a call or an index in the chain: judge from its root
        root = _root(node)
        dotted = f"{root}.{node.attr}" if root else node.attr
    head, _, rest = dotted.partition(".")
    return head in bound and _private(f"{bound[head]}.{rest}")


def _called(call):
    """The name a call's function goes by: ``getattr``, ``attrgetter`` of ``operator.…``."""
    return call.func.id if isinstance(call.func, ast.Name) else getattr(call.func, "attr", None)


def _hidden_name(call):
    """For ``getattr(obj, name)``, ``operator.attrgetter(name)`` and ``methodcaller``: the name
    if it is private or not written out (a computed name can be ``"_comp" + "ute"``), else None."""
    which = {"getattr": slice(1, 2), "methodcaller": slice(0, 1)}.get(_called(call), slice(None))
    names = call.args[which]
    for arg in names:
        if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str)):
            return "a computed attribute name"
        if any(part.startswith("_") or part in _ANSWERS for part in arg.value.split(".")):
            return repr(arg.value)
    return None


def tampering(tree, protected):
    """What a cell does to the grader: ``[(line, what)]``, empty for an honest answer.

    ``protected`` maps the names the check cells rely on (the locked cells' imports) to what
    they are bound to; rebinding one of them to anything else counts, re-importing it does not.
    """
    found = []
    imports = _imports(tree)
    bound = {**protected, **imports, "checks": "convlab.checks", "hidden": "convlab.checks"}
    for name, line in _top_level_stores(tree):
        if (name in protected and imports.get(name) != protected[name]) or name in _PROTECTED:
            found.append((line, f"rebinds {name}"))
    # getattr & co. called with a public name written out; any other use of them counts
    plain = {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)
             and _called(node) in _GETTERS and not _hidden_name(node)}
    for node in ast.walk(tree):
        line = getattr(node, "lineno", 0)
        name = node.id if isinstance(node, ast.Name) else getattr(node, "attr", None)
        if isinstance(node, (ast.Name, ast.Attribute)) and name in _GETTERS \
                and id(node) not in plain:
            found.append((line, f"uses {name} with a name it does not write out"))
        if isinstance(node, ast.Global):
            found += [(line, f"declares global {n}") for n in node.names
                      if n in protected or n in _PROTECTED]
        targets = []
        if isinstance(node, (ast.Assign, ast.Delete)):
            targets = node.targets
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
            targets = [node.target]
        for target in targets:
            for t in ast.walk(target):
                if isinstance(t, (ast.Attribute, ast.Subscript)):
                    root = _root(t)
                    if root in protected or root in _PROTECTED:
                        verb = "deletes" if isinstance(node, ast.Delete) else "assigns to"
                        found.append((line, f"{verb} {ast.unparse(t)}"))
                        break
        if isinstance(node, ast.Attribute) and node.attr in _DUNDERS:
            found.append((line, f"uses {ast.unparse(node)}"))
        elif isinstance(node, ast.Attribute) and _reads_answers(node, bound):
            found.append((line, f"reads the checks' own answers ({ast.unparse(node)})"))
        elif isinstance(node, ast.Attribute) and node.attr in _MODULES:
            found.append((line, f"reaches the module {node.attr} ({ast.unparse(node)})"))
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                "convlab") and any(_private(f"{node.module}.{a.name}") for a in node.names):
            found.append((line, f"reads the checks' own answers (imports from {node.module})"))
        elif isinstance(node, ast.Call) and _called(node) in _GETTERS and _hidden_name(node):
            found.append((line, f"calls {_called(node)} with {_hidden_name(node)}"))
            plain.add(id(node.func))  # said once
        elif isinstance(node, ast.Name) and node.id == "__builtins__":
            found.append((line, "uses __builtins__"))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and node.func.id in _CALLS:
            found.append((line, _CALLS[node.func.id]))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and isinstance(node.func.value, ast.Call) \
                and _dotted(node.func.value.func) == "get_ipython" \
                and node.func.attr in ("system", "getoutput", "run_cell_magic"):
            shell = node.func.attr != "run_cell_magic"
            found.append((line, "runs a shell command" if shell else "runs a cell magic"))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""])
            for name in names:
                if name.split(".")[0] in _MODULES:
                    found.append((line, f"imports {name}"))
    return sorted(set(found))


def _calls_ready_made(tree, bound):
    """The ready-made ops a function's code refers to: convlab, np.correlate, scipy.signal..."""
    found = []
    local = {**bound, **_imports(tree)}
    for node in ast.walk(tree):
        name = None
        if isinstance(node, ast.Attribute):
            dotted = _dotted(node)
            if dotted:
                head, _, rest = dotted.partition(".")
                name = f"{local[head]}.{rest}" if head in local else None
        elif isinstance(node, ast.Name) and node.id in local:
            name = local[node.id]
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            name = node.module if isinstance(node, ast.ImportFrom) else node.names[0].name
        if not name:
            continue
        parts = name.split(".")
        if parts[0] == "convlab" and parts[1:2] != ["checks"]:
            found.append(name)
        elif parts[0] in _READY_MADE and any(p in _READY_MADE[parts[0]] for p in parts[1:]):
            found.append(name)
    # `cl.conv2d` is reported as convlab.conv2d, not also as convlab
    return sorted(n for n in set(found) if not any(m.startswith(n + ".") for m in found))


def _yourself_tasks(tree):
    """``[function name]`` a test cell checks with ``yourself=True``."""
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and any(
                k.arg == "yourself" and isinstance(k.value, ast.Constant) and k.value.value is True
                for k in node.keywords) and node.args and isinstance(node.args[0], ast.Name):
            names.append(node.args[0].id)
    return list(dict.fromkeys(names))


class ScanAnswers(NbGraderPreprocessor):
    """Read every cell the student wrote, outside the student's kernel, for what the rules forbid.

    Last of autograde's sanitizing steps, after ``OverwriteCells`` has restored the locked
    cells. Two kinds of findings, each naming the test cells that lose their points (the
    ``Execute`` below fails them after running the notebook):

    * an answer that changes what the check cells rely on (``checks``, ``np``, ``cl``, the
      builtins, ``sys.modules``, a function's ``__code__``...), rebinds ``task`` or
      ``COURSE_SEED``, or uses ``exec``/``setattr``/``globals()``: every test cell that runs
      after it;
    * in a write-it-yourself task (a check cell calls ``check_function(..., yourself=True)``),
      a function that refers to convlab or NumPy's and SciPy's ready-made convolutions, directly
      or through another function of the student's: that task's test cell.
    """

    def preprocess(self, nb, resources):
        trusted, student = {}, []
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            tree = _python(cell.source)
            if utils.is_locked(cell) and not utils.is_solution(cell):
                if tree is not None:
                    trusted.update(_imports(tree))
            elif tree is not None:
                student.append((index, cell, tree))
        tests = [(i, c) for i, c in enumerate(nb.cells) if _is_test(c)]

        for index, cell, tree in student:
            found = tampering(tree, trusted)
            if found:
                where = _grade_id(cell) or f"a cell you added (cell {index + 1})"
                what = ", ".join(f"{what} (line {line})" for line, what in found)
                _note(nb, "tampering", _grade_id(cell) or f"cell {index + 1}",
                      f"not graded: {where} {what}; an answer must not change numpy, convlab "
                      f"or the checks", [_grade_id(c) for i, c in tests if i > index])

        functions, bound = {}, dict(trusted)
        for _, _, tree in student:
            bound.update(_imports(tree))
            for node in tree.body:
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    functions[node.name] = node
        for _, cell in tests:
            for name in _yourself_tasks(_python(cell.source) or ast.Module([], [])):
                used = self._ready_made(name, functions, bound)
                if used:
                    _note(nb, "shortcut", _grade_id(cell),
                          f"this task asks you to write the loops yourself: your function "
                          f"{name} calls {', '.join(used)}", [_grade_id(cell)])
        return nb, resources

    @staticmethod
    def _ready_made(name, functions, bound):
        """What ``name`` and the student's functions it calls refer to, of the forbidden ops."""
        found, todo, done = [], [name], set()
        while todo:
            fn = functions.get(todo.pop())
            if fn is None or fn.name in done:
                continue
            done.add(fn.name)
            found += _calls_ready_made(fn, bound)
            todo += [n.func.id for n in ast.walk(fn)
                     if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)]
        return sorted(set(found))


def _fingerprint(root=_PACKAGE):
    """Every file of the convlab package with its content hash and change time."""
    files = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            stat = path.stat()
            files[str(path.relative_to(root))] = (
                hashlib.sha256(path.read_bytes()).hexdigest(), stat.st_ctime_ns)
    return files


def _not_graded(message):
    return nbformat.v4.new_output("error", ename="NotGraded", evalue=message,
                                  traceback=[f"✗ {message}"])


class Execute(_Execute):
    """nbgrader's ``Execute``, then the findings of ``ScanAnswers`` applied to the test cells.

    A test cell named in a finding gets the finding's message as its error (so it scores zero,
    and the feedback says why). If convlab's own files changed while the submission ran (a
    submission can write to the disk as the grader's user), every test cell fails.
    """

    def preprocess(self, nb, resources, *args, **kwargs):
        before = _fingerprint()
        nb.metadata.setdefault("convlab", {})["time_limit"] = self.timeout
        nb, resources = super().preprocess(nb, resources, *args, **kwargs)
        after = _fingerprint()
        changed = sorted(name for name in set(before) | set(after)
                         if before.get(name) != after.get(name))
        if changed:
            _note(nb, "files", None,
                  f"not graded: convlab's files changed on disk while this submission ran "
                  f"({', '.join(changed[:5])}); reinstall convlab before grading again",
                  [_grade_id(c) for c in nb.cells if _is_test(c)])
        fails = {}
        for finding in _findings(nb):
            for name in finding["fails"]:
                fails.setdefault(name, finding["message"])
        for cell in nb.cells:
            if _is_test(cell) and _grade_id(cell) in fails:
                cell.outputs = [o for o in cell.outputs if o.output_type != "error"]
                cell.outputs.append(_not_graded(fails[_grade_id(cell)]))
        return nb, resources


# --- feedback: errors in the learner's terms -----------------------------------------------------

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_CELL_FRAME = re.compile(r"^Cell In\[(\d+)\], line (\d+)(?:, in ([\w<>.]+))?")
_FILE_FRAME = re.compile(r"^File (.+?):(\d+)(?:, in ([\w<>.]+))?")
# An absolute path, up to its last separator: what the page must not show of the grading machine.
_PATH = re.compile(r"(?<![\w.:/~-])(?:~?/)(?:[^\s'\"`:<>|/\\]+/)+")
_WARNING = re.compile(r"(?:^|:\d+: )(\w*Warning: .*)$")
_TIMEOUT = {"KeyboardInterrupt", "CellTimeoutError", "DeadKernelError"}


def scrub(text):
    """``text`` without the directories of absolute paths (a file's name is kept)."""
    return _PATH.sub("…/", text)


def _frames(traceback):
    """``[("cell", execution_count, line, function) | ("file", path, line, function)]``."""
    frames = []
    for chunk in traceback:
        head = _ANSI.sub("", chunk).lstrip("\n").split("\n", 1)[0].strip()
        match = _CELL_FRAME.match(head)
        if match:
            frames.append(("cell", int(match[1]), int(match[2]), match[3]))
            continue
        match = _FILE_FRAME.match(head)
        if match:
            frames.append(("file", match[1], int(match[2]), match[3]))
    return frames


class LearnerFeedback(NbGraderPreprocessor):
    """Every error of the feedback page in the learner's terms, and no path of the machine.

    An error's traceback becomes its type and message, with the lines of the learner's own
    cells it went through; a line of a locked cell (a check, its hidden tests, the setup) is
    never shown. A failed check keeps its one-line message; a cell stopped by the time limit
    says so, and where the learner's code was when it stopped; an error raised inside the
    course's checks themselves is reported without its message (which could describe the
    expected answer). Warnings keep their message only; every text loses its paths.
    """

    def preprocess(self, nb, resources):
        self._cells = {c.execution_count: c for c in nb.cells
                       if c.cell_type == "code" and c.get("execution_count")}
        limit = nb.metadata.get("convlab", {}).get("time_limit")  # noted by Execute
        self._limit = f"of {limit} seconds " if isinstance(limit, int) else ""
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return cell, resources
        mine = not utils.is_locked(cell) or utils.is_solution(cell)
        outputs, stopped = [], False
        for output in cell.outputs:
            if output.output_type == "error":
                if output.ename in _TIMEOUT:
                    if stopped:
                        continue
                    stopped = True
                output.traceback = self._explain(output)
                output.evalue = scrub(output.evalue) if mine else ""
            elif output.output_type == "stream":
                text = scrub(output.text)
                if output.name == "stderr" and not mine:
                    text = "".join(m[1] + "\n" for m in map(_WARNING.search, text.splitlines())
                                   if m)
                if not text:
                    continue
                output.text = text
            else:
                for mime, data in output.get("data", {}).items():
                    if isinstance(data, str) and not mime.startswith("image/"):
                        output.data[mime] = scrub(data)
            outputs.append(output)
        cell.outputs = outputs
        return cell, resources

    def _mine(self, count):
        cell = self._cells.get(count)
        return cell is not None and (not utils.is_locked(cell) or utils.is_solution(cell))

    def _where(self, frames):
        """The lines of the learner's own cells a traceback went through."""
        lines = []
        for kind, count, line, function in frames:
            if kind == "cell" and self._mine(count):
                source = self._cells[count].source.splitlines()
                code = source[line - 1].strip() if 0 < line <= len(source) else ""
                name = _grade_id(self._cells[count]) or f"cell [{count}]"
                inside = f", in {function}" if function and function != "<module>" else ""
                lines.append(f"  in your cell {name}{inside}, line {line}: {scrub(code)}")
        return lines

    def _explain(self, output):
        traceback = list(output.traceback)
        if len(traceback) == 1 and traceback[0].startswith("✗"):
            return [scrub(traceback[0])]  # a failed check: its message is the feedback
        frames = _frames(traceback)
        where = self._where(frames)
        if output.ename in _TIMEOUT:
            return [f"✗ This cell did not finish within the time limit {self._limit}and was "
                    f"stopped: look for a loop that never ends, or one that does far too "
                    f"much work."] + [f"  it was stopped {line.strip()}" for line in where[-1:]]
        in_checks = any(kind == "file" and "convlab/checks" in path for kind, path, *_ in frames)
        if in_checks and not where:
            return [f"✗ The check could not read your answer ({output.ename} inside "
                    f"convlab.checks). Check the type of your answer; if it looks right, "
                    f"tell your teacher."]
        message = scrub(f"{output.ename}: {output.evalue}" if output.evalue else output.ename)
        if output.ename == "AssertionError" and not output.evalue:
            message = "AssertionError: a hidden test of this task failed"
        return [f"✗ {message}"] + where


# --- zip_collect: learning platforms' file names -------------------------------------------------


class SubmissionFiles(FileNameCollectorPlugin):
    """Collect a learning platform's download: the first of ``patterns`` that matches a file.

    Each pattern is matched against the file's path inside nbgrader's ``extracted`` folder and
    must name the groups ``student_id`` and ``file_id`` (the notebook's name, ``.ipynb``
    optional); ``timestamp`` is optional (only then can a late penalty apply).
    """

    patterns = List(Unicode(), help="Regular expressions, tried in order").tag(config=True)

    def collect(self, submitted_file):
        path = Path(submitted_file)
        if path.suffix not in self.valid_ext:
            return None
        parts = path.parts
        relative = "/".join(parts[parts.index("extracted") + 1:]) if "extracted" in parts \
            else path.name
        for pattern in self.patterns:
            match = re.fullmatch(pattern, relative)
            if match:
                found = {k: v for k, v in match.groupdict().items() if v is not None}
                found["file_id"] = re.sub(r"(-\d+)?(\.ipynb)?$", "", found["file_id"])
                stamp = re.fullmatch(r"(\d{4}-\d\d-\d\d)-(\d\d)-(\d\d)-(\d\d)",
                                     found.get("timestamp", ""))
                if stamp:  # Blackboard's 2025-03-01-16-55-00
                    found["timestamp"] = f"{stamp[1]} {stamp[2]}:{stamp[3]}:{stamp[4]}"
                return found
        self.log.warning("No pattern of SubmissionFiles.patterns matches %s", relative)
        return None


# --- the teacher's report ------------------------------------------------------------------------


def _course(root):
    """nbgrader's ``CourseDirectory`` of the course folder ``root``, with its configuration."""
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config.loader import Config, PyFileConfigLoader

    config = Config()
    if (Path(root) / "nbgrader_config.py").exists():
        config = PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config()
    config.CourseDirectory.root = str(Path(root).resolve())
    return CourseDirectory(config=config), config


def _test_errors(nb):
    """Per test cell, the error that cost its points: ``{grade id: (ename, evalue)}``."""
    errors = {}
    for cell in nb.cells:
        if _is_test(cell):
            for output in cell.outputs:
                if output.output_type == "error":
                    errors.setdefault(_grade_id(cell), (output.ename, output.evalue))
    return errors


def review(root, assignment):
    """What a teacher must know about each submission of ``assignment`` in course folder ``root``.

    Returns ``{student: [(status, message)]}`` with status ``"not graded"``, ``"altered"``,
    ``"late"``, ``"note"`` or ``"untimed"`` (no time of submission, though the assignment has a
    due date); students whose submission needs nothing are absent.
    """
    coursedir, _ = _course(root)
    db = coursedir.db_url
    with Gradebook(db) as gb:
        notebooks = [n.name for n in gb.find_assignment(assignment).notebooks]
        students = sorted(s.id for s in gb.students)
        timestamps = {}
        for submission in gb.assignment_submissions(assignment):
            timestamps[submission.student.id] = (submission.timestamp,
                                                 submission.total_seconds_late)
        duedate = gb.find_assignment(assignment).duedate
    submitted_root = Path(coursedir.format_path(coursedir.submitted_directory, ".", "."))
    students = sorted(set(students) | {p.name for p in submitted_root.glob("*")
                                       if (p / assignment).is_dir()})
    report = {}
    for student in students:
        notes = report.setdefault(student, [])
        submitted = Path(coursedir.format_path(coursedir.submitted_directory, student,
                                               assignment))
        graded = Path(coursedir.format_path(coursedir.autograded_directory, student, assignment))
        if not submitted.is_dir():
            notes.append(("not graded", "no submission"))
            continue
        for name in notebooks:
            file = submitted / f"{name}.ipynb"
            if not file.exists():
                others = sorted(p.name for p in submitted.glob("*.ipynb"))
                found = f"found {', '.join(others)}" if others else "no notebook at all"
                notes.append(("not graded", f"no {name}.ipynb ({found}): rename it to "
                                            f"{name}.ipynb, then autograde it again"))
                continue
            try:
                nbformat.validate(nbformat.read(file, as_version=4))
            except Exception as error:  # noqa: BLE001 (any reason the file cannot be read)
                reason = scrub(str(error).splitlines()[0])[:160]
                notes.append(("not graded", f"{name}.ipynb is not a valid notebook ({reason})"))
                continue
            out = graded / f"{name}.ipynb"
            if not out.exists():
                notes.append(("not graded", f"{name}.ipynb was not autograded (run nbgrader "
                                            f"autograde {assignment} --student {student} and "
                                            f"read its log)"))
                continue
            if out.stat().st_mtime < file.stat().st_mtime:
                notes.append(("not graded", f"{name}.ipynb changed after it was autograded: "
                                            f"autograde it again with --force"))
            nb = nbformat.read(out, as_version=4)
            findings = nb.metadata.get("convlab", {}).get("findings", [])
            for f in findings:
                status = "note" if f["kind"] in ("order", "missing", "duplicate") else "altered"
                cost = f" [{', '.join(f['fails'])} scored 0]" if f["fails"] else ""
                notes.append((status, f"{f['message']}{cost}"))
            named = {n for f in findings for n in f["fails"]}
            for gid, (ename, evalue) in _test_errors(nb).items():
                if gid in named:
                    continue
                if ename in _TIMEOUT:
                    notes.append(("note", f"{gid} was stopped by the time limit"))
                elif ename not in ("CheckFailed", "AssertionError", "NameError", "NotGraded"):
                    notes.append(("note", f"{gid} raised {ename}: {scrub(evalue)[:120]}"))
        stamp, late = timestamps.get(student, (None, 0))
        if late:
            notes.append(("late", f"submitted {late / 3600:.1f} hours after the due date"))
        elif duedate is not None and stamp is None and submitted.is_dir():
            notes.append(("untimed", "no timestamp"))
    return {student: notes for student, notes in report.items() if notes}


def report(root, assignment, out=sys.stdout):
    """Print what ``review`` finds, worst first; returns the number of submissions listed."""
    found = review(root, assignment)
    order = ("not graded", "altered", "late", "note")
    if not found:
        print(f"{assignment}: every submission was graded, none was altered.", file=out)
        return 0
    for status in order:
        students = [s for s, notes in found.items() if any(n[0] == status for n in notes)]
        if not students:
            continue
        print(f"{status.upper()} ({len(students)})", file=out)
        for student in students:
            for message in [m for st, m in found[student] if st == status]:
                print(f"  {student}: {message}", file=out)
    untimed = [s for s, notes in found.items() if any(n[0] == "untimed" for n in notes)]
    if untimed:
        print(f"NO TIMESTAMP (placed by hand or from a download without times: a late penalty "
              f"cannot apply): {', '.join(untimed)}", file=out)
    return len(found)
