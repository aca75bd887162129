"""HTML rendering of answers, citations, documents and ingest reports; every document string is escaped."""
from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Iterable, Sequence

from rag.answer.checked import answer_segments
from rag.answer.citations import MARKER_RE
from rag.ingest.versions import language_label
from rag.lang import LANGUAGE_LABELS, detect_language
from rag.types import Answer, Chunk, Citation, DocMeta, Hit

_WS = re.compile(r"\s+")


def esc(text: object) -> str:
    """HTML-escape anything shown to the user (quotes too, so it is safe inside attributes)."""
    return html.escape("" if text is None else str(text), quote=True)


def _lines(text: str) -> str:
    """Escaped text with line breaks kept as <br> (and no blank line, so Markdown leaves the HTML alone)."""
    return "<br>".join(esc(line) for line in text.strip().splitlines())


def cite_id(turn: int, n: int) -> str:
    """Element id of citation [n] of conversation turn `turn` in the citations panel."""
    return f"cite-{turn}-{n}"


def _find_span(text: str, support: str) -> tuple[int, int] | None:
    """Where `support` occurs in `text`: exactly, else ignoring differences in whitespace."""
    support = support.strip()
    if not support:
        return None
    i = text.find(support)
    if i >= 0:
        return i, i + len(support)
    # Whitespace-insensitive match: map positions of the squeezed text back to the original.
    keep = [(j, ch) for j, ch in enumerate(text) if not ch.isspace()]
    squeezed = "".join(ch for _, ch in keep)
    target = _WS.sub("", support)
    k = squeezed.find(target) if target else -1
    if k < 0:
        return None
    return keep[k][0], keep[k + len(target) - 1][0] + 1


def highlight(text: str, support: str) -> str:
    """The passage, escaped, with the supporting span wrapped in <mark>."""
    span = _find_span(text, support)
    if span is None:
        return _lines(text)
    a, b = span
    return f'{_lines_inline(text[:a])}<mark class="support">{_lines_inline(text[a:b])}</mark>{_lines_inline(text[b:])}'


def who(chunk: Chunk) -> str:
    """`Speaker (Delegation)` of a meeting-record passage, or ''."""
    if not chunk.speaker:
        return chunk.delegation or ""
    return chunk.speaker_label()


def _head(chunk: Chunk, label: str) -> str:
    speaker = who(chunk)
    return (
        f'<span class="n">{esc(label)}</span> '
        f'<span class="sym">{esc(chunk.symbol or chunk.doc_id)}</span> '
        f'<span class="loc">{esc(chunk.locator)}</span>'
        + (f' <span class="spk">{esc(speaker)}</span>' if speaker else "")
    )


def sentences_citing(text: str, n: int) -> list[str]:
    """The sentences of an answer that cite [n], markers removed."""
    out = [MARKER_RE.sub("", s).strip() for s in answer_segments(text) if f"[{n}]" in s]
    return [re.sub(r"\s+([.,;:!?])", r"\1", s) for s in out if s]


def versions_html(c: Citation, shown: str) -> str:
    """Every language version of a cited paragraph side by side, one click away (a closed <details>)."""
    langs = list(c.versions)
    if len(langs) < 2:
        return ""
    others = ", ".join(language_label(lg) for lg in langs if lg != shown)
    cols = "".join(
        f'<div class="version" lang="{esc(lg)}" data-lang="{esc(lg)}"><div class="label">{esc(language_label(lg))}'
        f'{" — cited" if lg == c.chunk.language else ""}</div>{_lines(text)}</div>'
        for lg, text in c.versions.items())
    return (f'<details class="versions"><summary>Side by side: {esc(others)}</summary>'
            f'<div class="side-by-side versions-grid">{cols}</div></details>')


def citation_html(c: Citation, turn: int, translation: list[str] | None = None, source_lang: str | None = None,
                  question_lang: str | None = None) -> str:
    """One cited passage, verbatim; in the question's language when the document has that version (the cited
    language and the others one click away, side by side); beside it, when the answer is a model's translation,
    the answer sentences that render it, labelled as a translation."""
    flag = "" if c.supported else ' <span class="flag" title="the citing sentence is not clearly backed by this passage">⚠ not clearly supported</span>'
    cls = "cite" if c.supported else "cite unsupported"
    shown = c.chunk.language or ""
    # A document with one version renders exactly as before; with several, the passage says its language.
    attrs = f' lang="{esc(shown)}" data-lang="{esc(shown)}"' if len(c.versions) > 1 else ""
    if question_lang and question_lang != shown and c.versions.get(question_lang) and not translation:
        shown = question_lang  # the same paragraph in the reader's language; the cited words stay one click away
        attrs = f' lang="{esc(shown)}" data-lang="{esc(shown)}"'
        original = f'<blockquote class="passage"{attrs}>{_lines(c.versions[shown])}</blockquote>'
    else:
        original = f'<blockquote class="passage"{attrs}>{highlight(c.chunk.text, c.support)}</blockquote>'
    original += versions_html(c, shown)
    if translation:
        lang = LANGUAGE_LABELS.get(source_lang or "", source_lang or "the original")
        body = (
            '<div class="side-by-side">'
            f'<div class="rendering"><div class="label">Translation (model)</div>{_lines(" ".join(translation))}</div>'
            f'<div class="original"><div class="label">Original ({esc(lang)})</div>{original}</div></div>'
        )
        cls += " translated"
    else:
        body = original
    return (
        f'<li class="{cls}" id="{cite_id(turn, c.n)}" data-n="{c.n}">'
        f'<div class="cite-head">{_head(c.chunk, f"[{c.n}]")}{flag}</div>{body}</li>'
    )


def hit_html(h: Hit) -> str:
    return (
        f'<li class="hit"><div class="cite-head">{_head(h.chunk, f"#{h.rank}")}'
        f' <span class="score">score {h.score:.3f}</span></div>'
        f'<blockquote class="passage">{_lines(h.chunk.text)}</blockquote></li>'
    )


REFUSAL_EN = "The documents do not say."


def refusal_html(answer: Answer) -> str:
    """The "documents do not say" state, with the refusal in the question's language when that is not English."""
    own = answer.text.strip()
    local = f' <span class="refusal-text">{esc(own)}</span>' if own and own != REFUSAL_EN else ""
    notes = "".join(f'<div class="note">{esc(n)}</div>' for n in answer.notes)  # e.g. "no passage found names Japan"
    return (
        f'<div class="refusal"><strong>⊘ {REFUSAL_EN}</strong>{local}<br>'
        f'<span class="hint">No indexed passage answers this question (best match {answer.confidence:.2f}). '
        f"Rephrase it, widen the filters, or add the document that holds the answer.</span></div>{notes}"
    )


def answer_html(answer: Answer, turn: int) -> str:
    """The chat message for a final answer: escaped text, [n] markers linked to the citations panel."""
    if answer.refused:
        return refusal_html(answer)
    known = {c.n for c in answer.citations}
    parts: list[str] = []
    pos = 0
    for m in MARKER_RE.finditer(answer.text):
        n = int(m.group(1))
        if n not in known:
            continue
        parts.append(_lines_inline(answer.text[pos : m.start()]))
        parts.append(f'<a class="cite-ref" href="#{cite_id(turn, n)}" data-cite="{cite_id(turn, n)}">[{n}]</a>')
        pos = m.end()
    parts.append(_lines_inline(answer.text[pos:]))
    meta = [esc(answer.generator)]
    if answer.translated_from:
        lang = LANGUAGE_LABELS.get(answer.translated_from, answer.translated_from)
        meta.append(f'<span class="translated-note">translated from {esc(lang)} by the model; '
                    "the original passages are beside it</span>")
    if answer.standalone_question:
        meta.append(f"read as: {esc(answer.standalone_question)}")
    notes = "".join(f'<div class="note">{esc(n)}</div>' for n in answer.notes)
    return f'<div class="answer">{"".join(parts)}</div><div class="meta">{" · ".join(meta)}</div>{notes}'


def _lines_inline(text: str) -> str:
    return "<br>".join(esc(line) for line in text.split("\n"))


def draft_html(text: str) -> str:
    """A streamed draft (replaced by the checked answer when it is done)."""
    return f'<div class="answer draft">{_lines_inline(text)}<span class="cursor">▌</span></div>'


def error_html(message: str) -> str:
    return f'<div class="error">⚠ {esc(message)}</div>'


def question_html(question: str) -> str:
    return f'<div class="question">{_lines_inline(question)}</div>'


@dataclass
class Turn:
    """One question of a conversation and what came of it."""

    question: str
    answer: Answer | None = None
    error: str | None = None
    draft: str = ""


@dataclass
class ChatSession:
    """A conversation, kept per browser session in gr.State."""

    turns: list[Turn] = field(default_factory=list)

    def history(self) -> list[tuple[str, str]]:
        """(role, text) pairs of the answered turns, for follow-up questions."""
        out: list[tuple[str, str]] = []
        for t in self.turns:
            if t.answer is not None:
                out += [("user", t.question), ("assistant", t.answer.text)]
        return out

    def last_answer(self) -> Answer | None:
        for t in reversed(self.turns):
            if t.answer is not None:
                return t.answer
        return None


def chat_messages(session: ChatSession) -> list[dict[str, str]]:
    """The Chatbot value (Gradio 6 messages format)."""
    msgs: list[dict[str, str]] = []
    for i, t in enumerate(session.turns, 1):
        msgs.append({"role": "user", "content": question_html(t.question)})
        if t.answer is not None:
            msgs.append({"role": "assistant", "content": answer_html(t.answer, i)})
        elif t.error is not None:
            msgs.append({"role": "assistant", "content": error_html(t.error)})
        else:
            msgs.append({"role": "assistant", "content": draft_html(t.draft or "Searching the documents…")})
    return msgs


def turn_panel(answer: Answer, turn: int) -> str:
    """Citations of one answer, with the other retrieved passages collapsed."""
    out = [f'<div class="panel-q">Q{turn}: {esc(answer.question)}</div>']
    if answer.refused:
        out.append(refusal_html(answer))
    elif not answer.citations:
        out.append('<div class="empty">This answer cites no passage.</div>')
    if answer.citations:
        out.append('<ol class="cites">' + "".join(
            citation_html(c, turn, sentences_citing(answer.text, c.n) if answer.translated_from else None,
                          answer.translated_from, detect_language(answer.question))
            for c in answer.citations) + "</ol>")
    cited = {c.chunk.chunk_id for c in answer.citations}
    others = [h for h in answer.retrieved if h.chunk.chunk_id not in cited]
    if others:
        out.append(
            f'<details class="others"><summary>Other retrieved passages ({len(others)})</summary>'
            f'<ol class="hits">{"".join(hit_html(h) for h in others)}</ol></details>'
        )
    return "".join(out)


def citations_panel(session: ChatSession) -> str:
    """The panel beside the chat: the latest answer open, earlier ones collapsed (opened by a click on [n])."""
    answered = [(i, t) for i, t in enumerate(session.turns, 1) if t.answer is not None]
    if not answered:
        pending = any(t.answer is None and t.error is None for t in session.turns)
        msg = "Searching the documents…" if pending else "Ask a question: the passages an answer cites appear here, with the supporting words highlighted."
        return f'<div class="cite-panel"><div class="empty">{msg}</div></div>'
    (last_i, last), earlier = answered[-1], answered[:-1]
    parts = [f'<section class="turn current" id="turn-{last_i}">{turn_panel(last.answer, last_i)}</section>']
    for i, t in reversed(earlier):
        parts.append(
            f'<details class="turn earlier" id="turn-{i}"><summary>Q{i}: {esc(t.question)}</summary>'
            f"{turn_panel(t.answer, i)}</details>"
        )
    return '<div class="cite-panel">' + "".join(parts) + "</div>"


def markdown_copy(session: ChatSession) -> str:
    a = session.last_answer()
    return a.to_markdown() if a is not None else ""


# --- documents --------------------------------------------------------------------------------


def paragraphs(text: str, chunks: Sequence[Chunk]) -> list[tuple[Chunk, str]]:
    """Consecutive chunks of one locator merged back into their paragraph (verbatim from the cleaned text)."""
    out: list[tuple[Chunk, int, int]] = []
    for c in chunks:
        if out and out[-1][0].locator == c.locator and out[-1][0].speaker == c.speaker:
            first, a, b = out[-1]
            out[-1] = (first, min(a, c.start), max(b, c.end))
        else:
            out.append((c, c.start, c.end))
    return [(c, text[a:b] if text and 0 <= a < b <= len(text) else c.text) for c, a, b in out]


def document_html(meta: DocMeta, text: str, chunks: Sequence[Chunk]) -> str:
    """A document's cleaned text, paragraph by paragraph with locators, speakers and headings."""
    head = (
        f'<div class="doc-head"><span class="sym">{esc(meta.symbol or meta.doc_id)}</span> '
        f'<span class="title">{esc(meta.title or "")}</span> '
        f'<span class="date">{esc(meta.date or "undated")}</span>'
        + (f' <span class="body">{esc(meta.body)}</span>' if meta.body else "")
        + "</div>"
    )
    rows: list[str] = []
    headings: list[str] = []
    for c, para in paragraphs(text, chunks):
        if c.headings and c.headings != headings:
            headings = list(c.headings)
            rows.append(f'<div class="heading">{esc(" / ".join(headings))}</div>')
        speaker = who(c)
        rows.append(
            f'<div class="para"><span class="loc">{esc(c.locator)}</span>'
            + (f' <span class="spk">{esc(speaker)}</span>' if speaker else "")
            + f'<div class="ptext">{_lines(para)}</div></div>'
        )
    return f'<div class="doc-reader">{head}{"".join(rows) or "<div class=empty>No paragraphs.</div>"}</div>'


def ingest_report_html(rows: Iterable[tuple[str, str, str, int, str]]) -> str:
    """Per-file results: (file name, status, doc id, chunks, reason)."""
    body = "".join(
        f'<tr class="st-{esc(status)}"><td>{esc(name)}</td><td class="status">{esc(status)}</td>'
        f"<td>{esc(doc or '')}</td><td>{chunks if doc else ''}</td><td>{esc(reason)}</td></tr>"
        for name, status, doc, chunks, reason in rows
    )
    if not body:
        return ""
    return (
        '<table class="ingest-report"><thead><tr><th>File</th><th>Status</th><th>Document</th>'
        f"<th>Chunks</th><th>Reason</th></tr></thead><tbody>{body}</tbody></table>"
    )
