"""The `rag` commands for the web: `rag extract`, URLs and feeds in `rag ingest`, `rag watch`."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rag.api import Rag
from rag.app.commands import settings_from
from rag.errors import RagError


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
