"""The origin rule: a request leaves only for the scheme, host and port of ``--url``."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

DEFAULT_PORTS = {"https": 443, "http": 80}


@dataclass(frozen=True)
class Origin:
    """A URL's (scheme, host, effective port); the host lower-cased, the port defaulted from the scheme."""

    scheme: str
    host: str
    port: int

    @classmethod
    def of(cls, url: str) -> Origin | None:
        """The origin of an absolute http(s) URL; None for anything else (other schemes, no host, bad port)."""
        try:
            parts = urlsplit(url.strip())
            port = parts.port
        except ValueError:
            return None
        scheme = parts.scheme.lower()
        if scheme not in DEFAULT_PORTS or not parts.hostname:
            return None
        return cls(scheme, parts.hostname.lower(), DEFAULT_PORTS[scheme] if port is None else port)

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        port = "" if self.port == DEFAULT_PORTS[self.scheme] else f":{self.port}"
        return f"{self.scheme}://{host}{port}"


def same_origin(url: str, base: str) -> bool:
    """Whether ``url`` is on the origin of ``base``: scheme, host (any case) and effective port all equal.

    A URL without an origin (relative, ``javascript:``, unparsable) is never the same origin: callers resolve
    relative URLs against the page first, so what reaches here unresolved is not a place to send anything.
    """
    mine = Origin.of(base)
    return mine is not None and Origin.of(url) == mine


def origin_text(url: str) -> str:
    """The origin of ``url`` for a message (scheme://host[:port]), or the URL's scheme and a mark when it has
    none; never the path or query, which a hostile page fills."""
    found = Origin.of(url)
    if found is not None:
        return str(found)
    try:
        scheme = urlsplit(url).scheme if "://" in url else ""
    except ValueError:
        scheme = ""
    return f"{scheme}://(no valid host)" if scheme else "(not an absolute http(s) URL)"
