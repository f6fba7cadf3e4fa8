"""Hybrid retrieval: dense (Chroma) plus lexical BM25 over the same chunks, fused by
reciprocal rank fusion, then a sentence rerank of the best few, with a cap per article
so one article cannot fill every slot.
"""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
import re
import threading
from dataclasses import dataclass

import numpy as np

from rag.errors import RagError
from rag.text import content_words, quoted_sentence_spans
from rag.types import Hit

RRF_K = 60
# Candidates taken from each list before fusion. 30 -> 50: on the 64 seed chunks the
# chunk that answers q006 is 1st by vector and 32nd by BM25, and a list cut at 30 lost
# its lexical vote (recall@5 with the rerank 0.939 -> 0.955).
POOL = 50
# The best RERANK fused chunks are also ranked by their sentence closest to the question,
# a third list in the fusion. A chunk's vector averages ~6 sentences, and the chunk
# holding the one that answers ("When was Trump's account reinstated after Musk took
# over?") can be 9th by vector and 6th by BM25 while that sentence is among the closest
# of all. On the gold set: recall@5 0.924 -> 0.955, MRR 0.717 -> 0.799
# (docs/performance.md). The cost is constant, whatever the size of the index: embedding
# ~50 sentences, which the evidence stage then finds in the embedding cache.
RERANK = 10
MIN_SENTENCE_CHARS = 15  # shorter pieces ("Why?") are not evidence


def evidence_spans(text: str) -> list[tuple[int, int]]:
    """The spans of a chunk's sentences that can be evidence. The rerank and the evidence
    stage both split chunks with this, so the evidence stage finds the rerank's vectors
    in the embedding cache.

    >>> t = "It began very late. Why? The servers failed under the load."
    >>> [t[a:b] for a, b in evidence_spans(t)]
    ['It began very late.', 'The servers failed under the load.']
    """
    return [(s, e) for s, e in quoted_sentence_spans(text) if e - s >= MIN_SENTENCE_CHARS]


def lexical_tokens(text: str) -> list[str]:
    """Content words with a light plural fold, so 'listeners' meets 'listener'.

    >>> lexical_tokens("The listeners heard 1.1 million")
    ['listener', 'heard', '1.1', 'million']
    """
    out = []
    for w in content_words(text):
        if len(w) > 4 and w.endswith("s") and not w.endswith("ss") and w.isalpha():
            w = w[:-1]
        out.append(w)
    return out


def iso_day(value: str | None, end: bool = False) -> str | None:
    """A filter date as YYYY-MM-DD; a year or a month stands for its first day, or its
    last with ``end``. Anything else is a user error, not a filter that matches nothing.

    >>> iso_day("2024-08-13"), iso_day("2024"), iso_day("2024-08", end=True)
    ('2024-08-13', '2024-01-01', '2024-08-31')
    >>> iso_day("last week")
    Traceback (most recent call last):
    rag.errors.RagError: not a date: 'last week' (use YYYY-MM-DD, YYYY-MM or YYYY)
    """
    if value is None or value == "":
        return None
    m = re.fullmatch(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?", value.strip())
    try:
        if not m:
            raise ValueError
        year, month, day = int(m.group(1)), int(m.group(2) or (12 if end else 1)), m.group(3)
        last = calendar.monthrange(year, month)[1]
        return dt.date(year, month, int(day) if day else (last if end else 1)).isoformat()
    except ValueError:
        raise RagError(f"not a date: {value!r} (use YYYY-MM-DD, YYYY-MM or YYYY)") from None


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


class LexicalIndex:
    """BM25 (bm25s) over every chunk, rebuilt when the index changes."""

    def __init__(self, got: dict) -> None:
        import bm25s

        self.ids: list[str] = list(got["ids"])
        self.docs: list[str] = list(got["documents"])
        self.metas: list[dict] = list(got["metadatas"])
        self.pos = {cid: i for i, cid in enumerate(self.ids)}
        self.bm25 = bm25s.BM25()
        if self.ids:
            corpus = [lexical_tokens(d) or ["_"] for d in self.docs]
            self.bm25.index(corpus, show_progress=False)

    def scores(self, query: str) -> np.ndarray:
        toks = [t for t in lexical_tokens(query) if t in self.bm25.vocab_dict] if self.ids else []
        if not toks:
            return np.zeros(len(self.ids), dtype=np.float32)
        return np.asarray(self.bm25.get_scores(toks), dtype=np.float32)


class Retriever:
    def __init__(self, store, embedder) -> None:
        from rag.embed import CachedEmbedder

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
        dense = self.store.query(qvec, k=pool * (3 if filters.active else 1), where=filters.chroma_where())
        fused: dict[str, float] = {}
        dense_rank: dict[str, int] = {}
        rank = 0
        for cid, meta in zip(dense["ids"][0], dense["metadatas"][0]):
            if not filters.accepts(meta):
                continue
            dense_rank[cid] = rank
            fused[cid] = fused.get(cid, 0.0) + 1.0 / (RRF_K + rank + 1)
            rank += 1
        scores = lex.scores(query)
        lex_rank: dict[str, int] = {}
        if scores.any():
            order = np.argsort(-scores)
            rank = 0
            for i in order:
                if scores[i] <= 0 or rank >= pool:
                    break
                if not filters.accepts(lex.metas[i]):
                    continue
                cid = lex.ids[i]
                lex_rank[cid] = rank
                fused[cid] = fused.get(cid, 0.0) + 1.0 / (RRF_K + rank + 1)
                rank += 1
        ranked = sorted(fused, key=lambda c: -fused[c])
        if rerank:
            self._rerank(qvec, [c for c in ranked if c in lex.pos][:rerank], lex, fused)
            ranked = sorted(fused, key=lambda c: -fused[c])
        chosen: list[str] = []
        per: dict[str, int] = {}
        for cid in ranked:  # first pass honours the per-article cap
            if cid not in lex.pos:
                continue
            aid = lex.metas[lex.pos[cid]].get("article_id", "")
            if per.get(aid, 0) >= max_per_article:
                continue
            per[aid] = per.get(aid, 0) + 1
            chosen.append(cid)
            if len(chosen) == k:
                break
        if len(chosen) < k:  # too few articles to honour the cap: fill by score
            chosen += [c for c in ranked if c not in chosen and c in lex.pos][: k - len(chosen)]
            chosen.sort(key=lambda c: -fused[c])
        hits = []
        for cid in chosen:
            i = lex.pos[cid]
            m = lex.metas[i]
            hits.append(
                Hit(
                    chunk_id=cid,
                    article_id=m.get("article_id", ""),
                    file=m.get("file", ""),
                    title=m.get("title", ""),
                    outlet=m.get("outlet", ""),
                    published=m.get("published", ""),
                    text=lex.docs[i],
                    start=int(m.get("start", 0)),
                    end=int(m.get("end", 0)),
                    score=round(fused[cid], 6),
                    dense_rank=dense_rank.get(cid),
                    lexical_rank=lex_rank.get(cid),
                )
            )
        return hits

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
