"""The two-sided renewal against the emulator: `prepare` (no Save, preflight findings), the hand-off note,
`cutover` (uploaded, verified, the replaced certificate recorded), `rollback`, and every refusal changing
nothing on TMS."""

from __future__ import annotations

import hashlib
import json
import os
import stat

import pytest
from cryptography import x509

from tests.integration.emulator.test_hooks import DOMAIN, certbot_lineage
from tmsclient.commands.prepared import CUTOVER_RECORD, MANIFEST, SECRET_FILES
from tmsclient.exitcodes import ExitCode

#: The fake certificate the emulator's acme site starts with (tmsemulator/config.py default_sites).
ACME_SHOWN = "3B7E0C5A9D41F26B8C0E1A7D5F3392C4E6B18A07"


def write_pem(tmp_path, r):
    cert, key, chain = tmp_path / "cert.pem", tmp_path / "key.pem", tmp_path / "chain.pem"
    cert.write_bytes(r.cert_pem())
    key.write_bytes(r.key_pem())
    chain.write_bytes(r.chain_pem())
    return ["--cert", str(cert), "--key", str(key), "--chain", str(chain)]


def saves(t):
    """What reached TMS as a Save: the save log and every file carried by a POST."""
    state = t.state()
    files = [f for body in state["counters"]["post_bodies"] for f in body["files"]]
    return state["save_log"], files


@pytest.fixture
def root(tmp_path_factory):
    """Where the prepared directories go: outside ``tmp_path``, whose every written file the canary watch
    rejects when it holds a secret, because a prepared directory holds its secrets by design (in its 0600
    files). test_no_secret_outside_the_0600_files_and_none_in_any_output checks every other file."""
    return tmp_path_factory.mktemp("prepared-root")


def prepare(cli, t, root, r, *extra, directory="prepared", env=None):
    out = root / directory
    result = cli(
        "prepare",
        str(out),
        *t.argv(),
        *write_pem(root, r),
        "--json",
        *extra,
        env={"TMSCLIENT_TMS_PASSWORD": t.password, **(env or {})},
    )
    return out, result


@pytest.fixture
def old_on_tms(cli, target, renewed, tmp_path, canaries):
    """A target whose acme site holds an old certificate uploaded by `upload`, and that .pfx with its password."""

    def make(**emulator):
        t = target(**emulator)
        old = renewed(key="other", days=20)
        password = canaries.secret("old-pfx-password")
        path = tmp_path / "old.pfx"
        path.write_bytes(old.pfx(password))
        up = cli(
            "upload",
            *t.argv(),
            "--pfx",
            str(path),
            env={"TMSCLIENT_TMS_PASSWORD": t.password, "TMSCLIENT_PFX_PASSWORD": password},
        )
        assert up.code == 0, up
        return t, old, path, password

    return make


# ------------------------------------------------------------------------------------------------ prepare


def test_prepare_writes_the_directory_and_sends_no_save(cli, target, renewed, tmp_path, root):
    t = target()
    r = renewed()
    out, result = prepare(cli, t, root, r)
    assert result.code == 0, result
    p = result.json
    # Nothing was saved: no Save in the emulator's log, no POST carried a file, the site is as it was.
    assert saves(t) == ([], [])
    assert t.thumbprint() == ACME_SHOWN and p["saves_sent"] == 0
    # The preflight's findings: login, site, fields, the certificate TMS shows today, the plan of the Save.
    pre = p["targets"][0]["preflight"]
    assert pre["site"] == "acme.webex.com/acme"
    assert {"host_name", "sso_certificate", "certificate_password", "use_sso"} <= set(pre["fields"])
    assert pre["save"]
    assert pre["installed"]["thumbprint"].replace(" ", "").upper() == ACME_SHOWN
    assert pre["already_installed"] is False
    planned = {row["field"] for row in pre["plan"]}
    assert {"sso_certificate", "certificate_password"} <= planned
    assert all(row["after"] != row["before"] or row["field"] == "certificate_password" for row in pre["plan"])
    # The directory: 0700, every file 0600, the manifest's checksums right.
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    for f in out.iterdir():
        assert stat.S_IMODE(f.stat().st_mode) == 0o600, f
    manifest = json.loads((out / MANIFEST).read_text())
    for name, entry in manifest["files"].items():
        assert hashlib.sha256((out / name).read_bytes()).hexdigest() == entry["sha256"], name
    assert manifest["certificate"]["thumbprint_sha1"] == r.thumbprint
    assert x509.load_pem_x509_certificate((out / "tms-cert.cer").read_bytes()) == r.leaf
    assert manifest["targets"][0]["url"] == t.em.url and manifest["targets"][0]["site"] == "acme"
    assert manifest["prepared_at"].endswith("Z")
    # The generated password is only in its 0600 file.
    assert (out / "pfx-password").read_text().strip()
    assert "generated" in p["pfx"]["password"]


def test_the_handoff_note_says_what_to_send_to_whom_and_what_tms_shows_today(cli, target, renewed, root):
    t = target()
    r = renewed()
    out, result = prepare(cli, t, root, r, "--handoff-to", "webex-sso@partner.example")
    assert result.code == 0, result
    note = json.loads((out / "handoff.json").read_text())
    assert note["to"].startswith("webex-sso@partner.example (the WebEx Cloud Services team")
    assert note["send"] == ["tms-cert.cer"]
    assert "tms-cert.pfx" in note["never_send"] and "pfx-password" in note["never_send"]
    assert note["certificate"]["thumbprint_sha1"] == r.thumbprint
    assert note["certificate"]["serial"] == format(r.leaf.serial_number, "X").zfill(len(note["certificate"]["serial"]))
    assert note["sites"][0]["site"] == "acme.webex.com/acme"
    assert note["sites"][0]["installed_today"]["thumbprint_sha1"].replace(" ", "").upper() == ACME_SHOWN
    assert note["after_confirmation"].startswith(f"tmsclient cutover {out}")
    text = (out / "handoff.txt").read_text()
    for words in (
        r.thumbprint,
        "To: webex-sso@partner.example",
        "Attach: tms-cert.cer",
        "Never send",
        "acme.webex.com/acme",
        "tmsclient cutover",
    ):
        assert words in text
    assert "sends no mail" in text


def test_prepare_refuses_a_non_empty_directory_unless_forced(cli, target, renewed, tmp_path, root):
    t = target()
    (root / "prepared").mkdir()
    (root / "prepared" / "notes.txt").write_text("mine\n")
    _, refused = prepare(cli, t, root, renewed())
    assert refused.code == ExitCode.OUTPUT_FILE and "not empty" in refused.err
    assert t.counters()["requests"] == 0
    _, forced = prepare(cli, t, root, renewed(), "--force")
    assert forced.code == 0, forced
    assert (root / "prepared" / "notes.txt").read_text() == "mine\n"


def test_a_failed_preflight_writes_nothing(cli, target, renewed, tmp_path, root):
    t = target()
    argv = [a if a != "acme" else "no-such-site" for a in t.argv()]
    out = root / "prepared"
    result = cli(
        "prepare", str(out), *argv, *write_pem(tmp_path, renewed()), env={"TMSCLIENT_TMS_PASSWORD": t.password}
    )
    assert result.code == ExitCode.SITE_NOT_FOUND, result
    assert not out.exists()
    assert saves(t) == ([], [])


def test_an_unfit_certificate_is_refused_before_any_request(cli, target, renewed, tmp_path, root):
    t = target()
    out, result = prepare(cli, t, root, renewed(expired=True))
    assert result.code == ExitCode.CERT_UNFIT
    assert t.counters()["requests"] == 0 and not out.exists()


# ------------------------------------------------------------------------------------------------ cutover


def test_cutover_uploads_exactly_what_was_prepared_and_records_the_replaced_certificate(cli, old_on_tms, renewed, root):
    t, old, old_path, old_pw = old_on_tms()
    r = renewed()
    out, prep = prepare(
        cli, t, root, r, "--previous-pfx", str(old_path), "--previous-pfx-password-env", "OLD_PW",
        env={"OLD_PW": old_pw},
    )  # fmt: skip
    assert prep.code == 0, prep
    # The previous .pfx is what TMS holds (no warning says otherwise); that it expires soon is said.
    assert not any("another certificate" in w for w in prep.json["warnings"])
    assert any("previous .pfx" in w and "EXPIRES_SOON" in w for w in prep.json["warnings"])
    assert t.thumbprint() == old.thumbprint
    result = cli("cutover", str(out), *t.argv(), "--json", env={"TMSCLIENT_TMS_PASSWORD": t.password})
    assert result.code == 0, result
    row = result.json["targets"][0]
    assert row["action"] == "uploaded" and row["verification"] == "certificate"
    assert t.thumbprint() == r.thumbprint == row["thumbprint_sha1"]
    # Exactly the prepared file crossed the wire.
    stored = t.state()["sites"][0]["certificate"]
    assert stored["pfx_sha256"] == hashlib.sha256((out / "tms-cert.pfx").read_bytes()).hexdigest()
    # The certificate TMS showed just before the Save.
    assert row["replaced"]["thumbprint"].replace(" ", "").upper() == old.thumbprint
    record = json.loads((out / CUTOVER_RECORD).read_text())
    assert record["ok"] is True
    assert record["targets"][0]["replaced"]["thumbprint"].replace(" ", "").upper() == old.thumbprint
    assert stat.S_IMODE((out / CUTOVER_RECORD).stat().st_mode) == 0o600
    assert result.json["rollback"].startswith(f"tmsclient rollback {out}")
    human = cli("cutover", str(out), *t.argv(), env={"TMSCLIENT_TMS_PASSWORD": t.password})
    assert human.code == 0 and "to roll back: tmsclient rollback" in human.out
    assert "already showed this certificate" in human.out  # a second cutover uploads nothing
    assert t.counters()["saves_applied"] == 2  # the old upload and the cutover


def test_rollback_puts_the_previous_certificate_back(cli, old_on_tms, renewed, root):
    t, old, old_path, old_pw = old_on_tms()
    out, prep = prepare(
        cli, t, root, renewed(), "--previous-pfx", str(old_path), "--previous-pfx-password-env", "OLD_PW",
        env={"OLD_PW": old_pw},
    )  # fmt: skip
    assert prep.code == 0, prep
    assert cli("cutover", str(out), *t.argv(), env={"TMSCLIENT_TMS_PASSWORD": t.password}).code == 0
    back = cli("rollback", str(out), *t.argv(), "--json", env={"TMSCLIENT_TMS_PASSWORD": t.password})
    assert back.code == 0, back
    assert back.json["targets"][0]["action"] == "uploaded"
    assert back.json["targets"][0]["verification"] == "certificate"
    assert t.thumbprint() == old.thumbprint
    stored = t.state()["sites"][0]["certificate"]
    assert stored["pfx_sha256"] == hashlib.sha256(old_path.read_bytes()).hexdigest()
    assert (out / "rollback.json").exists()


# ------------------------------------------------------------------------------------------------ refusals


def test_rollback_refuses_without_a_previous_pfx(cli, target, renewed, tmp_path, root):
    t = target()
    out, prep = prepare(cli, t, root, renewed())
    assert prep.code == 0, prep
    before = t.counters()["requests"]
    result = cli("rollback", str(out), *t.argv(), env={"TMSCLIENT_TMS_PASSWORD": t.password})
    assert result.code == ExitCode.PREPARED_CHANGED
    assert "no previous .pfx" in result.err
    assert t.counters()["requests"] == before and saves(t) == ([], [])


def test_cutover_refuses_a_tampered_pfx(cli, target, renewed, tmp_path, root):
    t = target()
    out, prep = prepare(cli, t, root, renewed())
    assert prep.code == 0, prep
    pfx = out / "tms-cert.pfx"
    data = bytearray(pfx.read_bytes())
    data[-1] ^= 0x01
    pfx.write_bytes(bytes(data))
    before = t.counters()["requests"]
    result = cli("cutover", str(out), *t.argv(), env={"TMSCLIENT_TMS_PASSWORD": t.password})
    assert result.code == ExitCode.PREPARED_CHANGED, result
    assert "is not the file `prepare` wrote" in result.err
    assert t.counters()["requests"] == before and saves(t) == ([], [])
    assert t.thumbprint() == ACME_SHOWN


def test_cutover_refuses_another_pfx_put_in_its_place(cli, target, renewed, tmp_path, root):
    """A .pfx swapped together with its manifest entry: the certificate inside is not the manifest's."""
    t = target()
    out, prep = prepare(cli, t, root, renewed())
    assert prep.code == 0, prep
    password = (out / "pfx-password").read_text().strip()
    other = renewed(key="other").pfx(password)
    (out / "tms-cert.pfx").write_bytes(other)
    manifest = json.loads((out / MANIFEST).read_text())
    manifest["files"]["tms-cert.pfx"] = {"sha256": hashlib.sha256(other).hexdigest(), "bytes": len(other)}
    (out / MANIFEST).write_text(json.dumps(manifest))
    result = cli("cutover", str(out), *t.argv(), env={"TMSCLIENT_TMS_PASSWORD": t.password})
    assert result.code == ExitCode.PREPARED_CHANGED, result
    assert "the manifest names" in result.err
    assert saves(t) == ([], [])


def age(out, r):
    """The directory as if prepared long ago: its .pfx (same password) holds ``r``'s certificate, and the
    manifest agrees with it (checksum, thumbprint, dates), so only the certificate's own end date is wrong."""
    password = (out / "pfx-password").read_text().removesuffix("\n")
    data = r.pfx(password)
    (out / "tms-cert.pfx").write_bytes(data)
    manifest = json.loads((out / MANIFEST).read_text())
    manifest["files"]["tms-cert.pfx"] = {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
    manifest["certificate"].update(
        thumbprint_sha1=r.thumbprint,
        not_before=r.leaf.not_valid_before_utc.strftime("%Y-%m-%dT%H:%M:%SZ"),
        not_after=r.leaf.not_valid_after_utc.strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    (out / MANIFEST).write_text(json.dumps(manifest))
    return manifest["certificate"]["not_after"]


def test_cutover_refuses_an_expired_certificate(cli, target, renewed, root):
    t = target()
    out, prep = prepare(cli, t, root, renewed())
    assert prep.code == 0, prep
    ended = age(out, renewed(expired=True))
    before = t.counters()["requests"]
    result = cli("cutover", str(out), *t.argv(), env={"TMSCLIENT_TMS_PASSWORD": t.password})
    assert result.code == ExitCode.CERT_UNFIT, result
    assert f"expired on {ended}" in result.err
    assert t.counters()["requests"] == before and saves(t) == ([], [])


@pytest.mark.parametrize(
    ("layout", "when", "words"),
    [
        # Another layout from now on: the preflight found "Use Global Settings", the page has none now.
        ("tms15-cells", "now", "field use_global ('Use Global Settings') was found by the preflight"),
    ],
)
def test_cutover_refuses_a_page_that_changed_since_the_preflight(cli, target, renewed, root, layout, when, words):
    t = target()
    out, prep = prepare(cli, t, root, renewed())
    assert prep.code == 0, prep
    t.em.set_faults(layout_change=layout)
    if when == "now":
        t.em.layout_change_after_get()
    result = cli("cutover", str(out), *t.argv(), "--json", env={"TMSCLIENT_TMS_PASSWORD": t.password})
    assert result.code == ExitCode.PAGE_CHANGED, result
    message = result.json["error"]["message"]
    assert "since the preflight" in message or "no longer fits the preflight" in message
    assert words in message and "nothing was saved" in message
    assert saves(t) == ([], [])
    assert t.thumbprint() == ACME_SHOWN


def test_cutover_goes_on_when_only_control_names_changed(cli, target, renewed, root):
    t = target()
    r = renewed()
    out, prep = prepare(cli, t, root, r)
    assert prep.code == 0, prep
    t.em.set_faults(layout_change="tms15-labelfor")
    t.em.layout_change_after_get()
    result = cli("cutover", str(out), *t.argv(), "--json", env={"TMSCLIENT_TMS_PASSWORD": t.password})
    assert result.code == 0, result
    notes = result.json["targets"][0]["notes"]
    assert any("sso_certificate is now the control" in n for n in notes)
    assert t.thumbprint() == r.thumbprint


def test_cutover_refuses_a_target_that_was_not_prepared(cli, target, renewed, tmp_path, root):
    t = target()
    out, prep = prepare(cli, t, root, renewed())
    assert prep.code == 0, prep
    other = [a if a != "acme" else "training" for a in t.argv()]
    result = cli("cutover", str(out), *other, env={"TMSCLIENT_TMS_PASSWORD": t.password})
    assert result.code == ExitCode.PREPARED_CHANGED and "not a target" in result.err
    assert saves(t) == ([], [])


def test_cutover_refuses_a_secret_file_others_may_read(cli, target, renewed, tmp_path, root):
    t = target()
    out, prep = prepare(cli, t, root, renewed())
    assert prep.code == 0, prep
    os.chmod(out / "pfx-password", 0o644)
    result = cli("cutover", str(out), *t.argv(), env={"TMSCLIENT_TMS_PASSWORD": t.password})
    assert result.code == ExitCode.PREPARED_CHANGED and "others may read it" in result.err
    assert saves(t) == ([], [])


def test_a_failed_save_at_cutover_leaves_tms_as_it_was(cli, target, renewed, tmp_path, root):
    t = target()
    out, prep = prepare(cli, t, root, renewed())
    assert prep.code == 0, prep
    t.em.set_faults(save_500=True)
    result = cli("cutover", str(out), *t.argv(), env={"TMSCLIENT_TMS_PASSWORD": t.password})
    assert result.code == ExitCode.SERVER_ERROR, result
    assert t.thumbprint() == ACME_SHOWN and t.counters()["saves_applied"] == 0
    assert json.loads((out / CUTOVER_RECORD).read_text())["ok"] is False


# ------------------------------------------------------------------------------------------------ several targets


def test_cutover_of_several_targets_is_the_staged_rollout(cli, target, config, renewed, tmp_path, root):
    staging, production = target("staging"), target("production")
    cfg = config(staging, production)
    r = renewed()
    out = root / "prepared"
    env = {**cfg.env, "TMSCLIENT_CONFIG": str(cfg.path)}
    argv = ["--profile", "staging", "--profile", "production", "--non-interactive"]
    prep = cli("prepare", str(out), *argv, *write_pem(tmp_path, r), "--json", env=env)
    assert prep.code == 0, prep
    assert [t["name"] for t in prep.json["targets"]] == ["staging", "production"]
    assert "--profile staging --profile production" in prep.json["commands"]["cutover"]
    assert saves(staging) == ([], []) and saves(production) == ([], [])
    staging.em.set_faults(save_500=True)
    contacted = production.counters()["requests"]
    result = cli("cutover", str(out), *argv, "--json", env=env)
    assert result.code == ExitCode.TARGETS_FAILED, result
    rows = {row["target"]: row for row in result.json["targets"]}
    assert rows["staging"]["status"] == "failed" and rows["production"]["status"] == "skipped"
    assert production.counters()["requests"] == contacted  # skipped: never contacted
    assert production.thumbprint() == ACME_SHOWN
    staging.em.set_faults(save_500=False)
    again = cli("cutover", str(out), *argv, "--json", env=env)
    assert again.code == 0, again
    assert staging.thumbprint() == production.thumbprint() == r.thumbprint


def test_a_preflight_failing_on_one_of_several_targets_writes_nothing(cli, target, config, renewed, root):
    staging, production = target("staging"), target("production")
    cfg = config(staging, production)
    production.em.stop()  # gone today (its CA file too): it would be gone on the cutover day as well
    out = root / "prepared"
    env = {**cfg.env, "TMSCLIENT_CONFIG": str(cfg.path)}
    argv = ["--profile", "staging", "--profile", "production", "--non-interactive", "--json"]
    result = cli("prepare", str(out), *argv, *write_pem(root, renewed()), env=env)
    assert result.code == ExitCode.TARGETS_FAILED, result
    rows = {row["target"]: row for row in result.json["targets"]}
    assert rows["staging"]["status"] == "ok" and rows["production"]["status"] == "failed"
    assert result.json["written"] is False and not out.exists()
    assert saves(staging) == ([], [])


# ------------------------------------------------------------------------------------------------ secrets


def test_no_secret_outside_the_0600_files_and_none_in_any_output(cli, old_on_tms, renewed, root, canaries):
    t, _old, old_path, old_pw = old_on_tms()
    pfx_pw = canaries.secret("pfx-password")
    out, prep = prepare(
        cli, t, root, renewed(), "--pfx-password-env", "NEW_PW", "--previous-pfx", str(old_path),
        "--previous-pfx-password-env", "OLD_PW", env={"NEW_PW": pfx_pw, "OLD_PW": old_pw},
    )  # fmt: skip
    assert prep.code == 0, prep
    assert (out / "pfx-password").read_text() == pfx_pw + "\n"
    assert (out / "previous-pfx-password").read_text() == old_pw + "\n"
    for argv in (["cutover"], ["rollback"]):
        result = cli(*argv, str(out), *t.argv(), "-vv", "--json", env={"TMSCLIENT_TMS_PASSWORD": t.password})
        assert result.code == 0, result
    # Every output and log record of these runs is checked by the `cli` fixture's watch; the directory lives
    # outside it, so its files are checked here: a secret only in the 0600 files that hold it by design.
    names = {f.name for f in out.iterdir()}
    assert {"manifest.json", "handoff.json", "handoff.txt", "tms-cert.cer", "cutover.json", "rollback.json"} <= names
    for f in out.iterdir():
        assert stat.S_IMODE(f.stat().st_mode) == 0o600, f
        if f.name not in SECRET_FILES:
            canaries.assert_clean(f.read_bytes(), f"the prepared file {f.name}")


# ------------------------------------------------------------------------------------------------ status


def test_status_knows_a_prepared_directory_and_keeps_its_exit_codes(cli, target, renewed, root):
    t = target()  # acme's certificate expires in 20 days: WARNING at --warn-days 30
    out, prep = prepare(cli, t, root, renewed())
    assert prep.code == 0, prep
    argv = ["status", *t.argv(), "--prepared", str(out)]
    env = {"TMSCLIENT_TMS_PASSWORD": t.password}
    waiting = cli(*argv, env=env)
    assert waiting.code == 1, waiting  # WARNING, as without --prepared
    first, *rest = waiting.out.splitlines()
    assert first.startswith("TMSCLIENT WARNING - ")
    assert "expires before the certificate prepared in" in first and "| days_left=" in first
    since = prep.json["targets"][0]["preflight"]["read_at"][:10]
    assert any("prepared, waiting for cutover since " + since in line for line in rest)
    plain = cli("status", *t.argv(), "--warn-days", "10", "--crit-days", "5", "--prepared", str(out), "--json", env=env)
    assert plain.code == 0, plain
    assert plain.json["prepared"]["state"] == "waiting"
    assert cli("cutover", str(out), *t.argv(), env=env).code == 0
    done = cli(*argv, "--json", env=env)
    assert done.code == 0, done  # the new certificate is valid for 90 days
    assert done.json["prepared"]["state"] == "cut-over"
    broken = cli("status", *t.argv(), "--prepared", str(root / "nothing-here"), env=env)
    assert broken.code == 3 and broken.out.startswith("TMSCLIENT UNKNOWN - ")


def test_status_is_critical_when_the_prepared_certificate_expired_while_waiting(cli, target, renewed, root):
    t = target()
    out, prep = prepare(cli, t, root, renewed())
    assert prep.code == 0, prep
    ended = age(out, renewed(expired=True))
    result = cli("status", *t.argv(), "--prepared", str(out), env={"TMSCLIENT_TMS_PASSWORD": t.password})
    assert result.code == 2, result
    assert f"expired on {ended[:10]} while waiting for cutover" in result.out.splitlines()[0]


# ------------------------------------------------------------------------------------------------ hooks


@pytest.mark.parametrize("hook", ["certbot", "win-acme", "acme.sh"])
def test_each_acme_hook_mode_prepares_instead_of_uploading(cli, target, renewed, root, canaries, hook):
    t = target()
    r = renewed()
    env = {"TMSCLIENT_TMS_PASSWORD": t.password}
    stdin = None
    if hook == "certbot":
        live = certbot_lineage(root / "letsencrypt", r)
        source = ["--from-certbot"]
        env |= {"RENEWED_LINEAGE": str(live), "RENEWED_DOMAINS": DOMAIN}
    elif hook == "win-acme":
        cache_password = canaries.secret("cache-password")
        cache = root / "cache.pfx"
        cache.write_bytes(r.pfx(cache_password, modern=True))  # AES, as win-acme writes it on Server 2019+
        source, stdin = ["--from-win-acme", str(cache)], cache_password
    else:
        files = root / "acme.sh"
        files.mkdir()
        (files / "tms.key").write_bytes(r.key_pem())
        (files / "tms.cer").write_bytes(r.cert_pem())
        (files / "ca.cer").write_bytes(r.chain_pem())
        (files / "fullchain.cer").write_bytes(r.cert_pem() + r.chain_pem())
        source = [
            "--from-acme-sh",
            DOMAIN,
            *(str(files / n) for n in ("tms.key", "tms.cer", "ca.cer", "fullchain.cer")),
        ]
    out = root / "prepared"
    result = cli("prepare", str(out), *source, *t.argv(), "--json", env=env, stdin=stdin)
    assert result.code == 0, result
    assert result.json["certificate"]["thumbprint_sha1"] == r.thumbprint
    assert saves(t) == ([], []) and t.thumbprint() == ACME_SHOWN
    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest["source"]["kind"] == hook
    if hook == "win-acme":  # converted into the form a 2016 TMS imports, with the cache's password
        assert manifest["pfx"]["reencoded"] is True
        assert (out / "pfx-password").read_text() == cache_password + "\n"


def test_status_after_a_rollback_and_after_preparing_again(cli, old_on_tms, renewed, root):
    t, _old, old_path, old_pw = old_on_tms()
    env = {"TMSCLIENT_TMS_PASSWORD": t.password}
    keep = ["--previous-pfx", str(old_path), "--previous-pfx-password-env", "OLD_PW"]
    out, prep = prepare(cli, t, root, renewed(), *keep, env={"OLD_PW": old_pw})
    assert prep.code == 0, prep
    assert cli("cutover", str(out), *t.argv(), env=env).code == 0
    assert cli("rollback", str(out), *t.argv(), env=env).code == 0
    status = cli("status", *t.argv(), "--prepared", str(out), "--json", env=env)
    assert status.json["prepared"]["state"] == "rolled-back", status
    # Preparing again into the same directory (--force) starts afresh: no old record passes for the new one.
    again, prep = prepare(cli, t, root, renewed(), "--force", *keep, env={"OLD_PW": old_pw})
    assert prep.code == 0, prep
    assert not (again / CUTOVER_RECORD).exists() and not (again / "rollback.json").exists()
    assert cli("status", *t.argv(), "--prepared", str(out), "--json", env=env).json["prepared"]["state"] == "waiting"


def test_a_page_without_certificate_details_prepares_and_cuts_over_at_fields_level(cli, target, renewed, root):
    t = target(cert_details="none")
    r = renewed()
    out, prep = prepare(cli, t, root, r)
    assert prep.code == 0, prep
    assert prep.json["targets"][0]["preflight"]["installed"]["thumbprint"] is None
    note = (out / "handoff.txt").read_text()
    assert "no certificate details shown" in note
    result = cli("cutover", str(out), *t.argv(), "--json", env={"TMSCLIENT_TMS_PASSWORD": t.password})
    assert result.code == 0, result
    assert result.json["targets"][0]["verification"] == "fields-only"
    assert t.thumbprint() == r.thumbprint
