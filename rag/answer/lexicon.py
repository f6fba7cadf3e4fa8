"""Word knowledge for the contradiction checks: tokens, stems, opposites, units.

Pure functions over package data (``data/antonyms.tsv``, ``data/irregular_verbs.tsv``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from rag.text import STOPWORDS

DATA = Path(__file__).with_name("data")

NEGATORS = frozenset("not never no none nobody nothing neither nor nowhere without".split())
# Verbs that negate what follows them ("denied blaming", "failed to pay"); see negative_verbs().
NEGATIVE_VERBS_BASE = ("deny", "refuse", "fail", "decline")
NOT_NEGATION = {("not", "only"), ("not", "least"), ("no", "doubt"), ("or", "not")}
# Words that end the reach of a negation ("did not come, but she left").
SCOPE_BREAKS = frozenset(
    list(",;:()")
    + "but and or while although though because which who whom whose that when where if unless whereas".split()
)
# Prepositions end a negation's reach once it has covered a word ("not blame X on Y").
PREPOSITIONS = frozenset("in on at for from to by with after before during since into over under about".split())
# Stop words whose negation still changes a claim ("did not say").
# ("won" is a stop word only for "won't", which tokens() splits into "will not".)
SAY_WORDS = frozenset("say said says tell told tells won".split())
SCALES = {"thousand": "thousand", "million": "million", "billion": "billion", "trillion": "trillion", "%": "%"}
SCALES |= {"bn": "billion", "mn": "million", "mln": "million", "tn": "trillion"}
UNITS = {
    **dict.fromkeys("second minute hour day week month year decade century".split(), "time"),
    **dict.fromkeys("km kilometre kilometer mile metre meter foot feet inch yard".split(), "length"),
    **dict.fromkeys("kg kilogram gram tonne ton ounce lb litre liter gallon barrel".split(), "mass"),
    **dict.fromkeys("dollar euro pound yen yuan rupee franc cent $ £ €".split(), "money"),
    **dict.fromkeys("degree acre hectare".split(), "other"),
}
MONTHS = frozenset("january february march april may june july august september october november december".split())
WEEKDAYS = frozenset("monday tuesday wednesday thursday friday saturday sunday".split())
SAYING = frozenset(
    "said says say told tells according added adds wrote writes stated announced explained asked claimed "
    "insisted argued warned replied tweeted posted noted".split()
)
TITLES = frozenset("mr mrs ms dr president sen senator gov governor rep prime minister general".split())
NUMBER_WORDS = {
    w: str(i)
    for i, w in enumerate(
        "zero _ two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
        "sixteen seventeen eighteen nineteen twenty".split()
    )
    if w != "_"  # "one" is too often no figure ("no one", "one of them")
} | {w: str(10 * i) for i, w in enumerate("_ _ _ thirty forty fifty sixty seventy eighty ninety".split()) if i > 2}

_TOKEN = re.compile(r"[$£€%]|\d[\d,]*(?:\.\d+)?|[A-Za-z](?:[A-Za-z.'-]*[A-Za-z])?|[,;:()\"“”]")
_PUNCT = frozenset(',;:()"“”')
_CONTRACTION = {"ca": "can", "wo": "will", "sha": "shall"}


@dataclass(frozen=True)
class Tok:
    low: str  # lowercased, contractions split, numbers without commas, "percent" -> "%"
    raw: str  # as written
    initial: bool  # first word of the text or of a quotation


def tokens(text: str) -> list[Tok]:
    """Word tokens of one sentence.

    >>> [t.low for t in tokens("Musk didn't blame 1,100 U.S. users (5 per cent) for a ten-hour wait.")]
    ['musk', 'did', 'not', 'blame', '1100', 'us', 'users', '(', '5', '%', ')', 'for', 'a', '10', 'hour', 'wait']
    """
    out: list[Tok] = []
    initial = True
    for m in _TOKEN.finditer(text.replace("’", "'").replace("‘", "'")):
        w = m.group()
        if w in _PUNCT:
            out.append(Tok(w, w, False))
            initial = initial or w in '"“:('
            continue
        parts = [p for p in w.lower().split("-") if p] if "-" in w and not w[:1].isdigit() else [w.lower()]
        named = w[:1].isupper() and len(parts) > 1  # "A-One", "Port-au-Prince": no number words inside
        for low in (x for p in parts for x in (_split_word(p) if not named else [p.strip("'.")])):
            if low == "cent" and out and out[-1].low == "per":
                out[-1] = Tok("%", "per cent", False)
                continue
            out.append(Tok(low, w, initial))
        initial = False
    return out


def _split_word(low: str) -> list[str]:
    low = low.strip("'.")
    if re.fullmatch(r"(?:[a-z]\.)+[a-z]", low):
        return [low.replace(".", "")]  # "U.S." -> "us", as "US" is written too
    if low.endswith("n't"):
        base = low[:-3]
        return [_CONTRACTION.get(base, base), "not"]
    if low == "cannot":
        return ["can", "not"]
    low = re.sub(r"'(s|re|ve|ll|d|m)$", "", low)
    if low == "percent":
        return ["%"]
    if low[:1].isdigit():
        return [low.replace(",", "")]
    return [NUMBER_WORDS.get(low, low)]


@cache
def irregular() -> dict[str, str]:
    """Inflected form -> base form of the irregular verbs in the package data."""
    out: dict[str, str] = {}
    for line in (DATA / "irregular_verbs.tsv").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            base, *forms = line.split("\t")
            out.update({f: base for f in forms if f != base})
    return out


_SHORT = {"dying": "die", "lying": "lie", "tying": "tie"}


@cache
def known_bases() -> frozenset[str]:
    """Base forms the package data names (the opposites list and the irregular verbs)."""
    words = {w for a, b, cls in _rows() for w in (a, b) if cls != "quant"}
    return frozenset(words | set(irregular().values()))


def base(word: str) -> str:
    """The known base form an inflection comes from, else the word itself.

    >>> [base(w) for w in ["succeeded", "agreed", "stopped", "rising", "won", "criticises", "table"]]
    ['succeed', 'agree', 'stop', 'rise', 'win', 'criticise', 'table']
    """
    if word in irregular():
        return irregular()[word]
    for suffix, repl in _SUFFIXES:
        if word.endswith(suffix) and len(word) > len(suffix) + 1:
            cand = word[: -len(suffix)] + repl
            if cand in known_bases():
                return cand
    if re.search(r"([^aeiou])\1(ed|ing)$", word):  # "stopped", "banning"
        cand = re.sub(r"([^aeiou])\1(ed|ing)$", r"\1", word)
        if cand in known_bases():
            return cand
    return word


_SUFFIXES = (("ies", "y"), ("ied", "y"), ("es", ""), ("s", ""), ("ed", ""), ("d", ""), ("ing", ""), ("ing", "e"))


@cache
def stem(word: str) -> str:
    """A crude stem shared by a word's inflections.

    >>> [stem(w) for w in ["rose", "rising", "rises", "criticised", "stopped", "killed", "closes", "added"]]
    ['ris', 'ris', 'ris', 'criticis', 'stop', 'kill', 'clos', 'add']
    >>> stem("agreed") == stem("agree") == stem("agrees"), stem("succeeded") == stem("succeed")
    (True, True)
    """
    w = base(_SHORT.get(word, word))
    cut = w
    if w.endswith(("ies", "ied")) and len(w) == 4:
        cut = w[:-1]  # "died", "lies" -> "die", "lie"
    elif w.endswith(("ies", "ied")) and len(w) > 4:
        cut = w[:-3] + "y"
    elif w.endswith("ing") and len(w) > 5:
        cut = w[:-3]
    elif w.endswith(("eed", "ees")) and len(w) > 4:
        cut = w[:-1]  # "agreed", "agrees" -> "agree"
    elif w.endswith("ed") and len(w) > 4:
        cut = w[:-2]
    elif w.endswith(("ches", "shes", "sses", "xes", "zes")) and len(w) > 4:
        cut = w[:-2]
    elif w.endswith("s") and not w.endswith("ss") and len(w) > 3:
        cut = w[:-1]
    if cut != w and re.search(r"[^aeiou][aeiou]([^aeiouylsfz])\1$", cut):
        cut = cut[:-1]  # "stopped" -> "stop", but "added" -> "add"
    if cut.endswith("e") and len(cut) > 3:
        cut = cut[:-1]
    return cut


@cache
def negative_verbs() -> frozenset[str]:
    """Stems of the verbs that negate what follows them."""
    return frozenset(stem(w) for w in NEGATIVE_VERBS_BASE)


def is_year(low: str) -> bool:
    """Read as a year: four characters opening on 18, 19 or 20 (a figure token).

    >>> is_year("2024"), is_year("1850"), is_year("2500"), is_year("300")
    (True, True, False, False)
    """
    return len(low) == 4 and low[:2] in ("18", "19", "20")


def is_content(low: str) -> bool:
    return low[:1].isalpha() and low not in STOPWORDS and low not in NEGATORS


@cache
def _rows() -> list[tuple[str, str, str]]:
    rows = []
    for line in (DATA / "antonyms.tsv").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            a, b, cls = line.split("\t")
            rows.append((a, b, cls))
    return rows


@cache
def opposites() -> dict[str, frozenset[str]]:
    """Stem -> stems of its opposites (verbs, adjectives, nouns)."""
    out: dict[str, set[str]] = {}
    for a, b, cls in _rows():
        if cls != "quant":
            out.setdefault(stem(a), set()).add(stem(b))
            out.setdefault(stem(b), set()).add(stem(a))
    return {k: frozenset(v) for k, v in out.items()}


@cache
def quantifier_pairs() -> tuple[tuple[str, str], ...]:
    """Quantifier and comparison phrases with their flips, both ways round, longest first."""
    pairs = [(a, b) for a, b, cls in _rows() if cls == "quant"]
    both = pairs + [(b, a) for a, b in pairs]
    return tuple(sorted(both, key=lambda p: -len(p[0].split())))


def phrase_count(lows: list[str], phrase: str) -> int:
    """How often a phrase of one or more words occurs in a token list.

    >>> phrase_count(["more", "than", "40", "more"], "more than"), phrase_count(["more"], "more")
    (1, 1)
    """
    words = phrase.split()
    n = len(words)
    return sum(1 for i in range(len(lows) - n + 1) if lows[i : i + n] == words)


def unit_of(low: str) -> str | None:
    """The unit a word names, plural folded: 'hours' -> 'hour'.

    >>> unit_of("hours"), unit_of("centuries"), unit_of("feet"), unit_of("people")
    ('hour', 'century', 'feet', None)
    """
    for cand in (low, low[:-3] + "y" if low.endswith("ies") else low, low[:-1] if low.endswith("s") else low):
        if cand in UNITS:
            return cand
    return None
