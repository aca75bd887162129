"""UNPC dev as one document per symbol in English and Chinese (tests/unpc_bilingual.py): paragraph alignment accuracy
against the known sentence pairs, and English questions (the English sentence) over (a) the Chinese versions only,
(b) both versions — hit@1 / hit@5 of finding the right pair. Run through benchmarks/retrieval.py --sets unpc-bi."""
from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.unpc_bilingual import BiDoc, load_documents, norm, write_corpus  # noqa: E402

K = 5


def _half(seed: int, symbol: str) -> str:
    import hashlib

    h = int(hashlib.sha1(f"{seed}\x1fhalf\x1f{symbol}".encode()).hexdigest()[:12], 16) / 16**12
    return "dev" if h < 0.5 else "test"


def _build(docs: list[BiDoc], langs: tuple[str, ...], emb: Any, work: Path) -> Any:
    """An index of the docs' versions in `langs` (parsed in-process, vectors from the shared cache)."""
    from index.registry import open_store, open_writer
    from rag.errors import IngestError
    from rag.ingest.chunk import CHUNKER_VERSION
    from rag.ingest.parse import parse_document

    files = write_corpus(docs, work / "src", langs)
    parsed = []
    for p in files:
        try:
            parsed.append(parse_document(p))
        except IngestError as e:  # e.g. a version made only of headings: nothing to chunk (counted as absent)
            print(f"  skipped {e}", file=sys.stderr)
    vecs = emb.embed_passages([c.embed_text() for d in parsed for c in d.chunks])
    with open_writer(work / "idx", emb.name, emb.dim, CHUNKER_VERSION, rebuild=True) as writer:
        at = 0
        for d in parsed:
            writer.add(d.meta, d.text, d.chunks, vecs[at : at + len(d.chunks)])
            at += len(d.chunks)
        writer.commit()
    return open_store(work / "idx")


def alignment_accuracy(index: Any, docs: list[BiDoc]) -> dict[str, Any]:
    """Share of known pairs whose English and Chinese sentences land in the same aligned row, per method."""
    from rag.ingest.versions import LibraryVersions

    lib = LibraryVersions(index)
    out: dict[str, Any] = {"pairs": 0, "correct": 0, "absent": 0, "by_method": {}, "cos_pair": [], "cos_other": []}
    for d in docs:
        if d.symbol not in lib.documents or len(lib.documents[d.symbol]) < 2:
            out["absent"] += len(d.pairs)
            continue
        al = lib.alignment(d.symbol)
        where: dict[str, dict[str, int]] = {"en": {}, "zh": {}}
        for r, row in enumerate(al.rows):
            for lang in ("en", "zh"):
                for s in row.segments.get(lang, []):
                    key = norm(s.text)
                    for p in d.pairs:
                        side = norm(p.en if lang == "en" else p.zh)
                        if side and side in key:
                            where[lang].setdefault(side, r)
        for p in d.pairs:
            re_, rz = where["en"].get(norm(p.en)), where["zh"].get(norm(p.zh))
            if re_ is None or rz is None:
                out["absent"] += 1  # a heading the parser keeps out of the chunks, on one side or both
                continue
            out["pairs"] += 1
            ok = re_ == rz
            out["correct"] += ok
            m = al.rows[rz].method.get("zh", "unaligned")
            b = out["by_method"].setdefault(m, [0, 0])
            b[0] += ok
            b[1] += 1
        # cosines of true pairs and of other sentences of the same document (for the aligner's cosine term)
        for link in al.pairs.get("zh", None).links if "zh" in al.pairs else []:
            if link.cosine is not None and len(link.a) == 1 and len(link.b) == 1:
                out["cos_pair"].append(link.cosine)
        segs_en = [s for row in al.rows for s in row.segments.get("en", [])]
        segs_zh = [s for row in al.rows for s in row.segments.get("zh", [])]
        if len(segs_en) > 1 and len(segs_zh) > 1:
            m = np.stack([s.vector for s in segs_en]) @ np.stack([s.vector for s in segs_zh]).T
            n = min(m.shape)
            off = [m[i, j] for i in range(m.shape[0]) for j in range(m.shape[1]) if abs(i * n / m.shape[0] - j) >= 1.5]
            out["cos_other"].extend(float(x) for x in off[:20])
    out["accuracy"] = out["correct"] / out["pairs"] if out["pairs"] else None
    out["by_method"] = {m: {"correct": c, "pairs": n, "accuracy": round(c / n, 4)} for m, (c, n) in out["by_method"].items()}
    for k in ("cos_pair", "cos_other"):
        v = np.asarray(out.pop(k))
        out[k] = {q: round(float(np.quantile(v, x)), 4) for q, x in (("p05", .05), ("p50", .5), ("p95", .95))} if len(v) else {}
    return out


def _questions(docs: list[BiDoc]) -> list[tuple[BiDoc, Any]]:
    """Pairs usable as questions: a Chinese side of ≥ 10 characters and both sides unique in the corpus."""
    count: dict[str, int] = {}
    for d in docs:
        for p in d.pairs:
            for s in (norm(p.en), norm(p.zh)):
                count[s] = count.get(s, 0) + 1
    return [(d, p) for d in docs for p in d.pairs
            if len(norm(p.zh)) >= 10 and count[norm(p.en)] == 1 and count[norm(p.zh)] == 1]


def retrieval(index: Any, emb: Any, qs: list[tuple[BiDoc, Any]], both: bool) -> dict[str, Any]:
    """hit@1 / hit@5: a hit's aligned row holds the Chinese sentence (and, with both versions, the English one)."""
    from rag.answer.retrieve import Retriever

    r = Retriever(index, emb)
    ranks, same_lang, ms = [], 0, []
    for d, p in qs:
        t0 = time.perf_counter()
        hits = r.search(p.en, k=K).hits
        ms.append((time.perf_counter() - t0) * 1e3)
        rank = 0
        for h in hits:
            key = r.versions.row(h.chunk)
            texts = r.versions.alignment(key[0]).rows[key[1]].texts() if key else {h.chunk.language: h.chunk.text}
            zh_ok = norm(p.zh) in norm(texts.get("zh", ""))
            en_ok = norm(p.en) in norm(texts.get("en", "")) if both else True
            if zh_ok and en_ok:
                rank = h.rank
                break
        if hits and hits[0].chunk.language == "en":
            same_lang += 1
        ranks.append(rank)
    a = np.asarray(ranks)
    return {"n": len(qs), "hit@1": round(float(np.mean(a == 1)), 4), "hit@5": round(float(np.mean((a >= 1) & (a <= K))), 4),
            "top_hit_in_english": round(same_lang / max(1, len(qs)), 4),
            "search_p50_ms": round(float(np.median(ms)), 1) if ms else None}


def _peers(docs: list[BiDoc], langs: tuple[str, ...], emb: Any, work: Path) -> Any:
    """The peer recipes of benchmarks/retrieval.py (750/150-character windows; FAISS, BM25, RRF) over the same files."""
    from retrieval import Corpus, Peers, SrcDoc

    files = write_corpus(docs, work / "peer-src", langs)
    src = [SrcDoc(p.stem, p.read_text(encoding="utf-8"), {}, "both", False) for p in files]
    return Peers(Corpus("unpc-bi", src, [], ""), emb)


def peer_retrieval(peers: Any, method: str, qs: list[tuple[BiDoc, Any]], both: bool) -> dict[str, Any]:
    """The same questions for a peer recipe: a window holding the Chinese sentence (and, with both versions, a
    window that holds the English one too: a peer store has no notion of versions, so the pair is found at the rank
    where the later of its two sentences first appears; hit@1 needs one window holding both)."""
    ranks = []
    for _, p in qs:
        wins = peers.search(method, p.en).passages[:K]
        zh = [i for i, w in enumerate(wins, 1) if norm(p.zh) in norm(w)]
        en = [i for i, w in enumerate(wins, 1) if norm(p.en) in norm(w)] if both else [0]
        ranks.append(max(zh[0], en[0]) if zh and en else 0)  # the pair is complete once both sentences were read
    a = np.asarray(ranks)
    return {"n": len(qs), "hit@1": round(float(np.mean(a == 1)), 4), "hit@5": round(float(np.mean((a >= 1) & (a <= K))), 4)}


PEER_METHODS = ("faiss-750", "bm25-750", "rrf-750")


def run_unpc_bi(data: Path, emb: Any, split: str, seed: int, limit_docs: int = 0) -> dict[str, Any]:
    """Build the zh-only and en+zh indexes and measure alignment and retrieval per half.

    Args:
        data: the shared data folder.
        emb: the (cached) embedder.
        split: "dev", "test" or "both".
        seed: seeds the dev/test split by document.
        limit_docs: use only the first N documents (0: all), for quick iterations.
    Returns:
        {halves: {half: {alignment, zh_only, both}}, documents, pairs}.
    """
    docs = load_documents(data)
    if limit_docs:
        docs = docs[:limit_docs]
    out: dict[str, Any] = {"documents": len(docs), "pairs": sum(len(d.pairs) for d in docs), "halves": {}}
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        zh_only = _build(docs, ("zh",), emb, Path(tmp) / "zh")
        both = _build(docs, ("en", "zh"), emb, Path(tmp) / "both")
        out["build_s"] = round(time.perf_counter() - t0, 1)
        qs_all = _questions(docs)
        emb.embed_queries([p.en for _, p in qs_all])  # batch once; searches read the cache
        peers = {"zh_only": _peers(docs, ("zh",), emb, Path(tmp) / "pz"), "both": _peers(docs, ("en", "zh"), emb,
                                                                                           Path(tmp) / "pb")}
        for half in (("dev", "test") if split == "both" else (split,)):
            hd = [d for d in docs if _half(seed, d.symbol) == half]
            qs = [(d, p) for d, p in qs_all if _half(seed, d.symbol) == half]
            res = {"documents": len(hd), "alignment": alignment_accuracy(both, hd),
                   "zh_only": retrieval(zh_only, emb, qs, both=False), "both": retrieval(both, emb, qs, both=True),
                   "peers": {m: {name: peer_retrieval(pr, m, qs, name == "both") for name, pr in peers.items()}
                             for m in PEER_METHODS}}
            out["halves"][half] = res
            al = res["alignment"]
            print(f"  [unpc-bi {half}] alignment {al['accuracy']:.4f} ({al['correct']}/{al['pairs']}, absent "
                  f"{al['absent']}) {al['by_method']} cos pair {al['cos_pair']} other {al['cos_other']}", file=sys.stderr)
            for name in ("zh_only", "both"):
                print(f"  [unpc-bi {half}] {name}: {res[name]}", file=sys.stderr)
            print(f"  [unpc-bi {half}] peers: {res['peers']}", file=sys.stderr)
    return out


def markdown(res: dict[str, Any]) -> str:
    """The unpc-bi section of the retrieval report."""
    from common import md_table

    lines = ["### UNPC dev, one document per symbol in English and Chinese (unpc-bi)", "",
             f"{res['documents']} documents, {res['pairs']} aligned sentence pairs (tests/unpc_bilingual.py); halves "
             f"by document; question = the English sentence; right pair = the hit's aligned row holds the Chinese "
             f"sentence (and, with both versions indexed, the English one). Index build {res.get('build_s')} s.", ""]
    rows = []
    for half, h in res["halves"].items():
        al = h["alignment"]
        rows.append([half, "ours", h["documents"], al["pairs"], al["accuracy"], h["zh_only"]["n"], h["zh_only"]["hit@1"],
                     h["zh_only"]["hit@5"], h["both"]["hit@1"], h["both"]["hit@5"], h["both"]["top_hit_in_english"]])
        for m, r in h.get("peers", {}).items():
            rows.append([half, m, "", "", "—", r["zh_only"]["n"], r["zh_only"]["hit@1"], r["zh_only"]["hit@5"],
                         r["both"]["hit@1"], r["both"]["hit@5"], ""])
    lines.append(md_table(["half", "method", "documents", "pairs aligned", "alignment accuracy", "questions",
                           "(a) zh only hit@1", "(a) hit@5", "(b) both hit@1", "(b) hit@5", "(b) top hit English"], rows))
    by = {half: h["alignment"]["by_method"] for half, h in res["halves"].items()}
    cos = {half: (h["alignment"]["cos_pair"], h["alignment"]["cos_other"]) for half, h in res["halves"].items()}
    lines += ["", f"Alignment by method: {by}. Cosine of aligned 1-1 pairs vs other paragraphs of the same document "
              f"(p05/p50/p95): {cos}."]
    return "\n".join(lines)
