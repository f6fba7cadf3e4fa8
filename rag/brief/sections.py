"""The sections of a briefing: key facts, timeline, who said what, where the outlets disagree."""

from __future__ import annotations

from collections import Counter

import numpy as np

from rag.brief.analysis import Analysis, _cite, _quoted_share
from rag.brief.briefing import Item
from rag.brief.centrality import is_question
from rag.brief.events import Event
from rag.brief.figures import SPECIFIC_UNITS, Figure, figures, in_period, same_value
from rag.brief.text import find_quotes, resolve_pronoun
from rag.ingest.clean import is_boilerplate
from rag.text import normalise, resolve_time
from rag.tuning import (
    CONTEXT_SIM,
    CONTEXT_SIM_GENERIC,
    MAX_ALONE,
    MAX_BULLETS,
    MAX_CONFLICTS,
    MAX_QUOTES,
    MAX_TIMELINE,
    MAX_VALUES_PER_ARTICLE,
    REDUNDANT_SIM,
)


# -- key facts --------------------------------------------------------------------
def key_facts(an: Analysis, limit: int = MAX_BULLETS, alone: int = MAX_ALONE) -> list[Item]:
    """The ``limit`` most important facts (most outlets first), then up to ``alone`` claims
    one outlet alone makes (:func:`single_outlet_claims`).

    Each item's ``group`` says which: ``"several"`` (other articles state the same fact; all
    are cited), ``"key"`` (a top fact no other article was found to state in so many words,
    although they may cover the same ground: it is cited to its one article and not called
    exclusive) or ``"alone"`` (a single-outlet claim: nothing close to it elsewhere).
    """
    chosen = _top_facts(an, limit)
    extra = single_outlet_claims(an, chosen, alone)
    items = [_fact_item(an, i) for i in chosen + extra]
    for n, it in enumerate(items):
        it.extra["group"] = "alone" if n >= len(chosen) else "several" if it.extra["n_articles"] > 1 else "key"
    return items


def single_outlet_claims(an: Analysis, taken: list[int], limit: int = MAX_ALONE) -> list[int]:
    """Sentences saying what no other article says, most central to the event first.

    A claim one outlet alone makes: no other article states the same fact (no support)
    and the other articles hold nothing close to it (coverage below the event's median
    sentence). Ranked by closeness to the event's centre, so it is still about the
    event; a sentence leaning on the one before it, a mostly-quoted one, a question and
    one close to a fact already listed are left out. The ranking (centre rather than importance or
    shared words) was chosen on the MultiLing dev events.
    """
    if limit <= 0 or len(an.event.articles) < 2:
        return []
    cover = an.features["coverage"]
    floor = float(np.median(cover))
    dangling = an.features["dangling"]
    leans = an.features["leans"]
    out: list[int] = []
    for i in (int(i) for i in np.argsort(-an.centrality)):
        s = an.sents[i]
        if an.support[i] or cover[i] >= floor or dangling[i] or leans[i] or not 8 <= s.words <= 45:
            continue
        if _quoted_share(s.text) > 0.5 or is_question(s.text):
            continue  # mostly someone's words, or a question: not a claim
        if any(an.sim[i, c] >= REDUNDANT_SIM for c in taken + out):
            continue
        out.append(i)
        if len(out) >= limit:
            break
    return out


def _top_facts(an: Analysis, limit: int) -> list[int]:
    order = np.argsort(-an.importance)
    chosen: list[int] = []
    for i in order:
        if an.sents[i].words < 8:
            continue
        if any(an.sim[i, c] >= REDUNDANT_SIM for c in chosen):
            continue
        chosen.append(int(i))
        if len(chosen) >= limit:
            break
    chosen.sort(key=lambda i: (-(1 + len(an.support[i])), -an.importance[i]))
    return chosen


def _fact_item(an: Analysis, i: int) -> Item:
    s = an.sents[i]
    cites = [_cite(an.event, s.k, s.start, s.end)]
    for k, j in sorted(an.support[i].items()):
        t = an.sents[j]
        cites.append(_cite(an.event, k, t.start, t.end))
    cites.sort(key=lambda c: c.n)
    return Item(" ".join(s.text.split()), cites, {"n_articles": len({c.n for c in cites})})


def _ref_dates(event: Event) -> list[str]:
    """Each article's date; an undated article borrows the event's middle date."""
    known = sorted(d for d in event.dates if d)
    mid = known[len(known) // 2] if known else ""
    return [d or mid for d in event.dates]


def timeline(an: Analysis, limit: int = MAX_TIMELINE) -> list[Item]:
    refs = _ref_dates(an.event)
    dated: list[tuple[int, str, str, str]] = []
    for i, s in enumerate(an.sents):
        when, clock, expr = resolve_time(s.text, refs[s.k])
        if when:
            dated.append((i, when, clock, expr))
    # Trivia out: a dated sentence must be at least as central to the event as its median sentence.
    cover = an.features.get("coverage")
    if cover is not None and len(cover):
        floor = float(np.median(cover))
        dated = [row for row in dated if cover[row[0]] >= floor]
    dated.sort(key=lambda x: -an.importance[x[0]])
    chosen: list[tuple[int, str, str, str]] = []
    for row in dated:
        i = row[0]
        if any(an.sim[i, c[0]] >= REDUNDANT_SIM for c in chosen):
            continue
        chosen.append(row)
        if len(chosen) >= limit:
            break
    chosen.sort(key=lambda r: (r[1], r[2] or "99", an.sents[r[0]].k, an.sents[r[0]].pos))
    out = []
    for i, when, clock, expr in chosen:
        item = _fact_item(an, i)
        item.extra = {"date": when, "time": clock, "when": expr}
        out.append(item)
    return out


def span_importance(an: Analysis, k: int, start: int, end: int) -> float:
    """The importance of the most important sentence of article ``k`` overlapping [start, end); 0 if none."""
    return max(
        (float(an.importance[i]) for i, s in enumerate(an.sents) if s.k == k and s.start < end and start < s.end),
        default=0.0,
    )


def quotes(an: Analysis, limit: int = MAX_QUOTES) -> list[Item]:
    ev = an.event
    found: list[tuple[int, dict]] = []
    for k, a in enumerate(ev.articles):
        for q in find_quotes(a.text):
            if is_boilerplate(a.text[q["start"] : q["end"]].split("\n")[0]):
                continue
            found.append((k, q))
    surnames = Counter(q["speaker"].split()[-1] for _, q in found if q["speaker"] not in ("he", "she", "they"))
    full: dict[str, str] = {}
    for _, q in found:
        sp = q["speaker"]
        if sp not in ("he", "she", "they"):
            last = sp.split()[-1]
            if len(sp) > len(full.get(last, "")):
                full[last] = sp
    items: list[dict] = []
    for k, q in found:
        sp = q["speaker"]
        if sp in ("he", "she", "they"):
            sp = resolve_pronoun(ev.articles[k].text, q["start"], set(surnames))
            if not sp:
                continue
        last = sp.split()[-1]
        if last not in full:
            full[last] = sp
        key = set(normalise(q["quote"]).split())
        weight = span_importance(an, k, q["start"], q["end"])
        for it in items:
            if it["last"] == last and len(key & it["key"]) >= 0.6 * min(len(key), len(it["key"])):
                if all(c.n != k + 1 for c in it["cites"]):
                    it["cites"].append(_cite(ev, k, q["start"], q["end"]))
                it["weight"] = max(it["weight"], weight)
                break
        else:
            items.append(
                {
                    "last": last,
                    "key": key,
                    "quote": q["quote"],
                    "k": k,
                    "pos": q["pos"],
                    "weight": weight,
                    "cites": [_cite(ev, k, q["start"], q["end"])],
                }
            )
    # Each speaker's words most outlets quote first, then the most central to the event.
    items.sort(key=lambda it: (-len(it["cites"]), -it["weight"], it["k"], it["pos"]))
    # Round robin over speakers (best-quoted first), so one voice does not fill the list.
    by_speaker: dict[str, list[dict]] = {}
    for it in items:
        by_speaker.setdefault(it["last"], []).append(it)
    order = sorted(by_speaker, key=lambda sp: (-len(by_speaker[sp][0]["cites"]), -surnames.get(sp, 0)))
    picked: list[dict] = []
    while len(picked) < limit and any(by_speaker.values()):
        for sp in order:
            if by_speaker[sp] and len(picked) < limit:
                picked.append(by_speaker[sp].pop(0))
    out = []
    for it in picked:
        speaker = full.get(it["last"], it["last"])
        quote = it["quote"].strip().rstrip(",")
        out.append(
            Item(f"{speaker}: “{quote}”", sorted(it["cites"], key=lambda c: c.n), {"speaker": speaker, "quote": quote})
        )
    return out


def conflicts(an: Analysis, limit: int = MAX_CONFLICTS) -> list[dict]:
    """Figures of one kind that differ between articles, grouped by what they describe."""
    ev = an.event
    refs = _ref_dates(ev)
    span = sorted(d for d in ev.dates if d)
    mentions: list[tuple[int, Figure]] = []  # (sentence index, figure)
    for i, s in enumerate(an.sents):
        when, _, _ = resolve_time(s.text, refs[s.k])
        if when and span and not in_period(when, span[0], span[-1]):
            continue  # a figure about another time (an earlier launch, a past poll)
        for f in figures(s.text):
            mentions.append((i, f))
    results = []
    for unit in sorted({f.unit for _, f in mentions}):
        ms = [(i, f) for i, f in mentions if f.unit == unit]
        # Group mentions of one kind whose sentences speak of the same thing: a mention
        # joins the group its sentence is closest to on average (or its own sentence's group).
        need = CONTEXT_SIM if unit in SPECIFIC_UNITS else CONTEXT_SIM_GENERIC
        groups: list[list[tuple[int, Figure]]] = []
        for i, f in ms:
            best, best_sim = None, need
            for g in groups:
                if any(i == j for j, _ in g):
                    best = g
                    break
                sims = [an.sim[i, j] for j, _ in g]
                # Specific kinds: close on average; generic kinds: close to every member.
                score = float(np.mean(sims)) if unit in SPECIFIC_UNITS else float(np.min(sims))
                if score >= best_sim:
                    best, best_sim = g, score
            if best is None:
                groups.append([(i, f)])
            else:
                best.append((i, f))
        for group in groups:
            c = _conflict(an, unit, group)
            if c:
                results.append(c)
    results.sort(key=lambda c: (-c["n_articles"], -len(c["sides"])))
    return results[:limit]


def _conflict(an: Analysis, unit: str, group: list[tuple[int, Figure]]) -> dict | None:
    by_art: dict[int, list[float]] = {}
    for i, f in group:
        by_art.setdefault(an.sents[i].k, []).append(f.value)
    listing = {k for k, vs in by_art.items() if len({round(v, 6) for v in vs}) > MAX_VALUES_PER_ARTICLE}
    if listing:
        group = [(i, f) for i, f in group if an.sents[i].k not in listing]
        by_art = {k: vs for k, vs in by_art.items() if k not in listing}
    arts = sorted(by_art)

    def has(k: int, v: float) -> bool:
        return any(same_value(v, x) for x in by_art[k])

    disputed = any(
        not has(b, va) and not has(a, vb) and not same_value(va, vb)
        for ai, a in enumerate(arts)
        for b in arts[ai + 1 :]
        for va in by_art[a]
        for vb in by_art[b]
    )
    if not disputed:
        return None
    sides: list[dict] = []
    for i, f in sorted(group, key=lambda m: -m[1].value):
        s = an.sents[i]
        cite = _cite(an.event, s.k, s.start, s.end)
        for side in sides:
            if same_value(side["value"], f.value):
                if all(c["n"] != cite.n or c["start"] != cite.start for c in side["citations"]):
                    side["citations"].append(cite.to_json())
                break
        else:
            sides.append(
                {"value": f.value, "label": f.label, "text": " ".join(s.text.split()), "citations": [cite.to_json()]}
            )
    for side in sides:
        side["articles"] = sorted({c["n"] for c in side["citations"]})
    labels = " vs ".join(f"{sd['label']} [{', '.join(map(str, sd['articles']))}]" for sd in sides)
    return {
        "measure": unit,
        "text": f"{unit}: {labels}",
        "n_articles": len(arts),
        "sides": sides,
    }
