"""Helpers for tests and demos: throw-away certificates. Never for production keys."""
