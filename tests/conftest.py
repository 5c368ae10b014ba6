"""Shared fixtures: the secret canaries that watch every CLI run, and the in-process CLI runner."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.canaries import Canaries, CliWatch
from tests.helpers.cli import CliRunner

pytest_plugins = ["tmsemulator.pytest_plugin"]


@pytest.fixture
def canaries() -> Canaries:
    return Canaries()


@pytest.fixture(autouse=True)
def cli_watch(request: pytest.FixtureRequest, canaries: Canaries) -> Iterator[CliWatch]:
    """Autouse: every in-process run of tmsclient.cli.main in every test is checked against the canaries
    at teardown (stdout, stderr, log records at DEBUG, written files), through the ``cli`` fixture or not."""
    tmp: list[Path] = []
    if "tmp_path" in request.fixturenames:
        tmp.append(request.getfixturevalue("tmp_path"))

    def roots() -> dict[Path, bool]:
        return {p: True for p in tmp}

    watch = CliWatch(canaries, roots).install()
    try:
        yield watch
    finally:
        watch.uninstall()
    watch.check()


@pytest.fixture
def cli(tmp_path: Path, canaries: Canaries, cli_watch: CliWatch) -> Iterator[CliRunner]:
    """``cli("inspect", path, "--json")`` -> CliResult; secret canaries are checked at teardown."""
    runner = CliRunner(tmp_path, canaries, cli_watch)
    yield runner
    runner.check_secrets()
