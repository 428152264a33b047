"""The learned passage ranker: sensible on hand-built evidence, saved with its provenance,
trained on dev only, and used by hybrid search exactly when its record says so."""

from __future__ import annotations

import json

import numpy as np
import pytest

from beleidszoeker.config import RankingConfig
from eval.questions import GoldAnswer, Question, SealedSplitError, split_of
from search_api.passage_features import PASSAGE_FEATURES
from search_api.ranker import PassageRanker, get_ranker
from search_api.retrieval import Searcher
from search_api.scorer import ScorerUnavailableError

# A passage that answers: close in meaning, high in both lists, the question's words together
# in a sentence that holds the kind of answer asked for.
ANSWERING = {
    "dense": 1.1,
    "dense_rr": 1.0,
    "passage_similarity": 1.0,
    "best_sentence": 1.2,
    "mean_sentence": 0.6,
    "keyword": 1.0,
    "keyword_rr": 1.0,
    "keyword_weight": 1.0,
    "trusted_keyword_rr": 1.0,
    "fused_rr": 1.0,
    "coverage": 1.0,
    "best_window": 1.0,
    "answer_window": 1.0,
    "title_words": 0.5,
    "names": 1.0,
    "years": 1.0,
    "typed": 1.0,
    "log_question_words": np.log(4),
    "log_length": np.log1p(200),
    "position": 0.3,
}
# The same question's passage with none of it: far in meaning, deep in both lists.
UNRELATED = {
    **ANSWERING,
    "dense": -0.8,
    "dense_gap": -4.0,
    "dense_rr": 1 / 40,
    "passage_similarity": -0.8,
    "best_sentence": -0.7,
    "mean_sentence": -0.9,
    "keyword": 0.05,
    "keyword_rr": 1 / 45,
    "trusted_keyword_rr": 1 / 45,
    "fused_rr": 1 / 10,
    "coverage": 0.0,
    "best_window": 0.0,
    "answer_window": 0.0,
    "title_words": 0.0,
    "names": 0.0,
    "years": 0.0,
    "best_sentence_gap": -1.9,
    "coverage_gap": -1.0,
    "window_gap": -1.0,
    "answer_gap": -1.0,
}


def _rows(*candidates: dict[str, float]) -> np.ndarray:
    for values in candidates:
        unknown = set(values) - set(PASSAGE_FEATURES)
        assert not unknown, unknown
    return np.array([[c.get(name, 0.0) for name in PASSAGE_FEATURES] for c in candidates])


def test_a_passage_with_all_the_evidence_ranks_above_one_with_none():
    ranker = get_ranker()
    assert ranker is not None, "run `beleidszoeker train`: search_api/model holds no ranker"

    scores = ranker.scores(_rows(UNRELATED, ANSWERING))

    assert scores[1] > scores[0]
    assert ranker.order(_rows(UNRELATED, ANSWERING)).tolist() == [1, 0]


def test_more_of_the_questions_words_together_ranks_higher():
    ranker = get_ranker()
    halfway = {**ANSWERING, "best_window": 0.5, "answer_window": 0.5, "window_gap": -0.5}
    halfway["answer_gap"] = -0.5

    scores = ranker.scores(_rows(halfway, ANSWERING))

    assert scores[1] > scores[0]


def test_equal_candidates_keep_the_fused_order_and_none_give_none():
    ranker = get_ranker()

    assert ranker.order(_rows(ANSWERING, ANSWERING, ANSWERING)).tolist() == [0, 1, 2]
    assert ranker.scores(np.zeros((0, len(PASSAGE_FEATURES)))).shape == (0,)


def test_the_saved_ranker_records_what_it_was_trained_on_and_why_it_is_used():
    import sklearn

    from eval.train_ranker import DEPTHS

    record = get_ranker().record

    assert record["split"] == "dev"
    assert tuple(record["features"]) == PASSAGE_FEATURES
    assert len(record["dev_questions_sha256"]) == 64
    assert record["versions"]["scikit-learn"] == sklearn.__version__
    assert record["model"] in record["cross_validation"]
    assert record["depth"] in DEPTHS
    # Used exactly when it ranked the dev questions better than fusion, out of fold.
    chosen = record["cross_validation"][record["model"]][str(record["depth"])]
    assert chosen == record["out_of_fold"]
    fusion = record["fusion"]
    better = chosen["mrr@10"] > fusion["mrr@10"] and chosen["recall@10"] >= fusion["recall@10"]
    assert record["use"] is better


def test_without_a_saved_ranker_there_is_none(tmp_path):
    assert get_ranker(tmp_path) is None


def test_a_ranker_trained_on_other_features_says_to_run_train(tmp_path):
    get_ranker().save(tmp_path)
    record = json.loads((tmp_path / "passage_ranker.json").read_text())
    record["features"] = record["features"][:-1]
    (tmp_path / "passage_ranker.json").write_text(json.dumps(record))

    with pytest.raises(ScorerUnavailableError, match="beleidszoeker train"):
        get_ranker(tmp_path)


# ---------------------------------------------------------------- used as its record says


def _reversing_ranker(use: bool, depth: int) -> PassageRanker:
    """A real fitted model that prefers the later fused candidates: re-ranked, the head of
    a search comes out reversed."""
    from sklearn.linear_model import LogisticRegression

    fused_rr = PASSAGE_FEATURES.index("fused_rr")
    rows = np.zeros((40, len(PASSAGE_FEATURES)))
    rows[:, fused_rr] = 1.0 / np.arange(1, 41)
    labels = (np.arange(40) >= 20).astype(int)  # the deeper half answers
    model = LogisticRegression().fit(rows, labels)
    return PassageRanker(model, {"use": use, "depth": depth, "features": list(PASSAGE_FEATURES)})


QUESTION = "welke projecten gaan over waterstof?"


def _ids(searcher: Searcher, k: int = 6) -> list[str]:
    return [h.chunk.id for h in searcher.search(QUESTION, k, "hybrid")]


def test_hybrid_search_re_ranks_its_head_when_the_ranker_is_in_use(fixture_index):
    store, embedder = fixture_index.store, fixture_index.embedder
    fused = _ids(Searcher(store, embedder, RankingConfig(rerank=False)))

    searcher = Searcher(store, embedder, ranker=_reversing_ranker(use=True, depth=4))
    hits = searcher.search(QUESTION, 6, "hybrid")

    assert [h.chunk.id for h in hits] == fused[:4][::-1] + fused[4:]
    # Each moved passage keeps its fused rank: what the answer scorer reads.
    assert [h.fused_rank for h in hits] == [4, 3, 2, 1, None, None]


def test_hybrid_search_keeps_the_fused_order_when_the_record_says_not_to_use_it(fixture_index):
    store, embedder = fixture_index.store, fixture_index.embedder
    fused = _ids(Searcher(store, embedder, RankingConfig(rerank=False)))

    kept = _ids(Searcher(store, embedder, ranker=_reversing_ranker(use=False, depth=4)))
    turned_off = Searcher(
        store, embedder, RankingConfig(rerank=False), _reversing_ranker(use=True, depth=4)
    )

    assert kept == fused
    assert _ids(turned_off) == fused


def test_the_depth_set_in_the_ranking_overrides_the_one_chosen_on_dev(fixture_index):
    store, embedder = fixture_index.store, fixture_index.embedder
    fused = _ids(Searcher(store, embedder, RankingConfig(rerank=False)))

    searcher = Searcher(
        store, embedder, RankingConfig(rerank_depth=2), _reversing_ranker(use=True, depth=4)
    )

    assert _ids(searcher) == [fused[1], fused[0], *fused[2:]]


def test_dense_and_keyword_search_are_never_re_ranked(fixture_index):
    store, embedder = fixture_index.store, fixture_index.embedder
    plain = Searcher(store, embedder, RankingConfig(rerank=False))
    reversing = Searcher(store, embedder, ranker=_reversing_ranker(use=True, depth=4))

    for mode in ("dense", "keyword"):
        assert reversing.search(QUESTION, 6, mode) == plain.search(QUESTION, 6, mode)


def test_passage_features_are_on_the_index_scale(fixture_index):
    rows, features = fixture_index.fused_candidates(QUESTION, 5)
    column = {name: features[:, i] for i, name in enumerate(PASSAGE_FEATURES)}

    assert features.shape == (len(rows), len(PASSAGE_FEATURES)) and len(rows) == 5
    assert column["fused_rr"].tolist() == pytest.approx([1, 1 / 2, 1 / 3, 1 / 4, 1 / 5])
    assert column["dense_gap"].max() == 0.0 and column["coverage_gap"].max() == 0.0
    assert ((column["coverage"] >= 0) & (column["coverage"] <= 1)).all()
    assert column["is_list"].tolist() == [1.0] * 5
    assert column["english"].tolist() == [0.0] * 5
    # The first passage is about waterstof: it holds some of the question's words.
    assert column["coverage"][0] > 0


# ---------------------------------------------------------------- training


def _ids_in(split: str, n: int) -> list[str]:
    return [i for i in (f"x{k:03d}" for k in range(200)) if split_of(i) == split][:n]


ASKED = [
    ("wat belooft de provincie over snel internet?", "breedband-en-werk", "De provincie belooft"),
    (
        "hoeveel geld is er beschikbaar voor snel internet?",
        "breedband-en-werk",
        "Daarvoor is 12 miljoen euro beschikbaar gesteld.",
    ),
    (
        "wanneer trekken de eerste bewoners in de waterstofwijk?",
        "waterstof-projecten",
        "De eerste bewoners trekken in 2024 in.",
    ),
    (
        "welke projecten gaan over waterstof?",
        "waterstof-projecten",
        "In Hoogeveen wordt een nieuwe wijk verwarmd met groene waterstof.",
    ),
    (
        "hoe worden ouderen geholpen om thuis te wonen?",
        "zorg-en-welzijn",
        "zodat mensen langer zelfstandig thuis kunnen wonen",
    ),
    ("wat is het recept voor erwtensoep?", None, None),
]


def _questions(split: str) -> list[Question]:
    return [
        Question(
            id=qid,
            question=text,
            category="fact" if doc else "unanswerable",
            answers=[GoldAnswer(document=doc, quote=quote)] if doc else [],
        )
        for qid, (text, doc, quote) in zip(_ids_in(split, len(ASKED)), ASKED, strict=True)
    ]


def test_training_the_ranker_refuses_any_question_of_the_test_split(fixture_index, tmp_path):
    from eval.train_ranker import collect, train_ranker

    dev, sealed = _questions("dev"), _questions("test")[:1]

    with pytest.raises(SealedSplitError, match="sealed test split"):
        collect(fixture_index, [*dev, *sealed])
    with pytest.raises(SealedSplitError):
        train_ranker(fixture_index, [*sealed, *dev], "", out_dir=tmp_path)
    assert get_ranker(tmp_path) is None  # nothing was saved


def test_train_ranker_fits_saves_and_records_the_dev_questions(fixture_index, tmp_path):
    from eval.train_ranker import train_ranker

    questions = _questions("dev")

    result = train_ranker(fixture_index, questions, "questions text", out_dir=tmp_path)
    ranker = get_ranker(tmp_path)

    record = ranker.record
    assert record["n_questions"] == sum(q.answerable for q in questions)
    assert record["n_positive"] >= 5
    assert record["dev_questions_sha256"] == result.ranker.record["dev_questions_sha256"]
    assert record["ranking"] == fixture_index.ranking.model_dump()
    assert isinstance(record["use"], bool)
    assert ranker.scores(_rows(ANSWERING)).shape == (1,)
    assert any("fusion alone" in line for line in result.lines())


def test_answers_read_the_fused_ranks_so_re_ranking_the_head_keeps_the_answer(fixture_index):
    from search_api.answer import answer_question

    store, embedder = fixture_index.store, fixture_index.embedder
    fused = Searcher(store, embedder, RankingConfig(rerank=False))
    reversing = Searcher(store, embedder, ranker=_reversing_ranker(use=True, depth=10))

    for question in (QUESTION, "hoeveel geld is er beschikbaar voor snel internet?"):
        plain, reranked = answer_question(fused, question), answer_question(reversing, question)
        assert reranked.abstained == plain.abstained
        assert reranked.answer == plain.answer
        assert {p.chunk_id for p in reranked.passages} == {p.chunk_id for p in plain.passages}
