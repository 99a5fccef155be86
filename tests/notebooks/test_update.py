"""`make update` (tools/update_course.py) on a throwaway course repository and a learner's clone:
the learner's edited notebooks are kept with the new version beside them, everything else updates."""
from __future__ import annotations

import subprocess
from pathlib import Path

import nbformat
import pytest

import make_exercises
import update_course


@pytest.fixture(autouse=True)
def git_identity(monkeypatch):
    for key, value in {"GIT_AUTHOR_NAME": "course", "GIT_AUTHOR_EMAIL": "course@localhost",
                       "GIT_COMMITTER_NAME": "course", "GIT_COMMITTER_EMAIL": "course@localhost",
                       "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1"}.items():
        monkeypatch.setenv(key, value)


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True,
                          text=True).stdout.strip()


def notebook(*sources: str, outputs: str | None = None, exercise: bool = False):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    if outputs is not None:
        nb.cells[0].outputs = [nbformat.v4.new_output("stream", name="stdout", text=outputs)]
        nb.cells[0].execution_count = 1
    if exercise:
        nb.metadata["course"] = {"source_fingerprint": make_exercises.fingerprint(nb)}
    return nb


def write(repo: Path, path: str, nb) -> None:
    (repo / path).parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, repo / path)


def read_sources(path: Path) -> list[str]:
    return [c.source for c in nbformat.read(path, as_version=4).cells]


@pytest.fixture
def course(tmp_path):
    """An upstream course repo (v1) and a learner's clone of it."""
    upstream = tmp_path / "upstream"
    upstream.mkdir()
    git(upstream, "init", "--quiet", "-b", "main")
    write(upstream, "notebooks/01_a.ipynb", notebook("print('a v1')"))
    write(upstream, "notebooks/02_b.ipynb", notebook("print('b v1')"))
    write(upstream, "notebooks/03_c.ipynb", notebook("print('c v1')"))
    write(upstream, "exercises/01_a_exercises.ipynb",
          notebook("def f():\n    raise NotImplementedError", exercise=True))
    (upstream / "README.md").write_text("v1\n", encoding="utf-8")
    git(upstream, "add", "-A")
    git(upstream, "commit", "--quiet", "-m", "v1")
    learner = tmp_path / "learner"
    subprocess.run(["git", "clone", "--quiet", str(upstream), str(learner)], check=True)
    return upstream, learner


def release_v2(upstream: Path) -> None:
    write(upstream, "notebooks/01_a.ipynb", notebook("print('a v2')"))
    write(upstream, "notebooks/02_b.ipynb", notebook("print('b v2')"))
    write(upstream, "exercises/01_a_exercises.ipynb",
          notebook("def f():\n    raise NotImplementedError  # v2", exercise=True))
    write(upstream, "notebooks/04_d.ipynb", notebook("print('d v2')"))
    (upstream / "README.md").write_text("v2\n", encoding="utf-8")
    git(upstream, "add", "-A")
    git(upstream, "commit", "--quiet", "-m", "v2")


def test_update_keeps_the_learners_notebooks_and_puts_the_new_version_beside(course):
    upstream, learner = course
    # The learner edits lesson 01 and the exercise, only runs lesson 02, edits lesson 03.
    write(learner, "notebooks/01_a.ipynb", notebook("print('a v1')", "my_note = 1"))
    write(learner, "exercises/01_a_exercises.ipynb", notebook("def f():\n    return 42"))
    write(learner, "notebooks/02_b.ipynb", notebook("print('b v1')", outputs="b v1\n"))
    write(learner, "notebooks/03_c.ipynb", notebook("print('c v1')", "mine = 3"))
    (learner / "notebooks" / "my_scratch.ipynb").write_text("{}", encoding="utf-8")
    release_v2(upstream)

    lines = update_course.update(learner)
    report = "\n".join(lines)

    assert git(learner, "rev-parse", "HEAD") == git(upstream, "rev-parse", "HEAD")
    # Edited and changed upstream: theirs kept, new beside it.
    assert read_sources(learner / "notebooks/01_a.ipynb") == ["print('a v1')", "my_note = 1"]
    assert read_sources(learner / "notebooks/01_a.updated.ipynb") == ["print('a v2')"]
    assert read_sources(learner / "exercises/01_a_exercises.ipynb") == ["def f():\n    return 42"]
    assert "v2" in read_sources(learner / "exercises/01_a_exercises.updated.ipynb")[0]
    # Only run: the new version.
    assert read_sources(learner / "notebooks/02_b.ipynb") == ["print('b v2')"]
    assert not (learner / "notebooks/02_b.updated.ipynb").exists()
    # Edited but unchanged upstream: theirs, nothing beside.
    assert read_sources(learner / "notebooks/03_c.ipynb") == ["print('c v1')", "mine = 3"]
    assert not (learner / "notebooks/03_c.updated.ipynb").exists()
    # New course files arrive; the learner's own files stay.
    assert read_sources(learner / "notebooks/04_d.ipynb") == ["print('d v2')"]
    assert (learner / "README.md").read_text(encoding="utf-8") == "v2\n"
    assert (learner / "notebooks/my_scratch.ipynb").read_text(encoding="utf-8") == "{}"
    assert "01_a.updated.ipynb" in report and "only run" in report
    backups = list((learner / ".git" / "course-update-backup").rglob("01_a.ipynb"))
    assert backups and read_sources(backups[0]) == ["print('a v1')", "my_note = 1"]


def test_an_unchanged_exercise_is_updated_in_place(course):
    upstream, learner = course
    release_v2(upstream)
    update_course.update(learner)
    assert "v2" in read_sources(learner / "exercises/01_a_exercises.ipynb")[0]
    assert not (learner / "exercises/01_a_exercises.updated.ipynb").exists()


def test_a_learner_file_that_the_course_now_ships_is_kept(course):
    upstream, learner = course
    write(learner, "notebooks/04_d.ipynb", notebook("my own 04"))
    release_v2(upstream)
    update_course.update(learner)
    assert read_sources(learner / "notebooks/04_d.ipynb") == ["my own 04"]
    assert read_sources(learner / "notebooks/04_d.updated.ipynb") == ["print('d v2')"]


def test_dry_run_changes_nothing_and_up_to_date_is_said(course):
    upstream, learner = course
    assert "already up to date" in update_course.update(learner)[0]
    write(learner, "notebooks/01_a.ipynb", notebook("edited"))
    release_v2(upstream)
    before = git(learner, "rev-parse", "HEAD")
    lines = update_course.update(learner, dry_run=True)
    assert lines[0].startswith("would merge")
    assert git(learner, "rev-parse", "HEAD") == before
    assert read_sources(learner / "notebooks/01_a.ipynb") == ["edited"]
    assert not (learner / "notebooks/01_a.updated.ipynb").exists()


def test_own_commits_are_merged_not_lost(course):
    upstream, learner = course
    write(learner, "notebooks/03_c.ipynb", notebook("committed by the learner"))
    git(learner, "commit", "--quiet", "-am", "my work")
    release_v2(upstream)
    assert update_course.main(["--repo", str(learner)]) == 0
    assert read_sources(learner / "notebooks/03_c.ipynb") == ["committed by the learner"]
    assert read_sources(learner / "notebooks/01_a.ipynb") == ["print('a v2')"]


def test_not_a_git_clone_is_explained(tmp_path, capsys):
    assert update_course.main(["--repo", str(tmp_path)]) == 1
    assert "not a git clone" in capsys.readouterr().err


def test_deleted_notebooks_stay_deleted_unless_the_course_changed_them(course):
    upstream, learner = course
    (learner / "notebooks/03_c.ipynb").unlink()  # unchanged upstream
    (learner / "notebooks/01_a.ipynb").unlink()  # changed upstream
    release_v2(upstream)
    update_course.update(learner)
    assert not (learner / "notebooks/03_c.ipynb").exists()
    assert read_sources(learner / "notebooks/01_a.ipynb") == ["print('a v2')"]


def test_a_conflicting_commit_of_the_learner_aborts_and_changes_nothing(course, capsys):
    upstream, learner = course
    write(learner, "notebooks/01_a.ipynb", notebook("committed, conflicting"))
    git(learner, "commit", "--quiet", "-am", "my work")
    write(learner, "notebooks/02_b.ipynb", notebook("print('b v1')", "uncommitted edit"))
    release_v2(upstream)
    before = git(learner, "rev-parse", "HEAD")
    assert update_course.main(["--repo", str(learner)]) == 1
    assert "could not be merged" in capsys.readouterr().err
    assert git(learner, "rev-parse", "HEAD") == before
    assert read_sources(learner / "notebooks/01_a.ipynb") == ["committed, conflicting"]
    assert read_sources(learner / "notebooks/02_b.ipynb") == ["print('b v1')", "uncommitted edit"]
    assert git(learner, "status", "--porcelain", "--untracked-files=no") == "M notebooks/02_b.ipynb"


def release_v3(upstream: Path) -> None:
    write(upstream, "notebooks/01_a.ipynb", notebook("print('a v3')"))
    git(upstream, "add", "-A")
    git(upstream, "commit", "--quiet", "-m", "v3")


def test_a_second_update_never_overwrites_the_copy_the_learner_worked_in(course):
    upstream, learner = course
    write(learner, "notebooks/01_a.ipynb", notebook("print('a v1')", "my_note = 1"))
    release_v2(upstream)
    update_course.update(learner)
    # The learner now works in the copy the update wrote, as its message invites.
    copy = learner / "notebooks/01_a.updated.ipynb"
    write(learner, "notebooks/01_a.updated.ipynb", notebook("print('a v2')", "worked here = 2"))
    mine = copy.read_bytes()
    release_v3(upstream)

    report = "\n".join(update_course.update(learner))

    assert copy.read_bytes() == mine                          # not a byte lost
    assert read_sources(learner / "notebooks/01_a.ipynb") == ["print('a v1')", "my_note = 1"]
    assert read_sources(learner / "notebooks/01_a.2.updated.ipynb") == ["print('a v3')"]
    assert "01_a.2.updated.ipynb" in report and "other work of yours" in report


def test_every_fresh_copy_is_skipped_like_the_first(tmp_path):
    # git (.gitignore), make (filter-out %.updated.ipynb) and the tools skip NAME.updated.ipynb;
    # the later copies keep that ending so they are skipped the same way.
    from make_exercises import write_beside

    target = tmp_path / "01_a.ipynb"
    names = [write_beside(target, str(i).encode()).name for i in range(3)]
    assert names == ["01_a.updated.ipynb", "01_a.2.updated.ipynb", "01_a.3.updated.ipynb"]
    assert all(name.endswith(".updated.ipynb") for name in names)
    assert write_beside(target, b"1").name == "01_a.2.updated.ipynb"   # same content: reused


def test_the_chinese_edition_is_updated_like_the_english_one(course):
    """zh/ notebooks (built by tools/translate.py) follow the same rules: an edited one is kept
    with the new version beside it, one the learner only ran is replaced."""
    upstream, learner = course
    write(upstream, "zh/notebooks/01_a.ipynb", notebook("print('甲 v1')"))
    write(upstream, "zh/notebooks/02_b.ipynb", notebook("print('乙 v1')"))
    write(upstream, "zh/exercises/01_a_exercises.ipynb",
          notebook("def f():\n    raise NotImplementedError  # 练习", exercise=True))
    git(upstream, "add", "-A")
    git(upstream, "commit", "--quiet", "-m", "zh v1")
    update_course.update(learner)
    write(learner, "zh/notebooks/01_a.ipynb", notebook("print('甲 v1')", "我的笔记 = 1"))
    write(learner, "zh/notebooks/02_b.ipynb", notebook("print('乙 v1')", outputs="乙 v1\n"))
    write(learner, "zh/exercises/01_a_exercises.ipynb", notebook("def f():\n    return 42"))
    write(upstream, "zh/notebooks/01_a.ipynb", notebook("print('甲 v2')"))
    write(upstream, "zh/notebooks/02_b.ipynb", notebook("print('乙 v2')"))
    write(upstream, "zh/exercises/01_a_exercises.ipynb",
          notebook("def f():\n    raise NotImplementedError  # 练习 v2", exercise=True))
    git(upstream, "add", "-A")
    git(upstream, "commit", "--quiet", "-m", "zh v2")

    update_course.update(learner)

    assert read_sources(learner / "zh/notebooks/01_a.ipynb") == ["print('甲 v1')", "我的笔记 = 1"]
    assert read_sources(learner / "zh/notebooks/01_a.updated.ipynb") == ["print('甲 v2')"]
    assert read_sources(learner / "zh/exercises/01_a_exercises.ipynb") == ["def f():\n    return 42"]
    assert "v2" in read_sources(learner / "zh/exercises/01_a_exercises.updated.ipynb")[0]
    assert read_sources(learner / "zh/notebooks/02_b.ipynb") == ["print('乙 v2')"]
