"""What every command shares: the common options, settings from flags, progress bars, answer printing."""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Callable

from rag.answer.retrieve import Filters
from rag.config import Settings, default_index_dir
from rag.errors import RagError
from rag.lang import LANGUAGE_LABELS
from rag.types import Answer

Command = Callable[[argparse.Namespace], int]


def parent_parsers() -> tuple[argparse.ArgumentParser, argparse.ArgumentParser]:
    """The options every command takes (`--index`, `--model`) and those of commands that generate text."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--index", metavar="DIR", help=f"index directory (default $RAG_INDEX or {default_index_dir()})")
    common.add_argument("--store", metavar="milvus:URI",
                        help="another store than the index directory: milvus:/path/un.db (Milvus Lite) or "
                             "milvus:http://host:19530 (a Milvus server); default $RAG_STORE, else --index")
    common.add_argument("--collection", metavar="NAME",
                        help="Milvus collection of --store (default $RAG_COLLECTION or un_rag)")
    common.add_argument("--model", metavar="NAME_OR_PATH", help="embedding model (default: built-in multilingual-e5-small)")
    gen = argparse.ArgumentParser(add_help=False)
    # Not argparse choices: plug-in generators register at run time; the registry's error lists the choices.
    gen.add_argument("--llm", metavar="NAME",
                     help="generator: extractive, local, openai or a registered one (default $RAG_LLM or extractive)")
    gen.add_argument("--openai-base-url", help="OpenAI-compatible server, e.g. http://localhost:8000/v1")
    gen.add_argument("--openai-model", help="model name on that server")
    gen.add_argument("--local-model", help="path to a GGUF file for --llm local")
    return common, gen


def settings_from(args: argparse.Namespace) -> Settings:
    """Settings from the environment, overridden by the flags given."""
    kw = {"index_dir": Path(args.index) if getattr(args, "index", None) else None}
    if getattr(args, "index", None) and not getattr(args, "store", None):
        kw["store"] = ""  # an explicit --index means the embedded store there, whatever $RAG_STORE says
    for attr, field in (("store", "store"), ("collection", "collection"), ("model", "embed_model"), ("llm", "llm"),
                        ("openai_base_url", "openai_base_url"), ("openai_model", "openai_model"), ("local_model", "local_model_path"),
                        ("device", "embed_device"), ("precision", "embed_precision")):
        if getattr(args, attr, None):
            kw[field] = getattr(args, attr)
    return Settings().with_(**kw)


def filters_from(args: argparse.Namespace) -> Filters:
    """Retrieval filters from `--doc` (repeatable), `--speaker` and the document date range `--from` / `--to`."""
    return Filters(docs=tuple(args.doc or ()), speaker=args.speaker, date_from=check_date(getattr(args, "date_from", None), "--from"),
                   date_to=check_date(getattr(args, "date_to", None), "--to"))


def check_date(value: str | None, flag: str) -> str | None:
    """`value` when it is an ISO date prefix (YYYY, YYYY-MM or YYYY-MM-DD); RagError naming `flag` otherwise."""
    if value is None:
        return None
    if not re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?", value.strip()):
        raise RagError(f"{flag} {value!r} is not a date: use YYYY, YYYY-MM or YYYY-MM-DD (e.g. {flag} 2023-05)")
    return value.strip()


def print_answer(a: Answer, as_json: bool) -> None:
    """One JSON line (`--json`), or the answer with its citations for a person; notes go to stderr."""
    if as_json:
        print(json.dumps(a.to_json(), ensure_ascii=False), flush=True)
        return
    print(a.text)
    if a.translated_from:
        print(f"(translated from {LANGUAGE_LABELS.get(a.translated_from, a.translated_from)} by the {a.generator} "
              "model; the original passages follow)")
    if a.citations:
        print()
        for c in a.citations:
            flag = "" if c.supported else "  [not clearly supported]"
            who = f" — {c.chunk.speaker_label()}" if c.chunk.speaker else ""
            print(f"[{c.n}] {c.chunk.cite}{who}{flag}\n    {c.chunk.text[:300]}")
    for note in a.notes:
        print(f"note: {note}", file=sys.stderr)
