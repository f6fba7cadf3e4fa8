"""Reading article files: one module per concern of a file (its encoding, its format, its sidecar).

To add an ingest format: a suffix in :data:`SUFFIXES` and a branch in :func:`read_file` that turns the file
into text (then :func:`rag.ingest.clean.clean_text` drops boilerplate), with a test in tests/test_clean.py.
A web page (.html, or fetched from a URL) is extracted by trafilatura (:mod:`rag.ingest.web`).
Any of these formats may come gzip-compressed (``page.html.gz``): the limit on a file's size then holds for
its decompressed bytes too.
"""

from __future__ import annotations

import gzip
import io
import json
import zlib
from collections.abc import Callable
from pathlib import Path

from rag.ingest.chunk import content_hash
from rag.ingest.clean import clean_text, markdown_to_text
from rag.ingest.web import extract_html
from rag.text import iso_date
from rag.types import Article

SUFFIXES = {".txt", ".md", ".html", ".htm", ".json", ".jsonl"}
META_SUFFIX = ".meta.json"  # sidecar: metadata the article shows, recorded by hand
GZIP_SUFFIX = ".gz"


def _gzipped(path: Path) -> bool:
    return path.suffix.lower() == GZIP_SUFFIX


def file_suffix(path: Path) -> str:
    """The format suffix of an article file, looking through a gzip layer (lower case).

    >>> file_suffix(Path("Page.HTML.gz")), file_suffix(Path("a.txt")), file_suffix(Path("a.gz"))
    ('.html', '.txt', '.gz')
    """
    inner = Path(path.stem) if _gzipped(path) else path
    return inner.suffix.lower() or path.suffix.lower()


def unsupported(path: Path) -> str:
    """The reason a file of an unknown type is skipped.

    >>> unsupported(Path("a.tar.gz")), unsupported(Path("a.pdf")), unsupported(Path("README"))
    ('unsupported file type .tar.gz', 'unsupported file type .pdf', 'unsupported file type (none)')
    """
    suffix = file_suffix(path)
    if _gzipped(path) and suffix != GZIP_SUFFIX:
        suffix += GZIP_SUFFIX
    return f"unsupported file type {suffix or '(none)'}"


class Skip(Exception):
    """A file (or JSONL line) that cannot be ingested, with the reason."""


def _decode(data: bytes, name: str) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 with a byte-order mark
        try:
            data = data.decode("utf-16").encode("utf-8")
        except UnicodeDecodeError:
            raise Skip("cannot decode as UTF-16 text") from None
    if not data.strip():
        raise Skip("empty file")
    if b"\x00" in data[:8192]:
        raise Skip("binary file (NUL bytes)")
    for enc in ("utf-8-sig",):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            pass
    # Latin-1 decodes anything: accept it only when the result looks like text.
    text = data.decode("cp1252", errors="replace")
    bad = sum(1 for ch in text if ch == "\ufffd" or (ord(ch) < 32 and ch not in "\n\r\t"))
    if bad > max(3, len(text) // 200):
        raise Skip("cannot decode as UTF-8 or Latin-1 text")
    return text


Warn = Callable[[str, str], None] | None  # (where, what): a value ignored, the article kept


def _published(given: object, fallback: object, where: str, warn: Warn) -> str:
    """The ISO date ``given`` by metadata, else the one the article shows (``fallback``);
    a given value that is not a date is reported through ``warn`` and not used.

    >>> notes = []
    >>> _published("last Tuesday", "Saturday, January 8, 2005", "a.txt", lambda w, r: notes.append(r))
    '2005-01-08'
    >>> notes
    ["'published' is not a date: 'last Tuesday' (the article's own date 2005-01-08 is used)"]
    """
    date, own = iso_date(given), iso_date(fallback)
    if given and not date and warn:
        instead = f"the article's own date {own} is used" if own else "the article has no date"
        warn(where, f"'published' is not a date: {str(given)[:40]!r} ({instead})")
    return date or own


def _article_from_record(rec: object, file: str, source: str, warn: Warn = None) -> Article:
    if not isinstance(rec, dict):
        raise Skip("JSON record is not an object")
    text = rec.get("text") or rec.get("body") or rec.get("content")
    if not isinstance(text, str) or not text.strip():
        raise Skip("JSON record has no 'text' or 'body'")
    cleaned, found = clean_text(text)
    if not cleaned.strip():
        raise Skip("no article text left after cleaning")
    title = rec.get("title") or rec.get("headline") or found.get("title", "")
    return Article(
        id=content_hash(cleaned),
        file=file,
        text=cleaned,
        title=str(title).strip() if isinstance(title, str) else "",
        outlet=str(rec.get("outlet") or rec.get("source") or found.get("outlet", "") or "").strip(),
        published=_published(rec.get("published") or rec.get("date"), found.get("published"), source, warn),
        url=str(rec.get("url") or "").strip(),
        source=source,
    )


def read_file(
    path: Path, max_bytes: int, on_line_error: Callable[[str, str], None] | None = None, on_warning: Warn = None
) -> list[Article]:
    """Articles in one file. Raises :class:`Skip` with a reason for a bad file.

    JSONL lines that fail are reported through ``on_line_error`` and skipped alone; a
    metadata value that is ignored (a date that does not parse) through ``on_warning``.
    """
    suffix = file_suffix(path)
    if suffix not in SUFFIXES:
        raise Skip(unsupported(path))
    data = _read_bytes(path, max_bytes)
    if _gzipped(path):
        data = _gunzip(data, max_bytes)
    text = _decode(data, path.name)
    source = str(path.resolve())
    if suffix == ".jsonl":
        return _jsonl_articles(path, text, source, on_line_error, on_warning)
    if suffix == ".json":
        return _json_articles(path, text, source, on_warning)
    return [_text_article(path, suffix, text, source, on_warning)]


def _read_bytes(path: Path, max_bytes: int) -> bytes:
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise Skip(f"cannot read: {exc.strerror or exc}") from None
    if size > max_bytes:
        raise Skip(f"file is {size / 1e6:.1f} MB, over the {max_bytes / 1e6:.0f} MB limit")
    try:
        with open(path, "rb") as fh:
            data = fh.read(max_bytes + 1)  # the file may have grown since stat()
    except OSError as exc:
        raise Skip(f"cannot read: {exc.strerror or exc}") from None
    if len(data) > max_bytes:
        raise Skip(f"file is over the {max_bytes / 1e6:.0f} MB limit")
    return data


def _gunzip(data: bytes, max_bytes: int) -> bytes:
    """The decompressed bytes of a gzip file, at most ``max_bytes`` of them (a small file may
    decompress to gigabytes)."""
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as fh:
            out = fh.read(max_bytes + 1)
    except (OSError, EOFError, zlib.error) as exc:
        raise Skip(f"not a readable gzip file ({exc})") from None
    if len(out) > max_bytes:
        raise Skip(f"decompressed, the file is over the {max_bytes / 1e6:.0f} MB limit")
    return out


def _jsonl_articles(
    path: Path, text: str, source: str, on_line_error: Callable[[str, str], None] | None, warn: Warn = None
) -> list[Article]:
    out = []
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
            out.append(_article_from_record(rec, f"{path.name}#{lineno}", f"{source}#{lineno}", warn))
        except (json.JSONDecodeError, Skip) as exc:
            reason = f"malformed JSON ({exc.msg})" if isinstance(exc, json.JSONDecodeError) else str(exc)
            if on_line_error:
                on_line_error(f"{path}#{lineno}", reason)
    if not out:
        raise Skip("no valid JSON lines")
    return out


def _json_articles(path: Path, text: str, source: str, warn: Warn = None) -> list[Article]:
    try:
        rec = json.loads(text)
    except json.JSONDecodeError as exc:
        raise Skip(f"malformed JSON ({exc.msg} at line {exc.lineno})") from None
    recs = rec if isinstance(rec, list) else [rec]
    if len(recs) == 1:
        return [_article_from_record(recs[0], path.name, source, warn)]
    return [_article_from_record(r, f"{path.name}#{i + 1}", f"{source}#{i + 1}", warn) for i, r in enumerate(recs)]


def _text_article(path: Path, suffix: str, text: str, source: str, warn: Warn = None) -> Article:
    """A .txt, .md or .html file: cleaned text, metadata from the page and the sidecar (which wins)."""
    if suffix in (".html", ".htm"):
        return _page_article(path, text, source, warn)
    if suffix == ".md":
        cleaned, found = clean_text(markdown_to_text(text))
    else:
        cleaned, found = clean_text(text)
    if not cleaned.strip():
        raise Skip("no article text left after cleaning")
    meta = sidecar(path)
    return Article(
        id=content_hash(cleaned),
        file=path.name,
        text=cleaned,
        title=str(meta.get("title") or found.get("title", "")),
        outlet=str(meta.get("outlet") or found.get("outlet", "")),
        published=_published(meta.get("published"), found.get("published"), source, warn),
        url=str(meta.get("url") or found.get("url", "")),
        source=source,
    )


def _page_article(path: Path, html: str, source: str, warn: Warn = None) -> Article:
    """A saved web page: trafilatura's main text and metadata (:mod:`rag.ingest.web`), the sidecar's on top."""
    meta = sidecar(path)
    page = extract_html(html, url=str(meta.get("url") or "") or None)
    if not page.text.strip():
        raise Skip("no article text found on the page")
    return Article(
        id=content_hash(page.text),
        file=path.name,
        text=page.text,
        title=str(meta.get("title") or page.title),
        outlet=str(meta.get("outlet") or page.site_name),
        published=_published(meta.get("published"), page.published, source, warn),
        url=str(meta.get("url") or page.url),
        author=str(meta.get("author") or page.author),
        source=source,
    )


def sidecar(path: Path) -> dict:
    """The metadata recorded by hand beside an article file: ``a.meta.json`` for ``a.html`` and ``a.html.gz``."""
    stem = Path(path.stem).stem if _gzipped(path) else path.stem
    side = path.with_name(stem + META_SUFFIX)
    if not side.exists():
        return {}
    try:
        meta = json.loads(side.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise Skip(f"metadata sidecar {side.name} is unreadable: {exc}") from None
    return meta if isinstance(meta, dict) else {}
