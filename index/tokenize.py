"""Keyword tokens for BM25: jieba words for Chinese, lower-cased words for other scripts."""
from __future__ import annotations

import logging
import re
import unicodedata
from functools import lru_cache

_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_WORD = re.compile(r"[^\W_]+(?:[-'.][^\W_]+)*", re.UNICODE)
# Function words that carry no topic: dropping them keeps BM25 from matching on "的" or "the".
STOPWORDS = set(
    "的 了 和 与 及 或 在 是 为 对 于 将 就 也 都 而 并 其 之 以 等 这 那 我 我们 你 你们 他 她 它 他们 有 被 由 从 把 中 上 下 "
    "什么 哪 哪些 哪个 谁 何 如何 怎么 怎样 多少 是否 吗 呢 吧 啊 "
    "the a an of and or to in on at for by with from as is are was were be been it its this that these those "
    "what which who whom whose when where why how did do does about into than then there their they them "
    "le la les des de du et en un une que qui quoi est sur pour par au aux el los las del y que en por para con".split()
)


@lru_cache(maxsize=1)
def _jieba():
    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


def chinese_words(text: str, search: bool = False) -> list[str]:
    """jieba's words of `text`: precise mode, or search mode (long compounds and their sub-words)."""
    return _jieba().lcut_for_search(text) if search else _jieba().lcut(text)


def word_frequency(word: str) -> int:
    """How common a Chinese word is: its count in jieba's dictionary (0 when absent)."""
    return _jieba().dt.FREQ.get(word, 0) or 0


_ACRONYM = re.compile(r"[A-Z]{2,}[A-Za-z]*")


def _words(text: str) -> list[str]:
    """Words outside ideograph runs, as `tokenize` cuts them (case kept)."""
    return [w for part in _CJK_RUN.split(text) for w in _WORD.findall(part)]


def neutral_tokens(text: str) -> list[str]:
    """The tokens of `text` that read the same in every language: words with a digit and acronyms (EUR-2,
    GGE.1, 2023, UNEP), lower-cased and cut exactly as `tokenize` cuts the indexed text, so they match it (a
    pattern of their own cut `[EUR-2]` into `EUR` and `2`, which the index, holding `eur-2`, never matched)."""
    text = unicodedata.normalize("NFKC", text)
    return [w.lower() for w in _words(text) if any(ch.isdigit() for ch in w) or _ACRONYM.fullmatch(w)]


def tokenize(text: str) -> list[str]:
    """Tokens of `text` for keyword search (NFKC, lower-cased, stopwords dropped)."""
    text = unicodedata.normalize("NFKC", text).lower()
    tokens: list[str] = []
    pos = 0
    for m in _CJK_RUN.finditer(text):
        tokens.extend(_WORD.findall(text[pos : m.start()]))
        # Search mode adds the sub-words of long compounds, so 致命性自主武器 also matches 武器.
        tokens.extend(t for t in _jieba().lcut_for_search(m.group(0)) if t.strip())
        pos = m.end()
    tokens.extend(_WORD.findall(text[pos:]))
    return [t for t in tokens if t not in STOPWORDS]
