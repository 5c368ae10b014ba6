"""Reading HTML with BeautifulSoup, for the tests' own independent browsers."""

from __future__ import annotations

from typing import Any

from bs4 import BeautifulSoup, Tag


def attr(el: Tag, name: str, default: str = "") -> str:
    """An attribute as one string, ``default`` when absent (bs4 gives a multi-valued one, like class, as a list)."""
    value = el.get(name)
    if value is None:
        return default
    return value if isinstance(value, str) else " ".join(value)


def find(soup: BeautifulSoup | Tag, name: str | None = None, **kwargs: Any) -> Tag:
    """The first element bs4's ``find`` gives for these arguments; the test fails when there is none."""
    found = soup.find(name, **kwargs)
    assert isinstance(found, Tag), f"no element {name or ''} {kwargs}"
    return found
