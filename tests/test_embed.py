"""The ONNX embedder against the sentence-transformers model it is exported from."""

from __future__ import annotations

import time

import numpy as np
import pytest

from rag.index.embed import MAX_SEQ_LENGTH, Embedder, export_onnx, model_dir, onnx_path
from rag.ingest.read import read_file
from rag.text import sentence_spans
from tests.conftest import SEEDS

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def seed_sentences() -> list[str]:
    out = []
    for f in sorted(SEEDS.glob("*.txt")):
        for a in read_file(f, 10_000_000):
            out += [a.text[s:e] for s, e in sentence_spans(a.text)]
    return out


@pytest.fixture(scope="module")
def reference():
    import torch
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(2)
    return SentenceTransformer(str(model_dir()), device="cpu", local_files_only=True)


def _ref(reference, texts):
    return reference.encode(texts, normalize_embeddings=True, convert_to_numpy=True, batch_size=16)


def test_fresh_export_gives_sentence_transformers_vectors(tmp_path, seed_sentences, reference):
    """A fresh export (not the cached graph) reproduces encode() for every seed sentence."""
    graph = export_onnx(onnx_path(tmp_path))
    assert graph.exists() and not list(tmp_path.glob("*.tmp"))
    ours = Embedder(graph, threads=2).embed(seed_sentences)
    ref = _ref(reference, seed_sentences)
    assert ours.shape == ref.shape == (len(seed_sentences), 384)
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    cos = (ours * ref).sum(1)
    assert cos.min() > 0.9999, f"worst sentence cosine {cos.min():.6f}"


def test_vector_does_not_depend_on_order_or_company(embedder, seed_sentences):
    texts = seed_sentences[:40]
    whole = embedder.embed(texts)
    alone = np.stack([embedder.embed([t])[0] for t in texts[:8]])
    reversed_ = embedder.embed(texts[::-1])[::-1]
    assert np.array_equal(whole[:8], alone)
    assert np.array_equal(whole, reversed_)
    assert embedder.embed([]).shape == (0, 384)


def test_long_text_is_truncated_like_sentence_transformers(embedder, reference, seed_sentences):
    long = " ".join(seed_sentences[:40])
    assert embedder.count_wordpieces(long) > MAX_SEQ_LENGTH  # counted before truncation
    assert embedder.count_wordpieces(long) == len(reference.tokenizer(long)["input_ids"])
    cos = float(embedder.embed([long])[0] @ _ref(reference, [long])[0])
    assert cos > 0.9999


def test_unreadable_graph_is_a_clear_error(tmp_path):
    from rag.errors import RagError

    bad = tmp_path / "broken.onnx"
    bad.write_bytes(b"not a graph")
    with pytest.raises(RagError, match="delete it to rebuild"):
        Embedder(bad)


class _Hashing:
    """A stand-in embedder: each text's vector is a function of that text alone."""

    dim = 4

    def __init__(self) -> None:
        self.calls = 0

    def embed(self, texts):
        self.calls += len(texts)
        time.sleep(0.0005)  # let other threads run, as the real model does
        return np.asarray([[len(t), ord(t[0]), ord(t[-1]), 1.0] for t in texts], dtype=np.float32)


def test_cached_embedder_is_bounded_and_returns_each_texts_own_vector():
    from rag.index.embed import CachedEmbedder

    inner = _Hashing()
    cache = CachedEmbedder(inner, size=3)
    texts = ["alpha", "beta", "gamma", "delta", "beta"]
    np.testing.assert_array_equal(cache.embed(texts), inner.embed(texts))
    assert len(cache._vecs) == 3
    before = inner.calls
    cache.embed(["delta", "beta"])  # the most recent three are remembered
    assert inner.calls == before


def test_cached_embedder_under_concurrent_eviction():
    import threading

    from rag.index.embed import CachedEmbedder

    inner = _Hashing()
    cache = CachedEmbedder(inner, size=4)
    words = [f"w{i}x" for i in range(30)]
    errors = []

    def work(k: int) -> None:
        try:
            for i in range(200):
                batch = [words[(k + i + j) % 30] for j in range(6)]
                np.testing.assert_array_equal(cache.embed(batch), _Hashing().embed(batch))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:1]
