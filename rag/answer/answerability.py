"""Refusal rules: does the evidence answer the question? Each rule was tuned on the gold set
(evals/gold.jsonl) and tried on fair questions written after it (tests/test_answer.py).

To add a rule: a question pattern in :mod:`rag.answer.questions`, a check in :func:`answerable`
returning ``(False, reason)``, and a fair-question test that it does not refuse.
"""

from __future__ import annotations

import re

from rag.answer import evidence as ev
from rag.answer.questions import HAS_NUMBER, MONEY, MONEY_Q, NAME_Q, NUMBER_Q, ROLE_Q, strip_numbers, subject
from rag.text import full_names, lexical_tokens, names, sentence_spans
from rag.tuning import EXTRACTIVE_SENTENCES, MIN_DENSE


def names_role(question: str, role: str, sentences: list[str]) -> bool:
    """Does the evidence name the person or thing a "which <role>" question asks for?

    Either a name the question does not give stands within four words of the role
    noun, or the evidence holds a full name the question does not give (in a
    sentence with the role noun, when any sentence has it). Added after
    the gold set showed the model answering "which hacker group" with "Musk".

    >>> names_role("Which analyst said so?", "analyst", ["So said political analyst Larry Gerston."])
    True
    >>> names_role("Which hacker group claimed it?", "group", ["Musk claimed a massive attack."])
    False
    >>> names_role("Which congressman wrote?", "congressman", ["On Monday, Rep. Jerry Nadler wrote."])
    True
    >>> names_role("Which judge?", "judge", ["A judge objected.", "Alex Jones was back."])
    False
    """
    given = {w.lower() for w in re.findall(r"[A-Z][a-zA-Z]*", question)}

    def has_role(words: list[str], i: int) -> bool:
        return words[i].lower().strip(".,;:\"“”’'").startswith(role[:5])

    # A sentence that mentions the role without naming it is about the unnamed one:
    # then a full name elsewhere ("Alex Jones" beside "a Brazilian judge") is someone else.
    role_mentioned = any(has_role(t.split(), i) for t in sentences for i in range(len(t.split())))
    for text in sentences:
        words = text.split()
        here = [i for i in range(len(words)) if has_role(words, i)]
        for i in here:
            near = " ".join(words[max(0, i - 4) : i + 5])
            if [n for n in names(". " + near) if n.lower() not in given]:
                return True
        if here or not role_mentioned:
            for full in full_names(text):
                if not any(w.lower() in given for w in full.split()):
                    return True
    return False


def answerable(
    question: str, cands: list[ev.Candidate], chosen: list[ev.Candidate], vocab: set[str]
) -> tuple[bool, str]:
    """Does the evidence plausibly answer the question? Returns (yes, reason).

    Rules, each tuned on the gold set (see `rag eval`): the best sentence must be
    close enough to the question; a question naming two or more people/things the
    corpus never mentions is about something else; a "who / what is the name"
    question needs a name the question does not already give in the sentence that
    matches it best; a "how many / how much" question needs a number the question
    does not already give in the top evidence, in a sentence about the question's
    named subject.

    Rules that caught gold questions but refused fair questions written afterwards
    were not kept (tests/test_answer.py, ``test_fair_questions_are_answered``).
    """
    if not chosen:
        return False, "nothing retrieved"
    best = max(c.dense for c in chosen)
    if best < MIN_DENSE:
        return False, f"best passage similarity {best:.2f} < {MIN_DENSE}"
    absent = [n for n in names(question) if (t := lexical_tokens(n)) and t[0] not in vocab]
    if len(absent) >= 2:
        return False, f"the articles never mention {' '.join(absent)}"
    top = chosen[:EXTRACTIVE_SENTENCES]
    if NAME_Q.search(question):
        given = {w.lower() for w in re.findall(r"[A-Z][a-zA-Z]*", question)}
        focus = max(cands, key=lambda c: (round(c.overlap, 2), c.dense))
        if not [n for n in names(focus.text) if n.lower() not in given]:
            return False, "no name in the passage that matches the question"
    role = ROLE_Q.search(question)
    if role and not names_role(question, (role.group(1) or role.group(2)).lower(), [c.text for c in top]):
        return False, f"the evidence names no {(role.group(1) or role.group(2)).lower()}"
    if NUMBER_Q.search(question):
        figures = [c for c in top if HAS_NUMBER.search(strip_numbers(c.text, question))]
        if not figures:
            return False, "no figure in the evidence"
        if MONEY_Q.search(question) and not any(MONEY.search(strip_numbers(c.text, question)) for c in top):
            return False, "no sum of money in the evidence"
        if not figure_about(question, figures):
            return False, "the figures in the evidence are about someone else"
    return True, ""


def lead_in(c: ev.Candidate) -> str:
    """The sentence before ``c`` in its chunk ('' when it opens the chunk)."""
    before = c.hit.text[: max(0, c.start - c.hit.start)]
    spans = sentence_spans(before)
    return before[spans[-1][0] : spans[-1][1]] if spans else ""


def figure_about(question: str, figures: list[ev.Candidate]) -> bool:
    """Is a figure of the evidence about the question's named subject (see ``subject``)?

    A sentence holding a figure must name the subject, itself or in
    the sentence leading into it, or lean on that sentence with a pronoun ("He
    predicted that maybe 35 of them would..."), which is given the benefit of the
    doubt. Added after "How many followers does Kamala Harris have on X?" was
    answered with Trump's 88 million. A question with no named subject passes.
    """
    about = subject(question)
    if not about:
        return True
    for c in figures:
        for text in (c.text, lead_in(c)):
            if any(re.search(rf"\b{re.escape(n)}", text) for n in about) or ev.continues(text):
                return True
    return False
