"""Features of real data sets, cached on disk under a key of the split's own cache key (its sources
and preprocessing) and the feature extractor (e.g. the Inception weights' sha256)."""

from __future__ import annotations

import hashlib
import json
import warnings
from collections.abc import Callable

from torch import Tensor

from ..atomic import atomic_write
from ..data.cache import cache_root
from ..distributed import every_rank


def cached_features(dataset, extractor: str, compute: Callable[[], Tensor]) -> Tensor:
    """``compute()`` of ``dataset`` (a SliceDataset) for ``extractor``, from the cache when present."""
    from safetensors.torch import load_file, save_file

    material = {"dataset": dataset.name, "split": dataset.split, "data": dataset.info.get("cache_key"),
                "extractor": extractor}
    key = hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()[:32]
    path = cache_root() / "features" / f"{key}.safetensors"
    cached = None
    if path.exists():
        try:
            cached = load_file(str(path))["features"]
        except Exception as exc:
            warnings.warn(f"unreadable feature cache {path} ({exc}); recomputing", stacklevel=2)
            path.unlink(missing_ok=True)
    # under torchrun the ranks compute together: all of them use the cache, or none does
    if every_rank(cached is not None):
        assert cached is not None
        return cached
    features = compute()
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        atomic_write(path, lambda tmp: save_file({"features": features.contiguous()}, str(tmp),
                                                 metadata={"key": json.dumps(material)}))
    except OSError as exc:
        warnings.warn(f"could not cache features at {path}: {exc}", stacklevel=2)
    return features
