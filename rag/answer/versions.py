"""Retrieval across language versions: hits on one aligned paragraph in several languages become one hit, and
every hit and citation carries its paragraph in each version (`versions: {lang: text}`)."""
from __future__ import annotations

from typing import Callable, Hashable

from rag.ingest.versions import LibraryVersions
from rag.types import Chunk, Citation, Hit


def collapse_versions(hits: list[Hit], row_of: Callable[[Chunk], Hashable | None], prefer: str | None) -> list[Hit]:
    """Hits on the same aligned paragraph in several languages become one hit, cited once.

    A pure function of the ranked hits: a hit joins the first earlier hit on the same row (`row_of`) whose group
    has no hit in its language yet; the group is shown by its hit in `prefer` (the question's language) when it
    has one, else by its best; it keeps the group's best score and the best hit's place. Hits whose `row_of` is
    None (documents with one version) pass through unchanged.

    Args:
        hits: ranked hits.
        row_of: chunk -> an aligned row key, or None.
        prefer: the question's language.
    Returns:
        The collapsed hits, ranks renumbered from 1.
    """
    groups: list[list[Hit]] = []
    where: dict[Hashable, list[int]] = {}
    for h in hits:
        key = row_of(h.chunk)
        if key is not None:
            for g in where.get(key, []):
                if all((x.chunk.language or "") != (h.chunk.language or "") for x in groups[g]):
                    groups[g].append(h)
                    break
            else:
                where.setdefault(key, []).append(len(groups))
                groups.append([h])
            continue
        groups.append([h])
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
