"""Helpers of `rag bench`: percentiles, progress lines, the machine, and servers started on loopback."""

from __future__ import annotations

import contextlib
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from rag.errors import RagError


# -- small helpers ------------------------------------------------------------------
def pct(values: list[float], p: float) -> float | None:
    """The ``p``-th percentile (linear interpolation), rounded; None for no values.

    >>> pct([1, 2, 3, 4], 50), pct([], 95)
    (2.5, None)
    """
    if not values:
        return None
    return round(float(np.percentile(np.asarray(values, dtype=float), p)), 2)


def size_label(n: int) -> str:
    """A short label for an index size.

    >>> size_label(1000), size_label(100000), size_label(250), size_label(1_000_000)
    ('1k', '100k', '250', '1m')
    """
    if n >= 1_000_000 and n % 1_000_000 == 0:
        return f"{n // 1_000_000}m"
    return f"{n // 1000}k" if n >= 1000 and n % 1000 == 0 else str(n)


_T0 = time.perf_counter()


def say(msg: str) -> None:
    print(f"[bench {time.perf_counter() - _T0:6.1f}s] {msg}", file=sys.stderr, flush=True)


def load_questions(path: Path, limit: int | None = None) -> list[str]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    qs = [str(r["question"]) for r in rows]
    return qs[:limit] if limit else qs


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_peak_mb(pid: int) -> float | None:
    """Peak resident set (VmHWM) of a live process, in MB (Linux)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def machine() -> dict:
    import chromadb
    import llama_cpp
    import onnxruntime

    from rag.index.embed import EMBEDDER_NAME

    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "python": platform.python_version(),
        "embedder": f"{EMBEDDER_NAME} in onnxruntime {onnxruntime.__version__}",
        "chromadb": chromadb.__version__,
        "llama_cpp_python": llama_cpp.__version__,
    }


# -- servers on loopback ----------------------------------------------------------
def _wait_http(url: str, proc: subprocess.Popen, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = log.read_text(errors="replace")[-400:] if log.exists() else ""
            raise RagError(f"server exited with code {proc.returncode} before answering {url}: {tail.strip()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise RagError(f"no answer from {url} within {timeout:.0f}s (log: {log})")


def _stop(proc: subprocess.Popen, timeout: float = 15.0) -> None:
    """Stop a server started by :func:`_serve` (its own process group)."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, 15)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, 9)
        proc.wait(5)


@contextlib.contextmanager
def _serve(cmd: list[str], ready_url: str, log: Path, timeout: float, env: dict | None = None):
    with open(log, "wb") as fh:
        proc = subprocess.Popen(
            cmd, stdout=fh, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True, env=env
        )
    try:
        _wait_http(ready_url, proc, log, timeout)
        yield proc
    finally:
        _stop(proc)


def _venv_tool(name: str) -> str:
    local = Path(sys.executable).parent / name
    found = str(local) if local.exists() else shutil.which(name)
    if not found:
        raise RagError(f"`{name}` not found next to {sys.executable} or on PATH")
    return found


@contextlib.contextmanager
def chroma_server(path: Path, timeout: float = 60.0) -> Iterator[tuple[str, subprocess.Popen]]:
    """``chroma run --path PATH`` on a free loopback port; yields (url, process)."""
    port = free_port()
    path.mkdir(parents=True, exist_ok=True)
    cmd = [_venv_tool("chroma"), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)]
    url = f"http://127.0.0.1:{port}"
    with _serve(cmd, url + "/api/v2/heartbeat", path.parent / f"chroma-{port}.log", timeout) as proc:
        yield url, proc


@contextlib.contextmanager
def llm_server(
    model: str | Path | None, workdir: Path, n_ctx: int = 2048, threads: int = 2, timeout: float = 120.0
) -> Iterator[tuple[str, subprocess.Popen]]:
    """``python -m llama_cpp.server`` with the GGUF (a known model's name, a path, or None
    for the default model) on a free loopback port; yields (url, process)."""
    from rag.llm.registry import resolve
    from rag.settings import Settings

    port = free_port()
    gguf = str(resolve(str(model) if model else None, Settings().models_dir)[0])
    cmd = [sys.executable, "-m", "llama_cpp.server", "--model", gguf, "--host", "127.0.0.1", "--port", str(port)]
    cmd += ["--n_ctx", str(n_ctx), "--n_threads", str(threads), "--n_threads_batch", str(threads)]
    url = f"http://127.0.0.1:{port}"
    workdir.mkdir(parents=True, exist_ok=True)
    with _serve(cmd, url + "/v1/models", workdir / f"llm-{port}.log", timeout) as proc:
        yield url, proc


@contextlib.contextmanager
def stage_guard(notes: list[str], name: str) -> Iterator[None]:
    try:
        yield
    except Exception as exc:  # noqa: BLE001 (reported, not hidden: in the notes and on stderr)
        msg = f"stage {name} failed: {exc.__class__.__name__}: {str(exc)[:300]}"
        say(msg)
        notes.append(msg)
