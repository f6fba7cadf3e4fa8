"""Property tests of the text plumbing (rag.text): sentence offsets and normalisation."""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st
from test_gold import normalise as gold_normalise

from rag.text import collapse_space, content_words, normalise, numbers, quoted_sentence_spans, sentence_spans

# Words, numbers, abbreviations, quotes and sentence ends in every combination.
_WORDS = st.sampled_from(
    [
        "Musk",
        "Trump",
        "said",
        "the",
        "Gov.",
        "Mr.",
        "U.S.",
        "p.m.",
        "1.1",
        "$44",
        "51.8%",
        "x.com",
        "“quoted”",
        "(aside)",
        "e.g.",
        "J.",
        "𝕏",
        "café",
        "…",
        "—",
        "it’s",
        "400,000",
        "DDOS",
    ]  # fmt: skip
)
_ENDS = st.sampled_from([".", "!", "?", "…", ".”", "?)", "", ". ", "\n", "\n\n", "  "])


@st.composite
def article_like(draw) -> str:
    parts = []
    for _ in range(draw(st.integers(0, 12))):
        words = draw(st.lists(_WORDS, min_size=1, max_size=12))
        parts.append(" ".join(words) + draw(_ENDS))
    return draw(st.sampled_from([" ", "", "\n"])).join(parts)


_ANY_TEXT = st.one_of(article_like(), st.text(max_size=300))


def _check_spans(text: str) -> None:
    spans = sentence_spans(text)
    prev_end = 0
    covered = set()
    for a, b in spans:
        assert prev_end <= a < b <= len(text), (a, b, prev_end)
        seg = text[a:b]
        assert seg == seg.strip() and seg, repr(seg)
        assert "\n" not in seg
        covered.update(range(a, b))
        prev_end = b
    missing = [i for i, ch in enumerate(text) if not ch.isspace() and i not in covered]
    assert not missing, f"characters outside every sentence: {[text[i] for i in missing][:10]}"


@given(_ANY_TEXT)
@settings(max_examples=300, deadline=None)
@example("Gov. Ron DeSantis spoke. It was 8 p.m. Eastern Time! Then: silence.")
@example(" \n\t\r\u2028x.\u00a0 Y")
def test_sentence_spans_cover_text_in_order(text):
    _check_spans(text)


_QUOTED = st.lists(
    st.tuples(st.sampled_from(["", '"', "“", "”", "‘"]), _WORDS, st.sampled_from(["", '"', "”", ","]), _ENDS),
    max_size=10,
).map(lambda parts: " ".join(f"{o}{w.capitalize()} word{c}{e}" for o, w, c, e in parts))


@given(st.one_of(_QUOTED, _ANY_TEXT))
@settings(max_examples=300, deadline=None)
@example('"Wow! The launch is a DISASTER! WATCH!" Trump had written. It was May.')
def test_quoted_spans_join_whole_sentences_only(text):
    """Every quoted span is a run of consecutive plain sentences on one line: the same
    text, in order, cut only where a plain sentence ends."""
    plain = sentence_spans(text)
    starts, ends = {a for a, _ in plain}, {b for _, b in plain}
    joined = quoted_sentence_spans(text)
    assert all(a in starts and b in ends and "\n" not in text[a:b] for a, b in joined)
    inside = [[p for p in plain if a <= p[0] and p[1] <= b] for a, b in joined]
    assert [p for group in inside for p in group] == plain


def test_sentence_spans_known_cases():
    t = "Only 1.1 million were listening. Musk, of x.com, spoke at 8 p.m. Eastern. “Yes!” he said.\nNew line"
    assert [t[a:b] for a, b in sentence_spans(t)] == [
        "Only 1.1 million were listening.",
        "Musk, of x.com, spoke at 8 p.m. Eastern.",
        "“Yes!” he said.",
        "New line",
    ]
    t = "Donald J. Trump met Mr. Musk in the U.S. on Monday. They talked."
    assert [t[a:b] for a, b in sentence_spans(t)] == [
        "Donald J. Trump met Mr. Musk in the U.S. on Monday.",
        "They talked.",
    ]
    assert sentence_spans("") == [] and sentence_spans(" \n \n") == []


@given(_ANY_TEXT)
@settings(max_examples=300, deadline=None)
def test_normalise_is_idempotent(text):
    once = normalise(text)
    assert normalise(once) == once


@given(_ANY_TEXT)
@settings(max_examples=300, deadline=None)
@example("£35.5 … Straße 𝕏 ½ ² .5 İ ﬁ")
def test_normalise_is_the_gold_rule(text):
    """evals/README.md: any copy of the rule in rag/ must give exactly the same results."""
    assert normalise(text) == gold_normalise(text)


def test_normalise_examples_from_the_eval_readme():
    assert normalise("Only 1.1 million were listening.") == "only 1.1 million were listening"
    assert normalise("“$44 billion” — 51.8%!") == "$44 billion 51.8%"
    assert normalise("Trump’s") == "trump s"
    assert normalise("8 p.m.") == "8 p.m"
    assert normalise("400,000") == "400 000"


def test_content_words_and_numbers():
    assert content_words("Trump’s 60 million listeners, said Musk.") == ["trump", "60", "million", "listeners", "musk"]
    assert numbers("1,100 of 60 million, 51.8%; $44.") == {"1100", "60", "51.8", "44"}
    assert collapse_space("  a \n\t b  ") == "a b"
