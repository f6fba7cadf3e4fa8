"""The persistent lexical index (rag/index/lexical_store.py) on temporary folders: adds,
deletes, filters inside the search, persistence, one writer and readers in other
processes, and a writer killed mid-write. No model, no Chroma."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from rag.errors import RagError
from rag.index.lexical_store import FORMAT_FILE, LexicalChunk, LexicalStore

ROOT = Path(__file__).resolve().parent.parent


def _article(aid: str, texts: list[str], outlet: str = "", published: str = "") -> list[LexicalChunk]:
    return [LexicalChunk(f"{aid}:{i}", aid, t, outlet, published) for i, t in enumerate(texts)]


def _filler(n: int, words: str = "harbour storm harbour storm") -> list[LexicalChunk]:
    """``n`` one-chunk articles that match ``words`` strongly, from outlet 'Big Wire', dated 2024-01-01."""
    return [c for i in range(n) for c in _article(f"f{i:04d}", [f"{words} report {i}"], "Big Wire", "2024-01-01")]


def test_ranking_tokens_and_count(tmp_path):
    lex = LexicalStore(tmp_path / "lex")
    assert lex.count() == 0 and lex.search("anything") == []
    lex.add(_article("a", ["The listeners heard 1.1 million complaints", "Nothing about that here"]))
    lex.add(_article("b", ["A listener complained once", "Trump's rally drew crowds"]))
    assert lex.count() == 4
    hits = lex.search("How many listeners complained?")
    assert [h.chunk_id for h in hits] == ["b:0", "a:0"]  # both words, then one ('listeners' meets 'listener')
    assert all(x.score >= y.score > 0 for x, y in zip(hits, hits[1:]))
    assert [h.chunk_id for h in lex.search("1.1 million")] == ["a:0"]  # numbers are tokens
    assert [h.chunk_id for h in lex.search("trump rally")] == ["b:1"]  # "Trump's" -> trump
    assert lex.search("the of and was") == []  # stopwords only: no query at all
    assert len(lex.search("listener complained", k=1)) == 1


def test_delete_and_idempotent_add(tmp_path):
    lex = LexicalStore(tmp_path / "lex")
    lex.add(_article("a", ["bridge opened over the river", "the bridge cost millions"]))
    lex.add(_article("b", ["river flooded the town"]))
    lex.add(_article("a", ["bridge opened over the river", "the bridge cost millions"]))  # a retried write
    assert lex.count() == 3 and lex.article_counts() == {"a": 2, "b": 1}
    lex.delete(["a"])
    assert lex.count() == 1 and lex.article_counts() == {"b": 1}
    assert [h.chunk_id for h in lex.search("bridge river")] == ["b:0"]
    lex.delete(["a", "nonexistent"])  # deleting what is gone is no error
    assert lex.count() == 1


def test_filters_inside_the_index_do_not_starve(tmp_path):
    """300 chunks that match the query better come from another outlet and date; the
    filtered search still returns the few that pass, ranked, with unchanged scores."""
    lex = LexicalStore(tmp_path / "lex")
    lex.add(_filler(300))
    pad = " ".join(f"word{i}" for i in range(30))  # long chunks: a lower BM25 score than the filler's
    lex.add(_article("p1", [f"harbour storm damage {pad}"], "Port News", "2024-05-02"))
    lex.add(_article("p2", [f"storm over the harbour, boats safe {pad}"], "port news", "2024-05-20"))
    lex.add(_article("p3", [f"harbour reopened {pad}"], "Port News", "2024-07-01"))
    lex.add(_article("p4", [f"harbour storm without a date {pad}"], "Port News", ""))
    unfiltered = lex.search("harbour storm", k=50)
    assert len(unfiltered) == 50 and not any(h.article_id.startswith("p") for h in unfiltered)

    got = lex.search("harbour storm", k=50, outlet="PORT NEWS")
    assert {h.article_id for h in got} == {"p1", "p2", "p3", "p4"}
    assert lex.search("harbour storm", outlet="Port News", since="2024-05-01", until="2024-05-31")[0].article_id in {
        "p1",
        "p2",
    }
    may = lex.search("harbour storm", since="2024-05-01", until="2024-05-31")
    assert {h.article_id for h in may} == {"p1", "p2"}
    assert {h.article_id for h in lex.search("harbour storm", since="2024-06-01")} == {"p3"}
    assert {h.article_id for h in lex.search("harbour", until="2023-12-31")} == set()  # undated p4 fails a date filter
    assert {h.article_id for h in lex.search("harbour storm", outlet="Port News", since="2024-01-01")} == {
        "p1",
        "p2",
        "p3",
    }
    # A filter selects; it does not add to the score.
    base = {h.chunk_id: h.score for h in lex.search("harbour storm", k=400)}
    for h in got:
        assert h.score == pytest.approx(base[h.chunk_id])
    with pytest.raises(RagError, match="not a date"):
        lex.search("harbour", since="May 2024")


def test_persists_across_reopen_and_checks_its_format(tmp_path):
    path = tmp_path / "lex"
    LexicalStore(path).add(_article("a", ["volcano erupted near the village"], "Geo", "2023-03-03"))
    again = LexicalStore(path)
    assert again.count() == 1
    assert [h.chunk_id for h in again.search("volcano", outlet="geo", since="2023-03-03", until="2023-03-03")] == [
        "a:0"
    ]
    (path / FORMAT_FILE).write_text(json.dumps({"format": 0}), encoding="utf-8")
    with pytest.raises(RagError, match=r"rag ingest --rebuild"):
        LexicalStore(path)
    (path / FORMAT_FILE).unlink()
    with pytest.raises(RagError, match=r"rag ingest --rebuild"):
        LexicalStore(path)


def test_rebuild_empties(tmp_path):
    lex = LexicalStore(tmp_path / "lex")
    lex.add(_article("a", ["one two three"]))
    lex.rebuild()
    assert lex.count() == 0
    lex.add(_article("b", ["four five six"]))
    assert [h.article_id for h in LexicalStore(tmp_path / "lex").search("five")] == ["b"]


def _python(code: str, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=str(ROOT),
    )


WRITER = """
    import sys, time
    from pathlib import Path
    from rag.index.lexical_store import LexicalChunk, LexicalStore
    lex = LexicalStore(Path(sys.argv[1]))
    n, prefix = int(sys.argv[2]), sys.argv[4] if len(sys.argv) > 4 else "w"
    print("ready", flush=True)
    for i in range(n if n else 10**9):
        lex.add([LexicalChunk(f"{prefix}{i}:{k}", f"{prefix}{i}", f"marker{i} common words chunk {k}") for k in range(5)])
        print(f"committed {i} {time.time():.3f}", flush=True)
        time.sleep(float(sys.argv[3]))
"""


def test_a_reader_in_this_process_sees_another_process_writes(tmp_path):
    """One writer process commits 15 articles; a reader opened before the first write
    finds each within seconds, without reopening or refreshing."""
    path = tmp_path / "lex"
    reader = LexicalStore(path)  # the index does not exist yet
    writer = _python(WRITER, str(path), "15", "0.1")
    assert writer.stdout.readline().strip() == "ready", writer.stderr.read()
    lags = []
    for i in range(15):
        line = writer.stdout.readline().split()
        assert line[:2] == ["committed", str(i)], (line, writer.stderr.read())
        t_commit = float(line[2])
        deadline = time.time() + 5
        while not reader.search(f"marker{i}"):
            assert time.time() < deadline, f"article {i} not visible 5 s after its commit"
            time.sleep(0.02)
        lags.append(time.time() - t_commit)
    assert writer.wait(timeout=30) == 0, writer.stderr.read()
    assert reader.count() == 75 and len(reader.article_counts()) == 15
    print(f"visible after commit: median {sorted(lags)[len(lags) // 2] * 1000:.0f} ms, max {max(lags) * 1000:.0f} ms")


def test_readers_in_other_processes_while_this_one_writes(tmp_path):
    """Two reader processes query in a loop while this process adds and deletes: no
    reader error, and both end up seeing the final state."""
    path = tmp_path / "lex"
    lex = LexicalStore(path)
    lex.add(_filler(50))
    reader_code = """
        import sys, time
        from pathlib import Path
        from rag.index.lexical_store import LexicalStore
        lex = LexicalStore(Path(sys.argv[1]))
        print("ready", flush=True)
        n = errors = 0
        end = time.time() + 60
        while time.time() < end:
            try:
                lex.search("harbour storm marker")
                n += 1
            except Exception as exc:
                errors += 1
                print("error", repr(exc), file=sys.stderr, flush=True)
            if lex.article_counts().get("last") == 1 and lex.search("finalmarker"):
                break
        print(n, errors, lex.count(), flush=True)
    """
    readers = [_python(reader_code, str(path)) for _ in range(2)]
    for r in readers:
        assert r.stdout.readline().strip() == "ready", r.stderr.read()
    for i in range(20):
        lex.add(_article(f"n{i}", [f"harbour storm marker{i}", "more text"]))
        if i % 3 == 2:
            lex.delete([f"n{i - 1}"])
    lex.add(_article("last", ["finalmarker"]))
    final = lex.count()
    for r in readers:
        out, err = r.communicate(timeout=90)
        n, errors, seen = (int(x) for x in out.split())
        assert errors == 0 and "error" not in err, err
        assert n > 0 and seen == final, (n, seen, final)


def test_one_writer_at_a_time_across_processes(tmp_path):
    path = tmp_path / "lex"
    LexicalStore(path).add(_article("a", ["seed text"]))
    holder = _python(
        """
        import sys, time
        from pathlib import Path
        from rag.index.lexical_store import LexicalStore
        lex = LexicalStore(Path(sys.argv[1]))
        with lex.writing():
            print("holding", flush=True)
            time.sleep(float(sys.argv[2]))
        """,
        str(path),
        "2.0",
    )
    assert holder.stdout.readline().strip() == "holding", holder.stderr.read()
    lex = LexicalStore(path)
    with pytest.raises(RagError, match="being written by another process"):
        with lex.writing(timeout_s=0.3):
            pass
    t0 = time.monotonic()
    lex.add(_article("b", ["waited for the other writer"]))  # waits, then writes
    assert time.monotonic() - t0 > 0.5
    assert holder.wait(timeout=30) == 0
    assert lex.article_counts() == {"a": 1, "b": 1}


def test_writer_killed_mid_write_leaves_whole_articles(tmp_path):
    """SIGKILL a writer at five moments: the index opens, holds every acknowledged
    article whole (five chunks each), nothing partial, and takes new writes."""
    path = tmp_path / "lex"
    for run, delay in enumerate((0.2, 0.45, 0.7, 0.33, 0.9)):
        writer = _python(WRITER, str(path), "0", "0", f"r{run}w")
        assert writer.stdout.readline().strip() == "ready", writer.stderr.read()
        time.sleep(delay)
        writer.send_signal(signal.SIGKILL)
        out = writer.communicate(timeout=30)[0].split("\n")
        acked = max((int(x.split()[1]) for x in out if x.startswith("committed")), default=-1)
        lex = LexicalStore(path)
        counts = lex.article_counts()
        mine = {a: n for a, n in counts.items() if a.startswith(f"r{run}w")}
        assert all(n == 5 for a, n in counts.items() if a.startswith("r")), counts
        assert {f"r{run}w{i}" for i in range(acked + 1)} <= set(mine), (acked, sorted(mine))
        assert len(mine) <= acked + 2  # at most the commit in flight besides
        lex.add(_article(f"after{run}", ["still writable"]))
        assert lex.article_counts()[f"after{run}"] == 1


def test_ranks_by_exact_bm25_over_the_live_chunks(tmp_path):
    """Scores are BM25 (k1 1.5, b 0.75, Lucene idf) with exact token counts, computed
    here independently from the corpus, before and after a delete."""
    import math
    import random

    from rag.index.lexical_store import _tokens

    rng = random.Random(7)
    words = [f"word{i}x" for i in range(40)]
    texts = {f"a{i}": " ".join(rng.choices(words, k=rng.randint(2, 50))) for i in range(120)}
    lex = LexicalStore(tmp_path / "lex")
    lex.add([c for aid, t in texts.items() for c in _article(aid, [t])])

    def expected(query: str) -> list[tuple[str, float]]:
        docs = {f"{aid}:0": _tokens(t) for aid, t in texts.items()}
        n, avg = len(docs), sum(max(1, len(d)) for d in docs.values()) / len(docs)
        out = []
        for cid, d in docs.items():
            s = 0.0
            for w in _tokens(query):
                df = sum(w in x for x in docs.values())
                tf = d.count(w)
                if tf:
                    idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
                    s += idf * tf / (1.5 * (0.25 + 0.75 * max(1, len(d)) / avg) + tf)
            if s > 0:
                out.append((cid, s))
        return sorted(out, key=lambda x: -x[1])[:10]

    for _ in range(2):
        for q in (" ".join(rng.sample(words, 3)) for _ in range(5)):
            got = [round(h.score, 6) for h in lex.search(q, k=10)]
            assert got == pytest.approx([round(s, 6) for _, s in expected(q)], abs=1e-6)
        gone = [f"a{i}" for i in range(0, 120, 3)]
        lex.delete(gone)
        for aid in gone:
            texts.pop(aid, None)


def test_statistics_follow_a_replaced_article_written_elsewhere(tmp_path):
    """The chunk count and mean length are cached per reload: an article replaced by one
    of the same chunk count but other lengths, written through another store on the
    folder, moves the mean length, and the reader's next scores use it (computed here
    from the corpus)."""
    import math

    reader = LexicalStore(tmp_path / "lex")
    texts = {"a": "harbour storm", "b": "harbour boats quay", "c": "storm"}
    reader.add([c for aid, t in texts.items() for c in _article(aid, [t])])
    first = reader.search("harbour")

    def expected(query: str) -> dict[str, float]:
        docs = {f"{aid}:0": t.split() for aid, t in texts.items()}
        n, avg = len(docs), sum(len(d) for d in docs.values()) / len(docs)
        df = sum(query in d for d in docs.values())
        idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
        norm = lambda d: 1.5 * (0.25 + 0.75 * len(d) / avg)  # noqa: E731
        return {cid: idf * d.count(query) / (norm(d) + d.count(query)) for cid, d in docs.items() if query in d}

    assert {h.chunk_id: h.score for h in first} == pytest.approx(expected("harbour"), abs=1e-9)
    texts["c"] = "storm " + " ".join(f"filler{i}" for i in range(30))  # same chunk count, 31 tokens
    LexicalStore(tmp_path / "lex").add(_article("c", [texts["c"]]))
    again = reader.search("harbour")
    assert reader.count() == 3
    assert {h.chunk_id: h.score for h in again} == pytest.approx(expected("harbour"), abs=1e-9)
    assert again[0].score > first[0].score  # the longer mean makes the short chunks score more
