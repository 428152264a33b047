"""What the passage ranker sees of each fused candidate of a question: one row of numbers.

The evidence of both retrievers and of the passage's sentences, on the index's own scale:
similarities as ``sentences.similarity_scale`` puts them (0 for a typical passage, about 1
for one that answers), BM25 as a share of the question's best, ranks as reciprocals, word
evidence as IDF-weighted shares of the question's words. Everything is read through the
store interface, so a database store gives the same rows as the index folder. How much each
feature counts is learned (``beleidszoeker train``), not set here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from indexer.stores.base import IndexStore
from search_api.evidence import QuestionTerms, holds_answer_type
from search_api.question import QuestionInfo
from search_api.sentences import SentenceTable

PASSAGE_FEATURES: tuple[str, ...] = (
    "dense",  # the dense score (passage and best sentence), scaled
    "dense_gap",  # how far below the question's best dense score, in units of its spread
    "dense_rr",  # 1 / rank in the dense list (0: not in it)
    "passage_similarity",  # the passage's own vector, scaled
    "best_sentence",  # its closest sentence, scaled
    "mean_sentence",  # its sentences on average, scaled
    "keyword",  # BM25 as a share of the question's best BM25
    "keyword_rr",  # 1 / rank in the keyword list (0: not in it)
    "keyword_weight",  # how far keyword search can be trusted for this question (0 to 1)
    "trusted_keyword_rr",  # the two above together: keyword rank as far as it is trusted
    "fused_rr",  # 1 / rank after rank fusion and the proximity bonus
    "coverage",  # IDF-weighted share of the question's words in the passage (the store's)
    "best_window",  # ... in its best sentence with its neighbours
    "answer_window",  # ... there, where the sentence holds the kind of answer asked for
    "title_words",  # ... in its section and document title
    "names",  # share of the question's names its section names
    "years",  # every year the question names stands in the passage
    "english",
    "english_keyword",  # English words are poor keyword evidence in Dutch documents
    "english_dense",
    "is_list",
    "is_promise",
    "typed",  # the question asks for an amount, a date, a name
    "log_question_words",
    "log_length",  # the passage's length in words
    "position",  # where in its document the passage starts (0 first, 1 last)
    # Against the question's other candidates (the best is 0): how far behind it stands.
    "best_sentence_gap",
    "coverage_gap",
    "window_gap",
    "answer_gap",
)
_COLUMN = {name: i for i, name in enumerate(PASSAGE_FEATURES)}
# Scaled similarities beyond this range say nothing more (see features.SCALE_RANGE).
SCALE_RANGE = (-1.0, 1.5)
GAP_LIMIT = 4.0


@dataclass(frozen=True)
class Retrieved:
    """What fusion saw of one question: each list as (row, score), best first."""

    dense: list[tuple[int, float]]
    keyword: list[tuple[int, float]]
    fused: list[tuple[int, float]]
    keyword_weight: float


def passage_rows(
    store: IndexStore,
    table: SentenceTable,
    question: QuestionInfo,
    qterms: QuestionTerms,
    retrieved: Retrieved,
    similarities: tuple[np.ndarray, np.ndarray, np.ndarray],
    sentence_share: float,
    depth: int,
) -> np.ndarray:
    """One feature row per passage of the top ``depth`` of ``retrieved.fused``, in that
    order; ``similarities`` are (passage, best sentence, mean sentence) cosine
    similarities of those passages to the question."""
    rows = [r for r, _ in retrieved.fused[:depth]]
    out = np.zeros((len(rows), len(PASSAGE_FEATURES)), dtype=np.float64)
    if not rows:
        return out
    floor, span = table.scale
    passage, best, mean = (np.clip((s - floor) / span, *SCALE_RANGE) for s in similarities)
    dense = (1 - sentence_share) * passage + sentence_share * best
    dense_rank = {r: i + 1 for i, (r, _) in enumerate(retrieved.dense)}
    keyword_rank = {r: i + 1 for i, (r, _) in enumerate(retrieved.keyword)}
    bm25 = dict(retrieved.keyword)
    top_bm25 = max((s for _, s in retrieved.keyword), default=0.0) or 1.0
    coverage = store.keyword_coverage(question.text, rows)
    chunks = store.passages(rows)
    english = float(question.lang == "en")
    asked = max(len(qterms.words), 1)
    c = _COLUMN
    for i, (row, chunk) in enumerate(zip(rows, chunks, strict=True)):
        document = store.documents[chunk.document_id]
        keyword = bm25.get(row, 0.0) / top_bm25
        out[i, c["dense_rr"]] = 1.0 / dense_rank[row] if row in dense_rank else 0.0
        out[i, c["keyword"]] = keyword
        out[i, c["keyword_rr"]] = 1.0 / keyword_rank[row] if row in keyword_rank else 0.0
        out[i, c["fused_rr"]] = 1.0 / (i + 1)
        out[i, c["coverage"]] = float(coverage[i])
        windows = [(s, qterms.coverage(table.window(s))) for s in table.by_row[row]]
        out[i, c["best_window"]] = max((w for _, w in windows), default=0.0)
        out[i, c["answer_window"]] = max(
            (
                w
                for s, w in windows
                if w > 0 and holds_answer_type(table.sentences[s].text, question)
            ),
            default=0.0,
        )
        out[i, c["title_words"]] = qterms.coverage(table.context[row])
        out[i, c["names"]] = qterms.names_covered(table.section[row])
        out[i, c["years"]] = float(qterms.years_covered(table.passage[row]))
        out[i, c["english_keyword"]] = english * keyword
        out[i, c["log_length"]] = math.log1p(len(chunk.text.split()))
        out[i, c["position"]] = chunk.char_start / max(document.n_chars, chunk.char_end, 1)
    out[:, c["dense"]] = dense
    spread = max(float(dense.max() - np.median(dense)), 1e-6)
    out[:, c["dense_gap"]] = np.maximum((dense - dense.max()) / spread, -GAP_LIMIT)
    out[:, c["passage_similarity"]] = passage
    out[:, c["best_sentence"]] = best
    out[:, c["mean_sentence"]] = mean
    out[:, c["keyword_weight"]] = retrieved.keyword_weight
    out[:, c["trusted_keyword_rr"]] = retrieved.keyword_weight * out[:, c["keyword_rr"]]
    out[:, c["english"]] = english
    out[:, c["english_dense"]] = english * dense
    out[:, c["is_list"]] = float(question.is_list)
    out[:, c["is_promise"]] = float(question.is_promise)
    out[:, c["typed"]] = float(question.answer_type != "any")
    out[:, c["log_question_words"]] = math.log(asked)
    for gap, of in (
        ("best_sentence_gap", "best_sentence"),
        ("coverage_gap", "coverage"),
        ("window_gap", "best_window"),
        ("answer_gap", "answer_window"),
    ):
        out[:, c[gap]] = out[:, c[of]] - out[:, c[of]].max()
    return out
