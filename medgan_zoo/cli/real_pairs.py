"""``sample --format nnunet``: generated pairs, and the real ones beside them, as an nnU-Net data set."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click


def write_nnunet(model: Any, out: Path, count: int, *, seed: int | None, batch_size: int | None,
                 options: dict[str, Any], dataset_id: int, name: str, with_real: Path | None,
                 real_dataset: str | None, real_settings: dict[str, Any], real_test: bool, overwrite: bool,
                 class_name: str | None) -> None:
    from ..data.nnunet.real import real_pairs
    from ..data.nnunet.write import existing
    from ..errors import MedganZooError

    out = out.expanduser().resolve()
    existing(out, dataset_id, overwrite, warn=False)  # before reading the real data, which can take a while
    real = held = None
    if with_real is not None:
        real, held = real_pairs(model.info, with_real, real_dataset, real_settings, real_test)
    try:
        folder = model.to_nnunet(out, count, dataset_id=dataset_id, name=name, seed=seed, batch_size=batch_size,
                                 real=real, real_test=held, overwrite=overwrite, **options)
    except (TypeError, ValueError) as exc:
        if not options or isinstance(exc, MedganZooError):
            raise
        hint = "--class" if class_name is not None and "class" in str(exc) else "--set"
        raise click.BadParameter(f"{model.info.gan}: {exc}", param_hint=hint) from None
    real_note = f" and {len(real)} real training pairs" if real is not None else ""
    test_note = f" ({len(held)} real test pairs in imagesTs/labelsTs)" if held is not None else ""
    click.echo(f"wrote {count} generated{real_note} as 2-D cases of {folder}{test_note}; next: "
               f"nnUNetv2_plan_and_preprocess -d {dataset_id} --verify_dataset_integrity (with nnUNet_raw={out})")
