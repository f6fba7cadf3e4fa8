"""Compare two persistent lexical indexes, tantivy and SQLite FTS5, on this machine.

A development tool (the runtime never imports it): it produced the figures that chose
the lexical index. Each backend runs in its own process, on the same synthetic corpus:
the real chunks of the seeds and the MultiLing articles, tokenised with
:func:`rag.text.lexical_tokens`, repeated with distinct ids and lightly perturbed
(per copy: 8 % of tokens dropped, 4 % replaced by a random corpus word, and two tokens
unique to the chunk, so the vocabulary grows with the index as a real one does); every
copy gets an outlet (one of 20) and a publication day (one of 730). Queries are the gold
questions, tokenised alike, top 50 by BM25.

    python evals/index_study/lexical_compare.py run --backend tantivy --size 100000 --work /tmp/lx
    python evals/index_study/lexical_compare.py crash --backend fts5 --work /tmp/lx --kills 8
    python evals/index_study/lexical_compare.py during --backend tantivy --dir /tmp/lx/tantivy-100000

Every command prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from lexical_backends import BACKENDS, DAY0, OUTLETS, Corpus, K, Tantivy, questions


# -- measuring ----------------------------------------------------------------------
def pct(xs: list[float], p: float) -> float | None:
    return round(float(np.percentile(xs, p)), 2) if xs else None


def du(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def mem() -> dict:
    out = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, val = line.partition(":")
        if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile"):
            out[key] = round(int(val.split()[0]) / 1024, 1)
    return out


def time_queries(be, qs: list[list[str]], reps: int, **filters) -> tuple[list[float], list[int]]:
    lat, n = [], []
    for _ in range(reps):
        for q in qs:
            t0 = time.perf_counter()
            got = be.search(q, K, **filters)
            lat.append((time.perf_counter() - t0) * 1000)
            n.append(len(got))
    return lat, n


def cmd_query(args) -> dict:
    """A fresh reader process: latencies, filtered latencies, memory."""
    m0 = mem()
    be = BACKENDS[args.backend](Path(args.dir), write=False)
    qs = questions()
    time_queries(be, qs[:10], 1)  # warm-up
    lat, n = time_queries(be, qs, args.reps)
    # A narrow filter: one outlet, one month (~0.2 % of the chunks).
    flat, fn = time_queries(be, qs, args.reps, outlet="outlet03", since="2024-03-01", until="2024-03-31")
    # What a post-filter keeps of an unfiltered top 500 (the way dense candidates were filtered).
    kept = []
    for q in qs:
        rows = be.search(q, 500)
        kept.append(sum(1 for cid, _ in rows if _in_filter(cid)))
    return {
        "chunks": be.count(),
        "queries": len(lat),
        "p50": pct(lat, 50),
        "p95": pct(lat, 95),
        "mean_hits": round(float(np.mean(n)), 1),
        "filtered_p50": pct(flat, 50),
        "filtered_p95": pct(flat, 95),
        "filtered_mean_hits": round(float(np.mean(fn)), 1),
        "postfilter_top500_mean_kept": round(float(np.mean(kept)), 1),
        "mem_before_open_mb": m0,
        "mem_mb": mem(),
    }


def _in_filter(cid: str) -> bool:
    """Whether chunk ``cid`` of the corpus is from outlet03 in March 2024 (the filtered queries' filter)."""
    n = int(cid[1:8])
    rng = np.random.default_rng([n, 7])
    outlet = OUTLETS[int(rng.integers(len(OUTLETS)))]
    day = str(DAY0 + int(rng.integers(730)))
    return outlet == "outlet03" and "2024-03-01" <= day <= "2024-03-31"


def _sub(args: list[str], timeout: float = 900) -> dict:
    out = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, timeout=timeout)
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-2000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def cmd_run(args) -> dict:
    """Build to ``--size`` chunks, then a fresh reader, an incremental add of 100
    articles with the first query after it, and deletes."""
    work = Path(args.work) / f"{args.backend}-{args.size}"
    if work.exists():
        shutil.rmtree(work)
    corpus = Corpus()
    be = BACKENDS[args.backend](work, write=True)
    build_s, gen_s, n_next, t_gen = 0.0, 0.0, 0, time.perf_counter()
    for end, rows in corpus.batches(0, args.size, args.per_commit):
        n_next = end
        t0 = time.perf_counter()
        gen_s += t0 - t_gen
        be.add(rows)
        be.commit()
        t_gen = time.perf_counter()
        build_s += t_gen - t0
    be.refresh()
    n_built = be.count()
    build_mem = mem()
    be.close()
    size_built = du(work)
    reader = _sub(["query", "--backend", args.backend, "--dir", str(work), "--reps", str(args.reps)])
    # Incremental: 100 new articles in one commit, then the first query of a reader
    # that was open before (it must see them).
    be = BACKENDS[args.backend](work, write=True)
    rd = BACKENDS[args.backend](work, write=False)
    qs = questions()
    rd.search(qs[0])
    new_rows = [r for i in range(100) for r in corpus.article(n_next + i, tag="n")]
    t0 = time.perf_counter()
    be.add(new_rows)
    be.commit()
    add_ms = (time.perf_counter() - t0) * 1000
    t0 = time.perf_counter()
    rd.refresh()
    first = rd.search(qs[1])
    first_ms = (time.perf_counter() - t0) * 1000
    probe = new_rows[0].body.split()[-1]  # a token unique to a new chunk
    seen = [cid for cid, _ in rd.search([probe])]
    after = time_queries(rd, qs[:40], 1)[0]
    # Deletes: 20 articles, one commit each.
    del_ms = []
    for i in range(20):
        t0 = time.perf_counter()
        be.delete_article(f"a{n_next + i:07d}n")
        be.commit()
        del_ms.append((time.perf_counter() - t0) * 1000)
    rd.refresh()
    gone = not any(c.startswith(f"a{n_next:07d}n") for c, _ in rd.search([probe]))
    n_final = be.count() if args.backend == "fts5" else rd.count()
    be.close()
    return {
        "backend": args.backend,
        "size": args.size,
        "chunks_built": n_built,
        "chunks_per_article": round(corpus.chunks_per_article, 2),
        "build_s": round(build_s, 1),
        "build_chunks_per_s": round(n_built / build_s),
        "corpus_generation_s": round(gen_s, 1),
        "per_commit": args.per_commit,
        "builder_mem_mb": build_mem,
        "disk_mb": round(size_built / 1e6, 1),
        "disk_mb_after_incremental": round(du(work) / 1e6, 1),
        "reader": reader,
        "add_100_articles": {"chunks": len(new_rows), "ms": round(add_ms, 1)},
        "first_query_after_add_ms": round(first_ms, 2),
        "first_query_hits": len(first),
        "new_chunk_found": bool(seen) and seen[0] == new_rows[0].chunk_id,
        "after_add_p50": pct(after, 50),
        "after_add_p95": pct(after, 95),
        "delete_article_commit_ms": {"p50": pct(del_ms, 50), "p95": pct(del_ms, 95)},
        "deleted_gone": gone,
        "chunks_final": n_final,
    }


def cmd_writer(args) -> None:
    """Child of ``crash``/``during``: write article copies until killed, printing each
    delete before its commit and each commit after it returns."""
    corpus = Corpus()
    be = BACKENDS[args.backend](Path(args.dir), write=True)
    rnd = random.Random(args.seed)
    n = args.start
    print("ready", flush=True)
    while True:
        k = rnd.randint(1, args.max_articles)
        if args.delete_every and rnd.randrange(args.delete_every) == 0 and n > args.start:
            victim = rnd.randrange(args.start, n)
            be.delete_article(f"a{victim:07d}w")
            print(f"deleted {victim}", flush=True)
        be.add([r for i in range(k) for r in corpus.article(n + i, tag="w")])
        be.commit()
        n += k
        print(f"committed {n} {time.time():.3f}", flush=True)
        if args.pause:
            time.sleep(args.pause)


def _acknowledged(lines: list[str], start: int) -> tuple[int, set[int], set[int]]:
    """(articles acknowledged below this number, deletes acknowledged, deletes in flight)."""
    acked, done, pending = start, set(), set()
    for line in lines:
        p = line.split()
        if p and p[0] == "deleted":
            pending.add(int(p[1]))
        elif p and p[0] == "committed":
            acked = int(p[1])
            done |= pending
            pending = set()
    return acked, done, pending


def _start_writer(backend: str, work: Path, start: int, seed: int, *extra: str) -> subprocess.Popen:
    """A writer process (``cmd_writer``), once it says it is ready."""
    cmd = [sys.executable, __file__, "writer", "--backend", backend, "--dir", str(work)]
    proc = subprocess.Popen(
        [*cmd, "--start", str(start), "--seed", str(seed), *extra], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout.readline().strip() == "ready"
    return proc


def cmd_crash(args) -> dict:
    """SIGKILL a writer at random moments (each run appends 1-40 articles per commit and
    sometimes deletes one). After each kill the index must open, hold every acknowledged
    commit, each article whole or not at all, no acknowledged delete undone, and take new
    writes."""
    work = Path(args.work) / f"crash-{args.backend}"
    if work.exists():
        shutil.rmtree(work)
    corpus = Corpus()
    rnd = random.Random(1)
    results = []
    start, deleted, maybe, expect = 0, set(), set(), {}
    for kill in range(args.kills):
        proc = _start_writer(args.backend, work, start, kill, "--max-articles", "40", "--delete-every", "4")
        time.sleep(rnd.uniform(0.3, 2.5))
        proc.send_signal(signal.SIGKILL)
        lines = proc.stdout.read().splitlines()
        proc.wait()
        acked, done, pending = _acknowledged(lines, start)
        deleted |= done
        maybe |= pending
        t0 = time.perf_counter()
        try:
            be = BACKENDS[args.backend](work, write=True)
        except Exception as exc:  # reported, not hidden
            results.append({"kill": kill, "open_error": f"{exc.__class__.__name__}: {exc}"})
            break
        open_ms = (time.perf_counter() - t0) * 1000
        counts = be.article_counts() if args.backend == "fts5" else Tantivy(work, write=False).article_counts()
        top = max((int(a[1:8]) for a in counts if a.endswith("w")), default=start - 1) + 1
        for i in range(start, max(acked, top)):
            expect[f"a{i:07d}w"] = len(corpus.article(i))
        partial = [a for a, c in counts.items() if c != expect.get(a, -1)]
        missing = [i for i in range(acked) if i not in deleted | maybe and f"a{i:07d}w" not in counts]
        undeleted = [i for i in deleted if f"a{i:07d}w" in counts]
        row = {
            "kill": kill,
            "open_ms": round(open_ms, 1),
            "acked_commits": sum(1 for x in lines if x.startswith("committed")),
            "acked_up_to": acked,
            "in_index_up_to": top,
            "partial_articles": len(partial),
            "missing_acked": len(missing),
            "undone_deletes": len(undeleted),
        }
        if args.backend == "fts5":
            row["integrity"] = be.integrity()
        probe = corpus.article(10_000_000 + kill, tag="p")
        expect[probe[0].article_id] = len(probe)
        be.add(probe)  # still writable
        be.commit()
        be.close()
        results.append(row)
        start = max(acked, top)
    ok = all(
        r.get("partial_articles") == 0 and r.get("missing_acked") == 0 and r.get("undone_deletes") == 0 for r in results
    )
    return {"backend": args.backend, "kills": results, "all_consistent": ok, "disk_mb": round(du(work) / 1e6, 1)}


def cmd_during(args) -> dict:
    """Reader latency while another process writes, and how soon the reader sees a commit."""
    work = Path(args.dir)
    start = 50_000_000
    proc = _start_writer(args.backend, work, start, 0, "--max-articles", "32", "--pause", "0.5")
    corpus = Corpus()
    be = BACKENDS[args.backend](work, write=False)
    qs = questions()
    lat, errors, lags = [], 0, []
    t_end = time.time() + args.seconds
    import threading

    commits: list[tuple[int, float]] = []

    def follow() -> None:
        for line in proc.stdout:
            p = line.split()
            if p and p[0] == "committed":
                commits.append((int(p[1]), float(p[2])))

    threading.Thread(target=follow, daemon=True).start()
    i = 0
    checked = 0
    while time.time() < t_end:
        q = qs[i % len(qs)]
        i += 1
        t0 = time.perf_counter()
        try:
            be.search(q)
        except Exception:
            errors += 1
        lat.append((time.perf_counter() - t0) * 1000)
        if len(commits) > checked:  # how long until the last article of a commit is found
            n, t_commit = commits[checked]
            checked = len(commits)
            last = corpus.article(n - 1, tag="w")[0]
            probe = last.body.split()[-1]
            while time.time() < t_commit + 10:
                be.refresh() if args.backend == "fts5" else None
                if any(c == last.chunk_id for c, _ in be.search([probe], 5)):
                    lags.append((time.time() - t_commit) * 1000)
                    break
                time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    return {
        "backend": args.backend,
        "queries": len(lat),
        "p50": pct(lat, 50),
        "p95": pct(lat, 95),
        "max": round(max(lat), 1),
        "errors": errors,
        "commits": len(commits),
        "visible_after_commit_ms": {"p50": pct(lags, 50), "p95": pct(lags, 95), "n": len(lags)},
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="lexical_compare")
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--backend", choices=BACKENDS, required=True)
    r.add_argument("--size", type=int, required=True)
    r.add_argument("--work", required=True)
    r.add_argument("--per-commit", type=int, default=5000)
    r.add_argument("--reps", type=int, default=3)
    q = sub.add_parser("query")
    q.add_argument("--backend", choices=BACKENDS, required=True)
    q.add_argument("--dir", required=True)
    q.add_argument("--reps", type=int, default=3)
    w = sub.add_parser("writer")
    w.add_argument("--backend", choices=BACKENDS, required=True)
    w.add_argument("--dir", required=True)
    w.add_argument("--start", type=int, default=0)
    w.add_argument("--seed", type=int, default=0)
    w.add_argument("--max-articles", type=int, default=32)
    w.add_argument("--delete-every", type=int, default=0)
    w.add_argument("--pause", type=float, default=0.0)
    c = sub.add_parser("crash")
    c.add_argument("--backend", choices=BACKENDS, required=True)
    c.add_argument("--work", required=True)
    c.add_argument("--kills", type=int, default=8)
    d = sub.add_parser("during")
    d.add_argument("--backend", choices=BACKENDS, required=True)
    d.add_argument("--dir", required=True)
    d.add_argument("--seconds", type=float, default=30)
    args = p.parse_args(argv)
    if args.cmd == "writer":
        cmd_writer(args)
        return 0
    out = {"run": cmd_run, "query": cmd_query, "crash": cmd_crash, "during": cmd_during}[args.cmd](args)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
