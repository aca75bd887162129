"""`rag docs`: list the indexed documents, each once, with its language versions."""
from __future__ import annotations

import argparse
import json

from index.registry import open_store
from rag.cli.common import settings_from
from rag.ingest.versions import group_versions, language_label


def register(sub, common: argparse.ArgumentParser, gen: argparse.ArgumentParser) -> None:
    sp = sub.add_parser("docs", parents=[common], help="list indexed documents and their languages")
    sp.add_argument("--json", action="store_true")
    sp.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    index = open_store(settings_from(args).store_spec)
    rows = []
    for document, versions in group_versions(index.docs).items():
        per = []
        for lang, key in versions.items():
            n = len(index.doc_rows(key))
            per.append({**index.docs[key].to_dict(), "key": key, "chunks": n, "label": language_label(lang)})
        # The first version's metadata stands for the document (as with one version before); `versions` has each.
        rows.append({**{k: v for k, v in per[0].items() if k not in ("key", "label")}, "doc_id": document,
                     "chunks": sum(v["chunks"] for v in per), "languages": list(versions), "versions": per})
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    for r in rows:
        langs = ", ".join(r["languages"])
        print(f"{r['symbol'] or r['doc_id']:22} {r['date'] or '':10} {r['chunks']:4} chunks  [{langs}]  {r['title'] or ''}")
    return 0
