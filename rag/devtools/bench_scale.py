"""Retrieval at scale for `rag bench`: the real chunks copied (with perturbed vectors) to 1k-100k chunks."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from rag.devtools.bench_config import Config, profiled
from rag.devtools.bench_report import PERTURB_NORM
from rag.devtools.bench_util import load_questions, pct, say, size_label
from rag.errors import RagError
from rag.tuning import POOL


# -- retrieval at scale -------------------------------------------------------------
@dataclass
class BaseArticle:
    id: str
    text: str
    meta: dict
    vector: np.ndarray
    chunk_docs: list[str]
    chunk_metas: list[dict]
    chunk_vecs: np.ndarray


def base_corpus(store) -> list[BaseArticle]:
    """The distinct articles and chunks (with their vectors) of an ingested index."""
    arts = store.articles.get(include=["documents", "metadatas", "embeddings"])
    got = store.chunks.get(include=["documents", "metadatas", "embeddings"])
    by_art: dict[str, list[int]] = {}
    for i, m in enumerate(got["metadatas"]):
        by_art.setdefault(m["article_id"], []).append(i)
    out = []
    for aid, doc, meta, vec in zip(arts["ids"], arts["documents"], arts["metadatas"], arts["embeddings"]):
        idx = sorted(by_art.get(aid, []), key=lambda i: int(got["metadatas"][i].get("index", 0)))
        if not idx:
            continue
        out.append(
            BaseArticle(
                id=aid,
                text=doc,
                meta=dict(meta),
                vector=np.asarray(vec, dtype=np.float32),
                chunk_docs=[got["documents"][i] for i in idx],
                chunk_metas=[dict(got["metadatas"][i]) for i in idx],
                chunk_vecs=np.asarray([got["embeddings"][i] for i in idx], dtype=np.float32),
            )
        )
    out.sort(key=lambda a: a.id)
    return out


def perturb(vecs: np.ndarray, copy: int, salt: int = 0) -> np.ndarray:
    """Deterministic small perturbation of unit vectors (copy 0 is left as it is).

    >>> v = np.eye(3, dtype=np.float32)[:1]
    >>> bool(np.allclose(perturb(v, 0), v)), float(perturb(v, 5)[0] @ v[0]) > 0.99
    (True, True)
    """
    if copy == 0:
        return vecs
    rng = np.random.default_rng([copy, salt])
    noise = rng.standard_normal(vecs.shape).astype(np.float32) * (PERTURB_NORM / np.sqrt(vecs.shape[-1]))
    out = vecs + noise
    return out / np.linalg.norm(out, axis=-1, keepdims=True)


class ScaledIndex:
    """Grows a store to a chunk count by writing copies of the base corpus with distinct ids."""

    def __init__(self, store, base: list[BaseArticle]) -> None:
        if not base:
            raise RagError("no chunks to build the retrieval index from")
        self.store = store
        self.base = base
        self.n = store.n_chunks()
        self._next = 0  # running article number (copy * len(base) + position)
        self.write_s = 0.0
        try:
            self.batch = min(5000, int(store.client.get_max_batch_size()))
        except Exception:
            self.batch = 1000

    def grow_to(self, target: int) -> int:
        rows: dict[str, list] = {"ids": [], "documents": [], "metadatas": [], "embeddings": []}
        arts: dict[str, list] = {"ids": [], "documents": [], "metadatas": [], "embeddings": []}
        t0 = time.perf_counter()
        while self.n < target:
            copy, pos = divmod(self._next, len(self.base))
            a = self.base[pos]
            self._next += 1
            aid = f"{a.id}x{copy:04d}"
            vecs = perturb(a.chunk_vecs, copy, pos)
            for k, (doc, meta) in enumerate(zip(a.chunk_docs, a.chunk_metas)):
                rows["ids"].append(f"{aid}:{k}")
                rows["documents"].append(doc)
                rows["metadatas"].append({**meta, "article_id": aid, "file": f"copy{copy:04d}/{meta.get('file', '')}"})
                rows["embeddings"].append(vecs[k])
            arts["ids"].append(aid)
            arts["documents"].append(a.text)
            arts["metadatas"].append({**a.meta, "file": f"copy{copy:04d}/{a.meta.get('file', '')}", "source": ""})
            arts["embeddings"].append(perturb(a.vector[None, :], copy, pos)[0])
            self.n += len(a.chunk_docs)
            if len(rows["ids"]) >= self.batch or self.n >= target:
                self._flush(rows, arts)
        self.write_s += time.perf_counter() - t0
        return self.n

    def _flush(self, rows: dict, arts: dict) -> None:
        from rag.index.lexical_store import LexicalChunk

        # The ingest's order: Chroma chunks, the lexical commit, then the article records.
        lexical = [
            LexicalChunk(cid, m["article_id"], doc, m.get("outlet", ""), m.get("published", ""))
            for cid, doc, m in zip(rows["ids"], rows["documents"], rows["metadatas"])
        ]
        with self.store.write_lock():
            for col, data in ((self.store.chunks, rows), (self.store.articles, arts)):
                for i in range(0, len(data["ids"]), self.batch):
                    col.add(
                        ids=data["ids"][i : i + self.batch],
                        documents=data["documents"][i : i + self.batch],
                        metadatas=data["metadatas"][i : i + self.batch],
                        embeddings=np.asarray(data["embeddings"][i : i + self.batch], dtype=np.float32),
                    )
                if col is self.store.chunks:
                    self.store.lexical.add(lexical)
            self.store._bump()  # readers see the change, as after any ingest
        for data in (rows, arts):
            for v in data.values():
                v.clear()


def legacy_signature(store) -> str:
    """The lexical index's former change check: every article id, sorted and hashed."""
    import hashlib

    ids = sorted(store.articles.get(include=[])["ids"])
    return f"{store.n_chunks()}:" + hashlib.sha1("|".join(ids).encode()).hexdigest()


def time_calls(fn: Callable[[], object], n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def measure_retrieval(store, embedder, queries: list[str], reps: int, cfg: Config | None = None, tag: str = "") -> dict:
    """Latency of :meth:`Retriever.search` on ``store`` as it is, with a breakdown."""
    from rag.index.retrieve import Retriever

    retr = Retriever(store, embedder)
    t0 = time.perf_counter()
    with profiled(cfg, f"first-query-{tag}") if cfg and tag else contextlib.nullcontext():
        retr.search(queries[0], k=5, rerank=0)  # the first query after a change (nothing is rebuilt)
    cold_ms = (time.perf_counter() - t0) * 1000
    retr.search(queries[0], k=5)  # warm-up
    lat: list[float] = []
    full: list[float] = []
    with profiled(cfg, f"retrieval-{tag}") if cfg and tag else contextlib.nullcontext():
        for _ in range(reps):
            for q in queries:
                # The index lookup (what grows with the index), then the whole search with
                # the sentence rerank, its embedding cache emptied so nothing is reused.
                retr.embedder.clear()
                t0 = time.perf_counter()
                retr.search(q, k=5, rerank=0)
                lat.append((time.perf_counter() - t0) * 1000)
                retr.embedder.clear()
                t0 = time.perf_counter()
                retr.search(q, k=5)
                full.append((time.perf_counter() - t0) * 1000)
    # Where the time goes: the same stages the search runs, timed one by one.
    sig = time_calls(store.generation, min(20, len(queries)))
    legacy = time_calls(lambda: legacy_signature(store), min(10, len(queries)))
    qv = [embedder.embed([q])[0] for q in queries[:20]]
    emb = [time_calls(lambda q=q: embedder.embed([q]), 1)[0] for q in queries[:20]]
    dense = [time_calls(lambda v=v: store.query(v, k=30), 1)[0] for v in qv]
    bm25 = [time_calls(lambda q=q: store.lexical.search(q, k=POOL), 1)[0] for q in queries[:20]]
    return {
        "chunks": store.n_chunks(),
        "articles": store.n_articles(),
        "queries": len(lat),
        "p50": pct(lat, 50),
        "p95": pct(lat, 95),
        "max": round(max(lat), 2),
        "first_query_after_change_ms": round(cold_ms, 1),
        "with_rerank": {"p50": pct(full, 50), "p95": pct(full, 95)},
        "stages_p50_ms": {
            "signature": pct(sig, 50),
            "signature_full_listing": pct(legacy, 50),
            "embed_query": pct(emb, 50),
            "dense_query": pct(dense, 50),
            "bm25_scores": pct(bm25, 50),
        },
    }


def bench_retrieval(
    store, embedder, base: list[BaseArticle], sizes: list[int], cfg: Config, tag: str, at_largest=None
) -> dict:
    """Latency at each size; ``at_largest(store, idx, queries)`` runs at the largest size
    and returns (figures added to that size, ``"during_ingest_ms"``), as
    :func:`rag.devtools.bench_growth.bench_growth` does."""
    idx = ScaledIndex(store, base)
    queries = load_questions(cfg.gold, limit=cfg.queries) if cfg.gold else []
    out = {}
    for size in sizes:
        n = idx.grow_to(size)
        say(f"retrieval[{tag}]: {n} chunks written ({idx.write_s:.1f}s so far); timing {len(queries)} queries")
        prof = f"{tag}-{size_label(size)}" if size == max(sizes) else ""
        r = measure_retrieval(store, embedder, queries, cfg.query_reps, cfg, prof)
        r["build_write_s"] = round(idx.write_s, 1)
        out[size_label(size)] = r
        if at_largest is not None and size == max(sizes) and queries:
            growth, during = at_largest(store, idx, queries)
            r.update(growth)
            out["during_ingest_ms"] = during
        say(
            f"retrieval[{tag}] {size_label(size)}: p50 {r['p50']} ms, p95 {r['p95']} ms "
            f"(with the sentence rerank {r['with_rerank']['p50']} / {r['with_rerank']['p95']} ms), "
            f"stages {r['stages_p50_ms']}"
        )
    return out
