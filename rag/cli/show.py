"""`rag show`: a document's cleaned paragraphs with their locators; with `--lang`, its versions side by side."""
from __future__ import annotations

import argparse
import json

from index.registry import open_store
from rag.cli.common import settings_from
from rag.errors import RagError
from rag.ingest.versions import LibraryVersions, Row, document_of, language_label, resolve_versions


def register(sub, common: argparse.ArgumentParser, gen: argparse.ArgumentParser) -> None:
    sp = sub.add_parser("show", parents=[common], help="show a document's cleaned paragraphs with locators")
    sp.add_argument("doc", metavar="DOC")
    sp.add_argument("--locator", metavar="L", help="only this paragraph, e.g. ¶21 or '¶21(c)'")
    sp.add_argument("--lang", metavar="XX,YY", help="the aligned paragraphs of these language versions, e.g. zh,en")
    sp.add_argument("--json", action="store_true")
    sp.set_defaults(func=run)


def _matches(locator: str, wanted: str) -> bool:
    return locator == wanted or locator.startswith(wanted + "(")


def run(args: argparse.Namespace) -> int:
    index = open_store(settings_from(args).store_spec)
    if args.lang:
        return _aligned(index, args)
    keys = resolve_versions(index.docs, args.doc)
    chunks = [c for k in keys for c in index.chunks(index.doc_rows(k))]
    if args.locator:
        chunks = [c for c in chunks if _matches(c.locator, args.locator)]
        if not chunks:
            known = ", ".join(dict.fromkeys(c.locator for k in keys for c in index.chunks(index.doc_rows(k))))
            raise RagError(f"no paragraph {args.locator!r} in {document_of(index.docs[keys[0]])}; its locators: {known}")
    if args.json:
        print(json.dumps([c.to_dict() for c in chunks], ensure_ascii=False, indent=2))
        return 0
    for k in keys:
        meta = index.docs[k]
        mine = [c for c in chunks if c.doc_id == k]
        if not mine:
            continue
        lang = f" [{language_label(meta.language)}]" if len(keys) > 1 else ""
        print(f"# {meta.symbol or k} — {meta.title or ''} ({meta.date or 'undated'}){lang}\n")
        for c in mine:
            who = f"  [{c.speaker_label()}]" if c.speaker else ""
            print(f"{c.locator}{who}\n{c.text}\n")
    return 0


def _aligned(index, args: argparse.Namespace) -> int:
    """The document's aligned rows in the languages asked for; JSON `{symbol, locator, versions, rows}`."""
    keys = resolve_versions(index.docs, args.doc)
    document = document_of(index.docs[keys[0]])
    langs = [x.strip().lower() for x in args.lang.split(",") if x.strip()]
    for lang in langs:
        resolve_versions(index.docs, document, lang)  # RagError naming the document's languages
    rows: list[Row] = LibraryVersions(index).alignment(document).rows
    rows = [r for r in rows if any(lg in r.segments for lg in langs)]
    if args.locator:
        hit = [r for r in rows if any(_matches(s.locator, args.locator) for lg in langs for s in r.segments.get(lg, []))]
        if not hit:
            known = ", ".join(dict.fromkeys(r.locator for r in rows))
            raise RagError(f"no paragraph {args.locator!r} in {document}; its locators: {known}")
        rows = hit
    if args.json:
        out = {"symbol": document, "languages": langs, "rows": [r.to_json(langs) for r in rows]}
        if args.locator:
            texts = [r.texts() for r in rows]
            out = {"symbol": document, "locator": args.locator,
                   "versions": {lg: "\n".join(t[lg] for t in texts if lg in t) for lg in langs}, **out}
        print(json.dumps(out, ensure_ascii=False, indent=2))
        return 0
    meta = index.docs[keys[0]]
    print(f"# {document} — {meta.title or ''} ({meta.date or 'undated'}) — {', '.join(langs)}\n")
    for r in rows:
        texts = r.texts()
        how = ", ".join(f"{lg} {r.method[lg]} {r.confidence[lg]:.2f}" for lg in langs if lg in r.method
                        and r.method[lg] != "pivot")
        flag = "  [flagged]" if r.flagged else ""
        print(f"{r.locator}" + (f"  ({how})" if how else "") + flag)
        for lg in langs:
            print(f"  {lg}: {texts.get(lg, '—')}")
        print()
    return 0
