"""Removing what an interrupted write left behind: chunks, in the vector index or the
lexical index, whose article record (the commit marker) is missing."""

from __future__ import annotations

import time
from collections import Counter

from rag.index.lexical_store import LexicalChunk
from rag.index.records import get_all

REPLAY_ID = "rag-replay-log"  # never a chunk id (those are '<article id>:<n>')


def remove_orphans(store, min_age_s: float) -> int:
    """Delete the chunks of ``store`` (a :class:`rag.index.store.Store`), in either index,
    whose article record is missing; return how many.

    Locally the file lock serialises writers, so every orphan is left by an interrupted
    run. On a server another client may be between writing its chunks and its article
    record, so the caller passes a grace period: only Chroma orphans older than
    ``min_age_s`` are removed. The lexical index is this machine's own and its writers
    are serialised by its lock, so its orphans go at once.
    """
    # After a SIGKILL, Chroma's vector segment on disk can be behind its log (deleted
    # vectors still found, new ones not) until the next write to the collection replays
    # the log; a delete of an id that never exists is such a write (measured: the
    # killed-run test below finds the stale vectors without it).
    store.chunks.delete(ids=[REPLAY_ID])
    index = store.article_index()
    committed = sum(int(m.get("n_chunks", 0)) for m in index.values())
    if store.lock_path is None:  # a Chroma server: other clients' articles too
        sync_lexical(store)
        lexical: dict[str, int] = {}
    else:
        lexical = _lexical_orphans(store.lexical, index, committed)
    dense = _dense_orphans(store, index, committed, min_age_s)
    # A chunk orphaned in both indexes counts once.
    return sum(max(dense.get(a, 0), lexical.get(a, 0)) for a in set(dense) | set(lexical))


def _dense_orphans(store, index: dict[str, dict], committed: int, min_age_s: float) -> Counter:
    """Remove the vector index's orphans; article id -> chunks removed."""
    if store.n_chunks() <= committed:
        return Counter()  # every vector belongs to a committed article: skip the scan
    cutoff = time.time() - min_age_s
    got = get_all(store.chunks, ["metadatas"])
    orphans = [
        (i, m.get("article_id", ""))
        for i, m in zip(got["ids"], got["metadatas"])
        if m.get("article_id") not in index and float(m.get("written_at", 0.0)) <= cutoff
    ]
    ids = [i for i, _ in orphans]
    for i in range(0, len(ids), 5000):
        store.chunks.delete(ids=ids[i : i + 5000])
    return Counter(a for _, a in orphans)


def _lexical_orphans(lexical, index: dict[str, dict], committed: int) -> dict[str, int]:
    """Remove the lexical index's chunks of articles without a record (one walk over its
    article ids, skipped when it holds no more chunks than the committed articles);
    article id -> chunks removed."""
    if lexical.count() <= committed:
        return {}
    gone = {aid: n for aid, n in lexical.article_counts().items() if aid not in index}
    lexical.delete(gone)
    return gone


def sync_lexical(store, batch: int = 200) -> int:
    """Bring the lexical index in step with the article records; returns the articles
    added or removed.

    On a Chroma server other clients write articles this machine's lexical index has
    never seen: their chunks are read from the server and indexed, and articles removed
    there are removed here. Locally the write order keeps the two in step and this
    finds nothing to do.
    """
    index = store.article_index()
    have = store.lexical.article_counts()
    gone = [a for a in have if a not in index]
    missing = [a for a in index if a not in have]
    store.lexical.delete(gone)
    for i in range(0, len(missing), batch):
        got = store.chunks.get(
            where={"article_id": {"$in": missing[i : i + batch]}}, include=["documents", "metadatas"]
        )
        store.lexical.add(
            [
                LexicalChunk(cid, m.get("article_id", ""), doc or "", m.get("outlet", ""), m.get("published", ""))
                for cid, doc, m in zip(got["ids"], got["documents"], got["metadatas"])
            ]
        )
    return len(gone) + len(missing)
