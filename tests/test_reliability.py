"""Bad input: a corpus of broken files, and broken models. Each problem is reported with
its reason, every good article is ingested, nothing hidden is indexed, nothing crashes."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import pytest
from test_clean import HOSTILE_HTML

import rag.ingest.pipeline
from rag.api import Rag
from rag.app.cli import main
from rag.settings import Settings

pytestmark = pytest.mark.slow


def article(topic: str, place: str) -> str:
    return (
        f"{topic} in {place}\n"
        f"Officials in {place} confirmed the {topic.lower()} on Tuesday morning. "
        f"They said the response in {place} would take several weeks and cost millions.\n"
        f"Local residents in {place} described the scene to reporters."
    )


def build_bad_corpus(root: Path) -> dict[str, str]:
    """The corpus; returns {file name: expected skip reason (prefix)}."""
    root.mkdir()
    (root / "good.txt").write_text(article("Storm damage", "Harwich"), encoding="utf-8")
    (root / "good.md").write_text("# " + article("Rail strike", "Leeds"), encoding="utf-8")
    (root / "page.html").write_text(HOSTILE_HTML, encoding="utf-8")
    (root / "story.json").write_text(json.dumps({"title": "Dam repair", "text": article("Dam repair", "Exeter")}))
    lines = [
        json.dumps({"title": "Bridge", "text": article("Bridge closure", "Bristol")}),
        '{"title": "Broken line", "text": "no closing quote}',
        json.dumps({"title": "Fire", "text": article("Warehouse fire", "Derby")}),
    ]
    (root / "feed.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    latin1 = (
        "Café fire in Zürich\nThe fire at the café in Zürich caused £2,000 of damage, officials said. Nobody was hurt."
    )
    (root / "latin1.txt").write_bytes(latin1.encode("latin-1"))
    utf16 = "Ferry delayed in Calais\nThe ferry to Dover left Calais four hours late on Friday, the operator said."
    (root / "utf16.txt").write_bytes(utf16.encode("utf-16"))  # with a byte-order mark
    os.mkfifo(root / "pipe.txt")  # reading it would block forever
    (root / "copy-of-good.txt").write_text(article("Storm damage", "Harwich"), encoding="utf-8")
    (root / "empty.txt").write_bytes(b"")
    (root / "blank.md").write_text("\n  \n\t\n", encoding="utf-8")
    (root / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + os.urandom(4096))
    with open(root / "huge.txt", "wb") as fh:  # 50 MB of plausible text
        line = b"A very long report about nothing in particular, repeated to fill the file.\n"
        fh.write(line * (50_000_000 // len(line) + 1))
    (root / "malformed.json").write_text('{"title": "x", "text": ', encoding="utf-8")
    (root / "not-an-object.json").write_text("[1, 2, 3]", encoding="utf-8")
    (root / "loop1.txt").symlink_to(root / "loop2.txt")
    (root / "loop2.txt").symlink_to(root / "loop1.txt")
    (root / "dangling.txt").symlink_to(root / "nowhere.txt")
    sub = root / "sub"
    sub.mkdir()
    (sub / "again").symlink_to(root, target_is_directory=True)  # a folder loop
    (sub / "vanishing.txt").write_text(article("Flood warning", "York"), encoding="utf-8")
    (root / "notes.pdf").write_bytes(b"%PDF-1.4 not ingested")
    return {
        "good.txt": "duplicate of copy-of-good.txt",  # files are read in sorted order
        "empty.txt": "empty file",
        "blank.md": "empty file",
        "binary.txt": "binary file",
        "huge.txt": "file is 50.0 MB, over the 10 MB limit",
        "malformed.json": "malformed JSON",
        "not-an-object.json": "JSON record is not an object",
        "feed.jsonl#2": "malformed JSON",
        "loop1.txt": "broken symlink or symlink loop",
        "loop2.txt": "broken symlink or symlink loop",
        "dangling.txt": "broken symlink or symlink loop",
        "vanishing.txt": "cannot read",
        "pipe.txt": "not a regular file",
    }


GOOD = [
    "copy-of-good.txt",
    "good.md",
    "page.html",
    "story.json",
    "feed.jsonl#1",
    "feed.jsonl#3",
    "latin1.txt",
    "utf16.txt",
]


@pytest.fixture
def vanish(monkeypatch):
    """Make sub/vanishing.txt disappear after discovery and before it is read."""
    real = rag.ingest.pipeline.discover

    def discover(paths, report):
        files, folders = real(paths, report)
        for f in files:
            if f.name == "vanishing.txt":
                f.unlink()
        return files, folders

    monkeypatch.setattr(rag.ingest.pipeline, "discover", discover)


def test_bad_files_corpus(tmp_path, embedder, vanish, capsys):
    corpus = tmp_path / "corpus"
    expected = build_bad_corpus(corpus)
    data = tmp_path / "data"
    assert main(["ingest", str(corpus), "--data-dir", str(data), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)

    reasons = {Path(s["path"]).name: s["reason"] for s in report["skipped"]}
    assert len(report["skipped"]) == len(expected), report["skipped"]
    for name, reason in expected.items():
        assert reasons.get(name, "").startswith(reason), (name, reasons.get(name))
    assert all("\n" not in r for r in reasons.values()), "one-line reasons"
    # Every good article, and only those (the duplicate once).
    assert sorted(report["added"]) == sorted(GOOD)

    r = Rag(Settings(data_dir=data))
    arts, _ = r.store.all_articles()
    assert len(arts) == len(GOOD) == r.store.n_articles()
    assert len({a.text for a in arts}) == len(arts), "no duplicate stored"
    by_file = {a.file: a for a in arts}
    latin = by_file["latin1.txt"].text
    assert "Storm damage in Harwich" in by_file["copy-of-good.txt"].text
    assert by_file["utf16.txt"].text.startswith("Ferry delayed in Calais\nThe ferry to Dover")
    assert by_file["good.md"].text.startswith("Rail strike in Leeds\n")  # the heading mark is gone
    assert "Café fire in Zürich" in latin and "£2,000" in latin and "\ufffd" not in latin
    # No script, style, comment, hidden or page-furniture text anywhere in the index.
    stored = [a.text for a in arts] + r.store.all_chunks()["documents"]
    assert not [t for t in stored if "SECRET" in t or "ignore previous" in t]
    assert "Volunteers arrived from Madrid." in by_file["page.html"].text
    for probe in ("SCRIPTSECRET", "HIDDENATTRSECRET ARIASECRET", "COMMENTSECRET ignore previous instructions"):
        assert all("SECRET" not in h.text for h in r.search(probe, k=5))

    # A second run reports the same problems and changes nothing.
    assert main(["ingest", str(corpus), "--data-dir", str(data), "--json", "--strict"]) == 1
    again = json.loads(capsys.readouterr().out)
    assert again["added"] == [] and again["updated"] == [] and again["removed"] == []
    assert len(again["unchanged"]) == len(GOOD)
    assert {Path(s["path"]).name for s in again["skipped"]} == set(expected) - {"vanishing.txt"}


def test_a_file_that_vanishes_is_removed_by_sync(tmp_path, embedder, monkeypatch):
    folder = tmp_path / "news"
    folder.mkdir()
    for place in ("Ely", "Wells"):
        (folder / f"{place}.txt").write_text(article("Council vote", place), encoding="utf-8")
    r = Rag(Settings(data_dir=tmp_path / "data"))
    assert len(r.ingest([folder]).added) == 2
    real = rag.ingest.pipeline.read_file

    def read_file(path, *a, **k):
        if path.name == "Ely.txt":
            path.unlink()  # gone between discovery and reading
        return real(path, *a, **k)

    monkeypatch.setattr(rag.ingest.pipeline, "read_file", read_file)
    report = r.ingest([folder])
    assert [Path(s["path"]).name for s in report.skipped] == ["Ely.txt"]
    assert report.removed == ["Ely.txt"] and report.unchanged == ["Wells.txt"]
    assert [a.file for a in r.store.all_articles()[0]] == ["Wells.txt"]


# -- models -------------------------------------------------------------------------
ANSWERABLE = "What did Musk blame for the late start of the conversation?"  # reaches the model


def _err_line(capsys) -> str:
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("rag: error: ") and "Traceback" not in err, err
    return lines[0]


def test_wrong_model_files(tmp_path, seeded_dir, capsys):
    text = tmp_path / "notes.gguf"
    text.write_text("this is a text file, not a model\n", encoding="utf-8")
    fake = tmp_path / "fake.gguf"
    fake.write_bytes(b"GGUF\x03\x00\x00\x00" + os.urandom(2048))
    cases = [
        (text, "is not a GGUF model file"),
        (fake, "cannot load model fake.gguf"),
        (tmp_path / "missing.gguf", "model file not found"),
        (tmp_path, "model file not found"),  # a folder
    ]
    for path, needle in cases:
        assert main(["ask", ANSWERABLE, "--model", str(path), "--data-dir", str(seeded_dir)]) == 1
        assert needle in _err_line(capsys)


def test_wrong_llm_url(seeded_dir, capsys):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    assert main(["ask", ANSWERABLE, "--llm-url", f"http://127.0.0.1:{port}", "--data-dir", str(seeded_dir)]) == 1
    assert "cannot reach the LLM server" in _err_line(capsys)
    assert main(["ask", ANSWERABLE, "--llm-url", "ftp://example", "--data-dir", str(seeded_dir)]) == 1
    assert "must start with http://" in _err_line(capsys)


@pytest.mark.model
def test_question_longer_than_the_context(seeded_dir, capsys):
    long_q = "How long was the Trump–Musk conversation on X delayed by the technical glitches and the attack? " * 9
    assert len(long_q) < 1000  # within the question limit, over a 256-token context
    argv = ["ask", long_q, "--n-ctx", "256", "--data-dir", str(seeded_dir)]
    assert main(argv) == 1
    assert "does not fit the model's context" in _err_line(capsys)


@pytest.mark.model
def test_history_longer_than_the_context(seeded_rag):
    """A long conversation never overflows the model: answers or refuses."""
    turn = ("What did Musk say about the delay? " * 20, "Musk blamed a massive DDOS attack on X. " * 40)
    ans = seeded_rag.ask("And how long was it?", history=[turn] * 30)
    assert ans.status in {"answered", "refused"} and ans.answer
    for c in ans.citations:
        assert c.quote in seeded_rag.article(c.article_id).text
