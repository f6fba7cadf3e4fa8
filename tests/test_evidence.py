"""Evidence scoring: pure logic with a toy embedder (no models)."""

from __future__ import annotations

import zlib

import numpy as np
import pytest

from rag.answer import evidence as ev
from rag.types import Hit


class BagEmbedder:
    """Unit vectors of hashed words: sentences sharing words are similar."""

    def embed(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), 64))
        for i, t in enumerate(texts):
            for w in ev.lexical_tokens(t):
                out[i, zlib.crc32(w.encode()) % 64] += 1.0  # stable across runs, unlike hash()
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0, 1, norms)


def _hit(text: str, start: int = 0, article: str = "a") -> Hit:
    return Hit("c", article, "f.txt", "T", "O", "", text, start, start + len(text), 1.0)


LEAD = "In turn, Trump complimented Musk for his history of cutting staff and costs."
QUOTE = "“You’re the greatest cutter,” the former president said."
OTHER = "The stream was delayed by forty minutes while engineers worked."


def test_continuation_is_scored_with_its_lead_in():
    text = f"{LEAD} {QUOTE} {OTHER}"
    cands = ev.candidates([_hit(text)])
    assert [c.text for c in cands] == [LEAD, QUOTE, OTHER]
    assert ev.previous_sentence(cands) == {1: 0, 2: 1}
    q = "What did Trump call Musk when talking about cutting costs and staff?"
    ev.score_candidates(q, cands, BagEmbedder())
    by_text = {c.text: c for c in cands}
    # On its own the quote shares no word with the question; with its lead-in it
    # ranks next to it, well above the unrelated sentence.
    assert by_text[QUOTE].overlap == 0.0
    assert by_text[QUOTE].score > by_text[OTHER].score + 0.2
    assert [c.text for c in ev.select(cands, 2)] == [LEAD, QUOTE]


def test_a_continuation_chosen_with_its_lead_in_is_shown_with_it():
    # The quote wins its place only with its lead-in; alone, "the former president" is
    # no one. Shown as one verbatim span of the article (offsets included).
    text = f"{LEAD} {QUOTE} {OTHER}"
    hit = _hit(text, start=500)
    cands = ev.candidates([hit])
    q = "What did Trump call Musk when talking about cutting costs and staff?"
    ev.score_candidates(q, cands, BagEmbedder())
    quote = next(c for c in cands if c.text == QUOTE)
    assert quote.lead is cands[0]
    (shown,) = ev.with_leads([quote])
    assert shown.text == f"{LEAD} {QUOTE}" == text[shown.start - 500 : shown.end - 500]
    (p,) = ev.to_passages([shown])
    assert (p.start, p.end, p.text) == (500, 500 + len(LEAD) + 1 + len(QUOTE), f"{LEAD} {QUOTE}")
    # When the lead-in is chosen too, each stays itself.
    assert [c.text for c in ev.with_leads(ev.select(cands, 2))] == [LEAD, QUOTE]


def test_a_sentence_that_stands_alone_does_not_borrow_context():
    # OTHER follows the quote but opens on its own subject: it keeps its own score.
    cands = ev.candidates([_hit(f"{LEAD} {OTHER}")])
    q = "What did Trump call Musk when talking about cutting costs and staff?"
    ev.score_candidates(q, cands, BagEmbedder())
    alone = ev.candidates([_hit(OTHER)])
    ev.score_candidates(q, alone, BagEmbedder())
    assert cands[1].score == pytest.approx(alone[0].score)


def test_sentences_of_other_articles_are_not_lead_ins():
    cands = ev.candidates([_hit(LEAD, 0, "a"), _hit(QUOTE, len(LEAD) + 1, "b")])
    assert ev.previous_sentence(cands) == {}


def test_quotes_are_favoured_for_what_was_said_but_not_for_who_said_it():
    said = "What did Musk say about climate change?"
    who = "Who said climate change was urgent?"
    quoted = ev.candidates([_hit("“It is not urgent,” Musk said of climate change.")])
    plain = ev.candidates([_hit("Musk said climate change is not urgent at all.")])
    for q, favoured in ((said, True), (who, False)):
        ev.score_candidates(q, quoted, BagEmbedder())
        ev.score_candidates(q, plain, BagEmbedder())
        gap = quoted[0].score - (
            0.6 * quoted[0].dense + 0.4 * quoted[0].overlap + ev.answer_type_bonus(q, quoted[0].text)
        )
        assert (abs(gap - ev.QUOTE_BONUS) < 1e-9) is favoured


def test_calendar_dates_beat_vague_ones_and_years_are_not_counts():
    assert ev.answer_type_bonus("On what date was it?", "It was on 12 August.") > ev.answer_type_bonus(
        "On what date was it?", "It was last month."
    )
    assert ev.answer_type_bonus("How many accounts voted?", "A poll ran in 2022.") == 0.0
    assert ev.answer_type_bonus("How many accounts voted?", "Fifteen million accounts voted.") > 0
    assert ev.answer_type_bonus("How soon did he endorse him?", "He endorsed him two days later.") > 0


def test_a_quotation_of_several_sentences_is_one_candidate():
    # Split at its exclamation marks, "DISASTER" sat alone in a fragment that shares no
    # word with "How did Trump mock DeSantis's launch?" and lost to the lead-in.
    text = (
        "At that time, Trump had mocked DeSantis's botched rollout. "
        '"Wow! The DeSanctus TWITTER launch is a DISASTER! His whole campaign will be a disaster. WATCH!" '
        "Trump had written in a message."
    )
    got = [c.text for c in ev.candidates([_hit(text)])]
    assert got == [
        "At that time, Trump had mocked DeSantis's botched rollout.",
        '"Wow! The DeSanctus TWITTER launch is a DISASTER! His whole campaign will be a disaster. WATCH!" '
        "Trump had written in a message.",
    ]
    assert all(text[c.start : c.end] == c.text for c in ev.candidates([_hit(text)]))
