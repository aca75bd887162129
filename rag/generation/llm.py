"""The seam to language models: every generator is a LangChain chat model (or none, for extractive).

    make_local_chat_model(settings)   -> LlamaCppChat over llama-cpp-python and a local GGUF
    make_openai_chat_model(settings)  -> langchain_openai.ChatOpenAI at an OpenAI-compatible URL

(rag.generation.registry registers both as the "local" and "openai" generators.)

Every failure a user can cause (not installed, not configured, unreachable, prompt too long)
surfaces as `rag.errors.RagError` with a message fit to show as is; `llm_errors()` converts the
errors raised while a model runs.
"""
from __future__ import annotations

import atexit
import contextlib
import json
import threading
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Iterator

import numpy as np
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    ChatMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import ConfigDict, Field

from rag.config import Settings
from rag.errors import RagError
from rag.generation.script import BanTokens, cjk_mask
from rag.models.gguf import ensure_local_model

LOCAL_N_CTX = 4096
LOCAL_MAX_TOKENS = 400
OPENAI_TIMEOUT_S = 120.0  # per read; connecting gives up after OPENAI_CONNECT_TIMEOUT_S
OPENAI_CONNECT_TIMEOUT_S = 5.0
REACHABLE_TIMEOUT_S = 3.0
# How the CLI spells the settings (kept here so error messages and the CLI agree).
OPENAI_HINT = (
    "set RAG_OPENAI_BASE_URL (--openai-base-url), e.g. http://localhost:8000/v1, "
    "and RAG_OPENAI_MODEL (--openai-model)"
)
LOCAL_INSTALL_MSG = (
    "the local generator needs llama-cpp-python: run bash scripts/install_local_llm.sh, or use --llm extractive"
)


# --------------------------------------------------------------------------------------------
# local: llama-cpp-python
# --------------------------------------------------------------------------------------------


def _import_llama_cpp():
    try:
        import llama_cpp  # noqa: PLC0415 - optional dependency, heavy native library
    except (ImportError, OSError) as e:
        raise RagError(LOCAL_INSTALL_MSG) from e
    return llama_cpp


def llama_cpp_available() -> bool:
    try:
        _import_llama_cpp()
    except RagError:
        return False
    return True


class _Loaded:
    """A loaded `llama_cpp.Llama` and the lock that serializes its use (one context, one caller)."""

    def __init__(self, llama: Any):
        self.llama = llama
        self.lock = threading.Lock()
        self._cjk: np.ndarray | None = None

    def cjk_mask(self) -> np.ndarray:
        """Which vocabulary entries write CJK (`rag.generation.script`), computed once per model (~1 s)."""
        if self._cjk is None:
            self._cjk = cjk_mask(self.llama.detokenize([i]) for i in range(self.llama.n_vocab()))
        return self._cjk


_LOADED: dict[tuple[str, int, int], _Loaded] = {}
_LOADED_LOCK = threading.Lock()


def load_llama(model_path: str | Path, threads: int, n_ctx: int = LOCAL_N_CTX) -> _Loaded:
    """The in-process cached Llama for (path, threads, n_ctx): loaded once (~1.8 GB mapped)."""
    key = (str(Path(model_path).resolve()), int(threads), int(n_ctx))
    with _LOADED_LOCK:
        loaded = _LOADED.get(key)
        if loaded is not None:
            return loaded
        llama_cpp = _import_llama_cpp()
        try:
            llama = llama_cpp.Llama(
                model_path=key[0],
                n_ctx=n_ctx,
                n_batch=512,
                n_threads=threads,
                n_threads_batch=threads,
                verbose=False,
            )
        except Exception as e:  # llama.cpp reports a bad file as ValueError/RuntimeError
            raise RagError(f"could not load the local model {key[0]}: {e}") from e
        loaded = _Loaded(llama)
        if not _LOADED:
            # Close models before interpreter teardown: llama.cpp's __del__ at exit finds its C bindings gone
            # and prints a TypeError traceback.
            atexit.register(unload_all)
        _LOADED[key] = loaded
        return loaded


def unload_all() -> None:
    """Drop the cached models (tests, or to free memory)."""
    with _LOADED_LOCK:
        for loaded in _LOADED.values():
            with contextlib.suppress(Exception):
                loaded.llama.close()
        _LOADED.clear()


def _to_llama_message(m: BaseMessage) -> dict[str, Any]:
    content = m.content if isinstance(m.content, str) else m.text
    if isinstance(m, SystemMessage):
        role = "system"
    elif isinstance(m, HumanMessage):
        role = "user"
    elif isinstance(m, AIMessage):
        role = "assistant"
    elif isinstance(m, ToolMessage):
        role = "tool"
    elif isinstance(m, ChatMessage):
        role = m.role
    else:
        raise RagError(f"the local generator cannot take a {type(m).__name__}")
    return {"role": role, "content": content}


class LlamaCppChat(BaseChatModel):
    """A LangChain chat model over `llama_cpp.Llama.create_chat_completion` (chat template from the GGUF).

    `langchain_community.chat_models.ChatLlamaCpp` is not used: it loads a fresh Llama for every
    instance, forces rope_freq_base=10000 (Qwen2.5 needs the GGUF's own 1e6) and n_batch=8, and
    langchain-community is deprecated. The Llama here is shared through `load_llama()`.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    model_path: str
    n_threads: int = 2
    n_ctx: int = LOCAL_N_CTX
    temperature: float = 0.0
    max_tokens: int = LOCAL_MAX_TOKENS
    top_p: float = 1.0
    repeat_penalty: float = 1.0
    stop: list[str] | None = None
    streaming: bool = True
    seed: int | None = 0
    model_name: str = Field(default="")
    # Takes `ban_cjk=True` per call (rag.generation.script): the chat generator passes it for non-CJK answers.
    supports_script_ban: bool = True

    @property
    def _llm_type(self) -> str:
        return "llama-cpp"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {
            "model_path": self.model_path,
            "n_ctx": self.n_ctx,
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
        }

    def _loaded(self) -> _Loaded:
        return load_llama(self.model_path, self.n_threads, self.n_ctx)

    def _params(self, stop: list[str] | None, kwargs: dict[str, Any]) -> dict[str, Any]:
        params: dict[str, Any] = {
            "temperature": self.temperature,
            "top_p": self.top_p,
            "max_tokens": self.max_tokens,
            "repeat_penalty": self.repeat_penalty,
            "stop": stop or self.stop or [],
            "seed": self.seed,
        }
        for k in ("temperature", "top_p", "max_tokens", "repeat_penalty", "seed", "top_k", "min_p"):
            if k in kwargs:
                params[k] = kwargs[k]
        if kwargs.get("ban_cjk"):  # an answer in English (French, ...): no token may write Chinese
            params["logits_processor"] = _import_llama_cpp().LogitsProcessorList([BanTokens(self._loaded().cjk_mask())])
        return params

    def _prompt_error(self, e: Exception) -> RagError:
        msg = str(e)
        if "context window" in msg or "exceed" in msg:
            return RagError(
                f"the question and passages are too long for the local model ({self.n_ctx}-token context): {msg}"
            )
        return RagError(f"the local model failed: {msg}")

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        loaded = self._loaded()
        msgs = [_to_llama_message(m) for m in messages]
        with loaded.lock:
            try:
                resp = loaded.llama.create_chat_completion(messages=msgs, stream=False, **self._params(stop, kwargs))
            except (ValueError, RuntimeError) as e:
                raise self._prompt_error(e) from e
        choice = resp["choices"][0]
        usage = resp.get("usage") or {}
        message = AIMessage(
            content=choice["message"].get("content") or "",
            response_metadata={"finish_reason": choice.get("finish_reason"), "model_name": self.model_name},
            usage_metadata={
                "input_tokens": usage.get("prompt_tokens", 0),
                "output_tokens": usage.get("completion_tokens", 0),
                "total_tokens": usage.get("total_tokens", 0),
            },
        )
        return ChatResult(
            generations=[ChatGeneration(message=message, generation_info={"finish_reason": choice.get("finish_reason")})],
            llm_output={"token_usage": usage, "model_name": self.model_name},
        )

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        loaded = self._loaded()
        msgs = [_to_llama_message(m) for m in messages]
        with loaded.lock:  # held until the stream is exhausted or closed
            try:
                stream = loaded.llama.create_chat_completion(messages=msgs, stream=True, **self._params(stop, kwargs))
                for part in stream:
                    choices = part.get("choices") or []
                    if not choices:
                        continue
                    choice = choices[0]
                    text = (choice.get("delta") or {}).get("content") or ""
                    finish = choice.get("finish_reason")
                    if not text and not finish:
                        continue
                    chunk = ChatGenerationChunk(
                        message=AIMessageChunk(
                            content=text,
                            response_metadata={"finish_reason": finish, "model_name": self.model_name} if finish else {},
                        ),
                        generation_info={"finish_reason": finish} if finish else None,
                    )
                    if run_manager and text:
                        run_manager.on_llm_new_token(text, chunk=chunk)
                    yield chunk
            except (ValueError, RuntimeError) as e:
                raise self._prompt_error(e) from e


def make_local_chat_model(settings: Settings) -> LlamaCppChat:
    """Load (once per process) the local GGUF and wrap it as a chat model."""
    _import_llama_cpp()  # the cheap failure first
    path = ensure_local_model(settings)
    threads = max(1, int(settings.threads))
    load_llama(path, threads, LOCAL_N_CTX)  # load now so errors show before the first question
    return LlamaCppChat(
        model_path=str(path),
        n_threads=threads,
        n_ctx=LOCAL_N_CTX,
        temperature=0.0,
        max_tokens=LOCAL_MAX_TOKENS,
        streaming=True,
        model_name=path.stem,
    )


# --------------------------------------------------------------------------------------------
# openai: any OpenAI-compatible server (vLLM, llama.cpp server, Ollama, LM Studio, OpenAI)
# --------------------------------------------------------------------------------------------


def _openai_config(settings: Settings) -> tuple[str, str]:
    base = (settings.openai_base_url or "").strip()
    model = (settings.openai_model or "").strip()
    missing = [name for name, v in (("RAG_OPENAI_BASE_URL", base), ("RAG_OPENAI_MODEL", model)) if not v]
    if missing:
        raise RagError(
            f"the openai generator needs an OpenAI-compatible server, but {' and '.join(missing)} "
            f"{'is' if len(missing) == 1 else 'are'} not set: {OPENAI_HINT}; or use --llm local / --llm extractive"
        )
    if not base.startswith(("http://", "https://")):
        raise RagError(f"RAG_OPENAI_BASE_URL must start with http:// or https:// (got {base!r})")
    return base.rstrip("/"), model


def make_openai_chat_model(settings: Settings) -> BaseChatModel:
    """`ChatOpenAI` on the Chat Completions API of `settings.openai_base_url` (no network here)."""
    import httpx  # noqa: PLC0415 - installed with openai
    from langchain_openai import ChatOpenAI  # noqa: PLC0415

    base, model = _openai_config(settings)
    return ChatOpenAI(
        base_url=base,
        model=model,
        api_key=settings.openai_api_key or "not-needed",
        temperature=0,
        timeout=httpx.Timeout(OPENAI_TIMEOUT_S, connect=OPENAI_CONNECT_TIMEOUT_S),
        max_retries=1,
        streaming=True,
        # Compatible servers speak /chat/completions; never let the model name route to /responses.
        use_responses_api=False,
    )


def check_openai_reachable(settings: Settings, timeout: float = REACHABLE_TIMEOUT_S) -> list[str]:
    """GET `{base}/models` quickly; RagError when the server cannot be reached or refuses the key.

    Returns the model ids the server lists (empty when it lists none or the endpoint is missing).
    """
    base, _model = _openai_config(settings)
    url = f"{base}/models"
    req = urllib.request.Request(url, headers={"Accept": "application/json"})
    if settings.openai_api_key:
        req.add_header("Authorization", f"Bearer {settings.openai_api_key}")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            body = resp.read(1 << 20)
    except urllib.error.HTTPError as e:
        if e.code in (401, 403):
            raise RagError(
                f"the OpenAI-compatible server at {base} refused the API key (HTTP {e.code}): set RAG_OPENAI_API_KEY"
            ) from e
        return []  # it answered: reachable, even if it has no /models
    except (urllib.error.URLError, OSError, ValueError) as e:
        reason = getattr(e, "reason", e)
        raise RagError(f"cannot reach the OpenAI-compatible server at {base}: {reason}") from e
    try:
        data = json.loads(body)
        return [str(m.get("id")) for m in data.get("data", []) if isinstance(m, dict)]
    except (ValueError, AttributeError):
        return []


@contextlib.contextmanager
def llm_errors(mode: str, settings: Settings) -> Iterator[None]:
    """Turn the errors a running chat model raises into RagError (a message, not a traceback)."""
    try:
        yield
    except RagError:
        raise
    except Exception as e:
        try:
            import openai  # noqa: PLC0415
        except ImportError:  # pragma: no cover
            openai = None
        base = settings.openai_base_url
        if openai is not None and isinstance(e, openai.APITimeoutError):
            raise RagError(f"the OpenAI-compatible server at {base} did not answer in time") from e
        if openai is not None and isinstance(e, openai.APIConnectionError):
            raise RagError(f"cannot reach the OpenAI-compatible server at {base}: {e}") from e
        if openai is not None and isinstance(e, openai.APIStatusError):
            raise RagError(
                f"the OpenAI-compatible server at {base} answered HTTP {e.status_code} "
                f"for model {settings.openai_model!r}: {e.message}"
            ) from e
        raise RagError(f"the {mode} generator failed: {type(e).__name__}: {e}") from e
