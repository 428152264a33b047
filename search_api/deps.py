"""Request dependencies: the settings of the app and the searcher, got on first use."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.exceptions import RequestValidationError

from beleidszoeker.config import SearchMode, Settings
from search_api.engine import get_searcher
from search_api.retrieval import MAX_QUERY_CHARS, Filters, Searcher, split_filter

# The query parameters that take several values. Any other given twice is refused: FastAPI
# would read the last value and drop the others without a word ("year=2019&year=2020"
# searching 2020 alone).
REPEATABLE = frozenset({"document"})


def one_value_each(request: Request) -> None:
    """Refuse a request that gives one of its route's one-value query parameters more than
    once. A parameter the route does not take is ignored however often it is given, as
    FastAPI ignores it given once."""
    params = request.query_params
    taken = _query_names(request.scope.get("route"))
    repeated = sorted(
        {k for k in params if k in taken and k not in REPEATABLE and len(params.getlist(k)) > 1}
    )
    if repeated:
        raise RequestValidationError(
            [
                {
                    "type": "repeated_parameter",
                    "loc": ("query", name),
                    "msg": f"{name} is given {len(params.getlist(name))} times: give it once.",
                    "input": params.getlist(name),
                }
                for name in repeated
            ]
        )


def _query_names(route: object) -> frozenset[str]:
    """The query parameters a route reads, its dependencies' included."""
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return frozenset()
    names: set[str] = set()
    todo = [dependant]
    while todo:
        d = todo.pop()
        names.update(p.alias for p in d.query_params)
        todo.extend(d.dependencies)
    return frozenset(names)


def app_settings(request: Request) -> Settings:
    return request.app.state.settings


SettingsDep = Annotated[Settings, Depends(app_settings)]


def searcher(settings: SettingsDep) -> Searcher:
    """The searcher over the current build; loads (or reloads) the index when needed."""
    return get_searcher(settings)


SearcherDep = Annotated[Searcher, Depends(searcher)]

QueryParam = Annotated[
    str,
    Query(
        min_length=1,
        max_length=MAX_QUERY_CHARS,
        # Not only white space or control characters: the schema says so, so clients (and
        # schemathesis) know. Spelled out, because \s means other things in Python, Rust
        # (pydantic) and JavaScript (JSON Schema): U+FEFF and U+001E differ among them.
        pattern=(
            r"[^\u0000-\u0020\u007f-\u00a0\u1680\u2000-\u200a"
            r"\u2028\u2029\u202f\u205f\u3000\ufeff]"
        ),
        description="the question, in Dutch or English (1 to 1,000 characters)",
        examples=["welke projecten gaan over waterstof?"],
    ),
]
KParam = Annotated[int, Query(ge=1, le=50, description="number of passages (1 to 50)")]
ModeParam = Annotated[SearchMode, Query(description="hybrid, dense or keyword")]


def filters(
    document: Annotated[
        list[str] | None,
        Query(description="only these document ids (repeat, or separate with commas)"),
    ] = None,
    year: Annotated[int | None, Query(ge=0, le=9999, description="only this year")] = None,
) -> Filters:
    return Filters(documents=split_filter(document), year=year)


FiltersDep = Annotated[Filters, Depends(filters)]
