"""`make lab` starts JupyterLab on the start notebook, with the whole course browsable."""
from __future__ import annotations

import json
import re
import sys
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


# --- what `make` installs ------------------------------------------------------------------------

CPU_INDEX = "--extra-index-url https://download.pytorch.org/whl/cpu"


def _install_line(*make_args: str, path: str | None = None) -> str:
    """The pip command `make env` would run (make -n: print, run nothing; -B: as on a fresh clone)."""
    env = dict(os.environ)
    env.pop("TORCH", None)  # .ci/run exports TORCH=local; each case here sets its own
    if path is not None:
        env["PATH"] = path
    result = subprocess.run(["make", "-n", "-B", "env", *make_args], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if " -m pip install " in line]
    assert len(lines) == 1, result.stdout
    return lines[0]


def _path_without_nvidia_smi(extra: Path | None = None) -> str:
    dirs = [d for d in os.environ.get("PATH", "").split(os.pathsep)
            if d and not (Path(d) / "nvidia-smi").exists()]
    return os.pathsep.join(([str(extra)] if extra else []) + dirs)


@pytest.mark.parametrize("torch, index", [("cpu", True), ("cuda", False), ("local", False)])
def test_make_installs_the_requested_torch_build(torch, index):
    line = _install_line(f"TORCH={torch}")
    assert line.startswith(".venv/bin/python -m pip install"), line
    assert "-c constraints.txt" in line and '-e ".[dev]"' in line, line
    assert (CPU_INDEX in line) == index, line
    assert "--index-url" not in line.replace("--extra-index-url", ""), \
        "PyPI stays the main index: only torch comes from PyTorch's"


@pytest.mark.skipif(os.uname().sysname != "Linux", reason="the automatic choice is Linux's")
def test_on_linux_make_picks_the_cpu_build_unless_there_is_an_nvidia_gpu(tmp_path):
    assert CPU_INDEX in _install_line(path=_path_without_nvidia_smi())
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "nvidia-smi").write_text("#!/bin/sh\nexit 0\n", encoding="utf-8")
    (fake / "nvidia-smi").chmod(0o755)
    assert CPU_INDEX not in _install_line(path=_path_without_nvidia_smi(fake))


def test_an_unknown_torch_choice_is_refused_with_the_choices():
    result = subprocess.run(["make", "-n", "env", "TORCH=gpu"], cwd=ROOT, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode != 0 and "use cpu, cuda, local or auto" in result.stderr


def test_ci_installs_from_the_configured_indexes():
    """CI's machines reach only their own package mirror, not PyTorch's index."""
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert re.search(r"^export TORCH=local$", script, re.MULTILINE), script


def test_make_installs_the_course_jupyterlab_settings():
    result = subprocess.run(["make", "-n", "-B", "env", "TORCH=local"], cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert "cp binder/overrides.json .venv/share/jupyter/lab/settings/overrides.json" in result.stdout


def test_the_shipped_jupyterlab_settings_exist_in_the_installed_schemas():
    """Every plugin and setting in overrides.json is one JupyterLab knows (a typo is silently
    ignored by JupyterLab, so it must fail here)."""
    overrides = json.loads((ROOT / "binder" / "overrides.json").read_text(encoding="utf-8"))
    schema_roots = [Path(sys.prefix) / "share" / "jupyter" / "lab" / "schemas",
                    *(Path(sys.prefix) / "share" / "jupyter" / "labextensions").glob("**/schemas")]
    for plugin, values in overrides.items():
        package, name = plugin.split(":")
        found = [root / package / f"{name}.json" for root in schema_roots
                 if (root / package / f"{name}.json").exists()]
        assert found, f"no schema for {plugin} in this JupyterLab"
        properties = json.loads(found[0].read_text(encoding="utf-8"))["properties"]
        for key, value in values.items():
            assert key in properties, f"{plugin} has no setting {key!r}"
    assert overrides["@jupyter-widgets/jupyterlab-manager:plugin"]["saveState"] is True
    notification = overrides["@jupyterlab/apputils-extension:notification"]
    assert notification["fetchNews"] == "false" and notification["checkForUpdates"] is False
