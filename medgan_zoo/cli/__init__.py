"""The ``medgan-zoo`` command line: one module per command group, assembled here.

Expected faults print one line and exit 1, not a traceback. A new command is a module of its own
that imports :mod:`.options` (never this package); add it to ``COMMANDS`` below.
"""

from __future__ import annotations

import click

from .._version import __version__
from . import datasets, demo, evaluate, models, plugins, report, sample, study, sweep, train, turing_test, weights
from .options import Group

COMMANDS: list[click.Command] = [
    plugins.plugins, datasets.datasets, train.train_command, sample.sample_command, evaluate.evaluate_command,
    study.study_command, report.report_command, models.models_command, models.export_command,
    models.push_command, demo.demo_command, sweep.sweep_group, turing_test.turing_group, weights.weights_group,
]


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="medgan-zoo")
@click.option("--debug", is_flag=True, help="Show the full traceback of an error (a plugin's with its cause) instead "
              "of one line (or set MEDGAN_ZOO_DEBUG=1).")
def cli(debug: bool) -> None:
    """Train, compare, share and evaluate GANs for medical images and their masks."""


for _command in COMMANDS:
    cli.add_command(_command)


def _one_line_warning(message, category, filename, lineno, line=None) -> str:
    return f"warning: {message}\n"


def main() -> None:
    """Console-script entry point. Warnings print as one line each (no source location)."""
    import os
    import sys
    import warnings

    warnings.formatwarning = _one_line_warning
    try:
        cli(prog_name="medgan-zoo")
    except SystemExit as exc:
        if exc.code in (0, None) and int(os.environ.get("WORLD_SIZE", "1")) > 1:
            # A torchrun rank whose work is done and whose process group is destroyed leaves at once:
            # at interpreter shutdown gloo's worker threads can still be torn down and abort the
            # process (SIGABRT, "terminate called without an active exception"; pytorch/pytorch#179291),
            # turning a finished run into a failed one. Every file is written and closed by now.
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(0)
        raise


__all__ = ["cli", "main"]
