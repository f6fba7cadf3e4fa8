"""Ingestion semantics with the real embedder and a real Chroma in temporary folders."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest
from conftest import SEEDS

from rag.api import Rag
from rag.app.cli import main
from rag.errors import RagError
from rag.index.retrieve import Filters
from rag.ingest.chunk import chunk_article
from rag.ingest.read import read_file
from rag.settings import Settings

pytestmark = pytest.mark.slow

TOWNS = ["Alderby", "Brookfield", "Carrow", "Dunmere", "Eastwick", "Fallowmere"]


def story(town: str, extra: str = "") -> str:
    return (
        f"{town} opens a new bridge\n"
        f"The town council of {town} opened a new bridge over the river on Monday. "
        f"The mayor of {town} said it cost 4 million pounds and took two years to build.{extra}\n"
        f"Residents of {town} said traffic in the centre had already eased."
    )


class CountingEmbedder:
    """The real embedder, counting the texts it is asked to embed."""

    def __init__(self, real) -> None:
        self.real = real
        self.texts = 0

    def embed(self, texts):
        self.texts += len(texts)
        return self.real.embed(texts)

    def __getattr__(self, name):
        return getattr(self.real, name)


def make_rag(tmp_path: Path, embedder) -> tuple[Rag, CountingEmbedder]:
    rag = Rag(Settings(data_dir=tmp_path / "data"))
    counting = CountingEmbedder(embedder)
    rag.__dict__["embedder"] = counting  # the cached property, replaced by the spy
    return rag, counting


def make_corpus(folder: Path, towns=TOWNS[:3]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for t in towns:
        (folder / f"{t.lower()}.txt").write_text(story(t), encoding="utf-8")
    return folder


def chunk_ids(rag: Rag, article_id: str) -> list[str]:
    return rag.store.chunks.get(where={"article_id": article_id}, include=[])["ids"]


def test_seeds_added_then_unchanged_without_embedding(tmp_path, embedder):
    folder = tmp_path / "seeds"
    shutil.copytree(SEEDS, folder)
    rag, spy = make_rag(tmp_path, embedder)
    first = rag.ingest([folder])
    assert len(first.added) == 5 and not (first.updated or first.unchanged or first.removed or first.skipped)
    assert first.chunks_added == spy.texts > 0
    embedded = spy.texts

    t0 = time.perf_counter()
    second = rag.ingest([folder])
    took = time.perf_counter() - t0
    assert sorted(second.unchanged) == sorted(first.added)
    assert not (second.added or second.updated or second.removed or second.skipped)
    assert second.chunks_added == 0 and spy.texts == embedded, "an unchanged file is never embedded again"
    assert took < 2.0, f"a no-op re-ingest took {took:.2f}s"
    # One record per article, and exactly its chunks.
    assert rag.store.n_articles() == 5
    arts, _ = rag.store.all_articles()
    assert rag.store.n_chunks() == sum(len(chunk_article(a.id, a.text)) for a in arts)


def test_changed_file_replaces_its_article(tmp_path, embedder):
    folder = make_corpus(tmp_path / "news")
    rag, spy = make_rag(tmp_path, embedder)
    rag.ingest([folder])
    (old,) = [a for a in rag.store.all_articles()[0] if a.file == "brookfield.txt"]
    assert chunk_ids(rag, old.id)
    before = spy.texts

    (folder / "brookfield.txt").write_text(story("Brookfield", " A second bridge is planned."), encoding="utf-8")
    report = rag.ingest([folder])
    assert report.updated == ["brookfield.txt"] and sorted(report.unchanged) == ["alderby.txt", "carrow.txt"]
    assert not report.added and not report.removed
    assert rag.store.get_article(old.id) is None and chunk_ids(rag, old.id) == [], "old chunks are gone"
    (new,) = [a for a in rag.store.all_articles()[0] if a.file == "brookfield.txt"]
    assert "A second bridge is planned." in new.text and new.id != old.id
    assert len(chunk_ids(rag, new.id)) == len(chunk_article(new.id, new.text))
    assert spy.texts - before == report.chunks_added == len(chunk_article(new.id, new.text)), "only it is embedded"
    assert rag.store.n_articles() == 3


def test_edited_metadata_is_stored_without_embedding_again(tmp_path, embedder):
    """An edited sidecar (same text, new headline and date) updates the stored records, chunks
    included (the --since filter reads their day), and reuses the stored vectors."""
    folder = make_corpus(tmp_path / "news")
    rag, spy = make_rag(tmp_path, embedder)
    rag.ingest([folder])
    (old,) = [a for a in rag.store.all_articles()[0] if a.file == "carrow.txt"]
    old_vecs = rag.store.chunks.get(where={"article_id": old.id}, include=["embeddings"])["embeddings"]
    before = spy.texts
    side = folder / "carrow.meta.json"
    side.write_text(json.dumps({"title": "Carrow's bridge", "published": "2024-08-13"}), encoding="utf-8")

    report = rag.ingest([folder])
    assert report.updated == ["carrow.txt"] and sorted(report.unchanged) == ["alderby.txt", "brookfield.txt"]
    assert spy.texts == before, "the same text is not embedded again"
    new = rag.store.get_article(old.id)
    assert new is not None and (new.title, new.published, new.text) == ("Carrow's bridge", "2024-08-13", old.text)
    got = rag.store.chunks.get(where={"article_id": old.id}, include=["metadatas", "embeddings"])
    assert len(got["ids"]) == len(chunk_article(old.id, old.text)) and rag.store.n_articles() == 3
    assert {m["day"] for m in got["metadatas"]} == {20240813}
    assert [list(v) for v in got["embeddings"]] == [list(v) for v in old_vecs]
    hits = rag.search("bridge over the river", k=5, filters=Filters(since="2024-08-01"))
    assert [h.article_id for h in hits] == [old.id], "the date filter sees the new date, in both indexes"

    again = rag.ingest([folder])
    assert sorted(again.unchanged) == ["alderby.txt", "brookfield.txt", "carrow.txt"] and not again.updated


def test_removed_file_is_synced_only_with_sync(tmp_path, embedder):
    folder = make_corpus(tmp_path / "news")
    rag, _ = make_rag(tmp_path, embedder)
    rag.ingest([folder])
    (folder / "carrow.txt").unlink()

    kept = rag.ingest([folder], sync=False)
    assert kept.removed == [] and rag.store.n_articles() == 3

    # Ingesting one file of the folder never removes its neighbours.
    single = rag.ingest([folder / "alderby.txt"])
    assert single.removed == [] and single.unchanged == ["alderby.txt"]
    assert rag.store.n_articles() == 3

    synced = rag.ingest([folder])  # --sync is the default for folders
    assert synced.removed == ["carrow.txt"]
    assert sorted(a.file for a in rag.store.all_articles()[0]) == ["alderby.txt", "brookfield.txt"]
    assert not rag.store.chunks.get(where={"file": "carrow.txt"}, include=[])["ids"]


def test_duplicate_copy_is_stored_once(tmp_path, embedder):
    folder = make_corpus(tmp_path / "news", towns=["Dunmere"])
    shutil.copy(folder / "dunmere.txt", folder / "dunmere-copy.txt")
    rag, _ = make_rag(tmp_path, embedder)
    report = rag.ingest([folder])
    assert report.added == ["dunmere-copy.txt"] or report.added == ["dunmere.txt"]
    (skip,) = report.skipped
    assert skip["reason"].startswith("duplicate of ") and skip["reason"].endswith(".txt")
    assert rag.store.n_articles() == 1
    again = rag.ingest([folder])  # still once, still reported
    assert rag.store.n_articles() == 1 and len(again.unchanged) == 1
    assert [s["reason"][:13] for s in again.skipped] == ["duplicate of "]


def test_renamed_file_is_not_duplicated(tmp_path, embedder):
    folder = make_corpus(tmp_path / "news", towns=["Eastwick"])
    rag, _ = make_rag(tmp_path, embedder)
    rag.ingest([folder])
    (folder / "eastwick.txt").rename(folder / "eastwick-2024.txt")
    rag.ingest([folder])
    (a,) = rag.store.all_articles()[0]
    assert a.file == "eastwick-2024.txt" and a.source.endswith("eastwick-2024.txt")
    assert rag.store.n_chunks() == len(chunk_article(a.id, a.text))


def test_json_and_jsonl_fields(tmp_path, embedder):
    folder = tmp_path / "feeds"
    folder.mkdir()
    (folder / "one.json").write_text(
        json.dumps(
            {
                "title": "Bridge opens in Alderby",
                "body": story("Alderby"),
                "source": "Alderby Gazette",
                "date": "March 4, 2024",
                "url": "https://example.org/a",
            }
        ),
        encoding="utf-8",
    )
    lines = [
        {"title": "Carrow bridge", "text": story("Carrow"), "outlet": "Carrow Post", "published": "2024-05-01T10:00Z"},
        {"headline": "Dunmere bridge", "text": story("Dunmere")},
    ]
    (folder / "feed.jsonl").write_text("\n".join(json.dumps(x) for x in lines) + "\n", encoding="utf-8")
    rag, _ = make_rag(tmp_path, embedder)
    report = rag.ingest([folder])
    assert sorted(report.added) == ["feed.jsonl#1", "feed.jsonl#2", "one.json"] and not report.skipped
    rows = {r["file"]: r for r in rag.sources()}
    assert rows["one.json"]["title"] == "Bridge opens in Alderby"
    assert rows["one.json"]["outlet"] == "Alderby Gazette" and rows["one.json"]["published"] == "2024-03-04"
    assert rows["feed.jsonl#1"]["outlet"] == "Carrow Post" and rows["feed.jsonl#1"]["published"] == "2024-05-01"
    assert rows["feed.jsonl#2"]["title"] == "Dunmere bridge"
    assert rag.store.get_article(rows["one.json"]["article_id"]).url == "https://example.org/a"
    # A JSONL line that disappears is removed with --sync; the others stay.
    (folder / "feed.jsonl").write_text(json.dumps(lines[0]) + "\n", encoding="utf-8")
    report = rag.ingest([folder])
    assert report.removed == ["feed.jsonl#2"] and rag.store.n_articles() == 2


def test_an_ignored_date_is_reported_and_the_article_kept(tmp_path, embedder, capsys):
    folder = make_corpus(tmp_path / "news", towns=["Fallowmere"])
    (folder / "fallowmere.meta.json").write_text(json.dumps({"published": "last Tuesday"}), encoding="utf-8")
    data = str(tmp_path / "data")
    assert main(["ingest", str(folder), "--data-dir", data, "--strict"]) == 0, "a warning is not a skip"
    out = capsys.readouterr().out
    assert "added 1," in out and "skipped 0" in out
    assert "warning " in out and "'published' is not a date: 'last Tuesday'" in out
    assert main(["ingest", str(folder), "--data-dir", data, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["unchanged"] == ["fallowmere.txt"] and "last Tuesday" in report["warnings"][0]["reason"]
    (folder / "fallowmere.meta.json").write_text(json.dumps({"title": "Fallowmere news"}), encoding="utf-8")
    assert main(["ingest", str(folder), "--data-dir", data, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert "warnings" not in report and report["updated"] == ["fallowmere.txt"]


def test_cli_json_report_and_strict(tmp_path, embedder, capsys):
    folder = make_corpus(tmp_path / "news", towns=["Fallowmere"])
    (folder / "empty.txt").write_text("", encoding="utf-8")
    data = str(tmp_path / "data")
    assert main(["ingest", str(folder), "--data-dir", data, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert set(report) == {"added", "updated", "unchanged", "removed", "skipped"}
    assert report["added"] == ["fallowmere.txt"]
    assert report["skipped"] == [{"path": str(folder / "empty.txt"), "reason": "empty file"}]
    assert all(isinstance(report[k], list) for k in report)

    assert main(["ingest", str(folder), "--data-dir", data, "--strict"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("added 0, updated 0, unchanged 1, removed 0, skipped 1")
    assert "empty.txt: empty file" in out
    (folder / "empty.txt").unlink()
    assert main(["ingest", str(folder), "--data-dir", data, "--strict"]) == 0


def test_missing_path_is_a_rag_error(tmp_path, embedder):
    rag, _ = make_rag(tmp_path, embedder)
    with pytest.raises(RagError, match="no such file or folder"):
        rag.ingest([tmp_path / "nowhere"])


def test_stored_seeds_hold_every_gold_quote(seeded_dir):
    """Every evidence quote of evals/gold.jsonl lies in the stored article text, and every
    stored chunk is an exact span of it."""
    rag = Rag(Settings(data_dir=seeded_dir))
    arts = {a.file: a for a in rag.store.all_articles()[0]}
    assert sorted(arts) == sorted(p.name for p in SEEDS.glob("*.txt"))
    n = 0
    for line in (SEEDS.parent / "evals" / "gold.jsonl").read_text(encoding="utf-8").splitlines():
        for ev in json.loads(line)["evidence"]:
            assert ev["quote"] in arts[ev["file"]].text, (ev["file"], ev["quote"])
            n += 1
    assert n > 100
    got = rag.store.all_chunks()
    by_id = {a.id: a for a in arts.values()}
    for text, meta in zip(got["documents"], got["metadatas"]):
        assert by_id[meta["article_id"]].text[meta["start"] : meta["end"]] == text
    for a in arts.values():
        assert a.text == read_file(SEEDS / a.file, 10_000_000)[0].text
    rows = rag.sources()
    assert [r["chunks"] for r in rows] == [
        len(chunk_article(r["article_id"], by_id[r["article_id"]].text)) for r in rows
    ]
