"""Automatic checks for the exercises of lessons 01-06 (and the progress table of lesson 00).

    from course_lib.checks import check
    result = check("scaled_dot", my_scaled_dot)   # prints feedback
    result.passed                                 # True / False

    case.py       what a check is: Case, Mistake, CheckResult, register_check and the CHECKS registry
    runner.py     how it runs: check(name, fn) calls, compares, diagnoses and prints
    calling.py    calling the learner's function safely (time limit, signature, stub, in-place changes)
    gradients.py  the gradient comparison of torch exercises
    console.py    printing on any console
    progress.py   what the learner did: each check's last verdict, show_progress()
    lessonNN.py   each lesson's checks
"""
from course_lib.checks.case import CHECKS, Case, CheckResult, Mistake, register_check  # noqa: F401
from course_lib.checks.runner import check  # noqa: F401

# Importing a lesson module registers its checks.
from course_lib.checks import lesson01, lesson02, lesson03  # noqa: F401,E402
from course_lib.checks import lesson04  # noqa: F401,E402
from course_lib.checks import lesson05, lesson06  # noqa: F401,E402

__all__ = ["CHECKS", "Case", "CheckResult", "Mistake", "check", "register_check"]
