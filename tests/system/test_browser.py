"""A learner's session in a real browser: JupyterLab, Run All, move a slider, see the figure change;
and an instructor's: the same lesson as live slides (RISE), an explorer moved on a slide.

Starts ``jupyter lab`` on 127.0.0.1 (free port, no token) over a temporary copy of one lesson with
its outputs cleared, drives the system Chromium to run all cells, waits for the kernel to go idle,
checks that no cell failed, drags one explorer's slider and checks that the picture changes.
With the course's JupyterLab settings (binder/overrides.json, installed by `make`) the saved
notebook keeps its widget state, so the static site shows the explorer's picture, and no label
of the explorer is cut. The slides test gives the copy its slide metadata (tools/slides.py), runs
it, opens it in RISE at the explorer's slide and moves the explorer there.
Screenshots are saved in build/screenshots/ (COURSE_SCREENSHOT_DIR to change it).

The lesson is the first notebook in course order that offers an explorer (a slider and an image
in its stored widget state), or COURSE_BROWSER_NOTEBOOK=notebooks/NN_topic.ipynb.
Skipped without /usr/bin/chromium; with COURSE_REQUIRE_BROWSER=1 (CI) that skip is a failure.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

import build_site
import execute
import slides
from helpers.browser import (ROOT, free_port, chromium_page, get_json, log_tail, require_browser,
                      screenshot_path, skip_or_fail, stop_process_tree, wait_for_http)

WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
# Seconds for Run All: a lesson runs in < 60 s on 2 cores; JupyterLab adds rendering.
RUN_ALL_TIMEOUT = float(os.environ.get("COURSE_RUN_ALL_TIMEOUT", 240))


def has_explorer(nb) -> bool:
    models = nb.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {}).values()
    names = {m.get("model_name", "") for m in models}
    return "ImageModel" in names and any(n.endswith("SliderModel") for n in names)


def pick_lesson() -> Path:
    chosen = os.environ.get("COURSE_BROWSER_NOTEBOOK")
    if chosen:
        return (ROOT / chosen).resolve()
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        if has_explorer(nbformat.read(path, as_version=4)):
            return path
    skip_or_fail("no lesson in notebooks/ displays an explorer (slider + image) in its stored outputs")


def prepare_root(lesson: Path, tmp: Path) -> tuple[Path, int]:
    """Copy the lesson, outputs cleared, into <tmp>/course/notebooks/. Returns (root, code cells)."""
    nb = nbformat.read(lesson, as_version=4)
    code_cells = 0
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
            code_cells += bool(cell.source.strip())
    nb.metadata.pop("widgets", None)
    # As tools/execute.py stores it (the lead re-executes every notebook with it).
    nb.metadata["kernelspec"] = execute.kernelspec_metadata()
    root = tmp / "course"
    (root / "notebooks").mkdir(parents=True)
    nbformat.write(nb, root / "notebooks" / lesson.name)
    return root, code_cells


def lab_settings(tmp: Path) -> Path:
    """User settings for the test server only: all cells in the page (so that the test can find
    them) and the default kernel without asking. News, update checks and widget state come from
    the course's own settings (binder/overrides.json in the environment), which are under test."""
    settings = tmp / "lab-settings"
    files = {
        "@jupyterlab/notebook-extension/tracker.jupyterlab-settings":
            {"windowingMode": "none", "autoStartDefaultKernel": True},
    }
    for name, content in files.items():
        path = settings / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(content), encoding="utf-8")
    return settings


def start_lab(root: Path, tmp: Path) -> tuple[subprocess.Popen, str, Path]:
    port = free_port()
    env = dict(os.environ)
    env.pop("MPLBACKEND", None)  # the kernel should behave as for a learner (inline figures)
    env.update(JUPYTERLAB_SETTINGS_DIR=str(lab_settings(tmp)),
               JUPYTERLAB_WORKSPACES_DIR=str(tmp / "lab-workspaces"),
               JUPYTER_RUNTIME_DIR=str(tmp / "jupyter-runtime"),
               JUPYTER_CONFIG_DIR=str(tmp / "jupyter-config"),
               IPYTHONDIR=str(tmp / "ipython"))
    args = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
            "--IdentityProvider.token=", "--ServerApp.password=",
            f"--ServerApp.root_dir={root}", "--LabApp.news_url=None"]
    if hasattr(os, "getuid") and os.getuid() == 0:
        args.append("--allow-root")
    log = tmp / "jupyterlab.log"
    with log.open("w", encoding="utf-8") as handle:
        process = subprocess.Popen(args, cwd=root, env=env, stdout=handle, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(base + "/api/status", process, timeout=90, log=log)
    except BaseException:
        stop_process_tree(process)
        raise
    return process, base, log


# --- in the page -------------------------------------------------------------------------------

PROMPTS_JS = """() => Array.from(document.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputPrompt'))
                  .map(p => p.textContent.trim())"""
STATUS_JS = """() => { const s = document.querySelector('.jp-NotebookPanel .jp-Notebook-ExecutionIndicator');
                       return s ? s.getAttribute('data-status') : null; }"""
# The explorer: an output holding an ipywidgets slider and an image.
EXPLORER = ".jp-OutputArea-output:has(.widget-slider):has(.widget-image)"


def wait_until(page, predicate, timeout: float, what: str, poll: float = 0.5, log: Path | None = None):
    """Poll ``predicate`` until it returns something true; on time-out fail with a screenshot,
    the page's state and the end of the server's log."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        page.wait_for_timeout(poll * 1000)
    shot = screenshot_path("jupyterlab_timeout.png")
    page.screenshot(path=str(shot))
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}; kernel status "
                f"{page.evaluate(STATUS_JS)!r}, prompts {page.evaluate(PROMPTS_JS)}; screenshot {shot}"
                f"\nserver log:\n{log_tail(log)}")


def server_kernel_states(base: str) -> list[str] | None:
    """Execution states of the server's kernels as the server knows them (None: no answer yet)."""
    kernels = get_json(base + "/api/kernels", timeout=5)
    return None if kernels is None else [k.get("execution_state") for k in kernels]


def saved_notebook(base: str, name: str, code_cells: int):
    """The notebook as saved on the server, once every code cell in it has an execution count
    (None until then, or while the server answers anything but the saved notebook)."""
    model = get_json(f"{base}/api/contents/notebooks/{name}?content=1", timeout=10)
    if not model or not isinstance(model.get("content"), dict):
        return None
    nb = model["content"]
    counted = [c for c in nb["cells"] if c["cell_type"] == "code" and c.get("execution_count")]
    return nb if len(counted) >= code_cells else None


def kernel_ready(page, base: str) -> bool:
    """True once a kernel runs and is idle; answers a "Select Kernel" dialog as a learner would.

    (The page reports "idle" before any kernel exists, so the server is asked too.)
    """
    select = page.locator(".jp-Dialog .jp-Dialog-button.jp-mod-accept")
    if select.count():
        select.first.click()
        return False
    return server_kernel_states(base) == ["idle"] and page.evaluate(STATUS_JS) == "idle"


def run_all_cells(page, base: str, code_cells: int, log: Path | None = None):
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.locator(".lm-Menu-itemLabel").filter(has_text=re.compile(r"^Run All Cells$")).first.click()

    def finished():
        prompts = page.evaluate(PROMPTS_JS)
        numbered = [p for p in prompts if p[1:-2].strip().isdigit()]
        return (len(numbered) >= code_cells and not any("*" in p for p in prompts)
                and page.evaluate(STATUS_JS) == "idle" and server_kernel_states(base) == ["idle"])

    # Give the kernel a moment to report busy before polling for idle.
    page.wait_for_timeout(1000)
    wait_until(page, finished, RUN_ALL_TIMEOUT, "all cells to run and the kernel to go idle", log=log)


def image_state(image):
    return image.get_attribute("src"), image.screenshot()


def open_and_run(page, base: str, lesson: Path, code_cells: int, log: Path) -> dict:
    """Open the lesson in JupyterLab, Run All, save as a learner would; return the saved notebook
    (asserting that no cell failed)."""
    page.goto(f"{base}/lab/tree/notebooks/{lesson.name}", timeout=60_000)
    page.locator(".jp-NotebookPanel .jp-Notebook").first.wait_for(timeout=60_000)
    wait_until(page, lambda: kernel_ready(page, base), 90, "the kernel to start", log=log)
    page.wait_for_timeout(1000)  # JupyterLab rewrites metadata it disagrees with once connected
    dirty = page.evaluate("() => document.querySelectorAll('.lm-TabBar-tab.jp-mod-dirty').length")
    assert dirty == 0, "the notebook shows as modified as soon as it opens (stored kernelspec?)"
    run_all_cells(page, base, code_cells, log)
    attempts = []

    def save_and_read():
        """Save as a learner would (Ctrl+S in the notebook); again every few seconds until the
        server has it: a key press that arrives while JupyterLab is busy can be lost."""
        if not attempts or time.monotonic() - attempts[-1] > 5:
            page.locator(".jp-NotebookPanel .jp-Notebook").first.focus()
            page.keyboard.press("Control+s")
            attempts.append(time.monotonic())
        return saved_notebook(base, lesson.name, code_cells)

    saved = wait_until(page, save_and_read, 60, "the notebook to be saved with every cell executed",
                       log=log)
    errors = [f"cell {i}: {o.get('ename')}: {o.get('evalue')}"
              for i, cell in enumerate(saved["cells"]) for o in cell.get("outputs", [])
              if o.get("output_type") == "error"]
    assert not errors, "cells raised errors in JupyterLab:\n" + "\n".join(errors)
    return saved


def drag_and_see_the_picture_change(page, explorer, log: Path, what: str):
    """Drag the explorer's first slider with the mouse, as a person would (to the right, or to the
    left if it sits at its maximum); the value and the picture must change."""
    explorer.wait_for(timeout=30_000)
    explorer.scroll_into_view_if_needed()
    image = explorer.locator(".widget-image").first
    wait_until(page, lambda: (image.get_attribute("src") or "").startswith(("blob:", "data:")),
               30, f"the explorer's picture ({what})", log=log)
    readout = explorer.locator(".widget-slider .widget-readout").first
    before_src, before_png = image_state(image)
    before_value = readout.text_content()
    handle = explorer.locator(".widget-slider .noUi-handle").first
    for dx in (60, -60):
        box = handle.bounding_box()
        assert box, f"the slider handle is not visible ({what})"
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        page.mouse.move(x, y)
        page.mouse.down()
        page.mouse.move(x + dx, y, steps=6)
        page.mouse.up()
        page.wait_for_timeout(300)
        if readout.text_content() != before_value:
            break
    wait_until(page, lambda: image.get_attribute("src") != before_src, 30,
               f"the explorer's picture to be redrawn after the slider moved ({what})", log=log)
    page.wait_for_timeout(500)  # let the last update of the drag arrive
    _, after_png = image_state(image)
    assert readout.text_content() != before_value, f"the slider's value did not change ({what})"
    assert after_png != before_png, f"the picture was replaced but looks the same ({what})"


CUT_LABELS_JS = """explorer => Array.from(explorer.querySelectorAll('.widget-label'))
    .filter(l => l.textContent.trim() && l.scrollWidth > l.clientWidth + 1)
    .map(l => l.textContent.trim())"""


def lab_setting(base: str, plugin: str) -> dict:
    """A plugin's settings as JupyterLab applies them: the schema's defaults (which overrides.json
    replaces, server side), then the user's own settings."""
    found = get_json(f"{base}/lab/api/settings/{plugin}", timeout=10) or {}
    properties = found.get("schema", {}).get("properties", {})
    values = {key: spec.get("default") for key, spec in properties.items()}
    values.update(found.get("settings") or {})
    return values


def test_a_lesson_runs_in_jupyterlab_and_an_explorer_responds(tmp_path):
    require_browser()
    overrides = Path(sys.prefix) / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    assert overrides.exists(), f"{overrides} is missing: `make env` installs the course's settings"
    lesson = pick_lesson()
    root, code_cells = prepare_root(lesson, tmp_path)
    started = time.perf_counter()
    process, base, log = start_lab(root, tmp_path)
    try:
        # The course's settings are in force: no news, no update checks, widget state saved.
        notification = lab_setting(base, "@jupyterlab/apputils-extension:notification")
        assert notification.get("fetchNews") == "false" and notification.get("checkForUpdates") is False, \
            notification
        assert lab_setting(base, "@jupyter-widgets/jupyterlab-manager:plugin").get("saveState") is True

        with chromium_page(1280, 1000) as page:
            saved = open_and_run(page, base, lesson, code_cells, log)
            explorer = page.locator(EXPLORER).first
            drag_and_see_the_picture_change(page, explorer, log, "JupyterLab")
            cut = explorer.evaluate(CUT_LABELS_JS)
            assert not cut, f"labels cut short in the explorer: {cut}"
            shot = screenshot_path(f"jupyterlab_{lesson.stem}.png")
            page.screenshot(path=str(shot))
            print(f"{lesson.name}: Run All, slider drag and redraw in "
                  f"{time.perf_counter() - started:.1f} s; screenshot {shot}")
    finally:
        stop_process_tree(process)

    # What the learner saved keeps the explorer's state: the static site shows its picture, not
    # "VBox(children=...".
    nb = nbformat.from_dict(saved)
    assert nb.metadata.get("widgets", {}).get(build_site.WIDGET_STATE, {}).get("state"), \
        "JupyterLab saved the notebook without its widget state"
    assert build_site.render_widgets(nb) >= 1
    shown = [o["data"]["text/html"] for c in nb.cells for o in c.get("outputs", [])
             if "course-static-widget" in o.get("data", {}).get("text/html", "")]
    assert shown and all("course-widget-image" in h and "not saved" not in h for h in shown[:1])
    assert not any("VBox(" in h for h in shown)


def test_a_lesson_runs_as_live_slides_and_an_explorer_moves_on_a_slide(tmp_path):
    """RISE (jupyterlab-rise) presents the running notebook: the explorer is live on its slide."""
    require_browser()
    lesson = pick_lesson()
    root, code_cells = prepare_root(lesson, tmp_path)
    copy = root / "notebooks" / lesson.name
    nb = nbformat.read(copy, as_version=4)
    slides.assign(nb)
    nbformat.write(nb, copy)
    explorer_cell = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code"
                         and "NBVAL_IGNORE_OUTPUT" in c.source and "EXPLORERS" in c.source)
    process, base, log = start_lab(root, tmp_path)
    try:
        with chromium_page(1280, 800) as page:
            open_and_run(page, base, lesson, code_cells, log)
            # What View > "Open as Reveal Slideshow" opens (the address RISE builds from the notebook
            # and the active cell), at the explorer's slide; the slides share the notebook's
            # running kernel, so the explorer answers.
            page.goto(f"{base}/rise/notebooks/{lesson.name}?activeCellIndex={explorer_cell}",
                      timeout=60_000)
            page.locator(".reveal .slides section.present").first.wait_for(timeout=60_000)
            explorer = page.locator(f".reveal section.present {EXPLORER}").first
            drag_and_see_the_picture_change(page, explorer, log, "RISE slides")
            shot = screenshot_path(f"rise_{lesson.stem}.png")
            page.screenshot(path=str(shot))
    finally:
        stop_process_tree(process)
