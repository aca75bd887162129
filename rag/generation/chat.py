"""Generators behind one interface: extractive (no model) or any LangChain chat model (local, openai, yours)."""
from __future__ import annotations

import threading
from typing import Iterator, Protocol

import numpy as np

from rag.embed import Embedder
from rag.extractive import extractive_answer
from rag.prompt import build_messages
from rag.types import Hit

NOT_IN_DOCUMENTS = "NOT IN DOCUMENTS"


class Generator(Protocol):
    name: str

    def stream(self, question: str, hits: list[Hit], language: str, query_vector: np.ndarray | None) -> Iterator[str]:
        """Yield the answer text (with [n] markers) piece by piece."""
        ...


class ExtractiveGenerator:
    name = "extractive"

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder

    def stream(self, question: str, hits: list[Hit], language: str, query_vector: np.ndarray | None = None) -> Iterator[str]:
        yield extractive_answer(question, hits, self.embedder, query_vector)


class ChatGenerator:
    """Wraps a LangChain `BaseChatModel`; the seam for local llama.cpp, OpenAI-compatible servers or a user's model."""

    def __init__(self, chat_model, name: str) -> None:
        self.chat_model = chat_model
        self.name = name
        # llama.cpp contexts are not thread-safe: concurrent UI users take turns on one model.
        self.lock = threading.Lock()

    def stream(self, question: str, hits: list[Hit], language: str, query_vector: np.ndarray | None = None) -> Iterator[str]:
        messages = build_messages(question, hits, language)
        with self.lock:
            for chunk in self.chat_model.stream(messages):
                text = chunk.content if isinstance(chunk.content, str) else "".join(
                    p.get("text", "") for p in chunk.content if isinstance(p, dict)
                )
                if text:
                    yield text

    def complete(self, messages: list[tuple[str, str]]) -> str:
        with self.lock:
            out = self.chat_model.invoke(messages)
        return out.content if isinstance(out.content, str) else str(out.content)
