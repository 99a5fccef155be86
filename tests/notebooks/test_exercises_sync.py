"""Exercises are generated from solutions: they must not drift, and a learner's edits are safe."""
from pathlib import Path

import nbformat
import pytest

import make_exercises as mx

ROOT = Path(__file__).resolve().parents[2]
SOLUTIONS = sorted((ROOT / "solutions").glob("*_solutions.ipynb"))


@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.name)
def test_exercise_notebook_matches_its_solutions(solution):
    target = mx.exercise_path(solution)
    assert target.exists(), f"{target.name} is missing: run `make exercises`"
    on_disk = nbformat.read(target, as_version=4)
    generated = mx.generate(solution)
    assert mx.fingerprint(on_disk) == mx.fingerprint(generated), (
        f"{target.name} has drifted from {solution.name}: run `make exercises`")
    assert not mx.learner_changed(target)


@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.name)
def test_exercises_hold_no_solution_and_every_stub_has_a_check(solution):
    exercise = nbformat.read(mx.exercise_path(solution), as_version=4)
    text = "\n".join(c.source for c in exercise.cells)
    assert "BEGIN SOLUTION" not in text and "END SOLUTION" not in text
    stubs = text.count(mx.STUB)
    assert stubs >= 3, f"{solution.name}: expected 3-6 exercises, found {stubs} stubs"
    assert text.count("check(") >= stubs


def _solution_notebook(tmp_path, body='    # BEGIN SOLUTION\n    return x + 1\n    # END SOLUTION'):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Lesson 99 exercises"),
        nbformat.v4.new_code_cell("def plus_one(x):\n    \"\"\"Add one.\"\"\"\n" + body),
        nbformat.v4.new_markdown_cell("Why: because.", metadata={"tags": ["solution"]}),
    ]
    (tmp_path / "solutions").mkdir(exist_ok=True)
    (tmp_path / "exercises").mkdir(exist_ok=True)
    path = tmp_path / "solutions" / "99_demo_solutions.ipynb"
    nbformat.write(nb, path)
    return path


@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.name)
def test_each_notebook_is_titled_for_what_it_is(solution):
    """The site and the slides take a page's title from the first heading: a solutions page must not
    call itself "exercises", and its generated exercise notebook must not call itself "solutions"."""
    def title(nb):
        return next(line for c in nb.cells if c.cell_type == "markdown"
                    for line in c.source.splitlines() if line.startswith("# "))

    solutions_title = title(nbformat.read(solution, as_version=4))
    exercises_title = title(nbformat.read(mx.exercise_path(solution), as_version=4))
    assert solutions_title.endswith(": solutions"), f"{solution.name}: title {solutions_title!r}"
    assert exercises_title == solutions_title.replace(": solutions", ": exercises"), (
        f"{mx.exercise_path(solution).name}: title {exercises_title!r}")


def test_generator_replaces_regions_and_drops_solution_cells(tmp_path):
    nb = mx.generate(_solution_notebook(tmp_path))
    sources = [c.source for c in nb.cells]
    assert any('    raise NotImplementedError("not attempted yet")' in s for s in sources)
    assert not any("return x + 1" in s for s in sources)
    assert not any("Why: because." in s for s in sources)
    assert any('"""Add one."""' in s for s in sources)


def test_generator_refuses_top_level_or_unbalanced_regions(tmp_path):
    with pytest.raises(ValueError, match="inside a function"):
        mx.strip_solutions("# BEGIN SOLUTION\nx = 1\n# END SOLUTION")
    with pytest.raises(ValueError, match="without END"):
        mx.strip_solutions("def f():\n    # BEGIN SOLUTION\n    return 1")


def test_generator_never_overwrites_a_notebook_the_learner_changed(tmp_path, monkeypatch):
    monkeypatch.setattr(mx, "ROOT", tmp_path)
    solution = _solution_notebook(tmp_path)
    target = mx.exercise_path(solution)
    assert "written" in mx.update(solution)
    assert "up to date" in mx.update(solution)

    # An unchanged exercise notebook follows the solutions when they change...
    _solution_notebook(tmp_path, body="    # BEGIN SOLUTION\n    return 1 + x\n    # END SOLUTION\n    # new line")
    assert "written" in mx.update(solution)
    assert "# new line" in target.read_text(encoding="utf-8")

    # ...but once the learner has typed into it, it is kept and the new version goes beside it.
    nb = nbformat.read(target, as_version=4)
    nb.cells[2].source = nb.cells[2].source.replace('raise NotImplementedError("not attempted yet")',
                                                    "return x + 1  # my answer")
    nbformat.write(nb, target)
    before = target.read_text(encoding="utf-8")
    _solution_notebook(tmp_path, body="    # BEGIN SOLUTION\n    return x + 1\n    # END SOLUTION\n    # v3")
    message = mx.update(solution)
    assert "kept" in message and ".updated.ipynb" in message
    assert target.read_text(encoding="utf-8") == before
    beside = target.with_name("99_demo_exercises.updated.ipynb")
    assert beside.exists() and "# v3" in beside.read_text(encoding="utf-8")
    assert "OUT OF DATE" in mx.update(solution, check_only=True)


def test_generator_never_overwrites_an_updated_copy_the_learner_edited(tmp_path, monkeypatch):
    monkeypatch.setattr(mx, "ROOT", tmp_path)
    solution = _solution_notebook(tmp_path)
    target = mx.exercise_path(solution)
    mx.update(solution)
    nb = nbformat.read(target, as_version=4)
    nb.cells[2].source += "\n# mine"
    nbformat.write(nb, target)
    _solution_notebook(tmp_path, body="    # BEGIN SOLUTION\n    return x + 1\n    # END SOLUTION\n    # v2")
    mx.update(solution)
    copy = target.with_name("99_demo_exercises.updated.ipynb")
    assert "# v2" in copy.read_text(encoding="utf-8")
    assert "up to date" not in mx.update(solution) and not target.with_name(
        "99_demo_exercises.2.updated.ipynb").exists()          # the same new version: reused
    copy.write_text(copy.read_text(encoding="utf-8").replace("# v2", "# v2 my work"), encoding="utf-8")
    mine = copy.read_bytes()
    _solution_notebook(tmp_path, body="    # BEGIN SOLUTION\n    return x + 1\n    # END SOLUTION\n    # v3")
    message = mx.update(solution)
    assert copy.read_bytes() == mine
    second = target.with_name("99_demo_exercises.2.updated.ipynb")
    assert "# v3" in second.read_text(encoding="utf-8") and second.name in message
