"""Test-session settings shared by the core's and the first-party plugins' tests.

Only the distributions under plugins/ may load as external plugins during tests, so that whatever
third-party plugins happen to be installed cannot change what the tests see.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
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


_cache_dir: str | None = None


def pytest_configure(config):
    global _cache_dir
    os.environ["MEDGAN_ZOO_LOAD_PLUGINS"] = ",".join(first_party_plugins())
    # Preprocessed datasets go to a throw-away cache, never the user's.
    _cache_dir = tempfile.mkdtemp(prefix="medgan-zoo-test-cache-")
    os.environ["MEDGAN_ZOO_CACHE"] = _cache_dir


def pytest_unconfigure(config):
    if _cache_dir:
        shutil.rmtree(_cache_dir, ignore_errors=True)
