"""Web sources for the index: page and feed URLs, feed files, and the feed list the page keeps.

The fetch state (validators), the URLs and texts taken, and the feed list live
under ``<data dir>/web/`` so that a re-poll after a restart is conditional and
fetches nothing already taken. ``rag ingest --rebuild`` forgets what was taken.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from rag.errors import RagError
from rag.ingest.feeds import FeedReader, PollReport, Seen, WebArticle
from rag.ingest.fetch import Fetcher, FetchLimits, Validators, check_url
from rag.ingest.pipeline import IngestReport, write_articles
from rag.types import Article

FEED_SUFFIXES = {".xml", ".rss", ".atom"}


def is_url(text: str) -> bool:
    """Does a command-line input name a URL rather than a path?

    >>> is_url("https://site.example/feed"), is_url("seeds/"), is_url("HTTP://x")
    (True, False, True)
    """
    return text.lower().startswith(("http://", "https://"))


def is_feed_file(path: Path) -> bool:
    return path.suffix.lower() in FEED_SUFFIXES


def web_dir(data_dir: Path) -> Path:
    return data_dir / "web"


def forget_taken(data_dir: Path) -> None:
    """After a rebuild: nothing is taken any more (the feed list stays)."""
    for name in ("seen.json", "validators.json"):
        (web_dir(data_dir) / name).unlink(missing_ok=True)


def article_of(w: WebArticle) -> Article:
    """The index record of a fetched page: its URL is its file name and its source."""
    return Article(
        id=w.content_hash,
        file=w.url,
        text=w.text,
        title=w.title,
        outlet=w.outlet,  # the page's site name or the feed's title; never made up from the host
        published=w.published,
        url=w.url,
        author=w.author,
        source=w.url,
    )


class WebSources:
    """Poll URLs and feed files into the index (a context manager: one HTTP client)."""

    def __init__(self, data_dir: Path, store, embedder, limits: FetchLimits | None = None) -> None:
        self.data_dir = data_dir
        self.store = store
        self.embedder = embedder
        self.report = IngestReport()
        folder = web_dir(data_dir)
        self.fetcher = Fetcher(limits, Validators.load(folder / "validators.json"))
        self.reader = FeedReader(self.fetcher, self._take, Seen.load(folder / "seen.json"))

    def _take(self, articles: list[WebArticle]) -> None:
        write_articles(self.store, self.embedder, [article_of(a) for a in articles], self.report)

    def poll(self, source: str) -> PollReport:
        """A page or feed URL, or a feed file; raises :class:`RagError` when it cannot be read."""
        if is_url(source):
            return self.reader.poll_url(source)
        return self.reader.poll_file(Path(source))

    def close(self) -> None:
        self.fetcher.close()

    def __enter__(self) -> WebSources:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class FeedList:
    """The feed URLs the page's Library tab keeps (``<data dir>/web/feeds.json``)."""

    def __init__(self, data_dir: Path) -> None:
        self.path = web_dir(data_dir) / "feeds.json"

    def urls(self) -> list[str]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return []
        except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise RagError(f"the feed list {self.path} is unreadable ({exc}); delete it") from None
        return [u for u in data if isinstance(u, str)] if isinstance(data, list) else []

    def add(self, url: str) -> list[str]:
        url = check_url(url.strip())
        urls = self.urls()
        if url not in urls:
            urls.append(url)
            self._save(urls)
        return urls

    def remove(self, url: str) -> list[str]:
        urls = [u for u in self.urls() if u != url.strip()]
        self._save(urls)
        return urls

    def _save(self, urls: list[str]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".feeds.", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(urls, fh, indent=1)
        os.replace(tmp, self.path)


def poll_line(r: PollReport) -> str:
    """One line for one polled source.

    >>> poll_line(PollReport("https://x/feed", entries=3, added=["a", "b"], pages_fetched=2))
    'https://x/feed: 3 entries, 2 added, 0 duplicates, 0 skipped, 0 failed (2 pages fetched)'
    >>> poll_line(PollReport("https://x/feed", not_modified=True))
    'https://x/feed: unchanged since the last poll (0 pages fetched)'
    """
    if r.not_modified:
        return f"{r.source}: unchanged since the last poll (0 pages fetched)"
    return (
        f"{r.source}: {r.entries} entries, {len(r.added)} added, {len(r.duplicates)} duplicates, "
        f"{len(r.skipped)} skipped, {len(r.failed)} failed ({r.pages_fetched} pages fetched)"
    )


def poll_all(web: WebSources, sources: list[str]) -> tuple[dict, list[str]]:
    """Poll URLs and feed files into the index: (what was added, skipped, found
    duplicate or failed, for the report; one line per source to print)."""
    out: dict = {"added": [], "skipped": [], "duplicates": [], "failed": [], "chunks": 0}
    lines: list[str] = []
    for src in sources:
        try:
            r = web.poll(src)
        except RagError as exc:
            out["failed"].append({"path": src, "reason": str(exc)})
            lines.append(f"{src}: failed: {exc}")
            continue
        out["added"] += r.added
        out["duplicates"] += r.duplicates
        out["skipped"] += [{"path": s["url"], "reason": s["reason"]} for s in r.skipped]
        out["failed"] += [{"path": f["url"], "reason": f["reason"]} for f in r.failed]
        lines.append(poll_line(r))
    out["skipped"] += web.report.skipped  # duplicates of an article already indexed
    out["chunks"] = web.report.chunks_added
    out["added"] = [u for u in out["added"] if u not in {s["path"] for s in web.report.skipped}]
    return out, lines
