"""What the sections of a briefing share: the event's body sentences, their vectors and similarities,
which articles support each sentence, and the recurring word pairs."""

from __future__ import annotations

import bisect
import math
import re
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from rag.brief.centrality import (
    article_coverage,
    dangling_start,
    fold_plural,
    fragment,
    lead_score,
    leans_on,
    list_marker,
    term_centrality,
)
from rag.brief.events import Event
from rag.errors import RagError
from rag.ingest.clean import is_boilerplate
from rag.text import lexical_tokens, numbers, opening_date, quoted_sentence_spans
from rag.text.words import STOPWORDS
from rag.tuning import (
    IMPORTANCE,
    MAX_WORDS,
    MIN_WORDS,
    PAIR_MIN_ARTICLES,
    STOP_PAIR_WEIGHT,
    SUPPORT_RULES,
    SUPPORT_SIM_FIGURE,
)
from rag.types import Citation


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
    leans: str = ""  # the noun of a "The <noun>" opening the sentence before introduced (centrality.leans_on)


# -- sentences --------------------------------------------------------------------
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
    spans = quoted_sentence_spans(text)  # a quote stays whole, with its attribution
    body: list[tuple[int, int]] = []
    for s, e in spans:
        li = bisect.bisect_right(line_start, s) - 1
        line = lines[li]
        # The headline, also after a date ("2005/01/08 Headline"), is not a body sentence.
        if is_boilerplate(line) or (li == 0 and title and line.strip().endswith(title.strip())):
            continue
        if _is_heading(line) and len(line.split()) < 25:
            continue
        day, end = opening_date(text[s:e])  # "Tuesday, January 18, 2005Through a telethon, ..."
        if day:
            s += end + len(text[s + end : e]) - len(text[s + end : e].lstrip())
            if e - s < 20:
                continue
        s += list_marker(text[s:e])  # "* In Sri Lanka, ..." reads "In Sri Lanka, ..."
        body.append((s, e))
    n = max(1, len(body) - 1)
    for pos, (s, e) in enumerate(body):
        seg = text[s:e]
        words = len(seg.split())
        if MIN_WORDS <= words <= MAX_WORDS:
            prev = text[body[pos - 1][0] : body[pos - 1][1]] if pos else ""
            out.append(Sentence(k, s, e, seg, pos, pos / n, words, leans_on(prev, seg)))
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
    features: dict[str, np.ndarray] = field(default_factory=dict)  # what importance is the weighted sum of


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
    pair_weight = summary_pairs(_recurring(arts, pairs, len(event.articles)), len(event.articles))
    if concept.max() > 0:
        concept = concept / concept.max()
    support = _support(sents, sim, tokens, nums)
    features = {
        "support": np.array([len(b) for b in support], dtype=float) / max(1, len(event.articles) - 1),
        "coverage": article_coverage(sim, arts),
        "terms": term_centrality(tokens, arts),
        "centrality": centrality,
        "concept": concept,
        "lead": lead_score([s.pos for s in sents]),
        "dangling": np.array([1.0 if dangling_start(s.text) else 0.0 for s in sents]),
        "leans": _leans(sents, len(event.articles)),
        "quoted": np.array([_quoted_share(s.text) for s in sents]),
        "filler": np.array([1.0 if _FILLER.search(s.text) else 0.0 for s in sents]),
    }
    importance = sum(w * features[k] for k, w in IMPORTANCE.items())
    return Analysis(
        event, sents, vecs, sim, centrality, support, concept, importance, tokens, pairs, pair_weight, features
    )


def _leans(sents: list[Sentence], n_articles: int) -> np.ndarray:
    """1 for a sentence that cannot be read without the one before it: it opens on "The <noun>"
    its article's sentence before introduced, unless at least half the event's articles use
    the noun ("The earthquake ..." is the event), or it is a fragment with no subject."""
    used: dict[str, set[int]] = {}
    for s in sents:
        for w in set(re.findall(r"[a-z]+", s.text.lower())):
            used.setdefault(fold_plural(w), set()).add(s.k)
    return np.array(
        [1.0 if (s.leans and 2 * len(used.get(s.leans, ())) < n_articles) or fragment(s.text) else 0.0 for s in sents]
    )


def summary_pairs(weights: dict, n_articles: int) -> dict:
    """The word pairs a summary should cover: used by PAIR_MIN_ARTICLES articles or more
    (any, for a single article); pairs of two stop words ("of the") count STOP_PAIR_WEIGHT.

    >>> sorted(summary_pairs({("the", "quake"): 3.0, ("quake", "hit"): 1.0}, 5))
    [('the', 'quake')]
    """
    out = {}
    for b, c in weights.items():
        if c < PAIR_MIN_ARTICLES and n_articles > 1:
            continue
        if b[0] in STOPWORDS and b[1] in STOPWORDS:
            c *= STOP_PAIR_WEIGHT
        if c > 0:
            out[b] = c
    return out


def _recurring(arts: np.ndarray, bags: list[set], n_articles: int) -> dict:
    """Item -> number of articles using it, for items used by two or more (any, for one article)."""
    df: Counter = Counter()
    for k in set(arts.tolist()):
        seen: set = set()
        for i in np.flatnonzero(arts == k):
            seen |= bags[i]
        df.update(seen)
    return {b: float(c) for b, c in df.items() if c >= 2 or n_articles == 1}
