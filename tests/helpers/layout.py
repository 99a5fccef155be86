"""Where a test file sits says which group it belongs to: the folders of tests/ and their markers.

tests/conftest.py marks every collected test with its folder's group, and `make unit`, `make system`
and `make claims` select by marker; tests/basics/test_architecture.py fails on a test file that
sits in no group's folder (`make unit` would never run it) and on a wing of course_lib without
its folder here.

    unit     the folders that mirror the package: course_lib's wings (basics, attention, data,
             filters, locality, layers, experiments, checks, widgets), course_room (room), and
             notebooks (what every stored notebook promises, the lint, the Chinese edition, the
             exercises' sync, make update, lesson times, kernel memory): minutes, `make unit`
    system   services and whole builds (a hub with simulated learners, JupyterLab driven by
             Chromium, a fresh Binder environment, the static site and slides, `make lab`): about
             four fifths of the test time, so they run apart: `make system`, CI (.ci/run)
    claims   the lessons' trained models, for several seeds and thread counts: `make claims`
"""
from __future__ import annotations

from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
GROUPS = {
    "unit": ("basics", "attention", "data", "filters", "locality", "layers", "experiments",
             "checks", "widgets", "room", "notebooks"),
    "system": ("system",),
    "claims": ("claims",),
}
GROUP_OF_FOLDER = {folder: group for group, folders in GROUPS.items() for folder in folders}


def group_of(path) -> str | None:
    """The group of a test file: its folder's, for a file right inside a group's folder of tests/;
    None anywhere else (at the top of tests/, deeper down, in helpers/, outside tests/)."""
    path = Path(path).resolve()
    if not path.is_relative_to(TESTS):
        return None
    parts = path.relative_to(TESTS).parts
    return GROUP_OF_FOLDER.get(parts[0]) if len(parts) == 2 else None
