"""Tests of the emulator itself, with a browser of their own (never tmsclient)."""
