"""`rag ask`: answer a question (or a JSONL batch) with citations."""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from rag.answer.pipeline import Pipeline
from rag.cli.common import filters_from, print_answer, settings_from
from rag.errors import RagError
from rag.types import Answer


def register(sub, common: argparse.ArgumentParser, gen: argparse.ArgumentParser) -> None:
    sp = sub.add_parser("ask", parents=[common, gen], help="answer a question with citations")
    sp.add_argument("question", nargs="?")
    sp.add_argument("--json", action="store_true", help="one JSON object per answer")
    sp.add_argument("--k", type=int, default=5, help="passages retrieved (default 5)")
    sp.add_argument("--doc", action="append", metavar="SYMBOL", help="only these documents (repeatable)")
    sp.add_argument("--speaker", metavar="X", help="only passages by this speaker or delegation")
    sp.add_argument("--from", dest="date_from", metavar="DATE",
                    help="only documents dated on or after DATE (YYYY, YYYY-MM or YYYY-MM-DD)")
    sp.add_argument("--to", dest="date_to", metavar="DATE", help="only documents dated on or before DATE (inclusive)")
    sp.add_argument("--batch", metavar="QUESTIONS.jsonl", help='one {"id", "question"} per line; one answer per line out')
    sp.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    pipe = Pipeline(settings_from(args))
    if args.batch:
        return _ask_batch(pipe, args)
    if args.question is None:
        raise RagError('give a question, e.g. rag ask "明斯克将举行什么会议？", or --batch FILE.jsonl')
    if args.json:
        print_answer(pipe.ask(args.question, k=args.k, filters=filters_from(args), llm=args.llm), True)
        return 0
    final = None
    for item in pipe.stream(args.question, k=args.k, filters=filters_from(args), llm=args.llm):
        if isinstance(item, Answer):
            final = item
        elif sys.stdout.isatty():
            print(item, end="", flush=True)
    if sys.stdout.isatty():
        print("\n")  # the streamed sentences (each already checked); the citations follow
    assert final is not None
    print_answer(final, False)
    return 0


def _ask_batch(pipe: Pipeline, args: argparse.Namespace) -> int:
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
            try:  # line by line: one undecodable line is that line's error, not the batch's
                line = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                raise ValueError(f"not UTF-8 (byte {e.start})") from None
            item = json.loads(line)
            if not isinstance(item, dict) or "question" not in item:
                raise ValueError('each line must be an object with "question"')
            item_id = item.get("id")
            if not isinstance(item["question"], str):
                raise ValueError(f'"question" must be a string, got {type(item["question"]).__name__}')
            a = pipe.ask(item["question"], k=args.k, filters=filters_from(args), llm=args.llm)
            a.id = item.get("id", lineno)
            print_answer(a, True)
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
