"""Property-based tests of the API from its own OpenAPI schema (schemathesis).

Every operation gets generated valid and invalid input; no request may end in a 5xx, and
every response must match the schema (status code, content type and body)."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import negative_data_rejection

from beleidszoeker.config import Settings
from search_api.app import create_app

# The app reads its settings per request, so the schema can be loaded at import time and
# the fixture index plugged in once the session has built it.
app = create_app(Settings(index_dir="not-built-yet"))
schema = schemathesis.openapi.from_asgi("/openapi.json", app)


@pytest.fixture(autouse=True, scope="module")
def _serve_the_fixture_index(fixture_index, fixture_settings):
    app.state.settings = fixture_settings


@schema.parametrize()
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_api_conforms_to_its_schema_and_never_fails_with_5xx(case):
    start, end = _int((case.query or {}).get("start")), _int((case.query or {}).get("end"))
    if start is not None and end is not None and 0 <= end < start:
        # Valid by the schema (which cannot say start <= end), refused by the API on purpose.
        response = case.call()
        assert response.status_code == 422
        assert "is before start" in response.json()["detail"][0]["msg"]
        return
    excluded = []
    if case.operation.path.startswith("/api/promises") or _mutated(case) == "document":
        # Every parameter of the promises is optional, so a "negative" case may differ from
        # a valid one only by giving the repeatable `document` once; and any `document`
        # value a query string can carry is a list of strings (a mutated type arrives as
        # "document=", no filter, as a web form sends it). Such a request is rightly answered.
        excluded.append(negative_data_rejection)
    response = case.call_and_validate(excluded_checks=excluded)
    assert response.status_code < 500


def _mutated(case) -> str | None:
    """The parameter a negative case made invalid, when schemathesis says which."""
    data = getattr(getattr(case.meta, "phase", None), "data", None)
    return getattr(data, "parameter", None)


def _int(value: object) -> int | None:
    try:
        number = float(str(value))  # the API reads "50.0" as 50, like pydantic does
    except ValueError:
        return None
    return int(number) if number.is_integer() else None
