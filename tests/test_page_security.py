"""The page hands out no files but its own: path traversal through Gradio's file routes
and through the app's endpoints (upload, add, remove, briefing) is refused, and nothing
outside Gradio's upload folder is read or written.

Gradio serves a file only from its upload folder/cache, ``allowed_paths`` (none here) and
static paths (https://gradio.app/guides/file-access); an event's file input must have been
uploaded by a user. These tests hold the page to that. Real embedder and Chroma, no model;
loopback only.
"""

from __future__ import annotations

import http.client
import json
import uuid
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlparse

import httpx
import pytest
from conftest import ROOT

from rag.api import Rag
from rag.settings import Settings

pytestmark = [pytest.mark.slow, pytest.mark.server]

CANARY = "CANARY-5b0e7d1c"  # in the ingested article: on disk and in chroma.sqlite3
ARTICLE = (
    "Harbour reopens after storm\n\nThe town harbour reopened on Tuesday after a week of repairs, the port "
    f"authority said. Fishing boats returned the same afternoon. The repair code was {CANARY}.\n"
)
# What the protected files contain: none of it may appear in any response.
LEAKS = [b"root:x:0:0", b"[build-system]", b"SQLite format 3", CANARY.encode(), b"PATH=", b"Harbour reopens after"]
MAX_MB = 1  # the ingest limit; Gradio's upload limit is four times it (rag.ui.start)


@pytest.fixture(scope="module")
def app(tmp_path_factory, embedder):
    from rag.app import ui

    root = tmp_path_factory.mktemp("page")
    articles = root / "articles"
    articles.mkdir()
    (articles / "harbour.txt").write_text(ARTICLE, encoding="utf-8")
    rag = Rag(Settings(data_dir=root / "data", max_file_mb=MAX_MB))  # no model: nothing here answers
    assert rag.ingest([articles]).added == ["harbour.txt"]
    demo, url = ui.start(rag, "127.0.0.1", ui.free_port())
    try:
        yield SimpleNamespace(rag=rag, url=url, port=urlparse(url).port, root=root, articles=articles)
    finally:
        demo.close()


def _raw_get(port: int, target: str) -> tuple[int, bytes]:
    """GET ``target`` exactly as written (httpx would resolve the ``..`` segments first)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", target)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def _upload(app, name: str, data: bytes) -> httpx.Response:
    return httpx.post(app.url + "gradio_api/upload", files={"files": (name, data)}, timeout=60)


def _call(app, api: str, data: list) -> tuple[str, object]:
    """One event through Gradio's HTTP API: (last event name, its data)."""
    r = httpx.post(f"{app.url}gradio_api/call/{api}", json={"data": data}, timeout=30)
    r.raise_for_status()
    stream = httpx.get(f"{app.url}gradio_api/call/{api}/{r.json()['event_id']}", timeout=120)
    events = []
    for block in stream.text.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if lines.get("event") not in (None, "heartbeat"):
            events.append((lines["event"], json.loads(lines.get("data", "null"))))
    assert events, stream.text
    return events[-1]


def _file_data(path: str, **extra) -> dict:
    return {"path": path, "meta": {"_type": "gradio.FileData"}, **extra}


def _leaks(body: bytes | str) -> list[bytes]:
    raw = body.encode() if isinstance(body, str) else body
    return [m for m in LEAKS if m in raw]


def test_file_routes_refuse_everything_outside_the_upload_folder(app):
    up = _upload(app, "note.txt", b"an uploaded note")
    assert up.status_code == 200, up.text
    uploaded = up.json()[0]
    upload_dir = Path(uploaded).parent  # <upload folder>/<hash>/note.txt
    # The route works: the uploaded file itself is served.
    assert _raw_get(app.port, f"/gradio_api/file={uploaded}") == (200, b"an uploaded note")

    data = app.root / "data"
    protected = [
        "/etc/passwd",
        "../../../../../../../../etc/passwd",
        "%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "%2Fetc%2Fpasswd",
        "%252e%252e%252f%252e%252e%252fetc%252fpasswd",
        "/etc/passwd%00.txt",
        "file:///etc/passwd",
        "~/../../etc/passwd",
        f"{upload_dir}/../../../../../../etc/passwd",  # out of the upload folder (CVE-2023-51449)
        f"{upload_dir}/..%2f..%2f..%2f..%2f..%2f..%2fetc%2fpasswd",
        f"{upload_dir.parent}/../../../../../../work/../etc/passwd",
        "/proc/self/environ",
        str(ROOT / "pyproject.toml"),
        "pyproject.toml",  # relative to the server's working directory
        "../pyproject.toml",
        str(next(ROOT.joinpath("seeds").glob("*.txt"))),
        str(data / "chroma" / "chroma.sqlite3"),
        f"{upload_dir}/../../../../../../{str(data / 'chroma' / 'chroma.sqlite3').lstrip('/')}",
        str(data / "write.lock"),
        str(app.articles / "harbour.txt"),
        f"http://127.0.0.1:{app.port}/config",  # and no fetching of loopback addresses (SSRF)
    ]
    targets = [f"/gradio_api/file={p}" for p in protected] + [
        "/gradio_api/file/etc/passwd",  # the deprecated route
        "/gradio_api/file//etc/passwd",
        f"/gradio_api/file/{str(ROOT / 'pyproject.toml').lstrip('/')}",
        "/file=/etc/passwd",
        "/static/../../../../../../etc/passwd",
        "/static/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "/assets/..%2f..%2f..%2f..%2f..%2f..%2f..%2fetc%2fpasswd",
        "/svelte/..%2f..%2f..%2f..%2f..%2f..%2fetc%2fpasswd",
        "/gradio_api/static/..%2f..%2f..%2f..%2fetc%2fpasswd",
        "/custom_component/x/client/js/..%2f..%2f..%2f..%2fetc%2fpasswd",
        f"/gradio_api/proxy=http://127.0.0.1:{app.port}/config",
    ]
    let_through = []
    for target in targets:
        status, body = _raw_get(app.port, target)
        if not 400 <= status < 500 or _leaks(body):
            let_through.append((target, status, body[:120]))
    assert not let_through, let_through


def test_add_articles_takes_only_files_a_visitor_uploaded(app):
    """A file input naming a server path (not uploaded) is refused before the handler runs:
    otherwise any .md or .txt on the machine could be ingested and then read back in answers."""
    before = app.rag.sources()
    up_folder = Path(_upload(app, "x.txt", b"x").json()[0]).parent
    attempts = [
        _file_data(str(ROOT / "README.md")),
        _file_data(str(app.articles / "harbour.txt")),
        _file_data("/etc/passwd"),
        _file_data(f"{up_folder}/../../../../../../{str(ROOT / 'README.md').lstrip('/')}"),
        _file_data("README.md"),  # relative to the server's working directory
        _file_data("x.txt", url=f"http://127.0.0.1:{app.port}/gradio_api/file=/etc/passwd"),
        _file_data(f"http://127.0.0.1:{app.port}/config", url=f"http://127.0.0.1:{app.port}/config"),
    ]
    for fd in attempts:
        event, data = _call(app, "add_articles", [[fd]])
        assert event == "error", (fd, data)
        assert not _leaks(json.dumps(data)), (fd, data)
        msg = data["error"]
        assert "not uploaded by a user" in msg or "failed validation" in msg, (fd, msg)
    assert app.rag.sources() == before


def test_remove_and_briefing_treat_a_path_as_an_unknown_id(app):
    before = app.rag.sources()
    for bad in ["../../etc/passwd", "/etc/passwd", "../chroma/chroma.sqlite3", "harbour.txt", "*"]:
        event, data = _call(app, "remove_article", [bad])
        assert (event, data["error"]) == ("error", f"no article with id {bad!r}")
    assert app.rag.sources() == before
    pytest.importorskip("rag.brief.build", reason="the Briefings tab needs rag.brief")
    for bad in ["../../etc/passwd", str(ROOT / "README.md")]:
        event, data = _call(app, "briefing", [bad, 250])
        assert event == "error" and data["error"].startswith(f"no event with id {bad!r}"), data
        assert not _leaks(json.dumps(data))


def test_upload_names_cannot_leave_the_upload_folder(app, tmp_path):
    from rag.app.ui_messages import escape_markdown

    folder = Path(_upload(app, "ok.txt", b"a plain upload").json()[0]).parent.parent  # <folder>/<hash>/ok.txt
    tag = uuid.uuid4().hex[:8]
    names = [
        f"../../../../evil-{tag}.txt",
        str(tmp_path / f"abs-{tag}.txt"),
        f"..\\..\\..\\win-{tag}.txt",
        f"..%2f..%2f..%2fenc-{tag}.txt",
        f"sub/../../../dot-{tag}.txt",
    ]
    for i, name in enumerate(names):
        body = f"Ferry {i} delayed\n\nThe ferry number {i} left {tag} four hours late on Friday, the operator said.\n"
        up = _upload(app, name, body.encode())
        assert up.status_code in (200, 400), up.text
        if up.status_code == 400:  # refused outright: fine
            continue
        (saved,) = up.json()
        saved = Path(saved)
        assert saved.resolve().parent.parent == folder.resolve(), saved
        assert "/" not in saved.name and saved.name.endswith(f"-{tag}.txt"), saved
        # Ingested under its bare name; the stored record names no path.
        event, data = _call(app, "add_articles", [[_file_data(str(saved), orig_name=name)]])
        assert event == "complete", data
        assert data[0] == f"- **{escape_markdown(saved.name)}**: added", data[0]
    files = {r["file"] for r in app.rag.sources()}
    assert all("/" not in f and "\\" not in f for f in files), files
    escaped = [
        p for d in (tmp_path, folder, folder.parent, folder.parent.parent, Path.cwd()) for p in d.glob(f"*{tag}*")
    ]
    assert not escaped, escaped


def test_uploads_of_a_wrong_type_or_size_are_refused_with_the_reason(app, tmp_path):
    """The page's stated limits: .txt .md .html .json .jsonl, up to MAX_MB each (Gradio refuses
    more than four times that before it is stored)."""
    from gradio_client import Client, handle_file

    client = Client(app.url, verbose=False)
    before = app.rag.sources()
    for name in ["notes.pdf", "run.sh", "tool.py", "story.txt.exe", "README"]:
        f = tmp_path / name
        f.write_text("Storm closes the harbour\n\nA storm closed the harbour on Friday.\n", encoding="utf-8")
        with pytest.raises(Exception, match=r"Invalid file type\. Please upload a file that is one of these formats"):
            client.predict([handle_file(str(f))], api_name="/add_articles")

    big = tmp_path / "big.txt"  # over the ingest limit, under Gradio's
    big.write_bytes(b"Long report. " * (2 * 1_000_000 // 13 + 1))
    result = client.predict([handle_file(str(big))], api_name="/add_articles")[0]
    assert result == f"- **big.txt**: skipped (file is 2.0 MB, over the {MAX_MB} MB limit)"

    huge = _upload(app, "huge.txt", b"x" * (4 * MAX_MB * 1024 * 1024 + 1))  # over Gradio's limit
    assert huge.status_code == 413
    assert huge.text == f"File size exceeded maximum allowed size of {4 * MAX_MB * 1024 * 1024} bytes."
    assert app.rag.sources() == before
