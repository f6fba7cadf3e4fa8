"""Fetch web pages and feeds over HTTP with limits, and re-poll them conditionally.

Only http and https URLs are fetched; every redirect hop is checked again and their
number is bounded; a body over the size limit is refused while it streams; a
timeout applies to connecting and to each read. The validators a server sent
(ETag, Last-Modified) are kept in a small JSON file so that the next poll, even
after a restart, asks "changed since?" and an unchanged resource costs one 304.
Validators are recorded by the caller once it has used a response
(:meth:`Validators.remember`), so a crash mid-way never marks unread content seen.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx

from rag.errors import RagError

_REDIRECTS = {301, 302, 303, 307, 308}
_CHARSET = re.compile(r"charset\s*=\s*([\"']?[\w.:-]+[\"']?)", re.I)


class FetchError(RagError):
    """A URL that could not be fetched, with the reason (one line)."""


@dataclass(frozen=True)
class FetchLimits:
    timeout_s: float = 15.0
    max_bytes: int = 10_000_000
    max_redirects: int = 5
    user_agent: str = "rag/0.1 (local news reader)"
    use_env_proxy: bool = True  # honour HTTP(S)_PROXY; tests on loopback turn it off


@dataclass(frozen=True)
class FetchResult:
    url: str  # the final URL, after redirects
    status: int  # 200, or 304 when unchanged since the validators sent
    body: bytes = b""
    content_type: str = ""
    etag: str = ""
    last_modified: str = ""
    requested_url: str = ""

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    def html(self) -> str | bytes:
        """The body as text when the server named a charset Python knows; else the
        bytes, for the extractor to detect the encoding itself.

        >>> FetchResult("u", 200, "café".encode("latin-1"), "text/html; charset=ISO-8859-1").html()
        'café'
        >>> FetchResult("u", 200, b"<p>x</p>", "text/html").html()
        b'<p>x</p>'
        """
        m = _CHARSET.search(self.content_type)
        if m:
            try:
                return self.body.decode(m.group(1).strip("\"'"))
            except (LookupError, UnicodeDecodeError):
                pass
        return self.body


def check_url(url: str) -> str:
    """``url`` if it is an absolute http(s) URL; :class:`FetchError` otherwise.

    >>> check_url("https://example.com/feed")
    'https://example.com/feed'
    >>> try:
    ...     check_url("file:///etc/passwd")
    ... except FetchError as exc:
    ...     print(exc)
    only http and https URLs are fetched, not file:///etc/passwd
    """
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise FetchError(f"only http and https URLs are fetched, not {url}")
    return url


@dataclass
class Validators:
    """ETag / Last-Modified per URL, persisted as JSON at ``path`` (None: in memory)."""

    path: Path | None = None
    entries: dict[str, dict[str, str]] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> Validators:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            data = {}
        except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise RagError(f"the fetch state {path} is unreadable ({exc}); delete it to start afresh") from None
        return cls(path=path, entries=data if isinstance(data, dict) else {})

    def headers(self, url: str) -> dict[str, str]:
        """The conditional request headers for ``url`` (empty when never seen)."""
        e = self.entries.get(url, {})
        h = {}
        if e.get("etag"):
            h["If-None-Match"] = e["etag"]
        if e.get("last_modified"):
            h["If-Modified-Since"] = e["last_modified"]
        return h

    def remember(self, result: FetchResult) -> None:
        """Record what the server sent for a response the caller has used, and save."""
        if result.not_modified:
            return
        key = result.requested_url or result.url
        if result.etag or result.last_modified:
            self.entries[key] = {"etag": result.etag, "last_modified": result.last_modified}
        else:
            self.entries.pop(key, None)
        self.save()

    def save(self) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".fetch-state.", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(self.entries, fh, indent=1, sort_keys=True)
        os.replace(tmp, self.path)


class Fetcher:
    """A bounded HTTP GET; one client (connection pool) for the fetcher's life."""

    def __init__(
        self,
        limits: FetchLimits | None = None,
        validators: Validators | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.limits = limits or FetchLimits()
        self.validators = validators if validators is not None else Validators()
        self._client = httpx.Client(
            timeout=httpx.Timeout(self.limits.timeout_s),
            follow_redirects=False,  # followed by hand: each hop's scheme is checked
            headers={"User-Agent": self.limits.user_agent},
            trust_env=self.limits.use_env_proxy,
            transport=transport,
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get(self, url: str, conditional: bool = True) -> FetchResult:
        """GET ``url``; a 304 when ``conditional`` and the server says unchanged.

        Raises :class:`FetchError` for a refused scheme, too many redirects, a body
        over the limit, an HTTP error status, a timeout or an unreachable host.
        """
        requested = check_url(url)
        headers = self.validators.headers(url) if conditional else {}
        current = url
        for _ in range(self.limits.max_redirects + 1):
            try:
                result = self._one(current, headers, requested)
            except httpx.TimeoutException:
                raise FetchError(f"timed out after {self.limits.timeout_s:g} s: {current}") from None
            except httpx.HTTPError as exc:
                raise FetchError(f"cannot fetch {current}: {exc.__class__.__name__} {exc}".rstrip()) from None
            if isinstance(result, FetchResult):
                return result
            current = check_url(urljoin(current, result))
        raise FetchError(f"more than {self.limits.max_redirects} redirects from {url}")

    def _one(self, url: str, headers: dict[str, str], requested: str) -> FetchResult | str:
        """The result, or the next URL when the answer is a redirect."""
        with self._client.stream("GET", url, headers=headers) as resp:
            if resp.status_code in _REDIRECTS:
                location = resp.headers.get("location")
                if not location:
                    raise FetchError(f"redirect without a Location from {url}")
                return location
            if resp.status_code == 304:
                return FetchResult(url=url, status=304, requested_url=requested)
            if resp.status_code >= 400:
                raise FetchError(f"HTTP {resp.status_code} from {url}")
            if resp.status_code != 200:
                raise FetchError(f"unexpected HTTP {resp.status_code} from {url}")
            body = self._read(resp, url)
            return FetchResult(
                url=url,
                status=200,
                body=body,
                content_type=resp.headers.get("content-type", ""),
                etag=resp.headers.get("etag", ""),
                last_modified=resp.headers.get("last-modified", ""),
                requested_url=requested,
            )

    def _read(self, resp: httpx.Response, url: str) -> bytes:
        limit = self.limits.max_bytes
        declared = resp.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise FetchError(f"{url} is {int(declared) / 1e6:.1f} MB, over the {limit / 1e6:g} MB limit")
        chunks, size = [], 0
        for chunk in resp.iter_bytes():
            size += len(chunk)
            if size > limit:
                raise FetchError(f"{url} is over the {limit / 1e6:g} MB limit")
            chunks.append(chunk)
        return b"".join(chunks)
