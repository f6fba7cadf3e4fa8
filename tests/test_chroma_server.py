"""The index on a Chroma server (`--chroma-url`): a real `chroma run` on loopback,
started here in a temporary folder and stopped afterwards."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from conftest import MULTILING, SEEDS

from rag.api import Rag
from rag.app.cli import main
from rag.devtools.bench import chroma_server
from rag.index.embed import EMBEDDER_NAME
from rag.index.store import ORPHAN_GRACE_S, Store
from rag.ingest.chunk import chunk_article
from rag.settings import Settings

pytestmark = [pytest.mark.server, pytest.mark.slow]

QUESTION = "How many people were listening when Trump claimed 60 million?"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with chroma_server(tmp_path_factory.mktemp("chroma") / "data") as (url, proc):
        yield url


def _reset(url: str, data_dir: Path) -> Store:
    store = Store(Settings(chroma_url=url, data_dir=data_dir), EMBEDDER_NAME, 384)
    store.rebuild()
    return store


def _chunk_counts(store: Store) -> dict[str, int]:
    """file -> number of chunks actually stored for its article."""
    got = store.chunks.get(include=["metadatas"])
    return dict(Counter(m["file"] for m in got["metadatas"]))


def _cli(*args: str, env_dir: Path) -> subprocess.Popen:
    env = {**os.environ, "RAG_DATA_DIR": str(env_dir)}
    return subprocess.Popen(
        [sys.executable, "-m", "rag.app.cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def test_ingest_and_search_through_the_server(server, tmp_path, embedder, capsys):
    _reset(server, tmp_path / "reset")
    rag = Rag(Settings(chroma_url=server, data_dir=tmp_path / "unused"))
    report = rag.ingest([SEEDS])
    assert len(report.added) == 5 and not report.skipped
    assert not (tmp_path / "unused" / "chroma").exists(), "a server index must not write a local one"

    assert main(["search", "--chroma-url", server, QUESTION, "--k", "3", "--json"]) == 0
    results = json.loads(capsys.readouterr().out)["results"]
    assert len(results) == 3
    assert any(
        "Only 1.1 million were listening" in r["text"] and r["outlet"] == "The Washington Post" for r in results
    ), [r["text"][:80] for r in results]

    again = Rag(Settings(chroma_url=server, data_dir=tmp_path / "again")).ingest([SEEDS])
    assert len(again.unchanged) == 5 and not again.added


def test_two_clients_ingesting_and_querying_at_once(server, tmp_path, embedder):
    """Two processes ingest different folders into one server while a third searches;
    afterwards every article is there exactly once with exactly its chunks."""
    _reset(server, tmp_path / "reset")
    news = tmp_path / "news"
    news.mkdir()
    for f in sorted((MULTILING / "articles").glob("M000*.txt")):
        (news / f.name).write_bytes(f.read_bytes())
    procs = [
        _cli("ingest", "--chroma-url", server, str(SEEDS), "--json", env_dir=tmp_path / "a"),
        _cli("ingest", "--chroma-url", server, str(news), "--json", env_dir=tmp_path / "b"),
    ]
    time.sleep(8)  # let the ingests get going, then query while they write
    searches = [_cli("search", "--chroma-url", server, QUESTION, "--json", env_dir=tmp_path / "c")]
    try:
        outs = [p.communicate(timeout=600) for p in procs + searches]
    finally:
        for p in procs + searches:  # bounded: never leave a client running
            if p.poll() is None:
                p.kill()
                p.wait(10)
    for p, (_, err) in zip(procs + searches, outs):
        assert p.returncode == 0 and "Traceback" not in err, err[-2000:]
    reports = [json.loads(out) for out, _ in outs[:2]]
    assert len(reports[0]["added"]) == 5 and len(reports[1]["added"]) == 10, reports
    json.loads(outs[2][0])  # the search answered with valid JSON mid-ingest

    # The same files ingested locally give the reference chunk counts.
    local = Rag(Settings(data_dir=tmp_path / "local"))
    local.ingest([SEEDS, news])
    want = _chunk_counts(local.store)

    store = Store(Settings(chroma_url=server, data_dir=tmp_path / "check"), EMBEDDER_NAME, 384)
    files = Counter(m["file"] for m in store.article_index().values())
    assert files == Counter({f: 1 for f in want}), "every article exactly once"
    assert _chunk_counts(store) == want, "each article with exactly its chunks"
    known = set(store.article_index())
    got = store.chunks.get(include=["metadatas"])
    assert {m["article_id"] for m in got["metadatas"]} == known, "no orphan chunks"


def test_a_second_client_keeps_chunks_awaiting_their_commit_marker(server, tmp_path, embedder):
    """On a server there is no cross-process lock: chunks written by one client whose
    article record is not written yet must survive another client's ingest; orphans
    older than the grace period are removed."""
    store = _reset(server, tmp_path / "one")
    text = (SEEDS / "002_c7922ba59901108c.txt").read_text(encoding="utf-8")
    chunks = chunk_article("inflight0000000a", text)
    vecs = embedder.embed([c.text for c in chunks])
    meta = {"article_id": "inflight0000000a", "file": "inflight.txt", "title": "", "outlet": "", "published": ""}
    # Client 1, between its chunks and its article record:
    store.chunks.upsert(
        ids=[c.id for c in chunks],
        documents=[c.text for c in chunks],
        embeddings=vecs,
        metadatas=[
            {**meta, "start": c.start, "end": c.end, "index": c.index, "written_at": time.time()} for c in chunks
        ],
    )
    # A stale orphan from a client that died long ago:
    stale = np.asarray(vecs[:1])
    old = time.time() - ORPHAN_GRACE_S - 60
    store.chunks.upsert(
        ids=["dead00000000000a:0"],
        documents=[chunks[0].text],
        embeddings=stale,
        metadatas=[{**meta, "article_id": "dead00000000000a", "start": 0, "end": 1, "index": 0, "written_at": old}],
    )
    # Client 2 ingests meanwhile.
    report = Rag(Settings(chroma_url=server, data_dir=tmp_path / "two")).ingest([SEEDS / "000_5cbc33d537700a93.txt"])
    assert report.orphans_removed == 1
    left = set(store.chunks.get(include=[])["ids"])
    assert {c.id for c in chunks} <= left, "in-flight chunks were deleted"
    assert "dead00000000000a:0" not in left
    # Client 1 writes its commit marker: the index is whole, nothing is an orphan.
    store.articles.upsert(
        ids=["inflight0000000a"],
        documents=[text],
        embeddings=vecs.mean(axis=0, keepdims=True),
        metadatas=[{"file": "inflight.txt", "n_chunks": len(chunks)}],
    )
    assert store.remove_orphans(min_age_s=0) == 0
    assert store.n_chunks() == sum(int(m["n_chunks"]) for m in store.article_index().values())


def test_each_clients_lexical_index_follows_the_server(server, tmp_path):
    """Clients with their own --data-dir keep their own lexical index: a client opened
    later takes in what is on the server, and a removal by another client reaches it on
    its next refresh (both indexes then hold exactly the server's articles)."""
    from index_helpers import WordEmbedder, assert_consistent
    from test_ingest import TOWNS, story

    from rag.index.retrieve import Retriever
    from rag.ingest.pipeline import ingest_paths

    folder = tmp_path / "news"
    folder.mkdir()
    for t in TOWNS[:4]:
        (folder / f"{t.lower()}.txt").write_text(story(t), encoding="utf-8")
    # The server's collections are in the real embedder's format (WordEmbedder's vectors
    # are 384-d too): this test is about the lexical side.
    a = Store(Settings(chroma_url=server, data_dir=tmp_path / "a"), EMBEDDER_NAME, 384)
    a.rebuild()
    ingest_paths(a, WordEmbedder(), [folder])
    b = Store(Settings(chroma_url=server, data_dir=tmp_path / "b"), EMBEDDER_NAME, 384)
    assert b.lexical.count() == a.lexical.count() == 4
    assert Retriever(b, WordEmbedder()).search("Carrow bridge", k=1)[0].title.startswith("Carrow")
    (folder / "carrow.txt").unlink()
    assert ingest_paths(a, WordEmbedder(), [folder]).removed == ["carrow.txt"]
    assert b.refresh(force=True) is True
    assert not [h for h in Retriever(b, WordEmbedder()).search("Carrow bridge", k=4) if h.title.startswith("Carrow")]
    assert_consistent(a)
    assert_consistent(b)
