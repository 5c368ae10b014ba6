"""Every tmsclient command line in docs/automation.md and the README parses with today's options."""

from __future__ import annotations

import contextlib
import io
import re
import shlex

import pytest

from tests.helpers.paths import REPO
from tmsclient.cli import build_parser

DOC = REPO / "docs" / "automation.md"
DOCS = (DOC, REPO / "README.md", REPO / "docs" / "configuration.md", REPO / "docs" / "certificates.md")
_STOP = {"|", ">", ">>", ";;", "&&", "||", "2>&1"}


def code_lines(text: str) -> list[str]:
    """The lines of the fenced code blocks, with backslash and caret continuations joined."""
    blocks = re.findall(r"^```[^\n]*\n(.*?)^```", text, flags=re.M | re.S)
    lines: list[str] = []
    for block in blocks:
        joined = re.sub(r"[\\^]\n\s*", " ", block)
        lines += joined.splitlines()
    return lines


def commands(line: str) -> list[list[str]]:
    """The argument lists after each `tmsclient` in a shell line (also inside a quoted hook command)."""
    if "tmsclient " not in line:
        return []
    tokens = shlex.split(line.split(" #", 1)[0])
    found: list[list[str]] = []
    for i, tok in enumerate(tokens):
        if tok == "tmsclient":
            args: list[str] = []
            for nxt in tokens[i + 1 :]:
                if nxt in _STOP:
                    break
                args.append(nxt)
            found.append(args)
        elif tok.startswith("tmsclient "):
            found += commands(tok)
    return found


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_every_documented_command_line_parses(doc):
    found = [cmd for line in code_lines(doc.read_text(encoding="utf-8")) for cmd in commands(line)]
    if doc != DOC:
        assert found, f"no tmsclient command line found in {doc}"
        for argv in found:
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                build_parser().parse_args(argv)
        return
    assert len(found) >= 12, found
    seen = set()
    for argv in found:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            args = build_parser().parse_args(argv)  # a UsageError (unknown option, bad value) fails the test
        seen.add(args.command)
    assert {"renew", "upload", "status"} <= seen
