"""Altered claims: a real sentence with one change, which verification must reject.

Every rule is a pure function ``(sentence, article, rng) -> str | None`` (None when
the rule does not apply to the sentence); ``rng`` is a seeded ``random.Random``,
so the same seed gives the same claims.
"""

from __future__ import annotations

import random
import re
from functools import cache

from rag.answer.lexicon import _rows, irregular
from rag.devtools.claim_text import (
    MONTHS,
    NAME_SPAN,
    NEG_MARK,
    SPEAKER_AFTER,
    SPEAKER_BEFORE,
    WEEKDAYS,
    WORDS,
    Article,
    initials,
    is_entity,
    name_spans,
    replace_at,
    verbish,
)

_AUXES = r"is|are|was|were|has|have|had|will|would|can|could|should|must|may|might"


def base_form(verb: str) -> str:
    """The base form of a past tense, for 'did not ...'.

    >>> [base_form(v) for v in ["blamed", "walked", "stopped", "carried", "said", "agreed", "added"]]
    ['blame', 'walk', 'stop', 'carry', 'say', 'agree', 'add']
    """
    if verb in irregular():
        return irregular()[verb]
    if verb.endswith("ied"):
        return verb[:-3] + "y"
    stem = verb[:-2] if verb.endswith("ed") else verb[:-1]
    if re.search(r"[^aeiou][aeiou]([^aeiouylsfz])\1$", stem):
        return stem[:-1]  # "stopped", but "added"
    if verb.endswith("eed"):
        return verb[:-1]
    if re.search(r"(at|iz|is|iv|ag|ur|ar|bl|pl|us|ut|ov|am|im|um|ss|c|g|v|z)$", stem) and not stem.endswith("ss"):
        return stem + "e" if not stem.endswith("e") else stem
    return stem


def negation(sentence: str, article: Article, rng: random.Random) -> str | None:
    """Remove the sentence's first negation, or negate its first auxiliary or past-tense verb."""
    m = re.search(r"\b(\w+)n't\b", sentence)
    if m:
        base = {"ca": "can", "wo": "will", "do": "do"}.get(m.group(1), m.group(1))
        return replace_at(sentence, m.start(), m.end(), base)
    m = re.search(r"\b(not|never) ", sentence)
    if m and not re.match(r"(not|never) (only|just|least)\b", sentence[m.start() :]):
        return replace_at(sentence, m.start(), m.end(), "")
    if NEG_MARK.search(sentence):
        return None  # a negation this rule cannot take out cleanly
    m = re.search(rf"(?<=\w )({_AUXES})\b(?! (?:not|only|just|but|also)\b)(?= [\w“\"])", sentence)
    if m:
        return replace_at(sentence, m.end(), m.end(), " not")
    past = set(irregular()) - {"left", "found", "led", "read", "set", "put", "cut", "hit", "let"}
    for m in re.finditer(r"(?<=[a-z] )([a-z]+)\b", sentence):
        w = m.group(1)
        before = sentence[: m.start()].split()[-1].lower()
        if (w.endswith("ed") and len(w) > 4 or w in past) and before not in ("the", "a", "an", "been", "be", "was"):
            return replace_at(sentence, m.start(), m.end(), "did not " + base_form(w))
    return None


_SWAPS = [
    ("more than", "less than"),
    ("less than", "more than"),
    ("fewer than", "more than"),
    ("at least", "at most"),
    ("at most", "at least"),
    ("up to", "at least"),
    ("all", "some"),
    ("most", "least"),
    ("many", "few"),
    ("majority", "minority"),
    ("minority", "majority"),
    ("before", "after"),
    ("after", "before"),
    ("above", "below"),
    ("below", "above"),
]


def quantifier(sentence: str, article: Article, rng: random.Random) -> str | None:
    """Flip one quantifier or comparison: 'more than' -> 'less than', 'all' -> 'some',
    'over 40' -> 'under 40'."""
    hits = []
    for old, new in _SWAPS:
        hits += [(m.start(), m.end(), new) for m in re.finditer(rf"(?<![\w-]){old}(?![\w-])", sentence)]
    hits += [(m.start(), m.start() + 4, "under") for m in re.finditer(r"(?<![\w-])over (?=[$£€]?\d)", sentence)]
    hits += [(m.start(), m.start() + 5, "over") for m in re.finditer(r"(?<![\w-])under (?=[$£€]?\d)", sentence)]
    if not hits:
        return None
    start, end, new = rng.choice(sorted(hits))
    return replace_at(sentence, start, end, new)


@cache
def _past_forms() -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for form, base in irregular().items():
        forms = out.setdefault(base, {})
        forms.setdefault("ed", form)
        forms["en"] = form
    return out


def _forms(base: str, cls: str) -> dict[str, str]:
    """Inflected forms of a word by tag: base, s, ed, en, ing (verbs) or base, s (others)."""
    plural = (
        base + "es"
        if re.search(r"(s|sh|ch|x|z)$", base)
        else base[:-1] + "ies"
        if re.search(r"[^aeiou]y$", base)
        else base + "s"
    )
    if cls != "verb":
        return {"base": base, "s": plural}
    inv = _past_forms().get(base, {})
    cvc = len(base) <= 4 and re.search(r"[^aeiou][aeiou][^aeiouwxy]$", base)
    stem = base + base[-1] if cvc else base
    ed = stem + "ed" if not base.endswith("e") else base + "d"
    ed = base[:-1] + "ied" if re.search(r"[^aeiou]y$", base) else ed
    ing = (base[:-1] if base.endswith("e") and not base.endswith("ee") else stem) + "ing"
    return {"base": base, "s": plural, "ed": inv.get("ed", ed), "en": inv.get("en", inv.get("ed", ed)), "ing": ing}


@cache
def _opposite_forms() -> dict[str, tuple[int, str]]:
    """Word form -> (class rank, the opposite in the same form), from the package list."""
    rank = {"verb": 0, "adj": 1, "noun": 2}
    out: dict[str, tuple[int, str]] = {}
    for a, b, cls in _rows():
        if cls == "quant":
            continue
        for word, opp in ((a, b), (b, a)):
            theirs = _forms(opp, cls)
            for tag, form in _forms(word, cls).items():
                out.setdefault(form, (rank[cls], theirs.get(tag, opp)))
    return out


def antonym(sentence: str, article: Article, rng: random.Random) -> str | None:
    """Replace the first verb (else adjective, else noun) that has an opposite in the
    package's list with that opposite, inflected alike."""
    table = _opposite_forms()
    hits = [(table[m.group()][0], m.start(), m.end()) for m in WORDS.finditer(sentence) if m.group() in table]
    if not hits:
        return None
    _, start, end = min(hits)
    return replace_at(sentence, start, end, table[sentence[start:end]][1])


def _numbers(sentence: str) -> list[re.Match]:
    return list(re.finditer(r"(?<![\w.,/-])\d[\d,]*(?:\.\d+)?(?![\w/-]|[.,]\d)", sentence))


def _is_date_number(sentence: str, m: re.Match) -> bool:
    near = sentence[max(0, m.start() - 12) : m.end() + 12]
    value = m.group().replace(",", "")
    return bool(re.fullmatch(r"(18|19|20)\d\d", value)) or any(mo in near for mo in MONTHS)


def _changed(value: str, rng: random.Random) -> str:
    """Another figure written the same way: '40' -> '45', '1.1' -> '1.4', '1,100' -> '1,650'.

    >>> _changed("40", random.Random(1)) != "40"
    True
    """
    if "." in value:
        whole, frac = value.split(".")
        digit = (int(frac[-1]) + rng.randint(1, 8)) % 10
        return f"{whole}.{frac[:-1]}{digit}"
    n = int(value.replace(",", ""))
    m = n + rng.choice([1, 2, 3, 5]) if n < 20 else round(n * rng.choice([1.5, 2, 0.5, 3]))
    m = m if m != n else n + 1
    return f"{m:,}" if "," in value else str(m)


_WORD_NUMBERS = "two three four five six seven eight nine ten eleven twelve".split()


def number(sentence: str, article: Article, rng: random.Random) -> str | None:
    """Change one figure that is not a date (a digit figure or a number word)."""
    nums = [m for m in _numbers(sentence) if not _is_date_number(sentence, m)]
    if nums:
        m = rng.choice(nums)
        return replace_at(sentence, m.start(), m.end(), _changed(m.group(), rng))
    words = list(re.finditer(rf"\b({'|'.join(_WORD_NUMBERS)})\b", sentence))
    if not words:
        return None
    m = rng.choice(words)
    other = rng.choice([w for w in _WORD_NUMBERS if w != m.group()])
    return replace_at(sentence, m.start(), m.end(), other)


_UNIT_GROUPS = [
    ["seconds", "minutes", "hours", "days", "weeks", "months", "years"],
    ["second", "minute", "hour", "day", "week", "month", "year"],
    ["thousand", "million", "billion"],
    ["kilometres", "miles", "metres"],
    ["kilometers", "miles", "meters"],
    ["kilograms", "pounds", "tonnes"],
    ["dollars", "euros", "pounds"],
]


def unit(sentence: str, article: Article, rng: random.Random) -> str | None:
    """Change the unit or scale after a figure ('40 minutes' -> '40 hours'), or its currency."""
    hits = []
    for group in _UNIT_GROUPS:
        for u in group:
            for m in re.finditer(rf"(?<=\d )(?:(?:thousand|million|billion) )?({u})\b", sentence):
                hits.append((m.start(1), m.end(1), rng.choice([g for g in group if g != u])))
    for m in re.finditer(r"[$£€](?=\d)", sentence):
        hits.append((m.start(), m.end(), rng.choice([c for c in "$£€" if c != m.group()])))
    if not hits:
        return None
    start, end, new = rng.choice(sorted(set(hits)))
    return replace_at(sentence, start, end, new)


def date(sentence: str, article: Article, rng: random.Random) -> str | None:
    """Change a weekday, else a month, else a year."""
    for names in (WEEKDAYS, MONTHS):
        hits = [m for n in names for m in re.finditer(rf"\b{n}\b", sentence)]
        if hits:
            m = rng.choice(hits)
            return replace_at(sentence, m.start(), m.end(), rng.choice([n for n in names if n != m.group()]))
    years = [m for m in _numbers(sentence) if re.fullmatch(r"(19|20)\d\d", m.group())]
    if not years:
        return None
    m = rng.choice(years)
    return replace_at(sentence, m.start(), m.end(), str(int(m.group()) + rng.choice([-3, -2, -1, 1, 2, 3])))


def _speaker_slots(sentence: str) -> list[tuple[int, int]]:
    slots = [m.span(1) for pat in (SPEAKER_AFTER, SPEAKER_BEFORE) for m in pat.finditer(sentence)]
    return [s for s in slots if is_entity(sentence[s[0] : s[1]])]


def entity(sentence: str, article: Article, rng: random.Random) -> str | None:
    """Replace a name (not a speaker) with another name of the same article."""
    slots = _speaker_slots(sentence)
    spans = [(a, b) for a, b in name_spans(sentence) if not any(x <= a < y for x, y in slots)]
    words = {w for m in NAME_SPAN.finditer(sentence) for w in re.split(r"[\s-]+", m.group())}
    others = [e for e in article.entities if not set(re.split(r"[\s-]+", e)) & words]
    if not spans or not others:
        return None
    start, end = rng.choice(spans)
    others = [e for e in others if _spelling(e) != _spelling(sentence[start:end])]  # "U.S" is "US"
    return replace_at(sentence, start, end, rng.choice(others)) if others else None


def _spelling(name: str) -> str:
    return re.sub(r"[.\s]", "", name).lower()


def attribution(sentence: str, article: Article, rng: random.Random) -> str | None:
    """Give what is said to another speaker of the same article."""
    slots = _speaker_slots(sentence)
    words = {w for m in NAME_SPAN.finditer(sentence) for w in m.group().split()}
    others = [s for s in article.speakers if not set(s.split()) & words]
    if not slots or not others:
        return None
    start, end = rng.choice(slots)
    return replace_at(sentence, start, end, rng.choice(others))


_ROLE = re.compile(
    rf"({NAME_SPAN.pattern})((?:\s+(?!and\b|or\b|of\b|nor\b|with\b)[a-z]+){{1,3}}\s+(?:the\s+)?)({NAME_SPAN.pattern})(?!['’]s)"
)


def roles(sentence: str, article: Article, rng: random.Random) -> str | None:
    """Swap the names on either side of a verb: 'Evans beat Contador' -> 'Contador beat Evans'."""
    for m in _ROLE.finditer(sentence):
        a, mid, b = m.group(1), m.group(2), m.group(3)
        if not (is_entity(a) and is_entity(b)) or a == b or not verbish().search(mid):
            continue
        if initials(a) == b.replace(".", "") or initials(b) == a.replace(".", ""):
            continue  # "the IOC" and "the International Olympic Committee" are one
        return replace_at(sentence, m.start(), m.end(), b + mid + a)
    return None
