"""The openai generator against a real OpenAI-compatible server: llama-cpp-python's own server
(`python -m llama_cpp.server`) serving the packaged GGUF on a loopback port, reached through the Pipeline's
public settings (RAG_OPENAI_BASE_URL, RAG_OPENAI_MODEL), never by inserting a generator."""
from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from rag.config import Settings

MODEL_ALIAS = "qwen2.5-coder-1.5b-instruct"
START_TIMEOUT_S = 180


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def llama_server():
    """Start `python -m llama_cpp.server` on 127.0.0.1 with the packaged model; stop it afterwards."""
    from rag.generation import llm
    from rag.models import gguf

    if not llm.llama_cpp_available():
        pytest.skip("llama-cpp-python is not installed (bash scripts/install_local_llm.sh)")
    try:
        import llama_cpp.server.app  # noqa: F401
    except ImportError:
        pytest.skip("llama-cpp-python's server dependencies are missing (bash scripts/install_local_llm.sh)")
    settings = Settings(threads=2)
    if not gguf.local_model_available(settings):
        pytest.skip("the local model is not installed (bash scripts/install_local_llm.sh)")
    path = gguf.ensure_local_model(settings)
    port = _free_port()
    cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(path), "--model_alias", MODEL_ALIAS,
           "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "4096", "--n_threads", "2",
           "--n_threads_batch", "2", "--verbose", "False"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                pytest.fail(f"llama_cpp.server exited with {proc.returncode}: {proc.stderr.read()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{base}/models", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"llama_cpp.server did not answer on {base} within {START_TIMEOUT_S} s")
            time.sleep(1)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def openai_env(llama_server, monkeypatch):
    monkeypatch.setenv("RAG_OPENAI_BASE_URL", llama_server)
    monkeypatch.setenv("RAG_OPENAI_MODEL", MODEL_ALIAS)
    monkeypatch.delenv("RAG_OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    return llama_server


@pytest.mark.slow
def test_the_server_is_listed_as_reachable_with_its_model(openai_env) -> None:
    from rag.generation import llm
    from rag.generation.registry import available_generators

    settings = Settings()
    assert llm.check_openai_reachable(settings) == [MODEL_ALIAS]
    assert "openai" in available_generators(settings)


@pytest.mark.slow
def test_openai_generator_answers_through_the_pipeline_with_checked_citations(openai_env, real_index_dir,
                                                                              real_embedder) -> None:
    from rag.answer.pipeline import Pipeline
    from rag.types import Answer

    pipe = Pipeline(Settings(index_dir=real_index_dir, llm="openai"), embedder=real_embedder)
    items = list(pipe.stream("明斯克将举行什么会议？"))
    answer = items[-1]
    assert isinstance(answer, Answer) and not answer.refused
    assert answer.generator == "openai", answer.notes  # the server's own answer, not the fallback
    assert "".join(items[:-1]) == answer.text  # what streamed is exactly the checked answer
    assert "明斯克" in answer.text
    assert answer.citations and all(c.supported for c in answer.citations)
    assert any(c.chunk.locator == "turn 2 ¶20" for c in answer.citations)


@pytest.mark.slow
def test_openai_server_that_goes_away_gives_the_extractive_answer(real_index_dir, real_embedder, monkeypatch) -> None:
    from rag.answer.pipeline import Pipeline

    monkeypatch.setenv("RAG_OPENAI_BASE_URL", f"http://127.0.0.1:{_free_port()}/v1")
    monkeypatch.setenv("RAG_OPENAI_MODEL", MODEL_ALIAS)
    answer = Pipeline(Settings(index_dir=real_index_dir), embedder=real_embedder).ask("明斯克将举行什么会议？",
                                                                                      llm="openai")
    assert answer.generator == "openai→extractive" and answer.citations
    assert answer.notes[-1].startswith("cannot reach the OpenAI-compatible server at http://127.0.0.1:")
    assert answer.notes[-1].endswith("; extractive answer shown")
