"""The corpus and the two lexical backends compared by evals/index_study/lexical_compare.py
(tantivy and SQLite FTS5), behind one small interface: add, commit, delete_article,
refresh, search, count, article_counts, close."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rag.checkout import REPO_ROOT

ROOT = REPO_ROOT or Path(".")
SEEDS = ROOT / "seeds"
MULTILING = ROOT / "evals" / "corpora" / "multiling2011" / "articles"
GOLD = ROOT / "evals" / "gold.jsonl"
OUTLETS = [f"outlet{i:02d}" for i in range(20)]
DAY0 = np.datetime64("2023-01-01")
K = 50


# -- corpus -------------------------------------------------------------------------
@dataclass
class Row:
    chunk_id: str
    article_id: str
    body: str  # space-separated tokens
    outlet: str
    published: str  # YYYY-MM-DD


def base_articles() -> list[list[list[str]]]:
    """Token lists of each chunk of each real article (seeds, then MultiLing)."""
    from rag.ingest.chunk import chunk_article
    from rag.ingest.read import read_file
    from rag.text import lexical_tokens

    out = []
    for f in sorted(SEEDS.glob("*.txt")) + sorted(MULTILING.glob("*.txt")):
        for a in read_file(f, 10_000_000):
            out.append([lexical_tokens(c.text) or ["_"] for c in chunk_article(a.id, a.text)])
    return out


class Corpus:
    """Article copies in a fixed order: copy ``c`` of base article ``p`` is article ``n = c * P + p``."""

    def __init__(self) -> None:
        self.base = base_articles()
        vocab = sorted({t for art in self.base for ch in art for t in ch})
        self.vocab = np.array(vocab, dtype=object)
        index = {t: i for i, t in enumerate(vocab)}
        self.ids = [[np.array([index[t] for t in ch], dtype=np.int64) for ch in art] for art in self.base]
        self.chunks_per_article = sum(len(a) for a in self.base) / len(self.base)

    def article(self, n: int, tag: str = "") -> list[Row]:
        c, p = divmod(n, len(self.base))
        aid = f"a{n:07d}{tag}"
        rng = np.random.default_rng([n, 7])
        outlet = OUTLETS[int(rng.integers(len(OUTLETS)))]
        day = str(DAY0 + int(rng.integers(730)))
        rows = []
        for k, ids in enumerate(self.ids[p]):
            if c:
                u = rng.random(len(ids))
                ids = np.where(u < 0.04, rng.integers(len(self.vocab), size=len(ids)), ids)[u >= 0.08]
            words = list(self.vocab[ids]) + ([f"u{n}x{k}", f"v{n}y{k}"] if c else [])
            rows.append(Row(f"{aid}:{k}", aid, " ".join(words), outlet, day))
        return rows

    def batches(self, start: int, n_chunks: int, per_commit: int) -> Iterator[tuple[int, list[Row]]]:
        """Rows from article ``start`` on, ``per_commit`` chunks at a time, ``n_chunks`` in all."""
        n, done, batch = start, 0, []
        while done < n_chunks:
            rows = self.article(n)
            n += 1
            batch += rows
            done += len(rows)
            if len(batch) >= per_commit or done >= n_chunks:
                yield n, batch
                batch = []


def questions() -> list[list[str]]:
    from rag.text import lexical_tokens

    rows = [json.loads(x) for x in GOLD.read_text(encoding="utf-8").splitlines() if x.strip()]
    return [sorted(set(lexical_tokens(r["question"]))) for r in rows]


# -- the two backends ---------------------------------------------------------------
class Tantivy:
    name = "tantivy"

    def __init__(self, path: Path, write: bool) -> None:
        import tantivy

        self.t = tantivy
        sb = tantivy.SchemaBuilder()
        sb.add_text_field("chunk_id", stored=True, tokenizer_name="raw", index_option="basic")
        sb.add_text_field("article_id", tokenizer_name="raw", index_option="basic")
        sb.add_text_field("body", tokenizer_name="whitespace", index_option="freq")
        sb.add_text_field("outlet", tokenizer_name="raw", index_option="basic")
        sb.add_integer_field("published", indexed=True, fast=True)
        self.schema = sb.build()
        path.mkdir(parents=True, exist_ok=True)
        self.index = tantivy.Index(self.schema, path=str(path))
        self.writer = self.index.writer(heap_size=128_000_000, num_threads=1) if write else None

    def add(self, rows: list[Row]) -> None:
        for r in rows:
            self.writer.add_document(
                self.t.Document(
                    chunk_id=r.chunk_id,
                    article_id=r.article_id,
                    body=r.body,
                    outlet=r.outlet,
                    published=int(r.published.replace("-", "")),
                )
            )

    def commit(self) -> None:
        self.writer.commit()

    def delete_article(self, aid: str) -> None:
        self.writer.delete_documents_by_term("article_id", aid)

    def refresh(self) -> None:
        self.index.reload()

    def search(self, toks: list[str], k: int = K, outlet: str | None = None, since=None, until=None):
        t = self.t
        q = t.Query.boolean_query([(t.Occur.Should, t.Query.term_query(self.schema, "body", w, "freq")) for w in toks])
        filters = []
        if outlet:
            filters.append((t.Occur.Must, t.Query.term_query(self.schema, "outlet", outlet, "basic")))
        if since or until:
            lo = int(since.replace("-", "")) if since else None
            hi = int(until.replace("-", "")) if until else None
            filters.append((t.Occur.Must, t.Query.range_query(self.schema, "published", t.FieldType.Integer, lo, hi)))
        if filters:
            q = t.Query.boolean_query(
                [(t.Occur.Must, q), (t.Occur.Must, t.Query.const_score_query(t.Query.boolean_query(filters), 0.0))]
            )
        s = self.index.searcher()
        hits = s.search(q, k, count=False).hits
        return [(s.doc(a)["chunk_id"][0], float(score)) for score, a in hits]

    def count(self) -> int:
        return self.index.searcher().num_docs

    def article_counts(self) -> dict[str, int]:
        s = self.index.searcher()
        got = s.search(self.t.Query.all_query(), max(1, s.num_docs), count=False).hits
        out: dict[str, int] = {}
        for _, a in got:
            aid = s.doc(a)["chunk_id"][0].split(":")[0]
            out[aid] = out.get(aid, 0) + 1
        return out

    def close(self) -> None:
        if self.writer is not None:
            self.writer.wait_merging_threads()
            self.writer = None


class Fts5:
    name = "fts5"

    def __init__(self, path: Path, write: bool) -> None:
        path.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(str(path / "lexical.sqlite3"), isolation_level=None, timeout=30)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        if write:
            self.db.executescript(
                """
                CREATE TABLE IF NOT EXISTS chunks(rowid INTEGER PRIMARY KEY, chunk_id TEXT UNIQUE NOT NULL,
                    article_id TEXT NOT NULL, outlet TEXT, published TEXT, body TEXT NOT NULL);
                CREATE INDEX IF NOT EXISTS chunks_article ON chunks(article_id);
                CREATE VIRTUAL TABLE IF NOT EXISTS fts USING fts5(body, content='chunks', content_rowid='rowid',
                    tokenize="unicode61 remove_diacritics 0 tokenchars '.''%$-'");
                CREATE TRIGGER IF NOT EXISTS chunks_ai AFTER INSERT ON chunks BEGIN
                    INSERT INTO fts(rowid, body) VALUES (new.rowid, new.body); END;
                CREATE TRIGGER IF NOT EXISTS chunks_ad AFTER DELETE ON chunks BEGIN
                    INSERT INTO fts(fts, rowid, body) VALUES ('delete', old.rowid, old.body); END;
                """
            )
        self.pending = False

    def _begin(self) -> None:
        if not self.pending:
            self.db.execute("BEGIN IMMEDIATE")
            self.pending = True

    def add(self, rows: list[Row]) -> None:
        self._begin()
        self.db.executemany(
            "INSERT INTO chunks(chunk_id, article_id, outlet, published, body) VALUES (?,?,?,?,?)",
            [(r.chunk_id, r.article_id, r.outlet, r.published, r.body) for r in rows],
        )

    def commit(self) -> None:
        if self.pending:
            self.db.execute("COMMIT")
            self.pending = False

    def delete_article(self, aid: str) -> None:
        self._begin()
        self.db.execute("DELETE FROM chunks WHERE article_id = ?", (aid,))

    def refresh(self) -> None:
        pass  # WAL: every statement sees the last commit

    def search(self, toks: list[str], k: int = K, outlet: str | None = None, since=None, until=None):
        match = " OR ".join('"' + w.replace('"', '""') + '"' for w in toks)
        if not (outlet or since or until):
            sql = "SELECT c.chunk_id, f.rank FROM (SELECT rowid, rank FROM fts WHERE fts MATCH ? ORDER BY rank LIMIT ?) f JOIN chunks c ON c.rowid = f.rowid ORDER BY f.rank"
            return [(cid, -s) for cid, s in self.db.execute(sql, (match, k))]
        where, args = ["fts MATCH ?"], [match]
        if outlet:
            where.append("c.outlet = ?")
            args.append(outlet)
        if since:
            where.append("c.published >= ?")
            args.append(since)
        if until:
            where.append("c.published <= ?")
            args.append(until)
        sql = f"SELECT c.chunk_id, bm25(fts) AS s FROM fts JOIN chunks c ON c.rowid = fts.rowid WHERE {' AND '.join(where)} ORDER BY s LIMIT ?"
        return [(cid, -s) for cid, s in self.db.execute(sql, (*args, k))]

    def count(self) -> int:
        return self.db.execute("SELECT count(*) FROM chunks").fetchone()[0]

    def article_counts(self) -> dict[str, int]:
        return dict(self.db.execute("SELECT article_id, count(*) FROM chunks GROUP BY article_id"))

    def integrity(self) -> str:
        try:
            self.db.execute("INSERT INTO fts(fts, rank) VALUES ('integrity-check', 0)")
            return self.db.execute("PRAGMA integrity_check").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            return f"{exc.__class__.__name__}: {exc}"

    def optimize(self) -> None:
        self.db.execute("INSERT INTO fts(fts) VALUES ('optimize')")

    def close(self) -> None:
        self.commit()
        self.db.close()


BACKENDS = {"tantivy": Tantivy, "fts5": Fts5}
