"""Ingestion: find the article files, read them (:mod:`rag.ingest.read`), and bring the index in step.

Article ids are content hashes, so re-ingesting unchanged files does no embedding
work, a changed file replaces its old article, and two copies of one article are
stored once.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from rag.errors import RagError
from rag.ingest.chunk import chunk_article
from rag.ingest.read import META_SUFFIX, SUFFIXES, Skip, file_suffix, read_file, unsupported
from rag.types import Article


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    skipped: list[dict] = field(default_factory=list)
    warnings: list[dict] = field(default_factory=list)  # a value ignored, the article kept
    orphans_removed: int = 0
    chunks_added: int = 0

    def to_json(self) -> dict:
        out = {
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "removed": self.removed,
            "skipped": self.skipped,
        }
        return {**out, "warnings": self.warnings} if self.warnings else out

    def skip(self, path: str, reason: str) -> None:
        self.skipped.append({"path": path, "reason": reason})

    def warn(self, path: str, reason: str) -> None:
        self.warnings.append({"path": path, "reason": reason})


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
    if file_suffix(f) not in SUFFIXES:
        if not from_folder:
            report.skip(str(f), unsupported(f))
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
    with store.write_lock():
        report.orphans_removed = store.remove_orphans()
        existing = store.article_index()
        todo, read_ok, produced = _plan(files, existing, int(max_file_mb * 1_000_000), report, show_progress)
        if sync and folders:
            _remove_gone(store, existing, folders, produced, read_ok, {t[1] for t in todo}, report)
        for i in range(0, len(todo), batch_articles):
            _embed_and_write(store, embedder, todo[i : i + batch_articles], report)
    return report


def _plan(
    files: list[Path], existing: dict[str, dict], max_bytes: int, report: IngestReport, show_progress: bool
) -> tuple[list[tuple[Article, str | None]], set[str], set[str]]:
    """Read every file: what to write as (article, id it replaces), the files read, the sources produced."""
    by_source = {m.get("source", ""): aid for aid, m in existing.items()}
    read_ok: set[str] = set()
    produced: set[str] = set()
    todo: list[tuple[Article, str | None]] = []
    seen_ids: dict[str, str] = {}
    for f in progress(files, "reading", show_progress):
        try:
            arts = read_file(f, max_bytes, on_line_error=report.skip, on_warning=report.warn)
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
                    if _same_metadata(a, existing[a.id]):
                        report.unchanged.append(a.file)
                    else:  # a sidecar edited, or a date or headline found that was not read before
                        todo.append((a, a.id))
                    continue
                if old_src and Path(_source_file(old_src)).exists() and old_src in by_source:
                    report.skip(a.source, f"duplicate of {existing[a.id].get('file')}")
                    continue
                # The same text moved to a new file: re-point it.
                todo.append((a, a.id))
                continue
            todo.append((a, by_source.get(a.source)))
    return todo, read_ok, produced


METADATA_FIELDS = ("title", "outlet", "published", "url", "author")


def _same_metadata(a: Article, stored: dict) -> bool:
    """True when the stored record already shows ``a``'s headline, outlet, date, URL and author.

    >>> a = Article("id1", "a.txt", "Text.", title="Storm", published="2024-08-13")
    >>> _same_metadata(a, {"title": "Storm", "published": "2024-08-13", "outlet": ""})
    True
    >>> _same_metadata(a, {"title": "Storm", "published": ""})
    False
    """
    return all(str(getattr(a, k) or "") == str(stored.get(k) or "") for k in METADATA_FIELDS)


def _remove_gone(
    store,
    existing: dict[str, dict],
    folders: list[Path],
    produced: set[str],
    read_ok: set[str],
    replaced: set[str | None],
    report: IngestReport,
) -> None:
    """Sync: remove the articles of an ingested folder whose file (or JSONL line) is gone."""
    for aid, m in existing.items():
        src = m.get("source", "")
        path = _source_file(src)
        in_folder = any(path.startswith(str(d) + os.sep) for d in folders)
        if not in_folder or src in produced:
            continue
        if aid in replaced:
            continue  # being replaced below
        if not Path(path).exists() or path in read_ok:
            store.remove_article(aid)
            report.removed.append(m.get("file", aid))


def _embed_and_write(store, embedder, batch: list[tuple[Article, str | None]], report: IngestReport) -> None:
    chunked = [(a, old, chunk_article(a.id, a.text)) for a, old in batch]
    # The same text under new metadata (or a new file name) keeps its stored vectors.
    kept = {a.id: store.stored_vectors(cs) for a, old, cs in chunked if old == a.id}
    texts = [c.text for a, _, cs in chunked if kept.get(a.id) is None for c in cs]
    vectors = embedder.embed(texts)
    k = 0
    items = []
    for a, old, cs in chunked:
        vecs = kept.get(a.id)
        if vecs is None:
            vecs = vectors[k : k + len(cs)]
            k += len(cs)
        items.append((a, cs, vecs))
        if old and old != a.id:
            store.remove_article(old)
    store.add_articles(items)  # one write for the batch: chunks first, then the article records
    for a, old, cs in chunked:
        report.chunks_added += len(cs)
        (report.updated if old else report.added).append(a.file)


def write_articles(store, embedder, articles: list[Article], report: IngestReport) -> None:
    """Index ready-made articles (web pages, feed entries): a text already stored, or
    twice in ``articles``, is reported as a duplicate and stored once."""
    with store.write_lock():
        existing = store.article_index()
        todo: list[tuple[Article, str | None]] = []
        seen: dict[str, str] = {}
        for a in articles:
            first = seen.get(a.id) or (existing[a.id].get("file") if a.id in existing else None)
            if first:
                report.skip(a.source, f"duplicate of {first}")
                continue
            seen[a.id] = a.file
            todo.append((a, None))
        if todo:
            _embed_and_write(store, embedder, todo, report)
