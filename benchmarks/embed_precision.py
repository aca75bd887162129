"""Ingestion speed by embedding precision: the pipeline against the bare model, fp32 against the chosen mode.

For each precision (fp32 and what `auto` picks on this machine) on the same CMRC 2018 dev passages:
  - pipeline: `rag ingest` end to end into a fresh index (parse in the isolated parser, chunk, embed, commit);
  - bare model: `embed_passages` on the same chunk texts, nothing else;
  - retrieval: hit@5 of the CMRC questions about those passages, on that index.
Writes benchmarks/out/embed_precision.{json,md}.

    python benchmarks/embed_precision.py --limit-docs 200 --threads 2
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import data_dir, machine, machine_line, md_table, set_threads, write_report  # noqa: E402


def run(precision: str, contexts: list[tuple[str, str, str]], questions: list[dict[str, Any]], threads: int,
        repeats: int) -> dict:
    """Ingest `contexts` with embeddings in `precision`, time the bare model on the same chunks, score hit@5.

    Pipeline and bare runs alternate `repeats` times and the medians are reported: on a shared machine the load
    drifts between two back-to-back runs, and alternating spreads the drift over both sides.
    """
    from rag.answer.pipeline import Pipeline
    from rag.config import Settings
    from rag.ingest.library import ingest
    from rag.models.embed import DEFAULT_EMBED_MODEL, SentenceTransformerEmbedder, ensure_converted

    emb = SentenceTransformerEmbedder(str(ensure_converted()), name=DEFAULT_EMBED_MODEL, threads=threads,
                                      device="cpu", precision=precision)
    emb.embed_passages(["warm-up"])
    pipeline_times: list[float] = []
    bare_times: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus"
        corpus.mkdir()
        for doc_id, _title, text in contexts:
            (corpus / f"{doc_id}.txt").write_text(text + "\n", encoding="utf-8")
        for r in range(repeats):
            index_dir = Path(tmp) / f"index-{r}"
            t0 = time.perf_counter()
            report = ingest([corpus], index_dir, emb)
            pipeline_times.append(time.perf_counter() - t0)
            pipe = Pipeline(Settings(index_dir=index_dir, threads=threads), embedder=emb)
            texts = [c.embed_text() for _, c in pipe.index.iter_chunks()]
            t1 = time.perf_counter()
            emb.embed_passages(texts)
            bare_times.append(time.perf_counter() - t1)
        hit5 = sum(any(e in h.text for e in q["evidence"] for h in pipe.retriever.search(q["question"], k=5).hits)
                   for q in questions) / max(1, len(questions))
    n = report.counts().get("added", 0)
    pipeline_s, bare_s = statistics.median(pipeline_times), statistics.median(bare_times)
    return {"precision": emb.precision, "passages": n, "chunks": len(texts), "repeats": repeats,
            "pipeline_s": round(pipeline_s, 1), "bare_s": round(bare_s, 1),
            "pipeline_s_all": [round(t, 2) for t in pipeline_times], "bare_s_all": [round(t, 2) for t in bare_times],
            "pipeline_passages_per_s": round(n / pipeline_s, 2),
            "bare_passages_per_s": round(n / bare_s, 2), "pipeline_vs_bare": round(bare_s / pipeline_s, 3),
            "hit@5": round(hit5, 4), "questions": len(questions)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", help="data folder (default: ../shared/data beside the repository)")
    ap.add_argument("--limit-docs", type=int, default=200, help="CMRC passages to ingest (0: all 848)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3, help="alternating pipeline/bare runs; medians reported")
    args = ap.parse_args(argv)
    set_threads(args.threads)
    from rag.eval.squad import squad_contexts, squad_to_gold
    from rag.models.embed import cpu_has_bf16, resolve_precision

    path = data_dir(args.data) / "cmrc2018" / "cmrc2018_dev.squad.json"
    contexts = squad_contexts(path)
    if args.limit_docs:
        contexts = contexts[: args.limit_docs]
    ids = {d for d, _t, _x in contexts}
    records, _ = squad_to_gold(path)
    questions = [r for r in records if r.get("doc") in ids and r.get("evidence")]
    chosen = resolve_precision("auto", "cpu")
    runs = [run(p, contexts, questions, args.threads, args.repeats) for p in dict.fromkeys(["fp32", chosen])]
    info = machine()
    rows = [[r["precision"], r["passages"], r["chunks"], r["pipeline_passages_per_s"], r["bare_passages_per_s"],
             f"{100 * r['pipeline_vs_bare']:.0f}%", r["hit@5"]] for r in runs]
    md = "\n".join([
        "## Ingestion by embedding precision", "",
        f"Machine: {machine_line(info)}; CPU bf16 (AVX-512 BF16 / AMX): {cpu_has_bf16()}; `auto` picks {chosen}; "
        f"{args.threads} threads; median of {args.repeats} alternating runs; {len(contexts)} CMRC 2018 dev passages, hit@5 over their {len(questions)} questions.",
        "",
        md_table(["precision", "passages", "chunks", "pipeline passages/s", "bare model passages/s",
                  "pipeline / bare", "hit@5"], rows),
    ])
    print(md)
    write_report("embed_precision", {"machine": info, "args": vars(args), "runs": runs}, md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
