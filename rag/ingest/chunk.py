"""Paragraphs → chunks: one per paragraph, long ones split at sentence boundaries, tiny continuations merged."""
from __future__ import annotations

import hashlib

from rag.ingest.patterns import BULLET_RE, NUMBERED_RE
from rag.ingest.structure import PARA_SEP
from rag.text import estimate_tokens, split_sentences
from rag.types import Chunk, DocMeta, Paragraph

# 2: embedded text is the speaker + paragraph (no title prefix). 3: chunks carry their answerable unit
# (`Chunk.unit`); embedded and keyword-indexed text carries a header (title, heading, lead-in, speaker).
CHUNKER_VERSION = "3"
MAX_TOKENS = 300  # e5's limit is 512 tokens; stay well below so the context prefix fits too
MIN_CHARS = 12  # a continuation shorter than this is merged into its neighbour


def _pieces(text: str, max_tokens: int) -> list[tuple[int, int]]:
    """Split into spans of at most max_tokens, at sentence boundaries (hard cuts only inside a giant sentence)."""
    if estimate_tokens(text) <= max_tokens:
        return [(0, len(text))]
    spans: list[tuple[int, int]] = []
    for a, b in split_sentences(text):
        total = estimate_tokens(text[a:b])
        if total > max_tokens:  # a single over-long sentence: cut by size
            # The density is measured once: re-estimating the rest after every cut was quadratic (a 1.4 MB file
            # of 200,000 numbered lines took over 3 minutes); each cut is checked, and halved if too dense.
            step = max(1, int((b - a) * max_tokens / total) - 1)
            while estimate_tokens(text[a : min(b, a + step)]) > max_tokens or b - a > step:
                cut = min(step, b - a)
                while cut > 1 and estimate_tokens(text[a : a + cut]) > max_tokens:
                    cut //= 2
                spans.append((a, a + cut))
                a += cut
            if a >= b:
                continue
        if spans and estimate_tokens(text[spans[-1][0] : b]) <= max_tokens:
            spans[-1] = (spans[-1][0], b)
        else:
            spans.append((a, b))
    return spans


def _chunk_id(doc_id: str, locator: str, text: str, ordinal: int) -> str:
    h = hashlib.sha1(f"{doc_id}\x1f{locator}\x1f{text}".encode()).hexdigest()[:12]
    return f"{doc_id}#{ordinal}-{h}"


def chunk_paragraphs(meta: DocMeta, paragraphs: list[Paragraph], max_tokens: int = MAX_TOKENS) -> list[Chunk]:
    """Chunks for one document; cited text is the verbatim paragraph (or a sentence-bounded piece of it)."""
    units: list[Paragraph] = []
    for p in paragraphs:
        if p.is_heading:
            continue
        prev = units[-1] if units else None
        same_place = prev is not None and prev.locator == p.locator and prev.speaker == p.speaker
        if prev is not None and same_place and (len(p.text.strip()) < MIN_CHARS or len(prev.text.strip()) < MIN_CHARS):
            units[-1] = Paragraph(
                text=prev.text + PARA_SEP + p.text,
                locator=prev.locator,
                start=prev.start,
                end=p.end,
                headings=prev.headings,
                speaker=prev.speaker,
                delegation=prev.delegation,
                spoken_language=prev.spoken_language,
            )
            continue
        units.append(p)

    # The lead-in of a numbered paragraph gives its sub-paragraphs their meaning ("the Group concluded that:").
    # Its items and bullets, together with it, form one answerable unit (small-to-big in rag.retrieve).
    leads: dict[str, str] = {}
    chunks: list[Chunk] = []
    for p in units:
        m = NUMBERED_RE.match(p.text.strip())
        if m:
            leads[p.locator] = p.text.strip()[:120]
        base = p.locator.split("(", 1)[0].strip()
        # Items ((a), (i)) and bullets mean little without the lead-in; plain follow-on text carries its own.
        item = base != p.locator or bool(BULLET_RE.match(p.text.strip()))
        context = leads.get(base, "") if item and not m else ""
        # A numbered paragraph (¶21, turn 2 ¶20, operative 3) groups what follows under its locator; an
        # unnumbered one (front matter, plain text) is a unit of its own.
        unit = f"{meta.doc_id}|{base}" if base in leads or "¶" in base else f"{meta.doc_id}|@{p.start}"
        text = p.text
        for a, b in _pieces(text, max_tokens):
            piece = text[a:b]
            lead_ws = len(piece) - len(piece.lstrip())
            piece = piece.strip()
            start = p.start + a + lead_ws
            ordinal = len(chunks)
            chunks.append(
                Chunk(
                    chunk_id=_chunk_id(meta.doc_id, p.locator, piece, ordinal),
                    doc_id=meta.doc_id,
                    symbol=meta.symbol,
                    locator=p.locator,
                    text=piece,
                    start=start,
                    end=start + len(piece),
                    headings=list(p.headings),
                    speaker=p.speaker,
                    delegation=p.delegation,
                    spoken_language=p.spoken_language,
                    language=meta.language,
                    body=meta.body,
                    title=meta.title,
                    ordinal=ordinal,
                    context=context,
                    unit=unit,
                )
            )
    return chunks
