"""Question types and what answers them: the patterns that tell a how-many, when, who, which-role,
how-much-money or what-did-X-say question, and the patterns of the sentences that answer each kind.

Used by evidence scoring (:mod:`rag.answer.evidence`), the refusal rules
(:mod:`rag.answer.answerability`) and the choice of the answer's lead sentence.
"""

from __future__ import annotations

import re

from rag.text import numbers

NUMBER_Q = re.compile(
    r"^\s*(how (many|much|long|big|large|old|soon|often|far)|what (percentage|share|number|amount|proportion|fraction))\b",
    re.I,
)
DATE_Q = re.compile(r"^\s*(when|what (date|day|year|month|time)|on what (date|day)|in what (year|month))\b", re.I)
WHO_Q = re.compile(r"^\s*(who|whom|which (person|official|analyst|spokesperson|commissioner))\b", re.I)
HAS_NUMBER = re.compile(
    r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|dozen|hundred|thousand|million|billion|half)s?\b", re.I
)
HAS_DATE = re.compile(
    r"\b(monday|tuesday|wednesday|thursday|friday|saturday|sunday|january|february|march|april|may|june|july|"
    r"august|september|october|november|december|jan|feb|aug|sept|oct|nov|dec|yesterday|tonight|today|"
    r"(last|next|this) (week|month|year|summer)|\d{4}|p\.m|a\.m)\b",
    re.I,
)
MONTH = r"(?:january|february|march|april|may|june|july|august|september|october|november|december|jan|feb|aug|sept|oct|nov|dec)\.?"
# A calendar date ("12 August", "Aug. 12", "May 2023", "2021") rather than "last month".
SPECIFIC_DATE = re.compile(rf"\b(?:\d{{1,2}}\s+{MONTH}|{MONTH}\s+\d{{1,4}}|\d{{4}})\b", re.I)
YEAR = re.compile(r"\b(?:19|20)\d\d\b")
HAS_NAME = re.compile(r"(?<!^)(?<![.!?]\s)\b[A-Z][a-z]+ [A-Z][a-z]+")


def strip_numbers(sentence: str, question: str) -> str:
    for n in numbers(question):
        sentence = re.sub(re.escape(n) + r"(\s*(million|billion|thousand|hundred|percent|per cent|%))?", " ", sentence)
    return sentence


def answer_type_bonus(question: str, sentence: str) -> float:
    """A small bonus when the sentence holds the kind of thing the question asks for.

    >>> answer_type_bonus("How many people listened?", "Only 1.1 million were listening.")
    0.1
    >>> answer_type_bonus("How many people listened?", "Musk apologised.")
    0.0
    >>> answer_type_bonus("How many heard it, not 60 million?", "He claimed 60 million.")
    0.0
    >>> answer_type_bonus("How many voted?", "In 2022, he asked."), answer_type_bonus("How many years?", "Since 2022.")
    (0.0, 0.1)
    >>> answer_type_bonus("When did it start?", "It started last month."), answer_type_bonus("When?", "In May 2023.")
    (0.1, 0.15)
    """
    if NUMBER_Q.search(question):
        # A number the question does not already give ("claimed 60 million?"), and
        # not a year, unless years are what it asks about ("in 2022" is no count).
        rest = strip_numbers(sentence, question)
        if not re.search(r"\byears?\b", question, re.I):
            rest = YEAR.sub(" ", rest)
        return 0.1 if HAS_NUMBER.search(rest) else 0.0
    if DATE_Q.search(question):
        # A calendar date answers "when" better than "last month" or "on Monday".
        return 0.15 if SPECIFIC_DATE.search(sentence) else 0.1 if HAS_DATE.search(sentence) else 0.0
    if WHO_Q.search(question):
        return 0.1 if HAS_NAME.search(sentence) else 0.0
    return 0.0


# "What did X say / call / tell ...": the answer is usually a quotation.
SAY_Q = re.compile(
    r"\b(say|said|call|called|tell|told|describe|described|respond|responded|reply|replied|mock|mocked|"
    r"praise|praised|joke|joked|predict|predicted|warn|warned)\b",
    re.I,
)


NAME_Q = re.compile(
    r"^\s*(who\b|whom\b|whose\b|what (is|was) the name|which (\w+ ){0,3}(group|company|person|official|spokes\w*|"
    r"analyst|executive|commissioner|adviser|congressman|judge|leader|outlet|hacker|man|woman|politician|senator|governor))",
    re.I,
)


# "Which hacker group ...", "What is the name of the judge ...": the role asked for.
ROLES = (
    r"group|company|judge|adviser|analyst|official|spokes\w+|executive|"
    r"commissioner|congressman|senator|governor|outlet|committee|gunman|hacker|ticker"
)
ROLE_Q = re.compile(
    rf"\b(?:which|what)\s+(?:(?:\w+\s+){{0,2}})({ROLES})\b|"
    # "the name of the X adviser who ...": the role noun, else the word before "who" or "?"
    rf"\bname of the\s+(?:(?:[\w-]+\s+){{0,3}}?)((?:{ROLES})\b|\w+(?=\s+(?:who|that|which|whom)\b|\s*\?))",
    re.I,
)
# "How much was he paid / fined ...": a figure is not enough, it must be a sum of money.
MONEY_Q = re.compile(
    r"^\s*how much\b.*\b(pay|paid|cost|fine|fined|raise|raised|worth|spend|spent|earn|earned|price|money)\b", re.I
)
MONEY = re.compile(r"[$€£]|\b(dollars?|euros?|pounds?|billion|million)\b", re.I)


SUBJECT = re.compile(r"\b(?:does|did|do|has|have|had|is|was|were|are)\s+((?:[A-Z][\w.-]*(?:['’]s)?\s+)+)")


def subject(question: str) -> list[str]:
    """The last word of the named subject of a question ("does Kamala Harris have"),
    the people or things whose figure it asks for; [] when it names none.

    >>> subject("How many followers does Kamala Harris have on X?"), subject("How many states did Trump predict?")
    (['Harris'], ['Trump'])
    >>> subject("How many followers does Musk's own X account have?"), subject("How many users tried to join?")
    (['Musk'], [])
    """
    m = SUBJECT.search(question)
    if not m:
        return []
    return [re.sub(r"['’]s$", "", m.group(1).split()[-1])]
