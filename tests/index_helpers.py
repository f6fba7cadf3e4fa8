"""Helpers for the index tests: a deterministic bag-of-words embedder (it isolates the
index logic from the model; the real embedder is tested elsewhere) and a check that the
vector index and the lexical index hold exactly the same articles and chunks."""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from pathlib import Path

import numpy as np

from rag.index.store import Store
from rag.settings import Settings

DIM = 384


class WordEmbedder:
    """Unit vectors of hashed words: texts sharing words are close (no model)."""

    name = "test-bag-of-words"
    dim = DIM

    def embed(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        for i, t in enumerate(texts):
            for w in re.findall(r"\w+", t.lower()):
                out[i, int(hashlib.md5(w.encode()).hexdigest()[:8], 16) % DIM] += 1.0
            out[i, 0] += 1e-3  # never the zero vector
        return out / np.linalg.norm(out, axis=1, keepdims=True)


def open_store(data: Path) -> Store:
    return Store(Settings(data_dir=data), WordEmbedder.name, DIM)


def index_counts(store: Store) -> tuple[set[str], Counter, dict[str, int]]:
    """(article ids with a record, chunks per article in Chroma, chunks per article in the lexical index)."""
    records = set(store.article_index())
    metas = store.chunks.get(include=["metadatas"])["metadatas"]
    return records, Counter(m["article_id"] for m in metas), store.lexical.article_counts()


def assert_consistent(store: Store, expected: dict[str, int] | None = None) -> None:
    """Every article with a record has exactly its chunks in BOTH indexes, and no index
    holds a chunk of an article without a record; ``expected``: article id -> chunks."""
    records, dense, lexical = index_counts(store)
    n_chunks = {aid: int(m["n_chunks"]) for aid, m in store.article_index().items()}
    assert set(dense) == records, f"Chroma orphans or missing chunks: {set(dense) ^ records}"
    assert set(lexical) == records, f"lexical orphans or missing chunks: {set(lexical) ^ records}"
    assert dict(dense) == n_chunks, "each article with exactly its chunks in Chroma"
    assert lexical == n_chunks, "each article with exactly its chunks in the lexical index"
    assert store.lexical.count() == store.n_chunks() == sum(n_chunks.values())
    if expected is not None:
        assert n_chunks == expected
