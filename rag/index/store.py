"""The index: two Chroma collections, ``chunks`` (embedded spans) and ``articles``
(the stored article text, one record per article).

An article record is written *after* its chunks, so it doubles as a commit marker:
chunks whose article record is missing are orphans from an interrupted run and are
removed by :meth:`Store.remove_orphans`. Writers from several processes on one
persistent directory are serialised by a file lock (Chroma promises no
multi-process write safety for one directory).
"""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import numpy as np

from rag.errors import RagError
from rag.ingest.chunk import CHUNKER_VERSION
from rag.settings import Settings
from rag.tuning import ORPHAN_GRACE_S
from rag.types import Article, Chunk

CHUNKS = "chunks"
ARTICLES = "articles"
PAGE = 10_000  # Chroma's SQLite fails on reads of more than ~32k records with metadata at once
_FIELDS = ("file", "title", "outlet", "published", "url", "source")
# Prefixes this process's change tokens: a write made here is already in this process's
# Chroma System, so only other processes' writes make a reader reopen it (Store.refresh).
_PROCESS = uuid.uuid4().hex[:12]


def _meta_article(a: Article, n_chunks: int) -> dict:
    return {
        "file": a.file,
        "title": a.title,
        "outlet": a.outlet,
        "published": a.published,
        "url": a.url,
        "source": a.source,
        "n_chunks": n_chunks,
        "ingested_at": time.time(),
    }


def _get_all(col, include: list[str]) -> dict:
    """Every record of a collection, read in pages (one huge read fails in Chroma)."""
    out: dict[str, list] = {"ids": [], **{k: [] for k in include}}
    offset = 0
    while True:
        got = col.get(include=include, limit=PAGE, offset=offset)
        for k in out:
            part = got.get(k)
            out[k].extend(part if part is not None else [])
        if len(got["ids"]) < PAGE:
            return out
        offset += PAGE


def _article_from(aid: str, text: str, meta: dict) -> Article:
    return Article(id=aid, text=text or "", **{k: str(meta.get(k, "") or "") for k in _FIELDS})


def _forget_client(path: str) -> None:
    """Stop and drop Chroma's cached System for a persistent ``path`` (if any)."""
    from chromadb.api.shared_system_client import SharedSystemClient

    system = SharedSystemClient._identifier_to_system.pop(path, None)
    SharedSystemClient._identifier_to_refcount.pop(path, None)
    if system is not None:
        with contextlib.suppress(Exception):
            system.stop()


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
                self.client = chromadb.PersistentClient(
                    path=str(settings.data_dir / "chroma"), settings=chroma_settings
                )
                self.lock_path = settings.data_dir / "write.lock"
        except RagError:
            raise
        except Exception as exc:
            if not settings.chroma_url:
                # A failed open leaves a broken System in Chroma's process-wide cache;
                # drop it so that `rag ingest --rebuild` can start afresh.
                _forget_client(str(settings.data_dir / "chroma"))
            where = settings.chroma_url or str(settings.data_dir)
            raise RagError(
                f"cannot open the index at {where}: {exc.__class__.__name__}: {str(exc)[:200]}"
                " (if the data directory is damaged, run `rag ingest --rebuild`)"
            ) from exc
        self._thread_lock = threading.RLock()
        try:
            self.chunks = self._collection(CHUNKS)
            self.articles = self._collection(ARTICLES)
        except RagError:
            self.close()
            raise
        self._known_generation = self.generation()

    def refresh(self) -> bool:
        """Reopen a local index that another process has written to since this Store last
        looked; True when it did.

        Chroma keeps the vector index in memory per process and never reloads it, so a
        long-running reader (``rag serve``) would not find the vectors of a later
        ``rag ingest`` in another terminal (chroma-core/chroma#3792), while ``get`` does
        see the new chunks. A new System loads them from disk; the old one is not stopped,
        so a query running on it in another thread finishes.
        """
        if self.lock_path is None:  # a Chroma server: every client sees every write
            return False
        with self._thread_lock:
            generation = self.generation()
            if generation == self._known_generation:
                return False
            self._known_generation = generation
            if generation.startswith(_PROCESS + ":"):
                return False  # written in this process, through the System it shares
            import chromadb
            from chromadb.api.shared_system_client import SharedSystemClient
            from chromadb.config import Settings as ChromaSettings

            path = str(self.settings.data_dir / "chroma")
            SharedSystemClient._identifier_to_system.pop(path, None)
            SharedSystemClient._identifier_to_refcount.pop(path, None)
            self.client = chromadb.PersistentClient(
                path=path, settings=ChromaSettings(anonymized_telemetry=False, allow_reset=False)
            )
            self.chunks = self._collection(CHUNKS)
            self.articles = self._collection(ARTICLES)
            return True

    def close(self) -> None:
        """Release the local index folder (Chroma caches one open System per path)."""
        if not self.settings.chroma_url:
            _forget_client(str(self.settings.data_dir / "chroma"))

    # -- format ---------------------------------------------------------------
    def _format(self) -> dict:
        return {"embedder": self.embedder_name, "dim": self.dim, "chunker": CHUNKER_VERSION}

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
    def add_article(self, article: Article, chunks: list[Chunk], vectors: np.ndarray) -> None:
        """Write chunks, then the article record (the commit marker)."""
        self.add_articles([(article, chunks, vectors)])

    def add_articles(self, items: list[tuple[Article, list[Chunk], np.ndarray]]) -> None:
        """Write the chunks of several articles in few large writes (each Chroma write has
        a fixed cost), then each article's record (its commit marker)."""
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
        centroids = []
        for _, _, vectors in items:
            c = np.asarray(vectors, dtype=np.float32).mean(axis=0)
            centroids.append(c / (float(np.linalg.norm(c)) or 1.0))
        for (a, cs, _), c in zip(items, centroids):  # one commit marker per article
            self.articles.upsert(
                ids=[a.id], documents=[a.text], embeddings=c[None, :], metadatas=[_meta_article(a, len(cs))]
            )
        self._bump()

    def _batch_size(self) -> int:
        try:
            return max(1, min(5000, int(self.client.get_max_batch_size())))
        except Exception:  # an old server without the call
            return 1000

    def remove_article(self, article_id: str) -> None:
        """Remove the article record first, then its chunks (orphans are cleaned anyway)."""
        self.articles.delete(ids=[article_id])
        self.chunks.delete(where={"article_id": article_id})
        self._bump()

    # -- change detection -------------------------------------------------------
    def _bump(self) -> None:
        """Record that the index changed: a new token in the articles collection's metadata."""
        generation = f"{_PROCESS}:{uuid.uuid4().hex}"
        self.articles.modify(metadata={**self._format(), "generation": generation})
        self._known_generation = generation  # this process's own write: its vectors are in memory

    def generation(self) -> str:
        """A token that changes with every write ('' for an index never written by this
        version). One metadata read, whatever the size of the index: readers such as the
        lexical index compare it instead of listing every article."""
        col = self.client.get_collection(ARTICLES, embedding_function=None)
        return str((col.metadata or {}).get("generation", ""))

    def remove_orphans(self, min_age_s: float | None = None) -> int:
        """Delete chunks whose article record is missing; return how many.

        Locally the file lock serialises writers, so every orphan is left by an
        interrupted run. On a server another client may be between writing its chunks
        and its article record, so only orphans older than ``min_age_s`` (default
        :data:`ORPHAN_GRACE_S` there, 0 locally) are removed.
        """
        if min_age_s is None:
            min_age_s = 0.0 if self.lock_path is not None else ORPHAN_GRACE_S
        index = self.article_index()
        if self.chunks.count() <= sum(int(m.get("n_chunks", 0)) for m in index.values()):
            return 0  # every chunk belongs to a committed article: skip the scan
        cutoff = time.time() - min_age_s
        got = _get_all(self.chunks, ["metadatas"])
        orphan_ids = [
            i
            for i, m in zip(got["ids"], got["metadatas"])
            if m.get("article_id") not in index and float(m.get("written_at", 0.0)) <= cutoff
        ]
        for i in range(0, len(orphan_ids), 5000):
            self.chunks.delete(ids=orphan_ids[i : i + 5000])
        if orphan_ids:
            self._bump()
        return len(orphan_ids)

    # -- reads ----------------------------------------------------------------
    def article_index(self) -> dict[str, dict]:
        """article id -> metadata (no text)."""
        got = _get_all(self.articles, ["metadatas"])
        return dict(zip(got["ids"], got["metadatas"]))

    def get_article(self, article_id: str) -> Article | None:
        got = self.articles.get(ids=[article_id], include=["documents", "metadatas"])
        if not got["ids"]:
            return None
        return _article_from(got["ids"][0], got["documents"][0], got["metadatas"][0])

    def all_articles(self, with_vectors: bool = False) -> tuple[list[Article], np.ndarray | None]:
        include = ["documents", "metadatas"] + (["embeddings"] if with_vectors else [])
        got = _get_all(self.articles, include)
        arts = [_article_from(i, d, m) for i, d, m in zip(got["ids"], got["documents"], got["metadatas"])]
        order = sorted(range(len(arts)), key=lambda k: (arts[k].file, arts[k].id))
        arts = [arts[k] for k in order]
        vecs = None
        if with_vectors:
            emb = got["embeddings"]
            vecs = np.asarray([emb[k] for k in order], dtype=np.float32).reshape(len(order), self.dim)
        return arts, vecs

    def n_chunks(self) -> int:
        return self.chunks.count()

    def n_articles(self) -> int:
        return self.articles.count()

    def all_chunks(self) -> dict:
        """ids, documents and metadatas of every chunk (for the lexical index)."""
        return _get_all(self.chunks, ["documents", "metadatas"])

    def query(self, vector: np.ndarray, k: int, where: dict | None = None) -> dict:
        # No count() first: it costs ~45 ms at 100k chunks, and Chroma returns fewer
        # results (none for an empty collection) when it holds fewer than k.
        return self.chunks.query(
            query_embeddings=[vector.tolist()],
            n_results=max(1, k),
            where=where or None,
            include=["documents", "metadatas", "distances"],
        )

    def sources(self) -> list[dict]:
        """The ingested articles, for `rag sources` and the Library tab."""
        rows = []
        for aid, m in self.article_index().items():
            rows.append(
                {
                    "article_id": aid,
                    "file": m.get("file", ""),
                    "title": m.get("title", ""),
                    "outlet": m.get("outlet", ""),
                    "published": m.get("published", ""),
                    "chunks": int(m.get("n_chunks", 0)),
                }
            )
        return sorted(rows, key=lambda r: (r["file"], r["article_id"]))
