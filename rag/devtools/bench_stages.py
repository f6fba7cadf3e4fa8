"""Stages of `rag bench`: ingestion, the embedder alone, briefings, and the memory of `rag serve`."""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import threading
import time
from pathlib import Path

import numpy as np

from rag.devtools.bench_config import Config, profiled
from rag.devtools.bench_util import _serve, free_port, rss_peak_mb, say
from rag.errors import RagError
from rag.settings import Settings


# -- ingestion ----------------------------------------------------------------------
def bench_ingest(settings: Settings, cfg: Config, work: Path, tag: str = "local") -> tuple[dict, Path | None]:
    """Cold ingest (fresh index each repetition) and re-ingest; returns (figures, last index folder)."""
    from rag.api import Rag

    paths = cfg.ingest_paths
    cold: list[float] = []
    cpu: list[float] = []
    last_rag = None
    for rep in range(cfg.ingest_reps):
        s = settings.with_(data_dir=work / f"ingest-{tag}-{rep}")
        rag = Rag(s)
        if s.chroma_url:
            rag.rebuild()
        _ = rag.embedder, rag.store  # load outside the timing: this is the work of ingesting
        c0, t0 = time.process_time(), time.perf_counter()
        with profiled(cfg, f"ingest-{tag}") if rep == 0 else contextlib.nullcontext():
            report = rag.ingest(paths)
        cold.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        n_art, n_chunks = len(report.added), report.chunks_added
        say(f"ingest[{tag}] cold {rep + 1}/{cfg.ingest_reps}: {n_art} articles, {n_chunks} chunks, {cold[-1]:.1f}s")
        last_rag = rag
    assert last_rag is not None
    re_s = []
    for _ in range(cfg.reingest_reps):
        t0 = time.perf_counter()
        report = last_rag.ingest(paths)
        re_s.append(time.perf_counter() - t0)
        if report.added or report.updated:
            raise RagError("re-ingest of an unchanged corpus did work; the benchmark cannot continue")
    cold_s = float(np.median(cold))
    out = {
        "articles": n_art,
        "chunks": n_chunks,
        "cold_s": round(cold_s, 2),
        "cold_s_runs": [round(x, 2) for x in cold],
        "cold_cpu_s": round(float(np.median(cpu)), 2),
        "articles_per_s": round(n_art / cold_s, 2),
        "chunks_per_s": round(n_chunks / cold_s, 2),
        "reingest_s": round(float(np.median(re_s)), 3),
        "reingest_s_runs": [round(x, 3) for x in re_s],
    }
    return out, (last_rag.settings.data_dir if not last_rag.settings.chroma_url else None)


# -- embedding ----------------------------------------------------------------------
def corpus_sentences(cfg: Config, n: int) -> list[str]:
    from rag.ingest.read import Skip, read_file
    from rag.text import sentence_spans

    out: list[str] = []
    for folder in cfg.ingest_paths:
        for f in sorted(folder.iterdir()):
            if f.suffix != ".txt":
                continue
            try:
                arts = read_file(f, 10_000_000)
            except Skip:
                continue
            for a in arts:
                out += [a.text[s:e] for s, e in sentence_spans(a.text) if e - s > 20]
            if len(out) >= n:
                return out[:n]
    return out


def bench_embed(settings: Settings, cfg: Config, chunk_texts: list[str]) -> dict:
    from rag.index.embed import get_embedder

    t0 = time.perf_counter()
    emb = get_embedder(settings.n_threads, settings.cache_dir)
    load_s = time.perf_counter() - t0
    sents = corpus_sentences(cfg, cfg.embed_sentences)
    emb.embed(sents[:16])  # warm-up
    rates, chunk_rates = [], []
    for _ in range(cfg.embed_reps):
        t0 = time.perf_counter()
        emb.embed(sents)
        rates.append(len(sents) / (time.perf_counter() - t0))
    sample = chunk_texts[: max(50, cfg.embed_sentences // 5)]
    for _ in range(cfg.embed_reps if sample else 0):
        t0 = time.perf_counter()
        emb.embed(sample)
        chunk_rates.append(len(sample) / (time.perf_counter() - t0))
    say(f"embed: {np.median(rates):.1f} sentences/s, {np.median(chunk_rates or [0]):.1f} chunks/s")
    return {
        "load_s": round(load_s, 2),
        "sentences": len(sents),
        "sentences_per_s": round(float(np.median(rates)), 1),
        "chunks": len(sample),
        "chunks_per_s": round(float(np.median(chunk_rates)), 1) if chunk_rates else None,
        "mean_sentence_wordpieces": round(float(np.mean([emb.count_wordpieces(s) for s in sents[:200]])), 1),
        "mean_chunk_wordpieces": (
            round(float(np.mean([emb.count_wordpieces(s) for s in sample[:100]])), 1) if sample else None
        ),
    }


# -- briefings and serve --------------------------------------------------------------
def bench_brief(settings: Settings, cfg: Config, ingest_dir: Path, work: Path) -> tuple[float | None, str]:
    """Briefings of every event of the corpus (the cold index without the seeds)."""
    from rag.api import Rag
    from rag.brief.build import build_briefings
    from rag.llm.backends import load_llm

    folder = work / "brief"
    shutil.copytree(ingest_dir, folder)
    rag = Rag(settings.with_(data_dir=folder), llm=lambda: load_llm(settings))
    seeds = {p.name for p in cfg.seeds.iterdir()} if cfg.seeds else set()
    for row in rag.sources():
        if row["file"] in seeds:
            rag.remove(row["article_id"])
    _ = rag.embedder, rag.llm  # loaded outside the timing, as in a running page
    t0 = time.perf_counter()
    got = build_briefings(rag, event_id=None, words=250)
    took = time.perf_counter() - t0
    say(f"briefings: {len(got)} events in {took:.1f}s")
    return round(
        took, 2
    ), f"build_briefings(words=250) over the {rag.store.n_articles()} corpus articles: {len(got)} events"


def bench_serve(data_dir: Path, question: str, work: Path, settings: Settings) -> tuple[float | None, str]:
    """Peak RSS of `rag serve` after one question through its /ask API."""
    env = {**os.environ, "RAG_DATA_DIR": str(data_dir)}
    env.pop("RAG_CHROMA_URL", None)
    if settings.model_path:
        env["RAG_MODEL"] = settings.model_path
    port = free_port()
    cmd = [sys.executable, "-m", "rag.app.cli", "serve", "--port", str(port), "--no-ingest"]
    note = "rag serve with the default models, after one question through its /ask API"
    with _serve(cmd, f"http://127.0.0.1:{port}/", work / f"serve-{port}.log", 600, env=env) as proc:
        try:
            answer_via_gradio(f"http://127.0.0.1:{port}/", question)
        except Exception as exc:  # the page's API is someone else's: report, do not fail the bench
            note = f"rag serve started but the /ask call failed ({exc.__class__.__name__}: {str(exc)[:120]})"
        peak = rss_peak_mb(proc.pid)
    say(f"serve: peak RSS {peak} MB ({note})")
    return peak, note


def answer_via_gradio(url: str, question: str, timeout: float = 300.0) -> object:
    from gradio_client import Client

    result: dict = {}

    def run() -> None:
        try:
            result["ok"] = Client(url, verbose=False).predict(question, api_name="/ask")
        except Exception as exc:
            result["err"] = exc

    th = threading.Thread(target=run, daemon=True)
    th.start()
    th.join(timeout)
    if "err" in result:
        raise result["err"]
    if "ok" not in result:
        raise TimeoutError(f"no answer within {timeout:.0f}s")
    return result["ok"]
