"""The generator over any LangChain chat model: the local llama.cpp model, an OpenAI-compatible server, or yours."""
from __future__ import annotations

import threading
from typing import Any, Iterator

import numpy as np

from rag.generation.prompt import build_messages
from rag.types import Hit


class ChatGenerator:
    """Wraps a LangChain `BaseChatModel`; the seam for local llama.cpp, OpenAI-compatible servers or a user's model."""

    uses_model = True

    def __init__(self, chat_model: Any, name: str) -> None:
        """Args:
            chat_model: a LangChain `BaseChatModel` (anything with `.stream(messages)` and `.invoke(messages)`).
            name: the name answers report as their generator.
        """
        self.chat_model = chat_model
        self.name = name
        # llama.cpp contexts are not thread-safe: concurrent UI users take turns on one model.
        self.lock = threading.Lock()

    def stream(self, question: str, hits: list[Hit], language: str, query_vector: np.ndarray | None = None) -> Iterator[str]:
        """See `Generator.stream`: the grounded prompt (rag.generation.prompt) streamed through the chat model."""
        messages = build_messages(question, hits, language)
        with self.lock:
            for chunk in self.chat_model.stream(messages):
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
