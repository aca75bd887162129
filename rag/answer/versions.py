"""Retrieval across language versions: hits on one aligned paragraph in several languages become one hit, and
every hit and citation carries its paragraph in each version (`versions: {lang: text}`)."""
from __future__ import annotations

from typing import Callable, Hashable

from rag.ingest.versions import LibraryVersions
from rag.types import Chunk, Citation, Hit


def collapse_versions(hits: list[Hit], row_of: Callable[[Chunk], Hashable | None], prefer: str | None) -> list[Hit]:
    """Hits on the same aligned paragraph in several languages become one hit, cited once.

    A pure function of the ranked hits: a hit joins the first earlier group that already shows its matched
    paragraph (`row_of` of its chunk among the rows of the group's passages) in another language; a group is
    shown by its hit in `prefer` (the question's language) when it has one, else by its best, with the group's
    best score at the best hit's place. Hits whose `row_of` is None (documents with one version) pass through.

    Args:
        hits: ranked hits (passages: `parts`, else the chunk).
        row_of: chunk -> an aligned row key, or None.
        prefer: the question's language.
    Returns:
        The collapsed hits, ranks renumbered from 1.
    """
    groups: list[list[Hit]] = []
    covered: list[set[Hashable]] = []
    for h in hits:
        key = row_of(h.chunk)
        lang = h.chunk.language or ""
        home = None
        if key is not None:
            home = next((g for g, rows in enumerate(covered) if key in rows
                         and all((x.chunk.language or "") != lang for x in groups[g])), None)
        rows = {r for r in (row_of(c) for c in (h.parts or [h.chunk])) if r is not None} | ({key} if key else set())
        if home is None:
            groups.append([h])
            covered.append(rows)
        else:
            groups[home].append(h)
            covered[home] |= rows
    out: list[Hit] = []
    for g in groups:
        shown = next((h for h in g if prefer and h.chunk.language == prefer), g[0])
        shown.score = max(h.score for h in g)
        shown.rank = len(out) + 1
        out.append(shown)
    return out


def attach_versions(library: LibraryVersions, hits: list[Hit], citations: list[Citation] = ()) -> None:
    """Fill `versions` of each retrieved passage (its parts' aligned paragraphs) and of each citation (its chunk's).

    Args:
        library: the versions of the index the hits come from.
        hits: ranked passages (`Answer.retrieved`).
        citations: the answer's citations.
    """
    for h in hits:
        h.versions = library.versions(h.parts or [h.chunk])
    for c in citations:
        c.versions = library.versions([c.chunk])
