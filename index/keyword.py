"""BM25 keyword index (bm25s) over tokens from index.tokenize, persisted without pickle."""
from __future__ import annotations

import logging
from pathlib import Path

import bm25s
import numpy as np

from index.tokenize import tokenize

logging.getLogger("bm25s").setLevel(logging.WARNING)


class KeywordIndex:
    def __init__(self, retriever: bm25s.BM25 | None, size: int) -> None:
        self.retriever = retriever  # None for an empty collection
        self.size = size

    @classmethod
    def build(cls, texts: list[str]) -> "KeywordIndex":
        if not texts:
            return cls(None, 0)
        # An empty token list would make bm25s drop the document; a placeholder keeps ids aligned.
        corpus = [tokenize(t) or ["\u2205"] for t in texts]
        retriever = bm25s.BM25()
        retriever.index(corpus, show_progress=False)
        return cls(retriever, len(texts))

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every document for `query` (zeros when no query token is in the vocabulary)."""
        if self.retriever is None:
            return np.zeros(0, np.float32)
        vocab = self.retriever.vocab_dict
        tokens = [t for t in tokenize(query) if t in vocab]
        if not tokens:
            return np.zeros(self.size, np.float32)
        return np.asarray(self.retriever.get_scores(tokens), dtype=np.float32)

    def save(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        (path / "size.txt").write_text(str(self.size))
        if self.retriever is not None:
            self.retriever.save(str(path), show_progress=False)

    @classmethod
    def load(cls, path: Path) -> "KeywordIndex":
        size = int((path / "size.txt").read_text())
        if size == 0:
            return cls(None, 0)
        return cls(bm25s.BM25.load(str(path), allow_pickle=False, mmap=False), size)
