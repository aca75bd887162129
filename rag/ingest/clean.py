"""Drop page furniture from extracted text and rejoin wrapped lines into blocks, keeping characters verbatim."""
from __future__ import annotations

import re
import unicodedata
from collections import Counter

from rag.ingest.patterns import (
    CLAUSE_END,
    PAGE_NUMBER_RE,
    TERMINAL,
    display_width,
    is_furniture_line,
    is_symbol_line,
    starts_block,
)
from rag.text import is_cjk_wide

_KEEP_HYPHEN_PREFIXES = {
    "non", "self", "anti", "co", "ex", "multi", "cross", "well", "long", "short", "high", "low", "full",
    "part", "follow", "pre", "post", "re", "de", "mid", "semi", "sub", "super", "counter", "state", "all",
}


def _squash(s: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", s))


def split_lines(text: str) -> list[str]:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u00a0", " ")
    return [line.rstrip() for line in text.split("\n")]


def drop_outline(lines: list[str]) -> list[str]:
    """Remove the bookmark outline a PDF extraction appends: a trailing run of short lines repeating headings."""
    idx = [i for i, line in enumerate(lines) if line.strip()]
    if len(idx) < 4:
        return lines
    run: list[int] = []
    for i in reversed(idx):
        s = lines[i].strip()
        if len(s) > 80:
            break
        run.append(i)
        earlier = _squash("\n".join(lines[:i]))
        if _squash(s) not in earlier:
            run.pop()
            break
    if len(run) < 2:
        return lines
    cut = min(run)
    return lines[:cut]


def drop_furniture(lines: list[str], symbol: str | None = None) -> list[str]:
    """Remove running headers/footers, page counters, job numbers, undocs links and repeated titles."""
    stripped = [line.strip() for line in lines]
    counts = Counter(s for s in stripped if s)
    furniture = [False] * len(lines)
    for i, s in enumerate(stripped):
        if not s:
            continue
        if is_furniture_line(s) or (symbol and s == symbol) or is_symbol_line(s):
            furniture[i] = True
        elif PAGE_NUMBER_RE.match(s) and counts[s] == 1 and _near_break(stripped, i):
            furniture[i] = True
    # A short line repeated on several pages next to other furniture is a running title.
    for i, s in enumerate(stripped):
        if s and not furniture[i] and counts[s] >= 3 and len(s) <= 80:
            near = [j for j in range(max(0, i - 3), min(len(lines), i + 4)) if j != i and furniture[j]]
            if near:
                furniture[i] = True
    # Removed rather than blanked: a blank would read as a paragraph break in blank-line layouts.
    return [line for line, f in zip(lines, furniture) if not f]


def _near_break(stripped: list[str], i: int) -> bool:
    window = stripped[max(0, i - 2) : i + 3]
    return any(s == "\f" or is_furniture_line(s) for s in window if s)


def join_lines(prev: str, nxt: str) -> str:
    """Join a wrapped line to its predecessor: CJK without a space, Latin with one, hyphenation undone."""
    a, b = prev.rstrip(), nxt.strip()
    if not a:
        return b
    if not b:
        return a
    m = re.search(r"([A-Za-z]+)-$", a)
    if m and b[0].islower():
        if m.group(1).lower() in _KEEP_HYPHEN_PREFIXES:
            return a + b
        return a[:-1] + b
    if is_cjk_wide(a[-1]) or is_cjk_wide(b[0]) or a.endswith("/"):
        return a + b
    return a + " " + b


def _layout(lines: list[str]) -> str:
    """'double' (PDF text with a blank line after every line), 'blank' (blank-line paragraphs) or 'lines'."""
    nonblank = [i for i, line in enumerate(lines) if line.strip()]
    if not nonblank:
        return "blank"
    followed_by_blank = sum(1 for i in nonblank if i + 1 < len(lines) and not lines[i + 1].strip())
    if followed_by_blank >= 0.6 * len(nonblank):
        return "double"
    if followed_by_blank >= 0.1 * len(nonblank):
        return "blank"
    ends = sum(1 for i in nonblank if lines[i].rstrip()[-1] in CLAUSE_END or len(lines[i].strip()) <= 12)
    return "lines" if ends >= 0.6 * len(nonblank) else "wrapped"


def to_blocks(lines: list[str]) -> list[str]:
    """Group lines into blocks (paragraphs, items, headings, speaker turns) and rejoin each block's lines."""
    layout = _layout(lines)
    widths = sorted(display_width(line.strip()) for line in lines if line.strip())
    full = widths[int(0.9 * (len(widths) - 1))] if widths else 0
    blocks: list[str] = []
    cur: str | None = None
    prev_blank = True
    prev_width = 0
    prev_terminal = True
    for line in lines:
        s = line.strip()
        if not s or s == "\f":
            # Only a real blank line separates paragraphs, and only in the blank-line layout.
            prev_blank = prev_blank or (layout == "blank" and not s)
            continue
        indented = line[:1] in (" ", "\t", "\u3000")
        new = (
            cur is None
            or layout == "lines"
            or starts_block(s)
            or (layout == "blank" and prev_blank)
            # An indent opens a paragraph only after a finished sentence: the first line of a page is
            # often indented in extractions even when it continues the previous page's sentence.
            or (layout in ("double", "wrapped") and ((indented and prev_terminal) or prev_width < 0.6 * full))
        )
        if new:
            if cur is not None:
                blocks.append(cur)
            cur = s
        else:
            cur = join_lines(cur, s)
        prev_blank = False
        prev_width = display_width(s)
        prev_terminal = s[-1] in TERMINAL + "”」』"
    if cur is not None:
        blocks.append(cur)
    return blocks


def clean_blocks(text: str, symbol: str | None = None) -> list[str]:
    """Extracted text → cleaned blocks, page furniture and the bookmark outline removed."""
    lines = split_lines(text)
    lines = drop_outline(lines)
    lines = drop_furniture(lines, symbol)
    return to_blocks(lines)
