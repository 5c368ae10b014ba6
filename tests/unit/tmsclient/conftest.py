"""Fixtures of the CLI tests: a .pfx with its certificate and key, and a TMS address that fails fast."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.helpers.cli import Material, make_material, not_tls_server


@pytest.fixture(scope="module")
def material(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Material]:
    with not_tls_server() as port:
        yield make_material(tmp_path_factory.mktemp("cli-material"), port)
