"""`rag calibrate`: choose the refusal thresholds from a gold set and print (or write) them."""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from rag.answer.pipeline import Pipeline
from rag.cli.common import settings_from
from rag.eval.calibrate import MAX_FALSE_REFUSAL, calibrate, collect
from rag.eval.gold import load_gold


def register(sub, common: argparse.ArgumentParser, gen: argparse.ArgumentParser) -> None:
    sp = sub.add_parser("calibrate", parents=[common], help="choose refusal thresholds from a gold set")
    sp.add_argument("gold", metavar="GOLD.jsonl", help="gold questions, with unanswerable ones (empty answers)")
    sp.add_argument("--max-false-refusal", type=float, default=MAX_FALSE_REFUSAL, metavar="RATE",
                    help=f"share of answerable questions a threshold may refuse (default {MAX_FALSE_REFUSAL})")
    sp.add_argument("--out", metavar="FILE.json", help="write thresholds and per-question confidences")
    sp.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    gold = load_gold(args.gold)
    pipe = Pipeline(settings_from(args))
    points = collect(pipe, gold)
    result = calibrate(points, args.max_false_refusal)
    current = pipe.settings.retrieval
    print(f"{len(points)} questions; current thresholds: same language Chinese {current.refuse_below}, "
          f"same language other {current.refuse_below_other}, across languages {current.refuse_below_cross}\n")
    print("| group | threshold | refusal accuracy | false refusals | answerable | unanswerable |")
    print("|---|---|---|---|---|---|")
    for t in result.values():
        print(f"| {t.group} | {t.threshold:.4f} | {t.refusal_accuracy:.3f} | {t.false_refusal:.3f} | "
              f"{t.answerable} | {t.unanswerable} |")
    if args.out:
        data: dict[str, Any] = {"thresholds": {g: asdict(t) for g, t in result.items()},
                                "points": [asdict(p) for p in points]}
        Path(args.out).write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        print(f"\nwrote {args.out}", file=sys.stderr)
    print(f"\nset RAG_REFUSE_BELOW={result['same'].threshold} RAG_REFUSE_BELOW_OTHER={result['same-other'].threshold} "
          f"RAG_REFUSE_BELOW_CROSS={result['cross'].threshold} to use them (or change RetrievalSettings' defaults)")
    return 0
