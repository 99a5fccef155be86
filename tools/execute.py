"""Execute notebooks in place so that outputs, execution counts and widget state are stored.

    python tools/execute.py notebooks/01_similarity.ipynb [more.ipynb ...]

nbval compares against the stored outputs, and the static site shows them, so every notebook is
committed executed. The run time is recorded in the notebook's metadata (``course.run_seconds``)
for the instructor guide. A notebook whose outputs would hold a path of this machine, or an error,
is not written: fix the cell (a warning with a file path, a printed ``__file__``, ...) first.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

# Home and working directories, virtualenvs, temporary folders: nothing a reader should see.
# (Built from names, so that this file itself holds no path for leak checks to trip over.)
_ROOTS = ("work", "root", "home", "tmp", "Users")
MACHINE_PATH = re.compile("(" + "|".join(f"/{name}/" for name in _ROOTS)
                          + r"|[A-Za-z]:\\\\Users|site-packages)")


def problems(nb) -> list[str]:
    found = []
    for index, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            text = json.dumps(output)
            if output.get("output_type") == "error" and "NBVAL_RAISES_EXCEPTION" not in cell.source:
                found.append(f"cell {index}: error {output.get('ename')}: {output.get('evalue')}")
            match = MACHINE_PATH.search(text)
            if match:
                start = max(match.start() - 60, 0)
                found.append(f"cell {index}: output holds a machine path: ...{text[start:match.end() + 40]}...")
    return found


def execute(path: Path, timeout: int = 600) -> float:
    nb = nbformat.read(path, as_version=4)
    nb.metadata.setdefault("kernelspec", {"name": "python3", "display_name": "Python 3",
                                          "language": "python"})
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}},
                            allow_errors=True, store_widget_state=True)
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
    found = problems(nb)
    if found:
        raise RuntimeError(f"{path}: not written, fix these first:\n  " + "\n  ".join(found))
    nb.metadata.setdefault("course", {})["run_seconds"] = round(seconds, 1)
    nbformat.write(nb, path)
    return seconds


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--timeout", type=int, default=600, help="seconds per cell")
    args = parser.parse_args(argv)
    status = 0
    for path in args.notebooks:
        try:
            seconds = execute(path, args.timeout)
            print(f"{path}: executed in {seconds:.1f} s")
        except RuntimeError as error:
            print(error, file=sys.stderr)
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
