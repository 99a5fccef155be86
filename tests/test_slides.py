"""Slides: tools/slides.py gives every lesson slide metadata by one rule (RISE presents the running
notebook with it), and `make slides` writes static reveal.js slides that work offline."""
from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest

import slides
from _browser import ROOT, block_network, chromium_page, screenshot_path, skip_or_fail

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
