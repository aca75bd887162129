"""Generation speed and quality with the local model: the prompts (rewrite, condense, passages) side by side.

For N answerable seeds/gold questions (half English, half Chinese, every k-th so all three documents appear;
`--split dev` takes odd ids only, `--split test` even ones), each asked through the Pipeline with `--llm local`
under each prompt of `--prompts` in one run, reports: prompt tokens per answer (all, and new ones after
llama.cpp's prefix cache), the model's first token and the first shown (checked) sentence p50/p95, total time
p50/p95, model calls per answer,
prompt and generation tokens/s (llama.cpp's own counters), fallback rate, answer-language accuracy, citation
precision. Writes benchmarks/out/generation.json and .md.

    python benchmarks/generation.py --n 30 --index /path/to/index
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import machine, machine_line, md_table, percentiles, set_threads, write_report  # noqa: E402

PROMPTS = ("rewrite", "passages")
SPLITS = ("all", "dev", "test")


def in_split(qid: str, split: str) -> bool:
    """dev: odd-numbered ids (q001, q003, ...), where prompts and settings are chosen; test: even ones."""
    if split == "all":
        return True
    digits = "".join(c for c in qid if c.isdigit())
    odd = bool(digits) and int(digits) % 2 == 1
    return odd if split == "dev" else not odd


def pick_questions(gold_path: Path, n: int, split: str = "all") -> list:
    """n answerable questions of `split`: n/2 English and n/2 Chinese, spread evenly over the file."""
    from rag.eval.gold import load_gold

    qs = [q for q in load_gold(gold_path) if q.answerable and in_split(q.id, split)]
    out = []
    for lang in ("en", "zh"):
        pool = [q for q in qs if q.extra.get("lang") == lang]
        step = max(1, len(pool) // (n // 2))
        out += pool[::step][: n // 2]
    return out


def chat_tokens(llama, messages: list[tuple[str, str]]) -> list[int]:
    """The tokens llama.cpp evaluates for these messages (Qwen's ChatML template, as the GGUF declares)."""
    text = "".join(f"<|im_start|>{r}\n{c}<|im_end|>\n" for r, c in messages) + "<|im_start|>assistant\n"
    return llama.tokenize(text.encode("utf-8"), add_bos=False, special=True)


def run(args: argparse.Namespace) -> None:
    set_threads(args.threads)
    import llama_cpp

    from rag.answer.citations import MARKER_RE
    from rag.answer.pipeline import Pipeline
    from rag.config import Settings
    from rag.eval.metrics import answer_f1, citation_precision
    from rag.generation.chat import ChatGenerator
    from rag.generation.extractive import select_evidence
    from rag.generation.llm import load_llama
    from rag.lang import detect_language
    from rag.models.embed import get_embedder
    from rag.models.gguf import ensure_local_model

    m = machine()
    embedder = get_embedder()
    questions = pick_questions(Path(args.gold), args.n, args.split)
    prompts = tuple(args.prompts.split(","))
    base = Settings(index_dir=Path(args.index).expanduser(), threads=args.threads)
    llama = load_llama(ensure_local_model(base), args.threads).llama
    rows: dict[str, list[dict]] = {p: [] for p in prompts}
    last_tokens: list[int] = []
    # One prompt after the other, not interleaved: alternating would evict each prompt's cached prefix, which a
    # deployment (one prompt) keeps.
    for prompt in prompts:
        pipe = Pipeline(base.with_(prompt=prompt, llm="local"), embedder=embedder)
        gen = pipe.generator("local")
        for q in questions:
            retrieval = pipe.retriever.search(q.question)
            lang = detect_language(q.question)
            sel = select_evidence(q.question, retrieval.hits, embedder, retrieval.query_vector)
            msgs = ChatGenerator(None, "local", prompt=prompt).messages(q.question, retrieval.hits, lang, sel.evidence)
            # (one sentence at a time: the first call's prompt; the later ones share all but their sentence)
            tokens = chat_tokens(llama, msgs)
            cached = next((i for i, (a, b) in enumerate(zip(tokens, last_tokens)) if a != b),
                          min(len(tokens), len(last_tokens)))
            last_tokens = tokens
            gen.first_token_at, gen.model_calls = None, 0  # a refused question does not reach the model
            llama_cpp.llama_perf_context_reset(llama.ctx)
            t0 = time.perf_counter()
            first = None
            answer = None
            for item in pipe.stream(q.question):
                if isinstance(item, str):
                    first = first if first is not None else time.perf_counter() - t0
                else:
                    answer = item
            total = time.perf_counter() - t0
            model_first = (gen.first_token_at - t0) if gen.first_token_at is not None else None
            perf = llama_cpp.llama_perf_context(llama.ctx)
            cited = [c.chunk.text for c in answer.citations]
            rows[prompt].append({
                "id": q.id, "lang": lang, "prompt_tokens": len(tokens), "new_prompt_tokens": len(tokens) - cached,
                "evaluated_prompt_tokens": perf.n_p_eval, "prompt_ms": perf.t_p_eval_ms,
                "generated_tokens": perf.n_eval, "generation_ms": perf.t_eval_ms,
                "ttft_ms": (first if first is not None else total) * 1e3, "total_ms": total * 1e3,
                "model_ttft_ms": (model_first if model_first is not None else total) * 1e3,
                "model_calls": gen.model_calls,
                "fallback": "→" in answer.generator, "refused": answer.refused,
                "answer_lang_ok": answer.refused or detect_language(answer.text) == lang,
                "citation_precision": citation_precision(cited, q.evidence) if cited else 0.0,
                "answer_f1": 0.0 if answer.refused else answer_f1(MARKER_RE.sub(" ", answer.text), q.answers),
                "answer": answer.text, "notes": answer.notes,
            })
            r = rows[prompt][-1]
            print(f"{q.id} {prompt:8s} model {r['model_ttft_ms']:7.0f} shown {r['ttft_ms']:7.0f} total {r['total_ms']:7.0f} new {r['new_prompt_tokens']:4d} "
                  f"fb {r['fallback']!s:5} lang {r['answer_lang_ok']!s:5} | {answer.text[:80]!r}", flush=True)
            report(rows, questions, m, args, prompts)  # after every question: a stopped run still leaves its figures


def report(rows: dict[str, list[dict]], questions: list, m: dict, args: argparse.Namespace,
           prompts: tuple[str, ...] = PROMPTS) -> None:
    """Write benchmarks/out/generation.json and .md from the rows so far."""
    summary = {p: summarize(rs) for p, rs in rows.items()}
    done = min(len(rs) for rs in rows.values())
    data = {"machine": m, "n": len(questions), "done": done, "threads": args.threads, "summary": summary, "rows": rows,
            "shared_machine_note": args.note, "split": args.split, "gold": str(args.gold), "loadavg_end": _loadavg()}
    heads = ["metric"] + [f"{p} prompt" for p in prompts]
    keys = list(summarize([_EMPTY_ROW]))
    md = [f"# Generation benchmark: {done} of {len(questions)} questions of {Path(args.gold).name} "
          f"({sum(1 for q in questions if q.extra.get('lang') == 'en')} English, split {args.split}), local model, "
          f"{args.threads} threads", "", machine_line(m) + f"; load average now {', '.join(_loadavg())}", "",
          args.note or "", "",
          md_table(heads, [[k] + [summary[p].get(k, "") for p in prompts] for k in keys])]
    for lang in ("en", "zh"):
        sub = {p: summarize([r for r in rs if r["lang"] == lang]) for p, rs in rows.items()}
        md += ["", f"## {lang} questions", "", md_table(heads, [[k] + [sub[p].get(k, "") for p in prompts] for k in keys])]
        data[f"summary_{lang}"] = sub
    quiet = {p: estimate_quiet(rs) for p, rs in rows.items()}
    data["estimated_quiet"] = quiet
    md += ["", "## Estimated on a quiet machine", "",
           f"Measured token counts timed at the issue's quiet-machine rates ({QUIET_PROMPT_TPS} prompt tokens/s, "
           f"{QUIET_GEN_TPS} generated tokens/s with 2 threads): an estimate, not a measurement.", "",
           md_table(heads, [[k] + [quiet[p].get(k, "") for p in prompts] for k in estimate_quiet([_EMPTY_ROW])])]
    write_report(args.out, data, "\n".join(md))


def _loadavg() -> list[str]:
    try:
        return Path("/proc/loadavg").read_text().split()[:3]
    except OSError:
        return ["?"]


# Issue 11's measurements on a quiet 2-core machine: ~47 prompt tokens/s and ~11 generated tokens/s.
QUIET_PROMPT_TPS = 47.0
QUIET_GEN_TPS = 11.0


def estimate_quiet(rs: list[dict]) -> dict[str, float]:
    """TTFT and total time from this run's token counts at quiet-machine rates (the first shown sentence needs
    the prompt plus the tokens up to its end; taken as the generated tokens' share of the first sentence)."""
    import numpy as np

    if not rs:
        return {}
    # llama.cpp's own count of evaluated prompt tokens: all calls of an answer (one per sentence when translating
    # one at a time), after its prefix cache.
    first = [r["evaluated_prompt_tokens"] / max(1, r.get("model_calls") or 1) / QUIET_PROMPT_TPS
             + r["generated_tokens"] * r["ttft_ms"] / max(1.0, r["total_ms"]) / QUIET_GEN_TPS for r in rs]
    total = [r["evaluated_prompt_tokens"] / QUIET_PROMPT_TPS + r["generated_tokens"] / QUIET_GEN_TPS for r in rs]
    return {"est. TTFT p50 (s)": float(np.percentile(first, 50)), "est. total p50 (s)": float(np.percentile(total, 50)),
            "est. total p95 (s)": float(np.percentile(total, 95))}


_EMPTY_ROW = {"prompt_tokens": 0, "new_prompt_tokens": 0, "evaluated_prompt_tokens": 0, "prompt_ms": 0.0,
              "generated_tokens": 0, "generation_ms": 0.0, "ttft_ms": 0.0, "total_ms": 0.0, "fallback": False,
              "model_ttft_ms": 0.0, "model_calls": 0,
              "answer_lang_ok": True, "citation_precision": 0.0, "answer_f1": 0.0}


def summarize(rs: list[dict]) -> dict[str, float]:
    if not rs:
        return {}
    n = len(rs)
    pt = sum(r["evaluated_prompt_tokens"] for r in rs)
    gt = sum(r["generated_tokens"] for r in rs)
    return {
        "answers": n,
        "prompt tokens / answer (mean)": sum(r["prompt_tokens"] for r in rs) / n,
        "new prompt tokens / answer (mean, after prefix cache)": sum(r["new_prompt_tokens"] for r in rs) / n,
        "model calls / answer (mean)": sum(r.get("model_calls", 0) for r in rs) / n,
        "model first token p50 (s)": percentiles([r.get("model_ttft_ms", r["ttft_ms"]) for r in rs])["p50_ms"] / 1e3,
        "model first token p95 (s)": percentiles([r.get("model_ttft_ms", r["ttft_ms"]) for r in rs])["p95_ms"] / 1e3,
        "first checked sentence p50 (s)": percentiles([r["ttft_ms"] for r in rs])["p50_ms"] / 1e3,
        "first checked sentence p95 (s)": percentiles([r["ttft_ms"] for r in rs])["p95_ms"] / 1e3,
        "total p50 (s)": percentiles([r["total_ms"] for r in rs])["p50_ms"] / 1e3,
        "total p95 (s)": percentiles([r["total_ms"] for r in rs])["p95_ms"] / 1e3,
        "prompt tokens/s": pt / max(1e-9, sum(r["prompt_ms"] for r in rs) / 1e3),
        "generation tokens/s": gt / max(1e-9, sum(r["generation_ms"] for r in rs) / 1e3),
        "fallback rate": sum(r["fallback"] for r in rs) / n,
        "answer language accuracy": sum(r["answer_lang_ok"] for r in rs) / n,
        "citation precision": sum(r["citation_precision"] for r in rs) / n,
        "answer F1": sum(r.get("answer_f1", 0.0) for r in rs) / n,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gold", default=str(Path(__file__).resolve().parents[1] / "seeds" / "gold" / "gold.jsonl"))
    ap.add_argument("--index", required=True, help="an index of the seeds built with the default embedder")
    ap.add_argument("--n", type=int, default=30)
    ap.add_argument("--out", default="generation", help="report name under benchmarks/out")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--note", default="", help="e.g. that the machine was shared while this ran")
    ap.add_argument("--split", choices=SPLITS, default="all",
                    help="dev = odd question ids (choose there), test = even ids (report there), all = both")
    ap.add_argument("--prompts", default=",".join(PROMPTS),
                    help="comma-separated prompts to compare, in this order (rewrite, condense, passages)")
    run(ap.parse_args())


if __name__ == "__main__":
    main()
