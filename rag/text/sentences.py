"""Sentences: spans of sentences (and of quotations with their attribution) as offsets into the text.

Every function here works on offsets into the original string so that a quote
can always be located exactly.

Sentences are Bling Fire's (``blingfire.text_to_sentences_and_offsets``), chosen by
measurement (``python -m rag.devtools.sentence_bench``) over pysbd and sentencex: it
alone splits every case a hand-written abbreviation list got wrong ("He fell ill.
Doctors came.", "... Washington, D.C. The city ...", "at 9 a.m. The talk ..."), it
splits inside quotations as the evidence stage expects (the others keep a quoted
passage of many sentences whole), and it is fast. Its one systematic slip on news
text is repaired here: a title opening a sentence ("He added. Dr. Smith agreed.")
comes back as a fragment of its own ("Dr."), which is joined to what follows.
"""

from __future__ import annotations

import re

import blingfire

from rag.tuning import MIN_SENTENCE_CHARS

# Titles that Bling Fire can leave as a one-word "sentence" when they open one.
_TITLE_FRAGMENT = re.compile(
    r"(?:Mr|Mrs|Ms|Mx|Dr|Prof|Gov|Sen|Rep|Gen|Lt|Col|Maj|Sgt|Cpl|Capt|Cmdr|Adm|Rev|Fr|St|Supt|Insp|Det|Hon|Pres)\.",
)


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans ``(start, end)`` of ``text``, trimmed of surrounding space.

    A line break always ends a sentence (stored articles put a paragraph on a line).

    >>> t = "He fell ill. Doctors came.\\nShe lives in Washington, D.C. The city is big."
    >>> [t[a:b] for a, b in split_sentences(t)]
    ['He fell ill.', 'Doctors came.', 'She lives in Washington, D.C.', 'The city is big.']
    >>> t = "He added. Dr. Smith agreed. It was 8 p.m. Eastern Time!"
    >>> [t[a:b] for a, b in split_sentences(t)]
    ['He added.', 'Dr. Smith agreed.', 'It was 8 p.m. Eastern Time!']
    """
    spans: list[tuple[int, int]] = []
    pos = 0
    for line in text.split("\n"):
        if line.strip():
            spans.extend(_line_spans(line, pos))
        pos += len(line) + 1
    return spans


# A quotation that ends a sentence followed by one that opens the next (‘… “demonizing
# people.” “It’s not like …”’): Bling Fire keeps the two together.
_QUOTE_AFTER_QUOTE = re.compile(r"(?<=[.!?…]”)\s+(?=“)")
# A sentence that opens on a figure ("He won. 12 people died.", "... on X. $44 billion was
# paid."): Bling Fire never ends a sentence before a digit or a currency sign.
_BEFORE_FIGURE = re.compile(r"(\S+?)([.!?…]+[\"'”’)\]]*)(\s+)(?=[$£€]?\d)")
# Words whose period is followed by a number inside one sentence ("No. 1", "Sept. 3",
# "Fig. 2", "pp. 12"): no cut after them.
_NUMBERED = frozenset(
    "no nos nr fig figs p pp vol vols ch chap sec sect art arts para op ed eq ex tab ref approx ca c cf vs v"
    " jan feb mar apr jun jul aug sep sept oct nov dec st rt rte hwy apt ste ext tel est max min avg".split()
)


def _line_spans(line: str, offset: int) -> list[tuple[int, int]]:
    """Bling Fire's sentence ends become cut points, so that every character of the
    line lands in a sentence (Bling Fire leaves out some, such as control characters).

    >>> t = 'He said it should happen without “demonizing people.” “It is not urgent,” Musk said.'
    >>> [t[a:b] for a, b in _line_spans(t, 0)]
    ['He said it should happen without “demonizing people.”', '“It is not urgent,” Musk said.']
    """
    _, found = blingfire.text_to_sentences_and_offsets(line)
    ends = [min(max(b, 0), len(line)) for _, b in found] + [m.start() for m in _QUOTE_AFTER_QUOTE.finditer(line)]
    ends += _figure_cuts(line)
    cuts = sorted({0, len(line), *ends})
    out: list[tuple[int, int]] = []
    join_next = False
    for a, b in zip(cuts, cuts[1:]):
        seg = line[a:b]
        s, e = a + len(seg) - len(seg.lstrip()), a + len(seg.rstrip())
        if e <= s:
            continue
        if join_next and out:
            s = out.pop()[0]
        out.append((s, e))
        join_next = bool(_TITLE_FRAGMENT.fullmatch(line[s:e]))
    return [(offset + s, offset + e) for s, e in out]


def _figure_cuts(line: str) -> list[int]:
    """Where a sentence ends before one that opens on a figure.

    A period after a word that takes a number ("No. 1") or inside an abbreviation
    ("8 p.m. 12 ...") is no cut.

    >>> t = "He won. 12 people died at 8 p.m. 3 more on Sept. 3. Musk paid. $44 billion!"
    >>> [t[c:] for c in _figure_cuts(t)]
    [' 12 people died at 8 p.m. 3 more on Sept. 3. Musk paid. $44 billion!', ' $44 billion!']
    """
    cuts = []
    for m in _BEFORE_FIGURE.finditer(line):
        if m.start() > 0 and not line[m.start() - 1].isspace():
            continue  # the match began inside a word: "3.5. 12" is matched from its start elsewhere
        word, end = m.group(1).lstrip("(\"“‘'[").lower(), m.group(2)
        abbreviation = "." in word and not word.replace(".", "").replace(",", "").isdigit()
        if end[0] == "." and len(end) == 1 and (abbreviation or word in _NUMBERED):
            continue
        cuts.append(m.start(3))
    return cuts


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
    spans = split_sentences(text)
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


def evidence_spans(text: str) -> list[tuple[int, int]]:
    """The spans of a chunk's sentences that can be evidence. The rerank and the evidence
    stage both split chunks with this, so the evidence stage finds the rerank's vectors
    in the embedding cache.

    >>> t = "It began very late. Why? The servers failed under the load."
    >>> [t[a:b] for a, b in evidence_spans(t)]
    ['It began very late.', 'The servers failed under the load.']
    """
    return [(s, e) for s, e in quoted_sentence_spans(text) if e - s >= MIN_SENTENCE_CHARS]
