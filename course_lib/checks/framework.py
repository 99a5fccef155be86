"""How an exercise is checked: run the learner's function on many cases and explain any miss.

A check is a function that returns a list of :class:`Case` (inputs, the expected answer and what
the case is about), registered under a name with a list of :class:`Mistake` (a typical wrong
implementation and the hint that names it). When the learner's answer is wrong we compare it with
each known mistake: if it matches one, we can say *which* mistake it is, not just that it is wrong.

``check(name, fn)`` never raises because of the learner's code: an exception, a wrong shape, NaNs,
a missing ``return``, a wrong signature or a function that never returns (each call has a time
limit) all become feedback. A ``NotImplementedError`` raised by the learner's own stub means "not
attempted yet"; one raised inside a library during a real attempt is reported as an error.
"""
from __future__ import annotations

import copy
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import torch

from . import progress
from ._calling import (_arg_summary, _call_with_time_limit, _raised_by_learner, _signature_problem,
                       _TimeLimit)
from ._console import safe_print


@dataclass
class Case:
    """One input to try. ``expected`` is an array, or a tuple of arrays for several outputs."""

    label: str  # what this case is about, e.g. "a batch of 2 x 3 query sets"
    args: tuple
    expected: Any
    rtol: float = 1e-6
    atol: float = 1e-8


@dataclass
class Mistake:
    """A typical wrong answer (``fn`` computes it from the same args) and the hint naming it."""

    hint: str
    fn: Callable
    nan: bool = False  # True: the mistake produces NaN on purpose; match NaN with NaN


@dataclass
class CheckSpec:
    name: str
    cases: Callable[[], list]  # builds the cases (lazily, so importing stays cheap)
    mistakes: list = field(default_factory=list)
    task: str = ""  # one line: what the learner's function should do
    # Turns what the learner passes (e.g. a class) into a function of a case's args; None: as is.
    prepare: Callable | None = None
    error_hint: Callable | None = None  # error -> hint (or None) when the learner's code raises
    time_limit: float | None = None  # seconds per call; None: TIME_LIMIT_SECONDS


CHECKS: dict[str, CheckSpec] = {}

# Seconds one call of the learner's function may take before the check gives up on it. The right
# answers take milliseconds to a few seconds (a slow Python loop on a busy hub included); only a
# loop that never ends gets near this. A check can set its own (register_check(time_limit=...)).
TIME_LIMIT_SECONDS = 30.0


def register_check(name: str, mistakes=(), task: str = "", prepare=None, error_hint=None,
                   time_limit: float | None = None):
    """Decorator for a zero-argument function returning the list of cases of check ``name``.

    ``time_limit``: seconds one call may take (default TIME_LIMIT_SECONDS); raise it for an
    exercise whose right answer really takes long (a training loop)."""

    def decorate(make_cases):
        if name in CHECKS:
            raise ValueError(f"a check named {name!r} is already registered")
        CHECKS[name] = CheckSpec(name, make_cases, list(mistakes), task, prepare, error_hint,
                                 time_limit)
        return make_cases

    return decorate


@dataclass
class CheckResult:
    """What ``check`` found. ``passed`` is True only if every case matched."""

    name: str
    passed: bool
    attempted: bool
    message: str
    cases_passed: int = 0
    cases_total: int = 0

    def __repr__(self) -> str:
        state = "passed" if self.passed else ("failed" if self.attempted else "not attempted yet")
        return f"CheckResult({self.name!r}: {state}, {self.cases_passed}/{self.cases_total} cases)"


# ------------------------------------------------------------------------------------------
def as_numpy(x):
    """Tensors (also with gradients) and array-likes -> NumPy; tuples element-wise.

    A tuple is always a structure (``return output, weights``); a list of numbers is data.
    """
    if isinstance(x, tuple) or (isinstance(x, list) and not _is_numeric_list(x)):
        return tuple(as_numpy(item) for item in x)
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    if x is None:
        return None
    return np.asarray(x)


def _is_numeric_list(x) -> bool:
    try:
        return np.asarray(x).dtype.kind in "biuf"
    except (ValueError, TypeError):
        return False


def _outputs(x, n: int):
    """Normalise to a tuple of ``n`` outputs (or return None if the structure is wrong)."""
    if n == 1:
        return (x,) if not isinstance(x, tuple) else (x if len(x) == 1 else None)
    return x if isinstance(x, tuple) and len(x) == n else None


def _close(got, expected, case: Case, equal_nan: bool = False) -> bool:
    rtol, atol = case.rtol, case.atol
    if isinstance(got, np.ndarray) and got.dtype.kind == "f" and got.dtype.itemsize < 8:
        rtol, atol = max(rtol, 1e-4), max(atol, 1e-5)  # float32 work is right to float32 precision
    return (
        got is not None
        and isinstance(got, np.ndarray)
        and got.shape == np.shape(expected)
        and got.dtype.kind in "biuf"
        and (got.dtype == bool or np.asarray(expected).dtype != bool)  # a mask must be boolean
        and np.allclose(got, expected, rtol=rtol, atol=atol, equal_nan=equal_nan)
    )


def _all_close(got, expected, case: Case, equal_nan: bool = False) -> bool:
    return all(_close(g, e, case, equal_nan) for g, e in zip(got, expected))


def _describe(x) -> str:
    if x is None:
        return "None"
    if not isinstance(x, np.ndarray):
        return f"{type(x).__name__} {x!r}"[:200]
    if x.size <= 36:  # small enough to show whole: a partial view can hide the difference
        body = np.array2string(x, precision=4, suppress_small=True, separator=", ")
        return f"shape {x.shape}: " + body.replace("\n", "\n" + " " * 14)
    return f"shape {x.shape}, first row {np.array2string(x.reshape(-1, x.shape[-1])[0][:6], precision=4)}..."


def _shape_hint(got: np.ndarray, expected: np.ndarray) -> str | None:
    """Hints that any shape-returning exercise can share."""
    eshape = np.shape(expected)
    if got.ndim < len(eshape):
        return ("Leading batch dimensions were lost, or a reduced axis was dropped. Use "
                "operations that work on the last axes "
                "(x.swapaxes(-1, -2) instead of x.T, sum(axis=-1)) and keep reduced axes with "
                "keepdims=True, so that inputs of shape (..., n, d) keep their '...' and "
                "reduced results still broadcast.")
    if got.ndim == len(eshape) and got.ndim >= 2 and got.shape[:-2] == eshape[:-2] \
            and got.shape[-2:] == eshape[-2:][::-1]:
        return "The last two axes are swapped: rows and columns are transposed."
    if got.ndim > len(eshape):
        return ("The result has extra dimensions: check keepdims and any broadcasting "
                "(np.dot does not broadcast batch dimensions; use @ / np.matmul).")
    return None


def _diagnose(spec: CheckSpec, case: Case, got, expected) -> str:
    """Name the likely mistake: first the registered ones, then generic shape/NaN hints."""
    for g, e in zip(got, expected):
        if (isinstance(g, np.ndarray) and np.asarray(e).dtype == bool and g.dtype != bool
                and g.shape == np.shape(e)):
            return (f"A mask must be boolean (True = may attend, False = blocked); yours has dtype "
                    f"{g.dtype}, which softmax_weights refuses (is 1 'allowed' or an additive "
                    f"score?). Build it with dtype=bool, e.g. np.tril(np.ones((n, n), dtype=bool)), "
                    f"or convert with .astype(bool).")
    for mistake in spec.mistakes:
        wrong_fn = spec.prepare(mistake.fn) if spec.prepare else mistake.fn
        try:
            with np.errstate(all="ignore"):  # a known mistake may well overflow: that's its point
                wrong = _outputs(as_numpy(wrong_fn(*copy.deepcopy(case.args))), len(expected))
        except Exception:  # a mistake that cannot even run on this case is not the learner's
            continue
        if wrong is not None and _all_close(got, wrong, case, equal_nan=mistake.nan):
            return mistake.hint
    for g, e in zip(got, expected):
        if not isinstance(g, np.ndarray) or g.dtype.kind not in "biuf":
            continue
        if g.shape != np.shape(e):
            return _shape_hint(g, e) or "The shape differs from the expected one."
        if not np.all(np.isfinite(g)) and np.all(np.isfinite(e)):
            return ("Your result contains inf or NaN although the right answer is finite: exp() "
                    "overflows for large scores (inf / inf) and underflows to 0 for very negative "
                    "ones (0 / 0). Subtract each row's maximum (its own: axis=-1, keepdims=True) "
                    "before exponentiating.")
    return "Compare your result with the expected one on this small case, step by step."


# ------------------------------------------------------------------------------------------
def check(name: str, fn: Callable, verbose: bool = True) -> CheckResult:
    """Run the learner's ``fn`` on every case of check ``name``; print feedback; return a result.

    ``fn`` is called with NumPy float64 arrays (copies, so changing them in place is harmless) and
    may return NumPy arrays or torch tensors.
    """
    if name not in CHECKS:
        raise ValueError(f"name={name!r} is not a known check; known checks: {sorted(CHECKS)}")
    spec = CHECKS[name]
    result = _run(spec, fn)
    progress.record(result)  # remembered for progress.show_progress(); never raises
    if verbose:
        safe_print(result.message)
    return result


def _run(spec: CheckSpec, fn: Callable) -> CheckResult:
    name = spec.name
    if not callable(fn):
        return CheckResult(name, False, False,
                           f"Check {name!r}: expected a function, got {type(fn).__name__}.")
    fn = spec.prepare(fn) if spec.prepare else fn
    cases = spec.cases()
    limit = spec.time_limit or TIME_LIMIT_SECONDS
    for i, case in enumerate(cases):
        expected = case.expected if isinstance(case.expected, tuple) else (case.expected,)
        args_text = ", ".join(_arg_summary(a) for a in case.args)
        header = f"Check {name!r}: case {i + 1} of {len(cases)} ({case.label}) with {args_text}"
        signature_problem = None if spec.prepare else _signature_problem(fn, case.args, spec)
        if signature_problem:
            return CheckResult(name, False, True, f"{header}\n  {signature_problem}", i, len(cases))
        try:
            raw = _call_with_time_limit(fn, copy.deepcopy(case.args), limit)
        except _TimeLimit:
            return CheckResult(name, False, True,
                               f"{header}\n  your function took longer than "
                               f"{limit:g} s, maybe an infinite loop (a `while` whose "
                               f"condition never changes?). It may still be running in the "
                               f"background: restart the kernel if the notebook gets slow.",
                               i, len(cases))
        except NotImplementedError as error:
            if _raised_by_learner(error):
                return CheckResult(name, False, False,
                                   f"Check {name!r}: not attempted yet. Replace the "
                                   f"`raise NotImplementedError` line with your code and run again.",
                                   0, len(cases))
            where = traceback.extract_tb(error.__traceback__)[-1]
            return CheckResult(name, False, True,
                               f"{header}\n  your function raised NotImplementedError inside "
                               f"a library: {error}\n  (in {where.name}, {where.filename}, line "
                               f"{where.lineno})\n  hint: that operation is not available for "
                               f"these inputs (dtype or device); try float64 NumPy arrays.",
                               i, len(cases))
        except Exception as error:
            where = traceback.extract_tb(error.__traceback__)[-1]
            source = f": {where.line}" if where.line else ""
            return CheckResult(name, False, True,
                               f"{header}\n  your function raised {type(error).__name__}: {error}\n"
                               f"  (in {where.name}, line {where.lineno}{source})\n"
                               f"  hint: {(spec.error_hint and spec.error_hint(error)) or _error_hint(error)}",
                               i, len(cases))
        if raw is None:
            return CheckResult(name, False, True,
                               f"{header}\n  your function returned None: is the `return` "
                               f"statement missing?", i, len(cases))
        got = _outputs(as_numpy(raw), len(expected))
        if got is None:
            return CheckResult(name, False, True,
                               f"{header}\n  expected {len(expected)} output(s) "
                               f"{'as a tuple ' if len(expected) > 1 else ''}but got "
                               f"{type(raw).__name__}"
                               f"{' of length ' + str(len(raw)) if isinstance(raw, tuple) else ''}."
                               + (f"\n  the task: {spec.task}" if spec.task else ""),
                               i, len(cases))
        if not _all_close(got, expected, case):
            lines = [header]
            for j, (g, e) in enumerate(zip(got, expected)):
                tag = f" (output {j + 1})" if len(expected) > 1 else ""
                lines.append(f"  expected{tag}: {_describe(np.asarray(e))}")
                lines.append(f"  got{tag}:      {_describe(g)}")
            lines.append(f"  hint: {_diagnose(spec, case, got, expected)}")
            return CheckResult(name, False, True, "\n".join(lines), i, len(cases))
    return CheckResult(name, True, True,
                       f"Check {name!r}: passed all {len(cases)} cases. Well done!",
                       len(cases), len(cases))


def _error_hint(error: Exception) -> str:
    text = str(error)
    if "matmul" in text or "shapes" in text or "broadcast" in text or "dimension" in text:
        return ("a shape problem: print the shapes of your intermediate arrays; inputs may have "
                "leading batch dimensions (..., n, d): to swap their last two axes use "
                "x.swapaxes(-1, -2), not x.T (on a 2-D weight matrix, w.T is right).")
    if isinstance(error, (AttributeError, TypeError)):
        return ("your function receives NumPy arrays; use NumPy operations (np.exp, x.max(axis=-1)) "
                "or convert with torch.as_tensor first.")
    return "read the error message above; then try your function on the small case by hand."
