"""Citations as data: parse [n] markers, check each cited passage supports its sentence, repair or flag."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from rag.chunk import split_sentences
from rag.patterns import is_cjk
from rag.types import Citation, Hit

MARKER_RE = re.compile(r"\[(\d{1,2})\]")
# Lexical support: share of the sentence's character bigrams (CJK) / words found in the passage.
SUPPORT_MIN = 0.35


@dataclass
class CitedSentence:
    text: str  # the sentence without its markers
    numbers: list[int]


def _units(text: str) -> set[str]:
    t = unicodedata.normalize("NFKC", text).lower()
    t = MARKER_RE.sub("", t)
    cjk = "".join(c for c in t if is_cjk(c) and c.isalnum())
    grams = {cjk[i : i + 2] for i in range(len(cjk) - 1)}
    words = {w for w in re.findall(r"[a-z0-9]+", t) if len(w) > 2 or w.isdigit()}
    return grams | words


def overlap(sentence: str, passage: str) -> float:
    """Share of the sentence's units (CJK bigrams, words) that occur in the passage."""
    s = _units(sentence)
    return len(s & _units(passage)) / len(s) if s else 0.0


def best_support_span(sentence: str, passage: str) -> tuple[str, float]:
    """The passage sentence that best backs `sentence`, and its overlap."""
    best, score = "", 0.0
    for a, b in split_sentences(passage):
        span = passage[a:b].strip()
        sc = overlap(sentence, span)
        if sc > score:
            best, score = span, sc
    return best, score


def cited_sentences(answer: str) -> list[CitedSentence]:
    out: list[CitedSentence] = []
    for a, b in split_sentences(answer):
        s = answer[a:b]
        nums = [int(m) for m in MARKER_RE.findall(s)]
        if not nums and out and not MARKER_RE.sub("", s).strip():
            continue
        out.append(CitedSentence(MARKER_RE.sub("", s).strip(), nums))
    # A marker that opens the next sentence ("...。 [2]") belongs to the sentence before it.
    for i in range(1, len(out)):
        if out[i].numbers and not out[i].text and out[i - 1]:
            out[i - 1].numbers += out[i].numbers
    return [c for c in out if c.text]


def check_citations(answer: str, hits: list[Hit], semantic=None) -> tuple[str, list[Citation], list[str]]:
    """Validate and repair [n] markers of `answer` against `hits` (numbered from 1).

    Returns the answer text (markers renumbered only where repaired or dropped), the citations in
    order of first use, and notes on what was changed. `semantic(sentence, passage) -> float` backs up
    the lexical check for cross-lingual answers (an English sentence citing a Chinese passage).
    """
    notes: list[str] = []
    repaired = answer
    first_use: list[int] = []
    support: dict[int, tuple[str, float, bool]] = {}
    for cs in cited_sentences(answer):
        for n in cs.numbers:
            if not 1 <= n <= len(hits):
                repaired = repaired.replace(f"[{n}]", "", 1)
                notes.append(f"dropped [{n}]: no such passage")
                continue
            span, score = best_support_span(cs.text, hits[n - 1].chunk.text)
            ok = score >= SUPPORT_MIN
            if not ok and semantic is not None:
                sem = semantic(cs.text, hits[n - 1].chunk.text)
                ok, score = sem >= 0.85, max(score, sem)
            if not ok:
                # The model may have cited the wrong number: take the passage that does support it.
                alt = max(range(1, len(hits) + 1), key=lambda m: overlap(cs.text, hits[m - 1].chunk.text))
                alt_span, alt_score = best_support_span(cs.text, hits[alt - 1].chunk.text)
                if alt != n and alt_score >= SUPPORT_MIN:
                    repaired = repaired.replace(f"[{n}]", f"[{alt}]", 1)
                    notes.append(f"re-pointed [{n}] to [{alt}]: passage {alt} supports the sentence")
                    n, span, score, ok = alt, alt_span, alt_score, True
            if n not in first_use:
                first_use.append(n)
            prev = support.get(n)
            if prev is None or score > prev[1]:
                support[n] = (span, score, ok or (prev[2] if prev else False))
    citations = [
        Citation(n=n, chunk=hits[n - 1].chunk, score=hits[n - 1].score, support=support[n][0],
                 supported=support[n][2], support_score=support[n][1])
        for n in first_use
    ]
    return re.sub(r"[ \t]{2,}", " ", repaired).strip(), citations, notes
