"""The Briefing tab: a topic in, a cited briefing note out (Markdown preview and a .md or .docx download).

`build(ctx)` is called inside the app's `with gr.Tab("Briefing"):`; `ctx` carries `.settings` and
`.pipeline`. `make_brief` is the handler without Gradio, for tests and other front ends.
"""
from __future__ import annotations

import re
import tempfile
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from rag.brief.build import FORMATS, build_brief
from rag.brief.render import save, to_markdown
from rag.errors import RagError
from rag.ingest.versions import group_versions
from rag.sanitize import md_escape
from ui.context import generator_options

EXAMPLES = ["人工智能武器化", "lethal autonomous weapons: what has been agreed",
            "what did each delegation say about new technologies"]


def doc_choices(ctx) -> list[tuple[str, str]]:
    """(label, doc id) of the indexed documents; none while there is no index yet."""
    try:
        docs = ctx.pipeline.index.docs
    except RagError:
        return []
    out = []
    for document, versions in group_versions(docs).items():  # one entry per document, whatever its languages
        m = docs[next(iter(versions.values()))]
        title = (m.title or "")[:50] + ("…" if m.title and len(m.title) > 50 else "")
        out.append((f"{document} — {title}" if title else document, document))
    return out


def _filename(topic: str, fmt: str) -> str:
    slug = re.sub(r"[^\w]+", "-", topic, flags=re.UNICODE).strip("-")[:40] or "brief"
    return f"brief-{slug}.{fmt}"


def make_brief(ctx, topic: str, docs: list[str] | None, fmt: str, llm: str | None,
               request: Any = None) -> tuple[str, str | None]:
    """(Markdown preview, path of the file to download); (error message, None) on bad input."""
    try:
        access = getattr(ctx, "access", None)
        if access is not None:  # readers write briefs, with the deployment's generator or the extractive one
            access.check_generator(request, llm, ctx.settings.llm)
        if fmt not in FORMATS:
            raise RagError(f"unknown format {fmt!r}; choose one of: {', '.join(FORMATS)}")
        brief = build_brief(ctx.pipeline, topic, docs=tuple(docs or ()), llm=llm or None)
    except RagError as e:
        return f"**Error:** {md_escape(str(e))}", None
    md = to_markdown(brief)
    if brief.notes:
        md += "\n" + "\n".join(f"> note: {md_escape(n)}" for n in brief.notes) + "\n"
    path = Path(tempfile.mkdtemp(prefix="un-rag-brief-")) / _filename(brief.topic, fmt)
    save(brief, path, fmt)
    return md, str(path)


def build(ctx) -> SimpleNamespace:
    """Create the tab's components (inside the caller's Tab) and wire them; returns them for tests."""
    import gradio as gr

    choices, default, _ = generator_options(ctx.settings)  # the chat tab's labels, unavailable ones marked
    with gr.Row():
        topic = gr.Textbox(label="Topic", placeholder=" · ".join(EXAMPLES), scale=3, max_lines=2)
        docs = gr.Dropdown(choices=doc_choices(ctx), multiselect=True, value=[], scale=2,
                           label="Documents", info="only these documents; all when empty")
    with gr.Row():
        fmt = gr.Radio(choices=[("Markdown", "md"), ("Word (DOCX)", "docx")], value="md", label="Download format")
        llm = gr.Dropdown(choices=choices, value=default, label="Generator",
                          info="extractive quotes key sentences; a model writes the summary, cited")
        go = gr.Button("Write briefing note", variant="primary")
    gr.Examples(examples=[[e] for e in EXAMPLES], inputs=[topic])
    preview = gr.Markdown(label="Briefing note")
    download = gr.DownloadButton("Download", visible=False)

    def run(t, d, f, g, request=None):
        md, path = make_brief(ctx, t, d, f, g, request)
        return md, gr.DownloadButton(label=f"Download {Path(path).name}" if path else "Download", value=path,
                                     visible=path is not None)

    docs.focus(lambda: gr.Dropdown(choices=doc_choices(ctx)), outputs=docs)  # documents ingested since
    run.__annotations__ = {"request": gr.Request}
    for trigger in (go.click, topic.submit):  # a long job: its own group, so askers keep their answer slots
        trigger(run, inputs=[topic, docs, fmt, llm], outputs=[preview, download], concurrency_id="long",
                concurrency_limit=2)
    return SimpleNamespace(topic=topic, docs=docs, format=fmt, llm=llm, button=go, preview=preview,
                           download=download, run=run)
