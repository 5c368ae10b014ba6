"""The bad-input corpus: one row per input, each with its exit code and a stable fragment of its message.

The files are under fixtures/bad-inputs/ (made by fixtures/make_bad_inputs.py; MANIFEST.json says what each
is and holds the corpus' passwords). Every row copies what it uses into the test's temp dir first. Other
inputs (URLs, site names, environment variables, stdin) are in the row itself. A row's placeholders:
``{f[REL]}`` a corpus file (copied), ``{pw[NAME]}`` a corpus password, ``{url}``, ``{port}`` and ``{ca}``
of the row's emulator, ``{tmp}`` the temp dir, ``{closed}`` a port nothing listens on, ``{big[NAME]}`` a
large input made at run time.

Rows whose input is valid but unusual (a non-ASCII, very long or symbol-laden password; a certificate with
CRLF and a BOM; a URL without a scheme) must *work*; the password rows go end to end: `bundle` with that
password, then `upload` of the result to the emulator, which must then hold the certificate.

Every row: the exit code, the fragment in the one `tmsclient: error:` line (or, for exit 0, in the
output), no traceback (the cli fixture checks), and no secret anywhere (the canaries check).
"""

from __future__ import annotations

import importlib.util
import json
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from tests.helpers.cli import closed_port
from tests.helpers.emulated import Tms
from tests.helpers.paths import BAD_INPUTS, DOCS
from tmsclient import credentials
from tmsclient.certs.loading import read_pfx_algorithms_file
from tmsclient.errors import TmsClientError
from tmsclient.exitcodes import ExitCode

MANIFEST = json.loads((BAD_INPUTS / "MANIFEST.json").read_text(encoding="utf-8"))
PASSWORDS: dict[str, str] = MANIFEST["passwords"]
INLINE_TMS_PASSWORD = "Corpus-inline-TMS-pw 9Qx"  # in config/inline-password.toml

#: Arguments that reach the row's emulator as a Site Administrator.
TARGET = ("--url", "{url}", "--username", "TMSLAB\\admin", "--ca-bundle", "{ca}", "--non-interactive")
UPLOAD = ("upload", *TARGET, "--site", "acme", "--pfx", "{f[certs/good.pfx]}")
#: An upload that fails before connecting (the URL names no server): for config and URL errors.
OFFLINE = (
    "upload",
    "--username",
    "TMSLAB\\admin",
    "--non-interactive",
    "--site",
    "acme",
    "--pfx",
    "{f[certs/good.pfx]}",
)
PFX_ENV = {"TMSCLIENT_PFX_PASSWORD": "{pw[pfx]}"}
LAB_CONFIG = "[profiles.lab]\nurl = 'https://tms.example.com/tms/'\n"


@dataclass(frozen=True)
class Case:
    id: str
    category: str
    argv: tuple[str, ...]
    code: ExitCode
    fragment: str
    env: Mapping[str, str] = field(default_factory=dict)
    emulator: Mapping[str, Any] | None = None  # start one (with these settings) for this row
    stdin: str | None = None
    #: For a `bundle` row: then upload what it wrote (the password taken the same way) and check TMS holds it.
    then_upload: tuple[str, ...] | None = None
    mode: tuple[str, int] | None = None  # (corpus file, mode): chmod that file's copy
    xfail: str | None = None
    without_module: str | None = None  # run as if this package were not installed
    #: Where the fragment is: the one ``tmsclient: error:`` line, or stdout (``check`` reports an unfit file
    #: as its result, exit 5, not as an error).
    where: str = "error"


def _check(rel: str, *extra: str) -> tuple[str, ...]:
    return ("check", f"{{f[{rel}]}}", *extra)


def _bundle(cert: str, key: str | None, *extra: str, out: str = "out.p12") -> tuple[str, ...]:
    argv = ("bundle", "--cert", f"{{f[{cert}]}}", "--out", f"{{tmp}}/{out}")
    return argv + (("--key", f"{{f[{key}]}}") if key else ()) + extra


CASES: tuple[Case, ...] = (
    # ------------------------------------------------------------------ certificate and key files
    Case(
        "pfx-empty",
        "certificate file",
        _check("certs/empty.pfx"),
        ExitCode.INPUT_FILE,
        "is empty (0 bytes)",
        env=PFX_ENV,
    ),
    Case(
        "pfx-truncated",
        "certificate file",
        _check("certs/truncated.pfx"),
        ExitCode.INPUT_FILE,
        "is truncated",
        env=PFX_ENV,
    ),
    Case(
        "pfx-is-pem-certificate",
        "certificate file",
        _check("certs/cert-pem-named.pfx"),
        ExitCode.INPUT_FILE,
        "is a PEM text file (holding CERTIFICATE)",
        env=PFX_ENV,
    ),
    Case(
        "pfx-is-der-certificate",
        "certificate file",
        _check("certs/cert-der-named.pfx"),
        ExitCode.INPUT_FILE,
        "is a DER certificate without",
        env=PFX_ENV,
    ),
    Case(
        "pfx-base64",
        "certificate file",
        _check("certs/base64.pfx"),
        ExitCode.INPUT_FILE,
        "Base64-encoded .pfx",
        env=PFX_ENV,
    ),
    Case("pfx-noise", "certificate file", _check("certs/noise.pfx"), ExitCode.INPUT_FILE, "not a PKCS#12", env=PFX_ENV),
    Case("pfx-directory", "certificate file", ("check", "{tmp}"), ExitCode.INPUT_FILE, "is a directory", env=PFX_ENV),
    Case(
        "pfx-missing",
        "certificate file",
        ("check", "{tmp}/nope.pfx"),
        ExitCode.INPUT_FILE,
        "does not exist",
        env=PFX_ENV,
    ),
    Case(
        "pfx-no-key",
        "certificate file",
        _check("certs/nokey.p12"),
        ExitCode.CERT_UNFIT,
        "NO_PRIVATE_KEY",
        env=PFX_ENV,
        where="stdout",
    ),
    Case(
        "pfx-aes-on-2016",
        "certificate file",
        _check("certs/aes.p12"),
        ExitCode.CERT_UNFIT,
        "PFX_UNSUPPORTED_ON_TARGET",
        env=PFX_ENV,
        where="stdout",
    ),
    Case(
        "pfx-aes-on-2019",
        "certificate file",
        _check("certs/aes.p12", "--target-os", "2019"),
        ExitCode.OK,
        "FIT for TMS on Windows Server 2019",
        env=PFX_ENV,
    ),
    Case(
        "pfx-3des-sha256-mac",
        "certificate file",
        _check("certs/3des-sha256-mac.p12"),
        ExitCode.CERT_UNFIT,
        "PFX_UNSUPPORTED_ON_TARGET",
        env=PFX_ENV,
        where="stdout",
    ),
    Case(
        "pfx-expired",
        "certificate file",
        _check("certs/expired.pfx"),
        ExitCode.CERT_UNFIT,
        "EXPIRED",
        env=PFX_ENV,
        where="stdout",
    ),
    Case(
        "pfx-not-yet-valid",
        "certificate file",
        _check("certs/not-yet-valid.pfx"),
        ExitCode.CERT_UNFIT,
        "NOT_YET_VALID",
        env=PFX_ENV,
        where="stdout",
    ),
    Case(
        "pfx-key-mismatch",
        "certificate file",
        _check("certs/mismatch.pfx"),
        ExitCode.CERT_UNFIT,
        "KEY_MISMATCH",
        env=PFX_ENV,
        where="stdout",
    ),
    Case(
        "pfx-rsa-1024",
        "certificate file",
        _check("certs/weak-1024.p12"),
        ExitCode.CERT_UNFIT,
        "WEAK_KEY",
        env=PFX_ENV,
        where="stdout",
    ),
    Case(
        "pfx-ec-key",
        "certificate file",
        _check("certs/ec-p256.p12"),
        ExitCode.CERT_UNFIT,
        "EC_KEY",
        env=PFX_ENV,
        where="stdout",
    ),
    Case(
        "pfx-high-iterations",
        "certificate file",
        _check("certs/high-iterations.p12"),
        ExitCode.OK,
        "HIGH_ITERATIONS",
        env=PFX_ENV,
    ),
    Case(
        "pfx-preflight-in-upload",
        "certificate file",
        ("upload", *TARGET, "--site", "acme", "--pfx", "{f[certs/expired.pfx]}"),
        ExitCode.CERT_UNFIT,
        "not fit for TMS on Windows Server 2016",
        env=PFX_ENV,
        emulator={},
    ),
    Case(
        "key-encrypted-no-passphrase",
        "certificate file",
        _bundle("certs/leaf.pem", "certs/leaf-encrypted.key"),
        ExitCode.BAD_PASSWORD,
        "is encrypted and no passphrase was given",
        env=PFX_ENV,
    ),
    Case(
        "key-wrong-passphrase",
        "certificate file",
        _bundle("certs/leaf.pem", "certs/leaf-encrypted.key"),
        ExitCode.BAD_PASSWORD,
        "does not decrypt the private key",
        env={**PFX_ENV, "TMSCLIENT_KEY_PASSPHRASE": "Not-the-key-passphrase-4"},
    ),
    Case(
        "key-of-another-certificate",
        "certificate file",
        _bundle("certs/leaf.pem", "certs/other.key"),
        ExitCode.CERT_UNFIT,
        "does not belong to the certificate",
        env=PFX_ENV,
    ),
    Case(
        "pem-garbage-body",
        "certificate file",
        _bundle("certs/garbage.pem", "certs/leaf.key"),
        ExitCode.INPUT_FILE,
        "holds a damaged CERTIFICATE block",
        env=PFX_ENV,
    ),
    Case(
        "pem-empty",
        "certificate file",
        _bundle("certs/empty.pem", "certs/leaf.key"),
        ExitCode.INPUT_FILE,
        "is empty (0 bytes)",
        env=PFX_ENV,
    ),
    Case(
        "pem-plain-text",
        "certificate file",
        _bundle("certs/text.pem", "certs/leaf.key"),
        ExitCode.INPUT_FILE,
        "is neither a PEM nor a DER certificate",
        env=PFX_ENV,
    ),
    Case(
        "key-given-as-certificate",
        "certificate file",
        _bundle("certs/leaf.key", None),
        ExitCode.INPUT_FILE,
        "holds no certificate (found: PRIVATE KEY)",
        env=PFX_ENV,
    ),
    Case(
        "pem-crlf-bom",
        "certificate file",
        _bundle("certs/leaf-crlf-bom.pem", "certs/leaf.key"),
        ExitCode.OK,
        "tms.corpus.example",
        env=PFX_ENV,
    ),
    Case(
        "pem-utf16",
        "certificate file",
        _bundle("certs/leaf-utf16.pem", "certs/leaf.key"),
        ExitCode.OK,
        "tms.corpus.example",
        env=PFX_ENV,
    ),
    Case(
        "der-certificate-and-key",
        "certificate file",
        _bundle("certs/leaf.der", "certs/leaf.key.der"),
        ExitCode.OK,
        "tms.corpus.example",
        env=PFX_ENV,
    ),
    Case(
        "encrypted-key-with-passphrase",
        "certificate file",
        _bundle("certs/leaf.pem", "certs/leaf-encrypted.key"),
        ExitCode.OK,
        "tms.corpus.example",
        env={**PFX_ENV, "TMSCLIENT_KEY_PASSPHRASE": "{pw[key]}"},
    ),
    # ------------------------------------------------------------------ passwords
    Case(
        "password-wrong",
        "password",
        _check("certs/good.pfx"),
        ExitCode.BAD_PASSWORD,
        "wrong password",
        env={"TMSCLIENT_PFX_PASSWORD": "Not-the-pfx-password-5"},
    ),
    Case("password-missing", "password", _check("certs/good.pfx"), ExitCode.BAD_PASSWORD, "no .pfx password given"),
    Case(
        "password-empty-env",
        "password",
        _check("certs/good.pfx"),
        ExitCode.BAD_PASSWORD,
        "is empty",
        env={"TMSCLIENT_PFX_PASSWORD": ""},
    ),
    Case(
        "password-empty-file",
        "password",
        _check("certs/good.pfx", "--pfx-password-file", "{f[passwords/empty.txt]}"),
        ExitCode.BAD_PASSWORD,
        "is empty",
    ),
    Case(
        "password-file-two-lines",
        "password",
        _check("certs/good.pfx", "--pfx-password-file", "{f[passwords/two-lines.txt]}"),
        ExitCode.INPUT_FILE,
        "holds more than one line",
    ),
    Case(
        "password-file-not-utf8",
        "password",
        _check("certs/good.pfx", "--pfx-password-file", "{f[passwords/not-utf8.txt]}"),
        ExitCode.INPUT_FILE,
        "is not UTF-8 text",
    ),
    Case(
        "password-file-huge",
        "password",
        _check("certs/good.pfx", "--pfx-password-file", "{big[password]}"),
        ExitCode.INPUT_FILE,
        "a password file holds one line",
    ),
    Case(
        "password-file-missing",
        "password",
        _check("certs/good.pfx", "--pfx-password-file", "{tmp}/nope.txt"),
        ExitCode.INPUT_FILE,
        "does not exist",
    ),
    Case(
        "password-env-unset",
        "password",
        _check("certs/good.pfx", "--pfx-password-env", "NO_SUCH_VAR_X"),
        ExitCode.BAD_PASSWORD,
        "environment variable NO_SUCH_VAR_X (named by --pfx-password-env) is not set",
    ),
    Case(
        "password-stdin-twice",
        "password",
        (*UPLOAD, "--pfx-password-stdin", "--tms-password-stdin"),
        ExitCode.USAGE,
        "stdin already supplies",
        stdin="one-password-for-both\n",
        emulator={},
    ),
    Case(
        "password-non-ascii",
        "password",
        _bundle("certs/leaf.pem", "certs/leaf.key", out="unicode.p12"),
        ExitCode.OK,
        "tms.corpus.example",
        env={"TMSCLIENT_PFX_PASSWORD": "{pw[unicode]}"},
        then_upload=(),
        emulator={},
    ),
    Case(
        "password-very-long",
        "password",
        _bundle("certs/leaf.pem", "certs/leaf.key", out="long.p12"),
        ExitCode.OK,
        "tms.corpus.example",
        env={"TMSCLIENT_PFX_PASSWORD": "{pw[long]}"},
        then_upload=(),
        emulator={},
    ),
    Case(
        "password-symbols-and-spaces",
        "password",
        _bundle(
            "certs/leaf.pem", "certs/leaf.key", "--out-password-file", "{f[passwords/symbols.txt]}", out="symbols.p12"
        ),
        ExitCode.OK,
        "tms.corpus.example",
        then_upload=("--pfx-password-file", "{f[passwords/symbols.txt]}"),
        emulator={},
    ),
    Case(
        "password-non-ascii-file-crlf",
        "password",
        _bundle(
            "certs/leaf.pem",
            "certs/leaf.key",
            "--out-password-file",
            "{f[passwords/unicode.txt]}",
            out="unicode-file.p12",
        ),
        ExitCode.OK,
        "tms.corpus.example",
        then_upload=("--pfx-password-env", "CORPUS_PW"),
        env={"CORPUS_PW": "{pw[unicode]}"},
        emulator={},
    ),
    # ------------------------------------------------------------------ config files
    Case(
        "config-bad-toml",
        "config file",
        (*OFFLINE, "--config", "{f[config/bad-toml.toml]}"),
        ExitCode.CONFIG,
        "is not valid TOML",
        env=PFX_ENV,
    ),
    Case(
        "config-unknown-top-key",
        "config file",
        (*OFFLINE, "--config", "{f[config/unknown-top-key.toml]}"),
        ExitCode.CONFIG,
        "unknown key colour",
        env=PFX_ENV,
    ),
    Case(
        "config-unknown-profile-key",
        "config file",
        (*OFFLINE, "--config", "{f[config/unknown-profile-key.toml]}", "--profile", "lab"),
        ExitCode.CONFIG,
        "unknown key profiles.lab.usr",
        env=PFX_ENV,
    ),
    Case(
        "config-timeout-a-word",
        "config file",
        (*OFFLINE, "--config", "{f[config/wrong-type-timeout.toml]}", "--profile", "lab"),
        ExitCode.CONFIG,
        "got string 'slow', expected a number of seconds",
        env=PFX_ENV,
    ),
    Case(
        "config-bool-a-string",
        "config file",
        (*OFFLINE, "--config", "{f[config/wrong-type-bool.toml]}"),
        ExitCode.CONFIG,
        "defaults.insecure: got string 'yes', expected true or false",
        env=PFX_ENV,
    ),
    Case(
        "config-url-a-number",
        "config file",
        (*OFFLINE, "--config", "{f[config/wrong-type-url.toml]}"),
        ExitCode.CONFIG,
        "defaults.url: got number 443, expected a string",
        env=PFX_ENV,
    ),
    Case(
        "config-missing-url",
        "config file",
        (*OFFLINE, "--config", "{f[config/missing-url.toml]}"),
        ExitCode.CONFIG,
        "no url given",
        env=PFX_ENV,
    ),
    Case(
        "config-empty-value",
        "config file",
        (*OFFLINE, "--config", "{f[config/empty-value.toml]}"),
        ExitCode.CONFIG,
        "defaults.site: got an empty string",
        env=PFX_ENV,
    ),
    Case(
        "config-default-profile-missing",
        "config file",
        (*OFFLINE, "--config", "{f[config/default-profile-missing.toml]}"),
        ExitCode.CONFIG,
        "default_profile: got 'prod'",
        env=PFX_ENV,
    ),
    Case(
        "config-not-utf8",
        "config file",
        (*OFFLINE, "--config", "{f[config/not-utf8.toml]}"),
        ExitCode.CONFIG,
        "is not UTF-8 text",
        env=PFX_ENV,
    ),
    Case(
        "config-inline-password-world-readable",
        "config file",
        (*OFFLINE, "--config", "{f[config/inline-password.toml]}"),
        ExitCode.CONFIG,
        "inline secret in a file other users can read (mode 0644)",
        env=PFX_ENV,
        mode=("config/inline-password.toml", 0o644),
    ),
    Case(
        "config-env-reference-empty",
        "config file",
        (*OFFLINE, "--config", "{f[config/env-ref-empty.toml]}"),
        ExitCode.CONFIG,
        "got env: with nothing after it",
        env=PFX_ENV,
    ),
    Case(
        "config-keyring-without-extra",
        "config file",
        (*OFFLINE, "--config", "{f[config/keyring-ref.toml]}"),
        ExitCode.CONFIG,
        "keyring package is not installed",
        env=PFX_ENV,
        without_module="keyring",
    ),
    Case(
        "config-profiles-not-a-table",
        "config file",
        (*OFFLINE, "--config", "{f[config/profiles-not-table.toml]}"),
        ExitCode.CONFIG,
        "profiles: got string 'lab', expected tables",
        env=PFX_ENV,
    ),
    Case(
        "config-bad-profile-name",
        "config file",
        (*OFFLINE, "--config", "{f[config/bad-profile-name.toml]}"),
        ExitCode.CONFIG,
        "got profile name 'my lab'",
        env=PFX_ENV,
    ),
    Case(
        "config-missing-file",
        "config file",
        (*OFFLINE, "--config", "{tmp}/nope.toml"),
        ExitCode.CONFIG,
        "does not exist",
        env=PFX_ENV,
    ),
    Case(
        "config-is-a-directory",
        "config file",
        (*OFFLINE, "--config", "{tmp}"),
        ExitCode.CONFIG,
        "is a directory",
        env=PFX_ENV,
    ),
    Case(
        "config-unknown-profile",
        "config file",
        (*OFFLINE, "--config", "{big[lab-config]}", "--profile", "prod"),
        ExitCode.CONFIG,
        "profile 'prod' is not in the config file",
        env=PFX_ENV,
    ),
    # ------------------------------------------------------------------ URLs
    Case(
        "url-without-scheme",
        "URL",
        (
            "upload",
            "--url",
            "127.0.0.1:{port}",
            *TARGET[2:],
            "--site",
            "acme",
            "--pfx",
            "{f[certs/good.pfx]}",
            "--dry-run",
        ),
        ExitCode.OK,
        "dry run",
        env=PFX_ENV,
        emulator={},
    ),
    Case(
        "url-http-refused",
        "URL",
        (
            "upload",
            "--url",
            "http://127.0.0.1:{port}/tms/",
            *TARGET[2:],
            "--site",
            "acme",
            "--pfx",
            "{f[certs/good.pfx]}",
        ),
        ExitCode.TLS,
        "plain http refused",
        env=PFX_ENV,
        emulator={},
    ),
    Case(
        "url-with-query",
        "URL",
        (*OFFLINE, "--url", "https://tms.example.com/tms/?pageId=83"),
        ExitCode.CONFIG,
        "without ?query or #fragment",
        env=PFX_ENV,
    ),
    Case(
        "url-with-fragment",
        "URL",
        (*OFFLINE, "--url", "https://tms.example.com/tms/#top"),
        ExitCode.CONFIG,
        "without ?query or #fragment",
        env=PFX_ENV,
    ),
    Case(
        "url-with-credentials",
        "URL",
        (*OFFLINE, "--url", "https://admin:{pw[url]}@tms.example.com/tms/"),
        ExitCode.CONFIG,
        "the URL holds a user name or password",
        env=PFX_ENV,
    ),
    Case(
        "url-port-out-of-range",
        "URL",
        (*OFFLINE, "--url", "https://tms.example.com:99999/tms/"),
        ExitCode.CONFIG,
        "the port is not a number from 1 to 65535",
        env=PFX_ENV,
    ),
    Case(
        "url-port-a-word",
        "URL",
        (*OFFLINE, "--url", "https://tms.example.com:https/tms/"),
        ExitCode.CONFIG,
        "the port is not a number from 1 to 65535",
        env=PFX_ENV,
    ),
    Case(
        "url-ftp-scheme",
        "URL",
        (*OFFLINE, "--url", "ftp://tms.example.com/tms/"),
        ExitCode.CONFIG,
        "expected an https:// URL",
        env=PFX_ENV,
    ),
    Case("url-empty", "URL", (*OFFLINE, "--url", ""), ExitCode.CONFIG, "got an empty string", env=PFX_ENV),
    Case(
        "url-space-in-host",
        "URL",
        (*OFFLINE, "--url", "https://tms example.com/tms/"),
        ExitCode.CONFIG,
        "the host name 'tms example.com' holds characters a host name cannot",
        env={**PFX_ENV, "TMSCLIENT_TMS_PASSWORD": "unused-pw-1"},
    ),
    Case(
        "url-connection-refused",
        "URL",
        (
            "upload",
            "--url",
            "https://127.0.0.1:{closed}/tms/",
            *TARGET[2:],
            "--site",
            "acme",
            "--pfx",
            "{f[certs/good.pfx]}",
        ),
        ExitCode.CONNECTION,
        "refused (GET the TMS start page)",
        env=PFX_ENV,
        emulator={},
    ),
    Case(
        "url-broken-ipv6",
        "URL",
        (*OFFLINE, "--url", "https://[::1/tms/"),
        ExitCode.CONFIG,
        "--url: got a value that is not a URL (an unclosed or invalid [IPv6] part?)",
        env={**PFX_ENV, "TMSCLIENT_TMS_PASSWORD": "unused-pw-1"},
    ),
    Case(
        "url-empty-label-host",
        "URL",
        (*OFFLINE, "--url", "https://a..b/tms/", "--timeout", "3"),
        ExitCode.CONFIG,
        "a..b",
        env={**PFX_ENV, "TMSCLIENT_TMS_PASSWORD": "unused-pw-1"},
    ),
    Case(
        "url-unicode-host",
        "URL",
        (*OFFLINE, "--url", "https://tms.exämple.invalid/tms/", "--timeout", "3"),
        ExitCode.CONNECTION,
        "cannot resolve the TMS host name",
        env={**PFX_ENV, "TMSCLIENT_TMS_PASSWORD": "unused-pw-1"},
    ),
    # ------------------------------------------------------------------ site names
    Case(
        "site-empty",
        "site name",
        (*UPLOAD[:-4], "--site", "", "--pfx", "{f[certs/good.pfx]}"),
        ExitCode.CONFIG,
        "--site: got an empty string",
        env=PFX_ENV,
        emulator={},
    ),
    Case(
        "site-blank",
        "site name",
        (*UPLOAD[:-4], "--site", "   ", "--pfx", "{f[certs/good.pfx]}"),
        ExitCode.CONFIG,
        "--site: got an empty string",
        env=PFX_ENV,
        emulator={},
    ),
    Case(
        "site-not-found",
        "site name",
        (*UPLOAD[:-4], "--site", "nope.webex.com", "--pfx", "{f[certs/good.pfx]}"),
        ExitCode.SITE_NOT_FOUND,
        "no WebEx site matches --site 'nope.webex.com'; sites on TMS: acme.webex.com/acme",
        env=PFX_ENV,
        emulator={},
    ),
    Case(
        "site-host-right-site-wrong",
        "site name",
        (*UPLOAD[:-4], "--site", "acme.webex.com/nope", "--pfx", "{f[certs/good.pfx]}"),
        ExitCode.SITE_NOT_FOUND,
        "no WebEx site matches --site 'acme.webex.com/nope'",
        env=PFX_ENV,
        emulator={},
    ),
    Case(
        "site-matches-two",
        "site name",
        (*UPLOAD[:-4], "--site", "meet", "--pfx", "{f[certs/good.pfx]}"),
        ExitCode.AMBIGUOUS,
        "2 WebEx sites match --site 'meet': acme.webex.com/meet, globex.webex.com/meet",
        env=PFX_ENV,
        emulator={
            "sites": [
                {"host_name": "acme.webex.com", "site_name": "meet", "default_site": True},
                {"host_name": "globex.webex.com", "site_name": "meet"},
            ]
        },
    ),
    Case(
        "site-broken-url",
        "site name",
        (*UPLOAD[:-4], "--site", "https://[::1", "--pfx", "{f[certs/good.pfx]}"),
        ExitCode.CONFIG,
        "--site: got a value that is not a host name",
        env=PFX_ENV,
        emulator={},
    ),
    Case(
        "site-as-url-any-case",
        "site name",
        (*UPLOAD[:-4], "--site", "HTTPS://ACME.WEBEX.COM/ACME", "--pfx", "{f[certs/good.pfx]}", "--dry-run"),
        ExitCode.OK,
        "acme.webex.com/acme",
        env=PFX_ENV,
        emulator={},
    ),
    # ------------------------------------------------------------------ page-profile files
    Case(
        "profile-bad-toml",
        "page profile",
        (*UPLOAD, "--page-profile", "{f[profiles/bad-toml.toml]}"),
        ExitCode.CONFIG,
        "is not valid TOML",
        env=PFX_ENV,
        emulator={},
    ),
    Case(
        "profile-unknown-field",
        "page profile",
        (*UPLOAD, "--page-profile", "{f[profiles/unknown-field.toml]}"),
        ExitCode.CONFIG,
        "fields.hostname is not a field tmsclient knows",
        env=PFX_ENV,
        emulator={},
    ),
    Case(
        "profile-unknown-top-key",
        "page profile",
        (*UPLOAD, "--page-profile", "{f[profiles/unknown-top-key.toml]}"),
        ExitCode.CONFIG,
        "unknown key 'menu'",
        env=PFX_ENV,
        emulator={},
    ),
    Case(
        "profile-empty-label",
        "page profile",
        (*UPLOAD, "--page-profile", "{f[profiles/empty-label.toml]}"),
        ExitCode.CONFIG,
        "fields.host_name: got an empty",
        env=PFX_ENV,
        emulator={},
    ),
    Case(
        "profile-label-a-number",
        "page profile",
        (*UPLOAD, "--page-profile", "{f[profiles/wrong-type.toml]}"),
        ExitCode.CONFIG,
        "fields.host_name: got a number",
        env=PFX_ENV,
        emulator={},
    ),
    Case(
        "profile-empty-menu-path",
        "page profile",
        (*UPLOAD, "--page-profile", "{f[profiles/empty-menu.toml]}"),
        ExitCode.CONFIG,
        "menu_path: got an empty list",
        env=PFX_ENV,
        emulator={},
    ),
    Case(
        "profile-not-utf8",
        "page profile",
        (*UPLOAD, "--page-profile", "{f[profiles/not-utf8.toml]}"),
        ExitCode.CONFIG,
        "is not UTF-8 text",
        env=PFX_ENV,
        emulator={},
    ),
    Case(
        "profile-missing",
        "page profile",
        (*UPLOAD, "--page-profile", "{tmp}/nope.toml"),
        ExitCode.CONFIG,
        "does not exist",
        env=PFX_ENV,
        emulator={},
    ),
    Case(
        "profile-is-a-directory",
        "page profile",
        (*UPLOAD, "--page-profile", "{tmp}"),
        ExitCode.CONFIG,
        "is a directory",
        env=PFX_ENV,
        emulator={},
    ),
    Case(
        "profile-too-large",
        "page profile",
        (*UPLOAD, "--page-profile", "{big[profile]}"),
        ExitCode.INPUT_FILE,
        "expected a small TOML file",
        env=PFX_ENV,
        emulator={},
    ),
    Case(
        "profile-label-matches-nothing",
        "page profile",
        (*UPLOAD, "--page-profile", "{f[profiles/no-match.toml]}"),
        ExitCode.PAGE_NOT_UNDERSTOOD,
        "matches sso_certificate (label 'Zertifikat')",
        env=PFX_ENV,
        emulator={},
    ),
    Case(
        "profile-glob-matches-every-field",
        "page profile",
        (*UPLOAD, "--page-profile", "{f[profiles/ambiguous.toml]}"),
        ExitCode.AMBIGUOUS,
        "fields on the form of site acme.webex.com/acme match sso_certificate (name '*')",
        env=PFX_ENV,
        emulator={},
    ),
    Case(
        "profile-non-ascii-labels",
        "page profile",
        (*UPLOAD, "--page-profile", "{f[profiles/unicode-labels.toml]}", "--dry-run"),
        ExitCode.OK,
        "dry run",
        env=PFX_ENV,
        emulator={},
    ),
)


def _params() -> list[Any]:
    out = []
    for case in CASES:
        marks = [pytest.mark.xfail(strict=True, reason=case.xfail)] if case.xfail else []
        out.append(pytest.param(case, id=case.id, marks=marks))
    return out


class _Files(dict[str, str]):
    """``{f[REL]}``: copy a corpus file into the temp dir (keeping its folder) and give the copy's path."""

    def __init__(self, tmp: Path, mode: tuple[str, int] | None) -> None:
        super().__init__()
        self.tmp, self.mode = tmp, mode

    def __missing__(self, rel: str) -> str:
        src = BAD_INPUTS / rel
        assert src.is_file(), f"{rel} is not in the corpus (run fixtures/make_bad_inputs.py)"
        dst = self.tmp / "corpus" / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dst)
        dst.chmod(self.mode[1] if self.mode and self.mode[0] == rel else 0o600)
        self[rel] = str(dst)
        return str(dst)


class _Big(dict[str, str]):
    """``{big[NAME]}``: inputs made at run time (too large to commit, or trivial)."""

    def __init__(self, tmp: Path) -> None:
        super().__init__()
        self.tmp = tmp

    def __missing__(self, name: str) -> str:
        path = self.tmp / f"big-{name}"
        if name == "password":
            path.write_text("p" * 70_000 + "\n", encoding="utf-8")
        elif name == "profile":
            path.write_text("# padding\n" * 30_000 + "[fields]\nhost_name = 'Host Name'\n", encoding="utf-8")
        elif name == "lab-config":
            path.write_text(LAB_CONFIG, encoding="utf-8")
        else:
            raise KeyError(name)
        path.chmod(0o600)
        self[name] = str(path)
        return str(path)


@pytest.mark.parametrize("case", _params())
def test_bad_input(
    case: Case, cli: Any, tms_for_corpus: Any, tmp_path: Path, canaries: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    if case.without_module:
        monkeypatch.setattr(credentials, case.without_module, None)  # as when `import keyring` failed at start
    values: dict[str, Any] = {
        "f": _Files(tmp_path, case.mode),
        "big": _Big(tmp_path),
        "tmp": str(tmp_path),
        "pw": {**PASSWORDS, "url": canaries.secret("url-password")},
        "closed": closed_port(),
    }
    env: dict[str, str] = {}
    t = None
    if case.emulator is not None:
        t = tms_for_corpus(**case.emulator)
        values.update(url=t.url, ca=t.em.ca_file, port=t.url.split(":")[2].split("/")[0])
        env["TMSCLIENT_TMS_PASSWORD"] = t.admin_password
    else:
        values.update(url="https://tms.invalid/tms/", ca=str(tmp_path / "no-ca.pem"), port="443")
    argv = [a.format_map(values) for a in case.argv]
    env.update({k: v.format_map(values) for k, v in case.env.items()})

    result = cli(*argv, env=env, stdin=case.stdin)

    assert result.code == case.code, result
    if case.code == ExitCode.OK:
        assert case.fragment in result.out + result.err, result
    elif case.where == "stdout":
        assert case.fragment in result.out, result
        assert "tmsclient: error:" not in result.err, result
    else:
        errors = [line for line in result.err.splitlines() if line.startswith("tmsclient: error: ")]
        assert len(errors) == 1, result
        assert case.fragment in errors[0], result
        assert "internal error" not in errors[0], result
    if case.then_upload is not None:
        assert t is not None
        out = argv[argv.index("--out") + 1]
        how = [a.format_map(values) for a in case.then_upload]
        up = cli(
            "upload", *[a.format_map(values) for a in TARGET], "--site", "acme", "--pfx", out, "--json", *how, env=env
        )
        assert up.code == ExitCode.OK, up
        assert up.json["action"] == "uploaded" and up.json["verification"] == "certificate"
        stored = next(s for s in t.em.state()["sites"] if s["site_name"] == "acme")["certificate"]
        assert stored["thumbprint_sha1"] == up.json["thumbprint_sha1"]
        assert "tms.corpus.example" in stored["subject"]


@pytest.fixture
def tms_for_corpus(emulator_factory: Any, canaries: Any) -> Any:
    """An emulator whose admin password is a canary; the corpus' own passwords and keys are watched too."""
    for name, value in PASSWORDS.items():
        canaries.register(value, f"corpus-{name}-password")
    canaries.register(INLINE_TMS_PASSWORD, "inline-tms-password")
    for key_file in ("leaf.key", "other.key"):
        canaries.register_key(load_pem_private_key((BAD_INPUTS / "certs" / key_file).read_bytes(), None))

    def make(**overrides: Any) -> Any:
        admin_pw = canaries.secret("tms-password", extra=" &#")
        config = {"users": [("TMSLAB", "admin", admin_pw)], "admins": ["admin"], **overrides}
        return Tms(emulator_factory(**config), admin_pw, "", env={"TMSCLIENT_TMS_PASSWORD": admin_pw})

    return make


# ------------------------------------------------------------------------------------------ the corpus


def test_the_corpus_is_large_and_every_file_is_used() -> None:
    assert len(CASES) >= 40
    assert len({c.id for c in CASES}) == len(CASES)
    used = {part.split("]")[0] for c in CASES for a in (*c.argv, *(c.then_upload or ())) for part in a.split("{f[")[1:]}
    listed = set(MANIFEST["files"])
    on_disk = {p.relative_to(BAD_INPUTS).as_posix() for p in BAD_INPUTS.rglob("*") if p.is_file()} - {"MANIFEST.json"}
    assert listed == on_disk, "MANIFEST.json and fixtures/bad-inputs/ disagree: rerun fixtures/make_bad_inputs.py"
    assert used <= listed, f"rows use files not in the corpus: {sorted(used - listed)}"
    # other.key is used through the canaries only (its key is watched), like leaf.key.
    unused = listed - used - {"certs/other.key"}
    assert not unused, f"corpus files no row uses: {sorted(unused)}"


def test_every_row_is_in_the_docs_table() -> None:
    doc = (DOCS / "evidence.md").read_text(encoding="utf-8")
    missing = [c.id for c in CASES if f"`{c.id}`" not in doc]
    assert not missing, f"docs/evidence.md's corpus table lacks: {missing}"


def test_the_generator_makes_the_same_corpus(tmp_path: Path) -> None:
    """The committed files are what the script makes: same files, same kinds, same dates and algorithms."""
    spec = importlib.util.spec_from_file_location("make_bad_inputs", BAD_INPUTS.parent / "make_bad_inputs.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    fresh = module.generate(tmp_path / "corpus")
    assert fresh == MANIFEST
    for rel in MANIFEST["files"]:
        committed, made = BAD_INPUTS / rel, tmp_path / "corpus" / rel
        if rel.endswith((".pfx", ".p12")):
            assert _pfx_kind(committed) == _pfx_kind(made), rel
        elif not rel.startswith("certs/"):
            assert committed.read_bytes() == made.read_bytes(), rel


def _pfx_kind(path: Path) -> Any:
    """A .pfx's algorithms (read without its password), or the kind of error reading it gives."""
    try:
        return read_pfx_algorithms_file(path)[1]
    except TmsClientError as exc:
        return type(exc).__name__
