"""Helpers of the test suite: the secret canaries, the in-process CLI runner, the emulator handle, .pfx makers,
the certificate and stand-in tools; imported as tests.helpers.<module>."""
