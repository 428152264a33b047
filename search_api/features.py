"""What the sentence scorer sees of each candidate sentence: one row of numbers.

Every similarity is put on the index's own scale (0 for a typical passage, about 1 for one
that answers; see ``sentences.similarity_scale``), so a scorer trained with one embedder
reads the same numbers from another. Word evidence is a share of the question's words
(weighted by rarity) and so does not depend on the embedder at all. How much each feature
counts is learned (``beleidszoeker train``), not set here.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from indexer.keyword import Decompounder, terms, words
from search_api.evidence import (
    QuestionTerms,
    answer_spans,
    holds_answer_type,
    new_names,
    person_in_role,
)
from search_api.question import ENGLISH_FUNCTION_WORDS, PROMISE_WORDS, QuestionInfo
from search_api.rarity import unknown_names, unknown_specificity
from search_api.sentences import SentenceTable

FEATURES: tuple[str, ...] = (
    "similarity",  # the sentence's own and its passage's similarity, combined
    "sentence_similarity",
    "passage_similarity",
    "similarity_gap",  # how far below the best candidate of this question
    "neighbour_similarity",  # the best of the two sentences either side
    "topic_similarity",  # to what a list or promise is about ("waterstof", "snel internet")
    "topic_neighbour",  # ... of the best of the two sentences either side
    "commitment",  # similarity to a statement of a goal or promise
    "commitment_gap",  # how far below the most committing candidate of this question
    "promise_commitment",  # the two above, when the question asks what was promised
    "promise_commitment_gap",
    "promise_year",  # a promise question, and the sentence names a (target) year
    "words_sentence",  # share of the question's words in the sentence
    "words_window",  # ... in the sentence, its neighbours and its section title
    "words_gap",  # how far below the best window of this question
    "words_passage",  # ... in the whole passage and its titles
    "words_title",  # ... in the section and document title
    "names_section",  # share of the question's names in the section
    "names_window",
    "years_window",  # every year the question names stands near the sentence
    "typed",  # the question asks for an amount, a date, a name
    "type_match",  # the sentence holds that kind of answer
    "predicate",  # "wie is de burgemeester": the role around the name
    "topic",  # for a list: share of the topic words around the item
    "anchor",  # for a list: its most specific topic word stands around the item
    "is_list",
    "english",
    "english_similarity",  # English words are no evidence in Dutch text: meaning counts more
    "sentence_like",  # long enough and mostly lower case: not a heading or a list of names
    "prose",  # ... and not a label ending in a colon
    "log_words",
    "position",  # where in its passage the sentence stands (0 first, 1 last)
    "reciprocal_rank",  # 1 / the passage's rank in the fused list
    "shown_reciprocal_rank",  # 1 / its rank once the passage ranker re-ordered the list
    "holds_year",
    "holds_number",
    "new_names",  # capitalised words the question does not use (log of their number)
    "person_name",  # ... named the way a person is named ("K.B. Loohuis", "Jos Kok")
    "person_role",  # a "wie" question, and such a person stands beside a role word
    "answer_near",  # the kind of answer asked for stands close to the question's words
    "novelty",  # share of the sentence's words that are not the question's
    "subject_window",  # share of the question's subject words (its rarest) around it
    "subject_passage",  # ... in its passage and titles
    # About the question as a whole, the same on each of its candidates:
    "unknown",  # its most specific word the documents never use ("Vion", "opcenten")
    "english_unknown",  # ... for an English question (English words are often missing)
    "names_unknown",  # share of its names of which the documents use no word
    "best_words",  # the most of its words any candidate's window holds
    "best_similarity",  # the similarity of its closest candidate
    "best_subject",  # the most of its subject words any candidate's window holds
)

_COLUMN = {name: i for i, name in enumerate(FEATURES)}
# The features on the similarity scale and the range they are kept in; gaps are in units of
# a question's own spread and kept above -GAP_LIMIT.
_SCALED = [
    _COLUMN[name]
    for name in (
        "similarity",
        "sentence_similarity",
        "passage_similarity",
        "neighbour_similarity",
        "topic_similarity",
        "topic_neighbour",
        "commitment",
        "english_similarity",
    )
]
SCALE_RANGE = (-1.0, 1.5)
GAP_LIMIT = 4.0
# What a commitment sounds like in these documents, in both languages: the scorer learns how
# much a sentence's closeness to it counts, and only for questions about promises and goals.
COMMITMENT = (
    "Doelstelling is dat in 2025 ... Wij streven ernaar ... Onze ambitie is ... "
    "De provincie zorgt ervoor dat ... Het doel is ... afgesproken is dat ..."
)
_YEAR = re.compile(r"\b(?:19|20)\d\d\b")
_DIGITS = re.compile(r"\d")


def topic_text(question: QuestionInfo) -> str | None:
    """What a list or promise question is about, without its frame: "waterstof" for
    "welke projecten gaan over waterstof?", "about hydrogen" for "Which projects are about
    hydrogen?". Embedded, it finds the items in any language; None for other questions."""
    if not (question.is_list or question.is_promise):
        return None
    frame = {n.lower() for n in question.list_nouns} | ENGLISH_FUNCTION_WORDS
    kept = [w for w in words(question.text) if w not in frame and not PROMISE_WORDS.fullmatch(w)]
    return " ".join(kept) or None


@dataclass(frozen=True)
class QuestionContext:
    """What every candidate of one question is compared with."""

    question: QuestionInfo
    terms: QuestionTerms
    vector: np.ndarray  # the question's embedding
    topic: np.ndarray  # the embedding of what it is about (see topic_text), or the question's
    commitment: np.ndarray  # the embedding of COMMITMENT
    scale: tuple[float, float]
    sentence_share: float
    min_words: int


def feature_rows(
    context: QuestionContext,
    table: SentenceTable,
    passage_vectors: np.ndarray,
    rows: list[int],
    ranks: list[int],
    shown: list[int] | None = None,
) -> tuple[list[int], list[int], np.ndarray]:
    """(sentence ids, the position of their hit, a feature matrix) for every sentence of
    the given passages; ``rows`` are the passages' index rows, ``ranks`` their ranks in the
    fused list and ``shown`` after the passage ranker (the same when it did not re-order)."""
    shown = ranks if shown is None else shown
    floor, span = context.scale
    q, question, qterms = context.vector, context.question, context.terms
    targets = np.stack([q, context.commitment, context.topic])
    passage_sims = passage_vectors @ targets.T
    passage_sim = passage_sims[:, 0]
    ids: list[int] = []
    owners: list[int] = []
    out: list[list[float]] = []
    share = context.sentence_share
    asked = {t for stem, parts, _ in qterms.words for t in (stem, *parts)}
    unknown = unknown_specificity(question, table)
    english = float(question.lang == "en")
    missing_names = unknown_names(question, table)
    for k, (row, rank, shown_rank) in enumerate(zip(rows, ranks, shown, strict=True)):
        sentence_ids = table.by_row[row]
        n = len(sentence_ids)
        sims = _sentence_similarities(table, sentence_ids, targets, passage_sims[k])
        own, commit, about = sims[:, 0].tolist(), sims[:, 1].tolist(), sims[:, 2].tolist()
        passage_words = qterms.coverage(table.passage[row])
        passage_subject = qterms.subject_covered(table.passage[row])
        for j, sid in enumerate(sentence_ids):
            sentence = table.sentences[sid]
            similarity = (1 - share) * float(passage_sim[k]) + share * own[j]
            around = [i for i in range(max(0, j - 2), min(n, j + 3)) if i != j]
            near = [own[i] for i in around]
            window = table.window(sid)
            section = table.section[row]
            person = question.answer_type == "person"
            predicate = qterms.predicate_coverage(window) if person else None
            topic = qterms.topic_coverage(window) if question.is_list else None
            commitment = (commit[j] - floor) / span
            holds_year = float(bool(_YEAR.search(sentence.text)))
            colon = sentence.text.rstrip().endswith(":")
            promise = float(question.is_promise)
            names, person_named = new_names(sentence.text, question)
            ids.append(sid)
            owners.append(k)
            out.append(
                [
                    (similarity - floor) / span,
                    (own[j] - floor) / span,
                    (float(passage_sim[k]) - floor) / span,
                    0.0,  # similarity_gap, filled in below
                    (max(near) - floor) / span if near else 0.0,
                    (about[j] - floor) / span,
                    (max(about[i] for i in around) - floor) / span if around else 0.0,
                    commitment,
                    0.0,  # commitment_gap
                    promise * commitment,
                    0.0,  # promise_commitment_gap
                    promise * holds_year,
                    qterms.coverage(sentence.terms),
                    qterms.coverage(window),
                    0.0,  # words_gap
                    passage_words,
                    qterms.coverage(table.context[row]),
                    qterms.names_covered(section),
                    qterms.names_covered(window),
                    float(qterms.years_covered(window)),
                    float(question.answer_type != "any"),
                    float(holds_answer_type(sentence.text, question)),
                    1.0 if predicate is None else predicate,
                    1.0 if topic is None else topic,
                    float(not qterms.anchors or not window.isdisjoint(qterms.anchors)),
                    float(question.is_list),
                    float(question.lang == "en"),
                    float(question.lang == "en") * (similarity - floor) / span,
                    float(is_sentence(sentence.text, context.min_words)),
                    float(is_sentence(sentence.text, context.min_words) and not colon),
                    math.log1p(len(sentence.text.split())),
                    j / (n - 1) if n > 1 else 0.0,
                    1.0 / rank,
                    1.0 / shown_rank,
                    holds_year,
                    float(bool(_DIGITS.search(sentence.text))),
                    math.log1p(names),
                    float(person_named),
                    float(person and person_in_role(sentence.text, question)),
                    answer_nearness(sentence.text, question, asked, table.decompounder),
                    _novelty(sentence.terms, asked),
                    qterms.subject_covered(window),
                    passage_subject,
                    (1 - english) * unknown,
                    english * unknown,
                    missing_names,
                    0.0,  # best_words, filled in below
                    0.0,  # best_similarity
                    0.0,  # best_subject
                ]
            )
    matrix = np.asarray(out, dtype=np.float64).reshape(-1, len(FEATURES))
    if len(matrix):
        # The scaled similarities, within the range the scorer learns from: an embedder
        # whose scale is read off a small corpus can put them far outside it, and beyond
        # "clearly below typical" or "clearly answers" more distance says nothing more.
        matrix[:, _SCALED] = np.clip(matrix[:, _SCALED], *SCALE_RANGE)
        # Compared with the other candidates of the same question, in units of how far the
        # best stands above the typical one (so free of any embedder's scale): the best is 0.
        for gap, of in (
            ("similarity_gap", "similarity"),
            ("commitment_gap", "commitment"),
            ("words_gap", "words_window"),
        ):
            values = matrix[:, _COLUMN[of]]
            spread = max(float(values.max() - np.median(values)), 1e-6)
            matrix[:, _COLUMN[gap]] = np.maximum((values - values.max()) / spread, -GAP_LIMIT)
        if matrix[:, _COLUMN["words_window"]].max() <= 0:
            # No candidate holds any of the question's words: none is "the best by words",
            # each is as far from them as a sentence can be ("De mooiste soep van Nederland!"
            # for "wat is het recept voor erwtensoep?" was the best of nothing).
            matrix[:, _COLUMN["words_gap"]] = -GAP_LIMIT
        matrix[:, _COLUMN["best_words"]] = matrix[:, _COLUMN["words_window"]].max()
        matrix[:, _COLUMN["best_similarity"]] = matrix[:, _COLUMN["similarity"]].max()
        matrix[:, _COLUMN["best_subject"]] = matrix[:, _COLUMN["subject_window"]].max()
        promise = float(question.is_promise)
        for name in ("commitment", "commitment_gap"):
            matrix[:, _COLUMN[f"promise_{name}"]] = promise * matrix[:, _COLUMN[name]]
    return ids, owners, matrix


def _sentence_similarities(
    table: SentenceTable, sentence_ids: range, targets: np.ndarray, passage: np.ndarray
) -> np.ndarray:
    """Each sentence's similarity to each target vector (question, COMMITMENT, topic), one
    row per sentence; without sentence vectors in the index, its passage's (``passage``)."""
    vector_rows = [table.sentences[s].vector for s in sentence_ids]
    if table.vectors is None or any(v is None for v in vector_rows):
        return np.tile(passage, (len(sentence_ids), 1))
    return table.vectors[vector_rows] @ targets.T


_TOKEN = re.compile(r"[^\W_]+")


def answer_nearness(
    text: str, question: QuestionInfo, asked: set[str], decompounder: Decompounder | None
) -> float:
    """1 / (1 + words between) the nearest answer of the kind asked for and a word of the
    question: "Zes gemeenten" answers "hoeveel gemeenten", a number elsewhere in the
    sentence less so; 0 when the sentence holds no such answer or none of the words."""
    spans = answer_spans(text, question)
    if not spans:
        return 0.0
    tokens = list(_TOKEN.finditer(text))
    answers = [
        i for i, t in enumerate(tokens) if any(a < t.end() and t.start() < b for a, b in spans)
    ]
    words_at = [
        i
        for i, t in enumerate(tokens)
        if i not in answers and not asked.isdisjoint(_token_terms(t.group(0), decompounder))
    ]
    if not answers or not words_at:
        return 0.0
    gap = min(abs(i - j) for i in answers for j in words_at)
    return 1.0 / gap


@lru_cache(maxsize=65536)
def _token_terms(token: str, decompounder: Decompounder | None) -> frozenset[str]:
    return frozenset(terms(token, decompounder))


def _novelty(found: frozenset[str], asked: set[str]) -> float:
    return sum(t not in asked for t in found) / len(found) if found else 0.0


@lru_cache(maxsize=16384)
def is_sentence(text: str, min_words: int = 5) -> bool:
    """Long enough and mostly lower case: a sentence, not a heading or a list of names."""
    if len(text.split()) < min_words:
        return False
    letters = [c for c in text if c.isalpha()]
    return sum(c.islower() for c in letters) > 0.5 * len(letters)
