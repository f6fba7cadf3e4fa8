"""Sentences: spans of sentences (and of quotations with their attribution) as offsets into the text.

Every function here works on offsets into the original string so that a quote
can always be located exactly.
"""

from __future__ import annotations

import re

from rag.tuning import MIN_SENTENCE_CHARS

# Abbreviations after which a period does not end a sentence.
_ABBREV = {
    "mr",
    "mrs",
    "ms",
    "dr",
    "st",
    "jr",
    "sr",
    "gov",
    "sen",
    "rep",
    "gen",
    "col",
    "lt",
    "sgt",
    "capt",
    "maj",  # military ranks before a name ("Army Spc. Charles Graner", "Maj. Gen. Smith")
    "spc",
    "pfc",
    "pvt",
    "cpl",
    "adm",
    "cmdr",
    "brig",
    "prof",
    "pres",
    "inc",
    "corp",
    "co",
    "ltd",
    "vs",
    "etc",
    "no",
    "jan",
    "feb",
    "mar",
    "apr",
    "jun",
    "jul",
    "aug",
    "sep",
    "sept",
    "oct",
    "nov",
    "dec",
    "pa",
    "fla",
    "calif",
    "mass",
    "wash",
    "ariz",
    "ga",
    "tex",
    "ill",
    "mich",
    "nev",
    "u.s",
    "u.k",
    "u.n",
    "e.u",
    "d.c",
    "a.m",
    "p.m",
    "approx",
    "dept",
    "fig",
    "est",
    "mt",
}

# Words of the list that are also ordinary words ("fell ill.", "said no.", "critical
# mass."): an abbreviation only as written with a capital ("Springfield, Ill.", "No. 2").
_CAPITALISED_ONLY = {"no", "pa", "fla", "calif", "mass", "wash", "ariz", "ga", "tex", "ill", "mich", "nev"}
# After a place or a time ("Washington, D.C.", "9 a.m.", "Springfield, Ill."), a word
# that opens clauses and never follows such an abbreviation inside a sentence means the
# period ended the sentence: "at 9 a.m. The talk follows." is two sentences.
_PLACE_OR_TIME = {"u.s", "u.k", "u.n", "e.u", "d.c", "a.m", "p.m"} | _CAPITALISED_ONLY
_OPENERS = {
    "the", "a", "an", "this", "that", "these", "those", "it", "he", "she", "they", "we", "i",
    "you", "his", "her", "their", "its", "our", "there", "then", "but", "and", "so", "yet",
    "in", "on", "at", "after", "before", "when", "while", "if", "as", "for", "by", "with",
}  # fmt: skip
_WORD = re.compile(r"[A-Za-z]+")

_END = re.compile(r"[.!?…]+[\"'”’)\]]*")
_SPACE = re.compile(r"\s+")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Split ``text`` into sentence spans ``(start, end)`` without leading/trailing space.

    Newlines always end a sentence (articles put paragraphs on lines).

    >>> t = "Gov. Ron DeSantis spoke. It was 8 p.m. Eastern Time! Then: silence."
    >>> [t[a:b] for a, b in sentence_spans(t)]
    ['Gov. Ron DeSantis spoke.', 'It was 8 p.m. Eastern Time!', 'Then: silence.']
    """
    spans: list[tuple[int, int]] = []
    pos = 0
    for line in text.split("\n"):
        _split_line(line, pos, spans)
        pos += len(line) + 1
    return spans


def _open_quote(text: str) -> bool:
    """Does ``text`` leave a quotation open?

    >>> _open_quote('"Wow!'), _open_quote('“It is,” he said.'), _open_quote("Trump’s")
    (True, False, False)
    """
    return text.count('"') % 2 == 1 or text.count("“") > text.count("”")


_ATTRIBUTION = re.compile(
    r"(?:[A-Z][\w.’'-]*\s+){1,4}(?:had\s+|has\s+)?"
    r"(?:said|says|wrote|written|told|asked|replied|added|posted|tweeted|declared|explained)\b"
)


def quoted_sentence_spans(text: str, max_parts: int = 6, max_chars: int = 300) -> list[tuple[int, int]]:
    """Sentence spans in which a quotation is never cut: the sentences of a quote that
    holds several ('"Wow! The launch is a DISASTER! WATCH!" Trump had written.') make
    one span, at most ``max_parts`` sentences and ``max_chars`` long (a longer quoted
    block stays in sentences), never across a line. Evidence and
    reranking work on these; chunking keeps plain sentences.

    >>> t = '"Wow! The launch is a DISASTER! WATCH!" Trump had written. It was May.'
    >>> [t[a:b] for a, b in quoted_sentence_spans(t)]
    ['"Wow! The launch is a DISASTER! WATCH!" Trump had written.', 'It was May.']
    """
    spans = sentence_spans(text)
    out: list[tuple[int, int]] = []
    i = 0
    while i < len(spans):
        start, end = spans[i]
        j = i
        while (
            _open_quote(text[start:end])
            and j + 1 < len(spans)
            and j + 1 - i < max_parts
            and spans[j + 1][1] - start <= max_chars
            and "\n" not in text[end : spans[j + 1][0]]
        ):
            j += 1
            end = spans[j][1]
        if j > i and _open_quote(text[start:end]):
            j, end = i, spans[i][1]  # the quote never closes: keep the sentence alone
        # '..., WATCH!" Trump had written.': the attribution after a closing quote.
        if (
            j > i
            and text[end - 1] in '"”'
            and j + 1 < len(spans)
            and "\n" not in text[end : spans[j + 1][0]]
            and _ATTRIBUTION.match(text[spans[j + 1][0] : spans[j + 1][1]])
        ):
            j += 1
            end = spans[j][1]
        out.append((start, end))
        i = j + 1
    return out


def _split_line(line: str, offset: int, out: list[tuple[int, int]]) -> None:
    start = 0
    n = len(line)
    for m in _END.finditer(line):
        end = m.end()
        if end < n and not line[end].isspace():
            continue  # "1.1", "U.S.-led", "x.com"
        # Next non-space character must plausibly start a sentence.
        j = end
        while j < n and line[j].isspace():
            j += 1
        if j < n and not (line[j].isupper() or line[j].isdigit() or line[j] in "\"“‘'([$£€"):
            continue
        token = line[start : m.start()].rsplit(None, 1)
        if m.group().startswith(".") and len(m.group()) == 1 and _abbreviation(token[-1] if token else "", line, j):
            continue  # "Gov. Ron", "Donald J. Trump"
        _add(line, offset, start, end, out)
        start = end
    _add(line, offset, start, n, out)


def _abbreviation(word: str, line: str, nxt: int) -> bool:
    """Is ``word``, followed by a full stop and then ``line[nxt:]``, an abbreviation (no sentence end)?

    >>> _abbreviation("ill", "He fell ill. Doctors came.", 13), _abbreviation("Ill", "Peoria, Ill. Mayor X", 13)
    (False, True)
    >>> _abbreviation("No", "No. 2 seed", 4), _abbreviation("no", "She said no. Then", 13)
    (True, False)
    >>> _abbreviation("D.C", "Washington, D.C. The city", 17), _abbreviation("p.m", "8 p.m. Eastern Time", 7)
    (False, True)
    """
    bare = word.lstrip("(\"“‘'")
    last = bare.lower()
    if len(last) == 1 and last.isalpha():
        return True  # an initial
    if last not in _ABBREV:
        return False
    if last in _CAPITALISED_ONLY and not bare[:1].isupper():
        return False
    if last == "no":
        return line[nxt : nxt + 1].isdigit()
    if last in _PLACE_OR_TIME:
        after = _WORD.match(line, nxt)
        return not (after and after.group().lower() in _OPENERS)
    return True


def _add(line: str, offset: int, a: int, b: int, out: list[tuple[int, int]]) -> None:
    seg = line[a:b]
    stripped = seg.strip()
    if not stripped:
        return
    lead = len(seg) - len(seg.lstrip())
    out.append((offset + a + lead, offset + a + lead + len(stripped)))


def evidence_spans(text: str) -> list[tuple[int, int]]:
    """The spans of a chunk's sentences that can be evidence. The rerank and the evidence
    stage both split chunks with this, so the evidence stage finds the rerank's vectors
    in the embedding cache.

    >>> t = "It began very late. Why? The servers failed under the load."
    >>> [t[a:b] for a, b in evidence_spans(t)]
    ['It began very late.', 'The servers failed under the load.']
    """
    return [(s, e) for s, e in quoted_sentence_spans(text) if e - s >= MIN_SENTENCE_CHARS]
