"""The /beloften page: the promise register as a table per topic, with filters and a CSV
download. Thin: it calls search_api.promises like the API and the CLI do."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import Blueprint, Response, render_template, request, url_for

from beleidszoeker.errors import UnknownDocumentError
from search_api.documents import list_documents
from search_api.promises import (
    PromiseFilters,
    PromiseList,
    PromiseOut,
    find_promises,
    get_register,
    promises_csv,
)
from web.deps import get_searcher
from web.errors import message

bp = Blueprint("promises", __name__)
PAGE = 200  # promises shown at first; "alles tonen" lifts it


@dataclass
class Form:
    q: str = ""
    document: str = ""
    year: int | None = None
    target_year: int | None = None
    show_all: bool = False
    errors: list[str] = field(default_factory=list)

    @classmethod
    def from_args(cls, args) -> Form:
        form = cls(q=(args.get("q") or "").strip()[:1000], document=args.get("document") or "")
        form.year = form._year(args.get("year"), "Jaar")
        form.target_year = form._year(args.get("doeljaar"), "Doeljaar")
        form.show_all = args.get("alles") == "1"
        return form

    def _year(self, value: str | None, name: str) -> int | None:
        if not value:
            return None
        if value.isdigit() and len(value) == 4:
            return int(value)
        self.errors.append(f"{name} moet een jaartal zijn, zoals 2019; het filter is weggelaten.")
        return None

    def filters(self) -> PromiseFilters:
        return PromiseFilters(
            q=self.q or None,
            documents=(self.document,) if self.document else (),
            year=self.year,
            target_year=self.target_year,
            k=None if self.show_all or not self.q else PAGE,
        )

    def params(self, **changes: object) -> dict[str, object]:
        params = {
            "q": self.q,
            "document": self.document,
            "year": self.year,
            "doeljaar": self.target_year,
        }
        params.update(changes)
        return {k: v for k, v in params.items() if v not in (None, "")}


@dataclass(frozen=True)
class Group:
    topic: str
    document_title: str
    promises: list[PromiseOut]


def _groups(result: PromiseList, limit: int | None) -> list[Group]:
    """Promises per topic, topics in the order their first promise comes."""
    groups: dict[tuple[str, str], list[PromiseOut]] = {}
    for p in result.promises[:limit]:
        groups.setdefault((p.document.id, p.topic), []).append(p)
    return [Group(topic, ps[0].document.title, ps) for (_, topic), ps in groups.items()]


@bp.get("/beloften")
def register_page():
    """Every promise and target in the documents, per topic, with its follow-ups."""
    form = Form.from_args(request.args)
    searcher = get_searcher()
    error, status, result = None, 200, PromiseList(total=0, promises=[])
    try:
        result = find_promises(searcher, form.filters())
    except UnknownDocumentError as exc:
        error, status = message(exc), 400
    limit = None if form.show_all else PAGE
    docs = list_documents(searcher.store)
    page = render_template(
        "beloften.html",
        form=form,
        result=result,
        groups=_groups(result, limit),
        shown=min(len(result.promises), limit or len(result.promises)),
        documents=docs,
        years=sorted({d.year for d in docs if d.year is not None}, reverse=True),
        target_years=_target_years(searcher),
        error=error,
        csv_url=url_for(".register_csv", **form.params()),
        all_url=url_for(".register_page", **form.params(alles="1")),
    )
    return page, status


@bp.get("/beloften.csv")
def register_csv():
    """The register with the page's filters as CSV (all matching promises)."""
    form = Form.from_args(request.args)
    form.show_all = True
    try:
        result = find_promises(get_searcher(), form.filters())
    except UnknownDocumentError as exc:
        return Response(message(exc), status=400, mimetype="text/plain")
    return Response(
        "\ufeff" + promises_csv(result),
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="beloften.csv"'},
    )


def _target_years(searcher) -> list[int]:
    years: set[int] = set()
    for p in get_register(searcher.store).promises:
        if isinstance(p.target_year, int):
            years.add(p.target_year)
        elif isinstance(p.target_year, str):
            a, b = (int(x) for x in p.target_year.split("-"))
            years.update(range(a, b + 1))
    return sorted(years)
