"""Text extractors for briefings: attributed quotes and the cleaning of a model-written lede.

Pure functions on strings (offsets into the string they are given), used by
:mod:`rag.brief`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# -- who said what ----------------------------------------------------------------
_VERBS = (
    r"said|says|told|wrote|writes|posted|added|asked|replied|tweeted|stated|explained|noted|declared"
    r"|warned|claimed|announced|responded|joked|urged|insisted|argued|recalled|continued|commented|admitted"
)
_NAME_TOKEN = r"(?:(?:Gov|Sen|Rep|Dr|Mr|Mrs|Ms|Gen|St|Lt|Col|Sgt)\.|[A-Z]\.|[A-Z][\w’'-]*)"
_NAME = rf"(?:{_NAME_TOKEN}(?:\s+(?:{_NAME_TOKEN}|de|van|von|bin|al))*)"
_PRONOUN = r"(?:he|she|they|He|She|They)"
_QUOTE = re.compile(r"“([^“”]{2,600})”|\"([^\"]{2,600})\"")
_AFTER = re.compile(
    rf"^[\s,]*(?:(?:[a-z][\w-]*\s+){{0,3}}(?P<s1>{_NAME}|{_PRONOUN})\s+(?:{_VERBS})\b|(?:{_VERBS})\s+(?P<s2>(?:{_NAME}\s+(?:[a-z]+\s+){{1,3}})?{_NAME}))"
)
_BEFORE = re.compile(rf"(?P<s>{_NAME}|{_PRONOUN})\s+(?:{_VERBS})\b[^“”\".!?]{{0,60}}?[:,]?\s*$")
_NOT_SPEAKERS = {
    "The", "A", "An", "In", "On", "It", "This", "That", "But", "And", "When", "After", "As", "At", "He", "She",
    "They", "We", "I", "You", "His", "Her", "Their", "Its", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday",
    "Saturday", "Sunday",
}  # fmt: skip


def _speaker(raw: str) -> str:
    """The trailing run of capitalised words: "Harris campaign spokesperson Joseph Costello" -> "Joseph Costello"."""
    words = raw.split()
    run: list[str] = []
    for w in reversed(words):
        if not w[:1].isupper() or w in _NOT_SPEAKERS:
            break
        run.insert(0, w)
    return " ".join(run[-3:]).rstrip(".,;:’'")


def find_quotes(text: str) -> list[dict]:
    """Attributed quotations in ``text``: speaker, quoted words, and the span to cite.

    Pronoun speakers ("he said") are returned as "he"/"she"/"they"; the caller resolves them.

    >>> q = find_quotes('“We had a massive attack,” Musk said. Then nothing.')
    >>> q[0]["speaker"], q[0]["quote"], q[0]["start"], q[0]["end"]
    ('Musk', 'We had a massive attack,', 0, 36)
    >>> find_quotes('Trump called Harris the "border czar" again.')
    []
    """
    out = []
    for m in _QUOTE.finditer(text):
        words = (m.group(1) or m.group(2) or "").strip()
        if len(words.split()) < 4:
            continue  # scare quotes: "coup", "border czar"
        line_end = text.find("\n", m.end())
        line_end = len(text) if line_end < 0 else line_end
        after = text[m.end() : min(line_end, m.end() + 80)]
        # A quote closed by a full stop ends its sentence: what follows is not its attribution.
        a = None if words.rstrip().endswith(".") else _AFTER.match(after)
        if a and (a.group("s1") or "") in ("He", "She", "They"):
            a = None  # "...” He said..." starts a new sentence
        if a:
            who = a.group("s1") or a.group("s2")
            end = m.end() + a.end()
            out.append(
                {
                    "speaker": _speaker(who) if who[0].isupper() else who.lower(),
                    "quote": words,
                    "start": m.start(),
                    "end": end,
                    "pos": m.start(),
                }
            )
            continue
        line_start = text.rfind("\n", 0, m.start()) + 1
        before = text[max(line_start, m.start() - 140) : m.start()]
        b = _BEFORE.search(before)
        if b:
            who = b.group("s")
            start = m.start() - len(before) + b.start("s")
            out.append(
                {
                    "speaker": _speaker(who) if who[0].isupper() else who.lower(),
                    "quote": words,
                    "start": start,
                    "end": m.end(),
                    "pos": start,
                }
            )
    return [q for q in out if q["speaker"]]


def resolve_pronoun(text: str, at: int, speakers: set[str]) -> str:
    """The last known speaker named before ``at``: in the same paragraph, else in the one before."""
    para = text.rfind("\n", 0, at) + 1
    prev = text.rfind("\n", 0, max(0, para - 1)) + 1
    for window in (text[max(para, at - 400) : at], text[prev:para]):
        best, best_pos = "", -1
        for sp in speakers:
            p = window.rfind(sp)
            if p > best_pos:
                best, best_pos = sp, p
        if best:
            return best
    return ""


# -- model output -----------------------------------------------------------------
_PREAMBLE = re.compile(
    r"^\s*(?:here is\s+)?(?:the\s+|an?\s+)?(?:one-sentence\s+|opening\s+|short\s+)?"
    r"(?:lede|summary|sentence|opening)(?:\s+is)?\s*:\s*",
    re.I,
)


META = re.compile(
    r"^(?:(?:it|this|the|that)\s+(?:passage|article|text|briefing|report|story)s?\b|it discusses|the following\b)", re.I
)


_LETTER = re.compile(r"[A-Za-z]")


def clean_lede(raw: str) -> str:
    r"""The model's reply without a preamble, wrapping quotes or a second paragraph.

    >>> clean_lede('The one-sentence lede is: "Musk interviewed Trump [1]."')
    'Musk interviewed Trump [1].'
    >>> clean_lede("Opening sentence: It began late [2].\n\nNote: more.")
    'It began late [2].'
    >>> clean_lede('[1] (The Post) "It began late." more')
    ''
    >>> clean_lede('[3] (The Post) "It began 40 minutes late."')
    'It began 40 minutes late. [3]'
    >>> clean_lede("Musk interviewed Trump on X as more than a")
    ''
    >>> clean_lede('The opening sentence of a news briefing is: "Talks began in Bali [2]."')
    'Talks began in Bali [2].'
    """
    text = next((line for line in raw.strip().split("\n") if re.search(r"[A-Za-z]", line)), "")
    text = _PREAMBLE.sub("", text).strip()
    text = re.sub(r"^[^\"“:\[]{0,80}:\s*(?=[\"“])", "", text)  # 'The opening sentence of a briefing is: "..."'
    echo = re.match(r"^\[(\d+)\]\s*(?:\([^)]*\)\s*)?", text)  # the model repeated a passage line
    if echo:
        text = text[echo.end() :].strip() + f" [{echo.group(1)}]"
    if len(text) > 2 and text[0] in '"“' and text.rstrip()[-1] in '"”':
        text = text[1:-1].strip()
    elif len(text) > 2 and text[0] in '"“':
        m = re.match(r"^[\"“](.+?)[\"”]\s*((?:\[\d+\]\s*)*)\.?$", text)
        if m:
            text = m.group(1).strip() + (" " + m.group(2).strip() if m.group(2) else "")
    if not re.search(r"[.!?…][\"'”’)]*(?:\s*\[\d+(?:\s*,\s*\d+)*\])*\s*[.!?]?$", text):
        return ""  # cut off by the token limit: not a sentence
    return text


def first_line(parts: Iterable[str]) -> str:
    r"""A streamed reply read up to the end of its first line with letters, then the stream is closed.

    :func:`clean_lede` reads that line alone, so the model is not left writing lines nobody
    reads (a note, a second version) while the briefing waits.

    >>> first_line(iter(["Talks began", " in Bali [2].", "\n\nNote:", " more"]))
    'Talks began in Bali [2].\n\nNote:'
    >>> first_line(iter(["\n", "Opening sentence:", "\nIt began [1]."]))
    '\nOpening sentence:\nIt began [1].'
    """
    text = ""
    it = iter(parts)
    try:
        for part in it:
            text += part
            *done, _ = text.split("\n")
            if any(_LETTER.search(line) for line in done):
                break
    finally:
        close = getattr(it, "close", None)
        if close is not None:
            close()  # a generator holding the model's lock releases it now
    return text
