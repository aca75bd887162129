"""`rag remove`: remove a document (every language version, or one) from the index."""
from __future__ import annotations

import argparse

from rag import audit
from rag.cli.common import settings_from
from rag.ingest.library import remove_document


def register(sub, common: argparse.ArgumentParser, gen: argparse.ArgumentParser) -> None:
    sp = sub.add_parser("remove", parents=[common], help="remove a document (all its language versions, or --lang's)")
    sp.add_argument("doc", metavar="DOC", help="symbol, document id or file name")
    sp.add_argument("--lang", metavar="XX", help="remove only this language version (e.g. zh, en)")
    sp.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    s = settings_from(args)
    removed, _ = remove_document(s.store_spec, args.doc, args.lang)
    audit.record(s.index_dir, audit.cli_user(), "remove", removed)  # the audit log stays in the index directory
    print(f"removed {removed}")
    return 0
