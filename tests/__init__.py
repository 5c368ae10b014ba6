"""The test suite: unit tests mirroring the packages, integration tests against the stand-ins, helpers."""
