"""Build a static HTML version of the course: every lesson, exercise and solution notebook, with
its stored outputs, plus an index page in course order.

    python tools/build_site.py                 # -> _site/index.html
    python tools/build_site.py --out DIR --no-solutions

The pages need no kernel and no network: figures are embedded PNGs, each explorer appears as its
last state (the picture at its own aspect ratio, the control values and a note that it is
interactive in JupyterLab), and formulas are typeset by MathJax 2 copied into the site from the
``jupyter-server-mathjax`` package, with its STIX web fonts (``mathjax/``, about 12 MB, shared by
every page). Every page links to the previous and the next one in course order (a lesson, its
exercises, its solutions, the next lesson).

Both editions: the English pages at the site's top, the Chinese edition (``zh/``, built by
tools/translate.py) below ``zh/`` with the same folders. Every page has a language switch in its
bar: an English page links to its Chinese twin, a Chinese page to its English original, each index
to the other. A page whose lesson is not translated yet links to the Chinese index instead and says
so (中文版尚未翻译本页), and the Chinese index lists that lesson with a link to its English pages.

Why not the official widget renderer (@jupyter-widgets/html-manager)? It is a JavaScript bundle from
a CDN, so offline pages would show nothing where an explorer was; and its sliders would move
without changing the picture (there is no Python behind a static page), which misleads a reader.
Our explorers are PNGs in an ``ipywidgets.Image`` (see course_lib/widgets/base.py), so their last
state renders faithfully as plain HTML from the widget state stored in the notebook
(``tools/execute.py`` stores it).
"""
from __future__ import annotations

import argparse
import html
import re
import shutil
import sys
import time
from pathlib import Path

import jinja2
import nbformat
from nbconvert import HTMLExporter

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lesson_times import study_time  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = ("notebooks", "exercises", "solutions")
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
COURSE_TITLE = "Attention as adaptive computation in computer vision"
# The Chinese edition: its notebooks under <root>/zh/, its pages under <site>/zh/ (one level deeper).
ZH = "zh"
COURSE_TITLE_ZH = "注意力即自适应计算：计算机视觉中的注意力"

# nbconvert's "lab" template, minus require.js (only the widget renderer needs it, and it would be
# fetched from a CDN on every page), with MathJax from the site's own folder: the configuration
# comes first (MathJax reads it when it loads) and asks for the STIX web fonts the package ships.
MATHJAX_CONFIG = r"""<script type="text/x-mathjax-config">
MathJax.Hub.Config({
  tex2jax: {inlineMath: [['$', '$'], ['\\(', '\\)']], displayMath: [['$$', '$$'], ['\\[', '\\]']],
            processEscapes: true, processEnvironments: true},
  TeX: {equationNumbers: {autoNumber: "AMS", useLabelIds: true}},
  "HTML-CSS": {availableFonts: [], preferredFont: null, webFont: "STIX-Web", imageFont: null},
  displayAlign: "center", messageStyle: "none"
});
</script>
"""
SITE_TEMPLATE = r"""{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block html_head_js_mathjax -%}
{{ resources.course_mathjax_config }}<script src="{{ resources.mathjax_url }}"></script>
{%- endblock html_head_js_mathjax -%}
{%- block extra_css -%}{{ super() }}
<style>
.course-static-widget { border: 1px solid #ccc; border-radius: 4px; padding: 6px 8px; margin: 4px 0; }
/* A picture keeps its aspect ratio: never wider than the page, never stretched to it. */
.course-static-widget img.course-widget-image { width: auto; max-width: 100%; height: auto;
  align-self: flex-start; }
.course-static-widget .course-widget-controls { display: flex; flex-wrap: wrap; gap: 4px 18px;
  font-size: 0.9em; margin: 4px 0; }
.course-static-widget .course-widget-note { font-size: 0.85em; color: #555; font-style: italic; margin: 2px 0 0; }
.course-widget-progress { display: flex; align-items: center; font-family: monospace; font-size: 0.85em; }
.course-site-nav { font-family: sans-serif; font-size: 0.9em; padding: 6px 12px; border-bottom: 1px solid #ddd;
  display: flex; flex-wrap: wrap; gap: 4px 16px; align-items: baseline; }
.course-site-nav .course-site-step { margin-left: auto; display: flex; gap: 16px; }
.course-site-nav.course-site-bottom { border-bottom: none; border-top: 1px solid #ddd; margin-top: 1em; }
/* A code line longer than the page scrolls inside its block (the lab template cut it off at the
   editor's edge, out of reach); the flex items that hold a block may shrink below its longest line. */
.jp-Cell pre { overflow-x: auto; }
.jp-InputArea-editor, .jp-OutputArea-output, .jp-RenderedMarkdown { min-width: 0; }
</style>
{%- endblock extra_css -%}
"""

CONTROLS = re.compile(r"(Slider|Dropdown|ToggleButtons|RadioButtons|Select|Checkbox|Text|Button)Model$")
NOTE = ("Interactive explorer, shown in its last state. Run this notebook in JupyterLab "
        "to move the controls.")
MISSING = ("Interactive explorer: its picture was not saved with this notebook. Run the notebook "
           "in JupyterLab to see it and move its controls.")
# What the site itself says, per edition (the notebooks' own text comes from their catalogs).
WORDS = {
    "en": {"title": COURSE_TITLE, "note": NOTE, "missing": MISSING, "exercises": "exercises",
           "solutions": "solutions"},
    "zh": {"title": COURSE_TITLE_ZH,
           "note": "交互探索器，显示的是它最后的状态。在 JupyterLab 中运行这个 notebook 才能拖动控件。",
           "missing": "交互探索器：它的图没有随 notebook 保存。在 JupyterLab 中运行这个 notebook，"
                      "才能看到它并拖动控件。",
           "exercises": "练习", "solutions": "参考答案"},
}


# ----------------------------------------------------------------------------------------------
# Widgets: render the stored widget state as static HTML
# ----------------------------------------------------------------------------------------------

def _ref(value):
    """'IPY_MODEL_<id>' -> '<id>' (widget references inside the state)."""
    return value[len("IPY_MODEL_"):] if isinstance(value, str) and value.startswith("IPY_MODEL_") else None


def _format_value(state: dict):
    """The value a control shows, formatted like its readout."""
    value = state.get("value")
    if "_options_labels" in state:  # Dropdown, SelectionSlider, ToggleButtons, RadioButtons, ...
        labels = state["_options_labels"]
        index = state.get("index")
        if isinstance(index, int) and 0 <= index < len(labels):
            return labels[index]
        if isinstance(index, (list, tuple)):
            return ", ".join(labels[i] for i in index if 0 <= i < len(labels))
        return ""
    if isinstance(value, float):
        fmt = state.get("readout_format", ".3g" if "Log" in state.get("_model_name", "Log") else ".2f")
        try:
            return format(value, fmt)
        except ValueError:
            return f"{value:.3g}"
    if isinstance(value, (list, tuple)):
        return " – ".join(str(v) for v in value)
    return "" if value is None else str(value)


def _control_html(name: str, state: dict) -> str:
    label = html.escape(str(state.get("description", "")))
    shown = html.escape(_format_value(state))
    if name.endswith("SliderModel") and not name.startswith("Selection") and "Range" not in name:
        low, high, value = state.get("min", 0), state.get("max", 1), state.get("value", 0)
        if name == "FloatLogSliderModel" and isinstance(value, (int, float)) and value > 0:
            import math
            value = math.log(value, state.get("base", 10))
        control = (f'<input type="range" disabled min="{low}" max="{high}" '
                   f'step="any" value="{value}">')
    elif name == "CheckboxModel":
        control = f'<input type="checkbox" disabled{" checked" if state.get("value") else ""}>'
        shown = ""
    else:
        control = ""
    return (f'<span class="course-widget-control"><b>{label}</b> {control} '
            f'<span class="course-widget-value">{shown}</span></span>')


def _render(model_id: str, models: dict, seen: set) -> str:
    model = models.get(model_id)
    if model is None or model_id in seen:
        return ""
    seen = seen | {model_id}
    name = model.get("model_name", "")
    state = model.get("state", {})
    children = [_ref(c) for c in state.get("children", []) or []]
    if name == "ImageModel":
        buffers = {tuple(b["path"]): b for b in model.get("buffers", [])}
        data = buffers.get(("value",))
        if data is None or data.get("encoding") != "base64":
            return ""
        fmt = html.escape(state.get("format", "png"))
        return (f'<img class="course-widget-image" src="data:image/{fmt};base64,{data["data"]}" '
                f'alt="explorer figure">')
    if name in ("HTMLModel", "HTMLMathModel"):
        return f'<div>{state.get("value", "")}</div>'
    if name == "LabelModel":
        return f'<div>{html.escape(str(state.get("value", "")))}</div>'
    if name == "OutputModel":
        return "".join(_output_html(o) for o in state.get("outputs", []))
    if name in ("FloatProgressModel", "IntProgressModel"):  # tqdm's bar
        return (f'<progress max="{state.get("max", 1)}" value="{state.get("value", 0)}" '
                f'style="margin:0 6px"></progress>')
    if name == "ButtonModel":
        return f'<button disabled>{html.escape(str(state.get("description", "")))}</button>'
    if children:
        parts = [_render(c, models, seen) for c in children if c]
        if name == "HBoxModel" and all(p.startswith('<span class="course-widget-control"') for p in parts if p):
            return f'<div class="course-widget-controls">{"".join(parts)}</div>'
        if any(models.get(c, {}).get("model_name", "").endswith("ProgressModel") for c in children):
            return f'<div class="course-widget-progress">{"".join(parts)}</div>'
        direction = "row" if name == "HBoxModel" else "column"
        return (f'<div style="display:flex;flex-direction:{direction};flex-wrap:wrap;gap:4px 18px;'
                f'align-items:flex-start">{"".join(parts)}</div>')
    if CONTROLS.search(name) or "value" in state or "index" in state:
        return _control_html(name, state)
    return ""


def _output_html(output: dict) -> str:
    data = output.get("data", {})
    if "image/png" in data:
        return f'<img src="data:image/png;base64,{data["image/png"]}">'
    if "text/html" in data:
        return "".join(data["text/html"]) if isinstance(data["text/html"], list) else data["text/html"]
    text = output.get("text") or data.get("text/plain", "")
    text = "".join(text) if isinstance(text, list) else text
    return f"<pre>{html.escape(text)}</pre>" if text else ""


def _is_explorer(model_id: str, models: dict, seen: frozenset = frozenset()) -> bool:
    """True if the widget tree holds a control a reader would want to move (not a progress bar)."""
    model = models.get(model_id)
    if model is None or model_id in seen:
        return False
    if CONTROLS.search(model.get("model_name", "")):
        return True
    children = [_ref(c) for c in model.get("state", {}).get("children", []) or []]
    return any(_is_explorer(c, models, seen | {model_id}) for c in children if c)


def static_widget_html(model_id: str, models: dict, lang: str = "en") -> str | None:
    """HTML for one displayed widget from the notebook's stored state, or None if it is missing.

    An explorer gets a frame and a note that it is interactive in JupyterLab; a progress bar
    (tqdm) is shown as it ended, without either.
    """
    if model_id not in models:
        return None
    body = _render(model_id, models, set())
    if not _is_explorer(model_id, models):
        return f'<div class="course-static-output">{body}</div>'
    return (f'<div class="course-static-widget" data-model-id="{html.escape(model_id)}">{body}'
            f'<p class="course-widget-note">{WORDS[lang]["note"]}</p></div>')


def render_widgets(nb, lang: str = "en") -> int:
    """Replace every widget output by static HTML; drop the widget state.

    Returns the number of explorers (widgets with controls) on the page."""
    state = nb.metadata.get("widgets", {}).get(WIDGET_STATE, {})
    models = state.get("state", {})
    count = 0
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if WIDGET_VIEW not in data:
                continue
            model_id = data[WIDGET_VIEW].get("model_id", "")
            rendered = static_widget_html(model_id, models, lang)
            if rendered is None:
                # The notebook was saved without its widget state (JupyterLab saves it only with
                # the course's setting, binder/overrides.json): say so instead of showing the
                # widget's Python repr ("VBox(children=...").
                rendered = (f'<div class="course-static-widget course-widget-missing">'
                            f'<p>{WORDS[lang]["missing"]}</p></div>')
                count += 1
            output["data"] = {"text/html": rendered}
            if model_id in models:
                count += _is_explorer(model_id, models)
    nb.metadata.pop("widgets", None)
    return count


# ----------------------------------------------------------------------------------------------
# Pages
# ----------------------------------------------------------------------------------------------

LINK = re.compile(r'href="([^":#]+?)\.ipynb(#[^"]*)?"')
CODE_SPAN = re.compile(r"`([^`]*\|[^`]*)`")


def protect_table_pipes(nb) -> None:
    """`|q - k|` inside a Markdown table row: JupyterLab renders it, but nbconvert's parser takes
    the pipes for cell borders and drops the whole table. Write such code spans as HTML."""
    for cell in nb.cells:
        if cell.cell_type != "markdown" or "|" not in cell.source:
            continue
        lines = cell.source.split("\n")
        for i, line in enumerate(lines):
            if line.lstrip().startswith("|"):
                lines[i] = CODE_SPAN.sub(
                    lambda m: "<code>" + html.escape(m.group(1)).replace("|", "&#124;") + "</code>", line)
        cell.source = "\n".join(lines)


def _rewrite_links(page: str) -> str:
    """Links between notebooks point at their pages."""
    return LINK.sub(lambda m: f'href="{m.group(1)}.html{m.group(2) or ""}"', page)


def title_of(nb, fallback: str) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return fallback


def make_exporter(mathjax_url: str | None = None) -> HTMLExporter:
    loader = jinja2.DictLoader({"course_site.html.j2": SITE_TEMPLATE})
    exporter = HTMLExporter(template_name="lab", extra_loaders=[loader])
    exporter.template_file = "course_site.html.j2"
    if mathjax_url:
        exporter.mathjax_url = mathjax_url
    return exporter


def page_href(path: Path) -> str:
    """A page's address relative to another page (pages sit one folder below the index)."""
    return f"../{path.parent.name}/{path.stem}.html"


def language_switch(lang: str, twin: str | None, up: str = "../") -> str:
    """The link to the other edition of a page. ``twin``: the other edition's page, relative to
    the site's top ("notebooks/01_similarity.html"), or None when the page has no Chinese twin
    yet: then the link goes to the Chinese index and says that this page is not translated.
    ``up``: from the page to its edition's top ("../" for a page, "" for an index)."""
    if lang == "zh":  # every Chinese page has its English original, one level further up
        return (f'<a class="course-site-lang" hreflang="en" lang="en" '
                f'href="{up}../{twin}">English</a>')
    if twin is None:
        return (f'<a class="course-site-lang course-site-untranslated" hreflang="zh-CN" lang="zh-CN" '
                f'href="{up}{ZH}/index.html">中文版（本页尚未翻译）</a>')
    return (f'<a class="course-site-lang" hreflang="zh-CN" lang="zh-CN" '
            f'href="{up}{ZH}/{twin}">中文</a>')


def _nav(path: Path, neighbours: tuple, bottom: bool = False, lang: str = "en",
         switch: str = "") -> str:
    """The bar with the way home, where we are, the other edition, and the previous and next page."""
    previous, following = neighbours
    steps = []
    if previous is not None:
        steps.append(f'<a class="course-site-prev" rel="prev" href="{page_href(previous[0])}">'
                     f'&larr; {html.escape(previous[1])}</a>')
    if following is not None:
        steps.append(f'<a class="course-site-next" rel="next" href="{page_href(following[0])}">'
                     f'{html.escape(following[1])} &rarr;</a>')
    folder = f"{ZH}/{path.parent.name}" if lang == ZH else path.parent.name
    where = "" if bottom else f'<span>{html.escape(folder)}/{html.escape(path.name)}</span>'
    return (f'<nav class="course-site-nav{" course-site-bottom" if bottom else ""}">'
            f'<a href="../index.html">{html.escape(WORDS[lang]["title"])}</a>{where}{switch}'
            f'<span class="course-site-step">{"".join(steps)}</span></nav>')


def notebook_page(path: Path, exporter: HTMLExporter, neighbours: tuple = (None, None),
                  lang: str = "en", twin: str | None = None) -> tuple[str, dict]:
    """(html, info) for one notebook; ``neighbours`` = ((path, label) or None, same) around it;
    ``twin``: the other edition's page (see language_switch)."""
    nb = nbformat.read(path, as_version=4)
    widgets = render_widgets(nb, lang)
    protect_table_pipes(nb)
    title = title_of(nb, path.stem)
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": title},
                                                         "course_mathjax_config": MATHJAX_CONFIG})
    switch = language_switch(lang, twin)
    body = re.sub(r"(<body[^>]*>)", lambda m: m.group(1) + _nav(path, neighbours, lang=lang, switch=switch),
                  body, count=1)
    body = body.replace("</body>", _nav(path, neighbours, True, lang, switch) + "</body>", 1)
    if lang == "zh":
        body = re.sub(r"<html(?: lang=\"[^\"]*\")?>", '<html lang="zh-CN">', body, count=1)
    first = "\n".join(c.source for c in nb.cells[:2] if c.cell_type == "markdown")
    info = {"title": title, "widgets": widgets, "study": study_time(first),
            "run_seconds": nb.metadata.get("course", {}).get("run_seconds")}
    return _rewrite_links(body), info


def course_notebooks(root: Path, solutions: bool = True) -> list[Path]:
    """Every notebook, in course order: each lesson, then its exercises and its solutions."""
    folders = [f for f in FOLDERS if solutions or f != "solutions"]
    found = []
    for folder in folders:
        found += [p for p in (root / folder).glob("*.ipynb") if not p.name.endswith(".updated.ipynb")]
    return sorted(found, key=lambda p: (lesson_key(p), FOLDERS.index(p.parent.name), p.name))


def step_label(path: Path, lang: str = "en") -> str:
    """'01 exercises' for exercises/01_similarity_exercises.ipynb; '01 similarity' for a lesson
    ('01 练习' in the Chinese edition)."""
    key = lesson_key(path)
    if path.parent.name == "notebooks":
        return path.stem.replace("_", " ")
    return f"{key} {WORDS[lang][path.parent.name]}"


def local_mathjax(out: Path) -> str:
    """Copy MathJax 2 and its fonts (the jupyter-server-mathjax package) into ``out``/mathjax.
    Returns the address pages use (they sit one folder below ``out``)."""
    try:
        import jupyter_server_mathjax
    except ImportError:
        raise SystemExit("the static site needs MathJax from the jupyter-server-mathjax package "
                         "(pip install jupyter-server-mathjax, or make site), or --mathjax-url") from None
    static = Path(jupyter_server_mathjax.__file__).parent / "static"
    shutil.copytree(static, out / "mathjax")
    return "../mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full"


def lesson_key(path: Path) -> str:
    """'01' for notebooks/01_similarity.ipynb and exercises/01_similarity_exercises.ipynb."""
    match = re.match(r"(\d+)", path.name)
    return match.group(1) if match else path.stem


INDEX_TEXT = {
    "en": {"intro": """Attention as a computation whose weights come from the input: similarity, weights, weighted
aggregation. These pages show every notebook of the course with the outputs it produced when it was
last run. Explorers (interactive figures) appear in their last state; to move their controls, run
the notebooks in JupyterLab (see the README).""",
           "head": ("lesson", "practice", "study time", "run time", "explorers"),
           "untranslated": ""},
    "zh": {"intro": """注意力是一种权重由输入算出的计算：相似性计算、权重分配、加权聚合。这些页面展示课程的每个
notebook 及其上次运行时得到的输出。交互探索器显示的是它们最后的状态；要拖动控件，请在 JupyterLab
中运行这些 notebook（见 README）。尚未翻译的课程链接到英文版。""",
           "head": ("课程", "练习", "学习时间", "运行时间", "交互探索器"),
           "untranslated": "（尚未翻译，链接到英文版）"},
}


def index_page(pages: dict[Path, dict], root: Path, lang: str = "en",
               english: dict[Path, dict] | None = None) -> str:
    """The index of one edition. The Chinese one (``english``: the English edition's pages) lists
    every English lesson: a translated one links to its Chinese pages, the others to the English
    pages and say so; study times come from the English notebooks (one measurement, one source)."""
    lessons: dict[str, dict[str, tuple[Path, dict]]] = {}
    for path, info in pages.items():
        lessons.setdefault(lesson_key(path), {})[path.parent.name] = (path, info)
    originals: dict[str, dict[str, tuple[Path, dict]]] = {}
    for path, info in (english or {}).items():
        originals.setdefault(lesson_key(path), {})[path.parent.name] = (path, info)
    words = INDEX_TEXT[lang]
    rows = []
    for key in sorted(set(lessons) | set(originals)):
        group, up, note = lessons.get(key), "", ""
        if group is None:  # a lesson of the English edition not translated yet
            group, up, note = originals[key], "../", words["untranslated"]
        main = group.get("notebooks") or next(iter(group.values()))
        path, info = main
        title = html.escape(info["title"])
        link = f'<a href="{up}{path.parent.name}/{path.stem}.html">{title}</a>{html.escape(note)}'
        extras = []
        for folder in ("exercises", "solutions"):
            if folder in group and group[folder] is not main:
                p, _ = group[folder]
                extras.append(f'<a href="{up}{folder}/{p.stem}.html">{WORDS[lang][folder]}</a>')
        run = info.get("run_seconds")
        run_text = f"{run:.0f} s" if isinstance(run, (int, float)) else "–"
        original = originals.get(key, {}).get(path.parent.name)
        study = original[1].get("study") if original else info.get("study")
        study_text = "" if not study else (f"{study[0]} min" if study[0] == study[1]
                                           else f"{study[0]}–{study[1]} min")
        explorers = info["widgets"] or ""
        rows.append(f"<tr><td>{html.escape(key)}</td><td>{link}</td><td>{' · '.join(extras)}</td>"
                    f"<td>{study_text}</td><td>{run_text}</td><td>{explorers}</td></tr>")
    head = "".join(f"<th>{h}</th>" for h in words["head"])
    switch = language_switch(lang, "index.html", up="")
    return f"""<!DOCTYPE html>
<html lang="{'zh-CN' if lang == 'zh' else 'en'}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(WORDS[lang]["title"])}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.5; }}
table {{ border-collapse: collapse; width: 100%; }}
th, td {{ text-align: left; padding: 0.35rem 0.6rem; border-bottom: 1px solid #ddd; }}
</style></head>
<body>
<nav class="course-site-nav">{switch}</nav>
<h1>{html.escape(WORDS[lang]["title"])}</h1>
<p>{words["intro"]}</p>
<table>
<thead><tr><th>#</th>{head}</tr></thead>
<tbody>
{chr(10).join(rows)}
</tbody></table>
</body></html>
"""


def _edition(root: Path, out: Path, exporter: HTMLExporter, solutions: bool, lang: str,
             twins: set[str], quiet: bool) -> dict[Path, dict]:
    """Write one edition's pages (``root``'s notebooks) into ``out``. ``twins``: the pages the
    other edition has, relative to its top ("notebooks/01_similarity.html")."""
    notebooks = course_notebooks(root, solutions)
    pages: dict[Path, dict] = {}
    steps = [(p, step_label(p, lang)) for p in notebooks]
    for index, path in enumerate(notebooks):
        neighbours = (steps[index - 1] if index > 0 else None,
                      steps[index + 1] if index + 1 < len(steps) else None)
        relative = f"{path.parent.name}/{path.stem}.html"
        page, info = notebook_page(path, exporter, neighbours, lang,
                                   relative if relative in twins else None)
        target = out / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(page, encoding="utf-8")
        info["page"] = target
        pages[path] = info
        if not quiet:
            print(f"  {lang}: {path.parent.name}/{path.name} -> {relative}"
                  f" ({info['widgets']} explorer(s))")
    return pages


def build(out: Path, root: Path = ROOT, solutions: bool = True, mathjax_url: str | None = None,
          quiet: bool = False) -> dict[Path, dict]:
    """Write the site into ``out`` (replaced): the English edition at its top, the Chinese one
    (``root``/zh, when it has notebooks) in ``out``/zh. Returns {notebook path: page info} of
    both editions."""
    notebooks = course_notebooks(root, solutions)
    if not notebooks:
        raise SystemExit(f"no notebooks found under {', '.join(FOLDERS)}")
    chinese = course_notebooks(root / ZH, solutions)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    mathjax_url = mathjax_url or local_mathjax(out)
    relative = lambda paths: {f"{p.parent.name}/{p.stem}.html" for p in paths}  # noqa: E731
    pages = _edition(root, out, make_exporter(mathjax_url), solutions, "en", relative(chinese), quiet)
    (out / "index.html").write_text(index_page(pages, root), encoding="utf-8")
    if chinese:
        # the Chinese pages sit one folder deeper: a relative MathJax address needs one more "../"
        zh_mathjax = mathjax_url if "//" in mathjax_url or mathjax_url.startswith("/") \
            else "../" + mathjax_url
        zh_pages = _edition(root / ZH, out / ZH, make_exporter(zh_mathjax), solutions, "zh",
                            relative(notebooks), quiet)
        (out / ZH / "index.html").write_text(index_page(zh_pages, root / ZH, "zh", pages),
                                             encoding="utf-8")
        pages.update(zh_pages)
    return pages


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "_site", help="output folder (replaced)")
    parser.add_argument("--no-solutions", action="store_true", help="leave the solutions out")
    parser.add_argument("--mathjax-url", help="MathJax 2 URL (default: a copy in the site, from "
                        "the jupyter-server-mathjax package, which works offline)")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    pages = build(args.out, solutions=not args.no_solutions, mathjax_url=args.mathjax_url)
    print(f"{len(pages)} pages in {time.perf_counter() - start:.1f} s: open {args.out / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
