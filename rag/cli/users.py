"""`rag users add|list|remove`: the readers and editors of a shared `rag ui --users FILE`."""
from __future__ import annotations

import argparse
import getpass
import sys

from rag.errors import RagError
from rag.users import ROLES, UserStore, default_users_file


def read_password(name: str) -> str:
    """The new password: prompted twice on a terminal, else the first line of stdin (never from argv)."""
    if sys.stdin.isatty():
        first = getpass.getpass(f"password for {name}: ")
        if getpass.getpass("again: ") != first:
            raise RagError("the two passwords differ; nothing was changed")
        return first
    line = sys.stdin.readline()
    if not line:
        raise RagError("no password on stdin: pipe one line, e.g. `printf '%s\\n' \"$PW\" | rag users add NAME`")
    return line.rstrip("\r\n")


def run(args: argparse.Namespace) -> int:
    store = UserStore(args.users or default_users_file())
    if args.action == "add":
        if not args.name:
            raise RagError("give the user's name: rag users add NAME --role reader|editor")
        new = store.add(args.name, args.role, read_password(args.name))
        print(f"{'added' if new else 'updated'} {args.name} ({args.role}) in {store.path}")
    elif args.action == "remove":
        if not args.name:
            raise RagError("give the user's name: rag users remove NAME")
        store.remove(args.name)
        print(f"removed {args.name} from {store.path}")
    else:
        users = store.users()
        if not users:
            print(f"no users in {store.path}")
        for u in sorted(users.values(), key=lambda u: u.name):
            print(f"{u.name:24} {u.role}")
    return 0


def register(sub, common: argparse.ArgumentParser, gen: argparse.ArgumentParser) -> None:
    sp = sub.add_parser("users", help="readers and editors of a shared `rag ui --users FILE`",
                        description="Passwords are read from stdin (or prompted) and stored as salted scrypt hashes.")
    sp.add_argument("action", choices=("add", "list", "remove"))
    sp.add_argument("name", nargs="?", metavar="NAME")
    sp.add_argument("--role", choices=ROLES, default="reader",
                    help="reader: ask, read, brief; editor: also upload, remove, rebuild, evaluate (default reader)")
    sp.add_argument("--users", metavar="FILE", help=f"users file (default $RAG_USERS or {default_users_file()})")
    sp.set_defaults(func=run)
