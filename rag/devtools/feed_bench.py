"""Time a feed of benchmark pages served on loopback: first poll and unchanged re-poll.

A server on 127.0.0.1 serves an RSS 2.0 feed of ``n`` article-extraction-benchmark
pages (ETag-aware). Timed, median of ``runs``: the first poll (feed, every page
fetched and extracted, handed to a sink) and the re-poll (one 304, no page). The
baseline, in the same run, is extracting the same pages from memory, so the ratio
shows the cost of fetching over the extraction itself.

``measure_index`` times the same into a real index (chunking and embedding
included) in a fresh data folder per run: the first poll, and the re-poll of the
unchanged feed with the state the first poll saved (``Rag.web()``, as `rag ingest
URL` runs it). The first poll is timed with the pages taken in batches (the next
batch fetched and extracted while one is embedded) and, as the baseline in the same
run, in one batch (fetch and extract everything, then embed).

    python -c "from rag.devtools.feed_bench import measure, measure_index; print(measure(), measure_index())"
"""

from __future__ import annotations

import statistics
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from rag.devtools import extraction_bench as xb
from rag.ingest.feeds import FEED_BATCH, FeedReader, Seen
from rag.ingest.fetch import Fetcher, FetchLimits, Validators
from rag.ingest.web import extract_html


def _server(bodies: dict[str, bytes], hits: Counter) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802
            hits[self.path] += 1
            if self.path == "/feed.xml" and self.headers.get("If-None-Match") == '"v1"':
                self.send_response(304)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            body = bodies.get(self.path)
            if body is None:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("ETag", '"v1"')
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return ThreadingHTTPServer(("127.0.0.1", 0), Handler)


def _serve_feed(n: int) -> tuple[ThreadingHTTPServer, str, Counter, list[str]]:
    """A loopback server of an RSS 2.0 feed of ``n`` benchmark pages: (server, base URL, hits, pages)."""
    pages = xb.load_pages()[:n]
    htmls = [p.html() for p in pages]
    bodies = {f"/p/{i}": h.encode("utf-8") for i, h in enumerate(htmls)}
    hits: Counter = Counter()
    srv = _server(bodies, hits)
    base = f"http://127.0.0.1:{srv.server_address[1]}"
    items = "".join(f"<item><title>Entry {i}</title><link>{base}/p/{i}</link></item>" for i in range(len(pages)))
    bodies["/feed.xml"] = (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>W</title>{items}</channel></rss>'.encode()
    )
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv, base, hits, htmls


def measure_index(n: int = 100, runs: int = 3, batches: tuple[int, ...] = (FEED_BATCH, 0)) -> dict:
    """First poll into an empty index and unchanged re-poll, median of ``runs`` (fresh folder each),
    for each entry batch size in ``batches`` (0: every entry in one batch, so nothing overlaps
    the embedding: the baseline), the sizes taking turns within each run."""
    import tempfile
    from pathlib import Path

    from rag.api import Rag
    from rag.settings import Settings

    srv, base, hits, _ = _serve_feed(n)
    out: dict = {"entries": n}
    times: dict[int, list[float]] = {b: [] for b in batches}
    repoll, chunks, added, refetched = [], [], [], 0
    try:
        for _ in range(runs):
            for b in batches:
                with tempfile.TemporaryDirectory(prefix="rag-feed-bench-") as tmp:
                    rag = Rag(Settings.from_env().with_(data_dir=Path(tmp), chroma_url=None))
                    rag.embedder.embed(["warm up"])  # the model load is not the feed's cost
                    with rag.web() as web:
                        web.reader.batch = b or n
                        t0 = time.perf_counter()
                        rep = web.poll(base + "/feed.xml")
                        times[b].append(time.perf_counter() - t0)
                    added.append(len(rep.added))
                    chunks.append(rag.store.n_chunks())
                    before = sum(v for k, v in hits.items() if k.startswith("/p/"))
                    with rag.web() as web:  # a new client and the saved state, as a second `rag ingest URL`
                        t0 = time.perf_counter()
                        rep2 = web.poll(base + "/feed.xml")
                        repoll.append(time.perf_counter() - t0)
                    refetched += sum(v for k, v in hits.items() if k.startswith("/p/")) - before
                    if not rep2.not_modified:
                        raise RuntimeError("the unchanged feed was not answered 304")
                    rag.store.close()
    finally:
        srv.shutdown()
        srv.server_close()
    med = statistics.median
    for b, ts in times.items():
        key = f"batch_{b}" if b else "one_batch"
        out[f"first_poll_s_{key}"] = [round(x, 2) for x in ts]
        out[f"first_poll_s_{key}_median"] = round(med(ts), 2)
    out.update(
        added=added,
        chunks=chunks,
        repoll_ms=[round(1000 * x, 1) for x in repoll],
        repoll_ms_median=round(1000 * med(repoll), 1),
        pages_fetched_on_repoll=refetched,
    )
    return out


def measure(n: int = 100, runs: int = 3) -> dict:
    srv, base, hits, htmls = _serve_feed(n)
    first, repoll, baseline, added = [], [], [], 0
    try:
        for _ in range(runs):
            t0 = time.perf_counter()
            for i, h in enumerate(htmls):
                extract_html(h, f"{base}/p/{i}")
            baseline.append(time.perf_counter() - t0)
            got: list = []
            with Fetcher(FetchLimits(use_env_proxy=False), Validators()) as f:
                reader = FeedReader(f, got.extend, Seen())
                t0 = time.perf_counter()
                rep = reader.poll_url(base + "/feed.xml")
                first.append(time.perf_counter() - t0)
                added = len(rep.added)
                pages_before = sum(v for k, v in hits.items() if k.startswith("/p/"))
                t0 = time.perf_counter()
                rep2 = reader.poll_url(base + "/feed.xml")
                repoll.append(time.perf_counter() - t0)
                if not rep2.not_modified or sum(v for k, v in hits.items() if k.startswith("/p/")) != pages_before:
                    raise RuntimeError("the unchanged feed was not answered 304, or a page was fetched again")
    finally:
        srv.shutdown()
        srv.server_close()
    med = statistics.median
    return {
        "entries": len(htmls),
        "added": added,
        "first_poll_s": round(med(first), 2),
        "extract_only_s": round(med(baseline), 2),
        "first_poll_over_extract": round(med(first) / med(baseline), 2),
        "repoll_ms": round(1000 * med(repoll), 1),
        "pages_fetched_on_repoll": 0,
    }
