"""One file → a parsed document: metadata, cleaned text, paragraphs with locators, and chunks."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from rag.errors import IngestError
from rag.ingest.chunk import chunk_paragraphs
from rag.ingest.clean import clean_blocks
from rag.ingest.metadata import build_meta, detect_symbol, read_sidecar
from rag.ingest.readers import DEFAULT_MAX_MB, read_file
from rag.ingest.structure import parse_paragraphs
from rag.types import Chunk, DocMeta, Paragraph


@dataclass
class ParsedDocument:
    meta: DocMeta
    text: str  # cleaned text; paragraph and chunk spans index into it
    paragraphs: list[Paragraph]
    chunks: list[Chunk]


def file_sha256(path: Path) -> str:
    """Hash of the file and its sidecar: a changed sidecar re-ingests the document."""
    h = hashlib.sha256()
    with open(path, "rb") as f:  # in blocks: the size was checked, but a 50 MB file need not sit in memory twice
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    side = path.with_name(path.name + ".meta.json")
    if side.exists():
        h.update(b"\x00sidecar\x00" + side.read_bytes()[: 1 << 20])
    return h.hexdigest()


def parse_document(path: Path, max_mb: float = DEFAULT_MAX_MB) -> ParsedDocument:
    raw = read_file(path, max_mb=max_mb)
    symbol = read_sidecar(path).get("symbol") or detect_symbol(raw)
    blocks = clean_blocks(raw, symbol)
    if not blocks:
        raise IngestError(path, "no text left after removing page furniture")
    text, paragraphs, kind = parse_paragraphs(blocks)
    meta = build_meta(path, raw, blocks[:5], kind, file_sha256(path))
    chunks = chunk_paragraphs(meta, paragraphs)
    if not chunks:
        raise IngestError(path, "no paragraphs found")
    return ParsedDocument(meta, text, paragraphs, chunks)
