"""Command line of the reader lab (dev tooling): cache evidence, run the reader, score runs.

    python -m rag.app.reader_lab cache --out CACHE.json GOLD.jsonl [GOLD.jsonl ...]
    python -m rag.app.reader_lab run --cache CACHE.json --split dev --out RUNS.jsonl [--n 3] [--max-tokens 48]
    python -m rag.app.reader_lab score --cache CACHE.json RUNS.jsonl [--yes 0.65 --refuse 0.20] [--sweep dev]

Every ``cache`` and ``run`` loads a model: run them under ``flock /tmp/heavy.lock`` on a shared machine.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

DEFAULT_READER = Path.home() / ".cache/rag/models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m rag.app.reader_lab", description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("cache", help="retrieval and evidence of every gold question, to a JSON file")
    c.add_argument("gold", nargs="+", type=Path)
    c.add_argument("--out", type=Path, required=True)
    r = sub.add_parser("run", help="the reader over cached evidence, one JSON line per question")
    r.add_argument("--cache", type=Path, required=True)
    r.add_argument("--split", action="append", required=True)
    r.add_argument("--out", type=Path, required=True)
    r.add_argument("--model", default=str(DEFAULT_READER))
    r.add_argument("--n", type=int, default=3, help="evidence sentences shown")
    r.add_argument("--no-titles", action="store_true")
    r.add_argument("--no-judge", action="store_true")
    r.add_argument("--lookup", type=int, default=0, help="prompt-lookup decoding: tokens drafted (0 = off)")
    r.add_argument("--max-tokens", type=int, default=64)
    r.add_argument("--limit", type=int, default=0)
    r.add_argument("--n-ctx", type=int, default=2048)
    r.add_argument("--prompts", type=Path, default=None, help="a folder of prompt templates instead of the package's")
    f = sub.add_parser("repair", help="add the copied-answer repair to the unverified rows of a run")
    f.add_argument("runs", type=Path)
    f.add_argument("--cache", type=Path, required=True)
    f.add_argument("--out", type=Path, required=True)
    f.add_argument("--model", default=str(DEFAULT_READER))
    f.add_argument("--n", type=int, default=3, help="evidence sentences shown")
    s = sub.add_parser("score", help="metrics per split; --sweep ranks thresholds on one split")
    s.add_argument("runs", type=Path)
    s.add_argument("--cache", type=Path, required=True)
    s.add_argument("--yes", type=float, default=0.5)
    s.add_argument("--refuse", type=float, default=0.5)
    s.add_argument("--sweep", help="rank thresholds on this split")
    s.add_argument("--rules", default="", help="comma-separated old refusal rules kept (keys of RULES)")
    s.add_argument("--items", action="store_true", help="one line per question")
    s.add_argument("--reverify", type=int, default=0, help="re-verify the raw replies against the top N passages")
    s.add_argument("--quote-cited", type=int, default=0, help="unverified answer: quote the cited passage (of N)")
    s.add_argument("--repair", action="store_true", help="unverified answer: the run's copied-answer repair")
    return ap


def _score(args: argparse.Namespace) -> None:
    from rag.answer.reader import Thresholds
    from rag.devtools import reader_score as rs

    cache = json.loads(args.cache.read_text())
    items = {i["id"]: i for i in cache["items"]}
    rows = [json.loads(x) for x in args.runs.read_text().splitlines() if x.strip()]
    rules = tuple(r for r in args.rules.split(",") if r)
    th = Thresholds(args.yes, args.refuse)
    if args.items:
        print("\n".join(rs.item_lines(rows, items, th, rules, args.reverify, args.quote_cited, args.repair)))
    elif args.sweep:
        ranked = rs.sweep(
            rows, items, cache["articles"], args.sweep, True, True, rules, args.reverify, args.quote_cited, args.repair
        )
        for _crag, _, y, r, m in ranked[:15]:
            print(f"yes>={y:.2f} refuse<{r:.2f}  {json.dumps(m)}")
    else:
        out = rs.score(rows, items, cache["articles"], th, rules, args.reverify, args.quote_cited, args.repair)
        print(json.dumps(out, indent=1))


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    if args.cmd == "cache":
        from rag.devtools.reader_cache import build
        from rag.settings import Settings

        print(f"cached {build(args.gold, args.out, Settings.from_env())} questions -> {args.out}")
    elif args.cmd == "run":
        from rag.devtools.reader_lab import run_lab

        run_lab(
            args.cache, args.split, args.out, args.model, args.n, not args.no_titles, not args.no_judge,
            args.lookup, args.max_tokens, args.limit, args.n_ctx, args.prompts,
        )  # fmt: skip
    elif args.cmd == "repair":
        from rag.devtools.reader_lab import add_repairs

        print(f"repaired {add_repairs(args.cache, args.runs, args.out, args.model, args.n)} rows -> {args.out}")
    else:
        _score(args)


if __name__ == "__main__":
    main()
