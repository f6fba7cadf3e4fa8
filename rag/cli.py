"""The `rag` command. Thin: parses flags, calls :class:`rag.api.Rag`, prints.

Every :class:`RagError` becomes one line on stderr and exit code 1; no traceback
for user mistakes.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from rag.errors import RagError
from rag.settings import PROJECT_ROOT, Settings

SEEDS = PROJECT_ROOT / "seeds"


def _settings(args: argparse.Namespace) -> Settings:
    return Settings.from_env().with_(
        data_dir=Path(args.data_dir).expanduser() if getattr(args, "data_dir", None) else None,
        chroma_url=getattr(args, "chroma_url", None),
        model_path=getattr(args, "model", None),
        llm_url=getattr(args, "llm_url", None),
        n_ctx=getattr(args, "n_ctx", None),
        n_threads=getattr(args, "threads", None),
        max_tokens=getattr(args, "max_tokens", None),
    )


def _rag(args: argparse.Namespace):
    from rag.api import Rag

    return Rag(_settings(args))


def _print_json(obj: object) -> None:
    print(json.dumps(obj, ensure_ascii=False))


# -- commands -------------------------------------------------------------------
def cmd_ingest(args: argparse.Namespace) -> int:
    rag = _rag(args)
    paths = args.paths or [str(SEEDS)]
    t0 = time.perf_counter()
    if args.rebuild:
        rag.rebuild()
    report = rag.ingest(paths, sync=args.sync, show_progress=not args.json)
    took = time.perf_counter() - t0
    if args.json:
        _print_json(report.to_json())
    else:
        print(
            f"added {len(report.added)}, updated {len(report.updated)}, unchanged {len(report.unchanged)}, "
            f"removed {len(report.removed)}, skipped {len(report.skipped)} "
            f"({report.chunks_added} chunks embedded, {took:.1f}s)"
        )
        for s in report.skipped:
            print(f"  skipped {s['path']}: {s['reason']}")
        if report.orphans_removed:
            print(f"  removed {report.orphans_removed} orphan chunks left by an interrupted run")
    return 1 if (args.strict and report.skipped) else 0


def _filters(args: argparse.Namespace):
    from rag.retrieve import Filters

    return Filters(outlet=args.outlet, since=args.since, until=args.until)


def cmd_search(args: argparse.Namespace) -> int:
    hits = _rag(args).search(args.query, k=args.k, filters=_filters(args))
    if args.json:
        _print_json({"query": args.query, "results": [h.to_json() for h in hits]})
        return 0
    for i, h in enumerate(hits, 1):
        src = ", ".join(x for x in (h.outlet or h.file, h.published) if x)
        print(f"{i}. [{src}] {h.title or h.file}  (score {h.score:.4f})")
        print(f"   {h.text[:300]}{'…' if len(h.text) > 300 else ''}")
    if not hits:
        print("no results (is the index empty? run `rag ingest`)")
    return 0


def _print_sources(answer) -> None:
    label = "Sources" if answer.citations else "Related passages"
    cites = answer.citations or answer.related
    if not cites:
        return
    print(f"\n{label}:")
    for c in cites:
        meta = ", ".join(x for x in (c.outlet or c.file, c.title, c.published) if x)
        num = f"[{c.n}]" if answer.citations else " -"
        print(f"{num} {meta}\n    “{c.quote}”")


def _questions(path: str) -> list[str]:
    p = Path(path)
    try:
        lines = p.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise RagError(f"cannot read {path}: {exc}") from None
    out = []
    for i, line in enumerate(lines, 1):
        if not line.strip():
            continue
        if line.lstrip().startswith("{"):
            try:
                out.append(str(json.loads(line)["question"]))
            except (json.JSONDecodeError, KeyError, TypeError):
                raise RagError(f"{path}:{i}: not a JSON object with a 'question' field") from None
        else:
            out.append(line.strip())
    return out


def cmd_ask(args: argparse.Namespace) -> int:
    rag = _rag(args)
    filters = _filters(args)
    if args.batch:
        for q in _questions(args.batch):
            try:
                ans = rag.ask(q, filters=filters).to_json()
            except RagError as exc:
                ans = {"question": q, "status": "error", "error": str(exc)}
            if args.json:
                _print_json(ans)
            else:
                print(f"Q: {q}\nA: {ans.get('answer', ans.get('error'))}\n")
        return 0
    if not args.question:
        raise RagError("give a question, or --batch FILE")
    if args.json:
        _print_json(rag.ask(args.question, filters=filters).to_json())
        return 0
    final = None
    for event in rag.ask_stream(args.question, filters=filters):
        if event.kind == "text":
            print(event.text, end="", flush=True)
        else:
            final = event.answer
    print()
    if final is not None:
        _print_sources(final)
    return 0


def cmd_sources(args: argparse.Namespace) -> int:
    rows = _rag(args).sources()
    if args.json:
        _print_json(rows)
        return 0
    if not rows:
        print("no articles (run `rag ingest`)")
    for r in rows:
        meta = ", ".join(x for x in (r["outlet"], r["published"]) if x)
        print(
            f"{r['article_id']}  {r['file']:<34} {r['chunks']:>3} chunks  {r['title'] or '(no headline)'}"
            + (f"  [{meta}]" if meta else "")
        )
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    rag = _rag(args)
    rag.remove(args.article_id)
    print(f"removed {args.article_id}")
    return 0


def cmd_brief(args: argparse.Namespace) -> int:
    from rag.brief import run_cli

    return run_cli(_rag(args), args)


def cmd_eval(args: argparse.Namespace) -> int:
    from rag.evals import run_cli

    return run_cli(_rag(args), args)


def cmd_serve(args: argparse.Namespace) -> int:
    from rag.ui import run_cli

    return run_cli(_rag(args), args)


def cmd_bench(args: argparse.Namespace) -> int:
    from rag.bench import run_cli

    return run_cli(_settings(args), args)


# -- parser ---------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data-dir", help="index folder (default: $RAG_DATA_DIR or ~/.local/share/rag)")
    common.add_argument("--chroma-url", help="use a Chroma server instead of the local folder ($RAG_CHROMA_URL)")
    model = argparse.ArgumentParser(add_help=False)
    model.add_argument("--model", help="a GGUF file (default: the bundled SmolLM2-135M; $RAG_MODEL)")
    model.add_argument("--llm-url", help="an OpenAI-compatible server instead of the GGUF ($RAG_LLM_URL)")
    model.add_argument("--n-ctx", type=int, help="model context size in tokens (default 2048)")
    model.add_argument("--threads", type=int, help="model threads (default 2)")
    model.add_argument("--max-tokens", type=int, help="most tokens the model may generate (default 96)")
    filt = argparse.ArgumentParser(add_help=False)
    filt.add_argument("--outlet", help="only this outlet")
    filt.add_argument("--since", help="only articles published on or after this date (YYYY-MM-DD, YYYY-MM or YYYY)")
    filt.add_argument("--until", help="only articles published on or before this date (YYYY-MM-DD, YYYY-MM or YYYY)")

    p = argparse.ArgumentParser(prog="rag", description="Local news summariser and question answering, offline.")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    s = sub.add_parser("ingest", parents=[common], help="add articles (files or folders; default seeds/) to the index")
    s.add_argument("paths", nargs="*", help="files or folders (.txt .md .html .json .jsonl)")
    s.add_argument(
        "--sync",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="remove articles whose file left an ingested folder (default on)",
    )
    s.add_argument("--rebuild", action="store_true", help="empty the index first (after a version change or damage)")
    s.add_argument("--strict", action="store_true", help="exit non-zero when any file was skipped")
    s.add_argument("--json", action="store_true", help="print the report as JSON")
    s.set_defaults(func=cmd_ingest)

    s = sub.add_parser("search", parents=[common, filt], help="hybrid search of the indexed chunks")
    s.add_argument("query")
    s.add_argument("--k", type=int, default=5, help="results (default 5)")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_search)

    s = sub.add_parser("ask", parents=[common, model, filt], help="answer a question with verified citations")
    s.add_argument("question", nargs="?")
    s.add_argument("--batch", metavar="FILE", help="questions, one per line or JSON lines with 'question'")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_ask)

    s = sub.add_parser("sources", parents=[common], help="list the ingested articles")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_sources)

    s = sub.add_parser("remove", parents=[common], help="remove one article from the index")
    s.add_argument("article_id")
    s.set_defaults(func=cmd_remove)

    s = sub.add_parser("brief", parents=[common, model], help="per-event briefings with citations")
    s.add_argument("--event", help="only this event id")
    s.add_argument("--words", type=int, default=250, help="summary length in words (default 250)")
    s.add_argument("--format", choices=["md", "json", "html"], default="md")
    s.add_argument("--json", action="store_true", help="same as --format json")
    s.add_argument("--out", help="write to this file instead of the terminal")
    s.add_argument("--no-llm", action="store_true", help="extractive ledes: do not load the model")
    s.set_defaults(func=cmd_brief)

    s = sub.add_parser("eval", parents=[common, model], help="score answers against the gold set")
    s.add_argument("--gold", help="gold JSONL (default evals/gold.jsonl)")
    s.add_argument("--json", action="store_true")
    s.add_argument("--out", help="write report.json, report.md and a chart here")
    s.add_argument("--baseline", help="compare with a saved report.json; exit 1 on a drop")
    s.add_argument("--limit", type=int, help="only the first N questions")
    s.set_defaults(func=cmd_eval)

    s = sub.add_parser("serve", parents=[common, model], help="the chat page (Gradio) on this machine")
    s.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this computer only)")
    s.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    s.add_argument("--auth", help="user:password (required when --host is not loopback; $RAG_AUTH)")
    s.add_argument("--no-ingest", action="store_true", help="do not ingest seeds/ into an empty index")
    s.set_defaults(func=cmd_serve)

    s = sub.add_parser("bench", parents=[common, model], help="benchmark every stage on this machine")
    s.add_argument("--json", action="store_true")
    s.add_argument("--out", help="write the report (JSON, Markdown, PNG) here")
    s.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    s.add_argument("--corpus", action="append", metavar="DIR", help="articles to ingest (default: MultiLing 2011)")
    s.add_argument("--sizes", help="index sizes in chunks for retrieval, e.g. 1000,10000,100000")
    s.add_argument("--questions", type=int, help="only the first N gold questions")
    s.add_argument(
        "--skip",
        action="append",
        choices=["ingest", "embed", "retrieval", "answer", "limit", "brief", "serve", "server"],
        help="leave out a stage (repeatable)",
    )
    s.add_argument("--profile", metavar="DIR", help="also write pyinstrument profiles of the stages here")
    s.set_defaults(func=cmd_bench)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        return int(args.func(args) or 0)
    except RagError as exc:
        print(f"rag: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("rag: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
