"""The Python API (`rag.ask`, `rag.stream`) and the LangChain retriever, on the fake-embedder index."""
from __future__ import annotations

import pytest
from langchain_core.documents import Document
from langchain_core.runnables import RunnableLambda

import rag

MINSK = "明斯克将举行什么会议？"


@pytest.fixture()
def env(monkeypatch, fake_index_dir):
    monkeypatch.setenv("RAG_EMBED_MODEL", "fake")
    monkeypatch.setenv("RAG_REFUSE_BELOW", "0")
    monkeypatch.setenv("RAG_REFUSE_BELOW_CROSS", "0")
    monkeypatch.setattr(rag, "_pipelines", {})
    return fake_index_dir


def test_ask_returns_an_answer_with_citations(env) -> None:
    answer = rag.ask(MINSK, index_dir=env, llm="extractive", k=3)
    assert isinstance(answer, rag.Answer) and not answer.refused and len(answer.retrieved) == 3
    assert answer.citations and all(f"[{c.n}]" in answer.text for c in answer.citations)
    assert rag.get_pipeline(env) is rag.get_pipeline(env)  # models and index load once


def test_stream_yields_text_then_the_final_answer(env) -> None:
    items = list(rag.stream(MINSK, index_dir=env, llm="extractive", docs=["CD/PV.1505"], speaker="白俄罗斯"))
    assert all(isinstance(i, str) for i in items[:-1]) and isinstance(items[-1], rag.Answer)
    assert {h.chunk.delegation for h in items[-1].retrieved} == {"白俄罗斯"}


def test_langchain_retriever_returns_documents_with_citation_metadata(env) -> None:
    docs = rag.retriever(env, k=2, docs=["CD/PV.1505"]).invoke(MINSK)
    assert [type(d) for d in docs] == [Document, Document]
    assert [d.metadata["rank"] for d in docs] == [1, 2]
    assert {d.metadata["symbol"] for d in docs} == {"CD/PV.1505"}
    assert docs[0].metadata["cite"] == f"CD/PV.1505 {docs[0].metadata['locator']}"
    # it composes like any LangChain runnable
    chain = rag.retriever(env, k=1, mode="bm25") | RunnableLambda(lambda ds: [d.metadata["cite"] for d in ds])
    assert chain.invoke("明斯克") == ["CD/PV.1505 turn 2 ¶20"]


def test_bad_input_through_the_api(env) -> None:
    with pytest.raises(rag.RagError, match="the question is empty"):
        rag.ask(" ", index_dir=env)
    with pytest.raises(rag.RagError, match="the question is empty"):
        rag.retriever(env).invoke("")
    with pytest.raises(rag.RagError, match="unknown retrieval mode 'x'"):
        rag.retriever(env, mode="x").invoke(MINSK)
