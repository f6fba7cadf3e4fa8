"""The adversarial claim suite: real sentences of the corpora, restated faithfully
and altered one change at a time, to measure what verification lets through.

For each chosen sentence the suite holds faithful claims that must pass
(``verbatim``, ``truncated``, ``reworded``) and altered claims that must fail
(``negation``, ``number``, ``unit``, ``date``, ``entity``, ``roles``, ``antonym``,
``quantifier``, ``attribution``); a kind that does not apply to a sentence is
skipped for it. Each claim carries the passage the verifier sees: the source
sentence with the sentences before and after it. Articles fall into ``dev``
(rules are tuned on it) or ``test`` (held out) by a hash of their id.

Build and score it with ``rag eval --claims``.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

from rag.checkout import repo_path
from rag.devtools import claim_alter as alter
from rag.devtools import claim_faithful as faithful
from rag.devtools.claim_text import Article, article_entities, article_speakers
from rag.text import sentence_spans

SEED = 15
PER_ARTICLE = {"seed": 15, "multiling": 6}
DEV_SHARE = 70  # percent of articles in the dev split

FAITHFUL = {"verbatim": None, "truncated": faithful.truncated, "reworded": faithful.reworded}
ALTERED = {
    "negation": alter.negation,
    "number": alter.number,
    "unit": alter.unit,
    "date": alter.date,
    "entity": alter.entity,
    "roles": alter.roles,
    "antonym": alter.antonym,
    "quantifier": alter.quantifier,
    "attribution": alter.attribution,
}
KINDS = list(FAITHFUL) + list(ALTERED)


@dataclass(frozen=True)
class Claim:
    id: str
    kind: str
    faithful: bool
    claim: str
    passage: str  # the source sentence with its neighbours
    article: str
    split: str  # "dev" | "test"
    sentence: str  # the source sentence

    def to_json(self) -> dict:
        return asdict(self)


def split_of(article_id: str) -> str:
    """``dev`` or ``test``, fixed by the article id alone.

    >>> split_of("multiling/M0000"), split_of("multiling/M0011")
    ('dev', 'test')
    """
    h = int(hashlib.sha256(article_id.encode()).hexdigest(), 16)
    return "dev" if h % 100 < DEV_SHARE else "test"


def seeds_dir() -> Path:
    """The demo seeds of the checkout."""
    return repo_path("seeds", what="the seeds folder")


def multiling_dir() -> Path:
    """The MultiLing 2011 articles copied into the checkout (evals/corpora/multiling2011/articles)."""
    return repo_path("evals", "corpora", "multiling2011", "articles", what="the MultiLing 2011 corpus")


def load_articles(seeds: Path | None = None, multiling: Path | None = None) -> list[tuple[str, str]]:
    """(article id, text) of the seeds and the MultiLing articles, in file order."""
    seeds = seeds or seeds_dir()
    multiling = multiling or multiling_dir()
    out = [(f"seed/{p.stem}", p.read_text(encoding="utf-8")) for p in sorted(seeds.glob("*.txt"))]
    out += [(f"multiling/{p.stem}", p.read_text(encoding="utf-8")) for p in sorted(multiling.glob("*.txt"))]
    return out


# A sentence ending on one of these was cut short by the splitter ("... found Army Spc.").
_CUT_AT = frozenset("spc maj gen col lt sgt cpl pvt capt adm cmdr gov sen rep dr mr mrs ms st".split())


def usable(sentence: str) -> bool:
    """A plain declarative sentence of 8 to 45 words, not cut short at an abbreviation.

    >>> usable("Saturday, January 8, 2005"), usable("The law is intended to promote donating towards relief.")
    (False, True)
    >>> usable("In January 2005, a United States Army court martial proceeding found Army Spc.")
    False
    """
    words = sentence.split()
    return (
        words[-1].rstrip(".").lower() not in _CUT_AT
        and 8 <= len(words) <= 45
        and sentence[0].isupper()
        and sentence.rstrip("\"”’')").endswith(".")
        and "http" not in sentence
        and sentence.count('"') % 2 == 0
        and sentence.count("“") == sentence.count("”")
    )


def article_claims(article_id: str, text: str, seed: int = SEED) -> list[Claim]:
    """The claims built from one article."""
    spans = sentence_spans(text)
    sents = [text[a:b] for a, b in spans]
    art = Article(article_id, text, article_entities(text), article_speakers(text))
    rng = random.Random(f"{seed}/{article_id}")
    pool = [i for i, s in enumerate(sents) if usable(s)]
    chosen = sorted(rng.sample(pool, min(len(pool), PER_ARTICLE[article_id.split("/")[0]])))
    split = split_of(article_id)
    out = []
    for i in chosen:
        passage = text[spans[max(0, i - 1)][0] : spans[min(len(spans) - 1, i + 1)][1]]
        for kind, rule in {**FAITHFUL, **ALTERED}.items():
            krng = random.Random(f"{seed}/{article_id}/{i}/{kind}")
            claim = sents[i] if rule is None else rule(sents[i], art, krng)
            if claim is None or (kind != "verbatim" and claim == sents[i]):
                continue
            out.append(
                Claim(f"{article_id}#{i}/{kind}", kind, kind in FAITHFUL, claim, passage, article_id, split, sents[i])
            )
    return out


def build(seed: int = SEED, articles: list[tuple[str, str]] | None = None) -> list[Claim]:
    """Every claim of the suite, in article and sentence order."""
    return [
        c
        for aid, text in (articles if articles is not None else load_articles())
        for c in article_claims(aid, text, seed)
    ]


def write_jsonl(claims: list[Claim], path: Path) -> None:
    """The claims as JSON Lines."""
    with open(path, "w", encoding="utf-8") as f:
        for c in claims:
            f.write(json.dumps(c.to_json(), ensure_ascii=False) + "\n")


def counts(claims: list[Claim]) -> dict[str, dict[str, int]]:
    """Claims per kind in each split."""
    out: dict[str, dict[str, int]] = {}
    for split in ("dev", "test"):
        c = Counter(x.kind for x in claims if x.split == split)
        out[split] = {k: c.get(k, 0) for k in KINDS}
    return out
