"""The report's single HTML page: plain HTML and inline CSS, images beside it, nothing fetched."""

from __future__ import annotations

from html import escape
from typing import Any

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1200px; margin: 2em auto; padding: 0 1em; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 2em; border-bottom: 1px solid #ddd; }
.row { display: flex; flex-wrap: wrap; gap: 1.5em; align-items: flex-start; }
figure { margin: 0; } figcaption { font-size: 0.9em; color: #555; max-width: 360px; }
img { image-rendering: pixelated; max-width: 100%; border: 1px solid #eee; }
.row img { width: 360px; }
table { border-collapse: collapse; font-size: 0.9em; margin: 0.5em 0; }
td, th { border: 1px solid #ddd; padding: 0.25em 0.6em; text-align: left; }
.note { background: #fff8e1; border-left: 4px solid #f0b400; padding: 0.5em 1em; }
.number { font-weight: 600; }
"""


def _p(value: float) -> str:
    return f"{value:.2g}"


def _metrics_table(records: dict[str, Any]) -> str:
    rows = []
    for name, record in records.items():
        head = record.get("headline") or {}
        if not head:
            continue
        value = head.get("value")
        std = head.get("std")
        shown = "-" if value is None else f"{value:.4g}" + (f" ± {std:.2g}" if std else "")
        better = {"lower": "↓", "higher": "↑"}.get(head.get("better", ""), "")
        reference = head.get("reference")
        rows.append(f"<tr><td>{escape(name)} {better}</td><td class='number'>{escape(shown)}</td>"
                    f"<td>{'-' if reference is None else escape(f'{reference:.4g}')}</td></tr>")
    if not rows:
        return ("<p>No evaluation results were found beside this model "
                "(<code>medgan-zoo evaluate MODEL --out MODEL/evaluation</code> writes them).</p>")
    return ("<table><tr><th>metric (↓ lower / ↑ higher is better)</th><th>this model</th>"
            "<th>reference (real data)</th></tr>"
            + "".join(rows) + "</table>")


def render(data: dict[str, Any]) -> str:
    """``data``: what report.json holds (title, models, real grid, spaces, notes)."""
    parts = ["<!DOCTYPE html>", "<html lang='en'><head><meta charset='utf-8'>",
             f"<title>{escape(data['title'])}</title><style>{STYLE}</style></head><body>",
             f"<h1>{escape(data['title'])}</h1>",
             f"<p>{escape(data['summary'])}</p>"]
    parts.append("<h2>Fig. 5: generated pairs beside real ones</h2>")
    parts.append("<p>Each tile is an image beside the same image with its mask coloured (legend in each grid). "
                 "Generated samples are the first of the seed; real ones are evenly spaced through the "
                 "training split.</p><div class='row'>")
    parts.append(f"<figure><img src='{escape(data['real_grid'])}' alt='real slices'>"
                 f"<figcaption>real {escape(data['dataset'])} slices</figcaption></figure>")
    for m in data["models"]:
        parts.append(f"<figure><img src='{escape(m['grid'])}' alt='{escape(m['label'])} samples'>"
                     f"<figcaption>{escape(m['label'])}: {escape(m['description'])}</figcaption></figure>")
    parts.append("</div>")
    parts.append("<h2>Metrics</h2>")
    for m in data["models"]:
        parts.append(f"<h3>{escape(m['label'])}</h3>")
        if m.get("metrics_source"):
            parts.append(f"<p>From <code>{escape(m['metrics_source'])}</code>.</p>")
        parts.append(_metrics_table(m.get("metrics", {})))
    parts.append("<h2>Fig. 6: real and generated in two feature spaces</h2>")
    parts.append("<p>UMAP projections of the features of real held-out slices (grey: the test split, which neither "
                 "the generators nor the feature networks saw, a few slices of each subject) and of each model's "
                 "samples (colour), one embedding per feature space so the panels share their axes. Under each "
                 "panel and in the table: the cross-validated balanced accuracy of a k-nearest-neighbour classifier "
                 "telling real from generated in the full feature space (not the projection), corrected to this "
                 "design's chance level (the permutations' mean, shown: a little under 0.5 because a point's own "
                 "subject is left out of its neighbourhood). 0.5 means the space cannot tell them apart, 1 that it "
                 "always can; the accuracy is the effect size. The interval is the accuracy +- 1.96 times the "
                 "permutations' standard deviation; p is a permutation p-value (null hypothesis: real and generated "
                 "features come from one distribution; the unit of independence is the subject, so a subject's "
                 "slices keep one label in every permutation). A small p says this feature space separates the "
                 "two sets, not how much that matters, nor anything about other feature spaces.</p>")
    for note in data.get("notes", []):
        parts.append(f"<p class='note'>{escape(note)}</p>")
    for space in data["spaces"]:
        parts.append(f"<h3>{escape(space['title'])}</h3>")
        parts.append(f"<figure><img src='{escape(space['figure'])}' alt='UMAP of {escape(space['name'])} "
                     "features'></figure>")
        parts.append("<table><tr><th>model</th><th>kNN balanced accuracy</th><th>95% interval</th>"
                     "<th>permutation p</th><th>chance (raw)</th><th>k</th><th>real subjects</th><th>points</th></tr>")
        declined = []
        for label, test in space["tests"].items():
            if test["p_value"] is None:
                declined.append(test["note"])
                interval, p = "-", "not tested"
            else:
                interval, p = f"[{test['low']:.3f}, {test['high']:.3f}]", _p(test["p_value"])
            accuracy = "-" if test["accuracy"] is None else f"{test['accuracy']:.3f}"
            chance = "-" if test.get("chance") is None else f"{test['chance']:.3f} ({test['raw_accuracy']:.3f})"
            parts.append(f"<tr><td>{escape(label)}</td><td class='number'>{accuracy}</td>"
                         f"<td>{interval}</td><td>{p}</td><td>{chance}</td><td>{test['k']}</td>"
                         f"<td>{test['subjects']}</td><td>{test['n']}</td></tr>")
        parts.append("</table>")
        if declined:
            parts.append(f"<p class='note'>No p-value or interval: {escape(declined[0])}. At that size the test is "
                         "not meaningful; an accuracy, where shown, describes these points only.</p>")
    umap = data["umap"]
    parts.append("<h2>How this page was made</h2><ul>")
    parts.append(f"<li>{data['samples']} samples per model (seed {data['seed']}); feature spaces at the "
                 f"{escape(data['scale'])} scale.</li>")
    parts.append("<li>UMAP (umap-learn " + escape(umap["version"]) + "): " + ", ".join(
        f"{escape(k)}={escape(str(v))}" for k, v in umap["params"].items()) + ".</li>")
    knn = data["knn"]
    parts.append(f"<li>Two-sample test: k-nearest-neighbour majority vote (k as in each table, odd, about 2 sqrt(n)) "
                 "on standardised features; "
                 f"real side: the {escape(str(knn.get('real_split', 'test')))} split, at most "
                 f"{knn.get('per_subject', '-')} slices per subject at random positions; generated points "
                 f"subsampled to as many (or whole real subjects dropped when the generated side is smaller); "
                 f"{knn['folds']} folds by subject (generated points in groups of the same "
                 f"sizes); {knn.get('permutations', '-')} label permutations by subject; no p-value below "
                 "20 subjects.</li>")
    parts.append(f"<li>medgan-zoo {escape(data['version'])}, {escape(data['created'])}. Every number is in "
                 "<code>report.json</code>.</li></ul>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
