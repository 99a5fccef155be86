"""The Chinese edition (zh/): built from the English notebooks and gettext catalogs.

    python tools/translate.py extract [NB ...]   # create/update catalogs (default: existing ones)
    python tools/translate.py build              # write zh/notebooks, zh/exercises, zh/solutions
    python tools/translate.py execute            # run the built notebooks, store their outputs
    python tools/translate.py status             # per notebook: translated / fuzzy / untranslated

One source. The English notebook is the source of every cell: a Chinese notebook has the same
cells with the same ids, and the same code. Only what a learner reads changes:

- a Markdown cell is one catalog entry: msgctxt = the cell's id, msgid = its English source;
- a code comment is one entry: msgctxt = "<cell id>:comment", msgid = the comment's text after
  "#" (stripped). Directives (``# NBVAL_CHECK_OUTPUT``, ``# BEGIN SOLUTION``, ``# noqa`` ...) are
  code for the tools, not prose: never translated. So a Chinese code cell equals the English one
  once comments are removed (``code_without_comments``, by Python's tokenize): the tests compare
  that, byte for byte.

The catalogs are ``i18n/zh/<folder>/<notebook stem>.po`` (polib, msgmerge semantics). When an
English cell changes, its (msgctxt, msgid) no longer matches: ``extract`` keeps the old Chinese
text as a *fuzzy* entry (with the old English as ``#| msgid``) for the translator to revise, and
an entry whose cell is gone becomes obsolete (``#~``). ``build`` refuses a notebook with a fuzzy or
untranslated entry: a Chinese twin that is half English, or says what the English no longer says,
is worse than none. A notebook without a catalog is not in the Chinese edition yet: ``build``
lists it and skips it (``extract NB`` starts its catalog).

Exercises are generated from solutions (tools/make_exercises.py), and so are their catalogs: a
Markdown cell or comment of an exercise notebook that the generator copied from the solutions
notebook takes the solutions catalog's translation (``extract`` copies it, the tests check it), so
a sentence is translated once and the two Chinese notebooks cannot disagree. The title
"...：参考答案" becomes "...：练习" and the generator's banner has a Chinese template (ZH_BANNER):
an exercise catalog needs no translating of its own.

Links: headings are translated, so a link's ``#anchor`` is rewritten to the Chinese heading at the
same place (the same cell, the same heading in it); relative links to other notebooks stay as
they are, and resolve inside zh/ because zh/ mirrors the English folders.
"""
from __future__ import annotations

import argparse
import difflib
import io
import re
import sys
import tokenize
from pathlib import Path
from urllib.parse import quote, unquote

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_exercises import banner, exercise_title, fingerprint  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
LANG = "zh"
FOLDERS = ("notebooks", "solutions", "exercises")
COMMENT = ":comment"
# The Chinese title of a solutions notebook ends in "：参考答案", its exercise twin's in "：练习"
ZH_SOLUTIONS_TITLE = re.compile(r"^(# .*)：参考答案[ \t]*$", re.MULTILINE)
# Comments that are instructions to a tool, not prose for the reader
DIRECTIVE = re.compile(r"^(NBVAL_\w+|BEGIN SOLUTION|END SOLUTION|noqa\b|type:|pragma\b|fmt:)")


class TranslationError(RuntimeError):
    pass


# ------------------------------------------------------------------------------------------
# Where things are
# ------------------------------------------------------------------------------------------
def english_notebooks(root: Path = ROOT) -> list[Path]:
    found = []
    for folder in FOLDERS:
        found += sorted(p for p in (root / folder).glob("*.ipynb") if ".updated" not in p.name)
    return found


def catalog_path(english: Path, root: Path = ROOT) -> Path:
    rel = english.resolve().relative_to(root.resolve())
    return root / "i18n" / LANG / rel.parent / f"{rel.stem}.po"


def translated_path(english: Path, root: Path = ROOT) -> Path:
    rel = english.resolve().relative_to(root.resolve())
    return root / LANG / rel


def solutions_of(exercise: Path) -> Path:
    return exercise.parent.parent / "solutions" / exercise.name.replace("_exercises.", "_solutions.")


# ------------------------------------------------------------------------------------------
# Comments
# ------------------------------------------------------------------------------------------
def _python_lines(source: str) -> str:
    """The source with IPython's magics and shell lines blanked, so that tokenize reads it."""
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line
                     for line in source.split("\n"))


def comments(source: str) -> list[tuple[int, int, str]]:
    """Every comment token: (line index from 0, column, token text), in order."""
    found = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(_python_lines(source)).readline):
            if token.type == tokenize.COMMENT:
                found.append((token.start[0] - 1, token.start[1], token.string))
    except (tokenize.TokenError, IndentationError, SyntaxError) as error:
        raise TranslationError(f"cannot read the comments of this code ({error}):\n{source}") from error
    return found


def comment_text(token: str) -> str:
    return token[1:].strip()


def translatable(text: str) -> bool:
    return bool(text) and not DIRECTIVE.match(text) and any(ch.isalpha() for ch in text)


def replace_comments(source: str, translate) -> str:
    """``source`` with each translatable comment's text replaced by ``translate(text)``."""
    lines = source.split("\n")
    for row, col, token in reversed(comments(source)):
        text = comment_text(token)
        if translatable(text):
            line = lines[row]
            lines[row] = line[:col] + "# " + translate(text) + line[col + len(token):]
    return "\n".join(lines)


def code_without_comments(source: str) -> str:
    """The code as Python runs it, plus the tools' directives: prose comments become a bare "#"
    (so a translated comment and its English original compare equal), trailing blanks go."""
    stripped = replace_comments(source, lambda text: "")
    return "\n".join(line.rstrip() for line in stripped.split("\n"))


# ------------------------------------------------------------------------------------------
# Catalog entries of one English notebook
# ------------------------------------------------------------------------------------------
def wanted_entries(nb) -> list[tuple[str, str]]:
    """(msgctxt, msgid) of everything to translate in ``nb``, in order, without repeats."""
    out: list[tuple[str, str]] = []
    for cell in nb.cells:
        if cell.cell_type == "markdown" and cell.source.strip():
            out.append((cell.id, cell.source))
        elif cell.cell_type == "code":
            for _, _, token in comments(cell.source):
                text = comment_text(token)
                if translatable(text):
                    out.append((cell.id + COMMENT, text))
    seen, unique = set(), []
    for key in out:
        if key not in seen:
            seen.add(key)
            unique.append(key)
    return unique


def _new_catalog():
    import polib

    po = polib.POFile(wrapwidth=0)
    po.metadata = {"Project-Id-Version": "attention-course", "Language": "zh_CN",
                   "MIME-Version": "1.0", "Content-Type": "text/plain; charset=UTF-8",
                   "Content-Transfer-Encoding": "8bit"}
    return po


def load_catalog(path: Path):
    import polib

    return polib.pofile(str(path), wrapwidth=0) if path.exists() else None


def _lookup(po) -> dict[tuple[str, str], object]:
    return {(e.msgctxt or "", e.msgid): e for e in po if not e.obsolete} if po is not None else {}


def merge(po, wanted: list[tuple[str, str]], memory: dict[str, str] | None = None):
    """A catalog with exactly the ``wanted`` entries, translations kept from ``po``: msgmerge's
    semantics. Same (msgctxt, msgid): kept as it is. Same msgctxt, changed English (the cell was
    edited): the old translation is kept, marked fuzzy, with the old English as previous msgid.
    Same English elsewhere (the cell moved): kept. Otherwise the entry is new and empty, unless
    ``memory`` ({English: Chinese}) knows the sentence (exercises take their solutions' text).
    Entries nobody wants any more become obsolete."""
    import polib

    old = [e for e in po if not e.obsolete] if po is not None else []
    already_obsolete = [e for e in po if e.obsolete] if po is not None else []
    exact = {(e.msgctxt or "", e.msgid): e for e in old}
    by_text = {}
    for e in old:
        if e.msgstr and "fuzzy" not in e.flags:
            by_text.setdefault(e.msgid, e)
    used = set()
    new = _new_catalog()
    if po is not None:
        new.metadata.update(po.metadata)
        new.header = po.header
    for ctxt, msgid in wanted:
        entry = polib.POEntry(msgctxt=ctxt, msgid=msgid, msgstr="")
        if memory and msgid in memory:
            entry.msgstr = memory[msgid]
        elif (ctxt, msgid) in exact:
            previous = exact[(ctxt, msgid)]
            used.add(id(previous))
            entry.msgstr, entry.flags = previous.msgstr, list(previous.flags)
            entry.previous_msgid = previous.previous_msgid
            entry.tcomment = previous.tcomment
        elif msgid in by_text:
            entry.msgstr = by_text[msgid].msgstr
            used.add(id(by_text[msgid]))
        else:
            candidates = [e for e in old if (e.msgctxt or "") == ctxt and id(e) not in used and e.msgstr]
            if candidates:
                best = max(candidates, key=lambda e: difflib.SequenceMatcher(None, e.msgid, msgid).ratio())
                used.add(id(best))
                entry.msgstr, entry.flags = best.msgstr, ["fuzzy"]
                entry.previous_msgid = best.msgid
        new.append(entry)
    for e in old:
        if id(e) not in used and e.msgstr and (e.msgctxt or "", e.msgid) not in set(wanted):
            e.obsolete = True
            new.append(e)
    new.extend(already_obsolete)  # kept for the translator's reference
    return new


# make_exercises.banner(), the first cell of every exercise notebook, in Chinese
ZH_BANNER = ("> **练习 notebook。** 在标有 `raise NotImplementedError` 的地方填入你的代码，运行每道题下面的检查，"
             "并阅读它的反馈。带讲解的参考答案在 `../solutions/{name}` 中。本文件由那个 notebook 生成；"
             "你在这里的修改是安全的：更新课程时，绝不会覆盖你改动过的 notebook。")


def solutions_memory(exercise: Path, root: Path = ROOT) -> dict[str, str]:
    """{English: Chinese} of the solutions catalog, for the cells make_exercises copied, and the
    banner make_exercises writes."""
    solution = solutions_of(exercise)
    po = load_catalog(catalog_path(solution, root))
    if po is None:
        return {}
    memory = {banner(solution.name): ZH_BANNER.format(name=solution.name)}
    for e in po:
        if not e.obsolete and e.msgstr and "fuzzy" not in e.flags:
            memory[e.msgid] = e.msgstr
            title = exercise_title(e.msgid)
            if title != e.msgid:  # the title cell: "...: solutions" becomes "...: exercises"
                memory[title] = ZH_SOLUTIONS_TITLE.sub(r"\1：练习", e.msgstr, count=1)
    return memory


def extract(english: Path, root: Path = ROOT) -> str:
    """Create or update the catalog of one English notebook; returns a line for the report."""
    nb = nbformat.read(english, as_version=4)
    path = catalog_path(english, root)
    po = load_catalog(path)
    memory = solutions_memory(english, root) if english.parent.name == "exercises" else None
    merged = merge(po, wanted_entries(nb), memory)
    path.parent.mkdir(parents=True, exist_ok=True)
    merged.save(str(path))
    return f"{path.relative_to(root)}: {describe(merged)}"


def counts(po) -> dict[str, int]:
    live = [e for e in po if not e.obsolete]
    fuzzy = sum("fuzzy" in e.flags for e in live)
    untranslated = sum(not e.msgstr for e in live)
    return {"translated": len(live) - fuzzy - untranslated, "fuzzy": fuzzy,
            "untranslated": untranslated, "obsolete": sum(e.obsolete for e in po)}


def describe(po) -> str:
    c = counts(po)
    return (f"{c['translated']} translated, {c['fuzzy']} fuzzy, {c['untranslated']} untranslated"
            + (f" ({c['obsolete']} obsolete)" if c["obsolete"] else ""))


# ------------------------------------------------------------------------------------------
# Build
# ------------------------------------------------------------------------------------------
def problems(english: Path, root: Path = ROOT) -> list[str]:
    """Why ``english`` cannot be built in Chinese now (empty: it can)."""
    path = catalog_path(english, root)
    po = load_catalog(path)
    if po is None:
        return [f"{path.relative_to(root)} does not exist"]
    table = _lookup(po)
    found = []
    for ctxt, msgid in wanted_entries(nbformat.read(english, as_version=4)):
        entry = table.get((ctxt, msgid))
        what = f"cell {ctxt} ({msgid[:50]!r}...)"
        if entry is None:
            found.append(f"{what}: no entry for the current English text (run extract)")
        elif "fuzzy" in entry.flags:
            found.append(f"{what}: fuzzy, written for an older English text")
        elif not entry.msgstr:
            found.append(f"{what}: not translated")
        elif ctxt.endswith(COMMENT) and "\n" in entry.msgstr:
            found.append(f"{what}: a comment's translation must be one line")
    return found


HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$", re.MULTILINE)
LINK = re.compile(r"\]\(([^)\s]+)\)|(?:href|src)=\"([^\"]+)\"")


def anchor(heading: str) -> str:
    """The id JupyterLab gives a Markdown heading: its text with spaces as hyphens."""
    text = re.sub(r"[*_`]", "", heading).strip()   # emphasis and code marks are not displayed
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)  # a link shows its text
    return text.replace(" ", "-")


def headings(nb) -> list[tuple[str, int, str]]:
    """(cell id, index in the cell, anchor) of every heading."""
    return [(cell.id, i, anchor(m.group(2))) for cell in nb.cells if cell.cell_type == "markdown"
            for i, m in enumerate(HEADING.finditer(cell.source))]


def link_targets(source: str) -> list[str]:
    return [a or b for a, b in LINK.findall(source)]


def _is_external(target: str) -> bool:
    return bool(re.match(r"^[a-z][a-z0-9+.-]*:", target)) or target.startswith("//")


def rewrite_anchors(zh_nb, english: Path, english_nb, root: Path = ROOT) -> None:
    """Point every ``#anchor`` of ``zh_nb`` at the translated heading at the same place."""
    def mapping(en_nb, target_zh_nb):
        en, zh = headings(en_nb), headings(target_zh_nb)
        zh_at = {(cid, i): a for cid, i, a in zh}
        return {a: zh_at.get((cid, i)) for cid, i, a in en}

    here = mapping(english_nb, zh_nb)

    def fix(match):
        target = match.group(1) or match.group(2)
        if _is_external(target) or "#" not in target:
            return match.group(0)
        path, _, frag = target.partition("#")
        if path:
            other_en = (english.parent / path).resolve()
            other_zh = translated_path(other_en, root) if other_en.exists() else None
            if other_zh is None or not other_zh.exists():
                return match.group(0)
            table = mapping(nbformat.read(other_en, as_version=4), nbformat.read(other_zh, as_version=4))
        else:
            table = here
        new = table.get(unquote(frag))
        if not new:
            return match.group(0)
        return match.group(0).replace(target, f"{path}#{quote(new, safe='-_.~()')}")

    for cell in zh_nb.cells:
        if cell.cell_type == "markdown":
            cell.source = LINK.sub(fix, cell.source)


def build_notebook(english: Path, root: Path = ROOT):
    """The Chinese notebook of ``english`` (in memory). Raises TranslationError if its catalog is
    missing, stale or incomplete."""
    found = problems(english, root)
    if found:
        raise TranslationError(f"{english.relative_to(root)}: cannot build its Chinese twin:\n  "
                               + "\n  ".join(found[:20]) + ("\n  ..." if len(found) > 20 else ""))
    table = _lookup(load_catalog(catalog_path(english, root)))
    en_nb = nbformat.read(english, as_version=4)
    nb = nbformat.read(english, as_version=4)
    target = translated_path(english, root)
    previous = nbformat.read(target, as_version=4) if target.exists() else None
    old_cells = {c.id: c for c in previous.cells} if previous is not None else {}
    for cell in nb.cells:
        if cell.cell_type == "markdown" and cell.source.strip():
            cell.source = table[(cell.id, cell.source)].msgstr
        elif cell.cell_type == "code":
            ctxt = cell.id + COMMENT
            cell.source = replace_comments(cell.source, lambda text: table[(ctxt, text)].msgstr)
            old = old_cells.get(cell.id)
            # Outputs come from running the Chinese notebook (check feedback speaks Chinese):
            # kept from the last run while the cell is unchanged, else empty until `execute`.
            if old is not None and old.cell_type == "code" and old.source == cell.source:
                cell.outputs, cell.execution_count = old.outputs, old.execution_count
                cell.metadata = old.metadata
            else:
                cell.outputs, cell.execution_count = [], None
    rewrite_anchors(nb, english, en_nb, root)
    course = dict(nb.metadata.get("course", {}))
    nb.metadata.pop("widgets", None)  # the English explorers' last state: not this notebook's
    if previous is not None:  # what the last run of the Chinese notebook stored
        for key in ("widgets", "kernelspec", "language_info"):
            if key in previous.metadata:
                nb.metadata[key] = previous.metadata[key]
        for key in ("run_seconds", "peak_memory_mib", "cpu_seconds"):
            if key in previous.metadata.get("course", {}):
                course[key] = previous.metadata["course"][key]
    course["translation_of"] = english.resolve().relative_to(root.resolve()).as_posix()
    if "source_fingerprint" in course:  # an exercise: a learner's edits are detected as in English
        course["generated_from"] = f"{LANG}/{course['generated_from']}"
        course["source_fingerprint"] = fingerprint(nb)
    nb.metadata["course"] = course
    return nb


def needs_execution(nb) -> bool:
    return any(c.cell_type == "code" and c.source.strip() and c.execution_count is None
               for c in nb.cells)


def build(root: Path = ROOT, allow_missing: bool = True) -> tuple[list[Path], list[str]]:
    """Write every Chinese notebook whose catalog exists. Returns (written, report lines)."""
    written, lines, failures = [], [], []
    for english in english_notebooks(root):
        if not catalog_path(english, root).exists():
            lines.append(f"{english.relative_to(root)}: not translated yet (no catalog), skipped")
            continue
        try:
            nb = build_notebook(english, root)
        except TranslationError as error:
            failures.append(str(error))
            continue
        target = translated_path(english, root)
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, target)
        written.append(target)
        lines.append(f"{target.relative_to(root)}: built"
                     + (" (run `translate.py execute` to store its outputs)" if needs_execution(nb) else ""))
    for target in written:  # once all are written: links may point at each other
        failures += link_problems(target)
    if failures:
        raise TranslationError("\n".join(failures))
    return written, lines


def built_notebooks(root: Path = ROOT) -> list[Path]:
    return [translated_path(e, root) for e in english_notebooks(root)
            if catalog_path(e, root).exists()]


# ------------------------------------------------------------------------------------------
# What the tests check
# ------------------------------------------------------------------------------------------
def sync_problems(english: Path, root: Path = ROOT) -> list[str]:
    """Why the Chinese twin of ``english`` on disk is not what the English notebook and its
    catalog make: a missing or stale translation, or cells that differ (ids, types, code
    without comments, text). Empty: in sync."""
    found = problems(english, root)
    target = translated_path(english, root)
    if not target.exists():
        return found + [f"{target.relative_to(root)} is missing: run `tools/translate.py build`"]
    en = nbformat.read(english, as_version=4)
    zh = nbformat.read(target, as_version=4)
    if [(c.id, c.cell_type) for c in en.cells] != [(c.id, c.cell_type) for c in zh.cells]:
        return found + [f"{target.relative_to(root)}: not the same cells (ids, types) as the English"]
    for en_cell, zh_cell in zip(en.cells, zh.cells):
        if en_cell.cell_type == "code" and (code_without_comments(en_cell.source)
                                            != code_without_comments(zh_cell.source)):
            found.append(f"{target.relative_to(root)} cell {en_cell.id}: its code differs from the English")
    if not found:
        built = build_notebook(english, root)
        for cell, zh_cell in zip(built.cells, zh.cells):
            if cell.source != zh_cell.source:
                found.append(f"{target.relative_to(root)} cell {cell.id}: differs from what the "
                             f"catalog gives: run `tools/translate.py build`")
    return found


def link_problems(path: Path) -> list[str]:
    """Links of notebook ``path`` whose file or ``#anchor`` does not exist."""
    nb = nbformat.read(path, as_version=4)
    found = []
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        for target in link_targets(cell.source):
            if _is_external(target):
                continue
            file, _, frag = target.partition("#")
            where = (path.parent / unquote(file)).resolve() if file else path
            if not where.exists():
                found.append(f"{path.name} cell {cell.id}: {target}: no such file")
            elif frag and where.suffix == ".ipynb":
                anchors = {a for _, _, a in headings(nbformat.read(where, as_version=4))}
                if unquote(frag) not in anchors:
                    found.append(f"{path.name} cell {cell.id}: {target}: no such heading")
    return found


# ------------------------------------------------------------------------------------------
# Command line
# ------------------------------------------------------------------------------------------
def _resolve(paths: list[str]) -> list[Path]:
    return [Path(p).resolve() for p in paths]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_extract = sub.add_parser("extract", help="create/update catalogs from the English notebooks")
    p_extract.add_argument("notebooks", nargs="*", help="English notebooks to start or update "
                           "(default: every notebook that has a catalog already)")
    sub.add_parser("build", help="write the Chinese notebooks of every complete catalog")
    p_exec = sub.add_parser("execute", help="run Chinese notebooks in place (tools/execute.py)")
    p_exec.add_argument("notebooks", nargs="*", help="default: every built one")
    sub.add_parser("status", help="per notebook: translated / fuzzy / untranslated entries")
    args = parser.parse_args(argv)

    if args.command == "extract":
        chosen = _resolve(args.notebooks) or [e for e in english_notebooks() if catalog_path(e).exists()]
        # an exercise catalog draws on its solutions catalog: solutions first
        chosen += [ex for s in chosen if s.parent.name == "solutions"
                   for ex in [s.parent.parent / "exercises" / s.name.replace("_solutions.", "_exercises.")]
                   if ex.exists() and ex not in chosen]
        chosen.sort(key=lambda p: FOLDERS.index(p.parent.name))
        for english in chosen:
            print(extract(english))
        return 0
    if args.command == "build":
        try:
            _, lines = build()
        except TranslationError as error:
            print(error, file=sys.stderr)
            return 1
        print("\n".join(lines))
        return 0
    if args.command == "execute":
        import os

        import execute as runner

        os.environ["COURSE_LANG"] = LANG  # the kernels inherit it (they would find zh/ anyway)
        paths = _resolve(args.notebooks) or built_notebooks()
        return runner.main([os.path.relpath(p) for p in paths])
    if args.command == "status":
        for english in english_notebooks():
            path = catalog_path(english)
            po = load_catalog(path)
            state = "no catalog (not translated yet)" if po is None else describe(po)
            print(f"{english.relative_to(ROOT)}: {state}")
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
