"""An add written as a part after the previous publish's keyword statistics and key words.

A patched publish (``indexer/word_patch.py``) still wrote the keyword index and the
sentence key words whole: one new passage changes every stored BM25 score, and a new term
renumbered every term id after it. At a million passages that was 3 GB written and hashed
per added document, most of an add's 20 s. When an add masks nothing (no document
removed or read anew) and leaves every old word's terms as they were, the previous
build's ``keyword/`` and ``sentence_terms/`` (and the parts added since) are linked into
the new build as they are, and the new segment's words go to a part of their own,
``added/<build>/``:

- ``keyword/``: its (term, passage) pairs with their frequencies and its passages'
  lengths (``indexer/keyword_parts.py`` scores them with every part's statistics), and
  the words' state the next add starts from;
- ``sentence_terms/``: its sentences', passages' and sections' key words numbered after
  the ones before, its new terms after the old ids (``indexer/term_chain.py``).

Anything else (a document removed or changed, a word split anew) publishes whole again,
as before, folding the parts away.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from indexer.keyword import save_compounds
from indexer.keyword_parts import Part
from indexer.keyword_parts import whole as whole_keyword
from indexer.schema import Document
from indexer.sentence_terms import FOLDER as TERMS_FOLDER
from indexer.sentence_terms import SentenceTerms
from indexer.term_chain import part_after
from indexer.term_chain import whole as whole_terms
from indexer.word_patch import Change, Previous, _new_terms, titles_of, words_after
from indexer.word_tables import PublishState, _frequencies

PARTS_DIR = "added"
KEYWORD = "keyword"
MANIFEST_KEY = "word_parts"  # the build's parts, oldest first, as paths in the build


def parts_of(manifest: dict) -> list[str]:
    return list(manifest.get(MANIFEST_KEY) or [])


@dataclass
class Added:
    """A publish that appends a part to the previous build's words (see the module doc)."""

    source: Path  # the previous build
    before: list[str]  # its parts
    keyword: Part
    terms: SentenceTerms
    state: PublishState  # the words alone: the next add counts from them
    compounds: list[str]

    def folders(self) -> list[str]:
        """The previous build's folders of words this build links."""
        return [KEYWORD, TERMS_FOLDER, *self.before]

    def write(self, directory: Path) -> None:
        """The new part, in ``directory`` (``added/<build>`` of the build being written)."""
        directory.mkdir(parents=True)
        self.keyword.save(directory / KEYWORD)
        self.state.save(directory / KEYWORD)
        save_compounds(directory / KEYWORD, self.compounds)
        self.terms.save(directory / TERMS_FOLDER)


def append(previous, what: Change, documents: dict[str, Document]) -> Added | None:
    """The part an add writes after ``previous`` (a loaded build), or None when it must
    publish whole: something masked, no new segment, or an old word's terms changed."""
    new = what.new
    if previous.path is None or previous.terms is None or new is None:
        return None
    if not (what.keep_rows.all() and what.keep_sentences.all()):
        return None
    before = parts_of(previous.manifest)
    state = PublishState.load(previous.path / (before[-1] if before else ".") / KEYWORD)
    n_rows, n_sentences = len(what.keep_rows), len(what.keep_sentences)
    if state is None or n_rows != previous.keyword.n_rows:
        return None
    if n_sentences != len(previous.terms.starts):
        return None
    found = words_after(state, titles_of(previous.documents), what, documents)
    if found is None:
        return None
    term_of, row_of, tf, lengths = _frequencies(
        found.passages, found.passage_counts, found.word_terms, found.term_vocab
    )
    held, per_term = np.unique(term_of, return_counts=True)
    ptr = np.zeros(len(held) + 1, np.int64)
    np.cumsum(per_term, out=ptr[1:])
    keyword = Part(
        np.asarray(found.term_vocab)[held],
        ptr,
        (np.asarray(row_of, np.int64) + n_rows).astype(np.int32),
        np.asarray(tf, np.int32),
        np.asarray(lengths, np.int64),
    )
    fresh = _new_terms(what, found.word_terms, found.term_vocab, found.vocabulary, found.titles)
    state_after = PublishState(found.vocabulary, found.counts, found.word_terms, found.term_vocab)
    return Added(
        previous.path,
        before,
        keyword,
        part_after(previous.terms, fresh),
        state_after,
        sorted(found.decompounder.vocabulary),
    )


def whole_previous(previous) -> Previous | None:
    """What a whole publish after ``previous`` patches (``word_patch.Previous``), its parts
    folded in: the pairs and key words as one publish of the same documents stores them."""
    before = parts_of(previous.manifest)
    if not before:
        return Previous.load(previous.path, previous.keyword, previous.terms, previous.documents)
    chain = previous.keyword._chain
    state = PublishState.load(previous.path / before[-1] / KEYWORD)
    if chain is None or state is None or previous.terms is None:
        return None
    bm25, vocab, tf, lengths = whole_keyword(chain)
    publish = dataclasses.replace(state, tf=tf, lengths=lengths)
    terms = whole_terms(previous.terms)
    return Previous(publish, bm25, vocab, terms, titles_of(previous.documents))
