"""The scale benchmark on a small N: its corpus, its stand-in vectors, its report."""

from __future__ import annotations

import json

import httpx
import numpy as np
import pytest

from benchmarks import scale_bench
from benchmarks.http_load import Server
from benchmarks.synthetic import (
    StandInEmbedder,
    build_source,
    generate_corpus,
    load_source,
    save_source,
)
from indexer.cleaning import clean


@pytest.fixture(scope="module")
def source(fixture_index, fixture_settings, tmp_path_factory):
    questions = ["welke projecten gaan over waterstof?", "wat kost het project?"]
    made = build_source(fixture_settings.index_dir, fixture_settings.embedder, questions)
    path = tmp_path_factory.mktemp("scale") / "source.npz"
    save_source(made, path)
    return load_source(path)


def test_source_round_trips_and_keeps_real_vectors(source, fixture_index):
    assert len(source.sentences) == len(source.vectors) > 10
    assert len(set(source.sentences)) == len(source.sentences)
    norms = np.linalg.norm(source.vectors, axis=1)
    assert np.allclose(norms, 1, atol=1e-3)
    q = source.queries["welke projecten gaan over waterstof?"]
    real = fixture_index.embedder.embed_query("welke projecten gaan over waterstof?")
    assert np.allclose(q, real, atol=1e-5)


def test_standin_vectors_stay_near_their_sentences(source):
    embedder = StandInEmbedder(source)
    texts = source.sentences[:20]
    first, again = embedder.embed_passages(texts), embedder.embed_passages(texts)
    assert np.array_equal(first, again)  # same text, same vector, as the cache assumes
    assert np.allclose(np.linalg.norm(first, axis=1), 1, atol=1e-5)
    own = np.sum(first * source.vectors[:20], axis=1)
    assert own.min() > 0.9
    # A sentence's stand-in is nearer its own real vector than any other sentence's.
    nearest = np.argmax(first @ source.vectors.T, axis=1)
    assert (nearest == np.arange(20)).mean() >= 0.9


def test_generated_corpus_is_dutch_and_about_the_size_asked(source, tmp_path):
    from indexer.chunking import chunk_document

    n_docs = generate_corpus(tmp_path / "c", source, 200, chunk_size=400, chunk_overlap=60)
    files = sorted((tmp_path / "c").rglob("doc-*.txt"))
    assert len(files) == n_docs
    passages = sum(len(chunk_document(f.stem, clean(f.read_text("utf-8")), 400, 60)) for f in files)
    assert 140 <= passages <= 260
    text = files[0].read_text("utf-8")
    assert sum(s in text for s in source.sentences) >= 3
    assert "\n1. " in text and '["0000/doc-0000000.txt"]' in (
        (tmp_path / "c" / "manifest.toml").read_text("utf-8")
    )


@pytest.mark.slow
def test_benchmark_runs_end_to_end_on_a_small_corpus(source, tmp_path, monkeypatch):
    work = tmp_path / "work"
    work.mkdir()
    save_source(source, work / "source.npz")
    out = tmp_path / "results"
    scale_bench.main(["--passages", "300", "--work", str(work), "--out", str(out)])
    results = json.loads((out / "scale.json").read_text())
    run = results["runs"]["300"]
    assert "error" not in run, run.get("error")
    assert 150 <= run["passages"] <= 600
    assert run["sentences"] > run["passages"]
    assert run["build_cold_s"] > 0 and run["build_from_cache_s"] > 0
    assert run["add_one_document_s"] > 0 and run["added"] == ["toegevoegd/nieuwe-nota.txt"]
    assert run["disk_mb"] > 0 and run["start_s"] > 0
    assert run["memory_after_queries"]["rss_mb"] > 50
    assert run["search"]["p95_ms"] >= run["search"]["p50_ms"] > 0
    assert run["search_warm"]["n"] == run["search"]["n"]
    assert run["ask"]["n"] == run["search"]["n"] >= 1
    for part, measures in run["recall"].items():
        assert set(measures) == {"id", "epsilon", "texts"} - (
            {"texts"} if part == "passages" else set()
        )
        assert all(0.9 <= v <= 1 for v in measures.values()), (part, measures)
    assert run["memory_after_queries"]["anon_mb"] > 0
    assert f"| {run['passages']} | {run['sentences']} |" in (out / "scale.md").read_text()
    assert (out / "scale.png").stat().st_size > 1000
    # The store benchmark serves this index over HTTP with the same stand-in embedder.
    server = Server(work / "index-300", None, work / "source.npz")
    try:
        server.wait(120)
        question = "welke projecten gaan over waterstof?"
        hits = httpx.get(f"{server.url}/api/search", params={"q": question}, timeout=60).json()
        results = hits["results"]
        assert results and "waterstof" in results[0]["text"].lower()
    finally:
        server.stop()
    # Steps run again alone: the build from cache embeds nothing, the row keeps the
    # figures of the steps not run and says which commit measured each.
    scale_bench.main(
        ["--passages", "300", "--work", str(work), "--out", str(out), "--steps", "build"]
    )
    again = json.loads((out / "scale.json").read_text())["runs"]["300"]
    assert "error" not in again, again.get("error")
    assert again["build_embedded"] == 0 and again["passages"] == run["passages"]
    assert again["build_cold_s"] == run["build_cold_s"] and again["search"] == run["search"]
    assert set(again["step_commits"]) == {"cold", "build", "add", "serve"}
    assert len(list((work / "index-300.builds").iterdir())) == 1  # the old index removed


def test_a_million_passage_row_is_read_against_the_targets_not_extrapolated():
    growth = scale_bench.growth
    small = {"n_target": 100_000, "passages": 100_000, "start_s": 2.0, "search": {"p95_ms": 30.0}}
    big = {"n_target": 1_000_000, "passages": 1_070_000, "start_s": 5.4,
           "search": {"p95_ms": 80.0}, "search_warm": {"p95_ms": 45.0}}  # fmt: skip

    lines = growth([small, big])

    assert any("measured" in line for line in lines)
    assert not any("estimate" in line for line in lines)
    assert "| start (s) | 5.4 | ≤ 10 (met) |" in lines
    assert "| search p95, first (ms) | 80.0 | ≤ 50 (missed) |" in lines
    assert "| search p95, warm (ms) | 45.0 | ≤ 50 (met) |" in lines
    # Below a million the two largest rows are still taken on to 1M, as an estimate.
    assert any("estimate" in line for line in growth([small, {**big, "n_target": 200_000}]))
