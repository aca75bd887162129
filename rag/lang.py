"""Script-based language detection for questions and documents: the six UN languages, else "other"."""
from __future__ import annotations

import re
import unicodedata
from collections import Counter

from rag.text import is_ideograph

# Languages written with ideographs (answers keep CJK script; their e5 cosines run higher than other languages').
CJK_LANGUAGES = frozenset({"zh", "ja", "ko"})
LANGUAGE_LABELS = {"zh": "Chinese", "en": "English", "fr": "French", "es": "Spanish", "ru": "Russian", "ar": "Arabic"}

_STOP = {
    "en": set("the a an of in on to and for by with from about at is are was were be been did does do what "
              "which who whom whose when where why how this that these those it its has have had according "
              "under into should must can".split()),
    "fr": set("le la les des du de un une est sont quel quelle quels quelles qui que quoi où quand comment "
              "pourquoi dans sur pour par avec au aux et ce cette ces selon été l d qu il elle ont".split()),
    "es": set("el la los las del de un una es son qué quién quiénes cuál cuáles cuándo dónde cómo por para "
              "con en y se su sus según fue fueron al lo".split()),
}
_CUES = {"fr": set("çèêëàâùûœîï"), "es": set("ñ¿¡áíóú")}
_WORD = re.compile(r"[a-z\u00c0-\u024f]+")  # Latin-script words (after lowercasing)


def _script(ch: str) -> str | None:
    o = ord(ch)
    if is_ideograph(ch):
        return "kana" if 0x3040 <= o <= 0x30FF else "han"
    if not ch.isalpha():
        return None
    if 0x0400 <= o <= 0x052F:
        return "cyrillic"
    if 0x0600 <= o <= 0x06FF or 0x0750 <= o <= 0x077F or 0xFB50 <= o <= 0xFDFF or 0xFE70 <= o <= 0xFEFF:
        return "arabic"
    if o < 0x0250 or 0x1E00 <= o <= 0x1EFF:
        return "latin"
    return "other"


def _latin_language(text: str) -> str | None:
    words = _WORD.findall(text.lower())
    scores = {lang: sum(1 for w in words if w in stop) for lang, stop in _STOP.items()}
    for lang, cues in _CUES.items():
        scores[lang] += sum(1 for ch in text.lower() if ch in cues)
    best = max(scores.values())
    if best == 0:
        return None
    return next(lang for lang in ("en", "fr", "es") if scores[lang] == best)


def detect_document_language(text: str) -> str:
    """Language of a document's text: the script with most weight (a Han character counting as 3 Latin letters,
    about one word), Latin script told apart by stopwords and accents (en without cues).

    Unlike `detect_language`, a few Latin stopwords do not make a text Latin-script: a Chinese resolution that
    quotes "A/RES/70/1" and an English organisation name is Chinese (the question rule read the seed
    EUR/44A25/1 as English).
    """
    text = unicodedata.normalize("NFKC", text)
    counts = Counter(s for s in map(_script, text) if s)
    if not counts:
        return "other"
    if counts["kana"] >= 0.1 * (counts["kana"] + counts["han"]) > 0:  # Japanese mixes kanji with kana
        return "ja"
    weighted = Counter({s: n * (3 if s == "han" else 1) for s, n in counts.items() if s != "kana"})
    top = weighted.most_common(1)[0][0]
    if top == "latin":
        return _latin_language(text) or "en"
    return {"han": "zh", "cyrillic": "ru", "arabic": "ar"}.get(top, "other")


def detect_language(text: str) -> str:
    """Language of a question: "zh", "en", "fr", "es", "ru", "ar" or "other", from its script.

    The script with most letters wins (Han -> zh, Cyrillic -> ru, Arabic -> ar; any kana -> other).
    Latin script is told apart by stopwords and accents (en/fr/es, ties -> en); a question mixing scripts is taken
    as Latin-script when it holds two or more different Latin stopwords, even if it quotes more Chinese characters
    ("What does 国际人道法 mean?" -> en; one-letter and repeated words do not count); without any cue, Latin
    letters (symbols, acronyms) are weighed against the other scripts with a Han character counting as 3 letters
    ("CCW/GGE.1/2023/WP.4号文件由谁提交？" -> zh). No letters -> other.
    """
    text = unicodedata.normalize("NFKC", text)
    counts = Counter(s for s in map(_script, text) if s)
    if not counts:
        return "other"
    if counts["kana"]:
        return "other"
    latin = _latin_language(text) if counts["latin"] else None
    if latin is not None and len(counts) > 1:
        # Mixed scripts: Latin needs two different stopwords of two letters or more. The "(a)" of a list's items,
        # a name ("Ra'is Khudaidad被…抓获") or a model number ("An-26型飞机" twice) in a Chinese sentence is no English.
        words = {w for w in _WORD.findall(text.lower()) if len(w) > 1}
        if sum(1 for w in words if any(w in stop for stop in _STOP.values())) < 2:
            latin = None
    if latin is not None:
        return latin
    # no Latin cues: a Han character weighs about one Latin word
    weighted = Counter({s: n * (3 if s == "han" else 1) for s, n in counts.items()})
    top = weighted.most_common(1)[0][0]
    if top == "latin":
        return "en"
    return {"han": "zh", "cyrillic": "ru", "arabic": "ar"}.get(top, "other")
