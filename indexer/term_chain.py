"""The sentence key words of a build with added parts: the previous publish's arrays, then
each add's, read as one ``SentenceTerms``.

An add appends its sentences, passages and sections after the ones before, so every
array with an entry per sentence, passage or section is the parts one after the other
(``indexer.joined.Joined``). Term ids stay what they were: an add's new terms get the ids
after the last one, its ``vocabulary`` holds only them (sorted, for bisection), and the
sentences of a term are its list in each part, in order. Answers read words, not ids, so
they are those of one whole publish of the same documents (tests/test_word_tails.py);
``whole`` makes that publish's arrays, for what keeps them whole (a database, a fold).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from indexer.joined import Joined
from indexer.sentence_terms import Csr, SentenceTerms, Shared, position


class Postings:
    """The sentences of each term over every part: each part's list, in part order
    (ascending, as a part's sentences come after the ones before)."""

    def __init__(self, parts: Sequence[Csr]) -> None:
        self.parts = list(parts)

    def __len__(self) -> int:
        return max(len(p) for p in self.parts)

    def size(self, tid: int) -> int:
        return sum(p.size(tid) for p in self.parts if tid < len(p))

    def __getitem__(self, tid: int) -> np.ndarray:
        found = [np.asarray(p[tid]) for p in self.parts if tid < len(p)]
        return found[0] if len(found) == 1 else np.concatenate(found)


class ChainedTerms(SentenceTerms):
    """``SentenceTerms`` of a base and the parts added after it (see the module doc)."""

    def __init__(self, base: SentenceTerms, parts: Sequence[SentenceTerms]) -> None:
        every = [base, *parts]
        self.vocabularies = [t.vocabulary for t in every]
        self.term_offsets = np.cumsum([0, *(len(v) for v in self.vocabularies)])

        def lists(name: str) -> Csr:
            return Csr(Joined.of([getattr(t, name).ptr for t in every]),
                       Joined.of([getattr(t, name).ids for t in every]))  # fmt: skip

        sections = [t.section_terms for t in every]
        super().__init__(
            vocabulary=Joined.of(self.vocabularies),
            # An entry per passage, searched by bisection at every question: in memory.
            first=np.concatenate([np.asarray(t.first) for t in every]),
            starts=Joined.of([t.starts for t in every]),
            ends=Joined.of([t.ends for t in every]),
            vector_rows=Joined.of([t.vector_rows for t in every]),
            sentence_terms=lists("sentence_terms"),
            postings=Postings([t.postings for t in every]),  # type: ignore[arg-type]
            context_terms=lists("context_terms"),
            passage_terms=lists("passage_terms"),
            section_terms=Shared(
                Joined.of([s.of for s in sections]),
                Csr(
                    Joined.of([s.lists.ptr for s in sections]),
                    Joined.of([s.lists.ids for s in sections]),
                ),
            ),  # fmt: skip
        )
        self.pieces = every

    def term_id(self, term: str) -> int | None:
        for k, vocabulary in enumerate(self.vocabularies):
            if (i := position(vocabulary, term)) is not None:
                return int(self.term_offsets[k]) + i
        return None

    def words(self, ids: np.ndarray) -> list[str]:
        return np.asarray(self.vocabulary.take(np.asarray(ids, np.int64))).tolist()

    @property
    def n_terms(self) -> int:
        return int(self.term_offsets[-1])

    def arrays(self) -> dict[str, np.ndarray]:
        return whole(self).arrays()

    @classmethod
    def load_parts(cls, base: Path, parts: Sequence[Path]) -> SentenceTerms:
        """The base folder's terms and those of each added part's folder (stored as any
        ``SentenceTerms``: a part's ``first`` and lists' ``ptr`` leave out their first
        entry, the previous part's last, so they join end to end)."""
        first = SentenceTerms.load(base)
        if not parts:
            return first
        return cls(first, [SentenceTerms.load(p) for p in parts])


def _sorted_within(bounds: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """``ids`` with each list's ids ascending, the lists ``bounds`` (from 0) delimits, as a
    whole publish stores them."""
    owner = np.repeat(np.arange(len(bounds) - 1), np.diff(bounds))
    return ids[np.lexsort((ids, owner))]


def part_after(previous: SentenceTerms, fresh: SentenceTerms) -> SentenceTerms:
    """``fresh`` (a new segment's key words, numbered on their own) as the part that
    follows ``previous``: its sentences, passages and sections numbered after
    ``previous``'s, its terms by ``previous``'s ids, the terms ``previous`` lacks after
    them, the lists' positions after ``previous``'s lists."""
    ids = [previous.term_id(str(t)) for t in fresh.vocabulary]
    known = np.asarray([i is not None for i in ids], bool)
    new_terms = np.asarray(fresh.vocabulary)[~known]  # sorted, as fresh's are
    to_id = np.empty(len(fresh.vocabulary), np.int64)
    to_id[known] = [i for i in ids if i is not None]
    n_terms = previous.n_terms
    to_id[~known] = n_terms + np.arange(len(new_terms))
    n_sentences = len(previous.starts)
    n_sections = len(previous.section_terms.lists)

    def after(lists: Csr, before: Csr) -> Csr:
        lists_ptr = np.asarray(lists.ptr, np.int64)
        ptr = lists_ptr[1:] + int(before.ptr[len(before.ptr) - 1])
        ids = _sorted_within(lists_ptr, to_id[np.asarray(lists.ids, np.int64)])
        return Csr(ptr, ids.astype(np.int32))

    # The sentences of each term of the whole vocabulary so far: fresh's by their new ids.
    post_ptr = np.asarray(fresh.postings.ptr, np.int64)
    sizes = np.zeros(n_terms + len(new_terms), np.int64)
    sizes[to_id] = np.diff(post_ptr)
    ptr = np.zeros(len(sizes) + 1, np.int64)
    np.cumsum(sizes, out=ptr[1:])
    order = np.argsort(to_id, kind="stable")  # fresh's terms in the order of their new ids
    post_ids = np.concatenate(
        [np.asarray(fresh.postings.ids[int(post_ptr[t]) : int(post_ptr[t + 1])]) for t in order]
    ) if len(order) else np.zeros(0, np.int64)  # fmt: skip
    section = fresh.section_terms
    return SentenceTerms(
        vocabulary=new_terms if len(new_terms) else np.zeros(0, "<U1"),
        first=np.asarray(fresh.first, np.int64)[1:] + n_sentences,
        starts=np.asarray(fresh.starts, np.int32),
        ends=np.asarray(fresh.ends, np.int32),
        vector_rows=(np.asarray(fresh.vector_rows, np.int64) + n_sentences).astype(np.int32),
        sentence_terms=after(fresh.sentence_terms, previous.sentence_terms),
        postings=Csr(ptr, (np.asarray(post_ids, np.int64) + n_sentences).astype(np.int32)),
        context_terms=after(fresh.context_terms, previous.context_terms),
        passage_terms=after(fresh.passage_terms, previous.passage_terms),
        section_terms=Shared(
            (np.asarray(section.of, np.int64) + n_sections).astype(np.int32),
            after(section.lists, previous.section_terms.lists),
        ),
    )


def whole(terms: SentenceTerms) -> SentenceTerms:
    """The arrays a whole publish writes for ``terms``: one sorted vocabulary, term ids by
    it, each list's ids ascending, each term's sentences in one list.

    The base's terms keep their order in the sorted vocabulary (the added terms fall in
    between), so its lists, gigabytes at a million passages, stay sorted when renumbered;
    only the parts' lists are sorted again."""
    if not isinstance(terms, ChainedTerms):
        return terms
    pieces = terms.pieces
    vocabulary = np.asarray(terms.vocabulary)
    order = np.argsort(vocabulary, kind="stable")
    renumber = np.empty(len(order), np.int64)
    renumber[order] = np.arange(len(order))
    same = bool(np.array_equal(order, np.arange(len(order))))  # no new term sorts earlier

    def lists(get) -> Csr:
        base = get(pieces[0])
        ptrs = [np.asarray(base.ptr, np.int64)]
        found = np.asarray(base.ids)
        ids = [found if same else renumber[found].astype(np.int32)]
        end = len(found)  # where the lists so far end in the joined ids
        for piece in pieces[1:]:
            c = get(piece)
            ptr = np.asarray(c.ptr, np.int64)  # where each list ends, in the joined ids
            part_ids = renumber[np.asarray(c.ids, np.int64)]
            ids.append(_sorted_within(np.r_[0, ptr - end], part_ids).astype(np.int32))
            ptrs.append(ptr)
            end += len(part_ids)
        return Csr(np.concatenate(ptrs), np.concatenate(ids))

    # Each term's sentences: the base's, then each part's (their sentences come after).
    base = pieces[0].postings
    base_ptr = np.asarray(base.ptr, np.int64)
    base_new = renumber[: len(base_ptr) - 1]  # the base's terms' new ids, ascending
    sizes = np.zeros(len(order), np.int64)
    sizes[base_new] = np.diff(base_ptr)
    # Where the base's ids end for each term in the new order (an added term: where the
    # base terms before it end).
    base_end = base_ptr[np.searchsorted(base_new, np.arange(len(order)), side="right")]
    values, term_of = [], []
    for piece in pieces[1:]:
        ptr = np.asarray(piece.postings.ptr, np.int64)
        new_term = renumber[np.repeat(np.arange(len(ptr) - 1), np.diff(ptr))]
        term_of.append(new_term)
        values.append(np.asarray(piece.postings.ids, np.int32))
        sizes += np.bincount(new_term, minlength=len(order))
    term_of_all = np.concatenate(term_of)
    by_term = np.argsort(term_of_all, kind="stable")  # parts' order and sentences kept
    at = base_end[term_of_all[by_term]]
    post_ids = np.insert(np.asarray(base.ids), at, np.concatenate(values)[by_term])
    post_ptr = np.zeros(len(order) + 1, np.int64)
    np.cumsum(sizes, out=post_ptr[1:])
    section_of = np.asarray(terms.section_terms.of, np.int32)
    return SentenceTerms(
        vocabulary=vocabulary[order],
        first=np.asarray(terms.first, np.int64),
        starts=np.asarray(terms.starts, np.int32),
        ends=np.asarray(terms.ends, np.int32),
        vector_rows=np.asarray(terms.vector_rows, np.int32),
        sentence_terms=lists(lambda t: t.sentence_terms),
        postings=Csr(post_ptr, post_ids),
        context_terms=lists(lambda t: t.context_terms),
        passage_terms=lists(lambda t: t.passage_terms),
        section_terms=Shared(section_of, lists(lambda t: t.section_terms.lists)),
    )
