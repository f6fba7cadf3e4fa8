"""`rag brief`: briefings per event, or a digest of the events in a date window."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rag.api import Rag
from rag.app.commands import settings_from
from rag.errors import RagError


def cmd_brief(args: argparse.Namespace) -> int:
    """`rag brief [--event ID] [--words N] [--format md|json|html] [--out FILE]`."""
    from rag.brief.build import build_briefings
    from rag.brief.render import to_html_page, to_markdown

    fmt = "json" if args.json else args.format
    if args.since or args.until:
        return _digest(args, fmt)
    briefings = build_briefings(
        Rag(settings_from(args)), event_id=args.event, words=args.words, use_llm=not args.no_llm
    )
    if fmt == "json":
        text = json.dumps({"events": [b.to_json() for b in briefings]}, ensure_ascii=False, indent=1) + "\n"
    elif fmt == "html":
        text = to_html_page(briefings)
    else:
        text = "\n---\n\n".join(to_markdown(b) for b in briefings)
    _write_or_print(args, text, f"wrote {len(briefings)} briefing{'s' if len(briefings) != 1 else ''} to {args.out}")
    return 0


def _digest(args: argparse.Namespace, fmt: str) -> int:
    """`rag brief --since D [--until D]`: the events of that window, most covered first."""
    from rag.brief.digest import build_digest, window
    from rag.brief.render import digest_to_markdown

    if args.event:
        raise RagError("--event and --since/--until do not go together (a digest covers every event in the window)")
    if fmt == "html":
        raise RagError("a digest is written as Markdown or JSON (--format md|json)")
    lo, hi = window(args.since, args.until)
    entries = build_digest(Rag(settings_from(args)), args.since, args.until, words=args.words, use_llm=not args.no_llm)
    if fmt == "json":
        text = json.dumps({"since": lo, "until": hi, "events": [e.to_json() for e in entries]}, ensure_ascii=False)
        text += "\n"
    else:
        text = digest_to_markdown(entries, lo, hi)
    _write_or_print(args, text, f"wrote a digest of {len(entries)} events to {args.out}")
    return 0


def _write_or_print(args: argparse.Namespace, text: str, done: str) -> None:
    if args.out:
        try:
            Path(args.out).expanduser().write_text(text, encoding="utf-8")
        except OSError as exc:
            raise RagError(f"cannot write {args.out}: {exc.strerror or exc}") from None
        print(done)
    else:
        print(text, end="")
