"""Vector indexes chosen by size: flat while small, an ANN index (IVF-PQ re-scored from the
stored vectors, or HNSW) past the threshold, read back from the manifest, and filters by
document and year that keep working on each."""

from __future__ import annotations

import faiss
import numpy as np
import pytest

from beleidszoeker.config import VectorIndexConfig
from indexer import vectors as ann
from indexer.build import build_index
from indexer.rows import RowFile
from indexer.store import load_index, read_manifest
from search_api.retrieval import MODES, Filters, Searcher
from tests.conftest import FIXTURE_CORPUS, make_settings

WATERSTOF = "welke projecten gaan over waterstof?"


def _unit(rows: int, dim: int = 96, seed: int = 0) -> np.ndarray:
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
    spec = ann.spec_for(5000, VectorIndexConfig(threshold=0, factory="IVF4,SQ8"))

    assert spec["factory"] == "IVF4,SQ8"
    assert "ef_search" not in spec
    assert spec["nprobe"] == VectorIndexConfig().nprobe


def test_the_default_factory_gets_lists_by_size_nprobe_and_refine():
    config = VectorIndexConfig(nprobe=12, refine=150, sentence_refine=450)

    assert ann.spec_for(50_000, config) == {"factory": "Flat", "n": 50_000}
    spec = ann.spec_for(1_000_000, config)
    assert spec["factory"] == "IVF1024,SQ8"
    assert (spec["nprobe"], spec["refine"]) == (12, 150)
    assert "ef_search" not in spec
    sentences = ann.spec_for(9_400_000, config, "sentences")
    assert sentences["factory"] == "IVF4096,SQ4"
    assert (sentences["nprobe"], sentences["refine"]) == (12, 450)
    assert [ann.nlist_for(n) for n in (10, 100_000, 1_000_000)] == [16, 256, 1024]


def test_too_few_vectors_to_train_centroids_get_a_flat_index():
    config = VectorIndexConfig(threshold=0)

    assert ann.spec_for(ann.MIN_TRAINED - 1, config)["factory"] == "Flat"
    graph = config.model_copy(update={"factory": "HNSW32"})  # a graph learns nothing
    assert ann.spec_for(ann.MIN_TRAINED - 1, graph)["factory"] == "HNSW32"


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


@pytest.mark.parametrize("part", ["passages", "sentences"])
def test_ivf_finds_what_exact_search_finds_and_holds_codes_not_vectors(part):
    vectors = _unit(6000)
    queries = _unit(50, seed=1)
    config = VectorIndexConfig(threshold=0, nprobe=64, refine=100, sentence_refine=100)
    spec = ann.spec_for(len(vectors), config, part)  # 64 lists: every one visited
    index = ann.build(vectors, spec)
    exact = np.argsort(-(queries @ vectors.T), axis=1)[:, :10]

    found = [ann.search(index, spec, vectors, q, 10) for q in queries]

    recall = np.mean([len(set(f) & set(e)) / 10 for f, e in zip(found, exact, strict=True)])
    assert recall >= 0.9
    for f, q in zip(found, queries, strict=True):  # re-scored exactly: best first
        scores = vectors[f] @ q
        assert np.all(np.diff(scores) <= 0)
    assert faiss.extract_index_ivf(index).nprobe == 64
    # One or half a byte per number and an 8-byte id per vector, not four bytes a number.
    assert faiss.serialize_index(index).size / len(vectors) < 2 * vectors.shape[1]


def test_without_refine_an_ann_index_keeps_its_own_order():
    vectors = _unit(3000)
    query = _unit(1, seed=4)[0]
    spec = ann.spec_for(len(vectors), VectorIndexConfig(threshold=0, refine=0))
    assert "refine" not in spec
    assert "refine" not in ann.spec_for(
        len(vectors), VectorIndexConfig(threshold=0, sentence_refine=0), "sentences"
    )

    found = ann.search(ann.build(vectors, spec), spec, vectors, query, 10)

    assert len(found) == 10


@pytest.mark.parametrize("factory", ["HNSW32", "IVF{nlist},PQ48"])
@pytest.mark.parametrize("exact_below", [0, 10_000])  # ANN search with a selector / exact
def test_a_filtered_ann_search_returns_only_allowed_vectors_best_first(exact_below, factory):
    vectors = _unit(3000)
    query = _unit(1, seed=2)[0]
    config = VectorIndexConfig(threshold=0, ef_search=64, exact_below=exact_below)
    spec = ann.spec_for(len(vectors), config.model_copy(update={"factory": factory}))
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
    config = VectorIndexConfig(
        threshold=0,
        factory="HNSW32",
        sentence_factory="HNSW32",
        ef_construction=40,
        ef_search=77,
        exact_below=0,
    )
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
    # read by position from the file on use (``indexer.rows``), not copied at load
    assert isinstance(index.vectors, RowFile) and index.vectors.path.parent == index.path


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


def test_an_ivf_build_records_lists_nprobe_and_refine_and_a_load_reads_them_back(
    tmp_path, cache_dir, monkeypatch
):
    monkeypatch.setattr(ann, "MIN_TRAINED", 20)  # the fixture corpus: 30 sentences, 7 passages
    config = VectorIndexConfig(threshold=0, nprobe=5, refine=30, sentence_refine=40, exact_below=0)
    settings = make_settings(
        FIXTURE_CORPUS, tmp_path / "index", cache_dir, chunk_size=400, chunk_overlap=60, ann=config
    )
    build_index(settings)
    manifest = read_manifest(settings.index_dir)
    spec = manifest["vectors"]["sentences"]
    lists = str(ann.nlist_for(spec["n"]))
    assert spec["factory"] == config.sentence_factory.replace("{nlist}", lists)
    assert (spec["nprobe"], spec["refine"]) == (5, 40)

    index = load_index(settings.index_dir, settings.embedder)

    assert faiss.extract_index_ivf(index.sentences.dense).nprobe == 5
    assert index.sentences.dense.ntotal == spec["n"]
    # the float32 vectors: in their file, once, read by position when re-scored
    assert isinstance(index.sentences.vectors, RowFile)
    q = index.sentences.vectors[3]
    assert ann.search(index.sentences.dense, spec, index.sentences.vectors, q, 5)[0] == 3


def test_a_large_builds_indexes_built_beside_it_are_those_built_in_line(
    tmp_path, cache_dir, monkeypatch
):
    """A whole build starts its trained vector indexes in a thread once the vectors are in;
    the files written are byte for byte those of an index built in line from them."""
    monkeypatch.setattr(ann, "MIN_TRAINED", 20)  # the fixture corpus: 30 sentences, 7 passages
    started = []
    start = ann.Beside.start

    def recorded(self, vectors, spec):
        found = start(self, vectors, spec)
        started.append(found)
        return found

    monkeypatch.setattr(ann.Beside, "start", recorded)
    config = VectorIndexConfig(threshold=0, factory="SQ8", exact_below=0)
    settings = make_settings(
        FIXTURE_CORPUS, tmp_path / "index", cache_dir, chunk_size=400, chunk_overlap=60, ann=config
    )
    build_index(settings)

    assert len(started) == 2 and all(f is not None and f.done() for f in started)
    path, specs = settings.index_dir.resolve(), read_manifest(settings.index_dir)["vectors"]
    assert specs["sentences"]["factory"].startswith("IVF")
    for part, written, vectors in (
        ("passages", "dense.faiss", "vectors.npy"),
        ("sentences", "sentences.faiss", "sentence_vectors.npy"),
    ):
        in_line = ann.build(np.load(path / vectors), specs[part])
        assert (path / written).read_bytes() == faiss.serialize_index(in_line).tobytes()


def test_an_index_built_beside_a_build_that_stops_is_given_up(monkeypatch):
    monkeypatch.setattr(ann, "_BLOCK", 1)  # a check for the stop between every vector
    with ann.beside() as beside:
        building = beside.start(_unit(200_000, dim=8), {"factory": "SQ8"})
    assert isinstance(building.exception(), ann.Stopped)
