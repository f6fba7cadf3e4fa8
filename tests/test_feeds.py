"""Feeds, page fetching and the watch loop against a server on 127.0.0.1.

The server (http.server in a thread) serves generated RSS 2.0 / RSS 1.0 / Atom
feeds and article pages, honours If-None-Match / If-Modified-Since, and counts the
requests per path, so a test can tell which pages were fetched. Every request has
a short timeout; the server is shut down after each test.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from rag.errors import RagError
from rag.ingest.feeds import FeedReader, Seen, WebArticle, parse_feed
from rag.ingest.fetch import Fetcher, FetchError, FetchLimits, Validators
from rag.ingest.watch import Watcher, parse_every

pytestmark = pytest.mark.server

LIMITS = FetchLimits(timeout_s=3.0, max_bytes=200_000, max_redirects=3, use_env_proxy=False)
STAMP = formatdate(1723543200, usegmt=True)  # Tue, 13 Aug 2024 10:00:00 GMT

TOWNS = ["Leeds", "York", "Hull", "Bath", "Ely", "Wells", "Derby", "Truro", "Ripon", "Salford"]


def article_html(n: int, town: str | None = None) -> str:
    town = town or f"{TOWNS[n % len(TOWNS)]} {n}"
    paras = "".join(
        f"<p>Paragraph {k} of story {n}: the council of {town} voted on the budget for the {k}th time, "
        f"and {100 + 7 * n + k} residents came to watch the debate in the town hall on Tuesday.</p>"
        for k in range(1, 5)
    )
    return (
        f"<html><head><title>Story {n} from {town}</title>"
        '<meta property="og:site_name" content="Loopback News"></head>'
        f"<body><nav>Home | World | Sport</nav><article><h1>Story {n} from {town}</h1>{paras}</article>"
        "<footer>Copyright Loopback News</footer></body></html>"
    )


def rss2(base: str, ids: list[int], extra: str = "") -> str:
    items = "".join(
        f"<item><title>Entry {i}</title><link>{base}/page/{i}</link><guid>{base}/page/{i}</guid>"
        f"<pubDate>Tue, 13 Aug 2024 10:00:00 GMT</pubDate><author>desk@loopback.test (Jo Reporter)</author></item>"
        for i in ids
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>Loopback Wire</title>{items}{extra}</channel></rss>'
    )


def rss1(base: str, ids: list[int]) -> str:
    items = "".join(
        f'<item rdf:about="{base}/page/{i}"><title>Entry {i}</title><link>{base}/page/{i}</link>'
        f"<dc:date>2024-08-13T10:00:00Z</dc:date><dc:creator>Jo Reporter</dc:creator></item>"
        for i in ids
    )
    return (
        '<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
        'xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">'
        f'<channel rdf:about="{base}/rss1"><title>Loopback RDF</title><link>{base}</link></channel>{items}</rdf:RDF>'
    )


def atom(base: str, ids: list[int]) -> str:
    entries = "".join(
        f'<entry><title>Entry {i}</title><link href="{base}/page/{i}"/><id>urn:x:{i}</id>'
        f"<updated>2024-08-13T10:00:00Z</updated><author><name>Jo Reporter</name></author></entry>"
        for i in ids
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>Loopback Atom</title><id>urn:x</id><updated>2024-08-13T10:00:00Z</updated>{entries}</feed>"
    )


class Site:
    """What the loopback server serves; tests change it between polls."""

    def __init__(self) -> None:
        self.hits: Counter[str] = Counter()
        self.feed_ids = list(range(5))
        self.feed_version = 1
        self.down: set[str] = set()
        self.base = ""
        self.bench: dict[str, bytes] = {}

    def feed(self) -> tuple[bytes, str]:
        return rss2(self.base, self.feed_ids).encode(), f'"v{self.feed_version}"'


class Handler(BaseHTTPRequestHandler):
    site: Site

    def log_message(self, *args: object) -> None:  # keep pytest output clean
        pass

    def _send(self, code: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.send_response(code)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        site, path = self.site, self.path
        site.hits[path] += 1
        if path in site.down:
            return self._send(503, b"down")
        if path == "/feed.xml":
            body, etag = site.feed()
            if self.headers.get("If-None-Match") == etag:
                return self._send(304)
            return self._send(200, body, {"Content-Type": "application/rss+xml", "ETag": etag, "Last-Modified": STAMP})
        if path == "/rss1":
            return self._send(200, rss1(site.base, [1, 2]).encode(), {"Content-Type": "application/rdf+xml"})
        if path == "/atom":
            return self._send(200, atom(site.base, [3, 4]).encode(), {"Content-Type": "application/atom+xml"})
        if path == "/dup-feed":
            extra = f"<item><title>Copy</title><link>{site.base}/copy/1</link></item>"
            return self._send(200, rss2(site.base, [1], extra).encode(), {"Content-Type": "application/rss+xml"})
        if path.startswith("/page/") or path.startswith("/copy/"):
            n = int(path.rsplit("/", 1)[1])
            return self._send(200, article_html(n).encode(), {"Content-Type": "text/html; charset=utf-8"})
        if path == "/latin1":
            body = article_html(8, town="Besançon").encode("latin-1")
            return self._send(200, body, {"Content-Type": "text/html; charset=ISO-8859-1"})
        if path.startswith("/bench/"):
            return self._send(200, site.bench[path], {"Content-Type": "text/html; charset=utf-8"})
        if path == "/bench-feed":
            links = "".join(f"<item><title>B</title><link>{site.base}{k}</link></item>" for k in site.bench)
            body = f'<?xml version="1.0"?><rss version="2.0"><channel><title>Bench</title>{links}</channel></rss>'
            return self._send(200, body.encode(), {"Content-Type": "application/rss+xml"})
        if path == "/big":
            return self._send(200, b"<p>" + b"x" * 300_000 + b"</p>", {"Content-Type": "text/html"})
        if path == "/big-chunked":  # no Content-Length: the limit applies while streaming
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            for _ in range(40):
                self.wfile.write(b"y" * 10_000)
            self.close_connection = True
            return None
        if path.startswith("/loop/"):
            n = int(path.rsplit("/", 1)[1])
            return self._send(302, b"", {"Location": f"/loop/{n + 1}"})
        if path == "/to-file":
            return self._send(302, b"", {"Location": "file:///etc/passwd"})
        if path == "/moved":
            return self._send(301, b"", {"Location": "/page/7"})
        return self._send(404, b"not found")


@pytest.fixture
def site() -> Iterator[Site]:
    s = Site()
    handler = type("H", (Handler,), {"site": s})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    s.base = f"http://127.0.0.1:{server.server_address[1]}"
    t = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    t.start()
    try:
        yield s
    finally:
        server.shutdown()
        server.server_close()
        t.join(timeout=5)


class Sink:
    """Stands in for the pipeline's ingest_documents: records what it was given."""

    def __init__(self) -> None:
        self.batches: list[list[WebArticle]] = []

    def __call__(self, docs: list[WebArticle]) -> None:
        self.batches.append(docs)

    @property
    def articles(self) -> list[WebArticle]:
        return [a for b in self.batches for a in b]


def reader(tmp_path: Path, sink: Sink) -> FeedReader:
    fetcher = Fetcher(LIMITS, Validators.load(tmp_path / "validators.json"))
    return FeedReader(fetcher, sink, Seen.load(tmp_path / "seen.json"))


# -- feed parsing ---------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["rss2", "rss1", "atom", "rss091"])
def test_parse_feed_formats(kind, tmp_path):
    base = "http://news.test"
    data = {
        "rss2": rss2(base, [1, 2]),
        "rss1": rss1(base, [1, 2]),
        "atom": atom(base, [1, 2]),
        "rss091": '<?xml version="1.0"?><rss version="0.91"><channel><title>Old Wire</title>'
        f"<item><title>Entry 1</title><link>{base}/page/1</link></item>"
        f"<item><title>Entry 2</title><link>{base}/page/2</link></item></channel></rss>",
    }[kind]
    title, entries = parse_feed(data.encode(), "feed")
    assert title and [e.url for e in entries] == [f"{base}/page/1", f"{base}/page/2"]
    assert [e.title for e in entries] == ["Entry 1", "Entry 2"]
    assert all(e.source == title for e in entries)
    if kind != "rss091":
        assert {e.published for e in entries} == {"2024-08-13"}
        assert {e.author for e in entries} == {"Jo Reporter"}


def test_not_a_feed_is_a_clear_error():
    with pytest.raises(RagError, match="not an RSS or Atom feed"):
        parse_feed(b"<html><body><p>hello</p></body></html>", "x.html")


# -- fetching limits --------------------------------------------------------------------
def test_size_limit(site):
    with Fetcher(LIMITS) as f:
        with pytest.raises(FetchError, match="limit"):
            f.get(site.base + "/big")
        with pytest.raises(FetchError, match="limit"):
            f.get(site.base + "/big-chunked")


def test_redirect_limit_and_redirect_followed(site):
    with Fetcher(LIMITS) as f:
        with pytest.raises(FetchError, match="more than 3 redirects"):
            f.get(site.base + "/loop/0")
        assert site.hits["/loop/3"] == 1 and site.hits["/loop/4"] == 0
        r = f.get(site.base + "/moved")
        assert r.status == 200 and r.url.endswith("/page/7") and b"story 7" in r.body


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://127.0.0.1/x", "javascript:alert(1)", "/relative"])
def test_non_http_scheme_refused(url):
    with Fetcher(LIMITS) as f:
        with pytest.raises(FetchError, match="only http and https"):
            f.get(url)


def test_redirect_to_a_file_url_refused(site):
    with Fetcher(LIMITS) as f:
        with pytest.raises(FetchError, match="only http and https"):
            f.get(site.base + "/to-file")


def test_down_server_is_an_error_not_a_hang():
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with Fetcher(LIMITS) as f:
        with pytest.raises(FetchError, match="cannot fetch"):
            f.get(f"http://127.0.0.1:{port}/feed.xml")


# -- feeds end to end ----------------------------------------------------------------------
def test_feed_poll_then_conditional_repoll_fetches_no_page(site, tmp_path):
    sink = Sink()
    r = reader(tmp_path, sink)
    first = r.poll_url(site.base + "/feed.xml")
    assert len(first.added) == 5 and first.pages_fetched == 5 and not first.failed
    a = sink.articles[0]
    assert (a.title, a.published, a.author, a.outlet) == ("Entry 0", "2024-08-13", "Jo Reporter", "Loopback News")
    assert "council of" in a.text and "Home | World" not in a.text
    pages_before = sum(v for k, v in site.hits.items() if k.startswith("/page/"))
    second = r.poll_url(site.base + "/feed.xml")
    assert second.not_modified and second.pages_fetched == 0 and len(sink.batches) == 1
    assert sum(v for k, v in site.hits.items() if k.startswith("/page/")) == pages_before
    # A restart: state from disk, still one 304 and no page.
    r2 = reader(tmp_path, sink)
    assert r2.poll_url(site.base + "/feed.xml").not_modified
    assert site.hits["/feed.xml"] == 3 and len(sink.batches) == 1
    # The feed changes: only the new entry's page is fetched.
    site.feed_ids.append(9)
    site.feed_version += 1
    third = r2.poll_url(site.base + "/feed.xml")
    assert third.added == [site.base + "/page/9"] and third.pages_fetched == 1


@pytest.mark.parametrize("path", ["/rss1", "/atom"])
def test_rss1_and_atom_over_http(site, tmp_path, path):
    sink = Sink()
    rep = reader(tmp_path, sink).poll_url(site.base + path)
    assert len(rep.added) == 2 and {a.author for a in sink.articles} == {"Jo Reporter"}


def test_duplicates_by_url_and_by_content(site, tmp_path):
    sink = Sink()
    r = reader(tmp_path, sink)
    rep = r.poll_url(site.base + "/dup-feed")  # /page/1 and /copy/1 hold the same story
    assert rep.added == [site.base + "/page/1"]
    assert rep.duplicates == [{"url": site.base + "/copy/1", "duplicate_of": site.base + "/page/1"}]
    site.feed_ids = [1]  # the same URL in another feed: not fetched again
    hits = site.hits["/page/1"]
    rep2 = r.poll_url(site.base + "/feed.xml")
    assert rep2.added == [] and site.hits["/page/1"] == hits


def test_a_down_page_is_reported_and_retried(site, tmp_path):
    sink = Sink()
    r = reader(tmp_path, sink)
    site.down.add("/page/2")
    rep = r.poll_url(site.base + "/feed.xml")
    assert len(rep.added) == 4 and rep.failed and "503" in rep.failed[0]["reason"]
    site.down.clear()
    rep2 = r.poll_url(site.base + "/feed.xml")  # validators not kept: the feed is read again
    assert not rep2.not_modified and rep2.added == [site.base + "/page/2"] and rep2.pages_fetched == 1


def test_ingest_failure_marks_nothing_seen(site, tmp_path):
    def broken(docs):
        raise RagError("index is locked")

    r = FeedReader(Fetcher(LIMITS), broken, Seen())
    with pytest.raises(RagError):
        r.poll_url(site.base + "/feed.xml")
    sink = Sink()
    r.ingest_documents = sink
    assert len(r.poll_url(site.base + "/feed.xml").added) == 5


def test_batches_are_taken_in_feed_order_and_each_marked_seen_once_taken(site, tmp_path):
    # Five entries two at a time: three batches, written in feed order; the second write
    # fails, so the first batch stays taken and the rest are fetched again next poll.
    calls: list[list[str]] = []

    def flaky(docs):
        calls.append([d.url for d in docs])
        if len(calls) == 2:
            raise RagError("index is locked")

    r = FeedReader(Fetcher(LIMITS), flaky, Seen(), batch=2)
    with pytest.raises(RagError):
        r.poll_url(site.base + "/feed.xml")
    first = [site.base + f"/page/{i}" for i in site.feed_ids[:2]]
    assert calls[0] == first and set(r.seen.urls) == set(first)
    sink = Sink()
    r.ingest_documents = sink
    rep = r.poll_url(site.base + "/feed.xml")
    assert [len(b) for b in sink.batches] == [2, 1]
    assert rep.added == [site.base + f"/page/{i}" for i in site.feed_ids[2:]] == [a.url for a in sink.articles]


def test_single_page_url(site, tmp_path):
    sink = Sink()
    rep = reader(tmp_path, sink).poll_url(site.base + "/page/3")
    assert rep.added == [site.base + "/page/3"] and sink.articles[0].title == "Story 3 from Bath 3"


def test_page_charset_from_the_header(site, tmp_path):
    sink = Sink()
    reader(tmp_path, sink).poll_url(site.base + "/latin1")
    assert "council of Besançon voted" in sink.articles[0].text


def test_benchmark_pages_over_loopback(site, tmp_path):
    from rag.devtools import extraction_bench as xb
    from rag.ingest.web import extract_html

    if not (xb.BENCHMARK_DIR / "ground-truth.json").exists():
        pytest.skip(f"benchmark not at {xb.BENCHMARK_DIR}")
    pages = xb.load_pages(split="test")[:4]
    site.bench = {f"/bench/{p.id}": p.html().encode("utf-8") for p in pages}
    sink = Sink()
    rep = reader(tmp_path, sink).poll_url(site.base + "/bench-feed")
    assert len(rep.added) == 4 and rep.pages_fetched == 4
    by_url = {a.url: a for a in sink.articles}
    for p in pages:
        got = by_url[f"{site.base}/bench/{p.id}"].text
        assert got == extract_html(p.html(), f"{site.base}/bench/{p.id}").text
        tp, fp, fn = xb.page_score(p.truth, got)
        assert tp > 0.5, p.url


def test_local_feed_file(site, tmp_path):
    f = tmp_path / "feed.xml"
    f.write_text(rss2(site.base, [4, 5]), encoding="utf-8")
    sink = Sink()
    rep = reader(tmp_path, sink).poll_file(f)
    assert len(rep.added) == 2


# -- watch -----------------------------------------------------------------------------------
def test_parse_every():
    assert parse_every("15m") == 900 and parse_every("30s") == 30
    with pytest.raises(RagError, match="--every"):
        parse_every("soon")


def test_watch_cycles_folders_and_feeds(site, tmp_path):
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "a.txt").write_text("Rain fell in Leeds.", encoding="utf-8")
    calls: list[list[Path]] = []

    class Report:
        def __init__(self, n):
            self.added, self.updated = ["x"] * n, []

    def ingest_paths(paths):
        calls.append(paths)
        return Report(1)

    lines: list[str] = []
    sink = Sink()
    site.down.add("/feed.xml")

    def watcher() -> Watcher:
        return Watcher(
            folders=[folder],
            urls=[site.base + "/feed.xml"],
            reader=reader(tmp_path, sink),
            ingest_paths=ingest_paths,
            state_dir=tmp_path / "state",
            suffixes=[".txt"],
            every_s=0.01,
            log=lines.append,
        )

    w = watcher()
    assert w.run(max_cycles=1) == 1
    assert len(calls) == 1 and "1 failed" in lines[-1] and "503" in lines[-1]  # reported, not raised
    site.down.clear()
    w.cycle()
    assert len(calls) == 1 and len(sink.articles) == 5 and "5 new" in lines[-1]
    w.cycle()
    assert "0 new, 2 sources unchanged" in lines[-1]
    # A restart keeps the state: nothing is ingested again.
    w2 = watcher()
    w2.cycle()
    assert len(calls) == 1 and len(sink.batches) == 1 and "0 new" in lines[-1]
    (folder / "b.txt").write_text("Snow fell in York.", encoding="utf-8")
    w2.cycle()
    assert len(calls) == 2
    assert len(lines) == 5  # one line per cycle


def test_watch_stops_cleanly_on_ctrl_c(tmp_path):
    lines: list[str] = []

    def log(line: str) -> None:
        lines.append(line)
        if len(lines) == 2:
            raise KeyboardInterrupt  # as Ctrl-C arriving during the second cycle

    w = Watcher(
        folders=[],
        urls=[],
        reader=FeedReader(Fetcher(LIMITS), Sink(), Seen()),
        ingest_paths=lambda p: None,
        state_dir=tmp_path,
        suffixes=[".txt"],
        every_s=0.01,
        log=log,
    )
    assert w.run() == 2
    assert lines[-1].startswith("stopped after 2 cycles")
