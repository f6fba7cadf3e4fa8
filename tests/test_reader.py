"""The reader's decision, confidence and verification logic, with a scripted fake model
(no model loads: the backend's probes are tested on plain arrays)."""

from __future__ import annotations

import numpy as np

from rag.answer import reader
from rag.answer.reader import Signals, Thresholds
from rag.llm.probes import FirstStepGate, FirstStepMass, TokenLogprobs
from rag.types import Passage

P = [
    Passage(1, "a1", "M0061.txt", "Haiti quake", "", "", "The U.S. pledged $100 million in aid to Haiti.", 0, 47),
    Passage(2, "a2", "M0002.txt", "Tsunami aid", "", "", "The Bush administration has pledged $350 million.", 0, 50),
]


class FakeReader:
    """Scripted next-token probabilities and reply; follows the gate like a real backend."""

    def __init__(self, p_yes: float, p_refuse: float, reply: str) -> None:
        self.p_yes, self.p_refuse, self.reply = p_yes, p_refuse, reply
        self.judged = 0
        self.generated = 0
        self.prompts: list[list[dict]] = []

    def judge(self, messages, yes, no):
        self.judged += 1
        self.prompts.append(messages)
        return self.p_yes

    def stream_gated(self, messages, max_tokens, gate, signals):
        self.prompts.append(messages)
        signals.p_refuse = self.p_refuse
        banned = gate(self.p_refuse)
        text = self.reply if banned or self.p_refuse < 0.5 else reader.REFUSAL
        for i in range(0, len(text), 5):
            self.generated += 1
            signals.logprobs.append(-0.1)
            yield text[i : i + 5]


def test_confident_answer_is_verified_and_streamed_sentence_by_sentence():
    seen = []
    m = FakeReader(0.9, 0.1, "The U.S. pledged $100 million in aid to Haiti [1]. It was a big sum [1].")
    r = reader.read(
        m,
        "How much did the U.S. pledge to Haiti?",
        P,
        Thresholds(0.5, 0.5),
        on_sentence=lambda s, n: seen.append((s, n)),
    )
    assert r.decided
    assert r.shown == [("The U.S. pledged $100 million in aid to Haiti.", [1])]
    assert seen == r.shown  # the verified sentence was handed over as soon as it was checked
    assert "It was a big sum." in r.dropped  # "big sum" is in no passage


def test_judge_below_threshold_refuses_without_generating():
    m = FakeReader(0.2, 0.1, "The U.S. pledged $100 million in aid to Haiti [1].")
    r = reader.read(m, "How much did Canada pledge?", P, Thresholds(0.5, 0.5))
    assert not r.decided and r.shown == [] and m.generated == 0
    assert r.signals.p_yes == 0.2


def test_refusal_probability_above_threshold_refuses_at_the_first_step():
    m = FakeReader(0.9, 0.7, "The U.S. pledged $100 million in aid to Haiti [1].")
    r = reader.read(m, "How much?", P, Thresholds(0.5, 0.6))
    assert not r.decided and r.shown == []
    assert m.generated <= 1  # stopped at the decision


def test_refusal_below_a_high_threshold_is_banned_and_the_model_answers():
    # The model would refuse (0.7 > 0.5) but the calibrated threshold says answer.
    m = FakeReader(0.9, 0.7, "The U.S. pledged $100 million in aid to Haiti [1].")
    r = reader.read(m, "How much did the U.S. pledge to Haiti?", P, Thresholds(0.5, 0.8))
    assert r.decided and r.shown == [("The U.S. pledged $100 million in aid to Haiti.", [1])]


def test_unverified_answer_is_a_refusal_not_a_quote():
    # Two events stitched together: the figure is the tsunami's, the place Haiti's.
    m = FakeReader(0.9, 0.1, "The U.S. pledged $350 million in aid to Haiti [1].")
    r = reader.read(m, "How much did the U.S. pledge to Haiti?", P, Thresholds(0.5, 0.5))
    assert r.decided and r.shown == []
    assert r.dropped == ["The U.S. pledged $350 million in aid to Haiti."]


def test_a_refusal_written_as_an_answer_is_never_shown():
    m = FakeReader(0.9, 0.1, "NOT IN ARTICLES [1].")
    assert reader.read(m, "Who?", P, Thresholds(0.5, 0.5)).shown == []
    m = FakeReader(0.9, 0.1, "The passages do not say how much Canada pledged [2].")
    assert reader.read(m, "How much did Canada pledge?", P, Thresholds(0.5, 0.5)).shown == []


def test_a_reply_that_only_restates_the_question_is_never_shown():
    # Every word stands in passage 1 and in the question; nothing answers "how much".
    question = "How much aid did the U.S. pledge to Haiti?"
    m = FakeReader(0.9, 0.1, "The U.S. pledged aid to Haiti [1].")
    r = reader.read(m, question, P, Thresholds(0.5, 0.5))
    assert r.decided and r.shown == [] and r.dropped == ["The U.S. pledged aid to Haiti."]
    m = FakeReader(0.9, 0.1, "The U.S. pledged $100 million in aid to Haiti [1].")
    assert reader.read(m, question, P, Thresholds(0.5, 0.5)).shown == [
        ("The U.S. pledged $100 million in aid to Haiti.", [1])
    ]


def test_wrong_citation_is_recited_to_the_supporting_passage():
    m = FakeReader(0.9, 0.1, "The Bush administration has pledged $350 million [1].")
    r = reader.read(m, "How much did the Bush administration pledge?", P, Thresholds(0.5, 0.5))
    assert r.shown == [("The Bush administration has pledged $350 million.", [2])]


def test_at_most_two_sentences_and_no_repeats():
    reply = (
        "The U.S. pledged $100 million in aid to Haiti [1]. The U.S. pledged $100 million [1]. "
        "The Bush administration has pledged $350 million [2]. Haiti [1]."
    )
    r = reader.read(FakeReader(0.9, 0.1, reply), "What was pledged?", P, Thresholds(0.5, 0.5))
    assert [n for _, n in r.shown] == [[1], [2]]


def test_system_prompt_is_identical_across_questions_and_judge_shares_the_prefix():
    a = reader.messages("How much?", P)
    b = reader.messages("Who pledged?", P[:1])
    assert a[0] == b[0]
    j = reader.judge_messages("How much?", P)
    assert j[0] == a[0] and j[1]["content"].startswith(a[1]["content"].rstrip("\n"))
    assert "(Haiti quake)" in a[1]["content"]  # headlines tell events apart


def test_gate_bans_the_refusal_tokens_only_when_told():
    logits = np.array([2.0, 0.0, 1.0, -1.0], dtype=np.float32)
    sig = Signals()
    g = FirstStepGate([0], lambda p: True, sig)
    out = g(np.array([5, 6]), logits)
    assert np.isneginf(out[0]) and out[2] == 1.0
    assert 0.6 < sig.p_refuse < 0.7  # softmax mass of token 0
    assert g(np.array([5, 6, 7]), logits)[0] == 2.0  # only the first step is gated
    sig2 = Signals()
    assert FirstStepGate([0], lambda p: False, sig2)(np.array([5]), logits)[0] == 2.0


def test_judge_probability_is_yes_against_no():
    probe = FirstStepMass([1], [2])
    probe(np.array([9]), np.array([0.0, np.log(3.0), 0.0, 5.0]))
    assert abs(probe.p_yes - 0.75) < 1e-6  # 3 : 1, whatever the other tokens hold


def test_token_logprobs_are_read_one_step_late():
    sig = Signals()
    tl = TokenLogprobs(sig)
    tl(np.array([1, 2]), np.array([0.0, 0.0]))  # step 1: nothing sampled yet
    tl(np.array([1, 2, 1]), np.array([5.0, 0.0]))  # token 1 was sampled at step 1
    assert len(sig.logprobs) == 1 and abs(sig.logprobs[0] - np.log(0.5)) < 1e-6


def test_scorer_crag_counts_wrong_and_unanswerable_answers_as_minus_one():
    from rag.devtools.reader_score import summarise

    def o(answerable, answered, correct):
        return {
            "answerable": answerable,
            "answered": answered,
            "correct": correct,
            "valid": [True] * answered,
            "supports": [True] * (answered and answerable),
            "verbatim": False,
            "ttft": 1000.0,
            "total": 2000.0,
            "why": "" if answered else "judge",
        }

    m = summarise(
        [
            o(True, True, True),
            o(True, True, False),
            o(True, False, False),
            o(False, True, False),
            o(False, False, False),
        ]
    )
    assert m["crag"] == round((1 - 1 + 0 - 1 + 0) / 5, 3)
    assert (m["accuracy"], m["wrong_refusals"], m["correct_refusals"]) == (round(1 / 3, 3), round(1 / 3, 3), 0.5)


def test_finished_reply_is_verified_like_the_stream():
    reply = "Reply: The U.S. pledged $100 million in aid to Haiti [1]. Canada gave more [2]."
    shown, dropped = reader.verified(reply, P)
    streamed = reader.read(FakeReader(0.9, 0.1, reply), "How much?", P, Thresholds(0.5, 0.5))
    assert shown == streamed.shown == [("The U.S. pledged $100 million in aid to Haiti.", [1])]
    assert dropped == ["Canada gave more."]


class CopyingReader(FakeReader):
    """A fake that also answers the copied-answer repair with a scripted reply, checked
    against the grammar it was given (the reply must be one the grammar allows)."""

    def __init__(self, p_yes: float, p_refuse: float, reply: str, copied: str) -> None:
        super().__init__(p_yes, p_refuse, reply)
        self.copied = copied
        self.grammars: list[str] = []

    def extract(self, messages, grammar, max_tokens):
        self.prompts.append(messages)
        self.grammars.append(grammar)
        return self.copied


def test_an_unverified_answer_is_repaired_by_words_copied_from_one_passage():
    m = CopyingReader(0.9, 0.1, "Washington promised a hundred million [1].", "$100 million in aid [1]")
    r = reader.read(m, "How much did the U.S. pledge to Haiti?", P, Thresholds(0.5, 0.5), copy_repair=True)
    assert r.shown == [("$100 million in aid", [1])] and r.copied
    assert r.repair == "$100 million in aid [1]"
    assert 'p1 " [1]"' in m.grammars[0] and 'p2 " [2]"' in m.grammars[0]
    # the repair turn follows the failed reply in the same conversation (prefix cache)
    assert m.prompts[-1][-2] == {"role": "assistant", "content": "Washington promised a hundred million [1]."}


def test_a_copied_phrase_is_verified_like_any_sentence():
    # A copied phrase cited to a passage that does not hold it is not shown.
    m = CopyingReader(0.9, 0.1, "Washington promised a hundred million [1].", "$100 million [2]")
    r = reader.read(m, "How much did the U.S. pledge to Haiti?", P, Thresholds(0.5, 0.5), copy_repair=True)
    assert r.shown == [("$100 million", [1])]  # re-cited to the passage that holds it
    m = CopyingReader(0.9, 0.1, "Washington promised a hundred million [1].", "$900 million [2]")
    assert (
        reader.read(m, "How much did the U.S. pledge to Haiti?", P, Thresholds(0.5, 0.5), copy_repair=True).shown == []
    )


def test_no_repair_after_a_refusal_or_a_verified_answer_or_by_default():
    refused = CopyingReader(0.2, 0.1, "x [1].", "$100 million [1]")
    assert reader.read(refused, "How much?", P, Thresholds(0.5, 0.5), copy_repair=True).shown == []
    assert not refused.grammars
    good = CopyingReader(0.9, 0.1, "The U.S. pledged $100 million in aid to Haiti [1].", "$100 million [1]")
    reader.read(good, "How much did the U.S. pledge to Haiti?", P, Thresholds(0.5, 0.5), copy_repair=True)
    assert not good.grammars
    off = CopyingReader(0.9, 0.1, "Washington promised a hundred million [1].", "$100 million [1]")
    assert reader.read(off, "How much?", P, Thresholds(0.5, 0.5)).shown == []  # off unless asked
    assert not off.grammars


def test_a_time_of_day_written_with_spaces_is_read_as_the_articles_write_it():
    text = 'Trump and Musk were slated to have a "live conversation" at 8 p.m. Eastern Time.'
    p = [Passage(1, "a", "a.txt", "", "", "", text, 0, len(text))]
    m = FakeReader(0.9, 0.1, "8 p. m. Eastern Time [1].")
    r = reader.read(m, "At what time was the conversation scheduled to start?", p, Thresholds(0.5, 0.5))
    assert r.shown == [("8 p.m. Eastern Time.", [1])]
