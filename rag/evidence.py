"""Evidence selection: the sentences of the retrieved chunks that bear on the question.

Each retrieved chunk is split into sentences (offsets into the article text), the
sentences are scored against the question (embedding similarity plus content-word
overlap) and the best few become the numbered passages ``[1]..[n]``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from rag.retrieve import lexical_tokens
from rag.text import numbers, sentence_spans
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


def candidates(hits: list[Hit]) -> list[Candidate]:
    """Every distinct sentence of the hits, in hit order."""
    seen: set[tuple[str, int]] = set()
    out: list[Candidate] = []
    for r, h in enumerate(hits):
        for s, e in sentence_spans(h.text):
            key = (h.article_id, h.start + s)
            if key in seen or len(h.text[s:e]) < 15:
                continue
            seen.add(key)
            out.append(Candidate(r, h, h.start + s, h.start + e, h.text[s:e]))
    return out


_NUMBER_Q = re.compile(
    r"^\s*(how (many|much|long|big|large|old)|what (percentage|share|number|amount|proportion|fraction))\b", re.I
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
    """
    if _NUMBER_Q.search(question):
        # A number the question does not already give ("claimed 60 million?").
        return 0.1 if _HAS_NUMBER.search(_strip_numbers(sentence, question)) else 0.0
    if _DATE_Q.search(question):
        return 0.1 if _HAS_DATE.search(sentence) else 0.0
    if _WHO_Q.search(question):
        return 0.1 if _HAS_NAME.search(sentence) else 0.0
    return 0.0


def score_candidates(question: str, cands: list[Candidate], embedder, qvec: np.ndarray | None = None) -> None:
    """Fill ``dense``, ``overlap`` and ``score`` of each candidate in place."""
    if not cands:
        return
    if qvec is None:
        qvec = embedder.embed([question])[0]
    vecs = embedder.embed([c.text for c in cands])
    dense = vecs @ qvec
    terms = set(question_terms(question))
    for c, d in zip(cands, dense):
        toks = set(lexical_tokens(c.text))
        c.dense = float(d)
        c.overlap = len(terms & toks) / len(terms) if terms else 0.0
        c.score = 0.6 * c.dense + 0.4 * c.overlap - 0.01 * c.hit_rank + answer_type_bonus(question, c.text)


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
