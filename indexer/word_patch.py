"""A publish that patches the previous build's keyword statistics instead of merging again.

``word_tables.merge`` derives the global BM25 index and sentence key words from every
live segment's words: sorting every (passage, term) and (sentence, term) pair of the
corpus, most of an add's time at 100k passages. When a publish keeps the previous build's
segments, what changed is small: some documents masked, one new segment at the end. If
no kept word's terms changed (the compound splitter's vocabulary moved without changing
any old word's split) and no kept document's title changed, the old passages' and
sentences' terms are what they were, so:

- the (term, passage) pairs and their term frequencies are the old ones without the
  masked rows, renumbered, with the new segment's pairs appended to each term's list
  (its rows come last); the BM25 scores are then computed again from the frequencies,
  document frequencies and the average length (bm25s bakes those into every score);
- the sentence key words are the old lists of the kept sentences and passages, their term
  ids renumbered into the new vocabulary, then the new segment's, and each term's
  postings the old ones then the new ones.

Nothing is sorted but the new segment's own pairs: the cost is array copies over the
kept pairs, not sorting them. The result is identical to ``merge``'s
(tests/test_word_patch.py); otherwise ``patch`` returns None and the build merges.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from indexer.keyword import Decompounder, words
from indexer.schema import Document
from indexer.sentence_terms import Csr, SentenceTerms, Shared, Spliced
from indexer.word_tables import (
    GlobalTerms,
    LiveWords,
    PublishState,
    _frequencies,
    _gather,
    _scores,
    _sentence_terms,
    _word_terms,
    title_words_of,
)


@dataclass
class Previous:
    """What the publish before left: its state, scores, sentence key words and titles."""

    state: PublishState
    bm25: dict  # bm25s' scores (data, indices, indptr, num_docs)
    bm25_vocab: dict[str, int]
    terms: SentenceTerms
    titles: dict[str, str]  # the title of each live document

    @classmethod
    def load(cls, build: Path, keyword, terms: SentenceTerms | None, documents) -> Previous | None:
        state = PublishState.load(build / "keyword")
        if state is None or state.lengths is None or terms is None:
            return None
        retriever = keyword._bm25
        return cls(state, retriever.scores, retriever.vocab_dict, terms, titles_of(documents))


def titles_of(documents: dict[str, Document]) -> dict[str, str]:
    """The title of each document: a publish compares them with the corpus manifest's."""
    return {d: doc.title for d, doc in documents.items()}


@dataclass
class Change:
    """What a publish changes: which old rows and sentences stay (in order; the rest are
    masked), the word counts of the masked passages, and the new segment's live words."""

    keep_rows: np.ndarray  # bool per old row
    keep_sentences: np.ndarray  # bool per old sentence
    removed_words: np.ndarray  # str: words of the masked passages ...
    removed_counts: np.ndarray  # ... and their occurrences there
    new: LiveWords | None  # the new segment (every row and sentence live)
    new_places: tuple[np.ndarray, np.ndarray]  # its sentences' (local row, span)


def change(previous_segments: Sequence, kept: Sequence, new: LiveWords | None, places) -> Change:
    """The rows of the previous build that stay, from its segments and the kept ones."""
    by_id = {s.entry["id"]: s for s in kept}
    keep_rows, keep_sentences, gone_words, gone_counts = [], [], [], []
    for seg in previous_segments:
        now = by_id.get(seg.entry["id"])
        rows, sentences = seg.live_rows, seg.live_sentences
        stays = np.isin(rows, now.live_rows) if now is not None else np.zeros(len(rows), bool)
        keep_rows.append(stays)
        keep_sentences.append(
            np.isin(sentences, now.live_sentences) if now is not None
            else np.zeros(len(sentences), bool)
        )  # fmt: skip
        if not stays.all():
            t = seg.word_table
            lists, counts = _gather(t.passage, rows[~stays], t.passage_counts)
            gone_words.append(np.asarray(t.vocabulary)[lists.ids])
            gone_counts.append(np.asarray(counts, np.int64))
    return Change(
        np.concatenate(keep_rows) if keep_rows else np.zeros(0, bool),
        np.concatenate(keep_sentences) if keep_sentences else np.zeros(0, bool),
        np.concatenate(gone_words) if gone_words else np.zeros(0, "<U1"),
        np.concatenate(gone_counts) if gone_counts else np.zeros(0, np.int64),
        new,
        places,
    )


@dataclass
class Words:
    """The words of a publish from the previous one's and what changed: every word with its
    occurrences, the compound splitter they give, each word's terms, and the new segment's
    passages as lists of word ids with their counts."""

    vocabulary: np.ndarray  # str, sorted
    counts: np.ndarray  # int64 per word
    decompounder: Decompounder
    word_terms: Csr
    term_vocab: np.ndarray
    titles: dict[str, list[str]]  # the new documents' title words
    passages: Csr | None  # the new segment's passages' word ids
    passage_counts: np.ndarray | None


def words_after(state, titles_before: dict[str, str], what: Change,
                documents: dict[str, Document]) -> Words | None:  # fmt: skip
    """The words after ``what``, from the previous publish's ``state`` (its ``words``,
    ``word_counts``, ``word_terms`` and ``term_vocab``); None when a kept document's title
    changed or an old word's terms did (then everything is counted again)."""
    new = what.new
    new_ids = list(new.document_ids) if new is not None else []
    fresh = set(new_ids)
    if any(titles_before.get(d) != documents[d].title for d in documents if d not in fresh):
        return None  # a kept document's title changed (the corpus manifest): its context did
    titles = {d: words(documents[d].title) for d in new_ids}
    title_words = [w for ws in titles.values() for w in ws]
    parts = [np.asarray(state.words), np.asarray(title_words, dtype=str)]
    if new is not None:
        parts.append(np.asarray(new.table.vocabulary))
    vocabulary = np.unique(np.concatenate(parts))
    # The compound splitter's vocabulary: occurrences patched, not counted again.
    counts = np.zeros(len(vocabulary), np.int64)
    counts[np.searchsorted(vocabulary, state.words)] += state.word_counts
    np.subtract.at(counts, np.searchsorted(vocabulary, what.removed_words), what.removed_counts)
    passages = new_counts = None
    if new is not None:
        t = new.table
        new_words = np.searchsorted(vocabulary, t.vocabulary).astype(np.int64)
        passages = Csr(np.asarray(t.passage.ptr, np.int64), new_words[t.passage.ids])
        new_counts = np.asarray(t.passage_counts, np.int64)
        np.add.at(counts, passages.ids, new_counts)
    known = vocabulary[counts >= 2]
    decompounder = Decompounder(known.tolist())
    old_words = np.asarray(state.words)
    if np.array_equal(known, old_words[np.asarray(state.word_counts) >= 2]):
        # The splitter knows the same words: an old word splits as it did, only the new
        # words are split (every distinct word took a second at a million passages).
        word_terms, term_vocab = _with_new_words(state, vocabulary, decompounder)
    else:
        word_terms, term_vocab = _word_terms(vocabulary.tolist(), decompounder)
        if not _same_terms(state, vocabulary, word_terms, term_vocab):
            return None
    return Words(vocabulary, counts, decompounder, word_terms, term_vocab, titles, passages,
                 new_counts)  # fmt: skip


def _with_new_words(state, vocabulary: np.ndarray, decompounder: Decompounder):
    """``_word_terms(vocabulary)`` from the previous publish's terms of its words and the
    new words' terms, when the splitter knows the words it knew."""
    old_words = np.asarray(state.words)
    is_old = np.zeros(len(vocabulary), bool)
    is_old[np.searchsorted(vocabulary, old_words)] = True
    new_terms, new_vocab = _word_terms(vocabulary[~is_old].tolist(), decompounder)
    old_vocab = np.asarray(state.term_vocab)
    term_vocab = np.union1d(old_vocab, new_vocab)
    ptr = np.zeros(len(vocabulary) + 1, np.int64)
    sizes = np.empty(len(vocabulary), np.int64)
    old_ptr = np.asarray(state.word_terms.ptr, np.int64)
    sizes[is_old], sizes[~is_old] = np.diff(old_ptr), np.diff(new_terms.ptr)
    np.cumsum(sizes, out=ptr[1:])
    ids = np.empty(int(ptr[-1]), np.int64)
    for where, lists, vocab in ((is_old, state.word_terms, old_vocab),
                                (~is_old, new_terms, new_vocab)):  # fmt: skip
        lists_ptr = np.asarray(lists.ptr, np.int64)
        owner = np.repeat(np.flatnonzero(where), np.diff(lists_ptr))
        within = np.arange(int(lists_ptr[-1])) - np.repeat(lists_ptr[:-1], np.diff(lists_ptr))
        mapped_ids = np.searchsorted(term_vocab, vocab)[np.asarray(lists.ids, np.int64)]
        ids[ptr[owner] + within] = mapped_ids
    return Csr(ptr, ids), term_vocab


def patch(old: Previous, what: Change, documents: dict[str, Document]) -> GlobalTerms | None:
    """The global keyword statistics after ``what``, from ``old``; None when an old
    passage's terms change (then ``word_tables.merge`` computes them whole)."""
    state = old.state
    n_old = len(what.keep_rows)
    if n_old != len(state.lengths) or len(what.keep_sentences) != len(old.terms.starts):
        return None
    new = what.new
    found = words_after(state, old.titles, what, documents)
    if found is None:
        return None
    vocabulary, counts, decompounder = found.vocabulary, found.counts, found.decompounder
    word_terms, term_vocab, titles = found.word_terms, found.term_vocab, found.titles
    passages, new_counts = found.passages, found.passage_counts

    # BM25: the kept pairs renumbered, the new segment's appended to each term's list.
    n_kept = int(what.keep_rows.sum())
    old_terms = np.asarray(sorted(old.bm25_vocab, key=old.bm25_vocab.get))
    old_terms = old_terms[old_terms != ""]  # bm25s' empty token has no column
    per_term = np.zeros(len(term_vocab), np.int64)  # pairs of each term
    rows, tf, kept_pairs = _kept_pairs(
        old.bm25["indptr"], old.bm25["indices"], state.tf, what.keep_rows
    )
    per_term[np.searchsorted(term_vocab, old_terms)] = kept_pairs
    lengths = np.asarray(state.lengths)[what.keep_rows]
    if new is not None:
        n_term, n_row, n_tf, n_len = _frequencies(passages, new_counts, word_terms, term_vocab)
        # After the kept pairs of each term: the new rows come last.
        at = np.cumsum(per_term)[n_term]
        rows = np.insert(rows, at, (n_row + n_kept).astype(rows.dtype))
        tf = np.insert(tf, at, n_tf.astype(tf.dtype))
        per_term += np.bincount(n_term, minlength=len(term_vocab))
        lengths = np.concatenate([lengths, n_len])
    used = np.flatnonzero(per_term)
    bm25, bm25_vocab = _scores(used, per_term[used], rows, tf, lengths, term_vocab)

    terms = _patch_sentence_terms(old.terms, what, word_terms, term_vocab, vocabulary, titles)
    used = counts  # what merge keeps: occurrences over the live passages
    new_state = PublishState(vocabulary, used, word_terms, term_vocab, tf, lengths)
    return GlobalTerms(decompounder, bm25, bm25_vocab, terms, new_state)


def _kept_pairs(ptr, ids, values, keep: np.ndarray) -> tuple[np.ndarray, ...]:
    """Lists by term of owners (rows or sentences) with ``keep`` per owner: the kept
    owners renumbered, their ``values`` (or None), and the kept count of each list. With
    nothing masked they are the old arrays as they are."""
    ptr = np.asarray(ptr, np.int64)
    ids = np.asarray(ids)
    values = None if values is None else np.asarray(values)
    if keep.all():
        return ids, values, np.diff(ptr)
    stays = keep[ids]
    owner = np.repeat(np.arange(len(ptr) - 1, dtype=np.int64), np.diff(ptr))[stays]
    renumber = (np.cumsum(keep) - 1).astype(ids.dtype)
    kept_values = None if values is None else values[stays]
    return renumber[ids[stays]], kept_values, np.bincount(owner, minlength=len(ptr) - 1)


def _same_terms(state: PublishState, vocabulary, word_terms: Csr, term_vocab) -> bool:
    """Whether every word the previous publish knew still has the same terms."""
    at = np.searchsorted(vocabulary, state.words)
    now = _gather(word_terms, at)[0]
    before_ptr = np.asarray(state.word_terms.ptr, np.int64)
    if not np.array_equal(now.ptr, before_ptr):
        return False
    before = np.asarray(state.term_vocab)[np.asarray(state.word_terms.ids)]
    return bool(np.array_equal(term_vocab[now.ids], before))


def _patch_sentence_terms(
    old: SentenceTerms, what: Change, word_terms: Csr, term_vocab, vocabulary, titles
) -> SentenceTerms:
    """``merge``'s sentence key words from the kept ones and the new segment's."""
    keep_rows = np.flatnonzero(what.keep_rows)
    keep_sentences = np.flatnonzero(what.keep_sentences)
    kept_passage = _gather(old.passage_terms, keep_rows)[0]
    # Only terms a live sentence or context holds stay in the vocabulary.
    held = np.zeros(len(old.vocabulary), bool)
    held[np.asarray(kept_passage.ids, np.int64)] = True
    fresh = _new_terms(what, word_terms, term_vocab, vocabulary, titles)
    parts = [np.asarray(old.vocabulary)[held]]
    if fresh is not None:
        parts.append(np.asarray(fresh.vocabulary))
    merged_vocab = np.unique(np.concatenate(parts)) if parts else np.zeros(0, "<U1")
    old_map = np.searchsorted(merged_vocab, old.vocabulary).astype(np.int32)
    # No term came or went: the old ids stand as they are (the common add).
    same_ids = len(merged_vocab) == len(old.vocabulary) and bool(held.all())
    new_map = (np.searchsorted(merged_vocab, fresh.vocabulary).astype(np.int32)
               if fresh is not None else None)  # fmt: skip

    def lists(name: str, keep: np.ndarray, before: Csr | None = None,
              add: Csr | None = None) -> Csr:  # fmt: skip
        before = getattr(old, name) if before is None else before
        kept = _gather(before, keep)[0]
        if add is None:
            add = getattr(fresh, name) if fresh is not None else Csr(np.zeros(1, np.int64), [])
        n_old, n_add = len(kept.ids), len(add.ids)
        as_stored = kept.ids.dtype == np.int32 and kept.ptr.dtype == np.int64
        if same_ids and kept is before and as_stored:  # every old list, the new ones after
            tail_ids = np.take(new_map, add.ids) if n_add else np.zeros(0, np.int32)
            tail_ptr = np.asarray(add.ptr[1:], np.int64) + int(kept.ptr[-1])
            return Csr(_after(kept.ptr, tail_ptr), _after(kept.ids, tail_ids))
        ids = np.empty(n_old + n_add, np.int32)
        if same_ids:
            ids[:n_old] = kept.ids
        else:
            np.take(old_map, kept.ids, out=ids[:n_old])
        if n_add:
            np.take(new_map, add.ids, out=ids[n_old:])
        ptr = np.concatenate([np.asarray(kept.ptr, np.int64),
                              np.asarray(add.ptr[1:], np.int64) + int(kept.ptr[-1])])  # fmt: skip
        return Csr(ptr, ids)

    # Each term's sentences: the kept ones renumbered, then the new segment's.
    post = old.postings
    if what.keep_sentences.all():  # the stored ids as they are: copied, not read (Spliced)
        post_sent, kept_pairs = post.ids, np.diff(np.asarray(post.ptr, np.int64))
    else:
        post_sent, _, kept_pairs = _kept_pairs(post.ptr, post.ids, None, what.keep_sentences)
    per_term = np.zeros(len(merged_vocab), np.int64)
    np.add.at(per_term, old_map, kept_pairs)  # a term no longer held adds no pair
    sizes = np.diff(np.asarray(old.first, np.int64))[keep_rows]
    starts = np.asarray(old.starts)[keep_sentences]
    ends = np.asarray(old.ends)[keep_sentences]
    if fresh is not None:
        f_term = np.repeat(new_map.astype(np.int64), np.diff(fresh.postings.ptr))
        at = np.cumsum(per_term)[f_term]
        f_sent = np.asarray(fresh.postings.ids, np.int64) + len(keep_sentences)
        post_sent = Spliced.of(post_sent, at, f_sent.astype(np.int32))
        per_term += np.bincount(f_term, minlength=len(merged_vocab))
        sizes = np.concatenate([sizes, np.diff(fresh.first)])
        starts = np.concatenate([starts, fresh.starts])
        ends = np.concatenate([ends, fresh.ends])
    if not isinstance(post_sent, Spliced):
        post_sent = np.asarray(post_sent, np.int32)
    ptr = np.zeros(len(merged_vocab) + 1, np.int64)
    np.cumsum(per_term, out=ptr[1:])
    first = np.zeros(len(sizes) + 1, np.int64)
    np.cumsum(sizes, out=first[1:])

    def sections() -> Shared:
        """A document is masked or kept whole, so a kept section keeps all its passages and
        the kept sections stay in the order of their first passage; the new segment's
        come after them, as its passages do."""
        was = old.section_terms
        kept_of = np.asarray(was.of, np.int64)[keep_rows]
        kept = np.unique(kept_of)
        of = [np.searchsorted(kept, kept_of)]
        add = None
        if fresh is not None:
            add = fresh.section_terms.lists
            of.append(np.asarray(fresh.section_terms.of, np.int64) + len(kept))
        joined = lists("section_terms", kept, was.lists, add)
        return Shared(np.concatenate(of).astype(np.int32), joined)

    return SentenceTerms(
        vocabulary=merged_vocab,
        first=first,
        starts=starts.astype(np.int32),
        ends=ends.astype(np.int32),
        vector_rows=np.arange(len(starts), dtype=np.int32),
        sentence_terms=lists("sentence_terms", keep_sentences),
        postings=Csr(ptr, post_sent),
        context_terms=lists("context_terms", keep_rows),
        passage_terms=lists("passage_terms", keep_rows),
        section_terms=sections(),
    )


def _after(source: np.ndarray, tail: np.ndarray) -> np.ndarray | Spliced:
    """``source`` with ``tail`` after it; written from the previous build's file when
    ``source`` maps one (``Spliced``: not read into memory)."""
    return Spliced.of(source, np.full(len(tail), len(source), np.int64), tail)


def _new_terms(what: Change, word_terms, term_vocab, vocabulary, titles) -> SentenceTerms | None:
    """The new segment's sentence key words, as ``merge`` computes them for it alone."""
    new = what.new
    if new is None:
        return None
    t = new.table
    to_global = np.searchsorted(vocabulary, t.vocabulary).astype(np.int64)

    def glob(c: Csr) -> Csr:
        return Csr(np.asarray(c.ptr, np.int64), to_global[np.asarray(c.ids, np.int64)])

    doc_of = np.asarray(new.document_ids, dtype=object)[np.asarray(t.document, np.int64)]
    title_csr = title_words_of(titles, vocabulary, doc_of)
    return _sentence_terms(
        glob(t.sentence), glob(t.leaf), title_csr, np.asarray(t.section, np.int64),
        word_terms, term_vocab, what.new_places,
    )  # fmt: skip
