"""The lexical index: BM25 over every chunk, on disk beside Chroma (tantivy).

Incremental: an ingest adds its chunks and a delete removes an article's, each as one
tantivy commit; nothing is rebuilt except by :meth:`LexicalStore.rebuild`. A commit is
atomic (tantivy publishes a new ``meta.json`` by rename), so a process killed at any
point leaves the index as it was at its last commit, with every article whole or absent.

Text is tokenised by :func:`rag.text.lexical_tokens` (content words, a light plural
fold) at write and at query time, so the index matches exactly what the in-memory BM25
matched; tantivy only splits the tokens on spaces. Outlet and publication day are
indexed too, so filters are applied inside the search: a narrow filter ranks the
matching chunks instead of filtering an unfiltered top ``k`` down to nothing.

One writer at a time (tantivy's own lock file; :meth:`writing` waits for it) and any
number of readers, in any processes. A reader sees another process's commit at its
next search: each read checks ``meta.json`` (one ``stat``) and reloads when it changed.
The collection statistics of the exact BM25 (chunk count, mean length) are computed
once per reload, not per query.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import shutil
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from rag.errors import RagError
from rag.text import lexical_tokens

# Bumped when the schema or the tokenisation changes: an index of another format must be
# rebuilt (`rag ingest --rebuild`), never read with the wrong tokens.
FORMAT = {"format": 2, "tokens": "lexical_tokens-v1"}
FORMAT_FILE = "rag-format.json"
WRITER_HEAP = 64_000_000  # bytes of tantivy's indexing arena (its minimum is 15 MB per thread)
# BM25 as ranked: Lucene's variant, k1 = 1.5, b = 0.75, exact document lengths.
# tantivy's own BM25 (k1 = 1.2, lengths quantised to a byte) only picks the candidates.
K1, B = 1.5, 0.75
CANDIDATES = 200  # tantivy's best, re-scored exactly (at least 4 * k)
_DAY = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:$|T)")


@dataclass(frozen=True)
class LexicalChunk:
    """What the lexical index keeps of a chunk."""

    chunk_id: str
    article_id: str
    text: str
    outlet: str = ""
    published: str = ""  # YYYY-MM-DD, or '' when the article shows no date


@dataclass(frozen=True)
class LexicalHit:
    chunk_id: str
    article_id: str
    score: float


def day_number(iso: str | None) -> int | None:
    """An ISO day as a sortable integer; None for no (or a malformed) date.

    >>> day_number("2024-08-13"), day_number("2024-08-13T09:30"), day_number(""), day_number("2024-08")
    (20240813, 20240813, None, None)
    """
    m = _DAY.match(iso or "")
    return int(m.group(1) + m.group(2) + m.group(3)) if m else None


def _tokens(text: str) -> list[str]:
    return lexical_tokens(text)


def _schema():
    import tantivy

    sb = tantivy.SchemaBuilder()
    sb.add_text_field("chunk_id", stored=True, tokenizer_name="raw", index_option="basic")
    sb.add_text_field("article_id", stored=True, tokenizer_name="raw", index_option="basic")
    # Pre-tokenised text: the tokens of lexical_tokens joined by spaces; term
    # frequencies for BM25, no positions (no phrase queries).
    sb.add_text_field("body", stored=True, tokenizer_name="whitespace", index_option="freq")
    sb.add_integer_field("ntok", stored=True, fast=True)  # the body's token count (at least 1)
    sb.add_text_field("outlet", tokenizer_name="raw", index_option="basic")  # lowercased
    sb.add_integer_field("published", indexed=True, fast=True)  # YYYYMMDD; absent without a date
    return sb.build()


def bm25_scores(query: list[str], docs: list[list[str]], n: int, avg_len: float, df: dict[str, int]) -> list[float]:
    """BM25 (Lucene's idf ``ln(1 + (n - df + 0.5) / (df + 0.5))``, ``K1``, ``B``) of each
    tokenised doc for the query tokens (a repeated query token counts again; a token no
    chunk has scores nothing); a doc's length is its token count, at least 1.

    >>> [round(s, 3) for s in bm25_scores(["harbour"], [["harbour", "reopened"], ["boats"]], 4, 2.0, {"harbour": 1})]
    [0.482, 0.0]
    """
    idf = {w: math.log(1.0 + (n - d + 0.5) / (d + 0.5)) for w, d in df.items() if d > 0}
    weight = Counter(w for w in query if w in idf)  # a repeated query token counts again
    out = []
    for toks in docs:
        norm = K1 * (1.0 - B + B * max(1, len(toks)) / avg_len)
        score = 0.0
        for w, times in weight.items():
            tf = toks.count(w)  # only the query's tokens are counted (C speed, no Counter of the doc)
            if tf:
                score += times * idf[w] * tf / (norm + tf)
        out.append(score)
    return out


class LexicalStore:
    """A persistent BM25 index of chunks in the folder ``path``.

    >>> import tempfile
    >>> lex = LexicalStore(Path(tempfile.mkdtemp()) / "lexical")
    >>> lex.add([LexicalChunk("a:0", "a", "The harbour reopened after repairs", "Port News", "2024-05-02"),
    ...          LexicalChunk("b:0", "b", "Fishing boats returned to the harbour", "Coast FM", "2024-06-10")])
    2
    >>> [h.chunk_id for h in lex.search("harbour repairs")]
    ['a:0', 'b:0']
    >>> [h.chunk_id for h in lex.search("harbour", outlet="coast fm")], lex.search("harbour", until="2024-05-31")[0].article_id
    (['b:0'], 'a')
    """

    def __init__(self, path: Path, writer_heap: int = WRITER_HEAP) -> None:
        import tantivy

        self._t = tantivy
        self.path = Path(path)
        self.writer_heap = writer_heap
        self.schema = _schema()
        self._index = None
        self._writer = None
        self._lock = threading.RLock()  # one writer per process; tantivy's lock file across processes
        self._read_lock = threading.Lock()  # a reload and the searcher it gives, together
        self._seen: tuple | None = None  # meta.json's identity at the last reload
        self._generation = 0  # bumped at each reload: what the collection statistics belong to
        self._stats: tuple[int, int, float] | None = None  # (generation, chunks, mean token count)
        self._open(create=False)

    # -- opening ------------------------------------------------------------------
    def _open(self, create: bool) -> bool:
        """Open the index if it exists (or create it); False when there is none yet."""
        if self._index is not None:
            return True
        try:
            exists = self.path.is_dir() and self._t.Index.exists(str(self.path))
            if not exists and not create:
                return False
            self._check_format(exists)
            self.path.mkdir(parents=True, exist_ok=True)
            self._index = self._t.Index(self.schema, path=str(self.path), reuse=True)
            # Searchers change only when this store reloads (on its own commit, or when
            # meta.json shows another's): collection statistics are then cached per reload.
            self._index.config_reader("Manual")
            self._seen = self._meta_identity()
            self._generation += 1  # a new Index (first open, or after a rebuild): no statistics carry over
            if not exists:
                self._write_format()
        except RagError:
            raise
        except (OSError, ValueError) as exc:
            raise RagError(
                f"cannot open the lexical index at {self.path}: {exc.__class__.__name__}: {str(exc)[:200]}"
                " (run `rag ingest --rebuild`)"
            ) from exc
        return True

    def _check_format(self, exists: bool) -> None:
        f = self.path / FORMAT_FILE
        if not exists:
            return
        try:
            have = json.loads(f.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            have = None
        if have != FORMAT:
            raise RagError(
                f"the lexical index at {self.path} has format {have!r}, this version uses {FORMAT!r}:"
                " run `rag ingest --rebuild`"
            )

    def _write_format(self) -> None:
        tmp = self.path / (FORMAT_FILE + ".tmp")
        tmp.write_text(json.dumps(FORMAT), encoding="utf-8")
        os.replace(tmp, self.path / FORMAT_FILE)

    # -- writing --------------------------------------------------------------------
    @contextlib.contextmanager
    def writing(self, timeout_s: float = 600.0) -> Iterator[None]:
        """Hold the index's writer for several writes (one writer at a time, across
        processes: this waits up to ``timeout_s`` for another to finish). Merges still
        running are finished when the block ends."""
        with self._lock:
            if self._writer is not None:  # nested: the outer block owns the writer
                yield
                return
            self._open(create=True)
            deadline = time.monotonic() + timeout_s
            while True:
                try:
                    self._writer = self._index.writer(heap_size=self.writer_heap, num_threads=1)
                    break
                except ValueError as exc:
                    if "LockBusy" not in str(exc):
                        raise RagError(f"cannot write the lexical index at {self.path}: {exc}") from exc
                    if time.monotonic() >= deadline:
                        raise RagError(
                            f"the lexical index at {self.path} is being written by another process"
                            f" (waited {timeout_s:.0f}s)"
                        ) from None
                    time.sleep(0.05)
            try:
                yield
            finally:
                writer, self._writer = self._writer, None
                writer.wait_merging_threads()  # also releases tantivy's lock file

    def add(self, chunks: Sequence[LexicalChunk]) -> int:
        """Add chunks in one commit; an article already in the index is replaced whole
        (so a retried write never doubles it). Returns the number of chunks written."""
        if not chunks:
            return 0
        t = self._t
        with self.writing():
            for aid in dict.fromkeys(c.article_id for c in chunks):
                self._writer.delete_documents_by_term("article_id", aid)
            for c in chunks:
                toks = _tokens(c.text)
                doc = t.Document(
                    chunk_id=c.chunk_id,
                    article_id=c.article_id,
                    body=" ".join(toks),
                    outlet=c.outlet.strip().lower(),
                )
                doc.add_integer("ntok", max(1, len(toks)))
                day = day_number(c.published)
                if day is not None:
                    doc.add_integer("published", day)
                self._writer.add_document(doc)
            self._commit()
        return len(chunks)

    def delete(self, article_ids: Iterable[str]) -> None:
        """Remove every chunk of these articles, in one commit."""
        ids = list(dict.fromkeys(article_ids))
        if not ids or not self._open(create=False):
            return
        with self.writing():
            for aid in ids:
                self._writer.delete_documents_by_term("article_id", aid)
            self._commit()

    def _commit(self) -> None:
        self._writer.commit()
        self._reload()  # this process's own searchers: at once

    def _meta_identity(self) -> tuple | None:
        """Which ``meta.json`` is on disk (tantivy publishes each commit by renaming a new one)."""
        try:
            st = (self.path / "meta.json").stat()
        except OSError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def _reload(self) -> None:
        with self._read_lock:
            self._seen = self._meta_identity()
            self._index.reload()
            self._generation += 1

    def _searcher(self):
        """A searcher of the last commit on disk, with its generation: reloaded when
        ``meta.json`` changed since the last reload (one ``stat``), so a reader sees
        another process's commit at its next search."""
        if self._meta_identity() != self._seen:
            self._reload()
        with self._read_lock:
            return self._index.searcher(), self._generation

    def rebuild(self) -> None:
        """Drop the whole index and create it empty (the only way it is rebuilt)."""
        with self._lock:
            if self._writer is not None:
                raise RagError("cannot rebuild the lexical index while writing to it")
            self._index = None
            if self.path.exists():
                shutil.rmtree(self.path)
            self._open(create=True)

    # -- reading --------------------------------------------------------------------
    def refresh(self) -> None:
        """See every commit up to now (a search also does, by itself, when meta.json changed)."""
        if self._open(create=False):
            self._reload()

    def search(
        self,
        query: str,
        k: int = 50,
        since: str | None = None,
        until: str | None = None,
        outlet: str | None = None,
    ) -> list[LexicalHit]:
        """The ``k`` best chunks for ``query`` by BM25, best first, among the chunks that
        pass the filters: ``outlet`` (case-insensitive), ``since``/``until`` (ISO days,
        inclusive; a chunk without a date fails a date filter)."""
        toks = _tokens(query)
        if not toks or k <= 0 or not self._open(create=False):
            return []
        t = self._t
        q = t.Query.boolean_query([(t.Occur.Should, t.Query.term_query(self.schema, "body", w, "freq")) for w in toks])
        filters = []
        if outlet:
            filters.append((t.Occur.Must, t.Query.term_query(self.schema, "outlet", outlet.strip().lower(), "basic")))
        lo, hi = day_number(since), day_number(until)
        if (since and lo is None) or (until and hi is None):
            raise RagError(f"not a date filter: since={since!r}, until={until!r} (use YYYY-MM-DD)")
        if lo is not None or hi is not None:
            filters.append((t.Occur.Must, t.Query.range_query(self.schema, "published", t.FieldType.Integer, lo, hi)))
        if filters:  # filters select, they do not score
            q = t.Query.boolean_query(
                [(t.Occur.Must, q), (t.Occur.Must, t.Query.const_score_query(t.Query.boolean_query(filters), 0.0))]
            )
        searcher, generation = self._searcher()
        found = searcher.search(q, max(CANDIDATES, 4 * k), count=False).hits
        if not found:
            return []
        docs = [searcher.doc(addr) for _, addr in found]
        n, avg_len = self._collection_stats(searcher, generation)
        df = {w: self._live_doc_freq(searcher, w) for w in set(toks)}
        scores = bm25_scores(toks, [d["body"][0].split() for d in docs], n, avg_len, df)
        order = sorted(range(len(docs)), key=lambda i: -scores[i])[:k]
        return [LexicalHit(docs[i]["chunk_id"][0], docs[i]["article_id"][0], scores[i]) for i in order]

    def _collection_stats(self, searcher, generation: int) -> tuple[int, float]:
        """Chunks in the index and their mean token count, computed once per reload
        (a sum over every chunk: ~O(index))."""
        cached = self._stats
        if cached is not None and cached[0] == generation:
            return cached[1], cached[2]
        n = searcher.num_docs
        agg = searcher.aggregate(self._t.Query.all_query(), {"len": {"sum": {"field": "ntok"}}})
        total = float(agg["len"]["value"] or 0.0)
        avg = total / n if n else 1.0
        self._stats = (generation, n, avg)
        return n, avg

    def _live_doc_freq(self, searcher, token: str) -> int:
        """Chunks having ``token``, deleted ones not counted (tantivy's ``doc_freq`` counts
        them until their segment is merged)."""
        q = self._t.Query.term_query(self.schema, "body", token, "basic")
        return searcher.search(q, 1, count=True).count

    def has_term(self, token: str) -> bool:
        """Whether a chunk in the index (deleted ones not counted) has this token
        (a token of :func:`rag.text.lexical_tokens`)."""
        if not token or not self._open(create=False):
            return False
        q = self._t.Query.term_query(self.schema, "body", token, "basic")
        return self._searcher()[0].search(q, 1, count=True).count > 0

    def count(self) -> int:
        """Chunks in the index (as of the last commit this reader has seen)."""
        return self._searcher()[0].num_docs if self._open(create=False) else 0

    def article_counts(self) -> dict[str, int]:
        """article id -> number of its chunks in the index (deleted ones not counted):
        what a consistency check compares with the vector index's article records."""
        if not self._open(create=False):
            return {}
        searcher = self._searcher()[0]
        got = searcher.terms_with_prefix("article_id", "", filter_query=self._t.Query.all_query())
        return {term: int(n) for term, n in got if n}

    def disk_bytes(self) -> int:
        return sum(f.stat().st_size for f in self.path.rglob("*") if f.is_file()) if self.path.exists() else 0
