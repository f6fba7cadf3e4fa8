"""Retrieval and evidence for every gold question, computed once and kept in a JSON file,
so reader experiments run the language model only.

    python -m rag.app.reader_lab cache --out FILE GOLD.jsonl [GOLD.jsonl ...]

Each question keeps its ranked evidence candidates (text, article offsets, dense
similarity, word overlap, score) and the verdict of the rule-based answerability
check of the current pipeline, so the rules can be compared with the reader on the
same evidence. The article texts are stored too (citation validity is checked
against them).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from rag.answer import evidence as ev
from rag.answer.answerability import answerable
from rag.settings import Settings

KEEP = 10  # candidates kept per question, best first


def _split(item: dict, gold_path: Path) -> str:
    return item.get("split") or "seed"


def _cand_json(c: ev.Candidate) -> dict:
    h = c.hit
    return {
        "text": c.text,
        "start": c.start,
        "end": c.end,
        "article_id": h.article_id,
        "file": h.file,
        "title": h.title,
        "outlet": h.outlet,
        "published": h.published,
        "dense": round(c.dense, 4),
        "overlap": round(c.overlap, 4),
        "score": round(c.score, 4),
        "hit_rank": c.hit_rank,
    }


def cache_question(rag, question: str, settings: Settings, vocab: set[str]) -> dict:
    """The evidence of one question as the answer pipeline would select it."""
    t0 = time.perf_counter()
    hits = rag.retriever.search(question, k=settings.top_k)
    t1 = time.perf_counter()
    cands = ev.candidates(hits)
    qvec = rag.retriever.embedder.embed([question])[0]
    ev.score_candidates(question, cands, rag.retriever.embedder, qvec)
    ranked = ev.select(cands, len(cands))
    n = settings.evidence_n
    shown = ev.with_leads(ranked[:n])  # the first n as the reader is shown them
    t2 = time.perf_counter()
    ok, why = answerable(question, cands, ranked[:n], vocab)
    ranked = shown + ranked[n:]
    return {
        "retrieve_ms": round((t1 - t0) * 1000, 1),
        "evidence_ms": round((t2 - t1) * 1000, 1),
        "hits": [{"file": h.file, "start": h.start, "end": h.end, "text": h.text} for h in hits],
        "cands": [_cand_json(c) for c in ranked[:KEEP]],
        "rules": {"answerable": ok, "reason": why},
    }


def build(gold_paths: list[Path], out: Path, settings: Settings) -> int:
    from rag.api import Rag

    rag = Rag(settings)
    vocab = rag.retriever.vocabulary()
    texts = {s["file"]: rag.article(s["article_id"]).text for s in rag.sources()}
    items = []
    for gp in gold_paths:
        for line in gp.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            item = json.loads(line)
            item["split"] = _split(item, gp)
            item.update(cache_question(rag, item["question"], settings, vocab))
            items.append(item)
    out.write_text(json.dumps({"articles": texts, "items": items}, ensure_ascii=False), encoding="utf-8")
    return len(items)
