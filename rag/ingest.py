"""Read article files, clean them, and bring the index in step with them.

Article ids are content hashes, so re-ingesting unchanged files does no embedding
work, a changed file replaces its old article, and two copies of one article are
stored once.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from rag.chunk import chunk_article, content_hash
from rag.clean import clean_text, html_to_text, markdown_to_text
from rag.errors import RagError
from rag.types import Article

SUFFIXES = {".txt", ".md", ".html", ".htm", ".json", ".jsonl"}
META_SUFFIX = ".meta.json"  # sidecar: metadata the article shows, recorded by hand


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    skipped: list[dict] = field(default_factory=list)
    orphans_removed: int = 0
    chunks_added: int = 0

    def to_json(self) -> dict:
        return {
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "removed": self.removed,
            "skipped": self.skipped,
        }

    def skip(self, path: str, reason: str) -> None:
        self.skipped.append({"path": path, "reason": reason})


class Skip(Exception):
    """A file (or JSONL line) that cannot be ingested, with the reason."""


# -- reading ------------------------------------------------------------------
def normalise_date(value: object) -> str:
    """ISO date from common forms; '' when it cannot be read.

    >>> normalise_date("2024-08-13T10:00:00Z"), normalise_date("August 13, 2024"), normalise_date("soon")
    ('2024-08-13', '2024-08-13', '')
    """
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        return ""
    s = str(value).strip()
    m = re.match(r"(\d{4}-\d{2}-\d{2})", s)
    if m:
        return m.group(1)
    for fmt in ("%B %d, %Y", "%b %d, %Y", "%d %B %Y", "%d %b %Y", "%Y/%m/%d", "%m/%d/%Y"):
        try:
            return datetime.strptime(s, fmt).date().isoformat()
        except ValueError:
            continue
    return ""


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


def _article_from_record(rec: object, file: str, source: str) -> Article:
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
        published=normalise_date(rec.get("published") or rec.get("date") or found.get("published", "")),
        url=str(rec.get("url") or "").strip(),
        source=source,
    )


def read_file(path: Path, max_bytes: int, on_line_error: Callable[[str, str], None] | None = None) -> list[Article]:
    """Articles in one file. Raises :class:`Skip` with a reason for a bad file.

    JSONL lines that fail are reported through ``on_line_error`` and skipped alone.
    """
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise Skip(f"unsupported file type {suffix or '(none)'}")
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
    text = _decode(data, path.name)
    source = str(path.resolve())
    if suffix == ".jsonl":
        out = []
        for lineno, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
                out.append(_article_from_record(rec, f"{path.name}#{lineno}", f"{source}#{lineno}"))
            except (json.JSONDecodeError, Skip) as exc:
                reason = f"malformed JSON ({exc.msg})" if isinstance(exc, json.JSONDecodeError) else str(exc)
                if on_line_error:
                    on_line_error(f"{path}#{lineno}", reason)
        if not out:
            raise Skip("no valid JSON lines")
        return out
    if suffix == ".json":
        try:
            rec = json.loads(text)
        except json.JSONDecodeError as exc:
            raise Skip(f"malformed JSON ({exc.msg} at line {exc.lineno})") from None
        recs = rec if isinstance(rec, list) else [rec]
        if len(recs) == 1:
            return [_article_from_record(recs[0], path.name, source)]
        return [_article_from_record(r, f"{path.name}#{i + 1}", f"{source}#{i + 1}") for i, r in enumerate(recs)]
    if suffix in (".html", ".htm"):
        body, found = html_to_text(text)
        cleaned, found2 = clean_text(body)
        found = {**found2, **found}
    elif suffix == ".md":
        cleaned, found = clean_text(markdown_to_text(text))
    else:
        cleaned, found = clean_text(text)
    if not cleaned.strip():
        raise Skip("no article text left after cleaning")
    meta = _sidecar(path)
    return [
        Article(
            id=content_hash(cleaned),
            file=path.name,
            text=cleaned,
            title=str(meta.get("title") or found.get("title", "")),
            outlet=str(meta.get("outlet") or found.get("outlet", "")),
            published=normalise_date(meta.get("published") or found.get("published", "")),
            url=str(meta.get("url") or found.get("url", "")),
            source=source,
        )
    ]


def _sidecar(path: Path) -> dict:
    side = path.with_name(path.stem + META_SUFFIX)
    if not side.exists():
        return {}
    try:
        meta = json.loads(side.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise Skip(f"metadata sidecar {side.name} is unreadable: {exc}") from None
    return meta if isinstance(meta, dict) else {}


def discover(paths: Iterable[Path], report: IngestReport) -> tuple[list[Path], list[Path]]:
    """Files to read (sorted, de-duplicated) and the folders they came from (for --sync).

    Symlink loops and unreadable folders are reported, not followed.
    """
    files: list[Path] = []
    folders: list[Path] = []
    seen: set[Path] = set()
    for p in paths:
        p = Path(p)
        if not p.exists():
            raise RagError(f"no such file or folder: {p}")
        if p.is_dir():
            folders.append(p.resolve())
            for root, dirs, names in os.walk(
                p,
                followlinks=False,
                onerror=lambda e: report.skip(str(e.filename), f"cannot list folder: {e.strerror}"),
            ):
                dirs.sort()
                for name in sorted(names):
                    f = Path(root) / name
                    if name.startswith(".") or name.endswith(META_SUFFIX):
                        continue
                    _add_file(f, files, seen, report, from_folder=True)
        else:
            _add_file(p, files, seen, report, from_folder=False)
    return files, folders


def _add_file(f: Path, files: list[Path], seen: set[Path], report: IngestReport, from_folder: bool) -> None:
    try:
        real = f.resolve(strict=True)
    except (OSError, RuntimeError):
        report.skip(str(f), "broken symlink or symlink loop")
        return
    if real in seen:
        return
    if not real.is_file():
        report.skip(str(f), "not a regular file")
        return
    if f.suffix.lower() not in SUFFIXES:
        if not from_folder:
            report.skip(str(f), f"unsupported file type {f.suffix or '(none)'}")
        return
    seen.add(real)
    files.append(f)


def progress(iterable: list, desc: str, enabled: bool):
    """A tqdm progress bar on a terminal for long runs; the plain iterable otherwise."""
    if enabled and len(iterable) > 20 and sys.stderr.isatty():
        from tqdm import tqdm

        return tqdm(iterable, desc=desc, unit="file", leave=False)
    return iterable


# -- bringing the index in step -------------------------------------------------
def _source_file(source: str) -> str:
    return source.split("#", 1)[0]


def ingest_paths(
    store,
    embedder,
    paths: list[Path],
    *,
    sync: bool = True,
    max_file_mb: float = 10.0,
    show_progress: bool = False,
    batch_articles: int = 32,
) -> IngestReport:
    """Ingest files and folders into ``store``; see :class:`IngestReport`.

    With ``sync``, articles that came from a given folder and whose file is gone
    (or whose JSONL line is gone) are removed.
    """
    report = IngestReport()
    files, folders = discover(paths, report)
    max_bytes = int(max_file_mb * 1_000_000)
    with store.write_lock():
        report.orphans_removed = store.remove_orphans()
        existing = store.article_index()
        by_source = {m.get("source", ""): aid for aid, m in existing.items()}
        read_ok: set[str] = set()
        produced: set[str] = set()
        todo: list[tuple[Article, str | None]] = []  # (article, id it replaces)
        seen_ids: dict[str, str] = {}
        for f in progress(files, "reading", show_progress):
            try:
                arts = read_file(f, max_bytes, on_line_error=report.skip)
            except Skip as exc:
                report.skip(str(f), str(exc))
                continue
            except OSError as exc:  # vanished or unreadable mid-run
                report.skip(str(f), f"cannot read: {exc.strerror or exc}")
                continue
            read_ok.add(str(f.resolve()))
            for a in arts:
                produced.add(a.source)
                if a.id in seen_ids:
                    report.skip(a.source, f"duplicate of {seen_ids[a.id]}")
                    continue
                seen_ids[a.id] = a.file
                if a.id in existing:
                    old_src = existing[a.id].get("source", "")
                    if old_src == a.source:
                        report.unchanged.append(a.file)
                        continue
                    if old_src and Path(_source_file(old_src)).exists() and old_src in by_source:
                        report.skip(a.source, f"duplicate of {existing[a.id].get('file')}")
                        continue
                    # The same text moved to a new file: re-point it.
                    todo.append((a, a.id))
                    continue
                todo.append((a, by_source.get(a.source)))
        # Sync: articles whose file (or JSONL line) is gone.
        if sync and folders:
            for aid, m in existing.items():
                src = m.get("source", "")
                path = _source_file(src)
                in_folder = any(path.startswith(str(d) + os.sep) for d in folders)
                if not in_folder or src in produced:
                    continue
                if any(t[1] == aid for t in todo):
                    continue  # being replaced below
                if not Path(path).exists() or path in read_ok:
                    store.remove_article(aid)
                    report.removed.append(m.get("file", aid))
        for i in range(0, len(todo), batch_articles):
            _embed_and_write(store, embedder, todo[i : i + batch_articles], report)
    return report


def _embed_and_write(store, embedder, batch: list[tuple[Article, str | None]], report: IngestReport) -> None:
    chunked = [(a, old, chunk_article(a.id, a.text)) for a, old in batch]
    texts = [c.text for _, _, cs in chunked for c in cs]
    vectors = embedder.embed(texts)
    k = 0
    items = []
    for a, old, cs in chunked:
        items.append((a, cs, vectors[k : k + len(cs)]))
        k += len(cs)
        if old and old != a.id:
            store.remove_article(old)
    store.add_articles(items)  # one write for the batch: chunks first, then the article records
    for a, old, cs in chunked:
        report.chunks_added += len(cs)
        (report.updated if old else report.added).append(a.file)
