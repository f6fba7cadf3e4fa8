"""What a model's reply sentence is: a refusal, a remark about the passages, or an
answer wrapped in what small models put around a copied passage."""

from __future__ import annotations

import re

from rag.text import lexical_tokens, numbers, suffix_fold

NOT_IN_ARTICLES = re.compile(r"not in (the )?articles|do(es)? not (say|contain|mention)|no information", re.I)
# A sentence about the passages ("The passage about Trump joked ...") is not an answer,
# even when its words are the passage's.
# ("The passage of the bill" is a fact, so "passage of" is left alone.)
ABOUT_PASSAGES = re.compile(r"\b(the|this|these|that|each|both) passages?\b(?! of\b)", re.I)

_LEAD_IN = re.compile(r"^(the )?answer( is)?\s*[:\-]\s*|^according to the passages?,?\s*", re.I)
_SOURCE_TAG = re.compile(r"^\([^()]{0,80}\)\s*")


_SPACED_CLOCK = re.compile(r"\b([ap])\. ?m\.", re.I)


def tidy_sentence(sent: str) -> str:
    """Strip what small models wrap around a copied passage: a lead-in, a source tag,
    quotes; write a time of day as the articles do ("8 p. m." as "8 p.m.").

    >>> tidy_sentence('The answer is: (The Post) "It began late."')
    'It began late.'
    >>> tidy_sentence("8 p. m. Eastern Time.")
    '8 p.m. Eastern Time.'
    """
    s = _SPACED_CLOCK.sub(lambda m: f"{m.group(1)}.m.", sent.strip())
    s = _LEAD_IN.sub("", s)
    s = _SOURCE_TAG.sub("", s).strip()
    if len(s) > 2 and s[0] in '"“' and s.count(s[0]) + s.count("”") >= 2 and s[-1] in '"”.':
        inner = s[1:].rstrip(".").rstrip('"”')
        if '"' not in inner and "“" not in inner and "”" not in inner:
            s = inner if inner.endswith((".", "!", "?")) else inner + "."
    return s.strip()


_WH = re.compile(r"\b(who|whom|whose|what|which|when|where|why|how)\b", re.I)


def restates_only(sentence: str, question: str) -> bool:
    """Does ``sentence`` only say again what a who / what / when ... question asks, adding
    no word or figure of its own? Such a reply answers nothing, however well its words
    stand in the passage. (A yes / no question may be answered in its own words.)

    >>> q = "What is the name of the Brazilian judge Musk clashed with over censorship?"
    >>> restates_only("The Brazilian judge Musk clashed with over censorship.", q)
    True
    >>> restates_only("Musk clashed with Brazilian judge Alexandre de Moraes over censorship.", q)
    False
    >>> restates_only("Trump mocked the launch at the time.", "How did Trump mock the launch at the time?")
    True
    >>> restates_only("Musk blamed a DDoS attack.", "Did Musk blame a DDoS attack?")
    False
    """
    if not _WH.search(question):
        return False
    asked = {suffix_fold(w) for w in lexical_tokens(question)}
    said = {suffix_fold(w) for w in lexical_tokens(sentence)}
    return said <= asked and numbers(sentence) <= numbers(question)
