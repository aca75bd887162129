"""Sentence selection for answers: which sentence of the retrieved passages the answer quotes, on eight sets (dev/test).

The extractive answer and the model's rewrite both start from `rag.generation.extractive.select_evidence`: the
sentences it picks are what the answer says and cites. This benchmark retrieves with our default (as
benchmarks/retrieval.py does, same sets, halves and embedding cache) and scores the selection of each answerable
question whose evidence was retrieved into the passages the selection reads:
- top@1: the best-scored sentence holds the evidence (contains it, or is a part of at least half of it);
- precision: share of the selected sentences (as the answer quotes them) that hold evidence;
- hit: some selected sentence holds the evidence (what the answer gets right at all);
- reach: some candidate sentence holds the evidence (the ceiling of both).
Variants weigh the word-alignment coverage of the question by each sentence (rag.models.alignment) beside the
sentence cosine. Writes benchmarks/out/<out>.json and .md.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from common import data_dir, machine, machine_line, md_table, set_threads, write_report  # noqa: E402
from retrieval import (  # noqa: E402,E501
    OUT,
    CachedEmbedder,
    Q,
    load_cmrc,
    load_cmrc_en,
    load_gold,
    load_seeds_new,
    load_unpc,
    load_unpc_en,
    load_unpc_zh,
    make_ours,
    norm,
)

from rag.generation.extractive import ALIGN_CANDIDATES, ALIGN_WEIGHT, WINDOW_PASSAGES  # noqa: E402

ALIGN_WEIGHTS = (0.0, 0.25, 0.5, 1.0)  # 0 is the selection without alignment
ALIGN_TOPS = (0, 16, 12, 8, 6)  # align only the best N candidates by the other signals (0: all), at ALIGN_WEIGHT
# weights of the translated keywords (English questions over Chinese sentences), at ALIGN_WEIGHT / ALIGN_CANDIDATES
TRANSLATED_WEIGHTS = (0.0, 0.05, 0.1, 0.2, 0.3)
PRIOR_WEIGHTS = (0.0, 0.01, 0.02, 0.03, 0.05, 0.1)  # per rank of the retrieved passage, at the defaults above
# (max sentences, margin of a further sentence to the best), at the defaults above: (2, 0.015) is the default
TITLE_PENALTIES = (0.0, 0.02, 0.05, 0.1, 1.0)  # for a sentence that only repeats its document's symbol and title
STATE_WEIGHTS = (0.0, 0.01, 0.02, 0.05, 0.1)  # per share of the question's States a sentence names
QUOTE_RULES = ((1, 0.0), (2, 0.005), (2, 0.015), (2, 0.03), (2, 0.05), (3, 0.015), (3, 0.03))


def holds(sentence: str, needles: list[str]) -> bool:
    """A sentence holds the evidence: it contains a needle, or it is at least half of one (a needle that the
    sentence splitter cut in two, e.g. CMRC's evidence sentences with an inner "；")."""
    s = norm(sentence)
    return any(n and (n in s or (len(s) * 2 >= len(n) and s in n)) for n in needles)


def question_rows(q: Q, hits: list[Any], emb: Any, qvec: np.ndarray) -> dict[str, Any] | None:
    """Per-candidate signals of one question (None when no candidate sentence exists)."""
    from rag.generation.extractive import candidate_sentences, sentence_signals

    cands = candidate_sentences(hits)
    if not cands:
        return None
    sig = sentence_signals(q.text, hits, cands, emb, qvec, with_alignment=True, align_candidates=0)
    return {"id": q.qid, "lang": q.lang, "cands": cands, "signals": sig, "needles": q.needles,
            "holds": [holds(s, q.needles) for _, s in sig.quotable(cands)]}


def evaluate(rows: list[dict[str, Any]], hits_by_id: dict[str, list[Any]], weight: float, top_n: int = 0,
             translated: float | None = None, whole_lists: bool = False,
             prior: float | None = None, quote: tuple[int, float] | None = None,
             title: float | None = None, state: float | None = None) -> dict[str, float]:
    """top@1, precision, hit and reach of the selection at alignment weight `weight`, the alignment computed for the
    best `top_n` candidates by the other signals only (0: all), translated keywords weighted `translated`
    (default: the code's), passage rank weighted `prior` (default: the code's), `quote` = (max sentences, margin)
    (default: the code's). Hit = some quoted part holds the evidence. Precision is the share of the quoted parts
    (rag.generation.extractive.quoted: sentences, or a lead-in and its items) that hold the evidence; `whole_lists` quotes a whole list whenever the best sentence
    is any part of it (the rule before 2026-12-02) instead of only when it is the lead-in."""
    from rag.generation.extractive import Evidence, align_targets, listed_unit, quoted

    top = prec = reach = hit = 0.0
    for r in rows:
        sig = r["signals"]
        if top_n and sig.alignment is not None:
            keep = align_targets(sig, top_n)
            masked = np.zeros_like(sig.alignment)
            masked[keep] = sig.alignment[keep]
            sig = replace(sig, alignment=masked)
        scores = sig.scores(weight, translated, prior, title, state)
        order = np.argsort(-np.asarray(scores))
        top += r["holds"][int(order[0])]
        hits = hits_by_id[r["id"]]
        parts = quoted(sig.quotable(r["cands"]), scores, hits, *(quote or ()))
        listed = listed_unit(hits, r["cands"][int(order[0])][0]) if whole_lists else []
        if listed:
            parts = [Evidence(n, hits[n - 1].chunk.text.strip()) for n in listed]
        held = [holds(e.text, r["needles"]) for e in parts]
        prec += sum(held) / len(parts)
        hit += any(held)
        reach += any(r["holds"])
    n = max(len(rows), 1)
    return {"n": len(rows), "top@1": top / n, "precision": prec / n, "reach": reach / n, "hit": hit / n}


def run(args: argparse.Namespace) -> dict[str, Any]:
    from rag.answer.retrieve import expand_hits
    from rag.models.embed import get_embedder

    emb = CachedEmbedder(get_embedder(), Path(args.cache))
    data = data_dir(args.data)
    loaders = {"cmrc": lambda: load_cmrc(data, args.limit, args.seed, 0.5),
               "cmrc-en": lambda: load_cmrc_en(data, args.seed, 0.5),
               "unpc": lambda: load_unpc(data, args.limit, args.seed),
               "unpc-zh2en": lambda: load_unpc(data, args.limit, args.seed, "zh"),
               "unpc-en": lambda: load_unpc_en(data, args.seed), "unpc-zh": lambda: load_unpc_zh(data, args.seed),
               "gold": lambda: load_gold(args.seed), "seeds-new": lambda: load_seeds_new(args.seed)}
    results: dict[str, Any] = {}
    for name in [s for s in args.sets.split(",") if s]:
        if name not in loaders:
            raise SystemExit(f"unknown set {name!r}; choose from {', '.join(loaders)}")
        corpus = loaders[name]()
        with tempfile.TemporaryDirectory() as tmp:
            ours = make_ours(corpus, emb, Path(tmp), "ours")
            res: dict[str, Any] = {}
            for half in ("dev", "test"):
                qs = [q for q in corpus.questions if q.half == half and q.answerable]
                qv = emb.embed_queries([q.text for q in qs])
                rows, hits_by_id, ms = [], {}, []
                for q, v in zip(qs, qv):
                    hits = expand_hits(ours.search(q.text).retrieval.hits, args.window_passages)
                    t0 = time.perf_counter()
                    row = question_rows(q, hits, emb, v)
                    ms.append((time.perf_counter() - t0) * 1e3)
                    if row is not None:
                        rows.append(row)
                        hits_by_id[q.qid] = hits
                by_lang: dict[str, Any] = {}
                for lang in sorted({r["lang"] for r in rows}) + ["all"]:
                    sel = [r for r in rows if lang in ("all", r["lang"])]
                    by_lang[lang] = {str(w): evaluate(sel, hits_by_id, w) for w in ALIGN_WEIGHTS}
                    by_lang[lang].update({f"{ALIGN_WEIGHT} top {n}": evaluate(sel, hits_by_id, ALIGN_WEIGHT, n)
                                          for n in ALIGN_TOPS if n})
                    by_lang[lang].update({f"translated {t}": evaluate(sel, hits_by_id, ALIGN_WEIGHT, ALIGN_CANDIDATES, t)
                                          for t in TRANSLATED_WEIGHTS})
                    by_lang[lang].update({f"prior {p}": evaluate(sel, hits_by_id, ALIGN_WEIGHT, ALIGN_CANDIDATES,
                                                                 prior=p) for p in PRIOR_WEIGHTS})
                    by_lang[lang].update({f"quote {m} within {g}": evaluate(sel, hits_by_id, ALIGN_WEIGHT,
                                                                            ALIGN_CANDIDATES, quote=(m, g))
                                          for m, g in QUOTE_RULES})
                    by_lang[lang].update({f"title {t}": evaluate(sel, hits_by_id, ALIGN_WEIGHT, ALIGN_CANDIDATES,
                                                                 title=t) for t in TITLE_PENALTIES})
                    by_lang[lang].update({f"States {w}": evaluate(sel, hits_by_id, ALIGN_WEIGHT, ALIGN_CANDIDATES,
                                                                  state=w) for w in STATE_WEIGHTS})
                    by_lang[lang]["whole lists"] = evaluate(sel, hits_by_id, ALIGN_WEIGHT, ALIGN_CANDIDATES,
                                                            whole_lists=True)
                res[half] = {"by_lang": by_lang, "signals_ms_p50": float(np.percentile(ms, 50)) if ms else 0.0,
                             "signals_ms_p95": float(np.percentile(ms, 95)) if ms else 0.0}
                for lang, d in by_lang.items():
                    print(f"  [{corpus.name} {half} {lang}] " + "  ".join(
                        f"{w}: top {v['top@1']:.3f} P {v['precision']:.3f} H {v['hit']:.3f}" for w, v in d.items())
                        + f"  reach {d['0.0']['reach']:.3f} n {d['0.0']['n']}", file=sys.stderr)
            results[corpus.name] = res
        emb.save()
    return results


def markdown(results: dict[str, Any], info: dict[str, Any]) -> str:
    out = ["## Sentence selection: the sentence the answer quotes", "", machine_line(info), "",
           "Only answerable questions whose passages hold a candidate sentence; reach = some candidate holds the "
           "evidence (the ceiling). Weight = alignment weight beside the sentence cosine (0.0 = the selection "
           "without alignment; the default is rag.generation.extractive.ALIGN_WEIGHT).", ""]
    for name, res in results.items():
        for half in ("dev", "test"):
            out += [f"### {name}, {half} half", ""]
            rows = []
            for lang, d in res[half]["by_lang"].items():
                for w, v in d.items():
                    rows.append([lang, w, v["n"], f"{v['top@1']:.3f}", f"{v['precision']:.3f}", f"{v['hit']:.3f}",
                                 f"{v['reach']:.3f}"])
            out += [md_table(["questions", "alignment weight", "n", "top@1", "precision", "hit", "reach"], rows), "",
                    f"Selection signals per question p50 {res[half]['signals_ms_p50']:.1f} ms, p95 "
                    f"{res[half]['signals_ms_p95']:.1f} ms (alignment included).", ""]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", help="data folder (default: ../shared/data beside the repository)")
    ap.add_argument("--sets", default="cmrc,cmrc-en,unpc,unpc-zh2en,unpc-en,unpc-zh,gold,seeds-new",
                    help="comma list of cmrc, cmrc-en, unpc, unpc-zh2en, unpc-en, unpc-zh, gold, seeds-new")
    ap.add_argument("--limit", type=int, default=300, help="answerable questions per half and set")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--cache", default=str(OUT / "cache" / "embeddings.npz"), help="embedding cache file")
    ap.add_argument("--window-passages", type=int, default=WINDOW_PASSAGES, help="the first N passages bring their section-window "
                    "neighbours as candidates (rag.answer.retrieve.expand_hits)")
    ap.add_argument("--out", default="selection", help="report name under benchmarks/out")
    args = ap.parse_args(argv)
    set_threads(args.threads)
    info = machine()
    t0 = time.perf_counter()
    results = run(args)
    md = markdown(results, info) + f"\nWall time {time.perf_counter() - t0:.0f} s.\n"
    write_report(args.out, {"machine": info, "args": vars(args), "results": results}, md)
    print(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
