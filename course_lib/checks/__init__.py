"""Automatic checks for the exercises.

    from course_lib.checks import check
    result = check("scaled_dot", my_scaled_dot)   # prints feedback
    result.passed                                 # True / False

The machinery is in ``framework.py``; each lesson's checks are in ``lessonNN.py``.
"""
from course_lib.checks.framework import CHECKS, Case, CheckResult, Mistake, check, register_check  # noqa: F401

# Importing a lesson module registers its checks.
from course_lib.checks import lesson01, lesson02, lesson03  # noqa: F401,E402
from course_lib.checks import lesson04  # noqa: F401,E402
from course_lib.checks import lesson05, lesson06  # noqa: F401,E402

__all__ = ["CHECKS", "Case", "CheckResult", "Mistake", "check", "register_check"]
