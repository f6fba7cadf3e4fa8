"""`rag bench`: measure every stage on this machine with the default models.

Stages (each in a temporary folder; the user's index is never touched):

- ingest: a cold index of the corpus (the 100 MultiLing articles plus the seeds),
  then a re-ingest of the unchanged corpus;
- embed: the embedder alone (sentences/s, and chunks/s for comparison with ingest);
- retrieval: latency at about 1k, 10k and 100k chunks. The big indexes are built
  from the real chunks of the cold index, repeated with distinct ids; each distinct
  chunk is embedded once and its copies reuse the vector plus a tiny deterministic
  perturbation (Gaussian noise of norm ~0.1, renormalised: cosine ~0.995 to the
  original) so no two vectors are identical;
- answers: the seed gold questions through ``Rag.ask_stream`` (times from the
  pipeline, token counts from llama.cpp's own counters), and the raw model on a
  fixed prompt as the limit;
- briefings (``rag.brief.build.build_briefings``, when that module exists);
- the peak resident memory of ``rag serve`` answering one question;
- the same figures through a Chroma server (``chroma run``) and, for a few
  answers, through an OpenAI-compatible server (``python -m llama_cpp.server``),
  both started here on loopback and stopped afterwards.

Every figure is a median (and 95th percentile) over several repetitions. The
machine is shared: the load average is recorded before and after.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from rag.devtools.bench_answers import TimedLLM, bench_answers, bench_model_limit
from rag.devtools.bench_config import Config
from rag.devtools.bench_growth import bench_growth
from rag.devtools.bench_profiles import bench_profiles
from rag.devtools.bench_report import PERTURB_NORM, check_targets, write_report
from rag.devtools.bench_scale import base_corpus, bench_retrieval
from rag.devtools.bench_stages import bench_brief, bench_embed, bench_ingest, bench_serve
from rag.devtools.bench_util import chroma_server, llm_server, load_questions, machine, rss_peak_mb, stage_guard
from rag.llm import registry
from rag.settings import Settings


# -- the whole run --------------------------------------------------------------------
def run(settings: Settings, cfg: Config, work: Path, checkpoint: Callable[[dict], None] | None = None) -> dict:
    from rag.api import Rag
    from rag.index.embed import get_embedder
    from rag.index.store import Store
    from rag.llm.backends import load_llm

    report: dict = {
        "ingest": None,
        "embed_sentences_per_s": None,
        "retrieval_ms": {},
        "answer": None,
        "model_limit": None,
        "brief_all_s": None,
        "peak_rss_mb": None,
        "notes": [],
    }
    notes: list[str] = report["notes"]
    local = dataclasses.replace(settings, chroma_url=None)
    if settings.chroma_url:
        notes.append("--chroma-url is ignored: the bench starts its own Chroma server on loopback")
    report["machine"] = machine()
    spec = None if settings.llm_url else registry.get(settings.model_path or registry.DEFAULT_MODEL)
    report["model"] = spec.name if spec else settings.model_path
    report["profile"] = "reader" if spec and spec.reader else "fast"

    def save(rep: dict) -> None:  # a partial report survives an interrupted run
        if checkpoint is not None:
            checkpoint({**rep, "targets": check_targets(rep), "partial": True})

    report["load_before"] = [round(x, 2) for x in os.getloadavg()]
    t_start = time.perf_counter()
    embedder = get_embedder(local.n_threads, local.cache_dir)

    ingest_dir = None
    if "ingest" not in cfg.skip:
        report["ingest"], ingest_dir = bench_ingest(local, cfg, work)
        save(report)
    if ingest_dir is None:  # still needed: the chunks the other stages reuse
        ingest_dir = work / "ingest-base"
        Rag(local.with_(data_dir=ingest_dir)).ingest(cfg.ingest_paths)
    base = base_corpus(Store(local.with_(data_dir=ingest_dir), embedder.name, embedder.dim))
    if "embed" not in cfg.skip:
        report["embed"] = bench_embed(local, cfg, [d for a in base for d in a.chunk_docs])
        report["embed_sentences_per_s"] = report["embed"]["sentences_per_s"]
        save(report)

    if "retrieval" not in cfg.skip:
        store = Store(local.with_(data_dir=work / "scale-local"), embedder.name, embedder.dim)

        def growth(store, idx, queries):  # at the largest size: an index that grows while it serves
            return bench_growth(store, embedder, idx, queries, ingest_dir, cfg.during_ingest_s)

        report["retrieval_ms"] = bench_retrieval(store, embedder, base, cfg.sizes, cfg, "local", growth)
        report["during_ingest_ms"] = report["retrieval_ms"].pop("during_ingest_ms", None)
        save(report)
        del store

    seeded = work / "seeded"
    seeded_rag = None
    if {"answer", "limit", "serve"} - cfg.skip and cfg.seeds:
        seeded_rag = Rag(local.with_(data_dir=seeded), llm=lambda: TimedLLM(load_llm(local)))
        seeded_rag.ingest([cfg.seeds])
    questions = load_questions(cfg.gold, limit=cfg.questions) if cfg.gold else []
    if "answer" not in cfg.skip and seeded_rag is not None:
        report["answer"] = bench_answers(seeded_rag, questions, cfg)
        save(report)
    if "limit" not in cfg.skip and not local.llm_url and cfg.seeds:
        report["model_limit"] = bench_model_limit(local, cfg.seeds, cfg.limit_reps)
        save(report)
    if "profiles" not in cfg.skip and not local.llm_url and cfg.seeds and questions:
        seeded_rag = None  # free this process's model before the profiles load theirs
        if not seeded.exists():
            Rag(local.with_(data_dir=seeded)).ingest([cfg.seeds])
        report["profiles"] = bench_profiles(local, cfg, seeded, questions[: cfg.profile_questions])
        save(report)
    # The last stages lean on other modules (briefings, the page) and on servers: a failure
    # there is reported in the notes and the figures already measured are kept.
    if "brief" not in cfg.skip:
        with stage_guard(notes, "brief"):
            report["brief_all_s"], note = bench_brief(local, cfg, ingest_dir, work)
            notes.append(note)
            save(report)
    if "serve" not in cfg.skip:
        seeded_rag = None  # free this process's model before starting another
        with stage_guard(notes, "serve"):
            report["peak_rss_mb"], note = bench_serve(seeded, questions[0], work, local)
            notes.append(note)
            save(report)
    if "server" not in cfg.skip:
        with stage_guard(notes, "server"):
            report["server"] = bench_servers(local, cfg, work, embedder, base, questions)
            save(report)
    report["load_after"] = [round(x, 2) for x in os.getloadavg()]
    report["bench_s"] = round(time.perf_counter() - t_start, 1)
    report["config"] = {
        "corpus": [str(p) for p in cfg.corpus],
        "sizes": cfg.sizes,
        "server_sizes": cfg.server_sizes,
        "ingest_reps": cfg.ingest_reps,
        "reingest_reps": cfg.reingest_reps,
        "query_reps": cfg.query_reps,
        "queries": cfg.queries,
        "questions": len(questions),
        "perturbation_norm": PERTURB_NORM,
    }
    report["targets"] = check_targets(report)
    return report


def bench_servers(local: Settings, cfg: Config, work: Path, embedder, base, questions: list[str]) -> dict:
    """Ingest and retrieval through `chroma run`, answers through `llama_cpp.server`."""
    from rag.api import Rag
    from rag.index.store import Store
    from rag.llm.backends import OpenAIServerLLM

    out: dict = {}
    with chroma_server(work / "chroma-server" / "data") as (url, proc):
        remote = local.with_(chroma_url=url)
        scfg = Config(**{**cfg.__dict__, "ingest_reps": max(1, cfg.ingest_reps - 1)})
        out["ingest"], _ = bench_ingest(remote, scfg, work, "server")
        store = Store(remote, embedder.name, embedder.dim)
        store.rebuild()
        out["retrieval_ms"] = bench_retrieval(store, embedder, base, cfg.server_sizes, cfg, "server")
        out["chroma_server_peak_rss_mb"] = rss_peak_mb(proc.pid)
    if not local.llm_url and "answer" not in cfg.skip:
        with llm_server(local.model_path and Path(local.model_path), work / "llm-server", local.n_ctx) as (url, proc):
            rag = Rag(
                local.with_(data_dir=work / "seeded", llm_url=url),
                llm=lambda: TimedLLM(OpenAIServerLLM(url, n_ctx=local.n_ctx)),
            )
            out["answer"] = bench_answers(rag, questions[: cfg.server_questions], cfg, "llm-server", cold=0)
            out["answer"].pop("rows")
            out["llm_server_peak_rss_mb"] = rss_peak_mb(proc.pid)
    return out


def _terminate(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def run_bench(settings: Settings, cfg: Config, out: Path | None) -> dict:
    """``rag bench``: run every stage; write report.json/report.md/retrieval.png to ``out`` (as it goes)."""
    # SIGTERM unwinds like Ctrl+C, so the servers started here are stopped and the
    # temporary folder is removed.
    try:
        previous = signal.signal(signal.SIGTERM, _terminate)
    except ValueError:  # not the main thread
        previous = None
    checkpoint = (lambda r: write_report(r, out)) if out is not None else None
    try:
        with tempfile.TemporaryDirectory(prefix="rag-bench-") as tmp:
            report = run(settings, cfg, Path(tmp), checkpoint=checkpoint)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    if out is not None:
        write_report(report, out)
    return report
