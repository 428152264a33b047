"""Whether a question asks about something the documents never mention.

A question about "Vion", "opcenten" or "weidevogels" cannot be answered by documents that
never use those words, however close some sentence comes in meaning. But a small corpus
misses plenty of ordinary words too ("gebeurt", "iemand"), and a paraphrase uses them on
purpose; so a word the corpus lacks counts only as far as it is also uncommon in the
language at large (wordfreq's Zipf scale: about 7 for "de", 5 for "burgemeester", 2 for a
company name). The general frequencies ship inside the wordfreq package: nothing is
downloaded, and the list is read on first use.
"""

from __future__ import annotations

from functools import lru_cache

from indexer.keyword import terms, words
from search_api.question import ENGLISH_FUNCTION_WORDS, QuestionInfo
from search_api.sentences import SentenceTable

# A word at least this frequent (about one in 100,000 words) is ordinary language: missing
# from the documents, it says nothing about whether they answer.
COMMON_ZIPF = 5.0


@lru_cache(maxsize=65536)
def zipf(word: str, lang: str) -> float:
    """How common ``word`` is in ``lang`` at large (0 for a word never seen)."""
    from wordfreq import zipf_frequency

    return float(zipf_frequency(word, lang))


def specificity(word: str, lang: str) -> float:
    """0 for an ordinary word, up to 1 for one the language hardly uses."""
    return max(0.0, 1.0 - zipf(word, lang) / COMMON_ZIPF)


def unknown_words(question: QuestionInfo, table: SentenceTable) -> list[str]:
    """The question's content words the documents use nowhere, whole or by their parts."""
    out = []
    for word in words(question.text):
        if question.lang == "en" and word in ENGLISH_FUNCTION_WORDS:
            continue
        found = terms(word, table.decompounder)
        if found and not any(table.in_corpus(t) for t in found):
            out.append(word)
    return out


def unknown_specificity(question: QuestionInfo, table: SentenceTable) -> float:
    """How specific the most specific word is that the question uses and the documents do not:
    0 when the documents use every uncommon word of the question."""
    return max((specificity(w, question.lang) for w in unknown_words(question, table)), default=0.0)


def unknown_names(question: QuestionInfo, table: SentenceTable) -> float:
    """Share of the question's names (Dutch capitals) of which the documents use no word."""
    if not question.names:
        return 0.0
    missing = 0
    for name in question.names:
        found = terms(name, table.decompounder)
        missing += bool(found) and not any(table.in_corpus(t) for t in found)
    return missing / len(question.names)
