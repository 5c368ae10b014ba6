"""Where the repository's files are, for tests that read the docs, the fixture pages or the bad-input corpus."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs"
PAGES = REPO / "fixtures" / "pages"
BAD_INPUTS = REPO / "fixtures" / "bad-inputs"
