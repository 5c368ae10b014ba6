"""Login scheme selection and the auth handlers' secret handling (no network; test_session*.py has that)."""

from __future__ import annotations

import base64

import pytest
import requests
from requests_ntlm import HttpNtlmAuth

from tmsclient.credentials import Secret
from tmsclient.errors import ConfigError
from tmsclient.tms import auth as auth_module
from tmsclient.tms.auth import (
    AutoAuth,
    KeepAliveOnly,
    KerberosAuth,
    SecretBasicAuth,
    SecretNtlmAuth,
    basic_header,
    build_auth,
    choose_scheme,
    kerberos_auth,
    offered_schemes,
    post_auth,
    scheme_in_use,
    session_auth,
)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("Negotiate, NTLM", ("negotiate", "ntlm")),
        ("NTLM", ("ntlm",)),
        ("NTLM TlRMTVNTUAACAAAADAAMADgAAAA==", ("ntlm",)),
        ('Basic realm="tms, NTLM inside quotes", NTLM', ("basic", "ntlm")),
        ('Basic realm="tms"', ("basic",)),
        ('Digest realm="x", qop="auth", nonce="abc"', ("digest",)),
        ("negotiate, Negotiate", ("negotiate",)),
        ("", ()),
    ],
)
def test_offered_schemes(header, expected):
    assert offered_schemes(header) == expected


@pytest.mark.parametrize(
    ("offered", "chosen"),
    [
        (("negotiate", "ntlm"), "ntlm"),
        (("negotiate",), "ntlm"),  # requests-ntlm answers Negotiate with NTLM, as IIS accepts
        (("basic", "ntlm"), "ntlm"),  # NTLM keeps the password off the wire
        (("basic", "negotiate"), "ntlm"),  # never Basic once Windows login is on offer
        (("basic",), "basic"),
        (("digest",), None),
        ((), None),
    ],
)
def test_auto_prefers_ntlm_then_basic(offered, chosen):
    assert choose_scheme(offered) == chosen


def test_basic_header_latin1_where_it_fits_else_utf8():
    assert (
        basic_header("EX\\u", Secret("pässword", "t"))
        == "Basic " + base64.b64encode("EX\\u:pässword".encode("latin-1")).decode()
    )
    assert basic_header("u", Secret("пароль", "t")) == "Basic " + base64.b64encode("u:пароль".encode()).decode()


def test_ntlm_handler_reads_the_password_from_the_secret_and_never_shows_it():
    auth = SecretNtlmAuth("EXAMPLE\\alice", Secret("ntlm-secret-pw", "t"))
    assert isinstance(auth, HttpNtlmAuth)
    assert auth.password == "ntlm-secret-pw"  # what requests-ntlm hands to pyspnego during a handshake
    assert auth.username == "EXAMPLE\\alice" and auth.send_cbt is True  # channel binding over HTTPS
    assert "ntlm-secret-pw" not in repr(auth)
    assert "ntlm-secret-pw" not in repr(vars(auth))


def test_basic_handler_adds_the_header_per_request_and_never_shows_the_password():
    auth = SecretBasicAuth("u", Secret("basic-secret-pw", "t"))
    prepared = auth(requests.Request("GET", "https://t/tms/").prepare())
    assert prepared.headers["Authorization"] == basic_header("u", Secret("basic-secret-pw", "t"))
    assert "basic-secret-pw" not in repr(auth) and "basic-secret-pw" not in repr(vars(auth))


def test_explicit_schemes_need_user_and_password():
    with pytest.raises(ConfigError, match="needs a user name and a password"):
        build_auth("ntlm", "u", None)
    with pytest.raises(ConfigError, match="needs a user name and a password"):
        session_auth("auto", None, Secret("x", "t"))
    with pytest.raises(ConfigError, match="unknown login scheme"):
        build_auth("digest", "u", Secret("x", "t"))


def test_negotiate_without_the_kerberos_extra_is_a_config_error(monkeypatch):
    monkeypatch.setattr(auth_module, "HAVE_GSSAPI", False)  # as when the gssapi import raised ImportError
    monkeypatch.setattr(auth_module.sys, "platform", "linux")
    with pytest.raises(ConfigError, match="needs the kerberos extra") as info:
        kerberos_auth("alice@EXAMPLE.COM")
    assert "tmsclient[kerberos]" in (info.value.hint or "") and "--auth ntlm" in (info.value.hint or "")


def test_negotiate_principal_from_the_user_name(monkeypatch):
    monkeypatch.setattr(auth_module, "HAVE_GSSAPI", True)
    upn, down_level, none = kerberos_auth("alice@EXAMPLE.COM"), kerberos_auth("EXAMPLE\\alice"), kerberos_auth(None)
    assert isinstance(upn, KerberosAuth)
    assert upn.principal == "alice@EXAMPLE.COM"
    assert down_level.principal == "alice"  # DOMAIN\user is no Kerberos name: the user in the default realm
    assert none.principal is None  # the ticket cache's (on Windows: the logged-on user)


def test_negotiate_keeps_the_password_hidden(monkeypatch):
    monkeypatch.setattr(auth_module, "HAVE_GSSAPI", True)
    handler = kerberos_auth("alice@EXAMPLE.COM", Secret("kerb-pw-1234", "t"))
    assert "kerb-pw-1234" not in repr(handler) and "<hidden>" in repr(handler)


@pytest.mark.parametrize(
    ("minor", "kind"),
    [
        (-1765328352, "KerberosTicketExpiredError"),
        (-1765328347, "KerberosClockSkewError"),
        (-1765328351, "KerberosClockSkewError"),
        (-1765328377, "KerberosUnknownServiceError"),
        (-1765328228, "KerberosKdcUnreachableError"),
        (-1765328360, "KerberosError"),  # preauthentication failed: a wrong password
    ],
)
def test_kerberos_failures_by_their_krb5_code(minor, kind):
    class Krb5Error(Exception):
        err_code = minor

    err = auth_module.kerberos_failure(Krb5Error("the library's words"), "HTTP/tms.example.com", "tms", "a@B")
    assert type(err).__name__ == kind
    if kind == "KerberosUnknownServiceError":
        assert "HTTP/tms.example.com" in err.message


def test_a_negotiate_answer_token_is_found_in_the_header():
    assert auth_module._negotiate_token("Negotiate " + base64.b64encode(b"tok").decode()) == b"tok"
    assert auth_module._negotiate_token("NTLM, Negotiate") is None
    assert auth_module._negotiate_token("Negotiate !!!") == b""  # present but broken: cannot verify


def test_a_post_never_gets_a_handshaking_handler():
    secret = Secret("pw-pw-pw", "t")
    auto = AutoAuth("u", secret)
    assert post_auth(auto) is None and scheme_in_use(auto) is None  # auto has not seen a 401 yet
    auto.delegate, auto.scheme = SecretNtlmAuth("u", secret), "ntlm"
    assert isinstance(post_auth(auto), KeepAliveOnly) and scheme_in_use(auto) == "ntlm"
    basic = SecretBasicAuth("u", secret)
    auto.delegate, auto.scheme = basic, "basic"
    assert post_auth(auto) is basic
    assert isinstance(post_auth(SecretNtlmAuth("u", secret)), KeepAliveOnly)
    assert "pw-pw-pw" not in repr(auto)
