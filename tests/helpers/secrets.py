"""Typed access to a secret a test expects to have been resolved."""

from __future__ import annotations

from tmsclient.credentials import Secret


def secret(value: Secret | None) -> Secret:
    """``value``, failing the test when no secret was resolved."""
    assert value is not None, "no secret was resolved"
    return value
