"""The index: two Chroma collections, ``chunks`` (embedded spans) and ``articles``
(the stored article text, one record per article), and the lexical index beside them
(:class:`rag.index.lexical_store.LexicalStore`, BM25 on disk).

A write goes in this order: the Chroma chunks, then the lexical commit, then the
article records, which are the commit marker. Chunks whose article record is missing,
in either index, are orphans from an interrupted run and are removed by
:meth:`Store.remove_orphans`. Writers from several processes on one persistent
directory are serialised by a file lock (Chroma promises no multi-process write safety
for one directory; a Chroma server is the way for several writers).
"""

from __future__ import annotations

import contextlib
import functools
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlparse

import numpy as np

from rag.errors import RagError
from rag.index.lexical_store import FORMAT as LEXICAL_FORMAT
from rag.index.lexical_store import LexicalChunk, LexicalStore, day_number
from rag.index.memory import prepare_for_reopens, release_free_memory
from rag.index.records import article_from, get_all, meta_article, source_rows, stored_vectors
from rag.index.rwlock import RWLock
from rag.ingest.chunk import CHUNKER_VERSION
from rag.settings import Settings
from rag.tuning import ORPHAN_GRACE_S
from rag.types import Article, Chunk

CHUNKS = "chunks"
ARTICLES = "articles"
# Prefixes this process's change tokens: a write made here is already in this process's
# Chroma System, so only other processes' writes make a reader reopen it (Store.refresh).
_PROCESS = uuid.uuid4().hex[:12]
# Reopening the local Chroma client costs O(index) on the next query (the vectors are
# read back whole), so a reader reopens it at most this often; a Chroma server needs none.
REFRESH_EVERY_S = 2.0
REOPEN_SHARE = 0.1  # and at most this share of the time goes to reopening (at 1M, seconds each)


def _clear_chroma_cache() -> None:
    from chromadb.api.shared_system_client import SharedSystemClient

    SharedSystemClient.clear_system_cache()  # Chroma's public reset of its System cache


def _reading(method: Callable) -> Callable:
    """Run a read on the shared side of the store's lock (a reopen takes it alone)."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        with self._rw.shared():
            return method(self, *args, **kwargs)

    return wrapper


class Store:
    """Chroma persistence for articles and chunks, with an index-format check."""

    def __init__(self, settings: Settings, embedder_name: str, dim: int, check_format: bool = True) -> None:
        """Open (or create) the index. ``check_format=False`` skips the embedder/chunker
        check, only to drop a mismatched index with :meth:`rebuild`."""
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        self.settings = settings
        self.embedder_name = embedder_name
        self.dim = dim
        self._check_format = check_format
        chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
        try:
            if settings.chroma_url:
                u = urlparse(settings.chroma_url)
                if not u.hostname:
                    raise RagError(f"--chroma-url {settings.chroma_url!r} is not a URL like http://127.0.0.1:8000")
                self.client = chromadb.HttpClient(
                    host=u.hostname,
                    port=u.port or (443 if u.scheme == "https" else 8000),
                    ssl=u.scheme == "https",
                    settings=chroma_settings,
                )
                self.client.heartbeat()
                self.lock_path: Path | None = None
            else:
                settings.data_dir.mkdir(parents=True, exist_ok=True)
                self.client = self._persistent_client()
                self.lock_path = settings.data_dir / "write.lock"
        except RagError:
            raise
        except Exception as exc:
            if not settings.chroma_url:  # a System that failed to start stays cached, broken,
                _clear_chroma_cache()  # for every later client of the folder (even after --rebuild)
            where = settings.chroma_url or str(settings.data_dir)
            raise RagError(
                f"cannot open the index at {where}: {exc.__class__.__name__}: {str(exc)[:200]}"
                " (if the data directory is damaged, run `rag ingest --rebuild`)"
            ) from exc
        self._thread_lock = threading.RLock()
        self._rw = RWLock()  # queries share it; reopening the client takes it alone
        self._next_reopen = 0.0
        self.refresh_every_s = REFRESH_EVERY_S
        self.reopen_share = REOPEN_SHARE
        # Whose writes this Store has in memory already: locally every Store of the
        # process (they share one Chroma System); on a server only its own lexical writes.
        self._writer = _PROCESS if not settings.chroma_url else uuid.uuid4().hex[:12]
        self.lexical = self._open_lexical()
        try:
            self.chunks = self._collection(CHUNKS)
            self.articles = self._collection(ARTICLES)
        except RagError:
            self.close()
            raise
        self._known_generation = self.generation()
        if self.lock_path is None and check_format:
            self._sync_lexical()  # articles other clients of the server wrote meanwhile

    def _sync_lexical(self) -> None:
        from rag.index.orphans import sync_lexical

        with self.write_lock():
            sync_lexical(self)

    def refresh(self, force: bool = False) -> bool:
        """Reopen a local index another process has written to since this Store last looked
        (``force``: whatever the throttle); True when it did. Chroma loads the vectors once
        per process (chroma-core/chroma#3792): the public ``close()`` stops this process's
        System (it must be the folder's only client here) and a new client loads them, under
        the exclusive side of the lock every query shares. At most every ``refresh_every_s``,
        and taking at most ``reopen_share`` of the time (a reopen costs 0.5 s at 100k). On a
        Chroma server only the lexical index takes in other clients' writes.
        """
        with self._thread_lock:
            generation = self.generation()
            if generation == self._known_generation:
                return False
            if generation.startswith(self._writer + ":"):
                self._known_generation = generation
                return False  # written in this process, through the System it shares
            if not force and time.monotonic() < self._next_reopen:
                return False  # seen on a later call
            self.lexical.refresh()
            if self.lock_path is None:  # a Chroma server: its vectors are always current
                self._sync_lexical()
                self._known_generation = generation
                self._reopened(0.0)
                return True
            prepare_for_reopens()  # a process that reopens clients: keep its memory flat
            t0 = time.monotonic()
            with self._rw.exclusive():
                self.client.close()
                self.client = self._persistent_client()
                self.chunks = self._collection(CHUNKS)
                self.articles = self._collection(ARTICLES)
                probe = np.zeros(self.dim, dtype=np.float32)
                probe[0] = 1.0
                self.chunks.query(query_embeddings=[probe.tolist()], n_results=1, include=[])  # load the vectors
            release_free_memory()  # what the old System freed
            self._known_generation = generation
            self._reopened(time.monotonic() - t0)
            return True

    def _reopened(self, cost_s: float) -> None:
        """The next reopen waits ``refresh_every_s``, or longer when a reopen is costly
        (it then takes at most ``reopen_share`` of the time)."""
        wait = max(self.refresh_every_s, cost_s / self.reopen_share if self.reopen_share else 0.0)
        self._next_reopen = time.monotonic() + wait

    def _open_lexical(self) -> LexicalStore:
        path = self.settings.data_dir / "lexical"
        try:
            return LexicalStore(path)
        except RagError:
            if self._check_format:
                raise
            shutil.rmtree(path, ignore_errors=True)  # opened only to be rebuilt
            return LexicalStore(path)

    def _persistent_client(self):
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        return chromadb.PersistentClient(
            path=str(self.settings.data_dir / "chroma"),
            settings=ChromaSettings(anonymized_telemetry=False, allow_reset=False),
        )

    def close(self) -> None:
        """Release the index (a local folder's Chroma System stops with its last client)."""
        with self._rw.exclusive():
            self.client.close()

    # -- format ---------------------------------------------------------------
    def _format(self) -> dict:
        # "lexical": an index from before the lexical index (or of another format of it)
        # is refused with the `--rebuild` message.
        return {
            "embedder": self.embedder_name,
            "dim": self.dim,
            "chunker": CHUNKER_VERSION,
            "lexical": LEXICAL_FORMAT["format"],
        }

    def _collection(self, name: str):
        try:
            col = self.client.get_or_create_collection(
                name,
                metadata=self._format(),
                configuration={"hnsw": {"space": "cosine"}},
                embedding_function=None,
            )
        except Exception as exc:
            raise RagError(
                f"cannot open collection {name!r}: {exc.__class__.__name__}: {str(exc)[:200]}"
                " — run `rag ingest --rebuild` to recreate the index"
            ) from exc
        meta = col.metadata or {}
        want = self._format()
        bad = {k: meta.get(k) for k in want if meta.get(k) != want[k]} if self._check_format else {}
        if bad:
            have = ", ".join(f"{k}={meta.get(k)!r}" for k in want)
            raise RagError(
                f"the index was built with {have}, this version uses "
                + ", ".join(f"{k}={v!r}" for k, v in want.items())
                + ": run `rag ingest --rebuild`"
            )
        return col

    def rebuild(self) -> None:
        """Drop both collections and create them empty (in this version's format)."""
        self._check_format = True
        with self.write_lock():
            for name in (CHUNKS, ARTICLES):
                with contextlib.suppress(Exception):  # absent collection: nothing to drop
                    self.client.delete_collection(name)
            self.chunks = self._collection(CHUNKS)
            self.articles = self._collection(ARTICLES)
            self.lexical.rebuild()
            self._known_generation = self.generation()

    @contextlib.contextmanager
    def write_lock(self) -> Iterator[None]:
        """Serialise writers: a thread lock here, a file lock across processes."""
        with self._thread_lock:
            if self.lock_path is None:
                yield
                return
            from filelock import FileLock

            with FileLock(str(self.lock_path), timeout=600):
                yield

    # -- writes ---------------------------------------------------------------
    def add_articles(self, items: list[tuple[Article, list[Chunk], np.ndarray]]) -> None:
        """Write the chunks of several articles in few large writes (each Chroma write has
        a fixed cost), then the articles' records (their commit markers) in as few."""
        ids: list[str] = []
        docs: list[str] = []
        metas: list[dict] = []
        vecs: list[np.ndarray] = []
        now = time.time()
        for article, chunks, vectors in items:
            if not chunks:
                raise RagError(f"{article.file}: no text to index")
            base = {
                "article_id": article.id,
                "file": article.file,
                "title": article.title,
                "outlet": article.outlet,
                "published": article.published,
                "written_at": now,
                # For filters inside the vector search (Chroma compares numbers, and
                # strings only by equality): the day as YYYYMMDD (0: no date), the outlet
                # lowercased.
                "day": day_number(article.published) or 0,
                "outlet_key": article.outlet.strip().lower(),
            }
            ids += [c.id for c in chunks]
            docs += [c.text for c in chunks]
            metas += [{**base, "start": c.start, "end": c.end, "index": c.index} for c in chunks]
            vecs.append(np.asarray(vectors, dtype=np.float32))
        if not ids:
            return
        allv = np.concatenate(vecs)
        step = self._batch_size()
        for i in range(0, len(ids), step):
            self.chunks.upsert(
                ids=ids[i : i + step],
                documents=docs[i : i + step],
                embeddings=allv[i : i + step],
                metadatas=metas[i : i + step],
            )
        self.lexical.add(
            [LexicalChunk(c.id, a.id, c.text, a.outlet, a.published) for a, chunks, _ in items for c in chunks]
        )
        cents = np.stack([np.asarray(v, dtype=np.float32).mean(axis=0) for _, _, v in items])
        cents /= np.maximum(np.linalg.norm(cents, axis=1, keepdims=True), 1e-12)
        for i in range(0, len(items), step):  # the commit markers, written after every chunk
            part = items[i : i + step]
            self.articles.upsert(
                ids=[a.id for a, _, _ in part],
                documents=[a.text for a, _, _ in part],
                embeddings=cents[i : i + step],
                metadatas=[meta_article(a, len(cs)) for a, cs, _ in part],
            )
        self._bump()

    def _batch_size(self) -> int:
        try:
            return max(1, min(5000, int(self.client.get_max_batch_size())))
        except Exception:  # an old server without the call
            return 1000

    def remove_article(self, article_id: str) -> None:
        """Remove the article record first, then its chunks in both indexes (orphans of an
        interrupted removal are cleaned by the next writer anyway)."""
        with self._rw.shared():
            self.articles.delete(ids=[article_id])
            self.chunks.delete(where={"article_id": article_id})
        self.lexical.delete([article_id])
        self._bump()

    # -- change detection -------------------------------------------------------
    def _bump(self) -> None:
        """Record that the index changed: a new token in the articles collection's metadata."""
        generation = f"{self._writer}:{uuid.uuid4().hex}"
        self.articles.modify(metadata={**self._format(), "generation": generation})
        self._known_generation = generation  # this process's own write: its vectors are in memory

    @_reading
    def generation(self) -> str:
        """A token that changes with every write ('' for an index never written by this
        version). One metadata read, whatever the size of the index: readers such as the
        lexical index compare it instead of listing every article."""
        col = self.client.get_collection(ARTICLES, embedding_function=None)
        return str((col.metadata or {}).get("generation", ""))

    def remove_orphans(self, min_age_s: float | None = None) -> int:
        """Delete chunks, in either index, whose article record is missing; return how many
        (see :func:`rag.index.orphans.remove_orphans`)."""
        from rag.index.orphans import remove_orphans

        if min_age_s is None:  # locally the file lock serialises writers: no grace needed
            min_age_s = 0.0 if self.lock_path is not None else ORPHAN_GRACE_S
        removed = remove_orphans(self, min_age_s)
        if removed:
            self._bump()
        return removed

    # -- reads ----------------------------------------------------------------
    @_reading
    def article_index(self) -> dict[str, dict]:
        """article id -> metadata (no text)."""
        got = get_all(self.articles, ["metadatas"])
        return dict(zip(got["ids"], got["metadatas"]))

    @_reading
    def get_article(self, article_id: str) -> Article | None:
        got = self.articles.get(ids=[article_id], include=["documents", "metadatas"])
        if not got["ids"]:
            return None
        return article_from(got["ids"][0], got["documents"][0], got["metadatas"][0])

    @_reading
    def all_articles(self, with_vectors: bool = False) -> tuple[list[Article], np.ndarray | None]:
        include = ["documents", "metadatas"] + (["embeddings"] if with_vectors else [])
        got = get_all(self.articles, include)
        arts = [article_from(i, d, m) for i, d, m in zip(got["ids"], got["documents"], got["metadatas"])]
        order = sorted(range(len(arts)), key=lambda k: (arts[k].file, arts[k].id))
        arts = [arts[k] for k in order]
        vecs = None
        if with_vectors:
            emb = got["embeddings"]
            vecs = np.asarray([emb[k] for k in order], dtype=np.float32).reshape(len(order), self.dim)
        return arts, vecs

    @_reading
    def n_chunks(self) -> int:
        return self.chunks.count()

    @_reading
    def n_articles(self) -> int:
        return self.articles.count()

    @_reading
    def all_chunks(self) -> dict:
        """ids, documents and metadatas of every chunk (for the lexical index)."""
        return get_all(self.chunks, ["documents", "metadatas"])

    @_reading
    def get_chunks(self, ids: list[str]) -> dict:
        """ids, documents and metadatas of these chunks (those that exist)."""
        return self.chunks.get(ids=list(ids), include=["documents", "metadatas"]) if ids else {"ids": []}

    @_reading
    def stored_vectors(self, chunks: list[Chunk]) -> np.ndarray | None:
        """The vectors stored for exactly these chunks (same ids and text), in order; None if any is missing."""
        return stored_vectors(self.chunks, chunks, self.dim)

    @_reading
    def query(self, vector: np.ndarray, k: int, where: dict | None = None, records: bool = True) -> dict:
        """The ``k`` chunks closest to ``vector`` among those matching ``where``
        (:func:`rag.index.dense.query`: a narrow filter is ranked exactly; ``records=False``:
        ids and distances alone)."""
        from rag.index.dense import query

        return query(self.chunks, vector, k, where, records)

    @_reading
    def sources(self) -> list[dict]:
        """The ingested articles, for `rag sources` and the Library tab."""
        return source_rows(self.article_index())
