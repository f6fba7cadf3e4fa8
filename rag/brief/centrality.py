"""How central a sentence is to its event: what most of the event's articles are about.

Pure functions on arrays, used by :mod:`rag.brief.analysis`:

- :func:`article_coverage` — for each sentence, how closely each *other* article says
  something like it (its best-matching sentence there), averaged over those articles:
  a sentence about the main story has a close match in most articles, a side story
  (one outlet's telethon) in few;
- :func:`term_centrality` — the share of the event's articles using the sentence's
  content words, averaged over its words: the event's who and what;
- :func:`lead_score` — early sentences of an article carry its main point;
- :func:`dangling_start` — a sentence that leans on the one before it ("He said",
  "However, ...") cannot open a paragraph on its own.
"""

from __future__ import annotations

import re

import numpy as np

_DANGLING = re.compile(
    r"(?:He|She|It|They|This|That|These|Those|His|Her|Its|Their|Them|But|And|Also|However|Meanwhile|Still|"
    r"Instead|Then|There|Such|Both|Another|Other|The\s+(?:two|three|four|latter|former|same))\b"
)
_FRAGMENT = re.compile(
    r"(?:[A-Z][a-z]+ly\s+)?(?:[A-Z]?[a-z]+ed|[Tt]hought|[Kk]nown|[Bb]orn|[Ss]een|[Ff]ound|[Hh]eld|[Tt]aken|[Gg]iven)"
    r"\s+(?:to|in|as|by|at|on|from|with|for|near)\b"
)
_DEFINITE = re.compile(r"The\s+([a-z]{3,})\b")
_MARKER = re.compile(r"^\s*(?:[*•·▪‣◦-]|\d{1,2}[.)])\s+")


def article_coverage(sim: np.ndarray, arts: np.ndarray) -> np.ndarray:
    """Mean over the other articles of the best similarity to one of their sentences.

    >>> sim = np.array([[1, .9, .1], [.9, 1, .2], [.1, .2, 1]])
    >>> article_coverage(sim, np.array([0, 1, 2])).round(2).tolist()
    [0.5, 0.55, 0.15]
    """
    ks = sorted(set(arts.tolist()))
    if len(ks) < 2:
        return np.zeros(len(arts))
    best = np.stack([sim[:, arts == k].max(axis=1) for k in ks], axis=1)  # sentence x article
    own = np.array([ks.index(k) for k in arts.tolist()])
    best[np.arange(len(arts)), own] = 0.0
    return best.sum(axis=1) / (len(ks) - 1)


def term_centrality(tokens: list[list[str]], arts: np.ndarray) -> np.ndarray:
    """Mean share of the event's articles that use each of a sentence's content words.

    >>> term_centrality([["quake", "chile"], ["quake", "telethon"], ["quake"]], np.array([0, 1, 2])).round(2).tolist()
    [0.67, 0.67, 1.0]
    """
    ks = sorted(set(arts.tolist()))
    used: dict[str, set[int]] = {}
    for toks, k in zip(tokens, arts.tolist()):
        for t in toks:
            used.setdefault(t, set()).add(k)
    n = max(1, len(ks))
    out = [float(np.mean([len(used[t]) / n for t in set(toks)])) if toks else 0.0 for toks in tokens]
    return np.array(out)


def lead_score(pos: list[int], horizon: int = 5) -> np.ndarray:
    """1 for an article's first body sentence, falling linearly to 0 at ``horizon``.

    >>> lead_score([0, 1, 5, 9]).tolist()
    [1.0, 0.8, 0.0, 0.0]
    """
    return np.array([max(0.0, 1.0 - p / horizon) for p in pos])


def dangling_start(text: str) -> bool:
    """True when the sentence leans on the one before it.

    >>> dangling_start("He said the toll would rise."), dangling_start("Hundreds died.")
    (True, False)
    """
    return bool(_DANGLING.match(text.lstrip("“\"' ")))


def leans_on(previous: str, text: str) -> str:
    """The noun of a "The <noun>" opening that the sentence before it introduced ("" when
    there is none): "The law ..." after "... signed into law ...". Read alone, such a
    sentence names nothing the reader knows, unless the noun is what the whole event is
    about (:func:`rag.brief.analysis.analyse` keeps those).

    >>> prev = "A bill was passed and signed into law by the president."
    >>> leans_on(prev, "The law is intended to promote donations."), leans_on(prev, "The toll rose to 80,000.")
    ('law', '')
    >>> leans_on("", "The law is intended to promote donations.")
    ''
    """
    m = _DEFINITE.match(text.lstrip("“\"' "))
    if not m or not previous:
        return ""
    noun = fold_plural(m.group(1))
    return noun if any(fold_plural(w) == noun for w in re.findall(r"[a-z]+", previous.lower())) else ""


def fragment(text: str) -> bool:
    """A sentence with no subject, cut from a list entry ("Name: role. Initially thought
    to have been the bomber on the train."): it opens on a past participle followed by a
    preposition, and no comma leads on to a clause with its own subject.

    >>> fragment("Initially thought to have been the suicide bomber on the train.")
    True
    >>> fragment("Born in Leeds, he moved to London in 2001."), fragment("United Nations staff arrived.")
    (False, False)
    """
    return bool(_FRAGMENT.match(text.lstrip("“\"' "))) and "," not in text


def fold_plural(word: str) -> str:
    """A light plural fold: "laws" -> "law", "press" stays.

    >>> fold_plural("laws"), fold_plural("press"), fold_plural("bus")
    ('law', 'press', 'bus')
    """
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def is_question(text: str) -> bool:
    """A question (a police appeal's "Do you know the route he took?") states nothing.

    >>> is_question("Do you know the route he took?"), is_question('"Why?" he asked, and left.')
    (True, False)
    """
    return text.rstrip(" \"'”’)").endswith("?")


def list_marker(text: str) -> int:
    """Length of a leading list marker ("* ", "- ", "2. "), 0 when there is none.

    >>> list_marker("* In Sri Lanka, 30,000 died."), list_marker("In Sri Lanka")
    (2, 0)
    """
    m = _MARKER.match(text)
    return m.end() if m else 0
