"""Evaluation of event grouping and briefings (the briefing half of `rag eval`).

- :func:`run_brief_eval` — the seeds: do they form one event, how many of the gold
  key facts (``evals/brief_gold.jsonl``) the briefing covers, and whether every
  citation's quote is verbatim at its offsets in the stored article (must be 1.0).
- :func:`run_multiling` — MultiLing 2011 (English): ingest the 100 articles into a
  temporary index, group them, score the grouping against the 10 topics (B-cubed
  P/R/F1, adjusted Rand index), brief each event with a 250-word summary and score
  ROUGE-1/2 recall against the three human summaries, beside the published table.

``rag eval --briefings`` runs both and writes ``evals/brief/report.{json,md}`` (:mod:`rag.devtools.brief_report`).
"""

from __future__ import annotations

import csv
import json
import os
import re
import tempfile
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path

from rag.brief.briefing import Briefing
from rag.brief.build import build_briefings
from rag.brief.events import find_events, grouping_scores
from rag.checkout import repo_path
from rag.errors import RagError
from rag.settings import Settings
from rag.text import normalise

ATTRIBUTION = (
    "MultiLing Pilot 2011 Dataset by the MultiLing Community, CC BY 3.0; derived from WikiNews texts, CC BY 2.5"
)
# Roles of the published runs (shared/README.md): ID9 the centroid baseline, ID10 a
# topline built from the human summaries, ID1-ID8 the participants.
BASELINE_RUN, TOPLINE_RUN = "ID9", "ID10"
# Held-out split by MultiLing event: every briefing setting is chosen on the dev events
# (M000-M004) only and judged on the test events (M005-M009) it was never fitted to.
SPLITS = {"test": tuple(f"M00{t}" for t in range(5, 10)), "dev": tuple(f"M00{t}" for t in range(5))}


def multiling_dir() -> Path:
    """The MultiLing 2011 corpus copied into the checkout (evals/corpora/multiling2011)."""
    return repo_path("evals", "corpora", "multiling2011", what="the MultiLing 2011 corpus", option="a corpus folder")


# -- seeds ------------------------------------------------------------------------
def load_gold(path: Path) -> list[dict]:
    try:
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    except (OSError, json.JSONDecodeError) as exc:
        raise RagError(f"cannot read the briefing gold file {path}: {exc}") from None
    return rows


def briefing_lines(b: Briefing) -> list[str]:
    """Every line a reader sees: lede, summary sentences, bullets, timeline, quotes, conflict sides."""
    lines = [b.lede.text] + [s.text for s in b.summary_items] + [x.text for x in b.bullets]
    lines += [x.text for x in b.timeline] + [x.text for x in b.quotes]
    for c in b.conflicts:
        lines += [f"{c['measure']}: {sd['label']}: {sd['text']}" for sd in c["sides"]]
    return lines


def fact_coverage(b: Briefing, gold: list[dict]) -> dict:
    """A fact is covered when all its keywords appear (normalised) in one line of the briefing."""
    lines = [" " + normalise(x) + " " for x in briefing_lines(b)]
    per = []
    for g in gold:
        keys = [normalise(k) for k in g["keywords"]]
        hit = next((i for i, line in enumerate(lines) if all(k in line for k in keys)), None)
        per.append(
            {"id": g["id"], "keywords": g["keywords"], "covered": hit is not None, "n_sources": len(g["evidence"])}
        )
    n = sum(p["covered"] for p in per)
    return {"covered": n, "total": len(per), "coverage": round(n / len(per), 4) if per else 0.0, "facts": per}


def citation_validity(rag, briefings: list[Briefing]) -> dict:
    """Share of citations whose quote equals the stored article text at [start:end]."""
    texts: dict[str, str | None] = {}
    bad = []
    n = 0
    for b in briefings:
        for c in b.all_citations():
            n += 1
            if c.article_id not in texts:
                a = rag.store.get_article(c.article_id)
                texts[c.article_id] = a.text if a else None
            text = texts[c.article_id]
            if text is None or text[c.start : c.end] != c.quote or not c.quote:
                bad.append({"event": b.id, "file": c.file, "start": c.start, "end": c.end, "quote": c.quote[:80]})
    return {"citations": n, "valid": n - len(bad), "rate": round((n - len(bad)) / n, 4) if n else 1.0, "invalid": bad}


def run_brief_eval(rag, gold_path: Path, words: int = 250, use_llm: bool = True) -> dict:
    """Seeds: grouping, gold-fact coverage and citation validity of the briefings in ``rag``'s index.

    The seeds' event is the one holding most of the gold evidence files.
    """
    gold = load_gold(gold_path)
    t0 = time.perf_counter()
    briefings = build_briefings(rag, words=words, use_llm=use_llm)
    took = time.perf_counter() - t0
    gold_files = {e["file"] for g in gold for e in g["evidence"]}
    best = max(briefings, key=lambda b: sum(a.file in gold_files for a in b.event.articles))
    seed_events = {b.id for b in briefings if any(a.file in gold_files for a in b.event.articles)}
    cov = fact_coverage(best, gold)
    val = citation_validity(rag, briefings)
    return {
        "events": len(briefings),
        "seed_files": len(gold_files),
        "seed_events": len(seed_events),
        "seeds_one_event": len(seed_events) == 1 and len(best.event.articles) >= len(gold_files),
        "event_id": best.id,
        "event_title": best.title,
        "lede_mode": best.lede_mode,
        "lede": {k: v for k, v in best.to_json()["lede"].items() if k != "citations"},
        "bullets": len(best.bullets),
        "timeline": len(best.timeline),
        "quotes": len(best.quotes),
        "conflicts": len(best.conflicts),
        "summary_words": len(best.summary.split()),
        "words": words,
        "coverage": cov,
        "citation_validity": val,
        "seconds": round(took, 1),
    }


# -- MultiLing 2011 ---------------------------------------------------------------
def _tokens(text: str) -> list[str]:
    from rouge_score import tokenizers

    return tokenizers.DefaultTokenizer(use_stemmer=False).tokenize(text)


def _ngrams(tokens: list[str], n: int) -> Counter:
    return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


def rouge_recall(summary: str, references: list[str]) -> dict:
    """ROUGE-1/2 recall against several references, no stemming (rouge-score's tokenizer).

    ``rouge1``/``rouge2``: hits and reference n-grams pooled over the references (as
    ROUGE-1.5.5 does with ``-f A``); ``*_mean``: the mean of per-reference recalls
    from ``rouge_score.rouge_scorer``.

    >>> r = rouge_recall("the cat sat", ["the cat sat on the mat", "a cat sat"])
    >>> r["rouge1"], r["rouge2"]
    (0.5556, 0.4286)
    """
    from rouge_score import rouge_scorer

    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2"], use_stemmer=False)
    out: dict[str, float] = {}
    toks = _tokens(summary)
    for n in (1, 2):
        mine = _ngrams(toks, n)
        hits = total = 0
        for ref in references:
            theirs = _ngrams(_tokens(ref), n)
            hits += sum(min(c, mine[g]) for g, c in theirs.items())
            total += sum(theirs.values())
        out[f"rouge{n}"] = round(hits / total, 4) if total else 0.0
        per = [scorer.score(ref, summary)[f"rouge{n}"].recall for ref in references]
        out[f"rouge{n}_mean"] = round(sum(per) / len(per), 4) if per else 0.0
    return out


def published_table(corpus: Path) -> dict[str, dict]:
    """run id -> {"role", "rouge1", "rouge2"} (recall) from published/english_rouge-{1,2}.csv."""
    table: dict[str, dict] = {}
    for n in (1, 2):
        path = corpus / "published" / f"english_rouge-{n}.csv"
        try:
            rows = list(csv.DictReader(path.read_text(encoding="utf-8").splitlines()))
        except OSError as exc:
            raise RagError(f"cannot read the published MultiLing table {path}: {exc}") from None
        for row in rows:
            run = row["runid"].split("_")[0]
            role = "baseline" if run == BASELINE_RUN else "topline" if run == TOPLINE_RUN else "participant"
            table.setdefault(run, {"role": role})[f"rouge{n}"] = float(row["recall"])
    return dict(sorted(table.items(), key=lambda kv: -kv[1].get("rouge2", 0)))


def split_means(per_topic: list[dict]) -> dict:
    """Mean ROUGE recalls over the given topics (empty for none).

    >>> split_means([{"rouge1": 0.4, "rouge2": 0.1}, {"rouge1": 0.5, "rouge2": 0.2}])
    {'rouge1': 0.45, 'rouge2': 0.15, 'topics': 2}
    """
    keys = [k for k in ("rouge1", "rouge2", "rouge1_mean", "rouge2_mean") if per_topic and k in per_topic[0]]
    out: dict = {k: round(sum(p[k] for p in per_topic) / len(per_topic), 4) for k in keys}
    return out | {"topics": len(per_topic)} if per_topic else {}


def _topic(file: str) -> str:
    m = re.match(r"M(\d{3})\d\.txt$", file)
    return m.group(1) if m else ""


def run_multiling(
    settings_or_tmpdir: Settings | str | Path | None = None,
    words: int = 250,
    corpus: Path | None = None,
    use_llm: bool = True,
    llm=None,
) -> dict:
    """Group and brief MultiLing 2011 in a separate index; score against topics and human summaries.

    ``settings_or_tmpdir``: a :class:`Settings` (its model settings are kept, the data
    folder is a new temporary one), a folder for the index (reused if it already holds
    the articles), or None (a new temporary folder). ``llm``: a model to use instead of
    the one the settings name (e.g. an already loaded one).
    """
    corpus = corpus or multiling_dir()
    if isinstance(settings_or_tmpdir, Settings) or settings_or_tmpdir is None:
        base = settings_or_tmpdir if isinstance(settings_or_tmpdir, Settings) else Settings()
        with tempfile.TemporaryDirectory(prefix="rag-multiling-", ignore_cleanup_errors=True) as tmp:
            return _run_multiling(replace(base, data_dir=Path(tmp), chroma_url=None), words, corpus, use_llm, llm)
    base = Settings()
    return _run_multiling(
        replace(base, data_dir=Path(settings_or_tmpdir), chroma_url=None), words, corpus, use_llm, llm
    )


def ingest_multiling(rag, corpus: Path | None = None) -> float:
    """Ingest the MultiLing articles into ``rag``'s index; returns the seconds taken."""
    arts_dir = (corpus or multiling_dir()) / "articles"
    if not arts_dir.is_dir():
        raise RagError(f"MultiLing corpus not found at {arts_dir.parent}")
    t0 = time.perf_counter()
    report = rag.ingest([arts_dir])
    if report.skipped:
        raise RagError(f"MultiLing: {len(report.skipped)} articles could not be ingested")
    return time.perf_counter() - t0


def multiling_grouping(rag) -> tuple[dict, list[tuple[str, str]]]:
    """Grouping scores of ``rag``'s events against the MultiLing topics, and (file, event id) pairs."""
    events = find_events(rag)
    files = sorted((a.file, e.id) for e in events for a in e.articles)
    files = [(f, e) for f, e in files if _topic(f)]
    if not files:
        raise RagError("no MultiLing articles (M00TD.txt) in this index")
    return grouping_scores([eid for _, eid in files], [_topic(f) for f, _ in files]), files


def _run_multiling(settings: Settings, words: int, corpus: Path, use_llm: bool, llm) -> dict:
    from rag.api import Rag

    rag = Rag(settings, llm=llm)
    t_ingest = ingest_multiling(rag, corpus)
    t1 = time.perf_counter()
    grouping, files = multiling_grouping(rag)
    t_group = time.perf_counter() - t1
    events = {eid for _, eid in files}
    t2 = time.perf_counter()
    briefings = build_briefings(rag, words=words, use_llm=use_llm)
    t_brief = time.perf_counter() - t2
    by_id = {b.id: b for b in briefings}
    topics = sorted({_topic(f) for f, _ in files})
    per_topic = []
    for t in topics:
        # The event holding most of this topic's articles (ties: the smaller event).
        counts = Counter(eid for f, eid in files if _topic(f) == t)
        eid = max(counts, key=lambda e: (counts[e], -len(by_id[e].event.articles)))
        refs = []
        for letter in "ABC":
            p = corpus / "summaries" / f"M{t}.{letter}.txt"
            if p.exists():
                refs.append(p.read_text(encoding="utf-8", errors="replace"))
        b = by_id[eid]
        scores = rouge_recall(b.summary, refs) if refs else {}
        per_topic.append(
            {
                "topic": f"M{t}",
                "event": eid,
                "event_articles": len(b.event.articles),
                "topic_articles_in_event": counts[eid],
                "summary_words": len(b.summary.split()),
                "lede_mode": b.lede_mode,
                "sentences": b.timings.get("sentences", 0),
                "embed_s": round(b.timings.get("embed_ms", 0) / 1000, 1),
                "lede_s": round(b.timings.get("lede_ms", 0) / 1000, 1),
                "references": len(refs),
                **scores,
            }
        )
    mean = split_means(per_topic)
    by_split = {name: split_means([p for p in per_topic if p["topic"] in ts]) for name, ts in SPLITS.items()}
    published = published_table(corpus)
    participants = [v["rouge2"] for v in published.values() if v["role"] == "participant"]
    val = citation_validity(rag, briefings)
    return {
        "corpus": str(corpus),
        "attribution": ATTRIBUTION,
        "articles": len(files),
        "events": len(events),
        "grouping": grouping,
        "rouge": mean,
        "rouge_by_split": by_split | {"all": mean},
        "splits": {k: list(v) for k, v in SPLITS.items()},
        "per_topic": per_topic,
        "published": published,
        "beats_every_participant_rouge2": bool(participants) and mean.get("rouge2", 0) > max(participants),
        "citation_validity": {k: v for k, v in val.items() if k != "invalid"} | {"invalid": val["invalid"][:5]},
        "words": words,
        "llm": use_llm,
        "seconds": {
            "ingest": round(t_ingest, 1),
            "group": round(t_group, 1),
            "brief_all_events": round(t_brief, 1),
            "embed_sentences": round(sum(p["embed_s"] for p in per_topic), 1),
            "ledes": round(sum(p["lede_s"] for p in per_topic), 1),
        },
        "load_average": [round(x, 2) for x in os.getloadavg()],  # other work on the machine slows the timings
        "data_dir": str(settings.data_dir),
    }
