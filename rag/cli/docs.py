"""`rag docs`: list the indexed documents."""
from __future__ import annotations

import argparse
import json

from index.registry import open_store
from rag.cli.common import settings_from


def register(sub, common: argparse.ArgumentParser, gen: argparse.ArgumentParser) -> None:
    sp = sub.add_parser("docs", parents=[common], help="list indexed documents")
    sp.add_argument("--json", action="store_true")
    sp.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    index = open_store(settings_from(args).store_spec)
    rows = []
    for doc_id, meta in index.docs.items():
        rows.append({**meta.to_dict(), "chunks": len(index.doc_rows(doc_id))})
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    for r in rows:
        print(f"{r['symbol'] or r['doc_id']:22} {r['date'] or '':10} {r['chunks']:4} chunks  {r['title'] or ''}")
    return 0
