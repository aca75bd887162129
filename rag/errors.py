"""Errors fit to show a user as they are: one line naming the bad value and what is allowed."""
from __future__ import annotations

from pathlib import Path


class RagError(Exception):
    """An error with a message fit to show a user as is (no traceback)."""


class IngestError(RagError):
    """A file that cannot be ingested; the message names the file and the reason."""

    def __init__(self, path: Path | str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = str(path)
        self.reason = reason
