"""Hybrid retrieval: dense (Chroma) plus lexical BM25 over the same chunks, fused by
reciprocal rank fusion, then a sentence rerank of the best few, with a cap per article
so one article cannot fill every slot.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass

import numpy as np

from rag.index.lexical import LexicalIndex
from rag.text import evidence_spans, iso_day
from rag.tuning import POOL, RERANK, RRF_K
from rag.types import Hit


@dataclass
class Filters:
    outlet: str | None = None
    since: str | None = None  # ISO date, inclusive
    until: str | None = None

    def __post_init__(self) -> None:
        self.since = iso_day(self.since)
        self.until = iso_day(self.until, end=True)

    def accepts(self, meta: dict) -> bool:
        if self.outlet and meta.get("outlet", "").lower() != self.outlet.lower():
            return False
        pub = meta.get("published", "")
        if self.since and (not pub or pub < self.since):
            return False
        if self.until and (not pub or pub > self.until):
            return False
        return True

    def chroma_where(self) -> dict | None:
        # Chroma compares strings only by equality, so dates are filtered in Python.
        return {"outlet": self.outlet} if self.outlet else None

    @property
    def active(self) -> bool:
        return bool(self.outlet or self.since or self.until)


class Retriever:
    def __init__(self, store, embedder) -> None:
        from rag.index.embed import CachedEmbedder

        self.store = store
        # Questions and sentences go through one cache, shared with the evidence stage.
        self.embedder = embedder if isinstance(embedder, CachedEmbedder) else CachedEmbedder(embedder)
        self._lex: LexicalIndex | None = None
        self._sig: str | None = None
        self._lock = threading.Lock()

    def _signature(self) -> str:
        # The store's change token: one metadata read. Listing and hashing every article
        # id cost ~140 ms per query at 100k chunks (docs/performance.md).
        gen = self.store.generation()
        if gen:
            return "g:" + gen
        ids = sorted(self.store.articles.get(include=[])["ids"])  # an index from before the token
        return f"{self.store.n_chunks()}:" + hashlib.sha1("|".join(ids).encode()).hexdigest()

    def lexical(self) -> LexicalIndex:
        with self._lock:
            sig = self._signature()
            if self._lex is None or sig != self._sig:
                self.store.refresh()  # another process's write: load its vectors too
                self._lex = LexicalIndex(self.store.all_chunks())
                self._sig = sig
            return self._lex

    def search(
        self,
        query: str,
        k: int = 5,
        filters: Filters | None = None,
        max_per_article: int = 2,
        pool: int = POOL,
        rerank: int = RERANK,
    ) -> list[Hit]:
        """Top ``k`` chunks for ``query``, best first (``rerank=0``: the index lookup alone)."""
        filters = filters or Filters()
        lex = self.lexical()
        if not lex.ids:
            return []
        qvec = self.embedder.embed([query])[0]
        fused: dict[str, float] = {}
        dense_rank = self._dense_votes(qvec, filters, pool, fused)
        lex_rank = self._lexical_votes(query, lex, filters, pool, fused)
        ranked = sorted(fused, key=lambda c: -fused[c])
        if rerank:
            self._rerank(qvec, [c for c in ranked if c in lex.pos][:rerank], lex, fused)
            ranked = sorted(fused, key=lambda c: -fused[c])
        chosen = _cap_per_article(ranked, fused, lex, k, max_per_article)
        return [_hit(lex, cid, round(fused[cid], 6), dense_rank.get(cid), lex_rank.get(cid)) for cid in chosen]

    def _dense_votes(self, qvec: np.ndarray, filters: Filters, pool: int, fused: dict[str, float]) -> dict[str, int]:
        """Add the vector search's reciprocal ranks to ``fused``; returns each chunk's rank."""
        dense = self.store.query(qvec, k=pool * (3 if filters.active else 1), where=filters.chroma_where())
        ranks: dict[str, int] = {}
        rank = 0
        for cid, meta in zip(dense["ids"][0], dense["metadatas"][0]):
            if not filters.accepts(meta):
                continue
            ranks[cid] = rank
            fused[cid] = fused.get(cid, 0.0) + 1.0 / (RRF_K + rank + 1)
            rank += 1
        return ranks

    @staticmethod
    def _lexical_votes(
        query: str, lex: LexicalIndex, filters: Filters, pool: int, fused: dict[str, float]
    ) -> dict[str, int]:
        """Add BM25's reciprocal ranks (the best ``pool`` with a positive score) to ``fused``."""
        scores = lex.scores(query)
        ranks: dict[str, int] = {}
        if not scores.any():
            return ranks
        rank = 0
        for i in np.argsort(-scores):
            if scores[i] <= 0 or rank >= pool:
                break
            if not filters.accepts(lex.metas[i]):
                continue
            cid = lex.ids[i]
            ranks[cid] = rank
            fused[cid] = fused.get(cid, 0.0) + 1.0 / (RRF_K + rank + 1)
            rank += 1
        return ranks

    def _rerank(self, qvec: np.ndarray, top: list[str], lex: LexicalIndex, fused: dict[str, float]) -> None:
        """Add to ``fused`` each of ``top``'s rank by its sentence closest to the query."""
        docs = [lex.docs[lex.pos[cid]] for cid in top]
        sents = [[d[s:e] for s, e in evidence_spans(d)] for d in docs]
        flat = [s for ss in sents for s in ss]
        if not flat:
            return
        sims = self.embedder.embed(flat) @ qvec
        best, k = {}, 0
        for cid, ss in zip(top, sents):
            best[cid] = float(sims[k : k + len(ss)].max()) if ss else -1.0
            k += len(ss)
        for rank, cid in enumerate(sorted(top, key=lambda c: -best[c])):
            fused[cid] += 1.0 / (RRF_K + rank + 1)


def _cap_per_article(ranked: list[str], fused: dict[str, float], lex: LexicalIndex, k: int, cap: int) -> list[str]:
    """The best ``k`` chunks with at most ``cap`` per article; filled by score when too few articles."""
    chosen: list[str] = []
    per: dict[str, int] = {}
    for cid in ranked:  # first pass honours the per-article cap
        if cid not in lex.pos:
            continue
        aid = lex.metas[lex.pos[cid]].get("article_id", "")
        if per.get(aid, 0) >= cap:
            continue
        per[aid] = per.get(aid, 0) + 1
        chosen.append(cid)
        if len(chosen) == k:
            break
    if len(chosen) < k:  # too few articles to honour the cap: fill by score
        chosen += [c for c in ranked if c not in chosen and c in lex.pos][: k - len(chosen)]
        chosen.sort(key=lambda c: -fused[c])
    return chosen


def _hit(lex: LexicalIndex, cid: str, score: float, dense_rank: int | None, lexical_rank: int | None) -> Hit:
    i = lex.pos[cid]
    m = lex.metas[i]
    return Hit(
        chunk_id=cid,
        article_id=m.get("article_id", ""),
        file=m.get("file", ""),
        title=m.get("title", ""),
        outlet=m.get("outlet", ""),
        published=m.get("published", ""),
        text=lex.docs[i],
        start=int(m.get("start", 0)),
        end=int(m.get("end", 0)),
        score=score,
        dense_rank=dense_rank,
        lexical_rank=lexical_rank,
    )
