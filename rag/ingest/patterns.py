"""Regular expressions for UN document structure: symbols, page furniture, paragraph markers, speaker turns."""
from __future__ import annotations

import re
from dataclasses import dataclass

# A UN-style document symbol: CD/PV.1505, CCW/GGE.1/2023/2, A/RES/73/266, EUR/44A25/1, S/2019/123/Add.1
SYMBOL = r"[A-Z][A-Z0-9]{0,9}(?:\.\d+)?(?:/[A-Za-z0-9][A-Za-z0-9.\-]*)+"
SYMBOL_RE = re.compile(rf"(?<![A-Za-z0-9/]){SYMBOL}")

# Page furniture lines (matched against the stripped line).
FURNITURE_RES = [
    re.compile(r"^https?://(?:www\.)?undocs\.org/\S*$", re.I),
    re.compile(r"^\d{1,4}\s*/\s*\d{1,4}$"),  # page counter 9/12
    re.compile(r"^(?:\d{1,4}/\d{1,4}\s+)?(?:GE\.)?\d{2}-\d{5}(?:\s*\([A-Z]\))?(?:\s+\d{1,4}/\d{1,4})?$"),  # job number
    re.compile(r"^\*\d{7,}\*$"),  # barcode text
    re.compile(r"^(?:Please recycle|请回收|请注意回收)\W*$", re.I),
    re.compile(r"^\f$"),
]
PAGE_NUMBER_RE = re.compile(r"^(?:-\s*)?\d{1,4}(?:\s*-)?$")  # a bare page number, only furniture when repeated

CJK_NUM = "一二三四五六七八九十"
HEADING_RES = [
    (1, re.compile(rf"^[{CJK_NUM}]+\s*[.．、]\s*\S")),  # 一. 导言
    (1, re.compile(r"^(?:[IVXL]+)\.\s+\S")),  # IV. Recommendations
    (2, re.compile(r"^[A-H]\.\s+\S")),  # B. Substantive issues
    (1, re.compile(rf"^第[{CJK_NUM}\d]+[章节部分]")),
]
ANNEX_RE = re.compile(rf"^(?:附件\s*([{CJK_NUM}\d]*)|Annex(?:\s+([IVXL\d]+))?)\s*$", re.I)
NUMBERED_RE = re.compile(r"^(\d{1,3})\.(?!\d)\s*(?=\S)")  # 21. ...
SUBPARA_RE = re.compile(r"^\(([a-z]{1,2}|[ivxl]{1,5})\)\s*")  # (a) / (ii)
LETTER_ITEM_RE = re.compile(r"^([a-z])\)\s+")  # a)\t... (ITU-style preambular items)
OPERATIVE_ITEM_RE = re.compile(r"^(\d{1,2})(?:\t|\s{2,}|\.\t)")  # 1\t... (ITU-style operative items)
BULLET_RE = re.compile(r"^[•▪●◦·–—\-]\s+")
ELLIPSIS_RE = re.compile(r"^\((?:……|\.\.\.|…)\)$")

TERMINAL = "。！？.!?；;:："
CLAUSE_END = TERMINAL + "，,、）)”\"’'»"

# Preambular and operative openers of resolutions (Chinese, English, French, Spanish).
PREAMBULAR = (
    "忆及", "进一步忆及", "注意到", "进一步注意到", "考虑到", "进一步考虑到", "认识到", "进一步认识到", "意识到",
    "铭记", "强调", "重申", "欢迎", "回顾", "深信", "关切地注意到", "承认", "确认", "深感关切",
    "recalling", "noting", "considering", "recognizing", "recognising", "bearing in mind", "aware",
    "emphasizing", "reaffirming", "welcoming", "convinced", "concerned", "acknowledging", "further recalling",
    "rappelant", "notant", "considérant", "reconnaissant", "recordando", "observando", "considerando",
)
OPERATIVE_START = ("做出决议", "作出决议", "决议", "决定", "resolves", "decides", "décide", "decide")
OPERATIVE_GROUP_RE = re.compile(
    r"^(?:责成|请|要求|鼓励|邀请|instructs|invites|requests|encourages|urges|calls upon|charge|invite)", re.I
)

CLOSING_RE = re.compile(r"(?:时\s*\d*\s*分?散会|散会。?$|The meeting rose|La séance est levée|Se levanta la sesión)", re.I)

_TITLE_SUFFIX = ("先生", "女士", "主席", "大使", "夫人", "阁下", "代表", "博士", "秘书长", "副主席", "主持人")
_EN_TITLES = re.compile(r"^(?:Mr|Mrs|Ms|Dr|Sir|Mme|M|Sr|Sra|H\.E)\.?\s|^The (?:Acting )?(?:President|Chair|Chairman|Chairperson|Secretary-General)\b")
_LANG_RE = re.compile(r"^以(.{1,8}?)发言$|^spoke in (\w+)$|^interpretation from (\w+)$|^parle en (\w+)$|^habla en (\w+)$", re.I)
_OPEN, _CLOSE = "(（", ")）"


@dataclass
class SpeakerTurn:
    speaker: str
    delegation: str | None
    language: str | None
    body_start: int  # offset of the speech text after the colon


def parse_speaker(text: str) -> SpeakerTurn | None:
    """Parse `安布拉舍维奇先生(白俄罗斯)(以俄语发言)：...` or `Mr. X (Belarus) (spoke in Russian): ...`."""
    s = text.lstrip()
    lead = len(text) - len(s)
    i = 0
    while i < len(s) and s[i] not in _OPEN + "：:" and i <= 40:
        i += 1
    name = s[:i].strip()
    if not name or i > 40 or any(c in name for c in "，。,;；、“”\"!?！？"):
        return None
    groups: list[str] = []
    while i < len(s):
        while i < len(s) and s[i] in " \t":
            i += 1
        if i < len(s) and s[i] in _OPEN:
            depth, j = 0, i
            while j < len(s):
                if s[j] in _OPEN:
                    depth += 1
                elif s[j] in _CLOSE:
                    depth -= 1
                    if depth == 0:
                        break
                j += 1
            if j >= len(s) or j - i > 80:
                return None
            groups.append(s[i + 1 : j].strip())
            i = j + 1
        else:
            break
    if i >= len(s) or s[i] not in "：:":
        return None
    language = None
    delegation = None
    for g in groups:
        m = _LANG_RE.match(g)
        if m:
            language = next(x for x in m.groups() if x)
        elif delegation is None:
            delegation = g
    titled = name.endswith(_TITLE_SUFFIX) or bool(_EN_TITLES.match(name + " "))
    if not (titled or language) or len(name) > 30:
        return None
    return SpeakerTurn(name, delegation, language, lead + i + 1)


def is_furniture_line(stripped: str) -> bool:
    return any(r.match(stripped) for r in FURNITURE_RES)


def is_symbol_line(stripped: str) -> bool:
    """A line holding only a document symbol (a running header), optionally with a tag such as ADD."""
    parts = stripped.split()
    if not parts or len(parts) > 3:
        return False
    syms = [p for p in parts if SYMBOL_RE.fullmatch(p)]
    rest = [p for p in parts if not SYMBOL_RE.fullmatch(p)]
    return len(syms) == 1 and all(
        re.fullmatch(r"(?:ADD|Add\.\d*|Corr\.\d*|Rev\.\d*|\d{1,4}/\d{1,4}|\d{2}-\d{5})", p) for p in rest
    )


def starts_block(stripped: str) -> bool:
    """Does a line open a new structural unit (numbered paragraph, item, heading, speaker turn)?"""
    return bool(
        NUMBERED_RE.match(stripped)
        or SUBPARA_RE.match(stripped)
        or LETTER_ITEM_RE.match(stripped)
        or OPERATIVE_ITEM_RE.match(stripped)
        or BULLET_RE.match(stripped)
        or ELLIPSIS_RE.match(stripped)
        or ANNEX_RE.match(stripped)
        or any(r.match(stripped) for _, r in HEADING_RES)
        or parse_speaker(stripped)
    )


def heading_level(block: str) -> int | None:
    s = block.strip()
    if len(s) > 80 or s.endswith(tuple("。.;；，,")):
        return None
    if ANNEX_RE.match(s):
        return 0
    for level, r in HEADING_RES:
        if r.match(s):
            return level
    return None


def display_width(s: str) -> int:
    """Width of a line as laid out on the page: CJK characters count double."""
    return sum(2 if "\u2e80" <= c <= "\uffef" else 1 for c in s)
