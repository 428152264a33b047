"""Vector indexes chosen by size: flat while small, HNSW past the threshold, read back from
the manifest, and filters by document and year that keep working on either."""

from __future__ import annotations

import faiss
import numpy as np
import pytest

from beleidszoeker.config import VectorIndexConfig
from indexer import vectors as ann
from indexer.build import build_index
from indexer.store import load_index, read_manifest
from search_api.retrieval import MODES, Filters, Searcher
from tests.conftest import FIXTURE_CORPUS, make_settings

WATERSTOF = "welke projecten gaan over waterstof?"


def _unit(rows: int, dim: int = 32, seed: int = 0) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((rows, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


# ---------------------------------------------------------------- the choice


def test_flat_up_to_the_threshold_and_hnsw_past_it():
    config = VectorIndexConfig(threshold=1000, factory="HNSW16", ef_construction=40, ef_search=50)

    assert ann.spec_for(1000, config) == {"factory": "Flat", "n": 1000}
    big = ann.spec_for(1001, config)
    assert big["factory"] == "HNSW16"
    assert (big["ef_construction"], big["ef_search"]) == (40, 50)
    assert big["exact_below"] == config.exact_below


def test_a_factory_without_a_graph_records_no_graph_parameters():
    spec = ann.spec_for(10, VectorIndexConfig(threshold=0, factory="IVF4,SQ8"))

    assert spec["factory"] == "IVF4,SQ8"
    assert "ef_search" not in spec


def test_ann_settings_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("BELEIDSZOEKER_ANN_THRESHOLD", "7")
    monkeypatch.setenv("BELEIDSZOEKER_ANN_FACTORY", "HNSW32,SQ8")

    config = VectorIndexConfig()

    assert (config.threshold, config.factory) == (7, "HNSW32,SQ8")


# ---------------------------------------------------------------- the index itself


@pytest.mark.parametrize("factory", ["HNSW32", "HNSW32,SQ8"])
def test_hnsw_finds_what_exact_search_finds(factory):
    vectors = _unit(4000)
    queries = _unit(50, seed=1)
    spec = ann.spec_for(len(vectors), VectorIndexConfig(threshold=0, factory=factory))
    index = ann.build(vectors, spec)
    exact = np.argsort(-(queries @ vectors.T), axis=1)[:, :10]

    found = [ann.search(index, spec, vectors, q, 10) for q in queries]

    recall = np.mean([len(set(f) & set(e)) / 10 for f, e in zip(found, exact, strict=True)])
    assert recall >= 0.9
    assert faiss.downcast_index(index).hnsw.efSearch == spec["ef_search"]


@pytest.mark.parametrize("exact_below", [0, 10_000])  # graph walk with a selector / exact
def test_a_filtered_ann_search_returns_only_allowed_vectors_best_first(exact_below):
    vectors = _unit(3000)
    query = _unit(1, seed=2)[0]
    spec = ann.spec_for(
        len(vectors), VectorIndexConfig(threshold=0, ef_search=64, exact_below=exact_below)
    )
    index = ann.build(vectors, spec)
    allowed = np.arange(0, 3000, 7)  # one vector in seven, like one document of many

    found = ann.search(index, spec, vectors, query, 20, allowed)

    assert len(found) == 20
    assert set(found) <= set(allowed)
    exact = allowed[np.argsort(-(vectors[allowed] @ query))[:20]]
    assert len(set(found) & set(exact)) >= 18
    if exact_below:
        assert list(found) == list(exact)  # scored exactly, in order


def test_a_filter_wider_than_k_on_a_flat_index_is_exact():
    vectors = _unit(500)
    query = _unit(1, seed=3)[0]
    spec = ann.spec_for(len(vectors), VectorIndexConfig())
    allowed = np.arange(100, 400)

    found = ann.search(ann.build(vectors, spec), spec, vectors, query, 5, allowed)

    assert list(found) == list(allowed[np.argsort(-(vectors[allowed] @ query))[:5]])


# ---------------------------------------------------------------- through a build


@pytest.fixture(scope="module")
def hnsw_settings(tmp_path_factory, cache_dir):
    """The fixture corpus with every vector index an HNSW graph (threshold 0)."""
    root = tmp_path_factory.mktemp("hnsw-index")
    config = VectorIndexConfig(threshold=0, ef_construction=40, ef_search=77, exact_below=0)
    settings = make_settings(
        FIXTURE_CORPUS, root / "index", cache_dir, chunk_size=400, chunk_overlap=60, ann=config
    )
    build_index(settings)
    return settings


def test_the_manifest_records_the_choice_and_a_load_reads_it_back(hnsw_settings):
    manifest = read_manifest(hnsw_settings.index_dir)

    for part in ("passages", "sentences"):
        spec = manifest["vectors"][part]
        assert spec["factory"] == "HNSW32"
        assert (spec["ef_construction"], spec["ef_search"]) == (40, 77)
    assert manifest["ann"]["threshold"] == 0

    index = load_index(hnsw_settings.index_dir, hnsw_settings.embedder)
    for dense in (index.dense, index.sentences.dense):
        assert faiss.downcast_index(dense).hnsw.efSearch == 77
    assert index.vectors.shape == (manifest["n_chunks"], manifest["embedder"]["dim"])
    assert not index.vectors.flags.owndata  # mapped from the file, not copied at load
    assert not index.vectors.flags.writeable


def test_other_ann_settings_rebuild_an_up_to_date_index(hnsw_settings, tmp_path):
    same = build_index(hnsw_settings)
    assert same.up_to_date

    flat = hnsw_settings.with_overrides(ann=VectorIndexConfig())
    report = build_index(flat)

    assert not report.up_to_date
    assert report.n_embedded == 0  # the vector cache spares the embedding
    assert read_manifest(flat.index_dir)["vectors"]["passages"]["factory"] == "Flat"
    build_index(hnsw_settings)  # back, for the other tests of this module


@pytest.fixture(scope="module")
def hnsw_searcher(hnsw_settings, fixture_index):
    index = load_index(hnsw_settings.index_dir, hnsw_settings.embedder)
    return Searcher(index, fixture_index.embedder, fixture_index.ranking)


@pytest.mark.parametrize("mode", MODES)
def test_a_small_hnsw_index_ranks_as_the_flat_one(hnsw_searcher, fixture_index, mode):
    for question in (WATERSTOF, "snel internet op het platteland", "zorg voor ouderen"):
        hnsw = hnsw_searcher.search(question, 10, mode)
        flat = fixture_index.search(question, 10, mode)
        assert [h.chunk.id for h in hnsw] == [h.chunk.id for h in flat]


@pytest.mark.parametrize("exact_below", [0, 10**6])
@pytest.mark.parametrize("mode", ["dense", "hybrid"])
def test_filters_by_document_and_year_work_on_an_hnsw_index(
    hnsw_searcher, fixture_index, mode, exact_below
):
    for part in ("passages", "sentences"):
        hnsw_searcher.index.manifest["vectors"][part]["exact_below"] = exact_below
    for filters in (
        Filters(documents=("breedband-en-werk",)),
        Filters(year=2016),
        Filters(documents=("waterstof-projecten", "zorg-en-welzijn")),
    ):
        hits = hnsw_searcher.search("waterstof en werkgelegenheid", 10, mode, filters)
        flat = fixture_index.search("waterstof en werkgelegenheid", 10, mode, filters)
        assert hits
        assert [h.chunk.id for h in hits] == [h.chunk.id for h in flat]
        if filters.documents:
            assert {h.document.id for h in hits} <= set(filters.documents)
        if filters.year:
            assert {h.document.year for h in hits} == {filters.year}
