"""The ``beleidszoeker`` command: thin wrappers over the indexer and search functions."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from beleidszoeker.config import Settings, get_settings
from beleidszoeker.errors import BeleidszoekerError

app = typer.Typer(
    help="Beleidszoeker: search Dutch policy documents and get cited answers.",
    no_args_is_help=True,
    add_completion=False,
)
err = Console(stderr=True)
out = Console()

CorpusOpt = Annotated[Path | None, typer.Option("--corpus", help="folder with the documents")]
IndexOpt = Annotated[Path | None, typer.Option("--index", help="index folder")]
QuestionArg = Annotated[str, typer.Argument(help="the question, in Dutch or English")]
KOpt = Annotated[
    int | None, typer.Option("-k", min=1, max=50, help="number of passages [default: 10]")
]
ModeOpt = Annotated[str | None, typer.Option(help="hybrid, dense or keyword [default: hybrid]")]
DocumentOpt = Annotated[
    list[str] | None, typer.Option("--document", "-d", help="only this document id")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="print one JSON object")]


def _settings(**overrides: object) -> Settings:
    try:
        return get_settings().with_overrides(**overrides)
    except ValueError as exc:  # pydantic validation of an environment variable or option
        err.print(f"[red]Invalid setting:[/red] {exc}")
        raise typer.Exit(2) from exc


def _fail(exc: BeleidszoekerError) -> typer.Exit:
    from rich.markup import escape

    # Escaped: a message may name an install command such as `pip install -e '.[ray]'`.
    err.print(f"[red]Error:[/red] {escape(str(exc))}")
    return typer.Exit(1)


def _query_options(
    index_dir: Path | None, k: int | None, mode: str | None, document: list[str] | None
):
    """Settings, k, mode and filters of a search or ask, defaults from the settings."""
    from search_api.retrieval import MODES, Filters, split_filter

    settings = _settings(index_dir=index_dir)
    k, mode = k or settings.default_k, mode or settings.default_mode
    if mode not in MODES:
        err.print(f"[red]Error:[/red] unknown mode {mode!r}; use one of: {', '.join(MODES)}.")
        raise typer.Exit(2)
    return settings, k, mode, Filters(documents=split_filter(document))


def _print_json(model) -> None:
    sys.stdout.write(json.dumps(model.model_dump(), ensure_ascii=False, indent=2) + "\n")


@app.command()
def index(
    address: Annotated[
        str | None,
        typer.Argument(
            metavar="ADDRESS",
            help="with --ray: 'auto' joins the cluster started here with `ray start`, "
            "or a cluster address (ray://head:10001); none starts a local Ray",
            show_default=False,
        ),
    ] = None,
    corpus: CorpusOpt = None,
    index_dir: IndexOpt = None,
    force: Annotated[bool, typer.Option(help="rebuild even if nothing changed")] = False,
    optimize: Annotated[
        bool,
        typer.Option(
            "--optimize",
            help="fold the index's segments into one (also done past BELEIDSZOEKER_MAX_SEGMENTS)",
        ),
    ] = False,
    ray: Annotated[
        bool,
        typer.Option(
            "--ray",
            # Brackets escaped: the help is rich markup.
            help="read and embed as Ray Data tasks (needs `pip install -e '.\\[ray]'`); "
            "also on when BELEIDSZOEKER_RAY_ADDRESS is set",
        ),
    ] = False,
    to_database: Annotated[
        bool,
        typer.Option(
            "--to-database",
            help="then publish the index as a new version in PostgreSQL "
            "(BELEIDSZOEKER_DATABASE_URL; needs `pip install -e '.\\[postgres]'`)",
        ),
    ] = False,
    database_url: Annotated[
        str | None,
        typer.Option(help="with --to-database: postgresql://user:password@host/db"),
    ] = None,
) -> None:
    """Index every document in the corpus folder (only what changed is embedded again)."""
    from contextlib import nullcontext

    from beleidszoeker.progress import RichProgress
    from indexer.build import build_index

    if address is not None and not ray:
        err.print(f"[red]Error:[/red] {address!r}: a Ray address goes with --ray (`--ray auto`).")
        raise typer.Exit(2)
    if database_url is not None and not to_database:
        err.print("[red]Error:[/red] --database-url goes with --to-database.")
        raise typer.Exit(2)
    settings = _settings(corpus_dir=corpus, index_dir=index_dir, database_url=database_url)
    if to_database and not settings.database_url:
        err.print(
            "[red]Error:[/red] --to-database needs a database: set "
            "BELEIDSZOEKER_DATABASE_URL=postgresql://... or pass --database-url."
        )
        raise typer.Exit(2)
    ray_address = address or settings.ray_address or ("local" if ray else None)
    try:
        runner = nullcontext(None)
        if ray_address is not None:
            from indexer.ray_runner import RayRunner

            runner = RayRunner(ray_address)
        with runner as ray_runner:
            if ray_runner is not None:
                err.print(f"Reading and embedding on Ray ({ray_address}).", highlight=False)
            with RichProgress(err) as progress:
                report = build_index(
                    settings, progress, force=force, runner=ray_runner, optimize=optimize
                )
    except BeleidszoekerError as exc:
        raise _fail(exc) from exc
    from beleidszoeker.progress import print_build_report

    print_build_report(err, report)
    if to_database:
        from indexer.stores.factory import publish_to_database
        from indexer.stores.pg_schema import redacted

        target = redacted(settings.database_url or "")
        err.print(f"Publishing the index in {target}.", highlight=False)
        try:
            version = publish_to_database(
                settings, lambda line: err.print(f"  {line}", highlight=False)
            )
        except BeleidszoekerError as exc:
            raise _fail(exc) from exc
        err.print(f"Version {version} is served by every server with this database.")


@app.command()
def check(
    corpus: CorpusOpt = None,
    index_dir: IndexOpt = None,
) -> None:
    """Verify the index builds (checksums), the corpus against the index and the vector cache."""
    from rich.markup import escape

    from indexer.check import check_index

    report = check_index(_settings(corpus_dir=corpus, index_dir=index_dir))
    for line in report.ok:
        out.print(f"[green]ok[/green]   {escape(line)}", highlight=False)
    for line in report.problems:
        out.print(f"[red]fail[/red] {escape(line)}", highlight=False)
    if not report.healthy:
        raise typer.Exit(1)


@app.command()
def search(
    question: QuestionArg,
    k: KOpt = None,
    mode: ModeOpt = None,
    document: DocumentOpt = None,
    as_json: JsonOpt = False,
    index_dir: IndexOpt = None,
) -> None:
    """Find the passages that answer QUESTION."""
    from search_api.engine import get_searcher
    from search_api.models import SearchResponse

    settings, k, mode, filters = _query_options(index_dir, k, mode, document)
    try:
        response = SearchResponse.run(get_searcher(settings), question, k, mode, filters)
    except BeleidszoekerError as exc:
        raise _fail(exc) from exc
    if as_json:
        _print_json(response)
        return
    from beleidszoeker.progress import print_passages

    print_passages(out, response)


@app.command()
def ask(
    question: QuestionArg,
    k: KOpt = None,
    mode: ModeOpt = None,
    document: DocumentOpt = None,
    as_json: JsonOpt = False,
    index_dir: IndexOpt = None,
) -> None:
    """Answer QUESTION with sentences from the documents, each cited, or say it is not there."""
    from search_api.answer import answer_question
    from search_api.engine import get_searcher

    settings, k, mode, filters = _query_options(index_dir, k, mode, document)
    try:
        response = answer_question(
            get_searcher(settings), question, k=k, mode=mode, filters=filters
        )
    except BeleidszoekerError as exc:
        raise _fail(exc) from exc
    if as_json:
        _print_json(response)
        return
    from beleidszoeker.progress import print_answer

    print_answer(out, response)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="address to listen on")] = None,
    port: Annotated[int | None, typer.Option(min=1, max=65535, help="port")] = None,
    corpus: CorpusOpt = None,
    index_dir: IndexOpt = None,
) -> None:
    """Serve the API under /api (docs at /docs) and the web UI at /, on one port."""
    import uvicorn

    from beleidszoeker.server import create_server
    from indexer.store import read_manifest

    settings = _settings(host=host, port=port, corpus_dir=corpus, index_dir=index_dir)
    # With a database the index is there (or `index --to-database` is what to run): a
    # server never builds one into it by itself.
    if settings.database_url or read_manifest(settings.index_dir) is not None:
        # One embedding thread while serving: requests run side by side, and a second
        # OpenMP thread per question fights them for the cores (on 2 busy cores a question
        # took 20 ms with one thread, 40 ms with two, and over a second at the p90). A first
        # start that must index keeps both threads: embedding the corpus is twice as fast.
        os.environ.setdefault("OMP_NUM_THREADS", "1")
    else:
        from beleidszoeker.progress import RichProgress, print_build_report
        from indexer.build import build_index

        err.print(f"No index in {settings.index_dir} yet: building it first.")
        try:
            with RichProgress(err) as progress:
                report = build_index(settings, progress)
        except BeleidszoekerError as exc:
            raise _fail(exc) from exc
        print_build_report(err, report)
    _warm_up(settings)
    err.print(
        f"Beleidszoeker on http://{settings.host}:{settings.port}/ "
        f"(API under /api, docs at /docs). Stop with Ctrl+C."
    )
    uvicorn.run(create_server(settings), host=settings.host, port=settings.port)


def _warm_up(settings: Settings) -> None:
    """Load the index, the embedder, the sentence table and the promise register now, not on
    the first request."""
    from rich.markup import escape

    from search_api.answer import answer_question
    from search_api.engine import get_searcher, serving_problem
    from search_api.promises import get_register

    try:
        searcher = get_searcher(settings)
        answer_question(searcher, "warm up", k=1)
        get_register(searcher.store).follow_ups()  # the register and its follow-ups, once
    except BeleidszoekerError as exc:
        # Still serve: /api answers 503 with this message until the index is fixed.
        err.print(f"[yellow]Warning:[/yellow] {escape(str(exc))}")
        return
    if problem := serving_problem(settings):
        err.print(f"[yellow]Warning:[/yellow] {escape(problem)} Serving an older build meanwhile.")


SetOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        help="try a ranking value without editing code, e.g. --set rrf_k=30 (repeatable)",
    ),
]


def _ranked_settings(index_dir: Path | None, assignments: list[str] | None) -> Settings:
    settings = _settings(index_dir=index_dir)
    if not assignments:
        return settings
    try:
        ranking = settings.ranking.with_values(assignments)
    except ValueError as exc:
        err.print(f"[red]Invalid --set:[/red] {exc}")
        raise typer.Exit(2) from exc
    return settings.model_copy(update={"ranking": ranking})


@app.command(name="eval")
def evaluate(
    questions: Annotated[Path | None, typer.Option(help="questions file (YAML)")] = None,
    report: Annotated[Path | None, typer.Option(help="where to write the Markdown report")] = None,
    index_dir: IndexOpt = None,
    assignments: SetOpt = None,
) -> None:
    """Score retrieval (keyword, dense, hybrid) and the answers, dev and test side by side."""
    from eval.answering import run_answer_eval
    from eval.scoring import DEFAULT_QUESTIONS, DEFAULT_REPORT, run_eval

    settings = _ranked_settings(index_dir, assignments)
    try:
        result = run_eval(
            settings, questions or DEFAULT_QUESTIONS, report or DEFAULT_REPORT, console=err
        )
        err.print("Answering every question ...")
        answers = run_answer_eval(settings, questions or DEFAULT_QUESTIONS)
    except BeleidszoekerError as exc:
        raise _fail(exc) from exc
    answers.append_to(result.report_path)
    out.print(result.summary_table())
    out.print(answers.summary_table())
    _promise_figures(settings, result.report_path)
    out.print(f"Report written to {result.report_path}")


@app.command()
def train(
    questions: Annotated[Path | None, typer.Option(help="questions file (YAML)")] = None,
    index_dir: IndexOpt = None,
    assignments: SetOpt = None,
) -> None:
    """Train the passage ranker, then the answer scorer, on the dev questions (never the
    sealed test split) and save them."""
    from rich.progress import Progress

    from eval.questions import in_split, load_questions
    from eval.scoring import DEFAULT_QUESTIONS
    from eval.train import train_scorer
    from eval.train_ranker import train_ranker
    from search_api.engine import get_searcher
    from search_api.scorer import MODEL_DIR

    settings = _ranked_settings(index_dir, assignments)
    path = questions or DEFAULT_QUESTIONS
    try:
        dev = in_split(load_questions(path), "dev")
        searcher = get_searcher(settings)
        text = path.read_text(encoding="utf-8")
        with Progress(console=err, transient=True) as bar:
            task = bar.add_task("Ranking the dev questions' passages", total=len(dev))
            ranked = train_ranker(
                searcher,
                dev,
                text,
                progress=lambda done, total: bar.update(task, total=total, completed=done),
            )
        for line in ranked.lines():
            out.print(line)
        # The scorer reads the passages as search now ranks them (its rank feature).
        with Progress(console=err, transient=True) as bar:
            task = bar.add_task("Reading the dev questions", total=len(dev))
            result = train_scorer(
                searcher,
                dev,
                text,
                progress=lambda done, total: bar.update(task, completed=done),
            )
    except BeleidszoekerError as exc:
        raise _fail(exc) from exc
    except ValueError as exc:
        err.print(f"[red]Error:[/red] {exc}: add labelled questions to {path}.")
        raise typer.Exit(1) from exc
    for line in result.lines():
        out.print(line)
    out.print(
        f"Ranker and scorer saved in {MODEL_DIR}; `beleidszoeker eval` scores them on dev and test."
    )


@app.command(name="promises")
def promises_command(
    query: Annotated[
        str | None, typer.Argument(help="filter by meaning and key words, e.g. 'snel internet'")
    ] = None,
    document: DocumentOpt = None,
    year: Annotated[int | None, typer.Option(help="only documents of this year")] = None,
    topic: Annotated[
        str | None, typer.Option(help="part of the topic (section or project)")
    ] = None,
    target_year: Annotated[
        int | None, typer.Option("--target-year", help="promises with this target year")
    ] = None,
    k: Annotated[int | None, typer.Option("-k", min=1, help="at most this many")] = None,
    as_json: JsonOpt = False,
    csv_file: Annotated[
        Path | None, typer.Option("--csv", help="write the register as CSV to this file")
    ] = None,
    index_dir: IndexOpt = None,
) -> None:
    """List the promises and targets in the documents (the register), with their follow-ups."""
    from search_api.engine import get_searcher
    from search_api.promises import PromiseFilters, find_promises, promises_csv
    from search_api.retrieval import split_filter

    settings = _settings(index_dir=index_dir)
    filters = PromiseFilters(
        q=query,
        documents=split_filter(document),
        year=year,
        topic=topic,
        target_year=target_year,
        k=k,
    )
    try:
        result = find_promises(get_searcher(settings), filters)
    except BeleidszoekerError as exc:
        raise _fail(exc) from exc
    if csv_file is not None:
        try:
            csv_file.write_text(promises_csv(result), encoding="utf-8-sig")
        except OSError as exc:
            err.print(f"[red]Error:[/red] cannot write {csv_file}: {exc}")
            raise typer.Exit(1) from exc
        err.print(f"{len(result.promises)} promises written to {csv_file}")
    if as_json:
        _print_json(result)
    elif csv_file is None:
        from beleidszoeker.progress import print_promises

        print_promises(out, result)


def _promise_figures(settings: Settings, report_path: Path) -> None:
    """The promise register's precision, recall and target years, beside the question figures."""
    from eval.promise_scoring import run_promise_eval

    try:
        promises = run_promise_eval(settings)
    except BeleidszoekerError as exc:
        raise _fail(exc) from exc
    promises.append_to(report_path)
    out.print(promises.summary_table())


@app.command(name="promises-train")
def promises_train(corpus: CorpusOpt = None) -> None:
    """Retrain the promise classifier on the dev split of eval/promises.yaml and save it."""
    from eval.promise_scoring import document_years
    from eval.promises import load_promises
    from indexer import promise_model
    from indexer.embedders import get_embedder
    from indexer.vector_cache import VectorCache, embed_with_cache

    settings = _settings(corpus_dir=corpus)
    try:
        rows = [r for r in load_promises() if r.split == "dev"]
        cache = VectorCache(settings.cache_dir / "vectors.sqlite")
        try:
            vectors, _ = embed_with_cache(
                get_embedder(settings.embedder), [r.sentence for r in rows], cache
            )
        finally:
            cache.close()
        err.print(f"Training on {len(rows)} dev sentences, C and threshold by cross-validation ...")
        model, figures = promise_model.train(
            rows, document_years(settings.corpus_dir), vectors, settings.embedder
        )
        path = promise_model.save(model)
    except BeleidszoekerError as exc:
        raise _fail(exc) from exc
    err.print(
        f"Saved {path} (C={model.provenance['C']}, threshold={model.threshold}; "
        f"cross-validated on dev: precision {figures['precision']:.3f}, "
        f"recall {figures['recall']:.3f}). Run `beleidszoeker index` to apply it."
    )


if __name__ == "__main__":
    app()
