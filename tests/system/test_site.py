"""The static site (`make site`): every notebook as a page with its outputs, explorers in their last
state, an index in course order, previous/next links, and, in a real browser with every request
that is not a local file blocked: figures, explorers at their own aspect ratio, typeset formulas."""
from __future__ import annotations

import base64
import re

import nbformat
import pytest
from ipywidgets.embed import embed_data

import build_site
from helpers.browser import ROOT, block_network, chromium_page, screenshot_path, skip_or_fail
from course_lib.widgets import EXPLORERS

WIDGET_STATE = build_site.WIDGET_STATE
ZH = "zh"  # the Chinese edition: zh/ in the repository, zh/ in the site


def _notebook_showing(widget):
    """A one-cell notebook that displayed ``widget``, with the widget state nbclient would store."""
    data = embed_data(views=[widget], drop_defaults=False)  # nbclient stores every trait
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("explorer", execution_count=1)
    cell.outputs = [nbformat.v4.new_output(
        "execute_result", execution_count=1,
        data={build_site.WIDGET_VIEW: data["view_specs"][0], "text/plain": "VBox(...)"})]
    nb.cells = [cell]
    nb.metadata["widgets"] = {WIDGET_STATE: data["manager_state"]}
    return nb


def test_an_explorer_renders_as_its_last_picture_and_control_values():
    explorer = EXPLORERS["three_steps"]()
    explorer.controls["angle_deg"].value = 135.0
    explorer.controls["temperature"].value = 0.5  # a FloatLogSlider: shown as 0.5, not log10
    nb = _notebook_showing(explorer.widget)

    assert build_site.render_widgets(nb) == 1
    html = nb.cells[0].outputs[0]["data"]["text/html"]
    assert "widgets" not in nb.metadata, "the state is not needed (and would pull in a CDN script)"
    last_png = base64.b64encode(explorer.image.value).decode()
    assert f"base64,{last_png}" in html, "the picture is the explorer's last one"
    assert "query angle" in html and ">135.00<" in html
    assert "temperature" in html and ">0.5<" in html
    assert "run this notebook in jupyterlab" in html.lower()


def test_a_progress_bar_is_not_called_an_explorer():
    from tqdm.notebook import tqdm

    bar = tqdm(range(3), desc="training")
    for _ in bar:
        pass
    nb = _notebook_showing(bar.container)
    assert build_site.render_widgets(nb) == 0
    html = nb.cells[0].outputs[0]["data"]["text/html"]
    assert "training" in html and "<progress" in html and "explorer" not in html.lower()


def test_an_explorer_saved_without_its_state_shows_a_note_not_its_python_repr():
    """A notebook run and saved in a JupyterLab that does not save widget state."""
    nb = _notebook_showing(EXPLORERS["three_steps"]().widget)
    nb.cells[0].outputs[0]["data"]["text/plain"] = "VBox(children=(HTML(value='<p>Move...</p>'),))"
    del nb.metadata["widgets"]
    assert build_site.render_widgets(nb) == 1
    html = nb.cells[0].outputs[0]["data"]["text/html"]
    assert "VBox(" not in html and "children=" not in html
    assert "not saved with this notebook" in html and "JupyterLab" in html


def test_links_between_notebooks_point_at_pages():
    page = '<a href="../exercises/01_similarity_exercises.ipynb">x</a> <a href="https://x.org/a.ipynb">y</a>'
    out = build_site._rewrite_links(page)
    assert 'href="../exercises/01_similarity_exercises.html"' in out
    assert 'href="https://x.org/a.ipynb"' in out, "links to other sites stay as they are"


def test_a_table_with_pipes_in_code_still_renders_as_a_table():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(
        "text `a|b`\n\n| term | formula |\n|---|---|\n| distance | `|q - k|`, small = similar |")]
    build_site.protect_table_pipes(nb)
    page, _ = build_site.make_exporter().from_notebook_node(nb)
    assert "<table" in page and "<code>|q - k|</code>, small = similar</td>" in page
    assert "`a|b`" in nb.cells[0].source, "only table rows are touched"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("site")
    pages = build_site.build(out, quiet=True)
    return out, pages


def test_every_notebook_has_a_page_and_the_index_follows_course_order(site):
    out, pages = site
    expected = build_site.course_notebooks(ROOT)
    assert expected, "the course has notebooks"
    for path in expected:
        assert (out / path.parent.name / f"{path.stem}.html").is_file(), path
    index = (out / "index.html").read_text(encoding="utf-8")
    lessons = sorted((ROOT / "notebooks").glob("*.ipynb"))
    lessons = [p for p in lessons if not p.name.endswith(".updated.ipynb")]
    positions = [index.find(f'href="notebooks/{p.stem}.html"') for p in lessons]
    assert all(pos >= 0 for pos in positions), "every lesson is linked from the index"
    assert positions == sorted(positions), "lessons appear in course order"


def test_pages_load_nothing_from_another_site(site):
    out, _ = site
    for page in out.rglob("*.html"):
        if "mathjax" in page.parts:
            continue
        text = page.read_text(encoding="utf-8")
        remote = re.findall(r'<(?:script|link|img)[^>]+(?:src|href)="((?:https?:)?//[^"]+)"', text)
        assert not remote, (page.name, remote)
        if "tex2jax" in text:  # (the Chinese edition's pages sit one folder deeper)
            up = "../../" if page.relative_to(out).parts[0] == ZH else "../"
            assert f'<script src="{up}mathjax/MathJax.js?config=' in text, page.name
    assert (out / "mathjax" / "MathJax.js").is_file()
    assert list((out / "mathjax" / "fonts" / "HTML-CSS" / "STIX-Web").rglob("*.woff")), \
        "MathJax's web fonts come with it"


def test_pages_link_to_the_previous_and_next_page_in_course_order(site):
    out, pages = site
    order = build_site.course_notebooks(ROOT)
    hrefs = [f"../{p.parent.name}/{p.stem}.html" for p in order]
    for index, path in enumerate(order):
        page = (out / path.parent.name / f"{path.stem}.html").read_text(encoding="utf-8")
        previous = re.findall(r'class="course-site-prev" rel="prev" href="([^"]+)"', page)
        following = re.findall(r'class="course-site-next" rel="next" href="([^"]+)"', page)
        assert previous == ([hrefs[index - 1]] * 2 if index else []), (path.name, previous)
        assert following == ([hrefs[index + 1]] * 2 if index + 1 < len(order) else []), (path.name, following)
    lessons = [p for p in order if p.parent.name == "notebooks"]
    first_exercise = next(p for p in order if p.parent.name == "exercises")
    assert order.index(first_exercise) == order.index(
        next(p for p in lessons if build_site.lesson_key(p) == build_site.lesson_key(first_exercise))) + 1, \
        "a lesson's exercises follow the lesson"


def test_stored_explorers_appear_with_their_picture(site):
    out, pages = site
    with_explorers = [p for p, info in pages.items() if info["widgets"]]
    if not with_explorers:
        pytest.skip("no stored notebook displays an explorer yet")
    for path in with_explorers:
        page = pages[path]["page"].read_text(encoding="utf-8")
        assert page.count('class="course-static-widget"') == pages[path]["widgets"]
        assert re.search(r'class="course-widget-image" src="data:image/png;base64,[A-Za-z0-9+/]{100}', page)


SWITCH = re.compile(r'<a class="course-site-lang( course-site-untranslated)?" hreflang="([^"]+)" '
                    r'lang="[^"]+" href="([^"]+)">([^<]+)</a>')


def _switches(page):
    """(untranslated?, hreflang, target file, text) of each language switch on ``page``."""
    text = page.read_text(encoding="utf-8")
    return [(bool(m[0]), m[1], (page.parent / m[2]).resolve(), m[3]) for m in SWITCH.findall(text)]


def test_every_page_switches_to_its_twin_in_the_other_edition_and_back(site):
    """Both editions are built, and every page's bar (top and bottom) links to the other edition:
    an English page to its Chinese twin (whose switch leads back), a page whose lesson is not
    translated yet to the Chinese index, saying so, and that index links to its English pages."""
    out, _ = site
    zh = out / ZH
    chinese = build_site.course_notebooks(ROOT / ZH)
    assert chinese, "the Chinese edition has notebooks (zh/)"
    zh_index = (zh / "index.html").read_text(encoding="utf-8")
    untranslated = 0
    for path in build_site.course_notebooks(ROOT):
        page = out / path.parent.name / f"{path.stem}.html"
        switches = _switches(page)
        assert len(switches) == 2, (page.name, "one language switch in the top bar and one at the bottom")
        twin = zh / path.parent.name / f"{path.stem}.html"
        if (ROOT / ZH / path.parent.name / path.name).exists():
            assert {s[:3] for s in switches} == {(False, "zh-CN", twin.resolve())}, (page.name, switches)
            back = _switches(twin)
            assert len(back) == 2 and {s[:3] for s in back} == {(False, "en", page.resolve())}, twin
        else:
            untranslated += 1
            assert {s[:3] for s in switches} == {(True, "zh-CN", (zh / "index.html").resolve())}, page.name
            assert all("尚未翻译" in s[3] for s in switches)
            assert f'href="../{path.parent.name}/{path.stem}.html"' in zh_index, \
                f"the Chinese index links to the English {path.name}"
    assert len(list(zh.rglob("*.html"))) - 1 == len(chinese) == len(build_site.course_notebooks(ROOT)) - untranslated
    assert _switches(out / "index.html")[0][1:3] == ("zh-CN", (zh / "index.html").resolve())
    assert _switches(zh / "index.html")[0][1:3] == ("en", (out / "index.html").resolve())
    assert '<html lang="zh-CN">' in (zh / "notebooks" / "00_start_here.html").read_text(encoding="utf-8")


# In the page: each explorer picture's shown size against its own, the typeset formulas, the
# MathJax fonts that loaded, and TeX that was left as source in the text.
PAGE_STATE_JS = """() => ({
  pictures: Array.from(document.querySelectorAll('img.course-widget-image')).map(
      i => [i.complete, i.naturalWidth, i.naturalHeight, i.getBoundingClientRect().width,
            i.getBoundingClientRect().height]),
  typeset: document.querySelectorAll('.MathJax, .MathJax_Display').length,
  fonts: Array.from(document.fonts).filter(f => f.family.startsWith('STIX')).map(f => [f.family, f.status]),
  rawTex: (Array.from(document.querySelectorAll('.jp-RenderedMarkdown')).map(e => e.innerText).join(' ')
           .match(/\\$[^$\\n]{1,40}\\$|\\\\(frac|sqrt|sum|mathbf|exp)\\b/g) || []),
})"""


def _open_offline(page, url: str, attempted: list):
    """Open ``url`` with every request that is not a local file (or inline data) refused."""
    block_network(page, attempted)
    page.goto(url, wait_until="load")
    # MathJax typesets after the page's load event; its fonts load as it goes.
    page.wait_for_function("() => window.MathJax && MathJax.Hub && MathJax.Hub.queue.pending === 0 "
                           "&& document.fonts.status === 'loaded'", timeout=60_000)


def test_pages_show_undistorted_explorers_and_typeset_math_with_the_network_blocked(site):
    out, pages = site
    lessons = [p for p, info in pages.items() if info["widgets"] and p.parent.name == "notebooks"]
    if not lessons:
        skip_or_fail("no lesson displays an explorer yet")
    attempted: list[str] = []
    with chromium_page(1280, 900) as page:
        checked_math = 0
        for path in lessons:
            url = (out / path.parent.name / f"{path.stem}.html").as_uri()
            _open_offline(page, url, attempted)
            state = page.evaluate(PAGE_STATE_JS)
            assert len(state["pictures"]) >= pages[path]["widgets"], path.name
            for complete, width, height, shown_w, shown_h in state["pictures"]:
                assert complete and width > 100 and height > 50, (path.name, width, height)
                assert shown_w <= width + 0.5, f"{path.name}: a {width}x{height} picture shown {shown_w:.0f} wide"
                assert abs(shown_w / shown_h - width / height) < 0.01 * width / height, \
                    f"{path.name}: a {width}x{height} picture shown as {shown_w:.0f}x{shown_h:.0f}"
            assert not state["rawTex"], f"{path.name}: TeX left as source: {state['rawTex'][:5]}"
            if state["typeset"]:
                checked_math += 1
                loaded = [family for family, status in state["fonts"] if status == "loaded"]
                failed = [family for family, status in state["fonts"] if status == "error"]
                assert loaded and not failed, f"{path.name}: MathJax fonts loaded {loaded}, failed {failed}"
        assert checked_math >= 1, "no lesson page had a typeset formula"
        widget = page.locator(".course-static-widget").first
        widget.scroll_into_view_if_needed()
        assert "run this notebook in jupyterlab" in widget.inner_text().lower()
        page.screenshot(path=str(screenshot_path(f"site_{lessons[-1].stem}.png")))

        # From the first lesson, "next" leads through the course in order.
        order = build_site.course_notebooks(ROOT)
        _open_offline(page, (out / order[0].parent.name / f"{order[0].stem}.html").as_uri(), attempted)
        page.locator("a.course-site-next").first.click()
        page.wait_for_load_state("load")
        assert page.url.endswith(f"/{order[1].parent.name}/{order[1].stem}.html"), page.url
        page.goto((out / "index.html").as_uri())
        assert page.locator("a[href^='notebooks/']").count() >= 1
    assert not attempted, f"pages tried to reach the network: {sorted(set(attempted))[:5]}"


# Every code block of a page (a cell's code, its printed output, code in the text): where it ends,
# where its longest line ends, and what of it the reader can see (the page, cut by every ancestor
# that clips). A block may be narrower than its longest line only if it scrolls sideways.
CODE_BLOCKS_JS = """() => {
  const page = document.documentElement.clientWidth;
  const blocks = Array.from(document.querySelectorAll('.jp-Cell pre')).filter(
      pre => pre.getBoundingClientRect().width > 0);
  const problems = [];
  for (const pre of blocks) {
    const box = pre.getBoundingClientRect();
    let seen = Math.min(box.right, page);
    for (let a = pre.parentElement; a && a !== document.body; a = a.parentElement) {
      if (getComputedStyle(a).overflowX !== 'visible') seen = Math.min(seen, a.getBoundingClientRect().right);
    }
    const scrolls = ['auto', 'scroll'].includes(getComputedStyle(pre).overflowX);
    const lineEnd = box.left + pre.scrollWidth;
    const first = pre.textContent.split('\\n').reduce((a, b) => (b.length > a.length ? b : a), '');
    if (box.right > page + 0.5) {
      problems.push(`a block ${Math.round(box.width)} px wide reaches ${Math.round(box.right)} px in a ${page} px page: ${first.slice(0, 60)}`);
    } else if (!scrolls && lineEnd > seen + 1) {
      problems.push(`a line ends at ${Math.round(lineEnd)} px, cut off at ${Math.round(seen)} px: ${first.slice(0, 60)}`);
    }
  }
  return {blocks: blocks.length, wide: blocks.filter(p => p.scrollWidth > p.clientWidth + 1).length,
          pageWidth: document.documentElement.scrollWidth, page, problems};
}"""


@pytest.mark.parametrize("width", [1280, 800])
def test_no_code_line_runs_off_the_page(site, width):
    """Long code lines ran off the pages (cut off at the editor's edge, out of reach): each block
    now stays within the page and scrolls sideways when a line is longer than it."""
    out, pages = site
    attempted: list[str] = []
    checked = wide = 0
    found = {}
    with chromium_page(width, 900) as page:
        block_network(page, attempted)
        for path in pages:
            page.goto((out / path.parent.name / f"{path.stem}.html").as_uri(), wait_until="load")
            state = page.evaluate(CODE_BLOCKS_JS)
            checked += state["blocks"]
            wide += state["wide"]
            if state["problems"] or state["pageWidth"] > state["page"]:
                found[f"{path.parent.name}/{path.name}"] = (state["pageWidth"], state["problems"][:3])
        if found:
            page.screenshot(path=str(screenshot_path(f"site_code_lines_{width}.png")))
    assert checked > 100, f"only {checked} code blocks on {len(pages)} pages"
    if width == 800:
        assert wide > 0, "at 800 px some lines are longer than their block: the case under test"
    assert not found, f"code that runs off a {width} px page (page width, problems): {found}"
    assert not attempted, f"pages tried to reach the network: {sorted(set(attempted))[:5]}"
