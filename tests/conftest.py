"""Shared test setup: a non-interactive matplotlib backend, the authoring tools on the path,
property tests without deadlines, and torch on the course's thread budget."""
import os
import sys
from pathlib import Path

from hypothesis import settings

os.environ.setdefault("MPLBACKEND", "Agg")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(ROOT / "tests"))  # shared test helpers (_artists.py, _browser.py)

# Property tests are not timing tests: on a busy 2-core machine an example can take longer than
# hypothesis' default 200 ms deadline, and a flaky failure blocks everyone. No deadline, anywhere.
settings.register_profile("course", deadline=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "course"))

import course_lib  # noqa: E402  (after the backend is chosen)

course_lib.use_course_threads()


import pytest  # noqa: E402


@pytest.fixture(autouse=True, scope="session")
def _progress_in_a_temporary_file(tmp_path_factory):
    """Checks remember a learner's verdicts beside the course (course_lib/checks/progress.py);
    the tests' many checks write to a throwaway file instead."""
    os.environ["COURSE_PROGRESS_FILE"] = str(tmp_path_factory.mktemp("progress") / "progress.json")
    yield
    os.environ.pop("COURSE_PROGRESS_FILE", None)
