"""``turing-test report`` / ``status``: the study's statistics as CSV, Markdown and PNG."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from .stats import analyse
from .store import Store


def _fmt(p: dict[str, Any]) -> str:
    if p["value"] is None:
        return "-"
    return f"{p['value']:.3f} [{p['low']:.3f}, {p['high']:.3f}] (n={p['n']})"


def write_report(folder: str | Path, out: str | Path) -> Path:
    """Write per-rater and pooled statistics, agreement and confidence into ``out``; returns report.md."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    store = Store(folder)
    meta, rows = store.meta(), store.table()
    result = analyse(rows)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "turing_test.json").write_text(json.dumps({"meta": meta, **result}, indent=2))
    with (out / "answers.csv").open("w", newline="") as handle:
        answers = csv.DictWriter(handle, fieldnames=["rater", "position", "image", "truth", "answer", "confidence",
                                                     "milliseconds"])
        answers.writeheader()
        answers.writerows(rows)
    lines = [f"# Visual Turing test: {meta['gan']} on {meta['dataset']}", "",
             f"{meta['real']} real test slices and {meta['generated']} generated images ({meta['modality']}, "
             f"{meta['resolution']}x{meta['resolution']}), each rater in their own order after "
             f"{meta['practice']} practice images with feedback. Generated = positive.", "",
             "| rater | answers | accuracy [95% Wilson] | sensitivity | specificity | p (binomial vs 0.5) | "
             "median s |", "|" + " --- |" * 7]
    summaries = {**result["raters"], "pooled": result["pooled"]}
    with (out / "raters.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["rater", "answers", "accuracy", "accuracy_low", "accuracy_high", "sensitivity",
                         "specificity", "p_value", "median_seconds"])
        for name, s in summaries.items():
            writer.writerow([name, s["answers"], s["accuracy"]["value"], s["accuracy"]["low"], s["accuracy"]["high"],
                             s["sensitivity"]["value"], s["specificity"]["value"], s["p_value"], s["median_seconds"]])
            p = "-" if s["p_value"] is None else f"{s['p_value']:.3g}"
            median = "-" if s["median_seconds"] is None else f"{s['median_seconds']:.1f}"
            lines.append(f"| {name} | {s['answers']} | {_fmt(s['accuracy'])} | {_fmt(s['sensitivity'])} | "
                         f"{_fmt(s['specificity'])} | {p} | {median} |")
    agree = result["agreement"]
    kappa = "-" if agree["fleiss_kappa"] is None else f"{agree['fleiss_kappa']:.3f}"
    lines += ["", f"Fleiss' kappa across raters: {kappa} (over the {agree['images_rated_by_all']} images every "
              "rater answered; 0: chance agreement, 1: perfect).", ""]
    if agree["cohen_kappa"]:
        lines += ["| pair | Cohen's kappa |", "| --- | --- |"]
        lines += [f"| {pair} | {k:.3f} |" for pair, k in agree["cohen_kappa"].items()]
        lines.append("")
    lines += ["| confidence | answers | accuracy [95% Wilson] |", "| --- | --- | --- |"]
    lines += [f"| {level} | {p['n']} | {_fmt(p)} |" for level, p in result["confidence"].items()]
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
    names = list(summaries)
    acc = [summaries[n]["accuracy"] for n in names]
    xs = range(len(names))
    values = [a["value"] or 0 for a in acc]
    errors = [[(a["value"] or 0) - (a["low"] or 0) for a in acc], [(a["high"] or 0) - (a["value"] or 0) for a in acc]]
    axes[0].errorbar(xs, values, yerr=errors, fmt="o", capsize=4)
    axes[0].axhline(0.5, color="0.5", linestyle="--", label="chance")
    axes[0].set_xticks(list(xs), names, rotation=30)
    axes[0].set_ylim(0, 1)
    axes[0].set_ylabel("accuracy (95% Wilson)")
    axes[0].legend(fontsize=7)
    levels = [lv for lv, p in result["confidence"].items() if p["n"]]
    axes[1].plot(levels, [result["confidence"][lv]["value"] for lv in levels], "o-")
    axes[1].axhline(0.5, color="0.5", linestyle="--")
    axes[1].set_xticks(range(1, 6))
    axes[1].set_ylim(0, 1)
    axes[1].set_xlabel("confidence")
    axes[1].set_ylabel("accuracy (pooled)")
    fig.tight_layout()
    fig.savefig(out / "turing_test.png", dpi=120)
    plt.close(fig)
    lines += ["", "![accuracy per rater and against confidence](turing_test.png)", ""]
    (out / "report.md").write_text("\n".join(lines) + "\n")
    return out / "report.md"


def status_text(folder: str | Path) -> str:
    store = Store(folder)
    meta = store.meta()
    lines = [f"study {folder}: {meta['gan']} on {meta['dataset']}, {meta['n']} images + {meta['practice']} practice"]
    for p in store.progress():
        state = "finished" if p["answered"] >= p["total"] else f"{p['answered']}/{p['total']}"
        lines.append(f"  {p['rater']}: {state}")
    return "\n".join(lines)
