"""Group the ingested articles into events: one story covered by several articles.

Similarity of two articles (0..1):

- lexical: TF-IDF cosine over content words, headline words counted three times;
- named entities: TF-IDF cosine over capitalised names (Chile vs Haiti, Breton, ...);
  mixed 0.7 lexical + 0.3 names;
- dates: no effect within a year, then a soft discount (x0.5 at five years apart),
  so two earthquakes five years apart do not merge but a story followed for
  months does not split. An article's date is its ``published`` field, else a
  dateline near its top ("Tuesday, July 12, 2005").

Articles are merged by average-linkage agglomerative clustering; two groups merge
only while their average similarity is at least ``MIN_LINK`` and at least
``COHESION_SHARE`` of the similarity inside the tighter group (so the stopping
point adapts to how alike the articles of one story are in a given collection).
The number of events follows from the data. The article centroid vectors (MiniLM)
are deliberately not used: on MultiLing 2011 and its subsets, mixing them in
(weight 0.1-0.3, stopping rule re-tuned for each) lowered the worst-subset B-cubed
F1 from 0.967 to 0.90-0.92: MiniLM puts any two disaster reports close together.
An event's title is the headline of its most central member (lexical similarity).

Event ids hash the sorted ids of the member articles (article ids are content
hashes), so the same articles always give the same event id.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from rag.errors import RagError
from rag.text import content_words, dateline, names
from rag.tuning import COHESION_SHARE, HEADLINE_REPEAT, MIN_LINK, NAME_WEIGHT
from rag.types import Article


@dataclass
class Event:
    """A group of articles about one story."""

    id: str
    title: str
    articles: list[Article]  # sorted by date, then file
    dates: list[str] = field(default_factory=list)  # ISO date of each article, "" when unknown
    centrality: list[float] = field(default_factory=list)  # mean similarity to the other members

    @property
    def article_ids(self) -> list[str]:
        return [a.id for a in self.articles]

    @property
    def first_date(self) -> str:
        return min((d for d in self.dates if d), default="")

    @property
    def last_date(self) -> str:
        return max((d for d in self.dates if d), default="")

    def to_json(self) -> dict:
        return {
            "id": self.id,
            "title": self.title,
            "first_date": self.first_date,
            "last_date": self.last_date,
            "articles": [
                {
                    "article_id": a.id,
                    "file": a.file,
                    "title": a.title,
                    "outlet": a.outlet,
                    "published": a.published,
                    "date": d,
                }
                for a, d in zip(self.articles, self.dates)
            ],
        }


def article_date(article: Article) -> str:
    """The article's ISO date: ``published``, else a dateline in its first lines.

    >>> article_date(Article("x", "a.txt", "Rain in Leeds\\nTuesday, July 12, 2005\\nIt rained."))
    '2005-07-12'
    >>> article_date(Article("x", "b.txt", "No date here.\\nNone at all."))
    ''
    """
    return article.published or dateline(article.text)  # a web page or record whose metadata gave no date


def event_id(article_ids: list[str]) -> str:
    """A stable id for a set of articles (order does not matter).

    >>> event_id(["b", "a"]) == event_id(["a", "b"])
    True
    """
    digest = hashlib.sha1("|".join(sorted(article_ids)).encode()).hexdigest()
    return "ev-" + digest[:10]


def _headline(a: Article) -> str:
    return a.title or a.text.split("\n", 1)[0]


def _tfidf_cosine(docs: list[list[str]]) -> np.ndarray:
    """Cosine similarity of sublinear TF-IDF vectors (sparse; smooth idf)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    if not any(docs):
        return np.zeros((len(docs), len(docs)))
    vec = TfidfVectorizer(analyzer=lambda toks: toks, sublinear_tf=True, lowercase=False)
    x = vec.fit_transform(docs)
    return np.asarray((x @ x.T).toarray(), dtype=np.float64)


def _date_factor(dates: list[str]) -> np.ndarray:
    """1 within a year; then down linearly to 0.5 at five years apart; 1 when a date is unknown."""
    ords = np.array([date.fromisoformat(d).toordinal() if d else -1 for d in dates], dtype=np.float64)
    gap = np.abs(ords[:, None] - ords[None, :])
    unknown = (ords[:, None] < 0) | (ords[None, :] < 0)
    factor = 1.0 - np.maximum(gap - 365.0, 0.0) / (4 * 365.0) * 0.5
    factor = np.clip(factor, 0.5, 1.0)
    factor[unknown] = 1.0
    return factor


def similarity(articles: list[Article], dates: list[str] | None = None) -> np.ndarray:
    """Pairwise article similarity in [0, 1] (see the module docstring)."""
    words = [content_words(a.text) + content_words(_headline(a)) * (HEADLINE_REPEAT - 1) for a in articles]
    ents = [
        [n.lower() for n in names(a.text)] + [n.lower() for n in names(" " + _headline(a))] * (HEADLINE_REPEAT - 1)
        for a in articles
    ]
    sim = (1 - NAME_WEIGHT) * _tfidf_cosine(words) + NAME_WEIGHT * _tfidf_cosine(ents)
    sim *= _date_factor(dates if dates is not None else [article_date(a) for a in articles])
    np.fill_diagonal(sim, 1.0)
    return np.clip(sim, 0.0, 1.0)


def cluster(sim: np.ndarray, min_link: float = MIN_LINK, cohesion_share: float = COHESION_SHARE) -> list[int]:
    """Average-linkage clustering of a similarity matrix with a two-part stopping rule.

    Merges follow the average-linkage order; a merge is refused when the two groups'
    average similarity is below ``min_link``, or below ``cohesion_share`` times the
    average similarity inside the tighter of the two groups (a tight story does not
    absorb a merely related one). A refused merge blocks every merge above it.
    Returns one label per row.

    >>> sim = np.array([[1, .5, .1, 0], [.5, 1, .1, 0], [.1, .1, 1, .6], [0, 0, .6, 1]])
    >>> cluster(sim)
    [0, 0, 1, 1]
    """
    n = sim.shape[0]
    if n <= 1:
        return [0] * n
    from scipy.cluster.hierarchy import linkage
    from scipy.spatial.distance import squareform

    sim = (np.asarray(sim, dtype=np.float64) + np.asarray(sim, dtype=np.float64).T) / 2
    dist = np.clip(1.0 - sim, 0.0, None)
    np.fill_diagonal(dist, 0.0)
    merges = linkage(squareform(dist, checks=False), method="average")
    members: dict[int, list[int]] = {i: [i] for i in range(n)}
    inner: dict[int, float] = {i: 0.0 for i in range(n)}  # sum of the similarities of pairs inside
    children: dict[int, tuple[int, int]] = {}
    blocked: set[int] = set()
    for t, row in enumerate(merges):
        a, b, node = int(row[0]), int(row[1]), n + t
        ma, mb = members[a], members[b]
        cross = float(sim[np.ix_(ma, mb)].sum())
        link = cross / (len(ma) * len(mb))
        cohesion = [inner[c] / (len(m) * (len(m) - 1) / 2) for c, m in ((a, ma), (b, mb)) if len(m) > 1]
        refused = a in blocked or b in blocked or link < min_link
        refused = refused or bool(cohesion and link < cohesion_share * min(cohesion))
        members[node] = ma + mb
        inner[node] = inner[a] + inner[b] + cross
        children[node] = (a, b)
        if refused:
            blocked.add(node)
    labels = [0] * n
    stack, label = [2 * n - 2], 0
    while stack:
        x = stack.pop()
        if x < n or x not in blocked:
            for i in members[x]:
                labels[i] = label
            label += 1
        else:
            stack.extend(children[x])
    return labels


def _title(members: list[Article], cent: list[float]) -> str:
    """The headline of the most central member that has one, else its first words."""
    order = sorted(range(len(members)), key=lambda i: -cent[i])
    for i in order:
        if members[i].title:
            return members[i].title
    words = members[order[0]].text.split()
    return " ".join(words[:12]) + ("…" if len(words) > 12 else "")


def group_articles(articles: list[Article]) -> list[Event]:
    """Events of ``articles``, largest first (then earliest)."""
    if not articles:
        return []
    dates = [article_date(a) for a in articles]
    sim = similarity(articles, dates)
    labels = cluster(sim)
    events = []
    for lab in sorted(set(labels)):
        idx = [i for i, x in enumerate(labels) if x == lab]
        idx.sort(key=lambda i: (dates[i] or "9999", articles[i].file, articles[i].id))
        if len(idx) > 1:
            cent = [float((sim[i, idx].sum() - 1.0) / (len(idx) - 1)) for i in idx]
        else:
            cent = [1.0]
        members = [articles[i] for i in idx]
        events.append(
            Event(
                id=event_id([a.id for a in members]),
                title=_title(members, cent),
                articles=members,
                dates=[dates[i] for i in idx],
                centrality=[round(c, 4) for c in cent],
            )
        )
    events.sort(key=lambda e: (-len(e.articles), e.first_date or "9999", e.id))
    return events


def find_events(rag) -> list[Event]:
    """The events of everything in ``rag``'s index. Raises RagError on an empty index."""
    articles, _ = rag.store.all_articles(with_vectors=False)
    if not articles:
        raise RagError("the index is empty: run `rag ingest` first")
    return group_articles(articles)


def get_event(events: list[Event], wanted: str) -> Event:
    """The event with id ``wanted`` (a unique prefix is enough)."""
    exact = [e for e in events if e.id == wanted]
    if exact:
        return exact[0]
    pref = [e for e in events if wanted and e.id.startswith(wanted)]
    if len(pref) == 1:
        return pref[0]
    known = ", ".join(e.id for e in events[:5]) + (" …" if len(events) > 5 else "")
    raise RagError(f"no event with id {wanted!r} (known: {known}; list them with `rag brief --format json`)")


# -- grouping quality -------------------------------------------------------------
def bcubed(pred: list, gold: list) -> tuple[float, float, float]:
    """B-cubed precision, recall and F1 of a clustering against gold classes.

    >>> bcubed([0, 0, 1, 1], ["a", "a", "b", "b"])
    (1.0, 1.0, 1.0)
    >>> tuple(round(x, 3) for x in bcubed([0, 0, 0, 0], ["a", "a", "b", "b"]))
    (0.5, 1.0, 0.667)
    """
    if len(pred) != len(gold):
        raise ValueError("pred and gold differ in length")
    n = len(pred)
    if n == 0:
        return 0.0, 0.0, 0.0
    p_arr, g_arr = np.asarray(pred, dtype=object), np.asarray(gold, dtype=object)
    prec = rec = 0.0
    for i in range(n):
        same_p = p_arr == p_arr[i]
        same_g = g_arr == g_arr[i]
        both = float(np.sum(same_p & same_g))
        prec += both / float(np.sum(same_p))
        rec += both / float(np.sum(same_g))
    prec, rec = prec / n, rec / n
    f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    return prec, rec, f1


def grouping_scores(pred: list, gold: list) -> dict:
    """B-cubed P/R/F1 and the adjusted Rand index, rounded for reports."""
    from sklearn.metrics import adjusted_rand_score

    p, r, f = bcubed(pred, gold)
    return {
        "bcubed_precision": round(p, 4),
        "bcubed_recall": round(r, 4),
        "bcubed_f1": round(f, 4),
        "ari": round(float(adjusted_rand_score([str(g) for g in gold], [str(x) for x in pred])), 4),
        "n_items": len(pred),
        "n_clusters": len(set(pred)),
        "n_classes": len(set(gold)),
    }
