"""`rag eval`: run gold questions through the user's pipeline and score retrieval, answers, citations, refusals."""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence

from rag.answer.citations import MARKER_RE
from rag.answer.retrieve import MODES
from rag.errors import RagError
from rag.eval import metrics as M
from rag.eval.gold import GoldQuestion, GoldSet, normalize_for_match
from rag.eval.report import comparison_table, config_summary, primary_config, write_outputs
from rag.generation.registry import available_generators
from rag.types import Answer, Hit

if TYPE_CHECKING:
    from rag.answer.pipeline import Pipeline
    from rag.config import Settings

RANK_DEPTH = 10  # ranking metrics always look at the top max(k, RANK_DEPTH) passages
HIT_KS = (1, 3, 5, 10)
SHIPPED_GOLD = Path(__file__).resolve().parents[2] / "seeds" / "gold" / "gold.jsonl"
DEFAULT_OUT_ROOT = Path("eval-out")
Progress = Callable[[int, int, str], None]
Record = dict[str, Any]


@dataclass(frozen=True)
class EvalConfig:
    """One configuration to evaluate: a retrieval mode and a generator."""

    mode: str = "hybrid"
    llm: str = "extractive"

    @property
    def name(self) -> str:
        return f"{self.mode}/{self.llm}"


@dataclass
class EvalRun:
    """What an evaluation produced: per-configuration records, the summary, the files written."""

    summary: dict[str, Any]
    records: dict[str, list[Record]]  # config name -> one record per question, in gold order
    files: dict[str, Path]

    def table(self) -> str:
        return comparison_table(self.summary["configs"], self.summary["k"])


def compare_configs(settings: "Settings", llm: str | None = None) -> list[EvalConfig]:
    """dense, bm25 and hybrid retrieval with the generator `llm` (default: the configured one); when `llm` is
    not given, also hybrid retrieval with every other generator the registry reports usable."""

    primary = llm or settings.llm
    configs = [EvalConfig(m, primary) for m in MODES]
    if llm is None:
        configs += [EvalConfig("hybrid", g) for g in available_generators(settings) if g != primary]
    return configs


def default_out_dir(now: datetime | None = None) -> Path:
    """`eval-out/YYYYmmdd-HHMMSS` under the current directory, so runs never overwrite each other."""
    return DEFAULT_OUT_ROOT / (now or datetime.now()).strftime("%Y%m%d-%H%M%S")


# --- scoring one question ---------------------------------------------------------------------------------


def scored_text(answer: Answer) -> str:
    """The answer text that F1/ROUGE-L see: "" for a refusal, else the text without its [n] markers."""
    if answer.refused:
        return ""
    return " ".join(MARKER_RE.sub(" ", answer.text).split())


def contains_reference(pred: str, references: Sequence[str]) -> bool:
    """True when the prediction holds a reference answer verbatim (NFKC, whitespace ignored)."""
    hay = normalize_for_match(pred)
    return bool(hay) and any(normalize_for_match(ref) in hay for ref in references if normalize_for_match(ref))


def score_question(q: GoldQuestion, answer: Answer, ranking: Sequence[str], k: int,
                   indexed_relevant: int | None = None) -> dict[str, Any]:
    """Every per-question metric, from the answer and the ranked passage texts (top max(k, 10)).

    Retrieval metrics are None for a question without evidence. `indexed_relevant` (passages of the whole
    index that contain evidence) sets nDCG's ideal ranking; None uses the relevant passages in `ranking`.
    """
    depth = max(k, RANK_DEPTH)
    ranking = list(ranking)[:depth]
    has_ev = bool(q.evidence)
    rels = M.relevances(ranking, q.evidence) if has_ev else [0] * len(ranking)
    rank = M.first_relevant_rank(rels)
    out: dict[str, Any] = {"rank": rank}
    for n in HIT_KS:
        out[f"hit@{n}"] = M.hit_at_k(rank, n) if has_ev else None
    out["recall@k"] = M.recall_at_k(M.evidence_ranks(ranking, q.evidence), len(q.evidence), k) if has_ev else None
    out["rr"] = M.reciprocal_rank(rank, depth) if has_ev else None
    out["ndcg@10"] = M.ndcg_at_k(rels, RANK_DEPTH, n_relevant=indexed_relevant) if has_ev else None
    pred = scored_text(answer)
    out["answer_f1"] = M.answer_f1(pred, q.answers)
    out["rouge_l"] = M.rouge_l(pred, q.answers)
    out["contains"] = contains_reference(pred, q.answers) if q.answers else answer.refused
    cited = [c.chunk.text for c in answer.citations]
    out["citation_precision"] = M.citation_precision(cited, q.evidence)
    out["citation_recall"] = M.citation_recall(cited, q.evidence)
    out["refusal_correct"] = answer.refused == (not q.answerable)
    out["failures"] = failure_reasons(q, answer, out, k, indexed_relevant)
    return out


def failure_reasons(q: GoldQuestion, answer: Answer, s: dict[str, Any], k: int,
                    indexed_relevant: int | None = None) -> list[str]:
    """Why a question counts as failed (empty when it went right), in pipeline order."""
    depth = max(k, RANK_DEPTH)
    out: list[str] = []
    if not q.answerable:
        if not answer.refused:
            out.append("answered an unanswerable question")
        return out
    if q.evidence:
        if indexed_relevant == 0:
            out.append("no indexed passage contains the evidence")
        elif s["rank"] is None:
            out.append(f"evidence not retrieved (top {depth})")
        elif s["rank"] > k:
            out.append(f"evidence ranked {s['rank']} (beyond k={k})")
    if answer.refused:
        out.append("false refusal")
        return out
    if q.evidence and answer.citations and s["citation_precision"] == 0:
        out.append("no cited passage contains the evidence")
    elif q.evidence and not answer.citations:
        out.append("no citation")
    if not s["contains"] and s["answer_f1"] < 0.5:
        out.append("answer misses the reference")
    return out


# --- running ----------------------------------------------------------------------------------------------


class _Corpus:
    """The index's passages, normalised once, to count the passages that contain a question's evidence."""

    def __init__(self, texts: Sequence[str]) -> None:
        self.texts = [normalize_for_match(t) for t in texts]

    def count(self, evidence: Sequence[str]) -> int:
        needles = [n for n in (normalize_for_match(e) for e in evidence) if n]
        return sum(1 for t in self.texts if any(n in t for n in needles))


def _ranking_row(h: Hit, q: GoldQuestion) -> dict[str, Any]:
    return {"rank": h.rank, "doc": h.chunk.document, "symbol": h.chunk.symbol, "locator": h.chunk.locator,
            "relevant": bool(q.evidence) and M.relevances([h.text], q.evidence)[0] == 1}


def run_question(pipeline: "Pipeline", q: GoldQuestion, cfg: EvalConfig, k: int,
                 corpus: _Corpus | None = None) -> Record:
    """Ask one gold question exactly as `rag ask` would and return its record (answer JSON + metrics)."""
    depth = max(k, RANK_DEPTH)
    error = None
    t0 = time.perf_counter()
    try:
        answer = pipeline.ask(q.question, k=k, llm=cfg.llm, mode=cfg.mode)
    except BaseException as e:  # noqa: BLE001 - one question's crash is scored as a failure; the run goes on
        if not isinstance(e, Exception) and type(e).__name__ != "PanicException":
            raise  # KeyboardInterrupt, SystemExit; a Rust panic (e.g. in a tokenizer) is recorded like an error
        error = str(e) if isinstance(e, RagError) else f"{type(e).__name__}: {e}"
        answer = Answer(question=q.question, text="", refused=False, generator=cfg.llm)
    latency = (time.perf_counter() - t0) * 1e3
    ranking: list[Hit] = list(answer.retrieved)
    if error is None and depth > k:
        # Same retriever, same query, deeper cut: its first k hits are the ones the answer used.
        ranking = pipeline.retriever.search(answer.standalone_question or answer.question, k=depth,
                                            mode=cfg.mode).hits
    indexed = corpus.count(q.evidence) if corpus is not None and q.evidence else None
    scores = score_question(q, answer, [h.text for h in ranking], k, indexed)
    answer.id = q.id
    rec = answer.to_json()
    rec.update({
        "config": cfg.name, "mode": cfg.mode, "llm": cfg.llm, "k": k, "lang": M.detect_language(q.question),
        "doc": q.doc, "answerable": q.answerable, "references": q.answers, "evidence": q.evidence,
        "gold_line": q.line, "ranking": [_ranking_row(h, q) for h in ranking[:depth]],
        "indexed_relevant": indexed, **scores, "latency_ms": round(latency, 1), "error": error,
    })
    return rec


def evaluate(pipeline: "Pipeline", gold: GoldSet | Sequence[GoldQuestion], configs: Sequence[EvalConfig],
             k: int = 5, progress: Progress | None = None) -> tuple[dict[str, list[Record]], dict[str, float]]:
    """Records per configuration (one pipeline: the embedder and index load once) and seconds per configuration."""
    if k < 1:
        raise RagError(f"k must be at least 1, got {k}")
    questions = list(gold)
    for cfg in configs:  # fail before the first question on a bad mode or an unavailable generator
        if cfg.mode not in MODES:
            raise RagError(f"unknown retrieval mode {cfg.mode!r}; choose one of: {', '.join(MODES)}")
        pipeline.generator(cfg.llm)
    corpus = _Corpus([c.text for _, c in pipeline.index.iter_chunks()])
    total, done = len(configs) * len(questions), 0
    records: dict[str, list[Record]] = {}
    seconds: dict[str, float] = {}
    if progress:
        progress(0, total, "")
    for cfg in configs:
        t0 = time.perf_counter()
        recs = records.setdefault(cfg.name, [])
        for q in questions:
            recs.append(run_question(pipeline, q, cfg, k, corpus))
            done += 1
            if progress:
                progress(done, total, f"{cfg.name} {q.id}")
        seconds[cfg.name] = time.perf_counter() - t0
    return records, seconds


def run_eval(pipeline: "Pipeline", gold: GoldSet, configs: Sequence[EvalConfig], k: int = 5,
             out_dir: str | Path | None = None, gold_path: str | Path = "", progress: Progress | None = None) -> EvalRun:
    """Evaluate, summarise and (when `out_dir` is given) write results.jsonl, summary.json, report.md, chart.png."""
    records, seconds = evaluate(pipeline, gold, configs, k, progress)
    index = pipeline.index
    qs = list(gold)
    summary: dict[str, Any] = {
        "gold": str(gold_path), "questions": len(qs), "answerable": sum(q.answerable for q in qs),
        "unanswerable": sum(not q.answerable for q in qs),
        "skipped": [{"line": line, "problem": p} for line, p in getattr(gold, "skipped", [])],
        "index": pipeline.store_spec, "index_version": index.version, "chunks": index.size,
        "embed_model": pipeline.embedder.name, "k": k, "ranking_depth": max(k, RANK_DEPTH),
        "created": datetime.now().isoformat(timespec="seconds"),
        "configs": [config_summary(c.name, c.mode, c.llm, records[c.name], seconds[c.name]) for c in configs],
    }
    summary["metrics"] = primary_config(summary["configs"])["metrics"]  # the hybrid (or only) one, for scripts
    files = write_outputs(out_dir, summary, records) if out_dir is not None else {}
    return EvalRun(summary, records, files)


# --- command line -----------------------------------------------------------------------------------------


def tqdm_progress(desc: str = "eval", unit: str = "q") -> Progress:
    """A progress callback drawing a tqdm bar on stderr."""
    from tqdm import tqdm

    bar = None

    def update(done: int, total: int, label: str) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, desc=desc, unit=unit, file=sys.stderr, disable=total == 0)
        bar.set_postfix_str(label[:40], refresh=False)
        bar.update(done - bar.n)
        if done == total:
            bar.close()

    return update
