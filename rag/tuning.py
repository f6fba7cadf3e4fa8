"""The tuning constants that shape results, in one place, each with what chose it.

Changing one changes what `rag eval` measures: re-run it (and `rag bench` for the
retrieval ones) and refresh the committed baselines. Modules import these by name.
"""

# -- Chunking (rag.ingest.chunk) -------------------------------------------------------------------------
MAX_TOKENS = 160
OVERLAP_SENTENCES = 1

# -- Evidence sentences (rag.text.sentences) -------------------------------------------------------------
MIN_SENTENCE_CHARS = 15  # shorter pieces ("Why?") are not evidence

# -- Retrieval (rag.index.retrieve) ----------------------------------------------------------------------
RRF_K = 60
# Candidates taken from each list before fusion. 30 -> 50: on the 64 seed chunks the
# chunk that answers q006 is 1st by vector and 32nd by BM25, and a list cut at 30 lost
# its lexical vote (recall@5 with the rerank 0.939 -> 0.955).
POOL = 50
# The best RERANK fused chunks are also ranked by their sentence closest to the question,
# a third list in the fusion. A chunk's vector averages ~6 sentences, and the chunk
# holding the one that answers ("When was Trump's account reinstated after Musk took
# over?") can be 9th by vector and 6th by BM25 while that sentence is among the closest
# of all. On the gold set: recall@5 0.924 -> 0.955, MRR 0.717 -> 0.799
# (docs/performance.md). The cost is constant, whatever the size of the index: embedding
# ~50 sentences, which the evidence stage then finds in the embedding cache.
RERANK = 10

# -- Evidence scoring (rag.answer.evidence) --------------------------------------------------------------
CONTEXT_PENALTY = 0.03  # a continuation scored with its lead-in ranks a little below the lead-in itself
QUOTE_BONUS = 0.05

# -- Answering and refusing (rag.answer.generate, rag.answer.answerability) ------------------------------
MAX_QUESTION_CHARS = 1000
# Answerability thresholds, tuned on the gold set (evals/gold.jsonl); see
# `rag eval` for the effect of changing them.
MIN_DENSE = 0.35  # best evidence sentence's cosine similarity to the question
EXTRACTIVE_SENTENCES = 2
MAX_ANSWER_SENTENCES = 2
LEAD_FROM = 1  # the answer's first sentence must rest on one of the best LEAD_FROM evidence sentences

# -- The reader (rag.answer.reader, rag.answer.reading): models whose registry entry reads -------------
# Calibrated on the MultiLing dev split (events 0-4) only, by sweeping both thresholds over
# recorded confidences (evals/reader/README.md, configuration B): answer when the judge's
# P(yes) >= READER_MIN_YES and the first-token P(refusal) < READER_MAX_REFUSE.
READER_MIN_YES = 0.65
READER_MAX_REFUSE = 0.20
READER_MAX_TOKENS = 48

# -- Verification (rag.answer.verify) --------------------------------------------------------------------
MIN_OVERLAP = 0.8  # share of a sentence's content words found in its passages

# -- Event grouping (rag.brief.events) -------------------------------------------------------------------
# When merging stops (see cluster()). Chosen on MultiLing 2011 and eight subsets of
# it (halves, uneven topic sizes, the three close disaster stories with the seeds):
# B-cubed F1 >= 0.967 on every subset for MIN_LINK 0.03-0.04 and COHESION_SHARE
# 0.40-0.43; 1.0 on the full set. A fixed similarity threshold alone (no cohesion
# test) reached 0.991 on the full set but only 0.77-0.93 on small or uneven sets.
MIN_LINK = 0.035
COHESION_SHARE = 0.41
NAME_WEIGHT = 0.3
HEADLINE_REPEAT = 3  # the headline's words count this many times

# -- Briefings (rag.brief) -------------------------------------------------------------------------------
MAX_BULLETS = 12
MAX_ALONE = 4  # claims one outlet alone makes, listed after the key facts
MAX_TIMELINE = 12
MAX_QUOTES = 12
MAX_CONFLICTS = 6
LEDE_TOKENS = 48
FACT_TOKENS = 40  # a reworded key fact: at most ~25 words
FACT_MAX_WORDS = 25  # the reworded length the prompt asks for; a fact this short is kept as written
# The top key facts the reader rewords (one model call each for a fact over FACT_MAX_WORDS).
# All 10 MultiLing events with the reader on 2 cores: 81 s with 1, 90 s with 2, 95 s with 3
# (ledes alone 67 s); the target is under 90 s, so the lede and the top fact.
REWORD_FACTS = 1
LEDE_PASSAGES = 2  # short prompt: the 135M model reads ~250 tokens/s on 2 cores
MAX_VALUES_PER_ARTICLE = 3  # an article giving more values of one kind is listing different things
# Two sentences of different articles state the same fact when they agree on the
# numbers and are close in meaning AND in words (rare words count more), or share
# a key figure. Measured on the seeds: paraphrases across outlets score 0.5-0.9 in
# MiniLM cosine, but so do different statements about the same people.
SUPPORT_RULES = ((0.8, 0.3), (0.65, 0.45))  # (min cosine, min share of the fact's word weight)
SUPPORT_SIM_FIGURE = 0.5  # enough when both give the same (non-year) figure
REDUNDANT_SIM = 0.6  # a bullet this close to a chosen one adds nothing
CONTEXT_SIM = 0.3  # figures of one kind (an audience, a delay) in sentences this close describe one thing
CONTEXT_SIM_GENERIC = 0.75  # for kinds that say little about what is counted (percent, money, people)
MIN_WORDS, MAX_WORDS = 6, 80
# The summary's greedy choice (rag.brief.build.summary): gain = (sum of new word pairs'
# article counts ** PAIR_EXP) / words ** LENGTH_EXP * (1 + SUMMARY_IMPORTANCE * importance).
# Chosen on the dev events.
SUMMARY_IMPORTANCE = 1.0
SUMMARY_LENGTH_EXP = 0.7
SUMMARY_PAIR_EXP = 1.0
PAIR_MIN_ARTICLES = 2  # a word pair the summary should cover is used by this many articles
STOP_PAIR_WEIGHT = 1.0  # a pair of two stop words ("of the") counts this much
# A sentence's importance: a weighted sum of its features (rag.brief.analysis). Centrality to
# the event (how many of the other articles say something close to it, how widely its words
# are used) rather than only how many outlets repeat it word for word, so one outlet's side
# story ranks below the main story. Chosen on the MultiLing dev events M000-M004 only by a
# coordinate search on summary ROUGE-2 recall (coverage and terms kept >= 1): dev 0.183 (the
# previous formula) -> 0.194 (these features) -> 0.202 (centrality 0.5, concept 0, lead 1.0);
# held-out M005-M009: 0.177 before, 0.176 after (evals/brief/report.md).
IMPORTANCE = {
    "support": 1.0,  # share of the other articles stating the same fact
    "coverage": 2.0,  # mean best similarity to a sentence of each other article
    "terms": 2.0,  # mean share of the articles using the sentence's content words
    "centrality": 0.5,  # cosine to the event's centre
    "concept": 0.0,  # density of the event's recurring word pairs
    "lead": 1.0,  # an article's first sentences
    "dangling": -0.4,  # leans on the sentence before it ("He said ...")
    "quoted": -0.8,  # share inside quotation marks
    "filler": -1.0,  # "did not respond to a request for comment"
}

# -- The index (rag.index.store) -------------------------------------------------------------------------
# On a Chroma server there is no cross-process lock: another client's chunks may be
# waiting for their article record. Only orphans older than this are removed there.
ORPHAN_GRACE_S = 600.0
