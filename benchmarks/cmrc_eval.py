"""CMRC 2018 dev benchmark: convert with rag.squad, ingest the contexts with the real embedder, run `rag eval`."""
from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Sequence

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script from anywhere

from rag.answer.retrieve import MODES  # noqa: E402
from rag.config import RetrievalSettings, Settings  # noqa: E402
from rag.eval.evaluate import EvalConfig, run_eval, tqdm_progress  # noqa: E402
from rag.eval.gold import load_gold, write_gold  # noqa: E402
from rag.eval.report import breakdown_table  # noqa: E402
from rag.eval.squad import squad_contexts, squad_to_gold, write_corpus  # noqa: E402
from rag.types import RagError  # noqa: E402

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
DEV = DATA / "cmrc2018" / "cmrc2018_dev.squad.json"
OUT = ROOT / "benchmarks" / "out"


def sample(records: list[dict[str, Any]], limit: int, seed: int) -> list[dict[str, Any]]:
    """`limit` questions drawn at random (fixed seed), kept in file order; all of them when limit <= 0."""
    if limit <= 0 or limit >= len(records):
        return records
    keep = set(random.Random(seed).sample(range(len(records)), limit))
    return [r for i, r in enumerate(records) if i in keep]


def crashing_contexts(embed_model: str, contexts: Sequence[tuple[str, str, str]]) -> list[str]:
    """Contexts the embedder's tokenizer cannot encode (it panics: U+00B0 and U+00B1 in the converted e5 one).

    Ingesting one of them would abort the whole ingest, so they are left out and reported.
    """
    from rag.models.embed import get_embedder

    tok = getattr(getattr(get_embedder(embed_model), "model", None), "tokenizer", None)
    if tok is None:
        return []
    bad = []
    for doc_id, _title, text in contexts:
        try:
            tok([text], truncation=True, max_length=512)
        except BaseException as e:  # noqa: BLE001 - pyo3's PanicException is not an Exception
            if type(e).__name__ != "PanicException":
                raise
            bad.append(doc_id)
    return bad


def build_index(contexts: Sequence[tuple[str, str, str]], index_dir: Path, embed_model: str, quiet: bool) -> float:
    """Write every context as a .txt file and ingest them all (incremental: an existing index is reused)."""
    from rag.cli.ingest import ingest_bar
    from rag.ingest.library import ingest
    from rag.models.embed import get_embedder

    corpus = index_dir.parent / (index_dir.name + "-corpus")
    write_corpus(contexts, corpus)
    t0 = time.perf_counter()
    report = ingest(sorted(corpus.glob("*.txt")), index_dir, get_embedder(embed_model),
                    progress=None if quiet else ingest_bar())
    if report.failed:
        raise RagError(f"{len(report.failed)} contexts failed to ingest, e.g. {report.failed[0].path}: "
                       f"{report.failed[0].reason}")
    return time.perf_counter() - t0


def markdown(summary: dict[str, Any], bench: dict[str, Any], table: str) -> str:
    lines = [
        "# CMRC 2018 dev: retrieval and extractive answers", "",
        f"- data: `{bench['data']}`: {bench['questions_total']} questions over {bench['contexts']} contexts "
        f"({bench['relocated']} answer offsets corrected, {bench['dropped']} dropped)",
        f"- left out: {len(bench['left_out_contexts'])} contexts the embedder's tokenizer crashes on (°, ±) and their "
        f"{bench['left_out_questions']} questions: {', '.join(bench['left_out_contexts']) or 'none'}",
        f"- evaluated: {bench['questions']} questions (random sample, seed {bench['seed']}); the other "
        f"contexts indexed ({summary['chunks']} passages) with `{summary['embed_model']}`",
        f"- refusal threshold: {bench['refuse_below']}; k = {summary['k']}; ingest {bench['ingest_s']:.0f} s",
        "", table, "",
    ]
    for c in summary["configs"]:
        lines += [f"## By question language — {c['name']}", "", breakdown_table(c["by_language"], "language"), ""]
    lines += ["Every CMRC question is answerable: refusal accuracy is undefined and every refusal is a false one. "
              "The evidence of a question is the context sentence holding its first answer span.", ""]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", type=Path, default=DEV, help=f"SQuAD-format file (default {DEV})")
    ap.add_argument("--limit", type=int, default=300, help="questions to evaluate (default 300; 0 = all)")
    ap.add_argument("--seed", type=int, default=0, help="sampling seed (default 0)")
    ap.add_argument("--k", type=int, default=5, help="passages for the answer (default 5)")
    ap.add_argument("--compare", action="store_true", help="dense, bm25 and hybrid side by side")
    ap.add_argument("--refuse-below", type=float, default=None,
                    help="refusal threshold (default: the pipeline's own, RetrievalSettings.refuse_below)")
    ap.add_argument("--index", type=Path, help="keep (and reuse) the index here instead of a temporary folder")
    ap.add_argument("--out", type=Path, default=OUT, help=f"report folder (default {OUT})")
    ap.add_argument("--quiet", action="store_true", help="no progress bars")
    args = ap.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        records, stats = squad_to_gold(args.data)
        contexts = squad_contexts(args.data)
        crashing = crashing_contexts(Settings().embed_model, contexts)
        if crashing:
            print(f"warning: leaving out {len(crashing)} contexts the embedder cannot encode (and their questions): "
                  f"{', '.join(crashing)}", file=sys.stderr)
            contexts = [c for c in contexts if c[0] not in set(crashing)]
            records = [r for r in records if r["doc"] not in set(crashing)]
        chosen = sample(records, args.limit, args.seed)
        with tempfile.TemporaryDirectory(prefix="cmrc-eval-") as tmp:
            index_dir = args.index or Path(tmp) / "index"
            index_dir.parent.mkdir(parents=True, exist_ok=True)
            gold_path = Path(tmp) / "cmrc_dev_gold.jsonl"
            write_gold(chosen, gold_path)
            base = Settings()
            retrieval = RetrievalSettings() if args.refuse_below is None else RetrievalSettings(refuse_below=args.refuse_below)
            settings = Settings(index_dir=index_dir, embed_model=base.embed_model, llm="extractive", retrieval=retrieval)
            ingest_s = build_index(contexts, index_dir, settings.embed_model, args.quiet)
            from rag.answer.pipeline import Pipeline

            configs = [EvalConfig(m, "extractive") for m in (MODES if args.compare else ("hybrid",))]
            run = run_eval(Pipeline(settings), load_gold(gold_path), configs, k=args.k, out_dir=args.out / "cmrc_eval",
                           gold_path=gold_path.name, progress=None if args.quiet else tqdm_progress())
    except RagError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    bench = {"data": str(args.data), "questions_total": stats.questions, "contexts": stats.contexts,
             "relocated": stats.relocated, "dropped": len(stats.dropped), "questions": len(chosen), "seed": args.seed,
             "left_out_contexts": crashing, "left_out_questions": stats.questions - len(records),
             "limit": args.limit, "refuse_below": settings.retrieval.refuse_below, "ingest_s": round(ingest_s, 1)}
    summary = {**run.summary, "benchmark": bench}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "cmrc_eval.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    (args.out / "cmrc_eval.md").write_text(markdown(summary, bench, run.table()), encoding="utf-8")
    print(run.table())
    print(f"\nwrote {args.out / 'cmrc_eval.json'}, {args.out / 'cmrc_eval.md'} and per-question results in "
          f"{args.out / 'cmrc_eval'}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
