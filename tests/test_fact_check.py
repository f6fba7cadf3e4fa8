"""The verifier answers, briefings and `rag check` share (pure logic, no models): a
contradicted sentence is dropped, spelling variants are not, and a claim's verdict
comes with the passages that decide it."""

from __future__ import annotations

import pytest

from rag.answer.fact_check import check_claim_text, verdict
from rag.answer.verify import judge, spelled_alike, support, verify
from rag.errors import RagError
from rag.types import Passage


def _p(n: int, text: str, outlet: str = "The Post") -> Passage:
    return Passage(n, f"a{n}", f"f{n}.txt", "T", outlet, "2024-08-13", text, 100 * n, 100 * n + len(text))


DDOS = _p(1, "Musk blamed a massive DDoS attack on X for the delay.")
DELAY = _p(2, "The conversation started more than 40 minutes late.")
RACE = _p(3, "Contador beat Evans in the final time trial.")


@pytest.mark.parametrize(
    "sentence,passage",
    [
        ("Musk did not blame a massive DDoS attack on X for the delay.", DDOS),
        ("Musk never blamed a massive DDoS attack on X for the delay.", DDOS),
        ("The conversation started more than 40 hours late.", DELAY),
        ("The conversation started less than 40 minutes late.", DELAY),
        ("Evans beat Contador in the final time trial.", RACE),
    ],
)
def test_an_answer_sentence_the_passage_contradicts_is_dropped(sentence, passage):
    checked = verify(f"{sentence} [1]", [_p(1, passage.text)])
    assert [s.supported for s in checked.sentences] == [False]
    assert checked.dropped[0].reason


def test_a_sentence_kept_when_another_passage_states_it():
    # Cited to the passage it contradicts, but another passage states it: cited there instead.
    other = _p(1, "The conversation started more than 20 minutes late.")
    checked = verify("The conversation started more than 40 minutes late [1].", [other, DELAY])
    assert checked.kept and checked.kept[0].cited == [2]
    assert not verify("The conversation started more than 40 minutes late [1].", [other]).kept


@pytest.mark.parametrize(
    "sentence,passage",
    [
        ("The U.S. government appealed the decision.", "But the US government appealed the decision."),
        ("The US government appealed the decision.", "But the U.S. government appealed the decision."),
        ("The officer himself wasn't present in any of the pictures.", "The officer was not present in any picture."),
        ("They did not respond to the request.", "They didn't respond to the request."),
        ("They won't sign the treaty.", "They will not sign the treaty."),
    ],
)
def test_spelling_variants_are_supported(sentence, passage):
    assert support(sentence, [_p(1, passage)]) == (True, "")


def test_spelled_alike_leaves_possessives_and_plain_words():
    assert (
        spelled_alike("Trump's plan is done; Ms. Harris's team won.") == "Trump's plan is done; Ms. Harris's team won."
    )


def test_judge_tells_contradicted_from_unsupported():
    assert judge("The conversation started more than 45 minutes late.", [DELAY]).verdict == "contradicted"
    assert judge("Evans beat Contador in the final time trial.", [RACE]).kind == "roles"
    assert judge("The interview drew 3 million listeners.", [DELAY]).verdict == "unsupported"
    assert judge("The conversation started more than 40 minutes late.", []).verdict == "unsupported"


def test_verdict_supported_lists_a_conflicting_passage_too():
    other = _p(4, "The conversation started more than 20 minutes late.", outlet="The Times")
    got = verdict(DELAY.text, [other, DELAY]).to_json()
    assert got["verdict"] == "supported"
    assert [(c["n"], c["supported"], c["outlet"]) for c in got["citations"]] == [
        (1, True, "The Post"),
        (2, False, "The Times"),
    ]
    assert "The Times differs" in got["reason"] and "20" in got["reason"]


def test_verdict_contradicted_cites_the_passage_against_it():
    got = verdict("Musk did not blame a massive DDoS attack on X for the delay.", [DELAY, DDOS]).to_json()
    assert got["verdict"] == "contradicted" and got["reason"].startswith("negation:")
    assert len(got["citations"]) == 1
    c = got["citations"][0]
    assert (c["quote"], c["start"], c["end"], c["supported"]) == (DDOS.text, DDOS.start, DDOS.end, False)


def test_verdict_not_found_without_passages_or_evidence():
    assert verdict("Musk bought a car.", []).to_json() == {
        "claim": "Musk bought a car.",
        "verdict": "not_found",
        "citations": [],
        "reason": "no passage states it or its opposite (best passage: the index holds no passage about it)",
    }
    assert verdict("Musk bought a car.", [DELAY, RACE]).verdict == "not_found"


@pytest.mark.parametrize("claim,needle", [("   ", "the claim is empty"), ("x" * 1001, "limit is 1,000")])
def test_a_bad_claim_is_a_one_line_error(claim, needle):
    with pytest.raises(RagError, match=needle):
        check_claim_text(claim)
