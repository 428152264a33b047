"""Each segment's words, stored once; the corpus-wide keyword statistics merged from them.

A publish used to tokenise the text of every live passage and sentence again to rebuild
the global BM25 index and the sentence key words (about 1.1 s per 1,000 passages at every
add). Here a segment stores, when it is written, the *words* of its texts as arrays of
word ids (``indexer.keyword.words``: folded, stop words out, neither stemmed nor split).
A publish merges the segments' arrays over the live passages and derives the terms from
them with the new corpus-wide compound vocabulary: stemming and splitting cost once per
distinct word, not once per occurrence, and no text is read.

Words, not terms, are stored because the compound splitter's vocabulary (words used at
least twice in the corpus) is global: a new document can make "voucher" a known word and
so add the term "voucher" to an old passage holding "voucherregelingen". Splitting every
distinct word again at each publish keeps the terms exactly those of a one-segment build.

In a segment's ``words/`` folder::

    vocabulary.npy              the segment's words, sorted (fixed-width unicode)
    passage.{ptr,ids,counts}.npy  per passage: the words of its ``embed_text`` and how often
    sentence.{ptr,ids}.npy      per sentence (segment order): its distinct words
    leaf.{ptr,ids}.npy          per passage: the distinct words of its section's last part
    document.npy, section.npy   int32 per passage: its document (in the segment's list)
                                and its section (numbered within the segment)
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from indexer.checksums import save_npy
from indexer.columns import sections_and_texts
from indexer.keyword import BM25_B, BM25_K1, Decompounder, _stemmer, words
from indexer.pool import ordered_map
from indexer.rows import mapped
from indexer.schema import Chunk, Document, embed_text
from indexer.sections import SEPARATOR as SECTION_SEPARATOR
from indexer.sentence_terms import Csr, SentenceTerms, Shared, _transpose

FOLDER = "words"
EMPTY_TOKEN = "∅"  # bm25s needs a token in every passage (indexer.keyword.KeywordIndex)
_LISTS = ("passage", "sentence", "leaf")
STATE = "state."  # the publish state's files in keyword/ (PublishState)
_BUILD_BLOCK = 10_000  # passages tokenised per block while building (ten times as many sentences)


@dataclass
class WordTable:
    """The words of one segment's passages and sentences (see the module doc)."""

    vocabulary: np.ndarray  # str, sorted
    passage: Csr  # word ids per passage, each once
    passage_counts: np.ndarray  # int32, beside passage.ids: occurrences in the passage
    sentence: Csr  # distinct word ids per sentence
    leaf: Csr  # distinct word ids of each passage's section leaf
    document: np.ndarray  # int32 per passage
    section: np.ndarray  # int32 per passage

    @classmethod
    def build(
        cls,
        chunks: Sequence[Chunk],
        document_ids: Sequence[str],
        sentence_rows: np.ndarray,
        sentence_spans: np.ndarray,
        workers: int = 1,
    ) -> WordTable:
        """Tokenise the segment's texts, once: the passages as the keyword index reads them
        (``embed_text``), each stored sentence as the answers read it.

        With ``workers`` above 1 the blocks are tokenised in that many processes (the
        tokeniser is Python per word); the table is the same either way.
        """
        word_id: dict[str, int] = {}

        def sets(block: _Tokens, counts: bool = False) -> tuple:
            """One block's lists, each owner's words once (ids as first met)."""
            vocabulary, local, lengths = block
            # The block's words in the order it met them: the ids a one-pass build gives.
            ids = np.fromiter((word_id.setdefault(w, len(word_id)) for w in vocabulary),
                              np.int64, len(vocabulary))  # fmt: skip
            owners = np.repeat(np.arange(len(lengths), dtype=np.int64), lengths)
            return _sets(owners, ids[local], len(lengths), len(word_id), counts)

        rows = np.asarray(sentence_rows, np.int64)
        spans = np.asarray(sentence_spans, np.int64).reshape(-1, 2)
        # A block of texts at a time, each block's lists made into arrays at once: lists of
        # Python ints for every word of a million passages took gigabytes.
        passage_parts, leaf_parts, sentence_parts = [], [], []
        workers = workers if len(chunks) > _BUILD_BLOCK else 1  # one block: no pool to start
        for kind, block in ordered_map(_tokenise, _text_blocks(chunks, rows, spans), workers):
            if kind == "passages":
                passage_parts.append(sets(block[0], True))
                leaf_parts.append(sets(block[1]))
            else:
                sentence_parts.append(sets(block[0]))
        doc_index = {d: i for i, d in enumerate(document_ids)}
        section_index: dict[tuple[str, str], int] = {}
        document = np.fromiter((doc_index[c.document_id] for c in chunks), np.int32, len(chunks))
        section = np.fromiter(
            (section_index.setdefault((c.document_id, c.section), len(section_index))
             for c in chunks), np.int32, len(chunks),
        )  # fmt: skip
        # Word ids in sorted word order, so segments merge by one sorted union.
        vocabulary = np.asarray(sorted(word_id), dtype=str) if word_id else np.zeros(0, "<U1")
        renumber = np.zeros(len(word_id), np.int64)
        renumber[list(word_id.values())] = np.searchsorted(vocabulary, list(word_id))
        passage, counts = _renumbered([p[0] for p in passage_parts], renumber,
                                      [p[1] for p in passage_parts])  # fmt: skip
        sentence = _renumbered(sentence_parts, renumber)[0]
        leaf = _renumbered(leaf_parts, renumber)[0]
        return cls(vocabulary, passage, counts, sentence, leaf, document, section)

    def save(self, directory: Path) -> None:
        directory.mkdir()
        for name in ("vocabulary", "document", "section"):
            save_npy(directory / f"{name}.npy", getattr(self, name))
        save_npy(directory / "passage.counts.npy", self.passage_counts)
        for name in _LISTS:
            getattr(self, name).save(directory, name)

    @classmethod
    def load(cls, directory: Path) -> WordTable:
        def array(name: str) -> np.ndarray:
            return mapped(directory / f"{name}.npy")

        lists = {n: Csr.load(directory, n) for n in _LISTS}
        return cls(
            array("vocabulary"), lists["passage"], array("passage.counts"), lists["sentence"],
            lists["leaf"], array("document"), array("section"),
        )  # fmt: skip


@dataclass
class LiveWords:
    """One segment's table with what of it is served: its live passages and sentences
    (ascending local numbers) and the ids of its documents, in its own order."""

    table: WordTable
    rows: np.ndarray
    sentences: np.ndarray
    document_ids: Sequence[str]


@dataclass
class GlobalTerms:
    """What a publish derives from the segments' words."""

    decompounder: Decompounder
    bm25: dict  # bm25s' ``scores`` (data, indices, indptr, num_docs)
    bm25_vocab: dict[str, int]
    sentence_terms: SentenceTerms
    state: PublishState | None = None  # what the next publish patches (indexer/word_patch.py)


@dataclass
class PublishState:
    """What a publish keeps beside the keyword index so the next one can patch it rather
    than merge every segment again (indexer/word_patch.py), in the index's ``keyword/``.
    An add's part (indexer/word_tails.py) keeps the words alone: its pairs' frequencies
    and lengths are its own files."""

    words: np.ndarray  # str, sorted: every word the merged tables and titles hold
    word_counts: np.ndarray  # int64 per word: occurrences over the live passages
    word_terms: Csr  # per word: its terms, ids into ``term_vocab``
    term_vocab: np.ndarray  # str, sorted
    tf: np.ndarray | None = None  # int32 beside bm25s' stored scores: each pair's frequency
    lengths: np.ndarray | None = None  # int64 per passage: its length in terms

    def save(self, directory: Path) -> None:
        for name in ("words", "word_counts", "term_vocab", "tf", "lengths"):
            if getattr(self, name) is not None:
                save_npy(directory / f"{STATE}{name}.npy", getattr(self, name))
        self.word_terms.save(directory, f"{STATE}word_terms")

    @classmethod
    def load(cls, directory: Path) -> PublishState | None:
        """The state in ``directory`` (a build's ``keyword/``, or a part's); None when it
        has none (an older build)."""
        if not (directory / f"{STATE}word_counts.npy").is_file():
            return None

        def array(name: str) -> np.ndarray | None:
            path = directory / f"{STATE}{name}.npy"
            return mapped(path) if path.is_file() else None

        return cls(
            array("words"), array("word_counts"), Csr.load(directory, f"{STATE}word_terms"),
            array("term_vocab"), array("tf"), array("lengths"),
        )  # fmt: skip


def _renumbered(
    parts: Sequence[Csr], renumber: np.ndarray, counts: Sequence[np.ndarray] = ()
) -> tuple[Csr, np.ndarray]:
    """Blocks of lists one after the other, ids renumbered and each list sorted again
    (with its counts), as ``_sets`` over every list at once would give them."""
    ptr, ids_out, counts_out, total = [np.zeros(1, np.int64)], [], [], 0
    for i, part in enumerate(parts):
        lengths = np.diff(part.ptr)
        owners = np.repeat(np.arange(len(lengths), dtype=np.int64), lengths)
        new = renumber[np.asarray(part.ids, np.int64)]
        order = np.argsort(owners * max(len(renumber), 1) + new)
        ids_out.append(new[order].astype(np.int32))
        if counts:
            counts_out.append(np.asarray(counts[i])[order])
        ptr.append(np.asarray(part.ptr[1:], np.int64) + total)
        total += int(part.ptr[-1])
    joined = Csr(np.concatenate(ptr), np.concatenate(ids_out) if ids_out else np.zeros(0, np.int32))
    return joined, (np.concatenate(counts_out) if counts_out else np.zeros(0, np.int32))


def _gather(csr: Csr, rows: np.ndarray, *values: np.ndarray) -> tuple[Csr, ...]:
    """The lists of ``rows`` (in that order) as one Csr, and the same rows of ``values``."""
    rows = np.asarray(rows, np.int64)
    if len(rows) == len(csr) and (not len(rows) or (rows[0] == 0 and np.all(np.diff(rows) == 1))):
        return (csr, *(np.asarray(v) for v in values))  # every list, in order: as it is
    ptr = np.asarray(csr.ptr, np.int64)
    starts, lengths = ptr[rows], ptr[rows + 1] - ptr[rows]
    out_ptr = np.zeros(len(rows) + 1, np.int64)
    np.cumsum(lengths, out=out_ptr[1:])
    # Each output position's source position: its list's start plus its place in the list.
    at = np.repeat(starts - out_ptr[:-1], lengths) + np.arange(out_ptr[-1], dtype=np.int64)
    ids = np.asarray(csr.ids)[at]
    return (Csr(out_ptr, ids), *(np.asarray(v)[at] for v in values))


def _expand(owners_ptr: np.ndarray, items: np.ndarray, table: Csr) -> tuple[np.ndarray, ...]:
    """For lists of ``items`` (``owners_ptr``), every (owner, entry of ``table[item]``) pair,
    and the position of the item each pair came from."""
    owners = np.repeat(np.arange(len(owners_ptr) - 1, dtype=np.int64), np.diff(owners_ptr))
    lengths = np.diff(table.ptr)[items]
    item_at = np.repeat(np.arange(len(items), dtype=np.int64), lengths)
    first = np.zeros(len(items) + 1, np.int64)
    np.cumsum(lengths, out=first[1:])
    at = np.asarray(table.ptr, np.int64)[items][item_at] + (
        np.arange(first[-1], dtype=np.int64) - first[item_at]
    )
    return owners[item_at], table.ids[at], item_at


def _distinct(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct values, ascending, and how often each occurs (by sorting: numpy's
    hashing ``np.unique`` took seconds on the millions of pairs here)."""
    ordered = np.sort(np.asarray(values, np.int64))
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]]) if len(ordered) else (
        np.zeros(0, np.int64))  # fmt: skip
    return ordered[starts], np.diff(np.r_[starts, len(ordered)])


def _inverse(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct values, ascending, and for each value its place among them."""
    values = np.asarray(values, np.int64)
    order = np.argsort(values)
    ordered = values[order]
    new = np.r_[True, ordered[1:] != ordered[:-1]] if len(ordered) else np.zeros(0, bool)
    inverse = np.empty(len(values), np.int64)
    inverse[order] = np.cumsum(new) - 1
    return ordered[new], inverse


# A block's words: its vocabulary in the order met, each word as an id into it, and how
# many words each text has.
_Tokens = tuple[list[str], np.ndarray, np.ndarray]


def _text_blocks(chunks: Sequence[Chunk], rows: np.ndarray, spans: np.ndarray) -> Iterator[list]:
    """The texts to tokenise, a block at a time: the passages' (as the keyword index reads
    them, and their sections' last parts), then the sentences' (each passage's text with
    its sentences' places, sliced where they are tokenised)."""
    for a in range(0, len(chunks), _BUILD_BLOCK):
        sections, texts = sections_and_texts(chunks, a, min(a + _BUILD_BLOCK, len(chunks)))
        embed = list(map(embed_text, sections, texts))
        yield [("passages", embed, [s.split(SECTION_SEPARATOR)[-1] for s in sections])]
    for a in range(0, len(rows), 10 * _BUILD_BLOCK):
        part = rows[a : a + 10 * _BUILD_BLOCK]
        first = int(part[0])
        texts = sections_and_texts(chunks, first, int(part[-1]) + 1)[1]
        yield [("sentences", texts, part - first, spans[a : a + 10 * _BUILD_BLOCK])]


def _tokenise(block: list) -> list[tuple[str, list[_Tokens]]]:
    """The words of one block's texts (run in a worker process, or here)."""
    kind, *texts = block[0]
    if kind == "sentences":
        passages, owners, places = texts
        found = [passages[r][s:e] for r, (s, e) in zip(owners.tolist(), places.tolist(),
                                                     strict=True)]  # fmt: skip
        return [(kind, [_tokens(found)])]
    return [(kind, [_tokens(t) for t in texts])]


def _tokens(texts: Sequence[str]) -> _Tokens:
    local: dict[str, int] = {}
    lengths = np.zeros(len(texts), np.int64)
    ids = array("q")
    for i, text in enumerate(texts):
        found = words(text)
        lengths[i] = len(found)
        ids.extend([local.setdefault(w, len(local)) for w in found])
    return list(local), np.frombuffer(ids, np.int64) if ids else np.zeros(0, np.int64), lengths


def _sets(owners: np.ndarray, values: np.ndarray, n_owners: int, n_values: int,
          counts: bool = False):  # fmt: skip
    """Each owner's distinct values, ascending, as a Csr (and with ``counts``, how often
    each occurred, beside the ids)."""
    n_values = max(n_values, 1)
    keys, occurrences = _distinct(owners * n_values + values)
    by_owner = keys // n_values
    ptr = np.zeros(n_owners + 1, np.int64)
    np.cumsum(np.bincount(by_owner, minlength=n_owners), out=ptr[1:])
    csr = Csr(ptr, (keys - by_owner * n_values).astype(np.int32))
    return (csr, occurrences.astype(np.int32)) if counts else csr


def _concat(parts: Sequence[Csr]) -> Csr:
    """Lists of several Csr one after the other."""
    if len(parts) == 1:  # a whole build's lists: not copied
        return parts[0]
    ptr, total = [np.zeros(1, np.int64)], 0
    for c in parts:
        ptr.append(np.asarray(c.ptr[1:], np.int64) + total)
        total += int(c.ptr[-1])
    ids = [np.asarray(c.ids) for c in parts]  # int32 stays int32: the lists of a whole index
    return Csr(np.concatenate(ptr), np.concatenate(ids) if ids else np.zeros(0, np.int64))


def merge(
    parts: Sequence[LiveWords],
    documents: dict[str, Document],
    sentence_places: tuple[np.ndarray, np.ndarray],
) -> GlobalTerms:
    """The global keyword index and sentence key words of the live passages of ``parts``,
    in row order: what ``KeywordIndex.build`` and ``build_sentence_terms`` compute from
    the texts, bit for bit (tests/test_word_tables.py)."""
    doc_names = [
        np.asarray(p.document_ids, dtype=object)[np.asarray(p.table.document, np.int64)[p.rows]]
        for p in parts
    ]
    doc_of = np.concatenate(doc_names) if doc_names else np.zeros(0, object)
    # Titles are tokenised here, not stored: a title may change (the corpus manifest)
    # while its document stays in its segment.
    titles = {d: words(documents[d].title) if d in documents else [] for d in
              dict.fromkeys(doc_of.tolist())}  # fmt: skip
    title_words = np.asarray(sorted({w for ws in titles.values() for w in ws}), dtype=str)
    vocabulary = np.unique(np.concatenate([*(p.table.vocabulary for p in parts), title_words]))
    n_words = len(vocabulary)

    passages, leaves, sentences, counts, sections = [], [], [], [], []
    section_base = 0
    for p in parts:
        t = p.table
        to_global = np.searchsorted(vocabulary, t.vocabulary).astype(np.int32)
        pc, n = _gather(t.passage, p.rows, t.passage_counts)
        lc, sc = _gather(t.leaf, p.rows)[0], _gather(t.sentence, p.sentences)[0]
        passages.append(Csr(pc.ptr, to_global[pc.ids]))
        leaves.append(Csr(lc.ptr, to_global[lc.ids]))
        sentences.append(Csr(sc.ptr, to_global[sc.ids]))
        counts.append(n)
        # Sections are numbered within a segment; a live document lies in one segment.
        sections.append(np.asarray(t.section, np.int64)[p.rows] + section_base)
        section_base += int(np.max(t.section, initial=-1)) + 1
    passage_words = _concat(passages)
    passage_counts = np.concatenate(counts) if counts else np.zeros(0, np.int32)

    # The compound splitter's vocabulary: words used at least twice over the passages.
    used = np.bincount(passage_words.ids, weights=passage_counts, minlength=n_words)
    decompounder = Decompounder(vocabulary[used >= 2].tolist())
    word_terms, term_vocab = _word_terms(vocabulary.tolist(), decompounder)
    bm25, bm25_vocab, tf, lengths = _bm25(passage_words, passage_counts, word_terms, term_vocab)

    terms = _sentence_terms(
        _concat(sentences), _concat(leaves), title_words_of(titles, vocabulary, doc_of),
        np.concatenate(sections) if sections else np.zeros(0, np.int64),
        word_terms, term_vocab, sentence_places,
    )  # fmt: skip
    state = PublishState(vocabulary, used.astype(np.int64), word_terms, term_vocab, tf, lengths)
    return GlobalTerms(decompounder, bm25, bm25_vocab, terms, state)


def title_words_of(titles: dict[str, list[str]], vocabulary: np.ndarray, doc_of: np.ndarray) -> Csr:
    """Per passage, the distinct word ids of its document's title (``doc_of``: each
    passage's document)."""
    title_ids = {d: _distinct(np.searchsorted(vocabulary, np.asarray(ws, dtype=str)))[0]
                 for d, ws in titles.items()}  # fmt: skip
    lists = [title_ids[d] for d in doc_of.tolist()]
    ptr = np.zeros(len(lists) + 1, np.int64)
    np.cumsum([len(t) for t in lists], out=ptr[1:])
    ids = np.concatenate(lists).astype(np.int64) if lists else np.zeros(0, np.int64)
    return Csr(ptr, ids)


def _word_terms(all_words: list[str], decompounder: Decompounder) -> tuple[Csr, np.ndarray]:
    """Per word: its terms (its stem, then its compound parts' stems), as ids into the
    sorted term vocabulary, which is returned too. Once per distinct word."""
    stems = _stemmer().stemWords(all_words)
    lists: list[list[str]] = []
    for word, stem in zip(all_words, stems, strict=True):
        parts = decompounder.split(word)
        lists.append([stem, *_stemmer().stemWords(list(parts))] if parts else [stem])
    flat = [t for ts in lists for t in ts]
    term_vocab = np.unique(np.asarray(flat + [EMPTY_TOKEN], dtype=str))
    ptr = np.zeros(len(lists) + 1, np.int64)
    np.cumsum([len(ts) for ts in lists], out=ptr[1:])
    ids = np.searchsorted(term_vocab, np.asarray(flat, dtype=term_vocab.dtype)) if flat else (
        np.zeros(0, np.int64))  # fmt: skip
    return Csr(ptr, ids.astype(np.int64)), term_vocab


# Passages whose (passage, term) pairs are made at once while merging: at a million
# passages every pair at once took int64 arrays of 200M entries, a dozen of them.
_MERGE_BLOCK = 20_000


def _blocks(n: int, size: int) -> list[tuple[int, int]]:
    return [(a, min(a + size, n)) for a in range(0, n, size)] or [(0, 0)]


def _passage_terms(
    passages: Csr, counts: np.ndarray, word_terms: Csr, a: int, b: int, empty_id: int
) -> tuple[np.ndarray, ...]:
    """Every (passage, term) occurrence of passages ``[a, b)``: the passage (numbered from
    ``a``), the term, its weight (a word's count, once per term of the word), and each
    passage's length; a passage without a term holds the one token ∅."""
    ptr = np.asarray(passages.ptr[a : b + 1], np.int64)
    lo, hi = int(ptr[0]), int(ptr[-1])
    owners, term_ids, item_at = _expand(ptr - lo, np.asarray(passages.ids[lo:hi]), word_terms)
    weights = np.asarray(counts[lo:hi])[item_at].astype(np.int64)
    lengths = np.bincount(owners, weights=weights, minlength=b - a).astype(np.int64)
    empty = np.flatnonzero(lengths == 0)
    if len(empty):
        owners = np.concatenate([owners, empty])
        term_ids = np.concatenate([term_ids, np.full(len(empty), empty_id, np.int64)])
        weights = np.concatenate([weights, np.ones(len(empty), np.int64)])
        lengths[empty] = 1
    return owners, term_ids, weights, lengths


def _bm25(
    passages: Csr, counts: np.ndarray, word_terms: Csr, term_vocab: np.ndarray
) -> tuple[dict, dict[str, int], np.ndarray, np.ndarray]:
    """bm25s' Lucene scores as ``bm25s.BM25.index`` computes them from the passages' terms,
    with the same float32/float64 steps, so its stored scores are identical.

    Two passes over blocks of passages, so memory holds the scores and one block's pairs:
    the first counts lengths and how many passages hold each term (the idf and each
    term's place in the output), the second scores and puts each block's entries there.
    """
    n = len(passages)
    n_terms = len(term_vocab)
    empty_id = int(np.searchsorted(term_vocab, EMPTY_TOKEN))
    blocks = _blocks(n, _MERGE_BLOCK)
    lengths = np.zeros(n, np.int64)
    holders = np.zeros(n_terms, np.int64)
    for a, b in blocks:
        owners, term_ids, _, lengths[a:b] = _passage_terms(
            passages, counts, word_terms, a, b, empty_id
        )
        pairs = _distinct(term_ids * max(b - a, 1) + owners)[0]
        holders += np.bincount(pairs // max(b - a, 1), minlength=n_terms)
    # Only the terms some passage holds are in the index's vocabulary, numbered in order.
    used = np.flatnonzero(holders)
    renumber = np.full(n_terms, -1, np.int64)
    renumber[used] = np.arange(len(used))
    df = holders[used]
    idf = np.zeros(len(used), np.float32)
    idf[:] = [math.log(1 + (n - int(d) + 0.5) / (int(d) + 0.5)) for d in df]
    l_avg = np.asarray(lengths).mean()
    indptr = np.zeros(len(used) + 1, np.int64)
    np.cumsum(df, out=indptr[1:])
    data = np.empty(int(indptr[-1]), np.float32)
    indices = np.empty(int(indptr[-1]), np.int32)
    frequencies = np.empty(int(indptr[-1]), np.int32)  # beside the scores, for the next add
    cursor = indptr[:-1].copy()  # where each term's next entry goes
    for a, b in blocks:
        owners, term_ids, weights, _ = _passage_terms(passages, counts, word_terms, a, b, empty_id)
        m = max(b - a, 1)
        keys, inverse = _inverse(term_ids * m + owners)  # by term, then passage
        tf = np.bincount(inverse, weights=weights, minlength=len(keys))
        col, doc_of = renumber[keys // m], keys % m + a
        l_d = lengths[doc_of]
        tf32 = tf.astype(np.float32)
        tfc = tf32 / (BM25_K1 * ((1 - BM25_B) + BM25_B * l_d / l_avg) + tf32)
        # A term's entries of this block are consecutive: each goes after the earlier
        # blocks' (smaller passages), in passage order.
        starts = np.flatnonzero(np.r_[True, col[1:] != col[:-1]]) if len(col) else col
        run = np.repeat(starts, np.diff(np.r_[starts, len(col)]))
        at = cursor[col] + (np.arange(len(col)) - run)
        data[at] = (idf[col] * tfc).astype(np.float32)
        indices[at] = doc_of
        frequencies[at] = tf
        cursor += np.bincount(col, minlength=len(used))
    vocab = {str(t): i for i, t in enumerate(term_vocab[used].tolist())}
    vocab[""] = len(vocab)  # as bm25s adds its empty token
    scores = {"data": data, "indices": indices, "indptr": indptr, "num_docs": n}
    return scores, vocab, frequencies, lengths


def _frequencies(
    passages: Csr, counts: np.ndarray, word_terms: Csr, term_vocab: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every (term, passage) pair with its term frequency, sorted by term then passage,
    and each passage's length in terms: what bm25s counts from the passages' terms."""
    n = len(passages)
    # Every (passage, term) occurrence: a word's count times each of its terms.
    owners, term_ids, item_at = _expand(passages.ptr, passages.ids, word_terms)
    weights = counts[item_at].astype(np.int64)
    lengths = np.bincount(owners, weights=weights, minlength=n).astype(np.int64)
    empty = np.flatnonzero(lengths == 0)  # no term: the one token ∅
    empty_id = int(np.searchsorted(term_vocab, EMPTY_TOKEN))
    if len(empty):
        owners = np.concatenate([owners, empty])
        term_ids = np.concatenate([term_ids, np.full(len(empty), empty_id, np.int64)])
        weights = np.concatenate([weights, np.ones(len(empty), np.int64)])
        lengths[empty] = 1
    keys, inverse = _inverse(term_ids * max(n, 1) + owners)
    tf = np.bincount(inverse, weights=weights, minlength=len(keys)).astype(np.int32)
    return keys // max(n, 1), keys % max(n, 1), tf, lengths


def _pairs_per_term(term_of: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct terms of ascending ``term_of`` and how many pairs each has."""
    starts = np.flatnonzero(np.r_[True, term_of[1:] != term_of[:-1]]) if len(term_of) else (
        np.zeros(0, np.int64))  # fmt: skip
    return np.asarray(term_of)[starts], np.diff(np.r_[starts, len(term_of)])


def _scores(
    used: np.ndarray, df: np.ndarray, doc_of: np.ndarray, tf: np.ndarray,
    lengths: np.ndarray, term_vocab: np.ndarray,
) -> tuple[dict, dict[str, int]]:  # fmt: skip
    """bm25s' Lucene scores as ``bm25s.BM25.index`` computes them from the term
    frequencies (pairs grouped by term: the ``df`` pairs of each term of ``used``, in
    order), with the same float32/float64 steps, so its stored scores are identical.
    Only the terms some passage holds are in the index's vocabulary, numbered in order."""
    n = len(lengths)
    # math.log once per distinct document frequency (a few thousand), not per term.
    df_values, df_at = np.unique(df, return_inverse=True)
    idf_of = np.asarray(
        [math.log(1 + (n - int(d) + 0.5) / (int(d) + 0.5)) for d in df_values], np.float32
    )
    idf = idf_of[df_at].astype(np.float32)
    l_avg = np.asarray(lengths).mean()
    # The length normalisation per passage, then per pair: the same float64 steps.
    norm = BM25_K1 * ((1 - BM25_B) + BM25_B * np.asarray(lengths) / l_avg)
    # Per pair, a block at a time, in one float64 buffer: idf * tf / (norm + tf), with
    # tf a float32 and the product rounded to float32 last, as bm25s does. Whole-array
    # expressions made eight temporaries of every pair (gigabytes at a million passages).
    data = np.empty(len(doc_of), np.float32)
    idf_at = np.repeat(idf, df)  # each pair's term's idf (float32)
    buf = np.empty(min(len(doc_of), _SCORE_BLOCK), np.float64)
    tf32 = np.empty(len(buf), np.float32)
    for a in range(0, len(doc_of), _SCORE_BLOCK):
        b = min(a + _SCORE_BLOCK, len(doc_of))
        x, t = buf[: b - a], tf32[: b - a]
        t[:] = tf[a:b]
        np.take(norm, doc_of[a:b], out=x)
        x += t
        np.divide(t, x, out=x)
        x *= idf_at[a:b]
        data[a:b] = x
    indptr = np.zeros(len(used) + 1, np.int64)
    np.cumsum(df, out=indptr[1:])
    vocab = {str(t): i for i, t in enumerate(term_vocab[used].tolist())}
    vocab[""] = len(vocab)  # as bm25s adds its empty token
    indices = np.asarray(doc_of).astype(np.int32, copy=False)
    scores = {"data": data, "indices": indices, "indptr": indptr, "num_docs": n}
    return scores, vocab


_SCORE_BLOCK = 1 << 18  # pairs scored at a time: the buffers stay in the CPU's cache


def _sentence_terms(
    sentences: Csr,
    leaves: Csr,
    titles: Csr,
    section_keys: np.ndarray,
    word_terms: Csr,
    term_vocab: np.ndarray,
    places: tuple[np.ndarray, np.ndarray],
) -> SentenceTerms:
    """``build_sentence_terms`` from word ids (see indexer/sentence_terms.py).

    Blocks of whole sections of passages (with their sentences) at a time: a first pass
    finds the terms in use, a second makes each block's lists, so memory holds the lists
    and one block's pairs, not every (sentence, term) pair of the index at once.
    """
    rows = np.asarray(places[0], np.int64)
    spans = np.asarray(places[1]).reshape(-1, 2)
    n_sentences, n_passages = len(sentences), len(leaves)
    if n_sentences and np.any(np.lexsort((spans[:, 0], rows)) != np.arange(n_sentences)):
        raise ValueError("sentences must be stored in passage and text order")
    first = np.zeros(n_passages + 1, np.int64)
    np.cumsum(np.bincount(rows, minlength=n_passages), out=first[1:])
    _, group = _inverse(section_keys)  # sections numbered 0.. in key order
    blocks = _section_blocks(group, _MERGE_BLOCK)

    def block_terms(a: int, b: int) -> tuple[np.ndarray, ...]:
        """A block's (sentence, term) pairs, sentences numbered from the block's first,
        and its (passage, term) pairs of each passage's context: the words of its
        section's last part and of its title."""
        sa, sb = int(first[a]), int(first[b])
        s_owner, s_term = _sub_expand(sentences, sa, sb, word_terms)
        l_owner, l_term = _sub_expand(leaves, a, b, word_terms)
        t_owner, t_term = _sub_expand(titles, a, b, word_terms)
        c_owner, c_term = np.concatenate([l_owner, t_owner]), np.concatenate([l_term, t_term])
        return s_owner, s_term, c_owner, c_term

    # Only terms a sentence or a context holds are in the vocabulary (sorted, as before).
    held = np.zeros(len(term_vocab), bool)
    for a, b in blocks:
        _, s_term, _, c_term = block_terms(a, b)
        held[s_term] = True
        held[c_term] = True
    used = np.flatnonzero(held)
    renumber = np.full(len(term_vocab), -1, np.int64)
    renumber[used] = np.arange(len(used))
    n_used = len(used)
    lists: dict[str, list[Csr]] = {"sentence": [], "context": [], "passage": [], "section": []}
    section_of: list[np.ndarray] = []
    n_sections = 0
    for a, b in blocks:
        s_owner, s_term, c_owner, c_term = block_terms(a, b)
        s_term, c_term = renumber[s_term], renumber[c_term]
        sa, sb = int(first[a]), int(first[b])
        lists["sentence"].append(_sets(s_owner, s_term, sb - sa, n_used))
        lists["context"].append(_sets(c_owner, c_term, b - a, n_used))
        passage = _sets(
            np.concatenate([rows[sa:sb][s_owner] - a, c_owner]),
            np.concatenate([s_term, c_term]), b - a, n_used,
        )  # fmt: skip
        lists["passage"].append(passage)
        # A section's terms: every term of every passage of its section (all in the block),
        # its sections numbered by their first passage, after the blocks before.
        local = _by_first(group[a:b])
        n_groups = int(local.max(initial=-1)) + 1
        owners = np.repeat(local, np.diff(passage.ptr))
        lists["section"].append(_sets(owners, passage.ids.astype(np.int64), n_groups, n_used))
        section_of.append((local + n_sections).astype(np.int32))
        n_sections += n_groups
    # Each list joined with its blocks let go at once: never two copies of every list.
    joined = {name: _concat(lists.pop(name)) for name in list(lists)}
    vocabulary = term_vocab[used].tolist()
    return SentenceTerms(
        vocabulary=np.asarray(vocabulary, dtype=str) if vocabulary else np.zeros(0, "<U1"),
        first=first,
        starts=spans[:, 0].astype(np.int32),
        ends=spans[:, 1].astype(np.int32),
        vector_rows=np.arange(n_sentences, dtype=np.int32),
        sentence_terms=joined["sentence"],
        postings=_transpose(joined["sentence"], n_used),
        context_terms=joined["context"],
        passage_terms=joined["passage"],
        section_terms=Shared(
            np.concatenate(section_of) if section_of else np.zeros(0, np.int32),
            joined["section"],
        ),
    )


def _by_first(values: np.ndarray) -> np.ndarray:
    """Each value's number among the distinct values, numbered in order of first use."""
    _, first, inverse = np.unique(values, return_index=True, return_inverse=True)
    rank = np.empty(len(first), np.int64)
    rank[np.argsort(first)] = np.arange(len(first))
    return rank[inverse].astype(np.int64)


def _sub_expand(lists: Csr, a: int, b: int, table: Csr) -> tuple[np.ndarray, np.ndarray]:
    """``_expand`` of lists ``[a, b)``, their owners numbered from ``a``."""
    ptr = np.asarray(lists.ptr[a : b + 1], np.int64)
    lo, hi = int(ptr[0]), int(ptr[-1])
    owners, found, _ = _expand(ptr - lo, np.asarray(lists.ids[lo:hi], np.int64), table)
    return owners, found


def _section_blocks(group: np.ndarray, size: int) -> list[tuple[int, int]]:
    """Ranges of about ``size`` passages that never split a section (a section's passages
    may be apart: a title met twice in one document is one section)."""
    n = len(group)
    if n == 0:
        return [(0, 0)]
    last = np.zeros(int(group.max()) + 1, np.int64)
    np.maximum.at(last, group, np.arange(n, dtype=np.int64))
    reach = np.maximum.accumulate(last[group])  # the furthest passage a cut here must pass
    cuts = np.flatnonzero(reach == np.arange(n)) + 1  # a block may end after these
    blocks, a = [], 0
    while a < n:
        b = int(cuts[np.searchsorted(cuts, min(a + size, n))]) if a + size < n else n
        blocks.append((a, b))
        a = b
    return blocks
