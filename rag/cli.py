"""The `rag` command line: ingest, docs, remove, show, ask, eval, brief, calibrate, ui."""
from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from pathlib import Path
from typing import Callable

from rag import audit
from rag.config import LLM_MODES, Settings, default_index_dir
from rag.types import Answer, RagError

COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {}


def command(name: str):
    def deco(fn):
        COMMANDS[name] = fn
        return fn

    return deco


def settings_from(args: argparse.Namespace) -> Settings:
    kw = {"index_dir": Path(args.index) if getattr(args, "index", None) else None}
    for attr, field in (("model", "embed_model"), ("llm", "llm"), ("openai_base_url", "openai_base_url"),
                        ("openai_model", "openai_model"), ("local_model", "local_model_path")):
        if getattr(args, attr, None):
            kw[field] = getattr(args, attr)
    return Settings().with_(**kw)


def _progress_bar(desc: str):
    from tqdm import tqdm

    bar = None

    def update(done: int, total: int, label: str) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, desc=desc, unit="file", file=sys.stderr, disable=total == 0)
        bar.n = done
        bar.set_postfix_str(Path(label).name[:40] if label else "")
        bar.refresh()
        if done == total:
            bar.close()

    return update


@command("ingest")
def cmd_ingest(args: argparse.Namespace) -> int:
    from rag.embed import get_embedder
    from rag.ingest import ingest

    s = settings_from(args)
    if not args.paths and not args.rebuild:
        raise RagError("give files or folders to ingest, or --rebuild to re-read the indexed documents")
    report = ingest(
        [Path(p) for p in args.paths], s.index_dir, get_embedder(s.embed_model), rebuild=args.rebuild,
        max_mb=args.max_mb, progress=None if args.quiet else _progress_bar("ingest"), replace=args.replace,
    )
    audit_report(s.index_dir, audit.cli_user(), "rebuild" if args.rebuild else "ingest", report)
    width = max((len(f.path) for f in report.files), default=10)
    for f in report.files:
        detail = f"{f.doc_id} ({f.chunks} chunks)" if f.doc_id else f.reason
        print(f"{f.status:9} {f.path:{width}}  {detail}")
    counts = ", ".join(f"{n} {k}" for k, n in sorted(report.counts().items()))
    print(f"index {s.index_dir}: {counts or 'nothing to do'}" + (f"; version {report.version}" if report.version else ""))
    for f in report.failed:
        print(f"error: {f.path}: {f.reason}", file=sys.stderr)
    return 1 if report.failed else 0


def audit_report(index_dir: Path, user: str, action: str, report) -> None:
    """One audit line per file that changed the library or failed to."""
    for f in report.files:
        if f.status in ("added", "updated", "failed"):
            audit.record(index_dir, user, action, f.doc_id or Path(f.path).name,
                         f.status if f.status != "failed" else f"failed: {f.reason}", file=Path(f.path).name)
    if action == "rebuild" and report.version:
        audit.record(index_dir, user, "rebuild", "", f"version {report.version}")


@command("docs")
def cmd_docs(args: argparse.Namespace) -> int:
    from index.store import load_index

    index = load_index(settings_from(args).index_dir)
    rows = []
    for doc_id, meta in index.docs.items():
        rows.append({**meta.to_dict(), "chunks": index.manifest["documents"][doc_id]["chunks"]})
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    for r in rows:
        print(f"{r['symbol'] or r['doc_id']:22} {r['date'] or '':10} {r['chunks']:4} chunks  {r['title'] or ''}")
    return 0


@command("remove")
def cmd_remove(args: argparse.Namespace) -> int:
    from rag.ingest import remove_document

    s = settings_from(args)
    doc_id, _ = remove_document(s.index_dir, args.doc)
    audit.record(s.index_dir, audit.cli_user(), "remove", doc_id)
    print(f"removed {doc_id}")
    return 0


@command("show")
def cmd_show(args: argparse.Namespace) -> int:
    from index.store import load_index

    index = load_index(settings_from(args).index_dir)
    doc_id = index.resolve_doc(args.doc)
    chunks = index.doc_chunks(doc_id)
    if args.locator:
        chunks = [c for c in chunks if c.locator == args.locator or c.locator.startswith(args.locator + "(")]
        if not chunks:
            known = ", ".join(dict.fromkeys(c.locator for c in index.doc_chunks(doc_id)))
            raise RagError(f"no paragraph {args.locator!r} in {doc_id}; its locators: {known}")
    if args.json:
        print(json.dumps([c.to_dict() for c in chunks], ensure_ascii=False, indent=2))
        return 0
    meta = index.docs[doc_id]
    print(f"# {meta.symbol or doc_id} — {meta.title or ''} ({meta.date or 'undated'})\n")
    for c in chunks:
        who = f"  [{c.speaker}{' (' + c.delegation + ')' if c.delegation else ''}]" if c.speaker else ""
        print(f"{c.locator}{who}\n{c.text}\n")
    return 0


def _filters(args: argparse.Namespace):
    from rag.retrieve import Filters

    return Filters(docs=tuple(args.doc or ()), speaker=args.speaker)


def _print_answer(a: Answer, as_json: bool) -> None:
    if as_json:
        print(json.dumps(a.to_json(), ensure_ascii=False), flush=True)
        return
    print(a.text)
    if a.citations:
        print()
        for c in a.citations:
            who = f" — {c.chunk.speaker}" + (f" ({c.chunk.delegation})" if c.chunk.delegation else "") if c.chunk.speaker else ""
            flag = "" if c.supported else "  [not clearly supported]"
            print(f"[{c.n}] {c.chunk.cite}{who}{flag}\n    {c.chunk.text[:300]}")
    for note in a.notes:
        print(f"note: {note}", file=sys.stderr)


@command("ask")
def cmd_ask(args: argparse.Namespace) -> int:
    from rag.pipeline import Pipeline

    s = settings_from(args)
    pipe = Pipeline(s)
    if args.batch:
        return _ask_batch(pipe, args)
    if args.question is None:
        raise RagError('give a question, e.g. rag ask "明斯克将举行什么会议？", or --batch FILE.jsonl')
    if args.json:
        _print_answer(pipe.ask(args.question, k=args.k, filters=_filters(args), llm=args.llm), True)
        return 0
    final = None
    for item in pipe.stream(args.question, k=args.k, filters=_filters(args), llm=args.llm):
        if isinstance(item, Answer):
            final = item
        elif sys.stdout.isatty():
            print(item, end="", flush=True)
    if sys.stdout.isatty():
        print("\n")  # the streamed draft; the checked answer follows
    assert final is not None
    _print_answer(final, False)
    return 0


def _ask_batch(pipe, args: argparse.Namespace) -> int:
    path = Path(args.batch)
    if not path.is_file():
        raise RagError(f"{path}: no such file")
    failures = 0
    data = path.read_bytes()
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    for lineno, raw in enumerate(data.split(b"\n"), 1):
        if not raw.strip():
            continue
        item_id = None
        try:
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                raise ValueError(f"not UTF-8 (byte {e.start})") from None
            item = json.loads(line)
            if not isinstance(item, dict) or "question" not in item:
                raise ValueError('each line must be an object with "question"')
            item_id = item.get("id")
            if not isinstance(item["question"], str):
                raise ValueError(f'"question" must be a string, got {type(item["question"]).__name__}')
            a = pipe.ask(item["question"], k=args.k, filters=_filters(args), llm=args.llm)
            a.id = item.get("id", lineno)
            _print_answer(a, True)
        except Exception as e:  # noqa: BLE001 - a bad line gets an error object; the rest of the batch goes on
            if os.environ.get("RAG_DEBUG") and not isinstance(e, (ValueError, RagError)):
                raise
            failures += 1
            msg = " ".join(str(e).split()) if isinstance(e, (ValueError, RagError)) else f"{type(e).__name__}: {e}"
            safe_id = item_id if isinstance(item_id, (str, int, float)) or item_id is None else str(item_id)
            out = json.dumps({"id": safe_id, "line": lineno, "error": msg}, ensure_ascii=False)
            print(out.encode("utf-8", "replace").decode("utf-8"), flush=True)
            print(f"error: {path} line {lineno}: {msg}".encode("utf-8", "replace").decode("utf-8"), file=sys.stderr)
    return 1 if failures else 0


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--index", metavar="DIR", help=f"index directory (default $RAG_INDEX or {default_index_dir()})")
    common.add_argument("--model", metavar="NAME_OR_PATH", help="embedding model (default: built-in multilingual-e5-small)")
    gen = argparse.ArgumentParser(add_help=False)
    gen.add_argument("--llm", choices=LLM_MODES, help="generator (default $RAG_LLM or the README's default)")
    gen.add_argument("--openai-base-url", help="OpenAI-compatible server, e.g. http://localhost:8000/v1")
    gen.add_argument("--openai-model", help="model name on that server")
    gen.add_argument("--local-model", help="path to a GGUF file for --llm local")

    p = argparse.ArgumentParser(prog="rag", description="Question answering over UN documents, with citations.")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    sp = sub.add_parser("ingest", parents=[common], help="add files or folders to the index")
    sp.add_argument("paths", nargs="*", metavar="PATH")
    sp.add_argument("--rebuild", action="store_true", help="rebuild the whole index (from PATHs, else from the indexed files)")
    sp.add_argument("--max-mb", type=float, default=50.0, help="largest file accepted (MB)")
    sp.add_argument("--quiet", action="store_true", help="no progress bar")
    sp.add_argument("--replace", action="store_true",
                    help="a file whose symbol is already indexed from another file replaces that document")

    sp = sub.add_parser("docs", parents=[common], help="list indexed documents")
    sp.add_argument("--json", action="store_true")

    sp = sub.add_parser("remove", parents=[common], help="remove a document from the index")
    sp.add_argument("doc", metavar="DOC", help="symbol, document id or file name")

    sp = sub.add_parser("show", parents=[common], help="show a document's cleaned paragraphs with locators")
    sp.add_argument("doc", metavar="DOC")
    sp.add_argument("--locator", metavar="L", help="only this paragraph, e.g. ¶21 or '¶21(c)'")
    sp.add_argument("--json", action="store_true")

    sp = sub.add_parser("ask", parents=[common, gen], help="answer a question with citations")
    sp.add_argument("question", nargs="?")
    sp.add_argument("--json", action="store_true", help="one JSON object per answer")
    sp.add_argument("--k", type=int, default=5, help="passages retrieved (default 5)")
    sp.add_argument("--doc", action="append", metavar="SYMBOL", help="only these documents (repeatable)")
    sp.add_argument("--speaker", metavar="X", help="only passages by this speaker or delegation")
    sp.add_argument("--batch", metavar="QUESTIONS.jsonl", help='one {"id", "question"} per line; one answer per line out')

    # Commands that live beside their stage register themselves here.
    for mod in ("rag.evaluate", "rag.brief", "rag.calibrate", "ui.app", "rag.users_cli"):
        importlib.import_module(mod).add_cli(sub, common, gen, COMMANDS)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, "k", None) is not None and args.k < 1:
        print(f"error: --k must be at least 1, got {args.k}", file=sys.stderr)
        return 2
    try:
        return COMMANDS[args.command](args)
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
