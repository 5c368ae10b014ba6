"""Helpers shared by the test suites (the emulator handle the CLI tests use)."""
