"""The losses averaged over each ``log_every`` window: metrics.csv, and TensorBoard on request."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import torch

from ...errors import MedganZooError
from ..callback import Callback, TrainControl, TrainState

METRICS = "metrics.csv"


class MetricsCsv(Callback):
    """Sums the losses on the device every step; at a log step, writes the window's means, the
    images per second and the run's seconds as a row of metrics.csv (``state.metrics``). A resumed
    run keeps the rows up to its checkpoint."""

    order = -80

    def __init__(self) -> None:
        self.rows: list[dict[str, str]] = []
        self.sums: dict[str, torch.Tensor] = {}
        self.window_steps = 0
        self.window_start: float | None = None  # None: from the loop's first step

    def on_start(self, state: TrainState, control: TrainControl) -> None:
        path = state.out / METRICS
        if path.exists() and state.start_step > 0:  # keep what the checkpoint had seen, drop the rest
            with path.open() as handle:
                self.rows = [r for r in csv.DictReader(handle) if int(r["step"]) <= state.start_step]
            state.metrics = self.last_row()

    def on_step(self, state: TrainState, control: TrainControl) -> None:
        for key, value in state.logs.items():
            self.sums[key] = self.sums[key] + value if key in self.sums else value.clone()
        self.window_steps += 1
        if not control.log:
            return
        import time

        sums = self.sums
        began = state.began if self.window_start is None else self.window_start
        if state.world > 1:
            from ..ranks import mean_over_ranks

            sums = mean_over_ranks(sums, state.world)
        now = time.perf_counter()
        row = {"step": state.step, **{k: float(v) / self.window_steps for k, v in sums.items()},
               "images_per_second": state.images_per_step * self.window_steps / max(now - began, 1e-9),
               "seconds": state.earlier_seconds + now - state.began}
        self.rows.append({k: str(v) for k, v in row.items()})
        state.metrics = row
        if state.main:
            write_csv(state.out / METRICS, self.rows)
        self.sums, self.window_steps, self.window_start = {}, 0, now

    def last_row(self) -> dict[str, float]:
        return {k: float(v) for k, v in self.rows[-1].items()} if self.rows else {}


class TensorBoardLog(Callback):
    """Every metrics row as TensorBoard scalars in ``tensorboard/`` (rank 0 only)."""

    order = -70

    def __init__(self) -> None:
        self.board: Any = None

    def on_start(self, state: TrainState, control: TrainControl) -> None:
        if not state.main:
            return
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            raise MedganZooError("tensorboard=True needs the tensorboard package: pip install tensorboard") from None
        self.board = SummaryWriter(str(state.out / "tensorboard"))

    def on_step(self, state: TrainState, control: TrainControl) -> None:
        if self.board is None or not control.log:
            return
        for key, scalar in state.metrics.items():
            if key != "step":
                self.board.add_scalar(key, scalar, state.step)

    def on_close(self, state: TrainState, control: TrainControl) -> None:
        if self.board is not None:
            self.board.close()
            self.board = None


def write_csv(path: Path, rows: list[dict[str, str]]) -> None:
    """All rows, every column any row has, written atomically."""
    columns: list[str] = []
    for row in rows:
        columns += [k for k in row if k not in columns]
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    tmp.replace(path)
