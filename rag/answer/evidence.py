"""Evidence selection: the sentences of the retrieved chunks that bear on the question.

Each retrieved chunk is split into sentences (offsets into the article text), the
sentences are scored against the question (embedding similarity plus content-word
overlap) and the best few become the numbered passages ``[1]..[n]``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import numpy as np

from rag.answer.questions import SAY_Q, WHO_Q, answer_type_bonus
from rag.text import evidence_spans, lexical_tokens
from rag.text import suffix_fold as fold
from rag.tuning import CONTEXT_PENALTY, QUOTE_BONUS
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
    lead: Candidate | None = None  # the sentence before it, when the two scored together


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
        for s, e in evidence_spans(h.text):
            key = (h.article_id, h.start + s)
            if key in seen:
                continue
            seen.add(key)
            out.append(Candidate(r, h, h.start + s, h.start + e, h.text[s:e]))
    return out


# A sentence that leans on the one before it: it opens on a quote or a pronoun.
# (Not "But" or "And": such a sentence usually names its own subject.)
_CONTINUES = re.compile(r"^[\"“‘']|^(He|She|It|They|His|Her|Its|Their|This|That|These|Those|Some)\b")
_QUOTE = re.compile(r"[\"“”]")


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
    say = bool(SAY_Q.search(question)) and not WHO_Q.search(question) and "name" not in question.lower()

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
            together = combined(pair_dense, toks[i] | toks[j], c) - CONTEXT_PENALTY
            if together > c.score:
                c.score, c.lead = together, cands[j]
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


def with_leads(chosen: list[Candidate]) -> list[Candidate]:
    """Each chosen sentence that was chosen with the one before it ("He won by 23
    seconds." after "Contador won the Tour.") shown with it, as one span of the article,
    unless that sentence is chosen too: alone, "He" names no one.

    >>> h = Hit("c", "a", "a.txt", "", "", "", "Contador won the Tour. He won by 23 seconds.", 100, 144, 1.0)
    >>> lead, c = Candidate(0, h, 100, 122, h.text[:22]), Candidate(0, h, 123, 144, h.text[23:])
    >>> c.lead = lead
    >>> [(x.text, x.start, x.end) for x in with_leads([c])]
    [('Contador won the Tour. He won by 23 seconds.', 100, 144)]
    >>> [x.text for x in with_leads([c, lead])]
    ['He won by 23 seconds.', 'Contador won the Tour.']
    """
    out = []
    for c in chosen:
        lead = c.lead
        if lead is None or any(lead is x for x in chosen) or lead.hit.article_id != c.hit.article_id:
            out.append(c)
            continue
        holder = next((h.hit for h in (c, lead) if h.hit.start <= lead.start and c.end <= h.hit.end), None)
        if holder is None:
            out.append(c)
            continue
        text = holder.text[lead.start - holder.start : c.end - holder.start]
        out.append(replace(c, start=lead.start, text=text, lead=None))
    return out


def format_passages(passages: list[Passage]) -> str:
    """Passages as the prompt shows them: the number, then the quoted sentence.

    Sources are left out on purpose: the model copies whatever it sees, and a
    shorter prompt is a faster answer on a CPU.

    >>> p = Passage(1, "a", "f.txt", "T", "The Post", "2024-08-13", "It began late.", 0, 14)
    >>> format_passages([p])
    '[1] "It began late."'
    """
    return "\n".join(f'[{p.n}] "{p.text}"' for p in passages)
