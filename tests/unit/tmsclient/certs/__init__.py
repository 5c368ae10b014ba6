"""Unit tests of tmsclient.certs and the certificate commands that run on local files only."""
