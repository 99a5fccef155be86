"""The shape of the code (issue 19), beside the import-linter contracts of pyproject.toml (`make
architecture`): what a newcomer can rely on when walking course_lib/ and tools/, and tests/ mirroring
course_lib's wings.

- no name starting with ``_`` is imported from another module, and no module file is private: a
  helper several files need is public, with a docstring, in the lowest module that makes sense;
- every module of course_lib says in the first lines of its docstring which lesson(s) teach it;
- no import cycles, also none hidden in an import inside a function;
- every test file sits in a folder that gives it its group (unit, system or claims), every wing
  of course_lib has its folder of tests, and every test file the course's text names exists.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import grimp
import pytest

from helpers.layout import GROUP_OF_FOLDER, TESTS, group_of

ROOT = TESTS.parent
PACKAGE = ROOT / "course_lib"
TOOLS = ROOT / "tools"


def module_name(path: Path) -> str:
    """course_lib/attention/core.py -> course_lib.attention.core; tools/execute.py -> execute
    (the tools import each other by their file names: they run with tools/ on the path)."""
    if path.parent == TOOLS:
        return path.stem
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def sources() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py")) + sorted(TOOLS.glob("*.py"))


OURS = {module_name(path): path for path in sources()}


def is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def imports(path: Path):
    """(imported module, imported name or None, the name it is bound to, line) for every import
    in a file, at any depth (an import inside a function is an import too); relative imports
    resolved."""
    here = module_name(path)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, None, alias.asname or alias.name.split(".")[0], node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - (node.level - 1)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module
            for alias in node.names:
                yield source, alias.name, alias.asname or alias.name, node.lineno


def private_imports() -> list[str]:
    """Every place a file takes a ``_name`` from another module of ours: ``from x import _y``,
    ``import x._y`` (a private module), and ``x._y`` on a module ``x`` the file imported."""
    found = []
    for path in sources():
        here = module_name(path)
        where = path.relative_to(ROOT)
        modules_bound = {}  # the names under which this file holds one of our modules
        for source, name, bound, line in imports(path):
            top = source.split(".")[0]
            if top not in {"course_lib"} | {m for m in OURS if "." not in m}:
                continue  # another project's private names are that project's business
            if any(is_private(part) for part in source.split(".")):
                found.append(f"{where}:{line}: imports the private module {source}")
            if name is not None and is_private(name) and source != here:
                found.append(f"{where}:{line}: from {source} import {name}")
            if name is None:
                modules_bound[bound] = source if bound != source.split(".")[0] else bound
            elif f"{source}.{name}" in OURS:
                modules_bound[bound] = f"{source}.{name}"
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and is_private(node.attr):
                chain, value = [node.attr], node.value
                while isinstance(value, ast.Attribute):
                    chain.insert(0, value.attr)
                    value = value.value
                if isinstance(value, ast.Name) and value.id in modules_bound and value.id != "self":
                    found.append(f"{where}:{node.lineno}: {value.id}.{'.'.join(chain)} "
                                 f"(a private name of {modules_bound[value.id]})")
    return found


def test_no_private_name_is_imported_from_another_module():
    found = list(dict.fromkeys(private_imports()))  # `from x._y import a, b`: once
    assert not found, ("a name starting with _ is private to its module; make it public (no "
                       "underscore, a docstring) in the lowest module that makes sense:\n"
                       + "\n".join(found))


def test_no_module_file_is_private():
    private = [str(p.relative_to(ROOT)) for p in sources() if is_private(p.stem)]
    assert not private, f"private module files (give each a public name and a docstring): {private}"


# "lesson 04", "Lesson 03's", "lessons 05-06", "the lessons (00-06)", "every lesson", "all lessons"
LESSON = re.compile(r"\blessons?\s*\(?\d|\bevery lesson|\ball (?:the )?lessons", re.IGNORECASE)


def modules_not_naming_their_lesson() -> list[str]:
    missing = []
    for path in sorted(PACKAGE.rglob("*.py")):
        docstring = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
        if not LESSON.search("\n".join(docstring.splitlines()[:3])):
            first = docstring.splitlines()[0] if docstring else "(no docstring)"
            missing.append(f"{path.relative_to(ROOT)}: {first}")
    return missing


def test_every_module_names_the_lessons_that_teach_it():
    missing = modules_not_naming_their_lesson()
    assert not missing, ("the first three lines of a module's docstring name the lesson(s) that "
                         "teach it (\"lesson 04\", \"lessons 05-06\", \"every lesson\"):\n"
                         + "\n".join(missing))


def cycles(graph: grimp.ImportGraph) -> list[str]:
    """Each import cycle once, as the chain of imports that closes it."""
    seen, found = set(), []
    for importer in sorted(graph.modules):
        for imported in sorted(graph.find_modules_directly_imported_by(importer)):
            back = graph.find_shortest_chain(importer=imported, imported=importer)
            if back and frozenset(back) not in seen:
                seen.add(frozenset(back))
                found.append(" -> ".join((importer,) + tuple(back)))
    return found


def tools_graph() -> grimp.ImportGraph:
    """The tools import each other by file name (they are scripts, not a package, so grimp cannot
    build their graph itself): their imports of one another, read from the files."""
    graph = grimp.ImportGraph()
    tools = {module_name(path): path for path in TOOLS.glob("*.py")}
    for name, path in tools.items():
        graph.add_module(name)
        for source, _, _, line in imports(path):
            if source in tools and source != name:
                graph.add_import(importer=name, imported=source, line_number=line, line_contents="")
    return graph


def test_no_import_cycles():
    found = cycles(grimp.build_graph("course_lib", cache_dir=None)) + cycles(tools_graph())
    assert not found, ("import cycles (an import inside a function still closes one; move what "
                       "both sides need below them):\n" + "\n".join(found))


# ---- tests/ mirrors the wings --------------------------------------------------------------
def test_every_test_file_sits_in_a_group_folder():
    astray = [str(p.relative_to(ROOT)) for p in sorted(TESTS.rglob("test_*.py"))
              if "__pycache__" not in p.parts and group_of(p) is None]
    assert not astray, (f"test files outside the folders {sorted(GROUP_OF_FOLDER)} of tests/ get no "
                        f"marker, so make unit, system and claims never run them: {astray}")


def test_every_wing_has_its_folder_of_tests():
    wings = sorted(p.parent.name for p in PACKAGE.glob("*/__init__.py"))
    without = [w for w in wings if w not in GROUP_OF_FOLDER or not list((TESTS / w).glob("test_*.py"))]
    assert not without, f"wings of course_lib without tests/<wing>/test_*.py: {without}"


# A test file named in the course's text: `tests/claims/test_lesson06_claims.py`, `tests/claims/
# test_lesson05_*_claims.py` (a glob). A test moved, renamed or merged from an older branch must
# not leave the text pointing at nothing.
TEST_PATH = re.compile(r"(?<![\w/])tests/[\w/*.-]+\.py")
TEXT_FOLDERS = ("course_lib", "course_room", "tools", "tests", "docs", "benchmarks", "binder",
                "notebooks", "solutions", "exercises", "zh", "i18n", ".ci")
TEXT_FILES = ("README.md", "CONTRIBUTING.md", "Makefile", "pyproject.toml", "constraints.txt")
TEXT_SUFFIXES = {".py", ".md", ".ipynb", ".po", ".txt", ".toml", ".json", ".yml", ".yaml", ""}


def test_every_test_file_the_course_names_exists():
    texts = [ROOT / name for name in TEXT_FILES]
    for folder in TEXT_FOLDERS:
        texts += [p for p in sorted((ROOT / folder).rglob("*")) if p.is_file()
                  and p.suffix in TEXT_SUFFIXES and "__pycache__" not in p.parts]
    missing = []
    for path in texts:
        for line_number, line in enumerate(path.read_text(encoding="utf-8", errors="replace")
                                           .splitlines(), 1):
            for named in TEST_PATH.findall(line):
                if not any(ROOT.glob(named)):
                    missing.append(f"{path.relative_to(ROOT)}:{line_number}: {named}")
    assert not missing, "test files named but not there (moved? renamed?):\n" + "\n".join(missing)


@pytest.mark.parametrize("path, group", [
    ("basics/test_threads.py", "unit"), ("system/test_hub.py", "system"),
    ("claims/test_lesson06_claims.py", "claims"), ("test_stray.py", None),
    ("helpers/test_stray.py", None), ("widgets/deeper/test_stray.py", None)])
def test_a_test_files_folder_gives_its_group(path, group):
    assert group_of(TESTS / path) == group


def test_every_data_file_of_course_lib_is_installed_with_it():
    """A file course_lib reads (a stored sweep) must match pyproject's package-data, or a normal
    install (Binder's `pip install .`) ships without it while editable installs never notice."""
    import fnmatch
    import tomllib

    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    patterns = patterns.get("course_lib", [])
    package = ROOT / "course_lib"
    data = [p.relative_to(package).as_posix() for p in package.rglob("*")
            if p.is_file() and p.suffix not in {".py", ".pyc"} and "__pycache__" not in p.parts
            and not p.name.startswith(".")]                      # .gitkeep: kept for git, never read
    assert data, "course_lib has no data files: this test no longer tests anything"
    left_out = [f for f in data if not any(fnmatch.fnmatch(f, pattern) for pattern in patterns)]
    assert not left_out, f"not in [tool.setuptools.package-data] course_lib = {patterns}: {left_out}"


def test_modules_import_from_modules_not_from_a_package_front_door():
    """A module takes names from the module that defines them, never from a package's
    ``__init__`` (``from course_lib import default_device``, ``from course_lib.checks import
    CHECKS``): an ``__init__`` imports its wing's modules, so such an import closes a cycle through
    the package that grimp's module graph and import-linter's contracts do not see."""
    package = ROOT / "course_lib"
    found = []
    for path in sorted(package.rglob("*.py")):
        if path.name == "__init__.py":
            continue                    # a front door may re-export its own wing's names
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found += [f"{path.relative_to(ROOT)}:{node.lineno} import {a.name}" for a in node.names
                          if a.name == "course_lib"]
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                folder = ROOT / node.module.replace(".", "/")
                if not (node.module.split(".")[0] == "course_lib" and (folder / "__init__.py").exists()):
                    continue
                for alias in node.names:    # from a package: only its modules may be imported
                    if not ((folder / f"{alias.name}.py").exists() or (folder / alias.name).is_dir()):
                        found.append(f"{path.relative_to(ROOT)}:{node.lineno} from {node.module} "
                                     f"import {alias.name}")
    assert not found, "import these from the module that defines them:\n" + "\n".join(found)


_PARAMS_PLUGIN = '''
import json, os
def pytest_collection_finish(session):
    found = [dict(getattr(getattr(item, "callspec", None), "params", {})) for item in session.items]
    kept = [{k: v for k, v in p.items() if k in ("seed", "threads")} for p in found]
    with open(os.environ["COLLECTED"], "w") as out:
        json.dump([[item.nodeid.split("[")[0], p] for item, p in zip(session.items, kept)], out)
'''


def _claims_collected(tmp_path, **env) -> list:
    """(file::test, its seed/threads) of every claims test that collection keeps under ``env``."""
    import json
    import os
    import subprocess
    import sys

    (tmp_path / "collected_params.py").write_text(_PARAMS_PLUGIN)
    out = tmp_path / f"collected{len(env)}.json"
    environment = {k: v for k, v in os.environ.items() if not k.startswith("COURSE_CLAIMS_")}
    environment.update(env, COLLECTED=str(out),
                       PYTHONPATH=os.pathsep.join([str(tmp_path), str(ROOT), environment.get("PYTHONPATH", "")]))
    done = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "collected_params",
                           "-p", "no:cacheprovider", "-m", "claims", str(TESTS / "claims")],
                          cwd=ROOT, env=environment, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return json.loads(out.read_text())


def test_ci_quick_pass_keeps_each_claim_once_at_seed_0_and_1_thread(tmp_path):
    """.ci/run's claims (COURSE_CLAIMS_SEEDS=0 COURSE_CLAIMS_THREADS=1) keep exactly the claims
    tests at seed 0 and 1 thread, and every claims test (file::function) keeps at least one of them."""
    everything = _claims_collected(tmp_path)
    quick = _claims_collected(tmp_path, COURSE_CLAIMS_SEEDS="0", COURSE_CLAIMS_THREADS="1")
    expected = [[name, p] for name, p in everything if p.get("seed", 0) == 0 and p.get("threads", 1) == 1]
    assert quick == expected
    assert {name for name, _ in quick} == {name for name, _ in everything}
    assert len(everything) > 2 * len(quick) > 0, (len(everything), len(quick))
