"""The Python API shared by the CLI, the page and the eval harness.

>>> from rag.api import Rag                                   # doctest: +SKIP
>>> rag = Rag()                                               # doctest: +SKIP
>>> rag.ingest(["seeds"]).added                               # doctest: +SKIP
>>> print(rag.ask("How long was the interview delayed?").answer)  # doctest: +SKIP
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from pathlib import Path

from rag.answer.fact_check import ClaimCheck
from rag.answer.generate import Answerer, Event
from rag.errors import RagError
from rag.index.retrieve import Filters, Retriever
from rag.ingest.pipeline import IngestReport, ingest_paths
from rag.llm.backends import LLM, load_llm
from rag.settings import Settings, apply_offline_env
from rag.types import Answer, Article, Hit


class _LazyEmbedder:
    """Loads the embedder on the first call to ``embed``."""

    def __init__(self, rag: Rag) -> None:
        self._rag = rag

    def embed(self, texts: list[str]):
        return self._rag.embedder.embed(texts)


class Rag:
    """Lazily loads the embedder, the index and the model on first use."""

    def __init__(self, settings: Settings | None = None, llm: LLM | Callable[[], LLM] | None = None) -> None:
        """``settings`` default to :meth:`Settings.from_env` (the Python API is an entry point)."""
        apply_offline_env()
        self.settings = settings or Settings.from_env()
        if llm is None:
            self._llm_factory: Callable[[], LLM] = lambda: load_llm(self.settings)
        elif callable(llm) and not hasattr(llm, "stream"):
            self._llm_factory = llm  # type: ignore[assignment]
        else:
            self._llm_factory = lambda: llm  # type: ignore[return-value]

    @functools.cached_property
    def embedder(self):
        from rag.index.embed import get_embedder

        return get_embedder(self.settings.n_threads, self.settings.cache_dir)

    @functools.cached_property
    def store(self):
        # The store checks the index format against the embedder's name and size.
        from rag.index.embed import DIM, EMBEDDER_NAME
        from rag.index.store import Store

        return Store(self.settings, EMBEDDER_NAME, DIM)

    @functools.cached_property
    def retriever(self) -> Retriever:
        return Retriever(self.store, self.embedder)

    @functools.cached_property
    def answerer(self) -> Answerer:
        return Answerer(self.settings, self.retriever, self.retriever.embedder, self._llm_factory)

    @property
    def llm(self) -> LLM:
        return self.answerer.llm

    # -- index ------------------------------------------------------------------
    def ingest(self, paths: list[str | Path], sync: bool = True, show_progress: bool = False) -> IngestReport:
        return ingest_paths(
            self.store,
            _LazyEmbedder(self),  # unchanged files need no model: don't load it
            [Path(p) for p in paths],
            sync=sync,
            max_file_mb=self.settings.max_file_mb,
            show_progress=show_progress,
        )

    def web(self):
        """:class:`rag.ingest.sources.WebSources` over this index: page and feed URLs,
        feed files (use as a context manager)."""
        from rag.ingest.sources import WebSources

        return WebSources(self.settings.data_dir, self.store, _LazyEmbedder(self))

    def rebuild(self) -> None:
        """Empty the index (keeps nothing; re-ingest afterwards)."""
        from rag.ingest.sources import forget_taken

        forget_taken(self.settings.data_dir)
        from rag.index.embed import DIM, EMBEDDER_NAME
        from rag.index.store import Store

        try:
            store = self.store
        except RagError:
            # A mismatched or damaged index. A local folder is deleted; a server's
            # collections are opened without the format check and dropped below.
            import shutil

            if not self.settings.chroma_url:
                shutil.rmtree(self.settings.data_dir / "chroma", ignore_errors=True)
            store = Store(self.settings, EMBEDDER_NAME, DIM, check_format=False)
            self.__dict__["store"] = store
        store.rebuild()

    def sources(self) -> list[dict]:
        return self.store.sources()

    def article(self, article_id: str) -> Article:
        a = self.store.get_article(article_id)
        if a is None:
            raise RagError(f"no article with id {article_id!r}")
        return a

    def remove(self, article_id: str) -> None:
        with self.store.write_lock():
            if self.store.get_article(article_id) is None:
                raise RagError(f"no article with id {article_id!r}")
            self.store.remove_article(article_id)

    # -- questions ----------------------------------------------------------------
    def search(self, query: str, k: int = 5, filters: Filters | None = None) -> list[Hit]:
        if not query or not query.strip():
            raise RagError("the query is empty")
        return self.retriever.search(query, k=k, filters=filters)

    def ask(
        self, question: str, history: list[tuple[str, str]] | None = None, filters: Filters | None = None
    ) -> Answer:
        self._require_index()
        return self.answerer.ask(question, history, filters)

    def ask_stream(
        self, question: str, history: list[tuple[str, str]] | None = None, filters: Filters | None = None
    ) -> Iterator[Event]:
        self._require_index()
        return self.answerer.stream(question, history, filters)

    def check(self, claim: str, filters: Filters | None = None) -> ClaimCheck:
        """Fact-check a claim against the articles: ``supported``, ``contradicted`` or
        ``not_found``, with the passages that decide it (no model is loaded)."""
        from rag.answer.fact_check import check_claim_text, evidence_for, verdict

        text = check_claim_text(claim)
        self._require_index()
        return verdict(text, evidence_for(text, self.retriever, self.embedder, self.settings, filters))

    def _require_index(self) -> None:
        if self.store.n_chunks() == 0:
            raise RagError("the index is empty: run `rag ingest` first")
