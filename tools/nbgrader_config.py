"""nbgrader configuration of the convlab course.

Used by ``tools/release.py`` to generate ``exercises/`` and by a teacher's course folder (copy
this file there as ``nbgrader_config.py``; docs/teaching.md gives the whole workflow). Keeping
one file for both is what makes ``nbgrader generate_assignment`` in a course folder produce
exactly the committed ``exercises/``.
"""

from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import ClearHiddenTests, GetGrades

c = get_config()  # noqa: F821 (nbgrader provides get_config when it loads this file)

c.CourseDirectory.course_id = "convlab"

# An emptied answer cell must still run: the cells keep their `name = ...` placeholder (or a
# function's docstring) and the check below says "replace the ...", instead of every answer
# cell stopping with nbgrader's default `raise NotImplementedError()`.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# Seconds per cell when autograding: a submission that loops forever loses that cell only.
c.ExecutePreprocessor.timeout = 60

# Feedback shows the graded notebook without the hidden tests' code. Their failures cannot
# leak the answer either: they raise convlab.checks.CheckFailed (shown as its message only) or
# compare against convlab's own ops or a digest, never a literal expected value.
c.GenerateFeedback.preprocessors = [GetGrades, ClearHiddenTests, CSSHTMLHeaderPreprocessor]
