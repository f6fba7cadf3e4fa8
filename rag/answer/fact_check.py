"""Fact-check one claim against the articles: retrieve evidence for it as for a
question, then judge it against each evidence passage with the verifier
(:func:`rag.answer.verify.judge`: the lexical check and the contradiction rules).

Verdicts:

- ``supported``: a passage states it (the citations are those passages; a passage
  that contradicts it is listed too, with ``supported`` false, and named in the reason);
- ``contradicted``: no passage states it and one states the opposite: a negation,
  another figure, unit or date for the same thing, swapped roles, an antonym,
  a flipped quantifier (the citations are those passages, ``supported`` false);
- ``not_found``: nothing in the articles states it or its opposite (no citations).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rag.answer import evidence as ev
from rag.answer.verify import judge
from rag.errors import RagError
from rag.index.retrieve import Filters, Retriever
from rag.settings import Settings
from rag.types import Citation, Passage

MAX_CLAIM_CHARS = 1000
CHECK_PASSAGES = 8  # evidence sentences each claim is judged against
MAX_CITATIONS = 3


@dataclass
class ClaimCheck:
    claim: str
    verdict: str  # "supported" | "contradicted" | "not_found"
    citations: list[Citation] = field(default_factory=list)
    reason: str = ""

    def to_json(self) -> dict:
        return {
            "claim": self.claim,
            "verdict": self.verdict,
            "citations": [c.to_json() for c in self.citations],
            "reason": self.reason,
        }


def check_claim_text(claim: str) -> str:
    """The claim with its whitespace collapsed, or a one-line error.

    >>> check_claim_text("  Prices  rose. ")
    'Prices rose.'
    """
    text = " ".join((claim or "").split())
    if not text:
        raise RagError("the claim is empty")
    if len(text) > MAX_CLAIM_CHARS:
        raise RagError(f"the claim is {len(text):,} characters long; the limit is {MAX_CLAIM_CHARS:,}")
    return text


def evidence_for(claim: str, retriever: Retriever, embedder, settings: Settings, filters: Filters | None = None):
    """The evidence passages for a claim: the answer pipeline's retrieval and
    sentence scoring, keeping the best :data:`CHECK_PASSAGES`."""
    hits = retriever.search(claim, k=settings.top_k, filters=filters)
    cands = ev.candidates(hits)
    if not cands:
        return []
    ev.score_candidates(claim, cands, embedder, embedder.embed([claim])[0])
    return ev.to_passages(ev.select(cands, max(CHECK_PASSAGES, settings.evidence_n)))


def verdict(claim: str, passages: list[Passage]) -> ClaimCheck:
    """Judge ``claim`` against each passage on its own.

    >>> p = [Passage(1, "a", "a.txt", "T", "O", "", "Shares fell 5% on Monday.", 0, 25)]
    >>> verdict("Shares rose 5% on Monday.", p).verdict
    'contradicted'
    >>> verdict("Shares fell 5% on Monday.", p).verdict
    'supported'
    >>> verdict("The company hired a new chief.", p).to_json()["verdict"]
    'not_found'
    """
    found = [(p, judge(claim, [p])) for p in passages]
    backing = [p for p, f in found if f.ok]
    against = [(p, f) for p, f in found if f.verdict == "contradicted"]
    if backing:
        shown = backing[:MAX_CITATIONS]
        cites = _numbered(shown, True) + _numbered([p for p, _ in against[:1]], False, start=len(shown) + 1)
        reason = f"stated by {_where(backing[0])}"
        if against:
            reason += f"; but {_where(against[0][0])} differs ({against[0][1].reason})"
        return ClaimCheck(claim, "supported", cites, reason)
    if against:
        shown = [p for p, _ in against[:MAX_CITATIONS]]
        return ClaimCheck(claim, "contradicted", _numbered(shown, False), against[0][1].reason)
    nearest = found[0][1].reason if found else "the index holds no passage about it"
    return ClaimCheck(claim, "not_found", [], f"no passage states it or its opposite (best passage: {nearest})")


def _numbered(passages: list[Passage], supported: bool, start: int = 1) -> list[Citation]:
    return [
        Citation(i, p.article_id, p.file, p.title, p.outlet, p.published, p.text, p.start, p.end, supported)
        for i, p in enumerate(passages, start)
    ]


def _where(p: Passage) -> str:
    return p.outlet or p.title or p.file
