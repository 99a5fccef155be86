"""The Chinese edition (zh/) is built from the English notebooks and i18n/zh/, and stays in sync.

tools/translate.py builds it; course_lib/basics/language.py makes course_lib speak the notebook's
language. These tests hold the promises: the same cells and code as the English notebooks, a
current translation for every text, links that resolve, feedback in Chinese, figures whose
Chinese glyphs exist, and a changed English cell that fails the sync until it is translated again.
"""
from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import nbformat
import polib
import pytest

import make_exercises as mx
import translate as tz

ROOT = Path(__file__).resolve().parents[2]
TRANSLATED = [e for e in tz.english_notebooks() if tz.catalog_path(e).exists()]
ids = lambda p: p.relative_to(ROOT).as_posix()  # noqa: E731


def test_the_chinese_edition_has_its_first_lessons():
    names = {p.relative_to(ROOT).as_posix() for p in TRANSLATED}
    assert {"notebooks/00_start_here.ipynb", "notebooks/01_similarity.ipynb",
            "solutions/01_similarity_solutions.ipynb", "exercises/01_similarity_exercises.ipynb"} <= names


@pytest.mark.parametrize("english", TRANSLATED, ids=ids)
def test_chinese_notebook_is_in_sync_with_the_english_one(english):
    """Same cells and ids, the same code once comments are removed (tokenize), and every text
    translated from the current English (not fuzzy, not missing)."""
    assert tz.sync_problems(english) == []


@pytest.mark.parametrize("english", TRANSLATED, ids=ids)
def test_every_link_of_a_chinese_notebook_resolves(english):
    assert tz.link_problems(tz.translated_path(english)) == []


@pytest.mark.parametrize("english", [e for e in TRANSLATED if e.parent.name == "notebooks"], ids=ids)
def test_chinese_lesson_structure(english):
    """As tests/notebooks/test_notebooks.py asks of the English lessons, in Chinese."""
    nb = nbformat.read(tz.translated_path(english), as_version=4)
    first = nb.cells[0].source
    assert first.startswith("# ") and "学习目标" in first and ("预计时间" in first or "预计用时" in first)
    markdown = [c.source for c in nb.cells if c.cell_type == "markdown"]
    assert any("小结" in m for m in markdown[-3:]), "a recap (小结) closes the lesson"


def _executed_outputs(cell) -> str:
    return "".join(o.get("text", "") + o.get("data", {}).get("text/plain", "")
                   for o in cell.get("outputs", []))


@pytest.mark.parametrize("english", [e for e in TRANSLATED if e.parent.name != "notebooks"], ids=ids)
def test_stored_check_feedback_speaks_chinese(english):
    """The exercises were executed in zh/: course_lib found the language from the folder."""
    nb = nbformat.read(tz.translated_path(english), as_version=4)
    lines = [line for c in nb.cells if c.cell_type == "code" and "cl.checks.check(" in c.source
             for line in _executed_outputs(c).splitlines()]
    assert any(line.startswith("检查 ") for line in lines)
    assert not [line for line in lines if line.startswith("Check '")], "feedback in English"


def test_exercise_catalogs_take_their_solutions_translation():
    """A sentence the generator copied from the solutions notebook has one translation: the
    Chinese exercise and solution notebooks cannot disagree."""
    checked = 0
    for exercise in [e for e in TRANSLATED if e.parent.name == "exercises"]:
        memory = tz.solutions_memory(exercise)
        for entry in polib.pofile(str(tz.catalog_path(exercise))):
            if not entry.obsolete and entry.msgid in memory:
                assert entry.msgstr == memory[entry.msgid], entry.msgctxt
                checked += 1
    assert checked > 0


@pytest.mark.parametrize("english", [e for e in TRANSLATED if e.parent.name == "exercises"], ids=ids)
def test_chinese_exercises_keep_a_learners_edits_safe(english, tmp_path):
    """make update and make_exercises detect a learner's edits by the recorded fingerprint: it
    must hold for the Chinese exercise notebooks too, and change when a cell is edited."""
    target = tz.translated_path(english)
    assert not mx.learner_changed(target)
    nb = nbformat.read(target, as_version=4)
    nb.cells[2].source += "\n# 我的笔记"
    edited = tmp_path / target.name
    nbformat.write(nb, edited)
    assert mx.learner_changed(edited)


# ------------------------------------------------------------------------------------------
# The sync check fails on a changed English cell, and passes again after re-translation
# ------------------------------------------------------------------------------------------
def _copy_lesson(tmp_path: Path, english: Path) -> Path:
    rel = english.relative_to(ROOT)
    for source, target in [(english, tmp_path / rel),
                           (tz.catalog_path(english), tz.catalog_path(tmp_path / rel, tmp_path)),
                           (tz.translated_path(english), tmp_path / "zh" / rel)]:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(source, target)
    return tmp_path / rel


def test_a_changed_english_cell_fails_the_sync_until_it_is_translated_again(tmp_path):
    english = _copy_lesson(tmp_path, ROOT / "notebooks" / "01_similarity.ipynb")
    assert tz.sync_problems(english, tmp_path) == []

    nb = nbformat.read(english, as_version=4)
    cell = next(c for c in nb.cells if c.cell_type == "markdown" and c.source.startswith("## 3."))
    cell.source = cell.source.replace("does not change", "never changes")
    code = next(c for c in nb.cells if c.cell_type == "code" and "# unit vector in k1's direction" in c.source)
    code.source = code.source.replace("unit vector in k1's direction", "k1's direction, length 1")
    nbformat.write(nb, english)
    found = tz.sync_problems(english, tmp_path)
    assert any(cell.id in line for line in found) and any(code.id in line for line in found)
    with pytest.raises(tz.TranslationError):
        tz.build_notebook(english, tmp_path)

    # extract keeps the old Chinese as fuzzy (gettext's "stale"): still refused
    tz.extract(english, tmp_path)
    po = polib.pofile(str(tz.catalog_path(english, tmp_path)))
    stale = po.find(cell.source, msgctxt=cell.id)
    assert stale is not None and "fuzzy" in stale.flags and "does not change" in stale.previous_msgid
    assert tz.problems(english, tmp_path)

    # the translator revises the two entries: in sync again once built
    stale.msgstr = stale.msgstr.replace("不会改变", "永远不变")
    stale.flags.remove("fuzzy")
    comment = po.find("k1's direction, length 1", msgctxt=code.id + tz.COMMENT)
    comment.msgstr, comment.flags = "k1 的方向，长度为 1", []
    po.save()
    assert tz.problems(english, tmp_path) == []
    assert tz.sync_problems(english, tmp_path)  # the zh notebook on disk is the old one
    nbformat.write(tz.build_notebook(english, tmp_path), tz.translated_path(english, tmp_path))
    assert tz.sync_problems(english, tmp_path) == []
    built = nbformat.read(tz.translated_path(english, tmp_path), as_version=4)
    assert "# k1 的方向，长度为 1" in next(c.source for c in built.cells if c.id == code.id)


def test_a_changed_line_of_code_fails_the_sync(tmp_path):
    english = _copy_lesson(tmp_path, ROOT / "notebooks" / "00_start_here.ipynb")
    nb = nbformat.read(english, as_version=4)
    code = next(c for c in nb.cells if c.cell_type == "code" and "V = np.array" in c.source)
    code.source = code.source.replace("[30.0]", "[31.0]")
    nbformat.write(nb, english)
    assert any("its code differs" in line for line in tz.sync_problems(english, tmp_path))


def test_comments_are_translated_and_directives_kept():
    source = textwrap.dedent("""\
        # NBVAL_CHECK_OUTPUT
        x = "# not a comment"  # the value
        def f():
            # BEGIN SOLUTION
            return 1  # noqa: E501
            # END SOLUTION""")
    out = tz.replace_comments(source, lambda text: {"the value": "值"}[text])
    assert out.splitlines()[1] == 'x = "# not a comment"  # 值'
    assert "# NBVAL_CHECK_OUTPUT" in out and "# BEGIN SOLUTION" in out and "# noqa: E501" in out
    assert tz.code_without_comments(out) == tz.code_without_comments(source)
    assert tz.code_without_comments(source.replace("1", "2")) != tz.code_without_comments(source)


def test_translated_headings_keep_links_working(tmp_path):
    """An #anchor follows its heading into Chinese; a link to a missing heading is reported."""
    (tmp_path / "notebooks").mkdir()
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("## 2. Why divide by d?\n\nText.", id="aaaa0001"),
                nbformat.v4.new_markdown_cell("See [above](#2.-Why-divide-by-d?).", id="aaaa0002")]
    english = tmp_path / "notebooks" / "99_demo.ipynb"
    nbformat.write(nb, english)
    tz.extract(english, tmp_path)
    po = polib.pofile(str(tz.catalog_path(english, tmp_path)))
    po[0].msgstr = "## 2. 为什么要除以 d？\n\n正文。"
    po[1].msgstr = "见[上文](#2.-Why-divide-by-d?)。"
    po.save()
    built = tz.build_notebook(english, tmp_path)
    assert "(#2.-%E4%B8%BA%E4%BB%80%E4%B9%88%E8%A6%81%E9%99%A4%E4%BB%A5-d%EF%BC%9F)" in built.cells[1].source
    target = tz.translated_path(english, tmp_path)
    target.parent.mkdir(parents=True)
    nbformat.write(built, target)
    assert tz.link_problems(target) == []
    built.cells[1].source = "见[上文](#2.-Why-divide-by-d?)。"
    nbformat.write(built, target)
    assert tz.link_problems(target)


@pytest.mark.parametrize("english", [e for e in TRANSLATED if e.parent.name == "notebooks"], ids=ids)
def test_stored_explorers_are_the_chinese_ones(english):
    """The explorers' stored state (what a reader sees before running anything) comes from running
    the Chinese notebook, not from the English one: their descriptions (the "<p>" above the
    controls; tqdm's progress bars are HTML too) speak Chinese."""
    nb = nbformat.read(tz.translated_path(english), as_version=4)
    state = nb.metadata.get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {})
    html = [m["state"].get("value", "") for m in state.get("state", {}).values()
            if m.get("model_name") == "HTMLModel" and m["state"].get("value", "").startswith("<p>")]
    assert html and all(any("\u4e00" <= ch <= "\u9fff" for ch in text) for text in html), html


def test_extract_is_idempotent(tmp_path):
    """A second extract changes nothing (obsolete entries are not written twice)."""
    english = _copy_lesson(tmp_path, ROOT / "notebooks" / "01_similarity.ipynb")
    nb = nbformat.read(english, as_version=4)
    nb.cells = [c for c in nb.cells if c.cell_type != "code" or "# unit vector" not in c.source]
    nbformat.write(nb, english)
    tz.extract(english, tmp_path)
    first = tz.catalog_path(english, tmp_path).read_bytes()
    assert b"#~ " in first
    tz.extract(english, tmp_path)
    assert tz.catalog_path(english, tmp_path).read_bytes() == first
