"""The vector index (Chroma) and the lexical index (tantivy) stay in step: written in the
order chunks -> lexical commit -> article record, a process killed with SIGKILL at any
of those points leaves, after the next ingest, every article exactly once in BOTH
indexes and no orphans; removal and updates reach both; filters are applied inside
both, so a narrow filter never starves the candidate pool. Real Chroma, real tantivy;
the embedder is a bag-of-words stand-in (tests/index_helpers.py), the index logic is
what is tested."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from index_helpers import WordEmbedder, assert_consistent, open_store
from test_ingest import TOWNS, story

from rag.errors import RagError
from rag.index.retrieve import Filters, Retriever
from rag.ingest.chunk import chunk_article
from rag.ingest.pipeline import ingest_paths
from rag.ingest.read import read_file
from rag.tuning import POOL

pytestmark = pytest.mark.slow
TESTS = Path(__file__).resolve().parent

# The child process: ingest ``folder`` and SIGKILL itself at the n-th passage through a
# write step (after the step's call returns, or just before the lexical commit).
CHILD = r"""
import os, signal, sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from index_helpers import WordEmbedder, open_store
from rag.index.lexical_store import LexicalStore
from rag.ingest.pipeline import ingest_paths

point, n, data, folder = sys.argv[2], int(sys.argv[3]), Path(sys.argv[4]), Path(sys.argv[5])
store = open_store(data)
seen = [0]

def die_at_n():
    seen[0] += 1
    if seen[0] == n:
        os.kill(os.getpid(), signal.SIGKILL)

def after(cls, name, collection=None):
    real = getattr(cls, name)
    def wrapped(self, *a, **k):
        out = real(self, *a, **k)
        if collection is None or self.name == collection:
            die_at_n()
        return out
    setattr(cls, name, wrapped)

col = type(store.chunks)
if point == "lexical-before-commit":
    real_commit = LexicalStore._commit
    def commit(self):
        die_at_n()
        real_commit(self)
    LexicalStore._commit = commit
elif point == "lexical-after-commit":
    after(LexicalStore, "_commit")
else:
    kind, coll = {"chunks-upsert": ("upsert", "chunks"), "record-upsert": ("upsert", "articles"),
                  "remove-record": ("delete", "articles"), "remove-chunks": ("delete", "chunks")}[point]
    after(col, kind, coll)
ingest_paths(store, WordEmbedder(), [folder], batch_articles=1)
print("finished")
"""

# (step, which passage through it). The run, one article per batch: the sync removal
# (record, Chroma chunks, lexical commit), the update's removal of the old version (the
# same), then three batches of chunks upsert, lexical commit, record upsert.
KILLS = [
    *[("chunks-upsert", n) for n in (1, 2, 3)],
    *[("lexical-before-commit", n) for n in (1, 2, 3, 4, 5)],
    *[("lexical-after-commit", n) for n in (1, 3, 5)],
    *[("record-upsert", n) for n in (1, 3)],
    *[("remove-record", n) for n in (1, 2)],
    *[("remove-chunks", n) for n in (1, 2)],
]


def _expected(folder: Path) -> dict[str, int]:
    out = {}
    for f in sorted(folder.iterdir()):
        for a in read_file(f, 10_000_000):
            out[a.id] = len(chunk_article(a.id, a.text))
    return out


@pytest.mark.parametrize(("point", "n"), KILLS)
def test_sigkill_at_every_write_step_leaves_both_indexes_whole(tmp_path, point, n):
    folder = tmp_path / "news"
    folder.mkdir()
    for t in TOWNS[:3]:
        (folder / f"{t.lower()}.txt").write_text(story(t), encoding="utf-8")
    data = tmp_path / "data"
    ingest_paths(open_store(data), WordEmbedder(), [folder])
    # The next run removes one article (sync), updates one (new text, new id) and adds two.
    (folder / "carrow.txt").unlink()
    (folder / "brookfield.txt").write_text(story("Brookfield", " The opening was delayed by rain."), encoding="utf-8")
    for t in TOWNS[3:5]:
        (folder / f"{t.lower()}.txt").write_text(story(t), encoding="utf-8")
    child = subprocess.run(
        [sys.executable, "-c", CHILD, str(TESTS), point, str(n), str(data), str(folder)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert child.returncode == -9, f"not killed at {point} #{n}: rc {child.returncode}\n{child.stderr[-2000:]}"

    store = open_store(data)
    report = ingest_paths(store, WordEmbedder(), [folder])
    assert not report.skipped
    assert_consistent(store, _expected(folder))
    hits = Retriever(store, WordEmbedder()).search("Dunmere bridge council", k=3)
    assert hits and hits[0].title.startswith("Dunmere"), [h.title for h in hits]
    store.close()


def test_remove_and_update_reach_both_indexes(tmp_path):
    folder = tmp_path / "news"
    folder.mkdir()
    for t in TOWNS[:4]:
        (folder / f"{t.lower()}.txt").write_text(story(t), encoding="utf-8")
    store = open_store(tmp_path / "data")
    ingest_paths(store, WordEmbedder(), [folder])
    assert_consistent(store, _expected(folder))
    (first,) = read_file(folder / "alderby.txt", 10_000_000)
    assert store.lexical.search("Alderby")[0].article_id == first.id
    store.remove_article(first.id)  # `rag remove`
    assert not store.lexical.search("Alderby")
    (folder / "alderby.txt").unlink()
    (folder / "carrow.txt").unlink()  # sync removal
    (folder / "dunmere.txt").write_text(story("Dunmere", " Tolls were dropped."), encoding="utf-8")  # updated
    report = ingest_paths(store, WordEmbedder(), [folder])
    assert report.removed == ["carrow.txt"] and report.updated == ["dunmere.txt"], report
    assert_consistent(store, _expected(folder))
    assert not store.lexical.search("Carrow") and store.lexical.search("tolls")


def test_an_index_without_the_lexical_format_asks_for_a_rebuild(tmp_path):
    store = open_store(tmp_path / "data")
    fmt = {k: v for k, v in store._format().items() if k != "lexical"}
    store.chunks.modify(metadata=fmt)  # what an index written before the lexical index holds
    store.close()
    with pytest.raises(RagError, match="rag ingest --rebuild"):
        open_store(tmp_path / "data")


def _filter_corpus(folder: Path) -> None:
    """400 articles of one outlet in 2024 about the query's words; three of another outlet
    in 2019 that mention them once."""
    folder.mkdir()
    rows = [
        {
            "title": f"Town {i}",
            "text": story(f"Town{i}"),
            "outlet": "Daily Big",
            "published": f"2024-03-{1 + i % 28:02d}",
        }
        for i in range(400)
    ]
    for i, what in enumerate(["harvest fair", "school play", "rail strike"]):
        text = (
            f"Village news: the {what} drew visitors from the whole valley. Organisers thanked volunteers, "
            f"the weather held and a small bridge was repainted for the occasion number {i}."
        )
        rows.append({"title": f"Tiny {i}", "text": text, "outlet": "Tiny Gazette", "published": f"2019-06-{10 + i}"})
    (folder / "news.jsonl").write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")


def test_a_narrow_filter_is_applied_inside_both_indexes(tmp_path):
    _filter_corpus(tmp_path / "news")
    store = open_store(tmp_path / "data")
    ingest_paths(store, WordEmbedder(), [tmp_path / "news"])
    retr = Retriever(store, WordEmbedder())
    query = "bridge council traffic mayor"
    # The setup means something: no Tiny chunk is in either unfiltered candidate pool.
    dense = store.query(WordEmbedder().embed([query])[0], k=POOL)
    assert not [m for m in dense["metadatas"][0] if m["outlet"] == "Tiny Gazette"]
    lexical = store.lexical.search(query, k=POOL)
    tiny_ids = {cid for cid in store.chunks.get(where={"outlet": "Tiny Gazette"})["ids"]}
    assert not tiny_ids & {h.chunk_id for h in lexical}

    for filters in (Filters(outlet="tiny gazette"), Filters(since="2019", until="2019-12"), Filters(until="2020")):
        hits = retr.search(query, k=5, filters=filters)
        assert len(hits) == 3 and {h.outlet for h in hits} == {"Tiny Gazette"}, (filters, hits)
        assert all(h.dense_rank is not None and h.lexical_rank is not None for h in hits), hits
    assert not retr.search(query, k=5, filters=Filters(outlet="Tiny Gazette", since="2024"))
