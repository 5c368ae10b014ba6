"""tmsclient.api, the library the Ansible modules call: frozen results, typed errors, no output, no secret in a
repr, the environment and config files never read."""

from __future__ import annotations

import contextlib
import dataclasses
import io

import pytest

from tmsclient import api
from tmsclient.errors import AuthenticationError, CertificateUnfitError, UsageError, VerificationFailedError


def target_of(t, password=None, **extra):
    return api.Target(
        url=t.em.url, username="TMSLAB\\admin", password=password or t.password, ca_bundle=t.em.ca_file, **extra
    )


def saves(t):
    return [b for b in t.counters()["post_bodies"] if b["files"]]


def quietly(call, *args, **kwargs):
    """The call, with stdout and stderr captured: a library prints nothing."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        result = call(*args, **kwargs)
    assert (out.getvalue(), err.getvalue()) == ("", "")
    return result


def test_dry_run_then_upload_then_unchanged(target, pfx, canaries):
    t, f = target(), pfx()
    source = api.CertificateSource(pfx=str(f.path), pfx_password=f.password)
    dry = quietly(api.ensure_certificate, target_of(t), source, "acme", dry_run=True)
    assert (dry.action, dry.changed, dry.verification) == ("dry-run", True, None)
    assert [c.field for c in dry.changes] == ["sso_certificate", "certificate_password"]
    assert dry.changes[1].after == "<hidden>"
    assert saves(t) == []
    done = quietly(api.ensure_certificate, target_of(t), source, "acme", require_certificate=True)
    assert (done.action, done.changed, done.verification) == ("uploaded", True, "certificate")
    assert done.thumbprint_sha1 == f.thumbprint
    again = quietly(api.ensure_certificate, target_of(t), source, "acme")
    assert (again.action, again.changed, again.changes) == ("unchanged", False, ())
    assert len(saves(t)) == 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        done.action = "x"
    for text in (repr(target_of(t)), repr(source), repr(done), str(done.to_json())):
        canaries.assert_clean(text, "a repr of the api's values")


def test_pem_files_are_bundled_in_memory(target, renewed, tmp_path, canaries):
    t, r = target(), renewed()
    (tmp_path / "cert.pem").write_bytes(r.cert_pem())
    (tmp_path / "chain.pem").write_bytes(r.chain_pem())
    passphrase = canaries.secret("key-passphrase")
    (tmp_path / "key.pem").write_bytes(r.key_pem(passphrase.encode()))
    source = api.CertificateSource(
        cert=str(tmp_path / "cert.pem"),
        key=str(tmp_path / "key.pem"),
        chain=(str(tmp_path / "chain.pem"),),
        key_passphrase=passphrase,
    )
    done = quietly(api.ensure_certificate, target_of(t), source, "acme")
    assert (done.action, done.thumbprint_sha1) == ("uploaded", r.thumbprint)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cert.pem", "chain.pem", "key.pem"]  # nothing written


def test_require_certificate_fails_when_tms_shows_no_details(target, pfx):
    t, f = target(cert_details="none"), pfx()
    source = api.CertificateSource(pfx=str(f.path), pfx_password=f.password)
    with pytest.raises(VerificationFailedError, match=r"TMS accepted the Save, but .*require_certificate"):
        api.ensure_certificate(target_of(t), source, "acme", require_certificate=True)
    assert api.ensure_certificate(target_of(t), source, "acme").verification == "fields-only"


def test_errors_are_tmsclients_typed_errors(target, pfx, canaries):
    t = target()
    good, unfit = pfx(), pfx("aes", name="aes.pfx")
    with pytest.raises(AuthenticationError):
        api.read_info(target_of(t, password=canaries.secret("tms-password")))
    with pytest.raises(CertificateUnfitError):
        api.ensure_certificate(
            target_of(t), api.CertificateSource(pfx=str(unfit.path), pfx_password=unfit.password), "acme"
        )
    with pytest.raises(UsageError, match=r"either a \.pfx or PEM files"):
        api.ensure_certificate(target_of(t), api.CertificateSource(pfx=str(good.path), cert="c.pem"), "acme")
    assert t.counters()["post_bodies"] == []


def test_the_environment_and_the_config_file_are_never_read(target, monkeypatch, tmp_path):
    t = target()
    config = tmp_path / "config.toml"
    config.write_text('[defaults]\nsite = "nosuchsite"\ntimeout = 0.001\n', encoding="utf-8")
    monkeypatch.setenv("TMSCLIENT_CONFIG", str(config))
    monkeypatch.setenv("TMSCLIENT_SITE", "nosuchsite")
    monkeypatch.setenv("TMSCLIENT_CA_BUNDLE", "/nonexistent.pem")
    info = quietly(api.read_info, target_of(t))
    assert len(info.sites) == len(t.state()["sites"])


def test_read_info_reports_every_site_and_days_left(target, pfx):
    t, f = target(), pfx()
    api.ensure_certificate(target_of(t), api.CertificateSource(pfx=str(f.path), pfx_password=f.password), "acme")
    info = quietly(api.read_info, target_of(t), site="acme")
    (site,) = info.sites
    assert (site.site_name, site.thumbprint, site.verification_possible) == ("acme", f.thumbprint, "certificate")
    assert site.days_left is not None and site.days_left > 0
    assert all(fld["value"] is None for fld in site.fields if fld["secret"])
