"""The one pipeline behind the CLI, the UI and the Python API: retrieve, decide, generate, check citations."""
from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Iterator

from index.store import Index, current_version, load_index
from rag.calibrate import language_group
from rag.citations import check_citations
from rag.config import LLM_MODES, Settings
from rag.conversation import heuristic_rewrite, is_follow_up
from rag.embed import Embedder, get_embedder
from rag.generate import NOT_IN_DOCUMENTS, ChatGenerator, ExtractiveGenerator, Generator
from rag.lang import detect_language
from rag.llm import llm_errors, make_chat_model
from rag.prompt import build_rewrite_messages
from rag.retrieve import Filters, Retrieval, Retriever
from rag.types import Answer, RagError

REFUSALS = {
    "zh": "文件中没有回答这个问题的内容。",
    "en": "The documents do not say.",
    "fr": "Les documents ne le disent pas.",
    "es": "Los documentos no lo dicen.",
    "ru": "В документах об этом не говорится.",
    "ar": "لا تذكر الوثائق ذلك.",
}


def refusal_text(language: str) -> str:
    return REFUSALS.get(language, REFUSALS["en"])


class Pipeline:
    """Loads the index and models once; picks up a new index version before each question."""

    def __init__(self, settings: Settings | None = None, embedder: Embedder | None = None) -> None:
        self.settings = settings or Settings()
        self._embedder = embedder
        self._index: Index | None = None
        self._retriever: Retriever | None = None
        self._generators: dict[str, Generator] = {}
        self._lock = threading.RLock()

    # --- loading -------------------------------------------------------------------------------
    @property
    def index_dir(self) -> Path:
        return Path(self.settings.index_dir)

    @property
    def embedder(self) -> Embedder:
        with self._lock:
            if self._embedder is None:
                self._embedder = get_embedder(self.settings.embed_model)
            return self._embedder

    @property
    def index(self) -> Index:
        """The current index version, reloaded when another process or tab committed a new one."""
        with self._lock:  # UI users share one pipeline: one of them reloads, the others wait for it
            return self._load_current()

    def _load_current(self) -> Index:
        version = current_version(self.index_dir)
        if self._index is None or version != self._index.version:
            index = load_index(self.index_dir)
            if index.model != self.embedder.name:
                raise RagError(
                    f"the index at {self.index_dir} was built with embedding model {index.model!r} but the "
                    f"configured model is {self.embedder.name!r}: rebuild it with "
                    f"`rag ingest --rebuild --index {self.index_dir}` or configure {index.model!r}"
                )
            self._index = index
            self._retriever = Retriever(index, self.embedder, self.settings.retrieval)
        return self._index

    @property
    def retriever(self) -> Retriever:
        with self._lock:
            self._load_current()
            assert self._retriever is not None
            return self._retriever

    def generator(self, mode: str) -> Generator:
        if mode not in LLM_MODES:
            raise RagError(f"unknown generator {mode!r}; choose one of: {', '.join(LLM_MODES)}")
        with self._lock:  # one model per mode, however many users ask at once
            return self._generators.get(mode) or self._make_generator(mode)

    def _make_generator(self, mode: str) -> Generator:
        if mode == "extractive":
            gen: Generator = ExtractiveGenerator(self.embedder)
        else:
            gen = ChatGenerator(make_chat_model(mode, self.settings), mode)
        self._generators[mode] = gen
        return gen

    # --- asking ----------------------------------------------------------------------------------
    def validate_question(self, question: str) -> str:
        """The question cleaned (invalid Unicode, control characters) and checked (length, has words)."""
        from rag.sanitize import clean_question

        if question is None:
            raise RagError('the question is empty: ask something, e.g. "What did the Group of Experts conclude?"')
        return clean_question(question, self.settings.max_question_chars)

    def standalone(self, question: str, history: list[tuple[str, str]] | None, llm: str) -> str:
        if not history or not is_follow_up(question):
            return question
        if llm != "extractive":
            try:
                gen = self.generator(llm)
                if isinstance(gen, ChatGenerator):
                    rewritten = gen.complete(build_rewrite_messages(history, question)).strip().splitlines()
                    if rewritten and 2 <= len(rewritten[0]) <= 300:
                        return rewritten[0].strip()
            except Exception:  # noqa: BLE001 - the heuristic is always there to fall back on
                pass
        return heuristic_rewrite(history, question)

    def stream(
        self,
        question: str,
        k: int | None = None,
        filters: Filters = Filters(),
        llm: str | None = None,
        history: list[tuple[str, str]] | None = None,
        mode: str = "hybrid",
    ) -> Iterator[str | Answer]:
        """Yield answer text pieces as they are generated, then the final `Answer`."""
        llm = llm or self.settings.llm
        q = self.validate_question(question)
        gen = self.generator(llm)  # fail early on an unknown or unavailable generator
        lang = detect_language(q)
        t0 = time.perf_counter()
        standalone = self.standalone(q, history, llm)
        retrieval = self.retriever.search(standalone, k=k, filters=filters, mode=mode)
        t1 = time.perf_counter()
        timings = {"retrieve_ms": (t1 - t0) * 1e3, "generate_ms": 0.0}
        answer = Answer(
            question=q, text="", refused=False, retrieved=retrieval.hits, timings=timings, generator=gen.name,
            standalone_question=standalone if standalone != q else None, confidence=retrieval.confidence,
        )
        if self.should_refuse(lang, retrieval):
            # Refusals follow retrieval confidence, never the model: a small model answers anyway.
            answer.refused = True
            answer.text = refusal_text(lang)
            yield answer.text
            yield answer
            return
        hits = retrieval.hits
        raw = ""
        try:
            with llm_errors(gen.name, self.settings):
                for piece in gen.stream(standalone if standalone != q else q, hits, lang, retrieval.query_vector):
                    raw += piece
                    yield piece
        except RagError as e:  # a failing model must not cost the user the answer
            answer.notes.append(f"{e}; extractive answer shown")
            raw = ""
        text, citations, notes = check_citations(raw, hits, semantic=self._semantic) if raw else ("", [], [])
        answer.notes.extend(notes)
        if gen.name != "extractive" and (NOT_IN_DOCUMENTS in raw or not any(c.supported for c in citations)):
            if raw and not answer.notes:
                answer.notes.append(f"the {gen.name} answer cited no supporting passage; extractive answer shown")
            fallback = ExtractiveGenerator(self.embedder)
            raw = "".join(fallback.stream(q, hits, lang, retrieval.query_vector))
            text, citations, notes = check_citations(raw, hits, semantic=self._semantic)
            answer.generator = f"{gen.name}→extractive"
        answer.text = text
        answer.citations = citations
        answer.timings["generate_ms"] = (time.perf_counter() - t1) * 1e3
        yield answer

    def should_refuse(self, question_lang: str, retrieval: Retrieval) -> bool:
        """Nothing found, or the best match below the threshold for the question's language group."""
        if not retrieval.hits:
            return True
        return retrieval.confidence < self.refusal_threshold(question_lang, retrieval.hits[0].chunk.language)

    def refusal_threshold(self, question_lang: str, passage_lang: str | None) -> float:
        r = self.settings.retrieval
        same = language_group(question_lang, passage_lang) == "same"
        return r.refuse_below if same else r.refuse_below_cross

    def ask(self, question: str, **kw) -> Answer:
        """Answer `question` (see `stream` for the options)."""
        final = None
        for item in self.stream(question, **kw):
            if isinstance(item, Answer):
                final = item
        assert final is not None
        return final

    def _semantic(self, sentence: str, passage: str) -> float:
        v = self.embedder.embed_passages([sentence, passage])
        return float(v[0] @ v[1])
