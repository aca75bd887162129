"""Never show unchecked text: a generator's output is cut into sentences as it streams, and only sentences
whose citation the checker accepts are passed on (UI, CLI and `rag.stream` alike).

Each sentence is checked against the sentence it came from (its provenance: the selected source sentences
with the same [n]), by lexical overlap when it stays in the passage's language and by `rag.faithful` across
languages. A sentence with no valid [n], or one its source does not back, is dropped and a note says so; a
wrong [n] is re-pointed to the passage whose sentence does back it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from rag.answer.citations import MARKER_RE, SUPPORT_MIN, overlap
from rag.answer.faithful import judge, negation_level, numbers_match, states_match
from rag.generation.extractive import Selection, usable
from rag.generation.prompt import source_label
from rag.text import ends_with_abbreviation, split_sentences
from rag.text import is_ideograph as is_cjk
from rag.types import Citation, Hit

# A sentence of an English (French, ...) answer with two or more Chinese characters is half-translated
# ("preventing large-scale毁灭 weapons", seen with the 1.5B model): unreadable for its reader, so not shown.
MAX_CJK_IN_OTHER_LANGUAGE = 2
_BULLET = re.compile(r"^\s*(?:[-*•·]|\d{1,2}[.)]|\([a-z]\))\s+")
_LETTER = re.compile(r"[^\W\d_]", re.UNICODE)
_PARTIAL_MARKER = re.compile(r"\[\d{0,3}$")
_LEADING_MARKERS = re.compile(r"^\s*(?:\[\d{1,3}\]\s*)+")


def _speaker_prefix(hit: Hit) -> str:
    c = hit.chunk
    if not c.speaker:
        return ""
    return c.speaker + (f" ({c.delegation})" if c.delegation else "") + "："


def _bare(sentence: str) -> str:
    return _BULLET.sub("", MARKER_RE.sub("", sentence)).strip()


@dataclass
class Checked:
    """The outcome for one sentence of the answer."""

    text: str  # as shown: markers re-pointed or removed
    accepted: bool
    numbers: list[int] = field(default_factory=list)
    sources: dict[int, tuple[str, float]] = field(default_factory=dict)  # n -> (supporting sentence, score)
    note: str = ""


class AnswerChecker:
    """Checks an answer sentence by sentence as it streams; keeps what passed for the final `Answer`.

    Args:
        hits: the retrieved passages ([n] is the n-th).
        selection: the pipeline's sentence selection (provenance and distractors); None for free composition.
        embed: texts -> L2-normalised passage vectors (the embedder the index was built with).
    """

    def __init__(self, hits: list[Hit], selection: Selection | None, embed: Callable[[list[str]], np.ndarray],
                 language: str | None = None) -> None:
        self.hits = hits
        self.language = language  # the answer's language: a sentence in another script is not shown
        self.embed = embed
        self.usable = set(usable(hits))  # a passage that addresses the reader backs nothing
        self.evidence = selection.evidence if selection else []
        cands = selection.candidates if selection and selection.candidates else []
        if not cands:  # free composition: every sentence of every passage is a possible source
            for n, h in enumerate(hits, 1):
                if n not in self.usable:
                    continue
                cands += [(n, h.chunk.text[a:b].strip()) for a, b in split_sentences(h.chunk.text)]
        self.candidates = [(n, s) for n, s in cands if s]
        self._vectors: dict[str, np.ndarray] = {}
        self.buffer = ""
        self.accepted: list[Checked] = []
        self.notes: list[str] = []

    # --- sources -------------------------------------------------------------------------------------
    def _sources(self, n: int) -> list[str]:
        """Provenance of a sentence citing [n]: the selected sentences of passage n first, then its others."""
        own = [e.text for e in self.evidence if e.n == n]
        if len(own) > 1:
            own.append(" ".join(own))  # a condensed sentence may merge two of them
        rest = [s for m, s in self.candidates if m == n and s not in own]
        if not own and not rest:  # a passage beyond the top ones: all of its sentences
            text = self.hits[n - 1].chunk.text
            rest = [text[a:b].strip() for a, b in split_sentences(text) if text[a:b].strip()]
        return own + rest

    def _vec(self, texts: list[str]) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in self._vectors]
        if missing:
            for t, v in zip(missing, self.embed(missing)):
                self._vectors[t] = v
        return np.stack([self._vectors[t] for t in texts])

    def _labelled(self, n: int, s: str) -> str:
        return _speaker_prefix(self.hits[n - 1]) + s

    def _support(self, sentence: str, n: int) -> tuple[str, float] | None:
        """(source sentence, score) when passage n backs `sentence`, else None."""
        label = source_label(self.hits[n - 1])
        sources = self._sources(n)
        # Same language: shared words / CJK bigrams, with the same numbers and negations.
        best = max(sources, key=lambda s: overlap(sentence, s))
        lex = overlap(sentence, best)
        if lex >= SUPPORT_MIN and numbers_match(sentence, best + " " + label) and \
                negation_level(sentence) == negation_level(best) and states_match(sentence, best + " " + label):
            return best, lex
        # Across languages: embeddings against the source vs the other candidates, numbers, negation.
        labelled = [self._labelled(n, s) for s in sources]
        others = [self._labelled(m, s) for m, s in self.candidates if not (m == n and s in sources)]
        v = self._vec([sentence] + labelled + others)
        r, src, oth = v[0], v[1 : 1 + len(labelled)], v[1 + len(labelled) :]
        cos = src @ r
        i = int(np.argmax(cos))
        best_other = float(np.max(oth @ r)) if len(oth) else -1.0
        verdict = judge(sentence, labelled[i] + " " + label, float(cos[i]), best_other)
        return (sources[i], verdict.cosine) if verdict.faithful else None

    # --- one sentence ----------------------------------------------------------------------------------
    def check(self, sentence: str) -> Checked:
        """Check one answer sentence (with its markers); re-point a wrong [n] when another passage backs it."""
        bare = _bare(sentence)
        markers = [int(m.group(1)) for m in MARKER_RE.finditer(sentence)]
        if not _LETTER.search(bare):
            return Checked(sentence, False, note="")  # punctuation or a stray marker: nothing to show
        if not markers:
            return Checked(sentence, False, note=f"dropped a sentence without a citation: {bare[:60]!r}")
        if self.language not in (None, "zh", "other") and sum(map(is_cjk, bare)) >= MAX_CJK_IN_OTHER_LANGUAGE:
            return Checked(sentence, False, note=f"dropped a sentence not in the question's language: {bare[:60]!r}")
        kept: dict[int, tuple[str, float]] = {}
        notes = []
        claims = _claims(sentence)  # a marker backs the text since the previous one ("…决定：[1] 16. 专家组…[7]")
        for n, claim in zip(markers, claims):
            claim = claim if _LETTER.search(claim) or not _LETTER.search(bare) else bare
            if not 1 <= n <= len(self.hits):
                notes.append(f"dropped [{n}]: no such passage")
                continue
            if n not in self.usable:
                notes.append(f"dropped [{n}]: that passage was set aside")
                continue
            sup = self._support(claim, n)
            if sup is None:
                alt = self._repoint(claim, exclude=n)
                if alt is not None:
                    notes.append(f"re-pointed [{n}] to [{alt[0]}]: passage {alt[0]} supports the sentence")
                    n, sup = alt[0], alt[1]
            if sup is not None:
                kept.setdefault(n, sup)
        if not kept:
            return Checked(sentence, False, note="; ".join(notes + [f"dropped a sentence no cited passage supports: "
                                                                    f"{bare[:60]!r}"]))
        numbers = iter(markers)

        def renumber(m: re.Match) -> str:
            n = next(numbers)
            if n in kept:
                return m.group()
            return ""

        shown = MARKER_RE.sub(renumber, sentence)
        missing = [n for n in kept if f"[{n}]" not in shown]
        if missing:  # a re-pointed number: put it where the sentence's first marker was
            shown = _insert_markers(sentence, missing, kept)
        return Checked(shown, True, list(kept), kept, "; ".join(notes))

    def _repoint(self, sentence: str, exclude: int) -> tuple[int, tuple[str, float]] | None:
        ranked = sorted({m for m, _ in self.candidates} - {exclude},
                        key=lambda m: -max((overlap(sentence, s) for k, s in self.candidates if k == m), default=0))
        for m in ranked[:3]:
            sup = self._support(sentence, m)
            if sup is not None:
                return m, sup
        return None

    # --- streaming -------------------------------------------------------------------------------------
    def feed(self, piece: str) -> list[str]:
        """Add generated text; return the newly completed sentences that passed, ready to show."""
        self.buffer += piece
        ready, self.buffer = _complete_segments(self.buffer)
        return [s for s in (self._take(seg) for seg in ready) if s]

    def finish(self) -> list[str]:
        """The rest of the text, once the generator is done."""
        rest, self.buffer = self.buffer, ""
        segs = answer_segments(rest)
        return [s for s in (self._take(seg) for seg in segs) if s]

    def _take(self, segment: str) -> str:
        c = self.check(segment)
        if c.note:
            self.notes.append(c.note)
        if not c.accepted:
            return ""
        c.text = re.sub(r"[ \t]{2,}", " ", c.text)  # a removed marker leaves two spaces
        self.accepted.append(c)
        return c.text

    def result(self) -> tuple[str, list[Citation]]:
        """The shown answer text and its citations (in order of first use), all backed by their passages."""
        text = "".join(c.text for c in self.accepted).strip()  # exactly what was streamed
        first: dict[int, tuple[str, float]] = {}
        for c in self.accepted:
            for n in c.numbers:
                first.setdefault(n, c.sources[n])
        cites = [Citation(n=n, chunk=self.hits[n - 1].chunk, score=self.hits[n - 1].score, support=s,
                          supported=True, support_score=float(sc)) for n, (s, sc) in first.items()]
        return text, cites


def _claims(sentence: str) -> list[str]:
    """For each [n] in `sentence`, the text it backs: from the previous marker (or the start) up to it; markers
    side by side ("…[1][2]") share the text before the first."""
    out: list[str] = []
    last = ""
    for piece, marker in zip(*[iter(MARKER_RE.split(sentence) + [""])] * 2):
        text = _bare(piece)
        if text and marker:
            last = text
        if marker:
            out.append(last)
    return out


def _insert_markers(sentence: str, numbers: list[int], kept: dict[int, tuple[str, float]]) -> str:
    first = MARKER_RE.search(sentence)
    kept_markers = "".join(f"[{n}]" for n in kept)
    body = MARKER_RE.sub("", sentence)
    if first is None:
        return body.rstrip() + kept_markers
    pos = len(MARKER_RE.sub("", sentence[: first.start()]))
    return body[:pos] + kept_markers + body[pos:]


# Sentence ends in a model's answer: the document splitter's, plus a full stop or marker before "[n]" or a
# capital ("... hands. [1] The ...", "... Minsk [1] The ...").
_ANSWER_END = re.compile(r"(?<=[。！？；!?;])|(?<=[.])(?=\s+[A-Z\"“(\[])|(?<=\])(?=\s+[A-Z\"“(])")


def _answer_sentences(line: str) -> list[tuple[int, int]]:
    cuts = [m.start() for m in _ANSWER_END.finditer(line)
            if 0 < m.start() < len(line) and not ends_with_abbreviation(line[: m.start()])]
    bounds = [0] + sorted(set(cuts)) + [len(line)]
    return [(a, b) for a, b in zip(bounds, bounds[1:]) if line[a:b].strip()]


def answer_segments(text: str) -> list[str]:
    """Sentences of `text`, each with its trailing markers and whitespace; a line break ends a sentence."""
    out: list[str] = []
    for line in text.splitlines(keepends=True):
        for a, b in _answer_sentences(line):
            seg = line[a:b]
            lead = _LEADING_MARKERS.match(seg)
            if out and lead and not out[-1].endswith("\n"):
                out[-1] += lead.group()  # "[2] " after the full stop belongs to the sentence before
                seg = seg[lead.end():]
            if seg.strip():
                out.append(seg)
        if out and line.endswith("\n") and not out[-1].endswith("\n"):
            out[-1] = out[-1].rstrip(" ") + "\n"
    return out


def _complete_segments(buffer: str) -> tuple[list[str], str]:
    """Split off the sentences that can no longer change: all but the last, once the last has begun with a
    letter (so a marker still to come after a full stop stays with its sentence)."""
    segs = answer_segments(buffer)
    if not segs:
        return [], buffer
    last = segs[-1]
    if last.endswith("\n"):
        return segs, ""
    head = MARKER_RE.sub("", _PARTIAL_MARKER.sub("", last))
    if len(segs) > 1 and _LETTER.search(head):
        return segs[:-1], last
    return [], buffer
