"""The adversarial claim suite: deterministic, every kind present, splits by article,
and the verifier's floors on the held-out test split (pure logic, no models)."""

from __future__ import annotations

import random
from functools import cache

import pytest
from conftest import MULTILING

from rag.devtools import claim_alter as alter
from rag.devtools import claim_suite as suite
from rag.devtools.claim_score import ALTERED_ACCEPTED_MAX, FAITHFUL_REJECTED_MAX, ZERO_KINDS, failures, score
from rag.devtools.claim_text import Article

pytestmark = pytest.mark.skipif(
    not (MULTILING / "articles").is_dir(), reason=f"MultiLing corpus not found at {MULTILING}"
)


@cache
def claims() -> tuple[suite.Claim, ...]:
    return tuple(suite.build())


def test_same_seed_same_claims_other_seed_other_claims():
    assert [c.to_json() for c in suite.build()] == [c.to_json() for c in claims()]
    assert [c.claim for c in suite.build(seed=suite.SEED + 1)] != [c.claim for c in claims()]


def test_at_least_300_real_sentences_from_seeds_and_multiling():
    sentences = {(c.article, c.sentence) for c in claims()}
    assert len(sentences) >= 300
    texts = dict(suite.load_articles())
    assert all(s in texts[a] for a, s in sentences)
    assert {a.split("/")[0] for a, _ in sentences} == {"seed", "multiling"}


def test_every_kind_is_in_both_splits():
    for split, per_kind in suite.counts(list(claims())).items():
        assert all(n > 0 for n in per_kind.values()), (split, per_kind)


def test_faithful_claims_include_verbatim_ones_and_altered_ones_differ():
    for c in claims():
        if c.kind == "verbatim":
            assert c.claim == c.sentence and c.faithful
        else:
            assert c.claim != c.sentence
            assert c.faithful == (c.kind in suite.FAITHFUL)
        assert c.sentence in c.passage


def test_splits_are_disjoint_by_article_and_about_70_30():
    by_article: dict[str, set[str]] = {}
    for c in claims():
        by_article.setdefault(c.article, set()).add(c.split)
    assert all(len(s) == 1 for s in by_article.values())
    dev = sum(1 for s in by_article.values() if s == {"dev"})
    assert 0.6 <= dev / len(by_article) <= 0.8


def test_ids_are_unique():
    ids = [c.id for c in claims()]
    assert len(ids) == len(set(ids))


def test_rules_skip_sentences_they_do_not_apply_to():
    art = Article("x", "")
    rng = random.Random(0)
    plain = "The committee met in the morning and talked at length about the plan."
    assert alter.number(plain, art, rng) is None
    assert alter.unit(plain, art, rng) is None
    assert alter.date(plain, art, rng) is None
    assert alter.attribution(plain, art, rng) is None


def test_rules_make_one_change():
    art = Article("x", "", ["Contador", "Bush"], ["Costello", "Harris"])
    rng = random.Random(0)
    assert alter.negation("Musk blamed a massive attack.", art, rng) == "Musk did not blame a massive attack."
    assert alter.negation("He did not attend the talks.", art, rng) == "He did attend the talks."
    assert alter.unit("It was delayed by 40 minutes.", art, rng) != "It was delayed by 40 minutes."
    assert alter.roles("Evans beat Contador in the final.", art, rng) == "Contador beat Evans in the final."
    assert alter.quantifier("It drew more than a million.", art, rng) == "It drew less than a million."
    assert alter.antonym("Shares rose sharply.", art, rng) == "Shares fell sharply."
    assert alter.attribution('"No," said Costello.', art, rng) == '"No," said Harris.'


@cache
def held_out() -> dict:
    return score(list(claims()))["test"]


def test_floor_altered_claims_accepted_on_the_test_split():
    r = held_out()
    assert r["altered"] >= 300
    assert r["altered_accepted_rate"] < ALTERED_ACCEPTED_MAX, failures(r)


@pytest.mark.parametrize("kind", ZERO_KINDS)
def test_floor_no_negation_or_number_change_accepted_on_the_test_split(kind):
    row = held_out()["kinds"][kind]
    assert row["n"] > 0 and row["wrong"] == 0, row["examples"]


def test_floor_faithful_claims_rejected_on_the_test_split():
    r = held_out()
    assert r["faithful_rejected_rate"] < FAITHFUL_REJECTED_MAX, failures(r)
