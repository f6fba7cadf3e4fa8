"""What would be indexed from files, folders, pages and feeds, touching no index (`rag extract`).

One record per article, in input order: ``{"file","url","title","outlet","published",
"text","skipped"}``. An input that yields nothing has its reason in ``skipped`` and
an empty ``text``. A feed gives one record per entry, its page fetched and extracted.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from rag.errors import RagError
from rag.ingest.feeds import FeedEntry, article_from_page, is_feed, parse_feed
from rag.ingest.fetch import Fetcher
from rag.ingest.pipeline import IngestReport, discover
from rag.ingest.read import Skip, read_file
from rag.ingest.sources import is_feed_file, is_url
from rag.ingest.web import extract_html
from rag.types import Article

FIELDS = ("file", "url", "title", "outlet", "published", "text", "skipped")


def record(file: str = "", url: str = "", skipped: str = "", article: Article | None = None) -> dict:
    """One output record.

    >>> record(file="a.pdf", skipped="unsupported file type .pdf")["text"]
    ''
    """
    if article is None:
        return {"file": file, "url": url, "title": "", "outlet": "", "published": "", "text": "", "skipped": skipped}
    return {
        "file": file or article.file,
        "url": url or article.url,
        "title": article.title,
        "outlet": article.outlet,
        "published": article.published,
        "text": article.text,
        "skipped": "",
    }


def preview(inputs: list[str], fetcher: Fetcher, max_bytes: int) -> Iterator[dict]:
    """Records for ``inputs`` (paths, folders, feed files, page or feed URLs), in order."""
    for item in inputs:
        if is_url(item):
            yield from _url(item, fetcher)
        elif is_feed_file(Path(item)):
            yield from _feed_file(Path(item), fetcher)
        else:
            yield from _path(item, max_bytes)


def _path(item: str, max_bytes: int) -> Iterator[dict]:
    report = IngestReport()
    try:
        files, _ = discover([Path(item)], report)
    except RagError as exc:
        yield record(file=item, skipped=str(exc))
        return
    for s in report.skipped:
        yield record(file=s["path"], skipped=s["reason"])
    for f in files:
        errors: list[tuple[str, str]] = []
        try:
            arts = read_file(f, max_bytes, on_line_error=lambda p, r, errs=errors: errs.append((p, r)))
        except (Skip, OSError) as exc:
            yield record(file=str(f), skipped=str(exc))
            continue
        for p, r in errors:
            yield record(file=p, skipped=r)
        for a in arts:
            yield record(file=str(f) if len(arts) == 1 else a.file, article=a)


def _page(entry: FeedEntry, fetcher: Fetcher) -> dict:
    try:
        got = fetcher.get(entry.url, conditional=False)
    except RagError as exc:
        return record(url=entry.url, skipped=str(exc))
    w = article_from_page(extract_html(got.html(), got.url), entry)
    if not w.text.strip():
        return record(url=entry.url, skipped="no article text found on the page")
    a = Article(id=w.content_hash, file="", text=w.text, title=w.title, outlet=w.outlet, published=w.published)
    return record(url=w.url, article=a)


def _entries(entries: list[FeedEntry], source: str, fetcher: Fetcher) -> Iterator[dict]:
    if not entries:
        yield record(
            url=source if is_url(source) else "",
            file="" if is_url(source) else source,
            skipped="the feed has no entries with a link",
        )
    for e in entries:
        yield _page(e, fetcher)


def _url(url: str, fetcher: Fetcher) -> Iterator[dict]:
    try:
        got = fetcher.get(url, conditional=False)
    except RagError as exc:
        yield record(url=url, skipped=str(exc))
        return
    if is_feed(got.body):
        yield from _entries(parse_feed(got.body, url)[1], url, fetcher)
        return
    w = article_from_page(extract_html(got.html(), got.url), FeedEntry(url=url))
    if not w.text.strip():
        yield record(url=url, skipped="no article text found on the page")
        return
    yield record(
        url=url, article=Article(id="", file="", text=w.text, title=w.title, outlet=w.outlet, published=w.published)
    )


def _feed_file(path: Path, fetcher: Fetcher) -> Iterator[dict]:
    try:
        entries = parse_feed(path.read_bytes(), str(path))[1]
    except OSError as exc:
        yield record(file=str(path), skipped=f"cannot read: {exc.strerror or exc}")
        return
    except RagError as exc:
        yield record(file=str(path), skipped=str(exc))
        return
    yield from _entries(entries, str(path), fetcher)
