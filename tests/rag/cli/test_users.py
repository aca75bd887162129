"""`rag users`: salted scrypt hashes (never the password), an atomically written 0600 file, add/list/remove."""
from __future__ import annotations

import io
import json
import stat
from pathlib import Path

import pytest

from rag.cli import main
from rag.errors import RagError
from rag.users import UserStore


def run(argv: list[str], stdin: str, monkeypatch, capsys) -> tuple[int, str, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_add_list_remove_with_the_password_from_stdin_and_never_stored_in_clear(tmp_path: Path, monkeypatch,
                                                                                capsys) -> None:
    f = tmp_path / "conf" / "users.json"
    assert run(["users", "add", "ed", "--role", "editor", "--users", str(f)], "editor-pass-1\n", monkeypatch,
               capsys) == (0, f"added ed (editor) in {f}\n", "")
    assert run(["users", "add", "rita", "--users", str(f)], "reader-pass-1\n", monkeypatch, capsys)[0] == 0
    assert stat.S_IMODE(f.stat().st_mode) == 0o600
    raw = f.read_text()
    assert "editor-pass-1" not in raw and "reader-pass-1" not in raw
    data = json.loads(raw)["users"]
    assert data["ed"]["role"] == "editor" and data["ed"]["n"] == 2**14 and len(data["ed"]["salt"]) == 32
    assert data["ed"]["salt"] != data["rita"]["salt"]
    assert run(["users", "list", "--users", str(f)], "", monkeypatch, capsys)[1] == (
        "ed                       editor\nrita                     reader\n")
    store = UserStore(f)
    assert store.verify("ed", "editor-pass-1") == "editor" and store.verify("rita", "reader-pass-1") == "reader"
    assert store.verify("ed", "reader-pass-1") is None and store.verify("nobody", "editor-pass-1") is None
    assert run(["users", "remove", "rita", "--users", str(f)], "", monkeypatch, capsys)[1] == f"removed rita from {f}\n"
    assert store.verify("rita", "reader-pass-1") is None  # the store re-reads the changed file
    assert [p.name for p in f.parent.iterdir()] == ["users.json"]  # no temporary file left


@pytest.mark.parametrize("argv, stdin, message", [
    (["users", "add", "ed"], "short\n", "error: the password is too short: at least 8 characters"),
    (["users", "add", "ed"], "", "error: no password on stdin"),
    (["users", "add", "../evil"], "long-enough-1\n", "error: invalid user name '../evil'"),
    (["users", "remove", "ghost"], "", "error: no user 'ghost' in"),
])
def test_bad_users_input_is_one_line_naming_the_value(tmp_path: Path, monkeypatch, capsys, argv, stdin,
                                                      message) -> None:
    code, out, err = run(argv + ["--users", str(tmp_path / "u.json")], stdin, monkeypatch, capsys)
    assert code == 2 and err.startswith(message) and err.count("\n") == 1


def test_a_corrupt_users_file_is_a_one_line_error(tmp_path: Path) -> None:
    f = tmp_path / "u.json"
    f.write_text("{not json", encoding="utf-8")
    with pytest.raises(RagError, match="unreadable users file"):
        UserStore(f).users()
