"""News feeds (RSS 0.9x/1.0/2.0, Atom) and page URLs into articles ready to index.

Each entry's page is fetched and extracted; the entry's title, date, author and
source are kept (the page's own stand in when the entry lacks them). A URL already
taken and a text already taken (the same story under two URLs) are stored once.
Nothing is marked seen until the injected ``ingest_documents`` has taken the
articles, and a feed's validators are kept only when every entry was handled, so a
page that was down is fetched again on the next poll while a feed that did not
change costs one conditional request and no page fetch.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import feedparser

from rag.errors import RagError
from rag.ingest.fetch import Fetcher, FetchError, FetchResult
from rag.ingest.web import ExtractedPage, extract_html
from rag.text import iso_date

# Entries fetched and extracted while the batch before them is embedded and written.
FEED_BATCH = 10


class FeedError(RagError):
    """A feed that cannot be read, with the reason."""


@dataclass(frozen=True)
class FeedEntry:
    url: str
    title: str = ""
    published: str = ""  # ISO date
    author: str = ""
    source: str = ""  # the feed's (or the entry's <source>) title
    feed_url: str = ""


@dataclass(frozen=True)
class WebArticle:
    """One page to index: the extracted text and the metadata the reader sees."""

    url: str
    text: str
    title: str = ""
    outlet: str = ""
    published: str = ""
    author: str = ""
    feed_url: str = ""
    content_hash: str = ""

    def to_json(self) -> dict:
        return asdict(self)


def text_hash(text: str) -> str:
    """The content hash articles are keyed by (the same as ``rag.chunk.content_hash``).

    >>> text_hash("abc")
    'ba7816bf8f01cfea'
    """
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def is_feed(data: bytes) -> bool:
    """Does ``data`` parse as an RSS or Atom feed?"""
    parsed = feedparser.parse(data)
    return bool(parsed.get("version")) or bool(parsed.entries)


def parse_feed(data: bytes | str, feed_url: str = "") -> tuple[str, list[FeedEntry]]:
    """The feed's title and its entries with a link, in feed order.

    Raises :class:`FeedError` when ``data`` is not a feed.
    """
    parsed = feedparser.parse(data)
    if not parsed.get("version") and not parsed.entries:
        reason = parsed.get("bozo_exception")
        raise FeedError(f"not an RSS or Atom feed{f' ({reason})' if reason else ''}: {feed_url or 'input'}")
    feed_title = _clean(parsed.feed.get("title"))
    entries = []
    for e in parsed.entries:
        url = _clean(e.get("link"))
        if not url:
            continue
        src = e.get("source") or {}
        entries.append(
            FeedEntry(
                url=url,
                title=_clean(e.get("title")),
                published=iso_date(e.get("published") or e.get("updated") or e.get("created") or ""),
                author=_author(e),
                source=_clean(src.get("title") if hasattr(src, "get") else "") or feed_title,
                feed_url=feed_url,
            )
        )
    return feed_title, entries


def _author(entry) -> str:
    """The author's name: RSS 2.0 writes "desk@site (Jo Reporter)"."""
    detail = entry.get("author_detail") or {}
    return _clean(detail.get("name") if hasattr(detail, "get") else "") or _clean(entry.get("author"))


def _clean(value: object) -> str:
    return " ".join(value.split()) if isinstance(value, str) else ""


def article_from_page(page: ExtractedPage, entry: FeedEntry | None = None) -> WebArticle:
    """Entry metadata first (what the publisher announced), the page's where missing."""
    e = entry or FeedEntry(url=page.url)
    return WebArticle(
        url=e.url or page.url,
        text=page.text,
        title=e.title or page.title,
        outlet=page.site_name or e.source,
        published=e.published or page.published,
        author=e.author or page.author,
        feed_url=e.feed_url,
        content_hash=text_hash(page.text),
    )


@dataclass
class Seen:
    """URLs and content hashes already ingested, persisted as JSON at ``path``."""

    path: Path | None = None
    urls: dict[str, str] = field(default_factory=dict)  # url -> content hash
    hashes: dict[str, str] = field(default_factory=dict)  # content hash -> first url

    @classmethod
    def load(cls, path: Path) -> Seen:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            data = {}
        except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise RagError(f"the feed state {path} is unreadable ({exc}); delete it to start afresh") from None
        return cls(path=path, urls=dict(data.get("urls", {})), hashes=dict(data.get("hashes", {})))

    def add(self, articles: list[WebArticle], also: dict[str, str] | None = None) -> None:
        """Mark ``articles`` taken, and ``also`` (url -> hash, '' for a page without
        text) seen, so neither is fetched again."""
        for a in articles:
            self.urls[a.url] = a.content_hash
            self.hashes.setdefault(a.content_hash, a.url)
        self.urls.update(also or {})
        self.save()

    def save(self) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".seen.", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump({"urls": self.urls, "hashes": self.hashes}, fh, indent=1, sort_keys=True)
        os.replace(tmp, self.path)


@dataclass
class PollReport:
    """What one poll of one source did. ``failed`` entries are retried next poll."""

    source: str
    not_modified: bool = False
    entries: int = 0
    added: list[str] = field(default_factory=list)
    duplicates: list[dict] = field(default_factory=list)
    skipped: list[dict] = field(default_factory=list)  # permanent: no article text
    failed: list[dict] = field(default_factory=list)  # transient: fetch errors
    pages_fetched: int = 0

    def to_json(self) -> dict:
        return asdict(self)


IngestDocuments = Callable[[list[WebArticle]], object]


class FeedReader:
    """Poll feeds and page URLs; hand new articles to ``ingest_documents``."""

    def __init__(
        self,
        fetcher: Fetcher,
        ingest_documents: IngestDocuments,
        seen: Seen | None = None,
        extract: Callable[..., ExtractedPage] = extract_html,
        batch: int = FEED_BATCH,
    ) -> None:
        self.fetcher = fetcher
        self.batch = max(1, batch)
        self.ingest_documents = ingest_documents
        self.seen = seen if seen is not None else Seen()
        self.extract = extract

    def poll_url(self, url: str) -> PollReport:
        """A feed URL (conditional request; entries' pages fetched) or a single page URL.

        A feed or page that cannot be fetched raises :class:`FetchError`.
        """
        result = self.fetcher.get(url)
        if result.not_modified:
            return PollReport(source=url, not_modified=True)
        if is_feed(result.body):
            return self._feed(result)
        report = PollReport(source=url, entries=1, pages_fetched=1)
        self._take(report, [(FeedEntry(url=url), result)])
        self.fetcher.validators.remember(result)
        return report

    def poll_file(self, path: Path) -> PollReport:
        """A feed saved as a file: its entries' pages are fetched."""
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise FeedError(f"cannot read {path}: {exc.strerror or exc}") from None
        _, entries = parse_feed(data, str(path))
        report = PollReport(source=str(path), entries=len(entries))
        self._entries(report, entries)
        return report

    def _feed(self, result: FetchResult) -> PollReport:
        _, entries = parse_feed(result.body, result.requested_url or result.url)
        report = PollReport(source=result.requested_url or result.url, entries=len(entries))
        self._entries(report, entries)
        if not report.failed:
            self.fetcher.validators.remember(result)  # else: the whole feed again next poll
        return report

    def _entries(self, report: PollReport, entries: list[FeedEntry]) -> None:
        """Fetch and extract the entries' pages ``batch`` at a time, each batch handed
        to ``ingest_documents`` on a worker thread while the next is fetched and
        extracted (the embedder releases the GIL, so the two overlap). Writes stay in
        feed order, one at a time; a batch is marked seen once it has been taken."""
        todo = [e for e in entries if e.url not in self.seen.urls]
        hashes: dict[str, str] = {}  # content hash -> url, across the batches of this poll
        pending: tuple[Future | None, list[WebArticle], dict[str, str]] | None = None
        with ThreadPoolExecutor(1, thread_name_prefix="feed-ingest") as writer:
            for i in range(0, len(todo), self.batch):
                fetched = self._fetch(report, todo[i : i + self.batch])
                new, also = self._extract(report, fetched, hashes)
                if pending:
                    self._settle(report, *pending)
                pending = (writer.submit(self.ingest_documents, new) if new else None, new, also)
            if pending:
                self._settle(report, *pending)

    def _fetch(self, report: PollReport, entries: list[FeedEntry]) -> list[tuple[FeedEntry, FetchResult]]:
        fetched: list[tuple[FeedEntry, FetchResult]] = []
        for e in entries:
            try:
                page = self.fetcher.get(e.url, conditional=False)
            except FetchError as exc:
                report.failed.append({"url": e.url, "reason": str(exc)})
                continue
            report.pages_fetched += 1
            fetched.append((e, page))
        return fetched

    def _extract(
        self, report: PollReport, fetched: list[tuple[FeedEntry, FetchResult]], hashes: dict[str, str]
    ) -> tuple[list[WebArticle], dict[str, str]]:
        """The new articles of ``fetched``, and the URLs seen without a new article
        (no text, or a text already taken: url -> hash)."""
        new: list[WebArticle] = []
        also: dict[str, str] = {}
        for entry, page in fetched:
            art = article_from_page(self.extract(page.html(), page.url), entry)
            if not art.text.strip():
                report.skipped.append({"url": entry.url, "reason": "no article text on the page"})
                also[entry.url] = ""
                continue
            first = self.seen.hashes.get(art.content_hash) or hashes.get(art.content_hash)
            if first:
                report.duplicates.append({"url": entry.url, "duplicate_of": first})
                also[entry.url] = art.content_hash
                continue
            hashes[art.content_hash] = art.url
            new.append(art)
        return new, also

    def _settle(self, report: PollReport, taken: Future | None, new: list[WebArticle], also: dict[str, str]) -> None:
        if taken is not None:
            taken.result()  # may raise: then this batch is not marked seen
        self.seen.add(new, also)
        report.added.extend(a.url for a in new)

    def _take(self, report: PollReport, fetched: list[tuple[FeedEntry, FetchResult]]) -> None:
        new, also = self._extract(report, fetched, {})
        if new:
            self.ingest_documents(new)  # may raise: then nothing is marked seen
        self._settle(report, None, new, also)
