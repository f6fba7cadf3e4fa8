"""Score web-page extraction on the article-extraction benchmark (181 real pages).

The scoring is the benchmark's own (see its README): word tokens (``\\w+``),
4-token shingles counted in the true and the extracted body; per page TP/FP/FN are
the count overlaps normalised by their sum; precision and recall are averaged over
pages and F1 = 2PR/(P+R). ``published`` scores the extractor outputs published with
the benchmark by the same code, which checks it against the figures in the README.

    rag eval --extraction [--split all|dev|test] [--json]
    (options to try: ``run(overrides={'favor_precision': 'true'})``)

Benchmark data: Scrapinghub's article-extraction-benchmark (MIT licence).
"""

from __future__ import annotations

import gzip
import json
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

BENCHMARK_DIR = Path(__file__).resolve().parents[2] / "evals" / "corpora" / "article-extraction-benchmark"
_TOKEN = re.compile(r"\w+", re.UNICODE)
SHINGLE = 4


@dataclass(frozen=True)
class Page:
    id: str
    url: str
    truth: str
    path: Path

    def html(self) -> str:
        return gzip.decompress(self.path.read_bytes()).decode("utf-8", errors="replace")


def split_of(page_id: str) -> str:
    """'dev' or 'test': a fixed half of the pages by id (options are chosen on dev).

    >>> split_of("04a6711c"), split_of("05844573")
    ('dev', 'test')
    """
    return "dev" if int(page_id[:2], 16) % 2 == 0 else "test"


def load_pages(corpus: Path = BENCHMARK_DIR, split: str = "all") -> list[Page]:
    """The benchmark's pages (``split``: 'all', 'dev' or 'test'), sorted by id."""
    truth = json.loads((corpus / "ground-truth.json").read_text(encoding="utf-8"))
    return [
        Page(id=k, url=v.get("url", ""), truth=v["articleBody"], path=corpus / "html" / f"{k}.html.gz")
        for k, v in sorted(truth.items())
        if split == "all" or split_of(k) == split
    ]


def shingles(text: str, n: int = SHINGLE) -> Counter:
    """Counts of the ``n``-word shingles of ``text`` (all of it when shorter).

    >>> sorted(shingles("a b c d e", 4).items())
    [(('a', 'b', 'c', 'd'), 1), (('b', 'c', 'd', 'e'), 1)]
    """
    tokens = _TOKEN.findall(text)
    if len(tokens) < n:
        return Counter([tuple(tokens)]) if tokens else Counter()
    return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


def page_score(truth: str, predicted: str) -> tuple[float, float, float]:
    """(TP, FP, FN) of one page, normalised to sum to 1 (all 0 when both are empty).

    >>> page_score("one two three four five", "one two three four")
    (0.5, 0.0, 0.5)
    """
    t, p = shingles(truth), shingles(predicted)
    tp = sum(min(t[k], p[k]) for k in t.keys() & p.keys())
    fp = sum(p.values()) - tp
    fn = sum(t.values()) - tp
    total = tp + fp + fn
    return (tp / total, fp / total, fn / total) if total else (0.0, 0.0, 0.0)


def summarise(scores: list[tuple[float, float, float]]) -> dict:
    """Precision, recall (page averages) and F1, as the benchmark computes them.

    A page with nothing extracted has precision 1 (no false positives) and recall 0:
    the benchmark's convention, the one that reproduces its published figures.

    >>> summarise([(1.0, 0.0, 0.0), (0.5, 0.5, 0.0)])
    {'precision': 0.75, 'recall': 1.0, 'f1': 0.857, 'pages': 2}
    >>> summarise([(0.0, 0.0, 1.0)])
    {'precision': 1.0, 'recall': 0.0, 'f1': 0.0, 'pages': 1}
    """
    ps = [tp / (tp + fp) if tp + fp else 1.0 for tp, fp, _ in scores]
    rs = [tp / (tp + fn) if tp + fn else 0.0 for tp, _, fn in scores]
    p, r = sum(ps) / len(ps), sum(rs) / len(rs)
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": round(p, 3), "recall": round(r, 3), "f1": round(f1, 3), "pages": len(scores)}


def score_published(corpus: Path = BENCHMARK_DIR, split: str = "all") -> dict[str, dict]:
    """The published extractor outputs scored by :func:`summarise`."""
    pages = load_pages(corpus, split)
    out = {}
    for f in sorted((corpus / "published-outputs").glob("*.json")):
        data = json.loads(f.read_text(encoding="utf-8"))
        got = data.get("output", data)
        scores = [page_score(p.truth, (got.get(p.id) or {}).get("articleBody") or "") for p in pages]
        out[f.stem] = {**summarise(scores), "version": data.get("version", "")}
    return out


def run(extract: Callable[[str, str], str], pages: list[Page]) -> Iterator[tuple[Page, str, float]]:
    """(page, extracted text, seconds) for each page; ``extract(html, url) -> text``."""
    for page in pages:
        html = page.html()
        t0 = time.perf_counter()
        text = extract(html, page.url)
        yield page, text, time.perf_counter() - t0


def score(extract: Callable[[str, str], str], corpus: Path = BENCHMARK_DIR, split: str = "all") -> dict:
    """Score ``extract(html, url) -> text`` on every page; pages yielding no text listed."""
    pages = load_pages(corpus, split)
    scores, empty, seconds = [], [], []
    for page, text, dt in run(extract, pages):
        scores.append(page_score(page.truth, text))
        seconds.append(dt)
        if not text.strip():
            empty.append(page.id)
    seconds.sort()
    return {**summarise(scores), "empty_pages": empty, "median_ms": round(1000 * seconds[len(seconds) // 2], 1)}


def _value(raw: str) -> object:
    low = raw.lower()
    if low in ("true", "false"):
        return low == "true"
    return int(raw) if raw.isdigit() else raw


def extractors(overrides: Mapping[str, object]) -> dict[str, Callable[[str, str], str]]:
    """The extractor the script scores: what is indexed from a page."""
    from rag.ingest.web import EXTRACT_OPTIONS, extract_html

    options = {**EXTRACT_OPTIONS, **overrides}

    def new(html: str, url: str) -> str:
        return extract_html(html, url, options=options).text

    return {"extract_html": new}


def benchmark(
    split: str = "all",
    only: set[str] | None = None,
    overrides: Mapping[str, str] | None = None,
    corpus: Path = BENCHMARK_DIR,
) -> dict[str, dict]:
    """Scores of each extractor in ``only`` (default both: ``extract_html``, which is
    what gets indexed, and the ``published`` outputs) on ``split``."""
    only = only or {"extract_html", "published"}
    results: dict[str, dict] = {}
    if "published" in only:
        results.update({f"published:{k}": v for k, v in score_published(corpus, split).items()})
    for name, fn in extractors({k: _value(v) for k, v in (overrides or {}).items()}).items():
        if name in only:
            results[name] = score(fn, corpus, split)
    return results


def table(results: dict[str, dict]) -> str:
    """The scores as a text table, best F1 first."""
    rows = [f"{'extractor':32} {'P':>6} {'R':>6} {'F1':>6}  empty  median ms"]
    for name, r in sorted(results.items(), key=lambda kv: -kv[1]["f1"]):
        empty = len(r.get("empty_pages", [])) if "empty_pages" in r else "-"
        rows.append(
            f"{name:32} {r['precision']:6.3f} {r['recall']:6.3f} {r['f1']:6.3f}  {empty!s:>5}  {r.get('median_ms', '-')}"
        )
    return "\n".join(rows)
