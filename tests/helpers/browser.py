"""Shared set-up for the tests that drive a real browser (Debian's Chromium through Playwright).

The tests never download a browser: they use the system Chromium (``/usr/bin/chromium``, from
``apt-get install chromium``; another path can be given in ``COURSE_CHROMIUM``). Without it they
are skipped, unless ``COURSE_REQUIRE_BROWSER=1`` is set (CI sets it), which turns the skip into a
failure so that a missing browser can never make a green run that tested nothing.
"""
from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("COURSE_CHROMIUM", "/usr/bin/chromium"))
REQUIRED = os.environ.get("COURSE_REQUIRE_BROWSER", "") not in ("", "0")
SCREENSHOTS = Path(os.environ.get("COURSE_SCREENSHOT_DIR", ROOT / "build" / "screenshots"))

# Headless, and nothing that reaches the network: no sync, updates, field trials or QUIC probes.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]


def skip_or_fail(reason: str):
    """Skip the test, or fail it when a browser test is required (COURSE_REQUIRE_BROWSER=1)."""
    if REQUIRED:
        pytest.fail(f"browser test required (COURSE_REQUIRE_BROWSER=1) but: {reason}")
    pytest.skip(reason)


def require_browser():
    """Return playwright's sync_playwright if Chromium and Playwright are available."""
    if not CHROMIUM.exists():
        skip_or_fail(f"{CHROMIUM} not found (install it: apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        skip_or_fail("the playwright package is not installed (pip install -e '.[dev]')")
    return sync_playwright


@contextlib.contextmanager
def chromium_page(width: int = 1280, height: int = 900):
    """A fresh headless Chromium (empty profile in a temporary folder) and one page."""
    sync_playwright = require_browser()
    with sync_playwright() as playwright, tempfile.TemporaryDirectory(prefix="course-chromium-") as profile:
        context = playwright.chromium.launch_persistent_context(
            profile, executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS,
            viewport={"width": width, "height": height})
        try:
            page = context.pages[0] if context.pages else context.new_page()
            page.set_default_timeout(30_000)
            yield page
        finally:
            context.close()


def block_network(page, attempted: list) -> None:
    """Refuse every request of ``page`` that is not a local file or inline data, and note its URL
    in ``attempted``: a page that works like this works offline."""
    def route(request_route):
        if request_route.request.url.startswith(("file:", "data:")):
            request_route.continue_()
        else:
            attempted.append(request_route.request.url)
            request_route.abort()

    page.route("**/*", route)


def screenshot_path(name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS / name


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def log_tail(log: Path | None, chars: int = 4000) -> str:
    """The end of a server's log, for a failure message."""
    if not log or not log.exists():
        return "(no log)"
    return log.read_text(encoding="utf-8", errors="replace")[-chars:]


def get_json(url: str, timeout: float = 10):
    """GET ``url`` and decode its JSON; None for any answer that is not (yet) a good one.

    A poll must read a transient answer as "not yet": a server that is starting, saving a file or
    busy with a kernel can answer 4xx/5xx, reset the connection or send half a body. The caller's
    deadline decides when "not yet" becomes a failure.
    """
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            if response.status != 200:
                return None
            return json.loads(response.read())
    except (OSError, ValueError, urllib.error.URLError):  # HTTPError is a URLError (an OSError)
        return None


def wait_for_http(url: str, process: subprocess.Popen, timeout: float, log: Path | None = None):
    """Poll ``url`` until it answers 200 with JSON; fail with the server's log if the process
    exits or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if get_json(url, timeout=5) is not None:
            return
        if process.poll() is not None:
            pytest.fail(f"the server exited early (code {process.returncode}):\n{log_tail(log)}")
        time.sleep(0.5)
    pytest.fail(f"{url} did not answer within {timeout:.0f} s; server log:\n{log_tail(log)}")


def stop_process_tree(process: subprocess.Popen, timeout: float = 20.0):
    """Stop a server we started and every process it started (kernels), by their ids."""
    import psutil  # comes with ipykernel

    try:
        children = psutil.Process(process.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        children = []
    process.terminate()  # the server shuts its kernels down on SIGTERM
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=timeout)
    for child in children:
        with contextlib.suppress(psutil.NoSuchProcess):
            child.kill()
