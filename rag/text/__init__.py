"""Text plumbing, the one place for it: sentences, words (tokens, folds, numbers), names and dates.

Every span is an offset into the original string so that a quote can always be
located exactly.
"""

from rag.text.dates import MONTH_NAMES, dateline, iso_date, iso_day, opening_date, parse_date, resolve_time
from rag.text.names import full_names, names
from rag.text.sentences import MIN_SENTENCE_CHARS, evidence_spans, quoted_sentence_spans, sentence_spans
from rag.text.words import (
    STOPWORDS,
    collapse_space,
    content_words,
    digits_for_number_words,
    lexical_tokens,
    normalise,
    numbers,
    suffix_fold,
    unit_fold,
)

__all__ = [
    "MIN_SENTENCE_CHARS",
    "MONTH_NAMES",
    "STOPWORDS",
    "collapse_space",
    "content_words",
    "dateline",
    "digits_for_number_words",
    "evidence_spans",
    "full_names",
    "iso_date",
    "iso_day",
    "lexical_tokens",
    "names",
    "normalise",
    "numbers",
    "opening_date",
    "parse_date",
    "quoted_sentence_spans",
    "resolve_time",
    "sentence_spans",
    "suffix_fold",
    "unit_fold",
]
