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
    sp.add_argument("--users", metavar="FILE", help="turn on login with this users file (`rag users add`): readers "
                    "ask, read and brief; editors also change the library. Without it, a non-loopback --host is "
                    "read-only for the library")
    sp.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # Deferred: the CLI is the one leaf allowed to reach the UI package, and only when `rag ui` runs (gradio
    # takes seconds to import).
    from ui.access import Access  # deferred with ui.app, as above
    from ui.app import build_app, launch
    from ui.context import make_context, no_index  # deferred with ui.app, as above

    access = Access.for_launch(args.host, args.users)
    ctx = make_context(settings_from(args), access)
    print(f"loading the embedding model {ctx.settings.embed_model} ...", file=sys.stderr, flush=True)
    _ = ctx.pipeline.embedder  # load now, not on the first question
    if not no_index(ctx):
        _ = ctx.pipeline.index  # fail early on an index built with another model
    demo = build_app(ctx)
    where = f"http://{args.host}:{args.port}"
    print(f"index {ctx.settings.store_spec}; starting the web app on {where}", file=sys.stderr, flush=True)
    if access.login:
        print(f"login on: readers and editors from {args.users}", file=sys.stderr, flush=True)
    elif access.read_only:
        print(f"read-only: {args.host} is not a loopback address and no --users file was given, so nobody can "
              "upload, remove, rebuild or evaluate; start with --users FILE (see `rag users`) to let editors do it",
              file=sys.stderr, flush=True)
    launch(demo, ctx, host=args.host, port=args.port)
    return 0
