"""The records of a briefing note (`Brief`, its `Point`s, positions and sources) and the text helpers they share."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from rag.types import Chunk, speaker_label

DRAFT_RE = re.compile(r"草案|draft|projet|proyecto|проект|مشروع", re.I)


def clean_space(s: str) -> str:
    """Runs of whitespace (line breaks included) to one space, trimmed."""
    return re.sub(r"\s+", " ", s).strip()


def norm_key(s: str) -> str:
    """A comparison key for near-identical sentences: letters and digits only, lower case."""
    return re.sub(r"\W+", "", s).lower()


def speaker_prefix(c: Chunk) -> str:
    """`Speaker (Delegation): ` before a quoted sentence from a meeting record, else ""."""
    return f"{c.speaker_label()}: " if c.speaker else ""


@dataclass
class Point:
    """One statement of the note: a verbatim quote (or a model's sentence) and the passages that back it."""

    text: str
    chunks: list[Chunk]
    quote: bool = True  # False for a language model's sentence

    @property
    def citations(self) -> list[str]:
        return [c.cite for c in self.chunks]

    def cite_text(self) -> str:
        return "".join(f"[{c}]" for c in dict.fromkeys(self.citations))


@dataclass
class Positions:
    """What one speaker or delegation said in one meeting record."""

    speaker: str
    delegation: str | None
    symbol: str
    points: list[Point]

    @property
    def label(self) -> str:
        return speaker_label(self.speaker, self.delegation)


@dataclass
class Source:
    doc_id: str
    symbol: str
    title: str | None
    date: str | None
    kind: str | None
    body: str | None = None

    @property
    def draft(self) -> bool:
        return bool(self.title and DRAFT_RE.search(self.title))


@dataclass
class Brief:
    topic: str
    language: str
    summary: list[Point] = field(default_factory=list)
    agreed: list[Point] = field(default_factory=list)  # in document order; grouped by document when rendered
    positions: list[Positions] = field(default_factory=list)
    dates: list[Point] = field(default_factory=list)
    sources: list[Source] = field(default_factory=list)
    refused: bool = False
    generator: str = "extractive"
    confidence: float = 0.0
    passages: int = 0  # passages the note was drawn from
    notes: list[str] = field(default_factory=list)

    def points(self) -> list[Point]:
        return self.summary + self.agreed + [p for g in self.positions for p in g.points] + self.dates

    def cited(self) -> list[str]:
        """Every citation of the note, in order of first use."""
        return list(dict.fromkeys(c for p in self.points() for c in p.citations))

    def source(self, doc_id: str) -> Source | None:
        return next((s for s in self.sources if s.doc_id == doc_id), None)
