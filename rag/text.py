"""Text plumbing: sentence spans, normalisation and content words.

Every function here works on offsets into the original string so that a quote
can always be located exactly.
"""

from __future__ import annotations

import re

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
        last = token[-1].lower().lstrip("(\"“‘'") if token else ""
        if m.group().startswith(".") and len(m.group()) == 1:
            if last in _ABBREV or (len(last) == 1 and last.isalpha()):
                continue  # "Gov. Ron", "Donald J. Trump"
        _add(line, offset, start, end, out)
        start = end
    _add(line, offset, start, n, out)


def _add(line: str, offset: int, a: int, b: int, out: list[tuple[int, int]]) -> None:
    seg = line[a:b]
    stripped = seg.strip()
    if not stripped:
        return
    lead = len(seg) - len(seg.lstrip())
    out.append((offset + a + lead, offset + a + lead + len(stripped)))


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


def collapse_space(text: str) -> str:
    return _SPACE.sub(" ", text).strip()
