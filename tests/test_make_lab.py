"""`make lab` starts JupyterLab on the start notebook, with the whole course browsable."""
import json
import os
import signal
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str):
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(url, timeout=5) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:  # a 302 arrives here when redirects are refused
        return error.code, error.headers, b""


@pytest.mark.skipif(not (ROOT / ".venv" / "bin" / "jupyter").exists(),
                    reason="needs the course environment made by `make`")
def test_make_lab_serves_the_start_notebook():
    port = _free_port()
    args = f"--no-browser --port {port} --ServerApp.ip=127.0.0.1 --IdentityProvider.token="
    process = subprocess.Popen(["make", "-s", "lab", f"LAB_ARGS={args}"], cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if _get(base + "/api/status")[0] == 200:
                    break
            except OSError:
                pass
            assert process.poll() is None, "make lab exited early"
            time.sleep(0.5)
        else:
            pytest.fail("JupyterLab did not answer within 90 s")
        status, headers, _ = _get(base + "/")
        location = urllib.parse.unquote(headers["Location"]).rstrip("?")
        assert status == 302 and location.endswith("/lab/tree/notebooks/00_start_here.ipynb"), location
        status, _, body = _get(base + "/api/contents")
        names = {item["name"] for item in json.loads(body)["content"]}
        assert {"notebooks", "exercises", "solutions", "course_lib"} <= names
        status, _, body = _get(base + "/api/contents/notebooks/00_start_here.ipynb")
        assert status == 200 and json.loads(body)["type"] == "notebook"
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
