"""Briefing notes on a topic: wide, diverse retrieval grouped by document and speaker; every point cites.

`build_brief(pipeline, topic)` casts wide (40 candidates), keeps the passages close to the topic, spreads
them across documents by maximal marginal relevance on the stored embeddings, and assembles a `Brief`:
a 3-5 point summary, agreed text quoted from reports and resolutions, positions by speaker from meeting
records, dates and next steps, and the sources. Everything but a model's summary is quoted verbatim; every
point carries its passages, rendered as `[SYMBOL LOCATOR]`. Records live in `rag.brief.model`, rendering in `rag.brief.render`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from index.tokenize import tokenize
from rag.answer.citations import semantic_scorer
from rag.answer.retrieve import Filters
from rag.brief.model import Brief, Point, Positions, Source, clean_space, speaker_prefix
from rag.brief.summary import extractive_summary, llm_summary
from rag.errors import RagError
from rag.ingest.versions import resolve_versions
from rag.lang import detect_language
from rag.sanitize import clean_question, clean_text
from rag.types import Chunk, Hit

FORMATS = ("md", "docx")
ADOPTED_KINDS = {"report", "resolution", "decision"}
# Headings of the sections that hold what a body agreed; a lead-in that states a conclusion.
DECISION_HEADING_RE = re.compile(
    r"结论|建议|决定|conclusion|recommendation|decision|conclusi|recomendaci|recommandation|вывод|рекомендац|решени"
    r"|استنتاج|توصي", re.I)
CONCLUSION_RE = re.compile(r"结论|商定|一致同意|conclu|agreed|decide|décid|convenu|acord|заключ|решил|договор", re.I)
DATE_RE = re.compile(
    r"\d{4}\s*年|\d{1,2}\s*月(\s*\d{1,2}\s*日)?|明天|下周|下个月|今年晚些时候|\b(19|20)\d{2}\b|\b\d{1,2}(st|nd|rd|th)?\s+"
    r"(january|february|march|april|may|june|july|august|september|october|november|december|janvier|février|"
    r"mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|décembre|enero|febrero|marzo|abril|mayo|junio|"
    r"julio|agosto|septiembre|octubre|noviembre|diciembre)|\b(january|february|march|april|june|july|august|"
    r"september|october|november|december)\s+\d{1,2}\b|tomorrow|next week|января|февраля|марта|апреля|мая|июня|"
    r"июля|августа|сентября|октября|ноября|декабря", re.I)
MEETING_RE = re.compile(
    r"会议|会晤|届会|举行|召开|截止|期限|提交|报告|磋商|对话|meeting|conference|session|summit|deadline|held|convene|"
    r"submit|report|consultation|réunion|conférence|reunión|conferencia|período de sesiones|совещани|конференци|сесси",
    re.I)
NEXT_RE = re.compile(r"将|拟|下一次|明天|下周|即将|今后|截止|期限|will|shall|next|upcoming|tomorrow|future|deadline|"
                     r"sera|prochain|futur|próxim|будет|следующ|будущ", re.I)
# Sentence ends for quoting: full stops only, so that a quoted clause keeps its list (；) together.
SENTENCE_END_RE = re.compile(r"(?<=[。！？!?])|(?<=[.])(?=\s+[A-Z\"“(])")


@dataclass(frozen=True)
class BriefOptions:
    """Knobs of a brief; the defaults suit the e5 embedder's compressed cosine range (0.75-0.95)."""

    candidates: int = 40  # passages retrieved before selection
    keep: int = 16  # passages kept by maximal marginal relevance
    mmr_lambda: float = 0.7  # relevance vs novelty
    margin: float = 0.05  # passages within this cosine of the best match are on topic
    sentence_margin: float = 0.03  # a speaker's sentence is quoted when this close to the best one
    summary_points: int = 5
    agreed_per_doc: int = 4  # decision paragraphs chosen per document, before adding their lead-ins and siblings
    speakers: int = 8
    per_speaker: int = 3
    dates: int = 6
    llm_passages: int = 8  # a local model on a few CPU cores reads ~8 passages in 2-3 minutes


# --- input ------------------------------------------------------------------------------------------
def validate_topic(topic: str | None, max_chars: int = 2000) -> str:
    if not isinstance(topic, (str, bytes)) or not clean_text(topic):
        raise RagError('the topic is empty: give one, e.g. rag brief "人工智能武器化" or "lethal autonomous weapons"')
    return clean_question(topic, max_chars, what="topic")


def output_format(fmt: str | None, out: str | Path | None) -> str:
    """The format from --format, else from the --out suffix, else Markdown; RagError on a contradiction."""
    suffix = Path(out).suffix.lower().lstrip(".") if out else ""
    if fmt is not None and fmt not in FORMATS:
        raise RagError(f"unknown format {fmt!r}; choose one of: {', '.join(FORMATS)}")
    if fmt and suffix in FORMATS and suffix != fmt and not (fmt == "md" and suffix == "markdown"):
        raise RagError(f"--format {fmt} but --out {out} ends in .{suffix}: make them agree")
    fmt = fmt or ("docx" if suffix == "docx" else "md")
    if fmt == "docx" and not out:
        raise RagError("a DOCX brief needs --out FILE.docx (the terminal shows Markdown)")
    return fmt


# --- selection --------------------------------------------------------------------------------------
class _Sentences:
    """Sentences of passages scored against the topic (dense similarity leads; shared keywords break ties)."""

    def __init__(self, embedder, q: np.ndarray, topic: str) -> None:
        self.embedder, self.q, self.tokens = embedder, q, set(tokenize(topic))
        self.cache: dict[str, float] = {}

    def score(self, texts: list[str]) -> list[float]:
        new = [t for t in dict.fromkeys(texts) if t not in self.cache]
        if new:
            sims = self.embedder.embed_passages(new) @ self.q
            for t, s in zip(new, sims):
                lex = len(self.tokens & set(tokenize(t))) / len(self.tokens) if self.tokens else 0.0
                self.cache[t] = float(s) + 0.05 * lex
        return [self.cache[t] for t in texts]

    def of(self, chunks: list[Chunk], min_chars: int = 6, keep=None) -> list[tuple[Chunk, str, float]]:
        pairs = [(c, clean_space(s)) for c in chunks for s in SENTENCE_END_RE.split(c.text) if s.strip()]
        pairs = [(c, s) for c, s in pairs if len(re.sub(r"\W", "", s)) >= min_chars and (keep is None or keep(s))]
        return [(c, s, sc) for (c, s), sc in zip(pairs, self.score([s for _, s in pairs]))]


def mmr(cands: list[Hit], rows: dict[str, int], emb: np.ndarray, keep: int, lam: float) -> list[Hit]:
    """Maximal marginal relevance: relevant passages, each as unlike those already chosen as possible."""
    chosen: list[Hit] = []
    rest = list(cands)
    while rest and len(chosen) < keep:
        def gain(h: Hit) -> float:
            if not chosen:
                return h.dense_score or 0.0
            v = emb[rows[h.chunk.chunk_id]]
            novelty = max(float(emb[rows[c.chunk.chunk_id]] @ v) for c in chosen)
            return lam * (h.dense_score or 0.0) - (1 - lam) * novelty
        best = max(rest, key=gain)
        chosen.append(best)
        rest.remove(best)
    return chosen


def _is_decision(c: Chunk, by_heading: bool = True) -> bool:
    """Operative paragraphs, paragraphs under a conclusions/recommendations heading, or (for documents
    without such headings, `by_heading=False`) paragraphs that state a conclusion themselves."""
    if c.locator.startswith(("front matter", "preamble", "annex")):
        return False
    if c.locator.startswith("operative"):
        return True
    if by_heading:
        return any(DECISION_HEADING_RE.search(h) for h in c.headings)
    return bool(CONCLUSION_RE.search(c.text[:200] + c.context))


def _base(locator: str) -> str:
    return re.sub(r"\(.*$", "", locator).strip()


def agreed_text(doc_chunks: list[tuple[int, Chunk]], sims: Mapping[int, float] | np.ndarray, n: int) -> list[Chunk]:
    """The decision paragraphs of one adopted document closest to the topic, with their lead-ins and siblings."""
    decision = [(i, c) for i, c in doc_chunks if _is_decision(c)]
    decision = decision or [(i, c) for i, c in doc_chunks if _is_decision(c, by_heading=False)]
    if not decision:
        return []
    score = {c.chunk_id: float(sims[i]) + 0.03 * bool(CONCLUSION_RE.search(c.text + c.context)) for i, c in decision}
    top = sorted(decision, key=lambda ic: -score[ic[1].chunk_id])[:n]
    by_ord = {c.ordinal: c for _, c in doc_chunks}
    chosen: dict[str, Chunk] = {}
    for _, c in top:
        family = [c]
        if c.context:  # a sub-paragraph: its lead-in and its siblings make the whole agreed paragraph
            family = [d for _, d in doc_chunks if _base(d.locator) == _base(c.locator)
                      and (d.context == c.context or (not d.context and c.context.startswith(clean_space(d.text)[:15])))]
        elif c.text.rstrip().endswith((":", "：")):  # a lead-in: what follows it is the conclusion
            family += [d for d in (by_ord.get(c.ordinal + 1),) if d is not None and not d.context]
        for d in family[:8]:
            chosen[d.chunk_id] = d
    return sorted(chosen.values(), key=lambda c: c.ordinal)


# --- the brief --------------------------------------------------------------------------------------
@dataclass
class _Scope:
    """What every section of a brief draws on: the on-topic candidates, their documents ranked, sentence scores."""

    index: Any  # the ChunkStore
    cands: list[Hit]  # retrieved passages within `margin` of the best match
    doc_rank: list[str]  # documents with on-topic passages, best first
    q: np.ndarray  # the topic's vector
    sents: _Sentences
    _docs: dict[str, list[tuple[int, Chunk]]] = field(default_factory=dict)

    def doc(self, doc_id: str) -> list[tuple[int, Chunk]]:
        """(row, chunk) of one document, read from the store once (only the documents a brief touches are read)."""
        if doc_id not in self._docs:
            rows = self.index.doc_rows(doc_id)
            self._docs[doc_id] = list(zip(rows, self.index.chunks(rows)))
        return self._docs[doc_id]

    def sims(self, doc_id: str) -> dict[int, float]:
        """Row -> cosine to the topic, for the chunks of one document."""
        rows = [r for r, _ in self.doc(doc_id)]
        return dict(zip(rows, (self.index.vectors(rows) @ self.q).tolist())) if rows else {}


def build_brief(pipeline, topic: str, docs: tuple[str, ...] | list[str] = (), llm: str | None = None,
                options: BriefOptions = BriefOptions(), generator=None) -> Brief:
    """A briefing note on `topic` from the pipeline's index.

    Args:
        pipeline: the `Pipeline` whose index, retriever and embedder the note uses.
        topic: a phrase or question; its language sets the note's headings.
        docs: only these documents (symbols or ids); all when empty.
        llm: the generator for the summary (a model writes checked points; extractive quotes key sentences).
        options: selection knobs (`BriefOptions`).
        generator: a ready generator instead of `llm` (tests, callers with their own model).
    Returns:
        The `Brief`; `refused` when the index does not cover the topic.
    """
    o = options
    topic = validate_topic(topic, pipeline.settings.max_question_chars)
    index = pipeline.index
    # Every language version of each named document; RagError listing the known ones
    doc_ids = tuple(dict.fromkeys(k for d in docs for k in resolve_versions(index.docs, d)))
    gen = generator or pipeline.generator(llm or pipeline.settings.llm)  # fail early on an unknown generator
    language = detect_language(topic)
    retrieval = pipeline.retriever.search(topic, k=o.candidates, filters=Filters(docs=doc_ids))
    brief = Brief(topic, language, generator=gen.name, confidence=retrieval.confidence)
    if pipeline.should_refuse(language, retrieval):
        brief.refused = True  # the corpus does not cover the topic: say so rather than pad
        return brief
    q = retrieval.query_vector
    floor = retrieval.confidence - o.margin
    cands = [h for h in retrieval.hits if (h.dense_score or 0.0) >= floor]
    scope = _Scope(
        index=index, cands=cands,
        doc_rank=list(dict.fromkeys(h.chunk.doc_id for h in sorted(cands, key=lambda h: -(h.dense_score or 0.0)))),
        q=q, sents=_Sentences(pipeline.embedder, q, topic),
    )
    agreed_chunks = _agreed_chunks(scope, o)
    brief.agreed = [Point(clean_space(c.text), [c]) for c in agreed_chunks]
    brief.positions = _positions(scope, o)
    brief.dates = _dates(scope, agreed_chunks, o)
    cand_rows = {c.chunk_id: r for d in dict.fromkeys(h.chunk.doc_id for h in cands) for r, c in scope.doc(d)
                 if c.chunk_id in {h.chunk.chunk_id for h in cands}}
    at = {cid: n for n, cid in enumerate(cand_rows)}
    selected = mmr(cands, at, index.vectors(list(cand_rows.values())), o.keep, o.mmr_lambda)
    _summarise(brief, scope, selected, agreed_chunks, gen, pipeline.embedder, o)

    # One source per document, whichever language versions its points come from.
    cited = {c.document: c.doc_id for p in brief.points() for c in reversed(p.chunks)}
    cited_docs = list(dict.fromkeys(c.document for p in brief.points() for c in p.chunks))
    brief.sources = [Source(d, index.docs[cited[d]].symbol or d, index.docs[cited[d]].title, index.docs[cited[d]].date,
                            index.docs[cited[d]].kind, index.docs[cited[d]].body) for d in cited_docs]
    brief.passages = len({c.chunk_id for p in brief.points() for c in p.chunks})
    return brief


def _agreed_chunks(scope: _Scope, o: BriefOptions) -> list[Chunk]:
    """Agreed text: decision paragraphs of the reports and resolutions on the topic (never meeting records)."""
    out: list[Chunk] = []
    for d in scope.doc_rank:
        if (scope.index.docs[d].kind or "") in ADOPTED_KINDS:
            out += agreed_text(scope.doc(d), scope.sims(d), o.agreed_per_doc)
    return out


def _positions(scope: _Scope, o: BriefOptions) -> list[Positions]:
    """Who said what, from the on-topic passages of meeting records, in the order they spoke."""
    groups: dict[tuple, list[Hit]] = {}
    for h in scope.cands:
        if h.chunk.speaker:
            groups.setdefault((h.chunk.doc_id, h.chunk.speaker, h.chunk.delegation), []).append(h)
    doc_rank = scope.doc_rank
    order = sorted(groups, key=lambda g: (doc_rank.index(g[0]) if g[0] in doc_rank else 99,
                                          min(h.chunk.ordinal for h in groups[g])))
    said = {key: scope.sents.of([h.chunk for h in sorted(groups[key], key=lambda h: -(h.dense_score or 0.0))
                                 [: o.per_speaker]]) for key in order}
    top = max((sc for v in said.values() for _, _, sc in v), default=0.0)
    positions: list[Positions] = []
    for key in order:
        best = sorted((x for x in said[key] if x[2] >= top - o.sentence_margin and not x[1].endswith((":", "："))),
                      key=lambda x: -x[2])
        picked, used = [], set()
        for c, s, _ in best:  # one sentence per passage
            if c.chunk_id not in used and len(picked) < o.per_speaker:
                picked.append((c, s))
                used.add(c.chunk_id)
        if not picked or len(positions) >= o.speakers:
            continue
        picked.sort(key=lambda cs: (cs[0].ordinal, cs[0].text.find(cs[1][:10])))
        c0 = picked[0][0]
        positions.append(Positions(c0.speaker, c0.delegation, c0.symbol or c0.doc_id,
                                   [Point(s, [c]) for c, s in picked]))
    return positions


def _dates(scope: _Scope, agreed_chunks: list[Chunk], o: BriefOptions) -> list[Point]:
    """Dates and next steps: dated sentences about meetings or deadlines, in on-topic passages or beside them."""
    by_pos = {(c.doc_id, c.ordinal): c for d in dict.fromkeys(h.chunk.doc_id for h in scope.cands)
              for _, c in scope.doc(d)}
    pool: dict[str, Chunk] = {}
    for h in scope.cands:
        c = h.chunk
        for d in (by_pos.get((c.doc_id, c.ordinal - 1)), c, by_pos.get((c.doc_id, c.ordinal + 1))):
            if d is not None and d.speaker == c.speaker:
                pool.setdefault(d.chunk_id, d)
    for c in agreed_chunks:
        pool.setdefault(c.chunk_id, c)
    dated = scope.sents.of(list(pool.values()), keep=lambda s: bool(DATE_RE.search(s) and MEETING_RE.search(s)
                                                                    and NEXT_RE.search(s)))
    dated = sorted(dated, key=lambda x: -x[2])[: o.dates]
    rank = scope.doc_rank
    dated.sort(key=lambda x: (rank.index(x[0].doc_id) if x[0].doc_id in rank else 99, x[0].ordinal))
    return [Point(speaker_prefix(c) + s, [c]) for c, s, _ in dated]


def _summarise(brief: Brief, scope: _Scope, selected: list[Hit], agreed_chunks: list[Chunk], gen, embedder,
               o: BriefOptions) -> None:
    """Summary: a model's points checked against their passages, topped up with quoted key sentences."""
    summary_chunks = list({h.chunk.chunk_id: h.chunk for h in selected}.values())
    summary_chunks += [c for c in agreed_chunks if c.chunk_id not in {x.chunk_id for x in summary_chunks}]
    if gen.uses_model:
        hits = [Hit(c, score=0.0, rank=n) for n, c in enumerate(summary_chunks[: o.llm_passages], 1)]
        try:
            brief.summary, notes = llm_summary(gen, brief.topic, brief.language, hits, semantic_scorer(embedder),
                                               o.summary_points)
            brief.notes += notes
        except Exception as e:  # noqa: BLE001 - a failing model must not cost the user the note
            brief.notes.append(f"the {gen.name} generator failed ({type(e).__name__}: {e})")
        if not brief.summary:
            brief.notes.append(f"no supported summary from the {gen.name} model; key sentences quoted instead")
            brief.generator = f"{gen.name}→extractive"
    if len(brief.summary) < 3:  # none from a model, or too few: key sentences fill the summary to 3 points
        quoted = extractive_summary(scope.sents.of(summary_chunks, min_chars=10), o.summary_points, scope.doc_rank,
                                    {c.chunk_id for c in agreed_chunks})
        if brief.summary:
            have = {c.chunk_id for p in brief.summary for c in p.chunks}
            quoted = [p for p in quoted if p.chunks[0].chunk_id not in have][: 3 - len(brief.summary)]
        brief.summary += quoted
