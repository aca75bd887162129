"""Readers and editors: login, the role checked on the server by every handler that changes the library or costs
minutes of CPU, the upload/remove/rebuild API names, the read-only default on a shared host, the audit log."""
from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from rag import audit
from rag.errors import RagError
from rag.users import UserStore
from ui.access import Access, is_loopback

PASSWORDS = {"ed": "editor-pass-1", "rita": "reader-pass-1"}


@pytest.fixture
def users_file(tmp_path: Path) -> Path:
    store = UserStore(tmp_path / "users.json")
    store.add("ed", "editor", PASSWORDS["ed"])
    store.add("rita", "reader", PASSWORDS["rita"])
    return store.path


def current(index: Path) -> str:
    return json.loads((index / "CURRENT").read_text())["version"]


def client(url: str, user: str | None = None):
    from gradio_client import Client

    return Client(url, verbose=False, auth=(user, PASSWORDS[user]) if user else None)


def test_loopback_detection() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("::1") and is_loopback("127.0.0.2")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5") and not is_loopback("example.org")


def test_policy_without_users_is_editor_on_loopback_and_read_only_elsewhere(tmp_path: Path) -> None:
    assert Access.for_launch("127.0.0.1", None).role(None) == "editor"
    shared = Access.for_launch("0.0.0.0", None)
    assert shared.read_only and shared.role(None) == "reader"
    with pytest.raises(RagError, match="read-only for the library"):
        shared.require_editor(SimpleNamespace(username=None, client=SimpleNamespace(host="10.0.0.9")), "upload", tmp_path)
    assert audit.read(tmp_path)[-1] | {"time": ""} == {"time": "", "user": "anonymous@10.0.0.9",
                                                       "action": "denied:upload", "target": "",
                                                       "result": "refused: not an editor"}
    with pytest.raises(RagError, match="no users in"):
        Access.for_launch("0.0.0.0", tmp_path / "empty.json")


def test_readers_may_not_choose_an_expensive_generator(users_file: Path) -> None:
    a = Access(users=UserStore(users_file))
    reader, editor = SimpleNamespace(username="rita"), SimpleNamespace(username="ed")
    a.check_generator(reader, "extractive", "extractive")
    a.check_generator(reader, None, "extractive")
    a.check_generator(editor, "local", "extractive")
    with pytest.raises(RagError, match="only editors may choose a generator other than 'extractive'"):
        a.check_generator(reader, "local", "extractive")


def _private_handlers(demo) -> dict[str, object]:
    return {b.fn.__name__: b.fn for b in demo.fns.values() if b.fn is not None}


def test_every_library_and_long_job_handler_refuses_a_reader_on_the_server(fake_index_copy: Path, make_settings,
                                                                         users_file: Path) -> None:
    """The hidden buttons' handlers themselves check the role: a raw HTTP call by fn_index changes nothing."""
    from ui.app import build_app
    from ui.context import make_context

    ctx = make_context(make_settings(fake_index_copy), Access(users=UserStore(users_file)))
    fns = _private_handlers(build_app(ctx))
    reader = SimpleNamespace(username="rita", client=None, session_hash="s")
    before = current(fake_index_copy)
    lunar = fake_index_copy.parent / "lunar.txt"
    lunar.write_text("A/TEST/1\n\n1. The survey of lunar water ice is due in 2027.\n", encoding="utf-8")
    noop = lambda *a, **k: None  # noqa: E731 - stands in for gr.Progress
    out = fns["on_add"]([str(lunar)], False, None, [], reader, noop)
    assert "only editors may change the library" in out[0]
    out = fns["on_remove"]("CD/PV.1505", None, [], reader)
    assert "only editors may change the library" in out[0]
    out = fns["on_rebuild"](None, [], reader, noop)
    assert "only editors may change the library" in out[0]
    out = fns["on_run"]("Shipped gold set (seeds/gold/gold.jsonl)", None, "extractive", "hybrid", False, 3, False,
                        reader, noop)
    assert "only editors may change the library or run long jobs" in out[0]
    assert current(fake_index_copy) == before
    denied = [e["action"] for e in audit.read(fake_index_copy)]
    assert denied == ["denied:upload", "denied:remove", "denied:rebuild", "denied:evaluate"]


def test_gradio_client_reader_refused_editor_succeeds_and_the_audit_log_says_who(
        fake_index_copy: Path, make_settings, app_runner, users_file: Path, lunar_file: Path) -> None:
    from gradio_client import handle_file

    with app_runner(make_settings(fake_index_copy), Access(users=UserStore(users_file))) as (url, _ctx):
        with pytest.raises(Exception):  # no login, no app
            client(url).predict("明斯克将举行什么会议？", api_name="/ask")
        reader = client(url, "rita")
        assert reader.predict("明斯克将举行什么会议？", "extractive", 3, api_name="/ask")["citations"]
        before = current(fake_index_copy)
        for args, api in (([[handle_file(str(lunar_file))], False], "/upload"), (["CD/PV.1505"], "/remove"),
                          ([], "/rebuild")):
            with pytest.raises(Exception, match="only editors may change the library"):
                reader.predict(*args, api_name=api)
        with pytest.raises(Exception, match="only editors may choose a generator"):
            reader.predict("明斯克将举行什么会议？", "local", 3, api_name="/ask")
        assert current(fake_index_copy) == before

        editor = client(url, "ed")
        rows = editor.predict([handle_file(str(lunar_file))], False, api_name="/upload")
        assert [(r["file"], r["status"], r["doc"]) for r in rows] == [("lunar.txt", "added", "A/TEST/2026/1")]
        assert editor.predict("A/TEST/2026/1", api_name="/remove") == {"removed": "A/TEST/2026/1"}
        rows = editor.predict(api_name="/rebuild")
        assert sorted(r["doc"] for r in rows) == ["CCW/GGE.1/2023/2", "CD/PV.1505", "EUR/44A25/1"]
    log = [(e["user"], e["action"], e["target"], e["result"]) for e in audit.read(fake_index_copy)]
    assert log[:3] == [("rita", "denied:upload", "lunar.txt", "refused: not an editor"),
                       ("rita", "denied:remove", "CD/PV.1505", "refused: not an editor"),
                       ("rita", "denied:rebuild", "", "refused: not an editor")]
    assert ("ed", "upload", "A/TEST/2026/1", "added") in log and ("ed", "remove", "A/TEST/2026/1", "ok") in log
    assert [e for e in log if e[1] == "rebuild"][0][0] == "ed"


def test_shared_host_without_users_is_read_only_through_the_api(fake_index_copy: Path, make_settings, app_runner,
                                                               lunar_file: Path) -> None:
    from gradio_client import handle_file

    access = Access.for_launch("0.0.0.0", None)
    with app_runner(make_settings(fake_index_copy), access, host="0.0.0.0") as (url, _ctx):
        anonymous = client(url)
        before = current(fake_index_copy)
        with pytest.raises(Exception, match="read-only for the library"):
            anonymous.predict([handle_file(str(lunar_file))], False, api_name="/upload")
        with pytest.raises(Exception, match="read-only for the library"):
            anonymous.predict("CD/PV.1505", api_name="/remove")
        assert anonymous.predict("明斯克将举行什么会议？", "extractive", 3, api_name="/ask")["citations"]
        assert current(fake_index_copy) == before


def test_a_sidecar_never_replaces_a_document_without_an_explicit_replace(fake_index_copy: Path, make_settings,
                                                                        app_runner, tmp_path: Path) -> None:
    """An upload claiming CD/PV.1505 is refused with a reason naming --replace; confirmed, it replaces it."""
    from gradio_client import handle_file

    fake = tmp_path / "up" / "fake.txt"
    fake.parent.mkdir()
    fake.write_text("1. This is not the real record of the 1505th meeting.\n", encoding="utf-8")
    # the record's own language: a file in another language would add a version beside it (issue 14)
    (fake.parent / "fake.txt.meta.json").write_text('{"symbol": "CD/PV.1505", "language": "zh"}', encoding="utf-8")
    with app_runner(make_settings(fake_index_copy)) as (url, _ctx):
        c = client(url)
        files = [handle_file(str(fake)), handle_file(str(fake.parent / "fake.txt.meta.json"))]
        rows = c.predict(files, False, api_name="/upload")
        assert [(r["status"], r["doc"]) for r in rows] == [("failed", "")]
        assert "CD/PV.1505 is already indexed" in rows[0]["reason"] and "--replace" in rows[0]["reason"]
        assert not any((fake_index_copy / "uploads").rglob("fake.txt")), "a failed upload is deleted"
        rows = c.predict(files, True, api_name="/upload")
        assert [(r["status"], r["doc"]) for r in rows] == [("updated", "CD/PV.1505")]


def test_a_user_with_four_requests_waiting_is_refused_a_fifth_others_are_not(users_file: Path) -> None:
    import asyncio

    from ui.access import limit_queued_per_user

    access = Access(users=UserStore(users_file))
    waiting = [SimpleNamespace(username="rita", request=None, session_hash=f"s{i}") for i in range(4)]
    pushed = []

    async def push(body, request, username):
        pushed.append(username)
        return True, "event", "success"

    queue = SimpleNamespace(push=push, event_queue_per_concurrency_id={"answer": SimpleNamespace(queue=waiting)})
    assert limit_queued_per_user(SimpleNamespace(_queue=queue), access)
    body = SimpleNamespace(session_hash="new")
    ok, message, kind = asyncio.run(queue.push(body, None, "rita"))
    assert (ok, kind) == (False, "error") and message.startswith("4 of your requests are waiting already")
    assert asyncio.run(queue.push(body, None, "ed")) == (True, "event", "success") and pushed == ["ed"]
