"""What ASP.NET does to a posted value before the page runs: request validation, modelled as a pure check."""

from __future__ import annotations

import re

# .NET's CrossSiteScriptingValidation.IsDangerousString: "<" followed by a letter, "!", "/" or "?", or "&#".
# Such a value makes ASP.NET answer HTTP 500 (HttpRequestValidationException) before the page's code runs,
# unless the site turned request validation off, which nobody can see from outside.
_DANGEROUS = re.compile(r"<[A-Za-z!/?]|&#")


def request_validation_trigger(value: str) -> str | None:
    """The part of ``value`` that ASP.NET request validation refuses (e.g. ``'<c'``), or None."""
    match = _DANGEROUS.search(value)
    return match.group(0) if match else None
