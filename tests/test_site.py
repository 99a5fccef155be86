"""The static site (`make site`): every notebook as a page with its outputs, explorers in their last
state, an index in course order, and, in a real browser, figures and an explorer that show."""
from __future__ import annotations

import base64
import re

import nbformat
import pytest
from ipywidgets.embed import embed_data

import build_site
from _browser import ROOT, chromium_page, screenshot_path, skip_or_fail
from course_lib.widgets import EXPLORERS

WIDGET_STATE = build_site.WIDGET_STATE


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


def test_pages_load_nothing_from_a_cdn_but_mathjax(site):
    out, _ = site
    for page in out.rglob("*.html"):
        sources = re.findall(r'<script[^>]+src="(https?://[^"]+)"', page.read_text(encoding="utf-8"))
        assert all("mathjax" in s.lower() for s in sources), (page.name, sources)


def test_stored_explorers_appear_with_their_picture(site):
    out, pages = site
    with_explorers = [p for p, info in pages.items() if info["widgets"]]
    if not with_explorers:
        pytest.skip("no stored notebook displays an explorer yet")
    for path in with_explorers:
        page = (out / path.parent.name / f"{path.stem}.html").read_text(encoding="utf-8")
        assert page.count('class="course-static-widget"') == pages[path]["widgets"]
        assert re.search(r'class="course-widget-image" src="data:image/png;base64,[A-Za-z0-9+/]{100}', page)


def test_a_page_shows_figures_and_an_explorer_in_a_browser(site):
    out, pages = site
    candidates = [p for p, info in pages.items() if info["widgets"] and p.parent.name == "notebooks"]
    if not candidates:
        skip_or_fail("no lesson displays an explorer yet")
    path = candidates[0]
    url = (out / path.parent.name / f"{path.stem}.html").as_uri()
    with chromium_page(1200, 900) as page:
        page.goto(url, wait_until="load")
        loaded = page.evaluate("""() => Array.from(document.images)
            .filter(i => i.complete && i.naturalWidth > 50 && i.naturalHeight > 50).length""")
        assert loaded >= 2, f"expected figures on {path.name}, {loaded} images rendered"
        widget = page.locator(".course-static-widget").first
        widget.scroll_into_view_if_needed()
        assert widget.is_visible()
        size = widget.locator("img.course-widget-image").first.evaluate(
            "img => [img.complete, img.naturalWidth, img.naturalHeight]")
        assert size[0] and size[1] > 100 and size[2] > 50, f"the explorer's picture did not render: {size}"
        assert "run this notebook in jupyterlab" in widget.inner_text().lower()
        page.screenshot(path=str(screenshot_path(f"site_{path.stem}.png")))
        page.goto((out / "index.html").as_uri())
        assert page.locator("a[href^='notebooks/']").count() >= 1
