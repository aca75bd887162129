"""Retrieval hit@1/hit@5/MRR and latency on CMRC 2018, the UN parallel dev set and the seed gold set; --tune grid."""
from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
import unicodedata
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

warnings.filterwarnings("ignore", message=".*langchain-community.*", category=DeprecationWarning)

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (  # noqa: E402
    OUT,
    ROOT,
    GuardedEmbedder,
    data_dir,
    machine,
    machine_line,
    md_table,
    percentiles,
    set_threads,
    write_report,
)

METHODS = ("dense", "bm25", "hybrid", "langchain")
TUNE_BM25 = (0.0, 0.25, 0.5, 0.75, 1.0)
TUNE_RRF = (10, 30, 60)
K = 10  # ranks looked at: MRR is MRR@10


def norm(s: str) -> str:
    """The gold format's matching key (rag.gold.normalize_for_match): NFKC, whitespace dropped."""
    return "".join(unicodedata.normalize("NFKC", s).split())


@dataclass
class Question:
    qid: str
    text: str
    needles: list[str]  # normalised evidence strings
    exact: bool = False  # True: a passage is relevant only when it *is* the needle (UNPC sentence)

    def relevant(self, passage: str) -> bool:
        return self.relevant_norm(norm(passage))

    def relevant_norm(self, hay: str) -> bool:
        return hay in self.needles if self.exact else any(n and n in hay for n in self.needles)


@dataclass
class Dataset:
    name: str
    index: Any  # index.store.Index
    questions: list[Question]
    note: str


def _cache_dir(name: str, model: str) -> Path:
    from rag.ingest.chunk import CHUNKER_VERSION

    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in model)
    return OUT / "cache" / f"{name}-{safe}-c{CHUNKER_VERSION}"


def _ingest_files(name: str, files: list[tuple[str, str]] | list[Path], embedder: Any, fresh: bool) -> Any:
    """Ingest (name, text) pairs written as .txt files in a temp dir, or existing files, with rag.ingest.

    The index is kept under benchmarks/out/cache: unchanged files are not re-embedded on the next run."""
    from index.store import load_index
    from rag.ingest.library import ingest

    dest = _cache_dir(name, embedder.name)
    with tempfile.TemporaryDirectory() as tmp:
        paths: list[Path] = []
        for f in files:
            if isinstance(f, Path):
                paths.append(f)
            else:
                p = Path(tmp) / f"{f[0]}.txt"
                p.write_text(f[1] if f[1].endswith("\n") else f[1] + "\n", encoding="utf-8")
                paths.append(p)
        t0 = time.perf_counter()
        rep = ingest(paths, dest, embedder, rebuild=fresh,
                     progress=lambda i, n, _p: i % 100 == 0 and print(f"  [{name}] ingest {i}/{n}", file=sys.stderr))
        print(f"  [{name}] {rep.counts()} in {time.perf_counter() - t0:.0f} s -> {dest}", file=sys.stderr)
        if rep.failed:
            print(f"  [{name}] failed: {[(f.path, f.reason) for f in rep.failed[:5]]}", file=sys.stderr)
    return load_index(dest)


def load_cmrc(data: Path, embedder: Any, limit: int, seed: int, fresh: bool) -> Dataset:
    from rag.eval.squad import squad_contexts, squad_to_gold

    path = data / "cmrc2018" / "cmrc2018_dev.squad.json"
    index = _ingest_files("cmrc", [(d, t) for d, _title, t in squad_contexts(path)], embedder, fresh)
    records, _stats = squad_to_gold(path)
    qs = [Question(r["id"], r["question"], [norm(e) for e in r["evidence"]]) for r in records if r["evidence"]]
    qs = random.Random(seed).sample(qs, min(limit, len(qs)))
    return Dataset("CMRC 2018 dev", index, qs,
                   f"{len(qs)} of {len(records)} questions (random sample, seed {seed}); "
                   f"relevant = chunk contains the answer's evidence sentence")


def _build_unpc(dest: Path, zh: list[str], ids: list[str], embedder: Any) -> None:
    from index.store import IndexWriter, write_lock
    from rag.ingest.chunk import CHUNKER_VERSION
    from rag.types import Chunk, DocMeta

    docs: dict[str, list[int]] = {}
    for i, line in enumerate(ids):
        docs.setdefault(line.split()[0], []).append(i)
    t0 = time.perf_counter()
    print(f"  [unpc] embedding {len(zh)} Chinese sentences ...", file=sys.stderr)
    vecs = embedder.embed_passages(zh, batch_size=64)
    print(f"  [unpc] embedded in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    with write_lock(dest):
        w = IndexWriter(dest, embedder.name, embedder.dim, CHUNKER_VERSION, rebuild=True)
        for sym, rows in docs.items():
            chunks, text, pos = [], "", 0
            for o, r in enumerate(rows):
                chunks.append(Chunk(f"{sym}#{r}", sym, sym, f"line {r + 1}", zh[r], pos, pos + len(zh[r]),
                                    language="zh", ordinal=o))
                text += zh[r] + "\n"
                pos = len(text)
            w.add(DocMeta(sym, symbol=sym, language="zh", kind="document", source=f"UNv1.0.devset:{sym}"),
                  text, chunks, vecs[rows])
        w.commit()


def load_unpc(data: Path, embedder: Any, limit: int, seed: int, fresh: bool) -> Dataset:
    from index.store import current_version, load_index

    base = data / "unpc-devset" / "UNv1.0.devset"
    en, zh, ids = (Path(f"{base}.{x}").read_text(encoding="utf-8").splitlines() for x in ("en", "zh", "ids"))
    dest = _cache_dir("unpc", embedder.name)
    if fresh or current_version(dest) is None or load_index(dest).manifest["counts"]["chunks"] != len(zh):
        _build_unpc(dest, zh, ids, embedder)
    index = load_index(dest)
    qs = [Question(f"unpc-{i}", en[i], [norm(zh[i])], exact=True) for i in range(len(en)) if en[i].strip() and zh[i].strip()]
    qs = random.Random(seed).sample(qs, min(limit, len(qs)))
    return Dataset("UNPC dev (en→zh)", index, qs,
                   f"{len(qs)} of {len(en)} English sentences (random sample, seed {seed}) against {len(zh)} Chinese "
                   f"sentences (one chunk each); relevant = the chunk is the aligned sentence (or an identical one)")


def load_seed_gold(embedder: Any, fresh: bool) -> Dataset:
    from rag.eval.gold import load_gold

    index = _ingest_files("seeds", sorted((ROOT / "seeds").glob("*.txt")), embedder, fresh)
    gold = load_gold(ROOT / "seeds" / "gold" / "gold.jsonl")
    qs = [Question(q.id, q.question, [norm(e) for e in q.evidence]) for q in gold if q.answerable and q.evidence]
    return Dataset("seed gold", index, qs, f"{len(qs)} answerable of {len(gold)} questions; relevant = chunk contains "
                   f"an evidence string (rag.gold matching)")


class CachedQueries:
    """An embedder that answers embed_queries from vectors computed beforehand (so methods share one embedding)."""

    def __init__(self, inner: Any, vectors: dict[str, np.ndarray]) -> None:
        self.inner, self.vectors, self.name, self.dim = inner, vectors, inner.name, inner.dim

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return np.stack([self.vectors[t] if t in self.vectors else self.inner.embed_queries([t])[0] for t in texts])

    def embed_passages(self, texts: list[str], batch_size: int = 32, progress: bool = False) -> np.ndarray:
        return self.inner.embed_passages(texts, batch_size, progress)


def embed_questions(ds: Dataset, embedder: Any, timed: bool) -> tuple[dict[str, np.ndarray], list[float]]:
    """Query vectors by text; one at a time and timed when `timed` (the latency a user sees), else batched."""
    texts = list(dict.fromkeys(q.text for q in ds.questions))
    if not timed:
        return dict(zip(texts, embedder.embed_queries(texts))), []
    out, ms = {}, []
    for t in texts:
        t0 = time.perf_counter()
        out[t] = embedder.embed_queries([t])[0]
        ms.append((time.perf_counter() - t0) * 1e3)
    return out, ms


def langchain_store(ds: Dataset, embedder: Any, queries: dict[str, np.ndarray]) -> Any:
    """The plain recipe: FAISS.from_texts over the chunk texts with an Embeddings adapter on our embedder."""
    from langchain_community.vectorstores import FAISS
    from langchain_core.embeddings import Embeddings

    # Passages whose embedded string equals what our index embedded reuse its vectors (same model, prompt and
    # input, so the same numbers); any other text is embedded here.
    known = {c.embed_text(): ds.index.embeddings[i] for i, c in enumerate(ds.index.chunks)}

    class E5Embeddings(Embeddings):
        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            missing = [t for t in dict.fromkeys(texts) if t not in known]
            if missing:
                known.update(zip(missing, embedder.embed_passages(missing)))  # "passage: " prompt
            return [known[t].tolist() for t in texts]

        def embed_query(self, text: str) -> list[float]:
            v = queries.get(text)
            return (v if v is not None else embedder.embed_queries([text])[0]).tolist()  # "query: " prompt

    return FAISS.from_texts([c.text for c in ds.index.chunks], E5Embeddings())


def evaluate(ds: Dataset, search: Callable[[str], list[str]]) -> dict[str, Any]:
    """hit@1, hit@5, MRR@10 and search latency of `search` (query -> ranked passage texts)."""
    ranks, ms = [], []
    for q in ds.questions:
        t0 = time.perf_counter()
        texts = search(q.text)
        ms.append((time.perf_counter() - t0) * 1e3)
        ranks.append(next((r for r, t in enumerate(texts[:K], 1) if q.relevant(t)), 0))
    r = np.asarray(ranks)
    return {"hit@1": float(np.mean(r == 1)), "hit@5": float(np.mean((r >= 1) & (r <= 5))),
            "mrr": float(np.mean(np.where(r > 0, 1.0 / np.maximum(r, 1), 0.0))), "search": percentiles(ms), "_ms": ms}


def reachable(ds: Dataset) -> int:
    """Questions whose evidence lies inside at least one chunk (the ceiling of hit@k)."""
    hays = [norm(c.text) for c in ds.index.chunks]
    return sum(any(q.relevant_norm(h) for h in hays) for q in ds.questions)


def searcher(ds: Dataset, emb: Any, method: str, settings: Any, lc: Any = None) -> Callable[[str], list[str]]:
    from rag.answer.retrieve import Retriever

    if method == "langchain":
        return lambda q: [d.page_content for d in lc.similarity_search(q, k=K)]
    r = Retriever(ds.index, emb, settings)
    return lambda q: [h.chunk.text for h in r.search(q, k=K, mode=method).hits]


def main_eval(sets: list[Dataset], embedder: Any) -> tuple[dict[str, Any], str]:
    from rag.config import RetrievalSettings

    settings = RetrievalSettings()
    res: dict[str, Any] = {}
    md: list[str] = []
    for ds in sets:
        print(f"[{ds.name}] embedding {len(ds.questions)} questions one at a time ...", file=sys.stderr)
        qv, embed_ms = embed_questions(ds, embedder, timed=True)
        emb = CachedQueries(embedder, qv)
        t0 = time.perf_counter()
        lc = langchain_store(ds, embedder, qv)
        lc_build = time.perf_counter() - t0
        reach = reachable(ds)
        out: dict[str, Any] = {"note": ds.note, "questions": len(ds.questions), "chunks": len(ds.index.chunks),
                               "reachable": reach, "query_embed": percentiles(embed_ms),
                               "langchain_build_s": round(lc_build, 2), "methods": {}}
        rows = []
        for m in METHODS:
            r = evaluate(ds, searcher(ds, emb, m, settings, lc))
            e2e = percentiles([a + b for a, b in zip(embed_ms, r.pop("_ms"))]) if len(embed_ms) == len(ds.questions) else {}
            r["end_to_end"] = e2e
            out["methods"][m] = r
            rows.append([m, r["hit@1"], r["hit@5"], r["mrr"], r["search"]["p50_ms"], r["search"]["p95_ms"],
                         e2e.get("p50_ms", "-"), e2e.get("p95_ms", "-")])
            print(f"  [{ds.name}] {m}: hit@1 {r['hit@1']:.3f} hit@5 {r['hit@5']:.3f} MRR {r['mrr']:.3f} "
                  f"search p50 {r['search']['p50_ms']} ms", file=sys.stderr)
        res[ds.name] = out
        pe = out["query_embed"]
        md += [f"### {ds.name}", "", f"{ds.note}; {out['chunks']} chunks indexed; {reach}/{len(ds.questions)} questions "
               f"have their evidence inside one chunk (the ceiling). Query embedding (one at a time): p50 "
               f"{pe['p50_ms']} ms, p95 {pe['p95_ms']} ms.", "",
               md_table(["method", "hit@1", "hit@5", "MRR@10", "search p50 ms", "search p95 ms", "embed+search p50 ms",
                         "embed+search p95 ms"], rows), ""]
    return res, "\n".join(md)


def tune(sets: list[Dataset], embedder: Any) -> tuple[dict[str, Any], str]:
    from rag.config import RetrievalSettings

    base = RetrievalSettings()
    embs = {ds.name: CachedQueries(embedder, embed_questions(ds, embedder, timed=False)[0]) for ds in sets}
    grid = []
    for w in TUNE_BM25:
        for rk in TUNE_RRF:
            s = RetrievalSettings(k=K, candidates=base.candidates, rrf_k=rk, dense_weight=1.0, bm25_weight=w)
            row: dict[str, Any] = {"dense_weight": 1.0, "bm25_weight": w, "rrf_k": rk}
            for ds in sets:
                r = evaluate(ds, searcher(ds, embs[ds.name], "hybrid", s))
                row[ds.name] = {"mrr": r["mrr"], "hit@5": r["hit@5"]}
            row["mean_mrr"] = float(np.mean([row[ds.name]["mrr"] for ds in sets]))
            print(f"  bm25_weight {w} rrf_k {rk}: mean MRR {row['mean_mrr']:.4f}", file=sys.stderr)
            grid.append(row)
    best = max(grid, key=lambda g: g["mean_mrr"])
    headers = ["bm25_weight", "rrf_k"] + [f"{ds.name} {m}" for ds in sets for m in ("MRR", "hit@5")] + ["mean MRR"]
    rows = [[g["bm25_weight"], g["rrf_k"]] + [g[ds.name][m] for ds in sets for m in ("mrr", "hit@5")]
            + [g["mean_mrr"]] for g in grid]
    default = next((g for g in grid if (g["bm25_weight"], g["rrf_k"]) == (base.bm25_weight, base.rrf_k)), None)
    md = ["dense_weight = 1.0 throughout; hybrid mode, candidates = " + str(base.candidates) + ".", "",
          md_table(headers, rows), "",
          f"**Best mean MRR: bm25_weight = {best['bm25_weight']}, rrf_k = {best['rrf_k']} "
          f"(mean MRR {best['mean_mrr']:.4f}).**"]
    if default:
        md.append(f"Current default in rag/config.py (bm25_weight = {base.bm25_weight}, rrf_k = {base.rrf_k}): "
                  f"mean MRR {default['mean_mrr']:.4f}.")
    notes = {ds.name: ds.note for ds in sets}
    return {"grid": grid, "best": best, "default": default, "sets": notes}, "\n".join(md)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", help="data folder (default: ../shared/data beside the repository)")
    ap.add_argument("--sets", default="cmrc,unpc,gold", help="comma list of cmrc, unpc, gold")
    ap.add_argument("--limit-cmrc", type=int, default=500, help="CMRC questions (random sample)")
    ap.add_argument("--limit-unpc", type=int, default=1000, help="UNPC questions (random sample)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1, help="torch/FAISS threads (1 is fastest on a busy 2-core box)")
    ap.add_argument("--model", help="embedder (default: the project's default)")
    ap.add_argument("--fresh", action="store_true", help="rebuild the cached indexes under benchmarks/out/cache")
    ap.add_argument("--tune", action="store_true", help="grid-search dense/BM25 fusion instead of comparing methods")
    args = ap.parse_args(argv)
    set_threads(args.threads)
    from rag.models.embed import get_embedder

    info = machine()
    data = data_dir(args.data)
    t_start = time.perf_counter()
    embedder = GuardedEmbedder(get_embedder(args.model) if args.model else get_embedder())
    wanted = [s.strip() for s in args.sets.split(",") if s.strip()]
    sets: list[Dataset] = []
    for name in wanted:
        print(f"loading {name} ...", file=sys.stderr)
        if name == "cmrc":
            sets.append(load_cmrc(data, embedder, args.limit_cmrc, args.seed, args.fresh))
        elif name == "unpc":
            sets.append(load_unpc(data, embedder, args.limit_unpc, args.seed, args.fresh))
        elif name == "gold":
            sets.append(load_seed_gold(embedder, args.fresh))
        else:
            ap.error(f"unknown set {name!r}; choose from cmrc, unpc, gold")
    t_loaded = time.perf_counter()
    res, body = (tune if args.tune else main_eval)(sets, embedder)
    wall = time.perf_counter() - t_start
    title = "Retrieval fusion tuning" if args.tune else "Retrieval quality and latency"
    guard = embedder.report()
    guard_md = (f" Tokenizer workaround: {guard['texts_touched']} embedded text(s) had characters the converted "
                f"tokenizer panics on ({', '.join(guard['bad_chars'])}), replaced by spaces." if guard["texts_touched"] else "")
    md = (f"## {title}\n\nMachine: {machine_line(info)}. Embedder {embedder.name} ({embedder.dim}-d). "
          f"Wall time {wall:.0f} s ({t_loaded - t_start:.0f} s loading/indexing; cached indexes are reused)."
          f"{guard_md}\n\n{body}")
    data_out = {"machine": info, "args": vars(args), "embedder": embedder.name, "wall_s": round(wall, 1),
                "tokenizer_workaround": guard, "results": res}
    name = ("retrieval_tune" if args.tune else "retrieval") + (f"_seed{args.seed}" if args.seed else "")
    write_report(name, data_out, md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
