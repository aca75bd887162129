"""Ingestion throughput and peak memory on the CMRC 2018 dev passages, split into parse/chunk, embed and commit."""
from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (  # noqa: E402
    GuardedEmbedder,
    data_dir,
    machine,
    machine_line,
    md_table,
    reset_peak_rss,
    rss_mib,
    set_threads,
    write_report,
)


class Timer:
    def __init__(self) -> None:
        self.s: dict[str, float] = {}

    def add(self, key: str, dt: float) -> None:
        self.s[key] = self.s.get(key, 0.0) + dt


class TimedEmbedder:
    """Passes calls through to the real embedder and accumulates the time spent embedding passages."""

    def __init__(self, inner: Any, timer: Timer) -> None:
        self.inner, self.timer, self.name, self.dim = inner, timer, inner.name, inner.dim
        self.passages = 0

    def embed_passages(self, texts: list[str], batch_size: int = 32, progress: bool = False) -> np.ndarray:
        t0 = time.perf_counter()
        out = self.inner.embed_passages(texts, batch_size, progress)
        self.timer.add("embed", time.perf_counter() - t0)
        self.passages += len(texts)
        return out

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self.inner.embed_queries(texts)


def instrument(timer: Timer) -> None:
    """Time parsing (in the isolated parser process, round trip included), IndexWriter.commit, and the FAISS/BM25
    builds inside commit."""
    import index.segment as segment
    import rag.ingest.library as ri

    def timed(fn: Any, key: str) -> Any:
        """`fn`, adding its wall time to `key` of the timer on every call."""
        def wrapper(*a: Any, **kw: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return fn(*a, **kw)
            finally:
                timer.add(key, time.perf_counter() - t0)
        return wrapper

    open_writer = ri.open_writer

    def timed_writer(*a: Any, **kw: Any) -> Any:
        writer = open_writer(*a, **kw)
        writer.commit = timed(writer.commit, "commit")
        return writer

    segment.DenseIndex.build = classmethod(  # type: ignore[method-assign]
        timed(segment.DenseIndex.build.__func__, "commit: FAISS build"))
    segment.build_postings = timed(segment.build_postings, "commit: BM25 build")  # type: ignore[assignment]
    ri.parse_isolated = timed(ri.parse_isolated, "parse+chunk")  # type: ignore[assignment]
    ri.open_writer = timed_writer  # type: ignore[assignment]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", help="data folder (default: ../shared/data beside the repository)")
    ap.add_argument("--limit-docs", type=int, default=0, help="ingest only the first N passages (0: all 848)")
    ap.add_argument("--threads", type=int, default=1, help="torch/FAISS threads (1 is fastest on a busy 2-core box)")
    ap.add_argument("--model", help="embedder (default: the project's default)")
    args = ap.parse_args(argv)
    set_threads(args.threads)
    from rag.eval.squad import squad_contexts
    from rag.ingest.library import ingest
    from rag.models.embed import get_embedder

    info = machine()
    rss_start = rss_mib()
    t0 = time.perf_counter()
    inner = GuardedEmbedder(get_embedder(args.model) if args.model else get_embedder())
    inner.embed_passages(["warm-up"])  # first-call setup is not ingestion
    load_s = time.perf_counter() - t0
    rss_model = rss_mib()
    contexts = squad_contexts(data_dir(args.data) / "cmrc2018" / "cmrc2018_dev.squad.json")
    if args.limit_docs:
        contexts = contexts[: args.limit_docs]
    timer = Timer()
    instrument(timer)
    emb = TimedEmbedder(inner, timer)
    with tempfile.TemporaryDirectory() as tmp:
        corpus, index_dir = Path(tmp) / "corpus", Path(tmp) / "index"
        corpus.mkdir()
        for doc_id, _title, text in contexts:
            (corpus / f"{doc_id}.txt").write_text(text + "\n", encoding="utf-8")
        chars = sum(len(t) for _d, _ti, t in contexts)
        reset_ok = reset_peak_rss()
        t1 = time.perf_counter()
        report = ingest([corpus], index_dir, emb,
                        progress=lambda st: st.files_done % 100 == 0 and print(
                            f"  ingest {st.files_done}/{st.files_total}", file=sys.stderr))
        total = time.perf_counter() - t1
        rss_end = rss_mib()
    counts = report.counts()
    docs = counts.get("added", 0)
    s = timer.s
    other = total - s.get("parse+chunk", 0) - s.get("embed", 0) - s.get("commit", 0)
    stages = [("parse + chunk", s.get("parse+chunk", 0.0)), ("embed", s.get("embed", 0.0)),
              ("commit (write, FAISS, BM25, swap)", s.get("commit", 0.0)),
              ("  of which FAISS build", s.get("commit: FAISS build", 0.0)),
              ("  of which BM25 build (jieba tokenising)", s.get("commit: BM25 build", 0.0)),
              ("other (hashing, bookkeeping)", other)]
    res = {
        "machine": info, "args": vars(args), "embedder": inner.name, "documents": docs, "failed": len(report.failed),
        "chunks": emb.passages, "characters": chars, "model_load_s": round(load_s, 2), "total_s": round(total, 2),
        "passages_per_s": round(docs / total, 2), "chunks_per_s": round(emb.passages / total, 2),
        "chars_per_s": round(chars / total, 1), "stages_s": {k: round(v, 3) for k, v in stages},
        "rss_start_mib": rss_start["rss_mib"], "rss_after_model_mib": rss_model["rss_mib"],
        "peak_rss_during_ingest_mib": rss_end["peak_mib"] if reset_ok else None,
        "peak_rss_process_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "peak_reset_supported": reset_ok,
    }
    peak = (f"{res['peak_rss_during_ingest_mib']} MiB (high-water mark reset after the model loaded)" if reset_ok
            else "n/a (cannot reset the high-water mark here)")
    md = "\n".join([
        "## Ingestion: CMRC 2018 dev passages", "",
        f"Machine: {machine_line(info)}. Embedder {inner.name}, real chunker and index (rag.ingest.ingest into a fresh "
        f"temporary index).", "",
        f"{docs} passages ({chars} characters) -> {emb.passages} chunks in **{total:.1f} s**: "
        f"**{res['passages_per_s']} passages/s**, {res['chunks_per_s']} chunks/s, {res['chars_per_s']:.0f} chars/s. "
        f"Model load (not included): {load_s:.1f} s.", "",
        md_table(["stage", "seconds", "share"], [[k, round(v, 2), f"{100 * v / total:.1f}%"] for k, v in stages]), "",
        md_table(["memory", "MiB"], [
            ["RSS before loading the model", rss_start["rss_mib"]],
            ["RSS after loading the model", rss_model["rss_mib"]],
            ["peak RSS during ingestion", res["peak_rss_during_ingest_mib"] if reset_ok else "n/a"],
            ["peak RSS of the whole process (ru_maxrss)", res["peak_rss_process_mib"]]]), "",
        f"Peak during ingestion: {peak}.",
    ])
    write_report("ingest", res, md)
    return 0 if not report.failed else 1


if __name__ == "__main__":
    sys.exit(main())
