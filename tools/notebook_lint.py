"""Lint the course's notebooks for the slips a reader notices and nbval cannot.

    python tools/notebook_lint.py                      # every notebook of the course (both editions)
    python tools/notebook_lint.py notebooks/03_*.ipynb # only these

Three rules, each printed as ``path: cell N (id ...): what is wrong`` (exit status 1 if any):

1. **No repeated text.** No two Markdown cells of a notebook alike: the same words once whitespace
   and case are normalised, or nearly the same (``ALIKE_RATIO`` of their words in common: an edited
   copy left beside its original; lesson 03 once had three cells twice and an older draft of one).
   Cells shorter than ``MIN_REPEAT_CHARS`` ("---", "**Check.**") may repeat.
2. **Sections numbered 1, 2, 3, ...** Level-2 headings "## 1. ...", "## 2. ..." (and, each as its own
   series, "## Exercise 1 ..." / "## 练习 1 ...") count up from 1 without a gap or a repeat.
3. **Every picture is talked about.**
   * A *figure* (a code cell whose stored outputs hold an image) is referred to by the Markdown that
     follows it before the next heading: that text names a figure, plot, picture, map, panel, curve,
     bar, row, left/right, ... (``FIGURE_WORDS``; 图 / 左 / 右 / 曲线 in Chinese). A figure followed
     directly by a heading, or by text that never points at a picture, is reported.
   * An *explorer* (a code cell that displays ``EXPLORERS[...]``) is introduced or followed by text
     of its own section that says so: explorer / explore / slider (探索 / 滑块). Explorers are
     usually introduced *before* they appear ("The two explorers below ..."), so for them the
     nearest Markdown cell before it in the same section counts as well as the text after it.

The set of notebooks is discovered, not listed: every ``*.ipynb`` under notebooks/, solutions/ and
exercises/ (and their sub-folders, where a translated edition such as ``notebooks/zh/`` lives), plus
any top-level edition folder ``<lang>/notebooks`` etc. ``*.updated.ipynb`` (a learner's copy kept by
``make update``) and checkpoints are skipped. ``tests/notebooks/test_notebook_lint.py`` runs this in ``make test``.
"""

from __future__ import annotations

import argparse
import difflib
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_FOLDERS = ("notebooks", "solutions", "exercises")

# Markdown cells at least this long (after normalising whitespace) must not repeat.
MIN_REPEAT_CHARS = 30
# Two such cells whose words (Chinese: characters) match at least this much are one text twice:
# an edited copy left beside its original. Distinct cells of the course stay below 0.3.
ALIKE_RATIO = 0.75

# Words by which prose points at a figure. English words are matched whole (plural allowed);
# Chinese ones anywhere (Chinese has no spaces between words).
FIGURE_WORDS = (
    "figure", "plot", "picture", "map", "heatmap", "panel", "curve", "chart", "histogram", "bar",
    "graph", "legend", "axis", "axes", "scatter", "dashed", "arrow", "colour", "color", "row",
    "column", "left", "right", "top", "bottom", "middle", "grid",
)
FIGURE_WORDS_ZH = ("图", "曲线", "面板", "左", "右", "上方", "下方", "颜色")
EXPLORER_WORDS = ("explorer", "explore", "explorers", "exploring", "slider")
EXPLORER_WORDS_ZH = ("探索", "滑块")

_FIGURE_RE = re.compile(
    r"\b(?:" + "|".join(FIGURE_WORDS) + r")(?:e?s)?\b|" + "|".join(FIGURE_WORDS_ZH), re.IGNORECASE)
_EXPLORER_RE = re.compile(
    r"\b(?:" + "|".join(EXPLORER_WORDS) + r")s?\b|" + "|".join(EXPLORER_WORDS_ZH), re.IGNORECASE)
_HEADING_RE = re.compile(r"^(#{1,6})\s+(.*)$")
# "## 3. Title" -> ("", 3); "## Exercise 2: ..." -> ("exercise", 2); "## 练习 2" -> ("exercise", 2)
_NUMBERED_RE = re.compile(r"^(?:(?P<word>exercise|练习)\s*)?(?P<number>\d+)(?:[.:：)\s]|$)",
                          re.IGNORECASE)
_EXPLORER_CALL_RE = re.compile(r"^[^#\n]*\bEXPLORERS\s*\[", re.MULTILINE)


@dataclass(frozen=True)
class Violation:
    path: str
    cell: int
    cell_id: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: cell {self.cell} (id {self.cell_id}): {self.message}"


def discover(root: Path = ROOT) -> list[Path]:
    """Every notebook the lint covers: both editions of notebooks, solutions and exercises."""
    found: set[Path] = set()
    for folder in NOTEBOOK_FOLDERS:
        found.update((root / folder).rglob("*.ipynb"))            # notebooks/zh/... included
        found.update(root.glob(f"*/{folder}/**/*.ipynb"))          # zh/notebooks/... included
    return sorted(p for p in found
                  if not p.name.endswith(".updated.ipynb")
                  and ".ipynb_checkpoints" not in p.parts
                  and not {".venv", "build", "_site", "_slides", "node_modules"} & set(p.parts))


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def _headings(text: str) -> list[tuple[int, str]]:
    """(level, title) of every Markdown heading line, outside fenced code."""
    found, fenced = [], False
    for line in text.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
            continue
        match = None if fenced else _HEADING_RE.match(line)
        if match:
            found.append((len(match.group(1)), match.group(2).strip()))
    return found


def _text_before_heading(text: str) -> tuple[str, bool]:
    """The part of a Markdown cell before its first heading line, and whether a heading was met."""
    kept = []
    for line in text.splitlines():
        if _HEADING_RE.match(line):
            return "\n".join(kept), True
        kept.append(line)
    return "\n".join(kept), False


def _text_after_last_heading(text: str) -> str:
    kept: list[str] = []
    for line in text.splitlines():
        kept = [] if _HEADING_RE.match(line) else kept + [line]
    return "\n".join(kept)


def _is_figure(cell: dict) -> bool:
    return cell.get("cell_type") == "code" and any(
        key.startswith("image/")
        for output in cell.get("outputs", []) for key in output.get("data", {}))


def _is_explorer(cell: dict) -> bool:
    return cell.get("cell_type") == "code" and bool(_EXPLORER_CALL_RE.search(_source(cell)))


def _short(text: str, length: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= length else text[:length - 3] + "..."


def _tokens(text: str) -> list[str]:
    """Words, and single CJK characters (Chinese does not separate words with spaces)."""
    return re.findall(r"[\u3400-\u9fff]|\w+|[^\w\s]", text.casefold())


def check_repeats(cells: list[dict], path: str) -> list[Violation]:
    """A Markdown cell that repeats, or nearly repeats, an earlier one (an old draft left behind)."""
    earlier: list[tuple[int, list[str]]] = []
    found = []
    for index, cell in enumerate(cells):
        if cell.get("cell_type") != "markdown":
            continue
        text = _source(cell)
        if len(" ".join(text.split())) < MIN_REPEAT_CHARS:
            continue
        tokens = _tokens(text)
        best = (0.0, -1)                             # (likeness, cell) of the most alike earlier cell
        for other, other_tokens in earlier:
            matcher = difflib.SequenceMatcher(None, other_tokens, tokens, autojunk=False)
            if matcher.real_quick_ratio() >= ALIKE_RATIO and matcher.quick_ratio() >= ALIKE_RATIO:
                best = max(best, (matcher.ratio(), other))
        ratio, other = best
        if ratio >= ALIKE_RATIO:
            how = "repeats" if ratio == 1.0 else f"nearly repeats ({ratio:.0%} alike)"
            found.append(Violation(path, index, cell.get("id", "?"),
                                   f"Markdown {how} cell {other} (id {cells[other].get('id', '?')}): "
                                   f'"{_short(text)}"'))
        earlier.append((index, tokens))
    return found


def check_section_numbers(cells: list[dict], path: str) -> list[Violation]:
    """Numbered level-2 headings count 1, 2, 3, ... (each series on its own), no gap, no repeat."""
    seen: dict[str, dict[int, int]] = {}            # series -> {number: cell index of its heading}
    found = []
    for index, cell in enumerate(cells):
        if cell.get("cell_type") != "markdown":
            continue
        for level, title in _headings(_source(cell)):
            match = _NUMBERED_RE.match(title) if level == 2 else None
            if not match:
                continue
            series = "exercise" if match.group("word") else "section"
            numbers = seen.setdefault(series, {})
            number = int(match.group("number"))
            expected = max(numbers, default=0) + 1
            if number in numbers:
                problem = f"repeats {series} {number} of cell {numbers[number]}"
            elif number != expected:
                problem = "skips" if number > expected else "is out of order"
            else:
                problem = None
            if problem:
                found.append(Violation(path, index, cell.get("id", "?"),
                                       f'heading "## {_short(title, 50)}" {problem}: expected '
                                       f"{series} {expected} here"))
            numbers.setdefault(number, index)
    return found


def _following_text(cells: list[dict], index: int) -> str:
    """Markdown after cell `index` up to the next heading (code cells in between are skipped)."""
    parts = []
    for cell in cells[index + 1:]:
        if cell.get("cell_type") != "markdown":
            continue
        text, stopped = _text_before_heading(_source(cell))
        parts.append(text)
        if stopped:
            break
    return "\n".join(parts)


def _preceding_text(cells: list[dict], index: int) -> str:
    """The nearest Markdown cell before cell `index`, from its last heading on (same section)."""
    for cell in reversed(cells[:index]):
        if cell.get("cell_type") == "markdown":
            return _text_after_last_heading(_source(cell))
    return ""


def check_references(cells: list[dict], path: str) -> list[Violation]:
    found = []
    for index, cell in enumerate(cells):
        if _is_figure(cell):
            after = _following_text(cells, index)
            if not after.strip():
                found.append(Violation(path, index, cell.get("id", "?"),
                                       "figure is followed by no text before the next heading: "
                                       "say what the reader should see in it"))
            elif not _FIGURE_RE.search(after):
                found.append(Violation(path, index, cell.get("id", "?"),
                                       "figure is never referred to by the text after it "
                                       f'(which begins "{_short(after)}"): point at it '
                                       "(the figure / plot / left panel / curve ...)"))
        if _is_explorer(cell):
            around = _preceding_text(cells, index) + "\n" + _following_text(cells, index)
            if not _EXPLORER_RE.search(around):
                found.append(Violation(path, index, cell.get("id", "?"),
                                       "explorer is neither introduced by the text before it nor "
                                       "referred to by the text after it (say 'explorer')"))
    return found


RULES = (check_repeats, check_section_numbers, check_references)


def lint_notebook(path: Path, root: Path = ROOT) -> list[Violation]:
    try:
        shown = str(path.resolve().relative_to(root))
    except ValueError:
        shown = str(path)
    cells = json.loads(Path(path).read_text(encoding="utf-8")).get("cells", [])
    return [violation for rule in RULES for violation in rule(cells, shown)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="notebooks to lint (default: every notebook of the course)")
    args = parser.parse_args(argv)
    paths = args.notebooks or discover()
    violations = [v for path in paths for v in lint_notebook(path)]
    for violation in violations:
        print(violation)
    print(f"notebook lint: {len(paths)} notebooks, {len(violations)} "
          f"violation{'s' if len(violations) != 1 else ''}", file=sys.stderr)
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(main())
