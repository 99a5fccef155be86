"""Calling the learner's function safely: a time limit, a signature check, and telling the
learner's own NotImplementedError (an unfinished stub) from one raised inside a library."""
from __future__ import annotations

import contextvars
import inspect
import os
import re
import threading
import traceback
from typing import Callable

import numpy as np
import torch


class _TimeLimit(Exception):
    """The learner's function did not return within TIME_LIMIT_SECONDS."""


def _call_with_time_limit(fn: Callable, args: tuple, limit: float):
    """``fn(*args)`` in a helper thread, so a function that never returns cannot hang the kernel.

    Python cannot stop a thread, so such a call keeps running in the background (as a daemon
    thread, it never keeps the interpreter alive); the check reports it and moves on.
    """
    outcome: dict = {}

    def run():
        try:
            outcome["value"] = fn(*args)
        except BaseException as error:  # noqa: BLE001 - handed to the caller below
            outcome["error"] = error

    # Run in a copy of the caller's context, so settings such as np.errstate carry over.
    context = contextvars.copy_context()
    worker = threading.Thread(target=context.run, args=(run,), name="course-check", daemon=True)
    worker.start()
    worker.join(limit)
    if worker.is_alive():
        raise _TimeLimit()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def _library_dirs() -> tuple[str, ...]:
    import numpy
    dirs = [os.path.dirname(numpy.__file__), os.path.dirname(torch.__file__),
            os.path.dirname(os.path.dirname(__file__))]          # course_lib itself
    return tuple(os.path.normcase(os.path.abspath(d)) + os.sep for d in dirs)


def _raised_by_learner(error: BaseException) -> bool:
    """True if the innermost frame is the learner's code (their stub), not numpy/torch/course_lib."""
    frames = traceback.extract_tb(error.__traceback__)
    if not frames:
        return True
    filename = os.path.normcase(os.path.abspath(frames[-1].filename))
    return not filename.startswith(_library_dirs())


def _signature_problem(fn: Callable, args: tuple, spec) -> str | None:
    """Say which arguments the check passes when ``fn`` cannot accept them (else None)."""
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):  # builtins without a signature: just call them
        return None
    try:
        signature.bind(*args)
    except TypeError as error:
        match = re.search(r"fn\(([^)]*)\)", spec.task or "")
        names = match.group(1) if match else ", ".join(f"arg{j + 1}" for j in range(len(args)))
        passed = "; ".join(_arg_summary(a) for a in args)
        return (f"your function's signature {getattr(fn, '__name__', 'fn')}{signature} cannot take "
                f"what the check passes: {len(args)} argument(s), fn({names}) = ({passed}). "
                f"Python says: {error}. Define it as def {getattr(fn, '__name__', 'fn')}"
                f"({names}): ...")
    return None


def _arg_summary(a) -> str:
    """How a case's argument is named in feedback: arrays by their shape, the rest as they are."""
    return f"array of shape {a.shape}" if isinstance(a, np.ndarray) else repr(a)
