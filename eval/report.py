"""Write the evaluation report: a Markdown table and a PNG chart beside it."""

from __future__ import annotations

from typing import Any

from beleidszoeker.config import RankingConfig
from beleidszoeker.errors import BeleidszoekerError
from eval.intervals import LEVEL
from eval.questions import Question
from eval.scoring import HEADLINE, METRICS, SPLITS, EvalResult
from search_api.ranker import get_ranker
from search_api.scorer import get_scorer


def _header(label: str) -> str:
    return "| " + label + " | " + " | ".join(METRICS) + " |\n|---|" + "---:|" * len(METRICS)


def write_report(
    result: EvalResult,
    questions: list[Question],
    manifest: dict[str, Any],
    ranking: RankingConfig | None = None,
) -> None:
    png = result.report_path.with_suffix(".png")
    _chart(result, png)
    counts: dict[str, int] = {}
    for q in questions:
        counts[q.category] = counts.get(q.category, 0) + 1
    best = max(result.overall, key=lambda m: result.overall[m]["mrr@10"])
    lines = [
        "# Beleidszoeker retrieval evaluation",
        "",
        f"{result.n_questions} questions ({result.n_answerable} answerable), scored by "
        "`beleidszoeker eval` with ranx. A passage is relevant when it holds a gold quote of "
        "the right document; each gold quote counts once.",
        "",
        f"Index: {manifest.get('n_documents')} documents, {manifest.get('n_chunks')} passages, "
        f"embedder `{manifest.get('embedder', {}).get('name')}`, chunks of "
        f"{manifest.get('chunking', {}).get('size')} characters with "
        f"{manifest.get('chunking', {}).get('overlap')} overlap. Run took {result.seconds:.1f} s.",
        "",
        *_configuration(ranking or RankingConfig()),
        *_splits(result, questions),
        "## Overall (answerable questions)",
        "",
        _header("mode"),
    ]
    for mode, values in result.overall.items():
        name = f"**{mode}**" if mode == best else mode
        lines.append(f"| {name} | " + " | ".join(f"{values[m]:.3f}" for m in METRICS) + " |")
    lines += ["", f"![Retrieval by mode]({png.name})", "", "## Per category", ""]
    for cat, modes in result.by_category.items():
        lines += [f"### {cat} ({counts.get(cat, 0)} questions)", "", _header("mode")]
        for mode, values in modes.items():
            lines.append(f"| {mode} | " + " | ".join(f"{values[m]:.3f}" for m in METRICS) + " |")
        lines.append("")
    lines += ["## Questions with no gold quote in the top 20", ""]
    for mode, ids in result.misses.items():
        lines.append(f"- {mode}: {', '.join(ids) if ids else 'none'}")
    if result.missing_quotes:
        lines += ["", "## Gold quotes not found in the indexed text", ""]
        lines += [f"- {m}" for m in result.missing_quotes]
    lines += [
        "",
        "## How to read this",
        "",
        "- **MRR@10**: 1 / rank of the first passage holding a gold quote (0 if none in the "
        "top 10), averaged. 1.0 means the first result always answers.",
        "- **Recall@k**: the share of a question's gold quotes found in the top k passages; "
        "list questions have many gold quotes, so this shows whether all items are found.",
        "- **nDCG@10**: rewards finding many gold quotes near the top.",
        "",
    ]
    result.report_path.write_text("\n".join(lines), encoding="utf-8")


def _configuration(ranking: RankingConfig) -> list[str]:
    """The ranking configuration and the scorer that produced these figures."""
    lines = [
        "## Configuration",
        "",
        "Ranking (`beleidszoeker eval --set name=value` tries another value): "
        + ", ".join(f"`{k}={v}`" for k, v in ranking.model_dump().items())
        + ".",
        "",
        *_ranker_lines(ranking),
    ]
    try:
        record = get_scorer().record
    except BeleidszoekerError as exc:
        return [*lines, f"Sentence scorer: none ({exc})", ""]
    threshold = ranking.threshold if ranking.threshold is not None else record["threshold"]
    return [
        *lines,
        f"Sentence scorer: {record['model']} trained {record['trained_at']} on "
        f"{record['n_questions']} `{record['split']}` questions (sha256 "
        f"{record['dev_questions_sha256'][:12]}), {len(record['features'])} features, "
        f"scikit-learn {record['versions']['scikit-learn']}; abstains below {threshold:.3f}"
        + (
            f" of the abstainer ({record['abstainer']} over "
            f"{len(record['question_features'])} question features); list items from "
            f"{record['item_threshold']:.3f} sentence probability."
            if record.get("abstainer")
            else "."
        ),
        "",
    ]


def _ranker_lines(ranking: RankingConfig) -> list[str]:
    """Whether hybrid search re-orders its head with the learned passage ranker, and why."""
    try:
        ranker = get_ranker()
    except BeleidszoekerError as exc:
        return [f"Passage ranker: none ({exc})", ""]
    if ranker is None:
        return ["Passage ranker: none trained; hybrid search keeps the fused order.", ""]
    r = ranker.record
    fusion, oof = r["fusion"], r["out_of_fold"]
    if not ranking.rerank:
        used = "not used (`rerank=False`)"
    elif ranker.in_use:
        depth = ranking.rerank_depth or r["depth"]
        used = f"re-orders the top {depth} fused passages of hybrid search"
    else:
        used = "not used: it did not rank better than fusion on dev"
    return [
        f"Passage ranker: {r['model']} trained {r['trained_at']} on {r['n_questions']} "
        f"answerable `{r['split']}` questions (sha256 {r['dev_questions_sha256'][:12]}), "
        f"{len(r['features'])} features; {used}. Out of fold on dev: MRR@10 "
        f"{oof['mrr@10']:.3f} against {fusion['mrr@10']:.3f} for fusion alone, Recall@10 "
        f"{oof['recall@10']:.3f} against {fusion['recall@10']:.3f}.",
        "",
    ]


def _splits(result: EvalResult, questions: list[Question]) -> list[str]:
    """Headline figures on dev and the sealed test split, side by side, with how far apart
    the draw of questions alone could put them."""
    if not result.splits:
        return []
    n = {s: sum(q.split == s for q in questions) for s in SPLITS}
    lines = [
        "## Dev and test",
        "",
        "Every question is in `dev` or `test` by a hash of its id. Training and tuning read "
        "`dev` only; `test` only reports. A gap of more than 0.05 between them is fitting. "
        f"The last column is dev minus test and its {LEVEL:.0%} bootstrap interval (each "
        "split's questions resampled): an interval that holds 0 is a gap the draw of "
        "questions alone makes likely.",
        "",
        "| figure | "
        + " | ".join(f"{s} ({n[s]})" for s in SPLITS)
        + f" | dev - test ({LEVEL:.0%} interval) |",
        "|---|" + "---:|" * (len(SPLITS) + 1),
    ]
    for mode in result.overall:
        values = result.split_figures(mode)
        for name in HEADLINE:
            shown = values[f"{mode} {name}"]
            between = result.split_gap(mode, name, questions)
            lines.append(
                f"| {mode} {name} | "
                + " | ".join(shown[s] for s in SPLITS)
                + f" | {between.text() if between else '-'} |"
            )
    return [*lines, ""]


def _chart(result: EvalResult, path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    modes = list(result.overall)
    fig, ax = plt.subplots(figsize=(8, 4))
    width = 0.8 / len(modes)
    for i, mode in enumerate(modes):
        xs = [j + i * width for j in range(len(METRICS))]
        ax.bar(xs, [result.overall[mode][m] for m in METRICS], width, label=mode)
    ax.set_xticks([j + width * (len(modes) - 1) / 2 for j in range(len(METRICS))], METRICS)
    ax.set_ylim(0, 1)
    ax.set_title(f"Beleidszoeker retrieval, {result.n_answerable} answerable questions")
    ax.legend()
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
