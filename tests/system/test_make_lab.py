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

ROOT = Path(__file__).resolve().parents[2]


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
@pytest.mark.parametrize("target, start", [("lab", "notebooks/00_start_here.ipynb"),
                                           ("lab-zh", "zh/notebooks/00_start_here.ipynb")])
def test_make_lab_serves_the_start_notebook(target, start):
    """make lab opens the English start notebook; make lab-zh the Chinese one, with JupyterLab's
    interface in Chinese (the language pack is installed and the locale setting says zh_CN)."""
    port = _free_port()
    args = f"--no-browser --port {port} --ServerApp.ip=127.0.0.1 --IdentityProvider.token="
    overrides = ROOT / ".venv" / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    saved = overrides.read_bytes() if overrides.exists() else None
    process = subprocess.Popen(["make", "-s", target, f"LAB_ARGS={args}"], cwd=ROOT,
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
        assert status == 302 and location.endswith(f"/lab/tree/{start}"), location
        status, _, body = _get(base + "/api/contents")
        names = {item["name"] for item in json.loads(body)["content"]}
        assert {"notebooks", "exercises", "solutions", "course_lib"} <= names
        status, _, body = _get(base + f"/api/contents/{start}")
        assert status == 200 and json.loads(body)["type"] == "notebook"
        status, _, body = _get(base + "/lab/api/settings/@jupyterlab/translation-extension:plugin")
        plugin = json.loads(body)  # overrides.json becomes the schema's default; a user's choice wins
        locale = plugin["settings"].get("locale", plugin["schema"]["properties"]["locale"]["default"])
        assert locale == ("zh_CN" if target == "lab-zh" else "default"), locale
        if target == "lab-zh":
            status, _, body = _get(base + "/lab/api/translations/")
            assert "zh_CN" in json.loads(body)["data"], "the Chinese language pack is not installed"
    finally:
        if saved is not None:  # the next `make lab` would write it back; the browser tests need English
            overrides.write_bytes(saved)
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


# --- what `make` installs ------------------------------------------------------------------------
# `make -n -B env` prints the install command without running it, but it does run the probe of
# PyTorch's CPU index (the probe decides what the command is). So every case here points
# TORCH_CPU_INDEX at a local server (it answers) or at a closed local port (nothing answers):
# the network is never used.

PYTORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"
FALLBACK = "is out of reach"


class _Index:
    """A local HTTP server standing in for PyTorch's CPU index; counts the requests it gets."""

    def __init__(self, status: int = 200):
        import http.server
        import threading

        index = self
        self.requests: list[str] = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                index.requests.append(self.path)
                self.send_response(status)
                self.send_header("Content-Type", "text/html")
                self.end_headers()
                self.wfile.write(b"<html><body><a href='torch/'>torch</a></body></html>")

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/whl/cpu"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def cpu_index():
    index = _Index()
    yield index
    index.close()


def _closed_port_url() -> str:
    return f"http://127.0.0.1:{_free_port()}/whl/cpu"  # bound, then released: nothing listens


def _make_env(*make_args: str, path: str | None = None, extra_env: dict | None = None):
    """What `make env` would do (make -n: print, run nothing; -B: as on a fresh clone)."""
    env = dict(os.environ)
    for name in ("TORCH", "TORCH_CPU_INDEX", "TORCH_PROBE_TIMEOUT", "MAKEFLAGS", "MFLAGS", "MAKELEVEL"):
        # .ci/run exports TORCH=local; `make system TORCH=local` passes it down in MAKEFLAGS, which
        # a make started here would obey: each case here sets its own
        env.pop(name, None)
    for name in ("NO_PROXY", "no_proxy"):  # a proxy must not stand between make and the local server
        env[name] = ",".join(filter(None, ["127.0.0.1,localhost", env.get(name)]))
    env.update(extra_env or {})
    if path is not None:
        env["PATH"] = path
    result = subprocess.run(["make", "-n", "-B", "env", *make_args], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result


def _install_line(*make_args: str, **kwargs) -> str:
    """The pip command `make env` would run."""
    stdout = _make_env(*make_args, **kwargs).stdout
    lines = [line for line in stdout.splitlines() if " -m pip install " in line]
    assert len(lines) == 1, stdout
    return lines[0]


@pytest.mark.parametrize("torch, index", [("cpu", True), ("cuda", False), ("local", False)])
def test_make_installs_the_requested_torch_build(torch, index, cpu_index):
    line = _install_line(f"TORCH={torch}", f"TORCH_CPU_INDEX={cpu_index.url}")
    assert line.startswith(".venv/bin/python -m pip install"), line
    assert "-c constraints.txt" in line and '-e ".[dev]"' in line, line
    assert (f"--extra-index-url {cpu_index.url}" in line) == index, line
    assert "--index-url" not in line.replace("--extra-index-url", ""), \
        "PyPI stays the main index: only torch comes from PyTorch's"
    assert len(cpu_index.requests) == (1 if index else 0), \
        "the CPU index is asked once before the install, and only when the CPU build is wanted"


def test_the_cpu_index_is_pytorchs_by_default():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(rf"^TORCH_CPU_INDEX \?= {re.escape(PYTORCH_CPU_INDEX)}$", makefile, re.MULTILINE)


@pytest.mark.parametrize("unreachable", ["closed port", "HTTP 403"])
def test_an_unreachable_cpu_index_falls_back_to_the_configured_indexes_with_one_line(unreachable):
    """A network that reaches the package index but not PyTorch's: before, pip retried that index
    5 times for every package (25 minutes, silently); now one probe, one line, and the install
    goes on from pip's own indexes."""
    server = _Index(status=403) if unreachable == "HTTP 403" else None
    url = server.url if server else _closed_port_url()
    try:
        result = _make_env("TORCH=cpu", f"TORCH_CPU_INDEX={url}", "TORCH_PROBE_TIMEOUT=3")
    finally:
        if server:
            server.close()
    install = [line for line in result.stdout.splitlines() if " -m pip install " in line]
    assert len(install) == 1 and "index-url" not in install[0], result.stdout
    said = [line for line in (result.stdout + result.stderr).splitlines() if FALLBACK in line]
    assert len(said) == 1, result.stdout + result.stderr
    assert url in said[0] and "configured indexes" in said[0] and "TORCH=local" in said[0], said


def test_pip_settings_choose_the_index_make_never_overrides_them(cpu_index, tmp_path):
    """A mirror set in PIP_INDEX_URL (or pip.conf) is pip's to use: make passes no --index-url,
    no --isolated, and does not touch PIP_* variables."""
    mirror = {"PIP_INDEX_URL": "http://127.0.0.1:9/simple", "PIP_CONFIG_FILE": str(tmp_path / "pip.conf")}
    for torch in ("cpu", "local"):
        line = _install_line(f"TORCH={torch}", f"TORCH_CPU_INDEX={cpu_index.url}", extra_env=mirror)
        assert "--index-url" not in line.replace("--extra-index-url", "") and "--isolated" not in line
        assert "PIP_" not in line and "--config" not in line, line


def test_the_install_shows_its_progress(cpu_index):
    """pip under --quiet printed nothing for the whole install: a learner could not tell a slow
    download from a hang."""
    result = _make_env("TORCH=cpu", f"TORCH_CPU_INDEX={cpu_index.url}")
    line = next(line for line in result.stdout.splitlines() if " -m pip install " in line)
    assert not re.search(r"\s(--quiet|-q+)(\s|$)", line), line
    assert "--progress-bar off" not in line
    assert "installing the course" in result.stdout, "one line says what the long step is"


@pytest.mark.skipif(os.uname().sysname != "Linux", reason="the automatic choice is Linux's")
def test_on_linux_make_picks_the_cpu_build_unless_there_is_an_nvidia_gpu(tmp_path, cpu_index):
    choice = f"TORCH_CPU_INDEX={cpu_index.url}"
    assert f"--extra-index-url {cpu_index.url}" in _install_line(choice, path=_path_without_nvidia_smi())
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "nvidia-smi").write_text("#!/bin/sh\nexit 0\n", encoding="utf-8")
    (fake / "nvidia-smi").chmod(0o755)
    assert "--extra-index-url" not in _install_line(choice, path=_path_without_nvidia_smi(fake))


def _path_without_nvidia_smi(extra: Path | None = None) -> str:
    dirs = [d for d in os.environ.get("PATH", "").split(os.pathsep)
            if d and not (Path(d) / "nvidia-smi").exists()]
    return os.pathsep.join(([str(extra)] if extra else []) + dirs)


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
