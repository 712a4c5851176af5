"""Numbers say what they are worth at their size: Fréchet distances carry both sample sizes and a flag
below 2,048, Dice cells their seeds, and Table 2 marks what it cannot rank."""

from __future__ import annotations

from medgan_zoo.evaluation.sample_size import RANKING_SAMPLES, frechet_sizes
from medgan_zoo.evaluation.study import _write_tables


def test_frechet_records_carry_sizes_rank_and_a_flag():
    small = frechet_sizes(256, 54, 2048)
    assert small["n_generated"] == 256 and small["n_real"] == 54 and small["small_sample"]
    assert small["covariance"].startswith("singular: 54 samples for 2048 dimensions")
    assert "not for ranking" in small["note"] and "KID" in small["note"]
    large = frechet_sizes(10_000, 2_500, 2048)
    assert not large["small_sample"] and large["covariance"] == "full rank" and "note" not in large
    assert frechet_sizes(RANKING_SAMPLES, RANKING_SAMPLES, 2048)["small_sample"] is False


def test_table2_marks_small_fids_single_seeds_and_overlapping_spreads(tmp_path):
    rows = [
        {"dataset": "d", "source": "a", "masks": "m", "dice": 0.80, "dice_std": 0.02, "dice_seeds": 3,
         "fid": 40.0, "fid_std": None, "fid_small_sample": True},
        {"dataset": "d", "source": "b", "masks": "m", "dice": 0.78, "dice_std": 0.03, "dice_seeds": 3,
         "fid": 50.0, "fid_std": None},
        {"dataset": "d", "source": "c", "masks": "m", "dice": 0.60, "dice_std": 0.01, "dice_seeds": 3},
        {"dataset": "d", "source": "e", "masks": "m", "dice": 0.70, "dice_std": None, "dice_seeds": 1},
    ]
    meta = {"scale": "quick", "steps": 10, "resolution": 32, "samples": 8, "metrics": ["dice", "fid"],
            "columns": {"dice": "Dice", "fid": "FID"}, "better": {"dice": "higher", "fid": "lower"},
            "paper_source": "-"}
    _write_tables(tmp_path, rows, meta)
    text = (tmp_path / "table2.md").read_text()
    assert "| d | a | m | – | 0.8 ± 0.020 (3 seeds) ≈ | 40 † |" in text  # best, overlapping b
    assert "| d | b | m | – | 0.78 ± 0.030 (3 seeds) ≈ | 50 |" in text
    assert "| d | c | m | – | 0.6 ± 0.010 (3 seeds) |" in text  # clearly below the best: unmarked
    assert "| d | e | m | – | 0.7 (1 seed) |" in text
    assert "† Fewer than 2,048 samples" in text and "≈ The best row" in text and "(1 seed): no spread" in text
