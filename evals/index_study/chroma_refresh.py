"""How a long-running reader sees another process's writes to a Chroma index: a minimal
reproduction with measurements (a development tool; the runtime never imports it).

    python evals/index_study/chroma_refresh.py local --n 10000 --cycles 200
    python evals/index_study/chroma_refresh.py server --n 10000

``local``: a reader holds a ``PersistentClient``; another process adds vectors. The
reader's ``get`` finds them, its ``query`` does not (the vector index is loaded once
per process). The public remedy is ``client.close()`` then a new ``PersistentClient``:
timed here, and its memory followed over many foreign writes, beside the private
cache-eviction that ``Store.refresh`` used (``SharedSystemClient._identifier_to_system``).
``server``: the same with ``chroma run`` on loopback and ``HttpClient`` on both sides.
Each prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

DIM = 384
ADD = """
import sys, numpy as np, chromadb
from chromadb.config import Settings
kind, where = sys.argv[1], sys.argv[2]
s = Settings(anonymized_telemetry=False)
if kind == "local":
    client = chromadb.PersistentClient(path=where, settings=s)
else:
    host, port = where.rsplit(":", 1)
    client = chromadb.HttpClient(host=host, port=int(port), settings=s)
col = client.get_or_create_collection("vectors", configuration={"hnsw": {"space": "cosine"}}, embedding_function=None)
for line in sys.stdin:  # "START N": add vectors v{START}..v{START+N-1}
    start, n = map(int, line.split())
    rng = np.random.default_rng(start)
    for i in range(start, start + n, 5000):
        m = min(5000, start + n - i)
        v = rng.standard_normal((m, DIM)).astype(np.float32)
        col.add(ids=[f"v{j}" for j in range(i, i + m)], embeddings=v / np.linalg.norm(v, axis=1, keepdims=True))
    print("ok", flush=True)
""".replace("DIM", str(DIM))


def vector(i: int) -> np.ndarray:
    """The vector the writer gave id ``v{i}`` when it wrote ``i`` alone (start = i, n = 1)."""
    v = np.random.default_rng(i).standard_normal((1, DIM)).astype(np.float32)
    return v / np.linalg.norm(v)


class Writer:
    """Another process that adds vectors on request (one Chroma client for its lifetime)."""

    def __init__(self, kind: str, where: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", ADD, kind, where], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )

    def __call__(self, start: int, n: int) -> None:
        self.proc.stdin.write(f"{start} {n}\n")
        self.proc.stdin.flush()
        if self.proc.stdout.readline().strip() != "ok":
            raise RuntimeError(f"writer failed (exit {self.proc.poll()})")

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=60)


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def open_local(path: str):
    import chromadb
    from chromadb.config import Settings

    client = chromadb.PersistentClient(path=path, settings=Settings(anonymized_telemetry=False))
    return client, client.get_collection("vectors", embedding_function=None)


def found(col, i: int) -> tuple[bool, bool]:
    """(``get`` finds v{i}, ``query`` with its own vector returns it first)."""
    got = bool(col.get(ids=[f"v{i}"])["ids"])
    q = col.query(query_embeddings=vector(i), n_results=1, include=[])
    return got, q["ids"][0][:1] == [f"v{i}"]


def cmd_local(args) -> dict:
    path = tempfile.mkdtemp(prefix="chroma-refresh-") + "/chroma"
    write = Writer("local", path)
    write(0, args.n)
    client, col = open_local(path)
    col.query(query_embeddings=vector(0), n_results=5)  # the reader is warm
    nxt = 10_000_000
    write(nxt, 1)  # another process adds one vector
    stale = found(col, nxt)
    # The public way: close this client (its System stops), open a new one.
    t0 = time.perf_counter()
    client.close()
    client, col = open_local(path)
    reopen_ms = (time.perf_counter() - t0) * 1000
    t0 = time.perf_counter()
    fresh = found(col, nxt)
    first_ms = (time.perf_counter() - t0) * 1000
    # Memory over many foreign writes, each followed by a reopen, for each remedy.
    mem = {}
    for how in args.remedies.split(","):
        series, t_cycle = [], []
        for c in range(args.cycles):
            nxt += 1
            write(nxt, 1)
            t0 = time.perf_counter()
            if how == "close_and_reopen":
                client.close()
            else:  # what Store.refresh did: forget the cached System without stopping it
                from chromadb.api.shared_system_client import SharedSystemClient

                SharedSystemClient._identifier_to_system.pop(str(Path(path).resolve()), None)
                SharedSystemClient._identifier_to_refcount.pop(str(Path(path).resolve()), None)
            client, col = open_local(path)
            ok = found(col, nxt)[1]
            t_cycle.append((time.perf_counter() - t0) * 1000)
            if not ok:
                series.append("missed")
            if c % max(1, args.cycles // 10) == 0 or c == args.cycles - 1:
                series.append(rss_mb())
        mem[how] = {"rss_mb": series, "reopen_and_query_ms_p50": round(float(np.median(t_cycle)), 1)}
    client.close()
    write.close()
    return {
        "chromadb": __import__("chromadb").__version__,
        "vectors": args.n,
        "before_reopen": {"get_finds_new": stale[0], "query_finds_new": stale[1]},
        "after_close_and_reopen": {"get_finds_new": fresh[0], "query_finds_new": fresh[1]},
        "reopen_ms": round(reopen_ms, 1),
        "first_query_after_reopen_ms": round(first_ms, 1),
        "cycles": args.cycles,
        "memory": mem,
    }


def cmd_server(args) -> dict:
    import chromadb
    from chromadb.config import Settings

    from rag.devtools.bench_util import chroma_server

    with tempfile.TemporaryDirectory() as tmp, chroma_server(Path(tmp) / "server") as (url, _):
        host_port = url.removeprefix("http://")
        host, port = host_port.rsplit(":", 1)
        write = Writer("server", host_port)
        write(0, args.n)
        client = chromadb.HttpClient(host=host, port=int(port), settings=Settings(anonymized_telemetry=False))
        col = client.get_collection("vectors", embedding_function=None)
        lat = []
        for i in range(20):
            t0 = time.perf_counter()
            col.query(query_embeddings=vector(i), n_results=10)
            lat.append((time.perf_counter() - t0) * 1000)
        after, misses = [], 0
        for k in range(args.writes):
            nxt = 10_000_000 + k
            write(nxt, 1)
            t0 = time.perf_counter()
            got = found(col, nxt)
            after.append((time.perf_counter() - t0) * 1000)
            misses += not got[1]
        write.close()
        return {
            "chromadb": chromadb.__version__,
            "vectors": args.n,
            "query_ms_p50": round(float(np.median(lat)), 1),
            "foreign_writes": args.writes,
            "query_missed_a_foreign_write": misses,
            "first_get_and_query_after_write_ms_p50": round(float(np.median(after)), 1),
        }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="chroma_refresh")
    sub = p.add_subparsers(dest="cmd", required=True)
    loc = sub.add_parser("local")
    loc.add_argument("--n", type=int, default=10_000)
    loc.add_argument("--cycles", type=int, default=100)
    loc.add_argument("--remedies", default="close_and_reopen,private_cache_pop")
    srv = sub.add_parser("server")
    srv.add_argument("--n", type=int, default=10_000)
    srv.add_argument("--writes", type=int, default=10)
    args = p.parse_args(argv)
    print(json.dumps(cmd_local(args) if args.cmd == "local" else cmd_server(args)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
