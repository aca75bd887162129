"""Chinese names written in pinyin in an English question ("Where was Wang Tiancheng born?"), found in Chinese text by
the readings of its characters (CC-CEDICT): a name no dictionary translates still finds the passages that write it."""
from __future__ import annotations

import gzip
import re
from functools import lru_cache
from typing import Callable, Iterable

from rag.models.lexicon import cedict_path, load_lexicon

_LINE = re.compile(r"^(\S+) (\S+) \[([^\]]*)\]")
_HAN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff]")
_VOWEL = re.compile("[aeiouv]")
_CAPITALISED_RUN = re.compile(r"(?<![\w'-])[A-Z][a-z]+(?:[ -][A-Z][a-z]+)*")
MIN_SYLLABLES = 2  # one syllable ("Li") reads a character in nearly any passage


@lru_cache(maxsize=1)
def readings() -> dict[str, frozenset[str]]:
    """Each Chinese character's toneless pinyin readings, from CC-CEDICT's entries (simplified forms); {} without
    the dictionary (~0.7 s, once per process)."""
    out: dict[str, set[str]] = {}
    try:
        with gzip.open(cedict_path(), "rt", encoding="utf-8") as f:
            for line in f:
                m = _LINE.match(line)
                if not m or line.startswith("#"):
                    continue
                word, spelled = m.group(2), m.group(3).lower().split()
                if len(word) != len(spelled):
                    continue
                for ch, s in zip(word, spelled):
                    s = re.sub(r"\d", "", s).replace("u:", "v")
                    # Chinese characters only, and syllables with a vowel (not the letter entries' "w", "m")
                    if _HAN.match(ch) and s.isascii() and s.isalpha() and _VOWEL.search(s):
                        out.setdefault(ch, set()).add(s)
    except (OSError, EOFError):
        return {}
    return {ch: frozenset(v) for ch, v in out.items()}


@lru_cache(maxsize=1)
def syllables() -> frozenset[str]:
    """Every toneless pinyin syllable the dictionary uses."""
    return frozenset(s for v in readings().values() for s in v)


def segment(word: str) -> list[str] | None:
    """`word` cut into pinyin syllables ("Tiancheng" -> ["tian", "cheng"]), longest syllable first with
    backtracking; None when it is no pinyin ("Ambassador")."""
    w, known = word.lower(), syllables()

    def cut(i: int) -> list[str] | None:
        if i == len(w):
            return []
        for j in range(min(len(w), i + 6), i, -1):
            if w[i:j] in known:
                rest = cut(j)
                if rest is not None:
                    return [w[i:j], *rest]
        return None

    return cut(0) if w else None


def pinyin_names(question: str, is_term: Callable[[str], bool]) -> list[tuple[str, list[str]]]:
    """The names of an English question written in pinyin: the longest runs of capitalised words that each cut into
    syllables, of two syllables or more, that `is_term` does not know as an English word or phrase ("Hong Kong";
    "Fan" alone is a word, "Fan Baihu" a name).

    Returns:
        (the name as written, its syllables) in question order.
    """
    out = []
    for m in _CAPITALISED_RUN.finditer(question):
        run: list[tuple[str, list[str]]] = []
        for word in [*re.split(r"[ -]", m.group(0)), ""]:  # "" closes the last run
            cut = segment(word) if word else None
            if cut is not None:
                run.append((word, cut))
                continue
            name = " ".join(w for w, _ in run)
            flat = [s for _, c in run for s in c]
            if run and len(flat) >= MIN_SYLLABLES and not is_term(name.lower()):
                out.append((name, flat))
            run = []
    return out


def find_pinyin(spelled: list[str], text: str) -> set[str]:
    """The runs of characters in `text` that read `spelled` (王天成 reads wang tian cheng; homophones too)."""
    table = readings()
    k = len(spelled)
    return {text[i : i + k] for i in range(len(text) - k + 1)
            if all(spelled[j] in table.get(text[i + j], ()) for j in range(k))}


def with_pinyin_names(query: str, translated: list[tuple[str, tuple[str, ...]]],
                      texts: Iterable[str]) -> list[tuple[str, tuple[str, ...]]]:
    """`translated` with each pinyin name of an English question ("Wang Tiancheng", rag.models.pinyin) as one more
    concept, its translations the character runs that read it in `texts` (the dense candidates in Chinese: 王天成),
    in place of the dictionary's reading of its words ("Fan Baihu" is no 风扇). Unchanged when no text reads it.
    `texts` is read only when the question has a pinyin name (most have none: pass a generator)."""
    names = pinyin_names(query, lambda p: bool(load_lexicon().translations(p)))
    pool = list(texts) if names else []
    for name, spelled in names:
        found = sorted({run for t in pool for run in find_pinyin(spelled, t)})
        if found:
            words = {w.lower() for w in re.split(r"[ -]", name)}
            translated = [(k, ws) for k, ws in translated if k not in words] + [(name.lower(), tuple(found))]
    return translated
