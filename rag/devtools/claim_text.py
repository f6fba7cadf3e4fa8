"""What the claim rules share: names, speakers and the article they come from."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache

from rag.answer.lexicon import irregular
from rag.text import STOPWORDS

_NAME = r"[A-ZÀ-Þ](?:[^\W\d_]|[.-](?=[^\W\d_])|['’](?!s\b))*[^\W\d_]"
NAME_SPAN = re.compile(rf"(?<![\w'’-])(?:{_NAME})(?:\s+(?:(?:da|de|del|van|von|al|bin) )?(?:{_NAME}))*(?![\w'’-])")
_SAY = r"said|says|told|added|wrote|stated|explained|announced|insisted|warned|argued"
SPEAKER_AFTER = re.compile(rf"\b(?:{_SAY}|according to)\s+(?:(?:Mr|Mrs|Ms|Dr)\.?\s+)?({NAME_SPAN.pattern})")
SPEAKER_BEFORE = re.compile(rf"({NAME_SPAN.pattern})\s+(?:{_SAY})\b")
NOT_ENTITIES = set(
    "The A An He She It They This That These Those In On At As But And Or If When While After Before During I We "
    "You His Her Their Its There Some Many Mr Mrs Ms Dr President Sen Gov However According So Then Also".split()
)
WEEKDAYS = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split()
MONTHS = "January February March April May June July August September October November December".split()
WORDS = re.compile(r"(?<![\w'’-])[a-z]+(?![\w'’-])")
NEG_MARK = re.compile(r"\b(not|never|no|n't|without|nor|neither|none|nothing|denied|refused|failed)\b", re.I)


@dataclass
class Article:
    id: str
    text: str
    entities: list[str] = field(default_factory=list)  # capitalised spans written inside a sentence
    speakers: list[str] = field(default_factory=list)  # names in an attribution ("said Costello")


def is_entity(span: str) -> bool:
    words = span.split()
    return not (
        words[0] in NOT_ENTITIES
        or words[0].lower() in STOPWORDS
        or span[-2:] in ("'s", "’s")
        or any(w in MONTHS or w in WEEKDAYS for w in words)
    )


def name_spans(text: str) -> list[tuple[int, int]]:
    """Spans of capitalised names not at a sentence start, leading function words cut off.

    >>> t = "Then Evans met Bush. The Senate agreed."
    >>> [t[a:b] for a, b in name_spans(t)]
    ['Evans', 'Bush', 'Senate']
    """
    out = []
    for m in NAME_SPAN.finditer(text):
        start, span = m.start(), m.group()
        while span.split()[0] in NOT_ENTITIES or span.split()[0].lower() in STOPWORDS:
            cut = span.find(" ")
            if cut < 0:
                break
            start, span = start + cut + 1, span[cut + 1 :]
        before = text[:start].rstrip()
        if before and before[-1] not in '.!?\n"“:' and is_entity(span):
            out.append((start, start + len(span)))
    return out


def article_entities(text: str) -> list[str]:
    """Distinct capitalised spans not at a sentence start, in order of first use.

    >>> article_entities("Evans beat Alberto Contador. Then Evans met Bush.")
    ['Alberto Contador', 'Evans', 'Bush']
    """
    return list(dict.fromkeys(text[a:b] for a, b in name_spans(text)))


def article_speakers(text: str) -> list[str]:
    """Names that say something somewhere in the article.

    >>> article_speakers('"No," said Joseph Costello. Harris said yes. It rained.')
    ['Joseph Costello', 'Harris']
    """
    found = [(m.start(1), m.group(1)) for pat in (SPEAKER_AFTER, SPEAKER_BEFORE) for m in pat.finditer(text)]
    return list(dict.fromkeys(n for _, n in sorted(found) if is_entity(n)))


def replace_at(sentence: str, start: int, end: int, new: str) -> str:
    return sentence[:start] + new + sentence[end:]


def initials(span: str) -> str:
    return "".join(w[0] for w in span.split() if w[0].isupper())


@cache
def verbish() -> re.Pattern:
    past = sorted(
        (set(irregular()) | set(irregular().values()))
        - {"be", "was", "were", "been", "have", "had", "do", "did", "done"}
    )
    return re.compile(r"\b(?!(?:is|was|has|does|as|his|its|this|thus|us|plus)\b)(\w+ed|\w+s|" + "|".join(past) + r")\b")
