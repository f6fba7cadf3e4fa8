"""Words: normalisation, content words, lexical tokens, word folds and numbers."""

from __future__ import annotations

import re

_QUOTES = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "–": "-", "—": "-"})
_GOLD_QUOTES = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"'})


def normalise(text: str) -> str:
    """Lowercase, straighten quotes, drop punctuation but keep numbers like 1.1, 51.8%, $44.

    Exactly the rule the eval gold set uses (evals/README.md and ``normalise`` in
    tests/test_gold.py): every character that is neither alphanumeric nor one of
    ``.%$`` becomes a space, and trailing dots are stripped from each token.

    >>> normalise("Only 1.1 million were “listening”, it’s $44 billion.")
    'only 1.1 million were listening it s $44 billion'
    >>> normalise("£35.5 … 8 p.m. 400,000")
    '35.5 8 p.m 400 000'
    """
    text = text.lower().translate(_GOLD_QUOTES)
    text = "".join(ch if (ch.isalnum() or ch in ".%$") else " " for ch in text)
    tokens = (t.rstrip(".") for t in text.split())
    return " ".join(t for t in tokens if t)


STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been
    before being below between both but by can could did do does doing down during each
    few for from further had has have having he her here hers herself him himself his how
    i if in into is it its itself just me more most my myself no nor not now of off on
    once only or other our ours out over own same she should so some such than that the
    their theirs them themselves then there these they this those through to too under
    until up very was we were what when where which while who whom why will with would
    you your yours s t don didn doesn isn wasn weren won say said says tell told according
    did does many much one also""".split()
)

_DASHES = re.compile(r"[-–—](?!\d)")
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9.'’%$-]*[A-Za-z0-9%]|[A-Za-z0-9$]")


def content_words(text: str) -> list[str]:
    """Lowercased content words (stopwords removed), numbers kept.

    >>> content_words("How many people were listening to Trump's claim of 60 million?")
    ['people', 'listening', 'trump', 'claim', '60', 'million']
    """
    out = []
    # Dashes join compounds ("Trump–Musk", "denial-of-service"): index the parts.
    for w in _WORD.findall(_DASHES.sub(" ", text.translate(_QUOTES))):
        w = w.lower()
        if w.endswith("'s"):
            w = w[:-2]
        if w and w not in STOPWORDS:
            out.append(w)
    return out


_NUM = re.compile(r"\d[\d,]*(?:\.\d+)?")


def numbers(text: str) -> set[str]:
    """Numbers written with digits, commas removed.

    >>> sorted(numbers("1,100 of 60 million, 51.8%"))
    ['1100', '51.8', '60']
    """
    return {m.group().replace(",", "").rstrip(".") for m in _NUM.finditer(text)}


_SPACE = re.compile(r"\s+")


def collapse_space(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


def lexical_tokens(text: str) -> list[str]:
    """Content words with a light plural fold, so 'listeners' meets 'listener'.

    >>> lexical_tokens("The listeners heard 1.1 million")
    ['listener', 'heard', '1.1', 'million']
    """
    out = []
    for w in content_words(text):
        if len(w) > 4 and w.endswith("s") and not w.endswith("ss") and w.isalpha():
            w = w[:-1]
        out.append(w)
    return out


def suffix_fold(word: str) -> str:
    """A crude suffix fold for matching a question's words with a sentence's
    ("lasted" meets "last", "described" meets "describe").

    >>> [suffix_fold(w) for w in ["lasted", "last", "described", "describe", "endorsing", "cut"]]
    ['last', 'last', 'describ', 'describ', 'endors', 'cut']
    """
    for suffix in ("ing", "ed", "es", "e"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


def unit_fold(w: str) -> str:
    """A word as a unit name: lowercased, punctuation stripped, a plural folded.

    >>> unit_fold("Followers,"), unit_fold("glass")
    ('follower', 'glass')
    """
    w = w.lower().strip(".,;:“”\"'’()")
    if len(w) > 3 and w.endswith("s") and not w.endswith("ss"):
        w = w[:-1]
    return w


_UNITS = "two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen".split()
_TENS = "twenty thirty forty fifty sixty seventy eighty ninety".split()
_WORD_VALUE = {w: i + 2 for i, w in enumerate(_UNITS)} | {w: 20 + 10 * i for i, w in enumerate(_TENS)}
_NUMBER_WORD = re.compile(
    r"\b(" + "|".join(_TENS) + r")(?:[-\s](one|" + "|".join(_UNITS[:8]) + r"))?\b|\b(" + "|".join(_UNITS) + r")\b",
    re.I,
)
_ONES = {"one": 1} | {w: i + 2 for i, w in enumerate(_UNITS[:8])}


def digits_for_number_words(text: str) -> str:
    """Cardinal number words from two to ninety-nine written as digits, so
    "Fifty-two people" and "52 people" compare equal. "one" stays a word (it is
    too often not a count: "one of", "no one").

    >>> digits_for_number_words("Fifty-two people died and fifteen were hurt; one of them twice.")
    '52 people died and 15 were hurt; one of them twice.'
    >>> digits_for_number_words("twenty one boats, Ninety nine days")
    '21 boats, 99 days'
    """

    def value(m: re.Match) -> str:
        if m.group(3):
            return str(_WORD_VALUE[m.group(3).lower()])
        tens = _WORD_VALUE[m.group(1).lower()]
        return str(tens + (_ONES[m.group(2).lower()] if m.group(2) else 0))

    return _NUMBER_WORD.sub(value, text)
