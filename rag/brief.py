"""Per-event briefings: what happened, who said what, what is disputed, every line cited.

For each event (see :mod:`rag.events`) the member articles are split into
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
- a lede from the model, verified like answers (:func:`rag.verify.verify`), else
  the most central sentence verbatim; a summary of at most N words.

Every citation's ``quote`` equals ``article.text[start:end]``; ``n`` is the
article's number in the briefing's article list.
"""

from __future__ import annotations

import bisect
import json
import math
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rag.brief_render import to_html as to_html
from rag.brief_render import to_html_page as to_html_page
from rag.brief_render import to_markdown as to_markdown
from rag.brief_text import (
    META,
    SPECIFIC_UNITS,
    Figure,
    clean_lede,
    figures,
    find_quotes,
    in_period,
    resolve_pronoun,
    resolve_time,
    same_value,
)
from rag.clean import is_boilerplate
from rag.errors import RagError
from rag.events import Event, find_events, get_event
from rag.retrieve import lexical_tokens
from rag.text import normalise, numbers, sentence_spans
from rag.types import Citation, Passage

MAX_BULLETS = 12
MAX_TIMELINE = 12
MAX_QUOTES = 12
MAX_CONFLICTS = 6
LEDE_TOKENS = 48
LEDE_PASSAGES = 2  # short prompt: the 135M model reads ~250 tokens/s on 2 cores
MAX_VALUES_PER_ARTICLE = 3  # an article giving more values of one kind is listing different things
# Two sentences of different articles state the same fact when they agree on the
# numbers and are close in meaning AND in words (rare words count more), or share
# a key figure. Measured on the seeds: paraphrases across outlets score 0.5-0.9 in
# MiniLM cosine, but so do different statements about the same people.
SUPPORT_RULES = ((0.8, 0.3), (0.65, 0.45))  # (min cosine, min share of the fact's word weight)
SUPPORT_SIM_FIGURE = 0.5  # enough when both give the same (non-year) figure
REDUNDANT_SIM = 0.6  # a bullet this close to a chosen one adds nothing
CONTEXT_SIM = 0.3  # figures of one kind (an audience, a delay) in sentences this close describe one thing
CONTEXT_SIM_GENERIC = 0.75  # for kinds that say little about what is counted (percent, money, people)
MIN_WORDS, MAX_WORDS = 6, 80


# -- data -------------------------------------------------------------------------
@dataclass
class Sentence:
    k: int  # article number in the event (0-based)
    start: int
    end: int
    text: str
    pos: int  # sentence number within the article (0 = first body sentence)
    rel: float  # relative position 0..1
    words: int


@dataclass
class Item:
    """A bullet, timeline entry, quote or conflict side: text plus its citations."""

    text: str
    citations: list[Citation]
    extra: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        return {"text": self.text, **self.extra, "citations": [c.to_json() for c in self.citations]}


@dataclass
class Briefing:
    event: Event
    headline: str
    lede: Item
    lede_mode: str  # "generated" | "copied" | "extractive" (see lede())
    bullets: list[Item]
    timeline: list[Item]
    quotes: list[Item]
    conflicts: list[dict]
    summary: str
    summary_items: list[Item]
    words: int
    timings: dict = field(default_factory=dict)
    lede_check: dict = field(default_factory=dict)  # the model's reply and the sentences verification dropped

    @property
    def id(self) -> str:
        return self.event.id

    @property
    def title(self) -> str:
        return self.event.title

    def articles_json(self) -> list[dict]:
        return [
            {
                "n": i + 1,
                "article_id": a.id,
                "file": a.file,
                "title": a.title,
                "outlet": a.outlet,
                "published": a.published,
                "date": d,
            }
            for i, (a, d) in enumerate(zip(self.event.articles, self.event.dates))
        ]

    def coverage(self) -> dict:
        outlets = sorted({a.outlet for a in self.event.articles if a.outlet})
        unnamed = sum(1 for a in self.event.articles if not a.outlet)
        return {
            "n_articles": len(self.event.articles),
            "outlets": outlets,
            "articles_without_outlet": unnamed,
            "dates": sorted({d for d in self.event.dates if d}),
            "first_date": self.event.first_date,
            "last_date": self.event.last_date,
        }

    def to_json(self) -> dict:
        return {
            "id": self.id,
            "title": self.title,
            "headline": self.headline,
            "lede": {**self.lede.to_json(), "mode": self.lede_mode, **self.lede_check},
            "articles": self.articles_json(),
            "coverage": self.coverage(),
            "summary": self.summary,
            "summary_words": len(self.summary.split()),
            "summary_sentences": [s.to_json() for s in self.summary_items],
            "bullets": [b.to_json() for b in self.bullets],
            "timeline": [t.to_json() for t in self.timeline],
            "quotes": [q.to_json() for q in self.quotes],
            "conflicts": self.conflicts,
            "timings": self.timings,
        }

    def all_citations(self) -> list[Citation]:
        out = list(self.lede.citations)
        for group in (self.bullets, self.timeline, self.quotes, self.summary_items):
            for it in group:
                out += it.citations
        for c in self.conflicts:
            for side in c["sides"]:
                out += [_citation_from_json(x) for x in side["citations"]]
        return out


def _citation_from_json(d: dict) -> Citation:
    return Citation(**{k: d[k] for k in Citation.__dataclass_fields__ if k in d})


# -- sentences --------------------------------------------------------------------
_DATELINE = re.compile(
    r"^(?:(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day,?\s+)?"
    r"(?:(?:January|February|March|April|May|June|July|August|September|October|November|December)\s+\d{1,2},\s+\d{4}"
    r"|\d{4}[-/]\d{2}[-/]\d{2})\s*"
)
_CLOSERS = "\"'”’)]»"


def _is_heading(line: str) -> bool:
    """A line that is not prose: a headline, a subhead, a dateline."""
    s = line.strip().rstrip(_CLOSERS)
    return not s or s[-1] not in ".!?…:;"


def article_sentences(text: str, title: str, k: int) -> list[Sentence]:
    """Body sentences of one article usable as bullets (offsets into ``text``)."""
    out: list[Sentence] = []
    lines = text.split("\n")
    line_start = [0]
    for line in lines[:-1]:
        line_start.append(line_start[-1] + len(line) + 1)
    spans = sentence_spans(text)
    body: list[tuple[int, int]] = []
    for s, e in spans:
        li = bisect.bisect_right(line_start, s) - 1
        line = lines[li]
        if is_boilerplate(line) or (li == 0 and title and line.strip() == title.strip()):
            continue
        if _is_heading(line) and len(line.split()) < 25:
            continue
        m = _DATELINE.match(text[s:e])
        if m:
            s += m.end()
            if e - s < 20:
                continue
        body.append((s, e))
    n = max(1, len(body) - 1)
    for pos, (s, e) in enumerate(body):
        seg = text[s:e]
        words = len(seg.split())
        if MIN_WORDS <= words <= MAX_WORDS:
            out.append(Sentence(k, s, e, seg, pos, pos / n, words))
    return out


def _cite(event: Event, k: int, start: int, end: int) -> Citation:
    a = event.articles[k]
    return Citation(
        n=k + 1,
        article_id=a.id,
        file=a.file,
        title=a.title,
        outlet=a.outlet,
        published=a.published or event.dates[k],
        quote=a.text[start:end],
        start=start,
        end=end,
    )


# -- analysis shared by the sections ----------------------------------------------
@dataclass
class Analysis:
    event: Event
    sents: list[Sentence]
    vecs: np.ndarray
    sim: np.ndarray
    centrality: np.ndarray
    support: list[dict[int, int]]  # sentence -> {article k: best supporting sentence index}
    concept: np.ndarray  # density of recurring word pairs
    importance: np.ndarray
    tokens: list[list[str]]  # content words (light plural fold)
    pairs: list[set[tuple[str, str]]]  # adjacent word pairs over all words, as ROUGE-2 counts them
    pair_weight: dict[tuple[str, str], float]  # word pair -> number of articles using it (if >= 2)


def _bigrams(toks: list[str]) -> set[tuple[str, str]]:
    return {(toks[i], toks[i + 1]) for i in range(len(toks) - 1)}


def _numbers_agree(a: set[str], b: set[str]) -> bool:
    return not a or not b or bool(a & b)


def _is_year(n: str) -> bool:
    return len(n) == 4 and n[:2] in ("19", "20")


def _support(sents: list[Sentence], sim: np.ndarray, tokens: list[list[str]], nums: list[set[str]]) -> list[dict]:
    """For each sentence: article -> the sentence of that article that states the same fact."""
    sets = [set(t) for t in tokens]
    df = Counter(t for s in sets for t in s)
    n = len(sents)
    idf = {t: math.log((n + 1) / c) for t, c in df.items()}
    out: list[dict[int, int]] = []
    for i, s in enumerate(sents):
        total = sum(idf[t] for t in sets[i]) or 1.0
        key = {x for x in nums[i] if not _is_year(x)}
        best: dict[int, tuple[float, int]] = {}
        for j in np.flatnonzero(sim[i] >= SUPPORT_SIM_FIGURE):
            kj = sents[j].k
            if kj == s.k or not _numbers_agree(nums[i], nums[j]):
                continue
            share = sum(idf[t] for t in sets[i] & sets[j]) / total
            ok = bool(key & nums[j]) or any(sim[i, j] >= a and share >= b for a, b in SUPPORT_RULES)
            if ok and (kj not in best or sim[i, j] > best[kj][0]):
                best[kj] = (float(sim[i, j]), int(j))
        out.append({k: j for k, (_, j) in best.items()})
    return out


_FILLER = re.compile(
    r"did not (?:immediately )?respond|could not be reached|declined to comment|contributed to this report"
    r"|request for comment|(?:click|sign up|subscribe)\b",
    re.I,
)
_QUOTED = re.compile(r"“[^“”]*”|\"[^\"]*\"")


def _quoted_share(text: str) -> float:
    """Share of the characters inside quotation marks (an unclosed quote counts to the end).

    >>> round(_quoted_share('“We won,” he said.'), 2)
    0.5
    """
    inside = sum(len(m.group()) for m in _QUOTED.finditer(text))
    rest = _QUOTED.sub("", text)
    for mark in ("“", '"'):
        if mark in rest:
            inside += len(rest) - rest.index(mark)
            break
    return min(1.0, inside / max(1, len(text)))


def event_sentences(event: Event) -> list[Sentence]:
    sents: list[Sentence] = []
    for k, a in enumerate(event.articles):
        sents += article_sentences(a.text, a.title, k)
    if not sents:
        raise RagError(f"event {event.id}: its articles have no sentences to brief")
    return sents


def analyse(event: Event, embedder, vecs: np.ndarray | None = None) -> Analysis:
    """Sentences, their vectors (``vecs`` if given, in :func:`event_sentences` order) and scores."""
    sents = event_sentences(event)
    if vecs is None:
        vecs = embedder.embed([s.text for s in sents])
    sim = vecs @ vecs.T
    # Centre: the mean of per-article means, so long articles do not dominate.
    arts = np.array([s.k for s in sents])
    means = np.stack([vecs[arts == k].mean(axis=0) for k in sorted(set(arts.tolist()))])
    centre = means.mean(axis=0)
    centre /= np.linalg.norm(centre) or 1.0
    centrality = vecs @ centre
    tokens = [lexical_tokens(s.text) for s in sents]
    nums = [numbers(s.text) for s in sents]
    # Word pairs that recur across articles: the event's core vocabulary.
    weight = _recurring(arts, [_bigrams(t) for t in tokens], len(event.articles))
    concept = np.array([sum(weight.get(b, 0.0) for b in _bigrams(t)) / (len(t) + 4) ** 0.5 for t in tokens])
    pairs = [_bigrams(re.findall(r"[a-z0-9]+", s.text.lower())) for s in sents]
    pair_weight = _recurring(arts, pairs, len(event.articles))
    if concept.max() > 0:
        concept = concept / concept.max()
    support = _support(sents, sim, tokens, nums)
    n_sup = np.array([1 + len(b) for b in support], dtype=float)
    lead = np.array([1.0 - min(1.0, s.pos / 5) for s in sents])
    pronoun = np.array(
        [1.0 if re.match(r"(?:He|She|It|They|This|That|These|Those|But|And)\b", s.text) else 0.0 for s in sents]
    )
    quoted = np.array([_quoted_share(s.text) for s in sents])
    filler = np.array([1.0 if _FILLER.search(s.text) else 0.0 for s in sents])
    importance = n_sup + 1.5 * centrality + 0.7 * concept + 0.3 * lead - 0.4 * pronoun - 0.8 * quoted - 1.0 * filler
    return Analysis(event, sents, vecs, sim, centrality, support, concept, importance, tokens, pairs, pair_weight)


def _recurring(arts: np.ndarray, bags: list[set], n_articles: int) -> dict:
    """Item -> number of articles using it, for items used by two or more (any, for one article)."""
    df: Counter = Counter()
    for k in set(arts.tolist()):
        seen: set = set()
        for i in np.flatnonzero(arts == k):
            seen |= bags[i]
        df.update(seen)
    return {b: float(c) for b, c in df.items() if c >= 2 or n_articles == 1}


# -- key facts --------------------------------------------------------------------
def key_facts(an: Analysis, limit: int = MAX_BULLETS) -> list[Item]:
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
    return [_fact_item(an, i) for i in chosen]


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
        for it in items:
            if it["last"] == last and len(key & it["key"]) >= 0.6 * min(len(key), len(it["key"])):
                if all(c.n != k + 1 for c in it["cites"]):
                    it["cites"].append(_cite(ev, k, q["start"], q["end"]))
                break
        else:
            items.append(
                {
                    "last": last,
                    "key": key,
                    "quote": q["quote"],
                    "k": k,
                    "pos": q["pos"],
                    "cites": [_cite(ev, k, q["start"], q["end"])],
                }
            )
    items.sort(key=lambda it: (-len(it["cites"]), it["k"], it["pos"]))
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


# -- lede and summary -------------------------------------------------------------
def _passages(an: Analysis, idx: list[int]) -> list[Passage]:
    out = []
    for n, i in enumerate(idx, 1):
        s = an.sents[i]
        a = an.event.articles[s.k]
        out.append(Passage(n, a.id, a.file, a.title, a.outlet, a.published, s.text, s.start, s.end))
    return out


def lede(an: Analysis, facts: list[Item], llm, prompts_dir: Path) -> tuple[Item, str, dict]:
    """A one-sentence lede from the model, verified; else the most central sentence verbatim.

    Modes: "generated" (the model's own wording, every sentence supported by the
    passages it cites), "copied" (the model repeated a passage), "extractive" (no
    model, or nothing survived verification: the top-ranked sentence that is not a
    quotation, i.e. the most central one among those most outlets report).
    """
    from rag.evidence import format_passages
    from rag.prompts import render
    from rag.verify import verify

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
            raw = "".join(llm.stream(messages, max_tokens=LEDE_TOKENS, temperature=0.0))
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
    ok = [i for i, s in enumerate(an.sents) if 12 <= s.words <= 45 and _quoted_share(s.text) < 0.3]
    best = max(ok or range(len(an.sents)), key=lambda i: an.importance[i])
    s = an.sents[best]
    return Item(" ".join(s.text.split()), [_cite(an.event, s.k, s.start, s.end)]), "extractive", info


def summary(an: Analysis, words: int) -> tuple[str, list[Item]]:
    """At most ``words`` words: important sentences that cover the most recurring word pairs.

    Greedy: each step takes the sentence with the best (weight of new word pairs) /
    length^0.7, scaled by its importance; near-duplicates of chosen sentences and
    mostly-quoted sentences are skipped. Pairs over all words (as ROUGE-2 counts
    them), weighted by how many articles use them. Chosen on MultiLing 2011 (see
    evals/brief/report.md); neighbouring settings gave ROUGE-2 recall 0.172-0.183.
    """
    covered: set = set()
    chosen: list[int] = []
    used = 0
    pool = [int(i) for i in np.argsort(-an.importance)]
    while True:
        best, best_gain = -1, 0.0
        for i in pool:
            s = an.sents[i]
            if i in chosen or used + s.words > words or s.words < 8 or _quoted_share(s.text) > 0.5:
                continue
            if any(an.sim[i, c] >= REDUNDANT_SIM for c in chosen):
                continue
            new = sum(an.pair_weight.get(b, 0.0) for b in an.pairs[i] - covered)
            gain = ((new + 0.01) / s.words**0.7) * (1 + an.importance[i])
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
    chosen.sort(key=lambda i: (an.event.dates[an.sents[i].k] or "9999", an.sents[i].k, an.sents[i].pos))
    items = [_fact_item(an, i) for i in chosen]
    return " ".join(it.text for it in items), items


# -- assembly ---------------------------------------------------------------------
_CACHE: dict[tuple, Briefing] = {}


def brief_event(event: Event, embedder, llm=None, words: int = 250, prompts_dir: Path | None = None) -> Briefing:
    """The briefing of one event (``llm=None``: extractive lede)."""
    from rag.settings import PROJECT_ROOT

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
    ld, mode, info = lede(an, facts, llm, prompts_dir or PROJECT_ROOT / "prompts")
    t3 = time.perf_counter()
    timings = {
        "sentences": len(an.sents),
        "embed_ms": round((t1 - t0) * 1000, 1),
        "extract_ms": round((t2 - t1) * 1000, 1),
        "lede_ms": round((t3 - t2) * 1000, 1),
        "total_ms": round((t3 - t0) * 1000, 1),
        **{k: v for k, v in info.items() if k in ("llm_error",)},
    }
    check = {"model_reply": info.get("llm_raw", ""), "dropped": info.get("dropped", [])} if llm is not None else {}
    return Briefing(event, event.title, ld, mode, facts, tl, qs, cf, text, items, words, timings, check)


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
    out = []
    for ev in events:
        key = (str(rag.settings.data_dir), rag.settings.chroma_url, ev.id, words, getattr(llm, "name", None))
        if key not in _CACHE:
            if len(_CACHE) > 64:
                _CACHE.clear()
            _CACHE[key] = brief_event(ev, rag.embedder, llm, words, rag.settings.prompts_dir)
            if llm_error:
                _CACHE[key].lede_check["model_error"] = llm_error
        out.append(_CACHE[key])
    return out


# -- command line -----------------------------------------------------------------
def run_cli(rag, args) -> int:
    """`rag brief [--event ID] [--words N] [--format md|json|html] [--out FILE]`."""
    fmt = "json" if getattr(args, "json", False) else (getattr(args, "format", None) or "md")
    words = getattr(args, "words", None)
    words = 250 if words is None else int(words)
    if words < 1:
        raise RagError("--words must be a positive number")
    out_path = getattr(args, "out", None)
    if out_path and not Path(out_path).expanduser().parent.is_dir():
        raise RagError(f"--out {out_path}: the folder does not exist")
    briefings = build_briefings(
        rag, event_id=getattr(args, "event", None), words=words, use_llm=not getattr(args, "no_llm", False)
    )
    if fmt == "json":
        text = json.dumps({"events": [b.to_json() for b in briefings]}, ensure_ascii=False, indent=1) + "\n"
    elif fmt == "html":
        text = to_html_page(briefings)
    else:
        text = "\n---\n\n".join(to_markdown(b) for b in briefings)
    if out_path:
        try:
            Path(out_path).expanduser().write_text(text, encoding="utf-8")
        except OSError as exc:
            raise RagError(f"cannot write {out_path}: {exc.strerror or exc}") from None
        print(f"wrote {len(briefings)} briefing{'s' if len(briefings) != 1 else ''} to {out_path}")
    else:
        print(text, end="")
    return 0
