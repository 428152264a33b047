"""Terminal output for the CLI: progress bars, the build summary and search results."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from indexer.build import BuildReport
from search_api.models import AskResponse, SearchResponse
from search_api.promises import PromiseList


class RichProgress:
    """indexer.build.Progress shown as rich progress bars on stderr."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self._bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=False,
        )
        self._task = None
        self._steps: dict[str, object] = {}

    def __enter__(self) -> RichProgress:
        self._bar.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._bar.__exit__(*exc)

    def start(self, task: str, total: int) -> None:
        self._task = self._bar.add_task(task, total=total)

    def advance(self, n: int) -> None:
        if self._task is not None:
            self._bar.advance(self._task, n)

    def step(self, task: str, done: int, total: int) -> None:
        if task not in self._steps:
            self._steps[task] = self._bar.add_task(task, total=total)
        self._bar.update(self._steps[task], completed=done, total=total)

    def message(self, text: str) -> None:
        self._bar.console.print(text, markup=False, highlight=False)


def print_build_report(console: Console, report: BuildReport) -> None:
    if report.repaired:
        console.print(
            "[yellow]Repaired:[/yellow] the previous build was damaged "
            f"({escape(report.repaired)}); "
            "it was rebuilt from the documents and the vector cache.",
            highlight=False,
        )
    if report.up_to_date:
        console.print(
            f"Index is up to date ({len(report.unchanged)} documents, {report.n_chunks} passages) "
            f"in {escape(str(report.index_path))}. Use --force to rebuild anyway.",
            highlight=False,
        )
    else:
        # Documents kept at their previous version are in the index too.
        n_docs = sum(map(len, (report.added, report.changed, report.unchanged, report.kept)))
        console.print(
            f"Indexed {report.n_chunks} passages from {n_docs} documents in "
            f"{report.seconds:.1f} s ({report.n_embedded} passages and "
            f"{report.n_sentences_embedded} sentences embedded in {report.embed_seconds:.1f} s) "
            f"-> {escape(str(report.index_path))}",
            highlight=False,
        )
        if report.merged:
            console.print("  segments: folded into one (--optimize, or past the threshold)")
        elif report.n_segments > 1:
            console.print(
                f"  segments: {report.n_segments} (only what changed was written; "
                "`beleidszoeker index --optimize` folds them into one)"
            )
        if report.n_promises:
            console.print(
                f"  promise register: {report.n_promises} promises "
                "(`beleidszoeker promises` lists them)"
            )
        for label, items in (
            ("added", report.added),
            ("changed", report.changed),
            ("removed", report.removed),
            ("unchanged", report.unchanged),
        ):
            if items:
                console.print(
                    f"  {label}: {len(items)}"
                    + (f" ({escape(', '.join(items))})" if label != "unchanged" else ""),
                    highlight=False,
                )
    # File names and reasons are printed literally: "rich[/x]markup.txt" is a name, not markup.
    if report.n_cache_invalid:
        console.print(
            f"  [yellow]note[/yellow] {report.n_cache_invalid} vectors in the vector cache were "
            "unusable (NaN or wrong size) and were embedded again.",
            highlight=False,
        )
    for path, note in report.notes:
        console.print(f"  [yellow]note[/yellow] {escape(path)}: {escape(note)}", highlight=False)
    for path, reason in report.skipped:
        console.print(
            f"  [yellow]skipped[/yellow] {escape(path)}: {escape(reason)}", highlight=False
        )


def print_passages(console: Console, response: SearchResponse) -> None:
    if not response.results:
        console.print(
            "No passages found. Try other words, or --mode dense for meaning-based search."
        )
        return
    for p in response.results:
        year = f", {p.document.year}" if p.document.year else ""
        page = f", p. {p.page}" if p.page else ""
        if p.page and p.page_end and p.page_end != p.page:
            page = f", p. {p.page}-{p.page_end}"
        console.print(
            f"[bold]{p.rank}.[/bold] [cyan]{escape(p.document.title)}{year}[/cyan]{page}  "
            f"[dim]score {p.score:.4f} · {escape(p.chunk_id)} · "
            f"chars {p.char_start}-{p.char_end}[/dim]"
        )
        if p.section:
            console.print(f"   [magenta]{escape(p.section)}[/magenta]")
        text = " ".join(p.text.split())
        console.print(
            f"   {text[:400]}{'…' if len(text) > 400 else ''}", highlight=False, markup=False
        )
        console.print()


def print_answer(console: Console, response: AskResponse) -> None:
    """The answer sentences with [n] citations, then the passages they point to."""
    numbers = {p.chunk_id: i for i, p in enumerate(response.passages, 1)}
    if response.answer is None:
        console.print(
            "[yellow]The documents do not answer this question.[/yellow] "
            "The closest passages are below."
        )
        shown = response.passages[:3]
    else:
        for s in response.answer.sentences:
            refs = "".join(f"[{numbers[c]}]" for c in s.citations if c in numbers)
            label = f"[bold]{escape(s.label)}:[/bold] " if s.label else ""
            bullet = "• " if response.answer.kind == "list" else ""
            refs = escape(refs)
            console.print(f"{bullet}{label}{escape(s.text)} [cyan]{refs}[/cyan]", highlight=False)
        cited = {c for s in response.answer.sentences for c in s.citations}
        shown = [p for p in response.passages if p.chunk_id in cited]
    console.print()
    for p in shown:
        year = f", {p.document.year}" if p.document.year else ""
        page = f", p. {p.page}" if p.page else ""
        section = f" · {p.section}" if p.section else ""
        console.print(
            f"[cyan]\\[{numbers[p.chunk_id]}][/cyan] {escape(p.document.title)}{year}{page}"
            f"{escape(section)} [dim]({escape(p.chunk_id)}, chars {p.char_start}-{p.char_end})"
            "[/dim]",
            highlight=False,
        )


def print_promises(console: Console, result: PromiseList) -> None:
    """The register grouped by topic: each promise with its target, amount and follow-ups."""
    if not result.promises:
        console.print("No promises match. Try other words or fewer filters.")
        return
    topic = None
    for p in result.promises:
        if p.topic != topic:
            topic = p.topic
            console.print(f"\n[bold magenta]{topic}[/bold magenta]  [dim]{p.document.title}[/dim]")
        facts = [
            f"target {p.target_year}" if p.target_year else "",
            f"amount {p.amount}" if p.amount else "",
            f"by {p.actor}" if p.actor else "",
        ]
        where = f"{p.document.id}{f', p. {p.page}' if p.page else ''}, chars {p.char_start}"
        console.print(f" • {p.text}", highlight=False)
        console.print(f"   [dim]{' · '.join(f for f in facts if f) or '-'} · {where}[/dim]")
        for f in p.follow_up:
            console.print(
                f"   [green]↳ {f.document.year or '?'}:[/green] {f.text}", highlight=False
            )
    shown = len(result.promises)
    more = f" (showing {shown}; raise -k for more)" if shown < result.total else ""
    console.print(f"\n{result.total} promises{more}.")
