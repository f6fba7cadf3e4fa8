"""How articles and chunks are laid out in Chroma records, and reading a collection whole."""

from __future__ import annotations

import time

import numpy as np

from rag.types import Article, Chunk

PAGE = 10_000  # Chroma's SQLite fails on reads of more than ~32k records with metadata at once
FIELDS = ("file", "title", "outlet", "published", "url", "author", "source")


def meta_article(a: Article, n_chunks: int) -> dict:
    return {
        "file": a.file,
        "title": a.title,
        "outlet": a.outlet,
        "published": a.published,
        "url": a.url,
        "author": a.author,
        "source": a.source,
        "n_chunks": n_chunks,
        "ingested_at": time.time(),
    }


def get_all(col, include: list[str]) -> dict:
    """Every record of a collection, read in pages (one huge read fails in Chroma)."""
    out: dict[str, list] = {"ids": [], **{k: [] for k in include}}
    offset = 0
    while True:
        got = col.get(include=include, limit=PAGE, offset=offset)
        for k in out:
            part = got.get(k)
            out[k].extend(part if part is not None else [])
        if len(got["ids"]) < PAGE:
            return out
        offset += PAGE


def article_from(aid: str, text: str, meta: dict) -> Article:
    return Article(id=aid, text=text or "", **{k: str(meta.get(k, "") or "") for k in FIELDS})


def source_rows(index: dict[str, dict]) -> list[dict]:
    """One row per article (``index``: article id -> record metadata), by file."""
    rows = [
        {
            "article_id": aid,
            "file": m.get("file", ""),
            "title": m.get("title", ""),
            "outlet": m.get("outlet", ""),
            "published": m.get("published", ""),
            "chunks": int(m.get("n_chunks", 0)),
        }
        for aid, m in index.items()
    ]
    return sorted(rows, key=lambda r: (r["file"], r["article_id"]))


def stored_vectors(col, chunks: list[Chunk], dim: int) -> np.ndarray | None:
    """The vectors ``col`` holds for exactly these chunks (same ids, same text), in order; None if
    any is missing. An article re-written for its metadata alone (an edited sidecar) needs no embedding."""
    if not chunks:
        return None
    got = col.get(ids=[c.id for c in chunks], include=["documents", "embeddings"])
    found = {i: (d, v) for i, d, v in zip(got["ids"], got["documents"], got["embeddings"])}
    if any(c.id not in found or found[c.id][0] != c.text for c in chunks):
        return None
    return np.asarray([found[c.id][1] for c in chunks], dtype=np.float32).reshape(len(chunks), dim)
