"""Does a retrieved passage contain a gold quote? Independent of how text was chunked."""

from __future__ import annotations

import re
import unicodedata
from difflib import SequenceMatcher

_QUOTES = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"', "„": '"', "–": "-", "—": "-"})
# A quote cut by a chunk boundary still counts when this share of it stands in the passage.
MIN_SHARE = 0.6
_ANCHOR = 24


def normalize(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES).lower()
    return re.sub(r"\s+", " ", text).strip()


def contains_quote(passage: str, quote: str) -> bool:
    """True if the passage holds the quote, or a large part of it where a chunk cut it."""
    p, q = normalize(passage), normalize(quote)
    if q in p:
        return True
    # A cut quote keeps its beginning or its end: a cheap test before the exact one.
    if q[:_ANCHOR] not in p and q[-_ANCHOR:] not in p:
        return False
    m = SequenceMatcher(None, q, p, autojunk=False).find_longest_match(0, len(q), 0, len(p))
    return m.size >= MIN_SHARE * len(q)
