"""Citations as data: parse [n] markers, check each cited passage supports its sentence, repair or flag."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Callable

from rag.models.embed import Embedder
from rag.text import is_cjk_wide, split_sentences
from rag.types import Citation, Hit

MARKER_RE = re.compile(r"\[(\d{1,3})\]")  # the one definition of a citation marker `[n]`
# Lexical support: share of the sentence's character bigrams (CJK) / words found in the passage.
SUPPORT_MIN = 0.35
# Embedding support (cross-lingual answers): cosine between the sentence and the passage.
SEMANTIC_MIN = 0.85


def _units(text: str) -> set[str]:
    t = unicodedata.normalize("NFKC", text).lower()
    t = MARKER_RE.sub("", t)
    cjk = "".join(c for c in t if is_cjk_wide(c) and c.isalnum())
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


def _marker_sentences(answer: str) -> list[str]:
    """For each [n] marker in `answer`, in order, the text (markers removed) of the sentence it closes.

    A marker that opens a sentence ("...。 [2] Next") belongs to the sentence before it.
    """
    spans = split_sentences(answer)
    out = []
    for m in MARKER_RE.finditer(answer):
        i = next((j for j, (a, b) in enumerate(spans) if a <= m.start() < b), len(spans) - 1)
        while i > 0 and not MARKER_RE.sub("", answer[spans[i][0] : m.start()]).strip():
            i -= 1
        a, b = spans[i]
        out.append(MARKER_RE.sub("", answer[a:b]).strip())
    return out


@dataclass
class CitationCheck:
    """What `check_citations` made of an answer."""

    text: str  # the answer, markers renumbered only where repaired or dropped
    citations: list[Citation]  # in order of first use
    notes: list[str] = field(default_factory=list)  # what was dropped or re-pointed, for the user


def check_citations(answer: str, hits: list[Hit], semantic: Callable[[str, str], float] | None = None) -> CitationCheck:
    """Validate and repair [n] markers of `answer` against `hits` (numbered from 1).

    Args:
        answer: text with `[n]` markers.
        hits: the passages the markers point into.
        semantic: `semantic(sentence, passage) -> float`, backing up the lexical check for cross-lingual
            sentences (an English sentence citing a Chinese passage); see `semantic_scorer`.
    Returns:
        A `CitationCheck`: the repaired text, the citations in order of first use, notes on what changed.
    """
    notes: list[str] = []
    first_use: list[int] = []
    support: dict[int, tuple[str, float, bool]] = {}
    new_numbers: list[int | None] = []  # per marker occurrence: its (possibly repaired) number, None = dropped
    for m, sentence in zip(MARKER_RE.finditer(answer), _marker_sentences(answer)):
        n = int(m.group(1))
        if not 1 <= n <= len(hits):
            new_numbers.append(None)
            notes.append(f"dropped [{n}]: no such passage")
            continue
        span, score = best_support_span(sentence, hits[n - 1].chunk.text)
        ok = score >= SUPPORT_MIN
        if not ok and semantic is not None:
            sem = semantic(sentence, hits[n - 1].chunk.text)
            ok, score = sem >= SEMANTIC_MIN, max(score, sem)
        if not ok:
            # The model may have cited the wrong number: take the passage that does support it.
            alt = max(range(1, len(hits) + 1), key=lambda j: overlap(sentence, hits[j - 1].chunk.text))
            alt_span, alt_score = best_support_span(sentence, hits[alt - 1].chunk.text)
            if alt != n and alt_score >= SUPPORT_MIN:
                notes.append(f"re-pointed [{n}] to [{alt}]: passage {alt} supports the sentence")
                n, span, score, ok = alt, alt_span, alt_score, True
        new_numbers.append(n)
        if n not in first_use:
            first_use.append(n)
        prev = support.get(n)
        if prev is None or score > prev[1]:
            support[n] = (span, score, ok or (prev[2] if prev else False))
    numbers = iter(new_numbers)
    repaired = MARKER_RE.sub(lambda m: "" if (k := next(numbers)) is None else f"[{k}]", answer)
    citations = [
        Citation(n=n, chunk=hits[n - 1].chunk, score=hits[n - 1].score, support=support[n][0],
                 supported=support[n][2], support_score=support[n][1])
        for n in first_use
    ]
    return CitationCheck(re.sub(r"[ \t]{2,}", " ", repaired).strip(), citations, notes)


def semantic_scorer(embedder: Embedder) -> Callable[[str, str], float]:
    """`check_citations`' cross-lingual backup: the cosine of a sentence and a passage under `embedder`."""
    def score(sentence: str, passage: str) -> float:
        v = embedder.embed_passages([sentence, passage])
        return float(v[0] @ v[1])

    return score
