"""A correct answer to every registered exercise check, for the tests of the checker
(checks/test_checks.py, checks/test_checks_all.py): what a learner's right solution returns."""
import numpy as np
import torch

from course_lib.checks import CHECKS


def uniform_pooling_solution(tokens):
    """Lesson 05's uniform pooling, solved: the mean token and its equal weights."""
    return tokens.mean(dim=1), torch.full(tokens.shape[:2], 1.0 / tokens.shape[1], dtype=tokens.dtype)


def reference_solution(name):
    """A function that returns each case's expected answer: what a correct solution returns.

    Checks of torch exercises also compare gradients, which a stored answer cannot carry: for
    them the reference is a real torch solution."""
    from course_lib.checks.lesson03 import _Sketch

    solutions = {"uniform_pooling": uniform_pooling_solution, "multi_head_attention": _Sketch}
    if CHECKS[name].gradients:
        return solutions[name]
    cases = CHECKS[name].cases()

    def solution(*args):
        for case in cases:
            # (a check may hand the learner torch tensors: lesson 05's uniform_pooling)
            if all(np.array_equal(np.asarray(a), np.asarray(b))
                   if isinstance(a, (np.ndarray, torch.Tensor)) else a == b
                   for a, b in zip(args, case.args)):
                return case.expected
        raise AssertionError("unknown case")

    return solution
