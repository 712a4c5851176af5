"""The one downloader of third-party weights: tested against a local HTTP server on 127.0.0.1."""

from __future__ import annotations

import functools
import hashlib
import http.server
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from medgan_zoo import third_party
from medgan_zoo.cli import cli


@pytest.fixture
def mirror(tmp_path, monkeypatch):
    """A local HTTP server with a made-up "vgg19" file, and the toolkit pointed at it."""
    served = tmp_path / "served"
    served.mkdir()
    body = b"VGG-19 weights made in the test " * 1000
    (served / "vgg19-dcbb9e9d.pth").write_bytes(body)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setenv(third_party.MIRROR_ENV, f"http://127.0.0.1:{server.server_address[1]}")
    fake = third_party.WeightsFile("vgg19", "vgg19-dcbb9e9d.pth", "https://example.invalid/vgg19-dcbb9e9d.pth",
                                   hashlib.sha256(body).hexdigest(), len(body), "the tests")
    monkeypatch.setitem(third_party.KNOWN, "vgg19", fake)
    yield served
    server.shutdown()


def test_fetch_checks_the_sha256_and_places_the_file_where_the_toolkit_looks(mirror):
    from medgan_zoo.gans.vgg import find_vgg_weights

    listed = CliRunner().invoke(cli, ["weights"])
    assert "vgg19: missing" in listed.output and "medgan-zoo weights fetch" in listed.output
    result = CliRunner().invoke(cli, ["weights", "fetch", "vgg19"])
    assert result.exit_code == 0, result.output
    path = third_party.KNOWN["vgg19"].path()
    assert path.read_bytes() == (mirror / "vgg19-dcbb9e9d.pth").read_bytes()
    assert find_vgg_weights(None) == path  # where training looks for it
    assert "vgg19: present" in CliRunner().invoke(cli, ["weights"]).output


def test_a_tampered_file_is_refused_and_never_placed(mirror):
    (mirror / "vgg19-dcbb9e9d.pth").write_bytes(b"something else")
    result = CliRunner().invoke(cli, ["weights", "fetch", "vgg19"])
    assert result.exit_code == 1 and "refused and deleted, nothing was placed" in result.output
    target = third_party.KNOWN["vgg19"].path()
    assert not target.exists() and not any(Path(target.parent).glob(".*part*"))  # no partial file left


def test_a_missing_file_names_the_command_that_fetches_it(tmp_path, monkeypatch):
    from medgan_zoo.errors import MedganZooError
    from medgan_zoo.gans.vgg import find_vgg_weights

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    with pytest.raises(MedganZooError, match="medgan-zoo weights fetch vgg19"):
        find_vgg_weights(None)
    with pytest.raises(third_party.WeightsDownloadError, match="the download from http://127.0.0.1:9/"):
        monkeypatch.setenv(third_party.MIRROR_ENV, "http://127.0.0.1:9")
        third_party.fetch("inception", progress=False)
