"""`rag brief`: a briefing note on a topic, every point cited (Markdown or DOCX)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rag.answer.pipeline import Pipeline
from rag.brief.build import FORMATS, build_brief, output_format, validate_topic
from rag.brief.render import save, to_markdown
from rag.cli.common import settings_from
from rag.errors import RagError


def register(sub, common: argparse.ArgumentParser, gen: argparse.ArgumentParser) -> None:
    sp = sub.add_parser("brief", parents=[common, gen], help="a briefing note on a topic, every point cited",
                        description='A briefing note on a topic, e.g. rag brief "人工智能武器化" --out note.docx')
    sp.add_argument("topic", nargs="?", help="the topic (a phrase, not necessarily a question)")
    sp.add_argument("--docs", nargs="+", metavar="SYMBOL", help="only these documents (symbols or ids)")
    sp.add_argument("--format", choices=FORMATS, help="md (default) or docx (needs --out); else from --out's suffix")
    sp.add_argument("--out", metavar="FILE", help="write the note here (nothing is written on an error)")
    sp.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.topic is None and args.docs:
        raise RagError('give the topic before --docs, e.g. rag brief "人工智能" --docs CD/PV.1505 EUR/44A25/1')
    fmt = output_format(args.format, args.out)  # checked before any model loads
    s = settings_from(args)
    topic = validate_topic(args.topic, s.max_question_chars)
    if args.out and not Path(args.out).parent.is_dir():
        raise RagError(f"cannot write {args.out}: no such directory {Path(args.out).parent}")
    brief = build_brief(Pipeline(s), topic, docs=args.docs or (), llm=args.llm)
    if args.out:
        save(brief, args.out, fmt)
        print(f"wrote {args.out} ({len(brief.cited())} citations from {len(brief.sources)} documents)", file=sys.stderr)
    else:
        print(to_markdown(brief), end="")
    if brief.refused:
        print(f"note: the indexed documents do not cover {topic!r} (best match {brief.confidence:.3f}, "
              "below the refusal threshold)", file=sys.stderr)
    for note in brief.notes:
        print(f"note: {note}", file=sys.stderr)
    return 0
