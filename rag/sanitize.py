"""Clean user-typed text (questions, topics) before anything else: invalid Unicode, control characters, length."""
from __future__ import annotations

import re
import unicodedata

from rag.errors import RagError

# Bidirectional overrides and isolates reorder what is shown (a question that reads differently from what it is).
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069\u200b\u2060\ufeff\ufffe\uffff]")  # + zero-width, BOM, nonchars
_SURROGATE = re.compile("[\ud800-\udfff]")
_WS = re.compile(r"\s+")
EXAMPLE = '"What did the Group of Experts conclude?"'


def clean_text(text: object) -> str:
    """`text` as valid Unicode without control characters, NFC, whitespace squeezed.

    Undecodable bytes (from a terminal's argv, surrogate-escaped by Python) and lone surrogates (a JSON
    `"\\ud800"`) are dropped; line breaks and tabs become spaces; other control and bidi-override characters go.

    Args:
        text: a str, or bytes (decoded as UTF-8, invalid bytes dropped).

    Returns:
        The cleaned text ('' when nothing is left); RagError when `text` is not text at all.
    """
    if isinstance(text, (bytes, bytearray)):
        text = bytes(text).decode("utf-8", "ignore")
    if not isinstance(text, str):
        raise RagError(f"the question must be text, got {type(text).__name__}")
    text = _SURROGATE.sub("", text)
    text = _BIDI.sub("", text)
    text = "".join(" " if ch in "\t\n\r\x0b\x0c\x85\u2028\u2029" else ch for ch in text
                   if ch in "\t\n\r\x0b\x0c\x85\u2028\u2029" or unicodedata.category(ch) != "Cc")
    text = unicodedata.normalize("NFC", text)
    return _WS.sub(" ", text).strip()


def has_words(text: str) -> bool:
    """Whether `text` holds a letter or digit (not only punctuation, symbols or marks)."""
    return any(unicodedata.category(ch)[0] in "LN" for ch in text)


def clean_question(text: object, max_chars: int, what: str = "question") -> str:
    """A question ready for retrieval, or RagError naming what is wrong with it.

    Args:
        text: the question as typed (any path: UI, API, CLI argv, a batch line).
        max_chars: the length limit, checked on the cleaned text (and on the raw text, 4x, before cleaning).
        what: "question" or "topic", for the messages.
    """
    if isinstance(text, str) and len(text) > 4 * max_chars:  # bound the cleaning work itself
        raise RagError(f"the {what} is {len(text)} characters long; the limit is {max_chars}")
    q = clean_text(text)
    if not q:
        raise RagError(f"the {what} is empty (after removing control characters and invalid Unicode): "
                       f"ask something, e.g. {EXAMPLE}")
    if len(q) > max_chars:
        raise RagError(f"the {what} is {len(q)} characters long; the limit is {max_chars}")
    if not has_words(q):
        shown = repr(q[:30])
        shown = shown if len(shown) <= 80 else shown[:76] + "...'"
        raise RagError(f"the {what} {shown} has no words, only punctuation or symbols: ask something, e.g. {EXAMPLE}")
    return q


# Every character that can start Markdown or HTML markup: emphasis, code, headings, links and images ([ ] !),
# tables (|), strikethrough (~), raw HTML and entities (< > &). A backslash before ASCII punctuation always
# means the literal character (CommonMark §2.4), so the escaped text renders exactly as written.
_MD_SPECIAL = frozenset("\\*_`<>#[]!|~&")


def md_escape(text: str) -> str:
    """Text safe anywhere in Markdown: one line, every markup character shown as itself (never HTML)."""
    return "".join("\\" + ch if ch in _MD_SPECIAL else ch for ch in " ".join(str(text).split()))
