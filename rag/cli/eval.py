"""`rag eval`: score a gold question set (retrieval, answers, citations, refusals) and write a report."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rag.answer.pipeline import Pipeline
from rag.answer.retrieve import MODES
from rag.cli.common import settings_from
from rag.eval.evaluate import DEFAULT_OUT_ROOT, EvalConfig, compare_configs, default_out_dir, run_eval, tqdm_progress
from rag.eval.gold import load_gold


def register(sub, common: argparse.ArgumentParser, gen: argparse.ArgumentParser) -> None:
    sp = sub.add_parser(
        "eval", parents=[common, gen], help="score a gold question set: retrieval, answers, citations, refusals",
        description="Run every question of a gold JSONL file through the pipeline `rag ask` uses and write "
                    "results.jsonl, summary.json, report.md and chart.png into --out.")
    sp.add_argument("gold", metavar="GOLD.jsonl", help="gold questions (format: one JSON object a line)")
    sp.add_argument("--k", type=int, default=5,
                    help="passages the answer uses (default 5); ranking metrics look at the top max(k, 10)")
    sp.add_argument("--mode", choices=MODES, default="hybrid", help="retrieval (default hybrid)")
    sp.add_argument("--out", metavar="DIR", help=f"output folder (default {DEFAULT_OUT_ROOT}/YYYYmmdd-HHMMSS)")
    sp.add_argument("--skip-invalid", action="store_true", help="skip bad gold lines (counted in the report)")
    sp.add_argument("--compare", action="store_true",
                    help="dense, bm25 and hybrid retrieval side by side, plus hybrid with every other usable "
                         "generator unless --llm picks one")
    sp.add_argument("--quiet", action="store_true", help="no progress bar")
    sp.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    gold = load_gold(args.gold, skip_invalid=args.skip_invalid)  # bad input fails before any model loads
    for line, problem in gold.skipped:
        print(f"warning: {args.gold} line {line}: {problem} (skipped)", file=sys.stderr)
    if args.compare:
        configs = compare_configs(settings, args.llm)
    else:
        configs = [EvalConfig(args.mode, args.llm or settings.llm)]
    out = Path(args.out) if args.out else default_out_dir()
    result = run_eval(Pipeline(settings), gold, configs, k=args.k, out_dir=out, gold_path=args.gold,
                      progress=None if args.quiet else tqdm_progress())
    s = result.summary
    skipped = f", {len(s['skipped'])} invalid lines skipped" if s["skipped"] else ""
    print(f"{s['questions']} questions ({s['answerable']} answerable, {s['unanswerable']} unanswerable){skipped}; "
          f"k={s['k']}, ranking depth {s['ranking_depth']}\n")
    print(result.table())
    print(f"\nwrote {', '.join(str(p) for p in result.files.values())}")
    return 0
