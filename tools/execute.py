"""Execute notebooks in place so that outputs, execution counts and widget state are stored.

    python tools/execute.py notebooks/01_similarity.ipynb [more.ipynb ...]

nbval compares against the stored outputs, and the static site shows them, so every notebook is
committed executed. Two measurements go into the notebook's metadata for the instructor guide
(``make guide``) and the tests:

- ``course.run_seconds``: the wall time of the whole run;
- ``course.peak_memory_mib``: the kernel's peak memory (resident set, MiB), read in the kernel
  with ``resource.getrusage(...).ru_maxrss`` after the last cell, by a request of this tool that
  leaves no trace in the notebook. This is what a JupyterHub slot or a Binder session must hold
  for this notebook's kernel (the Jupyter server itself comes on top);
- ``course.cpu_seconds``: the CPU time the kernel used (user + system, all its threads), read the
  same way: what the notebook asks of a shared machine's cores.

The notebook's kernelspec is set to the one installed here (name, display name, language), so that
JupyterLab does not rewrite it, and mark the notebook modified, the moment it opens.

A notebook whose outputs would hold a path of this machine, or an error, is not written: fix the
cell (a warning with a file path, a printed ``__file__``, ...) first.
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


KERNEL = "python3"
# Evaluated in the kernel after the last cell, as a user expression: nothing is printed or stored.
# ru_maxrss is in KiB on Linux and in bytes on macOS; Windows has no `resource` module (-> None).
PEAK_MIB_EXPRESSION = ("(lambda r, s: round(r.getrusage(r.RUSAGE_SELF).ru_maxrss"
                       " / (2 ** 20 if s.platform == 'darwin' else 2 ** 10), 1))"
                       "(__import__('resource'), __import__('sys'))")
CPU_SECONDS_EXPRESSION = ("(lambda u: round(u.ru_utime + u.ru_stime, 1))"
                          "(__import__('resource').getrusage(__import__('resource').RUSAGE_SELF))")


def kernelspec_metadata(name: str = KERNEL) -> dict:
    """The notebook metadata JupyterLab expects for the installed kernel ``name``.

    JupyterLab compares the stored ``display_name`` with the installed kernelspec's and rewrites
    it when they differ, which marks a freshly opened notebook as modified."""
    from jupyter_client.kernelspec import KernelSpecManager

    spec = KernelSpecManager().get_kernel_spec(name)
    return {"display_name": spec.display_name, "language": spec.language, "name": name}


class MeasuringClient(NotebookClient):
    """nbclient's client, plus the kernel's peak memory read after the last cell."""

    peak_memory_mib: float | None = None
    cpu_seconds: float | None = None

    async def async_execute_cell(self, cell, cell_index, execution_count=None, store_history=True):
        result = await super().async_execute_cell(cell, cell_index, execution_count, store_history)
        if cell_index == len(self.nb.cells) - 1:
            found = await self.kernel_usage()
            self.peak_memory_mib, self.cpu_seconds = found.get("peak"), found.get("cpu")
        return result

    async def kernel_usage(self) -> dict:
        """{'peak': MiB, 'cpu': seconds} as the kernel reports them (a key is missing where the
        kernel cannot say, e.g. on Windows)."""
        msg_id = self.kc.execute("", silent=False, store_history=False,
                                 user_expressions={"peak": PEAK_MIB_EXPRESSION,
                                                   "cpu": CPU_SECONDS_EXPRESSION})
        reply = await self.async_wait_for_reply(msg_id)
        found = (reply or {}).get("content", {}).get("user_expressions", {})
        return {key: float(value["data"]["text/plain"]) for key, value in found.items()
                if value.get("status") == "ok"}


def execute(path: Path, timeout: int = 600) -> tuple[float, float | None]:
    """Run ``path`` in place. Returns (seconds, kernel peak memory in MiB or None)."""
    nb = nbformat.read(path, as_version=4)
    nb.metadata["kernelspec"] = kernelspec_metadata()
    client = MeasuringClient(nb, timeout=timeout, kernel_name=KERNEL,
                             resources={"metadata": {"path": str(path.parent)}},
                             allow_errors=True, store_widget_state=True)
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
    found = problems(nb)
    if found:
        raise RuntimeError(f"{path}: not written, fix these first:\n  " + "\n  ".join(found))
    course = nb.metadata.setdefault("course", {})
    course["run_seconds"] = round(seconds, 1)
    course["peak_memory_mib"] = client.peak_memory_mib
    course["cpu_seconds"] = client.cpu_seconds
    nbformat.write(nb, path)
    return seconds, client.peak_memory_mib


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--timeout", type=int, default=600, help="seconds per cell")
    args = parser.parse_args(argv)
    status = 0
    for path in args.notebooks:
        try:
            seconds, peak = execute(path, args.timeout)
            memory = "" if peak is None else f", kernel peak memory {peak:.0f} MiB"
            print(f"{path}: executed in {seconds:.1f} s{memory}")
        except RuntimeError as error:
            print(error, file=sys.stderr)
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
