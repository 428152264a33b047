"""How far the answer step gets with the evidence it has, out of fold on the `dev` questions.

An answer is the scorer's likeliest sentences among those of the passages read, or an
abstention. This study asks where that falls short and whether more of the same would help:

- how often any candidate sentence answers (the most any sentence scorer can reach), and how
  often the likeliest 1, 2, 3, 5 or 10 do, per kind of question;
- whether more labelled questions would help (the scorer trained on a share of each fold);
- whether another model kind would (every kind ``beleidszoeker train`` cross-validates);
- whether sentence vectors embedded with their context would (the section title, the
  sentence before, both neighbours), in place of the sentence's own or beside it;
- whether the abstainer would tell unanswerable questions apart better with what the question
  is about embedded on its own, and how well it does without the paraphrased questions;
- how the choice of sentences shown trades answer text against citations.

Only `dev` is read (``dev_only``). The contextual vectors are embedded once through the
vector cache.

    .venv/bin/python -m benchmarks.answer_ceiling   # writes results/answer_ceiling.md
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.progress import Progress

from beleidszoeker.config import get_settings
from eval.matching import contains_quote
from eval.questions import Question, dev_only, in_split, load_questions
from eval.scoring import DEFAULT_QUESTIONS
from eval.train import (
    FOLDS,
    SEED,
    TrainingData,
    _judge,
    _question_rows,
    abstainer_candidates,
    candidates,
    floored,
    gold_labels,
    out_of_fold,
    similarity_floor,
)
from indexer.keyword import words
from indexer.sections import SEPARATOR
from indexer.vector_cache import VectorCache, embed_with_cache
from search_api.answer import Reading, read_question
from search_api.engine import get_searcher
from search_api.question import ENGLISH_FUNCTION_WORDS, analyse
from search_api.retrieval import Searcher
from search_api.sentences import SentenceTable, sentence_table

_ERR = Console(stderr=True)
RESULTS = Path(__file__).parent / "results" / "answer_ceiling.md"
MODEL = "logistic_regression_c0.3"  # the sentence model `beleidszoeker train` chose
TOP = (1, 2, 3, 5, 10)
SHARES = (0.25, 0.5, 0.75, 1.0)
REPEATS = 5
BUDGETS = (0.02, 0.03)
# What a question asks with, not about: left out of the text embedded as its focus.
_ASKING_WORDS = (
    "wie wat waar wanneer hoeveel welke welk hoe waarom kost kosten zijn is wordt worden "
    "heeft hebben er de het een"
)
_ASKING = frozenset(_ASKING_WORDS.split())


def _read(searcher: Searcher, questions: list[Question]) -> tuple[TrainingData, list[Reading]]:
    readings, rows, labels, groups = [], [], [], []
    for i, q in enumerate(questions):
        r = read_question(searcher, q.question)
        texts = [r.table.sentences[s].text for s in r.sentence_ids]
        labels.append(gold_labels(q, texts, [h.chunk.document_id for h in r.owners]))
        rows.append(r.features)
        groups.append(np.full(len(texts), i))
        readings.append(r)
    data = TrainingData(
        np.concatenate(rows), np.concatenate(labels), np.concatenate(groups), questions
    )
    return data, readings


def _oof(make: Callable[[], object], data: TrainingData) -> np.ndarray:
    """Out-of-fold probabilities, judged as `beleidszoeker train` judges them: 0 below the
    similarity floor."""
    p = out_of_fold(make, data.rows, data.labels, data.groups)
    return floored(p, data, similarity_floor(data))


def _order(p: np.ndarray, data: TrainingData, i: int) -> np.ndarray:
    """Question ``i``'s rows, likeliest first."""
    mine = np.flatnonzero(data.groups == i)
    return mine[np.argsort(-p[mine], kind="stable")]


def _scores(p: np.ndarray, data: TrainingData) -> str:
    """Table cells: how often the best sentence answers, and the abstention AUC of the best
    sentence's probability alone."""
    judged = _judge(p, data)
    return f"{judged['top1']:.3f} | {judged['abstain_auc']:.3f}"


def top_k(p: np.ndarray, data: TrainingData) -> list[str]:
    by_kind: dict[str, list[int]] = defaultdict(lambda: [0, 0] + [0] * len(TOP))
    for i, q in enumerate(data.questions):
        if not q.answerable:
            continue
        kind = q.category + (" (English)" if q.lang == "en" else "")
        for key in ("all", kind):
            c = by_kind[key]
            c[0] += 1
            order = _order(p, data, i)
            c[1] += bool(data.labels[order].any())
            for j, k in enumerate(TOP):
                c[2 + j] += bool(data.labels[order[:k]].any())
    head = " | ".join(f"top {k}" for k in TOP)
    out = [
        "## Does an answering sentence stand among the candidates, and how high?",
        "",
        "Share of the answerable dev questions with an answering sentence (one that holds a gold "
        "quote of the right document) among all candidates, and among the likeliest k.",
        "",
        f"| questions | n | any candidate | {head} |",
        "|---|---:|---:|" + "---:|" * len(TOP),
    ]
    for key in ["all"] + sorted(k for k in by_kind if k != "all"):
        n, ceiling, *hits = by_kind[key]
        cells = " | ".join(f"{h / n:.3f}" for h in hits)
        out.append(f"| {key} | {n} | {ceiling / n:.3f} | {cells} |")
    return out


def learning_curve(data: TrainingData) -> list[str]:
    from sklearn.model_selection import GroupKFold

    make = candidates()[MODEL]
    rng = np.random.default_rng(SEED)
    out = [
        "## Would more labelled questions help?",
        "",
        f"The sentence model trained on a share of each fold's questions ({REPEATS} draws "
        "each), judged on the held-out fold: how often its best sentence answers.",
        "",
        "| share of dev questions trained on | best sentence answers (mean ± sd) |",
        "|---:|---:|",
    ]
    for share in SHARES:
        scores = []
        for _ in range(REPEATS if share < 1 else 1):
            p = np.zeros(len(data.labels))
            for fit, held in GroupKFold(FOLDS).split(data.rows, data.labels, data.groups):
                asked = np.unique(data.groups[fit])
                kept = rng.choice(asked, int(round(share * len(asked))), replace=False)
                fit = fit[np.isin(data.groups[fit], kept)]
                model = make().fit(data.rows[fit], data.labels[fit])
                p[held] = model.predict_proba(data.rows[held])[:, 1]
            scores.append(_judge(floored(p, data, similarity_floor(data)), data)["top1"])
        out.append(f"| {share:.0%} | {np.mean(scores):.3f} ± {np.std(scores):.3f} |")
    return out


def model_kinds(data: TrainingData) -> list[str]:
    out = [
        "## Would another model kind help?",
        "",
        "| sentence model | best sentence answers | abstention AUC (best sentence alone) |",
        "|---|---:|---:|",
    ]
    for name, make in candidates().items():
        out.append(f"| {name} | {_scores(_oof(make, data), data)} |")
    return out


def _context_text(table: SentenceTable, searcher: Searcher, kind: str, sid: int) -> str:
    s = table.sentences[sid]
    if kind == "its section title":
        leaf = searcher.store.passage(s.row).section.split(SEPARATOR)[-1].strip()
        return f"{leaf}: {s.text}" if leaf else s.text
    before = [sid - 1] if kind in ("the sentence before", "both its neighbours") else []
    after = [sid + 1] if kind == "both its neighbours" else []
    n = len(table.arrays.starts)
    around = [j for j in before + [sid] + after if 0 <= j < n and table.sentences[j].row == s.row]
    return " ".join(table.sentences[j].text for j in around)


def context_vectors(searcher: Searcher, data: TrainingData, readings: list[Reading]) -> list[str]:
    settings = get_settings()
    table = sentence_table(searcher.store)
    own = table.vectors
    n = len(table.arrays.starts)
    rows = [table.sentences[i].vector for i in range(n)]
    if own is None or any(r is None for r in rows):
        return ["## Sentence vectors with context", "", "The index has no sentence vectors."]
    own_array = np.asarray(own[np.arange(len(own))])
    make = candidates()[MODEL]
    out = [
        "## Would sentence vectors embedded with their context help?",
        "",
        "Each sentence embedded again with its context, by the index's own embedder. *In "
        "place*: its similarities (to the question, the topic, a commitment) come from the "
        "new vector. *Beside*: the new vector's similarity to the question is one more "
        "feature.",
        "",
        "| sentence vector | best sentence answers | abstention AUC (best sentence alone) |",
        "|---|---:|---:|",
        f"| the sentence alone (shipped) | {_scores(_oof(make, data), data)} |",
    ]
    cache = VectorCache(settings.cache_dir / "vectors.sqlite")
    try:
        for kind in ("its section title", "the sentence before", "both its neighbours"):
            texts = [_context_text(table, searcher, kind, i) for i in range(n)]
            vectors = _embed(searcher, texts, cache, f"sentences with {kind}")
            other = own_array.copy()
            other[rows] = vectors
            table.vectors = other
            try:
                placed, _ = _read(searcher, data.questions)
            finally:
                table.vectors = own
            beside = _with_column(searcher, data, readings, other)
            for how, d in (("in place", placed), ("beside", beside)):
                out.append(f"| with {kind}, {how} | {_scores(_oof(make, d), d)} |")
    finally:
        cache.close()
    return out


def _embed(searcher: Searcher, texts: list[str], cache: VectorCache, what: str) -> np.ndarray:
    """The texts' vectors, through the vector cache: minutes the first time, with a bar."""
    with Progress(console=_ERR, transient=True) as bar:
        task = bar.add_task(f"Embedding {what}", total=len(texts))
        vectors, _ = embed_with_cache(
            searcher.embedder, texts, cache, on_progress=lambda n: bar.advance(task, n)
        )
    return vectors


def _with_column(
    searcher: Searcher, data: TrainingData, readings: list[Reading], vectors: np.ndarray
) -> TrainingData:
    """``data`` with one more column: each candidate's similarity to the question by
    ``vectors``, on the index's scale."""
    table = sentence_table(searcher.store)
    low, span = table.scale
    column = np.zeros(len(data.labels))
    for i, (q, r) in enumerate(zip(data.questions, readings, strict=True)):
        at = [table.sentences[s].vector for s in r.sentence_ids]
        column[data.groups == i] = (vectors[at] @ searcher.query_vector(q.question) - low) / span
    rows = np.column_stack([data.rows, np.clip(column, -1.0, 1.5)])
    return TrainingData(rows, data.labels, data.groups, data.questions)


def _focus(question: Question) -> str:
    """The question without its names and the words it asks with: what it is about."""
    info = analyse(question.question)
    named = {w for name in info.names for w in words(name)}
    kept = [
        w
        for w in words(question.question)
        if w not in named and w not in _ASKING and w not in ENGLISH_FUNCTION_WORDS
    ]
    return " ".join(kept) or question.question


def abstainer(
    searcher: Searcher, data: TrainingData, readings: list[Reading], p: np.ndarray
) -> list[str]:
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    X, y, which = _question_rows(p, data)
    # A question without a candidate abstains whatever the abstainer says: it counts as
    # abstained below, as it does in an answer.
    asked = set(which)
    silent = [q for i, q in enumerate(data.questions) if i not in asked]
    extra = []
    for i in which:
        mine, r = np.flatnonzero(data.groups == i), readings[i]
        focus = searcher.query_vector(_focus(data.questions[i]))
        low, span = r.table.scale
        at = [r.table.sentences[s].vector for s in r.sentence_ids]
        sentences = (r.table.vectors[at] @ focus - low) / span
        passages = (searcher.store.passage_vectors(r.table.rows(r.owners)) @ focus - low) / span
        top = int(np.argmax(p[mine]))
        extra.append([sentences[top], sentences.max(), passages[top], passages.max()])
    folds = StratifiedKFold(n_splits=FOLDS, shuffle=True, random_state=SEED)

    def judged(features: np.ndarray, include: Callable[[Question], bool]) -> str:
        keep = np.array([include(data.questions[i]) for i in which])
        best = None
        for make in abstainer_candidates().values():
            a = cross_val_predict(make(), features, y, cv=folds, method="predict_proba")[:, 1]
            auc = float(roc_auc_score(y[keep], a[keep]))
            if best is None or auc > best[0]:
                best = (auc, a)
        auc, a = best
        quiet = [q for q in silent if include(q)]
        gone = sum(q.answerable for q in quiet)  # answerable, yet abstained on before any cut
        kept = np.sort(a[keep & (y == 1)])
        unanswerable = a[keep & (y == 0)]
        shares = []
        for budget in BUDGETS:
            allowed = max(int(budget * (len(kept) + gone) + 1e-9) - gone, 0)
            abstained = int((unanswerable < kept[allowed]).sum()) + len(quiet) - gone
            shares.append(f"{abstained}/{len(unanswerable) + len(quiet) - gone}")
        return f"{auc:.3f} | " + " | ".join(shares)

    def everything(q: Question) -> bool:
        return True

    def plain(q: Question) -> bool:
        return q.category != "paraphrase"

    def plain_dutch(q: Question) -> bool:
        return plain(q) and q.lang != "en"

    budgets = " | ".join(f"unanswerable abstained, {b:.0%} of answerable" for b in BUDGETS)
    return [
        "## Would the abstainer tell unanswerable questions apart better?",
        "",
        "The abstainer cross-validated over the dev questions (the strength chosen by AUC), as "
        "`beleidszoeker train` does. *Focus*: the question without its names and asking words "
        '("inwoners" of "hoeveel inwoners heeft de gemeente Aa en Hunze?"), embedded; its '
        "similarity to the best sentence and passage, and to the closest of all candidates. "
        "The last rows judge the same abstainer without the paraphrased questions (which "
        "share no key word with their answer by design) and without English ones too.",
        "",
        f"| abstainer | questions judged | AUC | {budgets} |",
        "|---|---|---:|" + "---:|" * len(BUDGETS),
        f"| shipped features | all | {judged(X, everything)} |",
        f"| + focus similarities | all | {judged(np.column_stack([X, extra]), everything)} |",
        f"| shipped features | no paraphrase | {judged(X, plain)} |",
        f"| shipped features | no paraphrase, no English | {judged(X, plain_dutch)} |",
    ]


Rule = Callable[[list[tuple[float, int, int]]], list[tuple[float, int, int]]]


def _rule(k: int, margin: float, one_per_passage: bool) -> Rule:
    def choose(ranked: list[tuple[float, int, int]]) -> list[tuple[float, int, int]]:
        chosen, passages = [], set()
        for c in ranked:
            if len(chosen) == k or c[0] < ranked[0][0] - margin:
                break
            if one_per_passage and c[2] in passages:
                continue
            chosen.append(c)
            passages.add(c[2])
        return chosen

    return choose


def composition(data: TrainingData, readings: list[Reading], p: np.ndarray) -> list[str]:
    rules = {
        "up to 3 within 0.25 of the best": _rule(3, 0.25, False),
        "up to 3": _rule(3, 1.0, False),
        "up to 3, one per passage": _rule(3, 1.0, True),
        "up to 5": _rule(5, 1.0, False),
        "the best only": _rule(1, 1.0, False),
    }
    out = [
        "## How the sentences shown trade answer text against citations",
        "",
        "Answerable dev questions that are not lists, by the sentence model's out-of-fold "
        "probabilities (before the abstainer): does a sentence shown hold a gold quote, does a "
        "passage it cites, and how many sentences are shown.",
        "",
        "| sentences shown | answer text holds gold | citations hold gold | sentences |",
        "|---|---:|---:|---:|",
    ]
    for name, rule in rules.items():
        said = cited = shown = n = 0
        for i, q in enumerate(data.questions):
            if not q.answerable or q.category == "list":
                continue
            n += 1
            r, mine = readings[i], np.flatnonzero(data.groups == i)
            ranked = sorted(
                ((float(p[j]), j - mine[0], r.owners[j - mine[0]].rank) for j in mine),
                key=lambda c: (-c[0], c[2], c[1]),
            )
            chosen = rule(ranked) if ranked else []
            shown += len(chosen)
            said += any(data.labels[mine[0] + c[1]] for c in chosen)
            cited += any(
                r.owners[c[1]].chunk.document_id == a.document
                and contains_quote(r.owners[c[1]].chunk.text, a.quote)
                for c in chosen
                for a in q.answers
            )
        out.append(f"| {name} | {said / n:.3f} | {cited / n:.3f} | {shown / n:.2f} |")
    return out


def main() -> None:
    t0 = time.perf_counter()
    questions = dev_only(in_split(load_questions(DEFAULT_QUESTIONS), "dev"))
    searcher = get_searcher(get_settings())
    _ERR.print(f"Reading the candidates of {len(questions)} dev questions ...")
    data, readings = _read(searcher, questions)
    p = _oof(candidates()[MODEL], data)
    steps = [
        ("candidates ranked", lambda: top_k(p, data)),
        ("learning curve", lambda: learning_curve(data)),
        ("model kinds", lambda: model_kinds(data)),
        ("sentence vectors with context", lambda: context_vectors(searcher, data, readings)),
        ("abstainer", lambda: abstainer(searcher, data, readings, p)),
        ("sentences shown", lambda: composition(data, readings, p)),
    ]
    sections = []
    for what, step in steps:
        _ERR.print(f"Measuring: {what} ...")
        sections.append(step())
    head = [
        "# How far the answer step gets, out of fold on dev",
        "",
        f"{len(questions)} `dev` questions ({sum(q.answerable for q in questions)} answerable), "
        f"{len(data.labels)} candidate sentences; sentence model `{MODEL}`; made by "
        f"`.venv/bin/python -m benchmarks.answer_ceiling` in "
        f"{time.perf_counter() - t0:.0f} s.",
    ]
    text = "\n\n".join("\n".join(s) for s in [head, *sections]) + "\n"
    RESULTS.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
