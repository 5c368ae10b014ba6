"""The built-in TMS emulator: a stand-in for TMS 15.x's web UI (IIS, NTLM, WebForms) for tests and demos."""

from __future__ import annotations

from tmsclient.emulator.config import EmulatorConfig, SiteData, StoredCertificate
from tmsclient.emulator.faults import Faults
from tmsclient.emulator.profiles import PROFILES, PageProfile, get_profile
from tmsclient.emulator.server import RunningEmulator, start

__all__ = [
    "PROFILES",
    "EmulatorConfig",
    "Faults",
    "PageProfile",
    "RunningEmulator",
    "SiteData",
    "StoredCertificate",
    "get_profile",
    "start",
]
