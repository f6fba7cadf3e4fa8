"""The retriever reads chunk records only for the chunks it returns (rag/index/retrieve.py),
on a scripted store: which records it asks Chroma for, that a voted chunk Chroma does not
hold is passed over, and that paging the reads gives what reading every candidate gives.
No model, no Chroma."""

from __future__ import annotations

import random

import numpy as np
import pytest

from rag.index.lexical_store import LexicalHit
from rag.index.retrieve import RRF_K, Retriever, _cap_per_article


class FakeEmbedder:
    dim = 4

    def embed(self, texts):
        return np.tile(np.array([1.0, 0.0, 0.0, 0.0], dtype=np.float32), (len(texts), 1))


class FakeLexical:
    def __init__(self, hits: list[str]) -> None:
        self.hits = hits

    def count(self) -> int:
        return len(self.hits)

    def search(self, query, k=50, since=None, until=None, outlet=None):
        return [LexicalHit(c, c.split(":")[0], 1.0 / (i + 1)) for i, c in enumerate(self.hits[:k])]


class FakeStore:
    """Chunks by id; the vector search returns ``dense`` in order, ids only."""

    def __init__(self, chunks: dict[str, str], dense: list[str], lexical: list[str]) -> None:
        self.records = {
            cid: (text, {"article_id": cid.split(":")[0], "start": 0, "end": len(text)}) for cid, text in chunks.items()
        }
        self.dense = dense
        self.lexical = FakeLexical(lexical)
        self.asked: list[str] = []

    def refresh(self) -> bool:
        return False

    def query(self, vector, k, where=None, records=True):
        assert records is False  # the retriever asks for ids alone
        return {"ids": [self.dense[:k]], "distances": [[0.1] * len(self.dense[:k])], "documents": None}

    def get_chunks(self, ids):
        self.asked += ids
        have = [c for c in ids if c in self.records]
        return {
            "ids": have,
            "documents": [self.records[c][0] for c in have],
            "metadatas": [self.records[c][1] for c in have],
        }


def _corpus(seed: int, articles: int = 30, per: int = 12) -> tuple[dict[str, str], list[str], list[str]]:
    rng = random.Random(seed)
    chunks = {f"a{a:02d}:{i}": f"Article {a} chunk {i} says something." for a in range(articles) for i in range(per)}
    ids = list(chunks)
    dense, lexical = rng.sample(ids, 50), rng.sample(ids, 50)
    if seed % 2:  # two articles' chunks lead both lists: the per-article cap must read past them
        lead = [f"a{a:02d}:{i}" for i in range(per) for a in (0, 1)]
        dense = lead + [c for c in dense if c not in lead][: 50 - len(lead)]
        lexical = lead + [c for c in lexical if c not in lead][: 50 - len(lead)]
    return chunks, dense, lexical


def _reference(store: FakeStore, k: int, cap: int) -> list[str]:
    """Fusion and the per-article cap computed with every candidate's record at hand."""
    fused: dict[str, float] = {}
    for order in (store.dense, store.lexical.hits):
        for rank, cid in enumerate(order[:50]):
            fused[cid] = fused.get(cid, 0.0) + 1.0 / (RRF_K + rank + 1)
    ranked = sorted(fused, key=lambda c: -fused[c])
    return _cap_per_article(ranked, fused, dict(store.records), k, cap)


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("k,cap", [(5, 2), (8, 1), (3, 3)])
def test_reading_a_page_at_a_time_gives_what_reading_all_gives(seed, k, cap):
    store = FakeStore(*_corpus(seed))
    got = Retriever(store, FakeEmbedder()).search("question", k=k, max_per_article=cap, rerank=0)
    assert [h.chunk_id for h in got] == _reference(store, k, cap)
    assert len(store.asked) < 100  # not every candidate of both pools
    assert all(h.text == store.records[h.chunk_id][0] for h in got)


def test_reads_only_the_records_the_answer_needs():
    store = FakeStore(*_corpus(0))
    hits = Retriever(store, FakeEmbedder()).search("question", k=5, rerank=0)
    assert len(hits) == 5
    assert len(store.asked) == 10  # one page of 2k: the 100 candidates' records are not read


def test_a_voted_chunk_chroma_does_not_hold_is_passed_over():
    """The two best-voted chunks (top of both lists) are gone from Chroma: a deleted
    vector, or a lexical commit this process's Chroma client does not see yet."""
    chunks, dense, lexical = _corpus(3)
    gone = ["a00:0", "a01:0"]
    assert dense[:2] == lexical[:2] == gone
    for cid in gone:
        del chunks[cid]
    store = FakeStore(chunks, dense, lexical)
    hits = Retriever(store, FakeEmbedder()).search("question", k=5, rerank=0)
    assert len(hits) == 5 and not {h.chunk_id for h in hits} & set(gone)
    assert set(gone) <= set(store.asked)
    assert [h.chunk_id for h in hits][:4] == ["a00:1", "a01:1", "a00:2", "a01:2"]  # the next, up to the cap


def test_the_rerank_reads_its_chunks_first():
    store = FakeStore(*_corpus(2))
    hits = Retriever(store, FakeEmbedder()).search("question", k=5, rerank=4)
    assert len(hits) == 5
    assert len(store.asked) <= 4 + 10
