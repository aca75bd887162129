"""Typed records passed between pipeline stages: documents, chunks, hits, citations, answers."""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

from rag.errors import RagError

__all__ = ["Answer", "Chunk", "Citation", "DocMeta", "Hit", "Paragraph", "RagError"]  # RagError re-exported for users

# A stored version's key is `DOCUMENT@lang` (`CD/PV.1505@zh`): one document (a symbol) has one version per language.
_VERSION_SUFFIX = re.compile(r"@(?:[a-z]{2,3}(?:-[a-z0-9]+)*|other)$", re.I)


def version_key(document: str, language: str | None) -> str:
    """The store key of one language version of `document`, e.g. `CD/PV.1505@zh` (`@und` when unknown)."""
    return f"{document}@{(language or 'und').lower()}"


def document_id(key: str) -> str:
    """The document a version key belongs to (`CD/PV.1505@zh` -> `CD/PV.1505`); other ids are returned as they are."""
    return _VERSION_SUFFIX.sub("", key)


def speaker_label(speaker: str | None, delegation: str | None) -> str:
    """How a speaker is named everywhere (prompt, citations, briefs, UI): `Speaker (Delegation)`, or ""."""
    if not speaker:
        return ""
    return speaker + (f" ({delegation})" if delegation else "")


@dataclass
class DocMeta:
    """Metadata of one ingested document (detected from the text or set by a `.meta.json` sidecar)."""

    doc_id: str  # the version's key: `SYMBOL@lang` (the file stem when there is no symbol), see `version_key`
    symbol: str | None = None
    title: str | None = None
    date: str | None = None
    body: str | None = None  # issuing body or meeting, e.g. "Conference on Disarmament"
    language: str | None = None  # ISO 639-1, e.g. "zh"
    kind: str | None = None  # "report", "resolution", "meeting_record", "document"
    source: str | None = None  # original file name
    sha256: str | None = None  # hash of the original file bytes (and its sidecar)
    path: str | None = None  # absolute path at ingestion, so `--rebuild` can re-read it

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "DocMeta":
        known = {k: d.get(k) for k in cls.__dataclass_fields__}
        return cls(**known)


@dataclass
class Paragraph:
    """One citable unit of a cleaned document, before chunking."""

    text: str  # verbatim text (line breaks of the extraction removed, nothing rewritten)
    locator: str  # citable locator: "¶21(c)", "annex I", "operative 3", "preamble (a)", "turn 4"
    start: int  # character span in the cleaned document text
    end: int
    headings: list[str] = field(default_factory=list)  # heading path, outermost first
    speaker: str | None = None
    delegation: str | None = None
    spoken_language: str | None = None
    is_heading: bool = False


# What a chunk's matched text says about where it sits (chunker version 3), chosen on the dev halves of
# benchmarks/retrieval.py (hit@1 / hit@5, 2026-12-01, benchmarks/README.md). Embedded: the parent's lead-in (items
# and bullets only) and the speaker. The document title in the embedding helped seeds/gold (0.75/0.95 vs 0.75/0.925)
# but cost English-to-Chinese UNPC 0.40/0.56 vs 0.53/0.67: one Chinese title shared by every chunk blurs them
# for a question in another language. The keyword index gets the full header; keywords only count in the
# question's language (rag.answer.retrieve), where title and heading words can only help.
EMBED_CONTEXT: tuple[str, ...] = ("context", "speaker")
KEYWORD_CONTEXT: tuple[str, ...] = ("title", "heading", "context", "speaker")


@dataclass
class Chunk:
    """A unit of retrieval: a paragraph, or a sentence-bounded piece of a long one."""

    chunk_id: str
    doc_id: str
    symbol: str | None
    locator: str
    text: str  # verbatim: what is stored, displayed and cited
    start: int
    end: int
    headings: list[str] = field(default_factory=list)
    speaker: str | None = None
    delegation: str | None = None
    spoken_language: str | None = None
    language: str | None = None
    body: str | None = None
    title: str | None = None
    ordinal: int = 0  # position of the chunk within its document
    context: str = ""  # lead-in of the parent paragraph, embedded with the text but never cited
    unit: str = ""  # the answerable unit: a numbered paragraph with its lead-in and items, or one paragraph

    @property
    def document(self) -> str:
        """The document this chunk's version belongs to: its symbol, else its doc id without `@lang`."""
        return self.symbol or document_id(self.doc_id)

    @property
    def cite(self) -> str:
        """Human citation such as `CCW/GGE.1/2023/2 ¶21(c)`."""
        return f"{self.symbol or self.doc_id} {self.locator}".strip()

    def speaker_label(self) -> str:
        """`Speaker (Delegation)` for a meeting-record turn, else ""."""
        return speaker_label(self.speaker, self.delegation)

    def header(self, fields: tuple[str, ...]) -> str:
        """Where the chunk sits, for matching only (never cited): title, heading, lead-in, speaker as `fields` say."""
        parts = []
        for f in fields:
            if f == "title" and self.title:
                parts.append(self.title)
            elif f == "heading" and self.headings:
                parts.append(self.headings[-1])
            elif f == "context" and self.context:
                parts.append(self.context)
            elif f == "speaker" and self.speaker:
                parts.append(self.speaker_label())
        return "\n".join(parts)

    def embed_text(self) -> str:
        """Text sent to the embedder and the keyword index: the verbatim text after its header (see `header`)."""
        head = self.header(EMBED_CONTEXT)
        return f"{head}\n{self.text}" if head else self.text

    def keyword_text(self) -> str:
        """Text given to the keyword index: the verbatim text after the header of `KEYWORD_CONTEXT`."""
        head = self.header(KEYWORD_CONTEXT)
        return f"{head}\n{self.text}" if head else self.text

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Chunk":
        return cls(**{k: d[k] for k in cls.__dataclass_fields__ if k in d})


@dataclass
class Hit:
    """A retrieved chunk with its fused score and the per-retriever evidence behind it."""

    chunk: Chunk
    score: float  # fused score used for ranking
    rank: int = 0  # 1-based
    dense_score: float | None = None  # cosine similarity, when the dense side saw it
    bm25_score: float | None = None
    dense_rank: int | None = None
    bm25_rank: int | None = None
    group: int = 0  # for a part of an expanded passage (rag.answer.retrieve.expand_hits): the passage's rank
    parts: list[Chunk] = field(default_factory=list)  # the passage: the chunk's unit and section window, in order
    versions: dict[str, str] = field(default_factory=dict)  # language -> the aligned passage in each version

    @property
    def text(self) -> str:
        """What the reader gets for this hit: the parts' verbatim texts in document order, else the chunk's."""
        return "\n".join(c.text for c in self.parts) if self.parts else self.chunk.text


@dataclass
class Citation:
    """A passage the answer actually cites, as `[n]` in the answer text."""

    n: int
    chunk: Chunk
    score: float
    support: str = ""  # the span of the passage that best supports the citing sentence
    supported: bool = True  # False when the citing sentence is not backed by the passage
    support_score: float = 0.0
    passage: int = 0  # rank of the retrieved passage (Answer.retrieved) that holds the cited chunk
    versions: dict[str, str] = field(default_factory=dict)  # language -> the cited paragraph in each version

    def to_json(self) -> dict[str, Any]:
        c = self.chunk
        return {
            "n": self.n,
            "doc": c.document,
            "symbol": c.symbol,
            "locator": c.locator,
            "speaker": c.speaker,
            "delegation": c.delegation,
            "text": c.text,
            "support": self.support,
            "supported": self.supported,
            "score": round(float(self.score), 6),
            "passage": self.passage,
            "language": c.language,
            "versions": self.versions or {c.language or "und": c.text},
        }


@dataclass
class Answer:
    """The product's output: answer text with `[n]` markers, and the citations behind them as data."""

    question: str
    text: str
    refused: bool
    citations: list[Citation] = field(default_factory=list)
    retrieved: list[Hit] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    generator: str = "extractive"
    standalone_question: str | None = None  # the rewritten follow-up, when rewriting happened
    confidence: float = 0.0
    notes: list[str] = field(default_factory=list)  # e.g. "local model failed; extractive answer shown"
    id: Any = None
    # Language of the cited passages when the model's answer is a translation of them (the UI and CLI label it
    # "translated from ..."); None for quotations and same-language answers.
    translated_from: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "question": self.question,
            "answer": self.text,
            "refused": self.refused,
            "citations": [c.to_json() for c in self.citations],
            "retrieved": [
                {
                    "rank": h.rank,
                    "doc": h.chunk.document,
                    "symbol": h.chunk.symbol,
                    "locator": h.chunk.locator,
                    "speaker": h.chunk.speaker,
                    "text": h.text,
                    "score": round(float(h.score), 6),
                    "parts": [{"locator": c.locator, "speaker": c.speaker, "text": c.text} for c in h.parts],
                    "language": h.chunk.language,
                    "versions": h.versions or {h.chunk.language or "und": h.text},
                }
                for h in self.retrieved
            ],
            "timings": {k: round(v, 1) for k, v in self.timings.items()},
            "generator": self.generator,
            "standalone_question": self.standalone_question,
            "confidence": round(float(self.confidence), 4),
            "notes": self.notes,
            "translated_from": self.translated_from,
        }

    def to_markdown(self) -> str:
        """The answer with its citations as Markdown, for copying."""
        lines = [self.text, ""]
        for c in self.citations:
            who = f" — {c.chunk.speaker}" if c.chunk.speaker else ""
            lines.append(f"[{c.n}] {c.chunk.cite}{who}: {c.chunk.text}")
        return "\n".join(lines).strip() + "\n"
