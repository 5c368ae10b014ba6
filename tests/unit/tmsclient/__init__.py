"""Unit tests of tmsclient: the CLI plumbing, settings and the docs that describe them."""
