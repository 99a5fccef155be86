"""binder/ builds the course environment: on mybinder.org, a BinderHub, or a JupyterHub image made
with repo2docker.

What can be tested here without Docker is what repo2docker does with these files: it runs
``pip install -r binder/requirements.txt`` from the repository root in a fresh Python of the version
in runtime.txt. The slow test does exactly that in a fresh venv (about a minute: the packages come
from the local index / pip's cache) and then runs every import statement of every notebook with the
new interpreter, so a dependency missing from binder/ fails here and not in front of a room.

The pytorch.org CPU index in requirements.txt cannot be reached from a machine without network; pip
skips an unreachable index with a warning (``--retries 0`` keeps that quick) and takes torch from
the other indexes, which is the honest limit of this test.
"""
from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
BINDER = ROOT / "binder"
NOTEBOOKS = sorted(p for folder in ("notebooks", "exercises", "solutions")
                   for p in (ROOT / folder).glob("*.ipynb") if not p.name.endswith(".updated.ipynb"))


def _requirements() -> list[str]:
    lines = (BINDER / "requirements.txt").read_text(encoding="utf-8").splitlines()
    return [line.split("#")[0].strip() for line in lines if line.split("#")[0].strip()]


def _torch_spec(lines) -> str:
    specs = [re.sub(r"\s+", "", line) for line in lines if re.match(r"torch\b", line.strip())]
    assert len(specs) == 1, f"expected one torch line, found {specs}"
    return specs[0]


def test_binder_folder_has_what_repo2docker_reads():
    requirements = _requirements()
    assert "." in requirements or "-e ." in requirements, (
        "binder/requirements.txt must install the course itself ('.'): "
        "repo2docker ignores pyproject.toml when binder/ exists")
    constraints = [line.split("#")[0].strip() for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines()]
    assert _torch_spec(requirements) == _torch_spec([c for c in constraints if c]), \
        "binder/ and constraints.txt should admit the same torch releases"
    for package in ("ipywidgets", "jupyterlab_widgets"):  # held back for the live slides (RISE)
        pins = [re.sub(r"\s+", "", line) for line in constraints if line.startswith(package + "<")
                or line.startswith(package + ">")]
        assert pins and all(pin in [re.sub(r"\s+", "", r) for r in requirements] for pin in pins), \
            f"binder/requirements.txt should hold {package} where constraints.txt does: {pins}"
    postbuild = BINDER / "postBuild"
    assert postbuild.exists() and os.access(postbuild, os.X_OK), "repo2docker runs binder/postBuild"
    assert "overrides.json" in postbuild.read_text(encoding="utf-8")
    runtime = (BINDER / "runtime.txt").read_text(encoding="utf-8").strip()
    assert re.fullmatch(r"python-3\.\d+", runtime), runtime
    minor = int(runtime.split(".")[1])
    requires = re.search(r'requires-python\s*=\s*">=3\.(\d+)"', (ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert requires and minor >= int(requires.group(1)), "runtime.txt must satisfy requires-python"


def notebook_imports(paths) -> list[str]:
    """Every top-level import statement in the notebooks' code cells, as source lines."""
    found: dict[str, None] = {}
    for path in paths:
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type != "code":
                continue
            source = "\n".join(line for line in cell.source.splitlines()
                               if not line.lstrip().startswith(("%", "!")))
            try:
                tree = ast.parse(source)
            except SyntaxError:
                continue
            for node in ast.walk(tree):
                if isinstance(node, (ast.Import, ast.ImportFrom)) and not getattr(node, "level", 0):
                    found[ast.unparse(node)] = None
    return list(found)


def test_notebook_imports_are_found():
    imports = notebook_imports(NOTEBOOKS)
    assert any("course_lib" in line for line in imports), imports


def _copy_project(target: Path) -> Path:
    """What repo2docker copies, minus the bulky or irrelevant parts (the venv, outputs)."""
    target.mkdir(parents=True)
    for name in ("pyproject.toml", "README.md", "constraints.txt", "LICENSE"):
        if (ROOT / name).exists():
            shutil.copy2(ROOT / name, target / name)
    for folder in ("course_lib", "binder"):
        shutil.copytree(ROOT / folder, target / folder,
                        ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    return target


def test_binder_requirements_install_into_a_fresh_venv_and_the_lessons_import(tmp_path):
    project = _copy_project(tmp_path / "repo")
    venv = tmp_path / "venv"
    python = venv / "bin" / "python"
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--retries", "0", "--timeout", "15",
         "-r", "binder/requirements.txt"],
        cwd=project, capture_output=True, text=True, timeout=900)
    assert install.returncode == 0, install.stdout[-3000:] + install.stderr[-3000:]
    installed = time.perf_counter() - start

    imports = notebook_imports(NOTEBOOKS) + [
        "import course_lib", "import course_lib.widgets", "import course_lib.checks",
        "import jupyterlab", "import ipywidgets", "import ipykernel", "import nbgitpuller",
        "import jupyterlab_rise"]
    script = "\n".join(imports) + "\n" + "\n".join([
        "import json, importlib.metadata as md, torch",
        "names = sorted(d.metadata['Name'].lower() for d in md.distributions())",
        "print(json.dumps({'torch': torch.__version__, 'cuda': torch.version.cuda,",
        "                  'nvidia': [n for n in names if n.startswith('nvidia')],",
        "                  'explorers': sorted(course_lib.widgets.EXPLORERS)}))",
    ])
    env = {"MPLBACKEND": "Agg", "HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    result = subprocess.run([str(python), "-c", script], cwd=tmp_path, capture_output=True,
                            text=True, timeout=300, env=env)
    assert result.returncode == 0, f"imports failed in the binder environment:\n{result.stderr[-3000:]}"
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["nvidia"] == [], f"the binder environment pulled CUDA packages: {report['nvidia']}"
    assert report["explorers"], "no explorer registered"
    build = subprocess.run(["bash", str(project / "binder" / "postBuild")], cwd=project,
                           env={**env, "PATH": f"{venv / 'bin'}:/usr/bin:/bin"}, capture_output=True,
                           text=True, timeout=120)
    assert build.returncode == 0, build.stderr
    installed_settings = venv / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    assert json.loads(installed_settings.read_text(encoding="utf-8")) == json.loads(
        (BINDER / "overrides.json").read_text(encoding="utf-8"))
    lab = subprocess.run([str(venv / "bin" / "jupyter"), "lab", "--version"], capture_output=True,
                         text=True, timeout=120)
    assert lab.returncode == 0 and lab.stdout.strip()[0] == "4", lab.stdout + lab.stderr
    print(f"binder environment installed in {installed:.0f} s; torch {report['torch']}; "
          f"{len(imports)} import lines ran")
