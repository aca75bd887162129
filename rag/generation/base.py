"""The generator contract: what the pipeline, briefs and the UI call on any generator, built-in or a user's."""
from __future__ import annotations

from typing import Iterator, Protocol, runtime_checkable

import numpy as np

from rag.types import Hit

# What a language model is told to reply when the passages do not answer; the pipeline then shows the
# extractive answer (refusal itself is retrieval's decision, never the model's).
NOT_IN_DOCUMENTS = "NOT IN DOCUMENTS"


@runtime_checkable
class Generator(Protocol):
    """Writes an answer from numbered passages; every built-in and plug-in generator implements this.

    Attributes:
        name: the registry name ("extractive", "local", "openai", or a plug-in's).
        uses_model: True when `complete` can run free-form prompts (follow-up rewriting, brief summaries).
    """

    name: str
    uses_model: bool

    def stream(self, question: str, hits: list[Hit], language: str, query_vector: np.ndarray | None) -> Iterator[str]:
        """Yield the answer text, with `[n]` markers pointing into `hits` (1-based), piece by piece.

        Args:
            question: the standalone question.
            hits: the retrieved passages, numbered [1]..[len(hits)] in this order.
            language: ISO 639-1 code of the question's language (the answer's language).
            query_vector: the question's embedding, when retrieval computed one (saves re-embedding).
        Returns:
            An iterator of text pieces; their concatenation is the raw answer the citation check reads.
        """
        ...

    def complete(self, messages: list[tuple[str, str]]) -> str:
        """Run a free-form chat prompt ([(role, text), ...]) and return the reply.

        Raises:
            RagError: when the generator has no model (`uses_model` is False) or the model fails.
        """
        ...
