"""The generator over any LangChain chat model: the local llama.cpp model, an OpenAI-compatible server, or yours.

By default it only rewrites: the pipeline selects the supporting sentences first (as the extractive generator
does) and the model translates and condenses them into the question's language, keeping each sentence's [n]
(`prompt="rewrite"`). `prompt="passages"` is the earlier free composition over whole passages, kept so that
benchmarks/generation.py can put both side by side (RAG_PROMPT chooses).
"""
from __future__ import annotations

import threading
from typing import Any, Iterator

import numpy as np

from rag.errors import RagError
from rag.generation.extractive import Evidence
from rag.generation.prompt import build_messages, build_rewrite_answer_messages
from rag.types import Hit

PROMPTS = ("rewrite", "passages")
# A rewritten answer restates at most the selected sentences: ~60 tokens for an English rendering of a long
# Chinese sentence, with room to spare. Seen on seeds/gold: without a cap the 1.5B model once ran to its 400-token
# limit inventing uncited list items (all dropped by the check, but 60 s of CPU on a shared machine).
REWRITE_TOKENS_PER_SENTENCE = 96
REWRITE_TOKENS_EXTRA = 32


class ChatGenerator:
    """Wraps a LangChain `BaseChatModel`; the seam for local llama.cpp, OpenAI-compatible servers or a user's model."""

    uses_model = True

    def __init__(self, chat_model: Any, name: str, prompt: str = "rewrite") -> None:
        """Args:
            chat_model: a LangChain `BaseChatModel` (anything with `.stream(messages)` and `.invoke(messages)`).
            name: the name answers report as their generator.
            prompt: "rewrite" (translate and condense the selected sentences) or "passages" (compose).
        """
        if prompt not in PROMPTS:
            raise RagError(f"unknown prompt {prompt!r}; choose one of: {', '.join(PROMPTS)} (RAG_PROMPT)")
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
        """See `Generator.stream`: the rewrite (or passages) prompt streamed through the chat model."""
        messages = self.messages(question, hits, language, evidence)
        limit = {}
        if self.prompt == "rewrite" and evidence:
            limit["max_tokens"] = REWRITE_TOKENS_PER_SENTENCE * len(evidence) + REWRITE_TOKENS_EXTRA
        with self.lock:
            for chunk in self.chat_model.stream(messages, **limit):
                text = chunk.content if isinstance(chunk.content, str) else "".join(
                    p.get("text", "") for p in chunk.content if isinstance(p, dict)
                )
                if text:
                    yield text

    def complete(self, messages: list[tuple[str, str]]) -> str:
        """See `Generator.complete`."""
        with self.lock:
            out = self.chat_model.invoke(messages)
        return out.content if isinstance(out.content, str) else str(out.content)
