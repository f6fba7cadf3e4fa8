"""Validators for the `rag` command's options: each turns a bad value into a one-line
:class:`RagError` (``rag: error: ...``, exit code 1) before any work starts.

argparse calls them as ``type=`` functions; a :class:`RagError` is not one of the
exceptions argparse turns into a usage message, so it reaches :func:`rag.app.cli.main`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlparse

from rag.errors import RagError
from rag.text import iso_day

Check = Callable[[str], object]


def positive_int(option: str) -> Check:
    """An integer of at least 1.

    >>> positive_int("--k")("3")
    3
    >>> positive_int("--k")("0")
    Traceback (most recent call last):
    rag.errors.RagError: --k must be a positive whole number, got '0'
    """

    def check(raw: str) -> int:
        try:
            value = int(raw)
        except ValueError:
            value = 0
        if value < 1:
            raise RagError(f"{option} must be a positive whole number, got {raw!r}")
        return value

    return check


def port(raw: str) -> int:
    """A TCP port, 1-65535.

    >>> port("7860")
    7860
    >>> port("99999")
    Traceback (most recent call last):
    rag.errors.RagError: --port must be a port number from 1 to 65535, got '99999'
    """
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if not 1 <= value <= 65535:
        raise RagError(f"--port must be a port number from 1 to 65535, got {raw!r}")
    return value


def sizes(raw: str) -> list[int]:
    """Index sizes in chunks: positive numbers separated by commas.

    >>> sizes("1000, 10000")
    [1000, 10000]
    """
    try:
        out = [int(s) for s in raw.split(",") if s.strip()]
    except ValueError:
        out = []
    if not out or min(out) < 1:
        raise RagError(f"--sizes takes positive numbers separated by commas, got {raw!r}")
    return out


def url(option: str) -> Check:
    """An http(s) URL with a host.

    >>> url("--llm-url")("http://127.0.0.1:8000")
    'http://127.0.0.1:8000'
    >>> url("--llm-url")("ftp://example")
    Traceback (most recent call last):
    rag.errors.RagError: --llm-url 'ftp://example' must start with http:// or https:// (like http://127.0.0.1:8000)
    """

    def check(raw: str) -> str:
        try:
            parsed = urlparse(raw)
            _ = parsed.port  # a port that is not a number fails here
        except ValueError:
            parsed = None
        if parsed is None or parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise RagError(f"{option} {raw!r} must start with http:// or https:// (like http://127.0.0.1:8000)")
        return raw

    return check


def date(option: str) -> Check:
    """A filter date (YYYY-MM-DD, YYYY-MM or YYYY); the value is kept as given."""

    def check(raw: str) -> str:
        iso_day(raw)  # raises "not a date: ..." for anything else
        return raw

    return check


def existing_file(option: str, what: str = "file") -> Check:
    def check(raw: str) -> str:
        if not Path(raw).expanduser().is_file():
            raise RagError(f"{what} not found: {raw} ({option})")
        return raw

    return check


def model_choice(raw: str) -> str:
    """``--model``: a known model's name or an existing file (checked to be a GGUF when loaded).

    >>> model_choice("smollm2")
    'smollm2'
    >>> model_choice("gpt-9")
    Traceback (most recent call last):
    rag.errors.RagError: unknown model 'gpt-9': known models are qwen2.5-coder-1.5b, smollm2 (or give the path of a .gguf file)
    """
    from rag.llm.registry import get, resolve_spec

    value = raw.strip()
    if get(value) is not None or Path(value).expanduser().is_file():
        return value
    if "/" not in value and not value.lower().endswith(".gguf"):
        resolve_spec(value)  # raises: unknown name, listing the known ones
    raise RagError(f"model file not found: {raw} (--model)")


def model_name(raw: str) -> str:
    """A known model's name.

    >>> model_name("SmolLM2")
    'smollm2'
    """
    from rag.llm.registry import resolve_spec

    return resolve_spec(raw).name


def existing_dir(option: str, what: str = "folder") -> Check:
    def check(raw: str) -> str:
        if not Path(raw).expanduser().is_dir():
            raise RagError(f"{what} not found: {raw} (pass {option} DIR)")
        return raw

    return check


def data_dir(raw: str) -> str:
    """A folder for the index: anything but an existing file or an empty string."""
    if not raw.strip():
        raise RagError("--data-dir is empty")
    if Path(raw).expanduser().is_file():
        raise RagError(f"--data-dir {raw} is a file, not a folder")
    return raw


def out_file(raw: str) -> str:
    """A file to write whose folder exists."""
    if not Path(raw).expanduser().parent.is_dir():
        raise RagError(f"--out {raw}: the folder does not exist")
    return raw


def not_empty(option: str) -> Check:
    def check(raw: str) -> str:
        if not raw.strip():
            raise RagError(f"{option} is empty")
        return raw

    return check


def auth(raw: str) -> str:
    """``user:password``."""
    user, sep, password = raw.partition(":")
    if not sep or not user or not password:
        raise RagError("--auth (or RAG_AUTH) must look like user:password")
    return raw


def source(command: str) -> Check:
    """An input of `rag ingest`/`extract`/`watch`: an http(s) URL, or a path that exists.

    >>> source("extract")("https://news.example/feed")
    'https://news.example/feed'
    >>> source("extract")("ftp://news.example/feed")
    Traceback (most recent call last):
    rag.errors.RagError: rag extract: only http:// and https:// URLs are fetched, not 'ftp://news.example/feed'
    """

    def check(raw: str) -> str:
        if "://" in raw:
            parsed = urlparse(raw)
            if parsed.scheme.lower() not in ("http", "https") or not parsed.hostname:
                raise RagError(f"rag {command}: only http:// and https:// URLs are fetched, not {raw!r}")
            return raw
        if not raw.strip():
            raise RagError(f"rag {command}: an input is empty")
        if not Path(raw).expanduser().exists():
            raise RagError(f"no such file or folder: {raw}")
        return raw

    return check


def every(raw: str) -> float:
    """``--every``: an interval such as 30s, 15m or 2h, in seconds.

    >>> every("15m")
    900.0
    """
    from rag.ingest.watch import parse_every

    return parse_every(raw)
