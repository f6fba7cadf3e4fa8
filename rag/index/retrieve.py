"""Hybrid retrieval: dense (Chroma) plus lexical BM25 (the tantivy index beside it) over
the same chunks, each with the filters applied inside the index, fused by reciprocal
rank fusion, then a sentence rerank of the best few, with a cap per article
so one article cannot fill every slot.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rag.index.lexical_store import day_number
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
        """The filters as a Chroma ``where`` on the chunks' ``outlet_key`` and ``day``
        (YYYYMMDD, 0 without a date), so the vector search ranks only matching chunks.

        >>> Filters(outlet="Port News", since="2024-05").chroma_where()
        {'$and': [{'outlet_key': 'port news'}, {'day': {'$gte': 20240501}}]}
        >>> Filters(until="2024").chroma_where()
        {'$and': [{'day': {'$gte': 1}}, {'day': {'$lte': 20241231}}]}
        """
        conds: list[dict] = []
        if self.outlet:
            conds.append({"outlet_key": self.outlet.strip().lower()})
        if self.since or self.until:
            conds.append({"day": {"$gte": day_number(self.since) or 1}})  # a chunk without a date fails
        if self.until:
            conds.append({"day": {"$lte": day_number(self.until)}})
        if not conds:
            return None
        return conds[0] if len(conds) == 1 else {"$and": conds}

    @property
    def active(self) -> bool:
        return bool(self.outlet or self.since or self.until)


# A chunk's text and metadata, by chunk id: what the hits are built from (None: a chunk
# Chroma does not hold, or one the filters refuse).
Info = dict[str, tuple[str, dict] | None]


class Retriever:
    def __init__(self, store, embedder) -> None:
        from rag.index.embed import CachedEmbedder

        self.store = store
        # Questions and sentences go through one cache, shared with the evidence stage.
        self.embedder = embedder if isinstance(embedder, CachedEmbedder) else CachedEmbedder(embedder)

    def vocabulary(self) -> Vocabulary:
        """The lexical index's words (``word in retriever.vocabulary()``)."""
        return Vocabulary(self.store.lexical)

    def warm(self) -> None:
        """Load what the first query would (the vectors, the lexical index's files)."""
        self.store.refresh()
        if self.store.lexical.count():
            probe = np.zeros(self.store.dim, dtype=np.float32)
            probe[0] = 1.0
            self.store.query(probe, k=1)
            self.store.lexical.search("news", k=1)

    def search(
        self,
        query: str,
        k: int = 5,
        filters: Filters | None = None,
        max_per_article: int = 2,
        pool: int = POOL,
        rerank: int = RERANK,
    ) -> list[Hit]:
        """Top ``k`` chunks for ``query``, best first (``rerank=0``: the index lookup alone).

        Both indexes vote by chunk id alone; a chunk's text and metadata are read from
        Chroma only for the few chunks the rerank and the answer need (reading all of a
        pool of 50 from each index was most of a lookup's time at 1M chunks). A voted
        chunk that Chroma does not hold (deleted, or not yet visible to this process) is
        passed over when read.
        """
        filters = filters or Filters()
        self.store.refresh()  # another process's write: load its vectors too
        if not self.store.lexical.count():
            return []
        qvec = self.embedder.embed([query])[0]
        fused: dict[str, float] = {}
        info: Info = {}
        dense_rank = self._dense_votes(qvec, filters, pool, fused, info)
        lex_rank = self._lexical_votes(query, filters, pool, fused)
        ranked = sorted(fused, key=lambda c: -fused[c])
        if rerank:
            self._rerank(qvec, self._readable(ranked, rerank, info, filters), info, fused)
            ranked = sorted(fused, key=lambda c: -fused[c])
        chosen = self._choose(ranked, fused, info, filters, k, max_per_article)
        return [_hit(info, cid, round(fused[cid], 6), dense_rank.get(cid), lex_rank.get(cid)) for cid in chosen]

    def _dense_votes(
        self, qvec: np.ndarray, filters: Filters, pool: int, fused: dict[str, float], info: Info
    ) -> dict[str, int]:
        """Add the vector search's reciprocal ranks to ``fused``; returns each chunk's rank
        (records that came with the search, as a narrow filter's exact ranking brings
        them, go into ``info``)."""
        dense = self.store.query(qvec, k=pool, where=filters.chroma_where(), records=False)
        docs = (dense.get("documents") or [None])[0]
        metas = (dense.get("metadatas") or [None])[0]
        ranks: dict[str, int] = {}
        for rank, cid in enumerate(dense["ids"][0]):
            if docs is not None and metas is not None:
                if metas[rank] is None or not filters.accepts(metas[rank]):
                    continue
                info[cid] = (docs[rank], metas[rank])
            ranks[cid] = len(ranks)
            fused[cid] = fused.get(cid, 0.0) + 1.0 / (RRF_K + ranks[cid] + 1)
        return ranks

    def _lexical_votes(self, query: str, filters: Filters, pool: int, fused: dict[str, float]) -> dict[str, int]:
        """Add BM25's reciprocal ranks (the best ``pool`` matching chunks, filtered inside
        the lexical index) to ``fused``; returns each chunk's rank."""
        found = self.store.lexical.search(
            query, k=pool, since=filters.since, until=filters.until, outlet=filters.outlet
        )
        ranks: dict[str, int] = {}
        for rank, h in enumerate(found):
            ranks[h.chunk_id] = rank
            fused[h.chunk_id] = fused.get(h.chunk_id, 0.0) + 1.0 / (RRF_K + rank + 1)
        return ranks

    def _read(self, ids: list[str], info: Info, filters: Filters) -> None:
        """Read the records of ``ids`` not yet in ``info`` from Chroma (one ``get``); a
        chunk Chroma does not hold, or one the filters refuse, is marked unreadable."""
        missing = [c for c in ids if c not in info]
        if not missing:
            return
        got = self.store.get_chunks(missing)
        for cid, doc, meta in zip(got["ids"], got.get("documents") or [], got.get("metadatas") or []):
            if meta is not None and filters.accepts(meta):
                info[cid] = (doc, meta)
        for cid in missing:
            info.setdefault(cid, None)

    def _readable(self, ranked: list[str], n: int, info: Info, filters: Filters) -> list[str]:
        """The first ``n`` chunks of ``ranked`` that Chroma holds, their records read."""
        out: list[str] = []
        start = 0
        while len(out) < n and start < len(ranked):
            page = ranked[start : start + n - len(out)]
            self._read(page, info, filters)
            out += [c for c in page if info.get(c) is not None]
            start += len(page)
        return out

    def _choose(
        self, ranked: list[str], fused: dict[str, float], info: Info, filters: Filters, k: int, cap: int
    ) -> list[str]:
        """:func:`_cap_per_article` over ``ranked``, reading records a page at a time: a
        prefix of ``ranked`` that yields ``k`` chunks in the first pass gives what the whole
        list would."""
        m = max(2 * k, 10)
        while True:
            prefix = ranked[:m]
            self._read(prefix, info, filters)
            readable = [c for c in prefix if info.get(c) is not None]
            first = _cap_per_article(readable, fused, info, k, cap, fill=False)
            if len(first) == k or m >= len(ranked):
                return _cap_per_article(readable, fused, info, k, cap)
            m *= 2

    def _rerank(self, qvec: np.ndarray, top: list[str], info: Info, fused: dict[str, float]) -> None:
        """Add to ``fused`` each of ``top``'s rank by its sentence closest to the query."""
        docs = [info[cid][0] for cid in top]
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


class Vocabulary:
    """Membership in the lexical index's words, asked of the index (no word list in memory)."""

    def __init__(self, lexical) -> None:
        self._lexical = lexical

    def __contains__(self, word: object) -> bool:
        return isinstance(word, str) and self._lexical.has_term(word)


def _cap_per_article(
    ranked: list[str], fused: dict[str, float], info: Info, k: int, cap: int, fill: bool = True
) -> list[str]:
    """The best ``k`` chunks with at most ``cap`` per article; filled by score when too
    few articles (unless ``fill`` is False).

    >>> info = {c: ("", {"article_id": c[0]}) for c in ["a1", "a2", "a3", "b1"]}
    >>> fused = {"a1": 4.0, "a2": 3.0, "a3": 2.0, "b1": 1.0}
    >>> _cap_per_article(["a1", "a2", "a3", "b1"], fused, info, 3, 2)
    ['a1', 'a2', 'b1']
    >>> _cap_per_article(["a1", "a2", "a3"], fused, info, 3, 2, fill=False), _cap_per_article(["a1", "a2", "a3"], fused, info, 3, 2)
    (['a1', 'a2'], ['a1', 'a2', 'a3'])
    """
    chosen: list[str] = []
    per: dict[str, int] = {}
    for cid in ranked:  # first pass honours the per-article cap
        if info.get(cid) is None:
            continue
        aid = info[cid][1].get("article_id", "")
        if per.get(aid, 0) >= cap:
            continue
        per[aid] = per.get(aid, 0) + 1
        chosen.append(cid)
        if len(chosen) == k:
            break
    if fill and len(chosen) < k:  # too few articles to honour the cap: fill by score
        chosen += [c for c in ranked if c not in chosen and info.get(c) is not None][: k - len(chosen)]
        chosen.sort(key=lambda c: -fused[c])
    return chosen


def _hit(info: Info, cid: str, score: float, dense_rank: int | None, lexical_rank: int | None) -> Hit:
    doc, m = info[cid]
    return Hit(
        chunk_id=cid,
        article_id=m.get("article_id", ""),
        file=m.get("file", ""),
        title=m.get("title", ""),
        outlet=m.get("outlet", ""),
        published=m.get("published", ""),
        text=doc,
        start=int(m.get("start", 0)),
        end=int(m.get("end", 0)),
        score=score,
        dense_rank=dense_rank,
        lexical_rank=lexical_rank,
    )
