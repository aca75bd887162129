"""The `rag` parser and entry point: each command registers its own sub-parser from rag/cli/<command>.py."""
from __future__ import annotations

import argparse
import os
import sys

from rag.cli import ask, brief, calibrate, compact, docs, ingest, remove, show, ui, users
from rag.cli import eval as eval_cmd
from rag.cli.common import parent_parsers
from rag.errors import RagError

# Order of `rag --help`.
COMMAND_MODULES = (ingest, docs, remove, compact, show, ask, eval_cmd, brief, calibrate, ui, users)


def build_parser() -> argparse.ArgumentParser:
    """The whole `rag` parser; each sub-command's namespace carries its `func`."""
    common, gen = parent_parsers()
    p = argparse.ArgumentParser(prog="rag", description="Question answering over UN documents, with citations.")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.register(sub, common, gen)
    return p


def main(argv: list[str] | None = None) -> int:
    """Run `rag ARGS`; errors a user can fix print one line (exit 2), others one line unless RAG_DEBUG is set."""
    args = build_parser().parse_args(argv)
    if getattr(args, "k", None) is not None and args.k < 1:
        print(f"error: --k must be at least 1, got {args.k}", file=sys.stderr)
        return 2
    try:
        return args.func(args)
    except RagError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # noqa: BLE001 - users get one line; developers can ask for the traceback
        if os.environ.get("RAG_DEBUG"):
            raise
        print(f"error: {type(e).__name__}: {e} (set RAG_DEBUG=1 for the traceback)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
