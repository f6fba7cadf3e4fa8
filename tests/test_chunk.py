"""Chunking: property tests (hypothesis) and the embedder's 256 word-piece window."""

from __future__ import annotations

import pytest
from conftest import MULTILING, SEEDS
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from rag.ingest.chunk import MAX_TOKENS, chunk_article, content_hash, count_tokens
from rag.ingest.read import read_file
from rag.text import sentence_spans

_WORD = st.sampled_from(
    ["Musk", "Trump", "said", "the", "listeners", "Gov.", "U.S.", "1.1", "$44", "“quoted”", "𝕏", "😀😀", "naïve",
     "https://example.com/a/very/long/path?with=query&and=more", "—", "x" * 40]
)  # fmt: skip
_SHORT_WORD = st.sampled_from(["Musk", "Trump", "said", "the", "Gov.", "U.S.", "1.1", "$44", "“quoted”", "𝕏", "naïve"])
_END = st.sampled_from([". ", "! ", "? ", ".\n", ".\n\n", "\n", " "])


@st.composite
def article_text(draw, max_sentences: int = 25, max_words: int = 40, words=_WORD) -> str:
    n = draw(st.integers(1, max_sentences))
    return "".join(
        " ".join(draw(st.lists(words, min_size=1, max_size=max_words))) + draw(_END) for _ in range(n)
    ).strip()


def _covered(text: str, chunks) -> list[int]:
    cov = bytearray(len(text))
    for c in chunks:
        cov[c.start : c.end] = b"\x01" * (c.end - c.start)
    return [i for i, ch in enumerate(text) if not ch.isspace() and not cov[i]]


@given(article_text(), st.integers(8, 200), st.integers(0, 2))
@settings(max_examples=150, deadline=None)
@example("😀" * 300 + " end.", 8, 1)
@example("word " * 30 + "x" * 500 + " tail words here.", 10, 1)
def test_chunks_cover_round_trip_and_keep_the_budget(text, max_tokens, overlap):
    chunks = chunk_article("a1", text, max_tokens=max_tokens, overlap=overlap)
    assert chunks, "a non-empty text gives at least one chunk"
    assert not _covered(text, chunks), "every non-space character lies in some chunk"
    for k, c in enumerate(chunks):
        assert c.index == k and c.id == f"a1:{k}" and c.article_id == "a1"
        assert text[c.start : c.end] == c.text, "offsets round-trip"
        assert c.text == c.text.strip() and c.text
        assert count_tokens(c.text) <= max_tokens, (count_tokens(c.text), max_tokens)
    starts = [c.start for c in chunks]
    assert starts == sorted(set(starts)), "chunks move forward"


@given(article_text(max_words=8, words=_SHORT_WORD), st.integers(40, 200), st.integers(0, 2))
@settings(max_examples=150, deadline=None)
def test_overlap_is_whole_sentences(text, max_tokens, overlap):
    """With every sentence under budget, chunks are runs of whole sentences and
    consecutive chunks share exactly min(overlap, sentences in the first - 1) of them."""
    spans = sentence_spans(text)
    assume(all(count_tokens(text[a:b]) <= max_tokens for a, b in spans))
    starts = {a: i for i, (a, _) in enumerate(spans)}
    ends = {b: i for i, (_, b) in enumerate(spans)}
    chunks = chunk_article("a", text, max_tokens=max_tokens, overlap=overlap)
    runs = []
    for c in chunks:
        assert c.start in starts and c.end in ends, "chunk boundaries are sentence boundaries"
        runs.append((starts[c.start], ends[c.end]))
    for (a1, b1), (a2, _) in zip(runs, runs[1:]):
        shared = b1 - a2 + 1
        assert shared == min(overlap, b1 - a1), (runs, overlap)
    assert runs[0][0] == 0 and runs[-1][1] == len(spans) - 1


def test_chunk_article_examples():
    text = "One. Two two. Three three three."
    assert [c.text for c in chunk_article("a", text, max_tokens=7)] == ["One. Two two.", "Two two. Three three three."]
    assert chunk_article("a", "") == [] and chunk_article("a", " \n ") == []
    assert content_hash("abc") == content_hash("abc") != content_hash("abd")


def _corpus_articles():
    files = sorted(SEEDS.glob("*.txt")) + sorted((MULTILING / "articles").glob("*.txt"))
    assert len(files) >= 105, "the seeds and the 100 MultiLing articles"
    return [a for f in files for a in read_file(f, 10_000_000)]


@pytest.mark.slow
def test_embedder_never_truncates_a_chunk(embedder):
    """Every chunk of the seeds and of the MultiLing articles fits all-MiniLM-L6-v2's
    256 word pieces (counted with the model's own tokenizer, [CLS] and [SEP] included)."""
    assert embedder.max_seq_length <= 256
    worst = (0, "")
    n = 0
    for a in _corpus_articles():
        for c in chunk_article(a.id, a.text):
            n += 1
            assert count_tokens(c.text) <= MAX_TOKENS
            pieces = embedder.count_wordpieces(c.text)
            worst = max(worst, (pieces, a.file))
    assert n > 400
    assert worst[0] <= embedder.max_seq_length, f"{worst[1]}: a chunk of {worst[0]} word pieces would be truncated"
