"""Per-event briefings: what happened, who said what, what is disputed, every line cited.

For each event (see :mod:`rag.brief.events`) the member articles are split into
sentences (offsets into the stored text) and embedded; then, mostly extractively:

- key facts: sentences ranked by how many articles report the same fact (a
  sentence of another article that is close in meaning and agrees on the numbers),
  how central they are to the event and how many of the event's recurring word
  pairs they carry; near-duplicates are folded into one bullet that cites every
  article reporting it;
- timeline: sentences with a date or time, resolved against the article's date;
- who said what: quotations with a speaker and a said/told/wrote-type verb;
- where the outlets disagree: the same kind of figure (an audience, a delay, a
  death toll) given differently by different articles, each side cited;
- a lede from the model, verified like answers (:func:`rag.answer.verify.verify`), else
  the most central sentence verbatim; a summary of at most N words.

Every citation's ``quote`` equals ``article.text[start:end]``; ``n`` is the
article's number in the briefing's article list.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from rag.brief.analysis import Analysis, _cite, _quoted_share, analyse
from rag.brief.briefing import Briefing, Item
from rag.brief.centrality import is_question
from rag.brief.events import Event, find_events, get_event
from rag.brief.render import to_html as to_html
from rag.brief.render import to_html_page as to_html_page
from rag.brief.render import to_markdown as to_markdown
from rag.brief.reword import reword
from rag.brief.sections import _fact_item, conflicts, key_facts, quotes, timeline
from rag.brief.text import META, clean_lede, first_line
from rag.errors import RagError
from rag.text import normalise
from rag.tuning import (
    LEDE_PASSAGES,
    LEDE_TOKENS,
    REDUNDANT_SIM,
    REWORD_FACTS,
    SUMMARY_IMPORTANCE,
    SUMMARY_LENGTH_EXP,
    SUMMARY_PAIR_EXP,
)
from rag.types import Citation, Passage


# -- lede and summary -------------------------------------------------------------
def _passages(an: Analysis, idx: list[int]) -> list[Passage]:
    out = []
    for n, i in enumerate(idx, 1):
        s = an.sents[i]
        a = an.event.articles[s.k]
        out.append(Passage(n, a.id, a.file, a.title, a.outlet, a.published, s.text, s.start, s.end))
    return out


def lede(an: Analysis, facts: list[Item], llm, prompts_dir: Path | None = None) -> tuple[Item, str, dict]:
    """A one-sentence lede from the model, verified; else the most central sentence verbatim.

    Modes: "generated" (the model's own wording, every sentence supported by the
    passages it cites), "copied" (the model repeated a passage), "extractive" (no
    model, or nothing survived verification: the top-ranked sentence that is not a
    quotation, i.e. the most central one among those most outlets report).
    """
    from rag.answer.evidence import format_passages
    from rag.answer.prompts import render
    from rag.answer.verify import verify

    info: dict = {}
    top = [int(i) for i in np.argsort(-an.importance)[:12]]
    seen: list[int] = []
    for i in top:
        if not any(an.sim[i, j] >= REDUNDANT_SIM for j in seen) and an.sents[i].words <= 40:
            seen.append(i)
        if len(seen) == LEDE_PASSAGES:
            break
    passages = _passages(an, seen)
    if llm is not None and passages:
        t0 = time.perf_counter()
        messages = [
            {"role": "system", "content": render("brief_lede_system", prompts_dir)},
            {"role": "user", "content": render("brief_lede", prompts_dir, passages=format_passages(passages))},
        ]
        try:
            raw = first_line(llm.stream(messages, max_tokens=LEDE_TOKENS, temperature=0.0))
        except RagError as exc:
            raw, info["llm_error"] = "", str(exc)
        info["llm_ms"] = round((time.perf_counter() - t0) * 1000, 1)
        info["llm_raw"] = raw
        checked = verify(clean_lede(raw), passages)
        kept = [s for s in checked.kept if not META.match(s.text)]  # "It discusses...", "The passage..."
        info["dropped"] = [s.text for s in checked.sentences if s not in kept]
        if kept:
            by_n = {p.n: p for p in passages}
            cites: list[Citation] = []
            for s in kept:
                for n in s.cited:
                    p = by_n[n]
                    k = next(k for k, a in enumerate(an.event.articles) if a.id == p.article_id)
                    if all(c.n != k + 1 or c.start != p.start for c in cites):
                        cites.append(_cite(an.event, k, p.start, p.end))
            text = " ".join(s.text for s in kept)
            copied = any(normalise(text) == normalise(p.text) for p in passages)
            return Item(text, cites), "copied" if copied else "generated", info
    dangling = an.features.get("dangling", np.zeros(len(an.sents)))
    leans = an.features.get("leans", np.zeros(len(an.sents)))
    ok = [
        i
        for i, s in enumerate(an.sents)
        if 12 <= s.words <= 45 and _quoted_share(s.text) < 0.3 and not dangling[i] and not leans[i]
    ]
    best = max(ok or range(len(an.sents)), key=lambda i: an.importance[i])
    s = an.sents[best]
    return Item(" ".join(s.text.split()), [_cite(an.event, s.k, s.start, s.end)]), "extractive", info


def summary(an: Analysis, words: int) -> tuple[str, list[Item]]:
    """At most ``words`` words of prose: important sentences that cover the most recurring word pairs.

    Greedy: each step takes the sentence with the best (weight of new word pairs) /
    length^SUMMARY_LENGTH_EXP, scaled by (1 + SUMMARY_IMPORTANCE x its importance); near-duplicates of chosen
    sentences, mostly-quoted sentences and sentences that lean on the one before them
    ("He said ...") are skipped. Pairs over all words (as ROUGE-2 counts them), weighted
    by how many articles use them. Read in order: the most important chosen sentence
    first, then the rest by article date and position (:func:`reading_order`).
    """
    covered: set = set()
    chosen: list[int] = []
    used = 0
    dangling = an.features.get("dangling", np.zeros(len(an.sents)))
    leans = an.features.get("leans", np.zeros(len(an.sents)))
    pool = [
        int(i)
        for i in np.argsort(-an.importance)
        if an.sents[i].words >= 8
        and _quoted_share(an.sents[i].text) <= 0.5
        and not dangling[i]
        and not leans[i]
        and not is_question(an.sents[i].text)
    ]
    while True:
        best, best_gain = -1, 0.0
        for i in pool:
            s = an.sents[i]
            if i in chosen or used + s.words > words:
                continue
            if any(an.sim[i, c] >= REDUNDANT_SIM for c in chosen):
                continue
            new = sum(an.pair_weight.get(b, 0.0) ** SUMMARY_PAIR_EXP for b in an.pairs[i] - covered)
            gain = ((new + 0.01) / s.words**SUMMARY_LENGTH_EXP) * (1 + SUMMARY_IMPORTANCE * max(0.0, an.importance[i]))
            if gain > best_gain:
                best, best_gain = i, gain
        if best < 0:
            break
        chosen.append(best)
        covered |= an.pairs[best]
        used += an.sents[best].words
    if not chosen:  # the budget is smaller than any sentence: cut the best one
        i = int(np.argmax(an.importance))
        s = an.sents[i]
        text = " ".join(s.text.split()[: max(1, words)])
        return text, [_fact_item(an, i)]
    items = [_fact_item(an, i) for i in reading_order(an, chosen)]
    return " ".join(it.text for it in items), items


def reading_order(an: Analysis, chosen: list[int]) -> list[int]:
    """The most important sentence first (what happened), then by article date, article and position."""
    if not chosen:
        return []
    first = max(chosen, key=lambda i: an.importance[i])
    rest = sorted(
        (i for i in chosen if i != first),
        key=lambda i: (an.event.dates[an.sents[i].k] or "9999", an.sents[i].k, an.sents[i].pos),
    )
    return [first, *rest]


# -- assembly ---------------------------------------------------------------------
_CACHE: dict[tuple, Briefing] = {}


def brief_event(
    event: Event,
    embedder,
    llm=None,
    words: int = 250,
    prompts_dir: Path | None = None,
    reword_facts: int = REWORD_FACTS,
) -> Briefing:
    """The briefing of one event (``llm=None``: extractive lede; ``prompts_dir=None``: the shipped prompts),
    its top ``reword_facts`` key facts worded by the model (:func:`reword_top_facts`)."""
    if words < 1:
        raise RagError("--words must be a positive number")
    t0 = time.perf_counter()
    an = analyse(event, embedder)
    t1 = time.perf_counter()
    facts = key_facts(an)
    tl = timeline(an)
    qs = quotes(an)
    cf = conflicts(an)
    text, items = summary(an, words)
    t2 = time.perf_counter()
    ld, mode, info = lede(an, facts, llm, prompts_dir)
    t3 = time.perf_counter()
    timings = {
        "sentences": len(an.sents),
        "embed_ms": round((t1 - t0) * 1000, 1),
        "extract_ms": round((t2 - t1) * 1000, 1),
        "lede_ms": round((t3 - t2) * 1000, 1),
        "reword_ms": 0.0,
        "reworded": 0,
        "total_ms": round((t3 - t0) * 1000, 1),
        **{k: v for k, v in info.items() if k in ("llm_error",)},
    }
    check = {"model_reply": info.get("llm_raw", ""), "dropped": info.get("dropped", [])} if llm is not None else {}
    b = Briefing(event, event.title, ld, mode, facts, tl, qs, cf, text, items, words, timings, check)
    if llm is not None and reword_facts > 0:
        reword_top_facts(b, llm, reword_facts, prompts_dir)
    return b


def reword_top_facts(b: Briefing, llm, n: int = REWORD_FACTS, prompts_dir: Path | None = None) -> None:
    """The model's verified wording of ``b``'s top ``n`` key facts, in place (see :mod:`rag.brief.reword`)."""
    t0 = time.perf_counter()
    top, info = reword(b.bullets[:n], llm, prompts_dir)
    b.bullets = top + b.bullets[n:]
    ms = (time.perf_counter() - t0) * 1000
    b.timings["reword_ms"] = round(b.timings.get("reword_ms", 0.0) + ms, 1)
    b.timings["reworded"] = b.timings.get("reworded", 0) + info["kept"]
    b.timings["total_ms"] = round(b.timings["total_ms"] + ms, 1)
    if "llm_error" in info:
        b.timings["llm_error"] = info["llm_error"]


def build_briefings(rag, event_id: str | None = None, words: int = 250, use_llm: bool = True) -> list[Briefing]:
    """Briefings of every event in ``rag``'s index (or only ``event_id``), largest event first.

    Raises RagError for an empty index or an unknown event id. Results are cached
    per (index, event, words, model), so a page can call this on every click.
    """
    if words < 1:
        raise RagError("--words must be a positive number")
    events = find_events(rag)
    if event_id:
        events = [get_event(events, event_id)]
    llm, llm_error = None, ""
    if use_llm:
        try:
            llm = rag.llm
        except RagError as exc:
            llm_error = str(exc)  # no model: extractive ledes, and the briefing says why
    out, new = [], []
    for ev in events:
        key = (str(rag.settings.data_dir), rag.settings.chroma_url, ev.id, words, getattr(llm, "name", None))
        if key not in _CACHE:
            if len(_CACHE) > 64:
                _CACHE.clear()
            _CACHE[key] = brief_event(ev, rag.embedder, llm, words, rag.settings.prompts_dir, reword_facts=0)
            if llm_error:
                _CACHE[key].lede_check["model_error"] = llm_error
            new.append(_CACHE[key])
        out.append(_CACHE[key])
    # The key facts after every lede: calls with one prompt in a row reuse its evaluated
    # system prompt (the model keeps the longest common prefix), so none is read twice.
    if llm is not None and REWORD_FACTS > 0:
        for b in new:
            reword_top_facts(b, llm, REWORD_FACTS, rag.settings.prompts_dir)
    return out
