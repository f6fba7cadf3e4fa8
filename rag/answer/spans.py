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
    """GBNF for "[n] " followed by one or more consecutive words of passage n.

    Each word position i of a passage gets a rule "word_i, then optionally the rule
    of position i+1", so a reply may start at any word and stop after any word.

    >>> p = [Passage(2, "a", "f", "", "", "", 'Fifty-two "died".', 0, 17)]
    >>> print(span_grammar(p))
    root ::= "[2] " p2
    p2 ::= p2w0 | p2w1
    p2w0 ::= "Fifty-two" (" " p2w1)?
    p2w1 ::= "\\"died\\"."
    """
    roots, rules = [], []
    for p in passages:
        words = p.text.split()
        if not words:
            continue
        roots.append(f'"[{p.n}] " p{p.n}')
        rules.append(f"p{p.n} ::= " + " | ".join(f"p{p.n}w{i}" for i in range(len(words))))
        for i, w in enumerate(words):
            tail = f' (" " p{p.n}w{i + 1})?' if i + 1 < len(words) else ""
            rules.append(f"p{p.n}w{i} ::= {_literal(w)}{tail}")
    return "\n".join(["root ::= " + " | ".join(roots), *rules])


_HEAD = re.compile(r"^\s*\[(\d+)\]\s*")


def as_answer(reply: str) -> tuple[str, list[int]] | None:
    """A grammar reply ("[n] words") as (phrase, [n]), the phrase's edge punctuation trimmed.

    >>> as_answer('[3] 15 billion lei, or')
    ('15 billion lei, or', [3])
    >>> as_answer('[1] “stingy” by')
    ('“stingy” by', [1])
    >>> as_answer('[2] ,') is None, as_answer('no marker') is None
    (True, True)
    """
    m = _HEAD.match(reply)
    if not m:
        return None
    phrase = reply[m.end() :].strip()
    phrase = re.sub(r"[\s,;:]+$", "", phrase)
    if not re.search(r"\w", phrase):
        return None
    return phrase, [int(m.group(1))]
