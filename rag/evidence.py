"""Evidence selection: the sentences of the retrieved chunks that bear on the question.

Each retrieved chunk is split into sentences (offsets into the article text), the
sentences are scored against the question (embedding similarity plus content-word
overlap) and the best few become the numbered passages ``[1]..[n]``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from rag.retrieve import evidence_spans, lexical_tokens
from rag.text import numbers
from rag.types import Hit, Passage

# Question words that carry no topic.
_QWORDS = {
    "what",
    "which",
    "who",
    "whom",
    "whose",
    "when",
    "where",
    "why",
    "how",
    "many",
    "much",
    "does",
    "did",
    "do",
    "is",
    "are",
    "was",
    "were",
    "name",
    "article",
    "articles",
    "outlet",
    "report",
    "reported",
    "according",
    "describe",
    "described",
    "happen",
    "happened",
}


@dataclass
class Candidate:
    hit_rank: int
    hit: Hit
    start: int  # article offsets
    end: int
    text: str
    dense: float = 0.0
    overlap: float = 0.0
    score: float = 0.0


def question_terms(question: str) -> list[str]:
    """Topic terms of a question (content words minus question words).

    >>> question_terms("How many followers does Trump have on Truth Social?")
    ['follower', 'trump', 'truth', 'social']
    """
    return [t for t in lexical_tokens(question) if t not in _QWORDS]


def fold(word: str) -> str:
    """A crude suffix fold for matching a question's words with a sentence's
    ("lasted" meets "last", "described" meets "describe").

    >>> [fold(w) for w in ["lasted", "last", "described", "describe", "endorsing", "cut"]]
    ['last', 'last', 'describ', 'describ', 'endors', 'cut']
    """
    for suffix in ("ing", "ed", "es", "e"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


def candidates(hits: list[Hit]) -> list[Candidate]:
    """Every distinct sentence of the hits, in hit order."""
    seen: set[tuple[str, int]] = set()
    out: list[Candidate] = []
    for r, h in enumerate(hits):
        for s, e in evidence_spans(h.text):
            key = (h.article_id, h.start + s)
            if key in seen:
                continue
            seen.add(key)
            out.append(Candidate(r, h, h.start + s, h.start + e, h.text[s:e]))
    return out


_NUMBER_Q = re.compile(
    r"^\s*(how (many|much|long|big|large|old|soon|often|far)|what (percentage|share|number|amount|proportion|fraction))\b",
    re.I,
)
_DATE_Q = re.compile(r"^\s*(when|what (date|day|year|month|time)|on what (date|day)|in what (year|month))\b", re.I)
_WHO_Q = re.compile(r"^\s*(who|whom|which (person|official|analyst|spokesperson|commissioner))\b", re.I)
_HAS_NUMBER = re.compile(
    r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|dozen|hundred|thousand|million|billion|half)s?\b", re.I
)
_HAS_DATE = re.compile(
    r"\b(monday|tuesday|wednesday|thursday|friday|saturday|sunday|january|february|march|april|may|june|july|"
    r"august|september|october|november|december|jan|feb|aug|sept|oct|nov|dec|yesterday|tonight|today|"
    r"(last|next|this) (week|month|year|summer)|\d{4}|p\.m|a\.m)\b",
    re.I,
)
_MONTH = r"(?:january|february|march|april|may|june|july|august|september|october|november|december|jan|feb|aug|sept|oct|nov|dec)\.?"
# A calendar date ("12 August", "Aug. 12", "May 2023", "2021") rather than "last month".
_SPECIFIC_DATE = re.compile(rf"\b(?:\d{{1,2}}\s+{_MONTH}|{_MONTH}\s+\d{{1,4}}|\d{{4}})\b", re.I)
_YEAR = re.compile(r"\b(?:19|20)\d\d\b")
_HAS_NAME = re.compile(r"(?<!^)(?<![.!?]\s)\b[A-Z][a-z]+ [A-Z][a-z]+")


def _strip_numbers(sentence: str, question: str) -> str:
    for n in numbers(question):
        sentence = re.sub(re.escape(n) + r"(\s*(million|billion|thousand|hundred|percent|per cent|%))?", " ", sentence)
    return sentence


def answer_type_bonus(question: str, sentence: str) -> float:
    """A small bonus when the sentence holds the kind of thing the question asks for.

    >>> answer_type_bonus("How many people listened?", "Only 1.1 million were listening.")
    0.1
    >>> answer_type_bonus("How many people listened?", "Musk apologised.")
    0.0
    >>> answer_type_bonus("How many heard it, not 60 million?", "He claimed 60 million.")
    0.0
    >>> answer_type_bonus("How many voted?", "In 2022, he asked."), answer_type_bonus("How many years?", "Since 2022.")
    (0.0, 0.1)
    >>> answer_type_bonus("When did it start?", "It started last month."), answer_type_bonus("When?", "In May 2023.")
    (0.1, 0.15)
    """
    if _NUMBER_Q.search(question):
        # A number the question does not already give ("claimed 60 million?"), and
        # not a year, unless years are what it asks about ("in 2022" is no count).
        rest = _strip_numbers(sentence, question)
        if not re.search(r"\byears?\b", question, re.I):
            rest = _YEAR.sub(" ", rest)
        return 0.1 if _HAS_NUMBER.search(rest) else 0.0
    if _DATE_Q.search(question):
        # A calendar date answers "when" better than "last month" or "on Monday".
        return 0.15 if _SPECIFIC_DATE.search(sentence) else 0.1 if _HAS_DATE.search(sentence) else 0.0
    if _WHO_Q.search(question):
        return 0.1 if _HAS_NAME.search(sentence) else 0.0
    return 0.0


# A sentence that leans on the one before it: it opens on a quote or a pronoun.
# (Not "But" or "And": such a sentence usually names its own subject.)
_CONTINUES = re.compile(r"^[\"“‘']|^(He|She|It|They|His|Her|Its|Their|This|That|These|Those|Some)\b")
# "What did X say / call / tell ...": the answer is usually a quotation.
_SAY_Q = re.compile(
    r"\b(say|said|call|called|tell|told|describe|described|respond|responded|reply|replied|mock|mocked|"
    r"praise|praised|joke|joked|predict|predicted|warn|warned)\b",
    re.I,
)
_QUOTE = re.compile(r"[\"“”]")
CONTEXT_PENALTY = 0.03  # a continuation scored with its lead-in ranks a little below the lead-in itself
QUOTE_BONUS = 0.05


def continues(sentence: str) -> bool:
    """Does the sentence lean on the one before it (a quote, a pronoun, a connective)?

    >>> continues("“You're the greatest cutter,” Trump told Musk."), continues("He predicted 35.")
    (True, True)
    >>> continues("Musk bought Twitter in 2022.")
    False
    """
    return bool(_CONTINUES.match(sentence))


def previous_sentence(cands: list[Candidate]) -> dict[int, int]:
    """Index of each candidate's preceding sentence in the same article, where that is a candidate too."""
    by_end = {(c.hit.article_id, c.end): i for i, c in enumerate(cands)}
    out = {}
    for i, c in enumerate(cands):
        for gap in range(4):  # the sentences of one article are separated by a little whitespace
            j = by_end.get((c.hit.article_id, c.start - gap))
            if j is not None and j != i:
                out[i] = j
                break
    return out


def score_candidates(question: str, cands: list[Candidate], embedder, qvec: np.ndarray | None = None) -> None:
    """Fill ``dense``, ``overlap`` and ``score`` of each candidate in place.

    A sentence that continues the one before it ("“You're the greatest cutter,”
    Trump told Musk." after "Trump complimented Musk for firing staff.") is also
    scored together with that sentence (the mean of the two vectors, the union of
    their words) and keeps the better score: on its own it has too little context
    to match the question it answers. Questions about what someone said favour
    sentences that quote them.
    """
    if not cands:
        return
    if qvec is None:
        qvec = embedder.embed([question])[0]
    vecs = embedder.embed([c.text for c in cands])
    dense = vecs @ qvec
    terms = {fold(t) for t in question_terms(question)}
    toks = [{fold(t) for t in lexical_tokens(c.text)} for c in cands]
    # "Who said ..." asks for a name, not a quotation.
    say = bool(_SAY_Q.search(question)) and not _WHO_Q.search(question) and "name" not in question.lower()

    def combined(d: float, words: set[str], c: Candidate) -> float:
        overlap = len(terms & words) / len(terms) if terms else 0.0
        return 0.6 * d + 0.4 * overlap - 0.01 * c.hit_rank + answer_type_bonus(question, c.text)

    prev = previous_sentence(cands)
    for i, (c, d) in enumerate(zip(cands, dense)):
        c.dense = float(d)
        c.overlap = len(terms & toks[i]) / len(terms) if terms else 0.0
        c.score = combined(c.dense, toks[i], c)
        if i in prev and continues(c.text):
            j = prev[i]
            pair = vecs[i] + vecs[j]
            pair_dense = float(pair @ qvec / (np.linalg.norm(pair) or 1.0))
            c.score = max(c.score, combined(pair_dense, toks[i] | toks[j], c) - CONTEXT_PENALTY)
        if say and _QUOTE.search(c.text):
            c.score += QUOTE_BONUS


def to_passages(chosen: list[Candidate]) -> list[Passage]:
    return [
        Passage(
            n=i + 1,
            article_id=c.hit.article_id,
            file=c.hit.file,
            title=c.hit.title,
            outlet=c.hit.outlet,
            published=c.hit.published,
            text=c.text,
            start=c.start,
            end=c.end,
            score=round(c.score, 4),
        )
        for i, c in enumerate(chosen)
    ]


def select(cands: list[Candidate], n: int) -> list[Candidate]:
    """The ``n`` best candidates, best first."""
    return sorted(cands, key=lambda c: -c.score)[:n]


def format_passages(passages: list[Passage]) -> str:
    """Passages as the prompt shows them: the number, then the quoted sentence.

    Sources are left out on purpose: the model copies whatever it sees, and a
    shorter prompt is a faster answer on a CPU.

    >>> p = Passage(1, "a", "f.txt", "T", "The Post", "2024-08-13", "It began late.", 0, 14)
    >>> format_passages([p])
    '[1] "It began late."'
    """
    return "\n".join(f'[{p.n}] "{p.text}"' for p in passages)
