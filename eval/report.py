"""Write the evaluation report: a Markdown table and a PNG chart beside it."""

from __future__ import annotations

from typing import Any

from eval.questions import Question
from eval.scoring import METRICS, EvalResult


def _header(label: str) -> str:
    return "| " + label + " | " + " | ".join(METRICS) + " |\n|---|" + "---:|" * len(METRICS)


def write_report(result: EvalResult, questions: list[Question], manifest: dict[str, Any]) -> None:
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
    if result.halves:
        lines += [
            "## Halves of the set",
            "",
            "Odd-numbered and even-numbered answerable questions scored apart. A ranking "
            "change should help both halves; one that helps only one is fitted to a few "
            "questions.",
            "",
            _header("half, mode"),
        ]
        for half, modes in result.halves.items():
            for mode, values in modes.items():
                cells = " | ".join(f"{values[m]:.3f}" for m in METRICS)
                lines.append(f"| {half}, {mode} | {cells} |")
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
