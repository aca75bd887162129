"""`rag show`: a document's cleaned paragraphs with their locators."""
from __future__ import annotations

import argparse
import json

from index.registry import open_store
from rag.cli.common import settings_from
from rag.errors import RagError


def register(sub, common: argparse.ArgumentParser, gen: argparse.ArgumentParser) -> None:
    sp = sub.add_parser("show", parents=[common], help="show a document's cleaned paragraphs with locators")
    sp.add_argument("doc", metavar="DOC")
    sp.add_argument("--locator", metavar="L", help="only this paragraph, e.g. ¶21 or '¶21(c)'")
    sp.add_argument("--json", action="store_true")
    sp.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    index = open_store(settings_from(args).store_spec)
    doc_id = index.resolve_doc(args.doc)
    all_chunks = index.chunks(index.doc_rows(doc_id))
    chunks = all_chunks
    if args.locator:
        chunks = [c for c in chunks if c.locator == args.locator or c.locator.startswith(args.locator + "(")]
        if not chunks:
            known = ", ".join(dict.fromkeys(c.locator for c in all_chunks))
            raise RagError(f"no paragraph {args.locator!r} in {doc_id}; its locators: {known}")
    if args.json:
        print(json.dumps([c.to_dict() for c in chunks], ensure_ascii=False, indent=2))
        return 0
    meta = index.docs[doc_id]
    print(f"# {meta.symbol or doc_id} — {meta.title or ''} ({meta.date or 'undated'})\n")
    for c in chunks:
        who = f"  [{c.speaker_label()}]" if c.speaker else ""
        print(f"{c.locator}{who}\n{c.text}\n")
    return 0
