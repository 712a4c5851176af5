"""``medgan-zoo turing-test``: the visual Turing test (create, serve, status, report)."""

from __future__ import annotations

from pathlib import Path

import click

from . import options as opt


def _require() -> None:
    from ..turing.needs import require_turing

    require_turing()


@click.group("turing-test", cls=opt.Group)
def turing_group() -> None:
    """Blinded reader studies (paper 4.3): a local web app with a link per rater, and their statistics."""


@turing_group.command("create")
@click.argument("model")
@click.option("--dataset", required=True, help="Data set whose test split gives the real images.")
@opt.data_root
@click.option("-n", "count", type=int, default=100, show_default=True, help="Scored images (real + generated).")
@click.option("--real-fraction", type=float, default=0.5, show_default=True)
@click.option("--raters", type=int, default=4, show_default=True, help="Raters; each gets a personal link.")
@click.option("--practice", type=int, default=4, show_default=True,
              help="Practice images with feedback before the scored block (half real, half generated).")
@click.option("--seed", type=int, help="Seed of the images and orders (default: random; stored only in the study's "
              "database, beside the answer key).")
@click.option("--device", help="cpu, cuda ... (default: CUDA when available).")
@click.option("--set", "settings", multiple=True, metavar="dataset.KEY=VALUE", help="A dataset config field.")
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), required=True, help="Study folder.")
def turing_create(model: str, dataset: str, data_root: Path | None, count: int, real_fraction: float, raters: int,
                  practice: int, seed: int | None, device: str | None, settings: tuple[str, ...], out: Path) -> None:
    """Draw a blinded study from MODEL and the data set's test split; print each rater's link."""
    _require()
    from ..turing.create import create_study

    _, dataset_config = opt.metric_settings(settings)
    created = create_study(model, dataset, out=out, n=count, real_fraction=real_fraction, raters=raters,
                           seed=seed, practice=practice, data_root=data_root, dataset_config=dataset_config,
                           device=device)
    click.echo(f"study created in {created.folder}; serve it with `medgan-zoo turing-test serve {created.folder}`. "
               "Each rater's personal link (send each one only their own):")
    for name, path in created.links.items():
        click.echo(f"  {name}: http://127.0.0.1:8765{path}")
    click.echo("(with --host/--port, or behind a reverse proxy, the links keep their path: docs/turing-test.md)")
    if count < 50:
        from ..turing.power import guidance

        click.echo(f"note: {guidance(count, real_fraction)}; 50 or more images find a rater at 0.8 almost always")


@turing_group.command("serve")
@click.argument("study", type=click.Path(path_type=Path, file_okay=False, exists=True))
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to bind (0.0.0.0 exposes it to the network: read docs/turing-test.md first).")
@click.option("--port", type=int, default=8765, show_default=True)
def turing_serve(study: Path, host: str, port: int) -> None:
    """Serve the rater pages of STUDY until Ctrl-C (every answer is committed as it arrives)."""
    _require()
    from ..turing.app import bind, make_app, serve
    from ..turing.store import Store

    make_app(study)  # a folder without a study fails here, before the server starts
    sock = bind(host, port)  # and a port in use, before any link is printed
    port = sock.getsockname()[1]  # --port 0: the one the system chose
    shown = f"[{host}]" if ":" in host else host  # an IPv6 address in a URL
    click.echo(f"serving {study} on http://{shown}:{port}; rater links:")
    for token, name, _ in Store(study).raters():
        click.echo(f"  {name}: http://{shown}:{port}/r/{token}")
    serve(study, sock=sock)


@turing_group.command("status")
@click.argument("study", type=click.Path(path_type=Path, file_okay=False, exists=True))
def turing_status(study: Path) -> None:
    """Each rater's progress."""
    _require()
    from ..turing.report import status_text

    click.echo(status_text(study))


@turing_group.command("report")
@click.argument("study", type=click.Path(path_type=Path, file_okay=False, exists=True))
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), required=True)
def turing_report(study: Path, out: Path) -> None:
    """Per rater: sensitivity, specificity, balanced accuracy, Fisher's exact test; pooled: the mean
    balanced accuracy tested by permuting images; the paper's accuracy, Fleiss'/Cohen's kappa, study
    size guidance, confidence against correctness: CSV, Markdown and PNG."""
    _require()
    from ..turing.report import write_report

    click.echo((write_report(study, out)).read_text())
