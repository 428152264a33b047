"""The search form: read from the query string, validated, and written back as a URL."""

from __future__ import annotations

from dataclasses import dataclass, field

from werkzeug.datastructures import MultiDict

from beleidszoeker.config import SearchMode, Settings
from search_api.retrieval import MODES, Filters, split_filter

# What the interface calls each retrieval mode.
MODE_LABELS: dict[str, str] = {
    "hybrid": "Hybride (trefwoord en betekenis)",
    "keyword": "Trefwoord",
    "dense": "Betekenis",
}
MAX_K = 50


@dataclass(frozen=True)
class SearchForm:
    q: str | None  # None when no question was asked yet (the home page)
    mode: SearchMode
    documents: tuple[str, ...] = ()
    year: int | None = None
    k: int = 10
    default_mode: SearchMode = "hybrid"
    default_k: int = 10
    errors: list[str] = field(default_factory=list)

    @classmethod
    def from_args(cls, args: MultiDict[str, str], settings: Settings) -> SearchForm:
        errors: list[str] = []
        mode = args.get("mode") or settings.default_mode
        if mode not in MODES:
            errors.append(f"Onbekende zoekmethode “{mode}”; er is hybride gezocht.")
            mode = settings.default_mode
        year = None
        if raw_year := args.get("year", "").strip():
            try:
                year = int(raw_year)
            except ValueError:
                errors.append(f"“{raw_year}” is geen jaartal; er is in alle jaren gezocht.")
        k = settings.default_k
        if raw_k := args.get("k", "").strip():
            try:
                k = min(max(int(raw_k), 1), MAX_K)
            except ValueError:
                errors.append(f"“{raw_k}” is geen aantal passages.")
        return cls(
            q=args.get("q"),
            mode=mode,
            documents=split_filter(args.getlist("document")),
            year=year,
            k=k,
            default_mode=settings.default_mode,
            default_k=settings.default_k,
            errors=errors,
        )

    @property
    def asked(self) -> bool:
        return self.q is not None

    @property
    def advanced(self) -> bool:
        """Whether the "geavanceerd" section should start open (a non-default setting)."""
        return self.mode != self.default_mode or self.k != self.default_k

    def filters(self) -> Filters:
        return Filters(documents=self.documents, year=self.year)

    def params(self) -> dict[str, object]:
        """The non-default query parameters: the canonical, shareable URL of this search."""
        params: dict[str, object] = {"q": self.q}
        if self.documents:
            params["document"] = list(self.documents)
        if self.year is not None:
            params["year"] = self.year
        if self.mode != self.default_mode:
            params["mode"] = self.mode
        if self.k != self.default_k:
            params["k"] = self.k
        return params
