"""The built-in TMS emulator: a stand-in for TMS 15.x's web UI (IIS, NTLM, WebForms) for tests and demos."""

from __future__ import annotations

from tmsemulator.config import EmulatorConfig, SiteData, StoredCertificate
from tmsemulator.faults import Faults
from tmsemulator.profiles import PROFILES, PageProfile, get_profile
from tmsemulator.server import RunningEmulator, start

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
