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
- briefings (``rag.brief.build_briefings``, when that module exists);
- the peak resident memory of ``rag serve`` answering one question;
- the same figures through a Chroma server (``chroma run``) and, for a few
  answers, through an OpenAI-compatible server (``python -m llama_cpp.server``),
  both started here on loopback and stopped afterwards.

Every figure is a median (and 95th percentile) over several repetitions. The
machine is shared: the load average is recorded before and after.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rag.bench_report import PERTURB_NORM, check_targets, summary, to_markdown, write_report
from rag.errors import RagError
from rag.settings import PROJECT_ROOT, Settings

SEEDS = PROJECT_ROOT / "seeds"
GOLD = PROJECT_ROOT / "evals" / "gold.jsonl"
MULTILING = PROJECT_ROOT.parent / "shared" / "corpora" / "multiling2011" / "articles"
DEFAULT_OUT = PROJECT_ROOT / "evals" / "bench"
SECTIONS = ("ingest", "embed", "retrieval", "answer", "limit", "brief", "serve", "server")


# -- small helpers ------------------------------------------------------------------
def pct(values: list[float], p: float) -> float | None:
    """The ``p``-th percentile (linear interpolation), rounded; None for no values.

    >>> pct([1, 2, 3, 4], 50), pct([], 95)
    (2.5, None)
    """
    if not values:
        return None
    return round(float(np.percentile(np.asarray(values, dtype=float), p)), 2)


def size_label(n: int) -> str:
    """A short label for an index size.

    >>> size_label(1000), size_label(100000), size_label(250)
    ('1k', '100k', '250')
    """
    return f"{n // 1000}k" if n >= 1000 and n % 1000 == 0 else str(n)


_T0 = time.perf_counter()


def say(msg: str) -> None:
    print(f"[bench {time.perf_counter() - _T0:6.1f}s] {msg}", file=sys.stderr, flush=True)


def load_questions(path: Path = GOLD, limit: int | None = None) -> list[str]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    qs = [str(r["question"]) for r in rows]
    return qs[:limit] if limit else qs


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_peak_mb(pid: int) -> float | None:
    """Peak resident set (VmHWM) of a live process, in MB (Linux)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def machine() -> dict:
    import chromadb
    import llama_cpp
    import onnxruntime

    from rag.embed import EMBEDDER_NAME

    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "python": platform.python_version(),
        "embedder": f"{EMBEDDER_NAME} in onnxruntime {onnxruntime.__version__}",
        "chromadb": chromadb.__version__,
        "llama_cpp_python": llama_cpp.__version__,
    }


# -- servers on loopback ----------------------------------------------------------
def _wait_http(url: str, proc: subprocess.Popen, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = log.read_text(errors="replace")[-400:] if log.exists() else ""
            raise RagError(f"server exited with code {proc.returncode} before answering {url}: {tail.strip()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise RagError(f"no answer from {url} within {timeout:.0f}s (log: {log})")


def _stop(proc: subprocess.Popen, timeout: float = 15.0) -> None:
    """Stop a server started by :func:`_serve` (its own process group)."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, 15)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, 9)
        proc.wait(5)


@contextlib.contextmanager
def _serve(cmd: list[str], ready_url: str, log: Path, timeout: float, env: dict | None = None):
    with open(log, "wb") as fh:
        proc = subprocess.Popen(
            cmd, stdout=fh, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True, env=env
        )
    try:
        _wait_http(ready_url, proc, log, timeout)
        yield proc
    finally:
        _stop(proc)


def _venv_tool(name: str) -> str:
    local = Path(sys.executable).parent / name
    found = str(local) if local.exists() else shutil.which(name)
    if not found:
        raise RagError(f"`{name}` not found next to {sys.executable} or on PATH")
    return found


@contextlib.contextmanager
def chroma_server(path: Path, timeout: float = 60.0) -> Iterator[tuple[str, subprocess.Popen]]:
    """``chroma run --path PATH`` on a free loopback port; yields (url, process)."""
    port = free_port()
    path.mkdir(parents=True, exist_ok=True)
    cmd = [_venv_tool("chroma"), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)]
    url = f"http://127.0.0.1:{port}"
    with _serve(cmd, url + "/api/v2/heartbeat", path.parent / f"chroma-{port}.log", timeout) as proc:
        yield url, proc


@contextlib.contextmanager
def llm_server(
    model: Path | None, workdir: Path, n_ctx: int = 2048, threads: int = 2, timeout: float = 120.0
) -> Iterator[tuple[str, subprocess.Popen]]:
    """``python -m llama_cpp.server`` with the GGUF on a free loopback port; yields (url, process)."""
    from rag.llm import bundled_model_path

    port = free_port()
    gguf = str(model or bundled_model_path())
    cmd = [sys.executable, "-m", "llama_cpp.server", "--model", gguf, "--host", "127.0.0.1", "--port", str(port)]
    cmd += ["--n_ctx", str(n_ctx), "--n_threads", str(threads), "--n_threads_batch", str(threads)]
    url = f"http://127.0.0.1:{port}"
    workdir.mkdir(parents=True, exist_ok=True)
    with _serve(cmd, url + "/v1/models", workdir / f"llm-{port}.log", timeout) as proc:
        yield url, proc


# -- configuration ----------------------------------------------------------------
@dataclass
class Config:
    corpus: list[Path]
    sizes: list[int] = field(default_factory=lambda: [1_000, 10_000, 100_000])
    server_sizes: list[int] = field(default_factory=lambda: [1_000, 10_000])
    ingest_reps: int = 3
    reingest_reps: int = 5
    embed_sentences: int = 1000
    embed_reps: int = 3
    queries: int = 85
    query_reps: int = 2
    questions: int | None = None  # None: all gold questions
    server_questions: int = 10
    limit_reps: int = 3
    skip: set[str] = field(default_factory=set)
    profile_dir: Path | None = None

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Config:
        corpus = [Path(p) for p in (getattr(args, "corpus", None) or [])] or [MULTILING]
        for p in corpus:
            if not p.exists():
                raise RagError(f"corpus folder not found: {p} (pass --corpus DIR)")
        cfg = cls(corpus=corpus)
        if getattr(args, "quick", False):
            cfg.sizes, cfg.server_sizes = [500, 2_000], [500]
            cfg.ingest_reps, cfg.reingest_reps, cfg.embed_sentences, cfg.embed_reps = 1, 2, 200, 2
            cfg.queries, cfg.query_reps, cfg.questions, cfg.server_questions, cfg.limit_reps = 10, 1, 5, 2, 2
        if getattr(args, "sizes", None):
            try:
                cfg.sizes = sorted({int(s) for s in args.sizes.split(",") if s.strip()})
            except ValueError:
                raise RagError(f"--sizes takes numbers separated by commas, got {args.sizes!r}") from None
            cfg.server_sizes = [s for s in cfg.sizes if s <= 10_000] or cfg.sizes[:1]
        if getattr(args, "questions", None):
            cfg.questions = args.questions
        cfg.skip = set(getattr(args, "skip", None) or [])
        if getattr(args, "profile", None):
            cfg.profile_dir = Path(args.profile)
        return cfg


@contextlib.contextmanager
def profiled(cfg: Config, name: str) -> Iterator[None]:
    """Record a pyinstrument profile of the block into ``cfg.profile_dir/NAME.txt``."""
    if cfg.profile_dir is None:
        yield
        return
    from pyinstrument import Profiler

    prof = Profiler(interval=0.002)
    prof.start()
    try:
        yield
    finally:
        prof.stop()
        cfg.profile_dir.mkdir(parents=True, exist_ok=True)
        (cfg.profile_dir / f"{name}.txt").write_text(prof.output_text(unicode=True, color=False), encoding="utf-8")


# -- ingestion ----------------------------------------------------------------------
def bench_ingest(settings: Settings, cfg: Config, work: Path, tag: str = "local") -> tuple[dict, Path | None]:
    """Cold ingest (fresh index each repetition) and re-ingest; returns (figures, last index folder)."""
    from rag.api import Rag

    paths = [*cfg.corpus, SEEDS]
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
    from rag.ingest import Skip, read_file
    from rag.text import sentence_spans

    out: list[str] = []
    for folder in [*cfg.corpus, SEEDS]:
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


def bench_embed(cfg: Config, chunk_texts: list[str]) -> dict:
    from rag.embed import get_embedder

    t0 = time.perf_counter()
    emb = get_embedder()
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


# -- retrieval at scale -------------------------------------------------------------
@dataclass
class BaseArticle:
    id: str
    text: str
    meta: dict
    vector: np.ndarray
    chunk_docs: list[str]
    chunk_metas: list[dict]
    chunk_vecs: np.ndarray


def base_corpus(store) -> list[BaseArticle]:
    """The distinct articles and chunks (with their vectors) of an ingested index."""
    arts = store.articles.get(include=["documents", "metadatas", "embeddings"])
    got = store.chunks.get(include=["documents", "metadatas", "embeddings"])
    by_art: dict[str, list[int]] = {}
    for i, m in enumerate(got["metadatas"]):
        by_art.setdefault(m["article_id"], []).append(i)
    out = []
    for aid, doc, meta, vec in zip(arts["ids"], arts["documents"], arts["metadatas"], arts["embeddings"]):
        idx = sorted(by_art.get(aid, []), key=lambda i: int(got["metadatas"][i].get("index", 0)))
        if not idx:
            continue
        out.append(
            BaseArticle(
                id=aid,
                text=doc,
                meta=dict(meta),
                vector=np.asarray(vec, dtype=np.float32),
                chunk_docs=[got["documents"][i] for i in idx],
                chunk_metas=[dict(got["metadatas"][i]) for i in idx],
                chunk_vecs=np.asarray([got["embeddings"][i] for i in idx], dtype=np.float32),
            )
        )
    out.sort(key=lambda a: a.id)
    return out


def perturb(vecs: np.ndarray, copy: int, salt: int = 0) -> np.ndarray:
    """Deterministic small perturbation of unit vectors (copy 0 is left as it is).

    >>> v = np.eye(3, dtype=np.float32)[:1]
    >>> bool(np.allclose(perturb(v, 0), v)), float(perturb(v, 5)[0] @ v[0]) > 0.99
    (True, True)
    """
    if copy == 0:
        return vecs
    rng = np.random.default_rng([copy, salt])
    noise = rng.standard_normal(vecs.shape).astype(np.float32) * (PERTURB_NORM / np.sqrt(vecs.shape[-1]))
    out = vecs + noise
    return out / np.linalg.norm(out, axis=-1, keepdims=True)


class ScaledIndex:
    """Grows a store to a chunk count by writing copies of the base corpus with distinct ids."""

    def __init__(self, store, base: list[BaseArticle]) -> None:
        if not base:
            raise RagError("no chunks to build the retrieval index from")
        self.store = store
        self.base = base
        self.n = store.n_chunks()
        self._next = 0  # running article number (copy * len(base) + position)
        self.write_s = 0.0
        try:
            self.batch = min(5000, int(store.client.get_max_batch_size()))
        except Exception:
            self.batch = 1000

    def grow_to(self, target: int) -> int:
        rows: dict[str, list] = {"ids": [], "documents": [], "metadatas": [], "embeddings": []}
        arts: dict[str, list] = {"ids": [], "documents": [], "metadatas": [], "embeddings": []}
        t0 = time.perf_counter()
        while self.n < target:
            copy, pos = divmod(self._next, len(self.base))
            a = self.base[pos]
            self._next += 1
            aid = f"{a.id}x{copy:04d}"
            vecs = perturb(a.chunk_vecs, copy, pos)
            for k, (doc, meta) in enumerate(zip(a.chunk_docs, a.chunk_metas)):
                rows["ids"].append(f"{aid}:{k}")
                rows["documents"].append(doc)
                rows["metadatas"].append({**meta, "article_id": aid, "file": f"copy{copy:04d}/{meta.get('file', '')}"})
                rows["embeddings"].append(vecs[k])
            arts["ids"].append(aid)
            arts["documents"].append(a.text)
            arts["metadatas"].append({**a.meta, "file": f"copy{copy:04d}/{a.meta.get('file', '')}", "source": ""})
            arts["embeddings"].append(perturb(a.vector[None, :], copy, pos)[0])
            self.n += len(a.chunk_docs)
            if len(rows["ids"]) >= self.batch or self.n >= target:
                self._flush(rows, arts)
        self.write_s += time.perf_counter() - t0
        return self.n

    def _flush(self, rows: dict, arts: dict) -> None:
        with self.store.write_lock():  # chunks first, then the article records (commit markers)
            for col, data in ((self.store.chunks, rows), (self.store.articles, arts)):
                for i in range(0, len(data["ids"]), self.batch):
                    col.add(
                        ids=data["ids"][i : i + self.batch],
                        documents=data["documents"][i : i + self.batch],
                        metadatas=data["metadatas"][i : i + self.batch],
                        embeddings=np.asarray(data["embeddings"][i : i + self.batch], dtype=np.float32),
                    )
            self.store._bump()  # readers see the change, as after any ingest
        for data in (rows, arts):
            for v in data.values():
                v.clear()


def legacy_signature(store) -> str:
    """The lexical index's former change check: every article id, sorted and hashed."""
    import hashlib

    ids = sorted(store.articles.get(include=[])["ids"])
    return f"{store.n_chunks()}:" + hashlib.sha1("|".join(ids).encode()).hexdigest()


def time_calls(fn: Callable[[], object], n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def measure_retrieval(store, embedder, queries: list[str], reps: int, cfg: Config | None = None, tag: str = "") -> dict:
    """Latency of :meth:`Retriever.search` on ``store`` as it is, with a breakdown."""
    from rag.retrieve import Retriever

    retr = Retriever(store, embedder)
    t0 = time.perf_counter()
    with profiled(cfg, f"lexical-build-{tag}") if cfg and tag else contextlib.nullcontext():
        lex = retr.lexical()  # the first query after a change rebuilds the BM25 index
    cold_ms = (time.perf_counter() - t0) * 1000
    retr.search(queries[0], k=5)  # warm-up
    lat: list[float] = []
    full: list[float] = []
    with profiled(cfg, f"retrieval-{tag}") if cfg and tag else contextlib.nullcontext():
        for _ in range(reps):
            for q in queries:
                # The index lookup (what grows with the index), then the whole search with
                # the sentence rerank, its embedding cache emptied so nothing is reused.
                retr.embedder.clear()
                t0 = time.perf_counter()
                retr.search(q, k=5, rerank=0)
                lat.append((time.perf_counter() - t0) * 1000)
                retr.embedder.clear()
                t0 = time.perf_counter()
                retr.search(q, k=5)
                full.append((time.perf_counter() - t0) * 1000)
    # Where the time goes: the same stages the search runs, timed one by one.
    sig = time_calls(retr._signature, min(20, len(queries)))
    legacy = time_calls(lambda: legacy_signature(store), min(10, len(queries)))
    qv = [embedder.embed([q])[0] for q in queries[:20]]
    emb = [time_calls(lambda q=q: embedder.embed([q]), 1)[0] for q in queries[:20]]
    dense = [time_calls(lambda v=v: store.query(v, k=30), 1)[0] for v in qv]
    bm25 = [time_calls(lambda q=q: lex.scores(q), 1)[0] for q in queries[:20]]
    return {
        "chunks": store.n_chunks(),
        "articles": store.n_articles(),
        "queries": len(lat),
        "p50": pct(lat, 50),
        "p95": pct(lat, 95),
        "max": round(max(lat), 2),
        "first_query_after_change_ms": round(cold_ms, 1),
        "with_rerank": {"p50": pct(full, 50), "p95": pct(full, 95)},
        "stages_p50_ms": {
            "signature": pct(sig, 50),
            "signature_full_listing": pct(legacy, 50),
            "embed_query": pct(emb, 50),
            "dense_query": pct(dense, 50),
            "bm25_scores": pct(bm25, 50),
        },
    }


def bench_retrieval(store, embedder, base: list[BaseArticle], sizes: list[int], cfg: Config, tag: str) -> dict:
    idx = ScaledIndex(store, base)
    queries = load_questions(limit=cfg.queries)
    out = {}
    for size in sizes:
        n = idx.grow_to(size)
        say(f"retrieval[{tag}]: {n} chunks written ({idx.write_s:.1f}s so far); timing {len(queries)} queries")
        prof = f"{tag}-{size_label(size)}" if size == max(sizes) else ""
        r = measure_retrieval(store, embedder, queries, cfg.query_reps, cfg, prof)
        r["build_write_s"] = round(idx.write_s, 1)
        out[size_label(size)] = r
        say(
            f"retrieval[{tag}] {size_label(size)}: p50 {r['p50']} ms, p95 {r['p95']} ms "
            f"(with the sentence rerank {r['with_rerank']['p50']} / {r['with_rerank']['p95']} ms), "
            f"stages {r['stages_p50_ms']}"
        )
    return out


# -- answers --------------------------------------------------------------------------
class TimedLLM:
    """Wraps an LLM: records when each reply starts and ends and, for a llama.cpp
    model, the prompt and generated token counts from llama.cpp's own counters."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.name = inner.name
        self.n_ctx = inner.n_ctx
        self.calls: list[dict] = []

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)

    def _ctx(self):
        llama = getattr(self.inner, "_llm", None)
        ctx = getattr(getattr(llama, "_ctx", None), "ctx", None)
        return ctx

    def stream(self, messages: list[dict], max_tokens: int, temperature: float = 0.0) -> Iterator[str]:
        import llama_cpp

        rec: dict = {"t_call": time.perf_counter(), "t_first": None, "t_last": None, "text": ""}
        self.calls.append(rec)
        ctx = self._ctx()
        if ctx is not None:
            llama_cpp.llama_perf_context_reset(ctx)
        inner = self.inner.stream(messages, max_tokens, temperature)
        try:
            for piece in inner:
                now = time.perf_counter()
                if rec["t_first"] is None:
                    rec["t_first"] = now
                rec["t_last"] = now
                rec["text"] += piece
                yield piece
        finally:  # also when the pipeline stops reading early (it closes the stream)
            getattr(inner, "close", lambda: None)()
            rec["t_end"] = time.perf_counter()
            rec["gen_tokens"] = self.inner.count_tokens(rec["text"]) if rec["text"] else 0
            if ctx is not None:
                perf = llama_cpp.llama_perf_context(ctx)
                # llama.cpp reuses the KV cache of the prompt prefix it saw last (the
                # system prompt): n_p_eval counts only the tokens it evaluated anew.
                # The cache then holds the whole prompt plus each decoded token.
                whole = int(getattr(self.inner._llm, "n_tokens", 0)) - perf.n_eval
                rec.update(
                    prompt_tokens=max(whole, perf.n_p_eval),
                    prompt_evaluated=perf.n_p_eval,
                    prompt_ms=perf.t_p_eval_ms,
                    evals=perf.n_eval,
                    eval_ms=perf.t_eval_ms,
                )
            else:  # a server: its tokenizer is unknown here, so the backend's estimate
                rec["prompt_tokens"] = self.inner.count_tokens("\n".join(m["content"] for m in messages))


def bench_answers(rag, questions: list[str], cfg: Config, tag: str = "local", cold: int = 30) -> dict:
    """Ask each question through ``ask_stream``; the model must be a :class:`TimedLLM`.

    The embedding cache stays warm across questions, as in a server (on the seeds every
    sentence is cached after a few questions); then the first ``cold`` questions are
    asked again with the cache emptied before each, which is what a question about
    articles nobody asked about yet costs."""
    llm: TimedLLM = rag.answerer.llm  # type: ignore[assignment]
    rag.ask(questions[0])  # warm-up: loads the model and the BM25 index

    def one(q: str) -> dict:
        n_calls = len(llm.calls)
        c0, t0 = time.process_time(), time.perf_counter()
        first_text = None
        final = None
        for ev in rag.ask_stream(q):
            if ev.kind == "text" and first_text is None:
                first_text = (time.perf_counter() - t0) * 1000
            if ev.kind == "final":
                final = ev.answer
        assert final is not None
        row = {"question": q, "status": final.status, "mode": final.mode, **final.timings}
        row["first_text_ms"] = round(first_text or 0.0, 1)
        row["cpu_ms"] = round((time.process_time() - c0) * 1000, 1)
        calls = llm.calls[n_calls:]
        if calls:
            c = calls[-1]
            row["prompt_tokens"] = c.get("prompt_tokens")
            if c.get("prompt_evaluated") is not None:
                row["prompt_evaluated"] = c["prompt_evaluated"]
            row["gen_tokens"] = c.get("gen_tokens", 0)
            row["pre_generate_ms"] = round((c["t_call"] - t0) * 1000, 1)
            if c["t_first"] is not None:
                row["model_first_token_ms"] = round((c["t_first"] - c["t_call"]) * 1000, 1)
                decode_s = c["t_last"] - c["t_first"]
                if row["gen_tokens"] > 1 and decode_s > 0:
                    row["tokens_per_s"] = round((row["gen_tokens"] - 1) / decode_s, 1)
            if c.get("eval_ms"):
                row["model_decode_tokens_per_s"] = round(c["evals"] / c["eval_ms"] * 1000, 1)
            if c.get("prompt_ms"):
                done = c.get("prompt_evaluated", c["prompt_tokens"])
                row["model_prompt_tokens_per_s"] = round(done / c["prompt_ms"] * 1000, 1)
        return row

    with profiled(cfg, f"answers-{tag}"):
        rows = [one(q) for q in questions]
    cold_rows = []
    for q in questions[:cold]:
        rag.retriever.embedder.clear()
        cold_rows.append(one(q))
    gen = [r for r in rows if "prompt_tokens" in r]

    def col(rs: list[dict], key: str) -> list[float]:
        return [float(r[key]) for r in rs if r.get(key) is not None]

    modes = {m: sum(1 for r in rows if r["mode"] == m) for m in ("generated", "extractive", "refused")}
    out = {
        "questions": len(rows),
        "modes": modes,
        "model_runs": len(gen),
        # Headline figures: questions where the model ran (refusals skip it and would flatter them).
        "ttft_ms_p50": pct(col(gen, "first_token_ms"), 50),
        "ttft_ms_p95": pct(col(gen, "first_token_ms"), 95),
        "total_ms_p50": pct(col(gen, "total_ms"), 50),
        "total_ms_p95": pct(col(gen, "total_ms"), 95),
        "tokens_per_s": pct(col(gen, "tokens_per_s"), 50),
        "prompt_tokens_p50": pct(col(gen, "prompt_tokens"), 50),
        "prompt_evaluated_p50": pct(col(gen, "prompt_evaluated"), 50),
        "gen_tokens_p50": pct(col(gen, "gen_tokens"), 50),
        "first_text_ms_p50": pct(col(gen, "first_text_ms"), 50),
        "cpu_ms_p50": pct(col(gen, "cpu_ms"), 50),
        "all_questions_total_ms_p50": pct(col(rows, "total_ms"), 50),
        "all_questions_total_ms_p95": pct(col(rows, "total_ms"), 95),
        "breakdown_p50_ms": {
            "retrieve": pct(col(gen, "retrieve_ms"), 50),
            "evidence_and_prompt": pct([r["pre_generate_ms"] - r["retrieve_ms"] for r in gen], 50),
            "model_first_token": pct(col(gen, "model_first_token_ms"), 50),
            "generate": pct(col(gen, "generate_ms"), 50),
        },
        "model_prompt_tokens_per_s_p50": pct(col(gen, "model_prompt_tokens_per_s"), 50),
        "model_decode_tokens_per_s_p50": pct(col(gen, "model_decode_tokens_per_s"), 50),
        "cold_cache": {
            "questions": len(cold_rows),
            "ttft_ms_p50": pct(col(cold_gen := [r for r in cold_rows if "prompt_tokens" in r], "first_token_ms"), 50),
            "ttft_ms_p95": pct(col(cold_gen, "first_token_ms"), 95),
            "total_ms_p50": pct(col(cold_gen, "total_ms"), 50),
            "retrieve_ms_p50": pct(col(cold_gen, "retrieve_ms"), 50),
        }
        if cold_rows
        else None,
        "rows": rows,
    }
    say(
        f"answers[{tag}]: {len(rows)} questions ({modes}), TTFT p50 {out['ttft_ms_p50']} ms, "
        f"total p50 {out['total_ms_p50']} ms, {out['tokens_per_s']} tok/s, prompt {out['prompt_tokens_p50']} tok"
    )
    return out


LIMIT_PROMPT_FILE = "002_c7922ba59901108c.txt"


def bench_model_limit(settings: Settings, reps: int, prompt_tokens: int = 350, gen_tokens: int = 96) -> dict:
    """The raw llama.cpp model on a fixed prompt: prompt and generation tokens/s, at the
    configured thread count and, for comparison, at 1 and 2 threads (runs interleaved)."""
    import llama_cpp

    from rag.llm import LlamaCppLLM

    threads = sorted({1, 2, settings.n_threads})
    models = {t: LlamaCppLLM(settings.model_path, n_ctx=settings.n_ctx, n_threads=t)._llm for t in threads}
    first = models[threads[0]]
    text = (SEEDS / LIMIT_PROMPT_FILE).read_text(encoding="utf-8")
    toks = first.tokenize(text.encode("utf-8"), add_bos=False)[:prompt_tokens]
    prompt = first.detokenize(toks).decode("utf-8", errors="ignore") + "\n\nSummarise the article above:"
    rates: dict[int, dict[str, list[float]]] = {t: {"p": [], "g": [], "cpu": []} for t in threads}
    n_p = 0
    for _ in range(reps):
        for t, llama in models.items():
            llama.reset()
            llama_cpp.llama_perf_context_reset(llama._ctx.ctx)
            c0 = time.process_time()
            llama.create_completion(
                prompt, max_tokens=gen_tokens, temperature=0.0, top_k=1, logit_bias={llama.token_eos(): -100.0}
            )
            perf = llama_cpp.llama_perf_context(llama._ctx.ctx)
            n_p = perf.n_p_eval
            rates[t]["p"].append(perf.n_p_eval / perf.t_p_eval_ms * 1000)
            rates[t]["g"].append(perf.n_eval / perf.t_eval_ms * 1000)
            rates[t]["cpu"].append(time.process_time() - c0)
    by = {
        str(t): {
            "prompt_tokens_per_s": round(float(np.median(r["p"])), 1),
            "tokens_per_s": round(float(np.median(r["g"])), 1),
            "cpu_s": round(float(np.median(r["cpu"])), 2),
        }
        for t, r in rates.items()
    }
    out = {"prompt_tokens": n_p, "gen_tokens": gen_tokens, "threads": settings.n_threads}
    out.update({k: v for k, v in by[str(settings.n_threads)].items() if k != "cpu_s"})
    out["by_threads"] = by
    say(f"model limit: {out}")
    return out


# -- briefings and serve --------------------------------------------------------------
def bench_brief(settings: Settings, ingest_dir: Path, work: Path) -> tuple[float | None, str]:
    """Briefings of every event of the corpus (the cold index without the seeds)."""
    try:
        from rag.brief import build_briefings
    except ImportError as exc:
        return None, f"rag.brief.build_briefings is not importable ({exc}); brief_all_s is null"
    from rag.api import Rag
    from rag.llm import load_llm

    folder = work / "brief"
    shutil.copytree(ingest_dir, folder)
    rag = Rag(settings.with_(data_dir=folder), llm=lambda: load_llm(settings))
    seeds = {p.name for p in SEEDS.iterdir()}
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


_FALLBACK_SCRIPT = """
import json, sys
from pathlib import Path
from rag.api import Rag
from rag.settings import Settings
rag = Rag(Settings.from_env().with_(data_dir=Path(sys.argv[1])))
rag.retriever.lexical(); _ = rag.llm
ans = rag.ask(sys.argv[2])
status = open('/proc/self/status').read().split('VmHWM:')[1].split()[0]
print(json.dumps({"status": ans.status, "peak_kb": int(status)}))
"""


def bench_serve(data_dir: Path, question: str, work: Path, settings: Settings) -> tuple[float | None, str]:
    """Peak RSS of `rag serve` after one question through its /ask API (or of a process that
    loads the same models and answers one question, when the page does not exist)."""
    import importlib.util

    env = {**os.environ, "RAG_DATA_DIR": str(data_dir)}
    env.pop("RAG_CHROMA_URL", None)
    if settings.model_path:
        env["RAG_MODEL"] = settings.model_path
    if importlib.util.find_spec("rag.ui") is None:
        out = subprocess.run(
            [sys.executable, "-c", _FALLBACK_SCRIPT, str(data_dir), question],
            capture_output=True,
            text=True,
            env=env,
            timeout=600,
        )
        if out.returncode != 0:
            return None, f"fallback process failed: {out.stderr.strip()[-300:]}"
        got = json.loads(out.stdout.strip().splitlines()[-1])
        return round(
            got["peak_kb"] / 1024, 1
        ), "rag.ui not present: peak RSS of a process loading Rag + models + 1 answer"
    port = free_port()
    cmd = [sys.executable, "-m", "rag.cli", "serve", "--port", str(port), "--no-ingest"]
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


@contextlib.contextmanager
def stage_guard(notes: list[str], name: str) -> Iterator[None]:
    try:
        yield
    except Exception as exc:  # noqa: BLE001 (reported, not hidden: in the notes and on stderr)
        msg = f"stage {name} failed: {exc.__class__.__name__}: {str(exc)[:300]}"
        say(msg)
        notes.append(msg)


# -- the whole run --------------------------------------------------------------------
def run(settings: Settings, cfg: Config, work: Path, checkpoint: Callable[[dict], None] | None = None) -> dict:
    from rag.api import Rag
    from rag.embed import get_embedder
    from rag.llm import load_llm
    from rag.store import Store

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

    def save(rep: dict) -> None:  # a partial report survives an interrupted run
        if checkpoint is not None:
            checkpoint({**rep, "targets": check_targets(rep), "partial": True})

    report["load_before"] = [round(x, 2) for x in os.getloadavg()]
    t_start = time.perf_counter()
    embedder = get_embedder()

    ingest_dir = None
    if "ingest" not in cfg.skip:
        report["ingest"], ingest_dir = bench_ingest(local, cfg, work)
        save(report)
    if ingest_dir is None:  # still needed: the chunks the other stages reuse
        ingest_dir = work / "ingest-base"
        Rag(local.with_(data_dir=ingest_dir)).ingest([*cfg.corpus, SEEDS])
    base = base_corpus(Store(local.with_(data_dir=ingest_dir), embedder.name, embedder.dim))
    if "embed" not in cfg.skip:
        report["embed"] = bench_embed(cfg, [d for a in base for d in a.chunk_docs])
        report["embed_sentences_per_s"] = report["embed"]["sentences_per_s"]
        save(report)

    if "retrieval" not in cfg.skip:
        store = Store(local.with_(data_dir=work / "scale-local"), embedder.name, embedder.dim)
        report["retrieval_ms"] = bench_retrieval(store, embedder, base, cfg.sizes, cfg, "local")
        save(report)
        del store

    seeded = work / "seeded"
    seeded_rag = None
    if {"answer", "limit", "serve"} - cfg.skip:
        seeded_rag = Rag(local.with_(data_dir=seeded), llm=lambda: TimedLLM(load_llm(local)))
        seeded_rag.ingest([SEEDS])
    questions = load_questions(limit=cfg.questions)
    if "answer" not in cfg.skip and seeded_rag is not None:
        report["answer"] = bench_answers(seeded_rag, questions, cfg)
        save(report)
    if "limit" not in cfg.skip and not local.llm_url:
        report["model_limit"] = bench_model_limit(local, cfg.limit_reps)
        save(report)
    # The last stages lean on other modules (briefings, the page) and on servers: a failure
    # there is reported in the notes and the figures already measured are kept.
    if "brief" not in cfg.skip:
        with stage_guard(notes, "brief"):
            report["brief_all_s"], note = bench_brief(local, ingest_dir, work)
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
    from rag.llm import OpenAIServerLLM
    from rag.store import Store

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


def run_cli(settings: Settings, args: argparse.Namespace) -> int:
    """``rag bench``: run every stage, write report.json/report.md/retrieval.png to --out."""
    cfg = Config.from_args(args)
    out = Path(args.out) if getattr(args, "out", None) else DEFAULT_OUT
    # SIGTERM unwinds like Ctrl+C, so the servers started here are stopped and the
    # temporary folder is removed.
    try:
        previous = signal.signal(signal.SIGTERM, _terminate)
    except ValueError:  # not the main thread
        previous = None
    try:
        with tempfile.TemporaryDirectory(prefix="rag-bench-") as tmp:
            report = run(settings, cfg, Path(tmp), checkpoint=lambda r: write_report(r, out))
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    write_report(report, out)
    if getattr(args, "json", False):
        print(json.dumps(summary(report), ensure_ascii=False))
    else:
        print(to_markdown(report))
        print(f"(written to {out})")
    return 0
