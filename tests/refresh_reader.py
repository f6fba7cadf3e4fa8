"""A long-running reader next to a foreign writer, for the memory test of Store.refresh.

    python tests/refresh_reader.py DATA_DIR N

starts a writer process that adds a small article every few milliseconds to DATA_DIR,
reopens its own Store's client on each foreign write it sees (Store.refresh), queries
after each, and stops after N reopens. Prints JSON: reopens, the resident memory after
the first 10% of the reopens (warm) and after the last (each just after a reopen and a query), and whether the last article the
writer committed before the end was found by the vector search.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from index_helpers import WordEmbedder, open_store  # noqa: E402

from rag.index.memory import prepare_for_reopens, rss_mb  # noqa: E402
from rag.types import Article  # noqa: E402

WRITER = r"""
import sys, time
sys.path.insert(0, sys.argv[1])
from pathlib import Path
from index_helpers import WordEmbedder, open_store
from rag.ingest.chunk import chunk_article
from rag.types import Article
import random
store, emb, i = open_store(Path(sys.argv[2])), WordEmbedder(), 0
stop = Path(sys.argv[3])
# Eight words of a 300-word vocabulary per article: texts that differ by one or two words
# alone are nearly equidistant, and Chroma's HNSW walk then misses a quarter of them even
# by their own vector (74 of 300 at k=1; 0 of 300 with these words).
rng, vocab = random.Random(0), [f"v{j}" for j in range(300)]
while not stop.exists():
    words = " ".join(rng.sample(vocab, 8))
    text = f"Harbour report number {i}: the ferry w{i}x left on time, {words}."
    a = Article(id=f"w{i:06d}", text=text, file=f"w{i}.txt", title=f"Report {i}")
    cs = chunk_article(a.id, a.text)
    with store.write_lock():
        store.add_articles([(a, cs, emb.embed([c.text for c in cs]))])
    i += 1
    time.sleep(0.01)
store.close()
"""


def main(data: Path, n: int) -> dict:
    prepare_for_reopens()  # as `rag serve` does before it opens the index
    store = open_store(data)
    emb = WordEmbedder()
    seed = Article(id="seed00000000", text="The quay opened in spring.", file="seed.txt")
    from rag.ingest.chunk import chunk_article

    cs = chunk_article(seed.id, seed.text)
    with store.write_lock():
        store.add_articles([(seed, cs, emb.embed([c.text for c in cs]))])
    store.refresh_every_s = store.reopen_share = 0.0  # reopen on every foreign write seen
    stop = data / "stop-writing"
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(Path(__file__).parent), str(data), str(stop)])
    reopens, warm, end, t0 = 0, None, 0.0, time.monotonic()
    q = emb.embed(["ferry harbour quay report"])[0]
    try:
        while reopens < n and time.monotonic() - t0 < 1800:
            if store.refresh():
                reopens += 1
                store.query(q, k=5)
                if reopens == max(1, n // 10):
                    warm = rss_mb()
                end = rss_mb()  # at the same point of the loop as warm: after a reopen and a query
            else:
                time.sleep(0.005)
    finally:
        stop.touch()  # the writer ends as a process does (a killed one: see tests/test_index_consistency.py)
        try:
            writer.wait(timeout=60)
        except subprocess.TimeoutExpired:
            writer.kill()
            writer.wait()
    store.refresh(force=True)
    last = max(store.article_index())
    text = store.get_article(last).text  # its own vector: the vector search must rank it first
    hit = store.query(emb.embed([text])[0], k=1)["ids"][0]
    out = {
        "reopens": reopens,
        "seconds": round(time.monotonic() - t0, 1),
        "rss_warm_mb": round(warm or 0.0, 1),
        "rss_end_mb": round(end, 1),
        "rss_after_checks_mb": round(rss_mb(), 1),  # after reading every article record back
        "articles": store.n_articles(),
        "last_found": bool(hit) and hit[0].startswith(last + ":"),
    }
    store.close()
    return out


if __name__ == "__main__":
    print(json.dumps(main(Path(sys.argv[1]), int(sys.argv[2]))))
