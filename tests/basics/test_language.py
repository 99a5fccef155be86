"""course_lib speaks the notebook's language (course_lib/basics/language.py): check feedback, progress,
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

ROOT = Path(__file__).resolve().parents[2]


def test_language_follows_course_lang_then_the_notebooks_folder(monkeypatch, tmp_path):
    from course_lib.basics import language

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


@pytest.mark.parametrize("name", ["kernel_regression", "patch_attention", "trained_heads",
                                  "word_heads", "filter_weights", "conv_as_attention"])
def test_lesson03_and_04_explorers_speak_chinese(monkeypatch, name):
    """Every text the figure draws (head names in the panels' titles too), every control's label
    and the description: no English sentence left, drawn without a missing glyph."""
    pytest.importorskip("ipywidgets")
    from matplotlib.text import Text

    from course_lib.widgets import EXPLORERS
    from helpers.controls import another_value

    monkeypatch.setenv("COURSE_LANG", "zh")
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*[Gg]lyph.*missing")
        explorer = EXPLORERS[name]()
        for control in explorer.controls.values():
            control.value = another_value(control)
    texts = [t.get_text() for t in explorer.figure.findobj(Text) if t.get_text().strip()]
    english = [t for t in texts if len(t) > 3 and " " in t
               and not any("\u4e00" <= ch <= "\u9fff" for ch in t)
               and sum(ch.isalpha() and ch.isascii() for ch in t) > 3]
    assert not english, f"{name}: untranslated {english}"
    chinese = lambda text: any("\u4e00" <= ch <= "\u9fff" for ch in text)  # noqa: E731
    assert all(chinese(c.description) for c in explorer.controls.values() if c.description)
    assert chinese(explorer.widget.children[0].value)                     # the description


@pytest.mark.parametrize("name", ["cluttered_digit", "digit_video", "decoder_steps",
                                  "reach_cnn_vs_vit", "vit_heads"])
def test_lesson05_and_06_explorers_speak_chinese(monkeypatch, name):
    """Titles, labels, legends, controls, the description and the readout's sentences in
    Chinese, drawn without a missing glyph; no English sentence left in the figure."""
    pytest.importorskip("ipywidgets")
    from matplotlib.text import Text

    from course_lib.widgets import EXPLORERS
    from helpers.controls import another_value

    monkeypatch.setenv("COURSE_LANG", "zh")
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*[Gg]lyph.*missing")
        explorer = EXPLORERS[name]()
        for control in explorer.controls.values():     # moves redraw and rewrite the readout
            control.value = another_value(control)
    texts = [t.get_text() for t in explorer.figure.findobj(Text) if t.get_text().strip()]
    english = [t for t in texts if t.isascii() and len(t) > 3 and " " in t
               and any(ch.isalpha() for ch in t)]
    assert not english, f"{name}: untranslated {english}"
    chinese = lambda text: any("\u4e00" <= ch <= "\u9fff" for ch in text)  # noqa: E731
    assert all(chinese(c.description) for c in explorer.controls.values() if c.description)
    assert chinese(explorer.widget.children[0].value)                     # the description
    sentences = explorer.readout.value.split("<br>")
    assert sentences and all(chinese(s) for s in sentences), sentences


def said_in_lessons(names_too: bool = False) -> dict[str, set[str]]:
    """{template: notebooks} of the sentences the English notebooks' code cells print through
    ``cl.say(...)`` (or translate with ``cl.tr(...)``, a piece of a sentence): the first
    argument's string constants (both sides of a conditional). ``names_too``: a cell that
    translates a name it holds in a variable (``cl.tr(name)`` in a loop over a dict's English
    keys) may translate any string constant of the cell, so all of them count."""
    import nbformat

    found: dict[str, set[str]] = {}
    for folder in ("notebooks", "solutions", "exercises"):
        for path in sorted((ROOT / folder).glob("*.ipynb")):
            for cell in nbformat.read(path, as_version=4).cells:
                if cell.cell_type != "code" or ("say(" not in cell.source and "tr(" not in cell.source):
                    continue
                source = "\n".join(l for l in cell.source.splitlines() if not l.lstrip().startswith(("%", "!")))
                tree = ast.parse(source)
                for node in ast.walk(tree):
                    if (isinstance(node, ast.Call) and node.args
                            and getattr(node.func, "attr", getattr(node.func, "id", None)) in ("say", "tr")):
                        translated = node.args[0]
                        if names_too and not any(isinstance(part, ast.Constant) for part in ast.walk(translated)):
                            translated = tree          # cl.tr(name): the names are the cell's strings
                        for part in ast.walk(translated):
                            if isinstance(part, ast.Constant) and isinstance(part.value, str):
                                found.setdefault(part.value, set()).add(f"{folder}/{path.name}")
    return found


def test_course_lib_catalog_is_current():
    """Every entry of i18n/zh/course_lib.po translates a string course_lib still has, or a sentence
    a lesson still prints with cl.say (a changed English sentence leaves its entry behind: this
    fails until the catalog follows), none fuzzy."""
    strings = set(said_in_lessons(names_too=True))
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
    from course_lib.basics.language import use_cjk_font
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


def _chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def _notation_only(text: str) -> bool:
    """A case label that is only numbers and symbols ("n = 3", "sigma = 1.0"): nothing to translate."""
    import re

    return not [w for w in re.findall(r"[A-Za-z]{3,}", text) if w != "sigma"]


@pytest.mark.parametrize("lesson", ["lesson05", "lesson06"])
def test_every_sentence_of_a_lessons_checks_has_its_chinese(lesson, monkeypatch):
    """What a learner of lessons 05-06 can read from a check (the success sentence, every
    mistake's hint, every case label, the exercise's own shape and error hints) is in Chinese
    under COURSE_LANG=zh: each is a catalog entry, or (a label with numbers) built from one."""
    import importlib

    import numpy as np

    from course_lib.checks.case import CHECKS
    from course_lib.basics.language import tr

    importlib.import_module(f"course_lib.checks.{lesson}")
    monkeypatch.setenv("COURSE_LANG", "zh")
    specs = [s for s in CHECKS.values() if s.cases.__module__.endswith(lesson)]
    assert len(specs) >= 3, sorted(CHECKS)
    english = []
    for spec in specs:
        texts = [spec.success] + [m.hint for m in spec.mistakes]
        texts += [c.label for c in spec.cases() if not _notation_only(c.label)]
        if spec.error_hint:
            texts += [h for h in (spec.error_hint(TypeError("x")), spec.error_hint(ValueError("x"))) if h]
        if spec.shape_hint:
            expected = np.asarray(spec.cases()[0].expected if not isinstance(spec.cases()[0].expected, tuple)
                                  else spec.cases()[0].expected[0])
            for got in (np.zeros(expected.shape[0] + 1), np.zeros(expected.shape[1:] or (2,))):
                for j in (0, 1):
                    hint = spec.shape_hint(got, expected, j)
                    if hint:
                        texts.append(hint)
        english += [f"{spec.name}: {t}" for t in texts if not _chinese(tr(t))]
    assert not english, "\n".join(english)


def test_lesson05_06_feedback_reads_in_chinese(monkeypatch):
    """Whole messages of lessons 05-06's checks under COURSE_LANG=zh: a registered mistake, a
    shape hint of the exercise's own, two outputs in the wrong order, a result that carries no
    gradient (NumPy), a label with numbers; and the same English as before with COURSE_LANG=en."""
    import numpy as np
    import torch

    import course_lib as cl

    monkeypatch.setenv("COURSE_LANG", "zh")

    def flops(c_in, c_out, k, h_out, w_out):
        return 2 * c_in * c_out * k * k * h_out * w_out

    result = cl.checks.check("conv_macs", flops, verbose=False)
    assert "提示：这算的是浮点运算次数" in result.message, result.message
    assert "输出 24x24" in result.message

    def n_squared(n, d):
        return n * n * d

    assert "5 个词元，每个维数 2" in cl.checks.check("attention_macs", n_squared, verbose=False).message

    def one_weight_per_frame(video, temperature):  # T equal weights: the shape, not a known mistake
        return np.full(len(video), 1.0 / len(video))

    message = cl.checks.check("motion_weights", one_weight_per_frame, verbose=False).message
    assert "期望的形状是 (3,)，得到的是 (4,)。T 帧你返回了 T 个权重" in message, message

    def swapped(tokens, query, w_k, w_v):
        keys, values = tokens @ w_k, tokens @ w_v
        scores = keys @ query / np.sqrt(len(query))
        weights = np.exp(scores - scores.max(-1, keepdims=True))
        weights /= weights.sum(-1, keepdims=True)
        return weights, (weights[..., None] * values).sum(1)

    assert "你的输出都对，但顺序反了" in cl.checks.check("attention_pool", swapped, verbose=False).message

    def numpy_pooling(tokens):
        t = tokens.detach().numpy()
        return t.mean(axis=1), np.full(t.shape[:2], 1.0 / t.shape[1])

    message = cl.checks.check("uniform_pooling", numpy_pooling, verbose=False).message
    assert "你的输出都对，但" not in message and "梯度无法流过 NumPy" in message, message

    def no_batch(tokens):
        return tokens.mean(dim=(0, 1)), torch.full(tokens.shape[1:2], 1.0 / tokens.shape[1])

    assert "缺了批量轴：pooled" in cl.checks.check("uniform_pooling", no_batch, verbose=False).message

    monkeypatch.setenv("COURSE_LANG", "en")
    english = cl.checks.check("motion_weights", one_weight_per_frame, verbose=False).message
    assert ("Expected shape (3,), got (4,). You returned T weights for T frames" in english
            and not _chinese(english)), english
    assert "hint: That counts floating point operations" in cl.checks.check(
        "conv_macs", flops, verbose=False).message


def test_sentences_lessons_print_with_say_have_their_chinese(monkeypatch, capsys):
    """Every sentence a translated lesson prints through cl.say has its Chinese in course_lib.po,
    and say prints in English exactly what print(f"...") did (the checked outputs stay)."""
    import numpy as np

    from course_lib.basics.language import catalog, say

    said = said_in_lessons()
    assert said, "no lesson prints through cl.say"
    translated = {p.name for p in (ROOT / "zh" / "notebooks").glob("*.ipynb")} | {
        p.name for f in ("solutions", "exercises") for p in (ROOT / "zh" / f).glob("*.ipynb")}
    missing = [t for t, where in said.items()
               if any(w.split("/")[1] in translated for w in where) and t not in catalog("zh")]
    assert not missing, f"add to i18n/zh/course_lib.po: {missing}"
    monkeypatch.setenv("COURSE_LANG", "en")
    w = np.array([0.665, 0.245, 0.09])
    say("query {query}: weights {weights} -> output {output:.2f}", query=[1.0, 0.0], weights=w, output=14.248)
    assert capsys.readouterr().out == f"query {[1.0, 0.0]}: weights {w} -> output {14.248:.2f}\n"
    monkeypatch.setenv("COURSE_LANG", "zh")
    say("query {query}: weights {weights} -> output {output:.2f}", query=[1.0, 0.0], weights=w, output=14.248)
    assert capsys.readouterr().out == f"查询 {[1.0, 0.0]}：权重 {w} -> 输出 14.25\n"


def test_every_claim_lessons_05_and_06_print_has_its_chinese():
    """Lessons 05-06 print the claims of course_lib/experiments (the keys of ``claims(...)``)
    through ``cl.tr(claim)``: every key, with every model present (the stored sweeps' runs), is a
    catalog entry, and a constant string of course_lib (a key built with an f-string would escape
    test_course_lib_catalog_is_current)."""
    from course_lib.basics.language import catalog
    from course_lib.experiments import capstone, clutter, recall, seq2seq, sweeps, video, visual_recall

    keys = set(clutter.claims(sweeps.load("lesson05_images")["runs"][0]))
    keys |= set(visual_recall.claims(sweeps.load("lesson05_visual_recall")["runs"][0]))
    keys |= set(video.claims(sweeps.load("lesson05_video")["runs"][0]))
    keys |= set(seq2seq.claims({12: (1.0, 1.0), 16: (1.0, 1.0)}, {12: (0.5, 0.2, 1 / 12)}))
    recall_run = {reader: {"accuracy": 1.0, **{f"accuracy@{k}": 1.0 for k in recall.PAIRS},
                           "moved by asked": 1.0, "moved by other": 0.0}
                  for reader in recall.READERS}
    keys |= set(recall.claims(recall_run, {8: (0.9, 4 / 31)}))
    keys |= {sentence for task in capstone.CLAIMS for _, sentence, _ in capstone.CLAIMS[task]}
    keys |= set(capstone.CLAIMS)                                   # task names printed in sentences
    assert len(keys) >= 40, sorted(keys)
    constants = set()
    for path in (ROOT / "course_lib" / "experiments").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                constants.add(node.value)
    assert not sorted(keys - constants), "claims built from pieces"
    missing = sorted(k for k in keys if k not in catalog("zh"))
    assert not missing, f"add to i18n/zh/course_lib.po: {missing}"


def test_a_bold_chinese_title_draws_without_a_findfont_warning(tmp_path):
    """Noto Sans CJK has one weight: a bold title is drawn regular, and matplotlib's
    "findfont: Failed to find font weight bold" message (which a learner cannot act on) is not
    shown under the cell."""
    script = ("import course_lib, matplotlib\nmatplotlib.use('Agg')\nimport matplotlib.pyplot as plt\n"
              "fig, ax = plt.subplots()\nax.set_title('注意力', fontweight='bold')\nfig.canvas.draw()\n"
              "print('drawn')\n")
    env = dict(os.environ, COURSE_LANG="zh", MPLCONFIGDIR=str(tmp_path))
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=300)
    assert done.stdout.strip() == "drawn", done.stderr
    assert "findfont" not in done.stderr, done.stderr


def test_pad_lines_up_a_chinese_column_and_pads_english_as_format_does():
    """cl.pad counts a Chinese character as two cells: names of different lengths line up in
    Chinese, and an English name gets exactly what f"{name:>14}" gives it."""
    from course_lib.basics.language import cells, pad

    for name in ("noisy", "Gaussian blur", "NL-means", "a name longer than fourteen"):
        assert pad(name, 14) == f"{name:>14}" and pad(name, 14, "<") == f"{name:<14}"
    assert cells("高斯模糊") == 8 and cells("NL-means：") == 10
    rows = [pad(name, 14) + "：PSNR" for name in ("含噪图像", "高斯模糊", "NL-means", "高斯")]
    assert len({cells(row) for row in rows}) == 1, rows
    with pytest.raises(ValueError, match="align"):
        pad("x", 3, "^")


def test_table_lines_widens_a_column_for_a_long_chinese_header():
    """table_lines makes each column as wide (in display cells) as its widest entry: a Chinese
    header wider than the numbers under it widens its column and every row follows; in English,
    where the numbers are the widest, the rows are what f-strings gave them."""
    from course_lib.basics.language import cells, table_lines

    rows = [["attention", "0.61 - 0.71 ", "   0.61"], ["max", "0.71 - 0.74 ", "   0.73"]]
    english = table_lines(["model", "accuracy", "seed 0"], rows, "<><", "<>>")
    head = f"{'model':<9}  {'accuracy':>12}  {'seed 0':<7}"
    assert english == [head, "-" * len(head)] + [f"{m:<9}  {r:>12}  {v:>7}" for m, r, v in rows]
    chinese = table_lines(["模型", "准确率（范围）", "随机种子 0"], rows, "<><", "<>>")
    assert len({cells(line) for line in chinese}) == 1, chinese
    assert chinese[2].endswith("   0.61") and cells(chinese[0]) > cells(english[0])
    with pytest.raises(ValueError, match="header has 3 columns"):
        table_lines(["model", "accuracy", "seed 0"], [["attention", "0.61"]], "<><", "<>>")
    with pytest.raises(ValueError, match="row_align '<>\\^'"):
        table_lines(["model", "accuracy", "seed 0"], rows, "<><", "<>^")
    with pytest.raises(TypeError, match="must be a str.*float 0.61"):
        table_lines(["model", "accuracy"], [["attention", 0.61]], "<>", "<>")
