"""Answers copied from a passage: a grammar that lets the model write only a run of
one passage's own words, and turning such a reply into a cited answer.

The reader's free sentence is dropped when verification cannot find its words in
the passages (it restated the question, or wrote "52" for "Fifty-two"). The reader
is then asked once more, under :func:`span_grammar`, to copy the words that answer:
the reply is the passage number and consecutive words of that passage, so what it
shows is the passage's text, and verification still checks it like any sentence.
"""

from __future__ import annotations

import re

from rag.types import Passage


def _literal(word: str) -> str:
    return '"' + word.replace("\\", "\\\\").replace('"', '\\"') + '"'


def span_grammar(passages: list[Passage]) -> str:
    """GBNF for one or more consecutive words of passage n, then " [n]".

    Each word position i of a passage gets a rule "word_i, then optionally the rule
    of position i+1", so a reply may start at any word and stop after any word; the
    first word is the model's choice of where the answer starts.

    >>> p = [Passage(2, "a", "f", "", "", "", 'Fifty-two "died".', 0, 17)]
    >>> print(span_grammar(p))
    root ::= p2 " [2]"
    p2 ::= p2w0 | p2w1
    p2w0 ::= "Fifty-two" (" " p2w1)?
    p2w1 ::= "\\"died\\"."
    """
    roots, rules = [], []
    for p in passages:
        words = p.text.split()
        if not words:
            continue
        roots.append(f'p{p.n} " [{p.n}]"')
        rules.append(f"p{p.n} ::= " + " | ".join(f"p{p.n}w{i}" for i in range(len(words))))
        for i, w in enumerate(words):
            tail = f' (" " p{p.n}w{i + 1})?' if i + 1 < len(words) else ""
            rules.append(f"p{p.n}w{i} ::= {_literal(w)}{tail}")
    return "\n".join(["root ::= " + " | ".join(roots), *rules])


_TAIL = re.compile(r"\s*\[(\d+)\]\s*$")


def as_answer(reply: str) -> tuple[str, list[int]] | None:
    """A grammar reply ("words [n]") as (phrase, [n]), the phrase's trailing commas trimmed;
    None for a reply cut before its citation or with no word.

    >>> as_answer('15 billion lei, [3]')
    ('15 billion lei', [3])
    >>> as_answer('“stingy” [1]')
    ('“stingy”', [1])
    >>> as_answer(', [2]') is None, as_answer('15 billion lei, or the') is None
    (True, True)
    """
    m = _TAIL.search(reply)
    if not m:
        return None
    phrase = re.sub(r"[\s,;:]+$", "", reply[: m.start()].strip())
    if not re.search(r"\w", phrase):
        return None
    return phrase, [int(m.group(1))]
