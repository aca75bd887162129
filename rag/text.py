"""Text helpers shared by every stage: character classes, sentence spans and a cheap token estimate."""
from __future__ import annotations

import re

_SENTENCE_END = re.compile(r"(?<=[。！？；!?;])|(?<=[.])(?=\s+[A-Z\"“(])")


def is_ideograph(ch: str) -> bool:
    """Han (with extensions and compatibility ideographs), kana and 〇; not the katakana middle dot.

    The question "is this character Chinese/Japanese writing": language detection and CJK answer F1 use it.
    """
    o = ord(ch)
    return (0x3400 <= o <= 0x4DBF or 0x4E00 <= o <= 0x9FFF or 0xF900 <= o <= 0xFAFF
            or 0x20000 <= o <= 0x323AF or (0x3040 <= o <= 0x30FF and o != 0x30FB) or o == 0x3007)


def is_cjk_wide(ch: str) -> bool:
    """CJK ideographs, CJK punctuation and full-width forms (U+2E80–U+9FFF, U+3000–U+303F, U+F900–U+FAFF, U+FF00–U+FFEF).

    The question "does this character take a full cell and need no space beside it": line joining, token
    estimates and the citation check's character bigrams use it.
    """
    return "\u2e80" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff" or "\uff00" <= ch <= "\uffef" or "\u3000" <= ch <= "\u303f"


# Titles and short forms that end with a full stop but not a sentence ("Mr. Bagheri Hamaneh (Iran) said ...").
_ABBREVIATION = re.compile(r"(?:^|[\s(\"“])(?:Mr|Mrs|Ms|Mme|M|Dr|Prof|Sr|Jr|St|No|Nos|Art|Arts|para|paras|Vol|"
                           r"p|pp|e\.g|i\.e|cf|vs|etc|H\.E)\.$")


def ends_with_abbreviation(text: str) -> bool:
    """Whether `text` ends with a title or short form and its full stop ("... said Mr."), so no sentence ends there."""
    return bool(_ABBREVIATION.search(text))


def estimate_tokens(text: str) -> int:
    """Cheap upper estimate of XLM-R tokens: one per CJK character, ~1.4 per Latin word."""
    cjk = sum(1 for c in text if is_cjk_wide(c))
    words = len(re.findall(r"[^\W\d_]+|\d+", "".join(" " if is_cjk_wide(c) else c for c in text)))
    return cjk + int(words * 1.4) + 2


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Spans of sentences in `text` (each span keeps its trailing whitespace).

    Args:
        text: any text; Chinese sentences end at 。！？；, Latin ones at .!?; before a capital.
    Returns:
        (start, end) character spans covering every non-blank sentence, in order.
    """
    cuts = [m.start() for m in _SENTENCE_END.finditer(text) if 0 < m.start() < len(text)]
    bounds = [0] + sorted(set(cuts)) + [len(text)]
    return [(a, b) for a, b in zip(bounds, bounds[1:]) if text[a:b].strip()]
