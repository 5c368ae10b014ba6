"""Fixtures for the emulator tests: certificate chains and .pfx files built once per session."""

from __future__ import annotations

import pytest

from tests.helpers.emulator import Browser, good_pfx
from tmsemulator.certmaker import Chain, make_chain

PFX_PASSWORD = "Pfx pw & more:1"


@pytest.fixture(scope="session")
def chain() -> Chain:
    return make_chain("tms.acme.example")


@pytest.fixture(scope="session")
def pfx(chain):
    """A Windows-compatible .pfx (3DES, SHA-1 MAC) of a valid RSA leaf and its issuing CA."""
    return good_pfx(chain, PFX_PASSWORD)


@pytest.fixture
def admin_browser(tms_emulator):
    browser = Browser(tms_emulator, tms_emulator.admin)
    yield browser
    browser.close()
