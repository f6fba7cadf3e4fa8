"""The index: format checks, damage, `rag ingest --rebuild`, and a real Chroma server."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
from test_ingest import make_corpus

import rag.index.store
from rag.api import Rag
from rag.app.cli import main
from rag.errors import RagError
from rag.index.embed import EMBEDDER_NAME
from rag.index.store import Store
from rag.settings import Settings

pytestmark = pytest.mark.slow


def _one_line_error(err: str, *needles: str) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("rag: error: "), err
    assert "Traceback" not in err
    for n in needles:
        assert n in lines[0], (n, lines[0])


def _search_ok(data: Path, capsys) -> str:
    assert main(["search", "bridge over the river", "--data-dir", str(data)]) == 0
    out = capsys.readouterr().out
    assert "1. [" in out
    return out


def test_index_of_another_embedder_needs_rebuild(tmp_path, embedder, capsys):
    data = tmp_path / "data"
    folder = make_corpus(tmp_path / "news")
    Store(Settings(data_dir=data), "some-other-embedder", 768).close()
    with pytest.raises(RagError, match=r"embedder='some-other-embedder'.*rag ingest --rebuild"):
        _ = Rag(Settings(data_dir=data)).store

    assert main(["ingest", str(folder), "--data-dir", str(data)]) == 1
    _one_line_error(capsys.readouterr().err, "rag ingest --rebuild", EMBEDDER_NAME)

    assert main(["ingest", str(folder), "--data-dir", str(data), "--rebuild"]) == 0
    assert capsys.readouterr().out.startswith("added 3,")
    _search_ok(data, capsys)


def test_index_of_another_chunker_version_needs_rebuild(tmp_path, embedder, monkeypatch, capsys):
    data = tmp_path / "data"
    folder = make_corpus(tmp_path / "news")
    with monkeypatch.context() as m:
        m.setattr(rag.index.store, "CHUNKER_VERSION", "sent-v1")  # an older format
        old = Rag(Settings(data_dir=data))
        old.ingest([folder])
        old.store.close()
    assert main(["search", "bridge", "--data-dir", str(data)]) == 1
    _one_line_error(capsys.readouterr().err, "chunker='sent-v1'", "rag ingest --rebuild")

    fresh = Rag(Settings(data_dir=data))
    fresh.rebuild()  # the API the CLI's --rebuild calls
    assert fresh.store.n_articles() == 0
    assert len(fresh.ingest([folder]).added) == 3
    assert fresh.store.articles.metadata["chunker"] == rag.index.store.CHUNKER_VERSION


def test_corrupted_index_gives_a_clear_error_and_rebuild_recovers(tmp_path, embedder, capsys):
    data = tmp_path / "data"
    folder = make_corpus(tmp_path / "news")
    first = Rag(Settings(data_dir=data))
    first.ingest([folder])
    first.store.close()
    db = data / "chroma" / "chroma.sqlite3"
    size = db.stat().st_size
    db.write_bytes(os.urandom(size))  # garbage bytes over the whole database

    for argv in (["search", "bridge"], ["sources"], ["ask", "Which bridge opened?"], ["ingest", str(folder)]):
        assert main([*argv, "--data-dir", str(data)]) == 1, argv
        _one_line_error(capsys.readouterr().err, "rag ingest --rebuild")

    assert main(["ingest", str(folder), "--data-dir", str(data), "--rebuild"]) == 0
    assert capsys.readouterr().out.startswith("added 3, updated 0, unchanged 0")
    _search_ok(data, capsys)


def test_half_corrupted_database(tmp_path, embedder, capsys):
    """Garbage in the middle of the file (the SQLite header intact)."""
    data = tmp_path / "data"
    folder = make_corpus(tmp_path / "news")
    first = Rag(Settings(data_dir=data))
    first.ingest([folder])
    first.store.close()
    db = data / "chroma" / "chroma.sqlite3"
    raw = bytearray(db.read_bytes())
    raw[len(raw) // 2 :] = os.urandom(len(raw) - len(raw) // 2)
    db.write_bytes(bytes(raw))
    assert main(["sources", "--data-dir", str(data)]) == 1
    _one_line_error(capsys.readouterr().err, "rag ingest --rebuild")
    assert main(["ingest", str(folder), "--data-dir", str(data), "--rebuild"]) == 0
    capsys.readouterr()
    _search_ok(data, capsys)


def test_rebuild_empties_a_healthy_index(tmp_path, embedder):
    folder = make_corpus(tmp_path / "news")
    r = Rag(Settings(data_dir=tmp_path / "data"))
    r.ingest([folder])
    assert r.store.n_chunks() > 0
    r.rebuild()
    assert r.store.n_chunks() == 0 and r.store.n_articles() == 0
    assert len(r.ingest([folder]).added) == 3


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_chroma_url_with_nothing_listening(embedder, tmp_path):
    with pytest.raises(RagError, match="cannot open the index at http://127.0.0.1:"):
        _ = Rag(Settings(chroma_url=f"http://127.0.0.1:{_free_port()}", data_dir=tmp_path)).store
    with pytest.raises(RagError, match="is not a URL"):
        _ = Rag(Settings(chroma_url="nonsense", data_dir=tmp_path)).store


@pytest.mark.server
def test_mismatched_index_on_a_chroma_server_is_rebuilt(tmp_path, embedder, capsys):
    from rag.devtools.bench import chroma_server

    folder = make_corpus(tmp_path / "news")
    with chroma_server(tmp_path / "server") as (url, _):
        Store(Settings(chroma_url=url, data_dir=tmp_path / "other"), "some-other-embedder", 768)
        assert main(["search", "bridge", "--chroma-url", url]) == 1
        _one_line_error(capsys.readouterr().err, "rag ingest --rebuild")
        assert main(["ingest", str(folder), "--chroma-url", url, "--rebuild"]) == 0
        assert capsys.readouterr().out.startswith("added 3,")
        assert main(["search", "bridge over the river", "--chroma-url", url]) == 0
        assert "1. [" in capsys.readouterr().out
