"""course_lib speaks the notebook's language (course_lib/language.py): check feedback, progress,
explorers and figures in Chinese for a notebook under zh/ or with COURSE_LANG=zh, and a catalog
i18n/zh/course_lib.po that follows course_lib's English sentences."""
from __future__ import annotations

import ast
import os
import subprocess
import sys
import warnings
from pathlib import Path

import polib
import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_language_follows_course_lang_then_the_notebooks_folder(monkeypatch, tmp_path):
    from course_lib import language

    monkeypatch.delenv("COURSE_LANG", raising=False)
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    monkeypatch.chdir(tmp_path)
    assert language.current() == "en"
    (tmp_path / "zh" / "exercises").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "zh" / "exercises")
    assert language.current() == "zh"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("JPY_SESSION_NAME", str(tmp_path / "zh" / "notebooks" / "01_similarity.ipynb"))
    assert language.current() == "zh"
    monkeypatch.setenv("COURSE_LANG", "en")
    assert language.current() == "en"
    monkeypatch.setenv("COURSE_LANG", "fr")
    with pytest.raises(ValueError, match="COURSE_LANG"):
        language.current()


def test_check_feedback_speaks_chinese_with_course_lang_zh(monkeypatch):
    import numpy as np

    import course_lib as cl

    def plain_dot(q, k):
        return q @ np.swapaxes(k, -1, -2)

    def not_yet(q, k):
        raise NotImplementedError("not attempted yet")

    monkeypatch.setenv("COURSE_LANG", "zh")
    failed = cl.checks.check("scaled_dot", plain_dot, verbose=False)
    assert failed.message.startswith("检查 'scaled_dot'：第 1 个用例")
    assert "提示：你算的是普通点积" in failed.message and failed.hint.startswith("你算的是普通点积")
    assert "尚未作答" in cl.checks.check("scaled_dot", not_yet, verbose=False).message

    def in_place(q, k):
        q /= np.sqrt(q.shape[-1])
        return q @ np.swapaxes(k, -1, -2)

    assert "你的函数改动了它的输入 `q`" in cl.checks.check("scaled_dot", in_place, verbose=False).message
    monkeypatch.setenv("COURSE_LANG", "en")
    assert "hint: You computed the plain dot product" in cl.checks.check(
        "scaled_dot", plain_dot, verbose=False).message


def test_lesson00_to_02_explorers_speak_chinese(monkeypatch):
    pytest.importorskip("ipywidgets")
    from matplotlib.text import Text

    from course_lib.widgets import EXPLORERS

    monkeypatch.setenv("COURSE_LANG", "zh")
    for name in ("three_steps", "steer_query", "patch_similarity", "temperature_mask"):
        with warnings.catch_warnings():
            warnings.filterwarnings("error", message=".*[Gg]lyph.*missing")
            explorer = EXPLORERS[name]()
        texts = [t.get_text() for t in explorer.figure.findobj(Text) if t.get_text().strip()]
        words = [t for t in texts if any(ch.isalpha() and ch.isascii() for ch in t)]
        english = [t for t in words if t.isascii() and len(t) > 3 and " " in t]
        assert not english, f"{name}: untranslated {english}"
        assert all(any("\u4e00" <= ch <= "\u9fff" for ch in c.description)
                   for c in explorer.controls.values() if c.description), name


@pytest.mark.parametrize("name", ["cluttered_digit", "digit_video", "decoder_steps",
                                  "reach_cnn_vs_vit", "vit_heads"])
def test_lesson05_and_06_explorers_speak_chinese(monkeypatch, name):
    """Titles, labels, legends, controls, the description and the readout's sentences in
    Chinese, drawn without a missing glyph; no English sentence left in the figure."""
    pytest.importorskip("ipywidgets")
    from matplotlib.text import Text

    from course_lib.widgets import EXPLORERS
    from test_widgets import _another_value

    monkeypatch.setenv("COURSE_LANG", "zh")
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*[Gg]lyph.*missing")
        explorer = EXPLORERS[name]()
        for control in explorer.controls.values():     # moves redraw and rewrite the readout
            control.value = _another_value(control)
    texts = [t.get_text() for t in explorer.figure.findobj(Text) if t.get_text().strip()]
    english = [t for t in texts if t.isascii() and len(t) > 3 and " " in t
               and any(ch.isalpha() for ch in t)]
    assert not english, f"{name}: untranslated {english}"
    chinese = lambda text: any("\u4e00" <= ch <= "\u9fff" for ch in text)  # noqa: E731
    assert all(chinese(c.description) for c in explorer.controls.values() if c.description)
    assert chinese(explorer.widget.children[0].value)                     # the description
    sentences = explorer.readout.value.split("<br>")
    assert sentences and all(chinese(s) for s in sentences), sentences


def test_course_lib_catalog_is_current():
    """Every entry of i18n/zh/course_lib.po translates a string course_lib still has (a changed
    English sentence leaves its entry behind: this fails until the catalog follows), none fuzzy."""
    strings = set()
    for path in (ROOT / "course_lib").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                strings.add(node.value)
    po = polib.pofile(str(ROOT / "i18n" / "zh" / "course_lib.po"))
    stale = [e.msgid for e in po if not e.obsolete and e.msgid not in strings]
    assert not stale, f"no longer in course_lib: {stale}"
    assert not [e.msgid for e in po if "fuzzy" in e.flags or not e.msgstr]


_DRAW = """
import sys, warnings
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
if sys.argv[1] == "register":
    from course_lib.language import use_cjk_font
    use_cjk_font()
fig, ax = plt.subplots()
ax.set_title("注意力：相似度 → 权重分配 → 加权聚合")
ax.set_xlabel("特征维数 d")
with warnings.catch_warnings():
    warnings.filterwarnings("error", message=".*[Gg]lyph.*missing")
    fig.canvas.draw()
print("drawn")
"""


@pytest.mark.parametrize("register", [True, False])
def test_chinese_titles_draw_without_missing_glyphs(register, tmp_path):
    """With the shipped Noto Sans CJK registered, a Chinese title draws without matplotlib's
    "Glyph ... missing" warning; without it (matplotlib's own fonts) the same warning is an error:
    the test can fail. A fresh process: the font manager is global."""
    env = {**os.environ, "MPLCONFIGDIR": str(tmp_path)}
    env.pop("COURSE_LANG", None)
    run = subprocess.run([sys.executable, "-c", _DRAW, "register" if register else "plain"],
                         capture_output=True, text=True, env=env, cwd=tmp_path)
    if register:
        assert run.returncode == 0 and "drawn" in run.stdout, run.stderr
    else:
        assert run.returncode != 0 and "missing" in run.stderr
