"""What an exercise check is (the exercises of lessons 01-06): cases, known mistakes, a verdict.

A check is a function that returns a list of :class:`Case` (inputs, the expected answer and what
the case is about), registered under a name with :func:`register_check` together with a list of
:class:`Mistake` (a typical wrong implementation and the hint that names it). When the learner's
answer is wrong, the runner (``runner.py``) compares it with each known mistake: if it matches
one, the feedback can say *which* mistake it is, not just that it is wrong. The verdict is a
:class:`CheckResult`; ``progress.py`` remembers it.

Each lesson's checks are in ``lessonNN.py``; every check is listed in ``CHECKS``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable


@dataclass
class Case:
    """One input to try. ``expected`` is an array, or a tuple of arrays for several outputs."""

    label: str  # what this case is about, e.g. "a batch of 2 x 3 query sets"
    args: tuple
    expected: Any
    rtol: float = 1e-6
    atol: float = 1e-8
    # Checks of torch exercises: the reference's gradients of the probed function of the output
    # (name -> array), see gradients.py; None: this case compares outputs only.
    gradients: dict | None = None


@dataclass
class Mistake:
    """A typical wrong answer (``fn`` computes it from the same args) and the hint naming it."""

    hint: str
    fn: Callable
    nan: bool = False  # True: the mistake produces NaN on purpose; match NaN with NaN
    # "unstable_softmax": the right answer with exp() of unshifted scores. Every check of an
    # exercise that computes a softmax has one (register_check(unstable_softmax=...)), and a case
    # where it overflows.
    kind: str = ""


# The hint of every check's unstable softmax (one text, so the lesson's advice reads the same).
UNSTABLE_SOFTMAX_HINT = (
    "Your softmax is not stable: exp() of a score above about 709 is inf (and inf / inf is NaN), "
    "and a very negative row underflows to 0 / 0. Subtract each row's maximum before "
    "exponentiating (softmax does not change when one number is subtracted from a whole row); "
    "torch.softmax and course_lib's softmax do this for you.")


@dataclass
class CheckSpec:
    """Everything :func:`register_check` was told about one check (see its arguments)."""

    name: str
    cases: Callable[[], list]  # builds the cases (lazily, so importing stays cheap)
    mistakes: list = field(default_factory=list)
    task: str = ""  # one line: what the learner's function should do
    # Turns what the learner passes (e.g. a class) into a function of a case's args; None: as is.
    prepare: Callable | None = None
    error_hint: Callable | None = None  # error -> hint (or None) when the learner's code raises
    time_limit: float | None = None  # seconds per call; None: the runner's TIME_LIMIT_SECONDS
    success: str = ""  # one teaching sentence printed on a pass
    softmax: bool = False  # the exercise computes a softmax: an overflowing case is required
    gradients: bool = False  # a torch exercise: compare gradients too (prepare provides them)
    arg_names: tuple | None = None  # names of the case's arguments in feedback (else inferred)
    shape_hint: Callable | None = None  # (got, expected, output index) -> hint or None


CHECKS: dict[str, CheckSpec] = {}


def register_check(name: str, mistakes=(), task: str = "", prepare=None, error_hint=None,
                   time_limit: float | None = None, *, success: str, unstable_softmax=None,
                   gradients: bool = False, arg_names=None, shape_hint=None):
    """Decorator for a zero-argument function returning the list of cases of check ``name``.

    ``success``: one sentence printed when every case passes, teaching why the answer is right
    (what it shares with the library's function, or which edge case it survived).
    ``unstable_softmax``: for an exercise that computes a softmax, its right answer with exp() of
    unshifted scores (a function of a case's args). It becomes the check's first mistake, named by
    ``UNSTABLE_SOFTMAX_HINT``; give the check a case where it overflows.
    ``gradients``: a torch exercise; ``prepare`` returns a function with a ``gradients(*args)``
    method (name -> array), compared with each case's ``gradients``.
    ``arg_names``: the arguments' names in feedback when the learner's signature cannot tell them.
    ``shape_hint(got, expected, j)``: a hint for a wrong shape of output j that fits this exercise.
    ``time_limit``: seconds one call may take (default: the runner's TIME_LIMIT_SECONDS); raise it
    for an exercise whose right answer really takes long (a training loop)."""
    if not success or not success.strip():
        raise ValueError(f"check {name!r}: give success=, the sentence a learner reads on a pass")
    known = list(mistakes)
    if unstable_softmax is not None:
        known.insert(0, Mistake(UNSTABLE_SOFTMAX_HINT, unstable_softmax, nan=True,
                                kind="unstable_softmax"))

    def decorate(make_cases):
        if name in CHECKS:
            raise ValueError(f"a check named {name!r} is already registered")
        CHECKS[name] = CheckSpec(name, make_cases, known, task, prepare, error_hint, time_limit,
                                 success.strip(), unstable_softmax is not None, gradients,
                                 tuple(arg_names) if arg_names else None, shape_hint)
        return make_cases

    return decorate


# The line of feedback that names the likely mistake starts with "hint:" ("提示：" in Chinese)
HINT_PREFIXES = ("hint:", "提示：")


@dataclass
class CheckResult:
    """What ``check`` found. ``passed`` is True only if every case matched."""

    name: str
    passed: bool
    attempted: bool
    message: str
    cases_passed: int = 0
    cases_total: int = 0

    @property
    def hint(self) -> str:
        """The one line of feedback a failed check most wants the learner to read: its ``hint:``
        line, else the first line that explains the failure (e.g. "your function changed its
        input ..."). Empty for a pass or an unattempted exercise. The progress file keeps it, so
        an instructor can see which hint most of a room got (course_room)."""
        if self.passed or not self.attempted:
            return ""
        lines = [line.strip() for line in self.message.splitlines()[1:] if line.strip()]
        for line in lines:
            for prefix in HINT_PREFIXES:
                if line.startswith(prefix):
                    return line[len(prefix):].strip()
        return lines[0] if lines else ""

    def __repr__(self) -> str:
        state = "passed" if self.passed else ("failed" if self.attempted else "not attempted yet")
        return f"CheckResult({self.name!r}: {state}, {self.cases_passed}/{self.cases_total} cases)"
