"""nbgrader configuration of the convlab course.

Copy this file into a course folder as ``nbgrader_config.py`` (docs/teaching.md gives the whole
workflow). ``tools/release.py`` uses it too, with the seed 0 and the links to the solutions
kept, to generate the self-paced ``exercises/``. The course's own steps come from
``convlab.grading``.
"""

from nbconvert.preprocessors import ClearMetadataPreprocessor, CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import (
    AssignLatePenalties,
    CheckCellMetadata,
    ClearHiddenTests,
    ClearMarkScheme,
    ClearOutput,
    ClearSolutions,
    ComputeChecksums,
    DeduplicateIds,
    GetGrades,
    IgnorePattern,
    IncludeHeaderFooter,
    InstantiateTests,
    LimitOutput,
    LockCells,
    OverwriteKernelspec,
    SaveAutoGrades,
    SaveCells,
)

from convlab.grading import (
    Execute,
    InspectSubmission,
    LearnerFeedback,
    OverwriteCells,
    ReleaseForClass,
    ScanAnswers,
    SubmissionFiles,
)

c = get_config()  # noqa: F821 (nbgrader provides get_config when it loads this file)

c.CourseDirectory.course_id = "convlab"

# --- release -------------------------------------------------------------------------------------
# The course seed: every task's data (the numbers to compute, the shapes to predict, the hidden
# cases) follows it. 0 gives the published exercises/ and solutions/; set your own number (any
# int > 0, kept private with this file) before the first release, and keep it for the term.
c.ReleaseForClass.seed = 0
# The hidden tests' own seed: the cases they try (`HIDDEN_SEED = 0` lines, never released).
# The published solutions/ show the hidden tests of 0: set your own secret number too.
c.ReleaseForClass.hidden_seed = 0
# Released notebooks say "the solutions (your teacher shares them after the deadline)" instead
# of linking to ../solutions/. tools/release.py keeps the links for the self-paced exercises/.
c.ReleaseForClass.solution_links = False

c.GenerateAssignment.preprocessors = [
    ReleaseForClass,  # first: the gradebook keeps the seeded cells
    IncludeHeaderFooter, InstantiateTests, LockCells, ClearSolutions, ClearOutput,
    CheckCellMetadata, ComputeChecksums, SaveCells, ClearHiddenTests, ClearMarkScheme,
    ComputeChecksums, CheckCellMetadata,
]

# An emptied answer cell must still run: the cells keep their `name = ...` placeholder (or a
# function's docstring) and the check below says "replace the ...", instead of every answer
# cell stopping with nbgrader's default `raise NotImplementedError()`.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# --- collect from a learning platform's download (nbgrader zip_collect) ---------------------------
# Files are matched inside downloaded/ASSIGNMENT/extracted/ by the first pattern that fits; add
# your platform's if it is not here. Only a `timestamp` in the name lets a late penalty apply.
c.ZipCollectApp.collector_plugin = SubmissionFiles
c.SubmissionFiles.patterns = [
    # Blackboard: 02_computing_convolution_jdoe_attempt_2025-03-01-16-55-00_02_computing_....ipynb
    r"(?:.*/)?[^/]*?_(?P<student_id>[^_/]+)_attempt_(?P<timestamp>\d{4}(?:-\d\d){5})_"
    r"(?P<file_id>[^/]+)",
    # Moodle: Jane Doe_1234567_assignsubmission_file_02_computing_convolution.ipynb (or in a
    # folder "Jane Doe_1234567_assignsubmission_file_/"); the id is Moodle's participant number
    r"(?:.*/)?[^/]*?_(?P<student_id>\d+)_assignsubmission_file_/?(?P<file_id>[^/]+)",
    # Canvas: doejane_1234_56789_02_computing_convolution.ipynb, doejane_LATE_1234_..., and
    # Canvas's "-1" of a resubmitted file; the id is Canvas's user number
    r"(?:.*/)?[^_/]+(?:_(?i:late))?_(?P<student_id>\d+)_\d+_(?P<file_id>[^/]+)",
    # one folder per student: STUDENT_ID/02_computing_convolution.ipynb
    r"(?:.*/)?(?P<student_id>[^/]+)/(?P<file_id>[^/]+)",
]

# --- autograde ------------------------------------------------------------------------------------
# Seconds per cell: a submission that loops forever loses that cell only.
c.ExecutePreprocessor.timeout = 60
# A deleted check cell is put back (and graded) instead of silently scoring nothing.
c.OverwriteCells.add_missing_cells = True

c.Autograde.sanitize_preprocessors = [
    ClearOutput,
    InspectSubmission,  # notes deleted, duplicated and moved cells, before nbgrader fixes them
    DeduplicateIds, OverwriteKernelspec,
    OverwriteCells,  # nbgrader's, without its false "checksum has changed" warnings
    CheckCellMetadata,
    ScanAnswers,  # outside the kernel: answers that change the grader, or call ready-made ops
]
c.Autograde.autograde_preprocessors = [
    Execute,  # nbgrader's, then the findings above fail the test cells they concern
    IgnorePattern, ClearMetadataPreprocessor, LimitOutput, SaveAutoGrades, AssignLatePenalties,
    CheckCellMetadata,
]

# --- feedback -------------------------------------------------------------------------------------
# The graded notebook without the hidden tests' code (ClearHiddenTests), and every error in the
# learner's terms: the message of a failed check, the learner's own lines of any other error,
# never a line of a check cell or a path of the grading machine (LearnerFeedback).
c.GenerateFeedback.preprocessors = [GetGrades, ClearHiddenTests, LearnerFeedback,
                                    CSSHTMLHeaderPreprocessor]
