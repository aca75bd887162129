"""Typed records passed between pipeline stages: documents, chunks, hits, citations, answers."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from rag.errors import RagError

__all__ = ["Answer", "Chunk", "Citation", "DocMeta", "Hit", "Paragraph", "RagError"]  # RagError re-exported for users


def speaker_label(speaker: str | None, delegation: str | None) -> str:
    """How a speaker is named everywhere (prompt, citations, briefs, UI): `Speaker (Delegation)`, or ""."""
    if not speaker:
        return ""
    return speaker + (f" ({delegation})" if delegation else "")


@dataclass
class DocMeta:
    """Metadata of one ingested document (detected from the text or set by a `.meta.json` sidecar)."""

    doc_id: str  # stable id: the symbol when known, else the file stem
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

    @property
    def cite(self) -> str:
        """Human citation such as `CCW/GGE.1/2023/2 ¶21(c)`."""
        return f"{self.symbol or self.doc_id} {self.locator}".strip()

    def speaker_label(self) -> str:
        """`Speaker (Delegation)` for a meeting-record turn, else ""."""
        return speaker_label(self.speaker, self.delegation)

    def embed_text(self) -> str:
        """Text sent to the embedder: the verbatim paragraph, after its speaker in a meeting record.

        Measured on seeds/gold (hybrid MRR@10): speaker prefix 0.632, bare text 0.622, heading + speaker 0.622,
        title + headings + speaker 0.596 (one title shared by every chunk of a document blurs them together).
        """
        if not self.speaker:
            return self.text
        return f"{self.speaker_label()}\n{self.text}"

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


@dataclass
class Citation:
    """A passage the answer actually cites, as `[n]` in the answer text."""

    n: int
    chunk: Chunk
    score: float
    support: str = ""  # the span of the passage that best supports the citing sentence
    supported: bool = True  # False when the citing sentence is not backed by the passage
    support_score: float = 0.0

    def to_json(self) -> dict[str, Any]:
        c = self.chunk
        return {
            "n": self.n,
            "doc": c.doc_id,
            "symbol": c.symbol,
            "locator": c.locator,
            "speaker": c.speaker,
            "delegation": c.delegation,
            "text": c.text,
            "support": self.support,
            "supported": self.supported,
            "score": round(float(self.score), 6),
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
                    "doc": h.chunk.doc_id,
                    "symbol": h.chunk.symbol,
                    "locator": h.chunk.locator,
                    "speaker": h.chunk.speaker,
                    "text": h.chunk.text,
                    "score": round(float(h.score), 6),
                }
                for h in self.retrieved
            ],
            "timings": {k: round(v, 1) for k, v in self.timings.items()},
            "generator": self.generator,
            "standalone_question": self.standalone_question,
            "confidence": round(float(self.confidence), 4),
            "notes": self.notes,
        }

    def to_markdown(self) -> str:
        """The answer with its citations as Markdown, for copying."""
        lines = [self.text, ""]
        for c in self.citations:
            who = f" — {c.chunk.speaker}" if c.chunk.speaker else ""
            lines.append(f"[{c.n}] {c.chunk.cite}{who}: {c.chunk.text}")
        return "\n".join(lines).strip() + "\n"
