"""Contradiction checks: does the passage state the opposite of a claim, or
something else in its place?

The lexical check (``verify.support``) asks whether a claim's words are in its
passages; a claim can keep every word and change the meaning. This module
takes the passage sentence that shares most words with the claim and compares
the two on what carries meaning:

- polarity: each shared word is negated in both or in neither ("not", "never",
  "no", "without", and verbs that negate what follows: "denied", "refused",
  "failed to", "declined to");
- figures: every number is in the passages with the same scale ("million") and
  unit ("minutes", "$"); a different figure where the sentence has one contradicts;
- what a figure counts: "7.5 million registered users" is not "7.5 million followers"
  (when both say what it counts);
- dates: weekdays and months are the passage's;
- names: every name is in the passages, none stands where the sentence has
  another (who said what: "said Costello" is not "said Harris"), and a name is
  called what the passage calls it ("the merchant ship HMS Cornwall" is not "the
  frigate HMS Cornwall");
- roles: no two words trade places around a shared verb ("Contador beat Evans");
- opposites: no word whose opposite the sentence uses instead ("rose"/"fell"),
  no flipped quantifier or comparison ("more than"/"less than", "all"/"some").

Each rule fires only on a concrete difference, and says which in its reason.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

from rag.answer.claim_pair import SUPPORTED, Finding, Pair, is_name, make_pair, outside_quotes, text_of
from rag.answer.lexicon import (
    MONTHS,
    SAYING,
    SCALES,
    UNITS,
    WEEKDAYS,
    Tok,
    is_content,
    is_year,
    opposites,
    phrase_count,
    quantifier_pairs,
    stem,
    unit_of,
)
from rag.answer.polarity import negator_moved, polarity
from rag.answer.speakers import speaker


def check(claim: str, passages: Sequence[str], given: frozenset[str] = frozenset()) -> Finding:
    """Compare ``claim`` with the passages it is meant to restate. ``given``: the names
    (lower case) of the question the claim answers; a claim restating one of them may
    find it in the passages as its people or plural ("Iran" / "the Iranians").

    >>> check("Musk did not blame an attack on X.", ["Musk blamed an attack on X."]).reason
    "negation: passage says 'blamed', claim says 'did not blame'"
    >>> check("Prices rose by 5%.", ["Prices fell by 5%."]).kind
    'antonym'
    >>> check("It was delayed by 40 minutes.", ["The talk was delayed by over 40 minutes."]).ok
    True
    """
    pair = make_pair(claim, passages, given)
    for rule in RULES:
        found = rule(pair)
        if found:
            return found
    return SUPPORTED


# Figures and dates ----------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    value: str
    scale: str  # "", "million", "%", ...
    unit: str  # "", "minute", "$", ...
    text: str
    date: bool  # a year or a day of a month


def figures(toks: list[Tok]) -> list[Figure]:
    """Numbers with their scale and unit.

    >>> from rag.answer.lexicon import tokens
    >>> [(f.value, f.scale, f.unit) for f in figures(tokens("$44 billion over 40 minutes in 2024"))]
    [('44', 'billion', '$'), ('40', '', 'minute'), ('2024', '', '')]
    """
    out = []
    for i, t in enumerate(toks):
        if not t.low[:1].isdigit():
            continue
        j = i + 1
        scale = SCALES.get(toks[j].low, "") if j < len(toks) else ""
        j += bool(scale)
        unit = (unit_of(toks[j].low) or "") if j < len(toks) else ""
        if i > 0 and toks[i - 1].low in UNITS and not unit:
            unit = toks[i - 1].low  # "$44", "£35.5"
        near = {x.low for x in toks[max(0, i - 1) : i + 2]}
        date = bool(near & MONTHS) or is_year(t.low)
        end = j + bool(unit and j < len(toks) and unit_of(toks[j].low))
        out.append(Figure(t.low, scale, unit, text_of(toks[max(0, i - 1) : end]), date))
    return out


def counted(toks: list[Tok]) -> dict[str, list[set[str]]]:
    """What each figure counts: the stems of the (at most two) content words right
    after it and its scale, per use of the figure; dates and figures with a unit are
    left out (the unit says what they measure).

    >>> from rag.answer.lexicon import tokens
    >>> counted(tokens("He has 7.5 million followers on it, and 3 of them in 2024."))
    {'7.5': [{'follower'}], '3': [set()]}
    """
    out: dict[str, list[set[str]]] = {}
    for i, t in enumerate(toks):
        if not t.low[:1].isdigit() or is_year(t.low):
            continue
        j = i + 1 + (i + 1 < len(toks) and toks[i + 1].low in SCALES)
        if j < len(toks) and unit_of(toks[j].low) or (i > 0 and toks[i - 1].low in UNITS):
            continue
        words: set[str] = set()
        for x in toks[j : j + 2]:
            if not is_content(x.low):
                break
            words.add(stem(x.low))
        out.setdefault(t.low, []).append(words)
    return out


def counts(pair: Pair) -> Finding | None:
    """A figure counts what the passage says it counts: "7.5 million registered users"
    is not "7.5 million followers". Fires only when both name what the figure counts."""
    known = counted(pair.passage)
    for value, uses in counted(pair.claim).items():
        theirs = [w for w in known.get(value, []) if w]
        for mine in uses:
            if mine and theirs and all(not (mine & w) for w in theirs):
                return Finding(
                    "contradicted", "number", f"count: the passage's {value} counts other things than the claim's"
                )
    return None


def _figure(f: Figure, known: list[Figure], sentence: list[Figure]) -> Finding | None:
    kind = "date" if f.date else "number"
    same = [k for k in known if k.value == f.value]
    if not same:
        rivals = [k for k in sentence if k.date == f.date]
        if rivals:
            return Finding("contradicted", kind, f"{kind}: passage says '{rivals[0].text}', claim says '{f.text}'")
        return Finding("unsupported", kind, f"number not in passage: {f.value}")
    if f.scale not in {k.scale for k in same}:
        return Finding("contradicted", "unit", f"scale: passage says '{same[0].text}', claim says '{f.text}'")
    if f.unit and f.unit not in {k.unit for k in same}:
        other = [k for k in same if k.unit]
        if other:
            return Finding("contradicted", "unit", f"unit: passage says '{other[0].text}', claim says '{f.text}'")
        return Finding("unsupported", "unit", f"unit not in passage: '{f.text}'")
    return None


def numbers(pair: Pair) -> Finding | None:
    """Every figure of the claim is in the passages, with the same scale and unit."""
    known, sentence = figures(pair.passage), figures(pair.sentence)
    for f in figures(pair.claim):
        found = _figure(f, known, sentence)
        if found:
            return found
    return None


def dates(pair: Pair) -> Finding | None:
    """Weekdays and months of the claim are in the passages."""
    plows = {t.low for t in pair.passage}
    for t in pair.claim:
        for names in (WEEKDAYS, MONTHS):
            if t.low in names and t.raw[:1].isupper() and t.low not in plows:
                rival = next((s.raw for s in pair.sentence if s.low in names and s.raw[:1].isupper()), None)
                if rival:
                    return Finding("contradicted", "date", f"date: passage says '{rival}', claim says '{t.raw}'")
                return Finding("unsupported", "date", f"date not in passage: {t.raw}")
    return None


# Names and roles ------------------------------------------------------------


def described(toks: list[Tok], pair: Pair) -> dict[str, set[str]]:
    """What each name is called where it stands: the stem of the lower-case content word
    right before it ("the frigate HMS Cornwall" -> {"hms": {"frigate"}}).

    >>> from rag.answer.lexicon import tokens
    >>> from rag.answer.claim_pair import make_pair
    >>> c = "The merchant ship HMS Cornwall."
    >>> described(tokens(c), make_pair(c, ["From the frigate HMS Cornwall."]))
    {'hms': {'ship'}}
    """
    out: dict[str, set[str]] = {}
    for i, t in enumerate(toks):
        if i == 0 or t.initial or not is_name(t, pair) or is_name(toks[i - 1], pair):
            continue
        before = toks[i - 1]
        if before.raw[:1].islower() and is_content(before.low) and before.low not in SAYING:
            out.setdefault(t.low, set()).add(stem(before.low))
    return out


def descriptors(pair: Pair) -> Finding | None:
    """A name is called what the passage calls it: "the merchant ship HMS Cornwall" is
    not "the frigate HMS Cornwall". Fires only when both put a word right before it."""
    known = described(pair.passage, pair)
    for name, words in described(pair.claim, pair).items():
        theirs = known.get(name)
        if theirs and not (words & theirs):
            return Finding("contradicted", "entity", f"the passage calls {name!r} something else")
    return None


# What a name becomes as its people, its plural or its possessive: "Iran" / "Iranians",
# "Romanian" / "Romanians".
_DERIVED = ("s", "'s", "n", "ns", "an", "ans", "ian", "ians")


def _among(word: str, words: set[str], given: frozenset[str]) -> bool:
    """``word`` is one of ``words``; or a name the question gives (in ``given``) stands
    there as its people or plural, or the other way round.

    >>> _among("iran", {"the", "iranians"}, frozenset({"iran"})), _among("iran", {"iranians"}, frozenset())
    (True, False)
    >>> _among("harris", {"harrison"}, frozenset({"harris"}))
    False
    """
    if word in words:
        return True
    return any((word in given or w in given) and (_derives(word, w) or _derives(w, word)) for w in words)


def _derives(base: str, word: str) -> bool:
    return word.startswith(base) and word[len(base) :] in _DERIVED


def names(pair: Pair) -> Finding | None:
    """Every name is in the passages; one the question gives may be there as its people
    or plural.

    >>> from rag.answer.claim_pair import make_pair
    >>> names(make_pair("No deal was made with Iran.", ["No deal was made with the Iranians."], frozenset({"iran"})))
    >>> names(make_pair("No deal was made with Iran.", ["No deal was made with the Iranians."])).reason
    'name not in passage: Iran'
    """
    plows = {t.low for t in pair.passage}
    for t in pair.claim:
        if is_name(t, pair) and not _among(t.low, plows, pair.given):
            return Finding("unsupported", "entity", f"name not in passage: {t.raw}")
    return None


def _class(t: Tok, pair: Pair) -> str | None:
    """What a word names, when another of its class in its place changes a claim."""
    if t.low in WEEKDAYS or (t.low in MONTHS and t.raw[:1].isupper()):
        return "date"
    if t.low[:1].isdigit():
        return "number"
    if t.low in SCALES or unit_of(t.low):
        return "unit"
    return "entity" if is_name(t, pair) else None


def _canon(low: str) -> str:
    """One spelling per scale or unit: 'bn' -> 'billion', 'hours' -> 'hour'."""
    return SCALES.get(low) or unit_of(low) or low


def _flipped(old: list[Tok], new: list[Tok]) -> Finding | None:
    """``new`` in the place of ``old`` is its opposite or its flip ('after' for 'before')."""
    a, b = " ".join(t.low for t in old), " ".join(t.low for t in new)
    if (a, b) in quantifier_pairs():
        return Finding("contradicted", "quantifier", f"quantifier: passage says '{a}', claim says '{b}'")
    if len(old) == len(new) == 1 and stem(new[0].low) in opposites().get(stem(old[0].low), ()):
        return Finding("contradicted", "antonym", f"antonym: passage says '{old[0].raw}', claim says '{new[0].raw}'")
    return None


def replaced(pair: Pair) -> Finding | None:
    """Where the claim puts another name, date, figure or unit in the place of one
    the sentence has ("said Harris" for "said Costello", "Tuesday" for "Sunday")."""
    s, c = pair.sentence, pair.claim
    ops = SequenceMatcher(None, [t.low for t in s], [t.low for t in c], autojunk=False).get_opcodes()
    for op, i1, i2, j1, j2 in ops:
        if op != "replace":
            continue
        flip = _flipped(s[i1:i2], c[j1:j2])
        if flip:
            return flip
        olds, news = {_canon(t.low) for t in s[i1:i2]}, {_canon(t.low) for t in c[j1:j2]}
        old = {_class(t, pair) for t in s[i1:i2] if not _among(_canon(t.low), news, pair.given)} - {None}
        new = {_class(t, pair) for t in c[j1:j2] if not _among(_canon(t.low), olds, pair.given)} - {None}
        moved = {t.low for t in c[j1:j2] if is_name(t, pair)} & {t.low for t in s if is_name(t, pair)}
        if moved and max(i2 - i1, j2 - j1) > 4:
            continue  # a long stretch rewritten around a name the sentence has: a matter for roles()
        if moved and all(t.low in moved for t in c[j1:j2] if is_name(t, pair)):
            new.discard("entity")  # names the sentence has elsewhere, moved: a matter for roles()
        for kind in sorted(old & new):
            around = {t.low for t in s[max(0, i1 - 2) : i2 + 2]} | {t.low for t in c[max(0, j1 - 2) : j2 + 2]}
            kind = "attribution" if kind == "entity" and around & SAYING else kind
            return Finding(
                "contradicted", kind, f"{kind}: passage says '{text_of(s[i1:i2])}', claim says '{text_of(c[j1:j2])}'"
            )
    return None


def _places(toks: list[Tok]) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for i, (t, free) in enumerate(zip(toks, outside_quotes(toks))):
        if free and is_content(t.low):
            out.setdefault(stem(t.low), []).append(i)
    return out


def roles(pair: Pair) -> Finding | None:
    """Two words on opposite sides of a shared verb in the claim and in the sentence:
    'Evans beat Contador' against 'Contador beat Evans'. A name is no verb: words
    on either side of "the Tour" trade places when a passive is made active.

    >>> from rag.answer.claim_pair import make_pair
    >>> roles(make_pair("Evans beat Contador.", ["Contador beat Evans."])).kind
    'roles'
    >>> p = "The yellow jersey, Rasmussen, was withdrawn from the Tour by his team Rabobank."
    >>> roles(make_pair("Rabobank pulled Rasmussen out of the Tour in the yellow jersey.", [p])) is None
    True
    """
    cp, sp = _places(pair.claim), _places(pair.sentence)
    for v, (ci,) in ((k, x) for k, x in cp.items() if len(x) == 1):
        if len(sp.get(v, [])) != 1 or is_name(pair.claim[ci], pair):
            continue
        si = sp[v][0]
        shared = [k for k in cp if k in sp and k != v]
        to_left = [k for k in shared if all(i > ci for i in cp[k]) and all(i < si for i in sp[k])]
        to_right = [k for k in shared if all(i < ci for i in cp[k]) and all(i > si for i in sp[k])]
        if to_left and to_right:
            lo = min(sp[k][0] for k in to_left + to_right)
            hi = max(sp[k][-1] for k in to_left + to_right)
            clo = min(cp[k][0] for k in to_left + to_right)
            chi = max(cp[k][-1] for k in to_left + to_right)
            return Finding(
                "contradicted",
                "roles",
                f"roles: passage says '{text_of(pair.sentence[lo : hi + 1])}', "
                f"claim says '{text_of(pair.claim[clo : chi + 1])}'",
            )
    return None


# Opposites ------------------------------------------------------------------


def antonyms(pair: Pair) -> Finding | None:
    """A word the claim uses more often than the sentence, whose opposite the sentence
    uses more often than the claim: 'fell' where the sentence says 'rose'."""
    cstems = Counter(stem(t.low) for t in pair.claim if is_content(t.low))
    sstems = Counter(stem(t.low) for t in pair.sentence if is_content(t.low))
    for key in cstems:
        if cstems[key] <= sstems[key]:
            continue
        for opp in sorted(opposites().get(key, ())):
            if sstems[opp] > cstems[opp]:
                said = next(t.raw for t in pair.sentence if stem(t.low) == opp)
                claimed = next(t.raw for t in pair.claim if stem(t.low) == key)
                return Finding("contradicted", "antonym", f"antonym: passage says '{said}', claim says '{claimed}'")
    return None


def quantifiers(pair: Pair) -> Finding | None:
    """A quantifier or comparison the claim uses more, where the sentence uses its flip."""
    c = [t.low for t in pair.claim]
    s = [t.low for t in pair.sentence]
    for q, flip in quantifier_pairs():
        if phrase_count(c, q) > phrase_count(s, q) and phrase_count(s, flip) > phrase_count(c, flip):
            return Finding("contradicted", "quantifier", f"quantifier: passage says '{flip}', claim says '{q}'")
    return None


RULES: tuple[Callable[[Pair], Finding | None], ...] = (
    polarity,
    negator_moved,
    numbers,
    counts,
    dates,
    names,
    descriptors,
    replaced,
    speaker,
    roles,
    antonyms,
    quantifiers,
)
