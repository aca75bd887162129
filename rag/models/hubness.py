"""Hub passages across languages: rerank a question's dense candidates in other languages by cosine less their
cosine to its language's typical question."""
from __future__ import annotations

import threading
from typing import Sequence

import numpy as np

from rag.models.embed import Embedder

# Why: in a multilingual encoder the vectors of one language share a direction (Libovický et al. 2020, "On the
# Language Neutrality of Pre-trained Multilingual Representations": centring each language's vectors on its
# mean improves cross-language retrieval). Across languages the shared part is noise, and it makes hubs: in the
# seeds a few Chinese passages (a list of participating universities, a list of documents) sat first for many
# unrelated English questions. Taking the question's language mean out of the question, q − αμ, ranks a passage
# by q·p − α μ·p: passages close to every question of that language lose their lead. μ is the mean embedding of
# generic questions written for the purpose (rag.models.probe_questions), never of any benchmark's questions.
# Measured on eight sets it helps some and costs others (rag.config: cross_language_centering), so it is off.


class QueryCentroids:
    """Mean query embedding of the probe questions of each language, computed once per embedder on first use."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder
        self._means: dict[str, np.ndarray | None] = {}
        self._lock = threading.Lock()

    def get(self, language: str) -> np.ndarray | None:
        """The centroid for `language` (an ISO 639-1 code), None when no probe questions exist for it."""
        with self._lock:
            if language not in self._means:
                from rag.models.probe_questions import PROBE_QUESTIONS  # only read when centering is on

                questions = PROBE_QUESTIONS.get(language)
                vecs = self.embedder.embed_queries(list(questions)) if questions else None
                self._means[language] = None if vecs is None else np.asarray(vecs, np.float32).mean(axis=0)
            return self._means[language]


def rerank_other_languages(found: Sequence[tuple[int, float]], other: Sequence[bool], vectors: np.ndarray,
                           centroid: np.ndarray, alpha: float) -> list[tuple[int, float]]:
    """Dense candidates with those in other languages reordered among themselves by cosine − α × their cosine to
    the question language's centroid; same-language candidates keep their places, every row its raw cosine.

    Args:
        found: (row, cosine) in dense order.
        other: per candidate, whether its passage is in another language than the question.
        vectors: the candidates' stored vectors, in `found` order.
        centroid: the question language's mean query vector (`QueryCentroids.get`).
        alpha: how much of the centroid to take out (0: the order of `found`).
    Returns:
        The candidates in the new order.
    """
    slots = [i for i, o in enumerate(other) if o]
    if alpha == 0 or len(slots) < 2:
        return list(found)
    bias = vectors[slots] @ centroid
    adjusted = [found[i][1] - alpha * float(b) for i, b in zip(slots, bias)]
    order = [slots[j] for j in sorted(range(len(slots)), key=lambda j: -adjusted[j])]
    out = list(found)
    for slot, src in zip(slots, order):
        out[slot] = found[src]
    return out
