"""Compare sentence splitters on hand-checked cases and on news text.

Each library is wrapped the way ``rag.text.sentence_spans`` works (a line break
always ends a sentence; spans exclude surrounding space), so the comparison is of
the libraries' decisions alone; beside them are the splitter the index uses
(``rag.text.sentence_spans``, hand-written) and the candidate that would replace it
(``rag.devtools.sentences_blingfire``: Bling Fire with its repairs). On news text there is no gold
segmentation: it reports how often two splitters agree on a boundary and counts
errors that need no gold to see: a split right after a title or an initial
("Mr. | Smith", "George W. | Bush") and a sentence left unsplit at a lowercase
word, full stop and a capital ("... fell ill. Doctors ...").

    python -m rag.devtools.sentence_bench    (libraries not installed are skipped)
"""

from __future__ import annotations

import re
import statistics
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
NEWS_DIRS = [REPO / "evals" / "corpora" / "multiling2011" / "articles", REPO / "seeds"]

# (text, its sentences): the cases of the issue first, then common news forms.
CASES: list[tuple[str, list[str]]] = [
    ("He fell ill. Doctors came.", ["He fell ill.", "Doctors came."]),
    ("She said no. Then she left.", ["She said no.", "Then she left."]),
    ("It reached critical mass. Then it exploded.", ["It reached critical mass.", "Then it exploded."]),
    ("He lives in Washington, D.C. The city is big.", ["He lives in Washington, D.C.", "The city is big."]),
    ("The meeting starts at 9 a.m. The talk follows.", ["The meeting starts at 9 a.m.", "The talk follows."]),
    ("Gov. Ron DeSantis spoke. Then he left.", ["Gov. Ron DeSantis spoke.", "Then he left."]),
    ("Donald J. Trump met Mr. Musk on Monday.", ["Donald J. Trump met Mr. Musk on Monday."]),
    ("The U.S. economy grew 2.5% in the third quarter.", ["The U.S. economy grew 2.5% in the third quarter."]),
    ("Sales rose in the U.S. Analysts were surprised.", ["Sales rose in the U.S.", "Analysts were surprised."]),
    ("Dr. Jane Smith, of St. Mary's, said so.", ["Dr. Jane Smith, of St. Mary's, said so."]),
    ("It cost $4.5 billion. Investors balked.", ["It cost $4.5 billion.", "Investors balked."]),
    ("Is it safe? Nobody knows!", ["Is it safe?", "Nobody knows!"]),
    ('"We will win," she said. "Watch us."', ['"We will win," she said.', '"Watch us."']),
    ("He moved to Springfield, Ill. Last year he ran.", ["He moved to Springfield, Ill.", "Last year he ran."]),
    ("Sen. Elizabeth Warren (D-Mass.) spoke first.", ["Sen. Elizabeth Warren (D-Mass.) spoke first."]),
    ("The vote was 5-4. No. 2 seed Texas lost.", ["The vote was 5-4.", "No. 2 seed Texas lost."]),
    ("Apple Inc. said profits rose. Shares fell.", ["Apple Inc. said profits rose.", "Shares fell."]),
    ("It happened on Jan. 6, 2021. Police came.", ["It happened on Jan. 6, 2021.", "Police came."]),
    ("Visit example.com for details. Tickets are $5.", ["Visit example.com for details.", "Tickets are $5."]),
    ("The rate fell to 3.1 per cent. That was expected.", ["The rate fell to 3.1 per cent.", "That was expected."]),
]


def _line_spans(split: Callable[[str], list[tuple[int, int]]], text: str) -> list[tuple[int, int]]:
    """Apply a per-line splitter to every line; trim spaces; offsets into ``text``."""
    out: list[tuple[int, int]] = []
    pos = 0
    for line in text.split("\n"):
        if line.strip():
            for a, b in split(line):
                seg = line[a:b]
                lead = len(seg) - len(seg.lstrip())
                s, e = pos + a + lead, pos + a + len(seg.rstrip())
                if e > s:
                    out.append((s, e))
        pos += len(line) + 1
    return out


def splitters() -> dict[str, Callable[[str], list[tuple[int, int]]]]:
    """The installed candidates, each ``text -> spans``."""
    found: dict[str, Callable[[str], list[tuple[int, int]]]] = {}
    try:
        import blingfire

        found["blingfire"] = lambda t: _line_spans(lambda ln: blingfire.text_to_sentences_and_offsets(ln)[1], t)
    except ImportError:
        pass
    try:
        import pysbd

        seg = pysbd.Segmenter(language="en", clean=False, char_span=True)
        found["pysbd"] = lambda t: _line_spans(lambda ln: [(s.start, s.end) for s in seg.segment(ln)], t)
    except ImportError:
        pass
    try:
        import sentencex

        def sx(line: str) -> list[tuple[int, int]]:
            return [(b["start_index"], b["end_index"]) for b in sentencex.get_sentence_boundaries("en", line)]

        found["sentencex"] = lambda t: _line_spans(sx, t)
    except ImportError:
        pass
    try:
        from rag.devtools.sentences_blingfire import blingfire_spans

        found["candidate: blingfire + repairs"] = blingfire_spans
    except ImportError:
        pass
    from rag.text import sentence_spans

    found["in use: rag.text.sentence_spans"] = sentence_spans
    return found


_TITLE_END = re.compile(
    r"\b(?:Mr|Mrs|Ms|Dr|Gov|Sen|Rep|Gen|Lt|Col|Sgt|Capt|Prof|Rev|St|Jr|Sr|Adm|Maj|Cmdr|Supt|Insp|[A-Z])\.$"
)
_MISSED = re.compile(r"\b([a-z]{2,})[.!?][\"'”’)]*\s+[\"“]?[A-Z][a-z]")
_LOWER_ABBREV = {"vs", "al", "approx", "ca", "cf", "esp", "viz"}


def obvious_errors(text: str, spans: list[tuple[int, int]]) -> tuple[int, int]:
    """(false splits after a title or initial, missed splits after a lowercase word).

    >>> t = "Mr. Smith fell ill. Doctors came."
    >>> obvious_errors(t, [(0, 3), (4, 33)])
    (1, 1)
    """
    false_splits = sum(
        1
        for (_, e), (s2, _) in zip(spans, spans[1:])
        if _TITLE_END.search(text[max(0, e - 6) : e]) and text[s2 : s2 + 1].isupper() and "\n" not in text[e:s2]
    )
    missed = sum(1 for s, e in spans for m in _MISSED.finditer(text[s:e]) if m.group(1) not in _LOWER_ABBREV)
    return false_splits, missed


def news_texts() -> list[str]:
    return [p.read_text(encoding="utf-8") for d in NEWS_DIRS if d.is_dir() for p in sorted(d.glob("*.txt"))]


def compare() -> dict:
    """Cases passed, sentence counts, obvious errors, pairwise agreement, speed."""
    cands = splitters()
    texts = news_texts()
    chars = sum(len(t) for t in texts)
    report: dict = {"texts": len(texts), "chars": chars, "splitters": {}, "agreement": {}}
    bounds: dict[str, set] = {}
    for name, split in cands.items():
        failed = [t for t, want in CASES if [t[a:b] for a, b in split(t)] != want]
        times, spans_all = [], []
        for _ in range(3):
            t0 = time.perf_counter()
            spans_all = [split(t) for t in texts]
            times.append(time.perf_counter() - t0)
        fs = ms = 0
        for t, sp in zip(texts, spans_all):
            f, m = obvious_errors(t, sp)
            fs, ms = fs + f, ms + m
        bounds[name] = {(i, e) for i, sp in enumerate(spans_all) for _, e in sp}
        report["splitters"][name] = {
            "cases_passed": f"{len(CASES) - len(failed)}/{len(CASES)}",
            "failed": failed,
            "sentences": sum(len(sp) for sp in spans_all),
            "false_splits_after_title_or_initial": fs,
            "missed_splits_after_lowercase_word": ms,
            "chars_per_s_median": round(chars / statistics.median(times)),
        }
    names = list(bounds)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            report["agreement"][f"{a} ~ {b}"] = round(len(bounds[a] & bounds[b]) / len(bounds[a] | bounds[b]), 3)
    return report


if __name__ == "__main__":
    import json

    print(json.dumps(compare(), indent=1, ensure_ascii=False))
