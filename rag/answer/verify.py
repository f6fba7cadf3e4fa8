"""Citation checking: every sentence shown as supported must be backed by the
passages it cites.

A sentence is supported by a passage when every number and every name it
contains appears in that passage, each beside at least one of the words it has
beside it there, and enough of its content words do too (the lexical check,
blind to spelling variants: "U.S."/"US", "wasn't"/"was not"); and when the
passage does not state the opposite or something else in its place: no
negation put in or taken out, no other figure, unit, date, name or speaker, no
roles swapped, no antonym or flipped quantifier (the contradiction rules,
:mod:`rag.answer.contradiction`).
Markers that name no passage are dropped; an uncited sentence is kept only if a
passage supports it (and it is then cited to that passage).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rag.answer.claim_pair import Finding
from rag.answer.contradiction import check
from rag.answer.lexicon import SCALES, is_year
from rag.text import digits_for_number_words, lexical_tokens, names, normalise, numbers, sentence_spans
from rag.text.dates import MONTH_NAMES
from rag.tuning import MIN_OVERLAP
from rag.types import Passage

MARKER = re.compile(r"\s*\[(\d+(?:\s*,\s*\d+)*)\]")
_MARKS = r"(?:\s*\[\d+(?:\s*,\s*\d+)*\])"  # a citation marker as text (MARKER without the group)


@dataclass
class Checked:
    text: str  # sentence without markers
    cited: list[int]  # passage numbers it cites (after repair)
    supported: bool
    reason: str = ""


@dataclass
class Verification:
    sentences: list[Checked] = field(default_factory=list)

    @property
    def kept(self) -> list[Checked]:
        return [s for s in self.sentences if s.supported]

    @property
    def dropped(self) -> list[Checked]:
        return [s for s in self.sentences if not s.supported]


def split_answer(text: str) -> list[tuple[str, list[int]]]:
    """Answer sentences with the marker numbers each carries.

    >>> split_answer("It began late [1]. Musk blamed an attack [2, 3]. Fine.")
    [('It began late.', [1]), ('Musk blamed an attack.', [2, 3]), ('Fine.', [])]

    A line that ends as a sentence does (a period, a closing quotation mark) is one, so a
    model listing passages one per line, one without its closing period, gives a sentence
    per line, not two quotations run together; lines ending mid-phrase are joined:

    >>> split_answer('[1] "It began late."\\n[2] "Some said he was slurring"\\n[3] "It ended')
    [('"It began late."', [1]), ('"Some said he was slurring"', [2]), ('"It ended', [3])]
    >>> split_answer("[1] Trump\\n[2] Harris")
    [('Trump Harris', [1, 2])]
    >>> split_answer("The talk began late.\\n[2]")
    [('The talk began late.', [2])]
    """
    out: list[tuple[str, list[int]]] = []
    unit = ""
    for line in text.split("\n"):
        unit = f"{unit} {line.strip()}".strip()
        if _ENDS_SENTENCE.search(unit):
            out.extend(_unit_sentences(unit, out))
            unit = ""
    out.extend(_unit_sentences(unit, out))
    return out


# A line ending as a sentence does: a period (or ! ? …) or a closing quotation mark,
# perhaps followed by citation markers.
_ENDS_SENTENCE = re.compile(rf"[.!?…\"”]{_MARKS}*$")


def _unit_sentences(unit: str, before: list[tuple[str, list[int]]]) -> list[tuple[str, list[int]]]:
    """The sentences of some lines of an answer; markers alone go to the last sentence before."""
    # Markers written after the period belong to the sentence before them:
    # "attack. [3] Done" -> "attack [3]. Done", so sentences split cleanly.
    text = re.sub(rf"([.!?][\"'”’)]*)({_MARKS}+)", r"\2\1", unit)
    out: list[tuple[str, list[int]]] = []
    for s, e in sentence_spans(text):
        seg = text[s:e]
        nums = [int(n) for m in MARKER.finditer(seg) for n in m.group(1).split(",")]
        clean = re.sub(r"\s+([.!?,;:])", r"\1", MARKER.sub("", seg)).strip()
        if re.search(r"\w", clean):
            out.append((clean, nums))
        elif out or before:
            (out or before)[-1][1].extend(nums)
    return out


def unanchored(sentence: str, passage_text: str, question: str = "") -> str | None:
    """The first name or number of ``sentence`` that stands beside neither of its
    neighbours in the passage, or None.

    Bag-of-words support lets a small model move a name or a figure to another
    clause ("7.5 million followers on X" from "7.5 million followers on Truth
    Social, while his X account ..."): every word is in the passage, the claim is
    not. A name or number must keep at least one of its neighbouring words.

    A reply restates its question: a name or a year inside three words in a row
    taken from ``question`` ("out of the Tour while" for "Why did Rabobank pull
    Rasmussen out of the Tour while ...", "the 2007 Tour") stands where the question
    puts it, and is anchored there. (That it is in the passages, or read under them,
    is the caller's check; a figure that counts must keep its passage neighbours.)

    >>> p = "Trump has 7.5 million followers on Truth Social, while his X account is followed by 88 million."
    >>> unanchored("Trump has 7.5 million followers on Truth Social.", p) is None
    True
    >>> unanchored("Trump has 7.5 million followers on X.", p)
    'x'
    >>> unanchored("88.", p) is None  # a bare figure has no neighbours to check
    True
    >>> unanchored("X and Truth Social.", p) is None  # nor a bare list of names: no clause to move them out of
    True
    >>> q = "How many followers does Trump have on X?"
    >>> unanchored("Trump has 7.5 million followers on X.", p, q)  # "followers on X" is not the question's
    'x'
    >>> p = "Current yellow jersey Michael Rasmussen has been withdrawn from the 2007 Tour de France by Rabobank."
    >>> unanchored("Rabobank pulled Rasmussen out of the Tour for lying.", p, "Why did Rabobank pull Rasmussen out of the Tour?") is None
    True
    """
    words = normalise(sentence).split()
    if len(words) < 2:
        return None
    pwords = normalise(passage_text).split()
    pairs = set(zip(pwords, pwords[1:]))
    qwords = normalise(question).split()
    triples = set(zip(qwords, qwords[1:], qwords[2:]))
    keys = {normalise(n) for n in names(sentence)}
    capitalised = {k for w in re.findall(r"\b[A-Z][\w'’-]*", sentence) for k in normalise(w).split()}
    if all(w in capitalised or w in _LIST_WORDS or any(ch.isdigit() for ch in w) for w in words):
        return None  # a bare list of names and figures has no clause to move them out of
    for i, w in enumerate(words):
        if w not in keys and not any(ch.isdigit() for ch in w):
            continue
        left = i > 0 and (words[i - 1], w) in pairs
        right = i + 1 < len(words) and (w, words[i + 1]) in pairs
        given = w in keys or (w.isdigit() and is_year(w))  # a name or a year, not a figure that counts
        restated = given and any(tuple(words[k : k + 3]) in triples for k in range(max(0, i - 2), i + 1))
        if not (left or right or restated):
            return w
    return None


_LIST_WORDS = frozenset("and or the".split())

_SCALED = re.compile(r"(\d[\d,]*(?:\.\d+)?)(?:\s*(million|billion|thousand|trillion|percent|per cent|%))?", re.I)


def _scales(text: str) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for m in _SCALED.finditer(text):
        scale = (m.group(2) or "").lower()
        scale = "%" if scale in ("percent", "per cent") else scale
        out.setdefault(m.group(1).replace(",", ""), set()).add(scale)
    return out


def rescaled(sentence: str, passage_text: str) -> str | None:
    """The first figure of ``sentence`` whose scale word differs from every use of that
    figure in the passage ("88" or "88 thousand" for "88 million"), or None.

    >>> p = "His X account is followed by 88 million; 51.8% voted."
    >>> rescaled("88 [1].", p), rescaled("88 million follow him.", p), rescaled("51.8 percent voted.", p)
    ('88', None, None)
    """
    known = _scales(passage_text)
    for number, scales in _scales(sentence).items():
        if number in known and not scales <= known[number]:
            return number
    return None


# "Dec. 26" or "Dec 2004": an abbreviated month before a day or a year.
_ABBREVIATED_MONTH = re.compile(r"\b(Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)\b\.?(?=\s+\d)")
_INITIALISM = re.compile(r"\b(?:[A-Za-z]\.){2,}(?=[^A-Za-z]|$)")
_CONTRACTION = re.compile(r"\b(\w+?)n[’']t\b|\bcannot\b|[’'](re|ve|ll|m)\b", re.I)
_NEGATED = {"wo": "will", "ca": "can", "sha": "shall", "ai": "is"}
_SUFFIX = {"re": "are", "ve": "have", "ll": "will", "m": "am"}


def _expand(m: re.Match) -> str:
    if m.group(2):
        return " " + _SUFFIX[m.group(2).lower()]
    if m.group(1) is None:
        return "can not"
    stem = m.group(1)
    return _NEGATED.get(stem.lower(), stem) + " not"


def spelled_alike(text: str) -> str:
    """``text`` with dotted initialisms undotted, contractions written out, number
    words as digits and abbreviated months before a day or year in full, so the
    lexical check compares words, not spellings.

    >>> spelled_alike("The U.S. team wasn't there; they won't go, we're told.")
    'The US team was not there; they will not go, we are told.'
    >>> spelled_alike("It cannot be, in the U.K.; Fifty-two died.")
    'It can not be, in the UK; 52 died.'
    >>> spelled_alike("The Dec. 2004 quake; Sept 3, 2024; Mar. madness.")
    'The December 2004 quake; September 3, 2024; Mar. madness.'
    """
    text = _ABBREVIATED_MONTH.sub(lambda m: next(n for n in MONTH_NAMES if n.startswith(m.group(1))), text)
    text = _INITIALISM.sub(lambda m: m.group(0).replace(".", ""), text)
    return digits_for_number_words(_CONTRACTION.sub(_expand, text))


def support(sentence: str, passages: list[Passage], question: str = "") -> tuple[bool, str]:
    """Is ``sentence`` backed by the text of ``passages`` taken together? The lexical
    check, then the contradiction rules on what it lets through.

    >>> p = [Passage(1, "a", "a.txt", "", "", "", "Musk blamed a massive DDoS attack on X for the delay.", 0, 53)]
    >>> support("Musk blamed a massive DDoS attack on X for the delay.", p)
    (True, '')
    >>> support("Musk did not blame a massive DDoS attack on X for the delay.", p)
    (False, "negation: passage says 'blamed', claim says 'did not blame'")
    """
    ok, why = lexical_support(sentence, passages, question)
    if not ok:
        return ok, why
    # The rules read the cited articles' headlines too when the lexical check let a
    # name or number the question gives stand there (they find no other in its place).
    texts = [p.text for p in passages]
    given: frozenset[str] = frozenset()
    if question:
        texts += [spelled_alike(h) for h in map(read_under, passages) if h]
        given = frozenset(w for n in names(spelled_alike(question)) for w in normalise(n).split())
    found = check(sentence, texts, given)
    return (True, "") if found.ok else (False, found.reason)


def supporting(sentence: str, nums: list[int], passages: list[Passage], question: str = "") -> list[int] | None:
    """The passage numbers a sentence may cite: the ones it names when together they support
    it, else the first single passage that does (re-cited), else None.

    >>> p = [Passage(n=1, article_id="a", file="a.txt", title="", outlet="", published="",
    ...              text="Only 1.1 million were listening.", start=0, end=32),
    ...      Passage(n=2, article_id="b", file="b.txt", title="", outlet="", published="",
    ...              text="The stream started late.", start=0, end=24)]
    >>> supporting("Only 1.1 million were listening.", [2], p)
    [1]
    >>> supporting("Only 2 million were listening.", [1], p) is None
    True
    """
    by_n = {p.n: p for p in passages}
    valid = [n for n in dict.fromkeys(nums) if n in by_n]
    if valid and support(sentence, [by_n[n] for n in valid], question)[0]:
        return valid
    for p in passages:
        if support(sentence, [p], question)[0]:
            return [p.n]
    return None


def judge(sentence: str, passages: list[Passage]) -> Finding:
    """``supported``, ``contradicted`` (the passages state the opposite, another figure
    for the same thing, other roles) or ``unsupported`` (they do not state it).

    A sentence the lexical check rejects is contradicted only when a contradiction
    rule finds the concrete difference and the rest of it is in the passages.

    >>> p = [Passage(1, "a", "a.txt", "", "", "", "The talk was delayed by 40 minutes.", 0, 35)]
    >>> judge("The talk was delayed by 45 minutes.", p).verdict
    'contradicted'
    >>> judge("The talk was cancelled.", p).verdict
    'unsupported'
    """
    ok, why = lexical_support(sentence, passages)
    found = check(sentence, [p.text for p in passages]) if passages else Finding("unsupported", "", why)
    if ok:
        return found
    if found.verdict == "contradicted" and about_the_same(sentence, passages):
        return found
    return Finding("unsupported", "", why)


def about_the_same(sentence: str, passages: list[Passage]) -> bool:
    """Are the sentence's words, figures aside, in the passages (a share of at least
    ``MIN_OVERLAP`` less one word)?"""
    ptoks = set(lexical_tokens(spelled_alike(" ".join(p.text for p in passages))))
    toks = [t for t in lexical_tokens(spelled_alike(sentence)) if not any(ch.isdigit() for ch in t)]
    return bool(toks) and sum(t in ptoks for t in toks) >= MIN_OVERLAP * len(toks) - 1


def qualifiers(sentence: str) -> list[str]:
    """The words that say what a figure counts (the two after it and its scale) and what
    a name is called (the lower-case word right before it): the claim's own, which a
    question may not supply.

    >>> qualifiers("Truth Social has 7.5 million registered users, the merchant ship HMS Cornwall said.")
    ['registered', 'users', 'ship']
    """
    words = re.findall(r"[\w'’.-]*\w", sentence)
    out: list[str] = []
    for i, w in enumerate(words):
        if w[:1].isdigit() and not (w.isdigit() and is_year(w)):  # a year counts nothing
            j = i + 1 + (i + 1 < len(words) and words[i + 1].lower() in (*SCALES, "percent"))
            out += [x for x in words[j : j + 2] if lexical_tokens(x)][:2]
        elif i and w[:1].isupper() and words[i - 1][:1].islower() and lexical_tokens(words[i - 1]):
            out.append(words[i - 1])
    return out


def read_under(p: Passage) -> str:
    """What a passage is read under: its article's headline and the year it was published.

    >>> read_under(Passage(1, "a", "a.txt", "Contador wins the Tour", "", "2007-07-29", "He won.", 0, 7))
    'Contador wins the Tour (2007)'
    """
    year = p.published[:4] if p.published[:4].isdigit() else ""
    return " ".join(x for x in (p.title, f"({year})" if year else "") if x)


def lexical_support(sentence: str, passages: list[Passage], question: str = "") -> tuple[bool, str]:
    """The lexical check alone: numbers, names and enough content words in the passages.

    ``question`` is the question the sentence answers. A name or number the question
    gives may stand in the headline of the cited passage's article instead of in the
    passage, or be the year it was published (the sentence is read under them:
    :func:`read_under`); one the question does not give must be in the passages
    themselves. The question's words count toward the
    content-word share (a reply may restate the question); the contradiction rules
    then check that a figure counts, and a name is called, what the passage says.

    >>> text = "In the long stage on Sunday he won by 23 seconds over Cadel Evans of Australia."
    >>> p = [Passage(1, "a", "a.txt", "2007 Tour: Vinokourov wins", "", "", text, 0, len(text))]
    >>> claim = "In the long 2007 Tour stage on Sunday he won by 23 seconds over Cadel Evans of Australia."
    >>> lexical_support(claim, p)
    (False, 'number not in passage: 2007')
    >>> lexical_support(claim, p, "By how much did he win the 2007 Tour stage?")
    (True, '')
    >>> lexical_support(claim.replace("2007", "2008"), p, "By how much did he win the 2008 Tour stage?")
    (False, 'number not in passage: 2008')
    """
    if not passages:
        return False, "cites no passage"
    sentence = spelled_alike(sentence)
    ptext = spelled_alike(" ".join(p.text for p in passages))
    pnorm = " " + normalise(ptext) + " "
    # A name or number the question gives may come from the cited article's headline
    # (the sentence is read under it); one the question does not give must be in the passage.
    qtext = spelled_alike(question)
    heads = spelled_alike(" | ".join(h for h in map(read_under, passages) if h)) if question else ""
    hnorm = " " + normalise(heads) + " "
    missing_nums = numbers(sentence) - numbers(ptext) - (numbers(qtext) & numbers(heads))
    if missing_nums:
        return False, f"number not in passage: {sorted(missing_nums)[0]}"
    qnorm = " " + normalise(qtext) + " "
    for name in names(sentence):
        key = normalise(name)
        if key in pnorm or (f" {key} " in qnorm and key in hnorm):
            continue
        return False, f"name not in passage: {name}"
    toks = lexical_tokens(sentence)
    if not toks:
        return False, "no content"
    ptoks = set(lexical_tokens(ptext))
    if question:  # a reply may restate the question's wording, but not in what a figure counts or a name is called
        ptoks |= set(lexical_tokens(qtext)) - set(lexical_tokens(" ".join(qualifiers(sentence))))
    share = sum(1 for t in toks if t in ptoks) / len(toks)
    if share < MIN_OVERLAP:
        return False, f"only {share:.0%} of its words are in the passage"
    scaled = rescaled(sentence, ptext)
    if scaled:
        return False, f"'{scaled}' without the scale the passage gives it"
    loose = unanchored(sentence, f"{ptext} | {heads}" if question else ptext, qtext)
    if loose:
        return False, f"'{loose}' is not where the passage puts it"
    return True, ""


def verify(answer: str, passages: list[Passage]) -> Verification:
    """Check every sentence of ``answer`` against the passages it cites."""
    by_n = {p.n: p for p in passages}
    result = Verification()
    for sent, nums in split_answer(answer):
        valid = [n for n in dict.fromkeys(nums) if n in by_n]
        if valid:
            ok, why = support(sent, [by_n[n] for n in valid])
            if not ok:
                # Cited the wrong passage? Accept a single passage that supports it.
                for p in passages:
                    if support(sent, [p])[0]:
                        valid, ok, why = [p.n], True, ""
                        break
        else:
            ok, why = False, "no citation"
            for p in passages:
                if support(sent, [p])[0]:
                    valid, ok, why = [p.n], True, ""
                    break
        result.sentences.append(Checked(sent, valid if ok else [], ok, why))
    return result
