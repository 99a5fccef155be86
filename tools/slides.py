"""Slides from the lessons: one rule for where slides start, and static reveal.js slides.

    python tools/slides.py assign notebooks/NN_topic.ipynb ...  # split at headings, write metadata
    python tools/slides.py check notebooks/*.ipynb             # exit 1 where a cell breaks the rule
    python tools/slides.py build --out _slides                 # static slides (make slides)

Live slides: JupyterLab's RISE extension (jupyterlab-rise, installed with the course) presents
the running notebook, explorers moving live: open a lesson, then View > "Render as Reveal
Slideshow" (Alt+R) or "Open as Reveal Slideshow" (a browser tab of its own). Both RISE and
nbconvert's reveal.js slides read the same cell metadata, ``metadata.slideshow.slide_type``, which
``assign`` writes by this rule:

1. the first cell (title, objectives, time) and every Markdown cell with a ``#`` or ``##``
   heading start a new slide;
2. every Markdown cell with a ``###`` heading (and none higher) starts a sub-slide;
3. empty cells are skipped;
4. every other cell continues the slide it follows ("-"): a question, its experiment and its
   picture stay together, as the lesson tells them.

Slides may be long: RISE and the static slides scroll within a slide (RISE: notebook metadata
``rise.scroll``; static slides: this template's CSS). A slide starts with a cell, so a Markdown
cell with a slide heading below its first line ("...the lesson in one sentence.\n\n## 3. Next
section") is first split at that heading: the text above it
stays on its slide and the new slide opens with its heading (``--no-split`` keeps such cells whole
and ``check`` then names them as hints). Nothing else changes: code cells, outputs and the text
itself stay as they are, so nbval and the stored outputs are untouched.

``build`` writes every lesson's slides with its stored outputs (explorers as their last picture,
as on the static site) into one folder that works offline: reveal.js comes from npm (installed
once into build/npm/reveal; needs node and npm) and MathJax from the jupyter-server-mathjax
package. Both editions: the Chinese lessons (``zh/notebooks``) go to ``zh/`` inside the folder,
sharing reveal.js and MathJax, and every deck and index has a language switch in its top right
corner: to the same lesson in the other edition, or, for a lesson not translated yet, to the
Chinese index, saying so (that index lists the lesson with a link to its English slides).
"""
from __future__ import annotations

import argparse
import html
import re
import shutil
import subprocess
import sys
from pathlib import Path

import jinja2
import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build_site import (MATHJAX_CONFIG, ZH, local_mathjax, protect_table_pipes,  # noqa: E402
                        render_widgets, title_of)

ROOT = Path(__file__).resolve().parents[1]
REVEAL_VERSION = "4.6.1"  # nbconvert's reveal template is written for reveal.js 4
RISE_SETTINGS = {"scroll": True, "autolaunch": False, "enable_chalkboard": False,
                 "transition": "none", "start_slideshow_at": "selected"}
HEADING = re.compile(r"^\s*(#{1,6})\s")


# --- the rule ---------------------------------------------------------------------------------

def slide_type(cell, index: int) -> str:
    """The slide type the course's rule gives to ``cell`` (the ``index``-th of its notebook)."""
    if not cell.source.strip():
        return "skip"
    if index == 0:
        return "slide"
    level = heading_level(cell)
    if level is not None:
        return "slide" if level <= 2 else "subslide"
    return "-"


def _heading_lines(cell) -> list[tuple[int, int]]:
    """(line number, level) of each Markdown heading in ``cell`` (not inside code fences)."""
    if cell.cell_type != "markdown":
        return []
    found, fenced = [], False
    for number, line in enumerate(cell.source.splitlines()):
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        match = None if fenced else HEADING.match(line)
        if match:
            found.append((number, len(match.group(1))))
    return found


def heading_level(cell) -> int | None:
    """The highest heading level (1 = ``#``) in a Markdown cell, or None."""
    levels = [level for _, level in _heading_lines(cell) if level <= 3]
    return min(levels) if levels else None


def hints(nb) -> list[str]:
    """Cells whose slide heading is not their first line (split them at the heading)."""
    return [f"cell {index}: its heading is on line {number + 1}; split the cell there so the slide "
            f"starts with the heading"
            for index, cell in enumerate(nb.cells)
            for number, level in _heading_lines(cell)[:1] if number > 0 and level <= 3]


def split_at_headings(nb) -> int:
    """Split every Markdown cell before each slide heading that is not its first line.
    Returns the number of cells added."""
    cells, added = [], 0
    for cell in nb.cells:
        cuts = [number for number, level in _heading_lines(cell) if number > 0 and level <= 3]
        if not cuts or cell.get("attachments"):
            cells.append(cell)
            continue
        lines = cell.source.splitlines()
        pieces = [lines[a:b] for a, b in zip([0] + cuts, cuts + [len(lines)])]
        for number, piece in enumerate(pieces):
            text = "\n".join(piece).strip("\n")
            if not text:
                continue
            if number == 0:
                cell.source = text
                cells.append(cell)
            else:
                cells.append(nbformat.v4.new_markdown_cell(text))
                added += 1
    nb.cells = cells
    return added


def assign(nb, split: bool = True) -> int:
    """Write the rule's slide metadata into ``nb`` (and RISE's settings), after splitting cells at
    their slide headings unless ``split`` is False. Returns the number of changes."""
    changed = split_at_headings(nb) if split else 0
    for index, cell in enumerate(nb.cells):
        wanted = slide_type(cell, index)
        if cell.metadata.get("slideshow", {}).get("slide_type") != wanted:
            cell.metadata.setdefault("slideshow", {})["slide_type"] = wanted
            changed += 1
    rise = nb.metadata.setdefault("rise", {})
    for key, value in RISE_SETTINGS.items():
        if rise.get(key) != value:
            rise[key] = value
            changed += 1
    return changed


def problems(nb) -> list[str]:
    """Where ``nb`` does not follow the rule (empty: it does)."""
    found = []
    for index, cell in enumerate(nb.cells):
        wanted = slide_type(cell, index)
        have = cell.metadata.get("slideshow", {}).get("slide_type")
        if have != wanted:
            first = cell.source.strip().splitlines()[0][:60] if cell.source.strip() else "(empty)"
            found.append(f"cell {index} ({first!r}): slide_type {have!r}, the rule says {wanted!r}")
    rise = nb.metadata.get("rise", {})
    found += [f"notebook metadata rise.{key} is {rise.get(key)!r}, expected {value!r}"
              for key, value in RISE_SETTINGS.items() if rise.get(key) != value]
    return found


def slide_count(nb) -> int:
    """How many slides and sub-slides the notebook shows."""
    return sum(slide_type(c, i) in ("slide", "subslide") for i, c in enumerate(nb.cells))


# --- static slides ------------------------------------------------------------------------------

# nbconvert's reveal template without anything from a CDN: no jQuery, require.js or mermaid;
# reveal.js and its notes plugin from the slides' own folder; MathJax from there too.
SLIDES_TEMPLATE = r"""{%- extends 'reveal/index.html.j2' -%}
{%- block html_head_js_jquery -%}{%- endblock html_head_js_jquery -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mathjax -%}
{{ resources.course_mathjax_config }}<script src="{{ resources.mathjax_url }}"></script>
<style>
.reveal .slides section { text-align: left; }
.reveal img.course-widget-image, .reveal .jp-OutputArea-output img { max-width: 100%; height: auto; width: auto; }
.course-static-widget { border: 1px solid #ccc; border-radius: 4px; padding: 4px 8px; }
.course-widget-controls { display: flex; flex-wrap: wrap; gap: 4px 18px; font-size: 0.6em; }
.course-widget-note { font-size: 0.5em; font-style: italic; color: #555; }
/* A slide taller than the presentation scrolls inside it (wheel, touchpad, scroll bar) instead of
   running off its bottom: nbconvert's reveal_scroll did this with jQuery, which these slides drop.
   A slide's box is its stack's, the presentation's height; reveal.js still centres short slides. */
.reveal .slides > section > section { max-height: 100%; overflow-y: auto; box-sizing: border-box; }
</style>
{%- endblock html_head_js_mathjax -%}
{% block footer_js %}
<script src="{{ reveal_url_prefix }}/dist/reveal.js"></script>
<script src="{{ reveal_url_prefix }}/plugin/notes/notes.js"></script>
<script>
Reveal.initialize({
  controls: true, progress: true, history: true, hash: true,
  transition: "{{ reveal_transition }}", slideNumber: "{{ reveal_number }}",
  width: {{ reveal_width }}, height: {{ reveal_height }},
  plugins: [RevealNotes]
});
// MathJax typesets the whole deck once at start; slides that were hidden then (display: none)
// get formulas without a size, so a slide is typeset again when it is shown. Through MathJax's
// queue, never directly: a deep link (#/5) or a reload shows its slide before that first typeset
// has finished, and a re-render running beside it left the formulas misplaced over the text.
function courseShowSlide(slide) {
  if (!slide) { return; }
  slide.scrollTop = 0;  // a long slide opens at its top
  if (window.MathJax && MathJax.Hub) { MathJax.Hub.Queue(["Rerender", MathJax.Hub, slide]); }
}
Reveal.on('slidechanged', function (event) { courseShowSlide(event.currentSlide); });
Reveal.on('ready', function (event) { courseShowSlide(event.currentSlide); });
</script>
{% endblock footer_js %}
"""


def reveal_folder() -> Path:
    """reveal.js from npm, installed once into build/npm/reveal (a local folder, never global)."""
    folder = ROOT / "build" / "npm" / "reveal"
    package = folder / "node_modules" / "reveal.js"
    if (package / "dist" / "reveal.js").exists():
        return package
    npm = shutil.which("npm")
    if not npm:
        raise SystemExit("static slides need reveal.js from npm: install Node.js (with npm) first. "
                         "Live slides need nothing more: RISE in JupyterLab (View > Render as Reveal Slideshow).")
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run([npm, "install", "--prefix", str(folder), "--no-audit", "--no-fund",
                    "--loglevel=error", f"reveal.js@{REVEAL_VERSION}"], check=True, timeout=600)
    return package


def make_exporter(mathjax_url: str, reveal_url_prefix: str = "reveal.js"):
    from nbconvert import SlidesExporter

    loader = jinja2.DictLoader({"course_slides.html.j2": SLIDES_TEMPLATE})
    exporter = SlidesExporter(extra_loaders=[loader], reveal_url_prefix=reveal_url_prefix,
                              reveal_number="c/t", reveal_transition="none",
                              reveal_theme="white",  # its fonts ship with reveal.js (not Google's)
                              mathjax_url=mathjax_url)
    exporter.template_file = "course_slides.html.j2"
    return exporter


# The language switch: fixed in the top right corner, above the deck (reveal.js keeps its own
# controls at the bottom right), so it is on every slide without being part of any.
SWITCH_STYLE = ("position:fixed;top:6px;right:10px;z-index:40;font:14px sans-serif;"
                "background:rgba(255,255,255,0.85);padding:2px 6px;border-radius:4px")
INDEX_TEXT = {
    "en": {"title": "Attention as adaptive computation: slides", "slides": "slides",
           "help": "Arrow keys move between slides; S opens the speaker view. For live slides with "
                   "moving explorers, open a lesson in JupyterLab and press Alt+R (RISE).",
           "untranslated": ""},
    "zh": {"title": "注意力即自适应计算：幻灯片", "slides": "张幻灯片",
           "help": "用方向键切换幻灯片；按 S 打开演讲者视图。要放映交互探索器能拖动的现场幻灯片，"
                   "请在 JupyterLab 中打开一课，按 Alt+R（RISE）。",
           "untranslated": "（尚未翻译，链接到英文版）"},
}


def language_switch(lang: str, twin: str | None) -> str:
    """The link to the other edition: ``twin`` is the other edition's page, relative to its
    folder, or None for an English lesson not translated yet (then: the Chinese index, and a
    note). The Chinese pages sit in zh/, one folder below the English ones."""
    style = f' style="{SWITCH_STYLE}"'
    if lang == ZH:
        return f'<a class="course-slides-lang" hreflang="en" lang="en" href="../{twin}"{style}>English</a>'
    if twin is None:
        return (f'<a class="course-slides-lang course-slides-untranslated" hreflang="zh-CN" lang="zh-CN" '
                f'href="{ZH}/index.html"{style}>中文版（本课尚未翻译）</a>')
    return (f'<a class="course-slides-lang" hreflang="zh-CN" lang="zh-CN" href="{ZH}/{twin}"{style}>'
            f'中文</a>')


def _lessons(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("[0-9][0-9]_*.ipynb") if not p.name.endswith(".updated.ipynb"))


def _deck(path: Path, exporter, switch: str, lang: str) -> tuple[str, str, int]:
    """(html, title, number of slides) of one lesson, with its language switch."""
    nb = nbformat.read(path, as_version=4)
    assign(nb)  # the rule, whether or not the stored notebook has its metadata yet
    render_widgets(nb, lang)
    protect_table_pipes(nb)
    title = title_of(nb, path.stem)
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": title},
                                                         "course_mathjax_config": MATHJAX_CONFIG})
    body = re.sub(r"(<body[^>]*>)", lambda m: m.group(1) + switch, body, count=1)
    if lang == ZH:
        body = re.sub(r'<html(?: lang="[^"]*")?>', '<html lang="zh-CN">', body, count=1)
    return body, title, slide_count(nb)


def _index(lang: str, rows: list[str], switch: str) -> str:
    words = INDEX_TEXT[lang]
    return (f"<!DOCTYPE html><html lang='{'zh-CN' if lang == ZH else 'en'}'><head><meta charset='utf-8'>"
            f"<title>{html.escape(words['title'])}</title></head>"
            "<body style='font-family:sans-serif;max-width:50rem;margin:2rem auto'>" + switch +
            f"<h1>{html.escape(words['title'])}</h1><ul>" + "\n".join(rows) +
            f"</ul><p>{html.escape(words['help'])}</p></body></html>")


def build(out: Path, root: Path = ROOT) -> list[Path]:
    """Slides for every lesson in ``out`` (replaced), with an index page, and the Chinese
    edition's in ``out``/zh with its own. Returns the English pages."""
    lessons = _lessons(root / "notebooks")
    chinese = {p.name: p for p in _lessons(root / ZH / "notebooks")}
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    reveal = reveal_folder()
    for part in ("dist", "plugin"):
        shutil.copytree(reveal / part, out / "reveal.js" / part)
    mathjax_url = local_mathjax(out).replace("../", "", 1)  # slides sit beside mathjax/, not below
    exporter = make_exporter(mathjax_url)
    pages, rows = [], []
    for path in lessons:
        twin = f"{path.stem}.slides.html" if path.name in chinese else None
        body, title, count = _deck(path, exporter, language_switch("en", twin), "en")
        page = out / f"{path.stem}.slides.html"
        page.write_text(body, encoding="utf-8")
        pages.append(page)
        rows.append(f'<li><a href="{page.name}">{html.escape(title)}</a> ({count} slides)</li>')
        print(f"  {path.relative_to(root)} -> {page.relative_to(out)} ({count} slides)")
    (out / "index.html").write_text(_index("en", rows, language_switch("en", "index.html")),
                                    encoding="utf-8")
    if chinese:
        # the Chinese decks sit one folder below reveal.js/ and mathjax/
        zh_exporter = make_exporter("../" + mathjax_url, reveal_url_prefix="../reveal.js")
        (out / ZH).mkdir()
        rows = []
        for path in lessons:
            name = f"{path.stem}.slides.html"
            if path.name not in chinese:
                rows.append(f'<li><a href="../{name}">{html.escape(title_of(nbformat.read(path, 4), path.stem))}'
                            f'</a>{INDEX_TEXT[ZH]["untranslated"]}</li>')
                continue
            body, title, count = _deck(chinese[path.name], zh_exporter, language_switch(ZH, name), ZH)
            (out / ZH / name).write_text(body, encoding="utf-8")
            rows.append(f'<li><a href="{name}">{html.escape(title)}</a>（{count} {INDEX_TEXT[ZH]["slides"]}）</li>')
            print(f"  {ZH}/notebooks/{path.name} -> {ZH}/{name} ({count} slides)")
        (out / ZH / "index.html").write_text(_index(ZH, rows, language_switch(ZH, "index.html")),
                                             encoding="utf-8")
    return pages


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("assign", "check"):
        command = sub.add_parser(name)
        command.add_argument("notebooks", nargs="+", type=Path)
        if name == "assign":
            command.add_argument("--no-split", action="store_true",
                                 help="keep Markdown cells whole even where a heading is not on top")
    command = sub.add_parser("build")
    command.add_argument("--out", type=Path, default=ROOT / "_slides")
    args = parser.parse_args(argv)
    if args.command == "build":
        pages = build(args.out)
        print(f"{len(pages)} lessons as slides: open {args.out / 'index.html'}")
        return 0
    status = 0
    for path in args.notebooks:
        nb = nbformat.read(path, as_version=4)
        if args.command == "assign":
            changed = assign(nb, split=not args.no_split)
            if changed:
                nbformat.write(nb, path)
            print(f"{path}: {slide_count(nb)} slides ({changed} metadata entries changed)")
        else:
            found = problems(nb)
            status |= bool(found)
            print(f"{path}: " + ("follows the slide rule" if not found else
                                 "does not follow the slide rule:\n  " + "\n  ".join(found)))
            for hint in hints(nb):
                print(f"  hint: {hint}")
    return status


if __name__ == "__main__":
    sys.exit(main())
