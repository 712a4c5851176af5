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
.grids figure { margin-bottom: 1.2em; } .grids img { width: auto; max-width: 100%; }
.grids figcaption { max-width: none; }
table { border-collapse: collapse; font-size: 0.9em; margin: 0.5em 0; }
td, th { border: 1px solid #ddd; padding: 0.25em 0.6em; text-align: left; }
.note { background: #fff8e1; border-left: 4px solid #f0b400; padding: 0.5em 1em; }
.number { font-weight: 600; }
"""


def _p(value: float) -> str:
    return f"{value:.2g}"


def shared_references(models: list[dict[str, Any]]) -> dict[str, tuple[float, str]]:
    """metric -> (the real data's value, the model whose evaluation measured it): one data set has one
    real-data reference, so a model evaluated without it (SPADE's Dice scored on its pairs only)
    shows the one measured beside another model."""
    found: dict[str, tuple[float, str]] = {}
    protocol: dict[str, tuple[Any, ...]] = {}
    for m in models:
        for name, record in (m.get("metrics") or {}).items():
            reference = (record.get("headline") or {}).get("reference")
            if reference is not None and name not in found:
                found[name] = (reference, m["label"])
                protocol[name] = _protocol(record)
    # a model scored another way (another split, number of seeds) does not borrow it
    return {name: ref for name, ref in found.items()
            if all(_protocol((m.get("metrics") or {}).get(name) or {}) in (protocol[name], ()) for m in models)}


def _protocol(record: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(record.get(k) for k in ("split", "seeds")) if record else ()


def _metrics_table(records: dict[str, Any], shared: dict[str, tuple[float, str]] | None = None) -> str:
    rows = []
    for name, record in records.items():
        head = record.get("headline") or {}
        if not head:
            continue
        value = head.get("value")
        std = head.get("std")
        shown = "-" if value is None else f"{value:.4g}" + (f" ± {std:.2g}" if std else "")
        if record.get("failed"):
            shown = f"failed: {record.get('error', '')}"
        better = {"lower": "↓", "higher": "↑"}.get(head.get("better", ""), "")
        reference = head.get("reference")
        cell = "-" if reference is None else escape(f"{reference:.4g}")
        if reference is None and shared and name in shared:
            cell = escape(f"{shared[name][0]:.4g} (measured with {shared[name][1]}: the same real data)")
        rows.append(f"<tr><td>{escape(name)} {better}</td><td class='number'>{escape(shown)}</td><td>{cell}</td></tr>")
    if not rows:
        return ("<p>No evaluation results were found beside this model "
                "(<code>medgan-zoo evaluate MODEL --out MODEL/evaluation</code> writes them).</p>")
    return ("<table><tr><th>metric (↓ lower / ↑ higher is better)</th><th>this model</th>"
            "<th>reference (real data)</th></tr>"
            + "".join(rows) + "</table>")


def in_words(model: dict[str, Any], spaces: list[dict[str, Any]], shared: dict[str, tuple[float, str]]) -> str:
    """One sentence per model from its numbers: Dice against the real data's, U-Net FD, and how well
    each feature space tells its samples from real ones (with the disagreement said when there is one)."""
    metrics = model.get("metrics") or {}
    said = []
    dice = (metrics.get("dice") or {}).get("headline") or {}
    if dice.get("value") is not None:
        real = dice.get("reference") if dice.get("reference") is not None else shared.get("dice", (None, ""))[0]
        share = f" ({dice['value'] / real:.0%} of the {real:.3f} a U-Net trained on real pairs reaches)" if real else ""
        said.append(f"a U-Net trained on its pairs reaches Dice {dice['value']:.3f} on real test images{share}")
    fd = (metrics.get("unet-fd") or {}).get("headline") or {}
    if fd.get("value") is not None:
        said.append(f"its U-Net feature distance is {fd['value']:.3g} (0: the real features' mean and covariance)")
    told = []
    for space in spaces:
        test = (space.get("tests") or {}).get(model["label"])
        if test and test.get("accuracy") is not None:
            verdict = ("always told apart" if test["accuracy"] >= 0.95 else "often told apart"
                       if test["accuracy"] >= 0.7 else "hardly told apart" if test["accuracy"] >= 0.55
                       else "not told apart")
            shown = min(test["accuracy"], 1.0)  # chance-corrected: a hair above 1 is 1
            told.append(f"{verdict} from real images in {space['name']} features (kNN accuracy {shown:.3f})")
    said += told
    if not said:
        return ""
    text = f"{model['label']}: " + "; ".join(said) + "."
    if fd.get("value") is not None and fd["value"] < 5 and any("always told apart" in t for t in told):
        text += (" A low feature distance beside a kNN accuracy near 1 is no contradiction: the first says the "
                 "features are right on average, the second that single images still differ in a way their "
                 "neighbours reveal.")
    return text


def render(data: dict[str, Any]) -> str:
    """``data``: what report.json holds (title, models, real grid, spaces, notes)."""
    parts = ["<!DOCTYPE html>", "<html lang='en'><head><meta charset='utf-8'>",
             f"<title>{escape(data['title'])}</title><style>{STYLE}</style></head><body>",
             f"<h1>{escape(data['title'])}</h1>",
             f"<p>{escape(data['summary'])}</p>"]
    parts.append("<h2>Fig. 5: generated pairs beside real ones</h2>")
    parts.append("<p>Each tile is an image beside the same image with its mask coloured (legend in each grid). "
                 "Generated samples are the first of the seed; real ones are evenly spaced through the "
                 "training split. Each grid is shown at its own size; click it to open the file.</p>"
                 "<div class='grids'>")
    grids = [(data["real_grid"], "real slices", f"real {data['dataset']} slices")]
    grids += [(m["grid"], f"{m['label']} samples", f"{m['label']}: {m['description']}") for m in data["models"]]
    for src, alt, caption in grids:
        parts.append(f"<figure><a href='{escape(src)}'><img src='{escape(src)}' alt='{escape(alt)}'></a>"
                     f"<figcaption>{escape(caption)}</figcaption></figure>")
    parts.append("</div>")
    parts.append("<h2>Metrics</h2>")
    shared = shared_references(data["models"])
    for m in data["models"]:
        parts.append(f"<h3>{escape(m['label'])}</h3>")
        sentence = in_words(m, data["spaces"], shared)
        if sentence:
            parts.append(f"<p>{escape(sentence)}</p>")
        if m.get("metrics_source"):
            parts.append(f"<p>From <code>{escape(m['metrics_source'])}</code>.</p>")
        parts.append(_metrics_table(m.get("metrics", {}), shared))
    parts.append("<p>What the measures say, and why they can disagree: <b>Dice</b> asks whether a U-Net trained on "
                 "the model's pairs segments real images (usefulness as training data); <b>U-Net FD</b> compares "
                 "the mean and covariance of all images' features with the real ones' (the distribution on "
                 "average); the <b>kNN two-sample test</b> of Fig. 6 asks whether single images can be told from "
                 "their real neighbours. A model can match the real features on average (a low FD) while every "
                 "image still carries a small, consistent tell (a texture, a missing detail) that a "
                 "neighbour-based test finds every time (an accuracy near 1): both are then true at once.</p>")
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
    parts += _memorisation(data["models"])
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


def _memorisation(models: list[dict[str, Any]]) -> list[str]:
    """Per model: its near-copy fraction beside the real test images', the ECDF of distance ratios
    and the closest pairs."""
    shown = [m for m in models if m.get("memorisation")]
    if not shown:
        return []
    first = shown[0]["memorisation"]
    parts = ["<h2>Memorisation: are the samples new images or copies of training ones?</h2>",
             "<p>For every sample, the distance to its nearest training image; for every real test image (subjects "
             "no model saw), the same distance. Both are divided by the test images' median, so the real test curve "
             "(grey) passes 1 at its middle. A model that draws new images like the real ones has a curve on top of "
             "the grey one; a curve shifted to the left holds images closer to training images than new images of "
             "new subjects are. A <b>near-copy</b> is a sample at most as far from a training image as the k-th "
             f"closest of the m test images (the dotted line; k = max(1, floor({first['copy_quantile']:.3g} (m + 1))))"
             ": a model whose samples are drawn like the test images scores k / (m + 1) near-copies on average "
             "(<i>expected</i>), one that returns its training set 100% (a low FID cannot tell them apart). "
             "<i>Real test</i> is the test images' own rate, each subject against the threshold of the other "
             "subjects' images: a subject's slices are not independent, so with few test subjects this rate, and the "
             "threshold, vary more than the number of images suggests. The numbers describe these samples; no "
             f"test is made. Distances in {escape(first['features'])} space.</p>",
             "<table><tr><th>model</th><th>near-copies</th><th>expected k / (m + 1)</th><th>real test</th>"
             "<th>median ratio</th><th>samples</th><th>real test images (subjects)</th></tr>"]
    for m in shown:
        r = m["memorisation"]
        own = r.get("real_test_near_copy_fraction")
        parts.append(f"<tr><td>{escape(m['label'])}</td><td class='number'>{r['near_copy_fraction']:.1%}</td>"
                     f"<td>{r['expected_near_copy_fraction']:.1%}</td><td>{'-' if own is None else f'{own:.1%}'}</td>"
                     f"<td>{r['ratio']:.3g}</td><td>{r['samples']}</td>"
                     f"<td>{r['test_images']} ({r.get('test_subjects') or '-'})</td></tr>")
    parts.append("</table>")
    for m in shown:
        r = m["memorisation"]
        parts.append(f"<h3>{escape(m['label'])}: memorisation</h3><div class='row'>")
        parts.append(f"<figure><img src='{escape(r['figure'])}' alt='{escape(m['label'])} nearest-training "
                     "distance ratios'><figcaption>Distance to the nearest training image over the real test "
                     "median: samples against real test images.</figcaption></figure>")
        if r.get("pairs"):
            parts.append(f"<figure><a href='{escape(r['pairs'])}'><img src='{escape(r['pairs'])}' "
                         f"alt='{escape(m['label'])} closest pairs'></a><figcaption>Its closest samples (left) beside "
                         "their nearest training images (right), nearest first.</figcaption></figure>")
        parts.append("</div>")
    return parts
