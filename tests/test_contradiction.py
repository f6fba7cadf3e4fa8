"""The contradiction rules, one worked example each (pure logic, no models)."""

from __future__ import annotations

import pytest

from rag.answer.contradiction import check
from rag.devtools.claim_score import full, lexical

DDOS = "Musk blamed a massive DDoS attack on X for the delay."


def verdict(claim: str, passage: str) -> tuple[str, str]:
    f = check(claim, [passage])
    return f.verdict, f.kind


@pytest.mark.parametrize(
    "claim",
    [
        "Musk did not blame a massive DDoS attack on X for the delay.",
        "Musk never blamed a massive DDoS attack on X for the delay.",
        "Musk didn't blame a massive DDoS attack on X for the delay.",
        "Musk denied blaming a massive DDoS attack on X for the delay.",
    ],
)
def test_negation_added_is_a_contradiction(claim):
    assert verdict(claim, DDOS) == ("contradicted", "negation")
    assert not full(claim, DDOS).accepted


@pytest.mark.parametrize(
    "claim",
    [
        "Musk did not blame a massive DDoS attack on X for the delay.",
        "Musk never blamed a massive DDoS attack on X for the delay.",
    ],
)
def test_the_lexical_check_alone_lets_negation_through(claim):
    # What the rules are for: "not" and "never" are stop words, 6 of 7 content words match.
    assert lexical(claim, DDOS).accepted and not full(claim, DDOS).accepted


def test_negation_reason_names_both_sides():
    f = check("Musk did not blame a massive DDoS attack on X for the delay.", [DDOS])
    assert f.reason == "negation: passage says 'blamed', claim says 'did not blame'"


def test_negation_removed_is_a_contradiction():
    p = "He did not say which states refused more evacuees."
    assert verdict("He did say which states refused more evacuees.", p) == ("contradicted", "negation")
    assert verdict("He said which states refused more evacuees.", p) == ("contradicted", "negation")
    assert verdict("The bill did not fail.", "The bill failed.") == ("contradicted", "negation")


def test_negation_of_a_phrase_of_stop_words_is_seen():
    p = "The youngest members wondered what the fuss was all about."
    assert verdict("The youngest members wondered what the fuss was not all about.", p)[0] == "contradicted"


def test_negation_kept_is_supported():
    p = "Without the new law, contributors would have waited until 2006."
    assert check("Contributors would have waited until 2006 without the new law.", [p]).ok
    assert check("He did not attend the talks.", ["He didn't attend the talks."]).ok
    assert check(DDOS, [DDOS]).ok


def test_swapped_subject_and_object_is_a_contradiction():
    f = check("Evans beat Contador in the final time trial.", ["Contador beat Evans in the final time trial."])
    assert f.verdict == "contradicted" and f.kind in ("roles", "entity"), f


def test_opposite_verb_is_a_contradiction():
    assert verdict("Shares fell 5% on Monday.", "Shares rose 5% on Monday.") == ("contradicted", "antonym")
    assert verdict("The senator criticised the plan.", "The senator praised the plan.") == ("contradicted", "antonym")
    assert verdict("Labour lost the vote.", "Labour won the vote.") == ("contradicted", "antonym")


def test_changed_unit_is_a_contradiction():
    p = "The interview was delayed by over 40 minutes."
    assert verdict("The interview was delayed by over 40 hours.", p) == ("contradicted", "unit")
    assert verdict("The interview was delayed by over 45 minutes.", p) == ("contradicted", "number")
    assert check("The interview was delayed by over 40 minutes.", [p]).ok


def test_changed_scale_is_a_contradiction():
    p = "His X account is followed by 88 million."
    assert verdict("His X account is followed by 88 thousand.", p) == ("contradicted", "unit")


def test_a_scale_written_short_is_the_same_scale():
    p = "Musk bought Twitter for $44 billion."
    assert check("Musk bought Twitter for $44bn.", [p]).ok
    assert verdict("Musk bought Twitter for $44 million.", p) == ("contradicted", "unit")


def test_flipped_comparison_is_a_contradiction():
    p = "The talk drew more than a million listeners."
    assert verdict("The talk drew less than a million listeners.", p) == ("contradicted", "quantifier")
    assert verdict("At most 27 members agreed.", "At least 27 members agreed.") == ("contradicted", "quantifier")


def test_changed_weekday_is_a_contradiction():
    p = "The telethon was organised on Sunday, January 16. It raised money on Tuesday too."
    assert verdict("The telethon was organised on Tuesday, January 16.", p) == ("contradicted", "date")
    assert verdict("The telethon was organised on Friday, January 16.", p)[0] != "supported"


def test_attribution_moved_to_another_speaker_is_a_contradiction():
    p = '"It was a glitch," said Joseph Costello. Harris spoke later.'
    assert verdict('"It was a glitch," said Harris.', p) == ("contradicted", "attribution")
    assert check('"It was a glitch," Joseph Costello said.', [p]).ok


def test_entity_swapped_with_a_neighbour_is_a_contradiction():
    p = "Diego Grez was in Santa Cruz at the time. In Pichilemu, the power also went out, but came back soon."
    assert verdict("In Santa Cruz, the power also went out, but came back soon.", p)[0] == "contradicted"


def test_truncated_and_clause_moved_claims_are_supported():
    p = "On Monday, Musk interviewed Trump on X, which crashed repeatedly."
    assert check("Musk interviewed Trump on X on Monday.", [p]).ok
    assert check("On Monday, Musk interviewed Trump on X.", [p]).ok


@pytest.mark.parametrize(
    ("claim", "passage"),
    [
        (
            "The interview started more than 40 minutes late.",
            "The interview, which was delayed by over 40 minutes, began late.",
        ),
        ("Trump said the interview was great.", "“The interview was great,” Trump said."),
        (
            "Costello said the campaign was in service of people like Musk.",
            "He added, “Trump’s entire campaign is in service of people like Elon Musk,” said spokesperson Joseph Costello.",
        ),
        ("Trump did not win the popular vote in 2016.", "Trump failed to win the popular vote in 2016."),
        ("No one was hurt.", "Nobody was hurt."),
        ("The talk drew over a million listeners.", "More than a million users tuned in to the talk."),
    ],
)
def test_restatements_a_reader_would_accept_are_not_contradicted(claim, passage):
    assert check(claim, [passage]).ok, check(claim, [passage])


@pytest.mark.parametrize(
    ("claim", "passage"),
    [
        ("The network has 7.5 million registered users.", "He has 7.5 million followers on the network."),
        ("Police counted 300 cars at the border.", "Police counted 300 trucks at the border."),
        ("The crew came from the merchant ship HMS Keel.", "The crew came from the frigate HMS Keel."),
    ],
)
def test_what_a_figure_counts_and_what_a_name_is_called_are_the_passages(claim, passage):
    assert check(claim, [passage]).verdict == "contradicted"


@pytest.mark.parametrize(
    ("claim", "passage"),
    [
        ("He has 7.5 million followers.", "He has 7.5 million followers on the network."),
        ("He is followed by 88 million.", "His account is followed by 88 million people."),
        ("The crew came from HMS Keel.", "The crew came from the frigate HMS Keel."),
        (
            "A small Ontario town gave money.",
            "Milton, Ontario - a small town gave money. Ontario town asks for it back.",
        ),
    ],
)
def test_a_figure_or_name_left_undescribed_is_not_contradicted(claim, passage):
    assert check(claim, [passage]).ok
