"""Aggregate per-question evaluation records into summary metrics, Markdown tables, a chart and output files."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from rag.eval.metrics import percentile
from rag.sanitize import md_escape

Record = dict[str, Any]

# (key in the aggregate, label in tables, kind): "frac" prints 0.000, "ms" a whole number, "n" an integer.
METRICS: list[tuple[str, str, str]] = [
    ("questions", "questions", "n"),
    ("answerable", "answerable", "n"),
    ("unanswerable", "unanswerable", "n"),
    ("hit@1", "hit@1", "frac"),
    ("hit@3", "hit@3", "frac"),
    ("hit@5", "hit@5", "frac"),
    ("hit@10", "hit@10", "frac"),
    ("recall@k", "recall@k", "frac"),
    ("mrr", "MRR@10", "frac"),
    ("ndcg@10", "nDCG@10", "frac"),
    ("answer_f1", "answer F1", "frac"),
    ("rouge_l", "ROUGE-L", "frac"),
    ("contains", "answer contains a reference", "frac"),
    ("citation_precision", "citation precision", "frac"),
    ("citation_recall", "citation recall", "frac"),
    ("refusal_accuracy", "refusal accuracy (unanswerable)", "frac"),
    ("false_refusal_rate", "false-refusal rate (answerable)", "frac"),
    ("latency_p50_ms", "latency p50 (ms)", "ms"),
    ("latency_p95_ms", "latency p95 (ms)", "ms"),
    ("generator_fallbacks", "generator fell back to extractive", "n"),
    ("errors", "errors", "n"),
]
BREAKDOWN: list[tuple[str, str]] = [
    ("questions", "n"), ("hit@1", "hit@1"), ("hit@5", "hit@5"), ("mrr", "MRR"), ("ndcg@10", "nDCG@10"),
    ("answer_f1", "F1"), ("rouge_l", "ROUGE-L"), ("contains", "contains"), ("citation_precision", "cit. P"),
    ("citation_recall", "cit. R"), ("refusal_accuracy", "refusal acc."), ("false_refusal_rate", "false ref."),
    ("latency_p50_ms", "p50 ms"),
]
CHART_METRICS: list[tuple[str, str]] = [
    ("hit@1", "hit@1"), ("hit@5", "hit@5"), ("mrr", "MRR"), ("ndcg@10", "nDCG@10"), ("answer_f1", "F1"),
    ("contains", "contains"), ("citation_precision", "cit. P"), ("citation_recall", "cit. R"),
    ("refusal_accuracy", "refusal acc."),
]
DEFINITIONS = """\
How to read these numbers:
- Retrieval (hit@n, recall@k, MRR@10, nDCG@10) counts answerable questions with evidence only. The ranking is
  the pipeline's retrieval at depth max(k, 10); the answer itself uses its top k, which are the first k of that
  ranking. A passage is relevant when it contains an evidence string (NFKC, whitespace ignored). recall@k is the
  share of a question's evidence strings found in the top k. nDCG@10's ideal ranking puts every indexed passage
  that contains evidence first.
- Answer F1 (character-F1 for CJK, word-F1 otherwise), ROUGE-L and "contains" (the answer holds a reference
  answer verbatim, NFKC, whitespace ignored) use the best reference, `[n]` markers removed, and count answerable
  questions; a refusal scores 0.
- Citation precision: cited passages that contain evidence over all cited, averaged over answerable questions that
  were answered (not refused). Citation recall: evidence strings found in a cited passage, averaged over
  answerable questions (a refusal recalls nothing).
- Refusal accuracy: unanswerable questions refused. False-refusal rate: answerable questions refused.
- Latency: wall time of `Pipeline.ask` per question (retrieval and generation)."""


def _mean(values: Iterable[Any]) -> float | None:
    xs = [float(v) for v in values if v is not None]
    return sum(xs) / len(xs) if xs else None


def aggregate(records: Sequence[Record]) -> dict[str, Any]:
    """Summary metrics of one configuration's records (see DEFINITIONS for what each one averages over)."""
    ans = [r for r in records if r["answerable"]]
    una = [r for r in records if not r["answerable"]]
    with_ev = [r for r in ans if r["evidence"]]
    answered = [r for r in ans if not r["refused"] and not r["error"]]
    lat = [r["latency_ms"] for r in records if not r["error"]]
    out: dict[str, Any] = {"questions": len(records), "answerable": len(ans), "unanswerable": len(una)}
    for n in (1, 3, 5, 10):
        out[f"hit@{n}"] = _mean(r[f"hit@{n}"] for r in with_ev)
    out["recall@k"] = _mean(r["recall@k"] for r in with_ev)
    out["mrr"] = _mean(r["rr"] for r in with_ev)
    out["ndcg@10"] = _mean(r["ndcg@10"] for r in with_ev)
    out["answer_f1"] = _mean(r["answer_f1"] for r in ans)
    out["rouge_l"] = _mean(r["rouge_l"] for r in ans)
    out["contains"] = _mean(1.0 if r["contains"] else 0.0 for r in ans)
    out["citation_precision"] = _mean(r["citation_precision"] for r in answered if r["evidence"])
    out["citation_recall"] = _mean(r["citation_recall"] for r in with_ev)
    out["refusal_accuracy"] = _mean(1.0 if r["refused"] else 0.0 for r in una)
    out["false_refusal_rate"] = _mean(1.0 if r["refused"] else 0.0 for r in ans)
    out["latency_p50_ms"] = percentile(lat, 50) if lat else None
    out["latency_p95_ms"] = percentile(lat, 95) if lat else None
    out["generator_fallbacks"] = sum(1 for r in records if "→" in (r.get("generator") or ""))
    out["errors"] = sum(1 for r in records if r["error"])
    out["failed_questions"] = sum(1 for r in records if r["failures"])
    return out


def breakdown(records: Sequence[Record], key: Callable[[Record], str]) -> dict[str, dict[str, Any]]:
    """Aggregates per group (e.g. per question language), groups in order of first appearance."""
    groups: dict[str, list[Record]] = {}
    for r in records:
        groups.setdefault(key(r), []).append(r)
    return {g: aggregate(rs) for g, rs in groups.items()}


def doc_key(r: Record) -> str:
    return r.get("doc") or ("(unanswerable)" if not r["answerable"] else "(no doc)")


def config_summary(name: str, mode: str, llm: str, records: Sequence[Record], seconds: float) -> dict[str, Any]:
    langs = breakdown(records, lambda r: r["lang"])
    return {
        "name": name, "mode": mode, "llm": llm, "seconds": round(seconds, 1), "metrics": aggregate(records),
        "by_language": dict(sorted(langs.items(), key=lambda kv: -kv[1]["questions"])),
        "by_doc": breakdown(records, doc_key),
    }


def primary_config(configs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The configuration users get by default: the first hybrid one, else the first."""
    return next((c for c in configs if c.get("mode") == "hybrid"), configs[0])


# --- Markdown ---------------------------------------------------------------------------------------------


def fmt(value: Any, kind: str = "frac") -> str:
    if value is None:
        return "–"
    if kind == "n":
        return str(int(value))
    if kind == "ms":
        return f"{value:.0f}"
    return f"{value:.3f}"


def _table(header: Sequence[str], rows: Iterable[Sequence[str]], numeric: bool = True) -> str:
    """A Markdown table; `numeric` right-aligns every column but the first."""
    def cell(s: str) -> str:  # questions and symbols are user and document text: never markup
        return md_escape(str(s))

    lines = ["| " + " | ".join(cell(h) for h in header) + " |",
             "|" + "|".join([":---"] + ["---:" if numeric else ":---"] * (len(header) - 1)) + "|"]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def comparison_table(configs: Sequence[dict[str, Any]], k: int) -> str:
    """Metrics as rows, one column per configuration (side by side)."""
    rows = []
    for key, label, kind in METRICS:
        label = label.replace("recall@k", f"recall@{k}")
        rows.append([label] + [fmt(c["metrics"].get(key), kind) for c in configs])
    return _table(["metric"] + [c["name"] for c in configs], rows)


def breakdown_table(groups: dict[str, dict[str, Any]], title: str) -> str:
    rows = []
    for g, m in groups.items():
        rows.append([g] + [fmt(m.get(key), "n" if key == "questions" else "ms" if key.endswith("_ms") else "frac")
                           for key, _ in BREAKDOWN])
    return _table([title] + [label for _, label in BREAKDOWN], rows)


def sort_failures_first(records: Sequence[Record]) -> list[Record]:
    """Errors first, then questions by number of failure reasons (most first), then gold order."""
    return sorted(records, key=lambda r: (not r["error"], -len(r["failures"])))


def failures_table(records: Sequence[Record], limit: int | None = None) -> str:
    bad = [r for r in sort_failures_first(records) if r["failures"] or r["error"]]
    if not bad:
        return "No failures."
    rows = []
    for r in bad[:limit]:
        reasons = "; ".join(([f"error: {r['error']}"] if r["error"] else []) + r["failures"])
        q = r["question"] if len(r["question"]) <= 70 else r["question"][:69] + "…"
        rows.append([str(r["id"]), r["lang"], fmt(r["rank"], "n") if r["rank"] else "–",
                     "yes" if r["refused"] else "no", reasons, q])
    more = f"\n\n… and {len(bad) - limit} more (see results.jsonl)." if limit and len(bad) > limit else ""
    return _table(["id", "lang", "rank", "refused", "problems", "question"], rows, numeric=False) + more


def report_markdown(summary: dict[str, Any], records: dict[str, list[Record]]) -> str:
    """report.md: run details, the side-by-side table, per-language and per-document tables, failures."""
    s = summary
    out = [f"# Evaluation of `{Path(s['gold']).name}`", ""]
    out.append(f"- gold file: `{s['gold']}`: {s['questions']} questions ({s['answerable']} answerable, "
               f"{s['unanswerable']} unanswerable); {len(s['skipped'])} invalid lines skipped")
    for sk in s["skipped"]:
        out.append(f"  - line {sk['line']}: {sk['problem']}")
    out.append(f"- index: `{s['index']}` ({s['chunks']} passages, version {s['index_version']}), "
               f"embedder `{s['embed_model']}`")
    out.append(f"- k = {s['k']} passages for the answer; ranking metrics over the top {s['ranking_depth']}")
    out.append(f"- run {s['created']}, {sum(c['seconds'] for c in s['configs']):.0f} s in all")
    out += ["", "## Summary", "", comparison_table(s["configs"], s["k"]), "", "![chart](chart.png)", ""]
    for c in s["configs"]:
        head = f" — {c['name']}" if len(s["configs"]) > 1 else ""
        out += [f"## By question language{head}", "", breakdown_table(c["by_language"], "language"), ""]
        out += [f"## By document{head}", "", breakdown_table(c["by_doc"], "document"), ""]
        out += [f"## Failures{head}", "", failures_table(records[c["name"]]), ""]
    out += ["## Definitions", "", DEFINITIONS, ""]
    return "\n".join(out)


# --- chart ------------------------------------------------------------------------------------------------


def _bars(ax: Any, series: dict[str, dict[str, Any]], title: str) -> None:
    import numpy as np

    labels = [label for _, label in CHART_METRICS]
    x = np.arange(len(labels))
    n = max(1, len(series))
    width = 0.8 / n
    for i, (name, m) in enumerate(series.items()):
        vals = [m.get(key) for key, _ in CHART_METRICS]
        ax.bar(x + (i - (n - 1) / 2) * width, [v if v is not None else 0.0 for v in vals], width,
               label=f"{name} (n={m.get('questions', 0)})" if "questions" in m else name)
    ax.set_xticks(x, labels, rotation=30, ha="right")
    ax.set_ylim(0, 1.05)
    ax.set_title(title)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=min(n, 4), frameon=False)


def write_chart(summary: dict[str, Any], path: str | Path) -> Path:
    """PNG: metrics per configuration (left) and per question language of the primary configuration (right)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    configs = summary["configs"]
    fig = Figure(figsize=(14, 5.5), dpi=100)
    FigureCanvasAgg(fig)  # the Agg backend, without pyplot's global state (safe in UI worker threads)
    left, right = fig.subplots(1, 2)
    _bars(left, {c["name"]: {k: v for k, v in c["metrics"].items() if k != "questions"} for c in configs},
          "by configuration")
    main = primary_config(configs)
    _bars(right, main["by_language"], f"by question language ({main['name']})")
    fig.tight_layout()
    fig.savefig(path, format="png", bbox_inches="tight")
    return Path(path)


# --- files ------------------------------------------------------------------------------------------------


def write_outputs(out_dir: str | Path, summary: dict[str, Any], records: dict[str, list[Record]]) -> dict[str, Path]:
    """Write results.jsonl (every configuration's records), summary.json, report.md and chart.png."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {name: out / name for name in ("results.jsonl", "summary.json", "report.md", "chart.png")}
    with open(paths["results.jsonl"], "w", encoding="utf-8") as fh:
        for recs in records.values():
            for r in recs:
                fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    paths["summary.json"].write_text(json.dumps(summary, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    paths["report.md"].write_text(report_markdown(summary, records), encoding="utf-8")
    write_chart(summary, paths["chart.png"])
    return paths
