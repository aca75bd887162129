"""The one pipeline behind the CLI, the UI and the Python API: retrieve, decide, generate, check citations."""
from __future__ import annotations

import inspect
import logging
import threading
import time
from pathlib import Path
from typing import Iterator

from index.base import ChunkStore, check_compatible
from index.registry import open_store, store_version
from rag.answer import refusal
from rag.answer.checked import AnswerChecker
from rag.answer.conversation import heuristic_rewrite, is_follow_up
from rag.answer.refusal import refusal_text
from rag.answer.retrieve import Filters, Retrieval, Retriever, expand_hits
from rag.answer.versions import attach_versions
from rag.config import Settings
from rag.errors import RagError
from rag.generation.base import NOT_IN_DOCUMENTS, Generator
from rag.generation.extractive import WINDOW_PASSAGES, ExtractiveGenerator, select_evidence, usable
from rag.generation.llm import llm_errors
from rag.generation.prompt import build_rewrite_messages
from rag.generation.registry import make_generator, registration
from rag.ingest.chunk import CHUNKER_VERSION
from rag.lang import detect_language
from rag.models.embed import Embedder, get_embedder
from rag.sanitize import clean_question
from rag.types import Answer

log = logging.getLogger(__name__)


def _takes_evidence(gen: Generator) -> bool:
    """Whether `gen.stream` accepts the pipeline's sentence selection (plug-ins written before it may not)."""
    try:
        return "evidence" in inspect.signature(gen.stream).parameters
    except (TypeError, ValueError):
        return False


def _refused(answer: Answer, lang: str) -> Iterator[str | Answer]:
    """The documents-do-not-say reply in `lang`, then the `Answer` marked refused (its retrieved passages stay)."""
    answer.refused = True
    answer.text = refusal_text(lang)
    yield answer.text
    yield answer


class Pipeline:
    """Loads the index and models once; picks up a new index version before each question."""

    def __init__(self, settings: Settings | None = None, embedder: Embedder | None = None) -> None:
        self.settings = settings or Settings()
        self._embedder = embedder
        self._index: ChunkStore | None = None
        self._retriever: Retriever | None = None
        self._generators: dict[str, Generator] = {}
        self._lock = threading.RLock()

    # --- loading -------------------------------------------------------------------------------
    @property
    def index_dir(self) -> Path:
        return Path(self.settings.index_dir)

    @property
    def store_spec(self) -> str:
        """Where the store is, for `index.registry.open_store` (`Settings.store_spec`)."""
        return str(self.settings.store_spec)

    @property
    def embedder(self) -> Embedder:
        with self._lock:
            if self._embedder is None:
                self._embedder = get_embedder(self.settings.embed_model, threads=self.settings.threads,
                                               device=self.settings.embed_device,
                                               precision=self.settings.embed_precision)
            return self._embedder

    @property
    def index(self) -> ChunkStore:
        """The current index version, reloaded when another process or tab committed a new one."""
        with self._lock:  # UI users share one pipeline: one of them reloads, the others wait for it
            return self._load_current()

    def _load_current(self) -> ChunkStore:
        version = store_version(self.store_spec)
        if self._index is None or version != self._index.version:
            index = open_store(self.store_spec)
            check_compatible(index, self.embedder.name, CHUNKER_VERSION)
            self._index = index
            self._retriever = Retriever(index, self.embedder, self.settings.retrieval)
        return self._index

    @property
    def retriever(self) -> Retriever:
        with self._lock:
            self._load_current()
            assert self._retriever is not None
            return self._retriever

    def generator(self, name: str) -> Generator:
        """The generator registered as `name` (see rag.generation.registry), built once per pipeline.

        Raises:
            RagError: naming the registered generators when `name` is not one, or saying what to install.
        """
        key = registration(name).name  # RagError listing the choices
        with self._lock:  # one model per generator, however many users ask at once
            if key not in self._generators:
                self._generators[key] = make_generator(key, self.settings, self.embedder)
            return self._generators[key]

    # --- asking ----------------------------------------------------------------------------------
    def validate_question(self, question: str) -> str:
        """The question cleaned (invalid Unicode, control characters) and checked (length, has words)."""
        if question is None:
            raise RagError('the question is empty: ask something, e.g. "What did the Group of Experts conclude?"')
        return clean_question(question, self.settings.max_question_chars)

    def standalone(self, question: str, history: list[tuple[str, str]] | None, llm: str) -> str:
        if not history or not is_follow_up(question):
            return question
        if llm != "extractive":
            try:
                gen = self.generator(llm)
                if gen.uses_model:
                    rewritten = gen.complete(build_rewrite_messages(history, question)).strip().splitlines()
                    if rewritten and 2 <= len(rewritten[0]) <= 300:
                        return rewritten[0].strip()
            except Exception:  # noqa: BLE001 - any model failure: the heuristic is always there to fall back on
                log.warning("the %s model could not rewrite the follow-up %r; using the heuristic", llm, question,
                            exc_info=True)
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
        """Yield the answer sentence by sentence, each once it passed the citation check, then the final `Answer`.

        Passages that address the reader or the model are set aside first; a model (prompt "rewrite")
        translates and condenses the selected sentences; a sentence without a valid, supported [n] is never
        yielded; with no supported sentence the extractive answer is given instead, with a note saying why.
        """
        llm = llm or self.settings.llm
        q = self.validate_question(question)
        gen = self.generator(llm)  # fail early on an unknown or unavailable generator
        lang = detect_language(q)
        t0 = time.perf_counter()
        standalone = self.standalone(q, history, llm)
        retriever = self.retriever  # one index version for the whole answer, looked up once
        retrieval = retriever.search(standalone, k=k, filters=filters, mode=mode)
        attach_versions(retriever.versions, retrieval.hits)  # each passage in every language it exists in
        t1 = time.perf_counter()
        timings = {"retrieve_ms": (t1 - t0) * 1e3, "generate_ms": 0.0}
        answer = Answer(
            question=q, text="", refused=False, retrieved=retrieval.hits, timings=timings, generator=gen.name,
            standalone_question=standalone if standalone != q else None, confidence=retrieval.confidence,
        )
        if self.should_refuse(lang, retrieval):
            # Refusals follow retrieval confidence, never the model: a small model answers anyway.
            # say what was looked for and not found: the States, and the numbers as the question writes them
            absent = refusal.absent_states(standalone, retrieval.hits)
            if absent:
                answer.notes.append(f"no passage found names {', '.join(absent)}")
            unstated = refusal.number_phrases(standalone,
                                              refusal.missing_numbers(standalone, refusal.held_each(retrieval.hits)))
            if unstated:
                answer.notes.append(f"no passage found states {', '.join(unstated)}")
            yield from _refused(answer, lang)
            return
        # Each part of a passage is numbered and cited on its own. A generator that writes from the selected
        # sentences also gets the section-window neighbours of the passages it selects from: the answer may sit in
        # the paragraph after the one that matched (cited to its own locator); the whole-passage prompt does not,
        # or it would grow from 5 to 26 numbered passages.
        hits = expand_hits(retrieval.hits, WINDOW_PASSAGES if self._rewrites(gen) else 0)
        keep = usable(hits)
        if len(keep) < len(hits):
            aside = [n for n in range(1, len(hits) + 1) if n not in keep]
            answer.notes.append(
                f"set aside passage{'s' if len(aside) > 1 else ''} {', '.join(f'[{n}]' for n in aside)}: "
                "it addresses the reader or the model instead of stating facts")
            # Decide again on what is left: an injected passage must not lend its similarity to the answer.
            rest = [hits[n - 1] for n in keep]
            confidence = max((h.dense_score for h in rest if h.dense_score is not None), default=0.0)
            if not rest or self.should_refuse(lang, Retrieval(rest, confidence, query=retrieval.query)):
                yield from _refused(answer, lang)
                return
        question_for_model = standalone if standalone != q else q
        selection = select_evidence(standalone, hits, self.embedder, retrieval.query_vector)
        shown: list[str] = []
        checker = AnswerChecker(hits, selection if self._rewrites(gen) else None, self.embedder.embed_passages,
                                lang if gen.uses_model else None)
        raw = ""
        try:
            with llm_errors(gen.name, self.settings):
                extra = {"evidence": selection.evidence} if _takes_evidence(gen) else {}
                for piece in gen.stream(question_for_model, hits, lang, retrieval.query_vector, **extra):
                    raw += piece
                    if NOT_IN_DOCUMENTS in raw:
                        break
                    for sentence in checker.feed(piece):  # only checked sentences reach the user
                        shown.append(sentence)
                        yield sentence
            if NOT_IN_DOCUMENTS not in raw:
                for sentence in checker.finish():
                    shown.append(sentence)
                    yield sentence
        except RagError as e:  # a failing model must not cost the user the answer
            answer.notes.append(f"{e}; extractive answer shown")
            raw = ""
            checker.accepted.clear()
        text, citations = checker.result()
        answer.notes.extend(checker.notes)
        if gen.uses_model and not citations:
            if raw and not any(n.endswith("extractive answer shown") for n in answer.notes):
                why = "answered NOT IN DOCUMENTS" if NOT_IN_DOCUMENTS in raw else "cited no supporting passage"
                answer.notes.append(f"the {gen.name} answer {why}; extractive answer shown")
            if shown:  # a model that failed half-way: what follows replaces what was shown
                yield "\n\n"
            fallback = AnswerChecker(hits, selection, self.embedder.embed_passages)
            quoted = "".join(ExtractiveGenerator(self.embedder).stream(q, hits, lang, evidence=selection.evidence))
            for sentence in fallback.feed(quoted) + fallback.finish():
                yield sentence
            text, citations = fallback.result()
            answer.generator = f"{gen.name}→extractive"
        for c in citations:  # [n] numbers the parts of the passages; say which retrieved passage holds each
            c.passage = hits[c.n - 1].group
        attach_versions(retriever.versions, [], citations)
        answer.text = text
        answer.citations = citations
        if "→" not in answer.generator and gen.uses_model and citations:
            source_langs = {c.chunk.language for c in citations if c.chunk.language}
            if source_langs and lang not in source_langs:
                answer.translated_from = sorted(source_langs)[0]
        answer.timings["generate_ms"] = (time.perf_counter() - t1) * 1e3
        yield answer

    @staticmethod
    def _rewrites(gen: Generator) -> bool:
        """Whether `gen` writes from the selected sentences (so they are each sentence's provenance)."""
        return isinstance(gen, ExtractiveGenerator) or getattr(gen, "prompt", None) in ("rewrite", "condense")

    def should_refuse(self, question_lang: str, retrieval: Retrieval) -> bool:
        """Nothing found, or the best match below the threshold for the question's language group."""
        return refusal.should_refuse(self.settings.retrieval, question_lang, retrieval, self.embedder)

    def ask(self, question: str, **kw) -> Answer:
        """Answer `question` (see `stream` for the options)."""
        final = None
        for item in self.stream(question, **kw):
            if isinstance(item, Answer):
                final = item
        assert final is not None
        return final
