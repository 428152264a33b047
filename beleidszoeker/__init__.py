"""Beleidszoeker: search and cited answers over Dutch policy documents."""

__version__ = "0.1.0"
