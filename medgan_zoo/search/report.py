"""``sweep report``: the paper's Figs. 3 and 4 and what a search needs beside them.

For one study or several (GANs x data sets): every trial as CSV and Markdown; Fig. 3 (the
objective of every trial per GAN and data set, box and points); Fig. 4 (the objective against the
discriminator's filters); parameter importances, the objective over trials, the Pareto front of a
two-objective study; the best trial's settings and sample grid.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

from ..errors import ConfigError
from .settings import SweepSettings
from .status import format_table, open_existing, study_rows

REPORT_FILE = "report.md"


class _Study:
    def __init__(self, name: str, storage: str | None):
        import optuna

        folder = None
        if Path(name).is_dir() and (Path(name) / "study.json").exists():  # a study folder given as NAME
            folder = Path(name)
            name = json.loads((folder / "study.json").read_text())["study"]
        self.opened, self.folder, self.settings = open_existing(name, storage, folder)
        self.name = name
        self.study = optuna.load_study(study_name=name, storage=self.opened.optuna)
        self.rows, self.best = study_rows(self.opened, name)

    @property
    def s(self) -> SweepSettings:
        return self.settings

    def values(self, metric: str, states: tuple[str, ...] = ("complete",)) -> list[float]:
        return [r[metric] for r in self.rows if r["state"] in states and r.get(metric) is not None]


def write_report(names: list[str], out: str | Path, storage: str | None = None) -> Path:
    """Write the report of the studies ``names`` (names or study folders) into ``out``."""
    import matplotlib

    matplotlib.use("Agg")
    out = Path(out)
    if out.exists() and any(out.iterdir()) and not (out / REPORT_FILE).exists():
        raise ConfigError(f"{out} exists and is not a sweep report folder; choose another --out")
    studies = [_Study(n, storage) for n in names]
    objective = studies[0].s.objectives[0]
    others = [st.name for st in studies if st.s.objectives[0] != objective]
    if others:
        raise ConfigError(f"studies {', '.join(others)} optimise another objective than {objective!r}: "
                          "report them separately")
    out.mkdir(parents=True, exist_ok=True)
    _write_csv(studies, out / "trials.csv")
    lines = [f"# Hyper-parameter search: {', '.join(st.name for st in studies)}", ""]
    lines += _figures(studies, objective, out)
    for st in studies:
        lines += _study_section(st, out)
    (out / REPORT_FILE).write_text("\n".join(lines) + "\n")
    return out / REPORT_FILE


def _write_csv(studies: list[_Study], path: Path) -> None:
    rows = [{"study": st.name, "gan": st.s.gan, "dataset": st.s.dataset, **r} for st in studies for r in st.rows]
    columns: list[str] = []
    for r in rows:
        columns += [k for k in r if k not in columns]
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)


def _figures(studies: list[_Study], objective: str, out: Path) -> list[str]:
    import matplotlib.pyplot as plt
    import numpy as np

    lines = ["## Fig. 3: every trial's objective, per GAN and data set", ""]
    datasets = sorted({st.s.dataset for st in studies})
    fig, axes = plt.subplots(1, len(datasets), figsize=(4.5 * len(datasets), 4.3), squeeze=False)
    rng = np.random.default_rng(0)
    for ax, dataset in zip(axes[0], datasets, strict=True):
        group = [st for st in studies if st.s.dataset == dataset]
        data = [st.values(objective) for st in group]
        ax.boxplot([d if d else [np.nan] for d in data], showfliers=False)
        ax.set_xticks(range(1, len(group) + 1), [_tick(st) for st in group], fontsize=8)
        scored = [v for st in group for v in st.values(objective, ("complete", "pruned", "fail"))]
        top = max(scored) if scored else 1.0
        spread = (top - min(scored)) if len(scored) > 1 else 1.0
        unscored_y = top + 0.08 * (spread or 1.0)  # above the axis break
        for i, (st, d) in enumerate(zip(group, data, strict=True), start=1):
            ax.scatter(i + rng.uniform(-0.15, 0.15, len(d)), d, s=14, alpha=0.7, color="C0",
                       label="completed (the box)" if i == 1 else None)
            pruned = st.values(objective, ("pruned",))
            ax.scatter(i + rng.uniform(-0.15, 0.15, len(pruned)), pruned, s=14, facecolors="none",
                       edgecolors="C3", label="pruned (last score)" if pruned else None)
            failed = st.values(objective, ("fail",))
            ax.scatter(i + rng.uniform(-0.15, 0.15, len(failed)), failed, s=22, marker="x", color="C3",
                       label="failed (last score)" if failed else None)
            unscored = [r for r in st.rows if r["state"] == "fail" and r.get(objective) is None]
            ax.scatter(i + rng.uniform(-0.15, 0.15, len(unscored)), [unscored_y] * len(unscored), s=22, marker="x",
                       color="0.3", label="failed before a score" if unscored else None, clip_on=False)
        if any(r["state"] == "fail" and r.get(objective) is None for st in group for r in st.rows):
            ax.axhline(top + 0.04 * (spread or 1.0), color="0.6", linestyle=":", linewidth=0.8)
        ax.set_title(dataset)
        ax.set_ylabel(objective)
        handles, names = ax.get_legend_handles_labels()
        unique = dict(zip(names, handles, strict=True))
        ax.legend(unique.values(), unique.keys(), fontsize=7)
    fig.tight_layout()
    fig.savefig(out / "fig3_objective_per_gan.png", dpi=120)
    plt.close(fig)
    methods = sorted({f"{st.s.sampler} sampler, {st.s.pruner} pruner" for st in studies})
    counts = "; ".join(f"{st.s.gan} on {st.s.dataset}: {_counts(st)}" for st in studies)
    lines += ["![Fig. 3](fig3_objective_per_gan.png)", "",
              f"Boxes are of **completed trials only**; every trial is a point: completed (blue), pruned at its "
              f"last score (hollow red), failed at its last score (red x) or, failed before any score, above the "
              f"dotted line (grey x). Trials: {counts}. Search: {', '.join(methods)}; a pruner stops poor trials "
              "early and a TPE sampler concentrates on good regions, so the boxes show the search's trials, not "
              "the space's spread: for the paper's sensitivity figure use `--sampler random --pruner none` "
              "(docs/sweep.md). A wide box is a GAN sensitive to its hyper-parameters.", ""]

    lines += ["## Fig. 4: objective against the discriminator's filters", ""]
    with_filters = [st for st in studies if any("param:d_filters" in r for r in st.rows)]
    if not with_filters:
        fixed = [f"{st.name} fixed it to {st.s.fixed['d_filters']}" for st in studies if "d_filters" in st.s.fixed]
        why = "; ".join(fixed) if fixed else "their search spaces have no `d_filters`"
        lines += [f"No figure: no study searched `d_filters` ({why}). Fig. 4 needs a study whose space varies it, "
                  "as Table 1's does; a CPU-sized recipe that fixes it to keep trials small cannot draw it.", ""]
    else:
        fig, axes = plt.subplots(1, len(datasets), figsize=(4.5 * len(datasets), 4), squeeze=False)
        for ax, dataset in zip(axes[0], datasets, strict=True):
            for k, st in enumerate(s for s in with_filters if s.s.dataset == dataset):
                pts = [(r["param:d_filters"], r[objective]) for r in st.rows
                       if r["state"] == "complete" and "param:d_filters" in r and r.get(objective) is not None]
                if pts:
                    x, y = zip(*pts, strict=True)
                    ax.scatter(np.log2(np.array(x, dtype=float)) + rng.uniform(-0.1, 0.1, len(x)), y, s=14,
                               color=f"C{k}", label=st.s.gan, alpha=0.7)
            ticks = [16, 32, 64, 128]
            ax.set_xticks(np.log2(ticks), [str(t) for t in ticks])
            ax.set_xlabel("discriminator filters")
            ax.set_ylabel(objective)
            ax.set_title(dataset)
            ax.legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(out / "fig4_objective_vs_d_filters.png", dpi=120)
        plt.close(fig)
        lines += ["![Fig. 4](fig4_objective_vs_d_filters.png)", ""]
    return lines


def _counts(st: _Study) -> str:
    states = [r["state"] for r in st.rows]
    parts = [f"{states.count(state)} {state}" for state in ("complete", "pruned", "fail") if state in states]
    return ", ".join(parts).replace("complete", "completed").replace("fail", "failed") or "none"


def _tick(st: _Study) -> str:
    states = [r["state"] for r in st.rows]
    done, pruned, failed = (states.count(state) for state in ("complete", "pruned", "fail"))
    return f"{st.s.gan}\n{done} done, {pruned} pruned, {failed} failed"


def _study_section(st: _Study, out: Path) -> list[str]:
    import matplotlib.pyplot as plt

    s = st.s
    lines = [f"## {st.name}: {s.gan} on {s.dataset} ({s.resolution}px, {s.steps} steps per trial)", "",
             f"Objective: {', '.join(f'{m} ({d})' for m, d in zip(s.objectives, s.directions, strict=True))}, "
             f"{s.scale} scale; sampler {s.sampler}, pruner {s.pruner if s.prunes else 'none'}; storage "
             f"{st.opened.shown}; space {Path(s.space_source).name or 'Table 1'}.", ""]
    complete = [r for r in st.rows if r["state"] == "complete"]
    # the objective over trials, with the best so far
    if complete:
        m, better = s.objectives[0], min if s.directions[0] == "minimize" else max
        fig, ax = plt.subplots(figsize=(5, 3.2))
        x = [r["trial"] for r in complete]
        y = [r[m] for r in complete]
        running = [better(y[: i + 1]) for i in range(len(y))]
        ax.scatter(x, y, s=14, label="completed")
        pruned = [(r["trial"], r[m]) for r in st.rows if r["state"] == "pruned" and r.get(m) is not None]
        if pruned:
            ax.scatter(*zip(*pruned, strict=True), s=14, facecolors="none", edgecolors="C3",
                       label="pruned (last score)")
        ax.step(x, running, where="post", color="C1", label="best so far")
        from matplotlib.ticker import MaxNLocator

        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # trials are whole numbers
        ax.set_xlabel("trial")
        ax.set_ylabel(m)
        ax.legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(out / f"history_{st.name}.png", dpi=120)
        plt.close(fig)
        lines += [f"![history](history_{st.name}.png)", ""]
    lines += _importances(st, out)
    if s.multi and complete:
        lines += _pareto(st, out)
    for row in st.best[:1] if not s.multi else st.best:
        lines += [f"**Best trial {row['trial']}** ({', '.join(f'{m} {row[m]:.4g}' for m in s.objectives)}), "
                  f"folder `{st.folder / row['folder']}`:", ""]
        lines += [f"- `{k.removeprefix('param:')}` = {v}" for k, v in row.items() if k.startswith("param:")]
        grid = st.folder / row["folder"] / "samples.png"
        if grid.exists():
            name = f"best_{st.name}_{row['trial']}.png"
            shutil.copy2(grid, out / name)
            lines += ["", f"![best trial's samples]({name})"]
        lines += ["", "Its Figs. 5-6 (samples beside real slices, UMAP of U-Net and Inception features): "
                  f"`medgan-zoo report {st.folder / row['folder']} --dataset {s.dataset} --out DIR`"
                  + (" (add the study's `--set dataset.KEY=VALUE`)" if s.dataset_config else ""), ""]
    lines += ["### Every trial", "", format_table(st.rows, s.objectives), ""]
    failed = [r for r in st.rows if r["state"] == "fail" and r.get("reason")]
    lines += [f"- trial {r['trial']} failed: {r['reason']}" for r in failed]
    return lines + [""]


def _importances(st: _Study, out: Path) -> list[str]:
    import matplotlib.pyplot as plt
    import optuna

    complete = [r for r in st.rows if r["state"] == "complete"]
    if len(complete) < 3:
        return [f"Parameter importances need at least 3 completed trials ({len(complete)} so far).", ""]
    import warnings

    sign = 1.0 if st.s.directions[0] == "minimize" else -1.0  # PED-ANOVA ranks what makes the target low
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            importances = optuna.importance.get_param_importances(
                st.study, evaluator=optuna.importance.PedAnovaImportanceEvaluator(),
                target=lambda t: sign * t.values[0])
    except (RuntimeError, ValueError) as exc:
        return [f"Parameter importances could not be computed: {exc}", ""]
    if not importances:
        return ["No parameter varied, so there are no importances.", ""]
    names, values = list(importances)[::-1], list(importances.values())[::-1]
    fig, ax = plt.subplots(figsize=(5, 0.3 * len(names) + 1))
    ax.barh(names, values)
    ax.set_xlabel(f"importance for {st.s.objectives[0]} (PED-ANOVA)")
    fig.tight_layout()
    fig.savefig(out / f"importances_{st.name}.png", dpi=120)
    plt.close(fig)
    return [f"![importances](importances_{st.name}.png)", ""]


def _pareto(st: _Study, out: Path) -> list[str]:
    import matplotlib.pyplot as plt

    a, b = st.s.objectives
    complete = [r for r in st.rows if r["state"] == "complete"]
    front = {r["trial"] for r in st.best}
    fig, ax = plt.subplots(figsize=(4.5, 3.5))
    ax.scatter([r[a] for r in complete if r["trial"] not in front],
               [r[b] for r in complete if r["trial"] not in front], s=14, color="C0", label="trial")
    ax.scatter([r[a] for r in complete if r["trial"] in front], [r[b] for r in complete if r["trial"] in front],
               s=24, color="C3", label="Pareto front")
    ax.set_xlabel(f"{a} ({st.s.directions[0]})")
    ax.set_ylabel(f"{b} ({st.s.directions[1]})")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out / f"pareto_{st.name}.png", dpi=120)
    plt.close(fig)
    return [f"![Pareto front](pareto_{st.name}.png)", "",
            f"The trials no other trial beats on both {a} and {b}: where they disagree, as the paper found.", ""]
