"""Question answering over UN documents with citations: `rag.ask`, `rag.stream`, `rag.retriever` (LangChain).

    import rag
    answer = rag.ask("明斯克将举行什么会议？", index_dir="~/.local/share/un-rag/index")
    print(answer.text, [c.chunk.cite for c in answer.citations])
    for piece in rag.stream("What did the Group of Experts conclude?"):
        ...  # str pieces as they are generated, then the final Answer
"""
from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

from rag.errors import RagError
from rag.types import Answer, Chunk, Citation, Hit

if TYPE_CHECKING:
    # deferred: LangChain's retriever classes load only for users of the retriever
    from rag.answer.langchain_retriever import UNDocsRetriever
    from rag.answer.pipeline import Pipeline

__all__ = ["Answer", "Chunk", "Citation", "Hit", "RagError", "ask", "get_pipeline", "retriever", "stream"]

_pipelines: dict[tuple, "Pipeline"] = {}
_lock = threading.Lock()


def get_pipeline(index_dir: str | Path | None = None, **settings: Any) -> "Pipeline":
    """The pipeline for this index and settings (see `rag.config.Settings`), loaded once per process."""
    # deferred: every `import rag.x` runs this file first; it must not load the whole pipeline
    from rag.answer.pipeline import Pipeline
    from rag.config import Settings

    if isinstance(index_dir, str) and index_dir.startswith("milvus:"):
        settings["store"] = index_dir  # a store spec (`milvus:URI`, `#COLLECTION` optional), not a directory
    elif index_dir is not None:
        settings["index_dir"] = Path(index_dir).expanduser()
    key = tuple(sorted((k, repr(v)) for k, v in settings.items()))
    with _lock:
        if key not in _pipelines:
            _pipelines[key] = Pipeline(Settings().with_(**settings))
        return _pipelines[key]


def _ask_kw(k: int | None, docs: tuple[str, ...] | list[str], speaker: str | None, llm: str | None,
            history: list[tuple[str, str]] | None, mode: str) -> dict[str, Any]:
    # deferred: see get_pipeline
    from rag.answer.retrieve import Filters

    return {"k": k, "filters": Filters(docs=tuple(docs), speaker=speaker), "llm": llm, "history": history, "mode": mode}


def ask(question: str, *, index_dir: str | Path | None = None, llm: str | None = None, k: int | None = None,
        docs: tuple[str, ...] | list[str] = (), speaker: str | None = None,
        history: list[tuple[str, str]] | None = None, mode: str = "hybrid") -> Answer:
    """Answer `question` from the index, citing passages; `history` is [(role, text), ...] for follow-ups."""
    return get_pipeline(index_dir).ask(question, **_ask_kw(k, docs, speaker, llm, history, mode))


def stream(question: str, *, index_dir: str | Path | None = None, llm: str | None = None, k: int | None = None,
           docs: tuple[str, ...] | list[str] = (), speaker: str | None = None,
           history: list[tuple[str, str]] | None = None, mode: str = "hybrid") -> Iterator[str | Answer]:
    """As `ask`, but yields the answer sentence by sentence, each only once the citation check accepted it,
    then the final `Answer` (unchecked model text is never yielded)."""
    yield from get_pipeline(index_dir).stream(question, **_ask_kw(k, docs, speaker, llm, history, mode))


def retriever(index_dir: str | Path | None = None, k: int = 5, docs: tuple[str, ...] | list[str] = (),
              speaker: str | None = None, mode: str = "hybrid") -> "UNDocsRetriever":
    """A LangChain `BaseRetriever` over the index, for your own chains."""
    # deferred: LangChain's retriever classes load only for users of the retriever
    from rag.answer.langchain_retriever import UNDocsRetriever
    from rag.answer.retrieve import Filters

    return UNDocsRetriever(pipeline=get_pipeline(index_dir), k=k, filters=Filters(tuple(docs), speaker), mode=mode)
