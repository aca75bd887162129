"""Readers and editors of a shared deployment: a JSON file of salted scrypt password hashes, written atomically."""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path

from rag.errors import RagError

ROLES = ("reader", "editor")
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
MIN_PASSWORD = 8
MAX_PASSWORD = 1024  # scrypt hashes any length; the cap keeps a login request from costing more than a few ms extra
# scrypt cost: n 2**14, r 8, p 1 is the interactive-login setting of RFC 7914 §2 (16 MiB, ~40 ms on one core here),
# slow enough to make guessing expensive, fast enough that a login does not hold a worker.
SCRYPT = {"n": 2**14, "r": 8, "p": 1}
FORMAT = 1


def default_users_file() -> Path:
    """`$RAG_USERS`, else `~/.config/un-rag/users.json`."""
    env = os.environ.get("RAG_USERS")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "un-rag" / "users.json"


@dataclass(frozen=True)
class User:
    """One account: its name, role and password hash (never the password)."""

    name: str
    role: str
    salt: str  # hex
    hash: str  # hex scrypt digest
    n: int = SCRYPT["n"]
    r: int = SCRYPT["r"]
    p: int = SCRYPT["p"]

    def check(self, password: str) -> bool:
        """Whether `password` is this user's (constant-time comparison)."""
        try:
            digest = _scrypt(password, bytes.fromhex(self.salt), self.n, self.r, self.p)
        except (ValueError, UnicodeError):
            return False
        return hmac.compare_digest(digest.hex(), self.hash)


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=64 * 1024 * 1024, dklen=32)


def validate_name(name: str) -> str:
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise RagError(f"invalid user name {name!r}: use 1-64 letters, digits, '.', '_', '@' or '-', starting with a "
                       "letter or digit")
    return name


def validate_password(password: str) -> str:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise RagError(f"the password is too short: at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise RagError(f"the password is {len(password)} characters long; the limit is {MAX_PASSWORD}")
    if any(ord(ch) < 32 or 0xD800 <= ord(ch) <= 0xDFFF for ch in password):
        raise RagError("the password holds control characters or invalid Unicode; use printable characters")
    return password


class UserStore:
    """The users file; re-read when it changes on disk, so `rag users remove` takes effect on a running UI."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path).expanduser()
        self._stamp: tuple[int, int] | None = None
        self._users: dict[str, User] = {}

    # --- reading ------------------------------------------------------------------------------
    def users(self) -> dict[str, User]:
        """All accounts by name ({} when the file does not exist yet)."""
        try:
            st = self.path.stat()
        except FileNotFoundError:
            self._stamp, self._users = None, {}
            return {}
        stamp = (st.st_mtime_ns, st.st_size)
        if stamp != self._stamp:
            self._users = self._read()
            self._stamp = stamp
        return dict(self._users)

    def _read(self) -> dict[str, User]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if data.get("format") != FORMAT or not isinstance(data.get("users"), dict):
                raise ValueError(f"expected {{'format': {FORMAT}, 'users': {{...}}}}")
            return {name: User(name=name, **fields) for name, fields in data["users"].items()}
        except (OSError, ValueError, TypeError, AttributeError) as e:
            raise RagError(f"unreadable users file {self.path}: {e}") from None

    def role(self, name: str | None) -> str | None:
        """The role of `name`, or None when there is no such user."""
        user = self.users().get(name or "")
        return user.role if user else None

    def verify(self, name: str, password: str) -> str | None:
        """The role when `password` is `name`'s, else None (unknown users cost the same time as wrong passwords)."""
        user = self.users().get(name) if isinstance(name, str) else None
        if not isinstance(password, str) or len(password) > MAX_PASSWORD:
            return None
        if user is None:
            _scrypt(password, b"0" * 16, **SCRYPT)  # same cost: timing does not tell which names exist
            return None
        return user.role if user.check(password) else None

    # --- writing ------------------------------------------------------------------------------
    def add(self, name: str, role: str, password: str) -> bool:
        """Add or update an account; True when it is new."""
        validate_name(name)
        if role not in ROLES:
            raise RagError(f"unknown role {role!r}; choose one of: {', '.join(ROLES)}")
        validate_password(password)
        users = self.users()
        salt = secrets.token_bytes(16)
        digest = _scrypt(password, salt, **SCRYPT)
        new = name not in users
        users[name] = User(name, role, salt.hex(), digest.hex(), **SCRYPT)
        self._write(users)
        return new

    def remove(self, name: str) -> None:
        users = self.users()
        if name not in users:
            raise RagError(f"no user {name!r} in {self.path}; its users: {', '.join(sorted(users)) or '(none)'}")
        del users[name]
        self._write(users)

    def _write(self, users: dict[str, User]) -> None:
        """Atomically replace the file (temporary file in the same folder, mode 0600, fsync, rename)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        body = {"format": FORMAT, "users": {
            u.name: {"role": u.role, "salt": u.salt, "hash": u.hash, "n": u.n, "r": u.r, "p": u.p}
            for u in sorted(users.values(), key=lambda u: u.name)}}
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent)
        try:
            os.fchmod(fd, 0o600)  # before any byte is written: the hashes are never world-readable
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(body, f, indent=2)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self._stamp = None
