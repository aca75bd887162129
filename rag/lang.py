"""Script-based language detection for questions and documents (the six UN languages, else 'other')."""
from __future__ import annotations

import re

_STOP = {
    "en": {"the", "of", "and", "to", "in", "what", "is", "did", "which", "who", "on", "for", "does", "how", "a"},
    "fr": {"le", "la", "les", "des", "et", "du", "de", "quel", "quelle", "qui", "est", "que", "une", "sur", "a"},
    "es": {"el", "la", "los", "las", "y", "del", "de", "qué", "que", "quién", "es", "una", "sobre", "en", "se"},
}


def detect_language(text: str) -> str:
    """'zh', 'ru', 'ar', 'en', 'fr', 'es' or 'other', by script and, for Latin script, stopwords."""
    counts = {"zh": 0, "ru": 0, "ar": 0, "latin": 0}
    for c in text:
        o = ord(c)
        if 0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF:
            counts["zh"] += 1
        elif 0x0400 <= o <= 0x04FF:
            counts["ru"] += 1
        elif 0x0600 <= o <= 0x06FF:
            counts["ar"] += 1
        elif c.isascii() and c.isalpha() or 0xC0 <= o <= 0x24F:
            counts["latin"] += 1
    # Chinese characters carry a word's worth each: weight them against Latin letters.
    scores = {"zh": counts["zh"] * 3, "ru": counts["ru"], "ar": counts["ar"], "latin": counts["latin"]}
    best = max(scores, key=lambda k: scores[k])
    if scores[best] == 0:
        return "other"
    if best != "latin":
        return best
    words = re.findall(r"[a-zà-ÿ]+", text.lower())
    votes = {lang: sum(1 for w in words if w in stop) for lang, stop in _STOP.items()}
    top = max(votes, key=lambda k: votes[k])
    return top if votes[top] > 0 else "en"
