"""`rag ui`: start the web app (chat with citations, documents, evaluation, briefing)."""
from __future__ import annotations

import argparse
import sys

from rag.cli.common import settings_from

# The UI's defaults, repeated here so `rag --help` does not import gradio (ui.app imports it); a test checks
# that they equal ui.app.DEFAULT_HOST / DEFAULT_PORT.
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7860


def register(sub, common: argparse.ArgumentParser, gen: argparse.ArgumentParser) -> None:
    sp = sub.add_parser("ui", parents=[common, gen], help="start the web app: chat with citations, manage documents")
    sp.add_argument("--host", default=DEFAULT_HOST, help=f"address to listen on (default {DEFAULT_HOST})")
    sp.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    sp.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # Deferred: the CLI is the one leaf allowed to reach the UI package, and only when `rag ui` runs (gradio
    # takes seconds to import).
    from ui.app import build_app, launch
    from ui.context import make_context, no_index  # deferred with ui.app, as above

    ctx = make_context(settings_from(args))
    print(f"loading the embedding model {ctx.settings.embed_model} ...", file=sys.stderr, flush=True)
    _ = ctx.pipeline.embedder  # load now, not on the first question
    if not no_index(ctx):
        _ = ctx.pipeline.index  # fail early on an index built with another model
    demo = build_app(ctx)
    where = f"http://{args.host}:{args.port}"
    print(f"index {ctx.settings.index_dir}; starting the web app on {where}", file=sys.stderr, flush=True)
    launch(demo, ctx, host=args.host, port=args.port)
    return 0
