"""The language course_lib speaks in every lesson: English, or Chinese (中文) in the Chinese edition (zh/).

    from course_lib.basics.language import tr
    print(tr("Check {name!r}: not attempted yet.").format(name="cosine"))

``tr(text)`` returns the translation of an English sentence in the current language, or the
sentence itself (English is the source: a sentence nobody translated yet is still shown, in
English, rather than nothing). The translations live in one gettext catalog per language,
``i18n/<lang>/course_lib.po``, the same format as the notebooks' catalogs (tools/translate.py).

Which language? The notebook decides, so that the Chinese notebooks speak Chinese without a
line of code that the English ones lack (their code cells are the English ones):

1. ``COURSE_LANG`` (``zh`` or ``en``) if it is set: ``make lab-zh`` and the tests set it;
2. else ``zh`` if the notebook lives under a ``zh/`` folder of the course: JupyterLab starts a
   notebook's kernel in the notebook's folder, and ipykernel tells the kernel the notebook's
   path (``__session__`` in the kernel's namespace, ``JPY_SESSION_NAME`` in its environment);
3. else English.

Figures: matplotlib's own fonts have no Chinese glyphs, so in Chinese the course registers
Noto Sans CJK (shipped by the PyPI package ``noto-cjk-sans-otc``, SIL Open Font License) as a
fallback after DejaVu Sans: Latin letters, digits and maths look as in the English edition,
Chinese characters come from Noto.
"""
from __future__ import annotations

import functools
import logging
import os
import sys
import unicodedata
from pathlib import Path

LANGUAGES = ("en", "zh")
# The catalogs: i18n/ beside the package in the course's repository (make env installs course_lib
# in editable mode, so this is the repository's own folder).
I18N = Path(__file__).resolve().parents[2] / "i18n"


EDITION_FOLDERS = ("notebooks", "exercises", "solutions")


def _under_zh(path: str | os.PathLike | None) -> bool:
    """True if ``path`` is (or is in) zh/notebooks, zh/exercises or zh/solutions."""
    if not path:
        return False
    try:
        parts = Path(path).resolve().parts
    except (OSError, ValueError):
        return False
    return any(a == "zh" and b in EDITION_FOLDERS for a, b in zip(parts, parts[1:]))


def _session_path() -> str | None:
    """The notebook's path as ipykernel knows it (None outside a notebook kernel)."""
    main = sys.modules.get("__main__")
    session = getattr(main, "__session__", None)
    if session is None:
        try:  # IPython keeps the user namespace apart from __main__ in some set-ups
            from IPython import get_ipython

            shell = get_ipython()
            session = shell.user_ns.get("__session__") if shell is not None else None
        except ImportError:
            session = None
    return session or os.environ.get("JPY_SESSION_NAME")


def current() -> str:
    """``"zh"`` or ``"en"``: the language course_lib speaks now (see the module's docstring)."""
    chosen = os.environ.get("COURSE_LANG", "").strip().lower()
    if chosen:
        if chosen.startswith("zh"):
            return "zh"
        if chosen.startswith("en"):
            return "en"
        raise ValueError(f"COURSE_LANG={chosen!r}: expected one of {LANGUAGES}")
    if _under_zh(_session_path()) or _under_zh(os.getcwd()):
        return "zh"
    return "en"


@functools.lru_cache(maxsize=None)
def catalog(lang: str) -> dict[str, str]:
    """{English sentence: translation} of ``i18n/<lang>/course_lib.po``: only entries that are
    translated and not fuzzy (a fuzzy entry was written for an older English sentence)."""
    path = I18N / lang / "course_lib.po"
    if lang == "en" or not path.exists():
        return {}
    import polib

    return {entry.msgid: entry.msgstr for entry in polib.pofile(str(path))
            if entry.msgstr and not entry.obsolete and "fuzzy" not in entry.flags}


def tr(text: str, lang: str | None = None) -> str:
    """``text`` (English) in the current language; ``text`` itself if it has no translation.

    Sentences with numbers are translated as templates, before formatting:
    ``tr("{n} cases").format(n=3)``, so that one catalog entry serves every number."""
    if not text:
        return text
    return catalog(lang or current()).get(text, text)


def say(text: str, **values) -> None:
    """Print a sentence of a lesson in the learner's language: ``say("largest weight {w:.2f}",
    w=0.63)`` prints ``tr(text).format(**values)``, in English exactly what
    ``print(f"largest weight {w:.2f}")`` prints. Lessons use it for the sentences their code cells
    print, so that the Chinese edition, whose code cells are the English ones, prints them in
    Chinese (the template's translation is in i18n/zh/course_lib.po, like course_lib's own)."""
    print(tr(text).format(**values))


def cells(text: str) -> int:
    """How many character cells ``text`` takes in a notebook's output (a monospace font): a Chinese
    character (East Asian width W or F) takes two, any other one."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def pad(text: str, width: int, align: str = ">") -> str:
    """``text`` padded with spaces to ``width`` cells, right-aligned (``">"``) or left-aligned
    (``"<"``): a table's column that lines up in Chinese too. ``f"{text:>{width}}"`` counts
    characters, and a Chinese character is two cells wide, so its column would stick out; for
    English text the two are the same string (the English edition prints exactly what it did)."""
    if align not in ("<", ">"):
        raise ValueError(f"align: expected '<' or '>', got {align!r}")
    fill = " " * max(0, width - cells(text))
    return fill + text if align == ">" else text + fill


def table_lines(header: list[str], rows: list[list[str]], header_align: str, row_align: str,
                gap: str = "  ") -> list[str]:
    """A plain-text table whose columns line up in both editions: the header, a rule of ``-``,
    then the rows; every column as wide, in display cells (:func:`cells`), as its widest entry,
    so that a Chinese header longer than the numbers below it widens its column instead of
    pushing the next one out of line. ``header_align`` and ``row_align`` give one ``"<"`` or
    ``">"`` per column (a header may sit left over right-aligned numbers). The experiments'
    tables of lessons 05-06 use it (sweeps.table, video.weight_table, capstone.learning_rate_table)."""
    lines = [header, *rows]
    if len(header_align) != len(header) or len(row_align) != len(header) or any(len(r) != len(header) for r in rows):
        raise ValueError(f"table_lines: header has {len(header)} columns, header_align {len(header_align)}, "
                         f"row_align {len(row_align)}, rows {sorted({len(r) for r in rows})}; expected all equal")
    for name, align in (("header_align", header_align), ("row_align", row_align)):
        if set(align) - {"<", ">"}:
            raise ValueError(f"table_lines: {name} {align!r} may hold only '<' and '>', one per column")
    wrong = [text for line in lines for text in line if not isinstance(text, str)]
    if wrong:
        raise TypeError(f"table_lines: every entry of header and rows must be a str (format numbers "
                        f"first, e.g. f\"{{x:.2f}}\"), got {type(wrong[0]).__name__} {wrong[0]!r}")
    widths = [max(cells(line[j]) for line in lines) for j in range(len(header))]
    head = gap.join(pad(text, w, a) for text, w, a in zip(header, widths, header_align))
    body = [gap.join(pad(text, w, a) for text, w, a in zip(row, widths, row_align)) for row in rows]
    return [head, "-" * cells(head), *body]


def translate_texts(texts) -> None:
    """Translate matplotlib Text artists in place (titles, labels, legend entries, ...)."""
    table = catalog(current())
    if not table:
        return
    family = use_cjk_font()
    for artist in texts:
        text = artist.get_text()
        if text in table:
            artist.set_text(table[text])
            # a text created before the font was registered has no CJK fallback yet
            families = list(artist.get_fontfamily())
            if family not in families:
                artist.set_fontfamily(families + [family])


def translate_figure(figure) -> None:
    """Translate every text of ``figure`` that the catalog knows (explorers call this)."""
    from matplotlib.text import Text

    if current() == "en":
        return
    translate_texts(figure.findobj(Text))


# The collection holds Japanese, Korean, simplified and traditional Chinese faces of Noto Sans CJK;
# simplified Chinese glyph shapes are the ones Chinese readers of this course expect.
CJK_FAMILY = "Noto Sans CJK SC"


@functools.lru_cache(maxsize=None)
class _OneWeightOnly:
    """A logging filter: Noto Sans CJK ships one weight, so matplotlib draws a bold Chinese title
    in the regular weight and logs "findfont: Failed to find font weight bold for Noto Sans CJK
    ..." for every bold text. A learner can do nothing about it, so that message (only that one,
    for that family) is dropped."""

    def filter(self, record) -> bool:
        message = record.getMessage()
        return not (message.startswith("findfont: Failed to find font weight") and "Noto Sans CJK" in message)


_ONE_WEIGHT_ONLY = _OneWeightOnly()


def use_cjk_font() -> str:
    """Register the shipped Noto Sans CJK with matplotlib and make it the fallback font: a text
    is set in the usual family (DejaVu Sans: Latin letters, digits and maths look as in the
    English edition), and a character that family lacks comes from Noto. Returns the family name
    used. Safe to call many times."""
    import matplotlib
    from matplotlib import font_manager

    try:
        from noto_cjk_sans_otc import FONT_PATH
    except ImportError as error:  # pragma: no cover - a dependency of the course
        raise ImportError("the Chinese edition draws its figures with Noto Sans CJK from the "
                          "package noto-cjk-sans-otc: pip install noto-cjk-sans-otc") from error
    path = str(FONT_PATH)
    font_manager.fontManager.addfont(path)
    logging.getLogger("matplotlib.font_manager").addFilter(_ONE_WEIGHT_ONLY)  # added once: same object
    # matplotlib >= 3.10 registers every face of the collection; older ones only the first (JP),
    # whose Chinese characters are complete too, in Japanese glyph shapes.
    faces = {f.name for f in font_manager.fontManager.ttflist if f.fname == path}
    family = CJK_FAMILY if CJK_FAMILY in faces else font_manager.FontProperties(fname=path).get_name()
    # matplotlib falls back along rcParams["font.family"] glyph by glyph (a generic name such as
    # "sans-serif" stands for the first installed font of its list), so the CJK face goes last.
    families = [f for f in matplotlib.rcParams["font.family"] if f != family]
    matplotlib.rcParams["font.family"] = families + [family]
    return family


def setup() -> str:
    """Called when course_lib is imported: fonts for the current language. Returns it."""
    lang = current()
    if lang == "zh":
        use_cjk_font()
    return lang
