"""Progress a learner can see: checks remember their last verdict; one call shows the table."""
import json
from pathlib import Path

import numpy as np
import pytest

from course_lib.checks import CHECKS, check
from course_lib.checks import progress

ROOT = Path(__file__).resolve().parents[2]


def right_scaled_dot(q, k):
    return q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])


def wrong_cosine(q, k):          # forgets to normalise the keys
    return (q / np.linalg.norm(q, axis=-1, keepdims=True)) @ np.swapaxes(k, -1, -2)


def unfinished(*args):
    raise NotImplementedError("not attempted yet")


@pytest.fixture
def progress_file(tmp_path, monkeypatch):
    path = tmp_path / "kept" / "progress.json"
    monkeypatch.setenv(progress.ENV_VAR, str(path))
    return path


def _status(rows, name):
    return next(status for _, n, status, _ in rows if n == name)


def test_table_shows_a_solved_a_failed_and_an_untouched_exercise(progress_file, capsys):
    assert check("scaled_dot", right_scaled_dot, verbose=False).passed
    assert not check("cosine", wrong_cosine, verbose=False).passed
    check("neg_sq_euclidean", unfinished, verbose=False)      # started the notebook, not this one
    rows = progress.show_progress()
    out = capsys.readouterr().out
    assert _status(rows, "scaled_dot") == "passed"
    assert _status(rows, "cosine").startswith("failed (")
    assert _status(rows, "neg_sq_euclidean") == "not attempted"
    assert _status(rows, "softmax") == "not attempted"         # never touched
    assert {name for _, name, _, _ in rows} == set(CHECKS), "every exercise has a row"
    assert f"1 of {len(CHECKS)} exercises passed, 1 failed, {len(CHECKS) - 2} not attempted" in out
    for name in ("scaled_dot", "cosine", "neg_sq_euclidean", "softmax"):
        assert name in out
    assert set(json.loads(progress_file.read_text(encoding="utf-8"))) == {"scaled_dot", "cosine"}


def test_the_last_attempt_wins_and_not_attempted_never_erases(progress_file):
    check("scaled_dot", right_scaled_dot, verbose=False)
    check("scaled_dot", unfinished, verbose=False)             # a fresh copy of the notebook
    assert _status(progress.progress_rows(), "scaled_dot") == "passed"
    check("scaled_dot", lambda q, k: q @ np.swapaxes(k, -1, -2), verbose=False)   # broke it
    assert _status(progress.progress_rows(), "scaled_dot").startswith("failed")
    check("scaled_dot", right_scaled_dot, verbose=False)
    assert _status(progress.progress_rows(), "scaled_dot") == "passed"


def test_rows_follow_lessons_and_the_exercise_notebooks_order(progress_file):
    rows = progress.progress_rows()
    lessons = [lesson for lesson, _, _, _ in rows]
    assert lessons == sorted(lessons)
    names = [name for _, name, _, _ in rows]
    # lesson 02's notebook asks for causal_mask before masked_softmax
    assert names.index("causal_mask") < names.index("masked_softmax")
    assert rows[0][0] == "01_similarity" and rows[0][1] == "scaled_dot"


def test_worked_solutions_are_not_progress(progress_file, tmp_path, monkeypatch):
    (tmp_path / "solutions").mkdir()
    monkeypatch.chdir(tmp_path / "solutions")
    assert check("scaled_dot", right_scaled_dot, verbose=False).passed
    assert not progress_file.exists()
    assert _status(progress.progress_rows(), "scaled_dot") == "not attempted"


def test_the_file_sits_beside_the_course_found_from_the_exercises_folder(tmp_path, monkeypatch):
    # A hub: course_lib in site-packages, the learner's copy of the course in their home folder,
    # the kernel started in its exercises/ folder.
    monkeypatch.delenv(progress.ENV_VAR, raising=False)
    course = tmp_path / "home" / "course"
    for folder in ("notebooks", "exercises", "solutions"):
        (course / folder).mkdir(parents=True)
    monkeypatch.chdir(course / "exercises")
    assert progress.progress_file() == course / progress.FILE_NAME
    check("scaled_dot", right_scaled_dot, verbose=False)
    assert (course / progress.FILE_NAME).exists()
    # Outside any course copy: the working directory.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert progress.progress_file() == elsewhere / progress.FILE_NAME


def test_git_ignores_the_file():
    ignored = (ROOT / ".gitignore").read_text(encoding="utf-8").split()
    assert progress.FILE_NAME in ignored


def test_a_damaged_or_unwritable_file_never_breaks_a_check(progress_file, capsys):
    progress_file.parent.mkdir(parents=True)
    progress_file.write_text("{not json", encoding="utf-8")
    assert progress.load() == {}
    assert check("scaled_dot", right_scaled_dot).passed
    assert _status(progress.progress_rows(), "scaled_dot") == "passed"

def test_an_unwritable_place_never_breaks_a_check(tmp_path, monkeypatch, capsys):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder", encoding="utf-8")            # the progress file's folder cannot be made
    monkeypatch.setenv(progress.ENV_VAR, str(blocker / "progress.json"))
    result = check("cosine", wrong_cosine)
    assert result.attempted and not result.passed
    assert "hint:" in capsys.readouterr().out     # the learner still gets the feedback
    assert progress.progress_rows()               # and the table still prints
