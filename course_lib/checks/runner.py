"""How an exercise check runs (the exercises of lessons 01-06): call the learner's function on
every case, compare, and explain any miss.

``check(name, fn)`` takes the check registered under ``name`` (``case.py``: its cases and known
mistakes), calls ``fn`` on each case safely (``calling.py``), compares the outputs and, for torch
exercises, the gradients (``gradients.py``), prints the feedback (``console.py``) and has the
verdict remembered (``progress.py``).

A hint names a registered mistake only when the learner's function agrees with that mistake on
every case both can be called on (one shared number is a coincidence, not a diagnosis).

Beyond the outputs, every check catches what would break the lesson's next cell although the
numbers are right: a function that changes its input in place (each argument is compared with a
private copy after the call), and, for torch exercises (``gradients=True``), a result whose
gradients are blocked or differ from the reference's. On success a check prints its ``success``
sentence: why the answer is right, or which edge case it just survived.

``check(name, fn)`` never raises because of the learner's code: an exception, a wrong shape, NaNs,
a missing ``return``, a wrong signature or a function that never returns (each call has a time
limit) all become feedback. Only the learner's own stub, a bare ``raise NotImplementedError``,
means "not attempted yet"; a NotImplementedError from torch or NumPy during a real attempt (``@``
on bool tensors) is reported as an error.
"""
from __future__ import annotations

import copy
import traceback
from typing import Callable

import numpy as np
import torch

from course_lib.basics.language import tr
from course_lib.checks import progress
from course_lib.checks.calling import (TimeLimit, arg_summary, argument_names, call_with_time_limit,
                                       changed_argument, raised_by_learner, signature_problem)
from course_lib.checks.case import CHECKS, Case, CheckResult, CheckSpec, Mistake
from course_lib.checks.console import safe_print
from course_lib.checks.gradients import GradientProblem, compare_gradients


# Seconds one call of the learner's function may take before the check gives up on it. The right
# answers take milliseconds to a few seconds (a slow Python loop on a busy hub included); only a
# loop that never ends gets near this. A check can set its own (register_check(time_limit=...)).
TIME_LIMIT_SECONDS = 30.0


def _hint_line(text: str) -> str:
    """The feedback's hint line, in the learner's language (course_lib/basics/language.py)."""
    return tr("  hint: {hint}").format(hint=tr(text))


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


def as_outputs(x, n: int):
    """What a function returned, as a tuple of ``n`` outputs (None if the structure is wrong:
    one array where two were asked for, a tuple of the wrong length)."""
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


def all_close(got, expected, case: Case, equal_nan: bool = False) -> bool:
    """Every output close to its expected array, at the case's tolerances (float32 work: float32's)."""
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
    """Hints that any shape-returning exercise can share, each for one kind of wrong shape."""
    eshape, gshape = tuple(np.shape(expected)), tuple(got.shape)
    seen = tr("Expected shape {expected}, got {got}. ").format(expected=eshape, got=gshape)
    if got.ndim == len(eshape) and got.ndim >= 2 and gshape[:-2] == eshape[:-2] \
            and gshape[-2:] == eshape[-2:][::-1]:
        return seen + tr("The last two axes are swapped: rows and columns are transposed.")
    if got.ndim < len(eshape) and got.size == int(np.prod(eshape)):
        return seen + tr("The same number of values in fewer axes: axes were merged or a length-1 "
                         "axis was dropped (e.g. batch and heads flattened into one, (B*h, n, n) instead "
                         "of (B, h, n, n)). Keep every axis: reshape to the expected shape, or do not "
                         "flatten in the first place.")
    if got.ndim < len(eshape):
        return seen + tr("Leading batch dimensions were lost, or a reduced axis was dropped. Use "
                         "operations that work on the last axes "
                         "(x.swapaxes(-1, -2) instead of x.T, sum(axis=-1)) and keep reduced axes with "
                         "keepdims=True, so that inputs of shape (..., n, d) keep their '...' and "
                         "reduced results still broadcast.")
    if got.ndim > len(eshape):
        return seen + tr("The result has extra dimensions: check keepdims and any broadcasting "
                         "(np.dot does not broadcast batch dimensions; use @ / np.matmul).")
    if sorted(gshape) == sorted(eshape):
        return seen + tr("The axes are in another order: move them with swapaxes / transpose.")
    off = [j for j in range(len(eshape)) if gshape[j] != eshape[j]]
    if len(off) == 1 and abs(gshape[off[0]] - eshape[off[0]]) == 1:
        j = off[0]
        more = tr("one entry too many") if gshape[j] > eshape[j] else tr("one entry too few")
        return seen + tr("Axis {axis} has {got} entries instead of {expected}: {more} (an off-by-one: "
                         "a slice's end, or n items giving n - 1 steps between them).").format(
            axis=j, got=gshape[j], expected=eshape[j], more=more)
    return seen + tr("The shape differs from the expected one.")


def _order_hint(got, expected, case: Case) -> str | None:
    """Several outputs with the right shapes in another order: say which order is expected."""
    gshapes = [getattr(g, "shape", None) for g in got]
    eshapes = [tuple(np.shape(e)) for e in expected]
    if len(got) == 2 and all_close(got[::-1], expected, case):
        return tr("Your outputs are right but in the wrong order (the first belongs second): "
                  "return them in the order the task names them.")
    if len(got) > 1 and gshapes != eshapes and sorted(map(str, gshapes)) == sorted(map(str, eshapes)):
        want = ", ".join(str(e) for e in eshapes)
        have = ", ".join(str(g) for g in gshapes)
        return tr("Your outputs come in another order: expected shapes ({want}) in that order, got "
                  "({have}). Return the outputs in the order the task names them.").format(
            want=want, have=have)
    return None


def _matches(spec: CheckSpec, mistake: Mistake, case: Case, got, equal_nan=None) -> bool | None:
    """Does ``mistake`` give ``got`` on ``case``? (None if it cannot run there.)"""
    wrong_fn = spec.prepare(mistake.fn) if spec.prepare else mistake.fn
    expected = case.expected if isinstance(case.expected, tuple) else (case.expected,)
    try:
        with np.errstate(all="ignore"):  # a known mistake may well overflow: that's its point
            wrong = as_outputs(as_numpy(wrong_fn(*copy.deepcopy(case.args))), len(expected))
    except Exception:  # noqa: BLE001 - a mistake that cannot run on a case says nothing there
        return None
    nan = mistake.nan if equal_nan is None else equal_nan
    return wrong is not None and all_close(got, wrong, case, equal_nan=nan)


def _diagnose(spec: CheckSpec, cases: list, i: int, fn: Callable, got, expected) -> str:
    """Name the likely mistake: first the registered ones, then generic shape/NaN hints.

    A registered mistake is named only if the learner's function agrees with it on *every* case
    both can be called on, not just on the failing one (``k + (n - 1) * (k // 2)`` happens to give
    9 where "one layer too few" does, and is not that mistake)."""
    case = cases[i]
    for g, e in zip(got, expected):
        if (isinstance(g, np.ndarray) and np.asarray(e).dtype == bool and g.dtype != bool
                and g.shape == np.shape(e)):
            return (f"A mask must be boolean (True = may attend, False = blocked); yours has dtype "
                    f"{g.dtype}, which softmax_weights refuses (is 1 'allowed' or an additive "
                    f"score?). Build it with dtype=bool, e.g. np.tril(np.ones((n, n), dtype=bool)), "
                    f"or convert with .astype(bool).")
    learner: dict = {}

    def learner_on(j):  # the learner's outputs on case j (None if it cannot run there)
        if j not in learner:
            other = cases[j]
            n_out = len(other.expected) if isinstance(other.expected, tuple) else 1
            try:
                with np.errstate(all="ignore"):
                    raw = call_with_time_limit(fn, copy.deepcopy(other.args),
                                                spec.time_limit or TIME_LIMIT_SECONDS)
                learner[j] = as_outputs(as_numpy(raw), n_out)
            except Exception:  # noqa: BLE001 - a case the learner cannot run says nothing
                learner[j] = None
        return learner[j]

    for mistake in spec.mistakes:
        if not _matches(spec, mistake, case, got):
            continue
        agrees = True
        for j, other in enumerate(cases):
            if j == i or learner_on(j) is None:
                continue
            # (NaN where the mistake gives NaN is agreement too, e.g. an unstable sibling case)
            if _matches(spec, mistake, other, learner_on(j), equal_nan=True) is False:
                agrees = False
                break
        if agrees:
            return mistake.hint
    order = _order_hint(got, expected, case)
    if order:
        return order
    for j, (g, e) in enumerate(zip(got, expected)):
        if not isinstance(g, np.ndarray) or g.dtype.kind not in "biuf":
            continue
        if g.shape != np.shape(e):
            specific = spec.shape_hint(g, np.asarray(e), j) if spec.shape_hint else None
            if specific:  # (both parts in the learner's language: a specific hint is a catalog entry)
                return tr("Expected shape {expected}, got {got}. ").format(
                    expected=tuple(np.shape(e)), got=g.shape) + tr(specific)
            return _shape_hint(g, e)
        if not np.all(np.isfinite(g)) and np.all(np.isfinite(e)):
            return ("Your result contains inf or NaN although the right answer is finite: exp() "
                    "overflows for large scores (inf / inf) and underflows to 0 for very negative "
                    "ones (0 / 0). Subtract each row's maximum (its own: axis=-1, keepdims=True) "
                    "before exponentiating.")
    return tr("Compare your result with the expected one on this small case, step by step.")


# ------------------------------------------------------------------------------------------
def check(name: str, fn: Callable, verbose: bool = True) -> CheckResult:
    """Run the learner's ``fn`` on every case of check ``name``; print feedback; return a result.

    ``fn`` is called with NumPy float64 arrays (private copies: a function that changes one in
    place is told so, since the lesson's next cells reuse their arrays) and may return NumPy
    arrays or torch tensors.
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
                           tr("Check {name!r}: expected a function, got {type}.").format(
                               name=name, type=type(fn).__name__))
    learner_fn = fn
    fn = spec.prepare(fn) if spec.prepare else fn
    cases = spec.cases()
    limit = spec.time_limit or TIME_LIMIT_SECONDS
    for i, case in enumerate(cases):
        expected = case.expected if isinstance(case.expected, tuple) else (case.expected,)
        args_text = ", ".join(arg_summary(a) for a in case.args)
        header = tr("Check {name!r}: case {i} of {n} ({label}) with {args}").format(
            name=name, i=i + 1, n=len(cases), label=tr(case.label), args=args_text)
        wrong_signature = None if spec.prepare else signature_problem(fn, case.args, spec)
        if wrong_signature:
            return CheckResult(name, False, True, f"{header}\n  {wrong_signature}", i, len(cases))
        args = copy.deepcopy(case.args)
        try:
            raw = call_with_time_limit(fn, args, limit)
        except TimeLimit:
            return CheckResult(name, False, True,
                               header + tr("\n  your function took longer than {limit:g} s, maybe an "
                                           "infinite loop (a `while` whose condition never "
                                           "changes?). It may still be running in the background: "
                                           "restart the kernel if the notebook gets slow.").format(limit=limit),
                               i, len(cases))
        except NotImplementedError as error:
            if raised_by_learner(error):
                return CheckResult(name, False, False,
                                   tr("Check {name!r}: not attempted yet. Replace the "
                                      "`raise NotImplementedError` line with your code and run "
                                      "again.").format(name=name),
                                   0, len(cases))
            where = traceback.extract_tb(error.__traceback__)[-1]
            return CheckResult(name, False, True,
                               header + tr("\n  your function raised NotImplementedError inside "
                                           "a library: {error}").format(error=error)
                               + f"\n  (in {where.name}, {where.filename}, line {where.lineno})\n"
                               + _hint_line("that operation is not available for these inputs "
                                            "(dtype or device); try float64 NumPy arrays."),
                               i, len(cases))
        except Exception as error:
            where = traceback.extract_tb(error.__traceback__)[-1]
            source = f": {where.line}" if where.line else ""
            return CheckResult(name, False, True,
                               f"{header}\n  " + tr("your function raised {error_type}: {error}").format(
                                   error_type=type(error).__name__, error=error)
                               + f"\n  (in {where.name}, line {where.lineno}{source})\n"
                               + _hint_line((spec.error_hint and spec.error_hint(error)) or _error_hint(error)),
                               i, len(cases))
        changed = changed_argument(case.args, args)
        if changed is not None:
            arg = argument_names(learner_fn, spec, len(args))[changed]
            return CheckResult(name, False, True,
                               header + tr("\n  your function changed its input `{arg}`: after the "
                                           "call it no longer holds what the check passed in. `{arg} -= ...`, "
                                           "`{arg} /= ...`, `np.exp({arg}, out={arg})` or `{arg}[...] = ...` "
                                           "write into the caller's array, and the lesson's next cells reuse "
                                           "their arrays (a row changed five times gives five wrong answers). "
                                           "Work on a new array instead: `z = {arg} - ...`, or "
                                           "`{arg} = {arg}.copy()` first.").format(arg=arg), i, len(cases))
        if raw is None:
            return CheckResult(name, False, True,
                               header + tr("\n  your function returned None: is the `return` "
                                           "statement missing?"), i, len(cases))
        got = as_outputs(as_numpy(raw), len(expected))
        if got is None:
            return CheckResult(name, False, True,
                               f"{header}\n  expected {len(expected)} output(s) "
                               f"{'as a tuple ' if len(expected) > 1 else ''}but got "
                               f"{type(raw).__name__}"
                               f"{' of length ' + str(len(raw)) if isinstance(raw, tuple) else ''}."
                               + (f"\n  the task: {spec.task}" if spec.task else ""),
                               i, len(cases))
        if not all_close(got, expected, case):
            lines = [header]
            for j, (g, e) in enumerate(zip(got, expected)):
                tag = tr(" (output {j})").format(j=j + 1) if len(expected) > 1 else ""
                lines.append(tr("  expected{tag}: {value}").format(tag=tag, value=_describe(np.asarray(e))))
                lines.append(tr("  got{tag}:      {value}").format(tag=tag, value=_describe(g)))
            lines.append(_hint_line(_diagnose(spec, cases, i, fn, got, expected)))
            return CheckResult(name, False, True, "\n".join(lines), i, len(cases))
        problem = _gradient_problem(spec, fn, case, limit)
        if problem:
            return CheckResult(name, False, True,
                               header + tr("\n  your outputs are right, but {problem}").format(
                                   problem=tr(problem)), i, len(cases))
    return CheckResult(name, True, True,
                       tr("Check {name!r}: passed all {n} cases. Well done!").format(name=name, n=len(cases))
                       + " " + tr(spec.success),
                       len(cases), len(cases))


def _gradient_problem(spec: CheckSpec, fn: Callable, case: Case, limit: float) -> str | None:
    """For torch exercises: the learner's gradients of the probed function against the case's."""
    gradients = getattr(fn, "gradients", None)
    if not spec.gradients or case.gradients is None or gradients is None:
        return None  # (a plain function given to a module check, as the tests do: outputs only)
    try:
        got = call_with_time_limit(gradients, copy.deepcopy(case.args), limit)
    except GradientProblem as problem:
        return str(problem)
    except TimeLimit:
        return tr("the backward pass took longer than {limit:g} s.").format(limit=limit)
    except Exception as error:  # noqa: BLE001 - the learner's code, run as training runs it
        where = traceback.extract_tb(error.__traceback__)[-1]
        hint = (spec.error_hint and spec.error_hint(error)) or _error_hint(error)
        return (tr("run as in training (inputs that require gradients) your function raised "
                   "{error_type}: {error}").format(error_type=type(error).__name__, error=error)
                + f"\n  (in {where.name}, line {where.lineno})\n" + _hint_line(hint))
    return compare_gradients(got, case.gradients)


def _error_hint(error: Exception) -> str:
    text = str(error)
    if "numpy()" in text and "requires grad" in text:
        return ("in training the input carries gradients, and NumPy cannot follow them: the "
                "lesson's model would crash here. Stay in torch (tokens.mean(dim=1), torch.full, "
                "torch.softmax, @) and return tensors.")
    if "in-place operation" in text:
        return ("your function changes its input in place (x -= ..., x /= ..., x[...] = ...); "
                "compute a new tensor instead (z = x - ...).")
    if "matmul" in text or "shapes" in text or "broadcast" in text or "dimension" in text:
        return ("a shape problem: print the shapes of your intermediate arrays; inputs may have "
                "leading batch dimensions (..., n, d): to swap their last two axes use "
                "x.swapaxes(-1, -2), not x.T (on a 2-D weight matrix, w.T is right).")
    if isinstance(error, (AttributeError, TypeError)):
        return ("your function receives NumPy arrays; use NumPy operations (np.exp, x.max(axis=-1)) "
                "or convert with torch.as_tensor first.")
    return "read the error message above; then try your function on the small case by hand."
