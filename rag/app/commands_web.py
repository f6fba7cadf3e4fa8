"""The `rag` commands for the web: `rag extract`, URLs and feeds in `rag ingest`, `rag watch`."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from rag.api import Rag
from rag.app import commands
from rag.app.commands import _rag, settings_from
from rag.checkout import repo_path
from rag.errors import RagError
from rag.ingest.pipeline import IngestReport


def _print_json(obj: object) -> None:
    print(json.dumps(obj, ensure_ascii=False))


def cmd_extract(args: argparse.Namespace) -> int:
    """`rag extract PATH|URL ...`: what would be indexed; no index is opened."""
    from rag.ingest.fetch import Fetcher
    from rag.ingest.preview import preview

    settings = settings_from(args)
    with Fetcher() as fetcher:
        for rec in preview(args.inputs, fetcher, int(settings.max_file_mb * 1_000_000)):
            if args.json:
                _print_json(rec)
                continue
            name = rec["url"] or rec["file"]
            if rec["skipped"]:
                print(f"== {name}: skipped: {rec['skipped']}\n")
                continue
            meta = " | ".join(x for x in (rec["title"], rec["outlet"], rec["published"]) if x)
            print(f"== {name}\n{meta or '(no headline, outlet or date)'}\n\n{rec['text']}\n")
    return 0


def cmd_watch(args: argparse.Namespace) -> int:
    """`rag watch PATH|URL ... [--every 15m]`: poll until Ctrl-C."""
    from rag.ingest.read import SUFFIXES
    from rag.ingest.sources import FeedList, is_feed_file, is_url, web_dir
    from rag.ingest.watch import Watcher

    rag = Rag(settings_from(args))
    folders = [Path(p) for p in args.inputs if not is_url(p) and not is_feed_file(Path(p))]
    files = [Path(p) for p in args.inputs if not is_url(p) and is_feed_file(Path(p))]
    urls = [u for u in args.inputs if is_url(u)]
    feeds = FeedList(rag.settings.data_dir)
    if not args.inputs and not feeds.urls():
        raise RagError("nothing to watch: give folders, feed files or URLs, or add feeds on the page's Library tab")
    with rag.web() as web:
        watcher = Watcher(
            folders=folders,
            urls=urls,
            more_urls=lambda: [u for u in feeds.urls() if u not in urls],
            feed_files=files,
            reader=web.reader,
            ingest_paths=lambda paths: rag.ingest(paths),
            state_dir=web_dir(rag.settings.data_dir),
            suffixes=SUFFIXES,
            every_s=args.every,
            log=lambda line: print(line, flush=True),
        )
        watcher.run(max_cycles=args.cycles)
    return 0


def cmd_ingest(args: argparse.Namespace) -> int:
    from rag.ingest.sources import is_feed_file, is_url, poll_all

    rag = _rag(args)
    web = [p for p in args.paths if is_url(p) or is_feed_file(Path(p))]
    paths = [p for p in args.paths if p not in web]
    if not args.paths:
        paths = [str(repo_path("seeds", what="the demo articles", option="files or folders to ingest"))]
    t0 = time.perf_counter()
    if args.rebuild:
        rag.rebuild()
    report = rag.ingest(paths, sync=args.sync, show_progress=not args.json) if paths else IngestReport()
    got, lines = {}, []
    if web:
        with rag.web() as sources:
            got, lines = poll_all(sources, web)
    took = time.perf_counter() - t0
    if args.json:
        out = report.to_json()
        if web:
            out["added"] += got["added"]
            out["skipped"] += got["skipped"] + got["failed"]
            out["duplicates"] = got["duplicates"]
        _print_json(out)
    else:
        for line in lines:
            print(line)
        print(
            f"added {len(report.added) + len(got.get('added', []))}, updated {len(report.updated)}, "
            f"unchanged {len(report.unchanged)}, removed {len(report.removed)}, "
            f"skipped {len(report.skipped) + len(got.get('skipped', [])) + len(got.get('failed', []))} "
            f"({report.chunks_added + got.get('chunks', 0)} chunks embedded, {took:.1f}s)"
        )
        for s in report.skipped + got.get("skipped", []) + got.get("failed", []):
            print(f"  skipped {s['path']}: {s['reason']}")
        for w in report.warnings:
            print(f"  warning {w['path']}: {w['reason']}")
        if report.orphans_removed:
            print(f"  removed {report.orphans_removed} orphan chunks left by an interrupted run")
    failed = report.skipped or got.get("skipped") or got.get("failed")
    return 1 if (args.strict and failed) else 0


def cmd_eval(args: argparse.Namespace) -> int:
    """`rag eval`, with `--extraction` scoring web-page extraction instead."""
    return eval_extraction(args) if args.extraction else commands.cmd_eval(args)


def eval_extraction(args: argparse.Namespace) -> int:
    """`rag eval --extraction`: what is indexed from a web page, against the benchmark's true article text."""
    from rag.devtools import extraction_bench as xb

    corpus = repo_path("evals", "corpora", "article-extraction-benchmark", what="the article-extraction benchmark")
    results = xb.benchmark(split=args.split, corpus=corpus)
    if args.json:
        _print_json({k: {m: v[m] for m in ("precision", "recall", "f1", "pages")} for k, v in results.items()})
    else:
        print(xb.table(results))
    return 0
