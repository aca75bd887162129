"""Follow-up questions: the heuristic rewrite, the model rewrite through any chat model, and the real local model."""
from __future__ import annotations

import logging

import pytest

from rag.answer.conversation import heuristic_rewrite, is_follow_up
from rag.answer.pipeline import Pipeline
from rag.config import RetrievalSettings, Settings
from rag.generation.prompt import build_rewrite_messages
from tests.fixtures import RecordingChat, plug_chat

ZH_HISTORY = [("user", "白俄罗斯在会上提出了什么？"), ("assistant", "白俄罗斯提议在明斯克举行会议。[1]")]
EN_HISTORY = [("user", "What did Belarus propose at the Conference on Disarmament?"),
              ("assistant", "Belarus proposed a conference in Minsk. [1]")]


@pytest.fixture
def recording(fake_index_dir, fake_embedder):
    """A pipeline whose "recording" generator is a chat model with a fixed reply (set `chat.reply`)."""
    chat = RecordingChat()
    plug_chat(chat, "recording")
    r = RetrievalSettings(refuse_below=0.0, refuse_below_cross=0.0, refuse_below_other=0.0)
    return Pipeline(Settings(index_dir=fake_index_dir, llm="extractive", retrieval=r), embedder=fake_embedder), chat


def test_follow_ups_are_recognised_and_standalone_questions_are_not() -> None:
    assert [is_follow_up(q) for q in ("那么伊朗呢？", "And what about Iran?", "What did they say?")] == [True, True, True]
    assert [is_follow_up(q) for q in ("明斯克将举行什么会议？", "What did the Group of Experts conclude on IHL?")] == [False, False]
    assert heuristic_rewrite(ZH_HISTORY, "那么伊朗呢？") == "白俄罗斯在会上提出了什么？ 那么伊朗呢？"
    assert heuristic_rewrite([], "那么伊朗呢？") == "那么伊朗呢？"


def test_a_model_rewrites_the_follow_up_from_the_conversation(recording) -> None:
    pipe, chat = recording
    chat.reply = "伊朗在会上提出了什么？\n(解释)"
    assert pipe.standalone("那么伊朗呢？", ZH_HISTORY, "recording") == "伊朗在会上提出了什么？"  # the first line only
    [prompt] = chat.prompts[-1:]
    expected = build_rewrite_messages(ZH_HISTORY, "那么伊朗呢？")
    assert [(m.type, m.content) for m in prompt] == [("system", expected[0][1]), ("human", expected[1][1])]


def test_a_failing_model_falls_back_to_the_heuristic_and_logs_why(recording, caplog) -> None:
    pipe, chat = recording
    chat.fail = True
    with caplog.at_level(logging.WARNING, logger="rag.answer.pipeline"):
        assert pipe.standalone("那么伊朗呢？", ZH_HISTORY, "recording") == "白俄罗斯在会上提出了什么？ 那么伊朗呢？"
    assert [r.getMessage() for r in caplog.records] == [
        "the recording model could not rewrite the follow-up '那么伊朗呢？'; using the heuristic"]


def test_an_implausible_rewrite_is_ignored(recording) -> None:
    pipe, chat = recording
    chat.reply = ""  # nothing usable: the heuristic decides
    assert pipe.standalone("那么伊朗呢？", ZH_HISTORY, "recording") == "白俄罗斯在会上提出了什么？ 那么伊朗呢？"


@pytest.mark.slow
def test_the_local_model_rewrites_chinese_and_english_follow_ups(fake_index_dir) -> None:
    from rag.generation.llm import llama_cpp_available  # only this test needs the local model
    from rag.models.gguf import local_model_available

    pipe = Pipeline(Settings(index_dir=fake_index_dir, embed_model="fake", threads=2))
    if not (llama_cpp_available() and local_model_available(pipe.settings)):
        pytest.skip("the local model is not installed (bash scripts/install_local_llm.sh)")
    assert pipe.standalone("那么伊朗呢？", ZH_HISTORY, "local") == "伊朗在会上提出了什么？"
    assert pipe.standalone("And what about Iran?", EN_HISTORY, "local") == (
        "What did Iran propose at the Conference on Disarmament?")
