"""Unit tests of tmsclient.tms: the session, authentication, page model, page profile, driver and verifier."""
