"""Who may do what in the web app: roles from the login (or the host), checked on the server in every handler."""
from __future__ import annotations

import ipaddress
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rag import audit
from rag.errors import RagError
from rag.users import UserStore

EDITOR, READER = "editor", "reader"
# Requests one user may have waiting in the queue at once (answers, briefs, evaluations together). Four lets a
# person queue a question in each of two tabs while a brief waits; a script flooding the queue gets a one-line
# refusal instead of pushing everyone else back.
PER_USER_REQUESTS = 4


def is_loopback(host: str) -> bool:
    """Whether `host` only accepts connections from this machine."""
    if host in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass
class Access:
    """The deployment's policy: a users file (login on), or none (editor on loopback, read-only elsewhere)."""

    users: UserStore | None = None
    read_only: bool = False  # no users file on a non-loopback host: nobody changes the library
    per_user_requests: int = PER_USER_REQUESTS
    _active: dict[str, int] = field(default_factory=lambda: defaultdict(int), repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def for_launch(cls, host: str, users_file: str | Path | None) -> "Access":
        if users_file:
            store = UserStore(users_file)
            if not store.users():
                raise RagError(f"no users in {store.path}: add one first, e.g. rag users add NAME --role editor "
                               f"--users {store.path}")
            return cls(users=store)
        return cls(read_only=not is_loopback(host))

    @property
    def login(self) -> bool:
        return self.users is not None

    def auth(self, username: str, password: str) -> bool:
        """Gradio's `auth=` callable: the password matches the users file."""
        return self.users is not None and self.users.verify(username, password) is not None

    def user(self, request: Any) -> str:
        """Who is asking: the login name, else "local" (loopback, no login) or "anonymous@HOST"."""
        name = getattr(request, "username", None)
        if name:
            return str(name)
        if not self.read_only and not self.login:
            return "local"
        client = getattr(getattr(request, "client", None), "host", None)
        return f"anonymous@{client}" if client else "anonymous"

    def role(self, request: Any) -> str | None:
        """"editor", "reader", or None (a login that is no longer in the users file)."""
        if self.users is not None:
            return self.users.role(getattr(request, "username", None))
        return READER if self.read_only else EDITOR

    def is_editor(self, request: Any) -> bool:
        return self.role(request) == EDITOR

    def require_editor(self, request: Any, action: str, index_dir: str | Path, target: str = "") -> str:
        """The editor's name, or RagError (and an audit line) when the caller may not `action`.

        Args:
            request: the Gradio request of the handler (None outside a server).
            action: what is attempted, e.g. "upload", "remove", "rebuild", "evaluate".
            index_dir: where the audit log lives.
            target: the file or document concerned, for the log.
        """
        if self.is_editor(request):
            return self.user(request)
        who = self.user(request)
        audit.record(index_dir, who, f"denied:{action}", target, "refused: not an editor")
        if self.read_only:
            raise RagError(f"{action}: this deployment is read-only for the library (started on a shared host "
                           "without --users); an editor's login is needed")
        raise RagError(f"{action}: only editors may change the library or run long jobs; {who} is a "
                       f"{self.role(request) or 'user without a role'}")

    def check_generator(self, request: Any, llm: str | None, default: str) -> None:
        """Readers get the deployment's generator or the extractive one; others cost minutes of CPU per answer."""
        if not llm or llm in (default, "extractive") or self.is_editor(request):
            return
        raise RagError(f"generator {llm!r}: only editors may choose a generator other than {default!r} or "
                       "'extractive' (a model costs minutes of CPU per answer)")


def queue_key(access: Access, username: str | None, request: Any, session_hash: str | None) -> str:
    """Whose request this is, for the per-user queue limit: the login, else the browser session on loopback
    (everyone is 127.0.0.1 there), else the client address."""
    if username:
        return f"user:{username}"
    if not access.read_only and session_hash:
        return f"session:{session_hash}"
    host = getattr(getattr(request, "client", None), "host", None)
    return f"host:{host}" if host else f"session:{session_hash}"


def limit_queued_per_user(demo: Any, access: Access) -> bool:
    """Refuse a request at the queue's door when its user already has `access.per_user_requests` waiting.

    Gradio has no per-user queue limit, so the queue's `push` is wrapped (its signature is Gradio 6's
    `push(body, request, username) -> (ok, message, kind)`). Returns False (and changes nothing) if the
    queue does not look as expected.
    """
    queue = getattr(demo, "_queue", None)
    original = getattr(queue, "push", None)
    if original is None or not hasattr(queue, "event_queue_per_concurrency_id"):
        return False
    limit = access.per_user_requests

    async def push(body: Any, request: Any, username: str | None):
        key = queue_key(access, username, request, getattr(body, "session_hash", None))
        waiting = sum(1 for q in list(queue.event_queue_per_concurrency_id.values()) for e in list(q.queue)
                      if queue_key(access, e.username, e.request, e.session_hash) == key)
        if waiting >= limit:
            return False, (f"{waiting} of your requests are waiting already; the limit is {limit}: "
                           "wait for one to finish"), "error"
        return await original(body, request, username)

    queue.push = push
    return True


def takes_request(fn: Any) -> Any:
    """Let Gradio pass `request: gr.Request` to a handler defined where annotations are postponed strings.

    Gradio finds the parameter by its resolved type hint; "gr.Request" does not resolve in modules that import
    gradio lazily, so the annotations are replaced by the request's real class (other hints are not needed by
    event handlers; Progress is found by its default value).
    """
    import gradio as gr

    fn.__annotations__ = {"request": gr.Request}
    return fn
