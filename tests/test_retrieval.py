"""Keyword, dense and hybrid search over the fixture index, with filters and bad questions."""

from __future__ import annotations

import pytest

from beleidszoeker.config import RankingConfig
from beleidszoeker.errors import EmptyQueryError, UnknownDocumentError
from search_api.retrieval import MODES, Filters, Searcher, normalize_query, split_filter

WATERSTOF = "welke projecten gaan over waterstof?"
# Shares no word (nor stem) with the passage about meeting places for the elderly.
PARAPHRASE = "plekken waar bejaarden samenkomen"


def _docs(hits) -> list[str]:
    return [h.chunk.document_id for h in hits]


def _ids(hits) -> list[str]:
    return [h.chunk.id for h in hits]


def _n_chunks(searcher: Searcher, document_id: str) -> int:
    return sum(c.document_id == document_id for c in searcher.index.chunks)


@pytest.mark.parametrize("mode", MODES)
def test_waterstof_question_finds_the_waterstof_passages_first(fixture_index, mode):
    n = _n_chunks(fixture_index, "waterstof-projecten")
    assert n >= 2

    hits = fixture_index.search(WATERSTOF, n, mode)

    assert _docs(hits) == ["waterstof-projecten"] * n


def test_keyword_search_finds_the_breedband_passage_for_snel_internet(fixture_index):
    hits = fixture_index.search("snel internet", 5, "keyword")

    assert hits, "no keyword hits"
    assert hits[0].chunk.document_id == "breedband-en-werk"
    assert "breedband" in hits[0].chunk.text
    assert hits[0].chunk.section.startswith("1. Snel internet")


def test_keyword_search_matches_inflected_forms(fixture_index):
    # "woning" is not in the text, "woningen" is: the Dutch stemmer joins them.
    hits = fixture_index.search("woning", 3, "keyword")

    assert _docs(hits)[:1] == ["waterstof-projecten"]
    assert "woningen" in hits[0].chunk.text


def test_dense_search_finds_a_paraphrase_without_shared_words(fixture_index):
    assert fixture_index.search(PARAPHRASE, 5, "keyword") == []

    hits = fixture_index.search(PARAPHRASE, 3, "dense")

    assert hits[0].chunk.document_id == "zorg-en-welzijn"
    assert "ouderen elkaar ontmoeten" in hits[0].chunk.text


def test_hybrid_keeps_a_passage_only_dense_search_found(fixture_index):
    hits = fixture_index.search(PARAPHRASE, 3, "hybrid")

    assert hits[0].chunk.document_id == "zorg-en-welzijn"


def test_hybrid_fuses_the_best_of_both_lists(fixture_index):
    # Two candidates per retriever: only their top passages can reach the fused top 2.
    # (Fusion itself: the learned ranker, which may re-order its head, is off.)
    ranking = RankingConfig(candidates=2, proximity_weight=0, rerank=False)
    searcher = Searcher(fixture_index.index, fixture_index.embedder, ranking)
    dense = _ids(searcher.search("werk", 2, "dense"))
    keyword = _ids(searcher.search("werk", 2, "keyword"))
    assert len(dense) == 2 and keyword, (dense, keyword)
    assert not set(dense) & set(keyword), "the test needs lists without overlap"

    fused = _ids(searcher.search("werk", 2, "hybrid"))

    assert set(fused) == {dense[0], keyword[0]}


def test_hybrid_lifts_the_passage_where_the_question_words_stand_together(fixture_index):
    # "...draagt het bij aan de interesse van leerlingen voor techniek" (tiny house) holds all
    # three words near each other; the FabLab passage is about techniek and scholen apart.
    question = "scholen techniek leerlingen"
    fusion = RankingConfig(proximity_weight=0, rerank=False)
    plain = Searcher(fixture_index.index, fixture_index.embedder, fusion)
    assert _ids(plain.search(question, 3, "hybrid"))[0] == "breedband-en-werk#2"

    near = Searcher(fixture_index.index, fixture_index.embedder, RankingConfig(rerank=False))
    assert _ids(near.search(question, 3, "hybrid"))[0] == "waterstof-projecten#1"


def _row(searcher: Searcher, chunk_id: str) -> int:
    return next(i for i, c in enumerate(searcher.index.chunks) if c.id == chunk_id)


def test_keyword_coverage_is_the_share_of_question_words_a_passage_holds(fixture_index):
    keyword = fixture_index.index.keyword
    rows = [_row(fixture_index, "waterstof-projecten#0"), _row(fixture_index, "zorg-en-welzijn#0")]

    assert keyword.coverage("waterstof Hoogeveen", rows).tolist() == pytest.approx([1.0, 0.0])
    # A word the corpus never uses weighs at least as much as the rarest word it does use.
    partial = keyword.coverage("waterstof obesitas", rows)[0]
    assert 0.0 < partial <= 0.5
    assert keyword.coverage("", rows).tolist() == [0.0, 0.0]


def test_keyword_coverage_counts_an_unknown_compound_by_its_known_parts(fixture_index):
    keyword = fixture_index.index.keyword
    # The corpus never writes "waterstofwoningen"; it writes "waterstof" and "woningen".
    assert keyword.decompounder.split("waterstofwoningen") == ("waterstof", "woningen")
    chunks = ["waterstof-projecten#0", "zorg-en-welzijn#0", "breedband-en-werk#0"]

    shares = keyword.coverage("waterstofwoningen", [_row(fixture_index, c) for c in chunks])

    # "wonen" shares its stem with "woningen"; there is no waterstof in care.
    assert shares.tolist() == [1.0, 0.5, 0.0]


def test_hybrid_trusts_keyword_hits_less_when_they_cover_little_of_the_question(
    fixture_index,
):
    # Only "studenten" is a corpus word: keyword search finds the tiny-house passage on
    # it alone, while dense search finds the passage about elderly people meeting.
    question = "plekken waar bejaarden samenkomen studenten"
    ranking = RankingConfig(rrf_k=1, proximity_weight=0, rerank=False)
    searcher = Searcher(fixture_index.index, fixture_index.embedder, ranking)
    dense = _ids(searcher.search(question, 2, "dense"))
    keyword = _ids(searcher.search(question, 2, "keyword"))
    assert dense == ["zorg-en-welzijn#0", "waterstof-projecten#1"]
    assert keyword == ["waterstof-projecten#1"]
    # Equal weights would rank the tiny house first: 1/2 + 1/3 against 1/2.
    assert searcher.keyword_weight(question, [(_row(searcher, keyword[0]), 1.0)]) < 0.5

    assert _ids(searcher.search(question, 2, "hybrid")) == dense


def test_hybrid_ranks_first_a_passage_both_lists_rank_first(fixture_index):
    dense = fixture_index.search("snel internet", 3, "dense")
    keyword = fixture_index.search("snel internet", 3, "keyword")
    assert dense[0].chunk.id == keyword[0].chunk.id

    assert fixture_index.search("snel internet", 3, "hybrid")[0].chunk.id == dense[0].chunk.id


def test_hybrid_returns_only_passages_one_of_the_retrievers_found(fixture_index):
    depth = fixture_index.ranking.candidates
    found = set(_ids(fixture_index.search("glasvezel", depth, "dense")))
    found |= set(_ids(fixture_index.search("glasvezel", depth, "keyword")))

    fused = _ids(fixture_index.search("glasvezel", depth, "hybrid"))

    assert set(fused) == found
    assert len(fused) == len(set(fused))


# ---------------------------------------------------------------- k and ranks


@pytest.mark.parametrize("mode", ["hybrid", "dense"])
@pytest.mark.parametrize("k", [1, 2, 5])
def test_k_passages_ranked_from_one_best_first(fixture_index, mode, k):
    hits = fixture_index.search(WATERSTOF, k, mode)

    assert len(hits) == k
    assert [h.rank for h in hits] == list(range(1, k + 1))
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True)
    assert all(h.document.id == h.chunk.document_id for h in hits)


@pytest.mark.parametrize("mode", MODES)
def test_k_above_the_number_of_passages_returns_each_passage_once(fixture_index, mode):
    hits = fixture_index.search("waterstof wonen werk zorg", 50, mode)

    assert 0 < len(hits) <= len(fixture_index.index.chunks)
    assert len(set(_ids(hits))) == len(hits)
    if mode != "keyword":  # keyword search returns only passages sharing a word
        assert len(hits) == len(fixture_index.index.chunks)


def test_keyword_k_limits_the_hits(fixture_index):
    assert len(fixture_index.search(WATERSTOF, 1, "keyword")) == 1
    assert len(fixture_index.search(WATERSTOF, 2, "keyword")) == 2


def test_extra_whitespace_in_the_question_changes_nothing(fixture_index):
    messy = "  welke   projecten\n gaan over\twaterstof?  "

    hits = fixture_index.search(messy, 3, "hybrid")  # hybrid runs both retrievers

    assert _ids(hits) == _ids(fixture_index.search(WATERSTOF, 3, "hybrid"))


# ---------------------------------------------------------------- filters


@pytest.mark.parametrize("mode", MODES)
def test_document_filter_keeps_only_that_document(fixture_index, mode):
    only = Filters(documents=("breedband-en-werk",))

    hits = fixture_index.search("werk en techniek voor jongeren", 10, mode, only)

    assert hits
    assert set(_docs(hits)) == {"breedband-en-werk"}


def test_document_filter_with_two_documents(fixture_index):
    two = Filters(documents=("zorg-en-welzijn", "breedband-en-werk"))

    hits = fixture_index.search(WATERSTOF, 10, "dense", two)

    assert set(_docs(hits)) == {"zorg-en-welzijn", "breedband-en-werk"}
    assert len(hits) == _n_chunks(fixture_index, "zorg-en-welzijn") + _n_chunks(
        fixture_index, "breedband-en-werk"
    )


def test_document_filter_without_matching_words_finds_nothing_by_keyword(fixture_index):
    only = Filters(documents=("zorg-en-welzijn",))

    assert fixture_index.search("waterstof", 5, "keyword", only) == []


@pytest.mark.parametrize("mode", MODES)
def test_year_filter_keeps_only_documents_of_that_year(fixture_index, mode):
    hits = fixture_index.search("waterstof en werkgelegenheid", 10, mode, Filters(year=2016))

    assert hits
    assert {h.document.year for h in hits} == {2016}
    assert set(_docs(hits)) == {"breedband-en-werk"}


@pytest.mark.parametrize("mode", MODES)
def test_year_without_documents_finds_nothing(fixture_index, mode):
    assert fixture_index.search(WATERSTOF, 5, mode, Filters(year=1999)) == []


def test_document_and_year_filter_combine(fixture_index):
    both = Filters(documents=("waterstof-projecten", "breedband-en-werk"), year=2022)

    hits = fixture_index.search(WATERSTOF, 10, "hybrid", both)
    assert set(_docs(hits)) == {"waterstof-projecten"}

    none = Filters(documents=("waterstof-projecten",), year=2016)
    assert fixture_index.search(WATERSTOF, 10, "hybrid", none) == []


@pytest.mark.parametrize("mode", MODES)
def test_unknown_document_is_an_error_naming_it(fixture_index, mode):
    with pytest.raises(UnknownDocumentError) as info:
        fixture_index.search(WATERSTOF, 5, mode, Filters(documents=("bestaat-niet",)))

    assert info.value.document_id == "bestaat-niet"
    assert "bestaat-niet" in str(info.value)


def test_split_filter_accepts_repeated_and_comma_separated_ids():
    assert split_filter(None) == ()
    assert split_filter("a, b,,") == ("a", "b")
    assert split_filter(["a", "b,c "]) == ("a", "b", "c")


# ---------------------------------------------------------------- empty questions


@pytest.mark.parametrize("query", ["", " ", "\n\t  \n"])
@pytest.mark.parametrize("mode", MODES)
def test_empty_or_whitespace_question_is_an_error_with_an_example(fixture_index, mode, query):
    with pytest.raises(EmptyQueryError) as info:
        fixture_index.search(query, 5, mode)

    assert "waterstof" in str(info.value)  # the message shows an example question


def test_normalize_query_treats_none_as_empty():
    with pytest.raises(EmptyQueryError):
        normalize_query(None)  # type: ignore[arg-type]


def test_unknown_mode_is_refused(fixture_index):
    with pytest.raises(ValueError, match="hybrid"):
        fixture_index.search(WATERSTOF, 5, "semantic")  # type: ignore[arg-type]


@pytest.mark.parametrize("candidates", [2, 100])
@pytest.mark.parametrize("question", [WATERSTOF, PARAPHRASE, "Which projects are about hydrogen?"])
def test_dense_scores_taken_from_the_vector_searches_equal_those_read_from_the_vectors(
    fixture_index, monkeypatch, candidates, question
):
    ranking = RankingConfig(candidates=candidates)  # 2: some candidates' sentences unsearched
    searcher = Searcher(fixture_index.store, fixture_index.embedder, ranking)
    taken = searcher.search(question, 5, "dense")
    store = searcher.store
    # The store's searches without their scores (as a store that has none gives them):
    # every score is read from the vectors.
    for name in ("dense_passage_hits", "dense_sentence_hits"):
        found = getattr(store, name)
        monkeypatch.setattr(
            store, name, lambda q, k, rows, found=found: (found(q, k, rows)[0], None)
        )
    read = searcher.search(question, 5, "dense")

    assert len(taken) == 5
    assert [h.chunk.id for h in taken] == [h.chunk.id for h in read]
    # BLAS sums a row's products in an order that depends on the row's place in the matrix
    # multiplied: the same vector's score may differ in its last bit (float32).
    assert [h.score for h in taken] == pytest.approx([h.score for h in read], rel=1e-6, abs=0)
