"""Shared test setup: a non-interactive matplotlib backend, the authoring tools on the path,
property tests without deadlines, and torch on the course's thread budget."""
import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import settings

os.environ.setdefault("MPLBACKEND", "Agg")

# Each test session gets a temporary root of its own. pytest keeps only the three newest
# /tmp/pytest-of-USER/pytest-N folders and deletes the older ones when a session starts, so where
# several sessions run at once (two checkouts' `make test`, a test run beside a notebook run), a
# new session deletes the folders a running one is using: a server's root directory vanished in
# the middle of a browser test that way.
if "PYTEST_DEBUG_TEMPROOT" not in os.environ:
    _TEMPROOT = tempfile.mkdtemp(prefix="course-pytest-")
    os.environ["PYTEST_DEBUG_TEMPROOT"] = _TEMPROOT
else:
    _TEMPROOT = None
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(ROOT / "tests"))  # shared test helpers: tests/helpers/

# Property tests are not timing tests: on a busy 2-core machine an example can take longer than
# hypothesis' default 200 ms deadline, and a flaky failure blocks everyone. No deadline, anywhere.
settings.register_profile("course", deadline=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "course"))

import course_lib  # noqa: E402  (after the backend is chosen)
from helpers.layout import group_of  # noqa: E402  (tests/ is on the path from here)

course_lib.use_course_threads()


@pytest.fixture(autouse=True, scope="session")
def _progress_in_a_temporary_file(tmp_path_factory):
    """Checks remember a learner's verdicts beside the course (course_lib/checks/progress.py);
    the tests' many checks write to a throwaway file instead."""
    os.environ["COURSE_PROGRESS_FILE"] = str(tmp_path_factory.mktemp("progress") / "progress.json")
    yield
    os.environ.pop("COURSE_PROGRESS_FILE", None)


@pytest.fixture
def threads(request):
    """torch's thread count for one test, from ``@pytest.mark.parametrize("threads", [1, 4],
    indirect=True)``: the claims tests train at several thread counts, because a trained result
    the course states must hold on any machine. The course's setting is restored afterwards."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(request.param)
    yield request.param
    torch.set_num_threads(before)


def _kept(variable: str) -> set[int] | None:
    """The values a comma-separated environment variable keeps (``"0"``, ``"1,4"``), None if unset."""
    value = os.environ.get(variable)
    return None if not value else {int(v) for v in value.split(",")}


# Every test file sits in one folder of tests/, and its folder gives it its group, a marker: unit
# (`make unit`), system (`make system`) or claims (`make claims`). COURSE_CLAIMS_SEEDS=0 keeps only
# seed 0 of every claim, COURSE_CLAIMS_THREADS=1 only its 1-thread runs: CI's quick pass over each
# claim is both (.ci/run), one training of each model. The folders: tests/helpers/layout.py.
def pytest_collection_modifyitems(config, items):
    keep = {"seed": _kept("COURSE_CLAIMS_SEEDS"), "threads": _kept("COURSE_CLAIMS_THREADS")}
    selected, deselected = [], []
    for item in items:
        group = group_of(item.path)
        if group is not None:
            item.add_marker(getattr(pytest.mark, group))
        params = getattr(getattr(item, "callspec", None), "params", {})
        if group == "claims" and any(kept is not None and name in params and params[name] not in kept
                                     for name, kept in keep.items()):
            deselected.append(item)
            continue
        selected.append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = selected


def pytest_sessionfinish(session, exitstatus):
    """Remove this session's temporary root when everything passed (keep it to debug a failure)."""
    if _TEMPROOT and exitstatus == 0:
        shutil.rmtree(_TEMPROOT, ignore_errors=True)
