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

import html
import json
import math
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import numpy as np

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
    lede_mode: str  # "generated" | "extractive"
    bullets: list[Item]
    timeline: list[Item]
    quotes: list[Item]
    conflicts: list[dict]
    summary: str
    summary_items: list[Item]
    words: int
    timings: dict = field(default_factory=dict)

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
            "lede": {**self.lede.to_json(), "mode": self.lede_mode},
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
        li = text.count("\n", 0, s)
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


# -- timeline ---------------------------------------------------------------------
_MONTH_NAMES = [
    "january", "february", "march", "april", "may", "june",
    "july", "august", "september", "october", "november", "december",
]  # fmt: skip
_MON = {m[:3]: i + 1 for i, m in enumerate(_MONTH_NAMES)} | {"sept": 9}
_MONTH_RE = r"(?:Jan(?:uary|\.)?|Feb(?:ruary|\.)?|Mar(?:ch|\.)?|Apr(?:il|\.)?|May|June?|July?|Aug(?:ust|\.)?|Sept?(?:ember|\.)?|Oct(?:ober|\.)?|Nov(?:ember|\.)?|Dec(?:ember|\.)?)"
_WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_TIME_PATTERNS = [
    ("iso", re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")),
    ("mdy", re.compile(rf"\b({_MONTH_RE})\s+(\d{{1,2}})(?:st|nd|rd|th)?,\s+(\d{{4}})\b")),
    ("dmy", re.compile(rf"\b(\d{{1,2}})\s+({_MONTH_RE})\s+(\d{{4}})\b")),
    ("md", re.compile(rf"\b({_MONTH_RE})\s+(\d{{1,2}})(?:st|nd|rd|th)?\b(?!,?\s*\d{{4}})")),
    ("dm", re.compile(rf"\b(\d{{1,2}})\s+({_MONTH_RE})\b(?!\s+\d{{4}})")),
    ("my", re.compile(rf"\b({_MONTH_RE})\s+(?:of\s+)?(\d{{4}})\b")),
    (
        "wd",
        re.compile(
            r"\b(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)(?:'s|’s)?\b"
            r"(?:\s+(morning|afternoon|evening|night))?"
        ),
    ),
    (
        "rel",
        re.compile(
            r"\b(today|tonight|yesterday|this morning|last night|last week|last month|last year"
            r"|earlier this year|a year ago)\b",
            re.I,
        ),
    ),
    ("month", re.compile(rf"\b(?:in|since|until|by|last|early|late|mid-?)\s+({_MONTH_RE})\b(?!\s+\d)")),
    ("year", re.compile(r"\b(?:in|since|until|by|from|of|early|late|mid-?)\s+((?:19|20)\d{2})\b")),
]
_CLOCK = re.compile(
    r"\b(\d{1,2})(?::(\d{2}))?\s*([ap])\.?\s?m\b\.?|\b(\d{1,2}):(\d{2})\s*(?:GMT|UTC|BST|EST|EDT|CET)\b", re.I
)


def _month(token: str) -> int:
    return _MON.get(token.lower().rstrip(".")[:3], 0)


def _safe_date(y: int, m: int, d: int) -> date | None:
    try:
        return date(y, m, d)
    except ValueError:
        return None


def resolve_time(text: str, ref: str) -> tuple[str, str, str]:
    """(ISO date or "YYYY-MM" or "YYYY", clock time "HH:MM" or "", the expression) for ``text``.

    ``ref`` is the article's date (ISO) that relative expressions count from.

    >>> resolve_time("It began on Monday evening at 8 p.m.", "2024-08-13")
    ('2024-08-12', '20:00', 'Monday evening')
    >>> resolve_time("He was banned after the Jan. 6, 2021, attack.", "")
    ('2021-01-06', '', 'Jan. 6, 2021')
    >>> resolve_time("DeSantis launched in May 2023.", "2024-08-13")
    ('2023-05', '', 'May 2023')
    >>> resolve_time("Nothing here.", "2024-08-13")
    ('', '', '')
    """
    ref_d = date.fromisoformat(ref) if ref else None
    clock = ""
    cm = _CLOCK.search(text)
    if cm:
        if cm.group(3):
            h = int(cm.group(1)) % 12 + (12 if cm.group(3).lower() == "p" else 0)
            clock = f"{h:02d}:{int(cm.group(2) or 0):02d}"
        else:
            clock = f"{int(cm.group(4)):02d}:{cm.group(5)}"
    for kind, rx in _TIME_PATTERNS:
        for m in rx.finditer(text):
            got = _resolve(kind, m, ref_d)
            if got:
                return got, clock, m.group(0)
    if clock and ref_d:
        return ref_d.isoformat(), clock, cm.group(0) if cm else ""
    return "", "", ""


def _resolve(kind: str, m: re.Match, ref: date | None) -> str:
    g = m.groups()
    if kind == "iso":
        d = _safe_date(int(g[0]), int(g[1]), int(g[2]))
        return d.isoformat() if d else ""
    if kind == "mdy":
        d = _safe_date(int(g[2]), _month(g[0]), int(g[1]))
        return d.isoformat() if d else ""
    if kind == "dmy":
        d = _safe_date(int(g[2]), _month(g[1]), int(g[0]))
        return d.isoformat() if d else ""
    if kind in ("md", "dm") and ref:
        mon, day = (_month(g[0]), int(g[1])) if kind == "md" else (_month(g[1]), int(g[0]))
        d = _safe_date(ref.year, mon, day)
        if d and d > ref + timedelta(days=7):
            d = _safe_date(ref.year - 1, mon, day)
        return d.isoformat() if d else ""
    if kind == "my":
        return f"{int(g[1]):04d}-{_month(g[0]):02d}"
    if kind == "wd" and ref:
        want = _WEEKDAYS.index(g[0].lower())
        back = (ref.weekday() - want) % 7
        return (ref - timedelta(days=back)).isoformat()
    if kind == "rel" and ref:
        w = g[0].lower()
        if w in ("today", "tonight", "this morning"):
            return ref.isoformat()
        if w in ("yesterday", "last night"):
            return (ref - timedelta(days=1)).isoformat()
        if w == "last week":
            return (ref - timedelta(days=7)).isoformat()[:7]
        if w == "last month":
            y, mo = (ref.year, ref.month - 1) if ref.month > 1 else (ref.year - 1, 12)
            return f"{y:04d}-{mo:02d}"
        if w == "last year":
            return f"{ref.year - 1:04d}"
        if w == "earlier this year":
            return f"{ref.year:04d}"
        if w == "a year ago":
            return f"{ref.year - 1:04d}-{ref.month:02d}"
    if kind == "month" and ref:
        mon = _month(g[0])
        last = m.group(0).lower().startswith("last")
        y = ref.year if (mon < ref.month or (mon == ref.month and not last)) else ref.year - 1
        return f"{y:04d}-{mon:02d}"
    if kind == "year":
        return g[0]
    return ""


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


# -- who said what ----------------------------------------------------------------
_VERBS = (
    r"said|says|told|wrote|writes|posted|added|asked|replied|tweeted|stated|explained|noted|declared"
    r"|warned|claimed|announced|responded|joked|urged|insisted|argued|recalled|continued|commented|admitted"
)
_NAME_TOKEN = r"(?:(?:Gov|Sen|Rep|Dr|Mr|Mrs|Ms|Gen|St|Lt|Col|Sgt)\.|[A-Z]\.|[A-Z][\w’'-]*)"
_NAME = rf"(?:{_NAME_TOKEN}(?:\s+(?:{_NAME_TOKEN}|de|van|von|bin|al))*)"
_PRONOUN = r"(?:he|she|they|He|She|They)"
_QUOTE = re.compile(r"“([^“”]{2,600})”|\"([^\"]{2,600})\"")
_AFTER = re.compile(
    rf"^[\s,]*(?:(?:[a-z][\w-]*\s+){{0,3}}(?P<s1>{_NAME}|{_PRONOUN})\s+(?:{_VERBS})\b|(?:{_VERBS})\s+(?P<s2>(?:{_NAME}\s+(?:[a-z]+\s+){{1,3}})?{_NAME}))"
)
_BEFORE = re.compile(rf"(?P<s>{_NAME}|{_PRONOUN})\s+(?:{_VERBS})\b[^“”\".!?]{{0,60}}?[:,]?\s*$")
_NOT_SPEAKERS = {
    "The", "A", "An", "In", "On", "It", "This", "That", "But", "And", "When", "After", "As", "At", "He", "She",
    "They", "We", "I", "You", "His", "Her", "Their", "Its", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday",
    "Saturday", "Sunday",
}  # fmt: skip


def _speaker(raw: str) -> str:
    """The trailing run of capitalised words: "Harris campaign spokesperson Joseph Costello" -> "Joseph Costello"."""
    words = raw.split()
    run: list[str] = []
    for w in reversed(words):
        if not w[:1].isupper() or w in _NOT_SPEAKERS:
            break
        run.insert(0, w)
    return " ".join(run[-3:]).rstrip(".,;:’'")


def find_quotes(text: str) -> list[dict]:
    """Attributed quotations in ``text``: speaker, quoted words, and the span to cite.

    Pronoun speakers ("he said") are returned as "he"/"she"/"they"; the caller resolves them.

    >>> q = find_quotes('“We had a massive attack,” Musk said. Then nothing.')
    >>> q[0]["speaker"], q[0]["quote"], q[0]["start"], q[0]["end"]
    ('Musk', 'We had a massive attack,', 0, 36)
    >>> find_quotes('Trump called Harris the "border czar" again.')
    []
    """
    out = []
    for m in _QUOTE.finditer(text):
        words = (m.group(1) or m.group(2) or "").strip()
        if len(words.split()) < 4:
            continue  # scare quotes: "coup", "border czar"
        line_end = text.find("\n", m.end())
        line_end = len(text) if line_end < 0 else line_end
        after = text[m.end() : min(line_end, m.end() + 80)]
        # A quote closed by a full stop ends its sentence: what follows is not its attribution.
        a = None if words.rstrip().endswith(".") else _AFTER.match(after)
        if a and (a.group("s1") or "") in ("He", "She", "They"):
            a = None  # "...” He said..." starts a new sentence
        if a:
            who = a.group("s1") or a.group("s2")
            end = m.end() + a.end()
            out.append(
                {
                    "speaker": _speaker(who) if who[0].isupper() else who.lower(),
                    "quote": words,
                    "start": m.start(),
                    "end": end,
                    "pos": m.start(),
                }
            )
            continue
        line_start = text.rfind("\n", 0, m.start()) + 1
        before = text[max(line_start, m.start() - 140) : m.start()]
        b = _BEFORE.search(before)
        if b:
            who = b.group("s")
            start = m.start() - len(before) + b.start("s")
            out.append(
                {
                    "speaker": _speaker(who) if who[0].isupper() else who.lower(),
                    "quote": words,
                    "start": start,
                    "end": m.end(),
                    "pos": start,
                }
            )
    return [q for q in out if q["speaker"]]


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
            sp = _resolve_pronoun(ev.articles[k].text, q["start"], set(surnames))
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


def _resolve_pronoun(text: str, at: int, speakers: set[str]) -> str:
    """The last known speaker named before ``at``: in the same paragraph, else in the one before."""
    para = text.rfind("\n", 0, at) + 1
    prev = text.rfind("\n", 0, max(0, para - 1)) + 1
    for window in (text[max(para, at - 400) : at], text[prev:para]):
        best, best_pos = "", -1
        for sp in speakers:
            p = window.rfind(sp)
            if p > best_pos:
                best, best_pos = sp, p
        if best:
            return best
    return ""


# -- where the outlets disagree ---------------------------------------------------
_SCALES = {"thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12}
_WORDNUM = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20, "thirty": 30, "forty": 40,
    "fifty": 50, "sixty": 60, "a": 1, "an": 1,
}  # fmt: skip
_QTY = re.compile(
    r"(?P<pre>\$|£|€)?(?P<num>\d(?:[\d,]*\d)?(?:\.\d+)?|\b(?:" + "|".join(_WORDNUM) + r")\b)"
    r"(?P<hundred>[\s-]+hundred\b)?"
    r"(?:[\s-]+(?P<scale>thousand|million|billion|trillion)\b)?"
    r"(?P<pct>\s?%|\s+percent\b|\s+per\s+cent\b)?",
    re.I,
)
# What a figure counts, from the words next to it (first match wins). "Specific" kinds
# (a delay, an audience, a death toll) are compared across articles even when the
# sentences differ a lot; generic ones only when the sentences are close.
_UNIT_CLASSES = {
    "deaths": {"dead", "death", "deaths", "killed", "killing", "died", "fatalities", "toll", "bodies"},
    "injured": {"injured", "wounded", "hurt"},
    "audience": {"user", "listener", "viewer", "participant", "attendee", "spectator", "audience", "listening",
                 "tuned", "joined", "watching", "watched", "visitor"},
    "followers": {"follower", "following", "followed"},
    "minutes": {"minute"},
    "hours": {"hour"},
    "days": {"day"},
    "people": {"people", "person", "resident", "refugee", "victim"},
    "votes": {"vote", "voted", "account"},
    "magnitude": {"magnitude"},
}  # fmt: skip
_SPECIFIC_UNITS = {"deaths", "injured", "audience", "followers", "delay (minutes)", "delay (hours)"}
_DELAY = re.compile(r"\b(?:delay(?:ed|s)?|late|scheduled|postponed|wait(?:ed|ing)?|behind schedule)\b", re.I)
_UNIT_OF = {w: c for c, ws in _UNIT_CLASSES.items() for w in ws}


def _fold(w: str) -> str:
    w = w.lower().strip(".,;:“”\"'’()")
    if len(w) > 3 and w.endswith("s") and not w.endswith("ss"):
        w = w[:-1]
    return w


@dataclass
class Figure:
    value: float
    unit: str
    label: str  # as written, with its hedge ("more than 40 minutes")
    start: int  # sentence-relative
    end: int


_LINK = re.compile(r"\b(?:compared with(?: only)?|vs\.?|versus|and|or|to|while|not|than|from)\s*$")
_HEDGE = re.compile(
    r"(?:more than|over|about|around|nearly|almost|just over|at least|up to|only|some|roughly)\s+$", re.I
)


def figures(sentence: str) -> list[Figure]:
    """Quantities with a recognisable kind (audience, minutes, deaths...) in one sentence.

    >>> [(f.value, f.unit, f.label) for f in figures("Only 1.1 million were listening, not 60 million.")]
    [(1100000.0, 'audience', 'Only 1.1 million'), (60000000.0, 'audience', '60 million')]
    >>> [f.label for f in figures("But 120,000 people joined after a delay of over 15 minutes.")]
    ['120,000 people', 'over 15 minutes']
    >>> [(f.value, f.unit) for f in figures("It started more than 40 minutes late; five hundred people left.")]
    [(40.0, 'delay (minutes)'), (500.0, 'people')]
    >>> figures("In 2022 he bought it.")
    []
    """
    out: list[Figure] = []
    for m in _QTY.finditer(sentence):
        raw = m.group("num")
        scale = (m.group("scale") or "").lower()
        word = raw.lower()
        nxt = sentence[m.end() : m.end() + 1]
        if nxt and nxt in "½¼¾":
            continue  # "a 2½-minute video"
        if word in _WORDNUM:
            if not scale and not re.match(r"[\s-]+(?:hundred\s+)?[A-Za-z]+", sentence[m.end() :]):
                continue  # "the strongest one," — a word number needs its noun or scale next to it
            if word in ("a", "an") and not scale:
                continue
            value = float(_WORDNUM[word])
        elif m.group("hundred"):
            continue  # "100 hundred"?
        else:
            value = float(raw.replace(",", ""))
            if not scale and not m.group("pct") and not m.group("pre") and 1900 <= value <= 2100 and "." not in raw:
                continue  # a year
        if m.group("hundred"):
            value *= 100
        value *= _SCALES.get(scale, 1.0)
        before = sentence[max(0, m.start() - 30) : m.start()]
        if re.search(rf"{_MONTH_RE}\s*$", before) or re.match(r"\s*(?:[ap]\.?m\b|:\d)", sentence[m.end() :]):
            continue  # a date or a clock time
        if re.match(r"-[A-Za-z]", sentence[m.end() : m.end() + 2]):
            continue  # a compound adjective: "a two-hour conversation", "a 10-year-old"
        if m.group("pre"):
            unit = "money"
        elif m.group("pct"):
            unit = "percent"
        else:
            unit = _unit(sentence[m.end() :], before, sentence)
            if not unit and out and _LINK.search(sentence[out[-1].end : m.start()]):
                unit = out[-1].unit  # "88 million followers compared with only 7.5 million"
            if not unit:
                continue
        h = _HEDGE.search(before)
        start = m.start() - (len(before) - h.start()) if h else m.start()
        end = m.end()
        noun = re.match(r"\s+([A-Za-z]+)", sentence[end:])
        if noun and _fold(noun.group(1)) in _UNIT_OF:
            end += noun.end()  # "40 minutes", "120,000 people"
        out.append(Figure(value, unit, sentence[start:end].strip(), start, end))
    return out


def _unit(after: str, before: str, sentence: str) -> str:
    """The kind of a figure: the nearest counted noun after it, else a cue word just before it."""
    after = re.split(r"[\d;:!?]|\.\s", after, maxsplit=1)[0]  # stop at the next number or clause
    before = re.split(r"[\d;:!?]|\.\s", before)[-1]  # and at the previous one
    order = list(_UNIT_CLASSES)
    kinds = []
    for words in (re.findall(r"[A-Za-z’']+", after)[:4], re.findall(r"[A-Za-z’']+", before)[-3:]):
        found = [_UNIT_OF[w] for w in map(_fold, words) if w in _UNIT_OF]
        kinds.append(min(found, key=order.index) if found else "")
    c = kinds[0] or kinds[1]
    if c == "people" and kinds[1] in ("deaths", "injured", "audience"):
        c = kinds[1]  # "killing as many as 200,000 people"
    if c in ("minutes", "hours") and _DELAY.search(sentence):
        return f"delay ({c})"
    return c


def conflicts(an: Analysis, limit: int = MAX_CONFLICTS) -> list[dict]:
    """Figures of one kind that differ between articles, grouped by what they describe."""
    ev = an.event
    refs = _ref_dates(ev)
    span = sorted(d for d in ev.dates if d)
    mentions: list[tuple[int, Figure]] = []  # (sentence index, figure)
    for i, s in enumerate(an.sents):
        when, _, _ = resolve_time(s.text, refs[s.k])
        if when and span and not _near(when, span[0], span[-1]):
            continue  # a figure about another time (an earlier launch, a past poll)
        for f in figures(s.text):
            mentions.append((i, f))
    results = []
    for unit in sorted({f.unit for _, f in mentions}):
        ms = [(i, f) for i, f in mentions if f.unit == unit]
        # Group mentions of one kind whose sentences speak of the same thing: a mention
        # joins the group its sentence is closest to on average (or its own sentence's group).
        need = CONTEXT_SIM if unit in _SPECIFIC_UNITS else CONTEXT_SIM_GENERIC
        groups: list[list[tuple[int, Figure]]] = []
        for i, f in ms:
            best, best_sim = None, need
            for g in groups:
                if any(i == j for j, _ in g):
                    best = g
                    break
                sims = [an.sim[i, j] for j, _ in g]
                # Specific kinds: close on average; generic kinds: close to every member.
                score = float(np.mean(sims)) if unit in _SPECIFIC_UNITS else float(np.min(sims))
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


def _near(when: str, first: str, last: str, days: int = 31) -> bool:
    lo = date.fromisoformat(first) - timedelta(days=days)
    hi = date.fromisoformat(last) + timedelta(days=days)
    full = when + "-01-01"[len(when) - 4 :] if len(when) < 10 else when
    try:
        d = date.fromisoformat(full)
    except ValueError:
        return True
    if len(when) == 7:  # a month: any overlap
        end = (d.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        return not (end < lo or d > hi)
    if len(when) == 4:
        return lo.year <= d.year <= hi.year
    return lo <= d <= hi


def _same(a: float, b: float) -> bool:
    return abs(a - b) <= 0.02 * max(abs(a), abs(b))


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
        return any(_same(v, x) for x in by_art[k])

    disputed = any(
        not has(b, va) and not has(a, vb) and not _same(va, vb)
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
            if _same(side["value"], f.value):
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


_PREAMBLE = re.compile(
    r"^\s*(?:here is\s+)?(?:the\s+|an?\s+)?(?:one-sentence\s+|opening\s+|short\s+)?"
    r"(?:lede|summary|sentence|opening)(?:\s+is)?\s*:\s*",
    re.I,
)


def clean_lede(raw: str) -> str:
    r"""The model's reply without a preamble, wrapping quotes or a second paragraph.

    >>> clean_lede('The one-sentence lede is: "Musk interviewed Trump [1]."')
    'Musk interviewed Trump [1].'
    >>> clean_lede("Opening sentence: It began late [2].\n\nNote: more.")
    'It began late [2].'
    >>> clean_lede('[1] (The Post) "It began late." more')
    ''
    >>> clean_lede('[3] (The Post) "It began 40 minutes late."')
    'It began 40 minutes late. [3]'
    >>> clean_lede("Musk interviewed Trump on X as more than a")
    ''
    """
    text = next((line for line in raw.strip().split("\n") if re.search(r"[A-Za-z]", line)), "")
    text = _PREAMBLE.sub("", text).strip()
    echo = re.match(r"^\[(\d+)\]\s*(?:\([^)]*\)\s*)?", text)  # the model repeated a passage line
    if echo:
        text = text[echo.end() :].strip() + f" [{echo.group(1)}]"
    if len(text) > 2 and text[0] in '"“' and text.rstrip()[-1] in '"”':
        text = text[1:-1].strip()
    elif len(text) > 2 and text[0] in '"“':
        m = re.match(r"^[\"“](.+?)[\"”]\s*((?:\[\d+\]\s*)*)\.?$", text)
        if m:
            text = m.group(1).strip() + (" " + m.group(2).strip() if m.group(2) else "")
    if not re.search(r"[.!?…][\"'”’)]*(?:\s*\[\d+(?:\s*,\s*\d+)*\])*\s*[.!?]?$", text):
        return ""  # cut off by the token limit: not a sentence
    return text


def lede(an: Analysis, facts: list[Item], llm, prompts_dir: Path) -> tuple[Item, str, dict]:
    """A one-sentence lede from the model, verified; else the most central sentence verbatim."""
    from rag.evidence import format_passages
    from rag.prompts import render
    from rag.verify import verify

    info: dict = {}
    top = [int(i) for i in np.argsort(-an.importance)[:12]]
    seen: list[int] = []
    for i in top:
        if not any(an.sim[i, j] >= REDUNDANT_SIM for j in seen) and an.sents[i].words <= 40:
            seen.append(i)
        if len(seen) == 3:
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
        kept = checked.kept
        info["dropped"] = [s.text for s in checked.dropped]
        if kept:
            by_n = {p.n: p for p in passages}
            cites: list[Citation] = []
            for s in kept:
                for n in s.cited:
                    p = by_n[n]
                    k = next(k for k, a in enumerate(an.event.articles) if a.id == p.article_id)
                    if all(c.n != k + 1 or c.start != p.start for c in cites):
                        cites.append(_cite(an.event, k, p.start, p.end))
            return Item(" ".join(s.text for s in kept), cites), "generated", info
    quoted = [_quoted_share(s.text) for s in an.sents]
    best = max(range(len(an.sents)), key=lambda i: (an.sents[i].words >= 12 and quoted[i] < 0.3, an.centrality[i]))
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
    return Briefing(event, event.title, ld, mode, facts, tl, qs, cf, text, items, words, timings)


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
    llm = None
    if use_llm:
        try:
            llm = rag.llm
        except RagError:
            llm = None  # no model: extractive ledes (the timings say so)
    out = []
    for ev in events:
        key = (str(rag.settings.data_dir), rag.settings.chroma_url, ev.id, words, getattr(llm, "name", None))
        if key not in _CACHE:
            if len(_CACHE) > 64:
                _CACHE.clear()
            _CACHE[key] = brief_event(ev, rag.embedder, llm, words, rag.settings.prompts_dir)
        out.append(_CACHE[key])
    return out


# -- rendering --------------------------------------------------------------------
def _marks(cites: list[Citation] | list[dict]) -> str:
    ns = sorted({c["n"] if isinstance(c, dict) else c.n for c in cites})
    return "".join(f"[{n}]" for n in ns)


def to_markdown(b: Briefing) -> str:
    """One briefing as Markdown; ``[n]`` marks refer to the numbered sources at the end."""
    cov = b.coverage()
    lines = [f"# {b.headline}", "", f"{b.lede.text} {_marks(b.lede.citations)}", ""]
    outlets = ", ".join(cov["outlets"]) or "no outlet named"
    if cov["articles_without_outlet"]:
        outlets += f" (+{cov['articles_without_outlet']} without an outlet)"
    dates = cov["first_date"] if cov["first_date"] == cov["last_date"] else f"{cov['first_date']} to {cov['last_date']}"
    lines += [f"**Coverage:** {cov['n_articles']} articles; {outlets}; {dates or 'no dates'}. Event `{b.id}`.", ""]
    lines += ["## Summary", "", b.summary, ""]
    lines += ["## Key facts", ""] + [f"- {it.text} {_marks(it.citations)}" for it in b.bullets] + [""]
    if b.timeline:
        lines += ["## Timeline", ""]
        for it in b.timeline:
            when = it.extra["date"] + (f" {it.extra['time']}" if it.extra.get("time") else "")
            lines.append(f"- **{when}** {it.text} {_marks(it.citations)}")
        lines.append("")
    if b.quotes:
        lines += ["## Who said what", ""]
        lines += [f"- **{q.extra['speaker']}**: “{q.extra['quote']}” {_marks(q.citations)}" for q in b.quotes]
        lines.append("")
    if b.conflicts:
        lines += ["## Where the outlets disagree", ""]
        for c in b.conflicts:
            lines.append(f"- **{c['measure']}**:")
            for sd in c["sides"]:
                lines.append(f"  - {sd['label']}: “{sd['text']}” {_marks(sd['citations'])}")
        lines.append("")
    lines += ["## Sources", ""]
    for a in b.articles_json():
        meta = ", ".join(x for x in (a["outlet"], a["published"] or a["date"], a["file"]) if x)
        lines.append(f"{a['n']}. {a['title'] or '(no headline)'} ({meta})")
    return "\n".join(lines).rstrip() + "\n"


_CSS = """
.briefing{font-family:system-ui,sans-serif;max-width:60rem;line-height:1.45}
.briefing .cite{font-size:.8em;vertical-align:super;cursor:help;color:#2456a6;text-decoration:none}
.briefing details{margin:.2rem 0 .6rem 1rem;font-size:.9em;color:#333}
.briefing blockquote{margin:.3rem 0;padding-left:.6rem;border-left:3px solid #ccc}
.briefing .meta{color:#555;font-size:.9em}
"""


def _html_cites(cites: list[Citation] | list[dict]) -> str:
    rows = [c if isinstance(c, dict) else c.to_json() for c in cites]
    marks = "".join(
        f'<a class="cite" href="#src-{c["n"]}" title="{html.escape(c["quote"])}">[{c["n"]}]</a>' for c in rows
    )
    quotes = "".join(
        f'<blockquote data-article="{html.escape(c["article_id"])}" data-start="{c["start"]}" data-end="{c["end"]}">'
        f"{html.escape(c['quote'])} <span class=meta>— {html.escape(c['outlet'] or c['file'])}</span></blockquote>"
        for c in rows
    )
    return f"{marks}<details><summary>sources</summary>{quotes}</details>"


def to_html(b: Briefing) -> str:
    """One briefing as an HTML fragment (escaped; each citation's quote in a <details>)."""
    e = html.escape
    cov = b.coverage()
    parts = [f'<div class="briefing" id="{e(b.id)}"><style>{_CSS}</style>', f"<h2>{e(b.headline)}</h2>"]
    parts.append(f"<p><strong>{e(b.lede.text)}</strong> {_html_cites(b.lede.citations)}</p>")
    outlets = ", ".join(cov["outlets"]) or "no outlet named"
    parts.append(
        f'<p class="meta">{cov["n_articles"]} articles · {e(outlets)} · '
        f"{e(cov['first_date'])}{' to ' + e(cov['last_date']) if cov['last_date'] != cov['first_date'] else ''}"
        f" · event {e(b.id)}</p>"
    )
    parts.append(f"<h3>Summary</h3><p>{e(b.summary)}</p>")
    parts.append("<h3>Key facts</h3><ul>")
    parts += [f"<li>{e(it.text)} {_html_cites(it.citations)}</li>" for it in b.bullets]
    parts.append("</ul>")
    if b.timeline:
        parts.append("<h3>Timeline</h3><ul>")
        for it in b.timeline:
            when = it.extra["date"] + (f" {it.extra['time']}" if it.extra.get("time") else "")
            parts.append(f"<li><strong>{e(when)}</strong> {e(it.text)} {_html_cites(it.citations)}</li>")
        parts.append("</ul>")
    if b.quotes:
        parts.append("<h3>Who said what</h3><ul>")
        for q in b.quotes:
            parts.append(
                f"<li><strong>{e(q.extra['speaker'])}</strong>: “{e(q.extra['quote'])}” {_html_cites(q.citations)}</li>"
            )
        parts.append("</ul>")
    if b.conflicts:
        parts.append("<h3>Where the outlets disagree</h3><ul>")
        for c in b.conflicts:
            sides = "".join(
                f"<li>{e(sd['label'])}: “{e(sd['text'])}” {_html_cites(sd['citations'])}</li>" for sd in c["sides"]
            )
            parts.append(f"<li><strong>{e(c['measure'])}</strong><ul>{sides}</ul></li>")
        parts.append("</ul>")
    parts.append("<h3>Sources</h3><ol>")
    for a in b.articles_json():
        meta = ", ".join(x for x in (a["outlet"], a["published"] or a["date"], a["file"]) if x)
        parts.append(
            f'<li id="src-{a["n"]}">{e(a["title"] or "(no headline)")} <span class=meta>({e(meta)})</span></li>'
        )
    parts.append("</ol></div>")
    return "\n".join(parts)


def to_html_page(briefings: list[Briefing]) -> str:
    body = "\n<hr>\n".join(to_html(b) for b in briefings)
    return f'<!doctype html>\n<html lang="en"><meta charset="utf-8"><title>Briefings</title>\n<body>\n{body}\n</body></html>\n'


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
