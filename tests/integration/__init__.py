"""End-to-end tests: tmsclient commands against the emulator and the staging stand-in."""
