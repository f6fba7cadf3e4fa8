"""What each `rag` command does, given its parsed and validated options (see :mod:`rag.app.cli`).

Thin: calls :class:`rag.api.Rag` (or the dev tooling in :mod:`rag.devtools`) and prints.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rag.api import Rag
from rag.checkout import optional_repo_path, repo_path
from rag.errors import RagError
from rag.index.retrieve import Filters
from rag.settings import Settings


def settings_from(args: argparse.Namespace) -> Settings:
    """The environment's settings (read once, here) with the command's flags on top."""
    return Settings.from_env().with_(
        data_dir=Path(args.data_dir).expanduser() if getattr(args, "data_dir", None) else None,
        chroma_url=getattr(args, "chroma_url", None),
        model_path=getattr(args, "model", None),
        llm_url=getattr(args, "llm_url", None),
        n_ctx=getattr(args, "n_ctx", None),
        n_threads=getattr(args, "threads", None),
        max_tokens=getattr(args, "max_tokens", None),
        auth=getattr(args, "auth", None),
    )


def _rag(args: argparse.Namespace) -> Rag:
    return Rag(settings_from(args))


def _print_json(obj: object) -> None:
    print(json.dumps(obj, ensure_ascii=False))


def _filters(args: argparse.Namespace) -> Filters:
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


def _claims(path: str) -> list[str]:
    """The non-blank lines of a claims file."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise RagError(f"cannot read {path}: {exc}") from None
    return [line.strip() for line in lines if line.strip()]


_VERDICT = {"supported": "SUPPORTED", "contradicted": "CONTRADICTED", "not_found": "NOT FOUND"}


def _print_check(result) -> None:
    print(f"{_VERDICT[result.verdict]}: {result.claim}\n  {result.reason}")
    for c in result.citations:
        meta = ", ".join(x for x in (c.outlet or c.file, c.title, c.published) if x)
        mark = "states it" if c.supported else "differs"
        print(f"[{c.n}] ({mark}) {meta}\n    “{c.quote}”")


def cmd_check(args: argparse.Namespace) -> int:
    """`rag check`: one claim, or a file of claims (the index and embedder loaded once)."""
    from rag.answer.fact_check import check_claim_text

    if bool(args.claim) == bool(args.batch):
        raise RagError("give a claim, or --batch FILE (not both)")
    rag = _rag(args)
    filters = _filters(args)
    if not args.batch:
        result = rag.check(args.claim, filters=filters)
        _print_json(result.to_json()) if args.json else _print_check(result)
        return 0
    for i, claim in enumerate(_claims(args.batch)):
        try:
            check_claim_text(claim)
        except RagError as exc:  # this line only (too long); the others are still checked
            _print_json({"claim": claim, "error": str(exc)}) if args.json else print(f"ERROR: {claim}\n  {exc}")
            continue
        out = rag.check(claim, filters=filters)
        if args.json:
            _print_json(out.to_json())
        else:
            print("" if i == 0 else "\n", end="")
            _print_check(out)
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


def cmd_eval(args: argparse.Namespace) -> int:
    """`rag eval`: the gold questions, and the briefing of the seeds when the gold facts are at hand."""
    import sys

    if args.briefings:
        return eval_briefings(args)
    if args.claims:
        return eval_claims(args)

    from rag.devtools import claim_score, eval_report, evals
    from rag.devtools.brief_eval import run_brief_eval

    gold = Path(args.gold) if args.gold else repo_path("evals", "gold.jsonl", what="the gold set", option="--gold FILE")
    rag = _rag(args)
    report = evals.run_eval(rag, gold, limit=args.limit, progress=not args.json)
    if optional_repo_path("evals", "corpora", "multiling2011") is not None and not args.limit:
        report["claims"] = claim_score.run()
    brief_gold = optional_repo_path("evals", "brief_gold.jsonl")
    if brief_gold is not None and not args.limit:
        report["briefing"] = run_brief_eval(rag, brief_gold)
    if args.out:
        eval_report.write_report(report, args.out)
    if args.json:
        _print_json(report)
    else:
        eval_report.print_table(report)
        if args.out:
            print(f"\nreport written to {args.out}/ (report.json, report.md, chart.png)")
    if args.baseline:
        try:
            base = json.loads(Path(args.baseline).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise RagError(f"cannot read baseline {args.baseline}: {exc}") from None
        drops = evals.compare(report, base)
        if drops:
            print(
                f"rag: error: worse than the baseline by more than {evals.TOLERANCE}: " + "; ".join(drops),
                file=sys.stderr,
            )
            return 1
    return 0


def eval_claims(args: argparse.Namespace) -> int:
    """`rag eval --claims`: the claim suite alone (pure rules: no index, no model); exit 1 on a missed target."""
    import sys

    from rag.devtools import claim_score, eval_report

    claims = claim_score.run()
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "claims.json").write_text(json.dumps(claims, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        (out / "claims.md").write_text(eval_report.claims_markdown(claims) + "\n", encoding="utf-8")
    if args.json:
        _print_json(claims)
    else:
        print(eval_report.claims_markdown(claims))
    missed = claims["test"]["failures"]
    if missed:
        print("rag: error: the claim suite misses its targets on the test split: " + "; ".join(missed), file=sys.stderr)
    return 1 if missed else 0


def eval_briefings(args: argparse.Namespace) -> int:
    """`rag eval --briefings`: the seeds' briefing and MultiLing 2011, each in a temporary index."""
    import tempfile

    from rag.devtools.brief_eval import multiling_dir, run_brief_eval, run_multiling
    from rag.devtools.brief_report import write_report

    settings = settings_from(args)
    seeds_dir = repo_path("seeds", what="the demo articles")
    gold = Path(args.gold) if args.gold else repo_path("evals", "brief_gold.jsonl", option="--gold FILE")
    corpus = Path(args.corpus) if args.corpus else (None if args.skip_multiling else multiling_dir())
    with tempfile.TemporaryDirectory(prefix="rag-brief-seeds-") as tmp:
        rag = Rag(settings.with_(data_dir=Path(tmp), chroma_url=None))
        rag.ingest([seeds_dir])
        seeds = run_brief_eval(rag, gold, words=args.words, use_llm=not args.no_llm)
    multiling = None
    if not args.skip_multiling:
        multiling = run_multiling(settings, words=args.words, corpus=corpus, use_llm=not args.no_llm)
    out = (
        Path(args.out)
        if args.out
        else repo_path("evals", "brief", what="the briefing report folder", option="--out DIR")
    )
    for path in write_report(seeds, multiling, out):
        print(f"wrote {path}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    """`rag serve`: the chat page (the demo articles are ingested into an empty index unless --no-ingest)."""
    from rag.app.ui import parse_auth, serve
    from rag.index.memory import prepare_for_reopens

    prepare_for_reopens()  # a long-running reader: malloc set up before the index opens
    rag = _rag(args)
    seeds = None if args.no_ingest else optional_repo_path("seeds")
    return serve(rag, args.host, args.port, parse_auth(rag.settings.auth), seeds)


def cmd_bench(args: argparse.Namespace) -> int:
    """`rag bench`: every stage on this machine (see :mod:`rag.devtools.bench`)."""
    from rag.devtools.bench import run_bench
    from rag.devtools.bench_config import Config
    from rag.devtools.bench_report import summary, to_markdown

    corpus = [Path(p) for p in args.corpus or []] or [
        repo_path(
            "evals", "corpora", "multiling2011", "articles", what="the MultiLing 2011 corpus", option="--corpus DIR"
        )
    ]
    for p in corpus:
        if not p.is_dir():
            raise RagError(f"corpus folder not found: {p} (pass --corpus DIR)")
    cfg = Config.make(
        corpus,
        seeds=repo_path("seeds", what="the demo articles"),
        gold=repo_path("evals", "gold.jsonl", what="the gold set"),
        quick=args.quick,
        sizes=args.sizes,
        questions=args.questions,
        skip=set(args.skip or ()),
        profile_dir=Path(args.profile) if args.profile else None,
    )
    out = Path(args.out) if args.out else optional_repo_path("evals", "bench")
    report = run_bench(settings_from(args), cfg, out)
    if args.json:
        _print_json(summary(report))
    else:
        print(to_markdown(report))
        if out is not None:
            print(f"(written to {out})")
    return 0


def cmd_models(args: argparse.Namespace) -> int:
    from rag.llm import registry

    models_dir = settings_from(args).models_dir
    specs = [registry.resolve_spec(n) for n in args.names] or list(registry.KNOWN)
    if args.install:
        for spec in specs:
            path, built = registry.install_model(spec, models_dir)
            print(f"{spec.name}: {'assembled' if built else 'already in place'}, size and SHA-256 verified: {path}")
    rows = registry.listing(models_dir, verify=args.verify, specs=specs)
    if args.json:
        _print_json({"models_dir": str(models_dir), "default": registry.DEFAULT_MODEL, "models": rows})
    else:
        for r in rows:
            name = r["name"] + (" (default)" if r["default"] else "")
            print(f"{name:<28} {r['size'] / 1e6:>6,.0f} MB  {r['licence']}  {r['status']}  {r['path'] or r['file']}")
            print(f"    {r['description']}; {r['attribution']}")
            if r.get("error"):
                print(f"    error: {r['error']}")
    return 1 if any(r["status"] == "mismatch" for r in rows) else 0
