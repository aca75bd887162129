"""The generator over any LangChain chat model: the local llama.cpp model, an OpenAI-compatible server, or yours.

By default it only rewrites (`prompt="rewrite"`): the pipeline selects the supporting sentences first (as the
extractive generator does); a sentence in another language than the question is translated on its own (one
sentence in, one out, its [n] appended here rather than left to the model), and when all of them share the
question's language the model condenses them in one call. `prompt="condense"` is the earlier single call for
every question (translate and condense all sentences at once), `prompt="passages"` the free composition over
whole passages; both are kept so that benchmarks/generation.py can put them side by side (RAG_PROMPT chooses).
"""
from __future__ import annotations

import re
import threading
import time
from typing import Any, Iterator

import numpy as np

from rag.errors import RagError
from rag.generation.extractive import Evidence
from rag.generation.prompt import build_messages, build_rewrite_answer_messages, build_translate_messages
from rag.generation.script import needs_mask
from rag.lang import detect_language
from rag.text import ends_with_abbreviation, is_cjk_wide
from rag.types import Hit

PROMPTS = ("rewrite", "condense", "passages")
# One translated sentence: an English rendering takes ~0.8 tokens per Chinese character (seeds/gold: 20-57
# tokens for 30-75 characters) and ~1.3 per source word otherwise; the cap stops a model that starts to explain
# or repeat itself (each extra token is ~0.1 s on 2 cores).
TRANSLATE_TOKENS_MIN = 32
TRANSLATE_TOKENS_MAX = 160
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

        self.first_token_at: float | None = None  # perf_counter() of the model's first token in the last answer
        self.model_calls = 0  # chat-model calls in the last answer

    def translates_each(self, language: str, evidence: list[Evidence] | None) -> bool:
        """Whether this answer is written one sentence at a time: the rewrite prompt with a selected sentence
        in another language than the answer's."""
        return self.prompt == "rewrite" and bool(evidence) and any(
            sentence_language(e.text) != language for e in evidence or [])

    def messages(self, question: str, hits: list[Hit], language: str,
                 evidence: list[Evidence] | None) -> list[tuple[str, str]]:
        """The prompt for this question: for one sentence at a time, the first sentence's; the rewrite prompt
        when there is evidence; else the passages prompt."""
        if self.translates_each(language, evidence):
            first = next(e for e in evidence or [] if sentence_language(e.text) != language)
            return build_translate_messages(first, hits[first.n - 1], language)
        if self.prompt in ("rewrite", "condense") and evidence:
            return build_rewrite_answer_messages(question, evidence, hits, language)
        return build_messages(question, hits, language)

    def _options(self, language: str) -> dict[str, Any]:
        # Masking CJK tokens needs the logits: only the local llama.cpp model takes it.
        return {"ban_cjk": True} if needs_mask(language) and getattr(self.chat_model, "supports_script_ban", False) \
            else {}

    def _run(self, messages: list[tuple[str, str]], **options: Any) -> Iterator[str]:
        self.model_calls += 1
        for chunk in self.chat_model.stream(messages, **options):
            text = chunk.content if isinstance(chunk.content, str) else "".join(
                p.get("text", "") for p in chunk.content if isinstance(p, dict)
            )
            if text:
                if self.first_token_at is None:
                    self.first_token_at = time.perf_counter()
                yield text

    def stream(self, question: str, hits: list[Hit], language: str, query_vector: np.ndarray | None = None,
               evidence: list[Evidence] | None = None) -> Iterator[str]:
        """See `Generator.stream`: each selected sentence translated on its own (see the module docstring), or
        the rewrite / condense / passages prompt streamed through the chat model."""
        self.first_token_at, self.model_calls = None, 0
        with self.lock:
            if self.translates_each(language, evidence):
                yield from self._translate_each(hits, language, evidence or [])
                return
            messages = self.messages(question, hits, language, evidence)
            options = self._options(language)
            if self.prompt in ("rewrite", "condense") and evidence:
                options["max_tokens"] = REWRITE_TOKENS_PER_SENTENCE * len(evidence) + REWRITE_TOKENS_EXTRA
            yield from self._run(messages, **options)

    def _translate_each(self, hits: list[Hit], language: str, evidence: list[Evidence]) -> Iterator[str]:
        """One line per selected sentence: quoted as is when already in `language`, else the model's translation;
        each sentence of the line ends with the sentence's [n] (the model is never asked to number)."""
        for e in evidence:
            if sentence_language(e.text) == language:
                text = e.text.strip()
            else:
                options = self._options(language) | {"max_tokens": translate_budget(e.text)}
                text = _ECHOED_LABEL.sub("", "".join(self._run(build_translate_messages(e, hits[e.n - 1], language),
                                                               **options)))
                text = carry_names(e.text, strip_glossary_echo(text, e.text))
            yield cite_each(text, e.n) + "\n"

    def complete(self, messages: list[tuple[str, str]]) -> str:
        """See `Generator.complete`."""
        with self.lock:
            out = self.chat_model.invoke(messages)
        return out.content if isinstance(out.content, str) else str(out.content)


def sentence_language(text: str) -> str:
    """The language a selected sentence is written in ("zh" for any sentence with ideographs)."""
    return detect_language(text)


def translate_budget(text: str) -> int:
    """max_tokens for translating `text`: ~0.8 per CJK character, ~1.3 per other word, plus 16 (see the caps)."""
    cjk = sum(1 for c in text if is_cjk_wide(c))
    words = len(re.findall(r"[^\W\d_]+|\d+", "".join(" " if is_cjk_wide(c) else c for c in text)))
    return max(TRANSLATE_TOKENS_MIN, min(TRANSLATE_TOKENS_MAX, int(0.8 * cjk + 1.3 * words) + 16))


_WS = re.compile(r"\s+")
# The glossary after the sentence ("UN terms: 最后报告 = final report", rag.generation.prompt.term_glossary) came
# back once as the translation itself ("final report = final report", the new seeds questions, seeds-en-003).
_GLOSSARY_LINE = re.compile(r"UN terms\s*[:：][^\n]*", re.I)
_EQUATION = re.compile(r"[^=;\n]{1,60}?\s*=\s*[^=;\n]{1,60}?(?=\s*(?:;|\n|$))")
_ECHOED_LABEL = re.compile(r"^\s*(?:translation|english translation|answer)\s*[:：]\s*", re.I)
# Where the citation check will cut a translated line (rag.answer.checked): a full stop, "!" or "?" before a
# capital. Not ";": a rendering "A; B" is one sentence of its source.
_LATIN_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"“(])")
_LETTER = re.compile(r"[^\W\d_]")


def strip_glossary_echo(translation: str, source: str) -> str:
    """`translation` without an echo of the UN-term glossary: a "UN terms: …" line, and "term = term" pieces
    when the source has no "="; "" when nothing with letters is left.

    Args:
        translation: the model's rendering of one sentence.
        source: the sentence it renders.
    Returns:
        The rendering, echo removed.
    """
    if "UN terms" not in translation and ("=" not in translation or "=" in source):
        return translation
    out = _GLOSSARY_LINE.sub("", translation)
    if "=" not in source:
        out = _EQUATION.sub("", out)
    out = re.sub(r"^[\s;；]+|[\s;；]+$", "", re.sub(r"\s*;\s*(?=;|\n|$)", "", out))
    return out if _LETTER.search(out) else ""


def _split_latin(text: str) -> list[str]:
    out: list[str] = []
    start = 0
    for m in _LATIN_END.finditer(text):
        if not ends_with_abbreviation(text[: m.start()]):
            out.append(text[start : m.start()])
            start = m.end()
    return out + [text[start:]]


def cite_each(text: str, n: int) -> str:
    """`text` on one line with " [n]" after each of its sentences ("A. B." -> "A. [2] B. [2]"), so that every
    sentence the answer shows carries the number of the passage it was translated from; a piece without letters
    (a paragraph number "14." copied from the source) stays with the sentence after it."""
    text = _WS.sub(" ", text).strip()
    pieces: list[str] = []
    carry = ""
    for piece in _split_latin(text):
        if not _LETTER.search(piece):
            carry += piece + " "
            continue
        pieces.append(carry + piece)
        carry = ""
    if carry.strip() and pieces:
        pieces[-1] += " " + carry.strip()
    return " ".join(f"{p.strip()} [{n}]" for p in pieces)


# Latin-script names inside a CJK sentence: document symbols ("CCW/GGE.1/2023/WP.3/Rev.1"), acronyms ("ITU-T"),
# people and firms ("Andrey Belousov", "Adobe"). They are often the answer itself, and the 1.5B model drops them
# ("Proposal for the International Legal Text ..." for "CCW/GGE.1/2023/WP.3/Rev.1 关于…的提案", seeds/gold q021).
_LATIN_NAME = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[./\-][A-Za-z0-9]+)*(?: [A-Z][A-Za-z0-9]*(?:[./\-][A-Za-z0-9]+)*)*")


def carry_names(source: str, translation: str) -> str:
    """`translation` with the Latin-script names of a CJK `source` that it left out added in brackets at its end.

    Args:
        source: the source sentence.
        translation: the model's rendering.
    Returns:
        The rendering unchanged when the source has no ideographs or every name is in it; else with
        " (name, name)" before its final full stop.
    """
    if not any(is_cjk_wide(c) for c in source) or not translation.strip():
        return translation
    low = translation.lower()
    missing = [m for m in dict.fromkeys(_LATIN_NAME.findall(source)) if len(m) > 1 and m.lower() not in low]
    if not missing:
        return translation
    body = translation.rstrip()
    end = "." if body.endswith(".") else ""
    return f"{body.rstrip('.')} ({', '.join(missing)}){end}"
