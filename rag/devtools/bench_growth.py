"""An index that grows while it serves, for `rag bench`: at the largest retrieval size,
the first query after a 100-article ingest (by this process, and by another one), query
latency while another process ingests, size on disk and resident memory.

The articles written are copies of the real ones with distinct ids (rag.devtools.bench_scale),
their vectors derived from the computed ones (a small deterministic perturbation), not
embedded again.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from rag.devtools.bench_util import pct, say
from rag.index.memory import rss_mb

INGEST_ARTICLES = 100
WRITER = (
    "from rag.devtools.bench_growth import writer_main; writer_main({data!r}, {base!r}, {articles}, {seconds}, {start})"
)


def writer_main(data: str, base_dir: str, articles: int, seconds: float, start: int) -> None:
    """Another process's ingest: ``articles`` copies per write (all of them at once when
    ``seconds`` is 0, else 32 at a time for ``seconds``), from article number ``start``."""
    from rag.devtools.bench_scale import ScaledIndex, base_corpus
    from rag.index.embed import DIM, EMBEDDER_NAME
    from rag.index.store import Store
    from rag.settings import Settings

    def store_at(path: str) -> Store:
        return Store(Settings(data_dir=Path(path)), EMBEDDER_NAME, DIM)

    base = base_corpus(store_at(base_dir))
    store = store_at(data)
    idx = ScaledIndex(store, base)
    idx._next = start
    per = sum(len(a.chunk_docs) for a in base) / len(base)
    t_end = time.monotonic() + seconds
    while True:
        n = articles if not seconds else 32
        idx.grow_to(idx.n + max(1, int(n * per)))
        if not seconds or time.monotonic() >= t_end:
            break
        time.sleep(0.2)
    store.close()


def _writer(data: Path, base_dir: Path, articles: int, seconds: float, start: int) -> subprocess.Popen:
    code = WRITER.format(data=str(data), base=str(base_dir), articles=articles, seconds=seconds, start=start)
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def _first_query_ms(retr, query: str) -> float:
    retr.embedder.clear()
    t0 = time.perf_counter()
    retr.search(query, k=5, rerank=0)
    return round((time.perf_counter() - t0) * 1000, 1)


def disk_mb(folder: Path) -> float:
    return round(sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) / 1e6, 1)


def bench_growth(store, embedder, idx, queries: list[str], base_dir: Path, during_s: float = 30.0) -> tuple[dict, dict]:
    """(figures for the largest size, ``during_ingest_ms``) on ``store`` as ``idx`` grew it."""
    from rag.index.retrieve import Retriever

    retr = Retriever(store, embedder)
    retr.search(queries[0], k=5, rerank=0)
    data = store.settings.data_dir
    out: dict = {"disk_mb": {"chroma": disk_mb(data / "chroma"), "lexical": disk_mb(data / "lexical")}}
    out["rss_mb"] = round(rss_mb(), 1)
    # This process ingests 100 articles (its vectors are in its own Chroma System).
    t0 = time.perf_counter()
    per = sum(len(a.chunk_docs) for a in idx.base) / len(idx.base)
    idx.grow_to(idx.n + int(INGEST_ARTICLES * per))
    out["ingest_100_s"] = round(time.perf_counter() - t0, 2)
    out["after_ingest_ms"] = _first_query_ms(retr, queries[1 % len(queries)])
    # Another process ingests 100 articles: this reader reopens its client first.
    w = _writer(data, base_dir, INGEST_ARTICLES, 0, 10_000_000)
    err = w.communicate(timeout=1800)[1]
    if w.returncode:
        raise RuntimeError(f"the writer process failed: {err[-500:]}")
    t0 = time.perf_counter()
    store.refresh(force=True)  # what the next query would do once the throttle allows it
    out["reopen_ms"] = round((time.perf_counter() - t0) * 1000, 1)
    out["after_foreign_ingest_ms"] = _first_query_ms(retr, queries[2 % len(queries)])
    during = _during_ingest(retr, queries, data, base_dir, during_s)
    say(f"growth: {out}; during ingest {during}")
    return out, during


def _during_ingest(retr, queries: list[str], data: Path, base_dir: Path, seconds: float) -> dict:
    """Query in a loop while another process ingests 32 articles at a time for ``seconds``."""
    w = _writer(data, base_dir, 32, seconds, 20_000_000)
    lat: list[float] = []
    errors: list[str] = []
    i = 0
    while w.poll() is None:
        q = queries[i % len(queries)]
        i += 1
        t0 = time.perf_counter()
        try:
            retr.search(q, k=5, rerank=0)
        except Exception as exc:  # counted and reported: the figure is the error count
            errors.append(f"{exc.__class__.__name__}: {str(exc)[:120]}")
        lat.append((time.perf_counter() - t0) * 1000)
    err = w.stderr.read() if w.stderr else ""
    return {
        "p50": pct(lat, 50),
        "p95": pct(lat, 95),
        "max": round(max(lat), 1) if lat else None,
        "queries": len(lat),
        "errors": len(errors),
        "error_samples": errors[:3],
        "writer_rc": w.returncode,
        "writer_stderr": err[-300:],
        "reopen_every_s": retr.store.refresh_every_s,
        "reopen_share": retr.store.reopen_share,
    }
