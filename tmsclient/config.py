"""The settings a TMS target has, how each value is checked, and the TOML config file of named profiles."""

from __future__ import annotations

import os
import re
import stat
import sys
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import SplitResult, urlsplit, urlunsplit

from tmsclient.certs.compat import DEFAULT_TARGET_OS, WINDOWS_VERSIONS
from tmsclient.credentials import (
    PFX_PASSWORD,
    TMS_PASSWORD,
    SecretRef,
    SecretSpec,
    config_file_path,
    parse_secret_value,
)
from tmsclient.errors import ConfigError
from tmsclient.files import read_bounded

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

#: ``--auth`` values. ``negotiate`` is Kerberos through the optional ``kerberos`` extra; ``auto`` reads the
#: first 401's ``WWW-Authenticate`` headers (NTLM or Negotiate offered: NTLM with the password; else Basic).
AUTH_CHOICES: tuple[str, ...] = ("auto", "ntlm", "negotiate", "basic")
DEFAULT_TIMEOUT = 30.0
#: The Save carries the .pfx and makes TMS import it; give it longer than a page read.
DEFAULT_UPLOAD_TIMEOUT = 300.0
DEFAULT_PROFILE_NAME = "default"
#: Windows Server versions the ``check`` rules know.
TARGET_OS_CHOICES: tuple[str, ...] = WINDOWS_VERSIONS

_PROFILE_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")
#: Largest config file read: a file of named profiles is a few KB.
MAX_CONFIG_BYTES = 1024 * 1024


@dataclass(frozen=True)
class SettingSpec:
    """One non-secret setting: its flag, environment variable, config key and default."""

    key: str  # TargetSettings field and config key
    flag: str | None
    env: str | None
    kind: str  # url, str, user, path, bool, seconds, auth, os, page-url
    default: Any
    help: str

    @property
    def dest(self) -> str:
        return (self.flag or self.key).lstrip("-").replace("-", "_")

    def where(self) -> str:
        """How a user sets it, for 'missing setting' hints."""
        parts = [p for p in (self.flag and f"{self.flag}", self.env and f"${self.env}") if p]
        parts.append(f"`{self.key}` in the config profile")
        return ", ".join(parts)


#: Every non-secret target setting, in the order of the docs' table.
SETTINGS: tuple[SettingSpec, ...] = (
    SettingSpec(
        "url",
        "--url",
        "TMSCLIENT_URL",
        "url",
        None,
        "TMS base URL, e.g. https://tms.example.com/tms/ (a host alone means https://HOST/tms/)",
    ),
    SettingSpec(
        "username",
        "--username",
        "TMSCLIENT_TMS_USERNAME",
        "user",
        None,
        "Windows account: DOMAIN\\user, user@domain or user",
    ),
    SettingSpec(
        "auth",
        "--auth",
        "TMSCLIENT_AUTH",
        "auth",
        "auto",
        "login scheme: auto (from the server's 401), ntlm, negotiate (Kerberos, extra), basic",
    ),
    SettingSpec(
        "ca_bundle",
        "--ca-bundle",
        "TMSCLIENT_CA_BUNDLE",
        "path",
        None,
        "PEM file (or c_rehash directory) of CAs to trust for the TMS certificate",
    ),
    SettingSpec(
        "insecure", "--insecure", None, "bool", False, "do not verify the TMS TLS certificate (warns; for a lab only)"
    ),
    SettingSpec(
        "allow_http",
        "--allow-http",
        None,
        "bool",
        False,
        "allow a plain http:// URL (the password and .pfx cross the network unprotected)",
    ),
    SettingSpec(
        "timeout",
        "--timeout",
        "TMSCLIENT_TIMEOUT",
        "seconds",
        DEFAULT_TIMEOUT,
        "seconds to wait for TMS on each page read",
    ),
    SettingSpec(
        "upload_timeout",
        "--upload-timeout",
        None,
        "seconds",
        DEFAULT_UPLOAD_TIMEOUT,
        "seconds to wait for TMS to answer the Save that carries the .pfx",
    ),
    SettingSpec("site", "--site", "TMSCLIENT_SITE", "site", None, "WebEx site: host name, site name or site URL"),
    SettingSpec(
        "page_profile",
        "--page-profile",
        "TMSCLIENT_PAGE_PROFILE",
        "path",
        None,
        "page-profile file overriding the built-in TMS 15.x labels",
    ),
    SettingSpec(
        "page_url",
        "--page-url",
        None,
        "page-url",
        None,
        "the WebEx Settings page URL, skipping the menu walk (absolute or relative to --url)",
    ),
    SettingSpec(
        "target_os",
        "--target-os",
        None,
        "os",
        DEFAULT_TARGET_OS,
        "Windows Server version of the TMS host, for the .pfx compatibility check",
    ),
    SettingSpec("pfx", "--pfx", None, "path", None, "the PKCS#12 file to upload"),
)
SETTINGS_BY_KEY: dict[str, SettingSpec] = {s.key: s for s in SETTINGS}
#: Config keys holding secrets (values are references or, in a private file, inline).
SECRET_KEYS: dict[str, SecretSpec] = {"password": TMS_PASSWORD, "pfx_password": PFX_PASSWORD}
PROFILE_KEYS: frozenset[str] = frozenset(SETTINGS_BY_KEY) | frozenset(SECRET_KEYS)


# --------------------------------------------------------------------------------------------- values


def shown_url(text: str) -> str:
    """A URL as a message may show it: ``'scheme://host[:port]'`` (quoted) alone, never its user info, path or
    query (any of which may hold a password), or "the value given" when it does not even parse."""
    try:
        parts = urlsplit(text.strip())
        host = parts.hostname
    except ValueError:
        return "the value given"
    if not parts.scheme or not host or any(unicodedata.category(ch)[0] in "CZ" for ch in host):
        return "the value given"
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = f"[{host}]" if ":" in host else host
    return repr(f"{parts.scheme.lower()}://{netloc}" + (f":{port}" if port is not None else ""))


_LOGIN_HINT = "give the user with --username and the password through $TMSCLIENT_TMS_PASSWORD"


def refuse_user_info(parts: SplitResult, where: str, hint: str = _LOGIN_HINT) -> None:
    """A URL setting never carries a login: it would be logged, shown and sent where the URL goes."""
    if parts.username is not None or parts.password is not None:
        raise ConfigError(f"{where}: the URL holds a user name or password (not shown)", hint=hint)


def normalise_url(text: str, where: str) -> str:
    """The TMS base URL ending in ``/``; a bare host (or ``https://host``) becomes ``https://host/tms/``."""
    text = text.strip()
    if "://" not in text:
        text = f"https://{text}"
    try:
        parts = urlsplit(text)
        hostname = parts.hostname
    except ValueError as exc:  # e.g. an unclosed [IPv6 bracket; its text may name the value
        raise ConfigError(
            f"{where}: got a value that is not a URL (an unclosed or invalid [IPv6] part?)",
            hint="give the TMS base URL, such as https://tms.example.com/tms/",
        ) from exc
    refuse_user_info(parts, where)
    shown = shown_url(text)
    if parts.scheme.lower() not in ("https", "http") or not hostname:
        raise ConfigError(f"{where}: got {shown}, expected an https:// URL such as https://tms.example.com/tms/")
    if parts.query or parts.fragment:
        raise ConfigError(
            f"{where}: got {shown} and more (not shown), expected the TMS base URL without ?query or #fragment",
            hint="give a page's address with --page-url",
        )
    try:
        parts.port  # noqa: B018 - validates the port number
    except ValueError as exc:
        raise ConfigError(f"{where}: got {shown}: the port is not a number from 1 to 65535") from exc
    netloc = _ascii_netloc(parts.netloc, hostname, parts.port, where)
    path = parts.path or "/"
    if path == "/":
        path = "/tms/"
    elif not path.endswith("/"):
        last = path.rsplit("/", 1)[-1]
        # A page such as /tms/default.aspx stands for its folder; /tms stands for /tms/.
        path = path.rsplit("/", 1)[0] + "/" if "." in last else path + "/"
    return urlunsplit((parts.scheme.lower(), netloc, path, "", ""))


def _ascii_netloc(netloc: str, hostname: str, port: int | None, where: str) -> str:
    """The host in the ASCII form requests will send (IDNA for a Unicode name), every label checked."""
    if netloc.startswith("[") or netloc.rpartition(":")[0].startswith("["):
        return netloc.lower()  # an IPv6 literal
    try:
        # Python's IDNA codec refuses empty or over-long labels ("a..b"), which urllib3 would refuse later.
        ascii_host = hostname.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise ConfigError(
            f"{where}: the host name {hostname!r} is not valid ({exc})",
            hint="give the TMS host name as it resolves, e.g. tms.example.com",
        ) from exc
    if any(ch in ascii_host for ch in ' \t%<>"{}|\\^`'):
        raise ConfigError(f"{where}: the host name {hostname!r} holds characters a host name cannot")
    return ascii_host.lower() + (f":{port}" if port is not None else "")


def check_site(text: str, where: str) -> str:
    """A host name, a site name, ``host/site`` or a site URL; checked here so a bad one fails before login."""
    spec = text.strip()
    if "/" in spec or "@" in spec:
        try:
            parts = urlsplit(spec if "://" in spec else "https://" + spec)
            parts.hostname  # noqa: B018 - raises ValueError for a broken [IPv6 part
        except ValueError as exc:  # its text may name the value
            raise ConfigError(
                f"{where}: got a value that is not a host name, site name or site URL "
                "(an unclosed or invalid [IPv6] part?)",
                hint="give the site as TMS lists it, e.g. example.webex.com or https://example.webex.com/example",
            ) from exc
        refuse_user_info(parts, where, hint="give the site's host name or URL without a login in it")
    return spec


def check_username(text: str, where: str) -> str:
    """``DOMAIN\\user``, ``user@domain`` or ``user``, returned as given (pyspnego splits the forms)."""
    user = text.strip()
    if not user:
        raise ConfigError(f"{where}: the user name is empty")
    if "\\" in user:
        domain, _, name = user.partition("\\")
        if not domain or not name or "\\" in name or "@" in name:
            raise ConfigError(f"{where}: got {user!r}, expected DOMAIN\\user, user@domain or user")
    elif "@" in user:
        name, _, domain = user.rpartition("@")
        if not name or not domain:
            raise ConfigError(f"{where}: got {user!r}, expected DOMAIN\\user, user@domain or user")
    if any(ch in user for ch in ":/\r\n\t"):
        raise ConfigError(f"{where}: got {user!r}, a Windows user name cannot hold ':', '/' or control characters")
    return user


def convert_value(spec: SettingSpec, value: Any, where: str, base_dir: Path, *, from_text: bool) -> Any:
    """Check one value's type and form; ``from_text`` for flags and environment variables."""
    kind = spec.kind
    if kind == "bool":
        if isinstance(value, bool):
            return value
        if (
            from_text
            and isinstance(value, str)
            and value.strip().lower() in ("1", "true", "yes", "on", "0", "false", "no", "off")
        ):
            return value.strip().lower() in ("1", "true", "yes", "on")
        raise ConfigError(f"{where}: got {_type_name(value)}, expected true or false")
    if kind == "seconds":
        number: Any = value
        if from_text and isinstance(value, str):
            try:
                number = float(value)
            except ValueError:
                number = value
        if isinstance(number, bool) or not isinstance(number, (int, float)) or not 0 < number <= 86400:
            raise ConfigError(f"{where}: got {_type_name(value)}, expected a number of seconds above 0")
        return float(number)
    if from_text and isinstance(value, os.PathLike):
        value = os.fspath(value)  # a command's own flag may parse to a Path
    if not isinstance(value, str):
        raise ConfigError(f"{where}: got {_type_name(value)}, expected a string")
    if not value.strip():
        raise ConfigError(f"{where}: got an empty string, expected a value (leave the key out for the default)")
    if kind == "url":
        return normalise_url(value, where)
    if kind == "user":
        return check_username(value, where)
    if kind == "site":
        return check_site(value, where)
    if kind == "auth":
        if value.strip().lower() not in AUTH_CHOICES:
            raise ConfigError(f"{where}: got {value!r}, expected one of {', '.join(AUTH_CHOICES)}")
        return value.strip().lower()
    if kind == "os":
        v = value.strip().lower().replace(" ", "").removeprefix("windows").removeprefix("server")
        if v not in TARGET_OS_CHOICES:
            raise ConfigError(f"{where}: got {value!r}, expected one of {', '.join(TARGET_OS_CHOICES)}")
        return v
    if kind == "path":
        return config_file_path(value, base_dir) if not from_text else Path(value).expanduser()
    return value.strip() if kind in ("str", "page-url") else value


# --------------------------------------------------------------------------------------------- config file


@dataclass(frozen=True)
class ProfileConfig:
    """One named target from the config file, with ``[defaults]`` merged in and values validated."""

    name: str
    values: Mapping[str, Any]  # key -> str | bool | float | Path | SecretRef
    path: Path

    def where(self, key: str) -> str:
        return f"{self.path}: profiles.{self.name}.{key}"


@dataclass(frozen=True)
class Config:
    """A parsed config file: its named profiles, ``[defaults]`` and ``default_profile``."""

    path: Path
    profiles: Mapping[str, ProfileConfig]
    defaults: Mapping[str, Any]
    default_profile: str | None

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.profiles)

    def profile(self, name: str) -> ProfileConfig:
        try:
            return self.profiles[name]
        except KeyError:
            known = ", ".join(self.profiles) or "none"
            raise ConfigError(
                f"profile {name!r} is not in the config file {self.path}",
                hint=f"profiles there: {known}",
            ) from None

    def unnamed(self) -> ProfileConfig:
        """The values used when no profile is selected: ``[defaults]`` alone."""
        return ProfileConfig(DEFAULT_PROFILE_NAME, self.defaults, self.path)


def default_config_path(environ: Mapping[str, str] | None = None) -> Path:
    """``$XDG_CONFIG_HOME/tmsclient/config.toml`` (``~/.config``), or ``%APPDATA%\\tmsclient`` on Windows."""
    environ = os.environ if environ is None else environ
    if os.name == "nt" and environ.get("APPDATA"):
        return Path(environ["APPDATA"]) / "tmsclient" / "config.toml"
    base = environ.get("XDG_CONFIG_HOME") or str(Path(environ.get("HOME") or Path.home()) / ".config")
    return Path(base) / "tmsclient" / "config.toml"


def load_config(path: str | Path) -> Config:
    """Parse and validate a config file; an inline secret in a file others can read is refused."""
    p = Path(path).expanduser()
    raw, st = read_bounded(
        p,
        "config file",
        limit=MAX_CONFIG_BYTES,
        error=ConfigError,
        allow_empty=True,
        hints={
            "missing": "create it (see docs/configuration.md) or point --config at it",
            "directory": "give the TOML file itself",
            "too-large": "a config file of profiles is a few KB; is this the right file?",
        },
    )
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"the config file {p} is not UTF-8 text") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"the config file {p} is not valid TOML: {exc}", hint="see docs/configuration.md for the format"
        ) from exc

    unknown = sorted(set(data) - {"default_profile", "defaults", "profiles"})
    if unknown:
        raise _unknown_key(p, unknown[0], "", ("default_profile", "defaults", "profiles"))
    base_dir = p.parent
    defaults_raw = data.get("defaults", {})
    if not isinstance(defaults_raw, dict):
        raise ConfigError(f"{p}: defaults: got {_type_name(defaults_raw)}, expected a table [defaults]")
    defaults = _validate_profile(defaults_raw, p, "defaults", base_dir)
    profiles_raw = data.get("profiles", {})
    if not isinstance(profiles_raw, dict):
        raise ConfigError(f"{p}: profiles: got {_type_name(profiles_raw)}, expected tables [profiles.NAME]")
    profiles: dict[str, ProfileConfig] = {}
    for name, table in profiles_raw.items():
        if not _PROFILE_NAME.match(name):
            raise ConfigError(
                f"{p}: profiles.{name}: got profile name {name!r}, expected letters, digits, '.', '_' or '-'"
            )
        if not isinstance(table, dict):
            raise ConfigError(f"{p}: profiles.{name}: got {_type_name(table)}, expected a table [profiles.{name}]")
        values = {**defaults, **_validate_profile(table, p, f"profiles.{name}", base_dir)}
        profiles[name] = ProfileConfig(name, values, p)
    default_profile = data.get("default_profile")
    if default_profile is not None:
        if not isinstance(default_profile, str):
            raise ConfigError(f"{p}: default_profile: got {_type_name(default_profile)}, expected a profile name")
        if default_profile not in profiles:
            raise ConfigError(
                f"{p}: default_profile: got {default_profile!r}, "
                f"expected one of the profiles ({', '.join(profiles) or 'none defined'})"
            )
    _refuse_readable_inline_secrets(p, st, [defaults, *(pr.values for pr in profiles.values())])
    return Config(p, profiles, defaults, default_profile)


def _refuse_readable_inline_secrets(p: Path, st: os.stat_result, tables: Iterable[Mapping[str, Any]]) -> None:
    """Inline secrets only in a file nobody else can read (issue 7): refuse, do not just warn."""
    if os.name != "posix" or not st.st_mode & (stat.S_IRGRP | stat.S_IROTH):
        return
    for values in tables:
        for key in SECRET_KEYS:
            ref = values.get(key)
            if isinstance(ref, SecretRef) and ref.kind == "inline":
                raise ConfigError(
                    f"{ref.where} is an inline secret in a file other users can read "
                    f"(mode {stat.S_IMODE(st.st_mode):04o})",
                    hint=f'chmod 600 {p}, or use a reference: {key} = "env:NAME", "file:PATH" '
                    'or "keyring:SERVICE/USER"',
                )


def _validate_profile(table: Mapping[str, Any], p: Path, prefix: str, base_dir: Path) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in table.items():
        where = f"{p}: {prefix}.{key}"
        if key not in PROFILE_KEYS:
            raise _unknown_key(p, key, prefix, sorted(PROFILE_KEYS))
        if key in SECRET_KEYS:
            if not isinstance(value, str):
                # Only the type: a number given as a password is still the password.
                raise ConfigError(
                    f"{where}: got {_type_name(value, shown=False)}, expected a string "
                    "(env:NAME, file:PATH, keyring:SERVICE/USER or the value)"
                )
            out[key] = parse_secret_value(value, where, base_dir)
            continue
        spec = SETTINGS_BY_KEY[key]
        out[key] = convert_value(spec, value, where, base_dir, from_text=False)
    return out


def _unknown_key(p: Path, key: str, prefix: str, known: Iterable[str]) -> ConfigError:
    dotted = f"{prefix}.{key}" if prefix else key
    return ConfigError(f"{p}: unknown key {dotted}", hint=f"known keys here: {', '.join(known)}")


def _type_name(value: Any, *, shown: bool = True) -> str:
    if isinstance(value, bool):
        return f"boolean {str(value).lower()}" if shown else "a boolean"
    if isinstance(value, (int, float)):
        return f"number {value}" if shown else "a number"
    if isinstance(value, str):
        return f"string {value!r}" if shown else "a string"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    return type(value).__name__
