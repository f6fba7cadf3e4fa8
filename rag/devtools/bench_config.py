"""What `rag bench` measures and how often (:class:`Config`), and the profiler switch."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from rag.errors import RagError

SECTIONS = ("ingest", "embed", "retrieval", "answer", "limit", "profiles", "brief", "serve", "server")


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
    during_ingest_s: float = 30.0  # queries timed while another process ingests
    questions: int | None = None  # None: all gold questions
    server_questions: int = 10
    limit_reps: int = 3
    profile_questions: int = 20  # seed questions each profile answers (fast model and reader)
    skip: set[str] = field(default_factory=set)
    profile_dir: Path | None = None

    seeds: Path | None = None  # the demo articles: ingested with the corpus, and the seeded index for answers
    gold: Path | None = None  # the gold questions (evals/gold.jsonl)

    @classmethod
    def make(
        cls,
        corpus: list[Path],
        seeds: Path,
        gold: Path,
        quick: bool = False,
        sizes: list[int] | None = None,
        questions: int | None = None,
        skip: set[str] | None = None,
        profile_dir: Path | None = None,
    ) -> Config:
        """The configuration ``rag bench`` runs (``quick``: smaller sizes, for a smoke run)."""
        for p in [*corpus, seeds, gold]:
            if not p.exists():
                raise RagError(f"not found: {p}")
        cfg = cls(corpus=list(corpus), seeds=seeds, gold=gold)
        if quick:
            cfg.sizes, cfg.server_sizes = [500, 2_000], [500]
            cfg.ingest_reps, cfg.reingest_reps, cfg.embed_sentences, cfg.embed_reps = 1, 2, 200, 2
            cfg.queries, cfg.query_reps, cfg.questions, cfg.server_questions, cfg.limit_reps = 10, 1, 5, 2, 2
            cfg.profile_questions = 3
            cfg.during_ingest_s = 5.0
        if sizes:
            cfg.sizes = sorted(set(sizes))
            cfg.server_sizes = [s for s in cfg.sizes if s <= 10_000] or cfg.sizes[:1]
        if questions:
            cfg.questions = questions
        cfg.skip = set(skip or ())
        cfg.profile_dir = profile_dir
        return cfg

    @property
    def ingest_paths(self) -> list[Path]:
        """The corpus and the seeds: what the ingest stage indexes."""
        return [*self.corpus, *([self.seeds] if self.seeds else [])]


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
