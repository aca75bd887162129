"""The web app behind `rag ui`: a chat whose answers cite passages shown beside it, and the documents it reads."""
from __future__ import annotations

import logging
import os
import threading
import time
from typing import TYPE_CHECKING, Any, Iterator

from rag.answer.retrieve import Filters
from rag.errors import RagError
from rag.models.lexicon import load_lexicon
from rag.types import Answer
from ui import brief_tab, documents, eval_tab
from ui.access import EDITOR, limit_queued_per_user, takes_request
from ui.context import AppContext, generator_options, no_index
from ui.render import ChatSession, Turn, chat_messages, citations_panel, esc, markdown_copy

if TYPE_CHECKING:  # gradio and the pipeline are imported lazily: `rag ask` must not pay for them
    import gradio as gr


log = logging.getLogger(__name__)
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7860
CONCURRENT_ANSWERS = 4  # questions answered at once (all sessions); the rest wait in Gradio's queue
# Briefs and evaluations run minutes each: they share their own concurrency group "long" (Gradio queues each
# group separately), so at most LONG_JOBS of them run and askers keep their CONCURRENT_ANSWERS slots.
LONG_JOBS = 2
EDITOR_TABS = ("Evaluate",)  # tabs only editors see (an evaluation costs minutes of CPU)
CSS = """
#citations .cite-panel { max-height: 72vh; overflow-y: auto; padding-right: 4px; }
.cite-panel .empty, .doc-reader .empty { color: var(--body-text-color-subdued); font-style: italic; padding: 8px 0; }
.cite-panel .panel-q { font-weight: 600; margin: 4px 0 8px; }
.cite-panel ol { list-style: none; padding-left: 0; margin: 0; }
.cite-panel li.cite, .cite-panel li.hit { border: 1px solid var(--border-color-primary); border-radius: 8px;
  padding: 8px 10px; margin-bottom: 10px; background: var(--background-fill-secondary); scroll-margin: 12px; }
.cite-panel li.cite.unsupported { border-color: #d97706; }
.cite-panel li.flash { animation: cite-flash 1.6s ease-out; }
@keyframes cite-flash { 0% { box-shadow: 0 0 0 3px #2563eb; } 100% { box-shadow: 0 0 0 0 transparent; } }
.cite-head { font-size: 0.92em; margin-bottom: 4px; display: flex; flex-wrap: wrap; gap: 6px; align-items: baseline; }
.cite-head .n { font-weight: 700; color: #2563eb; }
.cite-head .sym { font-weight: 600; }
.cite-head .loc { font-family: var(--font-mono); background: var(--background-fill-primary); padding: 0 4px; border-radius: 4px; }
.cite-head .spk { font-style: italic; }
.cite-head .score { color: var(--body-text-color-subdued); font-size: 0.85em; }
.cite-head .flag { color: #b45309; font-weight: 600; }
.side-by-side { display: grid; grid-template-columns: 1fr 1fr; gap: 10px; }
.versions-grid { grid-template-columns: none; grid-auto-flow: column; grid-auto-columns: 1fr; margin-top: 4px; }
details.versions > summary { cursor: pointer; font-size: 0.85em; color: var(--body-text-color-subdued); }
.side-by-side .label { font-size: 0.8em; color: var(--body-text-color-subdued); margin-bottom: 2px; }
.meta .translated-note { font-style: italic; }
blockquote.passage { margin: 0; padding: 0 0 0 8px; border-left: 3px solid var(--border-color-accent); line-height: 1.55; }
mark.support { background: rgba(250, 204, 21, 0.45); color: inherit; padding: 0 1px; border-radius: 2px; }
.refusal { border: 1px dashed #64748b; border-radius: 8px; padding: 8px 10px; background: rgba(100, 116, 139, 0.10); }
.refusal .hint { font-size: 0.88em; color: var(--body-text-color-subdued); }
a.cite-ref { font-weight: 700; text-decoration: none; color: #2563eb; cursor: pointer; }
.meta { font-size: 0.8em; color: var(--body-text-color-subdued); margin-top: 4px; }
.note, .error { font-size: 0.88em; color: #b45309; }
.ok { color: #15803d; }
.cite-panel details { margin: 6px 0; }
.cite-panel details > summary { cursor: pointer; color: var(--body-text-color-subdued); }
.answer.draft .cursor { opacity: 0.5; }
.doc-reader .doc-head { font-size: 1.05em; margin-bottom: 8px; display: flex; gap: 10px; flex-wrap: wrap; }
.doc-reader .doc-head .sym { font-weight: 700; }
.doc-reader .heading { font-weight: 600; margin: 12px 0 4px; }
.doc-reader .para { display: grid; grid-template-columns: 8em 1fr; gap: 2px 10px; padding: 4px 0;
  border-bottom: 1px solid var(--border-color-primary); }
.doc-reader .para .loc { font-family: var(--font-mono); color: #2563eb; }
.doc-reader .para .spk { grid-column: 2; font-style: italic; }
.doc-reader .para .ptext { grid-column: 2; }
#doc-reader { max-height: 70vh; overflow-y: auto; }
table.ingest-report { width: 100%; border-collapse: collapse; font-size: 0.92em; }
table.ingest-report td, table.ingest-report th { border-bottom: 1px solid var(--border-color-primary); padding: 4px 6px; text-align: left; }
table.ingest-report .st-failed td.status { color: #b91c1c; font-weight: 600; }
table.ingest-report .st-added td.status, table.ingest-report .st-updated td.status { color: #15803d; font-weight: 600; }
"""

# Clicking [n] in an answer scrolls its passage into view (opening an earlier answer's section if need be).
HEAD = """<script>
document.addEventListener("click", function (e) {
  const a = e.target.closest && e.target.closest("a.cite-ref, a[href^='#cite-']");
  if (!a) return;
  const id = a.getAttribute("data-cite") || (a.getAttribute("href") || "").replace(/^#/, "");
  const el = document.getElementById(id);
  if (!el) return;
  e.preventDefault(); e.stopPropagation();
  for (let d = el.closest("details"); d; d = d.parentElement && d.parentElement.closest("details")) d.open = true;
  el.scrollIntoView({ behavior: "smooth", block: "center" });
  el.classList.remove("flash"); void el.offsetWidth; el.classList.add("flash");
}, true);
</script>"""


def answer_stream(
    ctx: AppContext,
    question: str,
    session: ChatSession | None,
    llm: str | None,
    k: float | None,
    docs: list[str] | None,
    speaker: str | None,
    request: Any = None,
) -> Iterator[tuple[Any, ...]]:
    """The chat's event: streams (chat messages, citations panel, Markdown copy, session, question box)."""
    import gradio as gr

    session = session or ChatSession()
    q = (question or "").strip()
    if not q:
        yield gr.skip(), gr.skip(), gr.skip(), session, gr.skip()
        return
    history = session.history()
    turn = Turn(q)
    session.turns.append(turn)
    yield chat_messages(session), citations_panel(session), gr.skip(), session, ""
    try:
        if no_index(ctx):
            raise RagError("no documents are indexed yet: add some in the Documents tab")
        ctx.access.check_generator(request, llm, ctx.settings.llm)
        filters = Filters(docs=tuple(docs or ()), speaker=(speaker or "").strip() or None)
        shown = 0.0
        for item in ctx.pipeline.stream(q, k=int(k) if k else None, filters=filters, llm=llm or None, history=history):
            if isinstance(item, Answer):
                turn.answer = item
            else:
                turn.draft += item
                if time.monotonic() - shown > 0.08:  # fewer, larger updates for fast generators
                    shown = time.monotonic()
                    yield chat_messages(session), gr.skip(), gr.skip(), session, gr.skip()
    except RagError as e:
        turn.error = str(e)
    except Exception as e:  # noqa: BLE001 - the user gets one line; the log gets the traceback
        log.exception("answering %r failed", q)
        turn.error = f"internal error ({type(e).__name__}: {e})"
    yield chat_messages(session), citations_panel(session), markdown_copy(session), session, gr.skip()


def ask_json(ctx: AppContext, question: str, llm: str | None = None, k: int | None = None,
             request: Any = None) -> dict[str, Any]:
    """The `ask` API: one answer with its citations as JSON (`Answer.to_json()`); RagError for bad input."""
    ctx.access.check_generator(request, llm, ctx.settings.llm)
    if k is not None and int(k) < 1:
        raise RagError(f"k must be at least 1, got {k}")
    if no_index(ctx):
        raise RagError(f"no documents are indexed at {ctx.pipeline.store_spec}: add some first")
    return ctx.pipeline.ask(question, k=int(k) if k else None, llm=llm or None).to_json()


def build_app(ctx: AppContext) -> "gr.Blocks":
    """Lay out the app (launch it with `launch()`, which adds the CSS and the click-to-citation script)."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    import gradio as gr

    choices, default_llm, llm_info = generator_options(ctx.settings)
    with gr.Blocks(title="UN documents — answers with citations", analytics_enabled=False) as demo:
        session = gr.State(None)
        gr.Markdown("## UN documents — answers with citations\nEvery answer cites the passages it rests on: "
                    "click **[n]** to see the passage, with the supporting words highlighted.")
        with gr.Tabs():
            with gr.Tab("Chat", id="chat") as chat_tab:
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3, min_width=420):
                        chatbot = gr.Chatbot(
                            label="Conversation", height=520, elem_id="chat", feedback_options=None, buttons=[],
                            placeholder="Ask about the indexed UN documents, in any language.",
                        )
                        with gr.Row():
                            question = gr.Textbox(
                                show_label=False, placeholder="Your question — Enter to ask", scale=6, lines=1,
                                max_lines=6, max_length=ctx.settings.max_question_chars, elem_id="question",
                            )
                            ask_btn = gr.Button("Ask", variant="primary", scale=1, min_width=70, elem_id="ask")
                            new_btn = gr.Button("New chat", scale=1, min_width=130, elem_id="new-chat")
                        with gr.Row():
                            llm = gr.Dropdown(choices=choices, value=default_llm, label="Generator", info=llm_info,
                                              elem_id="generator")
                            k = gr.Slider(1, 20, value=ctx.settings.retrieval.k, step=1, label="Passages retrieved")
                        with gr.Row():
                            docs = gr.Dropdown(choices=[], value=[], multiselect=True, label="Only these documents",
                                               elem_id="doc-filter")
                            speaker = gr.Textbox(label="Only this speaker or delegation", elem_id="speaker-filter")
                    with gr.Column(scale=2, min_width=340):
                        gr.Markdown("### Citations")
                        panel = gr.HTML(citations_panel(ChatSession()), elem_id="citations")
                        with gr.Accordion("Copy the answer with its citations (Markdown)", open=False,
                                          elem_id="copy-md"):
                            markdown = gr.Code(language="markdown", interactive=False, buttons=["copy"], wrap_lines=True,
                                               max_lines=14, show_label=False, elem_id="answer-md")
            with gr.Tab("Documents", id="documents"):
                lists, refreshed, manage = documents.build(ctx, docs)
            # Editors only; without a login the role is the same for everyone, so it is decided once here,
            # with a login the load event shows it to editors. The handlers check the role anyway.
            with gr.Tab("Evaluate", visible=not ctx.access.login and not ctx.access.read_only) as eval_ui:
                eval_tab.build(ctx)
            with gr.Tab("Briefing"):
                brief_tab.build(ctx)
        whoami = gr.Markdown(access_banner(ctx, None), elem_id="whoami")

        @takes_request
        def respond(q, s, g, kk, d, sp, request):
            yield from answer_stream(ctx, q, s, g, kk, d, sp, request)

        @takes_request
        def on_load(request):
            """Per visitor: management controls and the Evaluate tab for editors only, the allowed generators."""
            editor = ctx.access.role(request) == EDITOR
            allowed = [(label, v) for label, v in choices if editor or v in (default_llm, "extractive")]
            return (*refreshed(), *[gr.update(visible=editor) for _ in manage], gr.Dropdown(choices=allowed),
                    access_banner(ctx, request), gr.Tab(visible=editor))

        def new_conversation() -> tuple:
            fresh = ChatSession()
            return [], citations_panel(fresh), "", fresh, ""

        def doc_filter_choices(current: list[str] | None) -> "gr.Dropdown":
            choices = documents.doc_choices(documents.current_index(ctx))
            known = {v for _, v in choices}
            return gr.Dropdown(choices=choices, value=[d for d in current or [] if d in known])

        chat_io: dict[str, Any] = dict(
            fn=respond, inputs=[question, session, llm, k, docs, speaker],
            outputs=[chatbot, panel, markdown, session, question], api_visibility="private",
            concurrency_id="answer", concurrency_limit=CONCURRENT_ANSWERS, trigger_mode="once",
        )
        question.submit(**chat_io)
        ask_btn.click(**chat_io)
        reset = [chatbot, panel, markdown, session, question]
        new_btn.click(new_conversation, None, reset, api_visibility="private")
        chatbot.clear(new_conversation, None, reset, api_visibility="private")
        chat_tab.select(doc_filter_choices, [docs], [docs], api_visibility="private")
        demo.load(on_load, None, [*lists, *manage, llm, whoami, eval_ui], api_visibility="private")

        def ask(question: str, llm: str | None = None, k: int | None = None, request: Any = None) -> dict:
            """Answer `question` from the indexed documents; returns the answer and its citations as JSON.

            Args:
                question: the question, in any language.
                llm: generator: "local", "openai" or "extractive" (default: the server's).
                k: passages to retrieve (default 5).
            """
            try:
                return ask_json(ctx, question, llm, k, request)
            except RagError as e:
                raise gr.Error(str(e), print_exception=False) from None

        ask.__annotations__ = {"question": str, "llm": str | None, "k": int | None, "request": gr.Request,
                               "return": dict}

        gr.api(ask, api_name="ask", concurrency_id="answer", concurrency_limit=CONCURRENT_ANSWERS)
    return demo


def access_banner(ctx: AppContext, request: Any) -> str:
    """One line under the title: who is signed in and what they may do (escaped: names are user input)."""
    a = ctx.access
    if a.login:
        name = getattr(request, "username", None)
        if not name:
            return ""
        role = a.role(request)
        return (f"Signed in as **{esc(name)}** ({role or 'no role'})" +
                ("" if role == EDITOR else " — readers ask, read documents and write briefs."))
    if a.read_only:
        return ("**Read-only library**: this shared instance was started without `--users`, so documents cannot "
                "be added, removed or rebuilt here.")
    return ""


def launch(demo: "gr.Blocks", ctx: AppContext, host: str = DEFAULT_HOST, port: int | None = DEFAULT_PORT,
           **kw: Any) -> Any:
    """Start the server with the app's CSS, script and limits (`prevent_thread_lock=True` to return at once)."""
    import gradio as gr

    demo.queue(max_size=128)
    # The word lexicon of cross-language keyword search parses in ~2 s: do it now, not at the first question.
    threading.Thread(target=load_lexicon, name="load-lexicon", daemon=True).start()
    if ctx.access.login:
        kw.setdefault("auth", ctx.access.auth)
        kw.setdefault("auth_message", "UN documents Q&A: sign in as a reader or an editor.")
    try:
        result = demo.launch(
            server_name=host, server_port=port, css=CSS, head=HEAD, theme=gr.themes.Default(primary_hue="blue"),
            max_file_size=f"{ctx.settings.max_file_mb:g}mb", footer_links=["api"], **kw,
        )
        if not limit_queued_per_user(demo, ctx.access):
            log.warning("this Gradio's queue has no push() to wrap: no per-user limit on queued requests")
        return result
    except OSError as e:
        raise RagError(f"cannot start the web app on {host}:{port}: {e}") from None
