"""A learner's session in a real browser: JupyterLab, Run All, move a slider, see the figure change.

Starts ``jupyter lab`` on 127.0.0.1 (free port, no token) over a temporary copy of one lesson with
its outputs cleared, drives the system Chromium to run all cells, waits for the kernel to go idle,
checks that no cell failed, drags one explorer's slider and checks that the picture changes.
A screenshot is saved in build/screenshots/ (COURSE_SCREENSHOT_DIR to change it).

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

from _browser import (ROOT, free_port, chromium_page, get_json, log_tail, require_browser,
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
    root = tmp / "course"
    (root / "notebooks").mkdir(parents=True)
    nbformat.write(nb, root / "notebooks" / lesson.name)
    return root, code_cells


def lab_settings(tmp: Path) -> Path:
    """User settings for the test server only: all cells in the page, no news or update checks."""
    settings = tmp / "lab-settings"
    files = {
        "@jupyterlab/notebook-extension/tracker.jupyterlab-settings":
            {"windowingMode": "none", "autoStartDefaultKernel": True},
        "@jupyterlab/apputils-extension/notification.jupyterlab-settings":
            {"fetchNews": "false", "checkForUpdates": False},
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


def test_a_lesson_runs_in_jupyterlab_and_an_explorer_responds(tmp_path):
    require_browser()
    lesson = pick_lesson()
    root, code_cells = prepare_root(lesson, tmp_path)
    started = time.perf_counter()
    process, base, log = start_lab(root, tmp_path)
    try:
        with chromium_page(1280, 1000) as page:
            page.goto(f"{base}/lab/tree/notebooks/{lesson.name}", timeout=60_000)
            page.locator(".jp-NotebookPanel .jp-Notebook").first.wait_for(timeout=60_000)
            wait_until(page, lambda: kernel_ready(page, base), 90, "the kernel to start")
            run_all_cells(page, base, code_cells)

            # Save, as a learner would, and read back what JupyterLab wrote: no cell may have failed.
            page.keyboard.press("Control+s")
            saved = wait_until(page, lambda: saved_notebook(base, lesson.name, code_cells), 30,
                               "the notebook to be saved with every cell executed")
            errors = [f"cell {i}: {o.get('ename')}: {o.get('evalue')}"
                      for i, cell in enumerate(saved["cells"]) for o in cell.get("outputs", [])
                      if o.get("output_type") == "error"]
            assert not errors, "cells raised errors in JupyterLab:\n" + "\n".join(errors)

            explorer = page.locator(EXPLORER).first
            explorer.wait_for(timeout=30_000)
            explorer.scroll_into_view_if_needed()
            image = explorer.locator(".widget-image").first
            wait_until(page, lambda: (image.get_attribute("src") or "").startswith(("blob:", "data:")),
                       30, "the explorer's picture")
            readout = explorer.locator(".widget-slider .widget-readout").first
            before_src, before_png = image_state(image)
            before_value = readout.text_content()

            # Drag the first slider's handle with the mouse, as a person would: to the right, or
            # to the left if it already sits at its maximum.
            handle = explorer.locator(".widget-slider .noUi-handle").first
            for dx in (60, -60):
                box = handle.bounding_box()
                assert box, "the slider handle is not visible"
                x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
                page.mouse.move(x, y)
                page.mouse.down()
                page.mouse.move(x + dx, y, steps=6)
                page.mouse.up()
                page.wait_for_timeout(300)
                if readout.text_content() != before_value:
                    break

            wait_until(page, lambda: image.get_attribute("src") != before_src, 30,
                       "the explorer's picture to be redrawn after the slider moved")
            page.wait_for_timeout(500)  # let the last update of the drag arrive
            after_src, after_png = image_state(image)
            assert readout.text_content() != before_value, "the slider's value did not change"
            assert after_png != before_png, "the picture was replaced but looks the same"
            shot = screenshot_path(f"jupyterlab_{lesson.stem}.png")
            page.screenshot(path=str(shot))
            print(f"{lesson.name}: Run All, slider drag and redraw in "
                  f"{time.perf_counter() - started:.1f} s; screenshot {shot}")
    finally:
        stop_process_tree(process)
