"""Append-only audit log of changes to the library (who, what, when): `audit.jsonl` in the index directory."""
from __future__ import annotations

import getpass
import json
import os
import time
from pathlib import Path
from typing import Any

AUDIT_FILE = "audit.jsonl"
MAX_FIELD = 500  # a target or detail longer than this is cut: the log records acts, not documents


def cli_user() -> str:
    """The account name of a command-line user (`cli:NAME`)."""
    try:
        return "cli:" + getpass.getuser()
    except (OSError, KeyError):
        return f"cli:uid{os.getuid()}"


def record(index_dir: str | Path, user: str, action: str, target: str = "", result: str = "ok", **extra: Any) -> None:
    """Append one line `{time, user, action, target, result, ...}`; one write per line with O_APPEND.

    Args:
        index_dir: the index directory the act applies to.
        user: who ("cli:alice", a UI login name, "local" or "anonymous").
        action: "upload", "ingest", "remove", "rebuild", "evaluate" or "denied:<action>".
        target: the file, symbol or document id concerned.
        result: "ok", "failed: reason", or the status of the file.
    """
    root = Path(index_dir)
    root.mkdir(parents=True, exist_ok=True)
    entry = {"time": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "user": str(user)[:MAX_FIELD], "action": action,
             "target": str(target)[:MAX_FIELD], "result": str(result)[:MAX_FIELD]}
    entry.update({k: (v if isinstance(v, (int, float, bool)) or v is None else str(v)[:MAX_FIELD])
                  for k, v in extra.items()})
    line = (json.dumps(entry, ensure_ascii=False) + "\n").encode("utf-8", "replace")
    fd = os.open(root / AUDIT_FILE, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line)  # one write of one line: concurrent writers never interleave within a line
        os.fsync(fd)
    finally:
        os.close(fd)


def read(index_dir: str | Path) -> list[dict[str, Any]]:
    """All entries, oldest first ([] when nothing was recorded)."""
    path = Path(index_dir) / AUDIT_FILE
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
