"""Language versions: one document (a symbol) with one stored entry per language, and their aligned paragraphs.

The store keeps one entry per version, keyed `SYMBOL@lang` (`CD/PV.1505@zh`); the document is the symbol. A
version's key never changes when another language arrives, and a document with one version reads as before
(citations `CD/PV.1505 turn 2 ¶20`, `--doc CD/PV.1505`, JSON `doc`). Alignment is computed from what the store
holds (locators, lengths, stored vectors), once per document and index version, so it always matches the index.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rag.errors import RagError
from rag.ingest.align import CONFIDENT, Alignment, Segment, align, segments
from rag.lang import LANGUAGE_LABELS
from rag.types import Chunk, DocMeta, document_id, version_key  # noqa: F401  (re-exported identity helpers)

UN_LANGUAGES = ("ar", "zh", "en", "fr", "ru", "es")
UNKNOWN_LANGUAGE = "und"  # ISO 639-2 "undetermined": no language detected and none given
PIVOT_ORDER = ("en", "fr", "es", "ru", "ar", "zh")  # the version others are aligned to: the first present


def language_label(lang: str | None) -> str:
    """`Chinese`, `English`, ...; a language outside the six UN ones is accepted and labelled as such."""
    if not lang or lang == UNKNOWN_LANGUAGE:
        return "unknown language"
    if lang in LANGUAGE_LABELS:
        return LANGUAGE_LABELS[lang]
    return f"{lang} (not a UN language)"


def meta_language(meta: DocMeta) -> str:
    return (meta.language or UNKNOWN_LANGUAGE).lower()


def document_of(meta: DocMeta) -> str:
    """The document a stored version belongs to: its symbol, else its key without the `@lang` suffix."""
    return meta.symbol or document_id(meta.doc_id)


def group_versions(docs: dict[str, DocMeta]) -> dict[str, dict[str, str]]:
    """document -> {language: version key}, documents and languages in index order.

    Args:
        docs: the store's version key -> metadata.
    Returns:
        Each document's versions by language (a legacy key without `@lang` counts as its language's version).
    """
    out: dict[str, dict[str, str]] = {}
    for key, meta in docs.items():
        out.setdefault(document_of(meta), {}).setdefault(meta_language(meta), key)
    return out


def resolve_versions(docs: dict[str, DocMeta], name: str, lang: str | None = None) -> list[str]:
    """The version keys a user's name means: a symbol or document (all its versions, or `lang`'s), a version key,
    or a source file name.

    Args:
        docs: the store's version key -> metadata.
        name: symbol, document id, version key (`A/1@zh`) or file name (with or without extension).
        lang: only this language's version.
    Returns:
        Version keys, in index order.
    Raises:
        RagError: no such document (listing the known ones), or no version in `lang` (listing its languages).
    """
    groups = group_versions(docs)
    if name in docs:
        keys = [name]
    elif name in groups:
        keys = list(groups[name].values())
    else:
        keys = [k for k, m in docs.items() if m.source and name in (m.source, m.source.rsplit(".", 1)[0])]
        if keys:
            keys = list(groups[document_of(docs[keys[0]])].values()) if lang else keys
    if not keys:
        known = ", ".join(sorted(groups)) or "(none)"
        raise RagError(f"unknown document {name!r}; the index holds: {known}")
    if lang:
        wanted = lang.lower()
        chosen = [k for k in keys if meta_language(docs[k]) == wanted]
        if not chosen:
            have = ", ".join(meta_language(docs[k]) for k in keys)
            raise RagError(f"{name} has no {wanted!r} version; its languages: {have}")
        return chosen
    return keys


@dataclass
class Row:
    """One aligned paragraph across a document's versions: the segments of each language, and how they were paired."""

    locator: str  # the pivot version's locator: what is cited, whatever the language
    segments: dict[str, list[Segment]] = field(default_factory=dict)
    method: dict[str, str] = field(default_factory=dict)  # language -> "pivot", "locator", "length+similarity"
    confidence: dict[str, float] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)  # languages of the document with no paragraph here

    def texts(self) -> dict[str, str]:
        return {lang: "\n".join(s.text for s in segs) for lang, segs in self.segments.items()}

    @property
    def flagged(self) -> bool:
        """A paragraph some version lacks, or paired with low confidence."""
        return bool(self.missing) or any(m == "unaligned" for m in self.method.values()) or any(
            c < CONFIDENT for c in self.confidence.values())

    def to_json(self, langs: list[str] | None = None) -> dict[str, Any]:
        texts = self.texts()
        keep = [lg for lg in (langs or list(texts)) if lg in texts]
        return {"locator": self.locator, "versions": {lg: texts[lg] for lg in keep},
                "alignment": {lg: {"method": self.method[lg], "confidence": self.confidence[lg]} for lg in keep},
                "flagged": self.flagged, "missing": [lg for lg in self.missing if lg in (langs or self.missing)]}


@dataclass
class DocumentAlignment:
    """A document's versions aligned paragraph by paragraph; rows in the pivot's order."""

    document: str
    pivot: str
    rows: list[Row]
    by_chunk: dict[str, int]  # chunk id -> row index
    pairs: dict[str, Alignment]  # language -> its alignment to the pivot

    def summary(self) -> dict[str, dict[str, int]]:
        return {lang: a.counts() for lang, a in self.pairs.items()}


def _pivot(langs: list[str]) -> str:
    return next((lg for lg in PIVOT_ORDER if lg in langs), langs[0])


def align_document(document: str, versions: dict[str, tuple[list[Chunk], np.ndarray, str | None]]) -> DocumentAlignment:
    """Align every version of one document to its pivot (English when present) and merge the links into rows.

    Args:
        document: the document id (symbol).
        versions: language -> (chunks in document order, their vectors, the cleaned text).
    Returns:
        The `DocumentAlignment`.
    """
    segs = {lang: segments(ch, vec, text) for lang, (ch, vec, text) in versions.items()}
    pivot = _pivot(list(segs))
    parent: dict[tuple[str, int], tuple[str, int]] = {}

    def find(x: tuple[str, int]) -> tuple[str, int]:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    how: dict[tuple[str, int], tuple[str, float]] = {(pivot, i): ("pivot", 1.0) for i in range(len(segs[pivot]))}
    pairs: dict[str, Alignment] = {}
    for lang, ss in segs.items():
        if lang == pivot:
            continue
        al = align(segs[pivot], ss)
        pairs[lang] = al
        for link in al.links:
            nodes = [(pivot, i) for i in link.a] + [(lang, j) for j in link.b]
            for n in nodes[1:]:
                parent[find(n)] = find(nodes[0])
            for j in link.b:
                how[(lang, j)] = (link.method, link.confidence)
    for i in range(len(segs[pivot])):
        find((pivot, i))
    groups: dict[tuple[str, int], list[tuple[str, int]]] = {}
    for node in list(parent):
        groups.setdefault(find(node), []).append(node)

    def order(members: list[tuple[str, int]]) -> tuple[int, int]:
        piv = [i for lg, i in members if lg == pivot]
        if piv:
            return (min(piv), 0)
        # a paragraph only another version has: placed after the pivot paragraph its neighbour is aligned to
        lg, j = min(members)
        for jj in range(j - 1, -1, -1):
            anchor = [i for l2, i in groups.get(find((lg, jj)), []) if l2 == pivot]
            if anchor:
                return (max(anchor), j + 1)
        return (-1, j + 1)

    rows: list[Row] = []
    by_chunk: dict[str, int] = {}
    for members in sorted(groups.values(), key=order):
        row = Row(locator="")
        for lang, i in sorted(members, key=lambda x: (x[0] != pivot, x[0], x[1])):
            seg = segs[lang][i]
            row.segments.setdefault(lang, []).append(seg)
            m, c = how.get((lang, i), ("unaligned", 0.0))
            if m == "unaligned" or lang not in row.method or c < row.confidence[lang]:
                row.method[lang], row.confidence[lang] = m, c
            for cid in seg.chunk_ids:
                by_chunk[cid] = len(rows)
        if pivot not in row.segments:
            for lang in row.segments:
                row.method[lang], row.confidence[lang] = "unaligned", 0.0
        first = row.segments.get(pivot) or next(iter(row.segments.values()))
        row.locator = first[0].locator
        row.missing = [lg for lg in segs if lg not in row.segments]
        rows.append(row)
    return DocumentAlignment(document, pivot, rows, by_chunk, pairs)


def version_data(store: Any, key: str) -> tuple[list[Chunk], np.ndarray, str | None]:
    """Chunks, vectors and text of one stored version, in document order (read through the ChunkStore protocol)."""
    rows = list(store.doc_rows(key))
    return list(store.chunks(rows)), store.vectors(rows), store.doc_text(key)


class LibraryVersions:
    """The language versions of one published index: grouping, and each document's alignment when first asked."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.documents = group_versions(store.docs)
        self._aligned: dict[str, DocumentAlignment] = {}

    @property
    def max_versions(self) -> int:
        return max((len(v) for v in self.documents.values()), default=1)

    def document(self, chunk: Chunk) -> str:
        meta = self.store.docs.get(chunk.doc_id)
        return document_of(meta) if meta else (chunk.symbol or document_id(chunk.doc_id))

    def alignment(self, document: str) -> DocumentAlignment:
        if document not in self._aligned:
            versions = self.documents.get(document)
            if not versions:
                raise RagError(f"unknown document {document!r}; the index holds: {', '.join(sorted(self.documents))}")
            self._aligned[document] = align_document(document, {lg: version_data(self.store, k)
                                                                for lg, k in versions.items()})
        return self._aligned[document]

    def row(self, chunk: Chunk) -> tuple[str, int] | None:
        """(document, aligned row) of a chunk of a document with several versions; None for a single version."""
        doc = self.document(chunk)
        if len(self.documents.get(doc, {})) < 2:
            return None
        r = self.alignment(doc).by_chunk.get(chunk.chunk_id)
        return None if r is None else (doc, r)

    def versions(self, chunks: list[Chunk]) -> dict[str, str]:
        """{language: text} of the aligned paragraphs behind `chunks` (a passage's parts): the chunks' own
        language reads exactly their text; each other version, its aligned paragraphs in order."""
        if not chunks:
            return {}
        own = chunks[0].language or UNKNOWN_LANGUAGE
        out = {own: "\n".join(c.text for c in chunks)}
        doc = self.document(chunks[0])
        if len(self.documents.get(doc, {})) < 2:
            return out
        al = self.alignment(doc)
        rows = list(dict.fromkeys(r for r in (al.by_chunk.get(c.chunk_id) for c in chunks) if r is not None))
        for r in rows:
            for lang, text in al.rows[r].texts().items():
                if lang != own:
                    out[lang] = f"{out[lang]}\n{text}" if lang in out else text
        return out


def alignment_note(document: str, versions: dict[str, tuple[list[Chunk], np.ndarray, str | None]]) -> str:
    """One line on how a document's versions align: per language, paragraphs paired by locator, by length and
    similarity, and flagged (no counterpart, or low confidence); paragraph counts that differ widely are named.

    Args:
        document: the document id.
        versions: language -> (chunks, vectors, cleaned text), as for `align_document`.
    Returns:
        E.g. `A/1: zh aligned to en: 12 by locator, 3 by length+similarity, 0 flagged`.
    """
    al = align_document(document, versions)
    parts = []
    n_pivot = len({id(s) for r in al.rows for s in r.segments.get(al.pivot, [])})
    for lang, a in al.pairs.items():
        c = a.counts()
        n = sum(len(link.b) for link in a.links)
        wide = f" ({al.pivot} has {n_pivot} paragraphs, {lang} {n})" if max(n, n_pivot) > 1.5 * max(1, min(n, n_pivot)) else ""
        parts.append(f"{lang} aligned to {al.pivot}: {c['locator']} by locator, {c['length+similarity']} by "
                     f"length+similarity, {c['flagged']} flagged{wide}")
    return f"{document}: " + "; ".join(parts)
