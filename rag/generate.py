"""Generators behind one interface: extractive (no model) or any LangChain chat model (local, openai, yours).

A chat generator, by default, only rewrites: the pipeline selects the supporting sentences first (as the
extractive generator does) and the model translates and condenses them into the question's language,
keeping each sentence's [n] (`prompt="rewrite"`). `prompt="passages"` is the older free composition over
whole passages, kept so benchmarks/generation.py can put both side by side.
"""
from __future__ import annotations

import threading
from typing import Iterator, Protocol

import numpy as np

from rag.embed import Embedder
from rag.extractive import Evidence, format_quotes, select_evidence
from rag.prompt import build_messages, build_rewrite_answer_messages
from rag.types import Hit

NOT_IN_DOCUMENTS = "NOT IN DOCUMENTS"
PROMPTS = ("rewrite", "passages")


class Generator(Protocol):
    name: str

    def stream(self, question: str, hits: list[Hit], language: str, query_vector: np.ndarray | None = None,
               evidence: list[Evidence] | None = None) -> Iterator[str]:
        """Yield the answer text (with [n] markers) piece by piece; `evidence` is the pipeline's selection."""
        ...


class ExtractiveGenerator:
    name = "extractive"

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder

    def stream(self, question: str, hits: list[Hit], language: str, query_vector: np.ndarray | None = None,
               evidence: list[Evidence] | None = None) -> Iterator[str]:
        if evidence is None:
            evidence = select_evidence(question, hits, self.embedder, query_vector).evidence
        yield format_quotes(evidence)


class ChatGenerator:
    """Wraps a LangChain `BaseChatModel`; the seam for local llama.cpp, OpenAI-compatible servers or a user's model."""

    def __init__(self, chat_model, name: str, prompt: str = "rewrite") -> None:
        if prompt not in PROMPTS:
            raise ValueError(f"unknown prompt {prompt!r}; choose one of: {', '.join(PROMPTS)}")
        self.chat_model = chat_model
        self.name = name
        self.prompt = prompt
        # llama.cpp contexts are not thread-safe: concurrent UI users take turns on one model.
        self.lock = threading.Lock()

    def messages(self, question: str, hits: list[Hit], language: str,
                 evidence: list[Evidence] | None) -> list[tuple[str, str]]:
        """The prompt for this question: the rewrite prompt when there is evidence, else the passages prompt."""
        if self.prompt == "rewrite" and evidence:
            return build_rewrite_answer_messages(question, evidence, hits, language)
        return build_messages(question, hits, language)

    def stream(self, question: str, hits: list[Hit], language: str, query_vector: np.ndarray | None = None,
               evidence: list[Evidence] | None = None) -> Iterator[str]:
        messages = self.messages(question, hits, language, evidence)
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
