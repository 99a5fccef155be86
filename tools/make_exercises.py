"""Generate exercises/NN_topic_exercises.ipynb from solutions/NN_topic_solutions.ipynb.

    python tools/make_exercises.py            # all lessons
    python tools/make_exercises.py --check    # only report drift (exit 1 if any)

The solutions notebook is the single source. In it:
- the lines between ``# BEGIN SOLUTION`` and ``# END SOLUTION`` (inside a function) become
  ``raise NotImplementedError("not attempted yet")``, at the same indentation;
- cells tagged ``solution`` (explanations of why a solution works) are dropped.

A learner's work is never overwritten. Each generated notebook records a fingerprint of its cells'
sources; if the file on disk no longer matches its fingerprint, the learner has changed it, and the
new version is written beside it as ``NN_topic_exercises.updated.ipynb`` instead.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
BEGIN = re.compile(r"^(\s*)# BEGIN SOLUTION\s*$")
END = re.compile(r"^\s*# END SOLUTION\s*$")
STUB = 'raise NotImplementedError("not attempted yet")'
SOLUTION_TAG = "solution"


def strip_solutions(source: str, where: str = "") -> str:
    """Replace every BEGIN/END SOLUTION region of a code cell's source by a stub."""
    out, inside = [], False
    for line in source.split("\n"):
        begin = BEGIN.match(line)
        if begin:
            if inside:
                raise ValueError(f"{where}: nested '# BEGIN SOLUTION'")
            if not begin.group(1):
                raise ValueError(f"{where}: a solution region must be inside a function (indented), "
                                 f"so that an unfinished exercise does not stop Run All")
            out.append(begin.group(1) + STUB)
            inside = True
        elif END.match(line):
            if not inside:
                raise ValueError(f"{where}: '# END SOLUTION' without BEGIN")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise ValueError(f"{where}: '# BEGIN SOLUTION' without END")
    return "\n".join(out)


# The solutions notebook's title ends in ": solutions"; its exercise twin is titled ": exercises"
# (the site and the slides take a page's title from this heading).
SOLUTIONS_TITLE = re.compile(r"^(# .*): solutions[ \t]*$", re.MULTILINE)


def exercise_title(source: str) -> str:
    """A Markdown cell of the solutions notebook as the exercise notebook shows it: the title
    "# NN · Topic: solutions" becomes "# NN · Topic: exercises"; anything else is unchanged."""
    return SOLUTIONS_TITLE.sub(r"\1: exercises", source, count=1)


def exercise_path(solution: Path) -> Path:
    name = solution.name.replace("_solutions.ipynb", "_exercises.ipynb")
    return solution.parent.parent / "exercises" / name


def banner(solution_name: str) -> str:
    """The first cell of an exercise notebook (tools/translate.py translates it from this too)."""
    return (f"> **Exercise notebook.** Fill in the places marked `raise NotImplementedError`, run the "
            f"check below each one, and read its feedback. The worked solutions with explanations are "
            f"in `../solutions/{solution_name}`. This file was generated from that one; your edits here "
            f"are safe: updating the course never overwrites a notebook you have changed.")


def fingerprint(nb) -> str:
    """Hash of the cells' types and sources: outputs and metadata do not count."""
    cells = [[c.cell_type, c.source] for c in nb.cells]
    return hashlib.sha256(json.dumps(cells).encode()).hexdigest()[:16]


def generate(solution: Path):
    """Build the exercise notebook (in memory) from a solutions notebook."""
    sol = nbformat.read(solution, as_version=4)
    nb = nbformat.v4.new_notebook(metadata={k: v for k, v in sol.metadata.items()
                                            if k in ("kernelspec", "language_info")})
    nb.cells.append(nbformat.v4.new_markdown_cell(banner(solution.name)))
    for index, cell in enumerate(sol.cells):
        if SOLUTION_TAG in cell.get("metadata", {}).get("tags", []):
            continue
        if cell.cell_type == "code":
            new = nbformat.v4.new_code_cell(strip_solutions(cell.source, f"{solution.name} cell {index}"))
            tags = [t for t in cell.metadata.get("tags", []) if t != SOLUTION_TAG]
            if tags:
                new.metadata["tags"] = tags
        elif cell.cell_type == "markdown":
            new = nbformat.v4.new_markdown_cell(exercise_title(cell.source))
        else:
            new = nbformat.v4.new_raw_cell(cell.source)
        nb.cells.append(new)
    for cell in nb.cells:  # stable ids keep regenerated files identical
        cell.id = hashlib.sha1((cell.cell_type + cell.source).encode()).hexdigest()[:8]
    _dedupe_ids(nb)
    nb.metadata["course"] = {"generated_from": f"solutions/{solution.name}",
                             "source_fingerprint": fingerprint(nb)}
    return nb


def _dedupe_ids(nb) -> None:
    seen: dict[str, int] = {}
    for cell in nb.cells:
        if cell.id in seen:
            seen[cell.id] += 1
            cell.id = f"{cell.id[:5]}-{seen[cell.id]}"
        else:
            seen[cell.id] = 0


def write_beside(target: Path, content: bytes) -> Path:
    """Write ``content`` beside ``target`` as NAME.updated.EXT without ever overwriting a file a
    learner may have edited: if that name holds something else (say the learner worked in the copy
    a previous update wrote), the next free NAME.2.updated.EXT, NAME.3.updated.EXT, ... is used
    (every name still ends in ``.updated.EXT``, which git, make and the tools skip). A file that
    already holds exactly ``content`` is reused. Returns the path written (or reused)."""
    number = 1
    while True:
        tag = "updated" if number == 1 else f"{number}.updated"
        candidate = target.with_name(f"{target.stem}.{tag}{target.suffix}")
        if not candidate.exists():
            candidate.write_bytes(content)
            return candidate
        if candidate.read_bytes() == content:
            return candidate
        number += 1


def notebook_bytes(nb) -> bytes:
    """What ``nbformat.write`` would put in the file."""
    text = nbformat.writes(nb)
    return (text if text.endswith("\n") else text + "\n").encode("utf-8")


def learner_changed(path: Path) -> bool:
    """True if the exercise notebook on disk differs from what the generator wrote."""
    nb = nbformat.read(path, as_version=4)
    recorded = nb.metadata.get("course", {}).get("source_fingerprint")
    return recorded is None or recorded != fingerprint(nb)


def update(solution: Path, check_only: bool = False) -> str:
    """Write (or check) one exercise notebook. Returns one line saying what happened."""
    target = exercise_path(solution)
    new = generate(solution)
    if target.exists():
        current = nbformat.read(target, as_version=4)
        if fingerprint(current) == new.metadata["course"]["source_fingerprint"]:
            return f"{target.relative_to(ROOT)}: up to date"
        if check_only:
            return f"{target.relative_to(ROOT)}: OUT OF DATE with {solution.relative_to(ROOT)}"
        if learner_changed(target):
            beside = write_beside(target, notebook_bytes(new))
            return (f"{target.relative_to(ROOT)}: you have changed this notebook, so it was kept as "
                    f"it is; the new version is in {beside.relative_to(ROOT)}")
    elif check_only:
        return f"{target.relative_to(ROOT)}: MISSING (generate it from {solution.relative_to(ROOT)})"
    nbformat.write(new, target)
    return f"{target.relative_to(ROOT)}: written (execute it to store outputs)"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("solutions", nargs="*", type=Path,
                        help="solutions notebooks (default: all in solutions/)")
    parser.add_argument("--check", action="store_true", help="report drift, change nothing")
    args = parser.parse_args(argv)
    solutions = [p.resolve() for p in args.solutions] or sorted((ROOT / "solutions").glob("*_solutions.ipynb"))
    lines = [update(p, args.check) for p in solutions]
    print("\n".join(lines) if lines else "no solutions notebooks found")
    return 1 if any("OUT OF DATE" in line or "MISSING" in line for line in lines) else 0


if __name__ == "__main__":
    sys.exit(main())
