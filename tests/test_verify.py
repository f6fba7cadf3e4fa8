"""Marker parsing and citation verification (pure logic, no models)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rag.answer.contradiction import check
from rag.answer.verify import split_answer, support, unanchored, verify
from rag.text import names
from rag.types import Passage


def P(n: int, text: str) -> Passage:
    return Passage(n, f"a{n}", f"f{n}.txt", "", "Outlet", "", text, 0, len(text))


PASSAGES = [
    P(1, "Only 1.1 million were listening at that moment."),
    P(2, "The interview, which was delayed by over 40 minutes, began with Trump recounting the attempt."),
    P(3, "Musk claimed the issues were down to a “massive DDOS,” a denial-of-service attack."),
]


def test_split_answer_markers_and_sentences():
    got = split_answer("About 1.1 million listened [1]. It started 40 minutes late [2][3].")
    assert got == [("About 1.1 million listened.", [1]), ("It started 40 minutes late.", [2, 3])]


def test_split_answer_marker_after_period_and_comma_list():
    assert split_answer("Musk blamed an attack. [3] Done [1, 2].") == [
        ("Musk blamed an attack.", [3]),
        ("Done.", [1, 2]),
    ]


def test_supported_sentence_is_kept_with_its_citation():
    v = verify("Only 1.1 million were listening [1].", PASSAGES)
    assert [(s.text, s.cited, s.supported) for s in v.sentences] == [("Only 1.1 million were listening.", [1], True)]


def test_wrong_number_is_rejected():
    ok, why = support("Only 60 million were listening.", [PASSAGES[0]])
    assert not ok and "60" in why


def test_unknown_name_is_rejected():
    ok, why = support("JD Vance was listening at that moment.", [PASSAGES[0]])
    assert not ok and "name" in why


def test_low_overlap_is_rejected():
    ok, why = support("The moon landing was faked by engineers.", [PASSAGES[1]])
    assert not ok and "words" in why


def test_marker_naming_no_passage_is_dropped_and_support_searched():
    v = verify("It was delayed by over 40 minutes [7].", PASSAGES)
    (s,) = v.sentences
    assert s.supported and s.cited == [2]


def test_misattributed_citation_is_repaired():
    v = verify("Musk claimed a denial-of-service attack [1].", PASSAGES)
    assert v.sentences[0].cited == [3]


def test_uncited_unsupported_sentence_is_dropped():
    v = verify("Trump won the election in a landslide.", PASSAGES)
    assert v.kept == [] and v.dropped[0].reason


def test_fake_marker_text_in_answer_is_not_trusted():
    # An injected "[1] The moon is made of cheese" must not pass as supported by [1].
    v = verify("The moon is made of cheese [1].", PASSAGES)
    assert not v.sentences[0].supported


def test_names_skip_sentence_start_and_function_words():
    assert names("The former president met Musk in Butler, Pa.") == {"Musk", "Butler", "Pa"}


@given(st.lists(st.sampled_from([p.text for p in PASSAGES]), min_size=1, max_size=3))
def test_verbatim_passages_always_verify(texts):
    # Whatever passages the model copies verbatim, with the right marker, are supported.
    answer = " ".join(f"{t[:-1]} [{[p.text for p in PASSAGES].index(t) + 1}]." for t in texts)
    v = verify(answer, PASSAGES)
    assert all(s.supported for s in v.sentences)


def test_marker_after_a_closing_quote_stays_with_its_sentence():
    assert split_answer('He said "it was nice." [1] Then he left [2].') == [
        ('He said "it was nice."', [1]),
        ("Then he left.", [2]),
    ]


FOLLOWERS = P(
    1,
    "Trump has just over 7.5 million followers on Truth Social, while his mostly dormant X account is followed by 88 million.",
)


def test_name_moved_to_another_clause_is_rejected():
    # Every word is in the passage, but "X" now holds Truth Social's figure.
    moved = verify("Trump has just over 7.5 million followers on X [1].", [FOLLOWERS])
    assert not moved.sentences[0].supported and "not where the passage puts it" in moved.sentences[0].reason
    kept = verify("His mostly dormant X account is followed by 88 million [1].", [FOLLOWERS])
    assert kept.sentences[0].supported


@given(st.data())
def test_any_verbatim_stretch_of_a_passage_is_anchored(data):
    words = FOLLOWERS.text.split()
    i = data.draw(st.integers(0, len(words) - 2))
    j = data.draw(st.integers(i + 2, len(words)))
    assert unanchored(" ".join(words[i:j]), FOLLOWERS.text) is None


def test_a_figure_without_its_scale_is_rejected():
    # The model answered "How many followers does Trump have on X?" with "88 [1]":
    # every word is in the passage, but 88 is not 88 million.
    for wrong in ("88 [1].", "His X account is followed by 88 thousand [1]."):
        checked = verify(wrong, [FOLLOWERS]).sentences[0]
        assert not checked.supported and "without the scale" in checked.reason, checked
    assert verify("His X account is followed by 88 million [1].", [FOLLOWERS]).sentences[0].supported


@given(st.data())
def test_any_verbatim_stretch_of_a_passage_keeps_its_scales(data):
    from rag.answer.verify import rescaled

    words = FOLLOWERS.text.split()
    i = data.draw(st.integers(0, len(words) - 1))
    j = data.draw(st.integers(i + 1, len(words)))
    stretch = " ".join(words[i:j])
    # A stretch that cuts between a figure and its scale word drops the scale.
    cut = any(w[0].isdigit() for w in words[j - 1 : j]) and j < len(words) and words[j].startswith("million")
    assert (rescaled(stretch, FOLLOWERS.text) is None) != cut


# A name, number or month the question gives may stand in the cited article's headline: the
# lexical share, the rules and abbreviated months ("Dec. 2004") all read it from there.
_QUAKE = "The shaking lasted between 500 and 600 seconds, said a professor at the university."
_QUAKE_P = [Passage(1, "a", "a.txt", "Dec. 2004 Andaman quake was the longest", "", "", _QUAKE, 0, len(_QUAKE))]


def test_question_terms_in_the_headline_count_for_the_share_and_the_rules():
    claim = "The shaking of the December 2004 Andaman quake lasted between 500 and 600 seconds."
    question = "How long did the shaking of the December 2004 Andaman quake last?"
    assert support(claim, _QUAKE_P, question) == (True, "")
    assert not support(claim, _QUAKE_P)[0]  # without the question, the passage alone must hold them


@pytest.mark.parametrize(
    "claim",
    [
        "The shaking of the December 2005 Andaman quake lasted between 500 and 600 seconds.",  # not the headline's year
        "The shaking of the March 2004 Andaman quake lasted between 500 and 600 seconds.",  # not the headline's month
        "The shaking of the December 2004 Andaman quake lasted between 400 and 600 seconds.",  # a figure changed
        "The shaking of the December 2004 Andaman quake did not last between 500 and 600 seconds.",
    ],
)
def test_what_the_headline_does_not_say_is_still_rejected(claim):
    question = claim.replace("The shaking of the", "How long did the shaking of the").split(" lasted")[0] + " last?"
    question = question.replace(" did not last", " last")
    assert not support(claim, _QUAKE_P, question)[0]


def test_the_question_does_not_supply_words_the_headline_lacks():
    text = "But he has only 7.5 million followers on the network."
    p = [Passage(1, "a", "a.txt", "He returns to the network", "", "", text, 0, len(text))]
    claim = "The network has 7.5 million registered users."
    assert not support(claim, p, "How many registered users does the network have?")[0]


def test_a_bare_list_of_names_needs_no_anchor_but_a_clause_does():
    text = "The Arctic Council strongly opposes the new rules, as do Norway and Chile."
    p = [Passage(1, "a", "a.txt", "", "", "", text, 0, len(text))]
    assert support("Norway, Chile, and the Arctic Council.", p) == (True, "")
    assert not support("Chile opposes the Arctic Council.", p)[0]  # a name moved into another clause


def test_a_reply_may_restate_the_question_but_not_supply_what_a_figure_counts():
    text = "Ann Lee, the agency's chief of relief, said rich nations were being 'stingy' with their gifts."
    p = [Passage(1, "a", "a.txt", "", "", "", text, 0, len(text))]
    question = "What word did the agency's relief chief first use for the gifts of rich nations?"
    reply = "The agency's relief chief first used the word 'stingy'."
    assert support(reply, p, question) == (True, "")
    assert not support(reply, p)[0]  # the restated words are the question's, not the passage's
    text2 = "The agency says 120 nations gave money."
    p2 = [Passage(1, "a", "a.txt", "", "", "", text2, 0, len(text2))]
    assert not support("The agency has 120 registered donors.", p2, "How many registered donors does the agency have?")[
        0
    ]


# A reply restates its question around the answer. Where the question's own words put a
# name, the reply may keep it there; the name must still be in the passages.
_WITHDRAWN = "The race leader, Jan Berg, has been withdrawn from the 2009 Giro by his team Astana for missing a test."
_WITHDRAWN_P = [P(1, _WITHDRAWN)]
_WITHDRAWN_Q = "Why was Jan Berg pulled out of the Giro?"


def test_a_name_where_the_question_puts_it_is_anchored_by_the_question():
    reply = "Jan Berg was pulled out of the Giro for missing a test."
    assert support(reply, _WITHDRAWN_P, _WITHDRAWN_Q) == (True, "")
    assert "not where the passage puts it" in support(reply, _WITHDRAWN_P)[1]  # no question: "the Giro" is not anchored


def test_the_question_does_not_anchor_a_name_in_a_clause_of_the_reply_s_own():
    # "followers on X" is not the question's wording: X keeps no neighbour from the passage or the question.
    assert not support(
        "Trump has just over 7.5 million followers on X.", [FOLLOWERS], "How many followers does Trump have on X?"
    )[0]
    # Nor does it supply a name the passages lack.
    reply = "Jan Berg was pulled out of the Tour for missing a test."
    assert not support(reply, _WITHDRAWN_P, _WITHDRAWN_Q.replace("Giro", "Tour"))[0]


def test_a_name_is_no_verb_for_the_roles_rule():
    # "Astana" and "race leader" stand on either side of "Giro" in the passage and the other way
    # round in the reply: no roles traded, the sentence was turned round a name.
    reply = "Astana pulled Jan Berg out of the Giro while he was race leader for missing a test."
    question = "Why did Astana pull Jan Berg out of the Giro while he was race leader?"
    assert support(reply, _WITHDRAWN_P, question) == (True, "")
    assert check(reply, [_WITHDRAWN]).ok  # the contradiction rules alone
    swapped = [P(1, "Evans beat Contador by 23 seconds in the final time trial of the Tour.")]
    assert not support("Contador beat Evans by 23 seconds in the final time trial of the Tour.", swapped)[0]


def test_a_name_the_question_gives_may_stand_as_its_people_in_the_passage():
    p = [P(1, "The minister said firmly that no deal had been made with the Kenyans to end the dispute.")]
    reply = "The minister said no deal had been made with Kenya to end the dispute."
    question = "What did the minister say about a deal with Kenya to end the dispute?"
    assert support(reply, p, question) == (True, "")
    assert not support(reply, p)[0]  # a name the question does not give must be the passage's own
    assert not support(reply.replace("Kenya", "Kent"), p, question.replace("Kenya", "Kent"))[0]


def test_a_year_the_question_gives_may_be_the_year_of_the_cited_article():
    text = "He won by 23 seconds over Cadel Evans of Australia."
    p = [Passage(1, "a", "a.txt", "Contador wins the grand tour", "", "2007-07-29", text, 0, len(text))]
    reply = "The 2007 Tour winner beat the runner-up by 23 seconds."
    assert support(reply, p, "By how much did the 2007 Tour winner beat the runner-up?") == (True, "")
    assert not support(reply, p)[0]  # without the question, the passage alone must hold the year
    wrong = reply.replace("2007", "2008")
    assert not support(wrong, p, "By how much did the 2008 Tour winner beat the runner-up?")[0]
    undated = [Passage(1, "a", "a.txt", "Contador wins the grand tour", "", "", text, 0, len(text))]
    assert not support(reply, undated, "By how much did the 2007 Tour winner beat the runner-up?")[0]


QUOTE_FIRST = P(
    1,
    "\"Donald Trump's extremism and dangerous agenda is a feature, not a glitch of his campaign, which was on "
    'full display tonight," said campaign spokesperson Joseph Costello.',
)


def test_a_quotation_goes_to_the_speaker_the_sentence_names_after_it():
    # The speaker named after the quotation, moved to the front: the same attribution.
    reply = "Joseph Costello said Trump's extremism was a feature, not a glitch of his campaign."
    assert support(reply, [QUOTE_FIRST]) == (True, "")


@pytest.mark.parametrize(
    "reply",
    [
        "Donald Trump said his extremism and dangerous agenda is a feature, not a glitch of his campaign.",
        "Trump said his extremism is a feature, not a glitch of his campaign.",
    ],
)
def test_a_quotation_is_not_given_to_a_name_from_inside_it(reply):
    ok, why = support(reply, [QUOTE_FIRST])
    assert not ok and why.startswith("attribution:")
