"""`rag remove`: remove a document from the index."""
from __future__ import annotations

import argparse

from rag import audit
from rag.cli.common import settings_from
from rag.ingest.library import remove_document


def register(sub, common: argparse.ArgumentParser, gen: argparse.ArgumentParser) -> None:
    sp = sub.add_parser("remove", parents=[common], help="remove a document from the index")
    sp.add_argument("doc", metavar="DOC", help="symbol, document id or file name")
    sp.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    index_dir = settings_from(args).index_dir
    doc_id, _ = remove_document(index_dir, args.doc)
    audit.record(index_dir, audit.cli_user(), "remove", doc_id)
    print(f"removed {doc_id}")
    return 0
