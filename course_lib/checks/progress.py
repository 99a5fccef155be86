"""Your progress through the exercises of lessons 01-06, remembered on this computer only (the
table is shown in lesson 00, the start notebook).

Each time ``check(name, fn)`` runs your code, its verdict (passed, or failed) is written to a small
file beside the course, ``.course_progress.json`` in the folder that holds ``notebooks/`` and
``exercises/`` (git ignores it; nothing is ever sent anywhere). One call shows it all:

    from course_lib.checks.progress import show_progress
    show_progress()        # every exercise of the course: passed, failed or not attempted

Rules, so that the table means what it says:
  * only your attempts count: "not attempted yet" is never written, so running a fresh copy of an
    exercise notebook cannot erase a pass;
  * the worked solutions are not your progress: checks run from a ``solutions/`` folder are not
    recorded;
  * the last attempt wins: an exercise you passed and then broke shows "failed".

Where the file lives: the environment variable ``COURSE_PROGRESS_FILE`` names it (tests point it at
a temporary file); otherwise the course folder is found by walking up from the working directory
(on a JupyterHub whose ``course_lib`` lives in site-packages, the notebooks still run inside the
learner's copy of the course); failing that, the working directory itself. A file that cannot be
written (a read-only folder) never stops a check: the verdict is then simply not remembered.
"""
from __future__ import annotations

import json
import os
import re
import tempfile
from datetime import datetime
from pathlib import Path

from course_lib.basics.language import tr
from course_lib.checks.case import CHECKS
from course_lib.checks.console import safe_print

FILE_NAME = ".course_progress.json"
ENV_VAR = "COURSE_PROGRESS_FILE"
HINT_CHARS = 300  # a hint is kept to its first 300 characters: enough to tell mistakes apart
LESSONS = {"01": "similarity", "02": "weights", "03": "aggregation", "04": "local_vs_global",
           "05": "adaptivity", "06": "capstone"}


def course_root(start: Path | None = None) -> Path | None:
    """The nearest folder at or above ``start`` (default: the working directory) that holds both
    ``notebooks/`` and ``exercises/``: this copy of the course. None if there is none."""
    here = Path.cwd() if start is None else Path(start)
    for folder in (here, *here.parents):
        if (folder / "notebooks").is_dir() and (folder / "exercises").is_dir():
            return folder
    return None


def progress_file() -> Path:
    """Where the verdicts are kept (see the module's docstring)."""
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR])
    root = course_root()
    return (root if root is not None else Path.cwd()) / FILE_NAME


def load() -> dict:
    """``{check name: {"state": "passed" | "failed", "cases": "3/4", "when": "...",
    "hint": "..." (failed only: the feedback's hint line)}}``."""
    try:
        data = json.loads(progress_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):  # no file yet, or a damaged one: nothing remembered
        return {}
    return data if isinstance(data, dict) else {}


def record(result) -> bool:
    """Remember a check's verdict; returns True if it was written. Never raises."""
    if not result.attempted or Path.cwd().name == "solutions":
        return False
    try:
        path = progress_file()
        data = load()
        data[result.name] = {
            "state": "passed" if result.passed else "failed",
            "cases": f"{result.cases_passed}/{result.cases_total}",
            "when": datetime.now().strftime("%Y-%m-%d %H:%M"),
        }
        if not result.passed:  # the hint the learner read (an instructor's room view counts them)
            data[result.name]["hint"] = result.hint[:HINT_CHARS]
        path.parent.mkdir(parents=True, exist_ok=True)
        # Write a temporary file and rename it: a kernel stopped mid-write leaves the old file.
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".progress-", suffix=".tmp")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(data, out, indent=1, sort_keys=True)
        os.replace(temporary, path)
        return True
    except OSError:
        return False


def _lesson_of(spec) -> str:
    """'03' for a check registered in course_lib/checks/lesson03.py."""
    match = re.search(r"lesson(\d\d)$", getattr(spec.cases, "__module__", ""))
    return match.group(1) if match else "--"


def exercise_order(root: Path | None) -> dict:
    """``{check name: position}`` in the order the exercise notebooks use them (when this copy of
    the course has them), so the table follows the notebooks; empty if they cannot be read."""
    order: dict = {}
    if root is None:
        return order
    for notebook in sorted((root / "exercises").glob("[0-9][0-9]_*_exercises.ipynb")):
        try:
            cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
        except (OSError, ValueError, KeyError):
            continue
        for cell in cells:
            source = "".join(cell.get("source", ""))
            for name in re.findall(r"check\(\s*[\"']([A-Za-z0-9_]+)[\"']", source):
                order.setdefault(name, len(order))
    return order


def progress_rows() -> list[tuple[str, str, str, str]]:
    """One row per registered exercise: ``(lesson, check name, status, last checked)``."""
    done = load()
    order = exercise_order(course_root())
    specs = sorted(CHECKS.values(), key=lambda s: (_lesson_of(s), order.get(s.name, len(order))))
    rows = []
    for spec in specs:
        entry = done.get(spec.name)
        if entry is None:
            status, when = "not attempted", ""
        elif entry.get("state") == "passed":
            status, when = "passed", entry.get("when", "")
        else:
            status, when = f"failed ({entry.get('cases', '?')} cases)", entry.get("when", "")
        lesson = _lesson_of(spec)
        rows.append((f"{lesson}_{LESSONS.get(lesson, '?')}", spec.name, status, when))
    return rows


def show_progress() -> list[tuple[str, str, str, str]]:
    """Print the table of every exercise (passed, failed, not attempted) and return its rows.
    The rows keep the English states (other code reads them); the table speaks the learner's
    language (course_lib/basics/language.py)."""
    def shown(status: str) -> str:
        if status.startswith("failed ("):
            return tr("failed ({cases} cases)").format(cases=status[len("failed ("):-len(" cases)")])
        return tr(status)

    rows = progress_rows()
    safe_print(f"{tr('lesson'):<19} {tr('exercise'):<24} {tr('status'):<22} {tr('last checked')}")
    previous = None
    for lesson, name, status, when in rows:
        safe_print(f"{lesson if lesson != previous else '':<19} {name:<24} {shown(status):<22} {when}")
        previous = lesson
    passed = sum(r[2] == "passed" for r in rows)
    failed = sum(r[2].startswith("failed") for r in rows)
    safe_print("\n" + tr("{passed} of {total} exercises passed, {failed} failed, {rest} not attempted "
                         "yet (remembered in {file} beside the course, on this computer only).").format(
        passed=passed, total=len(rows), failed=failed, rest=len(rows) - passed - failed, file=FILE_NAME))
    return rows
