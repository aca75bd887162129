"""`rag ask`: answer a question (or a JSONL batch) with citations."""
from __future__ import annotations

import argparse
import json
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
        print("\n")  # the streamed draft; the checked answer follows
    assert final is not None
    print_answer(final, False)
    return 0


def _ask_batch(pipe: Pipeline, args: argparse.Namespace) -> int:
    path = Path(args.batch)
    if not path.exists():
        raise RagError(f"{path}: no such file")
    failures = 0
    for lineno, line in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            if not isinstance(item, dict) or "question" not in item:
                raise ValueError('each line must be an object with "question"')
            a = pipe.ask(item["question"], k=args.k, filters=filters_from(args), llm=args.llm)
            a.id = item.get("id", lineno)
            print_answer(a, True)
        except (ValueError, RagError) as e:
            failures += 1
            print(json.dumps({"id": None, "line": lineno, "error": str(e)}, ensure_ascii=False), flush=True)
            print(f"error: {path} line {lineno}: {e}", file=sys.stderr)
    return 1 if failures else 0
