"""Test-session settings shared by the core's and the first-party plugins' tests.

Only the distributions under plugins/ may load as external plugins during tests, so that whatever
third-party plugins happen to be installed cannot change what the tests see.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).parent


def first_party_plugins() -> list[str]:
    names = []
    for pyproject in sorted(ROOT.glob("plugins/*/pyproject.toml")):
        names.append(tomllib.loads(pyproject.read_text())["project"]["name"])
    return names


def pytest_configure(config):
    os.environ["MEDGAN_ZOO_LOAD_PLUGINS"] = ",".join(first_party_plugins())
