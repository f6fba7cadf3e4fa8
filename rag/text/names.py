"""Names: capitalised words and runs of them."""

from __future__ import annotations

import re

_NAME = re.compile(r"(?<![\w'’])([A-Z][a-zA-Z’'-]+)")
_NOT_NAMES = {
    "The",
    "A",
    "An",
    "He",
    "She",
    "It",
    "They",
    "This",
    "That",
    "These",
    "Those",
    "In",
    "On",
    "At",
    "As",
    "But",
    "And",
    "Or",
    "If",
    "When",
    "While",
    "After",
    "Before",
    "During",
    "I",
    "We",
    "You",
    "His",
    "Her",
    "Their",
    "Its",
    "There",
    "Some",
    "Many",
    "According",
    "Yes",
    "No",
    "Not",
    "Both",
    "Also",
    "However",
    "So",
    "Then",
    "To",
    "For",
    "Of",
    "With",
    "By",
    "From",
}

_FULL_NAME = re.compile(r"\b[A-Z][a-z]+(?:\s+[A-Z][a-z]+)+")
_TITLE = re.compile(r"\b(?:Rep|Sen|Gov|Dr|Mr|Mrs|Ms|St)\.\s$")
# Titles that open a run of capitals without being part of the name ("President Trump").
_TITLE_WORDS = {"President", "Former", "Vice", "Governor", "Senator", "Judge", "Chairman", "Commissioner", "Mr", "Dr"}


def names(text: str) -> set[str]:
    """Capitalised words that are not the first word of the text nor function words.

    >>> sorted(names("Musk told Trump on X that Harris lost."))
    ['Harris', 'Trump', 'X']
    >>> sorted(names("Only Musk spoke."))
    ['Musk']
    """
    out = set()
    for m in _NAME.finditer(text):
        if m.start() == 0:
            continue  # a sentence's first word is capitalised anyway
        w = m.group(1).rstrip("’'")
        if w.endswith(("’s", "'s")):
            w = w[:-2]
        if w and w not in _NOT_NAMES:
            out.add(w)
    # Single capital letters other than I (e.g. "X") are names too.
    out |= {w for w in re.findall(r"\b[A-Z]\b", text) if w not in {"I", "A"}}
    return out


def full_names(text: str) -> list[str]:
    """Runs of two or more capitalised words that do not open a sentence (a title may
    precede them: "Rep. Jerry Nadler"; a title word is not part of the name).

    >>> full_names("On Monday, Rep. Jerry Nadler met Jim Jordan. Then Fox News called.")
    ['Jerry Nadler', 'Jim Jordan']
    >>> full_names("he said of President Trump and President Joe Biden.")
    ['Joe Biden']
    """
    out = []
    for m in _FULL_NAME.finditer(text):
        before = text[: m.start()]
        opens = not before.strip() or before.rstrip()[-1] in '.!?“"' and not _TITLE.search(before)
        words = m.group(0).split()
        while words and words[0] in _TITLE_WORDS:
            words = words[1:]
        if not opens and len(words) >= 2:
            out.append(" ".join(words))
    return out
