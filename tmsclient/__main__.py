"""Entry point for ``python -m tmsclient``."""

from tmsclient.cli import console_main

console_main()
