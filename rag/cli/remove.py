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
    s = settings_from(args)
    doc_id, _ = remove_document(s.store_spec, args.doc)
    audit.record(s.index_dir, audit.cli_user(), "remove", doc_id)  # the audit log stays in the index directory
    print(f"removed {doc_id}")
    return 0
