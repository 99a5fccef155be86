"""The notebook lint (tools/notebook_lint.py) over every notebook of the course, and each of its rules
on a small notebook that breaks it: a repeated cell, a section number out of order, a figure or an
explorer nobody talks about."""
from __future__ import annotations

import subprocess
import sys

import nbformat
import pytest

import notebook_lint
from helpers.browser import ROOT

NOTEBOOKS = notebook_lint.discover(ROOT)


def test_the_lint_finds_every_lesson_solution_and_exercise():
    names = {path.relative_to(ROOT).as_posix() for path in NOTEBOOKS}
    for folder, pattern in (("notebooks", "*.ipynb"), ("solutions", "*_solutions.ipynb"),
                            ("exercises", "*_exercises.ipynb")):
        expected = {p.relative_to(ROOT).as_posix() for p in (ROOT / folder).glob(pattern)
                    if not p.name.endswith(".updated.ipynb")}
        assert expected and expected <= names, f"{folder}: {sorted(expected - names)} not linted"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_notebook_passes_the_lint(path):
    violations = notebook_lint.lint_notebook(path, ROOT)
    assert not violations, "\n" + "\n".join(map(str, violations))


# --- each rule on a notebook made to break it -------------------------------------------------

FIGURE_OUTPUT = nbformat.v4.new_output("display_data", data={"image/png": "iVBORw0KGgo=",
                                                             "text/plain": "<Figure>"})


def md(text):
    return nbformat.v4.new_markdown_cell(text)


def figure(source="plt.plot(x); plt.show()"):
    cell = nbformat.v4.new_code_cell(source)
    cell.outputs = [FIGURE_OUTPUT]
    return cell


def explorer(name="three_steps"):
    return nbformat.v4.new_code_cell(f'# NBVAL_IGNORE_OUTPUT\nEXPLORERS["{name}"]()')


def lint(tmp_path, cells, name="nb.ipynb"):
    nb = nbformat.v4.new_notebook(cells=cells)
    path = tmp_path / name
    nbformat.write(nb, path)
    return notebook_lint.lint_notebook(path, tmp_path)


GOOD = [md("# 01 · Title\n\nWhat this lesson does, in a sentence or two."),
        md("## 1. First\n\nSome text about the first idea, long enough to count."),
        figure(),
        md("The left panel shows the scores; the curve on the right their softmax."),
        md("## 2. Second\n\nThe explorer below lets you move the query yourself."),
        explorer(),
        md("## Recap\n\n* one\n* two")]


def test_a_clean_notebook_passes(tmp_path):
    assert lint(tmp_path, GOOD) == []


def test_a_repeated_cell_is_reported_with_both_cells(tmp_path):
    cells = (GOOD[:2] + [md("A remark about the first idea, long enough to count.")] + GOOD[2:4]
             + [md("A  remark about the FIRST idea,\nlong enough to count.")] + GOOD[4:])
    (violation,) = lint(tmp_path, cells)
    assert (violation.cell, violation.cell_id) == (5, cells[5].id)
    assert "repeats cell 2" in violation.message and cells[2].id in violation.message


def test_an_edited_copy_left_beside_its_original_is_reported(tmp_path):
    original = ("The table shows the trade-off: a very narrow kernel copies the nearest noisy point, a "
                "very wide one flattens everything towards the mean, and the error is smallest between.")
    draft = original.replace(", and the error is smallest between", "")
    (violation,) = lint(tmp_path, GOOD + [md(original), md(draft)])
    assert violation.cell == len(GOOD) + 1 and "nearly repeats" in violation.message


def test_short_cells_and_different_cells_may_look_alike(tmp_path):
    cells = GOOD + [md("---"), md("---"), md("**Check.**"), md("**Check.**"),
                    md("The scaled dot product divides by the square root of the dimension."),
                    md("The cosine similarity divides by the lengths of both vectors instead.")]
    assert lint(tmp_path, cells) == []


@pytest.mark.parametrize("numbers, problem", [((1, 2, 2, 3), "repeats section 2"),
                                              ((1, 3), "skips"),
                                              ((2,), "skips"),
                                              ((1, 2, 3, 2), "repeats section 2")])
def test_section_numbers_count_up_without_gap_or_repeat(tmp_path, numbers, problem):
    cells = [md(f"## {n}. Section {n}\n\ntext") for n in numbers]
    violations = lint(tmp_path, cells)
    assert len(violations) == 1 and problem in violations[0].message, violations


def test_exercises_are_numbered_on_their_own(tmp_path):
    cells = [md("## 1. Idea\n\ntext"), md("## Exercise 1: a\n\ntext"), md("## 2. Idea\n\ntext"),
             md("## Exercise 2: b\n\ntext"), md("## Exercise 4: c\n\ntext"), md("## 练习 5\n\n文本")]
    (violation,) = lint(tmp_path, cells)
    assert violation.cell == 4 and "expected exercise 3" in violation.message


def test_a_heading_inside_a_code_fence_is_no_section(tmp_path):
    cells = [md("## 1. One\n\n```\n## 1. not a heading\n```"), md("## 2. Two\n\ntext")]
    assert lint(tmp_path, cells) == []


def test_a_figure_followed_by_a_heading_is_reported(tmp_path):
    cells = GOOD[:3] + GOOD[4:]                      # drop the text that reads the figure
    (violation,) = lint(tmp_path, cells)
    assert (violation.cell, violation.cell_id) == (2, cells[2].id)
    assert "no text before the next heading" in violation.message


def test_a_figure_the_text_never_points_at_is_reported(tmp_path):
    cells = GOOD[:3] + [md("Softmax is a smooth version of the maximum of the scores.")] + GOOD[4:]
    (violation,) = lint(tmp_path, cells)
    assert violation.cell == 2 and "never referred to" in violation.message


def test_a_figure_is_read_by_any_text_cell_of_its_section_after_it(tmp_path):
    cells = GOOD[:3] + [nbformat.v4.new_code_cell("print(1)"), md("A first remark."),
                        md("Compare the two curves above.")] + GOOD[4:]
    assert lint(tmp_path, cells) == []


def test_text_after_the_next_heading_does_not_read_a_figure(tmp_path):
    cells = GOOD[:3] + [md("## 2. Next\n\nThe figure above ...")]
    (violation,) = lint(tmp_path, cells)
    assert violation.cell == 2 and "no text before the next heading" in violation.message


def test_chinese_text_refers_to_figures_and_explorers(tmp_path):
    cells = [md("## 1. 第一\n\n文本"), figure(), md("上图左边是分数。"),
             md("## 2. 第二\n\n用下面的探索器自己试试。"), explorer()]
    assert lint(tmp_path, cells) == []


def test_an_explorer_nobody_mentions_is_reported(tmp_path):
    cells = GOOD[:4] + [md("## 2. Second\n\nMove the query yourself:"), explorer(), *GOOD[6:]]
    (violation,) = lint(tmp_path, cells)
    assert (violation.cell, violation.cell_id) == (5, cells[5].id) and "explorer" in violation.message


def test_an_explorer_may_be_named_after_it_instead(tmp_path):
    cells = GOOD[:4] + [md("## 2. Second\n\nMove the query yourself:"), explorer(),
                        md("In the explorer, the weights follow the query."), *GOOD[6:]]
    assert lint(tmp_path, cells) == []


def test_an_explorer_is_not_introduced_by_the_previous_section(tmp_path):
    cells = [md("## 1. One\n\nThe explorer of section 2 comes later.\n\n## 2. Two\n\nNow move it:"),
             explorer()]
    (violation,) = lint(tmp_path, cells)
    assert violation.cell == 1


def test_the_command_line_prints_each_violation_and_fails(tmp_path):
    nbformat.write(nbformat.v4.new_notebook(cells=GOOD), tmp_path / "good.ipynb")
    nbformat.write(nbformat.v4.new_notebook(cells=[md("## 1. A\n\nx"), md("## 1. A again\n\nx")]),
                   tmp_path / "bad.ipynb")
    tool = [sys.executable, str(ROOT / "tools" / "notebook_lint.py")]
    good = subprocess.run(tool + [str(tmp_path / "good.ipynb")], capture_output=True, text=True)
    bad = subprocess.run(tool + [str(tmp_path / "good.ipynb"), str(tmp_path / "bad.ipynb")],
                         capture_output=True, text=True)
    assert good.returncode == 0 and good.stdout == "", good.stdout + good.stderr
    assert bad.returncode == 1
    assert "bad.ipynb: cell 1 (id " in bad.stdout and "repeats section 1" in bad.stdout
    assert "2 notebooks, 1 violation" in bad.stderr


def test_a_translated_edition_is_discovered(tmp_path):
    for folder in ("notebooks", "notebooks/zh", "zh/exercises", "solutions"):
        (tmp_path / folder).mkdir(parents=True, exist_ok=True)
    for name in ("notebooks/01_a.ipynb", "notebooks/zh/01_a.ipynb", "zh/exercises/01_a_exercises.ipynb",
                 "solutions/01_a_solutions.ipynb", "solutions/01_a_solutions.updated.ipynb"):
        nbformat.write(nbformat.v4.new_notebook(), tmp_path / name)
    found = {p.relative_to(tmp_path).as_posix() for p in notebook_lint.discover(tmp_path)}
    assert found == {"notebooks/01_a.ipynb", "notebooks/zh/01_a.ipynb",
                     "zh/exercises/01_a_exercises.ipynb", "solutions/01_a_solutions.ipynb"}
