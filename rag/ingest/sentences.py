"""Sentence spans by Bling Fire's sentence breaker, with exact character offsets.

Chosen by measurement (``python -m rag.devtools.sentence_bench``) over pysbd and
sentencex: it alone splits every case of the old splitter's failures ("He fell ill.
Doctors came.", "... Washington, D.C. The city ...", "at 9 a.m. The talk ..."), it
splits inside quotations as the evidence stage expects (the others keep a quoted
passage of many sentences whole), and it is fast. Its one systematic slip on news
text is repaired here: a title opening a sentence ("He added. Dr. Smith agreed.")
comes back as a fragment of its own ("Dr."), which is joined to what follows.
"""

from __future__ import annotations

import re

import blingfire

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


def _line_spans(line: str, offset: int) -> list[tuple[int, int]]:
    _, found = blingfire.text_to_sentences_and_offsets(line)
    out: list[tuple[int, int]] = []
    join_next = False
    for a, b in found:
        seg = line[a:b]
        lead = len(seg) - len(seg.lstrip())
        s, e = a + lead, a + len(seg.rstrip())
        if e <= s:
            continue
        if join_next and out:
            s = out.pop()[0]
        out.append((s, e))
        join_next = bool(_TITLE_FRAGMENT.fullmatch(line[s:e]))
    return [(offset + s, offset + e) for s, e in out]
