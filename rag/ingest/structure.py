"""Turn cleaned blocks into citable paragraphs: numbered paragraphs, sub-paragraphs, headings, resolution parts, speaker turns."""
from __future__ import annotations

from dataclasses import dataclass, field

from rag.ingest.patterns import (
    ANNEX_RE,
    BULLET_RE,
    CLOSING_RE,
    ELLIPSIS_RE,
    LETTER_ITEM_RE,
    NUMBERED_RE,
    OPERATIVE_GROUP_RE,
    OPERATIVE_ITEM_RE,
    OPERATIVE_START,
    PREAMBULAR,
    SUBPARA_RE,
    heading_level,
    parse_speaker,
)
from rag.types import Paragraph

PARA_SEP = "\n\n"  # blocks are joined with this in the cleaned document text
_ROMAN = {"一": "I", "二": "II", "三": "III", "四": "IV", "五": "V", "六": "VI", "七": "VII", "八": "VIII", "九": "IX", "十": "X"}


def _annex_label(block: str) -> str:
    m = ANNEX_RE.match(block.strip())
    num = (m.group(1) or m.group(2) or "") if m else ""
    num = _ROMAN.get(num, num.upper())
    return f"annex {num}".strip()


def _is_keyword_line(block: str) -> bool:
    """A short unpunctuated line such as `忆及` or `Recalling` that opens a group of resolution items."""
    s = block.strip().rstrip(",，")
    low = s.lower()
    return len(s) <= 30 and (
        any(low == k or low.startswith(k + " ") for k in PREAMBULAR)
        or low in OPERATIVE_START
        or bool(OPERATIVE_GROUP_RE.match(s))
    )


def detect_kind(blocks: list[str]) -> str:
    """meeting_record, resolution or document, from the structure the blocks show."""
    turns = sum(1 for b in blocks if parse_speaker(b))
    if turns >= 2:
        return "meeting_record"
    keywords = sum(1 for b in blocks if _is_keyword_line(b))
    if keywords >= 2 and any(b.strip() in OPERATIVE_START or b.strip().lower() in OPERATIVE_START for b in blocks):
        return "resolution"
    return "document"


@dataclass
class _State:
    headings: list[tuple[int, str]] = field(default_factory=list)
    annex: str | None = None
    para: str | None = None  # current numbered paragraph, e.g. "21"
    sub: str | None = None  # current sub-paragraph letter
    group: str | None = None  # resolution keyword group, e.g. "忆及"
    operative: bool = False
    item: str | None = None  # resolution item: "a" or "3"
    turn: int = 0
    turn_para: int = 0
    speaker: tuple[str | None, str | None, str | None] = (None, None, None)


def _heading_path(st: _State) -> list[str]:
    return [h for _, h in st.headings]


def parse_paragraphs(blocks: list[str], kind: str | None = None) -> tuple[str, list[Paragraph], str]:
    """Return the cleaned document text, its paragraphs with locators and spans, and the document kind."""
    kind = kind or detect_kind(blocks)
    st = _State()
    paras: list[Paragraph] = []
    offset = 0
    for block in blocks:
        start, end = offset, offset + len(block)
        offset = end + len(PARA_SEP)
        s = block.strip()
        speaker = (None, None, None)
        locator: str
        level = heading_level(s)
        if level is not None and not NUMBERED_RE.match(s):
            if level == 0:
                st.annex, st.para, st.sub = _annex_label(s), None, None
                st.headings = [(0, s)]
            else:
                st.headings = [h for h in st.headings if h[0] < level] + [(level, s)]
                st.para, st.sub = None, None
            paras.append(Paragraph(block, st.annex or s, start, end, _heading_path(st), is_heading=True))
            continue
        if kind == "meeting_record":
            turn = parse_speaker(s)
            if turn:
                st.turn += 1
                st.turn_para = 1
                st.speaker = (turn.speaker, turn.delegation, turn.language)
            elif CLOSING_RE.search(s) and len(s) < 60:
                paras.append(Paragraph(block, "closing", start, end, _heading_path(st)))
                continue
            else:
                st.turn_para += 1
            speaker = st.speaker
            locator = f"turn {st.turn} ¶{st.turn_para}" if st.turn else "front matter"
        elif kind == "resolution" and not NUMBERED_RE.match(s):
            locator = _resolution_locator(s, st)
            if locator == "":
                paras.append(Paragraph(block, s, start, end, _heading_path(st), is_heading=True))
                continue
        else:
            locator = _report_locator(s, st)
        paras.append(
            Paragraph(
                text=block,
                locator=locator,
                start=start,
                end=end,
                headings=_heading_path(st),
                speaker=speaker[0],
                delegation=speaker[1],
                spoken_language=speaker[2],
            )
        )
    return PARA_SEP.join(blocks), paras, kind


def _report_locator(s: str, st: _State) -> str:
    prefix = f"{st.annex} " if st.annex else ""
    m = NUMBERED_RE.match(s)
    if m:
        st.para, st.sub = m.group(1), None
        return f"{prefix}¶{st.para}"
    m = SUBPARA_RE.match(s)
    if m and st.para:
        label = m.group(1)
        # (i) after (h) is a letter; otherwise roman numerals nest under the current letter.
        if st.sub and label in ("i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x") and st.sub != "h":
            return f"{prefix}¶{st.para}({st.sub})({label})"
        st.sub = label
        return f"{prefix}¶{st.para}({label})"
    if st.para:
        return f"{prefix}¶{st.para}" + (f"({st.sub})" if st.sub and (BULLET_RE.match(s) or ELLIPSIS_RE.match(s)) else "")
    if st.annex:
        return st.annex
    return "front matter"


def _resolution_locator(s: str, st: _State) -> str:
    """Locators such as `preamble 忆及 (a)` and `operative 3 (责成秘书长)`; '' marks a group heading."""
    if _is_keyword_line(s):
        if s in OPERATIVE_START or s.lower() in OPERATIVE_START:
            st.operative = True
        st.group, st.item = s.rstrip(",，"), None
        return ""
    part = "operative" if st.operative else "preamble"
    m = LETTER_ITEM_RE.match(s) or OPERATIVE_ITEM_RE.match(s)
    if m:
        st.item = m.group(1)
    elif not BULLET_RE.match(s):
        st.item = None
    if st.group is None:
        return "front matter"
    if part == "operative":
        return f"operative {st.item} ({st.group})" if st.item else f"operative ({st.group})"
    return f"preamble {st.group} ({st.item})" if st.item else f"preamble {st.group}"
