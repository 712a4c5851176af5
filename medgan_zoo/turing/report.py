"""``turing-test report`` / ``status``: the study's statistics as CSV, Markdown and PNG."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from ..jsonsafe import dumps
from .analysis import analyse
from .power import power_table
from .stats import ALPHA
from .store import Store


def _fmt(p: dict[str, Any]) -> str:
    if p["value"] is None:
        return "-"
    return f"{p['value']:.3f} [{p['low']:.3f}, {p['high']:.3f}] (n={p['n']})"


def _interval(p: dict[str, Any]) -> str:
    if p["value"] is None:
        return "-"
    if p.get("low") is None:
        return f"{p['value']:.3f}"
    return f"{p['value']:.3f} [{p['low']:.3f}, {p['high']:.3f}]"


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
    (out / "turing_test.json").write_text(dumps({"meta": meta, **result}, indent=2))
    with (out / "answers.csv").open("w", newline="") as handle:
        answers = csv.DictWriter(handle, fieldnames=["rater", "position", "image", "truth", "answer", "confidence",
                                                     "milliseconds"])
        answers.writeheader()
        answers.writerows(rows)
    real_fraction = meta["real"] / max(meta["real"] + meta["generated"], 1)
    lines = [f"# Visual Turing test: {meta['gan']} on {meta['dataset']}", "",
             f"{meta['real']} real test slices and {meta['generated']} generated images ({meta['modality']}, "
             f"{meta['resolution']}x{meta['resolution']}), each rater in their own order after "
             f"{meta['practice']} practice images with feedback. Generated = positive.", "",
             *in_words(result, rows),
             "| rater | answers | accuracy (paper) | sensitivity | specificity | balanced accuracy [95%] | p | "
             "verdict | median s |", "|" + " --- |" * 9]
    summaries = {**result["raters"], "pooled": result["pooled"]}
    with (out / "raters.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["rater", "answers", "accuracy", "accuracy_low", "accuracy_high", "sensitivity",
                         "specificity", "balanced_accuracy", "balanced_low", "balanced_high", "p_value", "test",
                         "verdict", "median_seconds"])
        for name, s in summaries.items():
            sens, spec = s.get("sensitivity", {}).get("value"), s.get("specificity", {}).get("value")
            b = s["balanced_accuracy"]
            writer.writerow([name, s["answers"], s["accuracy"]["value"], s["accuracy"]["low"], s["accuracy"]["high"],
                             sens, spec, b["value"], b["low"], b["high"], s["p_value"], s["test"], s["verdict"],
                             s["median_seconds"]])
            p = "-" if s["p_value"] is None else f"{s['p_value']:.3g}"
            median = "-" if s["median_seconds"] is None else f"{s['median_seconds']:.1f}"
            shown = (f"mean {_interval(b)}" if name == "pooled" else _interval(b))
            lines.append(f"| {name} | {s['answers']} | {_fmt(s['accuracy'])} | "
                         f"{_fmt(s['sensitivity']) if 'sensitivity' in s else '-'} | "
                         f"{_fmt(s['specificity']) if 'specificity' in s else '-'} | {shown} | {p} | {s['verdict']} | "
                         f"{median} |")
    pooled = result["pooled"]
    lines += ["", "How to read it:", "",
              "- **Balanced accuracy** is the mean of sensitivity and specificity: 0.5 for a rater whose answers do "
              "not depend on the truth, whatever the share of real images (a rater who always says \"real\" has "
              f"plain accuracy {real_fraction:.2f} here, balanced accuracy 0.5). Its interval resamples the rater's "
              "images within each truth class.",
              "- **p, per rater**: Fisher's exact two-sided test of the rater's 2x2 table (answer x truth). Null "
              "hypothesis: the answers do not depend on the truth. The unit is the image. A small p says this rater "
              "tells real from generated on these images; a large one is no proof that they cannot.",
              "- **Below chance**: a balanced accuracy below 0.5 with a small p means the rater tells the two "
              "apart but swaps the labels (\"inverted\"): the generated images are distinguishable all the same. "
              "Below 0.5 with a large p is chance.",
              f"- **p, pooled** ({pooled['raters']} raters, {pooled['images']} images): the raters' mean balanced "
              "accuracy against the same mean after permuting the images' truth labels, one permutation for every "
              "rater at once (two-sided); its interval resamples images. One image seen by several raters is one "
              "unit, so this is about these raters on these images, not raters or images in general. The paper's "
              "pooled accuracy counts every answer and is shown for comparison only.", ""]
    agree = result["agreement"]
    kappa = "-" if agree["fleiss_kappa"] is None else f"{agree['fleiss_kappa']:.3f}"
    lines += [f"Fleiss' kappa across raters: {kappa} (over the {agree['images_rated_by_all']} images every "
              "rater answered; 0: chance agreement, 1: perfect).", ""]
    if agree["cohen_kappa"]:
        lines += ["| pair | Cohen's kappa |", "| --- | --- |"]
        lines += [f"| {pair} | {k:.3f} |" for pair, k in agree["cohen_kappa"].items()]
        lines.append("")
    lines += ["Kappa measures how much raters agree with each other beyond chance, not whether they are right. "
              "Fleiss' kappa assumes the raters are interchangeable (one pooled rate of \"generated\" answers); "
              "Cohen's kappa takes each rater's own rate. For two raters they differ when the raters lean "
              "differently: a rater who says \"generated\" to 80% and one who says it to 20% can agree by chance "
              "less than the pooled rate predicts, which pulls Fleiss' kappa below Cohen's.", ""]
    table = power_table(real_fraction)
    accuracies = list(next(iter(table.values())))
    lines += ["How many scored images a rater needs: the chance that a rater at a given balanced accuracy is "
              f"found by Fisher's test at 5% (real fraction {real_fraction:.2f}):", "",
              "| images per rater | " + " | ".join(f"{b:.1f}" for b in accuracies) + " |",
              "| --- |" + " --- |" * len(accuracies)]
    lines += [f"| {n} | " + " | ".join(f"{table[n][b]:.0%}" for b in accuracies) + " |" for n in table]
    lines += ["", "| confidence | answers | accuracy [95% Wilson] |", "| --- | --- | --- |"]
    lines += [f"| {level} | {p['n']} | {_fmt(p)} |" for level, p in result["confidence"].items()]
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
    names = list(summaries)
    acc = [summaries[n]["balanced_accuracy"] for n in names]
    xs = range(len(names))
    values = [a["value"] or 0 for a in acc]
    errors = [[(a["value"] or 0) - (a["low"] or 0) for a in acc], [(a["high"] or 0) - (a["value"] or 0) for a in acc]]
    axes[0].errorbar(xs, values, yerr=errors, fmt="o", capsize=4)
    axes[0].axhline(0.5, color="0.5", linestyle="--", label="chance")
    axes[0].set_xticks(list(xs), names, rotation=30)
    axes[0].set_ylim(0, 1)
    axes[0].set_ylabel("balanced accuracy (95%)")
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
    lines += ["", "![balanced accuracy per rater and accuracy against confidence](turing_test.png)", ""]
    (out / "report.md").write_text("\n".join(lines) + "\n")
    return out / "report.md"


def in_words(result: dict[str, Any], rows: list[dict[str, Any]]) -> list[str]:
    """Each rater's result, the pooled one and the raters' agreement as sentences: which way a rater
    errs, what a large p does and does not say, why two kappas of the same raters differ."""
    lines = ["## In words", ""]
    for name, s in result["raters"].items():
        mine = [r for r in rows if r["rater"] == name]
        fake = [r for r in mine if r["truth"] == "generated"]
        real = [r for r in mine if r["truth"] == "real"]
        called_fake = sum(r["answer"] == "generated" for r in fake)
        called_real_fake = sum(r["answer"] == "generated" for r in real)
        b, p = s["balanced_accuracy"]["value"], s["p_value"]
        facts = (f"called {called_fake} of {len(fake)} generated images \"generated\" and {called_real_fake} of "
                 f"{len(real)} real ones \"generated\"")
        if b is None or p is None:
            lines.append(f"- **{name}** answered only one kind of image so far: nothing to test.")
        elif p > ALPHA:
            lines.append(f"- **{name}** ({facts}; balanced accuracy {b:.2f}, p = {p:.2g}): no evidence that this rater "
                         "tells real from generated on these images; the table below says how large a difference "
                         "this many images could have found.")
        elif b > 0.5:
            lines.append(f"- **{name}** ({facts}; balanced accuracy {b:.2f}, p = {p:.2g}): tells real from generated "
                         "more often than chance would: the generated images are distinguishable to this rater.")
        else:
            lines.append(f"- **{name}** ({facts}; balanced accuracy {b:.2f}, p = {p:.2g}): **below chance**, "
                         "systematically: this rater calls generated images real and real ones generated. The images "
                         "are distinguishable all the same (the labels are swapped: check that the rater read "
                         "\"generated\" and \"real\" the right way round).")
    pooled = result["pooled"]
    inverted = [n for n, s in result["raters"].items() if s["p_value"] is not None and s["p_value"] <= ALPHA
                and s["balanced_accuracy"]["value"] is not None and s["balanced_accuracy"]["value"] < 0.5]
    if inverted and len(result["raters"]) > 1:
        lines.append(f"- **Careful with the group's number**: {', '.join(inverted)} errs the other way, which "
                     "pulls the mean balanced accuracy toward 0.5: read the raters one by one.")
    if pooled.get("p_value") is not None:
        mean = pooled["balanced_accuracy"]["value"]
        lines.append(f"- **Together** ({pooled['raters']} raters in the mean): mean balanced accuracy {mean:.2f}, p = "
                     f"{pooled['p_value']:.2g}: " + ("the raters as a group tell the images apart"
                                                     if pooled["p_value"] <= ALPHA and mean > 0.5 else
                                                     "as a group the raters do not tell the images apart better than "
                                                     "chance" if pooled["p_value"] > ALPHA else
                                                     "the group errs systematically the same way") + ".")
    agree = result["agreement"]
    fleiss, cohen = agree.get("fleiss_kappa"), agree.get("cohen_kappa") or {}
    if fleiss is not None and len(cohen) > 1:
        low, high = min(cohen.values()), max(cohen.values())
        lines.append(f"- **Agreement**: Fleiss' kappa {fleiss:.2f} over all raters; Cohen's kappa of the pairs from "
                     f"{low:.2f} to {high:.2f} (the table below); " + _kappa_words(fleiss) + ".")
    if fleiss is not None and len(cohen) == 1:
        (pair, k), = cohen.items()
        rates = {name: sum(r["answer"] == "generated" for r in rows if r["rater"] == name)
                 / max(sum(r["rater"] == name for r in rows), 1) for name in result["raters"]}
        lean = ", ".join(f"{name} said \"generated\" to {rate:.0%}" for name, rate in rates.items())
        if abs(fleiss - k) > 0.1:
            lines.append(f"- **Agreement**: Fleiss' kappa {fleiss:.2f} and Cohen's kappa {k:.2f} for the same two "
                         f"raters differ because the raters lean differently ({lean}): Fleiss' kappa expects both to "
                         "share one rate, so their different rates count as disagreement; Cohen's kappa allows each "
                         "its own. Trust Cohen's for two raters.")
        else:
            lines.append(f"- **Agreement**: kappa {k:.2f} ({lean}): " + _kappa_words(k) + ".")
    return lines + [""]


def _kappa_words(kappa: float) -> str:
    if kappa > 0.2:
        return "the raters agree beyond chance"
    if kappa < -0.1:
        return "the raters agree less often than chance would (they lean opposite ways)"
    return "the raters agree about as often as chance predicts"


def status_text(folder: str | Path) -> str:
    store = Store(folder)
    meta = store.meta()
    lines = [f"study {folder}: {meta['gan']} on {meta['dataset']}, {meta['n']} images + {meta['practice']} practice"]
    for p in store.progress():
        state = "finished" if p["answered"] >= p["total"] else f"{p['answered']}/{p['total']}"
        lines.append(f"  {p['rater']}: {state}")
    return "\n".join(lines)
