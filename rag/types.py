"""Plain data types shared by every pipeline stage."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class Article:
    """One cleaned article. ``text`` is what is stored; every offset points into it."""

    id: str  # content hash of the cleaned text
    file: str  # file name shown to people (e.g. "002_c79.txt" or "feed.jsonl#3")
    text: str
    title: str = ""
    outlet: str = ""
    published: str = ""  # ISO date (YYYY-MM-DD) when the article shows one
    url: str = ""
    source: str = ""  # absolute path (plus "#line" for JSONL) used for --sync; the URL for a web page
    author: str = ""  # the byline, when the page or feed names one

    @property
    def label(self) -> str:
        """A short name for display: the outlet, else the file name."""
        return self.outlet or self.file

    @property
    def display_title(self) -> str:
        if self.title:
            return self.title
        words = self.text.split()
        return " ".join(words[:10]) + ("…" if len(words) > 10 else "")


@dataclass
class Chunk:
    """A span of an article: ``article.text[start:end] == text``."""

    id: str
    article_id: str
    index: int
    text: str
    start: int
    end: int


@dataclass
class Hit:
    """A retrieved chunk with the article fields a citation needs."""

    chunk_id: str
    article_id: str
    file: str
    title: str
    outlet: str
    published: str
    text: str
    start: int
    end: int
    score: float
    dense_rank: int | None = None
    lexical_rank: int | None = None

    def to_json(self) -> dict:
        d = asdict(self)
        d.pop("chunk_id")
        d.pop("dense_rank")
        d.pop("lexical_rank")
        return d


@dataclass
class Passage:
    """A numbered evidence span shown to the model: one or two sentences of an article."""

    n: int
    article_id: str
    file: str
    title: str
    outlet: str
    published: str
    text: str  # == article text[start:end]
    start: int
    end: int
    score: float = 0.0


@dataclass
class Citation:
    n: int
    article_id: str
    file: str
    title: str
    outlet: str
    published: str
    quote: str
    start: int
    end: int
    supported: bool = True

    def to_json(self) -> dict:
        return asdict(self)


@dataclass
class Answer:
    question: str
    status: str  # "answered" | "refused"
    mode: str  # "generated" | "copied" (a reader's phrase copied from a passage) | "extractive" | "refused"
    answer: str
    citations: list[Citation] = field(default_factory=list)
    related: list[Citation] = field(default_factory=list)
    timings: dict = field(default_factory=dict)
    standalone_question: str = ""
    raw_output: str = ""  # what the model said, before verification (for evals)
    dropped: list[str] = field(default_factory=list)  # sentences removed by verification

    def to_json(self) -> dict:
        return {
            "question": self.question,
            "status": self.status,
            "mode": self.mode,
            "answer": self.answer,
            "citations": [c.to_json() for c in self.citations],
            "related": [c.to_json() for c in self.related],
            "timings": self.timings,
        }
