"""Printing the checks' feedback and the progress table (lessons 00-06) on any console.

A Windows (cp1252) or ASCII terminal cannot show every character the hints use (arrows, sigma,
...); they get ASCII stand-ins instead of a crash."""
from __future__ import annotations

import sys


def safe_print(text: str, stream=None) -> None:
    """Print ``text``; on a console that cannot show some character (a Windows cp1252 or an ASCII
    terminal), print ASCII stand-ins instead of raising UnicodeEncodeError."""
    stream = sys.stdout if stream is None else stream
    try:
        print(text, file=stream)
    except UnicodeEncodeError:
        encoding = getattr(stream, "encoding", None) or "ascii"
        plain = text.translate(_ASCII_STAND_INS)
        print(plain.encode(encoding, errors="replace").decode(encoding), file=stream)


_ASCII_STAND_INS = str.maketrans({
    "\u2192": "->", "\u2190": "<-", "\u00d7": "x", "\u2264": "<=", "\u2265": ">=",
    "\u2014": "-", "\u2013": "-", "\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"',
    "\u221a": "sqrt", "\u00b2": "^2", "\u00b7": ".", "\u2026": "...", "\u03c3": "sigma",
    "\u2248": "~", "\u2260": "!=", "\u2211": "sum", "\u221e": "inf", "\u2212": "-",
    "\u2713": "v", "\u2717": "x",
})
