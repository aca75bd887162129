"""The `rag` command line: one module per command, importing the domain and never imported by it."""
from __future__ import annotations

from rag.cli.main import build_parser, main

__all__ = ["build_parser", "main"]
