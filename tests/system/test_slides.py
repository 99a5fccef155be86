"""Slides: tools/slides.py gives every lesson slide metadata by one rule (RISE presents the running
notebook with it), and `make slides` writes static reveal.js slides that work offline."""
from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest

import slides
from helpers.browser import ROOT, block_network, chromium_page, screenshot_path, skip_or_fail

LESSONS = sorted(p for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")
                 if not p.name.endswith(".updated.ipynb"))


def _types(nb) -> list[str]:
    return [c.metadata.get("slideshow", {}).get("slide_type") for c in nb.cells]


def test_the_rule_headings_start_slides_and_everything_else_follows():
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# 01 · Title\n\n**Learning objectives** ..."),
        nbformat.v4.new_code_cell("import course_lib as cl"),
        nbformat.v4.new_markdown_cell("## 1. A section"),
        nbformat.v4.new_code_cell("x = 1  # its experiment"),
        nbformat.v4.new_markdown_cell("### A detail"),
        nbformat.v4.new_markdown_cell("The picture shows ... \n\n```python\n# not a heading\n```"),
        nbformat.v4.new_code_cell(""),
        nbformat.v4.new_markdown_cell("**In one sentence:** the end of section 1.\n\n## 2. Next\n\nMore."),
    ]
    assert slides.assign(nb) > 0
    assert _types(nb) == ["slide", "-", "slide", "-", "subslide", "-", "skip", "-", "slide"]
    assert nb.cells[7].source == "**In one sentence:** the end of section 1."
    assert nb.cells[8].source == "## 2. Next\n\nMore.", "the slide opens with its heading"
    assert nb.metadata["rise"]["scroll"] is True
    assert slides.problems(nb) == [] and slides.slide_count(nb) == 4
    assert slides.assign(nb) == 0, "a second run changes nothing"

    nb.cells[3].metadata["slideshow"]["slide_type"] = "fragment"
    assert any("cell 3" in p and "'fragment'" in p for p in slides.problems(nb))


def test_without_split_a_heading_below_the_top_is_a_hint():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# T"),
                nbformat.v4.new_markdown_cell("text\n\n## Section")]
    slides.assign(nb, split=False)
    assert len(nb.cells) == 2 and _types(nb) == ["slide", "slide"]
    assert slides.hints(nb) and "line 3" in slides.hints(nb)[0]


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name)
def test_assign_on_a_lesson_changes_metadata_and_cell_boundaries_only(path, tmp_path):
    copy = tmp_path / path.name
    shutil.copy(path, copy)
    assert slides.main(["assign", str(copy)]) == 0
    assert slides.main(["check", str(copy)]) == 0
    before, after = nbformat.read(path, as_version=4), nbformat.read(copy, as_version=4)
    code = lambda nb: [(c.source, c.get("outputs"), c.get("execution_count"))  # noqa: E731
                       for c in nb.cells if c.cell_type == "code"]
    assert code(after) == code(before), "code cells and their outputs are untouched"
    text = lambda nb: "".join("".join(c.source.split()) for c in nb.cells  # noqa: E731
                              if c.cell_type == "markdown")
    assert text(after) == text(before), "the Markdown says the same, split at headings at most"
    assert after.metadata.get("widgets") == before.metadata.get("widgets")
    assert slides.slide_count(after) >= 3
    assert all(slides.heading_level(c) is not None for c in after.cells
               if c.metadata["slideshow"]["slide_type"] in ("slide", "subslide")
               and c is not after.cells[0])


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    if not shutil.which("npm") and not (ROOT / "build" / "npm" / "reveal").exists():
        skip_or_fail("static slides need reveal.js from npm (install Node.js and npm)")
    out = tmp_path_factory.mktemp("slides")
    return out, slides.build(out)


def test_static_slides_load_nothing_from_another_site(built):
    import re

    out, pages = built
    assert [p.name for p in pages] == [f"{p.stem}.slides.html" for p in LESSONS]
    for page in pages:
        text = page.read_text(encoding="utf-8")
        remote = re.findall(r'<(?:script|link|img)[^>]+(?:src|href)="((?:https?:)?//[^"]+)"', text)
        assert not remote, (page.name, remote)
    assert (out / "reveal.js" / "dist" / "reveal.js").is_file()
    assert (out / "mathjax" / "MathJax.js").is_file()


def _switches(page: Path):
    """(untranslated?, hreflang, target file, text) of each language switch on ``page``."""
    import re

    found = re.findall(r'<a class="course-slides-lang( course-slides-untranslated)?" hreflang="([^"]+)" '
                       r'lang="[^"]+" href="([^"]+)"[^>]*>([^<]+)</a>', page.read_text(encoding="utf-8"))
    return [(bool(m[0]), m[1], (page.parent / m[2]).resolve(), m[3]) for m in found]


def test_both_editions_have_slides_and_every_deck_switches_language(built):
    """The Chinese lessons (zh/notebooks) become slides in zh/, and every deck and index has one
    language switch: an English deck to its Chinese twin (which links back), a lesson not
    translated yet to the Chinese index, saying so, and that index links to its English deck."""
    out, pages = built
    zh = out / "zh"
    chinese = sorted((ROOT / "zh" / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    assert chinese and sorted(p.name for p in zh.glob("*.slides.html")) == [
        f"{p.stem}.slides.html" for p in chinese]
    zh_index = (zh / "index.html").read_text(encoding="utf-8")
    for page in pages:
        twin = zh / page.name
        if twin.exists():
            assert _switches(page) == [(False, "zh-CN", twin.resolve(), "中文")], page.name
            assert _switches(twin) == [(False, "en", page.resolve(), "English")], twin.name
            assert '<html lang="zh-CN">' in twin.read_text(encoding="utf-8")
        else:
            [(untranslated, lang, target, text)] = _switches(page)
            assert untranslated and target == (zh / "index.html").resolve() and "尚未翻译" in text, page.name
            assert f'href="../{page.name}"' in zh_index, f"the Chinese index links to the English {page.name}"
    assert _switches(out / "index.html")[0][1:3] == ("zh-CN", (zh / "index.html").resolve())
    assert _switches(zh / "index.html")[0][1:3] == ("en", (out / "index.html").resolve())
    for deck in zh.glob("*.slides.html"):  # reveal.js and MathJax are the English decks' copies
        text = deck.read_text(encoding="utf-8")
        assert 'src="../reveal.js/dist/reveal.js"' in text and 'src="../mathjax/MathJax.js' in text


def test_static_slides_present_offline_with_math_and_explorer_pictures(built):
    out, pages = built
    lesson = next(p for p in pages if p.name.startswith("01_"))
    nb = nbformat.read(ROOT / "notebooks" / lesson.name.replace(".slides.html", ".ipynb"), as_version=4)
    slides.assign(nb)
    attempted = []
    with chromium_page(1280, 800) as page:
        block_network(page, attempted)
        page.goto(lesson.as_uri(), wait_until="load")
        page.wait_for_function("() => window.Reveal && Reveal.isReady()", timeout=30_000)
        total = page.evaluate("() => Reveal.getTotalSlides()")
        assert total == slides.slide_count(nb), (total, slides.slide_count(nb))
        # Walk every slide, as a presenter would; formulas are typeset and pictures load.
        typeset = 0
        for _ in range(total):
            page.wait_for_function("() => MathJax.Hub.queue.pending === 0", timeout=30_000)
            typeset += page.evaluate("() => Reveal.getCurrentSlide().querySelectorAll('.MathJax').length")
            page.keyboard.press("ArrowRight" if page.evaluate("() => Reveal.availableRoutes().right")
                                else "ArrowDown")
        assert typeset > 0, "no slide showed a typeset formula"
        pictures = page.evaluate("""() => Array.from(document.querySelectorAll('img.course-widget-image'))
                                     .map(i => [i.complete, i.naturalWidth])""")
        assert pictures and all(ok and width > 100 for ok, width in pictures), pictures
        page.screenshot(path=str(screenshot_path("slides_static.png")))
    assert not attempted, f"the slides tried to reach the network: {attempted[:5]}"


def _open_fresh(page, url: str):
    """Load ``url`` as a new document (a fragment-only change would not reload the deck) and wait
    until reveal.js is ready and MathJax's queue, with every re-render it holds, is empty."""
    page.goto("about:blank")
    page.goto(url, wait_until="load")
    _settle(page)


def _settle(page):
    page.wait_for_function("() => window.Reveal && Reveal.isReady()", timeout=30_000)
    page.wait_for_function("() => window.MathJax && MathJax.isReady && MathJax.Hub.queue.pending === 0"
                           " && MathJax.Hub.queue.queue.length === 0", timeout=60_000)


# Where the current slide's formulas are: each typeset formula's glyphs (MathJax's visually hidden
# MathML for screen readers aside) against every line box of the slide's own text.
_MATH_LAYOUT_JS = """() => {
  const slide = Reveal.getCurrentSlide();
  const formulas = slide.querySelectorAll('script[type^="math/tex"]').length;
  const boxes = Array.from(slide.querySelectorAll('.MathJax, .MathJax_Display'));
  const sized = boxes.filter(b => b.getBoundingClientRect().width > 0).length;
  const glyphs = [];
  for (const box of boxes) {
    for (const e of box.querySelectorAll('*')) {
      if (e.children.length || !e.textContent.trim() || e.closest('.MJX_Assistive_MathML')) continue;
      for (const r of e.getClientRects()) if (r.width > 0 && r.height > 0) glyphs.push([r, box]);
    }
  }
  const lines = [];
  const walker = document.createTreeWalker(slide, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    if (!node.textContent.trim() || node.parentElement.closest(
        '.MathJax, .MathJax_Display, .MathJax_Preview, .MJX_Assistive_MathML, script, style')) continue;
    const range = document.createRange();
    range.selectNodeContents(node);
    for (const r of range.getClientRects()) if (r.width > 0 && r.height > 0) lines.push([r, node.textContent]);
  }
  const overlaps = [];
  for (const [g, box] of glyphs) {
    for (const [t, text] of lines) {
      const w = Math.min(g.right, t.right) - Math.max(g.left, t.left);
      const h = Math.min(g.bottom, t.bottom) - Math.max(g.top, t.top);
      if (w > 4 && h > 0.5 * Math.min(g.height, t.height)) {
        overlaps.push(box.textContent.slice(0, 24) + ' over "' + text.trim().slice(0, 30) + '"');
      }
    }
  }
  const raw = slide.innerText.match(/\\$[^$\\n]{1,60}\\$|\\\\\\(|\\\\\\[/g) || [];
  return {formulas, boxes: boxes.length, sized, overlaps: Array.from(new Set(overlaps)).slice(0, 5), raw};
}"""


def test_a_deep_link_or_a_reload_typesets_the_maths_in_place(built):
    """Opening a slide from its address (#/4) or reloading it showed its formulas piled over the
    text: the slide-change handler re-rendered the slide beside MathJax's first typeset. Every
    slide of lesson 01 with a formula, opened both ways."""
    out, pages = built
    lesson = next(p for p in pages if p.name.startswith("01_"))
    attempted, checked, problems = [], 0, []
    with chromium_page(1280, 800) as page:
        block_network(page, attempted)
        _open_fresh(page, lesson.as_uri())
        total = page.evaluate("() => Reveal.getHorizontalSlides().length")
        for h in range(1, total):
            for how in ("deep link", "reload"):
                if how == "deep link":
                    _open_fresh(page, f"{lesson.as_uri()}#/{h}")
                else:
                    page.reload(wait_until="load")
                    _settle(page)
                assert page.evaluate("() => Reveal.getIndices().h") == h
                layout = page.evaluate(_MATH_LAYOUT_JS)
                if not layout["formulas"]:
                    continue
                checked += 1
                if (layout["boxes"] < layout["formulas"] or layout["sized"] < layout["boxes"]
                        or layout["overlaps"] or layout["raw"]):
                    problems.append((f"#/{h} ({how})", layout))
                    page.screenshot(path=str(screenshot_path(f"slides_deep_link_{h}_{how[0]}.png")))
    assert checked >= 6, f"only {checked} loads showed a slide with formulas"
    assert not problems, problems
    assert not attempted, f"the slides tried to reach the network: {attempted[:5]}"


def test_the_end_of_the_longest_slide_can_be_scrolled_into_view(built):
    """Lesson 04's section 5 is several times taller than a slide: its end must be reachable with
    the mouse wheel, as a presenter would scroll, not cut off at the slide's bottom."""
    out, pages = built
    lesson = next(p for p in pages if p.name.startswith("04_"))
    attempted = []
    with chromium_page(1280, 800) as page:
        block_network(page, attempted)
        _open_fresh(page, lesson.as_uri())
        heights = page.evaluate("""() => Reveal.getHorizontalSlides().map((_, h) => {
            Reveal.slide(h, 0); return Reveal.getCurrentSlide().scrollHeight; })""")
        longest = max(range(len(heights)), key=heights.__getitem__)
        _open_fresh(page, f"{lesson.as_uri()}#/{longest}")
        slide_height = page.evaluate("() => Reveal.getConfig().height")
        assert heights[longest] > 3 * slide_height, (heights, slide_height)
        view = page.viewport_size

        def last_element():
            return page.evaluate("""() => {
                const slide = Reveal.getCurrentSlide();
                const all = Array.from(slide.querySelectorAll('*')).filter(e => {
                    const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0; });
                const r = all[all.length - 1].getBoundingClientRect();
                return {top: r.top, bottom: r.bottom, text: all[all.length - 1].textContent.slice(0, 40)};
            }""")

        start = last_element()
        assert start["top"] > view["height"], f"the slide's end is visible before scrolling: {start}"
        page.mouse.move(view["width"] / 2, view["height"] / 2)
        for _ in range(100):  # 100 wheel turns of 400 px: several times what the slide needs
            end = last_element()
            if 0 <= end["top"] and end["bottom"] <= view["height"]:
                break
            page.mouse.wheel(0, 400)
        page.screenshot(path=str(screenshot_path("slides_long_slide_end.png")))
        assert 0 <= end["top"] and end["bottom"] <= view["height"], (
            f"slide #/{longest} ({heights[longest]} px in a {slide_height} px slide): its last "
            f"element {end['text']!r} stays at {end['top']:.0f}-{end['bottom']:.0f} px in a "
            f"{view['height']} px window")
        assert page.evaluate("() => Reveal.getIndices().h") == longest, "the wheel scrolled, not navigated"
    assert not attempted, f"the slides tried to reach the network: {attempted[:5]}"
