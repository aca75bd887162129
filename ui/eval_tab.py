"""The Evaluate tab: run a gold question file through the pipeline and inspect scores, chart and every answer."""
from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from rag.answer.retrieve import MODES
from rag.errors import RagError
from rag.eval.evaluate import SHIPPED_GOLD, EvalConfig, EvalRun, compare_configs, run_eval
from rag.eval.gold import contains_evidence, load_gold
from rag.eval.report import breakdown_table, fmt, primary_config, sort_failures_first
from rag.generation.registry import available_generators
from rag.sanitize import md_escape
from ui.context import AppContext
from ui.render import esc

if TYPE_CHECKING:
    import gradio as gr


SHIPPED = "Shipped gold set (seeds/gold/gold.jsonl)"
UPLOADED = "Uploaded file"
ROW_HEADERS = ["id", "config", "lang", "result", "rank", "refused", "F1", "cit. P", "problems", "question"]
Record = dict[str, Any]


def question_rows(records: dict[str, list[Record]]) -> tuple[list[list[Any]], list[Record]]:
    """Table rows, failures first (errors, then most problems), and the records in the same order."""
    ordered = sort_failures_first([r for recs in records.values() for r in recs])
    rows = []
    for r in ordered:
        problems = ([f"error: {r['error']}"] if r["error"] else []) + r["failures"]
        rows.append([
            str(r["id"]), r["config"], r["lang"], "✗" if problems else "✓", r["rank"] or "–",
            "yes" if r["refused"] else "no", fmt(r["answer_f1"]), fmt(r["citation_precision"]),
            "; ".join(problems), r["question"],
        ])
    return rows, ordered


def find_record(ordered: Sequence[Record], row_index: int | None, row_value: Sequence[Any] | None) -> Record | None:
    """The record of a selected table row: by its id and config when the row is known, else by position."""
    if row_value and len(row_value) >= 2:
        for r in ordered:
            if str(r["id"]) == str(row_value[0]) and r["config"] == row_value[1]:
                return r
    if row_index is not None and 0 <= row_index < len(ordered):
        return ordered[row_index]
    return None


def _cite(d: dict[str, Any]) -> str:
    return f"{d.get('symbol') or d.get('doc') or ''} {d.get('locator') or ''}".strip()


def record_html(r: Record | None) -> str:
    """One question in full: gold, the answer with its citations (marked relevant or not), the ranking."""
    if r is None:
        return '<div class="hint">Select a row to see its answer and citations.</div>'
    problems = ([f"error: {r['error']}"] if r["error"] else []) + r["failures"]
    verdict = ('<div class="error">✗ ' + esc("; ".join(problems)) + "</div>") if problems else '<div class="ok">✓ right</div>'
    refs = "".join(f"<li>{esc(a)}</li>" for a in r["references"]) or "<li><em>none: unanswerable</em></li>"
    evid = "".join(f"<li>{esc(e)}</li>" for e in r["evidence"]) or "<li><em>none</em></li>"
    answer = (f'<div class="refusal">⊘ refused: {esc(r["answer"])}</div>' if r["refused"]
              else f'<div class="answer">{esc(r["answer"])}</div>')
    cites = "".join(
        f'<li><strong>[{c["n"]}] {esc(_cite(c))}</strong> '
        f'{"✓ holds evidence" if contains_evidence(c["text"], r["evidence"]) else "✗ no evidence"}'
        f'{"" if c["supported"] else " · not clearly supported"}<blockquote>{esc(c["text"])}</blockquote></li>'
        for c in r["citations"]) or "<li><em>no citations</em></li>"
    ranking = "".join(f'<li>{"<strong>✓</strong> " if h["relevant"] else ""}#{h["rank"]} {esc(_cite(h))}</li>'
                      for h in r["ranking"])
    scores = " · ".join(f"{label} {fmt(r.get(key))}" for key, label in (
        ("answer_f1", "F1"), ("rouge_l", "ROUGE-L"), ("citation_precision", "cit. P"), ("citation_recall", "cit. R"),
        ("rr", "RR"), ("ndcg@10", "nDCG@10")))
    return (
        f'<div class="eval-record"><h4>{esc(r["id"])} · {esc(r["config"])} · {esc(r["lang"])}</h4>'
        f"<p><strong>{esc(r['question'])}</strong></p>{verdict}"
        f"<p>{scores} · confidence {r['confidence']:.3f} · {r['latency_ms']:.0f} ms · {esc(r['generator'])}</p>"
        f"<h5>Answer</h5>{answer}<h5>Citations</h5><ol>{cites}</ol>"
        f"<h5>Reference answers</h5><ul>{refs}</ul><h5>Evidence</h5><ul>{evid}</ul>"
        f"<h5>Ranking (top {len(r['ranking'])})</h5><ol>{ranking}</ol></div>"
    )


def summary_markdown(run: EvalRun) -> str:
    s = run.summary
    lines = [f"**{s['questions']} questions** ({s['answerable']} answerable, {s['unanswerable']} unanswerable) "
             f"from {md_escape(Path(s['gold']).name)}; k = {s['k']}, ranking metrics over the top {s['ranking_depth']}."]
    if s["skipped"]:
        lines.append(f"**{len(s['skipped'])} invalid lines skipped:** " +
                     "; ".join(f"line {x['line']}: {md_escape(x['problem'])}" for x in s["skipped"][:10]))
    lines += ["", run.table(), ""]
    first = primary_config(s["configs"])
    lines += [f"**By question language** ({first['name']})", "", breakdown_table(first["by_language"], "language"), ""]
    lines += [f"**By document** ({first['name']})", "", breakdown_table(first["by_doc"], "document")]
    return "\n".join(lines)


def run_from_ui(ctx: AppContext, source: str, upload: str | None, llm: str, mode: str, compare: bool, k: int,
                skip_invalid: bool, progress: Any = None) -> EvalRun:
    """Evaluate the chosen gold file with the app's pipeline; files go to a fresh temporary folder."""
    if source == UPLOADED:
        if not upload:
            raise RagError("upload a gold .jsonl file first, or choose the shipped gold set")
        path = Path(upload)
    else:
        path = SHIPPED_GOLD
    gold = load_gold(path, skip_invalid=skip_invalid)
    configs = compare_configs(ctx.settings, llm) if compare else [EvalConfig(mode, llm)]
    out = Path(tempfile.mkdtemp(prefix="rag-eval-"))
    return run_eval(ctx.pipeline, gold, configs, k=int(k), out_dir=out, gold_path=path.name if source == UPLOADED else path,
                    progress=progress)


def build(ctx: AppContext) -> None:
    """Lay out the tab (called inside `with gr.Tab("Evaluate"):`)."""
    import gradio as gr

    try:
        generators = available_generators(ctx.settings)
    except Exception:  # noqa: BLE001 - the tab must render even if probing generators fails
        generators = ["extractive"]
    default_llm = ctx.settings.llm if ctx.settings.llm in generators else "extractive"
    gr.Markdown("Run gold questions (JSON Lines: `id`, `question`, `answers`, `evidence`, optional `doc`) through "
                "the same pipeline the chat uses, and see where retrieval, answers and citations go wrong.")
    with gr.Row(equal_height=False):
        with gr.Column(scale=2):
            source = gr.Radio([SHIPPED, UPLOADED], value=SHIPPED, label="Gold questions", elem_id="eval-source")
            upload = gr.File(file_count="single", type="filepath", file_types=[".jsonl", ".json", ".txt"],
                             label="Gold file (.jsonl)", elem_id="eval-upload")
        with gr.Column(scale=2):
            llm = gr.Dropdown(generators, value=default_llm, label="Generator", elem_id="eval-llm",
                              info="local LLMs take 10–20 s a question on a small CPU")
            mode = gr.Dropdown(list(MODES), value="hybrid", label="Retrieval", elem_id="eval-mode")
            compare = gr.Checkbox(False, label="Compare dense / BM25 / hybrid side by side", elem_id="eval-compare")
        with gr.Column(scale=1):
            k = gr.Slider(1, 20, value=ctx.settings.retrieval.k, step=1, label="Passages for the answer (k)")
            skip = gr.Checkbox(False, label="Skip invalid lines", elem_id="eval-skip")
            run_btn = gr.Button("Run evaluation", variant="primary", elem_id="eval-run")
    status = gr.Markdown(elem_id="eval-status")
    summary = gr.Markdown(elem_id="eval-summary")
    chart = gr.Image(type="filepath", label="Chart", interactive=False, elem_id="eval-chart")
    table = gr.Dataframe(headers=ROW_HEADERS, interactive=False, wrap=True, max_height=500,
                         label="Questions (failures first; select a row to open its answer)", elem_id="eval-table")
    with gr.Row(equal_height=False):
        with gr.Column(scale=3):
            detail = gr.HTML(record_html(None), elem_id="eval-detail")
        with gr.Column(scale=2):
            detail_json = gr.JSON(label="Answer JSON (as `rag ask --json` prints it, plus metrics)", open=False)
    files = gr.File(file_count="multiple", label="results.jsonl, summary.json, report.md, chart.png",
                    interactive=False, elem_id="eval-files")
    ordered = gr.State([])

    def on_run(source_v: str, upload_v: str | None, llm_v: str, mode_v: str, compare_v: bool, k_v: float,
               skip_v: bool, request: Any, progress: gr.Progress = gr.Progress()) -> tuple:
        def update(done: int, total: int, label: str) -> None:
            progress((done, total), desc=f"Asking {label}" if label else "Loading", unit="questions")

        try:
            # An evaluation costs minutes of CPU: editors only, checked here whatever the page showed.
            ctx.access.require_editor(request, "evaluate", ctx.settings.index_dir)
            run = run_from_ui(ctx, source_v, upload_v, llm_v, mode_v, compare_v, int(k_v), skip_v, update)
        except RagError as e:
            return (f'<div class="error">⚠ {esc(e)}</div>', "", None, [], [], record_html(None), None, None)
        rows, recs = question_rows(run.records)
        failed = sum(1 for r in recs if r["failures"] or r["error"])
        msg = f"Done: {len(recs)} answers, {failed} with problems. Files: {md_escape(str(run.files['report.md'].parent))}"
        return (msg, summary_markdown(run), str(run.files["chart.png"]), rows, recs, record_html(None), None,
                [str(p) for p in run.files.values()])

    def on_select(recs: list[Record], evt: gr.SelectData) -> tuple:
        index = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
        rec = find_record(recs, index, getattr(evt, "row_value", None))
        return record_html(rec), rec

    # Annotations are strings here (postponed evaluation) and `gr` is local: give Gradio the real class.
    on_select.__annotations__["evt"] = gr.SelectData
    on_run.__annotations__ = {"request": gr.Request}
    run_btn.click(on_run, [source, upload, llm, mode, compare, k, skip],
                  [status, summary, chart, table, ordered, detail, detail_json, files],
                  api_visibility="private", concurrency_id="long", concurrency_limit=2)
    upload.upload(lambda _f: gr.Radio(value=UPLOADED), [upload], [source], api_visibility="private")
    table.select(on_select, [ordered], [detail, detail_json], api_visibility="private")
