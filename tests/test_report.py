"""The HTML report (Figs. 5 and 6): the kNN two-sample number, a tiny model's page at quick scale
(self-contained, every referenced file present, the figures and numbers on it), bad input, and the
page in a real browser (Debian's chromium driven by Playwright) loading nothing outside its folder."""

from __future__ import annotations

import json
import os
import re
from html import unescape
from pathlib import Path

import numpy as np
import pytest
import torch

import medgan_zoo as zoo
from medgan_zoo.errors import ConfigError

pytest.importorskip("umap")

DATA = {"train_subjects": 2, "test_subjects": 1}
# the report's real side is the test split: 20 subjects, the fewest the two-sample test accepts
REPORT_DATA = {"train_subjects": 2, "test_subjects": 20}
TINY = {"g_filters": 8, "d_filters": 8, "latent_dim": 8, "batch_size": 4}
# the reference U-Net of the report's U-Net space, small (the U-Net FD metric's settings: same cache)
UNET = {"unet-fd": {"steps": 10, "encoder_depth": 3, "decoder_channels": [8, 8, 8]}}


def test_the_two_sample_number_is_half_for_one_distribution_and_one_for_two():
    from medgan_zoo.reporting import knn_two_sample

    rng = np.random.default_rng(0)
    same = knn_two_sample(rng.normal(size=(300, 16)), rng.normal(size=(300, 16)))
    assert 0.4 < same.accuracy < 0.6 and same.low < 0.5 < same.high and same.p_value > 0.01
    apart = knn_two_sample(rng.normal(size=(300, 16)), rng.normal(size=(200, 16)) + 2.0)
    assert apart.accuracy > 0.95 and apart.low > 0.9 and apart.n == 400  # balanced: 200 + 200
    few = knn_two_sample(rng.normal(size=(5, 4)), rng.normal(size=(50, 4)))  # 5 subjects: described, not tested
    assert few.p_value is None and few.low is None and "fewer than the 20" in few.note and few.accuracy is not None
    one = knn_two_sample(rng.normal(size=(4, 4)), rng.normal(size=(50, 4)), subjects=[0, 0, 0, 0])
    assert one.accuracy is None and "too few to cross-validate by subject" in one.text()
    with pytest.raises(ValueError, match="same D"):
        knn_two_sample(rng.normal(size=(30, 4)), rng.normal(size=(50, 3)))


def _train(out: Path, dataset: str = "acdc-phantom", resolution: int = 32, data: dict | None = None) -> Path:
    zoo.train("dcgan", dataset, out=out, resolution=resolution, steps=2, gan_config=TINY,
              dataset_config=DATA if data is None else data, progress=False)
    return out


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    first, second = _train(root / "first"), _train(root / "second")
    zoo.evaluate(first, "acdc-phantom", ["unet-fd"], n=24, scale="quick", dataset_config=DATA, metric_config=UNET,
                 out=first / "evaluation", progress=False)
    return first, second


@pytest.fixture(scope="module")
def page(models, tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "report"
    hub = tmp_path_factory.mktemp("hub")
    old = os.environ.pop("MEDGAN_ZOO_INCEPTION_WEIGHTS", None)

    real_hub, torch.hub.get_dir = torch.hub.get_dir, lambda: str(hub)  # no Inception weights here
    try:
        zoo.report(list(models), "acdc-phantom", out=out, n=24, dataset_config=REPORT_DATA, metric_config=UNET,
                   progress=False, permutations=200)
    finally:
        torch.hub.get_dir = real_hub
        if old is not None:
            os.environ["MEDGAN_ZOO_INCEPTION_WEIGHTS"] = old
    return out


def _references(html: str) -> list[str]:
    return re.findall(r"""(?:src|href)\s*=\s*['"]([^'"]+)['"]""", html)


def test_the_page_is_self_contained_and_holds_the_figures_and_numbers(page, models):
    raw = (page / "index.html").read_text()
    refs = _references(raw)  # no scheme (http:, file:, data:): files beside the page, all present
    assert refs and all(not re.match(r"[a-z]+:", r) and (page / r).is_file() for r in refs), refs
    assert "<script" not in raw and "@import" not in raw and "url(" not in raw
    html = unescape(raw)
    for name in ("real.png", "fig5_first.png", "fig5_second.png", "fig6_unet.png"):
        assert name in refs and (page / name).stat().st_size > 2000, name
    data = json.loads((page / "report.json").read_text())
    (space,) = data["spaces"]  # no Inception weights: the U-Net space only, and the page says why
    assert space["name"] == "unet" and "Inception's feature space is not shown" in html
    for label, test in space["tests"].items():
        # 24 samples against 20 test subjects' slices: the generated side sets the size
        assert test["subjects"] >= 5 and test["n"] == 48 and test["p_value"] is None  # < 20 subjects kept
        assert f"<td>{label}</td><td class='number'>{test['accuracy']:.3f}</td><td>-</td><td>not tested</td>" in html
    assert "fewer than the 20 it needs" in html and data["knn"]["real_split"] == "test"
    assert data["umap"]["params"] == {"n_neighbors": 15, "min_dist": 0.1, "metric": "euclidean", "random_state": 0}
    fd = json.loads((models[0] / "evaluation" / "evaluation.json").read_text())["unet-fd"]["headline"]["value"]
    assert f"{fd:.4g}" in html  # the first model's evaluation results are on the page
    assert "No evaluation results were found beside this model" in html  # the second has none
    assert "<a href='fig5_first.png'><img src='fig5_first.png'" in raw  # each grid at its size, a link to it
    assert f"first: its U-Net feature distance is {fd:.3g}" in html  # a sentence per model, from its numbers
    assert "What the measures say, and why they can disagree" in html


class FreshPhantomSubjects:
    """A perfect "generator": one slice from each of many phantom subjects that neither it nor the
    reference U-Net ever saw (another seed)."""

    def __init__(self, info) -> None:
        self.info = info

    def sample(self, n, seed=0, device=None):
        from medgan_zoo.sampling import Samples

        fresh = zoo.load_dataset("acdc-phantom", None, "train", 32, train_subjects=n, test_subjects=1, seed=1000 + seed)
        generator = np.random.default_rng(seed)
        rows = [int(generator.choice(fresh.subject_slices(s).numpy())) for s in fresh.subject_ids]
        return Samples(fresh.images[rows], fresh.masks[rows], seed, fresh.label_map)


def test_a_perfect_generator_is_not_called_distinguishable(models, tmp_path):
    perfect = FreshPhantomSubjects(zoo.load(models[0]).info)
    data = {"train_subjects": 2, "test_subjects": 30}
    zoo.report([perfect], "acdc-phantom", out=tmp_path / "r", n=120, dataset_config=data, metric_config=UNET,
               progress=False, permutations=500)
    (test,) = json.loads((tmp_path / "r" / "report.json").read_text())["spaces"][0]["tests"].values()
    assert test["subjects"] == 30 and test["n"] == 240 and test["p_value"] > 0.05, test
    assert test["low"] <= 0.5 <= test["high"]
    html = unescape((tmp_path / "r" / "index.html").read_text())
    assert f"<td class='number'>{test['accuracy']:.3f}</td><td>[{test['low']:.3f}, {test['high']:.3f}]</td>" in html
    # new subjects are as far from the training images as the real test subjects: about 1% near-copies
    panel = json.loads((tmp_path / "r" / "report.json").read_text())["models"][0]["memorisation"]
    assert panel["near_copy_fraction"] <= 0.05 and 0.7 < panel["ratio"] < 1.4, panel
    m = panel["test_images"]  # the k-th closest of m, k = max(1, floor(0.01 (m + 1)))
    assert panel["expected_near_copy_fraction"] == max(1, int(0.01 * (m + 1))) / (m + 1)


class TrainingCopier(FreshPhantomSubjects):
    """A generator that returns its training slices: every sample a near-copy."""

    def sample(self, n, seed=0, device=None):
        from medgan_zoo.sampling import Samples

        real = zoo.load_dataset("acdc-phantom", None, "train", 32, **DATA)
        rows = torch.arange(n) % len(real)
        return Samples(real.images[rows], real.masks[rows], seed, real.label_map)


def test_the_memorisation_panel_shows_a_copier_as_all_near_copies(models, tmp_path):
    copier = TrainingCopier(zoo.load(models[0]).info)
    zoo.report([copier, models[1]], "acdc-phantom", out=tmp_path / "r", n=24, dataset_config=REPORT_DATA,
               metric_config={**UNET, "memorisation": {"pairs": 2}}, progress=False, permutations=50)
    data = json.loads((tmp_path / "r" / "report.json").read_text())
    copied, model = (m["memorisation"] for m in data["models"])
    assert copied["near_copy_fraction"] == 1.0 and copied["ratio"] < 1e-5  # distances 0 up to rounding
    assert model["near_copy_fraction"] < 1.0 and model["ratio"] > 0
    html = unescape((tmp_path / "r" / "index.html").read_text())
    expected = f"{copied['expected_near_copy_fraction']:.1%}"
    assert f"<td>dcgan</td><td class='number'>100.0%</td><td>{expected}</td>" in html
    assert (tmp_path / "r" / copied["figure"]).is_file() and (tmp_path / "r" / copied["pairs"]).is_file()


def test_with_inception_weights_both_spaces_are_shown(models, random_inception, tmp_path):
    with pytest.warns(UserWarning, match="not the 2015-12-05 Inception"):
        zoo.report([models[0]], "acdc-phantom", out=tmp_path / "r", n=24, dataset_config=DATA, metric_config=UNET,
                   inception_weights=random_inception, progress=False)
    data = json.loads((tmp_path / "r" / "report.json").read_text())
    assert [s["name"] for s in data["spaces"]] == ["unet", "inception"] and not data["notes"]
    assert (tmp_path / "r" / "fig6_inception.png").stat().st_size > 2000


def test_bad_input_is_refused_with_names(models, tmp_path):
    other = _train(tmp_path / "at64", resolution=64)
    with pytest.raises(ConfigError, match=r"one data set and resolution; got first \(acdc-phantom, 32px\), at64 "
                                          r"\(acdc-phantom, 64px\)"):
        zoo.report([models[0], other], "acdc-phantom", out=tmp_path / "r", dataset_config=DATA, progress=False)
    liver = _train(tmp_path / "liver", dataset="sliver07-phantom",
                   data={"volumes": 3, "test_volumes": [3], "slices_per_volume": 8})
    with pytest.raises(ConfigError, match="liver's label map .* differs from acdc-phantom's"):
        zoo.report([liver], "acdc-phantom", out=tmp_path / "r", dataset_config=DATA, progress=False)
    with pytest.raises(ConfigError, match="UMAP with 15 neighbours needs more samples per model: -n 16 at least"):
        zoo.report([models[0]], "acdc-phantom", out=tmp_path / "r", n=10, progress=False)
    with pytest.raises(ConfigError, match="metric 'memorisation'.*unknown key 'copy_quantle'.*'copy_quantile'"):
        zoo.report([models[0]], "acdc-phantom", out=tmp_path / "r", metric_config={"memorisation": {
            "copy_quantle": 0.1}}, progress=False)
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "notes.txt").write_text("mine")
    with pytest.raises(ConfigError, match="exists and is not a report folder"):
        zoo.report([models[0]], "acdc-phantom", out=tmp_path / "taken", progress=False)
    assert (tmp_path / "taken" / "notes.txt").read_text() == "mine"


def test_missing_extra_is_named(monkeypatch):
    import importlib.util

    from medgan_zoo.reporting.needs import require_report

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "umap" else real(name, *a))
    with pytest.raises(zoo.MedganZooError, match=r"umap-learn: pip install 'medgan-zoo\[report\]'"):
        require_report()


def test_a_real_browser_shows_the_page_and_fetches_nothing_outside_it(page, chromium):
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    requested: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        tab = browser.new_page()
        tab.on("request", lambda request: requested.append(request.url))
        tab.goto((page / "index.html").resolve().as_uri())
        tab.wait_for_load_state("load")
        widths = tab.eval_on_selector_all("img", "images => images.map(i => i.naturalWidth)")
        heading = tab.inner_text("h1")
        browser.close()
    assert widths and all(w > 0 for w in widths)  # every figure decoded
    assert "medgan-zoo report" in heading
    inside = (page.resolve().as_uri() + "/")
    assert requested and all(url.startswith(inside) for url in requested), requested


def test_every_long_stage_of_the_report_speaks_in_its_log(models, tmp_path):
    out = tmp_path / "spoken"
    zoo.report(list(models), "acdc-phantom", out=out, n=24, dataset_config=REPORT_DATA, metric_config=UNET,
               permutations=50, inception_weights=None)
    log = (out / "report.log").read_text()
    for stage in ("sampling 24 pairs", "unet space: features of", "unet space: two-sample test of",
                  "unet space: UMAP of", "report: unet space 6/6"):
        assert stage in log, stage
