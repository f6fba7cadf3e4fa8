"""Smoke tests of `rag bench` on tiny sizes: the code paths and the report's shape,
never a timed pass/fail (timings on a shared machine say nothing)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import GOLD, SEEDS

from rag.api import Rag
from rag.app.cli import main
from rag.devtools.bench_answers import TimedLLM, bench_answers, bench_model_limit
from rag.devtools.bench_config import Config
from rag.devtools.bench_report import to_markdown, write_report
from rag.devtools.bench_scale import ScaledIndex, base_corpus, measure_retrieval
from rag.devtools.bench_stages import bench_embed
from rag.devtools.bench_util import load_questions
from rag.index.embed import EMBEDDER_NAME
from rag.index.store import Store
from rag.llm.backends import MockModel
from rag.settings import Settings

QUESTION = "How many people were listening when Trump claimed 60 million?"


@pytest.mark.slow
def test_scaled_index_is_real_text_with_distinct_ids(seeded_dir, tmp_path, embedder):
    base = base_corpus(Store(Settings(data_dir=seeded_dir), EMBEDDER_NAME, 384))
    n_base = sum(len(a.chunk_docs) for a in base)
    assert len(base) == 5 and n_base > 10
    store = Store(Settings(data_dir=tmp_path / "scale"), EMBEDDER_NAME, 384)
    idx = ScaledIndex(store, base)
    n = idx.grow_to(2 * n_base + 5)  # two whole copies and part of a third
    assert n == store.n_chunks() >= 2 * n_base + 5
    arts = store.article_index()
    assert sum(int(m["n_chunks"]) for m in arts.values()) == n, "every chunk has its article record"
    got = store.chunks.get(include=["documents", "metadatas", "embeddings"])
    assert len(set(got["ids"])) == n
    assert store.generation(), "the writes set the change token readers compare"
    docs = {d for a in base for d in a.chunk_docs}
    assert set(got["documents"]) <= docs, "copies are the real chunk text"
    # A copy's vector is its original's, nudged: close but not equal.
    orig = {d: v for a in base for d, v in zip(a.chunk_docs, a.chunk_vecs)}
    copies = [
        (np.asarray(v), orig[d]) for i, d, v in zip(got["ids"], got["documents"], got["embeddings"]) if "x0001" in i
    ]
    cos = [float(v @ o) for v, o in copies]
    assert copies and min(cos) > 0.98 and max(cos) < 0.99999

    r = measure_retrieval(store, embedder, [QUESTION, "Who interviewed Trump on X?"], reps=2)
    assert r["chunks"] == n and r["queries"] == 4
    assert 0 < r["p50"] <= r["p95"] <= r["max"]
    # The rerank embeds the sentences of the best chunks: slower than the lookup alone.
    assert r["p50"] < r["with_rerank"]["p50"] <= r["with_rerank"]["p95"]
    assert set(r["stages_p50_ms"]) >= {"signature", "embed_query", "dense_query", "bm25_scores"}
    from rag.index.retrieve import Retriever

    hits = Retriever(store, embedder).search(QUESTION, k=3)
    assert any("Only 1.1 million were listening" in h.text for h in hits), "search still works on the copies"


@pytest.mark.slow
def test_answer_figures_from_a_scripted_model(seeded_dir, tmp_path):
    scripted = MockModel(["Musk blamed a massive DDOS attack on X [1]. It delayed the start [2]."])
    rag = Rag(Settings(data_dir=seeded_dir), llm=TimedLLM(scripted))
    qs = load_questions(GOLD, limit=3)
    out = bench_answers(rag, qs, Config(corpus=[SEEDS]))
    assert out["questions"] == 3 and len(out["rows"]) == 3
    assert sum(out["modes"].values()) == 3
    ran = [r for r in out["rows"] if "prompt_tokens" in r]
    assert ran, "the scripted model ran at least once"
    for r in ran:
        assert r["prompt_tokens"] > 50 and r["gen_tokens"] > 0
        assert r["first_token_ms"] <= r["total_ms"] and r["retrieve_ms"] <= r["first_token_ms"]
    assert out["ttft_ms_p50"] is not None and out["prompt_tokens_p50"] > 50
    # The same questions again, each with the embedding cache emptied: retrieval then pays
    # for embedding the sentences its rerank compares (the first question's were all
    # cached by the warm-up, which asked it).
    cold = out["cold_cache"]
    assert cold["questions"] == 3 and cold["retrieve_ms_p50"] > 2 * out["rows"][0]["retrieve_ms"]

    report = {"answer": out, "retrieval_ms": {}, "notes": ["scripted model"], "machine": {}}
    write_report(report, tmp_path / "out")
    assert "embedding cache emptied" in (tmp_path / "out" / "report.md").read_text()
    saved = json.loads((tmp_path / "out" / "report.json").read_text())
    assert set(saved["answer"]) == {"ttft_ms_p50", "total_ms_p50", "total_ms_p95", "tokens_per_s", "prompt_tokens_p50"}
    assert saved["answer"]["prompt_tokens_p50"] == out["prompt_tokens_p50"]
    assert (tmp_path / "out" / "retrieval.png").stat().st_size > 1000
    assert "## Answers" in to_markdown(report) and "## Retrieval" not in to_markdown(report)


@pytest.mark.slow
@pytest.mark.model
def test_model_limit_reads_llama_counters():
    out = bench_model_limit(Settings(), SEEDS, reps=1, prompt_tokens=40, gen_tokens=4)
    assert out["prompt_tokens"] >= 40 and out["gen_tokens"] == 4
    assert set(out["by_threads"]) == {"1", "2"}
    assert all(v["prompt_tokens_per_s"] > 0 and v["tokens_per_s"] > 0 for v in out["by_threads"].values())


@pytest.mark.slow
def test_bench_command_end_to_end_on_a_tiny_corpus(tmp_path, capsys, embedder):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "one.txt").write_text((SEEDS / "000_5cbc33d537700a93.txt").read_text(encoding="utf-8")[:1500])
    out = tmp_path / "bench"
    skip = [a for s in ("embed", "answer", "limit", "brief", "serve", "server") for a in ("--skip", s)]
    code = main(["bench", "--quick", "--corpus", str(corpus), "--sizes", "60,150", "--out", str(out), "--json", *skip])
    assert code == 0
    got = json.loads(capsys.readouterr().out)
    assert set(got) >= {"ingest", "embed_sentences_per_s", "retrieval_ms", "answer", "model_limit"}
    assert set(got) >= {"brief_all_s", "peak_rss_mb"}
    assert got["ingest"]["articles_per_s"] > 0 and got["ingest"]["reingest_s"] >= 0
    assert set(got["retrieval_ms"]) == {"60", "150"}
    assert all(v["p50"] <= v["p95"] for v in got["retrieval_ms"].values())
    assert all(v["with_rerank"]["p50"] <= v["with_rerank"]["p95"] for v in got["retrieval_ms"].values())
    # The growth figures of the largest size, in the shape issue 17 asks for.
    assert got["retrieval_ms"]["150"]["after_ingest_ms"] > 0 and "after_ingest_ms" not in got["retrieval_ms"]["60"]
    during = got["during_ingest_ms"]
    assert set(during) == {"p50", "p95", "errors"} and during["errors"] == 0 and during["p50"] <= during["p95"]
    assert got["detail"]["ingest"]["articles"] == 6  # the tiny corpus and the five seeds
    assert got["answer"]["ttft_ms_p50"] is None  # skipped stages are null, not invented
    # The profiles stage: both models on the same questions, each with its raw limit.
    profiles = got["detail"]["profiles"]
    assert list(profiles) == ["smollm2", "qwen2.5-coder-1.5b"]
    for p in profiles.values():
        a = p["answers"]
        assert a["questions"] == 3 and sum(a["modes"].values()) == 3
        assert 0 < a["first_text_ms_p50"] <= a["total_ms_p95"] and p["model_limit"]["tokens_per_s"] > 0
    assert json.loads((out / "report.json").read_text())["retrieval_ms"] == got["retrieval_ms"]
    assert "## Ingestion" in (out / "report.md").read_text()

    emb = bench_embed(
        Settings(),
        Config(corpus=[corpus], seeds=SEEDS, embed_sentences=12, embed_reps=1),
        ["One chunk.", "Another chunk."],
    )
    assert emb["sentences"] == 12 and emb["sentences_per_s"] > 0 and emb["chunks"] == 2


def test_bad_bench_flags_are_one_line_errors(tmp_path, capsys):
    assert main(["bench", "--corpus", str(tmp_path / "missing"), "--out", str(tmp_path)]) == 1
    assert "corpus folder not found" in capsys.readouterr().err
    assert main(["bench", "--sizes", "1k,2k", "--corpus", str(tmp_path), "--out", str(tmp_path)]) == 1
    assert "--sizes" in capsys.readouterr().err
