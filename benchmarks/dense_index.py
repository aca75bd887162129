"""Exact (IndexFlatIP) vs HNSW query latency, recall@10 and build time on random 384-d vectors, for HNSW_THRESHOLD."""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import OUT, machine, machine_line, md_table, percentiles, set_threads, write_report  # noqa: E402

SIZES = (10_000, 50_000, 100_000, 200_000, 500_000)
TARGET_MS = 10.0  # the per-query budget for the dense part of a search


def unit_vectors(rng: np.random.Generator, n: int, dim: int) -> np.ndarray:
    """n random unit vectors (uniform on the sphere), built in blocks to bound temporary memory."""
    out = np.empty((n, dim), dtype=np.float32)
    for a in range(0, n, 50_000):
        b = min(n, a + 50_000)
        v = rng.standard_normal((b - a, dim), dtype=np.float32)
        out[a:b] = v / np.linalg.norm(v, axis=1, keepdims=True)
    return out


class E5Like:
    """Unit vectors from a Gaussian fitted (mean + full covariance) to real e5 passage embeddings: the same
    anisotropy and effective dimensionality as the model's output, without its cluster structure."""

    def __init__(self, real: np.ndarray) -> None:
        self.mean = real.mean(axis=0)
        _, s, vt = np.linalg.svd(real - self.mean, full_matrices=False)
        self.proj = (s[:, None] / np.sqrt(len(real) - 1)) * vt  # z @ proj has the fitted covariance
        self.dim = real.shape[1]

    def sample(self, rng: np.random.Generator, n: int, dim: int) -> np.ndarray:
        out = np.empty((n, self.dim), dtype=np.float32)
        for a in range(0, n, 50_000):
            b = min(n, a + 50_000)
            v = self.mean + rng.standard_normal((b - a, len(self.proj)), dtype=np.float32) @ self.proj
            out[a:b] = v / np.linalg.norm(v, axis=1, keepdims=True)
        return out


def real_embeddings() -> np.ndarray:
    """The passage embeddings of the indexes that benchmarks/retrieval.py cached (run it first)."""
    files = sorted((OUT / "cache").glob("*/versions/*/embeddings.npy"))
    if not files:
        sys.exit("no cached embeddings under benchmarks/out/cache: run benchmarks/retrieval.py first, or use --data random")
    return np.concatenate([np.load(f) for f in files]).astype(np.float32)


def time_queries(index: Any, queries: np.ndarray, k: int) -> tuple[list[float], np.ndarray]:
    """Search one query at a time (as a user's question is) and return per-query ms and the ids found."""
    ms, ids = [], np.empty((len(queries), k), dtype=np.int64)
    index.search(queries[:1], k)  # warm-up
    for i in range(len(queries)):
        t0 = time.perf_counter()
        _, found = index.search(queries[i : i + 1], k)
        ms.append((time.perf_counter() - t0) * 1e3)
        ids[i] = found[0]
    return ms, ids


def recall_at(truth: np.ndarray, found: np.ndarray) -> float:
    k = truth.shape[1]
    return float(np.mean([len(set(t) & set(f)) / k for t, f in zip(truth, found)]))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sizes", default=",".join(str(s) for s in SIZES), help="comma list of collection sizes")
    ap.add_argument("--max-n", type=int, default=500_000, help="skip sizes above this")
    ap.add_argument("--hnsw-max-n", type=int, default=100_000,
                    help="build HNSW only up to this size (its build dominates the run time; exact is measured at all)")
    ap.add_argument("--queries", type=int, default=200, help="queries timed per size")
    ap.add_argument("--dim", type=int, default=384)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--threads", type=int, default=1, help="FAISS threads (single-query search is single-threaded)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--ef-sweep", default="64,128,256,512", help="efSearch values tried on each HNSW index built")
    ap.add_argument("--data", choices=("random", "e5like"), default="random",
                    help="uniform random unit vectors, or a Gaussian fitted to the cached real e5 embeddings")
    args = ap.parse_args(argv)
    set_threads(args.threads)
    from index.dense import HNSW_EF_SEARCH, HNSW_M, HNSW_THRESHOLD, DenseIndex

    info = machine()
    sizes = [n for n in (int(s) for s in args.sizes.split(",")) if n <= args.max_n]
    rng = np.random.default_rng(args.seed)
    if args.data == "e5like":
        real = real_embeddings()
        gen = E5Like(real).sample
        args.dim = real.shape[1]
        source = (f"vectors from a Gaussian fitted to {len(real):,} real e5 passage embeddings (cached by "
                  f"retrieval.py), normalised")
    else:
        gen, source = unit_vectors, "random unit vectors (uniform on the sphere)"
    queries = gen(rng, args.queries, args.dim)
    rows: list[dict[str, Any]] = []
    t_all = time.perf_counter()
    for n in sizes:
        base = gen(rng, n, args.dim)
        t0 = time.perf_counter()
        flat = DenseIndex.build(base, args.dim, kind="flat")
        flat_build = time.perf_counter() - t0
        flat_ms, truth = time_queries(flat, queries, args.k)
        row: dict[str, Any] = {"n": n, "flat_build_s": round(flat_build, 3), "flat": percentiles(flat_ms),
                               "flat_mib": round(n * args.dim * 4 / 2**20, 1), "hnsw": None}
        if n <= args.hnsw_max_n:
            t0 = time.perf_counter()
            hnsw = DenseIndex.build(base, args.dim, kind="hnsw")
            row["hnsw_build_s"] = round(time.perf_counter() - t0, 2)
            hnsw_ms, found = time_queries(hnsw, queries, args.k)
            row["hnsw"], row["hnsw_recall@10"] = percentiles(hnsw_ms), round(recall_at(truth, found), 4)
            row["ef_sweep"] = {}
            for ef in (int(e) for e in args.ef_sweep.split(",") if e.strip()):
                hnsw.index.hnsw.efSearch = ef
                ms, got = time_queries(hnsw, queries, args.k)
                row["ef_sweep"][ef] = {"p50_ms": percentiles(ms)["p50_ms"], "recall": round(recall_at(truth, got), 4)}
            del hnsw
        rows.append(row)
        h = row["hnsw"] or {}
        print(f"N={n}: flat p50 {row['flat']['p50_ms']} ms p95 {row['flat']['p95_ms']} ms | hnsw p50 "
              f"{h.get('p50_ms', '-')} ms p95 {h.get('p95_ms', '-')} ms recall@10 {row.get('hnsw_recall@10', '-')} | "
              f"build hnsw {row.get('hnsw_build_s', '-')} s", file=sys.stderr, flush=True)
        del base, flat
    over = next((r["n"] for r in rows if r["flat"]["p50_ms"] > TARGET_MS), None)
    # Exact search is linear in N: extrapolate the 10 ms crossing from the largest size measured.
    last = rows[-1] if rows else None
    per_n = last["flat"]["p50_ms"] / last["n"] if last else float("nan")
    crossing = int(TARGET_MS / per_n) if last and per_n > 0 else None
    res = {"machine": info, "args": vars(args), "hnsw": {"M": HNSW_M, "efConstruction": 200, "efSearch": HNSW_EF_SEARCH},
           "hnsw_threshold": HNSW_THRESHOLD, "rows": rows, "first_n_flat_p50_over_10ms": over,
           "flat_10ms_crossing_estimate": crossing, "wall_s": round(time.perf_counter() - t_all, 1)}
    table = md_table(
        ["N", "exact p50 ms", "exact p95 ms", "HNSW p50 ms", "HNSW p95 ms", "HNSW recall@10", "exact build s",
         "HNSW build s"],
        [[f"{r['n']:,}", r["flat"]["p50_ms"], r["flat"]["p95_ms"], (r["hnsw"] or {}).get("p50_ms", "-"),
          (r["hnsw"] or {}).get("p95_ms", "-"), r.get("hnsw_recall@10", "-"), r["flat_build_s"],
          r.get("hnsw_build_s", "-")] for r in rows])
    swept = [r for r in rows if r.get("ef_sweep")]
    efs = list(swept[0]["ef_sweep"]) if swept else []
    sweep = md_table(["N"] + [f"efSearch {e}: recall@{args.k} / p50 ms" for e in efs],
                     [[f"{r['n']:,}"] + [f"{r['ef_sweep'][e]['recall']:.3f} / {r['ef_sweep'][e]['p50_ms']}" for e in efs]
                      for r in swept]) if swept else ""
    verdict = (f"Exact search first exceeds {TARGET_MS:.0f} ms/query (p50) at N = {over:,}." if over else
               f"Exact search stays under {TARGET_MS:.0f} ms/query (p50) at every N measured.")
    md = "\n".join([
        "## Dense index: exact vs HNSW", "",
        f"Machine: {machine_line(info)}. {args.queries} queries, searched one at a time, against N {args.dim}-d "
        f"{source}; queries drawn the same way; HNSW M={HNSW_M}, efConstruction=200, efSearch={HNSW_EF_SEARCH} "
        f"(index/dense.py), built up to N = {args.hnsw_max_n:,} (- : not built); recall@{args.k} "
        f"against the exact top {args.k}. Wall time {res['wall_s']:.0f} s.", "",
        table, "",
        f"{verdict} Linear extrapolation from N = {last['n']:,} puts the {TARGET_MS:.0f} ms crossing at about "
        f"N ≈ {crossing:,}. HNSW_THRESHOLD is {HNSW_THRESHOLD:,}." if last else verdict, "",
        *(["HNSW efSearch sweep (same index, same queries):", "", sweep, ""] if sweep else []),
        "Uniform random vectors are the worst case for HNSW (every point is nearly equidistant, no low-dimensional "
        "structure); --data e5like keeps the real embeddings' covariance.",
    ])
    res["data"] = source
    write_report("dense_index" if args.data == "random" else f"dense_index_{args.data}", res, md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
