"""Crash safety: `rag ingest` killed with SIGKILL at several points of a large run; the
next run leaves every article exactly once, in the vector index and in the lexical index,
no orphan chunks in either, and search works. (tests/test_index_consistency.py kills a
run at every single write step.)"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from conftest import MULTILING
from test_ingest import make_corpus

from rag.api import Rag
from rag.app.cli import main
from rag.ingest.chunk import chunk_article, content_hash
from rag.ingest.read import read_file
from rag.settings import Settings

pytestmark = pytest.mark.slow

RAG = str(Path(sys.executable).parent / "rag")
ARTICLES = MULTILING / "articles"
# All 100 MultiLing articles: four embedding batches (32 + 32 + 32 + 4). With the ONNX
# embedder a batch takes about 4 s, so every kill below lands while work remains (with
# 40 articles the later runs sometimes finished before they could be killed).
N_ARTICLES = 100


def _index_bytes(data: Path) -> int:
    total = 0
    for root, _, files in os.walk(data / "chroma"):
        for f in files:
            try:
                total += os.path.getsize(os.path.join(root, f))
            except OSError:
                pass
    return total


def _ingest(folder: Path, data: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [RAG, "ingest", str(folder), "--data-dir", str(data)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _kill_when(proc: subprocess.Popen, ready, delay: float, timeout: float = 120) -> bool:
    """SIGKILL ``proc`` ``delay`` seconds after ``ready()`` first holds; False if it ended first."""
    deadline = time.time() + timeout
    while not ready():
        if proc.poll() is not None:
            return False
        assert time.time() < deadline, "ingest made no progress"
        time.sleep(0.02)
    time.sleep(delay)
    if proc.poll() is not None:
        return False
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    return True


def check_index(data: Path, files: list[Path]) -> None:
    """Every article of ``files`` exactly once, each with exactly its chunks, no orphans."""
    store = Rag(Settings(data_dir=data)).store
    expected = {}
    for f in files:
        (a,) = read_file(f, 10_000_000)
        expected[a.id] = (a, len(chunk_article(a.id, a.text)))
    got = store.articles.get(include=["documents", "metadatas"])
    assert sorted(got["ids"]) == sorted(expected), "every article exactly once"
    for aid, text, meta in zip(got["ids"], got["documents"], got["metadatas"]):
        assert content_hash(text) == aid and text == expected[aid][0].text
        assert meta["n_chunks"] == expected[aid][1]
    chunks = store.chunks.get(include=["metadatas"])
    assert len(set(chunks["ids"])) == len(chunks["ids"])
    per = Counter(m["article_id"] for m in chunks["metadatas"])
    assert set(per) <= set(expected), "no orphan chunks"
    assert per == {aid: n for aid, (_, n) in expected.items()}, "each article has exactly its chunks"
    assert store.n_chunks() == sum(n for _, n in expected.values())
    # The lexical index holds exactly the same: every article once, with its chunks.
    assert store.lexical.article_counts() == {aid: n for aid, (_, n) in expected.items()}, "lexical index"
    assert store.lexical.count() == store.n_chunks()
    store.close()


def test_sigkill_during_a_large_ingest(tmp_path, embedder, capsys):
    """100 MultiLing articles (four embedding batches), killed three times, then finished."""
    folder = tmp_path / "multiling"
    folder.mkdir()
    files = []
    for f in sorted(ARTICLES.glob("*.txt"))[:N_ARTICLES]:
        files.append(folder / f.name)
        files[-1].write_bytes(f.read_bytes())
    data = tmp_path / "data"
    t0 = time.time()
    killed = []
    # 1. while the first batch is being written; 2. at a fixed delay after start-up
    # (opening the index, removing orphans, reading files); 3. a second after this
    # run's writes start.
    plans = [("writes", 0.3), ("start", 3.0), ("writes", 1.0)]
    for what, delay in plans:
        base = max(_index_bytes(data), 250_000) + 20_000
        proc = _ingest(folder, data)
        if what == "writes":
            ok = _kill_when(proc, lambda b=base: _index_bytes(data) > b, delay)
        else:
            ok = _kill_when(proc, lambda: True, delay)
        killed.append(ok)
        if not ok:
            assert proc.wait() == 0, proc.stderr.read()
    assert sum(killed) >= 2, f"the runs ended before they could be killed: {killed}"

    final = subprocess.run(
        [RAG, "ingest", str(folder), "--data-dir", str(data)], capture_output=True, text=True, timeout=600
    )
    assert final.returncode == 0, final.stderr
    m = re.match(r"added (\d+), updated 0, unchanged (\d+), removed 0, skipped 0", final.stdout)
    assert m and int(m.group(1)) + int(m.group(2)) == N_ARTICLES, final.stdout
    check_index(data, files)

    assert main(["search", "tsunami donations tax deduction", "--k", "3", "--data-dir", str(data)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("1. [M00"), out
    with capsys.disabled():
        print(f"\nkilled runs: {killed}; final run: {final.stdout.strip()}; total {time.time() - t0:.0f}s")


def test_interrupted_between_chunks_and_commit_marker(tmp_path, embedder, monkeypatch):
    """A crash after the articles' chunks are written and before their records (the commit
    markers): the next run removes the orphan chunks and ingests those articles again; the
    article committed by an earlier run stays."""
    folder = make_corpus(tmp_path / "news")
    r = Rag(Settings(data_dir=tmp_path / "data"))
    r.ingest([sorted(folder.glob("*.txt"))[0]])
    collection = type(r.store.articles)
    real_upsert = collection.upsert

    def upsert(col, *args, **kwargs):
        if col.name == "articles":
            raise KeyboardInterrupt  # the process dies here: nothing after it runs
        return real_upsert(col, *args, **kwargs)

    monkeypatch.setattr(collection, "upsert", upsert)
    with pytest.raises(KeyboardInterrupt):
        r.ingest([folder])
    monkeypatch.undo()
    assert r.store.n_articles() == 1
    orphans = r.store.n_chunks() - int(next(iter(r.store.article_index().values()))["n_chunks"])
    assert orphans > 0, "the interrupted article left chunks behind"

    report = Rag(Settings(data_dir=tmp_path / "data")).ingest([folder])
    assert report.orphans_removed == orphans  # counted once, though in both indexes
    assert len(report.added) == 2 and len(report.unchanged) == 1
    check_index(tmp_path / "data", sorted(folder.glob("*.txt")))
