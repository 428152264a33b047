"""GET /api/promises and /api/promises.csv: thin routes over search_api.promises."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from search_api.deps import MAX_QUERY_CHARS, SearcherDep
from search_api.promises import PromiseFilters, PromiseList, find_promises, promises_csv
from search_api.retrieval import split_filter


def promise_filters(
    q: Annotated[
        str | None,
        Query(
            max_length=MAX_QUERY_CHARS,
            description="filter by meaning and key words (ordered by relevance); "
            "without it every promise, by document and place",
            examples=["snel internet"],
        ),
    ] = None,
    document: Annotated[
        list[str] | None,
        Query(description="only these document ids (repeat, or separate with commas)"),
    ] = None,
    year: Annotated[int | None, Query(ge=0, le=9999, description="the document's year")] = None,
    topic: Annotated[
        str | None, Query(max_length=200, description="part of the topic (section or project)")
    ] = None,
    target_year: Annotated[
        int | None,
        Query(ge=0, le=9999, description="promises with this target year (or a period holding it)"),
    ] = None,
    k: Annotated[
        int | None,
        Query(ge=1, le=5000, description="at most this many (default: 20 with q, else all)"),
    ] = None,
) -> PromiseFilters:
    return PromiseFilters(
        q=q or None,
        documents=split_filter(document),
        year=year,
        topic=topic or None,
        target_year=target_year,
        k=k,
    )


PromiseFiltersDep = Annotated[PromiseFilters, Depends(promise_filters)]
router = APIRouter(prefix="/api")


@router.get("/promises", response_model=PromiseList)
def promises(searcher: SearcherDep, filters: PromiseFiltersDep) -> PromiseList:
    """The promise register: every promise and target, with follow-ups in later passages."""
    return find_promises(searcher, filters)


@router.get(
    "/promises.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "the register as CSV"}},
)
def promises_as_csv(searcher: SearcherDep, filters: PromiseFiltersDep) -> Response:
    """The same register as CSV, for a spreadsheet."""
    body = promises_csv(find_promises(searcher, filters))
    return Response(
        content="\ufeff" + body,  # the BOM makes Excel read the UTF-8 (ë, €) right
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="beloften.csv"'},
    )
